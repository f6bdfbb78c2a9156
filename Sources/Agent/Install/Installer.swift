internal import Subprocess
import FoundationEssentials
internal import HostFiles

/// The result of an install or uninstall: each file's action and the restart of k3s.
public struct InstallReport: Sendable {
    public var plan: InstallPlan
    public var restart: RestartOutcome
    /// Set when a restart of k3s is due and was not done.
    public var pendingRestart: AgentState.PendingRestart?
    /// A restart that an earlier, interrupted run left and this run settled.
    public var resumed: String?
    /// Executables kept because the running kubelet may still run them (uninstall only).
    public var keptExecutables: [String] = []
}

/// Writes, renders and removes the credential provider files on one node, and restarts k3s
/// when the files it reads at start-up changed.
public struct Installer: Sendable {
    public let configuration: AgentConfiguration
    public var restartSettings: RestartSettings
    /// Asked for permission right before each restart of k3s; nil restarts without asking.
    public var restartPermit: (any RestartPermit)?

    /// Path of the plugin installed by the .deb.
    public static let packagedPluginPath = "/usr/lib/harbor-keyless/credential-provider-harbor"

    public init(configuration: AgentConfiguration, restartSettings: RestartSettings = RestartSettings(), restartPermit: (any RestartPermit)? = nil) {
        self.configuration = configuration
        self.restartSettings = restartSettings
        self.restartPermit = restartPermit
    }

    // MARK: - Commands

    /// Plans the install without changing anything (`render`).
    public func plan() throws(InstallError) -> InstallPlan {
        let (root, state) = try openRoot()
        return try planner(root: root, state: state).installPlan(plugin: try loadPlugin())
    }

    /// Plans and applies the install under the agent's lock, then restarts k3s as the restart
    /// policy requires. `force` applies a configuration that k3s rejected before.
    public func install(force: Bool = false) async throws -> InstallReport {
        let plugin = try loadPlugin()
        let (root, _) = try openRoot()
        let lock = try acquireLock(root)
        defer { lock.unlock() }

        var state = try AgentState.load(root: root, directory: configuration.stateDirectory)
        let save: (AgentState) throws -> Void = { try $0.save(root: root, directory: configuration.stateDirectory) }
        var coordinator = RestartCoordinator(configuration: configuration, root: root, settings: restartSettings, permit: restartPermit)
        let plan = try planner(root: root, state: state, force: force).installPlan(plugin: plugin)

        // 1. Settle what an interrupted run left, then refuse what k3s rejected before.
        let resumed = try await coordinator.resume(state: &state, paths: plan.paths, save: save)
        if resumed != nil, state.restartInFlight == nil {
            recordLoadedFiles(plan.paths, root: root, state: &state)
            try save(state)
            // The restart just verified is the one that policy `always` requires.
            if configuration.restartPolicy == .always {
                var settled = configuration
                settled.restartPolicy = .ifChanged
                coordinator = RestartCoordinator(configuration: settled, root: root, settings: restartSettings, permit: restartPermit)
            }
        }
        if state.restartInFlight?.phase == .failed && !force {
            throw InstallError(
                "an earlier restart of \(state.restartInFlight!.unit) failed even after rolling back; harbor-keyless does not restart k3s again on its own",
                fix: "repair k3s by hand (journalctl -u \(state.restartInFlight!.unit)), then run `harbor-keyless install --force`"
            )
        }
        let digest = plan.configurationDigest
        if state.rejectedConfigs.contains(digest) && !force {
            let reason = state.lastRejection?.digest == digest ? " (\(state.lastRejection!.reason))" : ""
            throw InstallError(
                "k3s rejected this configuration before\(reason); nothing was changed",
                fix: "correct the configuration, or pass --force to apply it once more"
            )
        }
        if force { state.restartInFlight = nil }
        try coordinator.preflight()

        // 2. Record our provider names before writing, so an interrupted run leaves no entry
        // that a later run would take for a foreign one. Then write the files, except the
        // executables of providers we no longer configure, because the running kubelet may
        // still run them until k3s restarts.
        let previousProviders = state.installedProviders
        state.installedProviders = Array(Set(previousProviders).union(plan.providerNames)).sorted()
        try save(state)
        var writes = plan
        writes.files = plan.files.filter { !($0.kind == .executable && $0.action == .remove) }
        let staleExecutables = plan.files.filter { $0.kind == .executable && $0.action == .remove }
        try apply(writes, root: root)
        if plan.needsRestart {
            let changed = writes.files.filter { $0.action != .unchanged }.map(\.path)
            let earlier = state.pendingRestart?.changedPaths ?? []
            // A rollback goes back to the backup entry that the first write of each path since
            // the kubelet last loaded its files made, so later writes keep that entry.
            var baselines = state.pendingRestart?.baselineSequences ?? [:]
            for (path, sequence) in configuration.newestBackupSequences(changed, root: root) where baselines[path] == nil && !earlier.contains(path) {
                baselines[path] = sequence
            }
            state.pendingRestart = AgentState.PendingRestart(
                reason: "changed \(restartTriggers(plan))",
                since: state.pendingRestart?.since ?? Date().timeIntervalSince1970,
                changedPaths: earlier + changed.filter { !earlier.contains($0) },
                baselineSequences: baselines
            )
        }
        try save(state)

        // 3. Restart k3s, verify, roll back on failure.
        let outcome: RestartOutcome
        do {
            // The plan without the stale executables: they are still in place, so a rollback
            // must not "restore" them to an older backup (which may be their absence).
            outcome = try await coordinator.restartIfNeeded(plan: writes, configDigest: digest, state: &state, save: save)
        } catch let failure as RestartFailure {
            if failure.rolledBack {
                state.installedProviders = previousProviders
                try? save(state)
            }
            throw failure
        }
        // A configuration other than the rejected one is now in place.
        if state.lastRejection?.digest != digest {
            state.lastRejection = nil
        }
        if case .restarted = outcome {
            recordLoadedFiles(plan.paths, root: root, state: &state)
        } else if case .startedSince = outcome {
            recordLoadedFiles(plan.paths, root: root, state: &state)
        }
        try record(outcome, state: &state, save: save)

        // 4. Remove executables no configured provider names, once the kubelet let go of them.
        var report = InstallReport(plan: plan, restart: outcome, pendingRestart: state.pendingRestart, resumed: resumed)
        switch outcome {
        case .pending:
            report.keptExecutables = staleExecutables.map(\.path)
            report.plan.files = writes.files
        case .notNeeded, .restarted, .unitStopped, .startedSince:
            var removals = plan
            removals.files = staleExecutables
            try apply(removals, root: root)
            state.installedProviders = plan.providerNames
            try save(state)
        }
        return report
    }

