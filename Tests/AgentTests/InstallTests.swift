import Foundation
import Testing
import YAML

@testable import Agent

/// Installs onto a copy of a realistic k3s server node tree and checks every file.
@Suite("Install on a k3s node tree")
struct InstallTests {
    static let binDir = "/var/lib/rancher/credentialprovider/bin"
    static let providerConfig = "/var/lib/rancher/credentialprovider/config.yaml"
    static let dropIn = "/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"

    func configuration(_ node: NodeTree, registries: [RegistryConfiguration]? = nil) -> AgentConfiguration {
        AgentConfiguration(
            registries: registries ?? [RegistryConfiguration(host: "harbor.example.com")],
            hostRoot: node.root,
            pluginSource: NodeTree.pluginPath
        )
    }

    func providers(_ node: NodeTree, path: String = providerConfig) throws -> [YAMLNode] {
        let text = try #require(node.text(path))
        return try #require(YAML.parse(text, source: path)?["providers"]?.sequence)
    }

    @Test("first install writes every file and keeps the ECR provider")
    func firstInstall() throws {
        let node = try NodeTree()
        defer { node.remove() }

        let report = try Installer(configuration: configuration(node)).install()

        #expect(report.plan.kubernetesVersion == "v1.34.1+k3s1")
        #expect(report.plan.kubernetesVersionSource == "/usr/local/bin/k3s")
        #expect(report.plan.files.map(\.action) == [.create, .update, .create])
        #expect(report.plan.needsRestart)
        #expect(report.pendingRestart != nil)

        let plugin = try #require(FileManager.default.contents(atPath: NodeTree.pluginPath))
        #expect(FileManager.default.contents(atPath: node.path(Self.binDir + "/credential-provider-harbor")) == plugin)
        #expect(try node.permissions(Self.binDir + "/credential-provider-harbor") == 0o755)

        let entries = try providers(node)
        #expect(entries.map { $0["name"]?.string } == ["ecr-credential-provider", "credential-provider-harbor"])
        #expect(entries[0]["env"]?.sequence?.first?["value"]?.string == "default")
        let ours = entries[1]
        #expect(ours["apiVersion"]?.string == "credentialprovider.kubelet.k8s.io/v1")
        #expect(ours["matchImages"]?.sequence?.map(\.string) == ["harbor.example.com"])
        #expect(ours["defaultCacheDuration"]?.string == "1h")
        #expect(ours["args"]?.sequence?.map(\.string) == ["--username=jwt"])
        #expect(ours["tokenAttributes"]?["serviceAccountTokenAudience"]?.string == "harbor.example.com")
        #expect(ours["tokenAttributes"]?["cacheType"]?.string == "Token")
        #expect(ours["tokenAttributes"]?["requireServiceAccount"]?.bool == true)
        #expect(ours["tokenAttributes"]?["requiredServiceAccountAnnotationKeys"] == nil)

        let dropIn = try #require(node.text(Self.dropIn))
        let dropInValues = try #require(YAML.parse(dropIn, source: "drop-in")?.mapping)
        #expect(dropInValues.map(\.key) == ["image-credential-provider-bin-dir", "image-credential-provider-config"])
        #expect(dropInValues.map(\.value.string) == [Self.binDir, Self.providerConfig])

        #expect(node.text("/etc/rancher/k3s/config.yaml") == (try String(contentsOfFile: NodeTree.fixture + "/etc/rancher/k3s/config.yaml", encoding: .utf8)))
        #expect(node.exists("/var/lib/harbor-keyless/state.json"))
    }

    @Test("second install changes nothing and keeps mtimes")
    func idempotent() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try installer.install()
        let before = try [Self.providerConfig, Self.dropIn, Self.binDir + "/credential-provider-harbor"].map(node.modificationDate)

        let report = try installer.install()

