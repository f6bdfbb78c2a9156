import FoundationEssentials
import K3sConfig
import KubeAPI

extension Check {
    /// The kubelet gate that lets it mint tokens for credential providers is on.
    static let kubeletTokenGate = Check(
        id: "feature-gates.kubelet-token", title: "Kubelet token gate on", area: .featureGates
    ) { context in
        let gate = FeatureGateDefaults.kubeletTokenGate
        let value = await GateReading.read(context, gate: gate, component: .kubelet)
        switch value {
        case .known(true, let source):
            return .pass("\(gate) is on (from \(source))")
        case .known(false, let source):
            return .fail(
                "\(gate) is off (from \(source)): the kubelet rejects a provider config with tokenAttributes and k3s does not start",
                remedy: "remove \(gate)=false from kubelet-arg feature-gates, or on 1.33 set kubelet-arg: [\"feature-gates=\(gate)=true\"]; better upgrade to 1.34+"
            )
        case .absent(let source):
            return .fail("this kubelet (from \(source)) has no \(gate) gate: it predates 1.33", remedy: "upgrade k3s to v1.34 or newer")
        case .unknown(let result):
            return result
        }
    }

    /// The API server gate that makes node-audience RBAC necessary.
    static let nodeAudienceGate = Check(
        id: "feature-gates.node-audience", title: "API server node-audience restriction", area: .featureGates
    ) { context in
        let gate = FeatureGateDefaults.nodeAudienceGate
        switch await GateReading.read(context, gate: gate, component: .apiserver) {
        case .known(true, let source):
            return .pass("\(gate) is on (from \(source)): the kubelet may request only audiences RBAC grants to nodes (see cluster.node-audience-rbac)")
        case .known(false, let source):
            return .pass("\(gate) is off (from \(source)): nodes may request tokens for any audience; node-audience RBAC is not needed yet but becomes needed when the gate turns on")
        case .absent(let source):
            return .pass("this API server (from \(source)) has no \(gate) gate: audiences are not restricted")
        case .unknown(let result):
            return result
        }
    }
}

/// A gate's value and its source.
enum GateReading {
    enum Component {
        case kubelet, apiserver
    }

    case known(Bool, source: String)
    case absent(source: String)
    case unknown(CheckResult)

    /// Reads the gate from the component's /metrics where permitted, else from the version
    /// default plus `feature-gates` in kubelet-arg or kube-apiserver-arg of the k3s files.
    static func read(_ context: CheckContext, gate: String, component: Component) async -> GateReading {
        // 1. /metrics: the effective value.
        var metricsNote = "no API access"
        let gates: Result<[String: Bool], KubeAPIError>?
        if component == .kubelet {
            gates = await context.kubeletMetrics()?.map(PrometheusText.featureGates)
        } else {
            gates = await context.apiserverFeatureGates()
        }
        let path = component == .kubelet ? "kubelet /metrics" : "API server /metrics"
        switch gates {
        case .success(let values)?:
            if let value = values[gate] { return .known(value, source: path) }
            metricsNote = "\(path) has no kubernetes_feature_enabled sample for it"
        case .failure(let error)?:
            if case .forbidden(let verb, let resource, _, _) = error {
                metricsNote = "\(path) not permitted (\(verb) \(resource))"
            } else {
                metricsNote = "\(path) failed: \(error)"
            }
        case nil:
            break
        }

        // 2. Version default plus configured gates.
        var version: (KubernetesVersion, String)?
        if component == .kubelet {
            version = await context.targetKubeletVersion().map { ($0.version, $0.source) }
        } else if case .success(let body)? = await context.apiVersion(), let parsed = KubernetesVersion(parsing: body.gitVersion) {
            version = (parsed, "API server /version")
        } else if case .success(let disk) = await context.diskK3sVersion() {
            version = (disk.version, disk.binary)
        }
        let key = component == .kubelet ? "kubelet-arg" : "kube-apiserver-arg"
        if case .success(let layout) = await context.hostLayout(), let gates = try? layout.effective.featureGates(forKey: key),
            let value = gates[gate]
        {
            return .known(value, source: "\(key) feature-gates in \(layout.effective.source(forKey: key) ?? "the k3s configuration"); \(metricsNote)")
        }
        guard let (parsed, origin) = version else {
            return .unknown(.skip("\(gate) cannot be read: \(metricsNote), and the version is unknown"))
        }
        let defaultValue = component == .kubelet ? FeatureGateDefaults.kubeletTokenGate(parsed) : FeatureGateDefaults.nodeAudienceGate(parsed)
        guard let defaultValue else { return .absent(source: "version \(parsed) from \(origin)") }
        return .known(defaultValue, source: "the default of \(parsed) from \(origin); \(metricsNote)")
    }
}
