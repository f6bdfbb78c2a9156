import FoundationEssentials

/// The outcome of one doctor run: which node, whether it is ready (no check failed), and
/// every check's outcome in list order.
public struct DoctorReport: Sendable, Equatable {
    public var node: String?
    public var outcomes: [CheckOutcome]

    public init(node: String?, outcomes: [CheckOutcome]) {
        self.node = node
        self.outcomes = outcomes
    }

    /// True when no check failed; warnings and skips leave the node ready.
    public var ready: Bool { !outcomes.contains { $0.result.status == .fail } }

    /// Runs every check of `checks` against `context` and collects the report.
    public static func run(_ checks: [Check] = Check.all, context: CheckContext) async -> DoctorReport {
        DoctorReport(node: context.nodeName, outcomes: await CheckRunner.run(checks, context: context))
    }
}

// MARK: - JSON

extension DoctorReport {
    /// Renders the report as JSON, one object with a stable schema (keys sorted, two-space indent):
    ///
    ///     {
    ///       "checks" : [
    ///         {
    ///           "area" : "host",                      // CheckArea raw value
    ///           "id" : "host.plugin-executable",      // stable check id
    ///           "message" : "...",                    // what was seen, and from which source
    ///           "remedy" : null,                      // string for warn and fail, else null
    ///           "status" : "pass",                    // pass | warn | fail | skip
    ///           "title" : "Provider executables run on this host"
    ///         }
    ///       ],
    ///       "node" : "node-a",                        // null when unknown
    ///       "ready" : true                            // false when any status is fail
    ///     }
    ///
    /// New keys may be added; existing keys keep their names and meaning.
    public func json() -> String {
        struct Entry: Encodable {
            var id, area, title, status, message: String
            var remedy: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(area, forKey: .area)
                try container.encode(title, forKey: .title)
                try container.encode(status, forKey: .status)
                try container.encode(message, forKey: .message)
                try container.encode(remedy, forKey: .remedy)
            }

            enum CodingKeys: String, CodingKey { case id, area, title, status, message, remedy }
        }
        struct Document: Encodable {
            var node: String?
            var ready: Bool
            var checks: [Entry]

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(node, forKey: .node)
                try container.encode(ready, forKey: .ready)
                try container.encode(checks, forKey: .checks)
            }

            enum CodingKeys: String, CodingKey { case node, ready, checks }
        }
        let document = Document(
            node: node, ready: ready,
            checks: outcomes.map {
                Entry(id: $0.id, area: $0.area.rawValue, title: $0.title, status: $0.result.status.rawValue, message: $0.result.message, remedy: $0.result.remedy)
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, booleans and nulls cannot fail.
        let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

// MARK: - Table

extension DoctorReport {
    /// Renders the report for people: one section per area, one line per check with its status and
    /// message, the remedy indented under each warning and failure, and a summary line.
    /// `color` adds ANSI colours to the status words.
    public func table(color: Bool) -> String {
        var text = "harbor-keyless doctor, node \(node ?? "(unknown)")\n"
        for area in CheckArea.allCases {
            let inArea = outcomes.filter { $0.area == area }
            guard !inArea.isEmpty else { continue }
            text += "\n\(area.title)\n"
            for outcome in inArea {
                let status = outcome.result.status
                text += "  \(label(status, color: color))  \(outcome.id): \(outcome.result.message)\n"
                if let remedy = outcome.result.remedy, status == .fail || status == .warn {
                    let lines = remedy.split(separator: "\n", omittingEmptySubsequences: false)
                    text += "        fix: \(lines[0])\n"
                    for line in lines.dropFirst() {
                        text += "             \(line)\n"
                    }
                }
            }
        }
        let counts = [CheckStatus.pass, .warn, .fail, .skip].map { status in
            "\(outcomes.filter { $0.result.status == status }.count) \(status.rawValue)"
        }
        text += "\n\(ready ? "ready" : "NOT READY"): \(counts.joined(separator: ", "))\n"
        return text
    }

    private func label(_ status: CheckStatus, color: Bool) -> String {
        let word = status.rawValue.uppercased() + String(repeating: " ", count: 4 - status.rawValue.count)
        guard color else { return word }
        let code: String
        switch status {
        case .pass: code = "32"
        case .warn: code = "33"
        case .fail: code = "31;1"
        case .skip: code = "2"
        }
        return "\u{1B}[\(code)m\(word)\u{1B}[0m"
    }
}
