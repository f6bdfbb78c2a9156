/// The type a YAML 1.1 reader (yaml.v2, which k3s and the kubelet's sigs.k8s.io/yaml use) gives a
/// plain scalar. The patterns are a superset of the YAML 1.1 and 1.2 core schemas, so text that
/// any common reader would turn into something other than a string counts as non-string.
public enum YAMLScalarKind: Sendable, Equatable {
    case null
    case bool
    case int
    case float
    case timestamp
    case mergeKey
    case string

    static let yaml11True: Set<String> = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]
    static let yaml11False: Set<String> = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]
    private static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let specialFloats: Set<String> = [
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
    ]

    /// Resolves the type of a plain (unquoted, untagged) scalar.
    public static func resolve(plain text: String) -> YAMLScalarKind {
        if nulls.contains(text) { return .null }
        if yaml11True.contains(text) || yaml11False.contains(text) { return .bool }
        if text == "<<" { return .mergeKey }
        if specialFloats.contains(text) { return .float }
        if isInteger(text) { return .int }
        if isFloat(text) { return .float }
        if isTimestamp(text) { return .timestamp }
        return .string
    }

    // Decimal, 0b, 0o, 0x and leading-zero octal integers, with `_` separators, and YAML 1.1
    // sexagesimal (`1:30`).
    private static func isInteger(_ text: String) -> Bool {
        var body = Substring(text)
        if let first = body.first, first == "+" || first == "-" { body = body.dropFirst() }
        guard let first = body.first, first.isASCII, first.isNumber else { return false }

        for prefix in ["0b", "0o", "0x"] where body.hasPrefix(prefix) {
            let digits = body.dropFirst(2)
            let allowed: (Character) -> Bool = switch prefix {
            case "0b": { $0 == "0" || $0 == "1" || $0 == "_" }
            case "0o": { ("0"..."7").contains($0) || $0 == "_" }
            default: { $0.isHexDigit || $0 == "_" }
            }
            return !digits.isEmpty && digits.allSatisfy(allowed)
        }
        if body.contains(":") {
            return body.split(separator: ":", omittingEmptySubsequences: false).allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") }
            }
        }
        return body.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") }
    }

    // `1.5`, `.5`, `1.`, `1e3`, `1.5E-3`, `1_000.5`, and YAML 1.1 sexagesimal floats (`1:30.5`).
    private static func isFloat(_ text: String) -> Bool {
        var body = Substring(text)
        if let first = body.first, first == "+" || first == "-" { body = body.dropFirst() }
        guard !body.isEmpty else { return false }

        var mantissa = body
        var exponent: Substring?
        if let index = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = body[..<index]
            exponent = body[body.index(after: index)...]
        }
        if let exponent {
            var digits = exponent
            if let sign = digits.first, sign == "+" || sign == "-" { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        }

        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        if parts.count == 1 && exponent == nil { return false }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty) else { return false }
        let wholeOK = whole.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_" || $0 == ":") }
        let fractionOK = fraction.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") }
        return wholeOK && fractionOK && (whole.first.map { $0 != ":" } ?? true)
    }

    // `2001-12-14`, optionally followed by a time; enough to spot text a reader turns into a date.
    private static func isTimestamp(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars.prefix(10))
        guard scalars.count == 10 else { return false }
        for (index, scalar) in scalars.enumerated() {
            let isDigit = ("0"..."9").contains(scalar)
            if index == 4 || index == 7 {
                if scalar != "-" { return false }
            } else if !isDigit {
                return false
            }
        }
        guard text.unicodeScalars.count > 10 else { return true }
        let next = text.unicodeScalars[text.unicodeScalars.index(text.unicodeScalars.startIndex, offsetBy: 10)]
        return next == "T" || next == "t" || next == " " || next == "\t"
    }
}
