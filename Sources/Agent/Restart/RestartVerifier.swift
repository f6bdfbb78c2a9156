internal import Systemd

/// One step of a verified restart, reported separately so an operator sees which one failed.
public struct RestartStep: Sendable, Equatable {
    public var name: String
    public var passed: Bool
    public var detail: String
}

/// Restarts a k3s unit through systemd and proves that its kubelet came up with our files.
struct RestartVerifier {
    let manager: SystemdManager
    let journal: JournalReader?
    let settings: RestartSettings
    /// Paths the `Running kubelet` line must carry; nil after a rollback to a state whose
    /// files we do not own.
    let expectedPaths: (binDir: String, config: String)?

    /// Substrings of kubelet and k3s log lines that mean the credential provider setup was
    /// rejected or broke k3s's start (kubelet kuberuntime_manager.go, k3s pkg/configfilearg).
    static let errorSignatures = [
        "Failed to register CRI auth plugins",
        "failed to validate credential provider config",
        "plugin binary executable",
        "no kind \"CredentialProviderConfig\" is registered",
        "flag provided but not defined",
        "unrecognized feature gate",
    ]

    struct Outcome {
        var steps: [RestartStep]
        var journalLines: [String]
        /// The wait ended because the task was cancelled (the agent is stopping), so nothing
        /// is known about k3s: not a verification and not a rejection.
        var cancelled = false
        /// The restart job did not finish within the job timeout: k3s is still starting,
        /// which a rejected config does not cause (the kubelet's rejection ends the process).
        var stillStarting = false
        /// The unit went inactive without failing: someone stopped k3s, which is no verdict
        /// on the files either.
        var stoppedByRequest = false
        var verified: Bool { !cancelled && !stillStarting && !stoppedByRequest && steps.allSatisfy(\.passed) }
        /// Whether the outcome is a verdict on the files.
        var decided: Bool { !cancelled && !stillStarting && !stoppedByRequest }
    }

    /// Restarts `unit` (RestartUnit, mode `replace`) and verifies it.
    func restart(_ unit: String) async -> Outcome {
        var steps: [RestartStep] = []
        var result: JobResult
        do {
            result = try await manager.restart(unit, timeout: settings.jobTimeout)
            // systemd refuses a start beyond the unit's start limit (5 starts in 10 s by
            // default) without running k3s, so the files were never tried: reset the counter,
            // as `systemctl reset-failed` does, and restart once more.
            if result == .failed, (try? manager.unitState(unit))?.result == "start-limit-hit" {
                steps.append(RestartStep(
                    name: "start-limit", passed: true,
                    detail: "systemd refused to start \(unit) because it was started too often (start-limit-hit); reset it and restarted again"
                ))
                try manager.resetFailed(unit)
                result = try await manager.restart(unit, timeout: settings.jobTimeout)
            }
        } catch SystemdError.cancelled {
            steps.append(RestartStep(name: "job", passed: false, detail: "\(SystemdError.cancelled(unit: unit))"))
            return Outcome(steps: steps, journalLines: [], cancelled: true)
        } catch SystemdError.timedOut(let name, let after) {
            steps.append(RestartStep(name: "job", passed: false, detail: "\(SystemdError.timedOut(unit: name, after: after))"))
            return Outcome(steps: steps, journalLines: [], stillStarting: true)
        } catch {
            steps.append(RestartStep(name: "job", passed: false, detail: "\(error)"))
            return Outcome(steps: steps, journalLines: recentLines(unit: unit, invocation: nil))
        }
        guard result == .done else {
            steps.append(RestartStep(name: "job", passed: false, detail: "the restart job of \(unit) ended \(result)"))
            return Outcome(steps: steps, journalLines: recentLines(unit: unit, invocation: nil))
        }
        steps.append(RestartStep(name: "job", passed: true, detail: "the restart job of \(unit) ended done"))

        var outcome = await verifyRunning(unit)
        outcome.steps.insert(contentsOf: steps, at: 0)
        return outcome
    }

