internal import YAML

/// Settings from one source (flags, environment or file). Every field is optional; `resolve`
/// layers sources so that flags win, then the environment, then the file, then defaults.
public struct ConfigurationLayer: Sendable, Equatable {
    /// The file's `registries:` list. Flags and the environment describe one registry through
    /// the single-registry fields below instead.
    public var registries: [RegistryConfiguration]?

    public var registryHost: String?
    public var audience: String?
    public var matchImages: [String]?
    public var username: String?
    public var serviceAccountAnnotationKey: String?

    public var providerName: String?
    public var defaultCacheDuration: String?
    public var hostRoot: String?
    public var restartPolicy: String?
    public var kubernetesVersion: String?
    public var k3sConfigPath: String?
    public var stateDirectory: String?
    public var pluginSource: String?
    public var unit: String?

    /// Path of the configuration file this layer was read from; nil for flags and the
    /// environment. Messages name it, so they point at the file actually in use.
    public var source: String?

    public init() {}

    /// Layers `layers` from strongest to weakest and validates the result.
    public static func resolve(
        _ layers: [ConfigurationLayer],
        requireRegistry: Bool = true
    ) throws(ConfigurationError) -> AgentConfiguration {
        func first<T>(_ key: KeyPath<ConfigurationLayer, T?>) -> T? {
            layers.lazy.compactMap { $0[keyPath: key] }.first
        }

        let registries = try resolveRegistries(layers)
        if registries.isEmpty && requireRegistry {
            let file = layers.lazy.compactMap(\.source).first ?? AgentConfiguration.defaultFilePath
            throw ConfigurationError(
                "no registry is configured",
                fix: "pass --registry HOST, set HARBOR_KEYLESS_REGISTRY, or list `registries:` in \(file)"
            )
        }

        var configuration = AgentConfiguration(registries: registries)
        configuration.providerName = first(\.providerName) ?? configuration.providerName
        configuration.defaultCacheDuration = first(\.defaultCacheDuration) ?? configuration.defaultCacheDuration
        configuration.hostRoot = first(\.hostRoot) ?? configuration.hostRoot
        configuration.k3sConfigPath = first(\.k3sConfigPath) ?? configuration.k3sConfigPath
        configuration.stateDirectory = first(\.stateDirectory) ?? configuration.stateDirectory
        configuration.pluginSource = first(\.pluginSource)
        configuration.unit = first(\.unit)

        if let policy = first(\.restartPolicy) {
            guard let parsed = RestartPolicy(rawValue: policy) else {
                throw unknownRestartPolicy(policy, field: "restart policy")
            }
            configuration.restartPolicy = parsed
        }
        if let version = first(\.kubernetesVersion), version != "auto" {
            configuration.kubernetesVersion = .explicit(version)
        }

        try configuration.validate(requireRegistry: requireRegistry)
        return configuration
    }

    static func unknownRestartPolicy(_ policy: String, field: String) -> ConfigurationError {
        ConfigurationError(
            "\(field) \(InputValidation.quoted(policy)) is unknown",
            fix: "use one of never, if-changed, always"
        )
    }

    /// A registry host from flags or the environment defines the single registry and replaces
    /// the file's list. Without one, the file's list is used, and single-registry fields from
    /// stronger layers refine it only when it has exactly one entry.
    private static func resolveRegistries(_ layers: [ConfigurationLayer]) throws(ConfigurationError) -> [RegistryConfiguration] {
        func first<T>(_ key: KeyPath<ConfigurationLayer, T?>) -> T? {
            layers.lazy.compactMap { $0[keyPath: key] }.first
        }

        if let host = first(\.registryHost) {
            return [
                RegistryConfiguration(
                    host: host,
                    audience: first(\.audience),
                    matchImages: first(\.matchImages),
                    username: first(\.username),
                    serviceAccountAnnotationKey: first(\.serviceAccountAnnotationKey)
                )
            ]
        }

        var registries = first(\.registries) ?? []
        let overrides = layers.contains {
            $0.audience != nil || $0.matchImages != nil || $0.username != nil || $0.serviceAccountAnnotationKey != nil
        }
        if overrides {
            guard registries.count == 1 else {
                throw ConfigurationError(
                    "--audience, --match-image, --username and --annotation-key describe one registry, but \(registries.count) are configured",
                    fix: "pass --registry HOST with them, or set these fields per registry in the configuration file"
                )
            }
            registries[0].audience = first(\.audience) ?? registries[0].audience
            registries[0].matchImages = first(\.matchImages) ?? registries[0].matchImages
            registries[0].username = first(\.username) ?? registries[0].username
            registries[0].serviceAccountAnnotationKey =
                first(\.serviceAccountAnnotationKey) ?? registries[0].serviceAccountAnnotationKey
        }
        return registries
    }
}

