import FoundationEssentials
internal import HostFiles

/// Agent state kept on the host between runs. It lives on the host, not in a pod, so
/// an agent that is killed or rescheduled finds it again.
public struct AgentState: Codable, Sendable, Equatable {
    /// A restart that is due because files the kubelet reads at start-up changed, but that
    /// was not done (policy `never`, no systemd reachable, or interrupted).
    public struct PendingRestart: Codable, Sendable, Equatable {
        public var reason: String
        /// Seconds since 1970, UTC.
        public var since: Double
        /// Files written since the kubelet last loaded its files; a rollback restores them.
        public var changedPaths: [String]?
        /// For each of those paths, the sequence number of the backup entry holding its
        /// version from before the first of these writes: what a rollback restores, however
        /// many installs changed the file since.
        public var baselineSequences: [String: Int]?

        public init(reason: String, since: Double, changedPaths: [String]? = nil, baselineSequences: [String: Int]? = nil) {
            self.reason = reason
            self.since = since
            self.changedPaths = changedPaths
            self.baselineSequences = baselineSequences
        }
    }

    /// Provider names our last install wrote, so a later install can remove entries the
    /// configuration dropped or renamed.
    public var installedProviders: [String] = []
    public var pendingRestart: PendingRestart?
    /// SHA-256 digests of configurations (provider config and drop-in) that k3s rejected at
    /// start-up; never applied again automatically.
    public var rejectedConfigs: [String] = []

    /// The reason and time of the newest rejection.
    public struct Rejection: Codable, Sendable, Equatable {
        public var digest: String
        public var reason: String
        /// Seconds since 1970, UTC.
        public var at: Double
    }

    public var lastRejection: Rejection?

    /// SHA-256 of the provider config and the drop-in by host path, as they were when a
    /// restart of k3s was verified or k3s was seen started after they changed: what the
    /// kubelet runs with. A file touched since with the same content needs no restart.
    public var loadedDigests: [String: String]?

    /// A restart that was started and not yet verified or rolled back. Written before
    /// systemd is asked to restart, so an agent killed meanwhile resumes from it.
    public struct RestartInFlight: Codable, Sendable, Equatable {
        public enum Phase: String, Codable, Sendable {
            case restarting
            case rollingBack = "rolling-back"
            /// The restart after a rollback failed too; nothing restarts k3s again
            /// automatically.
            case failed
        }

        public var unit: String
        public var phase: Phase
        public var configDigest: String
        /// Every path the install changed, in the order it applied them.
        public var changedPaths: [String]
        /// Seconds since 1970, UTC.
        public var startedAt: Double
        /// For each changed path, the sequence number of the oldest backup entry the rollback
        /// restores (the version the kubelet last loaded), recorded before the first restore.
        /// A restore drops its entry, so the rollback restores a path until no entry at or
        /// above that number is left, and a run that resumes it continues from there instead
        /// of restoring an older version. Nil before a rollback starts.
        public var rollbackSequences: [String: Int]? = nil
    }

    public var restartInFlight: RestartInFlight?

    public init() {}

    static let fileName = "state.json"

    /// Loads the state; a missing file is an empty state. A corrupt file is reported, never
    /// silently reset, because it may record a rejected config.
    static func load(root: HostRoot, directory: String) throws(InstallError) -> AgentState {
        let path = directory + "/" + fileName
        let bytes: [UInt8]?
        do {
            bytes = try root.read(path)
        } catch {
            throw InstallError("cannot read the agent state \(path): \(error)", fix: "check the file and its permissions")
        }
        guard let bytes else { return AgentState() }
        do {
            return try JSONDecoder().decode(AgentState.self, from: Data(bytes))
        } catch {
            throw InstallError(
                "the agent state \(path) is corrupt: \(error)",
                fix: "inspect it; delete it only if no rejected configuration needs to be remembered"
            )
        }
    }

    func save(root: HostRoot, directory: String) throws(InstallError) {
        let path = directory + "/" + Self.fileName
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let data = try encoder.encode(self)
            try root.createDirectories(directory, mode: 0o700)
            _ = try root.write(path, contents: Array(data) + [0x0A], mode: 0o600, backups: nil)
        } catch {
            throw InstallError("cannot write the agent state \(path): \(error)", fix: "check free space and permissions of \(directory)")
        }
    }
}
