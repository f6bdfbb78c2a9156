/// The value of the node condition `HarborCredentialProviderReady`: status `True`, `False`
/// or `Unknown`, a CamelCase reason and a one-line message.
public struct NodeReadiness: Sendable, Equatable, Codable {
    public static let conditionType = "HarborCredentialProviderReady"

    public var status: String
    public var reason: String
    public var message: String

    public init(status: String, reason: String, message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var isReady: Bool { status == "True" }

    /// Derives readiness from the check results, in order. A configuration k3s rejected
    /// (and that was rolled back) wins; then the first failing check names the reason.
    /// Warnings and skipped checks keep the node ready.
    public static func evaluate(checks: [ReadinessCheck], rejection: String?) -> NodeReadiness {
        if let rejection {
            return NodeReadiness(status: "False", reason: "RolledBack", message: oneLine("k3s rejected the configuration and it was rolled back: \(rejection)"))
        }
        guard !checks.isEmpty else {
            return NodeReadiness(status: "Unknown", reason: "NotChecked", message: "no check has run yet")
        }
        if let failed = checks.first(where: { $0.status == .fail }) {
            return NodeReadiness(status: "False", reason: camelCase(failed.id), message: oneLine("\(failed.id): \(failed.message)"))
        }
        let warnings = checks.filter { $0.status == .warn }.map(\.id)
        let passed = checks.filter { $0.status == .pass }.count
        let message = warnings.isEmpty
            ? "\(passed) checks passed"
            : "\(passed) checks passed, warnings from \(warnings.joined(separator: ", "))"
        return NodeReadiness(status: "True", reason: "ChecksPassed", message: message)
    }

    /// Turns a check id such as `provider-config` into `ProviderConfig`, the CamelCase form
    /// Kubernetes expects for a condition reason.
    static func camelCase(_ id: String) -> String {
        let words = id.split { !$0.isLetter && !$0.isNumber }
        let joined = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        guard let first = joined.first, first.isLetter else { return "Check" + joined }
        return joined
    }

    /// Keeps a message on one line and within a size a `kubectl describe` shows whole.
    static func oneLine(_ text: String, limit: Int = 512) -> String {
        let flat = text.split(whereSeparator: \.isNewline).map { trimmed($0) }.filter { !$0.isEmpty }.joined(separator: " ")
        return flat.count <= limit ? flat : String(flat.prefix(limit - 3)) + "..."
    }
}

private func trimmed(_ text: Substring) -> Substring {
    var slice = text
    while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
    return slice
}
