import FoundationEssentials
internal import Checks
internal import HostFiles
internal import Systemd

/// The `Checks` module's checks, the same list `harbor-keyless doctor` runs, as the daemon's
/// readiness source. Host, restart, journal and pull-safety checks read only the node and run
/// every cycle. The others call the API server, the kubelet or a registry, so they run on
/// the API check schedule.
public struct ChecksReadiness: ReadinessSource {
    let api: DaemonAPI?
    let environment: [String: String]
    let timeout: Duration
    /// Shared by every run, so each node reads the API server's /metrics only when its version
    /// changes or the entry is six hours old.
    let apiserverGates = APIServerGateCache()

    static let localAreas: Set<CheckArea> = [.host, .restart, .journal, .pullSafety]

    public init(api: DaemonAPI?, environment: [String: String], timeout: Duration = .seconds(10)) {
        self.api = api
        self.environment = environment
        self.timeout = timeout
    }

    public func run(_ scope: CheckScope, configuration: AgentConfiguration) async -> [ReadinessCheck] {
        let checks = Check.all.filter { Self.localAreas.contains($0.area) == (scope == .local) }
        let root: HostRoot
        let layout: ProviderLayout
        do {
            root = try HostRoot(configuration.hostRoot)
            layout = try ProviderLayout(configuration: configuration)
        } catch {
            return [ReadinessCheck(id: "configuration", status: .fail, message: "\(error)")]
        }

        let context = CheckContext(
            setup: NodeSetup(configuration, layout: layout),
            root: root,
            api: api.map { .client($0.client) } ?? .unavailable(reason: "the daemon runs without API credentials"),
            nodeName: api?.nodeName ?? environment["NODE_NAME"],
            journal: SystemdJournal(JournalReader(source: configuration.hostRoot == "/" ? .local : .osRoot(configuration.hostRoot))),
            serviceStatus: serviceStatus(hostRoot: configuration.hostRoot),
            environment: environment,
            timeout: timeout,
            apiserverGates: apiserverGates
        )
        let outcomes = await CheckRunner.run(checks, context: context)
        return outcomes.map {
            ReadinessCheck(id: $0.id, status: ReadinessCheck.Status(rawValue: $0.result.status.rawValue) ?? .warn, message: $0.result.message)
        }
    }

    /// systemd's view of the k3s unit, where the system bus is reachable: on the node itself,
    /// in a pod that mounts the host's bus socket, or with DBUS_SYSTEM_BUS_ADDRESS set.
    private func serviceStatus(hostRoot: String) -> any ServiceStatusSource {
        let inPod = !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty
        guard hostRoot == "/" || inPod || environment["DBUS_SYSTEM_BUS_ADDRESS"] != nil else { return NoServiceStatus() }
        guard let manager = try? SystemdManager.connect() else { return NoServiceStatus() }
        return SystemdServiceStatus(manager)
    }
}
