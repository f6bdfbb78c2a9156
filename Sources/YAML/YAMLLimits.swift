/// Bounds on untrusted input. The defaults sit far above any real k3s config, kubelet
/// CredentialProviderConfig or kubeconfig (kilobytes, a handful of levels), and far below what
/// would exhaust memory or the stack.
public struct YAMLLimits: Sendable, Equatable {
    /// Largest input accepted, in bytes.
    public var maxInputBytes: Int
    /// Deepest nesting of sequences and mappings accepted.
    public var maxDepth: Int
    /// Most nodes a document may hold after aliases are expanded; bounds "billion laughs" input.
    public var maxNodes: Int

    public init(maxInputBytes: Int = 8 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000) {
        self.maxInputBytes = maxInputBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    public static let `default` = YAMLLimits()
}
