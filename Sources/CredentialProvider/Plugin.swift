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
        let token = request.serviceAccountToken

        // 1. Envelope: the kubelet decodes the response strictly, expecting the same apiVersion.
        let apiVersion = request.apiVersion ?? ""
        guard apiVersion == credentialProviderAPIVersion else {
            throw .unsupportedAPIVersion(PluginError.displayValue(apiVersion, token: token))
        }
        let kind = request.kind ?? ""
        guard kind == "CredentialProviderRequest" else {
            throw .unexpectedKind(PluginError.displayValue(kind, token: token))
        }

        // 2. Registry host, the key of the auth map.
        guard let image = request.image, !image.isEmpty else { throw .missingImage }
        let registry: String
        do {
            registry = try ImageReference.registryHost(of: image)
        } catch {
            var shown = error
            shown.reference = PluginError.displayValue(image, token: token)
            throw .invalidImage(shown)
        }

        // 3. The token, and how long the kubelet may reuse it.
        guard let token, !token.isEmpty else { throw .missingToken }
        let expiresAt = JWTClaims(token: token)?.expiresAt
        let seconds = CacheDuration.seconds(expiresAt: expiresAt, now: Int(now.timeIntervalSince1970.rounded(.down)))

        return CredentialProviderResponse(
            cacheKeyType: .registry,
            cacheDuration: CacheDuration.goDuration(seconds: seconds),
            auth: [registry: AuthConfig(username: username, password: token)]
        )
    }

    /// Encodes a response with sorted keys and unescaped "/", so equal responses are equal
    /// bytes. The bytes equal JSONEncoder's output with `.sortedKeys` and `.withoutEscapingSlashes`.
    public static func encode(_ response: CredentialProviderResponse) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512 + response.auth.reduce(0) { $0 + $1.key.utf8.count + $1.value.password.utf8.count })

        func member(_ key: String, _ first: Bool = false) {
            if !first { output.append(UInt8(ascii: ",")) }
            appendJSONString(key, to: &output)
            output.append(UInt8(ascii: ":"))
        }

        output.append(UInt8(ascii: "{"))
        member("apiVersion", true)
        appendJSONString(response.apiVersion, to: &output)
        member("auth")
        output.append(UInt8(ascii: "{"))
        for (index, key) in response.auth.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            let config = response.auth[key]!
            member(key, index == 0)
            output.append(UInt8(ascii: "{"))
            member("password", true)
            appendJSONString(config.password, to: &output)
            member("username")
            appendJSONString(config.username, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "}"))
        if let cacheDuration = response.cacheDuration {
            member("cacheDuration")
            appendJSONString(cacheDuration, to: &output)
        }
        member("cacheKeyType")
        appendJSONString(response.cacheKeyType.rawValue, to: &output)
        member("kind")
        appendJSONString(response.kind, to: &output)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// Returns whether `username` can be a Basic-auth user-id (RFC 7617 forbids ":").
    public static func isValidUsername(_ username: String) -> Bool {
        !username.isEmpty && !username.unicodeScalars.contains { $0 == ":" || $0.value < 0x20 || $0.value == 0x7f }
    }

    // Reads the request fields with the types of the v1 API; unknown fields are ignored and
    // null reads as absent, as with Go's encoding/json. Messages name the field, never its text.
    private static func decodeRequest(_ bytes: [UInt8]) throws(PluginError) -> CredentialProviderRequest {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw .malformedJSON(detail: "the body is not valid JSON (syntax error at byte \(error.offset))")
        }
        guard case .object(let members) = document else {
            throw .malformedJSON(detail: "the body is not a JSON object")
        }

        func string(_ key: String) throws(PluginError) -> String? {
            switch members[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw .malformedJSON(detail: "field \(key) is not a string")
            }
        }

        var annotations: [String: String]?
        switch members["serviceAccountAnnotations"] {
        case nil, .null?:
            annotations = nil
        case .object(let entries)?:
            annotations = [:]
            for (key, value) in entries {
                guard case .string(let text) = value else {
                    throw .malformedJSON(detail: "field serviceAccountAnnotations.\(key) is not a string")
                }
                annotations?[key] = text
            }
        default:
            throw .malformedJSON(detail: "field serviceAccountAnnotations is not an object")
        }

        return CredentialProviderRequest(
            apiVersion: try string("apiVersion"), kind: try string("kind"), image: try string("image"),
            serviceAccountToken: try string("serviceAccountToken"), serviceAccountAnnotations: annotations)
    }
}