    /// Verifies the unit's current invocation without restarting it: it stays active with the
    /// same InvocationID, MainPID and NRestarts over the settle window, and its journal shows
    /// the kubelet flags and no credential provider error. Also used after an agent restart
    /// finds a restart in flight.
    func verifyRunning(_ unit: String) async -> Outcome {
        var steps: [RestartStep] = []
        let first: UnitState
        do {
            guard let state = try manager.unitState(unit) else {
                steps.append(RestartStep(name: "settled", passed: false, detail: "\(unit) is no longer loaded"))
                return Outcome(steps: steps, journalLines: [])
            }
            first = state
        } catch {
            steps.append(RestartStep(name: "settled", passed: false, detail: "cannot read the state of \(unit): \(error)"))
            return Outcome(steps: steps, journalLines: [])
        }

        // Watch the unit over the settle window. A crash and restart by systemd changes the
        // InvocationID and NRestarts even when polling happens to see "active" again.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: settings.settleWindow)
        var unsettled: String?
        var kubelet: KubeletEvidence?
        while unsettled == nil {
            if let reason = changeReason(from: first, unit: unit) {
                unsettled = reason
                break
            }
            if let journal {
                kubelet = KubeletEvidence.read(journal: journal, invocation: first.invocationID)
                if let error = kubelet?.errorLine {
                    unsettled = "the kubelet reported: \(error)"
                    break
                }
            }
            if Task.isCancelled {
                steps.append(RestartStep(name: "settled", passed: false, detail: "stopped watching \(unit) before the settle window ended"))
                return Outcome(steps: steps, journalLines: [], cancelled: true)
            }
            if clock.now >= deadline { break }
            try? await Task.sleep(for: min(settings.pollInterval, clock.now.duration(to: deadline)))
        }

        // Inactive without a failure means a stop request (systemctl stop, a shutdown), not
        // a k3s that exited: systemd restarts a failing k3s (Restart=always) or marks it failed.
        if unsettled != nil, kubelet?.errorLine == nil, (try? manager.unitState(unit))?.activeState == "inactive" {
            steps.append(RestartStep(name: "settled", passed: false, detail: "\(unit) was stopped during the settle window"))
            return Outcome(steps: steps, journalLines: [], stoppedByRequest: true)
        }

        let settledDetail = "\(unit) stayed active for \(settings.settleWindow) (invocation \(first.invocationID.prefix(12)), MainPID \(first.mainPID), NRestarts \(first.nRestarts))"
        steps.append(RestartStep(name: "settled", passed: unsettled == nil, detail: unsettled ?? settledDetail))

        if let expectedPaths {
            steps.append(flagsStep(kubelet, expectedPaths))
        }
        let lines = unsettled == nil ? [] : recentLines(unit: unit, invocation: first.invocationID)
        return Outcome(steps: steps, journalLines: lines)
    }

    /// Returns why the unit is not the same running process any more, or nil when it is.
    private func changeReason(from first: UnitState, unit: String) -> String? {
        let now: UnitState
        do {
            guard let state = try manager.unitState(unit) else { return "\(unit) is no longer loaded" }
            now = state
        } catch {
            return "cannot read the state of \(unit): \(error)"
        }
        if now.activeState != "active" { return "\(unit) left the active state (\(now.activeState)/\(now.subState))" }
        if now.invocationID != first.invocationID || now.nRestarts != first.nRestarts {
            return "\(unit) was restarted by systemd (NRestarts \(first.nRestarts) -> \(now.nRestarts)): k3s exited after starting"
        }
        if now.mainPID != first.mainPID { return "the main process of \(unit) changed (\(first.mainPID) -> \(now.mainPID))" }
        return nil
    }

    private func flagsStep(_ evidence: KubeletEvidence?, _ paths: (binDir: String, config: String)) -> RestartStep {
        guard journal != nil else {
            return RestartStep(name: "kubelet-flags", passed: true, detail: "journal not readable from here; relied on the settle window")
        }
        guard let line = evidence?.runningLine else {
            return RestartStep(name: "kubelet-flags", passed: false, detail: "no `Running kubelet` line in the journal of this invocation")
        }
        let wanted = ["--image-credential-provider-bin-dir=\(paths.binDir)", "--image-credential-provider-config=\(paths.config)"]
        let missing = wanted.filter { !KubeletEvidence.arguments(of: line).contains($0) }
        if missing.isEmpty {
            return RestartStep(name: "kubelet-flags", passed: true, detail: "the kubelet runs with \(wanted.joined(separator: " "))")
        }
        return RestartStep(
            name: "kubelet-flags",
            passed: false,
            detail: "the kubelet runs without \(missing.joined(separator: " ")): k3s passes the flags only when the bin dir is a directory and the config a regular file, and a flag on the command line overrides config files"
        )
    }

    /// Returns the newest journal lines of the invocation (or the unit), for error reports.
    private func recentLines(unit: String, invocation: String?) -> [String] {
        guard let journal else { return [] }
        let filter: JournalReader.Filter = invocation.map { .invocation($0) } ?? .unit(unit)
        let entries = (try? journal.entries(filter, limit: 200, maxAge: .seconds(900))) ?? []
        let relevant = entries.filter { entry in Self.errorSignatures.contains { entry.message.contains($0) } }
        return (relevant.isEmpty ? Array(entries.prefix(5)) : Array(relevant.prefix(5))).reversed().map(\.message)
    }
}

/// Evidence about the kubelet in the journal of one k3s invocation.
struct KubeletEvidence {
    var runningLine: String?
    var errorLine: String?

    static func read(journal: JournalReader, invocation: String) -> KubeletEvidence? {
        guard let entries = try? journal.entries(.invocation(invocation), limit: 5000) else { return nil }
        var evidence = KubeletEvidence()
        for entry in entries {
            if evidence.runningLine == nil, entry.message.contains("Running kubelet ") {
                evidence.runningLine = entry.message
            }
            if evidence.errorLine == nil, RestartVerifier.errorSignatures.contains(where: { entry.message.contains($0) }) {
                evidence.errorLine = entry.message
            }
        }
        return evidence
    }

    /// Returns the `--flag=value` words after `Running kubelet`. k3s logs the line through logrus as
    /// `msg="Running kubelet --a=b --c=d"`, and values with spaces are not quoted there.
    static func arguments(of line: String) -> [String] {
        let marker = "Running kubelet "
        let parts = line.split(separator: marker, maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        var rest = parts[1]
        if let end = rest.firstIndex(of: "\"") { rest = rest[..<end] }
        return rest.split(separator: " ").map(String.init)
    }
}
