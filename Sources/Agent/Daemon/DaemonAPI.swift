import FoundationEssentials
internal import KubeAPI

/// The daemon's connection to the API server, with the names it writes under.
public struct DaemonAPI: Sendable {
    let client: KubeClient
    public let nodeName: String
    /// Namespace of the restart Leases: the agent's own (POD_NAMESPACE in the DaemonSet).
    public let leaseNamespace: String
    /// Namespace of the readiness Events. `default` is where the kubelet posts its own Node
    /// events, and a node identity may create Events there.
    public let eventNamespace: String
    /// Source of the credentials for the start line, such as a kubeconfig path. Never their content.
    public let origin: String

    init(client: KubeClient, nodeName: String, leaseNamespace: String, eventNamespace: String = "default") {
        self.client = client
        self.nodeName = nodeName
        self.leaseNamespace = leaseNamespace
        self.eventNamespace = eventNamespace
        self.origin = client.credentials.origin
    }

    /// Finds credentials (an explicit kubeconfig, the pod's service account, or the kubelet's
    /// kubeconfig under the host root) and the node name (`nodeName`, else the client
    /// certificate's `system:node:<name>`, else NODE_NAME).
    public static func discover(
        kubeconfig: String?,
        hostRoot: String,
        environment: [String: String],
        nodeName: String?,
        leaseNamespace: String?
    ) throws -> DaemonAPI {
        let credentials = try CredentialDiscovery.discover(explicitKubeconfig: kubeconfig, hostRoot: hostRoot, environment: environment)
        guard let node = try nodeName ?? credentials.nodeName(environment: environment) else {
            throw DaemonError(
                "the node name is unknown: the credentials carry no system:node:<name> certificate and NODE_NAME is unset",
                fix: "pass --node-name, or set NODE_NAME (the DaemonSet sets it from spec.nodeName)"
            )
        }
        let namespace = leaseNamespace ?? environment["POD_NAMESPACE"] ?? credentials.namespace ?? "harbor-keyless"
        return DaemonAPI(client: KubeClient(credentials: credentials), nodeName: node, leaseNamespace: namespace)
    }
}

/// A daemon setting or start-up step that failed, with the fix.
public struct DaemonError: Error, CustomStringConvertible {
    public var message: String
    public var fix: String

    public init(_ message: String, fix: String) {
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(message): \(fix)" }
}
