/// A snapshot of a unit's state, read from systemd's Unit and Service properties.
public struct UnitState: Sendable, Equatable, CustomStringConvertible {
    /// `loaded`, `not-found`, `bad-setting`, `error` or `masked`.
    public var loadState: String
    /// `active`, `reloading`, `inactive`, `failed`, `activating` or `deactivating`.
    public var activeState: String
    /// The unit type's own state, for a service for example `running` or `auto-restart`.
    public var subState: String
    /// The 128-bit id of the unit's current run as 32 lowercase hex digits. Its journal entries
    /// carry the same value in `_SYSTEMD_INVOCATION_ID=`. Empty before the first start.
    public var invocationID: String
    /// The service's main process, 0 when none runs or the unit is not a service.
    public var mainPID: UInt32
    /// When the main process started, in microseconds since the Unix epoch; 0 when never.
    public var execMainStartTimestamp: UInt64
    /// How often systemd restarted the service automatically (`Restart=`) since it was last
    /// started by request; 0 for units that are not services.
    public var nRestarts: UInt32
    /// The unit file systemd loaded, empty when none.
    public var fragmentPath: String
    /// The service's last result: `success`, or why it failed, for example `exit-code` or
    /// `start-limit-hit` (started more often than `StartLimitBurst=` allows within
    /// `StartLimitIntervalSec=`). Empty for units that are not services.
    public var result: String

    public init(
        loadState: String,
        activeState: String,
        subState: String,
        invocationID: String,
        mainPID: UInt32,
        execMainStartTimestamp: UInt64,
        nRestarts: UInt32,
        fragmentPath: String,
        result: String = ""
    ) {
        self.loadState = loadState
        self.activeState = activeState
        self.subState = subState
        self.invocationID = invocationID
        self.mainPID = mainPID
        self.execMainStartTimestamp = execMainStartTimestamp
        self.nRestarts = nRestarts
        self.fragmentPath = fragmentPath
        self.result = result
    }

    public var description: String {
        "load=\(loadState) active=\(activeState) sub=\(subState) invocation=\(invocationID) "
            + "main_pid=\(mainPID) started_usec=\(execMainStartTimestamp) restarts=\(nRestarts) result=\(result)"
    }
}

/// The outcome of a systemd job, from the `result` argument of the Manager's `JobRemoved` signal
/// (org.freedesktop.systemd1(5)).
public enum JobResult: Sendable, Equatable, CustomStringConvertible {
    /// The job succeeded; for a `Type=notify` service, after it sent `READY=1`.
    case done
    /// The job failed, for example the process exited before it became ready.
    case failed
    /// The unit's own job timeout (`TimeoutStartSec=`) passed.
    case timeout
    /// The job was cancelled, for example replaced by a conflicting job.
    case canceled
    /// A unit the job depends on failed.
    case dependency
    /// The job did not apply to the unit's current state.
    case skipped
    /// A result this version does not know (newer systemd adds some, such as `invalid`).
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "done": self = .done
        case "failed": self = .failed
        case "timeout": self = .timeout
        case "canceled": self = .canceled
        case "dependency": self = .dependency
        case "skipped": self = .skipped
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .done: "done"
        case .failed: "failed"
        case .timeout: "timeout"
        case .canceled: "canceled"
        case .dependency: "dependency"
        case .skipped: "skipped"
        case .other(let value): value
        }
    }

    public var description: String { rawValue }
}
