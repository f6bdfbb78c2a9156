/// Deadlines and windows of a verified restart.
public struct RestartSettings: Sendable, Equatable {
    /// How long to wait for systemd's restart job. k3s units set `TimeoutStartSec=0`, so
    /// without our own deadline a job can wait forever.
    public var jobTimeout: Duration = .seconds(300)

    /// How long the unit must stay active with the same InvocationID, MainPID and NRestarts
    /// after the job ended. A k3s server reports ready to systemd before its kubelet validates
    /// the provider config, so "job done" alone proves nothing.
    public var settleWindow: Duration = .seconds(60)

    /// The shortest settle window the command line accepts. The k3s stand-in checks its config
    /// a second after READY=1; a real k3s server's kubelet takes seconds more.
    public static let minimumSettleWindow: Duration = .seconds(5)

    /// How often the unit's state is read inside the settle window.
    public var pollInterval: Duration = .seconds(1)

    /// D-Bus address of the system bus; nil means `DBUS_SYSTEM_BUS_ADDRESS`, else the host's
    /// socket `/run/dbus/system_bus_socket` (a pod mounts the host's socket directory and
    /// sets the variable).
    public var busAddress: String?

    public init(
        jobTimeout: Duration = .seconds(300),
        settleWindow: Duration = .seconds(60),
        pollInterval: Duration = .seconds(1),
        busAddress: String? = nil
    ) {
        self.jobTimeout = jobTimeout
        self.settleWindow = settleWindow
        self.pollInterval = pollInterval
        self.busAddress = busAddress
    }
}

/// A restart that could not be done or verified.
public struct RestartError: Error, CustomStringConvertible {
    public var message: String
    public var fix: String
    /// Journal lines of the failed invocation that explain the failure.
    public var journalLines: [String]

    public init(_ message: String, fix: String, journalLines: [String] = []) {
        self.message = message
        self.fix = fix
        self.journalLines = journalLines
    }

    public var description: String {
        var text = "\(message)\n  fix: \(fix)"
        if !journalLines.isEmpty {
            text += "\n  journal:\n" + journalLines.map { "    \($0)" }.joined(separator: "\n")
        }
        return text
    }
}
