// Errors of one plugin run. Each message is one line that names the problem and the fix,
// and never contains the service account token: no message echoes the request body, and
// the values it does quote (apiVersion, kind, image) are cut to `quoteLimit` characters.

/// Why the plugin could not answer a request.
public enum PluginError: Error, Equatable, Sendable, CustomStringConvertible {
    case requestTooLarge(limit: Int)
    case malformedJSON(detail: String)
    case unsupportedAPIVersion(String)
    case unexpectedKind(String)
    case missingImage
    case invalidImage(ImageReference.InvalidReference)
    case missingToken
    case invalidUsername(String)

    public var description: String {
        switch self {
        case .requestTooLarge(let limit):
            "request is larger than \(limit) bytes; a CredentialProviderRequest from the kubelet is a few kilobytes, so check what writes to this plugin's standard input"
        case .malformedJSON(let detail):
            "request is not a valid CredentialProviderRequest: \(detail)"
        case .unsupportedAPIVersion(let apiVersion):
            "unsupported request apiVersion \(quoted(apiVersion)): set apiVersion: \(credentialProviderAPIVersion) for this provider in the CredentialProviderConfig"
        case .unexpectedKind(let kind):
            "unexpected request kind \(quoted(kind)): expected CredentialProviderRequest"
        case .missingImage:
            "request has no image: the kubelet always sends one, so check what runs this plugin"
        case .invalidImage(let reason):
            "request image is invalid: \(reason.description)"
        case .missingToken:
            "request has no serviceAccountToken: set tokenAttributes (serviceAccountTokenAudience, cacheType: Token, requireServiceAccount: true) for this provider in the CredentialProviderConfig, on a kubelet with KubeletServiceAccountTokenForCredentialProviders enabled (Kubernetes 1.34+)"
        case .invalidUsername(let username):
            "invalid username \(quoted(username)): a Basic-auth user name must be non-empty and contain no \":\" or control characters"
        }
    }

    /// Maximum characters of a request value quoted in a message.
    static let quoteLimit = 64

    private func quoted(_ value: String) -> String {
        let shown = value.count > Self.quoteLimit ? String(value.prefix(Self.quoteLimit)) + "..." : value
        return goQuoted(shown)
    }
}
