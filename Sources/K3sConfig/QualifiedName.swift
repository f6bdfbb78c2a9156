/// Kubernetes qualified-name validation (k8s.io/apimachinery `pkg/util/validation`
/// `IsQualifiedName`), which the kubelet applies to service account annotation keys after
/// lowercasing them. Returns upstream's messages, empty when the name is valid.
enum QualifiedName {
    static let nameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let nameMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let maxNameLength = 63
    static let subdomainFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
    static let maxSubdomainLength = 253

    static func validate(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        var messages: [String] = []

        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                messages.append("prefix part must be non-empty")
            } else {
                messages += subdomainMessages(String(prefix)).map { "prefix part " + $0 }
            }
        default:
            return [
                "a qualified name " + regexMessage(nameMessage, nameFormat, examples: ["MyName", "my.name", "123-abc"])
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }

        if name.isEmpty {
            messages.append("name part must be non-empty")
        } else if name.utf8.count > maxNameLength {
            messages.append("name part must be no more than \(maxNameLength) bytes")
        }
        if !isQualifiedNamePart(name) {
            messages.append("name part " + regexMessage(nameMessage, nameFormat, examples: ["MyName", "my.name", "123-abc"]))
        }
        return messages
    }

    private static func subdomainMessages(_ value: String) -> [String] {
        var messages: [String] = []
        if value.utf8.count > maxSubdomainLength { messages.append("must be no more than \(maxSubdomainLength) bytes") }
        if !isSubdomain(value) { messages.append(regexMessage(subdomainMessage, subdomainFormat, examples: ["example.com"])) }
        return messages
    }

    // The text of apimachinery's RegexError: "msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')".
    private static func regexMessage(_ message: String, _ format: String, examples: [String]) -> String {
        var text = message + " (e.g. "
        for (index, example) in examples.enumerated() {
            if index > 0 { text += " or " }
            text += "'\(example)', "
        }
        return text + "regex used for validation is '\(format)')"
    }

    private static func isAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber)
    }

    private static func isQualifiedNamePart(_ name: Substring) -> Bool {
        guard let first = name.first, let last = name.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return name.allSatisfy { isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    private static func isSubdomain(_ value: String) -> Bool {
        value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            let isLowerAlphanumeric: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
            return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
                && label.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
        }
    }
}
