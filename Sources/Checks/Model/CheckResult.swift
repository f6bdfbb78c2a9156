/// Outcome of one check. Only `fail` makes the node not ready.
public enum CheckStatus: String, Sendable, Codable, Comparable {
    case pass
    case warn
    case fail
    case skip

    private var rank: Int {
        switch self {
        case .pass: 0
        case .skip: 1
        case .warn: 2
        case .fail: 3
        }
    }

    public static func < (lhs: CheckStatus, rhs: CheckStatus) -> Bool { lhs.rank < rhs.rank }
}

/// The finding of one check: a status, a message naming what was seen and its source, and
/// for `warn` and `fail` a remedy, which may span lines (a YAML manifest, a command). No
/// field carries a token, key or certificate.
public struct CheckResult: Sendable, Equatable {
    public var status: CheckStatus
    public var message: String
    public var remedy: String?

    public init(_ status: CheckStatus, _ message: String, remedy: String? = nil) {
        self.status = status
        self.message = message
        self.remedy = remedy
    }

    public static func pass(_ message: String) -> CheckResult { CheckResult(.pass, message) }
    public static func warn(_ message: String, remedy: String? = nil) -> CheckResult { CheckResult(.warn, message, remedy: remedy) }
    public static func fail(_ message: String, remedy: String) -> CheckResult { CheckResult(.fail, message, remedy: remedy) }
    public static func skip(_ message: String) -> CheckResult { CheckResult(.skip, message) }

    /// Combines findings of one check: the worst status wins and messages join in order.
    static func combine(_ results: [CheckResult]) -> CheckResult {
        guard let worst = results.map(\.status).max() else { return .skip("nothing to check") }
        let relevant = results.filter { $0.status == worst }
        let remedies = relevant.compactMap(\.remedy)
        return CheckResult(
            worst,
            relevant.map(\.message).joined(separator: "; "),
            remedy: remedies.isEmpty ? nil : remedies.joined(separator: "\n")
        )
    }
}

/// One check's result with the check's identity, as reports and the daemon consume it.
public struct CheckOutcome: Sendable, Equatable {
    public var id: String
    public var area: CheckArea
    public var title: String
    public var result: CheckResult
    /// Wall-clock time the check took, in seconds.
    public var duration: Double
    /// True when the check did not finish in time; its work may still be running.
    public var timedOut: Bool

    public init(id: String, area: CheckArea, title: String, result: CheckResult, duration: Double, timedOut: Bool = false) {
        self.id = id
        self.area = area
        self.title = title
        self.result = result
        self.duration = duration
        self.timedOut = timedOut
    }
}
