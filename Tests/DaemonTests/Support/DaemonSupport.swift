import APIStandInSupport
import Foundation
import KubeAPI
import Synchronization
import Testing
@testable import Agent

/// Every suite of this target, run one test at a time. The daemon's loop and the stand-ins
/// are timing-sensitive, and tests that block their thread (raw sockets, polling a log)
/// would otherwise starve the task pool that the daemon under test shares with them.
@Suite(.serialized) struct DaemonTests {}

/// Collects the daemon's log lines in memory.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: DaemonLogger {
        DaemonLogger { line in self.lines.withLock { $0.append(line) } }
    }

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    func count(containing text: String) -> Int {
        all.filter { $0.contains(text) }.count
    }
}

extension APIStandIn {
    /// Returns a client with the agent's service account identity, which RBAC allows to use
    /// Leases in namespace harbor-keyless.
    func agentClient() -> KubeClient {
        client(credentials(token: APIStandIn.agentToken), Self.patientOptions)
    }

    func adminClient() -> KubeClient {
        client(credentials(client: "admin"), Self.patientOptions)
    }

    /// A request timeout long enough for a loaded machine, so a slow response is not retried
    /// and counted twice in the request log.
    static let patientOptions = KubeClientOptions(connectTimeout: 5, requestTimeout: 30, maxAttempts: 3, retryBaseDelay: 0.05, retryMaxDelay: 0.2)

    /// Completed requests with this method whose path starts with `prefix`.
    func count(method: String, pathPrefix prefix: String, status: Int? = nil) -> Int {
        requests().filter {
            ($0["method"] as? String) == method
                && (($0["path"] as? String)?.hasPrefix(prefix) ?? false)
                && (status == nil || ($0["status"] as? Int) == status)
        }.count
    }
}

/// Lease settings with short waits, so contention tests finish in seconds.
func fastLeaseSettings(holder: String, slots: Int = 1, namespace: String = "harbor-keyless") -> LeaseRestartPermit.Settings {
    var settings = LeaseRestartPermit.Settings(namespace: namespace, holder: holder)
    settings.slots = slots
    settings.retryDelay = .milliseconds(50)
    settings.waitTimeout = .seconds(20)
    settings.readyTimeout = .seconds(2)
    settings.leaseDuration = .seconds(30)
    return settings
}

/// A temporary copy of the k3s node fixture under Tests/Fixtures/k3s-node.
struct TemporaryNode {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hk-daemon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/k3s-node").path
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = ["-a", fixture + "/.", root + "/"]
        try copy.run()
        copy.waitUntilExit()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// The directory holding the built executables.
let buildDirectory: String = {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
    if url.path.hasSuffix(".xctest") { url.deleteLastPathComponent() }
    return url.path
}()
