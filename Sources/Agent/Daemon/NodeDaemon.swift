import Dispatch
import FoundationEssentials
import Synchronization
internal import CShims
internal import HostFiles

/// `harbor-keyless run`: installs, then repairs drift, runs the checks and reports readiness
/// every interval until SIGTERM or SIGINT. Transient failures are logged and retried with
/// backoff; the daemon exits only on a signal or when its endpoint cannot listen.
public final class NodeDaemon: Sendable {
    public let status = DaemonStatus()
    private let settings: DaemonSettings
    private let restartSettings: RestartSettings
    private let configurationFile: String?
    private let reload: @Sendable () throws -> AgentConfiguration
    /// Looks for API credentials again while the daemon has none.
    private let discoverAPI: (@Sendable () throws -> (DaemonAPI, any ReadinessSource))?
    private let api: DaemonAPI?
    private let logger: DaemonLogger
    private let cycle: DaemonCycle

    private let reloadRequested = Atomic<Bool>(false)
    private let loopFinished = Atomic<Bool>(false)
    /// CPU time after the first cycle, which installs and so costs more than the rest.
    private let afterFirstCycle = Mutex<(usage: ResourceUsage, cycles: Int)?>(nil)

    /// - Parameters:
    ///   - configurationFile: polled for changes (inode, size, modification time); nil polls nothing.
    ///   - reload: reads the layered configuration again on SIGHUP or a file change.
    public init(
        configuration: AgentConfiguration,
        settings: DaemonSettings,
        restartSettings: RestartSettings,
        configurationFile: String?,
        reload: @escaping @Sendable () throws -> AgentConfiguration,
        api: DaemonAPI?,
        checks: any ReadinessSource = NoChecks(),
        discoverAPI: (@Sendable () throws -> (DaemonAPI, any ReadinessSource))? = nil,
        logger: DaemonLogger = DaemonLogger()
    ) {
        self.settings = settings
        self.restartSettings = restartSettings
        self.configurationFile = configurationFile
        self.reload = reload
        self.api = api
        self.discoverAPI = api == nil ? discoverAPI : nil
        self.logger = logger
        cycle = DaemonCycle(
            configuration: configuration,
            restartSettings: restartSettings,
            settings: settings,
            api: api,
            checks: checks,
            status: status,
            logger: logger
        )
        status.update {
            $0.node = api?.nodeName
            $0.configuration = Self.summary(configuration)
        }
    }

    /// Runs until a terminate signal arrives; returns the exit status.
    public func run(signals: AsyncStream<DaemonSignal>) async -> Int32 {
        // A full install reads the plugin executable (about 13 MB) into memory: give such
        // buffers back to the kernel after each install.
        hk_malloc_tune(256 * 1024, 2)

        // 1. Listen first, so the probes find the agent while it installs.
        let endpoint: HTTPEndpoint
        do {
            let status = self.status
            let interval = settings.interval
            endpoint = try HTTPEndpoint(listen: settings.listen, limits: settings.httpLimits) { path in
                Self.respond(path: path, status: status, interval: interval)
            }
        } catch {
            logger.error("cannot start the HTTP endpoint", [("listen", settings.listen), ("error", "\(error)")])
            return 1
        }

        var fields: [(String, String)] = [
            ("version", AgentVersion.current), ("listen", settings.listen), ("port", "\(endpoint.port)"),
            ("interval", Durations.format(settings.interval)), ("apiCheckInterval", Durations.format(settings.apiCheckInterval)),
            ("maxConcurrentRestarts", "\(settings.maxConcurrentRestarts)"),
        ]
        fields += status.current.configuration.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let api {
            fields += [("node", api.nodeName), ("leaseNamespace", api.leaseNamespace), ("credentials", api.origin)]
        } else {
            fields.append(("api", "none"))
        }
        logger.info("starting", fields)

        // 2. The loop runs in its own task; this one waits for signals.
        let loop = Task { await self.loop() }
        var stopSignal: Int32 = 0
        for await signal in signals {
            switch signal {
            case .reload:
                reloadRequested.store(true, ordering: .sequentiallyConsistent)
            case .terminate(let number):
                stopSignal = number
            }
            if stopSignal != 0 { break }
        }

        // 3. Stop: let the current step finish within the grace time, else abandon it. Host
        //    files are written atomically and a restart is recorded before it starts, so
        //    an abandoned step leaves nothing half done for the next start.
        loop.cancel()
        let deadline = ContinuousClock.now + settings.stopGrace
        while !loopFinished.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let finished = loopFinished.load(ordering: .sequentiallyConsistent)
        if !finished {
            // The record on the host, not the last cycle's status: the abandoned step may
            // have written it.
            let configuration = await cycle.configuration
            let recorded = (try? HostRoot(configuration.hostRoot)).flatMap {
                try? AgentState.load(root: $0, directory: configuration.stateDirectory)
            }
            let phase = recorded?.restartInFlight?.phase.rawValue ?? "none"
            logger.warning("abandoned the current step to stop in time; the next start resumes it", [("restartInFlight", phase)])
        }
        endpoint.stop()

        let usage = ResourceUsage.current()
        let snapshot = status.current
        let cpu = usage.userSeconds + usage.systemSeconds
        var perCycle = "unknown"
        var childrenPerCycle = "unknown"
        if let first = afterFirstCycle.withLock({ $0 }), snapshot.cycles > first.cycles {
            let cycles = Double(snapshot.cycles - first.cycles)
            perCycle = format3((cpu - first.usage.userSeconds - first.usage.systemSeconds) * 1000 / cycles)
            childrenPerCycle = format3((usage.childrenSeconds - first.usage.childrenSeconds) * 1000 / cycles)
        }
        logger.info("stopped", [
            ("signal", "\(stopSignal)"), ("cycles", "\(snapshot.cycles)"), ("cpuSeconds", format3(cpu)),
            ("steadyCPUPerCycleMs", perCycle), ("childCPUPerCycleMs", childrenPerCycle),
            ("peakRSSKiB", usage.peakResidentKiB.map(String.init) ?? "unknown"),
        ])
        return 0
    }

