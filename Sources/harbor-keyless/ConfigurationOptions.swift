import Agent
import FoundationEssentials

/// Options shared by every command that acts on a configuration. Each has a
/// `HARBOR_KEYLESS_*` environment variable and a configuration-file key; flags win, then the
/// environment, then the file.
enum ConfigurationOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(name: "config", valueName: "PATH", help: "configuration file (default \(AgentConfiguration.defaultFilePath); HARBOR_KEYLESS_CONFIG)"),
        OptionSpec(name: "registry", valueName: "HOST[:PORT]", help: "registry host, for a single registry (HARBOR_KEYLESS_REGISTRY)"),
        OptionSpec(name: "audience", valueName: "AUDIENCE", help: "token audience Harbor expects (default: the registry host)"),
        OptionSpec(name: "match-image", valueName: "PATTERN", help: "kubelet matchImages pattern; repeat for more (default: the registry host)", repeatable: true),
        OptionSpec(name: "username", valueName: "NAME", help: "username sent with the token (default jwt)"),
        OptionSpec(name: "annotation-key", valueName: "KEY", help: "run the plugin only for service accounts with this annotation"),
        OptionSpec(name: "provider-name", valueName: "NAME", help: "provider entry and executable name (default credential-provider-harbor)"),
        OptionSpec(name: "default-cache-duration", valueName: "DURATION", help: "defaultCacheDuration of the provider entry (default 1h)"),
        OptionSpec(name: "host-root", valueName: "DIR", help: "directory holding the node's file system (default /)"),
        OptionSpec(name: "restart", valueName: "POLICY", help: "restart k3s: never, if-changed or always (default if-changed)"),
        OptionSpec(name: "kubernetes-version", valueName: "VERSION", help: "render for this version, or auto to read the k3s binary (default auto)"),
        OptionSpec(name: "k3s-config", valueName: "PATH", help: "k3s configuration file on the node (default \(AgentConfiguration.defaultK3sConfigPath))"),
        OptionSpec(name: "state-dir", valueName: "DIR", help: "agent state on the node (default \(AgentConfiguration.defaultStateDirectory))"),
        OptionSpec(name: "plugin-binary", valueName: "PATH", help: "plugin executable to install (default: next to this program, then /usr/lib/harbor-keyless)"),
        OptionSpec(name: "unit", valueName: "NAME", help: "systemd unit of k3s (default: detected)"),
    ]

    /// Layers flags, environment and file into a validated configuration.
    static func load(_ options: ParsedOptions, requireRegistry: Bool = true) throws -> AgentConfiguration {
        let environment = ProcessInfo.processInfo.environment

        var flags = ConfigurationLayer()
        flags.registryHost = options.value("registry")
        flags.audience = options.value("audience")
        flags.matchImages = options.all("match-image")
        flags.username = options.value("username")
        flags.serviceAccountAnnotationKey = options.value("annotation-key")
        flags.providerName = options.value("provider-name")
        flags.defaultCacheDuration = options.value("default-cache-duration")
        flags.hostRoot = options.value("host-root")
        flags.restartPolicy = options.value("restart")
        flags.kubernetesVersion = options.value("kubernetes-version")
        flags.k3sConfigPath = options.value("k3s-config")
        flags.stateDirectory = options.value("state-dir")
        flags.pluginSource = options.value("plugin-binary")
        flags.unit = options.value("unit")

        let environmentFile = environment[ConfigurationLayer.EnvironmentKey.configFile].flatMap { $0.isEmpty ? nil : $0 }
        let explicitFile = options.value("config") ?? environmentFile
        let file = try fileLayer(path: explicitFile ?? AgentConfiguration.defaultFilePath, required: explicitFile != nil)

        return try ConfigurationLayer.resolve([flags, .environment(environment), file], requireRegistry: requireRegistry)
    }

    /// Reads the configuration file. The default file may be missing; one named explicitly
    /// must exist.
    private static func fileLayer(path: String, required: Bool) throws -> ConfigurationLayer {
        let bytes: [UInt8]?
        do {
            bytes = try readLocalFile(path)
        } catch {
            throw ConfigurationError("\(error)", fix: "check the path given with --config or HARBOR_KEYLESS_CONFIG and its permissions")
        }
        guard let bytes else {
            if !required { return ConfigurationLayer() }
            throw ConfigurationError(
                "the configuration file \(path) does not exist",
                fix: "check the path given with --config or HARBOR_KEYLESS_CONFIG"
            )
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError("the configuration file \(path) is not UTF-8", fix: "save it as UTF-8 text")
        }
        return try ConfigurationLayer.file(text: text, source: path)
    }
}
