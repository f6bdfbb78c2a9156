public import YAML

/// A credential provider entry that harbor-keyless writes and owns: one registry audience, one
/// provider name (the executable's file name in the kubelet's bin dir).
public struct HarborProvider: Sendable, Equatable {
    /// The kubelet credential provider exec API version; tokenAttributes needs `v1`.
    public static let providerAPIVersion = "credentialprovider.kubelet.k8s.io/v1"

    public struct EnvVar: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The service account token the kubelet mints per pod and passes to the plugin (KEP-4412).
    public struct TokenAttributes: Sendable, Equatable {
        public var serviceAccountTokenAudience: String
        /// `Token` caches credentials per token; the kubelet drops a response whose password is the
        /// service account token itself unless this is `Token` (kubernetes
        /// `pkg/credentialprovider/plugin/plugin.go`).
        public var cacheType: String
        public var requireServiceAccount: Bool
        /// With keys here the kubelet runs the plugin only for service accounts carrying them.
        public var requiredServiceAccountAnnotationKeys: [String]
        public var optionalServiceAccountAnnotationKeys: [String]

        public init(
            serviceAccountTokenAudience: String,
            cacheType: String = "Token",
            requireServiceAccount: Bool = true,
            requiredServiceAccountAnnotationKeys: [String] = [],
            optionalServiceAccountAnnotationKeys: [String] = []
        ) {
            self.serviceAccountTokenAudience = serviceAccountTokenAudience
            self.cacheType = cacheType
            self.requireServiceAccount = requireServiceAccount
            self.requiredServiceAccountAnnotationKeys = requiredServiceAccountAnnotationKeys
            self.optionalServiceAccountAnnotationKeys = optionalServiceAccountAnnotationKeys
        }
    }

    public var name: String
    public var matchImages: [String]
    /// Go duration text, such as `1h` or `0s`.
    public var defaultCacheDuration: String
    public var apiVersion: String
    public var args: [String]
    public var env: [EnvVar]
    public var tokenAttributes: TokenAttributes

    public init(
        name: String,
        matchImages: [String],
        defaultCacheDuration: String,
        apiVersion: String = HarborProvider.providerAPIVersion,
        args: [String] = [],
        env: [EnvVar] = [],
        tokenAttributes: TokenAttributes
    ) {
        self.name = name
        self.matchImages = matchImages
        self.defaultCacheDuration = defaultCacheDuration
        self.apiVersion = apiVersion
        self.args = args
        self.env = env
        self.tokenAttributes = tokenAttributes
    }

    /// The provider as a YAML mapping, fields in the order of the kubelet's documentation; empty
    /// `args`, `env` and annotation key lists are left out.
    public var node: YAMLNode {
        var attributes = [
            YAMLPair(key: "serviceAccountTokenAudience", value: .string(tokenAttributes.serviceAccountTokenAudience)),
            YAMLPair(key: "cacheType", value: .string(tokenAttributes.cacheType)),
            YAMLPair(key: "requireServiceAccount", value: .bool(tokenAttributes.requireServiceAccount)),
        ]
        if !tokenAttributes.requiredServiceAccountAnnotationKeys.isEmpty {
            attributes.append(YAMLPair(
                key: "requiredServiceAccountAnnotationKeys", value: .strings(tokenAttributes.requiredServiceAccountAnnotationKeys)
            ))
        }
        if !tokenAttributes.optionalServiceAccountAnnotationKeys.isEmpty {
            attributes.append(YAMLPair(
                key: "optionalServiceAccountAnnotationKeys", value: .strings(tokenAttributes.optionalServiceAccountAnnotationKeys)
            ))
        }

        var pairs = [
            YAMLPair(key: "name", value: .string(name)),
            YAMLPair(key: "matchImages", value: .strings(matchImages)),
            YAMLPair(key: "defaultCacheDuration", value: .string(defaultCacheDuration)),
            YAMLPair(key: "apiVersion", value: .string(apiVersion)),
        ]
        if !args.isEmpty { pairs.append(YAMLPair(key: "args", value: .strings(args))) }
        if !env.isEmpty {
            let items = env.map { variable in
                YAMLNode.mapping([YAMLPair(key: "name", value: .string(variable.name)), YAMLPair(key: "value", value: .string(variable.value))])
            }
            pairs.append(YAMLPair(key: "env", value: .sequence(items)))
        }
        pairs.append(YAMLPair(key: "tokenAttributes", value: .mapping(attributes)))
        return .mapping(pairs)
    }

    /// Reads a provider entry back. Returns nil unless every field this type models is present
    /// with the right type and the entry has no other fields, so a nil result means "not in the
    /// shape harbor-keyless writes".
    public init?(node: YAMLNode) {
        let known: Set<String> = ["name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env", "tokenAttributes"]
        guard let pairs = node.mapping, pairs.allSatisfy({ known.contains($0.key) }),
            let name = Self.text(node["name"]),
            let matchImages = Self.texts(node["matchImages"]),
            let duration = Self.text(node["defaultCacheDuration"]),
            let apiVersion = Self.text(node["apiVersion"]),
            let attributes = node["tokenAttributes"], attributes.mapping != nil,
            let audience = Self.text(attributes["serviceAccountTokenAudience"]),
            let cacheType = Self.text(attributes["cacheType"]),
            let requireServiceAccount = attributes["requireServiceAccount"]?.bool
        else { return nil }

        var env: [EnvVar] = []
        for item in node["env"]?.sequence ?? [] {
            guard let variableName = Self.text(item["name"]), let value = Self.text(item["value"]) else { return nil }
            env.append(EnvVar(name: variableName, value: value))
        }
        self.init(
            name: name, matchImages: matchImages, defaultCacheDuration: duration, apiVersion: apiVersion,
            args: node["args"].flatMap(Self.texts) ?? [], env: env,
            tokenAttributes: TokenAttributes(
                serviceAccountTokenAudience: audience, cacheType: cacheType, requireServiceAccount: requireServiceAccount,
                requiredServiceAccountAnnotationKeys: attributes["requiredServiceAccountAnnotationKeys"].flatMap(Self.texts) ?? [],
                optionalServiceAccountAnnotationKeys: attributes["optionalServiceAccountAnnotationKeys"].flatMap(Self.texts) ?? []
            )
        )
    }

    private static func text(_ node: YAMLNode?) -> String? {
        guard let node, GoScalar.kind(of: node) == .string else { return nil }
        return node.string
    }

    private static func texts(_ node: YAMLNode?) -> [String]? {
        guard let items = node?.sequence else { return nil }
        let values = items.compactMap(text)
        return values.count == items.count ? values : nil
    }
}
