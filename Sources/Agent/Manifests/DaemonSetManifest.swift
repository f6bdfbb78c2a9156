internal import YAML

/// The DaemonSet that runs the agent on every Linux amd64 node, and its uninstall variant.
enum DaemonSetManifest {
    /// Mount point of the node's file system inside the container.
    static let hostRoot = "/host"
    static let configDirectory = "/etc/harbor-keyless"
    static let executable = "/usr/bin/harbor-keyless"

    /// Long enough for a k3s restart in progress to finish its verification (the default
    /// settle window is 60 s) before the kubelet kills the agent.
    static let terminationGracePeriodSeconds = 90

    static func agent(_ options: ManifestOptions) -> YAMLNode {
        let configuration = options.configuration
        let mounts = HostMounts.agent(configuration)

        // Probes run `harbor-keyless health` inside the container, which requests the agent's
        // /healthz on 127.0.0.1:9765 in the pod's own network namespace. An httpGet probe would
        // need the endpoint on the pod IP, exposing /metrics to the pod network, or
        // hostNetwork, which puts port 9765 on every node address. Probes check only that the
        // agent's loop is alive; node readiness goes to the node condition, so one
        // cluster-wide fault cannot make every pod unready and stall a rollout.
        let probe = mapping([
            "exec": mapping(["command": .strings([executable, "health"])]),
            "initialDelaySeconds": integer(10),
            "periodSeconds": integer(30),
            "timeoutSeconds": integer(10),
            "failureThreshold": integer(5),
        ])

        let container = mapping([
            "name": .string("agent"),
            "image": .string(options.image),
            "imagePullPolicy": .string("IfNotPresent"),
            "command": .strings([executable, "run", "--max-concurrent-restarts", String(options.restartMaxConcurrent)]),
            "env": .sequence(environment(options)),
            "securityContext": securityContext(),
            "resources": resources(options.resources),
            "livenessProbe": probe,
            "readinessProbe": probe,
            "volumeMounts": .sequence(configVolumeMount() + HostMounts.volumeMounts(mounts)),
        ])

        return daemonSet(
            name: ManifestOptions.name,
            options: options,
            component: "agent",
            podSpecPairs: [
                ("serviceAccountName", .string(ManifestOptions.name)),
                ("priorityClassName", .string("system-node-critical")),
                ("terminationGracePeriodSeconds", integer(terminationGracePeriodSeconds)),
                ("nodeSelector", nodeSelector()),
                ("tolerations", tolerations()),
                ("containers", .sequence([container])),
                ("volumes", .sequence(configVolume() + HostMounts.volumes(mounts))),
            ]
        )
    }

    /// Runs `harbor-keyless uninstall` once per node in an init container, then keeps the pod
    /// running with `harbor-keyless pause`, so a rollout that reports every pod ready means
    /// every node is done. The scratch image has no shell or sleep, hence `pause`.
    static func uninstall(_ options: ManifestOptions) -> YAMLNode {
        let mounts = HostMounts.uninstall(options.configuration)
        let hasConfig = !options.configuration.registries.isEmpty
        let configMounts = hasConfig ? configVolumeMount() : []

        let uninstallContainer = mapping([
            "name": .string("uninstall"),
            "image": .string(options.image),
            "imagePullPolicy": .string("IfNotPresent"),
            // Never restart here: every pod of a new DaemonSet starts at once, so restarts
            // would hit every node together. The executables stay until k3s restarts.
            "command": .strings([executable, "uninstall", "--restart", "never"]),
            "env": .sequence([
                mapping(["name": .string("HARBOR_KEYLESS_HOST_ROOT"), "value": .string(hostRoot)])
            ]),
            "securityContext": securityContext(),
            "resources": resources(options.resources),
            "volumeMounts": .sequence(configMounts + HostMounts.volumeMounts(mounts)),
        ])
        let pauseContainer = mapping([
            "name": .string("done"),
            "image": .string(options.image),
            "imagePullPolicy": .string("IfNotPresent"),
            "command": .strings([executable, "pause"]),
            "securityContext": mapping([
                "allowPrivilegeEscalation": .bool(false),
                "readOnlyRootFilesystem": .bool(true),
                "capabilities": mapping(["drop": .strings(["ALL"])]),
            ]),
            "resources": resources(options.resources),
        ])

        return daemonSet(
            name: "\(ManifestOptions.name)-uninstall",
            options: options,
            component: "uninstall",
            podSpecPairs: [
                ("serviceAccountName", .string(ManifestOptions.name)),
                // The uninstall makes no API calls.
                ("automountServiceAccountToken", .bool(false)),
                ("priorityClassName", .string("system-node-critical")),
                ("nodeSelector", nodeSelector()),
                ("tolerations", tolerations()),
                ("initContainers", .sequence([uninstallContainer])),
                ("containers", .sequence([pauseContainer])),
                ("volumes", .sequence((hasConfig ? configVolume() : []) + HostMounts.volumes(mounts))),
            ]
        )
    }

