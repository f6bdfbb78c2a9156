import FoundationEssentials

/// The state of the k3s unit's main process, as systemd reports it.
public struct ServiceStatus: Sendable, Equatable {
    /// `ExecMainStartTimestamp`: when the current main process started.
    public var mainStart: Date?
    public var mainPID: Int32?
    public var invocationID: String?
    /// The unit's `ActiveState` (for example `active`, `activating` or `failed`), nil when unknown.
    public var activeState: String?

    public init(mainStart: Date?, mainPID: Int32?, invocationID: String?, activeState: String? = nil) {
        self.mainStart = mainStart
        self.mainPID = mainPID
        self.invocationID = invocationID
        self.activeState = activeState
    }
}

/// Reads unit properties from systemd (over D-Bus in the agent; fixed values in tests).
public protocol ServiceStatusSource: Sendable {
    /// Returns the unit's status, or nil when systemd is not reachable from here.
    func status(unit: String) async -> ServiceStatus?
}

/// No systemd reachable.
public struct NoServiceStatus: ServiceStatusSource {
    public init() {}
    public func status(unit: String) async -> ServiceStatus? { nil }
}

/// A fixed status, for tests and for callers that already read the unit.
public struct FixedServiceStatus: ServiceStatusSource {
    public var value: ServiceStatus?

    public init(_ value: ServiceStatus?) {
        self.value = value
    }

    public func status(unit: String) async -> ServiceStatus? { value }
}