    /// Removes our drop-in and provider entries, restarts k3s so the kubelet lets go of the
    /// provider, then removes our executables. When k3s cannot be restarted now, the
    /// executables stay: the running kubelet would otherwise run a missing executable on the
    /// next pull. `force` removes them anyway.
    public func uninstall(force: Bool = false) async throws -> InstallReport {
        let (root, _) = try openRoot()
        let lock = try acquireLock(root)
        defer { lock.unlock() }
        // A running daemon would write the files again at its next cycle. Holding its lock
        // also keeps one from starting until the uninstall is done.
        let daemonLock = try holdDaemonLock(root, force: force)
        defer { daemonLock?.unlock() }

        var state = try AgentState.load(root: root, directory: configuration.stateDirectory)
        let save: (AgentState) throws -> Void = { try $0.save(root: root, directory: configuration.stateDirectory) }
        let plan = try planner(root: root, state: state).uninstallPlan()
        let configurationFiles = plan.files.filter { $0.kind != .executable }
        let executables = plan.files.filter { $0.kind == .executable }

        var configurationPlan = plan
        configurationPlan.files = configurationFiles
        try apply(configurationPlan, root: root)
        if configurationPlan.needsRestart, state.pendingRestart == nil {
            state.pendingRestart = AgentState.PendingRestart(reason: "removed \(restartTriggers(configurationPlan))", since: Date().timeIntervalSince1970)
        }
        try save(state)

        let coordinator = RestartCoordinator(configuration: configuration, root: root, settings: restartSettings)
        let outcome = try await coordinator.restartAfterUninstall(plan: configurationPlan, state: &state, save: save)
        try record(outcome, state: &state, save: save)

        var kept: [String] = []
        if case .pending = outcome, !force {
            kept = executables.map(\.path)
        } else {
            var executablePlan = plan
            executablePlan.files = executables
            try apply(executablePlan, root: root)
            state.installedProviders = []
            try save(state)
        }
        var report = InstallReport(plan: plan, restart: outcome, pendingRestart: state.pendingRestart)
        report.keptExecutables = kept
        if !kept.isEmpty {
            report.plan.files = configurationFiles
        }
        return report
    }

