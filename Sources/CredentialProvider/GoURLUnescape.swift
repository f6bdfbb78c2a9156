// Percent-decoding with the per-component rules of Go's `net/url` (`unescape` and
// `shouldEscape`, Go 1.24): every mode rejects a malformed "%XY"; the host rejects
// escapes of ASCII bytes (except "%25") and characters that may not appear in a host name.

enum URLComponent {
    case host, zone, path, userPassword, fragment
}

func unescape(_ bytes: ArraySlice<UInt8>, mode: URLComponent) throws(URLReason) -> [UInt8] {
    var decoded: [UInt8] = []
    decoded.reserveCapacity(bytes.count)

    var index = bytes.startIndex
    while index < bytes.endIndex {
        let byte = bytes[index]
        if byte == UInt8(ascii: "%") {
            // A "%" needs two hex digits after it.
            guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            else {
                let shown = bytes[index..<min(index + 3, bytes.endIndex)]
                throw URLReason("invalid URL escape \(goQuoted(shown))")
            }
            let escape = bytes[index..<(index + 3)]
            let value = high << 4 | low
            let isPercent = escape.elementsEqual(Array("%25".utf8))

            // RFC 3986 lets a host percent-encode only non-ASCII bytes; RFC 6874 adds "%25".
            if mode == .host && high < 8 && !isPercent {
                throw URLReason("invalid URL escape \(goQuoted(escape))")
            }
            if mode == .zone && !isPercent && value != UInt8(ascii: " ") && mustEscapeInHost(value) {
                throw URLReason("invalid URL escape \(goQuoted(escape))")
            }
            decoded.append(value)
            index += 3
            continue
        }

        if (mode == .host || mode == .zone) && byte < 0x80 && mustEscapeInHost(byte) {
            throw URLReason("invalid character \(goQuoted(bytes[index...index])) in host name")
        }
        decoded.append(byte)
        index += 1
    }
    return decoded
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

// ASCII characters allowed unescaped in a Go URL host: letters, digits, RFC 3986 sub-delims,
// ":", "[", "]", the unreserved marks, and "<", ">", '"' that Go tolerates.
private func mustEscapeInHost(_ byte: UInt8) -> Bool {
    if isASCIIAlphanumeric(byte) { return false }
    return !Array("!$&'()*+,;=:[]<>\"-_.~".utf8).contains(byte)
}

/// The kind of address inside an IP-literal's brackets, as Go's `netip.ParseAddr` decides it.
enum IPv6Literal {
    case ipv6, ipv4, invalid

    static func classify(_ bytes: [UInt8]) -> IPv6Literal {
        let text = String(decoding: bytes, as: UTF8.self)
        if !text.contains(":") {
            return isIPv4(Substring(text)) ? .ipv4 : .invalid
        }
        return isIPv6(text) ? .ipv6 : .invalid
    }

    private static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit) else { return false }
            // netip rejects leading zeros such as "01".
            guard part.count == 1 || part.first != "0" else { return false }
            return Int(part)! <= 255
        }
    }

    private static func isIPv6(_ text: String) -> Bool {
        // A zone follows "%" and must not be empty.
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") {
            guard address.index(after: percent) < address.endIndex else { return false }
            address = address[..<percent]
        }

        let halves = splitAtDoubleColon(address)
        guard halves.count <= 2 else { return false }

        var groups = 0
        for (position, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (partIndex, part) in parts.enumerated() {
                let isLastOfAddress = position == halves.count - 1 && partIndex == parts.count - 1
                if isLastOfAddress && part.contains(".") {
                    guard isIPv4(part) else { return false }
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups <= 7 : groups == 8
    }

    private static func splitAtDoubleColon(_ text: Substring) -> [Substring] {
        var halves: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":" && next < text.endIndex && text[next] == ":" {
                halves.append(text[start..<index])
                start = text.index(after: next)
                index = start
                continue
            }
            index = next
        }
        halves.append(text[start...])
        return halves
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
