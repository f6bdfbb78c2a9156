import FoundationEssentials
import Synchronization

/// The daemon's latest observations, shared between its loop and the HTTP endpoint's thread.
public final class DaemonStatus: Sendable {
    /// One consistent copy of the daemon's observations.
    public struct Snapshot: Sendable, Codable {
        public var version: String = AgentVersion.current
        public var node: String?
        public var checks: [ReadinessCheck] = []
        public var readiness: NodeReadiness = NodeReadiness.evaluate(checks: [], rejection: nil)
        public var cycles: Int = 0
        /// Seconds since the epoch at the end of the last cycle.
        public var lastCycleEnd: Double?
        public var lastCycleDurationSeconds: Double = 0
        public var lastAPICheck: Double?
        public var reconcileTotal: [String: Int] = [:]
        public var restartTotal: [String: Int] = [:]
        public var restart: RestartState = RestartState()
        public var configuration: [String: String] = [:]
        /// The lock another daemon holds on this node while this one waits for it; nil
        /// while this daemon manages the node.
        public var waitingForNode: String?
    }

    /// The restart state recorded on the host.
    public struct RestartState: Sendable, Codable, Equatable {
        public var pending: String?
        public var inFlightPhase: String?
        public var inFlightUnit: String?
        public var lastRejection: String?
        public var coordination: String = "none"
    }

    private let snapshot = Mutex(Snapshot())
    private let heartbeat = Mutex(ContinuousClock.now)

    public init() {}

    public var current: Snapshot { snapshot.withLock { $0 } }

    public func update(_ change: (inout Snapshot) -> Void) {
        snapshot.withLock { change(&$0) }
    }

    /// Records that the loop is alive.
    public func beat() {
        heartbeat.withLock { $0 = .now }
    }

    public var sinceLastBeat: Duration { ContinuousClock.now - heartbeat.withLock { $0 } }
}

extension DaemonStatus.Snapshot {
    /// Prometheus text exposition format, version 0.0.4.
    public func metrics() -> String {
        var lines: [String] = []
        lines.append("# HELP harbor_keyless_build_info The agent's version.")
        lines.append("# TYPE harbor_keyless_build_info gauge")
        lines.append("harbor_keyless_build_info{version=\"\(Self.escaped(version))\"} 1")

        lines.append("# HELP harbor_keyless_node_ready Whether the node condition HarborCredentialProviderReady is True.")
        lines.append("# TYPE harbor_keyless_node_ready gauge")
        lines.append("harbor_keyless_node_ready \(readiness.isReady ? 1 : 0)")

        lines.append("# HELP harbor_keyless_check_status The latest status of each check, one series per status.")
        lines.append("# TYPE harbor_keyless_check_status gauge")
        for check in checks {
            for status in ReadinessCheck.Status.allCases {
                lines.append("harbor_keyless_check_status{check=\"\(Self.escaped(check.id))\",status=\"\(status.rawValue)\"} \(check.status == status ? 1 : 0)")
            }
        }

        lines.append("# HELP harbor_keyless_reconcile_total Reconcile cycles by result.")
        lines.append("# TYPE harbor_keyless_reconcile_total counter")
        for (result, count) in reconcileTotal.sorted(by: { $0.key < $1.key }) {
            lines.append("harbor_keyless_reconcile_total{result=\"\(Self.escaped(result))\"} \(count)")
        }

        lines.append("# HELP harbor_keyless_restart_total Restarts of k3s by result.")
        lines.append("# TYPE harbor_keyless_restart_total counter")
        for (result, count) in restartTotal.sorted(by: { $0.key < $1.key }) {
            lines.append("harbor_keyless_restart_total{result=\"\(Self.escaped(result))\"} \(count)")
        }

        lines.append("# HELP harbor_keyless_cycle_duration_seconds Duration of the last reconcile cycle.")
        lines.append("# TYPE harbor_keyless_cycle_duration_seconds gauge")
        lines.append("harbor_keyless_cycle_duration_seconds \(lastCycleDurationSeconds)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Escapes a label value: backslash, double quote and newline.
    static func escaped(_ value: String) -> String {
        var text = ""
        for character in value {
            switch character {
            case "\\": text += "\\\\"
            case "\"": text += "\\\""
            case "\n": text += "\\n"
            default: text.append(character)
            }
        }
        return text
    }

    /// Encodes the JSON status page.
    public func statusJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)).map(Array.init) ?? Array("{}".utf8)) + [0x0A]
    }
}
