import Foundation
import Testing

/// Runs the built `harbor-keyless` executable the way an operator does.
@Suite("harbor-keyless command line")
struct CommandLineTests {
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> AgentRun {
        try AgentRun(arguments, environment: environment)
    }

    @Test("help lists every command and exits 0")
    func help() throws {
        let result = try run(["help"])
        #expect(result.status == 0)
        for command in ["install", "uninstall", "render", "version"] {
            #expect(result.output.contains("  \(command) "))
        }
    }

    @Test("no command is a usage error")
    func noCommand() throws {
        #expect(try run([]).status == 64)
    }

    @Test(
        "usage errors exit 64 and name the problem",
        arguments: [
            (["frobnicate"], "unknown command"),
            (["install", "--no-such-flag"], "unknown option --no-such-flag"),
            (["install", "--registry"], "needs a value"),
            (["install", "--registry", "a.example.com", "--registry", "b.example.com"], "more than once"),
            (["install", "stray"], "unexpected argument"),
            (["install", "--registry", "harbor.example.com\nx: y", "--host-root", "/nonexistent"], "contains whitespace"),
            (["install", "--registry", "harbor.example.com", "--host-root", "relative"], "not an absolute path"),
            // Overflowed Go's Int64 nanoseconds and crashed before; Go rejects it as an invalid duration.
            (CommandLineTests.renderCommand + ["--default-cache-duration", "18446744073.999999999s"], "defaultCacheDuration \"18446744073.999999999s\" is out of range"),
            (["manifests", "--registry", "harbor.example.com", "--default-cache-duration", "18446744073.999999999s"], "is out of range"),
            (CommandLineTests.renderCommand + ["--default-cache-duration", "-5s"], "defaultCacheDuration \"-5s\" is negative"),
            (CommandLineTests.runCommand + ["--interval", "1ns"], "--interval \"1ns\" is shorter than the minimum of 1s"),
            (CommandLineTests.runCommand + ["--interval", "18446744073.999999999s"], "--interval \"18446744073.999999999s\" is out of range"),
            (CommandLineTests.runCommand + ["--heartbeat", "1ns"], "--heartbeat \"1ns\" is shorter than the minimum of 1m0s"),
            (CommandLineTests.runCommand + ["--api-check-interval", "59s"], "--api-check-interval \"59s\" is shorter than the minimum of 1m0s"),
            (CommandLineTests.runCommand + ["--lease-wait", "1ms"], "--lease-wait \"1ms\" is shorter than the minimum of 1s"),
            (CommandLineTests.runCommand + ["--settle-window", "1ms"], "--settle-window \"1ms\" is shorter than the minimum of 5s"),
            (CommandLineTests.runCommand + ["--restart-timeout", "1s"], "--restart-timeout \"1s\" is shorter than the minimum of 10s"),
            (["install", "--registry", "harbor.example.com", "--settle-window", "-5s"], "--settle-window \"-5s\" is negative"),
            (CommandLineTests.runCommand + ["--listen", "localhost:9765"], "invalid listen address \"localhost:9765\""),
            (CommandLineTests.runCommand + ["--listen", "127.0.0.1:65536"], "invalid listen address"),
        ]
    )
    func usageErrors(arguments: [String], message: String) throws {
        let result = try run(arguments + ["--config", "/dev/null"])
        #expect(result.status == 64)
        #expect(result.error.contains(message))
        #expect(result.output.isEmpty)
    }

    static let renderCommand = ["render", "--registry", "harbor.example.com", "--host-root", "/nonexistent"]
    // Each case fails while parsing options; a valid command line would start the daemon.
    static let runCommand = ["run", "--registry", "harbor.example.com", "--host-root", "/nonexistent", "--no-api"]

    @Test("health with an invalid address is a usage error", arguments: ["localhost:9765", "127.0.0.1", "[::1]:x"])
    func healthAddress(address: String) throws {
        let result = try run(["health", "--address", address])
        #expect(result.status == 64)
        #expect(result.error.contains("invalid address \(address.debugDescription)"))
    }

    @Test("command help goes to stdout and exits 0")
    func commandHelp() throws {
        let result = try run(["install", "--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("--registry HOST[:PORT]"))
    }

    @Test("version prints the version")
    func version() throws {
        let result = try run(["version"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("harbor-keyless "))
    }

    @Test("install and render on a node tree, then a refusal exits 1")
    func installRenderRefuse() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let common = ["--host-root", node.root, "--registry", "harbor.example.com", "--config", "/dev/null", "--restart", "never"]

        let rendered = try run(["render"] + common)
        #expect(rendered.status == 0)
        #expect(rendered.output.contains("serviceAccountTokenAudience: harbor.example.com"))
        #expect(!node.exists("/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"))

        let installed = try run(["install"] + common)
        #expect(installed.status == 0)
        #expect(installed.output.contains("created   /etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"))

        try node.setK3sVersion("v1.33.4+k3s1")
        let refused = try run(["install"] + common)
        #expect(refused.status == 1)
        #expect(refused.error.contains("older than 1.34"))
    }

    @Test("environment variables configure the registry")
    func environment() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let result = try run(
            ["render", "--config", "/dev/null"],
            environment: ["HARBOR_KEYLESS_REGISTRY": "env.example.com:5000", "HARBOR_KEYLESS_HOST_ROOT": node.root]
        )
        #expect(result.status == 0)
        #expect(result.output.contains("- env.example.com:5000"))
    }

    @Test("a missing explicit configuration file is an error")
    func missingConfigFile() throws {
        let result = try run(["render", "--config", "/nonexistent/config.yaml"])
        #expect(result.status == 64)
        #expect(result.error.contains("/nonexistent/config.yaml"))
    }
}
