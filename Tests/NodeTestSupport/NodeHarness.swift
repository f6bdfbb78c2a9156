import Foundation

/// A Debian node with real systemd booted by Tests/node/node.sh under systemd-nspawn, with the
/// k3s stand-in (Tests/node/files/k3s, NOT k3s) installed as k3s.service and k3s-agent.service.
public final class NodeHarness {
    /// Node tests need root, debootstrap (or a cached root) and systemd-nspawn.
    public static var enabled: Bool {
        ProcessInfo.processInfo.environment["HARBOR_KEYLESS_NODE_TESTS"] == "1" && getuid() == 0
    }

    public let name: String
    public let root: String
    public let busAddress: String
    public let journalDirectory: String

    /// Boots a node; `enable` lists units started at boot, such as `k3s.service`.
    public init(enable: [String] = []) throws {
        name = "hk-\(UUID().uuidString.prefix(8).lowercased())"
        let (status, output) = try ChildProcess.run(Self.script, ["start", name] + enable.flatMap { ["--enable", $0] })
        guard status == 0 else {
            throw FixtureError(message: "node.sh start \(name) exited with \(status)")
        }

        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        guard let root = values["NODE_ROOT"], let bus = values["NODE_BUS"], let journal = values["NODE_JOURNAL"] else {
            throw FixtureError(message: "node.sh start printed no NODE_ROOT, NODE_BUS or NODE_JOURNAL: \(output)")
        }
        self.root = root
        busAddress = bus
        journalDirectory = journal
    }

    deinit {
        _ = try? ChildProcess.run(Self.script, ["stop", name])
    }

    /// Runs `arguments` inside the node and returns its status and standard output.
    public func exec(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ChildProcess.run(Self.script, ["exec", name] + arguments)
    }

    /// Reads a file inside the node.
    public func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: root + path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes `contents` to `path` inside the node, creating parent directories.
    public func write(_ path: String, _ contents: String, mode: Int = 0o644) throws {
        let url = URL(fileURLWithPath: root + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    private static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("node/node.sh").path
    }
}
