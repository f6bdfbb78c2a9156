import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// `harbor-keyless health`: the DaemonSet's exec probe. Sends `GET /healthz` to the running
/// agent and exits 0 on HTTP 200, 1 otherwise. A plain socket client, because the probe runs
/// every 30 s and needs nothing from libcurl for one loopback request.
let healthCommand = Command(
    name: "health",
    summary: "Exit 0 when the running agent's /healthz returns 200 (for probes).",
    usage: "harbor-keyless health [--address ADDRESS:PORT] [--timeout SECONDS]",
    options: [
        OptionSpec(name: "address", valueName: "ADDRESS:PORT", help: "the agent's HTTP endpoint, a numeric address (default \(HealthCheck.defaultAddress))"),
        OptionSpec(name: "timeout", valueName: "SECONDS", help: "seconds allowed to connect, and again to read the response (default 5)"),
    ],
    run: { options in
        let address = options.value("address") ?? HealthCheck.defaultAddress
        var timeout = 5
        if let text = options.value("timeout") {
            guard let seconds = Int(text), seconds > 0 else {
                throw UsageError("--timeout \(text.debugDescription) is not a positive whole number of seconds")
            }
            timeout = seconds
        }
        let check = HealthCheck(address: address, timeoutSeconds: timeout)
        do {
            _ = try check.socketAddress()
        } catch {
            throw UsageError("--address: \(error)")
        }
        let status = try check.statusCode()
        guard status == 200 else {
            printError("health: GET /healthz on \(address) returned HTTP \(status)")
            return ExitStatus.failure
        }
        return ExitStatus.success
    }
)

/// One `GET /healthz` over HTTP/1.0 to a numeric IPv4 or IPv6 address.
struct HealthCheck {
    static let defaultAddress = "127.0.0.1:9765"

    var address: String
    var timeoutSeconds: Int

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects, sends the request and returns the status code of the response's first line.
    func statusCode() throws -> Int {
        let target = try socketAddress()
        let descriptor = socket(target.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw failure("socket") }
        defer { close(descriptor) }

        // Linux applies SO_SNDTIMEO to connect() as well, so one pair of options bounds every step.
        var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))

        var storage = target.storage
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, target.length) }
        }
        guard connected == 0 else { throw failure("connect to \(address)") }

        let request = Array("GET /healthz HTTP/1.0\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw failure("send to \(address)") }
            sent += count
        }

        // The status line fits in the first read of any reasonable server; 512 bytes cap it.
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while response.count < 512 && !response.contains(0x0A) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw failure("read from \(address)") }
            if count == 0 { break }
            response += buffer[..<count]
        }
        return try Self.status(fromResponse: response)
    }

    /// Reads the code from a status line such as `HTTP/1.1 200 OK`.
    static func status(fromResponse bytes: [UInt8]) throws -> Int {
        let line = String(decoding: bytes.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let words = line.split(separator: " ")
        guard words.count >= 2, words[0].hasPrefix("HTTP/"), let code = Int(words[1]) else {
            throw Failure(description: "the response from /healthz is not HTTP: \(line.prefix(80).debugDescription)")
        }
        return code
    }

    struct SocketAddress {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    /// Parses `1.2.3.4:PORT` or `[::1]:PORT`. Host names are not resolved: the probe must not
    /// depend on DNS.
    func socketAddress() throws -> SocketAddress {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw Failure(description: "invalid address \(address.debugDescription): use ADDRESS:PORT, such as \(Self.defaultAddress) or [::1]:9765")
        }
        var host = String(address[..<colon])
        var storage = sockaddr_storage()
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            var address6 = sockaddr_in6()
            address6.sin6_family = sa_family_t(AF_INET6)
            address6.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address6.sin6_addr) == 1 else { throw invalidHost(host) }
            withUnsafeBytes(of: address6) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            return SocketAddress(family: AF_INET6, storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        var address4 = sockaddr_in()
        address4.sin_family = sa_family_t(AF_INET)
        address4.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address4.sin_addr) == 1 else { throw invalidHost(host) }
        withUnsafeBytes(of: address4) { source in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
        }
        return SocketAddress(family: AF_INET, storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
    }

    private func invalidHost(_ host: String) -> Failure {
        Failure(description: "invalid address \(address.debugDescription): \(host.debugDescription) is not a numeric IPv4 or IPv6 address")
    }

    private func failure(_ operation: String) -> Failure {
        let code = errno
        return Failure(description: "\(operation) failed: \(String(cString: strerror(code)))")
    }
}
