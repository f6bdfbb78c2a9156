// The exec plugin API `credentialprovider.kubelet.k8s.io/v1` (kubernetes
// `staging/src/k8s.io/kubelet/pkg/apis/credentialprovider/v1/types.go`; reference page
// "Kubelet CredentialProvider (v1)" on kubernetes.io).

/// The API version this plugin speaks; the only one that carries `serviceAccountToken`.
public let credentialProviderAPIVersion = "credentialprovider.kubelet.k8s.io/v1"

/// The request the kubelet writes to the plugin's standard input.
public struct CredentialProviderRequest: Codable, Equatable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    /// Image being pulled, normalised and without tag or digest, e.g. `harbor.example.com/library/app`.
    public var image: String?
    /// Token for the pod's service account; sent only when the provider has `tokenAttributes`.
    public var serviceAccountToken: String?
    /// Annotations of the pod's service account named in the provider's `tokenAttributes`.
    public var serviceAccountAnnotations: [String: String]?

    public init(
        apiVersion: String? = credentialProviderAPIVersion, kind: String? = "CredentialProviderRequest",
        image: String?, serviceAccountToken: String? = nil, serviceAccountAnnotations: [String: String]? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.image = image
        self.serviceAccountToken = serviceAccountToken
        self.serviceAccountAnnotations = serviceAccountAnnotations
    }
}

/// The response the plugin writes to standard output.
public struct CredentialProviderResponse: Codable, Equatable, Sendable {
    public var apiVersion: String
    public var kind: String
    /// Required; the kubelet drops a response with any other value.
    public var cacheKeyType: CacheKeyType
    /// Go duration string. "0s" disables caching, and an absent value means the provider's `defaultCacheDuration`.
    public var cacheDuration: String?
    /// Credentials per match pattern; the kubelet re-checks each key against the image.
    public var auth: [String: AuthConfig]

    public init(cacheKeyType: CacheKeyType, cacheDuration: String?, auth: [String: AuthConfig]) {
        apiVersion = credentialProviderAPIVersion
        kind = "CredentialProviderResponse"
        self.cacheKeyType = cacheKeyType
        self.cacheDuration = cacheDuration
        self.auth = auth
    }
}

/// The key the kubelet caches a response under.
public enum CacheKeyType: String, Codable, Sendable {
    case image = "Image"
    case registry = "Registry"
    case global = "Global"
}

/// Basic-auth credentials for one registry.
public struct AuthConfig: Codable, Equatable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}
