// Reading claims from a JSON Web Token (RFC 7519) without checking its signature: the
// plugin only needs the expiry to size the kubelet's cache, and the agent only shows the
// claims in diagnostics. Harbor verifies the signature itself.

/// The claims of a service account token that the plugin and the agent look at.
public struct JWTClaims: Equatable, Sendable {
    /// Expiry in seconds since the Unix epoch (`exp`), truncated to whole seconds.
    public var expiresAt: Int?
    public var audiences: [String]
    public var issuer: String?
    public var subject: String?
    /// Key id from the header (`kid`); Harbor requires it to select a key.
    public var keyID: String?

    private static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { text } else { nil }
    }

    /// Decodes the header and payload of a compact JWS (`header.payload.signature`).
    /// Returns nil for anything else: wrong number of parts, invalid base64url, a header or
    /// payload that is not a JSON object. Claims of the wrong type read as absent.
    public init?(token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let header = Self.decodeObject(parts[0]),
            let payload = Self.decodeObject(parts[1])
        else { return nil }

        keyID = Self.string(header["kid"])
        expiresAt = payload["exp"]?.integerValue
        issuer = Self.string(payload["iss"])
        subject = Self.string(payload["sub"])
        switch payload["aud"] {
        case .string(let audience)?:
            audiences = [audience]
        case .array(let elements)?:
            audiences = elements.compactMap(Self.string)
            if audiences.count != elements.count { audiences = [] }
        default:
            audiences = []
        }
    }

    private static func decodeObject(_ part: Substring) -> [String: JSONValue]? {
        guard let bytes = base64URLDecode(part), case .object(let members)? = try? JSONValue.parse(bytes) else {
            return nil
        }
        return members
    }
}

/// Decodes unpadded base64url (RFC 4648 section 5), the encoding of JWT parts.
/// Returns nil for any other character, for padding, or for a length no encoding produces.
func base64URLDecode(_ text: Substring) -> [UInt8]? {
    var decoded: [UInt8] = []
    decoded.reserveCapacity(text.utf8.count * 3 / 4)
    var buffer: UInt32 = 0
    var bits = 0
    for byte in text.utf8 {
        let value: UInt8
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): value = 62
        case UInt8(ascii: "_"): value = 63
        default: return nil
        }
        buffer = buffer << 6 | UInt32(value)
        bits += 6
        if bits >= 8 {
            bits -= 8
            decoded.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            buffer &= (1 << UInt32(bits)) - 1
        }
    }
    // One leftover character (6 bits) cannot come from any byte sequence.
    guard bits < 6 else { return nil }
    return decoded
}
