import YAML

/// The typing gopkg.in/yaml.v2 gives a scalar when it decodes into `interface{}`, and the text
/// Go's `fmt` prints for the result. k3s flattens its config files this way, so a plain `0644`
/// reaches k3s as `420` and `on` as `true`.
enum GoScalar {
    enum Kind: Equatable {
        case null, bool, int, float, string, sequence, mapping
    }

    private static let trueWords: Set<String> = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"]
    private static let falseWords: Set<String> = ["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"]
    private static let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]

    static func kind(of node: YAMLNode) -> Kind {
        switch node {
        case .sequence: return .sequence
        case .mapping: return .mapping
        case .scalar(let text, let style, _):
            if style.isQuoted { return .string }
            if nullWords.contains(text) { return .null }
            if trueWords.contains(text) || falseWords.contains(text) { return .bool }
            if integer(text) != nil { return .int }
            if float(text) != nil { return .float }
            return .string
        }
    }

    static func string(of node: YAMLNode) -> String {
        switch node {
        case .sequence(let items, _):
            return "[" + items.map(string(of:)).joined(separator: " ") + "]"
        case .mapping(let pairs, _):
            // Go prints map[interface{}]interface{} with its keys sorted.
            let sorted = pairs.sorted { $0.key < $1.key }
            return "map[" + sorted.map { "\($0.key):\(string(of: $0.value))" }.joined(separator: " ") + "]"
        case .scalar(let text, _, _):
            switch kind(of: node) {
            case .null: return ""
            case .bool: return trueWords.contains(text) ? "true" : "false"
            case .int: return integer(text).map { String($0) } ?? text
            case .float: return float(text).map(formatFloat) ?? text
            default: return text
            }
        }
    }

    // strconv.ParseInt(text without "_", 0, 64): decimal, 0x, 0o, 0b, and a leading 0 for octal.
    static func integer(_ text: String) -> Int64? {
        var digits = Substring(text.filter { $0 != "_" })
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.first?.isASCII == true, digits.first?.isNumber == true else { return nil }

        var radix = 10
        let lowered = digits.lowercased()
        if lowered.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if lowered.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if lowered.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    // yaml.v2's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` plus .inf/.nan.
    static func float(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        let plain = text.filter { $0 != "_" }
        var rest = Substring(plain)
        if let sign = rest.first, sign == "+" || sign == "-" { rest = rest.dropFirst() }
        let mantissaEnd = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? rest.endIndex
        let mantissa = rest[..<mantissaEnd]
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let isDigits: (Substring) -> Bool = { $0.allSatisfy { $0.isASCII && $0.isNumber } }
        switch parts.count {
        case 1 where !parts[0].isEmpty && isDigits(parts[0]): break
        case 2 where parts[0].isEmpty && !parts[1].isEmpty && isDigits(parts[1]): break
        case 2 where !parts[0].isEmpty && isDigits(parts[0]) && isDigits(parts[1]): break
        default: return nil
        }
        if mantissaEnd != rest.endIndex {
            var exponent = rest[rest.index(after: mantissaEnd)...]
            if let sign = exponent.first, sign == "+" || sign == "-" { exponent = exponent.dropFirst() }
            guard !exponent.isEmpty, isDigits(exponent) else { return nil }
        }
        return Double(plain)
    }

    // Go's %v for float64 prints the shortest text that reads back, with no ".0" for whole numbers
    // below 1e21 (`1000`, `1.5`, `1e+21`).
    // NOTE: exponent forms differ from Go in the digits after "e" for very small or large values.
    private static func formatFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(), abs(value) < 1e21 { return String(Int64(value)) }
        return "\(value)"
    }
}