    private func record(_ outcome: RestartOutcome, state: inout AgentState, save: (AgentState) throws -> Void) throws {
        switch outcome {
        case .pending(let reason):
            let since = state.pendingRestart?.since ?? Date().timeIntervalSince1970
            state.pendingRestart = AgentState.PendingRestart(
                reason: reason, since: since, changedPaths: state.pendingRestart?.changedPaths,
                baselineSequences: state.pendingRestart?.baselineSequences
            )
        case .restarted, .unitStopped, .startedSince:
            state.pendingRestart = nil
        case .notNeeded:
            break
        }
        try save(state)
    }

    /// Refuses an install whose executable copies would not fit, before the first write: one
    /// copy per audience can fill a small file system and leave copies no config names.
    /// Keeps 16 MiB free for the configs, backups and the state written after them.
    private func checkFreeSpace(_ plan: InstallPlan, root: HostRoot) throws(InstallError) {
        let copies = plan.files.filter { $0.action == .create || $0.action == .update }.compactMap(\.plugin)
        guard let first = copies.first else { return }
        let needed = copies.reduce(0) { $0 + $1.size } + (16 << 20)
        let directory = parentDirectory(plan.files.first { $0.plugin != nil }!.path)
        let available: Int
        do {
            available = try root.availableBytes(directory)
        } catch {
            return
        }
        guard available >= needed else {
            throw InstallError(
                "\(directory) has \(available >> 20) MiB free, and \(copies.count) copies of the plugin executable (\(first.size >> 20) MiB each) need \(needed >> 20) MiB with a 16 MiB reserve; nothing was written",
                fix: "free space on that file system, or configure fewer audiences: every audience gets its own copy"
            )
        }

        // Each replaced executable is first copied into the backups of the state directory.
        let replaced = plan.files.filter { $0.action == .update && $0.plugin != nil }
        let backupBytes = replaced.reduce(0) { total, file in total + ((try? root.info(file.path))??.size ?? 0) }
        guard backupBytes > 0, let stateAvailable = try? root.availableBytes(configuration.stateDirectory) else { return }
        guard stateAvailable >= backupBytes + (16 << 20) else {
            throw InstallError(
                "\(configuration.stateDirectory) has \(stateAvailable >> 20) MiB free, and the backups of \(replaced.count) replaced executables need \((backupBytes >> 20) + 16) MiB with a 16 MiB reserve; nothing was written",
                fix: "free space there; old backups are under \(configuration.stateDirectory)/backups, five per file"
            )
        }
    }

    /// Records the digests of the files the kubelet reads at start-up, which k3s now runs with.
    private func recordLoadedFiles(_ paths: NodePaths, root: HostRoot, state: inout AgentState) {
        var digests: [String: String] = [:]
        for path in [paths.providerConfig, paths.dropIn] {
            if let bytes = (try? root.read(path)) ?? nil {
                digests[path] = ContentDigest.sha256(bytes)
            }
        }
        state.loadedDigests = digests
    }

    private func restartTriggers(_ plan: InstallPlan) -> String {
        plan.files.filter(\.needsRestart).map(\.path).joined(separator: ", ")
    }

    // MARK: - Steps

    private func openRoot() throws(InstallError) -> (HostRoot, AgentState?) {
        do {
            return (try HostRoot(configuration.hostRoot), nil)
        } catch {
            throw InstallError("\(error)", fix: "pass --host-root with the directory that holds the node's file system")
        }
    }

    private func planner(root: HostRoot, state: AgentState?, force: Bool = false) throws(InstallError) -> InstallPlanner {
        var loaded = state
        if loaded == nil {
            loaded = try AgentState.load(root: root, directory: configuration.stateDirectory)
        }
        let layout: ProviderLayout
        do {
            layout = try ProviderLayout(configuration: configuration)
        } catch {
            throw InstallError(error.message, fix: error.fix)
        }
        var planner = InstallPlanner(
            configuration: configuration,
            root: root,
            layout: layout,
            previouslyInstalled: Set(loaded?.installedProviders ?? [])
        )
        planner.force = force
        return planner
    }

    /// Returns who holds the lock of `harbor-keyless run` on this node (a daemon that applies
    /// its own configuration at its next cycle), or nil when no daemon manages it.
    public func managingDaemon() -> String? {
        guard let (root, _) = try? openRoot() else { return nil }
        switch DaemonLock.take(root, configuration) {
        case .taken(let lock):
            lock.unlock()
            return nil
        case .held(let holder):
            return holder
        case .failed:
            return nil
        }
    }

