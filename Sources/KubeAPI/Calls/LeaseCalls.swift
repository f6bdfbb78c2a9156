extension KubeClient {
    private func leasePath(_ namespace: String, _ name: String? = nil) -> String {
        let base = "/apis/coordination.k8s.io/v1/namespaces/\(segment(namespace))/leases"
        return name.map { "\(base)/\(segment($0))" } ?? base
    }

    public func lease(namespace: String, name: String) async throws(KubeAPIError) -> Lease {
        let request = KubeRequest(method: "GET", path: leasePath(namespace, name), retryable: true, verb: "get", resource: "leases.coordination.k8s.io")
        return try await send(request, as: Lease.self)
    }

    /// Creates a Lease; `.conflict` when one of that name exists already.
    public func createLease(namespace: String, lease: Lease) async throws(KubeAPIError) -> Lease {
        var lease = lease
        lease.metadata.resourceVersion = nil
        let request = KubeRequest(
            method: "POST",
            path: leasePath(namespace),
            body: JSONCoding.encode(lease),
            contentType: "application/json",
            retryable: false,
            verb: "create",
            resource: "leases.coordination.k8s.io"
        )
        return try await send(request, as: Lease.self)
    }

    /// Replaces a Lease. The lease's `metadata.resourceVersion` must be the one last read.
    /// When another holder wrote in between, the server returns 409 and this throws
    /// `.conflict`. Not retried, because the first attempt may have succeeded.
    public func updateLease(namespace: String, lease: Lease) async throws(KubeAPIError) -> Lease {
        guard let name = lease.metadata.name else {
            throw .invalidResponse(type: "Lease", reason: "the lease to update has no metadata.name", request: RequestDescription(server: credentials.server, method: "PUT", path: leasePath(namespace)))
        }
        let request = KubeRequest(
            method: "PUT",
            path: leasePath(namespace, name),
            body: JSONCoding.encode(lease),
            contentType: "application/json",
            retryable: false,
            verb: "update",
            resource: "leases.coordination.k8s.io"
        )
        return try await send(request, as: Lease.self)
    }

    /// Deletes a Lease, only if it still has `resourceVersion` when one is given.
    public func deleteLease(namespace: String, name: String, resourceVersion: String? = nil) async throws(KubeAPIError) {
        struct DeleteOptions: Encodable {
            struct Preconditions: Encodable { var resourceVersion: String }
            var apiVersion = "v1"
            var kind = "DeleteOptions"
            var preconditions: Preconditions?
        }
        let request = KubeRequest(
            method: "DELETE",
            path: leasePath(namespace, name),
            body: JSONCoding.encode(DeleteOptions(preconditions: resourceVersion.map { .init(resourceVersion: $0) })),
            contentType: "application/json",
            retryable: false,
            verb: "delete",
            resource: "leases.coordination.k8s.io"
        )
        _ = try await send(request)
    }
}
