import Foundation
import NodeTestSupport
import Testing

@testable import Agent

/// Installs onto a node tree whose credential provider directory is a small tmpfs. Mounting
/// needs root, so these tests run with the node tests.
@Suite(
    "Install on a small file system",
    .enabled(if: NodeHarness.enabled, "set HARBOR_KEYLESS_NODE_TESTS=1 and run as root to mount tmpfs")
)
struct FreeSpaceTests {
    func mount(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/" + arguments[0])
        process.arguments = Array(arguments.dropFirst())
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test("copies that do not fit are rejected")
    func copiesRejected() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let directory = node.path("/var/lib/rancher/credentialprovider")
        let before = try #require(node.text("/var/lib/rancher/credentialprovider/config.yaml"))
        let saved = try FileManager.default.contentsOfDirectory(atPath: directory)
        let keep = FileManager.default.temporaryDirectory.appendingPathComponent("hk-keep-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: directory, toPath: keep)
        defer { try? FileManager.default.removeItem(atPath: keep) }

        // 40 MiB hold two or three copies of the plugin, not six.
        #expect(try mount(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", directory]) == 0)
        defer { _ = try? mount(["umount", directory]) }
        for name in saved {
            try FileManager.default.copyItem(atPath: keep + "/" + name, toPath: directory + "/" + name)
        }
        let registries = (1...6).map { RegistryConfiguration(host: "harbor\($0).example.com", audience: "aud\($0)") }
        let configuration = AgentConfiguration(
            registries: registries, hostRoot: node.root, restartPolicy: .never, pluginSource: NodeTree.pluginPath
        )

        do {
            _ = try await Installer(configuration: configuration).install()
            Issue.record("expected the install to be rejected")
        } catch {
            #expect("\(error)".contains("copies of the plugin executable"))
            #expect("\(error)".contains("nothing was written"))
        }
        #expect(node.text("/var/lib/rancher/credentialprovider/config.yaml") == before)
        let executables = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/bin")) ?? []
        #expect(!executables.contains { $0.hasPrefix("credential-provider-harbor") })
    }

    @Test("backups that do not fit are rejected")
    func backupsRejected() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let configuration = AgentConfiguration(
            registries: [RegistryConfiguration(host: "harbor.example.com")], hostRoot: node.root, restartPolicy: .never,
            pluginSource: NodeTree.pluginPath
        )
        _ = try await Installer(configuration: configuration).install()

        // The state directory moves onto 20 MiB, less than one backup plus the reserve.
        let state = node.path("/var/lib/harbor-keyless")
        let keep = FileManager.default.temporaryDirectory.appendingPathComponent("hk-state-\(UUID().uuidString)").path
        try FileManager.default.moveItem(atPath: state, toPath: keep)
        defer { try? FileManager.default.removeItem(atPath: keep) }
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        #expect(try mount(["mount", "-t", "tmpfs", "-o", "size=20m,mode=0700", "tmpfs", state]) == 0)
        defer { _ = try? mount(["umount", state]) }
        try FileManager.default.copyItem(atPath: keep + "/state.json", toPath: state + "/state.json")

        // A newer plugin: the same executable with one more byte, which still runs.
        let newer = keep + "-plugin"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: NodeTree.pluginPath))
        bytes.append(0)
        try bytes.write(to: URL(fileURLWithPath: newer))
        defer { try? FileManager.default.removeItem(atPath: newer) }
        #expect(chmod(newer, 0o755) == 0)
        var update = configuration
        update.pluginSource = newer

        do {
            _ = try await Installer(configuration: update).install()
            Issue.record("expected the install to be rejected")
        } catch {
            #expect("\(error)".contains("backups of 1 replaced executables"))
        }
        let installed = try Data(contentsOf: URL(fileURLWithPath: node.path("/var/lib/rancher/credentialprovider/bin/credential-provider-harbor")))
        #expect(installed.count == bytes.count - 1)
    }
}
