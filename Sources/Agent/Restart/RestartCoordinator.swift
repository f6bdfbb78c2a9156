import FoundationEssentials
internal import HostFiles
internal import Systemd

/// The outcome for k3s after an install or uninstall changed its files.
public enum RestartOutcome: Sendable, Equatable {
    /// No file the kubelet reads at start-up changed and the running kubelet has our flags.
    case notNeeded
    /// k3s was restarted and verified step by step.
    case restarted(unit: String, steps: [RestartStep])
    /// The unit is not running; k3s reads the new files when it next starts.
    case unitStopped(unit: String)
    /// A restart is due but was not done; recorded on the host as pending.
    case pending(reason: String)
    /// A pending restart was done by someone else: k3s started after it became due.
    case startedSince(unit: String)
}

/// Restarts k3s through systemd after a change, verifies it, and rolls the files back when
/// k3s does not come up. All progress is recorded in the agent state on the host before each
/// step, so an agent killed in the middle finds it again.
struct RestartCoordinator {
    let configuration: AgentConfiguration
    let root: HostRoot
    let settings: RestartSettings
    /// Asked right before a restart; nil restarts without asking anyone.
    var permit: (any RestartPermit)? = nil

    /// Connects to systemd's manager: `DBUS_SYSTEM_BUS_ADDRESS` when set (a pod mounts the
    /// host's socket and points this at it), else the host's system bus socket.
    func connect() -> Result<SystemdManager, SystemdError> {
        do {
            return .success(try SystemdManager.connect(address: settings.busAddress))
        } catch {
            return .failure(error)
        }
    }

    /// The journal of the node: the local one on a bare node, the host root's journal
    /// directories in a pod.
    var journal: JournalReader {
        configuration.hostRoot == "/" ? JournalReader(source: .local) : JournalReader(source: .osRoot(configuration.hostRoot))
    }

    /// Restarts k3s when the policy and the plan call for it. Every file the plan changed is
    /// rolled back from its backup when k3s fails to come up with it.
    func restartIfNeeded(
        plan: InstallPlan,
        configDigest: String,
        state: inout AgentState,
        save: (AgentState) throws -> Void
    ) async throws -> RestartOutcome {
        let paths = plan.paths
        // A pending restart's files changed in an earlier run; the kubelet has not loaded them
        // either, so a rollback restores them too.
        let pendingPaths = state.pendingRestart?.changedPaths ?? []
        let changed = plan.files.filter { $0.action != .unchanged }.map(\.path) + pendingPaths.filter { path in
            !plan.files.contains { $0.path == path && $0.action != .unchanged }
        }
        if !plan.needsRestart, configuration.restartPolicy != .always, let unit = startedSincePending(state) {
            return .startedSince(unit: unit)
        }
        let due = plan.needsRestart || state.pendingRestart != nil || configuration.restartPolicy == .always
        let command = "systemctl restart \(configuration.unit ?? plan.paths.unit ?? "k3s")"

        if configuration.restartPolicy == .never {
            return due ? .pending(reason: "restart policy is never; finish with `\(command)`") : .notNeeded
        }

        let manager: SystemdManager
        switch connect() {
        case .success(let connected): manager = connected
        case .failure(let error):
            guard due else { return .notNeeded }
            return .pending(reason: "systemd is not reachable (\(error)); finish with `\(command)` on the node")
        }

        let unit: String
        do {
            switch try K3sUnit.resolve(explicit: configuration.unit, manager: manager, root: root) {
            case .stopped(let name):
                return .unitStopped(unit: name)
            case .running(let name):
                unit = name
            }
        } catch {
            guard due else { return .notNeeded }
            throw RestartFailure(error: error, rolledBack: false)
        }

        // A running kubelet without our flags needs a restart even when no file changed now,
        // for example after an install with policy `never`.
        var needed = due
        if !needed, let state = try? manager.unitState(unit),
            let evidence = KubeletEvidence.read(journal: journal, invocation: state.invocationID),
            let line = evidence.runningLine
        {
            let arguments = KubeletEvidence.arguments(of: line)
            needed = !arguments.contains("--image-credential-provider-config=\(paths.providerConfig)")
        }
        guard needed else { return .notNeeded }

        // The permit is held through the restart, the settle window and any rollback.
        var permission: (any RestartPermission)?
        if let permit {
            do {
                permission = try await permit.acquire(unit: unit)
            } catch {
                return .pending(reason: "no permit to restart \(unit) now: \(error)")
            }
        }
        do {
            let outcome = try await restartAndVerify(unit: unit, manager: manager, paths: paths, changed: changed, configDigest: configDigest, state: &state, save: save)
            await permission?.release()
            return outcome
        } catch {
            await permission?.release()
            throw error
        }
    }

