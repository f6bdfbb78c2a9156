/// An error from the Kubernetes API client: a request that failed, or credentials that could
/// not be loaded. Each case carries the server, the request and the API's own message, and
/// `description` ends with what to do next. No case carries a token, key or certificate: the
/// client's own token and any token sent in a request body are removed from server messages.
public enum KubeAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The identity may not make this call (HTTP 403). `verb` and `resource` name the
    /// permission it lacks, for example `patch` and `nodes/status`, or `get` and `/metrics`.
    case forbidden(verb: String, resource: String, message: String, request: RequestDescription)

    /// An optimistic-concurrency conflict or an existing object (HTTP 409).
    case conflict(message: String, request: RequestDescription)

    case notFound(message: String, request: RequestDescription)

    /// The server did not accept the credentials (HTTP 401).
    case unauthorized(message: String, request: RequestDescription)

    /// Any other HTTP status of 400 or more, with the `Status.message` of the body when the
    /// body is a metav1 Status.
    case httpStatus(code: Int, message: String, request: RequestDescription)

    /// libcurl could not complete the transfer; `message` is curl's own text.
    case transport(curlCode: Int, message: String, request: RequestDescription)

    case timedOut(seconds: Double, message: String, request: RequestDescription)

    case responseTooLarge(limitBytes: Int, request: RequestDescription)

    /// The response body is not the JSON the call expects.
    case invalidResponse(type: String, reason: String, request: RequestDescription)

    /// A kubeconfig, service account file or credential field is missing or invalid.
    case invalidCredentials(source: String, reason: String, fix: String)

    /// A credential file could not be read.
    case unreadableFile(path: String, reason: String)

    /// No credential source was found; `tried` names each place that was looked at.
    case noCredentials(tried: [String])

    public var description: String {
        switch self {
        case .forbidden(let verb, let resource, let message, let request):
            return "\(request): forbidden (403): \(message). The identity lacks permission to \(verb) \(resource): grant it through RBAC or use an identity that has it"
        case .conflict(let message, let request):
            return "\(request): conflict (409): \(message). Read the object again and retry with its current resourceVersion"
        case .notFound(let message, let request):
            return "\(request): not found (404): \(message)"
        case .unauthorized(let message, let request):
            return "\(request): unauthorized (401): \(message). The client certificate or token was not accepted: check that it is current and issued by this cluster"
        case .httpStatus(let code, let message, let request):
            return "\(request): HTTP \(code): \(message)"
        case .transport(let code, let message, let request):
            return "\(request): \(message) (curl error \(code)). \(TransportHint.fix(curlCode: code))"
        case .timedOut(let seconds, let message, let request):
            return "\(request): timed out after \(Self.format(seconds)) s: \(message). Check that the API server is up and reachable, or raise the timeout"
        case .responseTooLarge(let limit, let request):
            return "\(request): response larger than the limit of \(limit) bytes"
        case .invalidResponse(let type, let reason, let request):
            return "\(request): response is not a valid \(type): \(reason)"
        case .invalidCredentials(let source, let reason, let fix):
            return "\(source): \(reason). \(fix)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .noCredentials(let tried):
            return "no Kubernetes API credentials found (tried: \(tried.joined(separator: "; "))). Pass --kubeconfig PATH, or run in a pod with a service account"
        }
    }

    /// The request this error belongs to, when it comes from a request.
    public var request: RequestDescription? {
        switch self {
        case .forbidden(_, _, _, let request), .conflict(_, let request), .notFound(_, let request),
            .unauthorized(_, let request), .httpStatus(_, _, let request), .transport(_, _, let request),
            .timedOut(_, _, let request), .responseTooLarge(_, let request), .invalidResponse(_, _, let request):
            return request
        case .invalidCredentials, .unreadableFile, .noCredentials:
            return nil
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// The server, method and path of a request, as errors show them. It never includes
/// headers or the body, so it cannot carry a credential.
public struct RequestDescription: Sendable, Equatable, CustomStringConvertible {
    public var server: String
    public var method: String
    public var path: String

    public init(server: String, method: String, path: String) {
        self.server = server
        self.method = method
        self.path = path
    }

    public var description: String { "\(method) \(server)\(path)" }
}

/// Next steps for the curl errors an API client meets in the field.
enum TransportHint {
    static func fix(curlCode: Int) -> String {
        switch curlCode {
        case 6: return "Check the server host name in the credentials"
        case 7: return "Check that the API server is running and listening on that address and port"
        case 35, 56: return "The TLS connection failed: check that the client certificate is current and issued by the cluster's client CA"
        case 58: return "Check the client certificate and key: they must be PEM and belong together"
        case 60: return "The server certificate is not trusted by the configured certificate authority or does not match the server name: check certificate-authority and tls-server-name"
        case 77: return "Check the certificate-authority file or data"
        default: return "Check the server address and the network path to it"
        }
    }
}
