import FoundationEssentials
import KubeAPI

extension Check {
    /// RBAC lets nodes request tokens for each of our audiences.
    static let nodeAudienceRBAC = Check(
        id: "cluster.node-audience-rbac", title: "Nodes may request our audiences", area: .cluster
    ) { context in
        guard let client = context.client else { return context.noAPIResult }
        guard let node = context.nodeName else { return .skip("the node name is unknown: set NODE_NAME or use the kubelet's credentials") }
        let named = context.options.serviceAccounts
        var results: [CheckResult] = []
        for provider in context.setup.providers {
            let accounts: [DoctorOptions.ServiceAccount?] = named.isEmpty ? [nil] : named
            for account in accounts {
                let spec = SubjectAccessReviewSpec(
                    user: "system:node:\(node)",
                    groups: ["system:nodes", "system:authenticated"],
                    resourceAttributes: .init(
                        namespace: account?.namespace, verb: "request-serviceaccounts-token-audience", group: "",
                        resource: provider.audience, name: account?.name ?? ""
                    )
                )
                let status: SubjectAccessReviewStatus
                do throws(KubeAPIError) {
                    status = try await client.subjectAccessReview(spec)
                } catch {
                    results.append(context.apiProblem(error, checking: "node-audience RBAC"))
                    continue
                }
                let remedy = NodeAudienceRBAC.manifest(audience: provider.audience, names: named.map(\.name))
                switch (status.allowed, account) {
                case (true, let account?):
                    results.append(.pass("system:node:\(node) may request tokens for audience \(provider.audience) for \(account)"))
                case (true, nil):
                    results.append(.pass("system:node:\(node) may request tokens for audience \(provider.audience) for any service account"))
                case (false, let account?):
                    results.append(.fail(
                        "system:node:\(node) may not request tokens for audience \(provider.audience) for \(account): pods of that account fail with `audience \"\(provider.audience)\" not found in pod spec volume`",
                        remedy: "apply:\n" + remedy
                    ))
                case (false, nil):
                    results.append(.warn(
                        "system:node:\(node) may not request tokens for audience \(provider.audience) for every service account: the grant is restricted to named accounts or missing",
                        remedy: "check a named account with `harbor-keyless doctor --service-account NAMESPACE/NAME`; to grant it, apply:\n" + remedy
                    ))
                }
            }
        }
        return CheckResult.combine(results)
    }
}

enum NodeAudienceRBAC {
    /// Returns the ClusterRole and ClusterRoleBinding that let every node request tokens for
    /// `audience` (kubernetes NodeRestriction: verb `request-serviceaccounts-token-audience`,
    /// group "", resource = the audience, resourceNames = service account names).
    static func manifest(audience: String, names: [String]) -> String {
        let name = "harbor-keyless-node-audience"
        var rule = """
            - apiGroups: [""]
              verbs: ["request-serviceaccounts-token-audience"]
              resources: ["\(audience)"]
            """
        if !names.isEmpty {
            rule += "\n  resourceNames: [\(names.map { "\"\($0)\"" }.joined(separator: ", "))]"
        }
        return """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: \(name)
            rules:
            \(rule)
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: \(name)
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: \(name)
            subjects:
            - apiGroup: rbac.authorization.k8s.io
              kind: Group
              name: system:nodes
            """
    }
}
