import Foundation
import KubeAPI

/// A running copy of Tests/apistandin/standin.py, the loopback stand-in for kube-apiserver
/// (the real one cannot run on test machines). It makes its own CA and client certificates
/// in a temporary directory, and exits when this object is released or the test process ends.
/// Every stored property is set once in `init`, so sharing an instance between tests is safe.
public final class APIStandIn: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: Process
    private let input: Pipe

    public var server: String { "https://127.0.0.1:\(port)" }
    public var tokenFile: String { "\(directory)/tokens.json" }
    public var logPath: String { "\(directory)/requests.jsonl" }

    /// The default identities: client certificates for two nodes, an admin and an expired
    /// node certificate, and service account tokens.
    public static var defaultClients: [[String: Any]] { [
        ["name": "node-a", "user": "system:node:node-a", "groups": ["system:nodes"]],
        ["name": "admin", "user": "system:admin", "groups": ["system:masters"]],
        ["name": "expired", "user": "system:node:node-a", "groups": ["system:nodes"], "expired": true],
    ] }

    public static let agentToken = "agent-token-0123456789"
    public static let otherToken = "other-token-9876543210"

    /// Starts a stand-in with `overrides` merged over the default configuration. The blocking
    /// start-up (spawning Python, waiting for its first line) runs on its own thread, so it
    /// never occupies a thread of Swift's cooperative pool, which other tests need.
    public static func start(_ overrides: [String: Any] = [:]) async throws -> APIStandIn {
        let overridesJSON = try JSONSerialization.data(withJSONObject: overrides)
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try APIStandIn(overridesJSON: overridesJSON) })
            }
        }
    }

    private init(overridesJSON: Data) throws {
        let overrides = try JSONSerialization.jsonObject(with: overridesJSON) as? [String: Any] ?? [:]
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apistandin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        // Configuration: defaults, the agent's RBAC, then the test's overrides.
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let script = tests.appendingPathComponent("apistandin/standin.py").path
        let agentBindings = try JSONSerialization.jsonObject(with: Data(contentsOf: tests.appendingPathComponent("apistandin/agent-rbac.json")))
        var config: [String: Any] = [
            "clients": Self.defaultClients,
            "nodes": ["node-a": [:], "node-b": [:]],
            "bindings": agentBindings,
            "tokenFile": "\(directory)/tokens.json",
            "requestLog": "\(directory)/requests.jsonl",
            "metrics": "kubernetes_feature_enabled{name=\"ServiceAccountNodeAudienceRestriction\",stage=\"BETA\"} 1\n",
        ]
        config.merge(overrides) { $1 }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: "\(directory)/config.json"))
        try Self.writeTokens([
            Self.agentToken: ["user": "system:serviceaccount:harbor-keyless:harbor-keyless",
                              "groups": ["system:serviceaccounts", "system:serviceaccounts:harbor-keyless"]],
            Self.otherToken: ["user": "system:serviceaccount:default:other",
                              "groups": ["system:serviceaccounts", "system:serviceaccounts:default"]],
        ], to: "\(directory)/tokens.json")

        // Start it and read the port from its first line of output.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--config", "\(directory)/config.json", "--dir", "\(directory)/pki"]
        let input = Pipe()
        let output = Pipe()
        let errors = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()

        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
            let port = object["port"] as? Int
        else {
            process.terminate()
            throw StandInError(message: "the API stand-in did not start: \(String(decoding: line, as: UTF8.self))")
        }
        self.port = port
        self.process = process
        self.input = input
        pkiDirectory = "\(directory)/pki"
    }

    private let pkiDirectory: String

    public func clientCertificate(_ name: String) -> String { "\(pkiDirectory)/clients/\(name).crt" }
    public func clientKey(_ name: String) -> String { "\(pkiDirectory)/clients/\(name).key" }
    public var caFile: String { "\(pkiDirectory)/ca/ca.crt" }
    public var unrelatedCAFile: String { "\(pkiDirectory)/other-ca/ca.crt" }

    /// Credentials with a client certificate issued by the stand-in's CA, as files.
    public func credentials(client: String, tlsServerName: String? = nil) -> KubeCredentials {
        KubeCredentials(
            server: server,
            tlsServerName: tlsServerName,
            certificateAuthority: .file(caFile),
            clientCertificate: .file(clientCertificate(client)),
            clientKey: .file(clientKey(client)),
            origin: "test client \(client)"
        )
    }

    public func credentials(token: String) -> KubeCredentials {
        KubeCredentials(server: server, certificateAuthority: .file(caFile), token: .value(BearerToken(token)), origin: "test token")
    }

    public func client(_ credentials: KubeCredentials, _ options: KubeClientOptions = APIStandIn.fastOptions) -> KubeClient {
        KubeClient(credentials: credentials, options: options)
    }

    /// Short delays so retry tests finish quickly.
    public static let fastOptions = KubeClientOptions(connectTimeout: 2, requestTimeout: 5, maxAttempts: 3, retryBaseDelay: 0.05, retryMaxDelay: 0.2)

    public static func writeTokens(_ tokens: [String: [String: Any]], to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: tokens)
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, path)
    }

    /// Reads the request log, one entry per completed request.
    public func requests() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    public func requests(path: String) -> [[String: Any]] {
        requests().filter { $0["path"] as? String == path }
    }

    /// Stops the stand-in with SIGTERM and closes its standard input. It does not wait for the
    /// exit, which would block whichever thread releases the last reference.
    deinit {
        process.terminate()
        try? input.fileHandleForWriting.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A stand-in that could not be started or used.
public struct StandInError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

/// Reads a file under Tests/Fixtures, without the `#` source header lines.
public func fixture(_ path: String) throws -> String {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: tests.appendingPathComponent("Fixtures").appendingPathComponent(path), encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("#") }.joined(separator: "\n")
}

/// Creates a temporary directory, which the caller removes.
public func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("harbor-keyless-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
