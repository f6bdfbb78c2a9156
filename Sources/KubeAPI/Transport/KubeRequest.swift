/// One HTTP request to the API server, with the permission it needs so that a 403 can name it.
public struct KubeRequest: Sendable {
    public var method: String

    /// Path and query, starting with `/`, for example `/api/v1/nodes/node-a`.
    public var path: String

    public var body: [UInt8]?
    public var contentType: String?
    public var accept: String

    /// Whether the request may be sent again after a connection error, a 5xx or a 429:
    /// true for reads and for calls whose repetition changes nothing (reviews, a patch that
    /// sets the same condition).
    public var retryable: Bool

    /// The RBAC verb and resource (or non-resource path) this request needs.
    public var verb: String
    public var resource: String

    /// Secrets sent in the body (a token under review), removed from any error message the
    /// server returns.
    var secrets: [String] = []

    /// An `Authorization` header value sent in place of the credentials' bearer token, for
    /// servers other than the API server (a registry's token endpoint). Never logged.
    var authorization: String?

    public init(
        method: String,
        path: String,
        body: [UInt8]? = nil,
        contentType: String? = nil,
        accept: String = "application/json",
        retryable: Bool,
        verb: String,
        resource: String
    ) {
        self.method = method
        self.path = path
        self.body = body
        self.contentType = contentType
        self.accept = accept
        self.retryable = retryable
        self.verb = verb
        self.resource = resource
    }
}

/// A response with any status; `KubeClient.send` turns statuses of 400 or more into errors.
public struct KubeResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String?
    public var retryAfter: String?
    /// Response headers by lower-cased name; a repeated header keeps its last value.
    public var headers: [String: String] = [:]

    public init(status: Int, body: [UInt8], contentType: String? = nil, retryAfter: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.retryAfter = retryAfter
        self.headers = headers
    }
}

/// Client limits. Every request has a connect and a total timeout, so no call can hang.
public struct KubeClientOptions: Sendable {
    public var connectTimeout: Double
    public var requestTimeout: Double
    public var maxResponseBytes: Int

    /// Attempts for a retryable request, the first one included.
    public var maxAttempts: Int

    /// Backoff before retry n (n from 1): `retryBaseDelay * 2^(n-1)` with ±20 % jitter, capped
    /// by `retryMaxDelay`. A larger `Retry-After` (in seconds) from the server replaces it,
    /// within the same cap.
    public var retryBaseDelay: Double
    public var retryMaxDelay: Double

    public var userAgent: String

    public init(
        connectTimeout: Double = 5,
        requestTimeout: Double = 30,
        maxResponseBytes: Int = 16 << 20,
        maxAttempts: Int = 3,
        retryBaseDelay: Double = 0.2,
        retryMaxDelay: Double = 5,
        userAgent: String = "harbor-keyless"
    ) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxAttempts = max(1, maxAttempts)
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.userAgent = userAgent
    }
}
