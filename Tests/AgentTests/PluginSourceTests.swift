import Foundation
import Testing

@testable import Agent

/// The plugin executable is opened once: the file whose `--version` was checked is the file
/// installed. The plugins here are shell-script stand-ins for credential-provider-harbor
/// that print its version line and change their own path while they run.
@Suite("Plugin source opened once")
struct PluginSourceTests {
    static let installed = "/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"

    func configuration(_ node: NodeTree, plugin: String) -> AgentConfiguration {
        AgentConfiguration(
            registries: [RegistryConfiguration(host: "harbor.example.com")],
            hostRoot: node.root,
            restartPolicy: .never,
            pluginSource: plugin
        )
    }

    /// Writes `text` to `path` with mode 755 from a shell, so no descriptor open for writing
    /// is in this process, where another test's spawned child could inherit it and make
    /// executing the file fail with ETXTBSY.
    func writeExecutable(_ path: String, _ text: String) throws {
        let process = Process()
        process.executableURL = URL(filePath: "/bin/sh")
        process.arguments = ["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", text, path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
    }

    @Test("a file renamed over the plugin during its check is not installed")
    func swapDuringCheck() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let plugin = node.root + "/plugin"
        let replacement = node.root + "/replacement"
        let checked = "#!/bin/sh\nmv -f '\(replacement)' '\(plugin)'\necho 'credential-provider-harbor v0.0.0 (stand-in)'\n"
        try writeExecutable(replacement, "#!/bin/sh\necho replacement\n")
        try writeExecutable(plugin, checked)

        let report = try await Installer(configuration: configuration(node, plugin: plugin)).install()

        #expect(report.plan.files.first?.action == .create)
        #expect(node.text(Self.installed) == checked)
        #expect(node.text("/plugin") == "#!/bin/sh\necho replacement\n")
    }

    @Test("a plugin changed in place during its check is rejected")
    func changedDuringCheck() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let plugin = node.root + "/plugin"
        try writeExecutable(plugin, "#!/bin/sh\necho '# changed' >> '\(plugin)'\necho 'credential-provider-harbor v0.0.0 (stand-in)'\nexit 0\n")

        var failure: InstallError?
        do {
            _ = try await Installer(configuration: configuration(node, plugin: plugin)).install()
        } catch let error as InstallError {
            failure = error
        }

        #expect(failure?.message == "the plugin executable \(plugin) changed while its version was checked")
        #expect(!node.exists(Self.installed))
    }
}