    private func restartAndVerify(
        unit: String,
        manager: SystemdManager,
        paths: NodePaths,
        changed: [String],
        configDigest: String,
        state: inout AgentState,
        save: (AgentState) throws -> Void
    ) async throws -> RestartOutcome {
        // 1. Record the restart before asking systemd for it.
        state.restartInFlight = AgentState.RestartInFlight(
            unit: unit,
            phase: .restarting,
            configDigest: configDigest,
            changedPaths: changed,
            startedAt: Date().timeIntervalSince1970
        )
        try save(state)

        // 2. Restart and verify.
        let verifier = RestartVerifier(
            manager: manager,
            journal: journal,
            settings: settings,
            expectedPaths: (paths.binDirectory, paths.providerConfig)
        )
        let outcome = await verifier.restart(unit)
        if outcome.verified {
            state.restartInFlight = nil
            state.pendingRestart = nil
            try save(state)
            return .restarted(unit: unit, steps: outcome.steps)
        }
        // Stopping is no verdict on the files: the record stays, and the next start resumes.
        if outcome.cancelled { throw CancellationError() }
        if let undecided = try undecidedRestart(outcome, unit: unit, state: &state, save: save) { return undecided }

        // 3. Roll back, remember the rejected config, restart once more.
        try await rollBack(
            unit: unit,
            failed: outcome,
            manager: manager,
            configDigest: configDigest,
            changed: changed,
            state: &state,
            save: save
        )
    }

    /// Restores every changed file from its backup, records the config as rejected, restarts
    /// again and verifies. Always throws: the install failed either way. A second failure
    /// stops here; there is no third restart.
    func rollBack(
        unit: String,
        failed: RestartVerifier.Outcome,
        manager: SystemdManager,
        configDigest: String,
        changed: [String],
        state: inout AgentState,
        save: (AgentState) throws -> Void
    ) async throws -> Never {
        let failedStep = failed.steps.first { !$0.passed }
        let reason = failedStep.map { "\($0.name): \($0.detail)" } ?? "verification failed"

        if !state.rejectedConfigs.contains(configDigest) {
            state.rejectedConfigs.append(configDigest)
        }
        state.lastRejection = AgentState.Rejection(digest: configDigest, reason: reason, at: Date().timeIntervalSince1970)
        state.restartInFlight?.phase = .rollingBack
        state.restartInFlight?.changedPaths = changed
        // Back to the version the kubelet last loaded: the pending restart's baseline where an
        // earlier install changed the path, else the entry this install's write made.
        var sequences = configuration.newestBackupSequences(changed, root: root)
        for (path, baseline) in state.pendingRestart?.baselineSequences ?? [:] where sequences[path] != nil {
            sequences[path] = baseline
        }
        state.restartInFlight?.rollbackSequences = sequences
        try save(state)

        try await finishRollback(
            unit: unit, reason: reason, failed: failed, manager: manager, restartWhenRunning: true, state: &state, save: save
        )
    }

