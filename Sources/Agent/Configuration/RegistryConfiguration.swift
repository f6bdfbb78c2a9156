/// One Harbor registry whose images the kubelet pulls with a service account token.
public struct RegistryConfiguration: Sendable, Equatable {
    /// Registry host as it appears in image references, with the port when it has one
    /// (`harbor.example.com`, `harbor.example.com:8443`, `[fd00::1]:5000`).
    public var host: String

    /// Audience of the token the kubelet mints; Harbor's identity provider must expect it.
    public var audience: String

    /// kubelet `matchImages` patterns that select this registry's images.
    public var matchImages: [String]

    /// Basic-auth username sent with the token. Harbor ignores it; `jwt` is the convention.
    public var username: String

    /// Service account annotation key that opts a service account in. When set, the kubelet runs
    /// the plugin only for pods whose service account carries it, and every other pod pulls as
    /// before (`requiredServiceAccountAnnotationKeys`).
    public var serviceAccountAnnotationKey: String?

    public static let defaultUsername = "jwt"

    public init(
        host: String,
        audience: String? = nil,
        matchImages: [String]? = nil,
        username: String? = nil,
        serviceAccountAnnotationKey: String? = nil
    ) {
        self.host = host
        self.audience = audience ?? host
        self.matchImages = matchImages ?? [host]
        self.username = username ?? Self.defaultUsername
        self.serviceAccountAnnotationKey = serviceAccountAnnotationKey
    }
}
