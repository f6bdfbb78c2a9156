import Testing
import YAML
@testable import K3sConfig

@Suite("K3sConfigFiles.renderDropIn")
struct DropInTests {
    @Test("renders both flags under a header")
    func rendered() {
        let text = K3sConfigFiles.renderDropIn(
            binDir: "/var/lib/rancher/credentialprovider/bin",
            configPath: "/var/lib/rancher/credentialprovider/config.yaml"
        )
        #expect(text == """
            # Managed by harbor-keyless; local changes are overwritten.
            # Points the kubelet embedded in k3s at the Harbor credential provider. k3s reads this
            # file only at start-up, so a change takes effect after k3s restarts.
            image-credential-provider-bin-dir: /var/lib/rancher/credentialprovider/bin
            image-credential-provider-config: /var/lib/rancher/credentialprovider/config.yaml

            """)
    }

    @Test("merged drop-in sets only agent flags")
    func mergesBack() throws {
        let text = K3sConfigFiles.renderDropIn(binDir: "/opt/bin dir", configPath: "/etc/x: y.yaml")
        let config = try K3sConfigFiles.merge(
            main: K3sConfigFile(name: "config.yaml", text: "token: abc\n"),
            dropIns: [K3sConfigFile(name: K3sConfigFiles.dropInFileName, text: text)]
        )
        #expect(config.list(forKey: K3sConfigFiles.credentialProviderBinDirKey) == ["/opt/bin dir"])
        #expect(config.list(forKey: K3sConfigFiles.credentialProviderConfigKey) == ["/etc/x: y.yaml"])
        #expect(config.source(forKey: K3sConfigFiles.credentialProviderConfigKey) == "99-credential-provider-harbor.yaml")
        #expect(Set(config.keys) == ["token", "image-credential-provider-bin-dir", "image-credential-provider-config"])
    }
}
