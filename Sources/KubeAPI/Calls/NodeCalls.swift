extension KubeClient {
    /// GET /version: the API server's Kubernetes version.
    public func version() async throws(KubeAPIError) -> KubeVersion {
        let request = KubeRequest(method: "GET", path: "/version", retryable: true, verb: "get", resource: "/version")
        return try await send(request, as: KubeVersion.self)
    }

    /// GET one Node. A node identity may read only its own (Node authorizer).
    public func node(_ name: String) async throws(KubeAPIError) -> Node {
        let request = KubeRequest(method: "GET", path: "/api/v1/nodes/\(segment(name))", retryable: true, verb: "get", resource: "nodes")
        return try await send(request, as: Node.self)
    }

    /// Sets one condition on a Node's status with a strategic merge patch, which merges the
    /// conditions list on `type` and leaves the node's other conditions alone. Every status
    /// patch rewrites the whole Node object in the datastore, so callers send it on change
    /// and as a slow heartbeat only. Needs `patch` on `nodes/status`; NodeRestriction limits
    /// a node identity to its own Node.
    public func patchNodeStatusCondition(node: String, condition: NodeCondition) async throws(KubeAPIError) -> Node {
        struct Patch: Encodable {
            struct Status: Encodable { var conditions: [NodeCondition] }
            var status: Status
        }
        let request = KubeRequest(
            method: "PATCH",
            path: "/api/v1/nodes/\(segment(node))/status",
            body: JSONCoding.encode(Patch(status: .init(conditions: [condition]))),
            contentType: "application/strategic-merge-patch+json",
            retryable: true,
            verb: "patch",
            resource: "nodes/status"
        )
        return try await send(request, as: Node.self)
    }

    /// Creates a core/v1 Event. Not retried, because a retry after a lost response would
    /// record the event twice.
    public func createEvent(namespace: String, event: CoreEvent) async throws(KubeAPIError) -> CoreEvent {
        let request = KubeRequest(
            method: "POST",
            path: "/api/v1/namespaces/\(segment(namespace))/events",
            body: JSONCoding.encode(event),
            contentType: "application/json",
            retryable: false,
            verb: "create",
            resource: "events"
        )
        return try await send(request, as: CoreEvent.self)
    }

    /// GETs `path` on this server (for example `/metrics`, `/openid/v1/jwks`,
    /// `/.well-known/openid-configuration`, or `/metrics` on a kubelet client) and returns the
    /// status and body of a successful answer. Errors as for every call: a 403 is
    /// `.forbidden(verb: "get", resource: path, ...)`.
    public func rawGet(_ path: String, accept: String = "*/*") async throws(KubeAPIError) -> (status: Int, body: [UInt8]) {
        let resource = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let request = KubeRequest(method: "GET", path: path, accept: accept, retryable: true, verb: "get", resource: resource)
        let response = try await send(request)
        return (response.status, response.body)
    }
}
