import Dispatch
import FoundationEssentials

/// A client for one Kubernetes API server (or one kubelet), safe to share between tasks.
/// Each request runs on its own libcurl handle on its own serial dispatch queue, with a new
/// TLS connection per request. Cancelling the calling task stops retries, but not a transfer
/// in progress, which ends by its timeouts.
public final class KubeClient: Sendable {
    public let credentials: KubeCredentials
    public let options: KubeClientOptions

    /// A queue for one blocking transfer. A new serial queue runs on an overcommitting worker
    /// thread; a shared concurrent queue would run on the width-limited pool that Swift
    /// concurrency also uses on Linux, so blocked transfers would stall every task.
    static func transferQueue() -> DispatchQueue {
        DispatchQueue(label: "harbor-keyless.kubeapi.transfer")
    }

    public init(credentials: KubeCredentials, options: KubeClientOptions = KubeClientOptions()) {
        self.credentials = credentials
        self.options = options
    }

    /// Makes a client for the kubelet's own HTTPS endpoint on `host` (port 10250), with the
    /// same CA and client identity.
    /// NOTE: this assumes the kubelet's serving certificate is signed by the API server's CA,
    /// as k3s does with its server CA (not verified against a real k3s node here).
    public func kubelet(host: String, port: Int = 10250) -> KubeClient {
        var kubelet = credentials
        kubelet.server = "https://\(ServerAddress.bracketed(host)):\(port)"
        kubelet.tlsServerName = nil
        kubelet.origin = "\(credentials.origin), kubelet \(host)"
        return KubeClient(credentials: kubelet, options: options)
    }

    /// Sends `request` and turns any status of 400 or more into a `KubeAPIError`. Any request
    /// is retried when the connection failed before it was sent. A retryable one is also
    /// retried on a broken connection, 5xx and 429.
    public func send(_ request: KubeRequest) async throws(KubeAPIError) -> KubeResponse {
        let description = RequestDescription(server: credentials.server, method: request.method, path: request.path)
        var attempt = 1
        while true {
            let outcome = await perform(request)
            let retryDelay: Double
            let failure: KubeAPIError
            switch outcome {
            case .response(let response) where response.status < 400:
                return response
            case .response(let response):
                failure = HTTPErrorMapping.error(for: response, request: request, description, redacting: secrets(of: request))
                guard request.retryable, attempt < options.maxAttempts, response.status >= 500 || response.status == 429 else {
                    throw failure
                }
                retryDelay = delay(beforeRetry: attempt, retryAfter: response.retryAfter)
            case .failure(let error, let kind):
                failure = error
                let mayRetry = kind == .notSent || (kind == .transient && request.retryable)
                guard mayRetry, attempt < options.maxAttempts else { throw failure }
                retryDelay = delay(beforeRetry: attempt, retryAfter: nil)
            }

            // A cancelled task stops retrying and reports the last failure.
            attempt += 1
            try? await Task.sleep(nanoseconds: UInt64(retryDelay * 1_000_000_000))
            if Task.isCancelled {
                throw failure
            }
        }
    }

    /// Sends a request and decodes the JSON body of its successful response.
    func send<Response: Decodable>(_ request: KubeRequest, as type: Response.Type) async throws(KubeAPIError) -> Response {
        let response = try await send(request)
        return try JSONCoding.decode(type, from: response.body, request: request, server: credentials.server)
    }

    private func perform(_ request: KubeRequest) async -> HTTPTransfer.Outcome {
        let transfer = HTTPTransfer(credentials: credentials, options: options)
        return await withCheckedContinuation { continuation in
            Self.transferQueue().async {
                continuation.resume(returning: transfer.perform(request))
            }
        }
    }

    /// Lists the secrets a server might echo into an error message: tokens in the request body
    /// and an inline bearer token. A token file is not read here, because servers do not echo
    /// request headers.
    private func secrets(of request: KubeRequest) -> [String] {
        guard case .value(let token) = credentials.token else { return request.secrets }
        return request.secrets + [token.secret]
    }

    private func delay(beforeRetry attempt: Int, retryAfter: String?) -> Double {
        let exponential = options.retryBaseDelay * Double(1 << min(attempt - 1, 20))
        let jittered = exponential * Double.random(in: 0.8...1.2)
        let serverDelay = retryAfter.flatMap { Double($0.trimmingWhitespace()) } ?? 0
        return min(max(jittered, serverDelay), options.retryMaxDelay)
    }
}
