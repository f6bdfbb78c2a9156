internal import K3sConfig

/// Go duration values from the command line and the configuration file, checked against the
/// range each setting accepts. Every error names the setting, the value and the limit.
public enum Durations {
    /// The largest Go duration: Int64.max nanoseconds, about 292 years.
    public static let maximumText = "2562047h47m16.854775807s"

    /// Parses `text` for `field` (an option such as `--interval` or a file key) and checks that
    /// it is zero or more.
    public static func nanoseconds(_ text: String, field: String) throws(ConfigurationError) -> Int64 {
        let nanoseconds: Int64
        switch GoDuration.parse(text) {
        case .success(let value):
            nanoseconds = value
        case .failure(let error) where error.isOutOfRange:
            throw ConfigurationError(
                "\(field) \(InputValidation.quoted(text)) is out of range (\(error.message))",
                fix: "use a Go duration of at most \(maximumText), such as 1h or 30m"
            )
        case .failure(let error):
            throw ConfigurationError(
                "\(field) \(InputValidation.quoted(text)) is not a duration (\(error.message))",
                fix: "use a Go duration such as 1h, 30m, 90s or 0s"
            )
        }
        if nanoseconds < 0 {
            throw ConfigurationError(
                "\(field) \(InputValidation.quoted(text)) is negative",
                fix: "use a duration of 0s or more, such as 1h or 30m"
            )
        }
        return nanoseconds
    }

    /// Parses a timing setting and rejects values below `minimum`. With `allowsZero`, exactly 0
    /// turns the setting off and is accepted. Values between 0 and `minimum` are rejected,
    /// because a timer shorter than the clock's useful resolution becomes a busy loop.
    public static func duration(
        _ text: String,
        field: String,
        minimum: Duration,
        allowsZero: Bool = false
    ) throws(ConfigurationError) -> Duration {
        let nanoseconds = try nanoseconds(text, field: field)
        let value = Duration.nanoseconds(nanoseconds)
        if value < minimum && !(allowsZero && nanoseconds == 0) {
            let allowed = allowsZero ? "0s or at least \(format(minimum))" : "at least \(format(minimum))"
            throw ConfigurationError(
                "\(field) \(InputValidation.quoted(text)) is shorter than the minimum of \(format(minimum))",
                fix: "use \(allowed)"
            )
        }
        return value
    }

    /// Formats a duration the way Go prints it: `5s`, `1m0s`, `500ms`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let (total, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, case (let sum, false) = total.addingReportingOverflow(attoseconds / 1_000_000_000) else {
            return "\(seconds)s"
        }
        return GoDuration.format(sum)
    }
}