    /// Takes the daemon's lock for the uninstall, or rejects the uninstall while a daemon
    /// holds it, unless `force` (then returns nil).
    private func holdDaemonLock(_ root: HostRoot, force: Bool) throws(InstallError) -> HostLock? {
        switch DaemonLock.take(root, configuration) {
        case .taken(let lock):
            return lock
        case .held(let holder):
            if force { return nil }
            throw InstallError(
                "a harbor-keyless daemon manages this node and would write the files again: \(holder)",
                fix: "stop it first (`systemctl stop harbor-keyless`, or delete the agent's DaemonSet), or pass --force"
            )
        case .failed:
            return nil
        }
    }

    private func acquireLock(_ root: HostRoot) throws(InstallError) -> HostLock {
        do throws(HostFileError) {
            try root.createDirectories(configuration.stateDirectory, mode: 0o700)
            return try root.lock(configuration.stateDirectory + "/lock")
        } catch where error.kind == .lockTimeout {
            throw InstallError("\(error)", fix: "wait for the other harbor-keyless process to finish, or stop it")
        } catch {
            // The error names its own fix (a symbolic link, a full disk, permissions).
            var cause = error
            let fix = cause.hint ?? "check the state directory \(configuration.stateDirectory) and its permissions"
            cause.hint = nil
            throw InstallError("cannot take the agent's lock: \(cause)", fix: fix)
        }
    }

    /// Applies the plan's files in order. Each write is atomic, and the order keeps the files
    /// consistent after every step, so a failure part-way (full disk, killed process) leaves a
    /// node k3s can still start on.
    private func apply(_ plan: InstallPlan, root: HostRoot) throws(InstallError) {
        let backups: BackupStore
        do {
            backups = try configuration.backupStore(root)
        } catch {
            throw InstallError("cannot prepare backups: \(error)", fix: "check free space and permissions of \(configuration.stateDirectory)")
        }
        try checkFreeSpace(plan, root: root)
        for file in plan.files where file.action != .unchanged {
            do {
                if let contents = file.contents {
                    try root.createDirectories(parentDirectory(file.path), mode: 0o755)
                    _ = try root.write(file.path, contents: contents, mode: file.mode, backups: backups)
                } else if let plugin = file.plugin {
                    try root.createDirectories(parentDirectory(file.path), mode: 0o755)
                    _ = try root.write(file.path, from: plugin.source, mode: file.mode, backups: backups)
                } else {
                    _ = try root.remove(file.path, backups: backups)
                }
            } catch {
                let done = plan.files.prefix { $0.path != file.path }.filter { $0.action != .unchanged }.map(\.path)
                throw InstallError(
                    "cannot write \(file.kind.rawValue) \(file.path): \(error)"
                        + (done.isEmpty ? "" : "\n  already applied: \(done.joined(separator: ", "))"),
                    fix: "fix the cause and run the command again; the files on disk are consistent and k3s can start with them"
                )
            }
        }
    }

    /// Opens the plugin executable to copy and checks that it runs here and is ours. The
    /// check runs the open file itself, and the file must be unchanged afterwards, so the
    /// file checked is the file copied.
    func loadPlugin() throws(InstallError) -> PluginExecutable {
        let path = pluginPath()
        let source: SourceFile
        do {
            source = try SourceFile.open(path)
        } catch {
            throw InstallError(
                "the plugin executable \(path) cannot be read",
                fix: "build it (swift build) or install the harbor-keyless package, or pass --plugin-binary PATH"
            )
        }
        let result: SubprocessResult
        do {
            result = try runSubprocess(
                source.execPath, arguments: ["--version"], argumentZero: path, inherit: [source.descriptor],
                timeout: .seconds(10)
            )
        } catch {
            // The message names the configured path, not the descriptor's /proc path.
            let named: SubprocessError =
                switch error {
                case .spawnFailed(_, let code): .spawnFailed(path: path, errno: code)
                }
            throw InstallError("the plugin executable \(path) does not run: \(named)", fix: "pass --plugin-binary with the path of credential-provider-harbor built for this host (x86_64 Linux)")
        }
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        guard result.status == 0, output.hasPrefix("credential-provider-harbor") else {
            throw InstallError(
                "\(path) is not a credential-provider-harbor executable (`--version` exited \(result.status))",
                fix: "pass --plugin-binary with the path of credential-provider-harbor"
            )
        }
        guard source.isUnchanged() else {
            throw InstallError(
                "the plugin executable \(path) changed while its version was checked",
                fix: "run the command again once nothing writes to \(path)"
            )
        }
        return PluginExecutable(source: source)
    }

    /// Returns the configured plugin path, else the one next to this program, else the .deb's.
    func pluginPath() -> String {
        if let source = configuration.pluginSource { return source }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = parentDirectory(executable) + "/credential-provider-harbor"
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return Self.packagedPluginPath
    }
}

func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
