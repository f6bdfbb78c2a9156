internal import YAML

/// Kubernetes manifests that run the agent as a DaemonSet, printed by
/// `harbor-keyless manifests`.
public enum Manifests {
    /// Renders every object as one multi-document YAML stream, in the order `kubectl apply`
    /// needs: the namespace first, then the objects in it and the RBAC, the DaemonSet last.
    public static func render(_ options: ManifestOptions) throws -> String {
        try options.validate()
        var text = ""
        for document in try documents(options) {
            text += "---\n" + (try YAML.emit(document))
        }
        return text
    }

    static func documents(_ options: ManifestOptions) throws -> [YAMLNode] {
        let namespace = options.namespace
        var documents: [YAMLNode] = []
        if options.rendersNamespace {
            documents.append(namespaceObject(namespace))
        }
        documents.append(serviceAccount(namespace))
        let hasConfig = !options.configuration.registries.isEmpty
        if hasConfig {
            documents.append(try configMap(options))
        }

        if options.uninstall {
            documents.append(DaemonSetManifest.uninstall(options))
            return documents
        }

        documents += [
            RBACManifests.agentClusterRole(),
            RBACManifests.agentClusterRoleBinding(namespace: namespace),
            RBACManifests.leaseRole(namespace: namespace),
            RBACManifests.leaseRoleBinding(namespace: namespace),
        ]
        if options.nodeAudienceRBAC {
            documents.append(RBACManifests.nodeAudienceClusterRole(audiences: audiences(options.configuration)))
            documents.append(RBACManifests.nodeAudienceClusterRoleBinding())
        }
        documents.append(DaemonSetManifest.agent(options))
        return documents
    }

    /// Returns each audience once, in registry order.
    static func audiences(_ configuration: AgentConfiguration) -> [String] {
        var seen: Set<String> = []
        return configuration.registries.map(\.audience).filter { seen.insert($0).inserted }
    }

    /// The namespace runs privileged pods, so Pod Security Admission must allow them there.
    private static func namespaceObject(_ name: String) -> YAMLNode {
        var namespaceLabels = labels(component: "agent").mapping ?? []
        namespaceLabels.append(YAMLPair(key: "pod-security.kubernetes.io/enforce", value: .string("privileged")))
        return mapping([
            "apiVersion": .string("v1"),
            "kind": .string("Namespace"),
            "metadata": mapping([
                "name": .string(name),
                "labels": .mapping(namespaceLabels),
            ]),
        ])
    }

    private static func serviceAccount(_ namespace: String) -> YAMLNode {
        mapping([
            "apiVersion": .string("v1"),
            "kind": .string("ServiceAccount"),
            "metadata": metadata(name: ManifestOptions.name, namespace: namespace, component: "agent"),
        ])
    }

    private static func configMap(_ options: ManifestOptions) throws -> YAMLNode {
        let file = try YAML.emit(options.configuration.configFileYAML())
        return mapping([
            "apiVersion": .string("v1"),
            "kind": .string("ConfigMap"),
            "metadata": metadata(name: ManifestOptions.name, namespace: options.namespace, component: "agent"),
            "data": mapping(["config.yaml": .scalar(file, style: .literal)]),
        ])
    }
}
