import Foundation
import APIStandInSupport
import Testing
import KubeAPI

/// Error paths over real TLS against the API stand-in (a loopback stand-in for
/// kube-apiserver). Each test starts its own stand-in so injected faults stay local.
@Suite("Failures against the API stand-in")
struct FailureTests {
    @Test("500 on a retryable call is retried, then surfaced with the Status message")
    func serverErrorRetried() async throws {
        let standIn = try await APIStandIn.start(["faults": [["path": "/version", "status": 500]]])
        let client = standIn.client(standIn.credentials(client: "node-a"))
        let error = await apiError { try await client.version() }
        #expect(error?.httpCode == 500)
        #expect(error?.description.contains("Internal error occurred: injected by the API stand-in") == true)
        #expect(standIn.requests(path: "/version").count == APIStandIn.fastOptions.maxAttempts)
    }

    @Test("500 twice, then success")
    func serverErrorRecovers() async throws {
        let standIn = try await APIStandIn.start(["faults": [["path": "/version", "status": 500, "times": 2]]])
        let client = standIn.client(standIn.credentials(client: "node-a"))
        let version = try await client.version()
        #expect(version.gitVersion == "v1.34.1+k3s1")
        #expect(standIn.requests(path: "/version").map { $0["status"] as? Int } == [500, 500, 200])
    }

    @Test("429 is retried")
    func tooManyRequests() async throws {
        let standIn = try await APIStandIn.start(["faults": [["path": "/api/v1/nodes/node-a", "status": 429, "times": 1]]])
        let client = standIn.client(standIn.credentials(client: "node-a"), KubeClientOptions(maxAttempts: 2, retryBaseDelay: 0.05, retryMaxDelay: 1.5))
        #expect(try await client.node("node-a").metadata.name == "node-a")
        #expect(standIn.requests(path: "/api/v1/nodes/node-a").map { $0["status"] as? Int } == [429, 200])
    }

    @Test("cancelled call stops retrying")
    func cancelledRetries() async throws {
        let standIn = try await APIStandIn.start(["faults": [["path": "/version", "status": 500]]])
        let options = KubeClientOptions(maxAttempts: 5, retryBaseDelay: 1, retryMaxDelay: 1)
        let client = standIn.client(standIn.credentials(client: "node-a"), options)
        let call = Task { await apiError { try await client.version() } }
        try await Task.sleep(nanoseconds: 300_000_000)
        call.cancel()
        let error = await call.value
        #expect(error?.httpCode == 500)
        #expect(standIn.requests(path: "/version").count == 1)
    }

    @Test("500 on event creation is not retried")
    func eventNotRetried() async throws {
        let standIn = try await APIStandIn.start(["faults": [["path": "/api/v1/namespaces/default/events", "status": 500]]])
        let client = standIn.client(standIn.credentials(client: "node-a"))
        let event = CoreEvent.aboutNode("node-a", uid: nil, type: "Warning", reason: "ProviderFailed", message: "x", component: "harbor-keyless", time: KubeTime.rfc3339(Date()))
        let error = await apiError { try await client.createEvent(namespace: "default", event: event) }
        #expect(error?.httpCode == 500)
        #expect(standIn.requests(path: "/api/v1/namespaces/default/events").count == 1)
    }

    @Test("slow answer times out naming server and path")
    func slowAnswer() async throws {
        let standIn = try await APIStandIn.start(["faults": [["path": "/api/v1/nodes/node-a", "delay": 1.5]]])
        let options = KubeClientOptions(connectTimeout: 1, requestTimeout: 0.5, maxAttempts: 3, retryBaseDelay: 0.05)
        let client = standIn.client(standIn.credentials(client: "node-a"), options)
        let error = await apiError { try await client.node("node-a") }
        #expect(error?.isTimeout == true)
        #expect(error?.description.contains("GET \(standIn.server)/api/v1/nodes/node-a: timed out after 0.5 s") == true)

        // A timed-out read is not retried, because its deadline is spent. The stand-in logs a
        // request once its delay has passed.
        try await Task.sleep(nanoseconds: 2_500_000_000)
        #expect(standIn.requests(path: "/api/v1/nodes/node-a").count == 1)
    }

