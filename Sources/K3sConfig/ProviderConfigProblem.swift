public import YAML

/// One reason the kubelet would reject a CredentialProviderConfig, with the kubelet's own text.
public struct ProviderConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The kubelet's strict decoding fails (unknown field, wrong type, unregistered kind).
        case decoding
        /// `validateCredentialProviderConfig` rejects a value.
        case validation
        /// The provider's executable is missing from the bin dir.
        case missingBinary
    }

    public var kind: Kind
    /// The provider's name, nil for a problem of the whole file.
    public var provider: String?
    /// The kubelet's error text, such as `providers.name: Duplicate value: "x"`.
    public var message: String
    /// The position of the offending value, when known.
    public var mark: YAMLMark?

    public init(kind: Kind, provider: String?, message: String, mark: YAMLMark? = nil) {
        self.kind = kind
        self.provider = provider
        self.message = message
        self.mark = mark
    }

    public var description: String {
        provider.map { "provider \(goQuote($0)): \(message)" } ?? message
    }
}
