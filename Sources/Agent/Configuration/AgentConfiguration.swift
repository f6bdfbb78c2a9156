internal import CredentialProvider

/// Everything `install`, `uninstall`, `render` and `run` act on, after flags, environment and
/// the configuration file were layered and validated.
public struct AgentConfiguration: Sendable, Equatable {
    public var registries: [RegistryConfiguration]

    /// Name of the first provider entry and of its executable in the kubelet's bin dir.
    /// Registries with other audiences get `<providerName>-<audience>` (see `ProviderLayout`).
    public var providerName: String

    /// `defaultCacheDuration` of our provider entries, as a Go duration string. The plugin's
    /// own `cacheDuration`, derived from the token's lifetime, takes precedence per response.
    public var defaultCacheDuration: String

    /// Directory under which every host path is resolved: `/` on a bare node, `/host` in a pod.
    public var hostRoot: String

    public var restartPolicy: RestartPolicy
    public var kubernetesVersion: KubernetesVersionSetting

    /// The k3s configuration file; its drop-in directory is this path plus `.d`. k3s reads
    /// another file when started with `--config` or `K3S_CONFIG_FILE`.
    public var k3sConfigPath: String

    /// Agent state (pending restarts, rejected configurations, backups, lock), on the host.
    public var stateDirectory: String

    /// Plugin executable to copy onto the host; nil means the default search
    /// (next to the agent's own executable, then the .deb's path).
    public var pluginSource: String?

    /// systemd unit to restart; nil means detect it.
    public var unit: String?

    public static let defaultProviderName = "credential-provider-harbor"
    public static let defaultCacheDurationValue = "1h"
    public static let defaultK3sConfigPath = "/etc/rancher/k3s/config.yaml"
    public static let defaultStateDirectory = "/var/lib/harbor-keyless"
    public static let defaultFilePath = "/etc/harbor-keyless/config.yaml"

    public init(
        registries: [RegistryConfiguration],
        providerName: String = Self.defaultProviderName,
        defaultCacheDuration: String = Self.defaultCacheDurationValue,
        hostRoot: String = "/",
        restartPolicy: RestartPolicy = .ifChanged,
        kubernetesVersion: KubernetesVersionSetting = .auto,
        k3sConfigPath: String = Self.defaultK3sConfigPath,
        stateDirectory: String = Self.defaultStateDirectory,
        pluginSource: String? = nil,
        unit: String? = nil
    ) {
        self.registries = registries
        self.providerName = providerName
        self.defaultCacheDuration = defaultCacheDuration
        self.hostRoot = hostRoot
        self.restartPolicy = restartPolicy
        self.kubernetesVersion = kubernetesVersion
        self.k3sConfigPath = k3sConfigPath
        self.stateDirectory = stateDirectory
        self.pluginSource = pluginSource
        self.unit = unit
    }

    /// Checks every value before anything on the host is touched; the first problem found is
    /// thrown with the value and the fix.
    /// `requireRegistry` is false for `uninstall`, which removes what earlier installs recorded.
    public func validate(requireRegistry: Bool = true) throws(ConfigurationError) {
        if registries.isEmpty && requireRegistry {
            throw ConfigurationError(
                "no registry is configured",
                fix: "pass --registry HOST, set HARBOR_KEYLESS_REGISTRY, or list `registries:` in the configuration file"
            )
        }
        var hosts: Set<String> = []
        for (index, registry) in registries.enumerated() {
            let field = "registries[\(index)]"
            try InputValidation.registryHost(registry.host, field: "\(field).host")
            try InputValidation.audience(registry.audience, field: "\(field).audience")
            if registry.matchImages.isEmpty {
                throw ConfigurationError(
                    "\(field).matchImages is empty",
                    fix: "list at least one pattern, or omit the key to match the host \(registry.host)"
                )
            }
            for pattern in registry.matchImages {
                try InputValidation.matchImage(pattern, field: "\(field).matchImages")
            }
            try InputValidation.username(registry.username, field: "\(field).username")
            if let key = registry.serviceAccountAnnotationKey {
                try InputValidation.annotationKey(key, field: "\(field).serviceAccountAnnotationKey")
            }
            if InputValidation.apiServerAudiences.contains(registry.audience) {
                throw ConfigurationError(
                    "\(field).audience \(registry.audience) is one of the API server's own audiences",
                    fix: "use an audience of the registry's own, such as its host: a token minted for the registry would otherwise also be accepted by the cluster API"
                )
            }
            // Compare hosts only: a pattern may narrow the registry to a path such as a project.
            let coversHost = registry.matchImages.contains { pattern in
                let host = pattern.split(separator: "/", maxSplits: 1).first.map(String.init) ?? pattern
                return MatchImages.matches(pattern: host, image: registry.host + "/image")
            }
            if !coversHost {
                throw ConfigurationError(
                    "\(field).matchImages \(registry.matchImages.joined(separator: ", ")) match no image on \(registry.host)",
                    fix: "include the host with its port, for example \(registry.host), or a path under it"
                )
            }
            if !hosts.insert(registry.host).inserted {
                throw ConfigurationError(
                    "registry \(registry.host) is listed twice",
                    fix: "keep one entry per registry host"
                )
            }
        }
        try InputValidation.providerName(providerName, field: "providerName")
        try InputValidation.goDuration(defaultCacheDuration, field: "defaultCacheDuration")
        try InputValidation.absolutePath(hostRoot, field: "hostRoot")
        try InputValidation.absolutePath(k3sConfigPath, field: "k3sConfigPath")
        try InputValidation.absolutePath(stateDirectory, field: "stateDirectory")
        if let pluginSource {
            try InputValidation.absolutePath(pluginSource, field: "pluginSource")
        }
        if let unit {
            try InputValidation.unitName(unit, field: "unit")
        }
        if case .explicit(let version) = kubernetesVersion, version.isEmpty {
            throw ConfigurationError("kubernetesVersion is empty", fix: "pass a version such as v1.34.1, or auto")
        }
        _ = try ProviderLayout(configuration: self)
    }
}

/// An invalid configuration value, with what to do about it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var fix: String

    public init(_ message: String, fix: String) {
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(message): \(fix)" }
}
