import Foundation
import Testing
@testable import Agent

/// A raw TCP client, so tests can send what no HTTP library would.
final class RawClient {
    let descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the server closes the connection or the 3 s receive timeout passes.
    func receiveAll() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }

    deinit { close(descriptor) }
}

extension DaemonTests {
    @Suite("HTTP endpoint")
    struct HTTPEndpointTests {
        func makeEndpoint(limits: HTTPLimits = HTTPLimits()) throws -> (HTTPEndpoint, DaemonStatus) {
            let status = DaemonStatus()
            status.update {
                $0.checks = [ReadinessCheck(id: "provider-config", status: .pass, message: "ok"), ReadinessCheck(id: "api-audiences", status: .fail, message: "missing")]
                $0.readiness = NodeReadiness.evaluate(checks: $0.checks, rejection: nil)
                $0.reconcileTotal = ["unchanged": 3]
                $0.restartTotal = ["verified": 1]
            }
            let endpoint = try HTTPEndpoint(listen: "127.0.0.1:0", limits: limits) { path in
                NodeDaemon.respond(path: path, status: status, interval: .seconds(60))
            }
            return (endpoint, status)
        }

        func get(_ port: UInt16, _ request: String) throws -> String {
            let client = try RawClient(port: port)
            client.send(request)
            return client.receiveAll()
        }

        @Test("healthz, status and metrics answer")
        func answers() throws {
            let (endpoint, _) = try makeEndpoint()
            defer { endpoint.stop() }

            let health = try get(endpoint.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(health.hasPrefix("HTTP/1.1 200"))
            #expect(health.hasSuffix("\r\n\r\nok\n"))

            let metrics = try get(endpoint.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(metrics.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
            #expect(metrics.contains("harbor_keyless_check_status{check=\"api-audiences\",status=\"fail\"} 1\n"))
            #expect(metrics.contains("harbor_keyless_check_status{check=\"api-audiences\",status=\"pass\"} 0\n"))
            #expect(metrics.contains("harbor_keyless_node_ready 0\n"))
            #expect(metrics.contains("harbor_keyless_reconcile_total{result=\"unchanged\"} 3\n"))
            #expect(metrics.contains("harbor_keyless_restart_total{result=\"verified\"} 1\n"))
            #expect(metrics.contains("harbor_keyless_build_info{version=\"\(AgentVersion.current)\"} 1\n"))
            #expect(metrics.contains("harbor_keyless_cycle_duration_seconds "))

            let status = try get(endpoint.port, "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let body = try #require(status.range(of: "\r\n\r\n").map { String(status[$0.upperBound...]) })
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect((object?["checks"] as? [[String: Any]])?.count == 2)
            #expect((object?["readiness"] as? [String: Any])?["reason"] as? String == "ApiAudiences")
        }

        @Test("other methods get 405 and unknown paths 404", arguments: [
            ("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd", "HTTP/1.1 405"),
            ("DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 405"),
            ("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 404"),
        ])
        func rejections(request: String, statusLine: String) throws {
            let (endpoint, _) = try makeEndpoint()
            defer { endpoint.stop() }
            let response = try get(endpoint.port, request)
            #expect(response.hasPrefix(statusLine))
        }

        @Test("HEAD answers without a body")
        func head() throws {
            let (endpoint, _) = try makeEndpoint()
            defer { endpoint.stop() }
            let response = try get(endpoint.port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.hasPrefix("HTTP/1.1 200"))
            #expect(response.hasSuffix("\r\n\r\n"))
        }

        @Test("garbage, oversized and slow clients do not stall it")
        func hostileClients() throws {
            var limits = HTTPLimits()
            limits.connectionTimeoutSeconds = 2
            let (endpoint, _) = try makeEndpoint(limits: limits)
            defer { endpoint.stop() }

            // 1. A slowloris client starts a request and never finishes it.
            let slow = try RawClient(port: endpoint.port)
            slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")

            // 2. Garbage bytes, including NULs and a bare line.
            let garbage = try RawClient(port: endpoint.port)
            garbage.send([0, 1, 2, 0xFF, 0xFE] + Array("\r\nNOT HTTP AT ALL\r\n\r\n".utf8))
            let garbageAnswer = garbage.receiveAll()
            #expect(garbageAnswer.isEmpty || garbageAnswer.hasPrefix("HTTP/1.1 4"))

            // 3. A header larger than the per-connection memory limit.
            let oversized = try RawClient(port: endpoint.port)
            oversized.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 64 * 1024) + "\r\n\r\n")
            let oversizedAnswer = oversized.receiveAll()
            #expect(oversizedAnswer.isEmpty || oversizedAnswer.hasPrefix("HTTP/1.1 431") || oversizedAnswer.hasPrefix("HTTP/1.1 413"))

            // 4. A normal client still gets /healthz promptly.
            let started = Date()
            let health = try get(endpoint.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(health.hasPrefix("HTTP/1.1 200"))
            #expect(Date().timeIntervalSince(started) < 1)

            // 5. The slow client is cut off by the connection timeout.
            let slowStarted = Date()
            _ = slow.receiveAll()
            #expect(Date().timeIntervalSince(slowStarted) < 3.5)
        }

        @Test("many idle connections leave room for a probe")
        func connectionLimit() throws {
            var limits = HTTPLimits()
            limits.maxConnectionsPerIP = 8
            limits.maxConnections = 64
            let (endpoint, _) = try makeEndpoint(limits: limits)
            defer { endpoint.stop() }

            // Connections beyond the per-IP limit are closed at once.
            let idle = try (0..<20).map { _ in try RawClient(port: endpoint.port) }
            let refused = idle.last!
            refused.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = refused.receiveAll()
            #expect(answer.isEmpty)
            _ = idle
        }

        @Test("healthz fails when the loop stops beating")
        func staleHeartbeat() async throws {
            let status = DaemonStatus()
            status.beat()
            #expect(NodeDaemon.respond(path: "/healthz", status: status, interval: .milliseconds(100)).status == 200)
            try await Task.sleep(for: .milliseconds(400))
            #expect(NodeDaemon.respond(path: "/healthz", status: status, interval: .milliseconds(100)).status == 503)
        }

        @Test("listen address is validated", arguments: [
            ("127.0.0.1:9765", true),
            ("0.0.0.0:0", true),
            ("[::1]:9765", true),
            ("localhost:9765", false),
            ("127.0.0.1", false),
            ("127.0.0.1:70000", false),
            ("[::1:9765", false),
        ])
        func listenAddress(text: String, valid: Bool) {
            let parsed = try? ListenAddress.parse(text)
            #expect((parsed != nil) == valid)
        }
    }
}