    /// Restores the files of the rollback recorded in `state` that are not restored yet, then
    /// restarts the unit once and verifies it. With `restartWhenRunning` false (an earlier run
    /// got part of the way), a unit that already runs verified is not restarted when no file
    /// needed restoring. Always throws, as `rollBack` does.
    func finishRollback(
        unit: String,
        reason: String,
        failed: RestartVerifier.Outcome,
        manager: SystemdManager,
        restartWhenRunning: Bool,
        state: inout AgentState,
        save: (AgentState) throws -> Void
    ) async throws -> Never {
        let changed = state.restartInFlight?.changedPaths ?? []
        let sequences = state.restartInFlight?.rollbackSequences ?? [:]

        // Restore in reverse order of the install: the drop-in first, so k3s never points at a
        // config that names an executable already restored away.
        let restored: Int
        switch restore(changed.reversed(), sequences: sequences) {
        case .success(let count):
            restored = count
        case .failure(let restoreError):
            state.restartInFlight?.phase = .failed
            try save(state)
            throw RestartFailure(
                error: RestartError(
                    "k3s did not come up with the new files (\(reason)), and the previous files could not be restored (\(restoreError.message)); k3s was not restarted again",
                    fix: "restore the files by hand or correct them, restart k3s, then run `harbor-keyless install --force`",
                    journalLines: failed.journalLines
                ),
                rolledBack: false,
                steps: failed.steps
            )
        }

        let verifier = RestartVerifier(manager: manager, journal: journal, settings: settings, expectedPaths: nil)
        var second: RestartVerifier.Outcome? = nil
        if !restartWhenRunning && restored == 0 {
            let running = await verifier.verifyRunning(unit)
            if running.verified { second = running }
        }
        let outcome: RestartVerifier.Outcome
        if let second {
            outcome = second
        } else {
            outcome = await verifier.restart(unit)
        }
        // The files are restored and the record shows it; the next start finishes the rest.
        if outcome.cancelled { throw CancellationError() }
        let rejected = "k3s did not come up with the new files (\(reason))"
        let recorded = "this configuration is recorded as rejected and is not applied again unless you pass --force"
        func failure(_ message: String, fix: String, journal: [String] = failed.journalLines) -> RestartFailure {
            RestartFailure(
                error: RestartError(message, fix: fix, journalLines: journal),
                rolledBack: true,
                steps: failed.steps + Self.afterRollback(outcome.steps)
            )
        }

        if outcome.stillStarting {
            throw failure(
                "\(rejected); the previous files are restored, and \(unit) has not finished starting with them",
                fix: "the next run verifies the restart; read `journalctl -u \(unit)` if it does not come up"
            )
        }
        if outcome.stoppedByRequest || outcome.verified {
            state.restartInFlight = nil
            state.pendingRestart = nil
            try save(state)
        }
        if outcome.stoppedByRequest {
            throw failure(
                "\(rejected); the previous files are restored, and \(unit) was stopped, so it reads them when it starts",
                fix: "start k3s when convenient (`systemctl start \(unit)`); \(recorded)"
            )
        }
        if outcome.verified {
            let done = second == nil
                ? "restored the previous files and restarted \(unit) again, which succeeded"
                : "the previous files are restored and \(unit) runs with them"
            throw failure("\(rejected); \(done)", fix: "read the journal lines below; \(recorded)")
        }

        state.restartInFlight?.phase = .failed
        try save(state)
        let secondReason = outcome.steps.first { !$0.passed }.map { "\($0.name): \($0.detail)" } ?? "unknown"
        throw failure(
            "\(rejected), and the restart after restoring the previous files failed too (\(secondReason)); stopped without further restarts",
            fix: "inspect `journalctl -u \(unit)` on the node and repair k3s by hand; harbor-keyless will not restart it again until `harbor-keyless install --force`",
            journal: failed.journalLines + outcome.journalLines
        )
    }

    /// Handles a restart that ended without a verdict on the files. A unit stopped by request
    /// reads the files when it starts, like one that was not running. One still starting keeps
    /// the restart recorded for the next run to verify. Nothing is rolled back in either case,
    /// because a kubelet that rejects its provider config ends the k3s process, not stalls it.
    func undecidedRestart(
        _ outcome: RestartVerifier.Outcome, unit: String, state: inout AgentState, save: (AgentState) throws -> Void
    ) throws -> RestartOutcome? {
        if outcome.stoppedByRequest {
            state.restartInFlight = nil
            try save(state)
            return .unitStopped(unit: unit)
        }
        if outcome.stillStarting {
            throw RestartFailure(
                error: RestartError(
                    "\(unit) has not finished starting with the new files: \(outcome.steps.last?.detail ?? "no result")",
                    fix: "nothing was rolled back; the next run verifies the restart (or rolls it back if k3s fails); raise --restart-timeout for slow servers",
                    journalLines: []
                ),
                rolledBack: false,
                steps: outcome.steps
            )
        }
        return nil
    }

    /// Names `steps` as those of the restart after a rollback, so a report lists which
    /// restart each step belongs to.
    static func afterRollback(_ steps: [RestartStep]) -> [RestartStep] {
        steps.map { RestartStep(name: "after rollback, " + $0.name, passed: $0.passed, detail: $0.detail) }
    }

    /// A restore that failed, with a message naming the path.
    struct RestoreFailure: Error {
        var message: String
    }

