internal import Systemd

extension RestartCoordinator {
    /// Settles a restart that an earlier run started and did not finish (the agent was killed
    /// or its pod rescheduled). A restart that verifies now is done; one that does not is
    /// rolled back; a rollback that does not verify is marked failed. Returns a line for the
    /// operator, or nil when nothing was in flight.
    func resume(state: inout AgentState, paths: NodePaths, save: (AgentState) throws -> Void) async throws -> String? {
        guard let inFlight = state.restartInFlight, inFlight.phase != .failed else { return nil }
        let manager: SystemdManager
        switch connect() {
        case .success(let connected): manager = connected
        case .failure(let error):
            return "a restart of \(inFlight.unit) started earlier is not verified: systemd is not reachable (\(error))"
        }

        let expected = inFlight.phase == .restarting ? (paths.binDirectory, paths.providerConfig) : nil
        let verifier = RestartVerifier(manager: manager, journal: journal, settings: settings, expectedPaths: expected)

        // 1. A restart job the killed run started may still be running: let it finish.
        await waitWhileStarting(inFlight.unit, manager: manager)

        // 2. A main process older than the record means systemd never got the restart (the
        // run was killed between recording it and asking for it): do it now.
        var outcome: RestartVerifier.Outcome
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

        switch inFlight.phase {
        case .restarting:
            try await rollBack(
                unit: inFlight.unit,
                failed: outcome,
                manager: manager,
                configDigest: inFlight.configDigest,
                changed: inFlight.changedPaths,
                state: &state,
                save: save
            )
        case .rollingBack, .failed:
            state.restartInFlight?.phase = .failed
            try save(state)
            throw RestartFailure(
                error: RestartError(
                    "the restart of \(inFlight.unit) after an earlier rollback did not come up",
                    fix: "inspect `journalctl -u \(inFlight.unit)` and repair k3s by hand; then run `harbor-keyless install --force`",
                    journalLines: outcome.journalLines
                ),
                rolledBack: true,
                steps: outcome.steps
            )
        }
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
