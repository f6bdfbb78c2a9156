extension KubeClient {
    /// Asks the API server whether a user may do something, for example whether
    /// `system:nodes` may use the verb `request-serviceaccounts-token-audience` on an
    /// audience. Reviews are not stored, so the call is retried safely.
    public func subjectAccessReview(_ spec: SubjectAccessReviewSpec) async throws(KubeAPIError) -> SubjectAccessReviewStatus {
        struct Review: Codable {
            var apiVersion = "authorization.k8s.io/v1"
            var kind = "SubjectAccessReview"
            var spec: SubjectAccessReviewSpec
            var status: SubjectAccessReviewStatus?
        }
        let request = KubeRequest(
            method: "POST",
            path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body: JSONCoding.encode(Review(spec: spec)),
            contentType: "application/json",
            retryable: true,
            verb: "create",
            resource: "subjectaccessreviews.authorization.k8s.io"
        )
        let review = try await send(request, as: Review.self)
        guard let status = review.status else {
            throw .invalidResponse(type: "SubjectAccessReview", reason: "the response has no status", request: RequestDescription(server: credentials.server, method: request.method, path: request.path))
        }
        return status
    }

    /// Asks the API server to authenticate `token` for `audiences` (empty: its own
    /// api-audiences). `authenticated: true` for a registry-audience token with no audiences
    /// means the registry audience is in `--api-audiences`.
    public func tokenReview(token: BearerToken, audiences: [String]) async throws(KubeAPIError) -> TokenReviewStatus {
        struct Spec: Codable {
            var token: BearerToken
            var audiences: [String]?
        }
        struct Review: Codable {
            var apiVersion = "authentication.k8s.io/v1"
            var kind = "TokenReview"
            var spec: Spec
            var status: TokenReviewStatus?
        }
        var request = KubeRequest(
            method: "POST",
            path: "/apis/authentication.k8s.io/v1/tokenreviews",
            body: JSONCoding.encode(Review(spec: Spec(token: token, audiences: audiences.isEmpty ? nil : audiences))),
            contentType: "application/json",
            retryable: true,
            verb: "create",
            resource: "tokenreviews.authentication.k8s.io"
        )
        request.secrets = [token.secret]
        // The response echoes the token in its spec, so only the status is decoded.
        struct ResponseBody: Decodable { var status: TokenReviewStatus? }
        let response = try await send(request, as: ResponseBody.self)
        guard let status = response.status else {
            throw .invalidResponse(type: "TokenReview", reason: "the response has no status", request: RequestDescription(server: credentials.server, method: request.method, path: request.path))
        }
        return status
    }

    /// Mints a token for a service account (POST .../serviceaccounts/NAME/token). The API
    /// server rejects `expirationSeconds` below 600. The token is returned wrapped so that
    /// printing the result cannot show it.
    public func requestToken(namespace: String, serviceAccount: String, audiences: [String], expirationSeconds: Int) async throws(KubeAPIError) -> ServiceAccountToken {
        struct Spec: Encodable {
            var audiences: [String]
            var expirationSeconds: Int
        }
        struct TokenRequest: Encodable {
            var apiVersion = "authentication.k8s.io/v1"
            var kind = "TokenRequest"
            var spec: Spec
        }
        struct ResponseBody: Decodable {
            struct Status: Decodable {
                var token: BearerToken
                var expirationTimestamp: String
            }
            var status: Status?
        }
        let request = KubeRequest(
            method: "POST",
            path: "/api/v1/namespaces/\(segment(namespace))/serviceaccounts/\(segment(serviceAccount))/token",
            body: JSONCoding.encode(TokenRequest(spec: Spec(audiences: audiences, expirationSeconds: expirationSeconds))),
            contentType: "application/json",
            retryable: true,
            verb: "create",
            resource: "serviceaccounts/token"
        )
        let response = try await send(request, as: ResponseBody.self)
        guard let status = response.status else {
            throw .invalidResponse(type: "TokenRequest", reason: "the response has no status", request: RequestDescription(server: credentials.server, method: request.method, path: request.path))
        }
        return ServiceAccountToken(token: status.token, expirationTimestamp: status.expirationTimestamp)
    }
}
