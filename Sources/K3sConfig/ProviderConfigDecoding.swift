import YAML

/// A provider after the kubelet's strict decoding: the fields validation reads, with Go's zero
/// values for missing ones.
struct DecodedProvider {
    struct TokenAttributes {
        var serviceAccountTokenAudience = ""
        var requireServiceAccount: Bool?
        var requiredServiceAccountAnnotationKeys: [String] = []
        var optionalServiceAccountAnnotationKeys: [String] = []
        var cacheType = ""
    }

    var name = ""
    var matchImages: [String] = []
    /// Nanoseconds; nil when the field is missing or did not decode.
    var defaultCacheDuration: Int64?
    var defaultCacheDurationFailed = false
    var apiVersion = ""
    var tokenAttributes: TokenAttributes?
    var mark: YAMLMark?
}

/// Decodes a CredentialProviderConfig the way a kubelet of the given version does: strict about
/// unknown fields and JSON types, with the fields that version defines.
///
/// The field sets come from kubernetes `pkg/kubelet/apis/config/v1*/types.go`: tokenAttributes
/// exists from 1.33 and only in `kubelet.config.k8s.io/v1`, and its cacheType field from 1.34.
/// NOTE: type-mismatch texts follow Go's encoding/json wording but may differ from a given
/// kubelet release in the struct name they print.
struct ProviderConfigDecoder {
    let kubelet: KubernetesVersion
    private(set) var problems: [ProviderConfigProblem] = []
    /// False when the kubelet would not even know the file's kind and version.
    private(set) var typeMetaIsKnown = true

    init(kubelet: KubernetesVersion) {
        self.kubelet = kubelet
    }

    static let configVersions: [(version: String, since: (Int, Int))] = [("v1alpha1", (1, 20)), ("v1beta1", (1, 24)), ("v1", (1, 26))]

    mutating func decode(_ config: CredentialProviderConfig) -> [DecodedProvider] {
        let configVersion = checkTypeMeta(config)
        typeMetaIsKnown = configVersion != nil
        guard typeMetaIsKnown else { return [] }

        for pair in config.otherFields {
            fail(nil, "strict decoding error: unknown field \(goQuote(pair.key))", pair.keyMark)
        }

        guard let providersNode = config.providersNode else { return [] }
        guard let items = providersNode.sequence else {
            typeMismatch(nil, providersNode, field: "CredentialProviderConfig.providers", goType: "[]v1.CredentialProvider")
            return []
        }
        return items.enumerated().compactMap { index, item in
            decodeProvider(item, index: index, tokenAttributesAllowed: configVersion == "v1" && kubelet.isAtLeast(1, 33))
        }
    }

    // Checks kind and apiVersion and returns the config's version ("v1") when the kubelet registers it.
    private mutating func checkTypeMeta(_ config: CredentialProviderConfig) -> String? {
        guard let kind = config.kind, !kind.isEmpty else {
            fail(nil, "Object 'Kind' is missing", nil)
            return nil
        }
        guard let apiVersion = config.apiVersion, !apiVersion.isEmpty else {
            fail(nil, "Object 'apiVersion' is missing", nil)
            return nil
        }

        let parts = apiVersion.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let group = parts.count == 2 ? String(parts[0]) : ""
        let version = String(parts.last ?? "")
        let known = Self.configVersions.first(where: { $0.version == version })
        guard group == CredentialProviderConfig.apiGroup, let known, kubelet.isAtLeast(known.since.0, known.since.1) else {
            fail(nil, "no kind \(goQuote(kind)) is registered for version \(goQuote(apiVersion))", nil)
            return nil
        }
        guard kind == CredentialProviderConfig.kind else {
            // The kubelet's scheme also registers KubeletConfiguration. Any other kind is unregistered.
            let message = kind == "KubeletConfiguration"
                ? "failed to decode \(goQuote(kind)) (wrong Kind)"
                : "no kind \(goQuote(kind)) is registered for version \(goQuote(apiVersion))"
            fail(nil, message, nil)
            return nil
        }
        return version
    }

    private mutating func decodeProvider(_ node: YAMLNode, index: Int, tokenAttributesAllowed: Bool) -> DecodedProvider? {
        guard let pairs = node.mapping else {
            typeMismatch(nil, node, field: "CredentialProviderConfig.providers", goType: "v1.CredentialProvider")
            return nil
        }
        var provider = DecodedProvider(mark: node.mark)
        let nameNode = node["name"]
        let label = nameNode.map { GoScalar.kind(of: $0) == .string } == true ? nameNode?.string : nil
        let path = "providers[\(index)]"

        for pair in pairs {
            let value = pair.value
            switch pair.key {
            case "name":
                provider.name = string(value, label, field: "CredentialProvider.providers.name") ?? ""
            case "apiVersion":
                provider.apiVersion = string(value, label, field: "CredentialProvider.providers.apiVersion") ?? ""
            case "matchImages":
                provider.matchImages = strings(value, label, field: "CredentialProvider.providers.matchImages")
            case "args":
                _ = strings(value, label, field: "CredentialProvider.providers.args")
            case "defaultCacheDuration":
                decodeDuration(value, label, into: &provider)
            case "env":
                decodeEnv(value, label, path: path)
            case "tokenAttributes" where tokenAttributesAllowed:
                provider.tokenAttributes = decodeTokenAttributes(value, label, path: path)
            default:
                fail(label, "strict decoding error: unknown field \(goQuote("\(path).\(pair.key)"))", pair.keyMark)
            }
        }
        return provider
    }

