import Foundation
import K3sConfig
import APIStandInSupport
import Testing
@testable import Checks
import HostFiles
import KubeAPI

/// A temporary node tree: a copy of Tests/Fixtures/k3s-node with the files `harbor-keyless
/// install --registry harbor.example.com` writes (plugin executable, provider entry, drop-in).
/// Removed on deinit.
final class NodeFixture: @unchecked Sendable {
    let path: String
    static let registry = "harbor.example.com"

    static var testsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var packageRoot: URL { testsDirectory.deletingLastPathComponent() }

    /// Returns the built plugin, `.build/debug/credential-provider-harbor` (`swift build` first).
    static func pluginBinary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("credential-provider-harbor").path,
            packageRoot.appendingPathComponent(".build/debug/credential-provider-harbor").path,
        ]
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "plugin binary not found in \(candidates); run swift build first")
    }

    /// Copies the k3s-node fixture; `installed` also writes our three files.
    init(installed: Bool = true, annotationKey: String? = nil) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("checks-node-\(UUID().uuidString)").path
        let source = Self.testsDirectory.appendingPathComponent("Fixtures/k3s-node").path
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = ["-a", source, path]
        try copy.run()
        copy.waitUntilExit()
        try FileManager.default.createDirectory(atPath: path + "/var/lib/harbor-keyless", withIntermediateDirectories: true)
        if installed { try install(annotationKey: annotationKey) }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func install(annotationKey: String? = nil, matchImages: [String] = [NodeFixture.registry], audience: String = NodeFixture.registry) throws {
        let bin = path + HostLayout.defaultBinDirectory
        try? FileManager.default.removeItem(atPath: bin + "/credential-provider-harbor")
        try FileManager.default.copyItem(atPath: try Self.pluginBinary(), toPath: bin + "/credential-provider-harbor")

        var config = try CredentialProviderConfig.parse(try read(HostLayout.defaultProviderConfig), source: "config.yaml")
        config.upsert(HarborProvider(
            name: "credential-provider-harbor", matchImages: matchImages, defaultCacheDuration: "1h", args: ["--username=jwt"],
            tokenAttributes: .init(serviceAccountTokenAudience: audience, requiredServiceAccountAnnotationKeys: annotationKey.map { [$0] } ?? [])
        ))
        try write(HostLayout.defaultProviderConfig, try config.rendered())
        try write(
            "/etc/rancher/k3s/config.yaml.d/" + K3sConfigFiles.dropInFileName,
            K3sConfigFiles.renderDropIn(binDir: HostLayout.defaultBinDirectory, configPath: HostLayout.defaultProviderConfig)
        )
    }

    func read(_ hostPath: String) throws -> String {
        try String(contentsOfFile: path + hostPath, encoding: .utf8)
    }

    func write(_ hostPath: String, _ text: String, mode: Int = 0o644) throws {
        let full = path + hostPath
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: full)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }

    func remove(_ hostPath: String) throws {
        try FileManager.default.removeItem(atPath: path + hostPath)
    }

    /// Sets a file's modification time.
    func touch(_ hostPath: String, at date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path + hostPath)
    }

    var root: HostRoot {
        get throws { try HostRoot(path) }
    }
}

/// Returns the setup that `install --registry harbor.example.com` configures.
func harborSetup(
    registryHosts: [String] = [NodeFixture.registry], audience: String = NodeFixture.registry,
    matchImages: [String]? = nil, annotationKey: String? = nil
) -> NodeSetup {
    NodeSetup(
        providers: [
            NodeSetup.Provider(
                name: "credential-provider-harbor", audience: audience, matchImages: matchImages ?? registryHosts, username: "jwt",
                serviceAccountAnnotationKey: annotationKey, registryHosts: registryHosts
            )
        ],
        k3sConfigPath: "/etc/rancher/k3s/config.yaml",
        stateDirectory: "/var/lib/harbor-keyless",
        unit: nil
    )
}

/// Returns a context on `node`, with no API access unless `api` is given.
func makeContext(
    node: NodeFixture,
    setup: NodeSetup = harborSetup(),
    options: DoctorOptions = DoctorOptions(),
    api: APIAccess = .unavailable(reason: "no credentials in this test"),
    nodeName: String? = "node-a",
    kubelet: (host: String, port: Int)? = nil,
    journal: any JournalSource = RecordedJournal(entries: []),
    serviceStatus: any ServiceStatusSource = NoServiceStatus(),
    environment: [String: String] = [:],
    timeout: Duration = .seconds(10),
    podTokenPath: String = "/nonexistent/token",
    apiserverGates: APIServerGateCache? = nil
) throws -> CheckContext {
    CheckContext(
        setup: setup, options: options, root: try node.root, api: api, nodeName: nodeName, kubeletEndpoint: kubelet,
        journal: journal, serviceStatus: serviceStatus, environment: environment, timeout: timeout, podTokenPath: podTokenPath,
        apiserverGates: apiserverGates
    )
}

extension APIStandIn {
    /// API access as the node identity (client certificate CN=system:node:node-a).
    var asNode: APIAccess { .client(client(credentials(client: "node-a"))) }
    /// API access as an admin (group system:masters), like k3s.yaml.
    var asAdmin: APIAccess { .client(client(credentials(client: "admin"))) }
    /// API access as the DaemonSet's service account, bound to the agent's ClusterRole.
    var asAgent: APIAccess { .client(client(credentials(token: APIStandIn.agentToken))) }
    /// API access as a service account with no RBAC grants.
    var asOther: APIAccess { .client(client(credentials(token: APIStandIn.otherToken))) }

    /// The kubelet's endpoint when this stand-in plays the kubelet.
    var endpoint: (host: String, port: Int) { ("127.0.0.1", port) }

    /// The directory of this stand-in's CA, for a second stand-in that signs with it.
    var caDirectory: String { (caFile as NSString).deletingLastPathComponent }
}

/// Returns an unsigned JWT with the given claims and header kid, for tests that read claims.
func unsignedJWT(claims: [String: Any], kid: String?) throws -> String {
    func encode(_ object: [String: Any]) throws -> String {
        try JSONSerialization.data(withJSONObject: object).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
    var header: [String: Any] = ["alg": "RS256"]
    if let kid { header["kid"] = kid }
    return try encode(header) + "." + encode(claims) + ".c2lnbmF0dXJl"
}

/// Journal entries from a fixture file's lines (`#` headers dropped), all of one invocation,
/// one second apart ending now.
func journal(fixture name: String, invocation: String = "0123456789abcdef0123456789abcdef") throws -> [JournalEntry] {
    let lines = try fixture("journal/" + name).split(separator: "\n").map(String.init)
    return journal(lines: lines, invocation: invocation)
}

func journal(lines: [String], invocation: String? = "0123456789abcdef0123456789abcdef", endingAt end: Date = Date()) -> [JournalEntry] {
    lines.enumerated().map { index, line in
        JournalEntry(time: end.addingTimeInterval(Double(index - lines.count)), message: line, invocationID: invocation)
    }
}

/// Runs one check.
func run(_ check: Check, _ context: CheckContext) async -> CheckResult {
    await check.run(context)
}
