/// Go's `time.ParseDuration` and `time.Duration.String`, which the kubelet applies to
/// `defaultCacheDuration` (through metav1.Duration).
public enum GoDuration {
    private static let units: [(String, UInt64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses `1h30m`, `-1.5s`, `300ms`, `0`; returns nanoseconds or Go's own error text.
    public static func parse(_ text: String) -> Result<Int64, DurationError> {
        let original = text
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .success(0) }
        if rest.isEmpty { return .failure(DurationError("time: invalid duration \(goQuote(original))")) }

        var total: UInt64 = 0
        while !rest.isEmpty {
            // The number: digits, optionally "." and more digits.
            let wholeDigits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(wholeDigits.count)
            var fractionDigits: Substring = ""
            if rest.first == "." {
                rest = rest.dropFirst()
                fractionDigits = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fractionDigits.count)
            }
            if wholeDigits.isEmpty && fractionDigits.isEmpty {
                return .failure(DurationError("time: invalid duration \(goQuote(original))"))
            }

            // The unit: everything up to the next digit or dot.
            let unitText = rest.prefix { !($0 == "." || ($0.isASCII && $0.isNumber)) }
            rest = rest.dropFirst(unitText.count)
            if unitText.isEmpty {
                return .failure(DurationError("time: missing unit in duration \(goQuote(original))"))
            }
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else {
                return .failure(DurationError("time: unknown unit \(goQuote(String(unitText))) in duration \(goQuote(original))"))
            }

            guard let whole = wholeDigits.isEmpty ? 0 : UInt64(wholeDigits),
                case (let scaled, false) = whole.multipliedReportingOverflow(by: unit)
            else { return .failure(DurationError("time: invalid duration \(goQuote(original))")) }
            var value = scaled
            if !fractionDigits.isEmpty {
                // Go keeps the fraction's precision as far as it fits, then scales it by the unit.
                var scale = 1.0
                var fraction: UInt64 = 0
                for digit in fractionDigits.prefix(18) {
                    fraction = fraction * 10 + UInt64(digit.wholeNumberValue ?? 0)
                    scale *= 10
                }
                value += UInt64(Double(fraction) * (Double(unit) / scale))
            }
            guard case (let sum, false) = total.addingReportingOverflow(value), sum <= UInt64(Int64.max) + (negative ? 1 : 0) else {
                return .failure(DurationError("time: invalid duration \(goQuote(original))"))
            }
            total = sum
        }
        if negative { return .success(total == UInt64(Int64.max) + 1 ? Int64.min : -Int64(total)) }
        return .success(Int64(total))
    }

    /// Formats nanoseconds as Go's `Duration.String` does: `0s`, `1.5s`, `-1m0s`, `1h0m0s`, `300ms`.
    static func format(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        var value = nanoseconds.magnitude
        var text: String

        if value < 1_000_000_000 {
            if value < 1_000 {
                text = "\(value)ns"
            } else if value < 1_000_000 {
                text = fraction(&value, digits: 3) + "µs"
                text = "\(value)" + text
            } else {
                text = fraction(&value, digits: 6) + "ms"
                text = "\(value)" + text
            }
        } else {
            let seconds = fraction(&value, digits: 9)
            text = "\(value % 60)" + seconds + "s"
            value /= 60
            if value > 0 {
                text = "\(value % 60)m" + text
                value /= 60
                if value > 0 { text = "\(value)h" + text }
            }
        }
        return negative ? "-" + text : text
    }

    // Splits off the lowest `digits` decimal digits as ".ddd" without trailing zeros.
    private static func fraction(_ value: inout UInt64, digits: Int) -> String {
        var divisor: UInt64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let part = value % divisor
        value /= divisor
        guard part != 0 else { return "" }
        var text = String(part)
        text = String(repeating: "0", count: digits - text.count) + text
        while text.last == "0" { text.removeLast() }
        return "." + text
    }
}

public struct DurationError: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Quotes text the way Go's `%q` does for printable ASCII and common escapes.
func goQuote(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            result += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