        #expect(report.plan.files.allSatisfy { $0.action == .unchanged })
        #expect(!report.plan.needsRestart)
        let after = try [Self.providerConfig, Self.dropIn, Self.binDir + "/credential-provider-harbor"].map(node.modificationDate)
        #expect(before == after)
    }

    @Test("a new plugin binary alone needs no restart")
    func binaryOnlyChange() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try installer.install()
        try node.write(Self.binDir + "/credential-provider-harbor", "#!/bin/sh\nold\n", mode: 0o755)

        let report = try installer.install()

        #expect(report.plan.files.map(\.action) == [.update, .unchanged, .unchanged])
        #expect(!report.plan.needsRestart)
    }

    @Test("operator-chosen paths are honoured and no drop-in is written")
    func operatorPaths() throws {
        let node = try NodeTree()
        defer { node.remove() }
        try node.write(
            "/etc/rancher/k3s/config.yaml.d/20-providers.yaml",
            "image-credential-provider-bin-dir: /opt/credential-providers\nimage-credential-provider-config: /etc/kubernetes/credential-providers.yaml\n"
        )
        try FileManager.default.createDirectory(atPath: node.path("/opt/credential-providers"), withIntermediateDirectories: true)

        let report = try Installer(configuration: configuration(node)).install()

        #expect(report.plan.paths.operatorChosePaths)
        #expect(node.exists("/opt/credential-providers/credential-provider-harbor"))
        #expect(try providers(node, path: "/etc/kubernetes/credential-providers.yaml").map { $0["name"]?.string } == ["credential-provider-harbor"])
        #expect(!node.exists(Self.dropIn))
        #expect(report.plan.warnings.contains { $0.contains("20-providers.yaml") })
    }

    @Test("two audiences get two entries and two executables")
    func twoAudiences() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let registries = [
            RegistryConfiguration(host: "harbor.example.com"),
            RegistryConfiguration(host: "harbor.internal:8443", serviceAccountAnnotationKey: "harbor.internal/pull"),
        ]

        _ = try Installer(configuration: configuration(node, registries: registries)).install()

        let entries = try providers(node)
        #expect(entries.map { $0["name"]?.string } == ["ecr-credential-provider", "credential-provider-harbor", "credential-provider-harbor-harbor.internal-8443"])
        #expect(entries[2]["matchImages"]?.sequence?.map(\.string) == ["harbor.internal:8443"])
        #expect(entries[2]["tokenAttributes"]?["serviceAccountTokenAudience"]?.string == "harbor.internal:8443")
        #expect(entries[2]["tokenAttributes"]?["requiredServiceAccountAnnotationKeys"]?.sequence?.map(\.string) == ["harbor.internal/pull"])
        #expect(node.exists(Self.binDir + "/credential-provider-harbor-harbor.internal-8443"))
    }

    @Test("a renamed provider leaves no old entry or executable")
    func renamedProvider() throws {
        let node = try NodeTree()
        defer { node.remove() }
        var first = configuration(node)
        first.providerName = "harbor-old"
        _ = try Installer(configuration: first).install()

        _ = try Installer(configuration: configuration(node)).install()

        #expect(try providers(node).map { $0["name"]?.string } == ["ecr-credential-provider", "credential-provider-harbor"])
        #expect(!node.exists(Self.binDir + "/harbor-old"))
    }

    @Test(
        "refusals leave the node untouched",
        arguments: [
            "k3s 1.33", "no k3s binary", "invalid provider config", "foreign binary missing", "gate off",
            "invalid k3s config",
        ]
    )
    func refusals(reason: String) throws {
        let node = try NodeTree()
        defer { node.remove() }
        switch reason {
        case "k3s 1.33": try node.setK3sVersion("v1.33.4+k3s1")
        case "no k3s binary": try FileManager.default.removeItem(atPath: node.path("/usr/local/bin/k3s"))
        case "invalid provider config": try node.write(Self.providerConfig, "providers: [unclosed\n")
        case "foreign binary missing": try FileManager.default.removeItem(atPath: node.path(Self.binDir + "/ecr-credential-provider"))
        case "gate off":
            try node.write("/etc/rancher/k3s/config.yaml.d/30-gates.yaml", "kubelet-arg+:\n  - feature-gates=KubeletServiceAccountTokenForCredentialProviders=false\n")
        default: try node.write("/etc/rancher/k3s/config.yaml.d/30-broken.yaml", "kubelet-arg: [unclosed\n")
        }
        let providerConfigBefore = node.text(Self.providerConfig)

        #expect(throws: InstallError.self) { try Installer(configuration: configuration(node)).install() }

        #expect(node.text(Self.providerConfig) == providerConfigBefore)
        #expect(!node.exists(Self.dropIn))
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
    }

    @Test("an explicit Kubernetes version replaces detection")
    func explicitVersion() throws {
        let node = try NodeTree()
        defer { node.remove() }
        try FileManager.default.removeItem(atPath: node.path("/usr/local/bin/k3s"))
        var configuration = configuration(node)
        configuration.kubernetesVersion = .explicit("v1.35.0")

        let report = try Installer(configuration: configuration).install()

        #expect(report.plan.kubernetesVersionSource == "--kubernetes-version")
    }

    @Test("a symlinked drop-in directory that leaves the root is rejected")
    func symlinkEscape() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let outside = FileManager.default.temporaryDirectory.appending(path: "hk-outside-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let dropIns = node.path("/etc/rancher/k3s/config.yaml.d")
        try FileManager.default.removeItem(atPath: dropIns)
        try FileManager.default.createSymbolicLink(atPath: dropIns, withDestinationPath: "../../../../../../../../" + outside)

        #expect(throws: InstallError.self) { try Installer(configuration: configuration(node)).install() }

        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test("uninstall keeps other providers and removes ours in order")
    func uninstallKeepsOthers() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try installer.install()

        let report = try installer.uninstall()

        #expect(report.plan.files.map(\.kind) == [.dropIn, .providerConfig, .executable])
        #expect(!node.exists(Self.dropIn))
        #expect(try providers(node).map { $0["name"]?.string } == ["ecr-credential-provider"])
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
        #expect(node.exists(Self.binDir + "/ecr-credential-provider"))
    }

    @Test("uninstall deletes a config that only held our provider")
    func uninstallDeletesOwnConfig() throws {
        let node = try NodeTree()
        defer { node.remove() }
        try FileManager.default.removeItem(atPath: node.path(Self.providerConfig))
        let installer = Installer(configuration: configuration(node))
        _ = try installer.install()

        _ = try installer.uninstall()

        #expect(!node.exists(Self.providerConfig))
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
    }
}
