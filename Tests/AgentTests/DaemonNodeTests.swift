import Foundation
import NodeTestSupport
import Synchronization
import Systemd
import Testing

/// `harbor-keyless run` from outside a real systemd node (the DaemonSet shape) that runs the
/// k3s stand-in (Tests/node/files/k3s, NOT k3s). No API server is involved (`--no-api`).
@Suite(
    "Daemon on a real systemd node",
    .serialized,
    .enabled(if: NodeHarness.enabled, "set HARBOR_KEYLESS_NODE_TESTS=1 and run as root to boot a systemd-nspawn node")
)
struct DaemonNodeTests {
    static let dropIn = "/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
    static let providerConfig = "/var/lib/rancher/credentialprovider/config.yaml"

    /// Starts the daemon with a short interval; its standard error goes to `log`. It listens on
    /// a port the kernel picks, so parallel test runs on one machine cannot collide.
    func startDaemon(_ node: NodeHarness, log: String, interval: String = "3s", extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(filePath: NodeTree.agentPath)
        process.arguments = [
            "run", "--registry", "harbor.example.com", "--host-root", node.root, "--config", "/dev/null",
            "--interval", interval, "--settle-window", "5s", "--no-api", "--listen", "127.0.0.1:0",
        ] + extra
        process.environment = ["PATH": "/usr/bin:/bin", "DBUS_SYSTEM_BUS_ADDRESS": node.busAddress]
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(filePath: log))
        try process.run()
        return process
    }

    func boot(version: String = "v1.34.1+k3s1") async throws -> (NodeHarness, SystemdManager) {
        let node = try NodeHarness(enable: ["k3s.service"])
        try node.write("/etc/k3s-standin/kubelet-delay-seconds", "1\n")
        try node.write("/etc/k3s-standin/version", version + "\n")
        let manager = try SystemdManager.connect(address: node.busAddress)
        for _ in 0..<100 {
            if try manager.unitState("k3s.service")?.activeState == "active" { return (node, manager) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError(message: "k3s.service did not become active in the node")
    }

    /// Returns the port from the daemon's start line (`port=N`), waiting up to 10 s for it.
    func listeningPort(log: String) async throws -> Int {
        for _ in 0..<50 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #" port=\d+"#, options: .regularExpression), let port = Int(text[range].dropFirst(6)) {
                return port
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw FixtureError(message: "the daemon logged no port= in 10 s")
    }

    /// Polls `condition` every 200 ms for up to `seconds`.
    func waitFor(_ seconds: Int, _ condition: () throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 5) {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try condition()
    }

    func status(port: Int) -> String? {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/curl")
        process.arguments = ["-s", "--max-time", "2", "http://127.0.0.1:\(port)/status"]
        let output = Pipe()
        process.standardOutput = output
        try? process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("daemon installs, repairs drift, restarts once per change and stops on SIGTERM")
    func repairAndStop() async throws {
        let (node, manager) = try await boot()
        let before = try #require(try manager.unitState("k3s.service"))
        let log = node.root + "/../daemon.log"
        let daemon = try startDaemon(node, log: log)
        defer { if daemon.isRunning { daemon.terminate() } }
        let port = try await listeningPort(log: log)

        // 1. The first cycle installs and restarts k3s once.
        let installedAndRestarted = try await waitFor(60) {
            let restarted = try manager.unitState("k3s.service")?.invocationID != before.invocationID
            return node.read(Self.dropIn) != nil && restarted
        }
        #expect(installedAndRestarted)
        let installed = try #require(try manager.unitState("k3s.service"))
        try await Task.sleep(for: .seconds(7))
        #expect(try manager.unitState("k3s.service")?.invocationID == installed.invocationID)

        // 2. A deleted drop-in is written again within an interval, and k3s restarts for it.
        try FileManager.default.removeItem(atPath: node.root + Self.dropIn)
        #expect(try await waitFor(30) { node.read(Self.dropIn) != nil })
        #expect(try await waitFor(30) { try manager.unitState("k3s.service")?.invocationID != installed.invocationID })

        // 3. The status page reports the checks.
        #expect(status(port: port)?.contains("host.drop-in") == true)

        // 4. SIGTERM ends the daemon within 2 s. The exit is timed on a thread of its own, so
        // tests blocking the shared task threads cannot delay the measurement.
        let exitedAt = Mutex<Date?>(nil)
        let waiter = Thread {
            daemon.waitUntilExit()
            exitedAt.withLock { $0 = Date() }
        }
        waiter.start()
        let stopping = Date()
        kill(daemon.processIdentifier, SIGTERM)
        for _ in 0..<200 where exitedAt.withLock({ $0 }) == nil {
            try await Task.sleep(for: .milliseconds(50))
        }
        let exited = try #require(exitedAt.withLock { $0 })
        #expect(exited.timeIntervalSince(stopping) < 2.5)
    }

    @Test("SIGTERM during a restart leaves it to the next start")
    func stopDuringRestart() async throws {
        let (node, manager) = try await boot()
        // From now on the stand-in takes 4 s to report ready, so the restart job is still
        // running when the daemon receives SIGTERM.
        try node.write("/etc/k3s-standin/ready-delay-seconds", "4\n")
        let statePath = "/var/lib/harbor-keyless/state.json"
        let log = node.root + "/../daemon.log"
        let first = try startDaemon(node, log: log)
        defer { if first.isRunning { first.terminate() } }
        #expect(try await waitFor(60) { node.read(statePath)?.contains("restartInFlight") == true })
        try await Task.sleep(for: .milliseconds(500))
        #expect(try manager.unitState("k3s.service")?.activeState == "activating")

        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()

        // Not a rejection: nothing rolled back, the restart still recorded as in flight.
        let state = try #require(node.read(statePath))
        #expect(state.contains("\"phase\" : \"restarting\""))
        #expect(!state.contains("lastRejection"))
        #expect(node.read(Self.dropIn) != nil)

        // The next start verifies the restart k3s finished meanwhile.
        let second = try startDaemon(node, log: node.root + "/../daemon2.log")
        defer { if second.isRunning { second.terminate() } }
        #expect(try await waitFor(60) { node.read(statePath).map { !$0.contains("restartInFlight") } == true })
        #expect(node.read(statePath)?.contains("lastRejection") == false)
        #expect(node.read(Self.dropIn) != nil)
        #expect(try manager.unitState("k3s.service")?.activeState == "active")
    }

    @Test("restart policy always restarts once per configuration")
    func alwaysRestartsOnce() async throws {
        let (node, manager) = try await boot()
        let before = try #require(try manager.unitState("k3s.service"))
        let log = node.root + "/../daemon.log"
        // A 1 s interval makes the periodic full install (every tenth cycle) come twice.
        let daemon = try startDaemon(node, log: log, interval: "1s", extra: ["--restart", "always"])
        defer { if daemon.isRunning { daemon.terminate() } }

        #expect(try await waitFor(60) { try manager.unitState("k3s.service")?.invocationID != before.invocationID })
        let restarted = try #require(try manager.unitState("k3s.service"))
        try await Task.sleep(for: .seconds(25))

        #expect(try manager.unitState("k3s.service")?.invocationID == restarted.invocationID)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.components(separatedBy: "msg=\"restarted k3s\"").count == 2)
    }

    @Test("daemon does not loop after a rollback")
    func noLoopAfterRollback() async throws {
        // The node's kubelet is 1.33, which rejects the 1.34 config the daemon is configured to render.
        let (node, manager) = try await boot(version: "v1.33.4+k3s1")
        let log = node.root + "/../daemon.log"
        let daemon = try startDaemon(node, log: log, extra: ["--kubernetes-version", "v1.34.1"])
        defer { if daemon.isRunning { daemon.terminate() } }
        let port = try await listeningPort(log: log)

        // The rollback is done when the state records the rejection and no restart in flight.
        // (`rejectedConfigs` is written even when empty, so the key alone proves nothing.)
        #expect(try await waitFor(90) {
            let state = node.read("/var/lib/harbor-keyless/state.json") ?? ""
            return state.contains("lastRejection") && !state.contains("restartInFlight")
        })
        #expect(try await waitFor(30) { try manager.unitState("k3s.service")?.activeState == "active" })
        let afterRollback = try #require(try manager.unitState("k3s.service"))

        // Several intervals later the rejected config has not been applied again.
        try await Task.sleep(for: .seconds(12))
        #expect(try manager.unitState("k3s.service")?.invocationID == afterRollback.invocationID)
        #expect(node.read(Self.dropIn) == nil)
        #expect(status(port: port)?.contains("RolledBack") == true)
        kill(daemon.processIdentifier, SIGTERM)
    }
}
