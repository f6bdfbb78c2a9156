import FoundationEssentials
import Synchronization
internal import CShims

#if canImport(Glibc)
import Glibc
#endif

/// A response of the read-only endpoint.
public struct HTTPResponse: Sendable {
    public var status: UInt32
    public var contentType: String
    public var body: [UInt8]

    public init(status: UInt32, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// Limits that keep the endpoint responsive while malformed or slow clients connect.
public struct HTTPLimits: Sendable {
    /// A connection idle this long is closed, which ends a slowloris client.
    public var connectionTimeoutSeconds: UInt32 = 10
    public var maxConnections: UInt32 = 64
    public var maxConnectionsPerIP: UInt32 = 16
    /// Memory per connection, which bounds the request line and headers; libmicrohttpd
    /// rejects a larger header with 431.
    public var connectionMemoryBytes: Int = 16 * 1024

    public init() {}
}

/// An error starting the HTTP endpoint.
public struct HTTPEndpointError: Error, CustomStringConvertible {
    public var message: String
    public var fix: String
    public var description: String { "\(message): \(fix)" }
}

/// A read-only HTTP/1.1 server on libmicrohttpd with its own epoll thread. `route` runs on
/// that thread for every GET or HEAD request; other methods get 405.
public final class HTTPEndpoint: Sendable {
    /// The libmicrohttpd server; only `stop` clears it.
    private struct Handle: @unchecked Sendable {
        var pointer: OpaquePointer?
    }

    private let server: Mutex<Handle>
    private let router: Unmanaged<Router>
    public let port: UInt16

    final class Router: Sendable {
        let route: @Sendable (String) -> HTTPResponse
        init(route: @escaping @Sendable (String) -> HTTPResponse) { self.route = route }
    }

    /// Checks `listen` as `init` would parse it, so the command line can reject it before the
    /// daemon starts.
    public static func validate(listen: String) throws(HTTPEndpointError) {
        _ = try ListenAddress.parse(listen)
    }

    /// Binds `listen` (`ADDRESS:PORT`, IPv6 in brackets; port 0 picks a free port).
    public init(listen: String, limits: HTTPLimits = HTTPLimits(), route: @escaping @Sendable (String) -> HTTPResponse) throws(HTTPEndpointError) {
        let address = try ListenAddress.parse(listen)
        router = Unmanaged.passRetained(Router(route: route))
        let context = router.toOpaque()

        let started: OpaquePointer? = address.withSockaddr { sockaddr, isIPv6 in
            hk_mhd_start(
                sockaddr, isIPv6 ? 1 : 0, httpRequestHandler, context,
                limits.connectionTimeoutSeconds, limits.maxConnections, limits.maxConnectionsPerIP, limits.connectionMemoryBytes
            )
        }
        guard let started else {
            let code = errno
            router.release()
            throw HTTPEndpointError(
                message: "cannot listen on \(listen): \(String(cString: strerror(code)))",
                fix: "pass --listen with a free local address and port, for example 127.0.0.1:9765"
            )
        }
        server = Mutex(Handle(pointer: started))
        port = hk_mhd_port(started)
    }

    /// Stops listening and waits for the server thread to end.
    public func stop() {
        let stopping = server.withLock { handle -> Handle in
            let current = handle
            handle.pointer = nil
            return current
        }.pointer
        guard let stopping else { return }
        hk_mhd_stop(stopping)
        router.release()
    }

    deinit {
        stop()
    }
}

/// Runs on libmicrohttpd's thread for each request.
private let httpRequestHandler: hk_mhd_request_handler = { context, connection, method, url in
    guard let context, let connection, let method, let url else { return 0 }
    let router = Unmanaged<HTTPEndpoint.Router>.fromOpaque(context).takeUnretainedValue()
    let methodName = String(cString: method)

    var response: HTTPResponse
    var allow: String?
    if methodName == "GET" || methodName == "HEAD" {
        let path = String(cString: url)
        response = router.route(path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path)
    } else {
        response = HTTPResponse(status: 405, body: Array("method not allowed: this endpoint is read-only\n".utf8))
        allow = "GET, HEAD"
    }
    return response.body.withUnsafeBytes { body in
        response.contentType.withCString { contentType in
            if let allow {
                return allow.withCString { hk_mhd_respond(connection, response.status, contentType, body.baseAddress, body.count, $0) }
            }
            return hk_mhd_respond(connection, response.status, contentType, body.baseAddress, body.count, nil)
        }
    }
}

/// A parsed `ADDRESS:PORT`.
struct ListenAddress: Equatable {
    var host: String
    var port: UInt16
    var isIPv6: Bool

    static func parse(_ text: String) throws(HTTPEndpointError) -> ListenAddress {
        let invalid = HTTPEndpointError(
            message: "invalid listen address \(text.debugDescription)",
            fix: "use ADDRESS:PORT with a numeric address, such as 127.0.0.1:9765 or [::1]:9765"
        )
        guard let colon = text.lastIndex(of: ":") else { throw invalid }
        var host = String(text[..<colon])
        guard let port = UInt16(text[text.index(after: colon)...]) else { throw invalid }
        let isIPv6 = host.hasPrefix("[") && host.hasSuffix("]")
        if isIPv6 { host = String(host.dropFirst().dropLast()) }

        var probe = in6_addr()
        let family = isIPv6 ? AF_INET6 : AF_INET
        guard inet_pton(family, host, &probe) == 1 else { throw invalid }
        return ListenAddress(host: host, port: port, isIPv6: isIPv6)
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, Bool) -> T) -> T {
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, true) } }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, false) } }
    }
}
