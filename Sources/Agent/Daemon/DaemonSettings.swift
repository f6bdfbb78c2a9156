/// Timing and limits of `harbor-keyless run`.
public struct DaemonSettings: Sendable {
    /// Time between reconcile cycles, before jitter.
    public var interval: Duration = .seconds(60)
    /// Each cycle waits `interval` lengthened or shortened by a random fraction in this
    /// range, so a fleet started together does not act in step.
    public var jitter: ClosedRange<Double> = 0.1...0.2
    /// Time between runs of the checks that call the API server, unless something changed.
    public var apiCheckInterval: Duration = .seconds(1800)
    /// The node condition is written again after this long even when unchanged.
    public var conditionHeartbeat: Duration = .seconds(1800)
    /// `ADDRESS:PORT` of the health, status and metrics endpoint.
    public var listen: String = "127.0.0.1:9765"
    public var httpLimits = HTTPLimits()
    /// Restart Leases in the cluster, so at most this many nodes restart k3s at once.
    public var maxConcurrentRestarts: Int = 1
    public var leaseDuration: Duration = .seconds(600)
    /// How long a restart waits for a free Lease before it stays pending until a later cycle.
    public var leaseWait: Duration = .seconds(600)
    /// Maximum wait for the current step after SIGTERM or SIGINT, before the daemon abandons it.
    public var stopGrace: Duration = .milliseconds(1500)
    /// Shortest delay before a failed cycle is tried again; it doubles per failure, up to
    /// `interval`.
    public var retryDelay: Duration = .seconds(5)

    /// Shortest values `run` accepts. Go durations reach nanoseconds, and a timer below these
    /// turns the loop into a busy loop or sends the API server a request every cycle.
    public static let minimumInterval: Duration = .seconds(1)
    public static let minimumAPICheckInterval: Duration = .seconds(60)
    public static let minimumConditionHeartbeat: Duration = .seconds(60)
    public static let minimumLeaseWait: Duration = .seconds(1)

    public init() {}

    /// Returns `base` lengthened or shortened by a random fraction within `jitter`.
    func jittered(_ base: Duration) -> Duration {
        let fraction = Double.random(in: jitter) * (Bool.random() ? 1 : -1)
        return .milliseconds(Int64(base.seconds * (1 + fraction) * 1000))
    }
}
