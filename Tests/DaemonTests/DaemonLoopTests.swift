import Foundation
import Testing
@testable import Agent

/// A check source whose local checks take `delay`, standing in for a long restart wait.
struct SlowChecks: ReadinessSource {
    var delay: Duration

    func run(_ scope: CheckScope, configuration: AgentConfiguration) async -> [ReadinessCheck] {
        guard scope == .local else { return [] }
        try? await Task.sleep(for: delay)
        return [ReadinessCheck(id: "slow-check", status: .pass, message: "took \(delay)")]
    }
}

extension DaemonTests {
    @Suite("Daemon loop")
    struct DaemonLoopTests {
        func configuration(_ node: TemporaryNode) throws -> AgentConfiguration {
            var flags = ConfigurationLayer()
            flags.registryHost = "harbor.example.com"
            flags.hostRoot = node.root
            flags.restartPolicy = "never"
            flags.pluginSource = buildDirectory + "/credential-provider-harbor"
            return try ConfigurationLayer.resolve([flags])
        }

        @Test("healthz stays up through a long step")
        func healthDuringLongStep() async throws {
            let node = try TemporaryNode()
            defer { node.remove() }
            let logs = LogCapture()
            var settings = DaemonSettings()
            settings.interval = .seconds(1)
            settings.listen = "127.0.0.1:0"
            let configuration = try configuration(node)
            let daemon = NodeDaemon(
                configuration: configuration, settings: settings, restartSettings: RestartSettings(),
                configurationFile: nil, reload: { configuration }, api: nil,
                checks: SlowChecks(delay: .seconds(6)), logger: logs.logger
            )
            let (signals, send) = AsyncStream<DaemonSignal>.makeStream()
            let running = Task { await daemon.run(signals: signals) }

            // The first cycle spends 6 s, twice the healthy heartbeat age, in its checks.
            try await Task.sleep(for: .seconds(4))
            let port = try #require(logs.all.first { $0.contains("msg=\"starting\"") }.flatMap { line in
                line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { UInt16($0.dropFirst(5)) }
            })
            #expect(daemon.status.current.cycles == 0)
            let client = try RawClient(port: port)
            client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(client.receiveAll().hasPrefix("HTTP/1.1 200"))

            // SIGTERM in the middle of the slow step: the daemon abandons it in time.
            let stopping = Date()
            send.yield(.terminate(SIGTERM))
            let status = await running.value
            #expect(status == 0)
            #expect(Date().timeIntervalSince(stopping) < 2)
            #expect(logs.count(containing: "msg=\"stopped\" signal=15") == 1)
        }
    }
}
