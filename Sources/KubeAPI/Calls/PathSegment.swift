import FoundationEssentials

/// Percent-encodes one path segment (a namespace, a name), so a value cannot add path
/// components or a query to a request.
func segment(_ value: String) -> String {
    // RFC 3986 unreserved characters plus the sub-delimiters and ':' '@' that a path segment
    // may hold; everything else, '/' '?' '#' '%' ';' included, is percent-encoded.
    let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@".utf8)
    var encoded = ""
    for byte in value.utf8 {
        if allowed.contains(byte) {
            encoded.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }
    return encoded
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
