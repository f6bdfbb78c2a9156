import Dispatch

extension KubeClient {
    /// Sends one GET to `path` on this client's server and returns the response whatever its
    /// status, with its headers; only transport failures throw. It is not retried. Made for
    /// probing servers that are not Kubernetes API servers, such as a registry's `/v2/`,
    /// which responds with 401 and a `Www-Authenticate` challenge. `authorization` replaces the
    /// credentials' bearer token as the `Authorization` header value and is removed from any
    /// error message.
    public func exchange(path: String, authorization: String? = nil) async throws(KubeAPIError) -> KubeResponse {
        var request = KubeRequest(method: "GET", path: path, accept: "application/json", retryable: false, verb: "get", resource: path)
        request.authorization = authorization
        if let authorization { request.secrets = [authorization] }
        let prepared = request
        let transfer = HTTPTransfer(credentials: credentials, options: options)
        let outcome = await withCheckedContinuation { continuation in
            Self.transferQueue().async {
                continuation.resume(returning: transfer.perform(prepared))
            }
        }
        switch outcome {
        case .response(let response):
            return response
        case .failure(let error, _):
            throw error
        }
    }
}
