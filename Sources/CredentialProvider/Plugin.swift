// The plugin's work as a pure function of the request bytes, so tests need no process.
import FoundationEssentials

/// The `credential-provider-harbor` exec plugin: the service account token the kubelet
/// sends becomes the Basic-auth password for the image's registry.
public enum CredentialProviderPlugin {
    public static let name = "credential-provider-harbor"
    public static let version = "0.1.0"
    public static let defaultUsername = "jwt"

    /// Largest request read. A real request holds an image name, one token (a few KB) and
    /// the service account's annotations, which Kubernetes caps at 256 KiB in total
    /// (apimachinery `TotalAnnotationSizeLimitB`); 1 MiB leaves room for all of that and
    /// still stops a runaway writer from making the plugin buffer without bound.
    public static let maxRequestBytes = 1 << 20

    /// Returns the response bytes for one request.
    /// - Parameters:
    ///   - requestBytes: the kubelet's standard input, complete.
    ///   - username: Basic-auth user name to return; Harbor ignores it for JWT logins.
    ///   - now: the time `cacheDuration` is computed from.
    public static func handle(requestBytes: [UInt8], username: String, now: Date) throws(PluginError) -> [UInt8] {
        guard requestBytes.count <= maxRequestBytes else {
            throw .requestTooLarge(limit: maxRequestBytes)
        }
        let request = try decodeRequest(requestBytes)
        let response = try self.response(for: request, username: username, now: now)
        return encode(response)
    }

    /// Returns the response for a decoded request; see `handle(requestBytes:username:now:)`.
    public static func response(for request: CredentialProviderRequest, username: String, now: Date) throws(PluginError) -> CredentialProviderResponse {
        guard isValidUsername(username) else { throw .invalidUsername(username) }

        // 1. Envelope: the kubelet decodes the answer strictly with the same apiVersion.
        let apiVersion = request.apiVersion ?? ""
        guard apiVersion == credentialProviderAPIVersion else { throw .unsupportedAPIVersion(apiVersion) }
        let kind = request.kind ?? ""
        guard kind == "CredentialProviderRequest" else { throw .unexpectedKind(kind) }

        // 2. Registry host, the key of the auth map.
        guard let image = request.image, !image.isEmpty else { throw .missingImage }
        let registry: String
        do {
            registry = try ImageReference.registryHost(of: image)
        } catch {
            throw .invalidImage(error)
        }

        // 3. The token, and how long the kubelet may reuse it.
        guard let token = request.serviceAccountToken, !token.isEmpty else { throw .missingToken }
        let expiresAt = JWTClaims(token: token)?.expiresAt
        let seconds = CacheDuration.seconds(expiresAt: expiresAt, now: Int(now.timeIntervalSince1970.rounded(.down)))

        return CredentialProviderResponse(
            cacheKeyType: .registry,
            cacheDuration: CacheDuration.goDuration(seconds: seconds),
            auth: [registry: AuthConfig(username: username, password: token)]
        )
    }

    /// Encodes a response with sorted keys and unescaped "/", so equal responses are equal bytes.
    public static func encode(_ response: CredentialProviderResponse) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, a dictionary of strings and an enum cannot fail.
        return Array(try! encoder.encode(response))
    }

    /// Whether `username` can be a Basic-auth user-id (RFC 7617: no ":").
    public static func isValidUsername(_ username: String) -> Bool {
        !username.isEmpty && !username.unicodeScalars.contains { $0 == ":" || $0.value < 0x20 || $0.value == 0x7f }
    }

    private static func decodeRequest(_ bytes: [UInt8]) throws(PluginError) -> CredentialProviderRequest {
        do {
            return try JSONDecoder().decode(CredentialProviderRequest.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .malformedJSON(detail: describe(error))
        } catch {
            throw .malformedJSON(detail: "the JSON decoder failed")
        }
    }

    // Describes a decoding error by its kind and field path only: the decoder's own text
    // can quote the input, and the input contains the token.
    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "the body is not a JSON object"
        case .typeMismatch(let type, let context):
            return "field \(fieldPath(context.codingPath)) is not a \(type == String.self ? "string" : "value of the expected type")"
        case .valueNotFound(_, let context):
            return "field \(fieldPath(context.codingPath)) is null"
        case .keyNotFound(let key, _):
            return "field \(key.stringValue) is missing"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "the body is not valid JSON"
        case .dataCorrupted(let context):
            return "field \(fieldPath(context.codingPath)) is invalid"
        @unknown default:
            return "the body could not be decoded"
        }
    }

    private static func fieldPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
