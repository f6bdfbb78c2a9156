internal import HostFiles

/// The lock `harbor-keyless run` holds for its whole life in the state directory, so that
/// one daemon at a time manages a node. `uninstall` takes it too, and `install` reports its
/// holder.
enum DaemonLock {
    enum Attempt {
        case taken(HostLock)
        /// Another process holds the lock; the text names its pid.
        case held(by: String)
        case failed(HostFileError)
    }

    static func path(_ configuration: AgentConfiguration) -> String {
        configuration.stateDirectory + "/daemon.lock"
    }

    /// Tries to take the lock without waiting.
    static func take(_ root: HostRoot, _ configuration: AgentConfiguration) -> Attempt {
        do {
            return .taken(try root.lock(path(configuration), timeout: .zero))
        } catch where error.kind == .lockTimeout {
            return .held(by: error.detail ?? "\(error)")
        } catch {
            return .failed(error)
        }
    }
}

extension AgentConfiguration {
    /// Opens the backups of the host files the agent replaced, under the state directory.
    func backupStore(_ root: HostRoot) throws(HostFileError) -> BackupStore {
        try BackupStore(root: root, directory: stateDirectory + "/backups")
    }

    /// Returns, for each path with a backup, the sequence number of its newest entry.
    func newestBackupSequences(_ paths: [String], root: HostRoot) -> [String: Int] {
        (try? backupStore(root))?.newestSequences(paths) ?? [:]
    }
}
