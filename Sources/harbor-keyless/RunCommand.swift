import Agent
import FoundationEssentials

/// `harbor-keyless run`: the node daemon.
enum RunCommand {
    static let specs: [OptionSpec] = [
        OptionSpec(name: "interval", valueName: "DURATION", help: "time between reconcile cycles, jittered by 10-20% (default 60s, at least 1s)"),
        OptionSpec(name: "api-check-interval", valueName: "DURATION", help: "time between checks that call the API server, unless something changed (default 30m, at least 1m)"),
        OptionSpec(name: "heartbeat", valueName: "DURATION", help: "rewrite the unchanged node condition after this long (default 30m, at least 1m)"),
        OptionSpec(name: "listen", valueName: "ADDR:PORT", help: "address of /healthz, /status and /metrics (default 127.0.0.1:9765; the DaemonSet keeps it, and its probes run `harbor-keyless health` in the pod)"),
        OptionSpec(name: "max-concurrent-restarts", valueName: "N", help: "nodes that may restart k3s at once across the cluster (default 1)"),
        OptionSpec(name: "lease-wait", valueName: "DURATION", help: "how long a restart waits for a free restart Lease (default 10m, at least 1s)"),
        OptionSpec(name: "kubeconfig", valueName: "PATH", help: "kubeconfig of the identity to report with (default: the pod's service account, then the kubelet's kubeconfig)"),
        OptionSpec(name: "node-name", valueName: "NAME", help: "this node's name (default: from the client certificate, then NODE_NAME)"),
        OptionSpec(name: "namespace", valueName: "NAMESPACE", help: "namespace of the restart Leases (default: POD_NAMESPACE, then the service account's)"),
        OptionSpec(name: "no-api", valueName: nil, help: "do not contact the API server: no node condition, events or restart Leases"),
    ]

    static let command = Command(
        name: "run",
        summary: "Run the node daemon: install, repair drift, check, report readiness.",
        usage: "harbor-keyless run [options]",
        options: ConfigurationOptions.specs + RestartOptions.specs.filter { $0.name != "force" } + specs,
        run: { options in try await run(options) }
    )

    private static func run(_ options: ParsedOptions) async throws -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try ConfigurationOptions.load(options)
        let restartSettings = try RestartOptions.settings(options)

        var settings = DaemonSettings()
        if let text = options.value("interval") {
            settings.interval = try Durations.duration(text, field: "--interval", minimum: DaemonSettings.minimumInterval)
        }
        if let text = options.value("api-check-interval") {
            settings.apiCheckInterval = try Durations.duration(
                text, field: "--api-check-interval", minimum: DaemonSettings.minimumAPICheckInterval)
        }
        if let text = options.value("heartbeat") {
            settings.conditionHeartbeat = try Durations.duration(
                text, field: "--heartbeat", minimum: DaemonSettings.minimumConditionHeartbeat)
        }
        if let text = options.value("lease-wait") {
            settings.leaseWait = try Durations.duration(text, field: "--lease-wait", minimum: DaemonSettings.minimumLeaseWait)
        }
        if let text = options.value("listen") {
            do {
                try HTTPEndpoint.validate(listen: text)
            } catch {
                throw UsageError("--listen: \(error)")
            }
            settings.listen = text
        }
        if let text = options.value("max-concurrent-restarts") {
            guard let count = Int(text), (1...100).contains(count) else {
                throw UsageError("--max-concurrent-restarts \(text.debugDescription) is not a number from 1 to 100")
            }
            settings.maxConcurrentRestarts = count
        }

        // Without API credentials the daemon still repairs files and serves its endpoint.
        let logger = DaemonLogger()
        var api: DaemonAPI?
        if !options.flag("no-api") {
            do {
                api = try DaemonAPI.discover(
                    kubeconfig: options.value("kubeconfig"),
                    hostRoot: configuration.hostRoot,
                    environment: environment,
                    nodeName: options.value("node-name"),
                    leaseNamespace: options.value("namespace")
                )
            } catch {
                if options.value("kubeconfig") != nil { throw error }
                logger.warning("running without the API server: no node condition, events or restart Leases", [("error", "\(error)")])
            }
        }

        // Credentials that appear later (k3s writes the kubelet's kubeconfig at its first
        // start) are picked up by the running daemon.
        let kubeconfig = options.value("kubeconfig")
        let nodeName = options.value("node-name")
        let leaseNamespace = options.value("namespace")
        let hostRoot = configuration.hostRoot
        let discovery: @Sendable () throws -> (DaemonAPI, any ReadinessSource) = {
            let found = try DaemonAPI.discover(
                kubeconfig: kubeconfig, hostRoot: hostRoot, environment: environment, nodeName: nodeName, leaseNamespace: leaseNamespace
            )
            return (found, ChecksReadiness(api: found, environment: environment))
        }

        let configurationFile = options.value("config") ?? environment[ConfigurationLayer.EnvironmentKey.configFile] ?? AgentConfiguration.defaultFilePath
        let daemon = NodeDaemon(
            configuration: configuration,
            settings: settings,
            restartSettings: restartSettings,
            configurationFile: configurationFile,
            reload: { try ConfigurationOptions.load(options) },
            api: api,
            checks: ChecksReadiness(api: api, environment: environment),
            discoverAPI: options.flag("no-api") ? nil : discovery,
            logger: logger
        )
        return await daemon.run(signals: daemonSignals())
    }
}