    // MARK: - Loop

    private func loop() async {
        defer { loopFinished.store(true, ordering: .sequentiallyConsistent) }
        var watched = configurationFile.flatMap(FileIdentity.of)
        var delay = Duration.zero
        var failures = 0
        var nodeLock: HostLock?
        var waitingForNode = false
        defer { nodeLock?.unlock() }

        while !Task.isCancelled {
            // Wait for the next cycle in short steps, beating the heartbeat and watching for
            // a reload, which starts a cycle at once.
            let wakeAt = ContinuousClock.now + delay
            while ContinuousClock.now < wakeAt, !Task.isCancelled {
                status.beat()
                var reloadNow = reloadRequested.exchange(false, ordering: .sequentiallyConsistent)
                if let configurationFile {
                    let current = FileIdentity.of(configurationFile)
                    if current != watched {
                        watched = current
                        reloadNow = true
                        logger.info("configuration file changed", [("path", configurationFile)])
                    }
                }
                if reloadNow, await reloadConfiguration() { break }
                try? await Task.sleep(for: min(.milliseconds(500), wakeAt - ContinuousClock.now))
            }
            if Task.isCancelled { return }

            // One daemon per node: two with different configurations would rewrite each
            // other's files and restart k3s in turn.
            if nodeLock == nil {
                nodeLock = await takeNodeLock(waiting: &waitingForNode)
                if nodeLock == nil {
                    delay = settings.interval
                    continue
                }
            }

            await attachAPIIfFound()
            let succeeded = await runCycleBeating()
            if afterFirstCycle.withLock({ $0 == nil }) {
                let usage = ResourceUsage.current()
                let cycles = status.current.cycles
                afterFirstCycle.withLock { $0 = (usage, cycles) }
            }
            failures = succeeded ? 0 : failures + 1
            let next = settings.jittered(settings.interval)
            if succeeded {
                delay = next
            } else {
                let backoff = settings.retryDelay * (1 << min(failures - 1, 10))
                delay = min(next, backoff)
                logger.warning("cycle failed; retrying", [("failures", "\(failures)"), ("retryInSeconds", "\(Int(delay.seconds))")])
            }
        }
    }

    /// Runs a cycle while beating the heartbeat, as long as the cycle stays within the
    /// longest time a restart may take (its job, settle window and Lease waits). A restart
    /// wait keeps `/healthz` healthy, and a cycle stuck beyond that bound lets it fail. The
    /// beats come from a timer on its own queue, because install steps block their thread
    /// (file writes, `k3s --version`) and could starve a beating task in the task pool.
    private func runCycleBeating() async -> Bool {
        let cycle = self.cycle
        let work = Task { await cycle.run() }

        let bound = restartSettings.jobTimeout * 2 + restartSettings.settleWindow * 2 + settings.leaseWait + .seconds(420)
        let started = ContinuousClock.now
        let status = self.status
        let timer = DispatchSource.makeTimerSource(queue: Self.heartbeatQueue)
        timer.schedule(deadline: .now(), repeating: .milliseconds(250))
        timer.setEventHandler {
            if ContinuousClock.now - started < bound { status.beat() }
        }
        timer.resume()
        defer { timer.cancel() }

        return await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
    }