    @Test("stale resourceVersion on a Lease update is a conflict")
    func leaseConflict() async throws {
        let standIn = try await APIStandIn.start()
        let client = standIn.client(standIn.credentials(client: "node-a"))
        let created = try await client.createLease(namespace: "kube-node-lease", lease: Lease(metadata: ObjectMeta(name: "node-a"), spec: .init(holderIdentity: "node-a", leaseDurationSeconds: 40)))
        var first = created
        first.spec.renewTime = KubeTime.micro(Date())
        let renewed = try await client.updateLease(namespace: "kube-node-lease", lease: first)
        #expect(renewed.metadata.resourceVersion != created.metadata.resourceVersion)

        // A second writer still holding the first resourceVersion loses.
        var stale = created
        stale.spec.holderIdentity = "someone-else"
        let error = await apiError { try await client.updateLease(namespace: "kube-node-lease", lease: stale) }
        #expect(error?.isConflict == true)
        #expect(error?.description.contains("Operation cannot be fulfilled on leases.coordination.k8s.io \"node-a\": the object has been modified; please apply your changes to the latest version and try again") == true)

        let duplicate = await apiError { try await client.createLease(namespace: "kube-node-lease", lease: created) }
        #expect(duplicate?.isConflict == true)

        let staleDelete = await apiError { try await client.deleteLease(namespace: "kube-node-lease", name: "node-a", resourceVersion: created.metadata.resourceVersion) }
        #expect(staleDelete?.isConflict == true)
        try await client.deleteLease(namespace: "kube-node-lease", name: "node-a", resourceVersion: renewed.metadata.resourceVersion)
        let deleted = await apiError { try await client.lease(namespace: "kube-node-lease", name: "node-a") }
        #expect(deleted?.description.contains("leases.coordination.k8s.io \"node-a\" not found") == true)
    }

    @Test("closed port is a connection error naming the server")
    func unreachable() async throws {
        try await withClosedLoopbackPort { port in try await unreachable(port: port) }
    }

    private func unreachable(port: Int) async throws {
        let standIn = try await APIStandIn.start()
        var credentials = standIn.credentials(client: "node-a")
        credentials.server = "https://127.0.0.1:\(port)"
        let client = KubeClient(credentials: credentials, options: APIStandIn.fastOptions)
        let error = await apiError { try await client.version() }
        #expect(error?.curlCode == 7)
        #expect(error?.description.contains("GET https://127.0.0.1:\(port)/version") == true)
        #expect(error?.description.contains("Check that the API server is running") == true)

        // Nothing reached a server, so even a call that is never retried after a response
        // (event creation) is tried again: three attempts take at least the two backoffs.
        let event = CoreEvent.aboutNode("node-a", uid: nil, type: "Normal", reason: "R", message: "m", component: "harbor-keyless", time: KubeTime.rfc3339(Date()))
        let options = KubeClientOptions(connectTimeout: 1, requestTimeout: 2, maxAttempts: 3, retryBaseDelay: 0.2, retryMaxDelay: 1)
        let started = Date()
        let eventError = await apiError { try await KubeClient(credentials: credentials, options: options).createEvent(namespace: "default", event: event) }
        #expect(eventError?.curlCode == 7)
        #expect(Date().timeIntervalSince(started) >= 0.45)
    }

    @Test("server certificate from another CA is rejected")
    func wrongCA() async throws {
        let standIn = try await APIStandIn.start()
        var credentials = standIn.credentials(client: "node-a")
        credentials.certificateAuthority = .file(standIn.unrelatedCAFile)
        let error = await apiError { try await standIn.client(credentials).version() }
        #expect(error?.curlCode == 60)
        #expect(standIn.requests(path: "/version").isEmpty)
    }

    @Test("system CA bundle is never trusted in place of the configured CA")
    func systemBundleIgnored() async throws {
        let standIn = try await APIStandIn.start()
        var credentials = standIn.credentials(client: "node-a")
        credentials.certificateAuthority = .file("/etc/ssl/certs/ca-certificates.crt")
        let error = await apiError { try await standIn.client(credentials).version() }
        #expect(error?.curlCode == 60)
    }

    @Test("expired client certificate is rejected")
    func expiredClientCertificate() async throws {
        let standIn = try await APIStandIn.start()
        let error = await apiError { try await standIn.client(standIn.credentials(client: "expired")).version() }
        // The stand-in aborts the TLS handshake, where kube-apiserver would return 401.
        #expect(error?.curlCode == 56)
        #expect(error?.description.contains("certificate expired") == true)
        #expect(standIn.requests().contains { $0["tls"] as? String == "CERTIFICATE_VERIFY_FAILED" })
    }

