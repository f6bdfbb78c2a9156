internal import YAML

/// The agent's permissions. What it may not have is as deliberate as what it has: no
/// `nodes/proxy` (that allows exec into every pod on the node) and no `serviceaccounts/token`
/// (that mints tokens for any service account).
enum RBACManifests {
    static let agentRoleName = "harbor-keyless-agent"
    static let leaseRoleName = "harbor-keyless-leases"
    static let nodeAudienceRoleName = "harbor-keyless-node-audiences"

    /// Cluster-wide rules, one per call the agent makes.
    static func agentClusterRole() -> YAMLNode {
        mapping([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"),
            "kind": .string("ClusterRole"),
            "metadata": metadata(name: agentRoleName, namespace: nil, component: "agent"),
            "rules": .sequence([
                // Read the node's Kubernetes version, labels and conditions.
                rule(groups: [""], resources: ["nodes"], verbs: ["get"]),
                // Write the HarborCredentialProviderReady node condition.
                rule(groups: [""], resources: ["nodes/status"], verbs: ["patch"]),
                // An Event on each readiness transition.
                rule(groups: [""], resources: ["events"], verbs: ["create"]),
                // Check that system:nodes may request tokens for the registry audience.
                rule(groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"]),
                // Check whether the API server accepts a registry-audience token.
                rule(groups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"]),
                // The kubelet's own /metrics on port 10250, for its effective feature gates.
                rule(groups: [""], resources: ["nodes/metrics"], verbs: ["get"]),
                // The API server's /metrics, for its effective feature gates.
                mapping([
                    "nonResourceURLs": .strings(["/metrics"]),
                    "verbs": .strings(["get"]),
                ]),
            ]),
        ])
    }

    static func agentClusterRoleBinding(namespace: String) -> YAMLNode {
        mapping([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"),
            "kind": .string("ClusterRoleBinding"),
            "metadata": metadata(name: agentRoleName, namespace: nil, component: "agent"),
            "roleRef": roleRef(kind: "ClusterRole", name: agentRoleName),
            "subjects": .sequence([serviceAccountSubject(namespace: namespace)]),
        ])
    }

    /// Leases that limit how many nodes restart k3s at once, in the agent's own namespace only.
    static func leaseRole(namespace: String) -> YAMLNode {
        mapping([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"),
            "kind": .string("Role"),
            "metadata": metadata(name: leaseRoleName, namespace: namespace, component: "agent"),
            "rules": .sequence([
                rule(groups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update", "delete"])
            ]),
        ])
    }

    static func leaseRoleBinding(namespace: String) -> YAMLNode {
        mapping([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"),
            "kind": .string("RoleBinding"),
            "metadata": metadata(name: leaseRoleName, namespace: namespace, component: "agent"),
            "roleRef": roleRef(kind: "Role", name: leaseRoleName),
            "subjects": .sequence([serviceAccountSubject(namespace: namespace)]),
        ])
    }

    /// Lets every kubelet request service account tokens for the registry audiences: the
    /// Node authorizer checks verb `request-serviceaccounts-token-audience` on resource =
    /// the audience, in the core group (Kubernetes 1.33+, KEP-4412).
    static func nodeAudienceClusterRole(audiences: [String]) -> YAMLNode {
        mapping([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"),
            "kind": .string("ClusterRole"),
            "metadata": metadata(name: nodeAudienceRoleName, namespace: nil, component: "node-audiences"),
            "rules": .sequence([
                rule(groups: [""], resources: audiences, verbs: ["request-serviceaccounts-token-audience"])
            ]),
        ])
    }

    static func nodeAudienceClusterRoleBinding() -> YAMLNode {
        mapping([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"),
            "kind": .string("ClusterRoleBinding"),
            "metadata": metadata(name: nodeAudienceRoleName, namespace: nil, component: "node-audiences"),
            "roleRef": roleRef(kind: "ClusterRole", name: nodeAudienceRoleName),
            "subjects": .sequence([
                mapping([
                    "apiGroup": .string("rbac.authorization.k8s.io"),
                    "kind": .string("Group"),
                    "name": .string("system:nodes"),
                ])
            ]),
        ])
    }

    private static func rule(groups: [String], resources: [String], verbs: [String]) -> YAMLNode {
        mapping([
            "apiGroups": .strings(groups),
            "resources": .strings(resources),
            "verbs": .strings(verbs),
        ])
    }

    private static func roleRef(kind: String, name: String) -> YAMLNode {
        mapping([
            "apiGroup": .string("rbac.authorization.k8s.io"),
            "kind": .string(kind),
            "name": .string(name),
        ])
    }

    private static func serviceAccountSubject(namespace: String) -> YAMLNode {
        mapping([
            "kind": .string("ServiceAccount"),
            "name": .string(ManifestOptions.name),
            "namespace": .string(namespace),
        ])
    }
}
