import Testing

@testable import K3sConfig

@Suite("k3s unit command line")
struct K3sServiceCommandTests {
    @Test("ExecStart with continuations and quotes")
    func execStart() throws {
        let unit = """
            [Service]
            Type=notify
            ExecStartPre=-/sbin/modprobe overlay
            ExecStart=/usr/local/bin/k3s \\
                server \\
                '--kubelet-arg=feature-gates=A=true,B=false' \\
                --config "/etc/k3s/my config.yaml" \\
                --image-credential-provider-bin-dir=/opt/cp/bin \\
                --kubelet-arg max-pods=50

            """
        let command = try #require(K3sServiceCommand.parse(unitFile: unit))
        #expect(command.subcommand == "server")
        #expect(command.configFile == "/etc/k3s/my config.yaml")
        #expect(command.providerBinDir == "/opt/cp/bin")
        #expect(command.providerConfig == nil)
        #expect(command.kubeletArgs == ["feature-gates=A=true,B=false", "max-pods=50"])
    }

    @Test("the k3s install script's unit has no options")
    func installScriptUnit() throws {
        let unit = "[Service]\nExecStart=/usr/local/bin/k3s \\\n    agent \\\n\n"
        let command = try #require(K3sServiceCommand.parse(unitFile: unit))
        #expect(command.subcommand == "agent")
        #expect(command.kubeletArgs.isEmpty)
        #expect(command.configFile == nil)
    }

    @Test("a unit without ExecStart gives nil")
    func noExecStart() {
        #expect(K3sServiceCommand.parse(unitFile: "[Unit]\nDescription=x\n") == nil)
    }

    @Test("K3S_CONFIG_FILE in an environment file", arguments: [
        ("K3S_CONFIG_FILE=/etc/k3s/a.yaml\n", "/etc/k3s/a.yaml"),
        ("K3S_TOKEN=x\nK3S_CONFIG_FILE='/etc/k3s/b.yaml'\n", "/etc/k3s/b.yaml"),
        ("K3S_TOKEN=x\n", nil),
    ] as [(String, String?)])
    func environmentFile(text: String, expected: String?) {
        #expect(k3sConfigFile(fromEnvironmentFile: text) == expected)
    }
}
