import Foundation
import APIStandInSupport
import Testing
import KubeAPI

/// Calls made as each identity harbor-keyless runs with, against the API stand-in (a
/// loopback stand-in for kube-apiserver that authorizes like the Node authorizer,
/// NodeRestriction and RBAC).
@Suite("Identities against the API stand-in")
struct IdentityTests {
    static let standIn = Task { try await APIStandIn.start() }

    var standIn: APIStandIn { get async throws { try await Self.standIn.value } }

    func condition(_ type: String) -> NodeCondition {
        NodeCondition(
            type: type,
            status: "True",
            reason: "ProviderReady",
            message: "credential provider installed",
            lastHeartbeatTime: KubeTime.rfc3339(Date()),
            lastTransitionTime: KubeTime.rfc3339(Date())
        )
    }

    // MARK: node identity (system:node:node-a, client certificate)

    @Test("node reads its own Node and the version")
    func nodeReadsOwnNode() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let node = try await client.node("node-a")
        #expect(node.metadata.name == "node-a")
        #expect(node.status?.nodeInfo?.kubeletVersion == "v1.34.1+k3s1")
        #expect(try await client.version().gitVersion == "v1.34.1+k3s1")
    }

    @Test("node may not read another Node")
    func nodeReadsOtherNode() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let error = await apiError { try await client.node("node-b") }
        #expect(error?.forbiddenPermission?.verb == "get")
        #expect(error?.forbiddenPermission?.resource == "nodes")
        #expect(error?.forbiddenPermission?.message == "nodes \"node-b\" is forbidden: User \"system:node:node-a\" cannot get resource \"nodes\" in API group \"\" at the cluster scope: node 'node-a' cannot read 'node-b', only its own Node object")
    }

    @Test("node patches its own status condition, merged on type")
    func nodePatchesOwnStatus() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let node = try await client.patchNodeStatusCondition(node: "node-a", condition: condition("HarborCredentialProviderReady"))
        #expect(node.condition("HarborCredentialProviderReady")?.reason == "ProviderReady")
        #expect(node.condition("Ready")?.status == "True")
    }

    @Test("node may not patch another node's status")
    func nodePatchesOtherStatus() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let error = await apiError { try await client.patchNodeStatusCondition(node: "node-b", condition: condition("X")) }
        #expect(error?.forbiddenPermission?.verb == "patch")
        #expect(error?.forbiddenPermission?.resource == "nodes/status")
        #expect(error?.forbiddenPermission?.message == "nodes \"node-b\" is forbidden: node \"node-a\" is not allowed to modify node \"node-b\"")
    }

    @Test("node creates a core/v1 Event about itself")
    func nodeCreatesEvent() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let event = CoreEvent.aboutNode("node-a", uid: nil, type: "Normal", reason: "ProviderReady", message: "ready", component: "harbor-keyless", time: KubeTime.rfc3339(Date()))
        let created = try await client.createEvent(namespace: "default", event: event)
        #expect(created.metadata.name?.hasPrefix("node-a.") == true)
        #expect(created.involvedObject.kind == "Node")

        // Node events belong in "default": the API rejects them in another namespace.
        let misplaced = await apiError { try await client.createEvent(namespace: "kube-system", event: event) }
        #expect(misplaced?.description.contains("involvedObject.namespace: Invalid value: \"\": not allowed for node") == true)
    }

    @Test("node reviews access for the node audience")
    func nodeSubjectAccessReview() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        func review(_ audience: String) async throws -> SubjectAccessReviewStatus {
            try await client.subjectAccessReview(SubjectAccessReviewSpec(
                user: "system:node:node-a",
                groups: ["system:nodes", "system:authenticated"],
                resourceAttributes: .init(namespace: "apps", verb: "request-serviceaccounts-token-audience", group: "", resource: audience, name: "app")
            ))
        }
        let allowed = try await review("harbor.example.com")
        #expect(allowed.allowed)
        #expect(allowed.reason == "RBAC: allowed by ClusterRoleBinding \"harbor-node-audience\" of ClusterRole \"harbor-node-audience\" to Group \"system:nodes\"")
        let denied = try await review("other.example.com")
        #expect(!denied.allowed)
        #expect(denied.reason == nil)
    }

    @Test("node writes only its own Lease in kube-node-lease")
    func nodeLeases() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let own = Lease(metadata: ObjectMeta(name: "node-a"), spec: .init(holderIdentity: "node-a", leaseDurationSeconds: 40))
        _ = try? await client.deleteLease(namespace: "kube-node-lease", name: "node-a")
        let created = try await client.createLease(namespace: "kube-node-lease", lease: own)
        #expect(created.metadata.resourceVersion != nil)

        let other = Lease(metadata: ObjectMeta(name: "harbor-keyless-restart"), spec: .init(holderIdentity: "node-a", leaseDurationSeconds: 40))
        let elsewhere = await apiError { try await client.createLease(namespace: "harbor-keyless", lease: other) }
        #expect(elsewhere?.forbiddenPermission?.verb == "create")
        #expect(elsewhere?.forbiddenPermission?.message == "leases.coordination.k8s.io is forbidden: User \"system:node:node-a\" cannot create resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"harbor-keyless\": can only access leases in the \"kube-node-lease\" system namespace")

        // NodeRestriction checks the new object's name at admission.
        let notOwn = await apiError { try await client.createLease(namespace: "kube-node-lease", lease: other) }
        #expect(notOwn?.forbiddenPermission?.message == "leases.coordination.k8s.io \"harbor-keyless-restart\" is forbidden: can only access node lease with the same name as the requesting node")

        // The Node authorizer denies reading another node's Lease too.
        let otherLease = await apiError { try await client.lease(namespace: "kube-node-lease", name: "node-b") }
        #expect(otherLease?.forbiddenPermission?.message == "leases.coordination.k8s.io \"node-b\" is forbidden: User \"system:node:node-a\" cannot get resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"kube-node-lease\": can only access node lease with the same name as the requesting node")
    }

    @Test("node may not read /metrics or the JWKS")
    func nodeNonResourcePaths() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let metrics = await apiError { try await client.rawGet("/metrics") }
        #expect(metrics?.forbiddenPermission?.resource == "/metrics")
        #expect(metrics?.forbiddenPermission?.message == "forbidden: User \"system:node:node-a\" cannot get path \"/metrics\"")
        let jwks = await apiError { try await client.rawGet("/openid/v1/jwks") }
        #expect(jwks?.forbiddenPermission?.resource == "/openid/v1/jwks")
    }

    @Test("node may not mint tokens for service accounts")
    func nodeRequestToken() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "node-a"))
        let error = await apiError { try await client.requestToken(namespace: "default", serviceAccount: "app", audiences: ["harbor.example.com"], expirationSeconds: 600) }
        #expect(error?.forbiddenPermission?.resource == "serviceaccounts/token")
        #expect(error?.forbiddenPermission?.message.hasSuffix("no relationship found between node 'node-a' and this object") == true)
    }

    // MARK: the DaemonSet's service account (bearer token, ClusterRole of the agent)

    @Test("service account uses its ClusterRole")
    func serviceAccountAllowed() async throws {
        let client = try await standIn.client(try await standIn.credentials(token: APIStandIn.agentToken))
        #expect(try await client.node("node-b").metadata.name == "node-b")
        #expect(try await client.patchNodeStatusCondition(node: "node-b", condition: condition("HarborCredentialProviderReady")).metadata.name == "node-b")
        let metrics = try await client.rawGet("/metrics")
        #expect(metrics.status == 200)
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("kubernetes_feature_enabled"))
        let jwks = try await client.rawGet("/openid/v1/jwks")
        #expect(jwks.status == 200)
    }

    @Test("large /metrics arrive gzip-compressed and decoded")
    func compressedMetrics() async throws {
        // The stand-in compresses /metrics for clients that accept gzip, as the API server does.
        let lines = (0..<2000).map { "apiserver_request_total{code=\"200\",resource=\"pods\",verb=\"GET\",n=\"\($0)\"} \($0)" }
        let text = lines.joined(separator: "\n") + "\n"
        let server = try await APIStandIn.start(["metrics": text])
        let client = try await server.client(try await server.credentials(token: APIStandIn.agentToken))

        let metrics = try await client.rawGet("/metrics")

        #expect(metrics.status == 200)
        #expect(String(decoding: metrics.body, as: UTF8.self) == text)
        let sent = try #require(server.requests(path: "/metrics").last?["bytes"] as? Int)
        #expect(sent < text.utf8.count / 4)
    }

    @Test("service account holds Leases in its own namespace only")
    func serviceAccountLeases() async throws {
        let client = try await standIn.client(try await standIn.credentials(token: APIStandIn.agentToken))
        let lease = Lease(metadata: ObjectMeta(name: "restart-sa"), spec: .init(holderIdentity: "node-a", leaseDurationSeconds: 60))
        let created = try await client.createLease(namespace: "harbor-keyless", lease: lease)
        #expect(created.spec.holderIdentity == "node-a")
        let elsewhere = await apiError { try await client.createLease(namespace: "kube-system", lease: lease) }
        #expect(elsewhere?.forbiddenPermission?.message == "leases.coordination.k8s.io is forbidden: User \"system:serviceaccount:harbor-keyless:harbor-keyless\" cannot create resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"kube-system\"")
    }

    @Test("service account may not mint tokens")
    func serviceAccountRequestToken() async throws {
        let client = try await standIn.client(try await standIn.credentials(token: APIStandIn.agentToken))
        let error = await apiError { try await client.requestToken(namespace: "default", serviceAccount: "app", audiences: ["harbor.example.com"], expirationSeconds: 600) }
        #expect(error?.forbiddenPermission?.verb == "create")
        #expect(error?.forbiddenPermission?.resource == "serviceaccounts/token")
    }

    @Test("service account without RBAC may not read Nodes")
    func otherServiceAccount() async throws {
        let client = try await standIn.client(try await standIn.credentials(token: APIStandIn.otherToken))
        let error = await apiError { try await client.node("node-a") }
        #expect(error?.forbiddenPermission?.message == "nodes \"node-a\" is forbidden: User \"system:serviceaccount:default:other\" cannot get resource \"nodes\" in API group \"\" at the cluster scope")
    }

    // MARK: admin (system:masters, as with k3s.yaml passed to doctor)

    @Test("admin mints a token that TokenReview authenticates for its audience")
    func adminTokenRoundTrip() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "admin"))
        let minted = try await client.requestToken(namespace: "apps", serviceAccount: "app", audiences: ["harbor.example.com"], expirationSeconds: 600)
        #expect(!String(describing: minted).contains(minted.token.secret))

        let forRegistry = try await client.tokenReview(token: minted.token, audiences: ["harbor.example.com"])
        #expect(forRegistry.authenticated == true)
        #expect(forRegistry.user?.username == "system:serviceaccount:apps:app")
        // Without audiences the API server checks its own api-audiences, which do not include
        // the registry audience here.
        let forAPI = try await client.tokenReview(token: minted.token, audiences: [])
        #expect(forAPI.authenticated != true)
        #expect(forAPI.error != nil)
    }

    @Test("admin reads any Node and /metrics")
    func adminReadsEverything() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "admin"))
        #expect(try await client.node("node-b").metadata.name == "node-b")
        #expect(try await client.rawGet("/metrics").status == 200)
    }

    @Test("a missing Node is notFound with the Status message")
    func missingNode() async throws {
        let client = try await standIn.client(try await standIn.credentials(client: "admin"))
        let server = try await standIn.server
        let error = await apiError { try await client.node("node-z") }
        #expect(error == .notFound(message: "nodes \"node-z\" not found", request: RequestDescription(server: server, method: "GET", path: "/api/v1/nodes/node-z")))
    }
}