    private static let heartbeatQueue = DispatchQueue(label: "harbor-keyless.heartbeat")

    /// Reads the configuration again. An invalid one is logged and the previous one kept.
    /// Returns true when the configuration changed.
    /// Attaches API credentials that appeared since the start (a .deb installed before k3s
    /// first started finds the kubelet's kubeconfig only later).
    private func attachAPIIfFound() async {
        guard let discoverAPI, await cycle.api == nil, let (api, checks) = try? discoverAPI() else { return }
        await cycle.attach(api, checks: checks)
        status.update { $0.node = api.nodeName }
        logger.info("found API credentials; reporting to the API server from now on", [("node", api.nodeName), ("credentials", api.origin)])
    }

    /// Takes the node's daemon lock (`daemon.lock` in the state directory), or logs the
    /// daemon that holds it, once per wait, and returns nil.
    private func takeNodeLock(waiting: inout Bool) async -> HostLock? {
        let configuration = await cycle.configuration
        let path = DaemonLock.path(configuration)
        let attempt: DaemonLock.Attempt
        do {
            attempt = DaemonLock.take(try HostRoot(configuration.hostRoot), configuration)
        } catch {
            attempt = .failed(error)
        }

        if case .taken(let lock) = attempt {
            if waiting {
                logger.info("the other daemon stopped; managing this node now", [("lock", path)])
                status.update { $0.waitingForNode = nil }
                waiting = false
            }
            return lock
        }
        if !waiting {
            let reason: String
            switch attempt {
            case .held(let holder): reason = holder
            case .failed(let error): reason = "\(error)"
            case .taken: reason = ""
            }
            logger.error(
                "another harbor-keyless daemon manages this node; this one changes nothing until it stops",
                [("lock", path), ("error", reason), ("fix", "run one agent per node: the .deb's service or the DaemonSet, not both")]
            )
            status.update { $0.waitingForNode = path }
            waiting = true
        }
        return nil
    }

    private func reloadConfiguration() async -> Bool {
        let next: AgentConfiguration
        do {
            next = try reload()
        } catch {
            logger.error("invalid configuration; keeping the previous one", [("path", configurationFile ?? "none"), ("error", "\(error)")])
            return false
        }
        guard next != (await cycle.configuration) else {
            logger.info("configuration unchanged", [("path", configurationFile ?? "none")])
            return false
        }
        await cycle.replaceConfiguration(next)
        let summary = Self.summary(next)
        status.update { $0.configuration = summary }
        logger.info("reloaded configuration", summary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return true
    }

    // MARK: - Endpoint

    static func respond(path: String, status: DaemonStatus, interval: Duration) -> HTTPResponse {
        switch path {
        case "/healthz":
            let age = status.sinceLastBeat
            if age <= interval * 3 {
                return HTTPResponse(status: 200, body: Array("ok\n".utf8))
            }
            return HTTPResponse(status: 503, body: Array("the agent loop has not run for \(Int(age.seconds)) s\n".utf8))
        case "/status":
            return HTTPResponse(status: 200, contentType: "application/json", body: status.current.statusJSON())
        case "/metrics":
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(status.current.metrics().utf8))
        default:
            return HTTPResponse(status: 404, body: Array("not found; try /healthz, /status or /metrics\n".utf8))
        }
    }

    /// Summarizes the configuration for logs and `/status`. The summary contains no secret,
    /// because the agent's configuration has none.
    static func summary(_ configuration: AgentConfiguration) -> [String: String] {
        [
            "registries": configuration.registries.map(\.host).joined(separator: ","),
            "audiences": configuration.registries.map(\.audience).joined(separator: ","),
            "providerName": configuration.providerName,
            "hostRoot": configuration.hostRoot,
            "restartPolicy": configuration.restartPolicy.rawValue,
            "stateDir": configuration.stateDirectory,
            "unit": configuration.unit ?? "auto",
        ]
    }
}

private func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return "\(scaled)"
}
