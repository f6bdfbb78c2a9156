internal import Systemd

extension RestartCoordinator {
    /// Settles a restart that an earlier run started and did not finish (the agent was killed
    /// or its pod rescheduled). A restart that verifies now is done; one that does not is
    /// rolled back; an interrupted rollback is finished; a rollback that does not verify is
    /// marked failed. Returns a line for the operator, or nil when nothing was in flight.
    func resume(state: inout AgentState, paths: NodePaths, save: (AgentState) throws -> Void) async throws -> String? {
        guard let inFlight = state.restartInFlight, inFlight.phase != .failed else { return nil }
        let manager: SystemdManager
        switch connect() {
        case .success(let connected): manager = connected
        case .failure(let error):
            return "a restart of \(inFlight.unit) started earlier is not verified: systemd is not reachable (\(error))"
        }

        // 1. A restart job the killed run started may still be running: let it finish.
        await waitWhileStarting(inFlight.unit, manager: manager)

        // 2. A rollback the killed run started is finished: the files not restored yet are
        // restored before anything else, because k3s may be failing on the rejected ones.
        if inFlight.phase == .rollingBack {
            try await resumeRollback(inFlight, manager: manager, state: &state, save: save)
        }

        // 3. A main process older than the record means systemd never got the restart (the
        // run was killed between recording it and asking for it): do it now.
        let verifier = RestartVerifier(
            manager: manager, journal: journal, settings: settings, expectedPaths: (paths.binDirectory, paths.providerConfig)
        )
        let outcome: RestartVerifier.Outcome
        let started = (try? manager.unitState(inFlight.unit)).map { Double($0.execMainStartTimestamp) / 1_000_000 } ?? 0
        if started < inFlight.startedAt {
            outcome = await verifier.restart(inFlight.unit)
        } else {
            outcome = await verifier.verifyRunning(inFlight.unit)
        }
        if outcome.verified {
            state.restartInFlight = nil
            state.pendingRestart = nil
            try save(state)
            return "verified the restart of \(inFlight.unit) that an earlier run started"
        }
        if outcome.cancelled { throw CancellationError() }
        if try undecidedRestart(outcome, unit: inFlight.unit, state: &state, save: save) != nil {
            return "\(inFlight.unit), restarted by an earlier run, was stopped since; k3s reads the files when it starts"
        }

        try await rollBack(
            unit: inFlight.unit,
            failed: outcome,
            manager: manager,
            configDigest: inFlight.configDigest,
            changed: inFlight.changedPaths,
            state: &state,
            save: save
        )
    }

    /// Finishes a rollback an earlier run started. A state written before rollbacks recorded
    /// their backup entries cannot tell which files were restored, so it is marked failed for
    /// the operator.
    private func resumeRollback(
        _ inFlight: AgentState.RestartInFlight,
        manager: SystemdManager,
        state: inout AgentState,
        save: (AgentState) throws -> Void
    ) async throws -> Never {
        let reason = state.lastRejection?.reason ?? "verification failed"
        guard inFlight.rollbackSequences != nil else {
            state.restartInFlight?.phase = .failed
            try save(state)
            throw RestartFailure(
                error: RestartError(
                    "a rollback of \(inFlight.unit) that an earlier run started cannot be resumed: the state does not record which files it restored",
                    fix: "check \(inFlight.changedPaths.joined(separator: ", ")) against `journalctl -u \(inFlight.unit)`, restore them by hand if needed, then run `harbor-keyless install --force`"
                ),
                rolledBack: false
            )
        }
        try await finishRollback(
            unit: inFlight.unit,
            reason: reason,
            failed: RestartVerifier.Outcome(steps: [], journalLines: []),
            manager: manager,
            restartWhenRunning: false,
            state: &state,
            save: save
        )
    }

    /// Waits, up to the job timeout, while the unit runs its start commands (`activating` in
    /// `start-pre`, `start` or `start-post`). A crash loop (`auto-restart`) does not count.
    private func waitWhileStarting(_ unit: String, manager: SystemdManager) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: settings.jobTimeout)
        while clock.now < deadline {
            guard let state = try? manager.unitState(unit), state.activeState == "activating",
                ["start-pre", "start", "start-post", "condition"].contains(state.subState)
            else { return }
            try? await Task.sleep(for: settings.pollInterval)
        }
    }
}
