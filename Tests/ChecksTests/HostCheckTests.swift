import Foundation
import K3sConfig
import Testing
@testable import Checks

@Suite("Host file checks")
struct HostCheckTests {
    @Test("plugin executable passes the probe")
    func pluginPasses() async throws {
        let node = try await nodeFixture()
        let result = await run(.pluginExecutable, try makeContext(node: node))
        #expect(result.status == .pass)
        #expect(result.message.contains("returns credentials for harbor.example.com"))
    }

    @Test("plugin probe never shows the fake token")
    func pluginProbeHidesToken() async throws {
        let node = try await nodeFixture()
        // A plugin that echoes its whole input on stderr and fails: the probe must redact it.
        try node.write("/var/lib/rancher/credentialprovider/bin/credential-provider-harbor", "#!/bin/sh\ncat >&2\nexit 3\n", mode: 0o755)
        let context = try makeContext(node: node)
        let result = await run(.pluginExecutable, context)
        let token = PluginProbe.fakeToken(audience: NodeFixture.registry, now: context.now())
        #expect(result.status == .fail)
        #expect(result.message.contains("exited with status 3"))
        #expect(!result.message.contains(String(token.split(separator: ".")[1])))
    }

    @Test("plugin failures", arguments: [
        ("missing", "", 0, "does not exist"),
        ("not executable", "#!/bin/sh\nexit 0\n", 0o644, "not an executable regular file"),
        ("exec format error", "\u{7F}ELF-not-really", 0o755, "exec format error"),
        ("wrong response", "#!/bin/sh\ncat >/dev/null\necho '{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderResponse\",\"cacheKeyType\":\"Image\",\"auth\":{}}'\n", 0o755, "cacheKeyType is Image"),
        ("not JSON", "#!/bin/sh\ncat >/dev/null\necho hello\n", 0o755, "cannot decode"),
    ])
    func pluginFails(name: String, script: String, mode: Int, expected: String) async throws {
        let node = try await nodeFixture()
        let path = "/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"
        if script.isEmpty {
            try node.remove(path)
        } else {
            try node.write(path, script, mode: mode)
        }
        let result = await run(.pluginExecutable, try makeContext(node: node))
        #expect(result.status == .fail, "\(name)")
        #expect(result.message.contains(expected), "\(name): \(result.message)")
        #expect(result.remedy != nil)
    }

    @Test("provider config valid for the k3s binary on disk")
    func providerConfigPasses() async throws {
        let node = try await nodeFixture()
        let result = await run(.providerConfig, try makeContext(node: node))
        #expect(result.status == .pass)
        #expect(result.message.contains("v1.34.1+k3s1"))
    }

    @Test("provider config without cacheType fails on 1.34")
    func providerConfigFails() async throws {
        let node = try await nodeFixture()
        let text = try node.read("/var/lib/rancher/credentialprovider/config.yaml")
        try node.write("/var/lib/rancher/credentialprovider/config.yaml", text.replacingOccurrences(of: "cacheType: Token", with: ""))
        let result = await run(.providerConfig, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("cacheType"))
    }

    @Test("provider config without our entry fails")
    func providerConfigMissingEntry() async throws {
        let node = try await nodeFixture(installed: false)
        let result = await run(.providerConfig, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("no provider named credential-provider-harbor"))
    }

    @Test("provider config skips without any version source")
    func providerConfigSkips() async throws {
        let node = try await nodeFixture()
        try node.remove("/usr/local/bin/k3s")
        let result = await run(.providerConfig, try makeContext(node: node))
        #expect(result.status == .skip)
    }

    @Test("matchImages must carry the registry port")
    func matchImagesPort() async throws {
        let node = try await nodeFixture()
        let passing = await run(.matchImages, try makeContext(node: node))
        #expect(passing.status == .pass)

        let setup = harborSetup(registryHosts: ["harbor.example.com:5000"], audience: NodeFixture.registry, matchImages: [NodeFixture.registry])
        let failing = await run(.matchImages, try makeContext(node: node, setup: setup))
        #expect(failing.status == .fail)
        #expect(failing.message.contains("harbor.example.com:5000"))
    }