    /// Restores each path down to the backup entry recorded for it, one entry at a time
    /// (each restore drops its entry), and returns how many paths it changed. A path with no
    /// entry at or above its number left was restored by an earlier run and is skipped. A
    /// path without a recorded entry gets its newest one, and a path with none at all fails
    /// the restore.
    private func restore(_ paths: [String], sequences: [String: Int]) -> Result<Int, RestoreFailure> {
        let backups: BackupStore
        do {
            backups = try configuration.backupStore(root)
        } catch {
            return .failure(RestoreFailure(message: "cannot open backups: \(error)"))
        }
        var restored = 0
        for path in paths {
            do {
                guard let target = sequences[path] else {
                    guard try backups.restore(path) != nil else {
                        return .failure(RestoreFailure(message: "no backup of \(path) in \(backups.directory)"))
                    }
                    restored += 1
                    continue
                }
                var changedPath = false
                while let newest = try backups.history(for: path).last, newest.sequence >= target {
                    _ = try backups.restore(path)
                    changedPath = true
                }
                if changedPath { restored += 1 }
            } catch {
                return .failure(RestoreFailure(message: "cannot restore \(path): \(error)"))
            }
        }
        return .success(restored)
    }
}

extension RestartCoordinator {
    /// Resolves the k3s unit before any file is written, so an ambiguous or wrong unit stops
    /// the install while the node is untouched. Does nothing when the policy never restarts
    /// or no bus responds (the restart is then recorded as pending).
    func preflight() throws {
        guard configuration.restartPolicy != .never, case .success(let manager) = connect() else { return }
        _ = try K3sUnit.resolve(explicit: configuration.unit, manager: manager, root: root)
    }

    /// Returns the running k3s unit when its main process started after the pending restart
    /// became due: an operator restarted k3s by hand, so the kubelet runs the current files.
    /// Returns nil when nothing is pending or systemd cannot tell.
    func startedSincePending(_ state: AgentState) -> String? {
        guard let pending = state.pendingRestart, case .success(let manager) = connect(),
            case .running(let unit)? = try? K3sUnit.resolve(explicit: configuration.unit, manager: manager, root: root),
            let unitState = try? manager.unitState(unit)
        else { return nil }
        let startedAt = Double(unitState.execMainStartTimestamp) / 1_000_000
        return startedAt > pending.since ? unit : nil
    }
}

/// A restart that failed, with whether the files were rolled back.
public struct RestartFailure: Error, CustomStringConvertible {
    public var error: RestartError
    public var rolledBack: Bool
    public var steps: [RestartStep] = []

    public var description: String { error.description }
}

extension RestartCoordinator {
    /// Restarts k3s after an uninstall so the kubelet drops our provider. Nothing is rolled
    /// back on failure: the files left are the operator's own, and restoring ours would undo
    /// the uninstall.
    func restartAfterUninstall(plan: InstallPlan, state: inout AgentState, save: (AgentState) throws -> Void) async throws -> RestartOutcome {
        if !plan.needsRestart, let unit = startedSincePending(state) {
            return .startedSince(unit: unit)
        }
        let due = plan.needsRestart || state.pendingRestart != nil
        guard due else { return .notNeeded }
        let command = "systemctl restart \(configuration.unit ?? plan.paths.unit ?? "k3s")"
        if configuration.restartPolicy == .never {
            return .pending(reason: "restart policy is never; finish with `\(command)`")
        }
        let manager: SystemdManager
        switch connect() {
        case .success(let connected): manager = connected
        case .failure(let error):
            return .pending(reason: "systemd is not reachable (\(error)); finish with `\(command)` on the node")
        }
        let unit: String
        switch try K3sUnit.resolve(explicit: configuration.unit, manager: manager, root: root) {
        case .stopped(let name): return .unitStopped(unit: name)
        case .running(let name): unit = name
        }

        let verifier = RestartVerifier(manager: manager, journal: journal, settings: settings, expectedPaths: nil)
        let outcome = await verifier.restart(unit)
        guard outcome.verified else {
            let reason = outcome.steps.first { !$0.passed }.map { "\($0.name): \($0.detail)" } ?? "verification failed"
            throw RestartFailure(
                error: RestartError(
                    "k3s did not come up after the credential provider was removed (\(reason))",
                    fix: "inspect `journalctl -u \(unit)`; the remaining configuration is the node's own",
                    journalLines: outcome.journalLines
                ),
                rolledBack: false,
                steps: outcome.steps
            )
        }
        return .restarted(unit: unit, steps: outcome.steps)
    }
}