    @Test("tls-server-name is used for SNI and verification")
    func tlsServerName() async throws {
        let standIn = try await APIStandIn.start(["serverNames": ["kubernetes.default.svc.cluster.local"]])
        let withoutName = await apiError { try await standIn.client(standIn.credentials(client: "node-a")).version() }
        #expect(withoutName?.curlCode == 60)
        let named = standIn.client(standIn.credentials(client: "node-a", tlsServerName: "kubernetes.default.svc.cluster.local"))
        #expect(try await named.version().major == "1")
    }

    @Test("response larger than the bound is rejected")
    func responseBound() async throws {
        let standIn = try await APIStandIn.start()
        let client = standIn.client(standIn.credentials(client: "node-a"), KubeClientOptions(maxResponseBytes: 64))
        let error = await apiError { try await client.version() }
        #expect(error == .responseTooLarge(limitBytes: 64, request: RequestDescription(server: standIn.server, method: "GET", path: "/version")))
    }

    @Test("unknown token is unauthorized")
    func unknownToken() async throws {
        let standIn = try await APIStandIn.start()
        let error = await apiError { try await standIn.client(standIn.credentials(token: "not-a-known-token")).version() }
        #expect(error == .unauthorized(message: "Unauthorized", request: RequestDescription(server: standIn.server, method: "GET", path: "/version")))
    }

    @Test("token never appears in error text")
    func tokenNotInErrors() async throws {
        let token = "secret-token-must-not-leak-4242"
        let standIn = try await APIStandIn.start(["faults": [["path": "/version", "status": 500], ["path": "/api/v1/nodes/node-a", "delay": 2]]])
        try APIStandIn.writeTokens([token: ["user": "system:serviceaccount:default:other", "groups": ["system:serviceaccounts"]]], to: standIn.tokenFile)
        let client = standIn.client(standIn.credentials(token: token), KubeClientOptions(requestTimeout: 0.5, maxAttempts: 2, retryBaseDelay: 0.01))
        let reviewSpec = SubjectAccessReviewSpec(user: "x", groups: [], nonResourceAttributes: .init(path: "/x", verb: "get"))
        let errors: [KubeAPIError?] = [
            await apiError { try await client.version() },
            await apiError { try await client.node("node-a") },
            await apiError { try await client.node("node-b") },
            await apiError { try await client.subjectAccessReview(reviewSpec) },
            await apiError { try await client.tokenReview(token: BearerToken(token), audiences: []) },
            await apiError { try await standIn.client(standIn.credentials(token: token + "x")).version() },
        ]
        #expect(errors.compactMap { $0 }.count == errors.count)
        for error in errors {
            #expect(!String(describing: error).contains(token))
            #expect(!String(reflecting: error).contains(token))
        }
        #expect(!String(describing: client.credentials).contains(token))
    }

    @Test("kubelet metrics need nodes/metrics")
    func kubeletMetrics() async throws {
        let kubelet = try await APIStandIn.start(["role": "kubelet"])
        let agent = kubelet.client(kubelet.credentials(token: APIStandIn.agentToken)).kubelet(host: "127.0.0.1", port: kubelet.port)
        let metrics = try await agent.rawGet("/metrics")
        #expect(metrics.status == 200)
        let node = kubelet.client(kubelet.credentials(client: "node-a")).kubelet(host: "127.0.0.1", port: kubelet.port)
        let error = await apiError { try await node.rawGet("/metrics") }
        #expect(error?.forbiddenPermission?.message == "Forbidden (user=system:node:node-a, verb=get, resource=nodes, subresource=metrics)")
    }
}

/// Returns a loopback port that nothing listens on, by binding it and closing it again.
/// A loopback port with nothing listening on it, reserved until `body` returns: the socket
/// stays bound without `listen`, so connections are refused and no other test's server can
/// take the port meanwhile (a port closed before use was seen taken by a parallel test).
func withClosedLoopbackPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw StandInError(message: "cannot bind a loopback port: \(String(cString: strerror(errno)))") }
    return try await body(Int(UInt16(bigEndian: address.sin_port)))
}
