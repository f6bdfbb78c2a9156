/// A cluster-wide gate in front of a restart of k3s, so that a fleet of agents never restarts
/// many nodes at once. The coordinator requests a permit only when a restart will happen.
public protocol RestartPermit: Sendable {
    /// Waits for permission to restart `unit` on this node. Throwing leaves the restart
    /// pending, and the agent tries again later.
    func acquire(unit: String) async throws -> any RestartPermission
}

/// A granted permit, held until the restart was verified or rolled back.
public protocol RestartPermission: Sendable {
    func release() async
}
