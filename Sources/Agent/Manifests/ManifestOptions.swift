/// Input of `harbor-keyless manifests`: the agent's configuration plus the cluster-side
/// choices (namespace, image, RBAC, resources).
public struct ManifestOptions: Sendable, Equatable {
    /// Written into the ConfigMap as the agent's `config.yaml`. `hostRoot` and `pluginSource`
    /// are left out, because in the pod the host root comes from the environment and the
    /// plugin from the image.
    public var configuration: AgentConfiguration

    /// Namespace of every namespaced object, and of the restart Leases.
    public var namespace: String

    /// Renders the Namespace object, labelled for privileged pods. Off when the namespace
    /// exists already, because `kubectl delete -f` on the output would delete it.
    public var createNamespace: Bool

    /// Image reference of the agent, also passed to it as `HARBOR_KEYLESS_IMAGE`.
    public var image: String

    /// Renders the uninstall DaemonSet, which runs `harbor-keyless uninstall` once per node and
    /// then sleeps, in place of the agent.
    public var uninstall: Bool

    /// Renders the ClusterRole and binding that let `system:nodes` request tokens for the
    /// registry audiences. Clusters that grant this elsewhere turn it off.
    public var nodeAudienceRBAC: Bool

    /// Maximum number of nodes that may restart k3s at the same time, across the cluster.
    public var restartMaxConcurrent: Int

    public var resources: ManifestResources

    public static let defaultNamespace = "harbor-keyless"

    /// Namespaces every cluster has. The output never contains a Namespace object for them,
    /// whatever the value of `createNamespace`, so it can neither relabel nor delete them.
    public static let builtInNamespaces: Set<String> = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// True when the output contains the Namespace object.
    public var rendersNamespace: Bool { createNamespace && !Self.builtInNamespaces.contains(namespace) }
    public static let name = "harbor-keyless"

    /// The image that `packaging/image/build.sh` tags for this version. k3s finds it without
    /// a registry once the archive is imported from `agent/images/`.
    public static var defaultImage: String { "localhost/harbor-keyless:\(AgentVersion.current)" }

    public init(
        configuration: AgentConfiguration,
        namespace: String = Self.defaultNamespace,
        createNamespace: Bool = true,
        image: String = Self.defaultImage,
        uninstall: Bool = false,
        nodeAudienceRBAC: Bool = true,
        restartMaxConcurrent: Int = 1,
        resources: ManifestResources = ManifestResources()
    ) {
        self.configuration = configuration
        self.namespace = namespace
        self.createNamespace = createNamespace
        self.image = image
        self.uninstall = uninstall
        self.nodeAudienceRBAC = nodeAudienceRBAC
        self.restartMaxConcurrent = restartMaxConcurrent
        self.resources = resources
    }

    /// Checks the values that end up in object names and references.
    public func validate() throws(ConfigurationError) {
        if !Self.isDNSLabel(namespace) {
            throw ConfigurationError(
                "namespace \(InputValidation.quoted(namespace)) is not a valid Kubernetes namespace name",
                fix: "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
            )
        }
        if image.isEmpty || image.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            throw ConfigurationError(
                "image reference \(InputValidation.quoted(image)) is invalid",
                fix: "pass --image with a reference such as registry.example.com/harbor-keyless:\(AgentVersion.current)"
            )
        }
        let mountedDirectories = [HostMounts.parentDirectory(configuration.k3sConfigPath), configuration.stateDirectory]
        for directory in mountedDirectories where directory == "/" {
            throw ConfigurationError(
                "the k3s config \(configuration.k3sConfigPath) or the state directory \(configuration.stateDirectory) would make the pod mount the node's root directory",
                fix: "keep the k3s config and the state directory in directories of their own"
            )
        }
        if !(1...100).contains(restartMaxConcurrent) {
            throw ConfigurationError(
                "the maximum number of concurrent restarts is \(restartMaxConcurrent)",
                fix: "pass a number from 1 to 100, the range `harbor-keyless run --max-concurrent-restarts` accepts"
            )
        }
        if !uninstall && configuration.registries.isEmpty {
            throw ConfigurationError(
                "no registry is configured",
                fix: "pass --registry HOST, or list `registries:` in the file given with --config"
            )
        }
    }

    /// RFC 1123 label, the rule for namespace names (Kubernetes `IsDNS1123Label`).
    private static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        let alphanumeric: (UInt8) -> Bool = { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
        guard alphanumeric(bytes[0]), alphanumeric(bytes[bytes.count - 1]) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D }
    }
}

/// Container resources, sized from the release build's max RSS (`/usr/bin/time -f %M`,
/// stripped binaries as in the image). `version` takes 16 MB. `install` onto a k3s node
/// tree takes 34 MB on the first run and 44 MB on an unchanged run, because it holds the
/// 8 MB plugin in memory more than once. The request covers the daemon's idle footprint; the limit covers
/// an install peak plus the exec probe's own `harbor-keyless health` process (about 16 MB)
/// plus page cache for the plugin it writes. No CPU limit, because CFS throttling would
/// stretch restart verification without saving anything on an agent that idles.
public struct ManifestResources: Sendable, Equatable {
    public var cpuRequest: String
    public var memoryRequest: String
    public var memoryLimit: String

    public init(cpuRequest: String = "10m", memoryRequest: String = "32Mi", memoryLimit: String = "128Mi") {
        self.cpuRequest = cpuRequest
        self.memoryRequest = memoryRequest
        self.memoryLimit = memoryLimit
    }
}
