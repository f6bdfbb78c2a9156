import Foundation
import APIStandInSupport
import Testing
@testable import Checks

/// Runs the built `harbor-keyless` binary (`swift build` first) on a copy of the k3s-node
/// fixture, as an operator would.
@Suite("doctor command end to end")
struct DoctorCommandTests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
        var seconds: Double
    }

    static func binary() throws -> String {
        let path = NodeFixture.packageRoot.appendingPathComponent(".build/debug/harbor-keyless").path
        return try #require(FileManager.default.isExecutableFile(atPath: path) ? path : nil, "run swift build first")
    }

    static func harborKeyless(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = arguments
        // A clean environment: no pod, no NO_COLOR, nothing from the machine.
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let started = Date()
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), errors: String(decoding: err, as: UTF8.self), seconds: Date().timeIntervalSince(started))
    }

    static func harborKeylessAsync(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        try await blocking { try harborKeyless(arguments, environment: environment) }
    }

    /// Installs into a fresh copy of the fixture the way the quick start does.
    static func installedNode() throws -> NodeFixture {
        let node = try NodeFixture(installed: false)
        let install = try harborKeyless(["install", "--host-root", node.path, "--registry", "harbor.example.com", "--plugin-binary", try NodeFixture.pluginBinary(), "--restart", "never"])
        #expect(install.status == 0, "\(install.errors)")
        return node
    }

    static func checks(_ json: String) throws -> [String: [String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let list = try #require(object["checks"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["id"] as! String, $0) })
    }

    // The registry host harbor.example.com is not resolvable here, and no test may send
    // traffic off loopback, so these runs skip registry.reachable.
    static let common = ["--registry", "harbor.example.com", "--skip", "registry.reachable", "--config", "/dev/null"]

    @Test("without API access: pending restart fails, API checks skip")
    func noAPI() async throws {
        let node = try await blocking { try Self.installedNode() }
        let run = try await Self.harborKeylessAsync(["doctor", "--host-root", node.path, "--output", "json"] + Self.common)
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect(object["ready"] as? Bool == false)
        let checks = try Self.checks(run.output)
        #expect(checks["restart.pending"]?["status"] as? String == "fail")
        #expect(checks["host.plugin-executable"]?["status"] as? String == "pass")
        #expect(checks["version.apiserver"]?["status"] as? String == "skip")
        #expect((checks["version.apiserver"]?["message"] as? String)?.contains("no Kubernetes API credentials") == true)
        #expect(checks["registry.reachable"] == nil)
    }

    @Test("after the restart the node is ready, with the API stand-in")
    func readyWithAPI() async throws {
        let node = try await blocking { try Self.installedNode() }
        // The restart happened: the agent would clear pendingRestart.
        let state = try node.read("/var/lib/harbor-keyless/state.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any])
        object["pendingRestart"] = nil
        try node.write("/var/lib/harbor-keyless/state.json", String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))

        // The API server is a stand-in; the doctor reaches it with an admin kubeconfig.
        let api = try await standIn()
        let kubeconfig = node.path + "/admin.yaml"
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: default
              cluster:
                server: \(api.server)
                certificate-authority: \(api.caFile)
            users:
            - name: default
              user:
                client-certificate: \(api.clientCertificate("admin"))
                client-key: \(api.clientKey("admin"))
            contexts:
            - name: default
              context: {cluster: default, user: default}
            current-context: default
            """.write(toFile: kubeconfig, atomically: false, encoding: .utf8)

        let run = try await Self.harborKeylessAsync(
            ["doctor", "--host-root", node.path, "--kubeconfig", kubeconfig, "--output", "json", "--timeout", "5s"] + Self.common,
            environment: ["NODE_NAME": "node-a"]
        )
        #expect(run.status == 0, "\(run.output)")
        let checks = try Self.checks(run.output)
        #expect(checks["version.apiserver"]?["status"] as? String == "pass")
        #expect(checks["cluster.node-audience-rbac"]?["status"] as? String == "pass")
        print("doctor end to end against the stand-in: \(Int(run.seconds * 1000)) ms")
        #expect(run.seconds < 2)

        let table = try await Self.harborKeylessAsync(["doctor", "--host-root", node.path, "--kubeconfig", kubeconfig] + Self.common, environment: ["NODE_NAME": "node-a"])
        #expect(table.status == 0)
        #expect(table.output.contains("ready: "))
        #expect(!table.output.contains("\u{1B}["))
    }

    @Test("unreachable API is bounded by --timeout")
    func unreachableAPI() async throws {
        let node = try await blocking { try Self.installedNode() }
        let kubeconfig = node.path + "/dead.yaml"
        // A listening TCP socket that accepts connections and never responds.
        let listener = try SilentListener()
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: d, cluster: {server: "https://127.0.0.1:\(listener.port)", certificate-authority: /etc/ssl/certs/ca-certificates.crt}}]
            users: [{name: d, user: {token: abc}}]
            contexts: [{name: d, context: {cluster: d, user: d}}]
            current-context: d
            """.write(toFile: kubeconfig, atomically: false, encoding: .utf8)
        let run = try await Self.harborKeylessAsync(["doctor", "--host-root", node.path, "--kubeconfig", kubeconfig, "--output", "json", "--timeout", "1s"] + Self.common)
        #expect(run.seconds < 3.5)
        let checks = try Self.checks(run.output)
        #expect(checks["version.apiserver"]?["status"] as? String == "warn")
        #expect((checks["version.apiserver"]?["message"] as? String)?.contains("timed out") == true)
        #expect(checks["host.plugin-executable"]?["status"] as? String == "pass")
    }

    static let badArguments: [[String]] = [
        ["--output", "yaml"],
        ["--service-account", "no-slash"],
        ["--timeout", "forever"],
        ["--skip", "no.such-check"],
        ["--unknown-option"],
    ]

    @Test("usage errors exit 64", arguments: badArguments)
    func usageErrors(arguments: [String]) async throws {
        let node = try await nodeFixture(installed: false)
        let run = try await Self.harborKeylessAsync(["doctor", "--host-root", node.path, "--registry", "harbor.example.com", "--config", "/dev/null"] + arguments)
        #expect(run.status == 64, "\(arguments): \(run.errors)")
        #expect(run.errors.hasPrefix("error: "))
    }
}

/// A loopback TCP listener that accepts connections and never responds.
final class SilentListener: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw StandInError(message: "cannot listen on loopback") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
