public import YAML

/// A kubelet CredentialProviderConfig file (kubelet.config.k8s.io v1, v1beta1 or v1alpha1, YAML
/// or JSON). Providers are kept as YAML nodes, so entries of other tools keep every field,
/// unknown ones included, when the file is rewritten.
public struct CredentialProviderConfig: Sendable, Equatable {
    public static let apiGroup = "kubelet.config.k8s.io"
    public static let currentAPIVersion = "kubelet.config.k8s.io/v1"
    public static let kind = "CredentialProviderConfig"

    /// One entry of `providers`, verbatim.
    public struct Provider: Sendable, Equatable {
        public var node: YAMLNode

        public init(node: YAMLNode) {
            self.node = node
        }

        /// The `name` field when it is a scalar.
        public var name: String? { node["name"]?.string }
    }

    /// The file's `apiVersion`; nil when missing.
    public var apiVersion: String?
    /// The file's `kind`; nil when missing.
    public var kind: String?
    /// The file's `providers` field as read; nil when missing or null.
    public var providersNode: YAMLNode?
    /// Top-level fields other than apiVersion, kind and providers, kept in order. The kubelet
    /// rejects them, and validation reports them.
    public var otherFields: [YAMLPair]
    /// The file name the config was parsed from, for messages.
    public var source: String

    /// Makes an empty v1 config.
    public init(source: String = "CredentialProviderConfig") {
        apiVersion = Self.currentAPIVersion
        kind = Self.kind
        providersNode = .sequence([])
        otherFields = []
        self.source = source
    }

    /// Parses a config file. An empty file gives a config with no fields at all, which validation
    /// reports as the kubelet would. Throws on invalid YAML or JSON, a repeated key, or a top level
    /// that is not a mapping.
    public static func parse(_ text: String, source: String) throws(ProviderConfigError) -> CredentialProviderConfig {
        let root: YAMLNode?
        do {
            root = try YAML.parse(text, source: source)
        } catch {
            throw ProviderConfigError(error)
        }

        var config = CredentialProviderConfig(source: source)
        config.apiVersion = nil
        config.kind = nil
        config.providersNode = nil
        guard let root, !root.isNull else { return config }
        guard let pairs = root.mapping else {
            throw ProviderConfigError(
                file: source, mark: root.mark,
                message: "the top level must be a mapping with apiVersion, kind and providers"
            )
        }

        for pair in pairs {
            switch pair.key {
            case "apiVersion": config.apiVersion = pair.value.isNull ? nil : pair.value.string
            case "kind": config.kind = pair.value.isNull ? nil : pair.value.string
            case "providers": config.providersNode = pair.value.isNull ? nil : pair.value
            default: config.otherFields.append(pair)
            }
        }
        return config
    }

    /// The provider entries; empty when `providers` is missing or not a list.
    public var providers: [Provider] {
        get { (providersNode?.sequence ?? []).map(Provider.init(node:)) }
        set { providersNode = .sequence(newValue.map(\.node), mark: providersNode?.mark) }
    }

    public var providerNames: [String] { providers.compactMap(\.name) }

    /// Reads the first provider with this name in the shape harbor-keyless writes.
    public func harborProvider(named name: String) -> HarborProvider? {
        providers.first(where: { $0.name == name }).flatMap { HarborProvider(node: $0.node) }
    }

    /// Adds or replaces the provider with `provider.name`, in place of its first entry (later
    /// entries with that name are removed); other providers keep their order. The config becomes
    /// `kubelet.config.k8s.io/v1` because tokenAttributes exists only there, and a v1 config still
    /// accepts every provider of a v1alpha1 or v1beta1 file.
    public mutating func upsert(_ provider: HarborProvider) {
        apiVersion = Self.currentAPIVersion
        kind = Self.kind

        var entries = providers
        let node = provider.node
        if let first = entries.firstIndex(where: { $0.name == provider.name }) {
            entries[first] = Provider(node: node)
            var index = entries.index(after: first)
            while index < entries.endIndex {
                if entries[index].name == provider.name { entries.remove(at: index) } else { index += 1 }
            }
        } else {
            entries.append(Provider(node: node))
        }
        providers = entries
    }

    /// Removes every provider whose name is in `names`; other providers keep their order.
    public mutating func removeProviders(named names: Set<String>) {
        providers = providers.filter { provider in provider.name.map { !names.contains($0) } ?? true }
    }

    /// The config as a YAML mapping: apiVersion, kind, providers, then any other fields.
    public var node: YAMLNode {
        var pairs: [YAMLPair] = []
        if let apiVersion { pairs.append(YAMLPair(key: "apiVersion", value: .string(apiVersion))) }
        if let kind { pairs.append(YAMLPair(key: "kind", value: .string(kind))) }
        pairs.append(YAMLPair(key: "providers", value: providersNode ?? .sequence([])))
        return .mapping(pairs + otherFields)
    }

    /// Renders the config as block YAML. A file read as JSON is written as YAML, which the
    /// kubelet reads alike.
    public func rendered() throws(YAMLError) -> String {
        try YAML.emit(node)
    }
}

/// A CredentialProviderConfig file that cannot be read at all (invalid YAML, wrong top level).
public typealias ProviderConfigError = ConfigFileError
