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
            restartPolicy: .never,
            pluginSource: NodeTree.pluginPath
        )
    }

    func providers(_ node: NodeTree, path: String = providerConfig) throws -> [YAMLNode] {
        let text = try #require(node.text(path))
        return try #require(YAML.parse(text, source: path)?["providers"]?.sequence)
    }

    @Test("a linked lock file gets one fix")
    func linkedLockFile() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        try FileManager.default.createDirectory(atPath: node.path("/var/lib/harbor-keyless"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: node.path("/var/lib/harbor-keyless/lock"), withDestinationPath: "/etc/hostname")

        do {
            _ = try await Installer(configuration: configuration(node)).install()
            Issue.record("expected the install to fail")
        } catch let error as InstallError {
            #expect(error.message.contains("symbolic link"))
            #expect(!error.message.contains("Fix:"))
            #expect(!error.fix.contains("wait for the other"))
            #expect(!error.fix.isEmpty)
        }
    }

    @Test("first install writes every file and keeps the ECR provider")
    func firstInstall() async throws {
        let node = try NodeTree()
        defer { node.remove() }

        let report = try await Installer(configuration: configuration(node)).install()

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
    func idempotent() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try await installer.install()
        let before = try [Self.providerConfig, Self.dropIn, Self.binDir + "/credential-provider-harbor"].map(node.modificationDate)

        let report = try await installer.install()

        #expect(report.plan.files.allSatisfy { $0.action == .unchanged })
        #expect(!report.plan.needsRestart)
        let after = try [Self.providerConfig, Self.dropIn, Self.binDir + "/credential-provider-harbor"].map(node.modificationDate)
        #expect(before == after)
    }

    @Test("a new plugin binary alone needs no restart")
    func binaryOnlyChange() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try await installer.install()
        try node.write(Self.binDir + "/credential-provider-harbor", "#!/bin/sh\nold\n", mode: 0o755)

        let report = try await installer.install()

        #expect(report.plan.files.map(\.action) == [.update, .unchanged, .unchanged])
        #expect(!report.plan.needsRestart)
    }

    @Test("operator-chosen paths are honoured and no drop-in is written")
    func operatorPaths() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        try node.write(
            "/etc/rancher/k3s/config.yaml.d/20-providers.yaml",
            "image-credential-provider-bin-dir: /opt/credential-providers\nimage-credential-provider-config: /etc/kubernetes/credential-providers.yaml\n"
        )
        try FileManager.default.createDirectory(atPath: node.path("/opt/credential-providers"), withIntermediateDirectories: true)

        let report = try await Installer(configuration: configuration(node)).install()

        #expect(report.plan.paths.operatorChosePaths)
        #expect(node.exists("/opt/credential-providers/credential-provider-harbor"))
        #expect(try providers(node, path: "/etc/kubernetes/credential-providers.yaml").map { $0["name"]?.string } == ["credential-provider-harbor"])
        #expect(!node.exists(Self.dropIn))
        #expect(report.plan.warnings.contains { $0.contains("20-providers.yaml") })
    }

    @Test("two audiences get two entries and two executables")
    func twoAudiences() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let registries = [
            RegistryConfiguration(host: "harbor.example.com"),
            RegistryConfiguration(host: "harbor.internal:8443", serviceAccountAnnotationKey: "harbor.internal/pull"),
        ]

        _ = try await Installer(configuration: configuration(node, registries: registries)).install()

        let entries = try providers(node)
        #expect(entries.map { $0["name"]?.string } == ["ecr-credential-provider", "credential-provider-harbor", "credential-provider-harbor-harbor.internal-8443"])
        #expect(entries[2]["matchImages"]?.sequence?.map(\.string) == ["harbor.internal:8443"])
        #expect(entries[2]["tokenAttributes"]?["serviceAccountTokenAudience"]?.string == "harbor.internal:8443")
        #expect(entries[2]["tokenAttributes"]?["requiredServiceAccountAnnotationKeys"]?.sequence?.map(\.string) == ["harbor.internal/pull"])
        #expect(node.exists(Self.binDir + "/credential-provider-harbor-harbor.internal-8443"))
    }

    @Test("a renamed provider leaves no old entry or executable")
    func renamedProvider() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        var first = configuration(node)
        first.providerName = "harbor-old"
        _ = try await Installer(configuration: first).install()

        let renamed = try await Installer(configuration: configuration(node)).install()

        #expect(try providers(node).map { $0["name"]?.string } == ["ecr-credential-provider", "credential-provider-harbor"])
        // The running kubelet may still run the old executable until k3s restarts.
        #expect(renamed.keptExecutables == [Self.binDir + "/harbor-old"])
        #expect(node.exists(Self.binDir + "/harbor-old"))

        var unrestricted = configuration(node)
        unrestricted.restartPolicy = .ifChanged
        let settings = RestartSettings(busAddress: "unix:path=\(node.root)/no-such-bus")
        _ = try await Installer(configuration: unrestricted, restartSettings: settings).install()
        #expect(node.exists(Self.binDir + "/harbor-old"))
    }

    @Test(
        "refusals leave the node untouched",
        arguments: [
            "k3s 1.33", "no k3s binary", "invalid provider config", "foreign binary missing", "gate off",
            "invalid k3s config", "gate off in ExecStart", "gate off in kubelet.conf.d",
        ]
    )
    func refusals(reason: String) async throws {
        let node = try NodeTree()
        defer { node.remove() }
        switch reason {
        case "k3s 1.33": try node.setK3sVersion("v1.33.4+k3s1")
        case "no k3s binary": try FileManager.default.removeItem(atPath: node.path("/usr/local/bin/k3s"))
        case "invalid provider config": try node.write(Self.providerConfig, "providers: [unclosed\n")
        case "foreign binary missing": try FileManager.default.removeItem(atPath: node.path(Self.binDir + "/ecr-credential-provider"))
        case "gate off":
            try node.write("/etc/rancher/k3s/config.yaml.d/30-gates.yaml", "kubelet-arg+:\n  - feature-gates=KubeletServiceAccountTokenForCredentialProviders=false\n")
        case "gate off in ExecStart":
            try node.write(
                "/etc/systemd/system/k3s.service",
                "[Service]\nExecStart=/usr/local/bin/k3s \\\n    server \\\n    '--kubelet-arg=feature-gates=KubeletServiceAccountTokenForCredentialProviders=false'\n"
            )
        case "gate off in kubelet.conf.d":
            try node.write(
                "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-gates.conf",
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfeatureGates:\n  KubeletServiceAccountTokenForCredentialProviders: false\n"
            )
        default: try node.write("/etc/rancher/k3s/config.yaml.d/30-broken.yaml", "kubelet-arg: [unclosed\n")
        }
        let providerConfigBefore = node.text(Self.providerConfig)

        await #expect(throws: InstallError.self) { try await Installer(configuration: configuration(node)).install() }

        #expect(node.text(Self.providerConfig) == providerConfigBefore)
        #expect(!node.exists(Self.dropIn))
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
    }

    @Test("an explicit Kubernetes version replaces detection")
    func explicitVersion() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        try FileManager.default.removeItem(atPath: node.path("/usr/local/bin/k3s"))
        var configuration = configuration(node)
        configuration.kubernetesVersion = .explicit("v1.35.0")

        let report = try await Installer(configuration: configuration).install()

        #expect(report.plan.kubernetesVersionSource == "the configured Kubernetes version")
    }

    @Test("a symlinked drop-in directory that leaves the root is rejected")
    func symlinkEscape() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let outside = FileManager.default.temporaryDirectory.appending(path: "hk-outside-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let dropIns = node.path("/etc/rancher/k3s/config.yaml.d")
        try FileManager.default.removeItem(atPath: dropIns)
        try FileManager.default.createSymbolicLink(atPath: dropIns, withDestinationPath: "../../../../../../../../" + outside)

        await #expect(throws: InstallError.self) { try await Installer(configuration: configuration(node)).install() }

        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test("uninstall keeps other providers and removes ours in order")
    func uninstallKeepsOthers() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try await installer.install()

        let report = try await installer.uninstall(force: true)

        #expect(report.plan.files.map(\.kind) == [.dropIn, .providerConfig, .executable])
        #expect(!node.exists(Self.dropIn))
        #expect(try providers(node).map { $0["name"]?.string } == ["ecr-credential-provider"])
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
        #expect(node.exists(Self.binDir + "/ecr-credential-provider"))
    }

    @Test("uninstall deletes a config that only held our provider")
    func uninstallDeletesOwnConfig() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        try FileManager.default.removeItem(atPath: node.path(Self.providerConfig))
        let installer = Installer(configuration: configuration(node))
        _ = try await installer.install()

        _ = try await installer.uninstall(force: true)

        #expect(!node.exists(Self.providerConfig))
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
    }

    @Test("uninstall without a restart keeps the executables")
    func uninstallKeepsExecutablesUntilRestart() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        _ = try await installer.install()

        let report = try await installer.uninstall()

        #expect(report.keptExecutables == [Self.binDir + "/credential-provider-harbor"])
        #expect(node.exists(Self.binDir + "/credential-provider-harbor"))
        #expect(!node.exists(Self.dropIn))
        #expect(report.pendingRestart != nil)
    }

    @Test("a rejected configuration is not applied again without force")
    func rejectedConfiguration() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        let installer = Installer(configuration: configuration(node))
        let digest = try installer.plan().configurationDigest
        var state = AgentState()
        state.rejectedConfigs = [digest]
        try node.write("/var/lib/harbor-keyless/state.json", String(decoding: try JSONEncoder().encode(state), as: UTF8.self), mode: 0o600)

        await #expect(throws: InstallError.self) { try await installer.install() }
        #expect(!node.exists(Self.dropIn))

        _ = try await installer.install(force: true)
        #expect(node.exists(Self.dropIn))
    }

    @Test("no reachable systemd leaves the restart pending")
    func noSystemd() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        var configuration = configuration(node)
        configuration.restartPolicy = .ifChanged
        let settings = RestartSettings(busAddress: "unix:path=\(node.root)/no-such-bus")

        let report = try await Installer(configuration: configuration, restartSettings: settings).install()

        guard case .pending(let reason) = report.restart else {
            Issue.record("expected a pending restart, got \(report.restart)")
            return
        }
        #expect(reason.contains("no-such-bus"))
        #expect(report.pendingRestart != nil)
        #expect(node.exists(Self.dropIn))
    }

    @Test("a foreign provider with our name is not replaced without force")
    func foreignProviderName() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        var foreignName = configuration(node)
        foreignName.providerName = "ecr-credential-provider"
        let before = node.text(Self.providerConfig)

        await #expect(throws: InstallError.self) { try await Installer(configuration: foreignName).install() }
        #expect(node.text(Self.providerConfig) == before)

        let report = try await Installer(configuration: foreignName).uninstall(force: true)
        #expect(report.plan.files.isEmpty)
        #expect(node.text(Self.providerConfig) == before)
    }

    @Test("entries of ours survive a lost state and are removed by uninstall")
    func lostState() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        _ = try await Installer(configuration: configuration(node)).install()
        try FileManager.default.removeItem(atPath: node.path("/var/lib/harbor-keyless/state.json"))

        _ = try await Installer(configuration: configuration(node)).install()
        _ = try await Installer(configuration: configuration(node)).uninstall(force: true)

        #expect(try providers(node).map { $0["name"]?.string } == ["ecr-credential-provider"])
        #expect(!node.exists(Self.binDir + "/credential-provider-harbor"))
    }

    @Test("a kubelet-arg naming the bin dir decides where the executable goes")
    func kubeletArgPaths() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        try node.write("/etc/rancher/k3s/config.yaml.d/20-ecr-legacy.yaml", "kubelet-arg+:\n  - image-credential-provider-bin-dir=/opt/ecr/bin\n")
        try node.write("/opt/ecr/bin/ecr-credential-provider", "#!/bin/sh\nexit 1\n", mode: 0o755)

        let report = try await Installer(configuration: configuration(node)).install()

        #expect(report.plan.paths.binDirectory == "/opt/ecr/bin")
        #expect(node.exists("/opt/ecr/bin/credential-provider-harbor"))
        #expect(!node.exists(Self.dropIn))
    }

    @Test("a --config on the unit's command line moves the drop-in directory")
    func unitConfigFile() async throws {
        let node = try NodeTree()
        defer { node.remove() }
        try node.write(
            "/etc/systemd/system/k3s.service",
            "[Service]\nType=notify\nExecStart=/usr/local/bin/k3s \\\n    server \\\n    --config /etc/k3s/main.yaml\n"
        )
        try node.write("/etc/k3s/main.yaml", "node-label: [a=b]\n")

        _ = try await Installer(configuration: configuration(node)).install()

        #expect(node.exists("/etc/k3s/main.yaml.d/99-credential-provider-harbor.yaml"))
        #expect(!node.exists(Self.dropIn))
    }

    @Test("a broad matchImages pattern is reported")
    func broadPattern() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let registries = [RegistryConfiguration(host: "harbor.example.com", matchImages: ["harbor.example.com", "*.example.*"])]

        let plan = try Installer(configuration: configuration(node, registries: registries)).plan()

        #expect(plan.warnings.contains { $0.contains("*.example.*") })
        #expect(!plan.warnings.contains { $0.contains("pattern harbor.example.com ") })
    }
}
