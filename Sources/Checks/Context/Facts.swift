import FoundationEssentials
import HostFiles
import K3sConfig
import KubeAPI

/// Facts shared by several checks, each read once per run.
extension CheckContext {
    func hostLayout() async -> Result<HostLayout, CheckFailure> {
        await facts.value("host-layout") { [root, setup] in
            Result { () throws(CheckFailure) -> HostLayout in try HostLayout.read(root: root, k3sConfigPath: setup.k3sConfigPath) }
        }
    }

    func apiVersion() async -> Result<KubeVersion, KubeAPIError>? {
        guard let client else { return nil }
        return await facts.value("version") { await capture { () async throws(KubeAPIError) in try await client.version() } }
    }

    func node() async -> Result<Node, KubeAPIError>? {
        guard let client, let nodeName else { return nil }
        return await facts.value("node") { await capture { () async throws(KubeAPIError) in try await client.node(nodeName) } }
    }

    /// The API server's feature gates from its /metrics (`kubernetes_feature_enabled`), from
    /// `apiserverGates` while it contains them for the API server's current version.
    func apiserverFeatureGates() async -> Result<[String: Bool], KubeAPIError>? {
        guard let client else { return nil }
        var version: String?
        if case .success(let body)? = await apiVersion() {
            version = body.gitVersion
        }
        if let version, let cached = apiserverGates?.gates(version: version) {
            return .success(cached)
        }
        let result = await facts.value("apiserver-gates") {
            await capture { () async throws(KubeAPIError) in
                PrometheusText.featureGates(String(decoding: try await client.rawGet("/metrics", accept: "text/plain").body, as: UTF8.self))
            }
        }
        if case .success(let gates) = result, let version {
            apiserverGates?.store(gates, version: version)
        }
        return result
    }

    /// The kubelet's own /metrics (authorized as `get nodes/metrics`), never through the API
    /// server's node proxy, which needs `nodes/proxy` and that permission allows exec into
    /// every pod on the node.
    func kubeletMetrics() async -> Result<String, KubeAPIError>? {
        guard let client else { return nil }
        var endpoint = kubeletEndpoint
        if endpoint == nil, case .success(let node)? = await node(),
            let address = node.status?.addresses?.first(where: { $0.type == "InternalIP" })?.address
        {
            endpoint = (address, 10250)
        }
        // NOTE: without a Node address this assumes the kubelet's serving certificate covers
        // 127.0.0.1, which is not verified against a real k3s node.
        let (host, port) = endpoint ?? ("127.0.0.1", 10250)
        let kubelet = client.kubelet(host: host, port: port)
        return await facts.value("kubelet-metrics") {
            await capture { () async throws(KubeAPIError) in
                String(decoding: try await kubelet.rawGet("/metrics", accept: "text/plain").body, as: UTF8.self)
            }
        }
    }

    /// Recent records of the k3s unit: at most 5000, from the last 24 hours.
    func journalEntries() async -> Result<[JournalEntry], JournalError> {
        let unit = unitName()
        let since = now().addingTimeInterval(-24 * 3600)
        return await facts.value("journal") { [journal] in
            await capture { () async throws(JournalError) in try await journal.recentEntries(unit: unit, limit: 5000, since: since) }
        }
    }

    /// Returns the records of the unit's current invocation: those carrying the invocation id
    /// systemd reports for the unit, else the newest record's id (all records when the source
    /// has no ids). After k3s stopped, the newest records belong to a process that is gone.
    func currentInvocationEntries() async -> Result<[JournalEntry], JournalError> {
        let systemdInvocation = await serviceStatus.status(unit: unitName())?.invocationID
        return await journalEntries().map { entries in
            guard let current = systemdInvocation ?? entries.last?.invocationID else { return entries }
            return entries.filter { $0.invocationID == current }
        }
    }

    /// Returns the k3s unit: the configured one, else the only k3s unit file (`k3s.service`,
    /// `k3s-agent.service`, `k3s-<name>.service`), else the only one enabled in
    /// multi-user.target.wants, else `k3s.service`.
    func unitName() -> String {
        if let unit = setup.unit { return unit.hasSuffix(".service") ? unit : unit + ".service" }
        var candidates: Set<String> = []
        for directory in ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"] {
            for name in (try? root.list(directory)) ?? nil ?? [] where name == "k3s.service" || (name.hasPrefix("k3s-") && name.hasSuffix(".service")) {
                candidates.insert(name)
            }
        }
        if candidates.count == 1 { return candidates.first! }
        let wants = Set((try? root.list("/etc/systemd/system/multi-user.target.wants")) ?? nil ?? [])
        let enabled = candidates.intersection(wants)
        if enabled.count == 1 { return enabled.first! }
        return "k3s.service"
    }

    /// Returns the result for an API call that failed: a missing permission skips and names it,
    /// anything else warns that the fact could not be checked.
    func apiProblem(_ error: KubeAPIError, checking what: String) -> CheckResult {
        if case .forbidden(let verb, let resource, _, _) = error {
            let identity = client?.credentials.origin ?? "this identity"
            return .skip("\(what) not checked: the identity (\(identity)) may not \(verb) \(resource)")
        }
        return .warn("\(what) not checked: \(error)", remedy: "check that the API server is reachable from this node, or rerun with --kubeconfig")
    }
}
