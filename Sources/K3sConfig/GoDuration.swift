/// Go's `time.ParseDuration` and `time.Duration.String`, which the kubelet applies to
/// `defaultCacheDuration` (through metav1.Duration).
public enum GoDuration {
    private static let units: [(String, UInt64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses `1h30m`, `-1.5s`, `300ms`, `0`; returns nanoseconds or Go's own error text.
    /// Follows `ParseDuration`, `leadingInt` and `leadingFraction` in Go's src/time/format.go
    /// step by step on UTF-8 bytes, including its overflow checks: a value outside Int64
    /// nanoseconds (about 292 years) is an invalid duration, never a wrapped number.
    public static func parse(_ text: String) -> Result<Int64, DurationError> {
        let invalid = DurationError("time: invalid duration \(goQuote(text))")
        let outOfRange = DurationError(invalid.message, isOutOfRange: true)
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            index = 1
        }
        if bytes[index...].elementsEqual("0".utf8) { return .success(0) }
        if index == bytes.count { return .failure(invalid) }

        // Go keeps the running total as an unsigned magnitude of at most 1<<63.
        let limit: UInt64 = 1 << 63
        var total: UInt64 = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: ".") || isDigit(bytes[index]) else { return .failure(invalid) }

            let wholeStart = index
            guard let whole = leadingInt(bytes, &index) else { return .failure(outOfRange) }
            let hasWhole = index != wholeStart
            var fraction: UInt64 = 0
            var scale = 1.0
            var hasFraction = false
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                let fractionStart = index
                (fraction, scale) = leadingFraction(bytes, &index)
                hasFraction = index != fractionStart
            }
            if !hasWhole && !hasFraction { return .failure(invalid) }

            // The unit: everything up to the next digit or dot.
            let unitStart = index
            while index < bytes.count && !(bytes[index] == UInt8(ascii: ".") || isDigit(bytes[index])) { index += 1 }
            if index == unitStart {
                return .failure(DurationError("time: missing unit in duration \(goQuote(text))"))
            }
            let unitBytes = bytes[unitStart..<index]
            guard let unit = units.first(where: { unitBytes.elementsEqual($0.0.utf8) })?.1 else {
                let unitText = String(decoding: unitBytes, as: UTF8.self)
                return .failure(DurationError("time: unknown unit \(goQuote(unitText)) in duration \(goQuote(text))"))
            }

            if whole > limit / unit { return .failure(outOfRange) }
            var value = whole * unit
            if fraction > 0 {
                // The fraction times the unit is below 3.6e12 (an hour), so only the sum can
                // pass the limit, and it cannot wrap because value is at most 1<<63 here.
                value += UInt64(Double(fraction) * (Double(unit) / scale))
                if value > limit { return .failure(outOfRange) }
            }
            // Go adds in uint64 without a check, so two terms of exactly 1<<63 wrap to 0
            // and the kubelet accepts the sum as 0. Wrapping keeps the same result.
            total &+= value
            if total > limit { return .failure(outOfRange) }
        }
        if negative { return .success(total == limit ? Int64.min : -Int64(total)) }
        if total > UInt64(Int64.max) { return .failure(outOfRange) }
        return .success(Int64(total))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Go's `leadingInt`: consumes digits; nil when the number passes 1<<63.
    private static func leadingInt(_ bytes: [UInt8], _ index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        while index < bytes.count && isDigit(bytes[index]) {
            if value > (1 << 63) / 10 { return nil }
            value = value * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
            if value > 1 << 63 { return nil }
            index += 1
        }
        return value
    }

    /// Go's `leadingFraction`: consumes digits and keeps as many as fit, without an error.
    private static func leadingFraction(_ bytes: [UInt8], _ index: inout Int) -> (UInt64, Double) {
        var value: UInt64 = 0
        var scale = 1.0
        var overflow = false
        while index < bytes.count && isDigit(bytes[index]) {
            let digit = UInt64(bytes[index] - UInt8(ascii: "0"))
            index += 1
            if overflow { continue }
            if value > (UInt64(Int64.max)) / 10 {
                overflow = true
                continue
            }
            let next = value * 10 + digit
            if next > 1 << 63 {
                overflow = true
                continue
            }
            value = next
            scale *= 10
        }
        return (value, scale)
    }

    /// Formats nanoseconds as Go's `Duration.String` does: `0s`, `1.5s`, `-1m0s`, `1h0m0s`, `300ms`.
    public static func format(_ nanoseconds: Int64) -> String {
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

public struct DurationError: Error, Equatable, CustomStringConvertible {
    /// Go's own error text, such as `time: invalid duration "1x"`.
    public var message: String
    /// True when the syntax is valid but the value is beyond Int64 nanoseconds.
    public var isOutOfRange: Bool

    init(_ message: String, isOutOfRange: Bool = false) {
        self.message = message
        self.isOutOfRange = isOutOfRange
    }

    public var description: String { message }
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
