/// The syntax check the kubelet applies to each `matchImages` entry: Go's `url.Parse` of
/// `"https://" + entry` (kubernetes `pkg/credentialprovider` `ParseSchemelessURL`). Returns the
/// error text after "match image is invalid: ", or nil when the entry parses.
///
/// TODO: use `MatchImages.validate(_:)` from the CredentialProvider module instead, so the agent
/// and the plugin share one parser; its `reason` is this function's result.
enum MatchImageSyntax {
    static func error(for entry: String) -> String? {
        let url = "https://" + entry
        guard let problem = problem(in: url) else { return nil }
        return "parse \(goQuote(url)): \(problem)"
    }

    private static func problem(in url: String) -> String? {
        let bytes = Array(url.utf8)
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "net/url: invalid control character in URL" }

        // Go parses the part before "#" first; the query is not checked.
        var main = Substring(url)
        var fragment: Substring = ""
        if let hash = main.firstIndex(of: "#") {
            fragment = main[main.index(after: hash)...]
            main = main[..<hash]
        }
        if let question = main.firstIndex(of: "?") { main = main[..<question] }

        let rest = main.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)

        var host = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if !userInfo.allSatisfy(isValidUserInfoCharacter) { return "net/url: invalid userinfo" }
            host = authority[authority.index(after: at)...]
        }
        if let problem = hostProblem(host) { return problem }
        if let escape = invalidEscape(in: path, hostMode: false) { return "invalid URL escape \(goQuote(escape))" }
        if let escape = invalidEscape(in: fragment, hostMode: false) { return "invalid URL escape \(goQuote(escape))" }
        return nil
    }

    private static func hostProblem(_ host: Substring) -> String? {
        var name = host
        if host.hasPrefix("[") {
            guard let close = host.lastIndex(of: "]") else { return "missing ']' in host" }
            let colonPort = host[host.index(after: close)...]
            if !isValidOptionalPort(colonPort) { return "invalid port \(goQuote(String(colonPort))) after host" }
            name = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            let colonPort = host[colon...]
            if !isValidOptionalPort(colonPort) { return "invalid port \(goQuote(String(colonPort))) after host" }
        }
        if let escape = invalidEscape(in: name, hostMode: true) { return "invalid URL escape \(goQuote(escape))" }
        for character in name where character != "%" && character.isASCII && shouldEscapeInHost(character) {
            return "invalid character \(goQuote(String(character))) in host name"
        }
        return nil
    }

    // Finds the first "%" not followed by two hex digits. In a host, escapes of ASCII other
    // than "%25" are invalid too (Go's unescape in encodeHost mode).
    private static func invalidEscape(in text: Substring, hostMode: Bool) -> String? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "%" else {
                index += 1
                continue
            }
            let end = min(index + 3, scalars.count)
            let escape = String(String.UnicodeScalarView(scalars[index..<end]))
            guard end - index == 3, let high = hexValue(scalars[index + 1]), hexValue(scalars[index + 2]) != nil else {
                return escape
            }
            if hostMode && high < 8 && escape != "%25" { return escape }
            index += 3
        }
        return nil
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 48
        case "a"..."f": scalar.value - 87
        case "A"..."F": scalar.value - 55
        default: nil
        }
    }

    private static func isValidOptionalPort(_ colonPort: Substring) -> Bool {
        if colonPort.isEmpty { return true }
        guard colonPort.first == ":" else { return false }
        return colonPort.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    // Go's shouldEscape(c, encodeHost) for ASCII.
    private static func shouldEscapeInHost(_ character: Character) -> Bool {
        if character.isLetter || character.isNumber { return false }
        return !"-_.~!$&'()*+,;=:[]<>\"".contains(character)
    }

    private static func isValidUserInfoCharacter(_ character: Character) -> Bool {
        if !character.isASCII || character.isLetter || character.isNumber { return true }
        return "-._:~!$&'()*+,;=%@".contains(character)
    }
}
