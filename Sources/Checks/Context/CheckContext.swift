import FoundationEssentials
public import HostFiles
public import KubeAPI

/// How the checks reach the Kubernetes API: a client with the identity it uses, or the
/// reason there is none (API checks then skip and repeat that reason).
public enum APIAccess: Sendable {
    case client(KubeClient)
    case unavailable(reason: String)
}

/// Everything a check may read. Shared read-only by all checks of one run; facts that
/// several checks need (the Node, /metrics, the journal) are fetched once per run.
public struct CheckContext: Sendable {
    public var setup: NodeSetup
    public var options: DoctorOptions
    public var root: HostRoot
    public var api: APIAccess
    /// The node these checks are about; nil when neither credentials nor NODE_NAME name it.
    public var nodeName: String?
    /// The kubelet's HTTPS endpoint (`host`, `port`); nil to use the Node's InternalIP and 10250.
    public var kubeletEndpoint: (host: String, port: Int)?
    public var journal: any JournalSource
    public var serviceStatus: any ServiceStatusSource
    /// The process environment: `KUBERNETES_SERVICE_HOST` shows that this runs in a pod,
    /// `HARBOR_KEYLESS_IMAGE` names the agent's image.
    public var environment: [String: String]
    public var now: @Sendable () -> Date
    /// Time each check may take before it is reported as timed out.
    public var timeout: Duration
    /// Path of the pod's service account token, when running in a pod.
    public var podTokenPath: String
    /// Feature gates read from the API server's /metrics by an earlier run; nil reads them
    /// every run.
    public var apiserverGates: APIServerGateCache?

    let facts: FactCache

    public init(
        setup: NodeSetup,
        options: DoctorOptions = DoctorOptions(),
        root: HostRoot,
        api: APIAccess,
        nodeName: String?,
        kubeletEndpoint: (host: String, port: Int)? = nil,
        journal: any JournalSource,
        serviceStatus: any ServiceStatusSource = NoServiceStatus(),
        environment: [String: String] = [:],
        now: @escaping @Sendable () -> Date = { Date() },
        timeout: Duration = .seconds(10),
        podTokenPath: String = "/var/run/secrets/kubernetes.io/serviceaccount/token",
        apiserverGates: APIServerGateCache? = nil
    ) {
        self.setup = setup
        self.options = options
        self.root = root
        self.api = api
        self.nodeName = nodeName
        self.kubeletEndpoint = kubeletEndpoint
        self.journal = journal
        self.serviceStatus = serviceStatus
        self.environment = environment
        self.now = now
        self.timeout = timeout
        self.podTokenPath = podTokenPath
        self.apiserverGates = apiserverGates
        self.facts = FactCache()
    }

    /// True when this process runs in a Kubernetes pod.
    var inPod: Bool { !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty }

    var client: KubeClient? {
        if case .client(let client) = api { return client }
        return nil
    }

    /// The skip result of an API check when there is no client.
    var noAPIResult: CheckResult {
        if case .unavailable(let reason) = api { return .skip("no API access: \(reason)") }
        return .skip("no API access")
    }
}

/// Memoizes facts several checks need, so parallel checks make each call once per run.
actor FactCache {
    private var tasks: [String: Task<any Sendable, Never>] = [:]

    func value<Value: Sendable>(_ key: String, _ make: @escaping @Sendable () async -> Value) async -> Value {
        if let task = tasks[key] {
            return await task.value as! Value
        }
        let task = Task<any Sendable, Never> { await make() }
        tasks[key] = task
        return await task.value as! Value
    }
}
