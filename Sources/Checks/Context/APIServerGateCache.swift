import Synchronization

/// The API server's feature gates as its /metrics last reported them, kept across the
/// daemon's check runs. /metrics can reach megabytes on a large cluster and every node
/// requests it, while the gates change only when the API servers restart with other flags,
/// which usually comes with a new version. An entry is used while the API server reports the same version
/// and for at most `maxAge`.
public final class APIServerGateCache: Sendable {
    public let maxAge: Duration

    private struct Entry: Sendable {
        var gates: [String: Bool]
        var version: String
        var storedAt: ContinuousClock.Instant
    }

    private let entry = Mutex<Entry?>(nil)

    public init(maxAge: Duration = .seconds(6 * 3600)) {
        self.maxAge = maxAge
    }

    /// Returns the stored gates when they were read from an API server of `version` less than
    /// `maxAge` ago.
    func gates(version: String) -> [String: Bool]? {
        entry.withLock { entry in
            guard let entry, entry.version == version, ContinuousClock.now - entry.storedAt < maxAge else { return nil }
            return entry.gates
        }
    }

    func store(_ gates: [String: Bool], version: String) {
        entry.withLock { $0 = Entry(gates: gates, version: version, storedAt: .now) }
    }
}
