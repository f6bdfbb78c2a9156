// The subset of Go's `net/url.Parse` that the kubelet applies to `matchImages` entries and
// image names: kubernetes `pkg/credentialprovider` `ParseSchemelessURL` parses
// `"https://" + text` with it and keeps `Host` and `Path`. Error messages repeat Go's text
// (Go 1.24 `net/url`), so the agent can report what the kubelet will report.
// NOTE: recent Go releases also reject anything but an IPv6 address inside square brackets,
// which this parser does too. A kubelet built with an older Go accepts "[127.0.0.1]", and
// the newest Go treats several colons outside brackets differently; both are unverified here.

/// A scheme-less URL as the kubelet parses it, reduced to Go's `URL.Host` and `URL.Path`.
struct SchemelessURL: Equatable, Sendable {
    /// Host with optional `:port`, percent-decoded; an IPv6 literal keeps its brackets.
    var host: String
    /// Percent-decoded path: empty or starting with "/". Query and fragment are dropped.
    var path: String

    init(host: String, path: String) {
        self.host = host
        self.path = path
    }

    /// Parses `text` the way Go parses `"https://" + text`.
    /// - Throws: `GoURLError` with Go's message, such as
    ///   `parse "https://%invalid%": invalid URL escape "%in"`.
    init(parsing text: String) throws(GoURLError) {
        let raw = "https://" + text
        do {
            self = try Self.parse(Array(text.utf8))
        } catch {
            throw GoURLError(message: "parse \(goQuoted(raw)): \(error.reason)")
        }
    }

    private static func parse(_ bytes: [UInt8]) throws(URLReason) -> SchemelessURL {
        // Go rejects ASCII control bytes anywhere before looking at the structure.
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw URLReason("net/url: invalid control character in URL")
        }

        // The fragment goes first; it is only checked for valid escapes.
        var rest = bytes[...]
        var fragment: ArraySlice<UInt8> = []
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            fragment = rest[(hash + 1)...]
            rest = rest[..<hash]
        }

        // Then the query: a lone trailing "?" is dropped, otherwise cut at the first "?".
        let questionMarks = rest.count(where: { $0 == UInt8(ascii: "?") })
        if rest.last == UInt8(ascii: "?") && questionMarks == 1 {
            rest = rest.dropLast()
        } else if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            rest = rest[..<question]
        }

        // The authority runs to the first "/"; the path is the remainder.
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let authority = rest[..<slash]
        let rawPath = rest[slash...]

        let host = try parseAuthority(authority)
        let path = try unescape(rawPath, mode: .path)
        _ = try unescape(fragment, mode: .fragment)
        return SchemelessURL(host: String(decoding: host, as: UTF8.self), path: String(decoding: path, as: UTF8.self))
    }

    private static func parseAuthority(_ authority: ArraySlice<UInt8>) throws(URLReason) -> [UInt8] {
        guard let at = authority.lastIndex(of: UInt8(ascii: "@")) else {
            return try parseHost(authority)
        }

        // Go checks the host before the user information.
        let host = try parseHost(authority[(at + 1)...])
        let userinfo = authority[..<at]
        guard userinfo.allSatisfy(isUserinfoByte) else {
            throw URLReason("net/url: invalid userinfo")
        }
        for part in userinfo.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false) {
            _ = try unescape(part, mode: .userPassword)
        }
        return host
    }

    private static func parseHost(_ host: ArraySlice<UInt8>) throws(URLReason) -> [UInt8] {
        if host.first == UInt8(ascii: "[") {
            return try parseIPLiteral(host)
        }
        if let colon = host.lastIndex(of: UInt8(ascii: ":")) {
            let colonPort = host[colon...]
            guard isValidOptionalPort(colonPort) else {
                throw URLReason("invalid port \(goQuoted(colonPort)) after host")
            }
        }
        return try unescape(host, mode: .host)
    }

    // An RFC 3986 IP-literal, optionally with an RFC 6874 zone ("%25" then the zone).
    private static func parseIPLiteral(_ host: ArraySlice<UInt8>) throws(URLReason) -> [UInt8] {
        guard let close = host.lastIndex(of: UInt8(ascii: "]")) else {
            throw URLReason("missing ']' in host")
        }
        let colonPort = host[(close + 1)...]
        guard isValidOptionalPort(colonPort) else {
            throw URLReason("invalid port \(goQuoted(colonPort)) after host")
        }

        let inside = host[(host.startIndex + 1)..<close]
        var address: [UInt8]
        if let zone = firstRange(of: Array("%25".utf8), in: inside) {
            address = try unescape(inside[..<zone], mode: .host)
            address += try unescape(inside[zone...], mode: .zone)
        } else {
            address = try unescape(inside, mode: .host)
        }

        // Recent Go releases accept only an IPv6 address inside the brackets.
        switch IPv6Literal.classify(address) {
        case .ipv6:
            break
        case .ipv4:
            throw URLReason("invalid IP-literal")
        case .invalid:
            // NOTE: Go appends netip's detailed reason here; this text gives a shorter one.
            throw URLReason("invalid host: ParseAddr(\(goQuoted(address[...]))): unable to parse IP")
        }
        return [UInt8(ascii: "[")] + address + [UInt8(ascii: "]")] + Array(colonPort)
    }

    private static func isValidOptionalPort(_ colonPort: ArraySlice<UInt8>) -> Bool {
        guard let first = colonPort.first else { return true }
        guard first == UInt8(ascii: ":") else { return false }
        return colonPort.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private static func isUserinfoByte(_ byte: UInt8) -> Bool {
        if isASCIIAlphanumeric(byte) { return true }
        return Array("-._:~!$&'()*+,;=%@".utf8).contains(byte)
    }

    private static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// A failed parse of a scheme-less URL, with Go's `*url.Error` text.
struct GoURLError: Error, Equatable, Sendable {
    var message: String
}

/// The reason part of a Go URL error, before the `parse "<url>": ` prefix is added.
struct URLReason: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
        || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
}

/// Quotes text the way Go's `%q` verb does for the characters that can reach an error here.
func goQuoted(_ text: String) -> String {
    goQuoted(Array(text.utf8)[...])
}

func goQuoted(_ bytes: ArraySlice<UInt8>) -> String {
    var quoted = "\""
    for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\r": quoted += "\\r"
        case "\t": quoted += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                let hex = String(scalar.value, radix: 16)
                quoted += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
    }
    return quoted + "\""
}
