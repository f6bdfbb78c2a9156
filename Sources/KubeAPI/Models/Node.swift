import FoundationEssentials

/// The parts of a core/v1 Node that harbor-keyless reads.
public struct Node: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta
    public var status: NodeStatus?

    public struct NodeStatus: Codable, Sendable, Equatable {
        public var conditions: [NodeCondition]?
        public var nodeInfo: NodeSystemInfo?
        public var addresses: [NodeAddress]?
    }

    public struct NodeSystemInfo: Codable, Sendable, Equatable {
        public var kubeletVersion: String?
        public var kubeProxyVersion: String?
        public var osImage: String?
        public var kernelVersion: String?
        public var containerRuntimeVersion: String?
        public var operatingSystem: String?
        public var architecture: String?
    }

    public struct NodeAddress: Codable, Sendable, Equatable {
        public var type: String
        public var address: String
    }

    /// Returns the condition of `type`, if the node reports one.
    public func condition(_ type: String) -> NodeCondition? {
        status?.conditions?.first { $0.type == type }
    }
}

/// A core/v1 NodeCondition. Times are RFC 3339 strings as the API sends them.
public struct NodeCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastHeartbeatTime: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String?, message: String?, lastHeartbeatTime: String?, lastTransitionTime: String?) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
    }
}

/// Formats times the way the API's metav1.Time (seconds) and metav1.MicroTime (microseconds)
/// serialize them.
public enum KubeTime {
    public static func rfc3339(_ date: Date) -> String {
        Date.ISO8601FormatStyle(timeZone: .gmt).format(date)
    }

    public static func micro(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
        let base = rfc3339(Date(timeIntervalSince1970: whole)).dropLast()
        let digits = String(micros)
        return base + "." + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "Z"
    }
}