    @Test("another provider matching our registry warns")
    func overlapWarns() async throws {
        let node = try await nodeFixture()
        #expect(await run(.providerOverlap, try makeContext(node: node)).status == .pass)

        var config = try CredentialProviderConfig.parse(try node.read("/var/lib/rancher/credentialprovider/config.yaml"), source: "config.yaml")
        config.upsert(HarborProvider(name: "other-provider", matchImages: ["*.example.com"], defaultCacheDuration: "1h", tokenAttributes: .init(serviceAccountTokenAudience: "other")))
        try node.write("/var/lib/rancher/credentialprovider/config.yaml", try config.rendered())
        let result = await run(.providerOverlap, try makeContext(node: node))
        #expect(result.status == .warn)
        #expect(result.message.contains("other-provider pattern *.example.com overlaps"))
    }

    @Test("drop-in present and effective")
    func dropInPasses() async throws {
        let node = try await nodeFixture()
        let result = await run(.dropIn, try makeContext(node: node))
        #expect(result.status == .pass)
    }

    @Test("drop-in missing fails")
    func dropInMissing() async throws {
        let node = try await nodeFixture()
        try node.remove("/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml")
        let result = await run(.dropIn, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("does not exist"))
    }

    @Test("later drop-in overriding ours fails")
    func dropInOverridden() async throws {
        let node = try await nodeFixture()
        try node.write("/etc/rancher/k3s/config.yaml.d/zz-other.yaml", "image-credential-provider-config: /etc/other.yaml\n")
        let result = await run(.dropIn, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("/etc/rancher/k3s/config.yaml.d/zz-other.yaml sets image-credential-provider-config"))
    }

    @Test("ExecStart flag overriding ours fails")
    func dropInExecStart() async throws {
        let node = try await nodeFixture()
        let unit = try node.read("/etc/systemd/system/k3s.service")
        try node.write("/etc/systemd/system/k3s.service", unit.replacingOccurrences(of: "    server \\", with: "    server \\\n    --image-credential-provider-bin-dir /opt/providers \\"))
        let result = await run(.dropIn, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("ExecStart of k3s.service sets --image-credential-provider-bin-dir=/opt/providers"))
    }

    @Test("static registry credential warns")
    func registriesAuth() async throws {
        let node = try await nodeFixture()
        #expect(await run(.registriesAuth, try makeContext(node: node)).status == .pass)

        try node.write("/etc/rancher/k3s/registries.yaml", "configs:\n  harbor.example.com:\n    auth:\n      username: robot\n      password: hunter2-password\n")
        let result = await run(.registriesAuth, try makeContext(node: node))
        #expect(result.status == .warn)
        #expect(!result.message.contains("hunter2-password"))
    }

    @Test("registries.yaml that is not YAML fails")
    func registriesInvalid() async throws {
        let node = try await nodeFixture()
        try node.write("/etc/rancher/k3s/registries.yaml", "configs: [\n")
        #expect(await run(.registriesAuth, try makeContext(node: node)).status == .fail)
    }

    @Test("DaemonSet pod and enabled service warn")
    func managedTwice() async throws {
        let node = try await nodeFixture()
        let pod = ["KUBERNETES_SERVICE_HOST": "10.43.0.1"]
        #expect(await run(.managedTwice, try makeContext(node: node, environment: pod)).status == .pass)

        try node.write("/lib/systemd/system/harbor-keyless.service", "[Service]\nExecStart=/usr/bin/harbor-keyless run\n")
        try node.write("/etc/systemd/system/multi-user.target.wants/harbor-keyless.service", "")
        #expect(await run(.managedTwice, try makeContext(node: node)).status == .pass)
        let result = await run(.managedTwice, try makeContext(node: node, environment: pod))
        #expect(result.status == .warn)
    }
}