    private mutating func decodeDuration(_ node: YAMLNode, _ label: String?, into provider: inout DecodedProvider) {
        if node.isNull { return }
        guard GoScalar.kind(of: node) == .string, let text = node.string else {
            fail(label, "json: cannot unmarshal \(jsonType(node)) into Go value of type string", node.mark)
            provider.defaultCacheDurationFailed = true
            return
        }
        switch GoDuration.parse(text) {
        case .success(let nanoseconds):
            provider.defaultCacheDuration = nanoseconds
        case .failure(let error):
            fail(label, error.message, node.mark)
            provider.defaultCacheDurationFailed = true
        }
    }

    private mutating func decodeEnv(_ node: YAMLNode, _ label: String?, path: String) {
        if node.isNull { return }
        guard let items = node.sequence else {
            typeMismatch(label, node, field: "CredentialProvider.providers.env", goType: "[]v1.ExecEnvVar")
            return
        }
        for (index, item) in items.enumerated() {
            guard let pairs = item.mapping else {
                typeMismatch(label, item, field: "CredentialProvider.providers.env", goType: "v1.ExecEnvVar")
                continue
            }
            for pair in pairs {
                switch pair.key {
                case "name", "value":
                    _ = string(pair.value, label, field: "ExecEnvVar.providers.env.\(pair.key)")
                default:
                    fail(label, "strict decoding error: unknown field \(goQuote("\(path).env[\(index)].\(pair.key)"))", pair.keyMark)
                }
            }
        }
    }

    private mutating func decodeTokenAttributes(_ node: YAMLNode, _ label: String?, path: String) -> DecodedProvider.TokenAttributes? {
        if node.isNull { return nil }
        guard let pairs = node.mapping else {
            typeMismatch(label, node, field: "CredentialProvider.providers.tokenAttributes", goType: "v1.ServiceAccountTokenAttributes")
            return nil
        }
        var attributes = DecodedProvider.TokenAttributes()
        let structName = "ServiceAccountTokenAttributes.providers.tokenAttributes"
        for pair in pairs {
            let value = pair.value
            switch pair.key {
            case "serviceAccountTokenAudience":
                attributes.serviceAccountTokenAudience = string(value, label, field: "\(structName).\(pair.key)") ?? ""
            case "requireServiceAccount":
                attributes.requireServiceAccount = bool(value, label, field: "\(structName).\(pair.key)")
            case "requiredServiceAccountAnnotationKeys":
                attributes.requiredServiceAccountAnnotationKeys = strings(value, label, field: "\(structName).\(pair.key)")
            case "optionalServiceAccountAnnotationKeys":
                attributes.optionalServiceAccountAnnotationKeys = strings(value, label, field: "\(structName).\(pair.key)")
            case "cacheType" where kubelet.isAtLeast(1, 34):
                attributes.cacheType = string(value, label, field: "\(structName).\(pair.key)") ?? ""
            default:
                fail(label, "strict decoding error: unknown field \(goQuote("\(path).tokenAttributes.\(pair.key)"))", pair.keyMark)
            }
        }
        return attributes
    }

    // JSON null leaves a Go field at its zero value, so null reads as absent.
    private mutating func string(_ node: YAMLNode, _ label: String?, field: String) -> String? {
        if node.isNull { return nil }
        guard GoScalar.kind(of: node) == .string else {
            typeMismatch(label, node, field: field, goType: "string")
            return nil
        }
        return node.string
    }

    private mutating func strings(_ node: YAMLNode, _ label: String?, field: String) -> [String] {
        if node.isNull { return [] }
        guard let items = node.sequence else {
            typeMismatch(label, node, field: field, goType: "[]string")
            return []
        }
        return items.map { item in string(item, label, field: field) ?? "" }
    }

    private mutating func bool(_ node: YAMLNode, _ label: String?, field: String) -> Bool? {
        if node.isNull { return nil }
        guard GoScalar.kind(of: node) == .bool, let value = node.bool else {
            typeMismatch(label, node, field: field, goType: "bool")
            return nil
        }
        return value
    }

    private mutating func typeMismatch(_ label: String?, _ node: YAMLNode, field: String, goType: String) {
        fail(label, "json: cannot unmarshal \(jsonType(node)) into Go struct field \(field) of type \(goType)", node.mark)
    }

    // The JSON type sigs.k8s.io/yaml turns a YAML value into before the kubelet decodes it. Its
    // YAML reader is a fork of yaml.v2, so plain `2001-12-14` and `1:30` stay strings.
    private func jsonType(_ node: YAMLNode) -> String {
        switch node {
        case .sequence: return "array"
        case .mapping: return "object"
        case .scalar:
            switch GoScalar.kind(of: node) {
            case .bool: return "bool"
            case .int, .float: return "number"
            case .null: return "null"
            default: return "string"
            }
        }
    }

    private mutating func fail(_ provider: String?, _ message: String, _ mark: YAMLMark?) {
        problems.append(ProviderConfigProblem(kind: .decoding, provider: provider, message: message, mark: mark))
    }
}