    // MARK: - Parts

    private static func daemonSet(
        name: String, options: ManifestOptions, component: String, podSpecPairs: [(String, YAMLNode)]
    ) -> YAMLNode {
        let selector = mapping([
            "app.kubernetes.io/name": .string(ManifestOptions.name),
            "app.kubernetes.io/component": .string(component),
        ])
        return mapping([
            "apiVersion": .string("apps/v1"),
            "kind": .string("DaemonSet"),
            "metadata": metadata(name: name, namespace: options.namespace, component: component),
            "spec": mapping([
                "selector": mapping(["matchLabels": selector]),
                // One node at a time: each new pod may restart k3s on its node.
                "updateStrategy": mapping([
                    "type": .string("RollingUpdate"),
                    "rollingUpdate": mapping(["maxUnavailable": integer(1)]),
                ]),
                "template": mapping([
                    "metadata": mapping(["labels": labels(component: component)]),
                    "spec": mapping(podSpecPairs),
                ]),
            ]),
        ])
    }

    private static func environment(_ options: ManifestOptions) -> [YAMLNode] {
        func value(_ name: String, _ value: String) -> YAMLNode {
            mapping(["name": .string(name), "value": .string(value)])
        }
        func field(_ name: String, _ path: String) -> YAMLNode {
            mapping([
                "name": .string(name),
                "valueFrom": mapping(["fieldRef": mapping(["fieldPath": .string(path)])]),
            ])
        }
        return [
            value("HARBOR_KEYLESS_HOST_ROOT", hostRoot),
            // The node name for the node condition and Events; the hostname of a pod is its own.
            field("NODE_NAME", "spec.nodeName"),
            // The namespace of the restart Leases.
            field("POD_NAMESPACE", "metadata.namespace"),
            value("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=\(hostRoot)/run/dbus/system_bus_socket"),
            // The agent warns when its own image would be pulled through its own provider.
            value("HARBOR_KEYLESS_IMAGE", options.image),
        ]
    }

    /// Privileged root: the agent writes root-owned host files, connects to the host's system
    /// bus as root (systemd lets only root restart units without polkit) and runs the host's
    /// k3s binary. The image's own file system is never written.
    private static func securityContext() -> YAMLNode {
        mapping([
            "privileged": .bool(true),
            "runAsUser": integer(0),
            "readOnlyRootFilesystem": .bool(true),
        ])
    }

    private static func resources(_ resources: ManifestResources) -> YAMLNode {
        mapping([
            "requests": mapping([
                "cpu": .string(resources.cpuRequest),
                "memory": .string(resources.memoryRequest),
            ]),
            "limits": mapping([
                "memory": .string(resources.memoryLimit)
            ]),
        ])
    }

    private static func nodeSelector() -> YAMLNode {
        mapping([
            "kubernetes.io/arch": .string("amd64"),
            "kubernetes.io/os": .string("linux"),
        ])
    }

    /// Tolerates every taint, because a node the agent skips cannot pull from Harbor.
    private static func tolerations() -> YAMLNode {
        .sequence([mapping(["operator": .string("Exists")])])
    }

    private static func configVolume() -> [YAMLNode] {
        [
            mapping([
                "name": .string("config"),
                "configMap": mapping(["name": .string(ManifestOptions.name)]),
            ])
        ]
    }

    private static func configVolumeMount() -> [YAMLNode] {
        [
            mapping([
                "name": .string("config"),
                "mountPath": .string(configDirectory),
                "readOnly": .bool(true),
            ])
        ]
    }
}
