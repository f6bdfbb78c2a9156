// Errors of one plugin run. Each message is one line that names the problem and the fix,
// and never contains the service account token: no message echoes the request body, and
// the request values it does quote (apiVersion, kind, image) go through `displayValue`.

/// A request the plugin cannot serve, with the reason and the fix.
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

    /// Stands in for a request value that shares text with the token.
    public static let withheldValue = "<withheld: shares text with the service account token>"

    /// Returns `value` cut to `quoteLimit` characters, or `withheldValue` when the cut value
    /// shares 8 or more consecutive characters with `token`: a token sent in the wrong field
    /// must not reach the kubelet's log through an error message.
    static func displayValue(_ value: String, token: String?) -> String {
        let cut = value.count > quoteLimit ? String(value.prefix(quoteLimit)) + "..." : value
        guard let token, !token.isEmpty else { return cut }

        let window = 8
        let characters = Array(cut)
        let tokenBytes = Array(token.utf8)
        guard characters.count >= window else {
            return !cut.isEmpty && occurs(Array(cut.utf8), in: tokenBytes) ? withheldValue : cut
        }
        for start in 0...(characters.count - window)
        where occurs(Array(String(characters[start..<(start + window)]).utf8), in: tokenBytes) {
            return withheldValue
        }
        return cut
    }

    /// Returns whether `needle` occurs in `haystack`, byte for byte. A plain scan is enough for
    /// a token, and the standard library's substring search would link _StringProcessing
    /// (about 1.3 MB) into the static plugin.
    static func occurs(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        guard !needle.isEmpty else { return true }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }

    private func quoted(_ value: String) -> String {
        value == Self.withheldValue ? value : goQuoted(value)
    }
}
