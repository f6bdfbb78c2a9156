import FoundationEssentials
internal import HostFiles
internal import KubeAPI

/// One reconcile cycle and the state kept between cycles: repair the host files (restarting
/// k3s through the Installer when needed), run the checks, derive readiness, report it.
actor DaemonCycle {
    private(set) var configuration: AgentConfiguration
    private let restartSettings: RestartSettings
    private let settings: DaemonSettings
    private(set) var api: DaemonAPI?
    private var checks: any ReadinessSource
    private let status: DaemonStatus
    private let logger: DaemonLogger

    private var reporter: ConditionReporter?
    private var permit: LeaseRestartPermit?
    private var lastAPICheck: ContinuousClock.Instant?
    private var apiOutcomes: [ReadinessCheck] = []
    private var previousStatuses: [String: ReadinessCheck.Status] = [:]
    private var changedSinceAPICheck = true
    private var fingerprint: HostFingerprint?
    private var cyclesSinceInstall = 0
    /// Whether an install of the current configuration finished. Restart policy `always`
    /// restarts k3s for the first one only: the daemon installs again every few cycles, and
    /// each of those would restart k3s with nothing changed.
    private var installedCurrentConfiguration = false

    /// A full install runs at least this often even when no watched file changed, because
    /// a change that keeps size and modification time (`touch -r`) is invisible to stat.
    static let fullInstallEvery = 10

    /// Id of the daemon's own check: the host files match the configuration.
    static let hostFilesCheck = "host-files"

    init(
        configuration: AgentConfiguration,
        restartSettings: RestartSettings,
        settings: DaemonSettings,
        api: DaemonAPI?,
        checks: any ReadinessSource,
        status: DaemonStatus,
        logger: DaemonLogger
    ) {
        self.configuration = configuration
        self.restartSettings = restartSettings
        self.settings = settings
        self.api = api
        self.checks = checks
        self.status = status
        self.logger = logger
        (reporter, permit) = Self.reporting(api, settings: settings, logger: logger)
    }

    /// Starts reporting through `api`, found after the daemon started without credentials
    /// (for example k3s wrote its kubelet kubeconfig later), with checks that use it.
    func attach(_ api: DaemonAPI, checks: any ReadinessSource) {
        self.api = api
        self.checks = checks
        (reporter, permit) = Self.reporting(api, settings: settings, logger: logger)
        changedSinceAPICheck = true
    }

    private static func reporting(
        _ api: DaemonAPI?, settings: DaemonSettings, logger: DaemonLogger
    ) -> (ConditionReporter?, LeaseRestartPermit?) {
        guard let api else { return (nil, nil) }
        let reporter = ConditionReporter(client: api.client, node: api.nodeName, eventNamespace: api.eventNamespace, heartbeat: settings.conditionHeartbeat, logger: logger)
        var leaseSettings = LeaseRestartPermit.Settings(namespace: api.leaseNamespace, holder: api.nodeName)
        leaseSettings.slots = settings.maxConcurrentRestarts
        leaseSettings.leaseDuration = settings.leaseDuration
        leaseSettings.waitTimeout = settings.leaseWait
        // Until the Node's labels are read, the node counts as control-plane, so a restart
        // also waits for the shared control-plane Lease.
        let permit = LeaseRestartPermit(client: api.client, settings: leaseSettings, isControlPlane: true, logger: logger)
        return (reporter, permit)
    }

    func replaceConfiguration(_ next: AgentConfiguration) {
        configuration = next
        changedSinceAPICheck = true
        fingerprint = nil
        installedCurrentConfiguration = false
    }

    /// Runs one cycle. Returns false when a step failed, so the loop retries sooner.
    func run() async -> Bool {
        let started = ContinuousClock.now

        // 1. Repair the host files first, so an API server that does not respond cannot delay
        //    it; the Installer restarts k3s when the files need it. Until the Node was read
        //    once, a restart counts this node as control-plane and takes that Lease too.
        let reconcile = await reconcile()

        // 2. Read the Node when the API checks are due: its labels tell later restarts
        //    whether this is a control-plane node.
        var apiFailed = false
        if let api, apiCheckDue() {
            apiFailed = !(await refreshNode(api))
        }

        // 3. Local checks every cycle; API checks when due or after a change.
        var outcomes = [reconcile.outcome]
        outcomes += await checks.run(.local, configuration: configuration)
        if api != nil, apiCheckDue() {
            apiOutcomes = await checks.run(.api, configuration: configuration)
            lastAPICheck = .now
            changedSinceAPICheck = false
            status.update { $0.lastAPICheck = Date().timeIntervalSince1970 }
        }
        outcomes += apiOutcomes

        // 4. Readiness from the results, then the reports.
        let readiness = NodeReadiness.evaluate(checks: outcomes, rejection: reconcile.rejection)
        let restartState = readRestartState()
        let duration = (ContinuousClock.now - started).seconds
        status.update { snapshot in
            snapshot.checks = outcomes
            snapshot.readiness = readiness
            snapshot.cycles += 1
            snapshot.lastCycleEnd = Date().timeIntervalSince1970
            snapshot.lastCycleDurationSeconds = duration
            snapshot.reconcileTotal[reconcile.result, default: 0] += 1
            snapshot.restart = restartState
            snapshot.restart.coordination = permit == nil ? "none" : (permit!.isUncoordinated ? "uncoordinated" : "leases")
        }
        logStatusChanges(outcomes)
        var written = true
        if let reporter {
            written = await reporter.report(readiness)
        }
        return reconcile.succeeded && written && !apiFailed
    }

    private func apiCheckDue() -> Bool {
        guard let lastAPICheck else { return true }
        return changedSinceAPICheck || ContinuousClock.now - lastAPICheck >= settings.apiCheckInterval
    }

    /// Reads this Node: seeds the condition reporter and learns whether it is a
    /// control-plane node. Returns false when the API could not be read.
    private func refreshNode(_ api: DaemonAPI) async -> Bool {
        do {
            let node = try await api.client.node(api.nodeName)
            await reporter?.seed(from: node)
            let controlPlane = node.metadata.labels?["node-role.kubernetes.io/control-plane"] != nil
            permit?.isControlPlane.withLock { $0 = controlPlane }
            return true
        } catch {
            logger.error("cannot read the node", [("node", api.nodeName), ("error", "\(error)")])
            return false
        }
    }

    // MARK: - Reconcile

    struct ReconcileResult {
        var outcome: ReadinessCheck
        var result: String
        var rejection: String?
        var succeeded: Bool
    }

    private func reconcile() async -> ReconcileResult {
        // Installing reads and hashes the plugin executable and runs `k3s --version`, so a
        // cycle whose watched files did not change since a clean install skips it.
        cyclesSinceInstall += 1
        if let fingerprint, cyclesSinceInstall < Self.fullInstallEvery, fingerprint.isCurrent() {
            return ReconcileResult(outcome: ReadinessCheck(id: Self.hostFilesCheck, status: .pass, message: "the host files match the configuration"), result: "unchanged", succeeded: true)
        }
        fingerprint = nil
        cyclesSinceInstall = 0

        var effective = configuration
        if effective.restartPolicy == .always && installedCurrentConfiguration {
            effective.restartPolicy = .ifChanged
        }
        let installer = Installer(configuration: effective, restartSettings: restartSettings, restartPermit: permit)
        do {
            let report = try await installer.install()
            installedCurrentConfiguration = true
            let changed = report.plan.files.filter { $0.action != .unchanged }
            for file in changed {
                logger.info("repaired file", [("path", file.path), ("kind", file.kind.rawValue), ("action", file.action.rawValue)])
            }
            if !changed.isEmpty { changedSinceAPICheck = true }
            noteRestart(report.restart)
            if Self.isSettled(report.restart, policy: configuration.restartPolicy) {
                fingerprint = HostFingerprint(report: report, configuration: configuration, pluginPath: installer.pluginPath())
            }
            let message = changed.isEmpty ? "the host files match the configuration" : "repaired \(changed.count) files"
            return ReconcileResult(outcome: ReadinessCheck(id: Self.hostFilesCheck, status: .pass, message: message), result: changed.isEmpty ? "unchanged" : "repaired", succeeded: true)
        } catch let failure as RestartFailure {
            changedSinceAPICheck = true
            let result = failure.rolledBack ? "rolled-back" : "failed"
            status.update { $0.restartTotal[result, default: 0] += 1 }
            logger.error("restart of k3s failed", [("result", result), ("failedStep", failure.steps.first { !$0.passed }?.name ?? "none"), ("error", failure.error.message)])
            let rejection = failure.rolledBack ? NodeReadiness.oneLine(failure.error.message) : nil
            return ReconcileResult(outcome: ReadinessCheck(id: Self.hostFilesCheck, status: .fail, message: failure.error.message), result: "restart-failed", rejection: rejection, succeeded: false)
        } catch is CancellationError {
            logger.info("stopped while waiting for a restart of k3s; the next start verifies it", [])
            return ReconcileResult(
                outcome: ReadinessCheck(id: Self.hostFilesCheck, status: .warn, message: "stopped while waiting for a restart of k3s"),
                result: "abandoned", succeeded: false
            )
        } catch {
            // A configuration k3s rejected before is refused by the Installer: that is the
            // rolled-back state, not a failure of this cycle.
            if let rejection = rejectionOfCurrentConfiguration(installer) {
                logger.warning("configuration was rejected by k3s before; keeping the previous files", [("reason", rejection)])
                return ReconcileResult(
                    outcome: ReadinessCheck(id: Self.hostFilesCheck, status: .warn, message: "the previous files are kept because k3s rejected this configuration"),
                    result: "rejected",
                    rejection: rejection,
                    succeeded: true
                )
            }
            logger.error("reconcile failed; retrying", [("error", "\(error)")])
            return ReconcileResult(outcome: ReadinessCheck(id: Self.hostFilesCheck, status: .fail, message: "\(error)"), result: "error", succeeded: false)
        }
    }

    /// True when nothing is left to retry: no restart pending, or one that only an operator
    /// finishes (policy `never`). NOTE: with policy `never`, a restart done by hand is then
    /// noticed at the next full install, up to `fullInstallEvery` cycles later.
    private static func isSettled(_ outcome: RestartOutcome, policy: RestartPolicy) -> Bool {
        if case .pending = outcome { return policy == .never }
        return true
    }

    private func noteRestart(_ outcome: RestartOutcome) {
        switch outcome {
        case .notNeeded:
            break
        case .restarted(let unit, let steps):
            changedSinceAPICheck = true
            status.update { $0.restartTotal["verified", default: 0] += 1 }
            logger.info("restarted k3s", [("unit", unit), ("result", "verified"), ("steps", steps.map(\.name).joined(separator: ","))])
        case .startedSince(let unit):
            logger.info("k3s was restarted by someone else since the restart became due; nothing left to restart", [("unit", unit)])
        case .unitStopped(let unit):
            logger.info("k3s is not running; it reads the new files when it starts", [("unit", unit)])
        case .pending(let reason):
            logger.warning("restart pending", [("reason", reason)])
        }
    }

    /// Returns the recorded rejection of the configuration now in effect, if k3s rejected it before.
    private func rejectionOfCurrentConfiguration(_ installer: Installer) -> String? {
        guard let plan = try? installer.plan(), let state = loadState(), state.rejectedConfigs.contains(plan.configurationDigest) else { return nil }
        if let last = state.lastRejection, last.digest == plan.configurationDigest {
            return NodeReadiness.oneLine(last.reason)
        }
        return "k3s rejected this configuration before"
    }

    private func loadState() -> AgentState? {
        guard let root = try? HostRoot(configuration.hostRoot) else { return nil }
        return try? AgentState.load(root: root, directory: configuration.stateDirectory)
    }

    private func readRestartState() -> DaemonStatus.RestartState {
        var restart = DaemonStatus.RestartState()
        guard let state = loadState() else { return restart }
        restart.pending = state.pendingRestart?.reason
        restart.inFlightPhase = state.restartInFlight?.phase.rawValue
        restart.inFlightUnit = state.restartInFlight?.unit
        restart.lastRejection = state.lastRejection?.reason
        return restart
    }

    private func logStatusChanges(_ outcomes: [ReadinessCheck]) {
        for outcome in outcomes where previousStatuses[outcome.id] != outcome.status {
            let level: DaemonLogger.Level = outcome.status == .fail ? .warning : .info
            logger.log(level, "check status changed", [
                ("check", outcome.id), ("from", previousStatuses[outcome.id]?.rawValue ?? "none"), ("to", outcome.status.rawValue), ("message", NodeReadiness.oneLine(outcome.message)),
            ])
            previousStatuses[outcome.id] = outcome.status
        }
    }
}
