// Reading claims from a JSON Web Token (RFC 7519) without checking its signature: the
// plugin only needs the expiry to size the kubelet's cache, and the agent only shows the
// claims in diagnostics. Harbor verifies the signature itself.
import FoundationEssentials

/// The claims of a service account token that the plugin and the agent look at.
public struct JWTClaims: Equatable, Sendable {
    /// Expiry in seconds since the Unix epoch (`exp`), truncated to whole seconds.
    public var expiresAt: Int?
    public var audiences: [String]
    public var issuer: String?
    public var subject: String?
    /// Key id from the header (`kid`); Harbor requires it to select a key.
    public var keyID: String?

    /// Decodes the header and payload of a compact JWS (`header.payload.signature`).
    /// Returns nil for anything else: wrong number of parts, invalid base64url, a header or
    /// payload that is not a JSON object. Claims of the wrong type read as absent.
    public init?(token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let header = Self.decodeObject(parts[0]),
            let payload = Self.decodeObject(parts[1])
        else { return nil }

        keyID = header.kid
        expiresAt = payload.exp?.seconds
        audiences = payload.aud?.values ?? []
        issuer = payload.iss
        subject = payload.sub
    }

    private static func decodeObject(_ part: Substring) -> ClaimSet? {
        guard let data = base64URLDecode(part) else { return nil }
        return try? JSONDecoder().decode(ClaimSet.self, from: data)
    }
}

/// Decodes unpadded base64url (RFC 4648 section 5); JWTs never pad.
func base64URLDecode(_ text: Substring) -> Data? {
    guard text.utf8.allSatisfy({ isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
        return nil
    }
    var standard = String(text).replacing("-", with: "+").replacing("_", with: "/")
    switch standard.utf8.count % 4 {
    case 0: break
    case 2: standard += "=="
    case 3: standard += "="
    default: return nil
    }
    return Data(base64Encoded: standard)
}

// Every member optional and tolerant: a claim of an unexpected type is treated as absent.
private struct ClaimSet: Decodable {
    var kid: String?
    var exp: NumericDate?
    var aud: Audience?
    var iss: String?
    var sub: String?

    enum CodingKeys: String, CodingKey { case kid, exp, aud, iss, sub }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kid = try? container.decodeIfPresent(String.self, forKey: .kid)
        exp = try? container.decodeIfPresent(NumericDate.self, forKey: .exp)
        aud = try? container.decodeIfPresent(Audience.self, forKey: .aud)
        iss = try? container.decodeIfPresent(String.self, forKey: .iss)
        sub = try? container.decodeIfPresent(String.self, forKey: .sub)
    }
}

// RFC 7519 NumericDate: a JSON number of seconds, possibly with a fraction.
private struct NumericDate: Decodable {
    var seconds: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let whole = try? container.decode(Int.self) {
            seconds = whole
            return
        }
        let value = try container.decode(Double.self)
        // A value outside Int's range is unreadable rather than clamped.
        guard value.isFinite, value >= -9.2e18, value <= 9.2e18 else {
            seconds = nil
            return
        }
        seconds = Int(value.rounded(.down))
    }
}

// RFC 7519 `aud`: one string or an array of strings.
private struct Audience: Decodable {
    var values: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            values = [single]
        } else {
            values = try container.decode([String].self)
        }
    }
}