// MARK: - Environment

extension ConfigurationLayer {
    /// Environment variable names, one per setting.
    public enum EnvironmentKey {
        public static let configFile = "HARBOR_KEYLESS_CONFIG"
        public static let registry = "HARBOR_KEYLESS_REGISTRY"
        public static let audience = "HARBOR_KEYLESS_AUDIENCE"
        public static let matchImages = "HARBOR_KEYLESS_MATCH_IMAGES"
        public static let username = "HARBOR_KEYLESS_USERNAME"
        public static let annotationKey = "HARBOR_KEYLESS_ANNOTATION_KEY"
        public static let providerName = "HARBOR_KEYLESS_PROVIDER_NAME"
        public static let defaultCacheDuration = "HARBOR_KEYLESS_DEFAULT_CACHE_DURATION"
        public static let hostRoot = "HARBOR_KEYLESS_HOST_ROOT"
        public static let restart = "HARBOR_KEYLESS_RESTART"
        public static let kubernetesVersion = "HARBOR_KEYLESS_KUBERNETES_VERSION"
        public static let k3sConfig = "HARBOR_KEYLESS_K3S_CONFIG"
        public static let stateDirectory = "HARBOR_KEYLESS_STATE_DIR"
        public static let pluginBinary = "HARBOR_KEYLESS_PLUGIN_BINARY"
        public static let unit = "HARBOR_KEYLESS_UNIT"
    }

    /// Reads the `HARBOR_KEYLESS_*` variables. Empty values count as unset.
    public static func environment(_ environment: [String: String]) -> ConfigurationLayer {
        func value(_ key: String) -> String? {
            guard let value = environment[key], !value.isEmpty else { return nil }
            return value
        }
        var layer = ConfigurationLayer()
        layer.registryHost = value(EnvironmentKey.registry)
        layer.audience = value(EnvironmentKey.audience)
        layer.matchImages = value(EnvironmentKey.matchImages).map {
            $0.split(separator: ",").map { String($0) }
        }
        layer.username = value(EnvironmentKey.username)
        layer.serviceAccountAnnotationKey = value(EnvironmentKey.annotationKey)
        layer.providerName = value(EnvironmentKey.providerName)
        layer.defaultCacheDuration = value(EnvironmentKey.defaultCacheDuration)
        layer.hostRoot = value(EnvironmentKey.hostRoot)
        layer.restartPolicy = value(EnvironmentKey.restart)
        layer.kubernetesVersion = value(EnvironmentKey.kubernetesVersion)
        layer.k3sConfigPath = value(EnvironmentKey.k3sConfig)
        layer.stateDirectory = value(EnvironmentKey.stateDirectory)
        layer.pluginSource = value(EnvironmentKey.pluginBinary)
        layer.unit = value(EnvironmentKey.unit)
        return layer
    }
}

// MARK: - File

