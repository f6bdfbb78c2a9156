/// The result of one check with its stable id, as the daemon reports and exports it.
public struct ReadinessCheck: Sendable, Equatable, Codable {
    /// The status values of the `Checks` module; only `fail` makes the node not ready.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case pass, warn, fail, skip
    }

    public var id: String
    public var status: Status
    public var message: String

    public init(id: String, status: Status, message: String) {
        self.id = id
        self.status = status
        self.message = message
    }
}

/// Scope of the checks a cycle runs: the local ones every interval, and the ones that call
/// the API server less often, because each is a request per node.
public enum CheckScope: String, Sendable {
    case local, api
}

/// Runs the node's checks for the daemon. `configuration` is the one in effect for the cycle.
public protocol ReadinessSource: Sendable {
    func run(_ scope: CheckScope, configuration: AgentConfiguration) async -> [ReadinessCheck]
}

/// A source with no checks, for a daemon that reports only its own reconcile result.
public struct NoChecks: ReadinessSource {
    public init() {}
    public func run(_ scope: CheckScope, configuration: AgentConfiguration) async -> [ReadinessCheck] { [] }
}