extension ConfigurationLayer {
    /// Parses the agent's configuration file. Unknown keys are errors, so a misspelt key
    /// cannot silently fall back to a default.
    public static func file(text: String, source: String) throws(ConfigurationError) -> ConfigurationLayer {
        let root: YAMLNode?
        do {
            root = try YAML.parse(text, source: source)
        } catch {
            throw ConfigurationError("\(error)", fix: "fix the YAML syntax in \(source)")
        }
        var layer = ConfigurationLayer()
        layer.source = source
        guard let root else { return layer }
        guard let pairs = root.mapping else {
            throw ConfigurationError("\(source): the document is not a mapping", fix: "start the file with keys such as `registries:`")
        }

        for pair in pairs {
            let key = pair.key
            let value = pair.value
            let field = "\(source): \(key)"
            switch key {
            case "registries":
                guard let items = value.sequence else {
                    throw ConfigurationError("\(field) is not a list", fix: "write `registries:` followed by `- host: ...` items")
                }
                var registries: [RegistryConfiguration] = []
                for (index, item) in items.enumerated() {
                    registries.append(try registry(item, field: "\(source): registries[\(index)]"))
                }
                layer.registries = registries
            case "providerName": layer.providerName = try scalar(value, field: field)
            case "defaultCacheDuration": layer.defaultCacheDuration = try scalar(value, field: field)
            case "hostRoot": layer.hostRoot = try scalar(value, field: field)
            case "restart":
                let policy = try scalar(value, field: field)
                // Checked here, where the file is known, so a reload error names it.
                guard RestartPolicy(rawValue: policy) != nil else { throw unknownRestartPolicy(policy, field: field) }
                layer.restartPolicy = policy
            case "kubernetesVersion": layer.kubernetesVersion = try scalar(value, field: field)
            case "k3sConfig": layer.k3sConfigPath = try scalar(value, field: field)
            case "stateDirectory": layer.stateDirectory = try scalar(value, field: field)
            case "pluginBinary": layer.pluginSource = try scalar(value, field: field)
            case "unit": layer.unit = try scalar(value, field: field)
            default:
                throw ConfigurationError(
                    "\(source): unknown key \(InputValidation.quoted(key))",
                    fix: "use registries, providerName, defaultCacheDuration, hostRoot, restart, kubernetesVersion, k3sConfig, stateDirectory, pluginBinary or unit"
                )
            }
        }
        return layer
    }

    private static func registry(_ node: YAMLNode, field: String) throws(ConfigurationError) -> RegistryConfiguration {
        guard let pairs = node.mapping else {
            throw ConfigurationError("\(field) is not a mapping", fix: "write each registry as `- host: harbor.example.com`")
        }
        var host: String?
        var audience: String?
        var matchImages: [String]?
        var username: String?
        var annotationKey: String?
        for pair in pairs {
            let keyField = "\(field).\(pair.key)"
            switch pair.key {
            case "host": host = try scalar(pair.value, field: keyField)
            case "audience": audience = try scalar(pair.value, field: keyField)
            case "username": username = try scalar(pair.value, field: keyField)
            case "serviceAccountAnnotationKey": annotationKey = try scalar(pair.value, field: keyField)
            case "matchImages":
                guard let items = pair.value.sequence else {
                    throw ConfigurationError("\(keyField) is not a list", fix: "write matchImages as a list of patterns")
                }
                var patterns: [String] = []
                for item in items {
                    patterns.append(try scalar(item, field: keyField))
                }
                matchImages = patterns
            default:
                throw ConfigurationError(
                    "\(field): unknown key \(InputValidation.quoted(pair.key))",
                    fix: "use host, audience, matchImages, username or serviceAccountAnnotationKey"
                )
            }
        }
        guard let host else {
            throw ConfigurationError("\(field) has no host", fix: "add `host: harbor.example.com`")
        }
        return RegistryConfiguration(
            host: host,
            audience: audience,
            matchImages: matchImages,
            username: username,
            serviceAccountAnnotationKey: annotationKey
        )
    }

    private static func scalar(_ node: YAMLNode, field: String) throws(ConfigurationError) -> String {
        guard let value = node.string else {
            throw ConfigurationError("\(field) is not a single value", fix: "write it as `key: value`")
        }
        return value
    }
}
