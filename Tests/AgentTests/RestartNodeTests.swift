import Foundation
import NodeTestSupport
import Systemd
import Testing

/// The agent against real systemd in a systemd-nspawn node that runs a k3s stand-in
/// (Tests/node/files/k3s, NOT k3s) as k3s.service or k3s-agent.service. The stand-in rejects a
/// provider config the way the kubelet of its claimed version does, after reporting ready.
@Suite(
    "Restart on a real systemd node",
    .serialized,
    .enabled(if: NodeHarness.enabled, "set HARBOR_KEYLESS_NODE_TESTS=1 and run as root to boot a systemd-nspawn node")
)
struct RestartNodeTests {
    static let dropIn = "/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
    static let providerConfig = "/var/lib/rancher/credentialprovider/config.yaml"
    static let plugin = "/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"

    /// Runs the agent from outside the node, as the DaemonSet does: the node's files under a
    /// host root, its system bus through DBUS_SYSTEM_BUS_ADDRESS.
    func agent(_ node: NodeHarness, _ arguments: [String]) throws -> AgentRun {
        try AgentRun(
            arguments + ["--host-root", node.root, "--config", "/dev/null", "--settle-window", "5s"],
            environment: ["DBUS_SYSTEM_BUS_ADDRESS": node.busAddress]
        )
    }

    /// Boots a node with `unit` running and the stand-in's kubelet check one second after
    /// READY=1, and waits until the unit is active.
    func bootNode(unit: String = "k3s.service", version: String = "v1.34.1+k3s1") async throws -> (NodeHarness, SystemdManager) {
        let node = try NodeHarness(enable: [unit])
        try node.write("/etc/k3s-standin/kubelet-delay-seconds", "1\n")
        try node.write("/etc/k3s-standin/version", version + "\n")
        let manager = try SystemdManager.connect(address: node.busAddress)
        for _ in 0..<100 {
            if try manager.unitState(unit)?.activeState == "active" { return (node, manager) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError(message: "\(unit) did not become active in the node")
    }

    @Test("install restarts k3s once, then never again without a change")
    func restartOnce() async throws {
        let (node, manager) = try await bootNode()
        let before = try #require(try manager.unitState("k3s.service"))

        let first = try agent(node, ["install", "--registry", "harbor.example.com"])

        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("restarted k3s.service and verified"))
        #expect(first.output.contains("kubelet-flags: the kubelet runs with --image-credential-provider-bin-dir=/var/lib/rancher/credentialprovider/bin"))
        let restarted = try #require(try manager.unitState("k3s.service"))
        #expect(restarted.invocationID != before.invocationID)
        #expect(restarted.activeState == "active")
        // What k3s now runs with is recorded, so a file touched later needs no restart.
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("\"loadedDigests\" : {\n    \"") == true)

        // The same configuration again changes nothing and restarts nothing.
        let second = try agent(node, ["install", "--registry", "harbor.example.com"])
        #expect(second.status == 0, "\(second.error)")
        #expect(!second.output.contains("restarted"))
        #expect(try manager.unitState("k3s.service")?.invocationID == restarted.invocationID)

        // A changed plugin executable alone is replaced without a restart.
        try node.write(Self.plugin, "#!/bin/sh\nexit 1\n", mode: 0o755)
        let third = try agent(node, ["install", "--registry", "harbor.example.com"])
        #expect(third.status == 0, "\(third.error)")
        #expect(third.output.contains("updated   \(Self.plugin)"))
        #expect(!third.output.contains("restarted"))
        #expect(try manager.unitState("k3s.service")?.invocationID == restarted.invocationID)
    }

    @Test("a config the kubelet rejects is rolled back and not applied again")
    func rollback() async throws {
        // The node's kubelet is 1.33, which rejects tokenAttributes.cacheType; the operator
        // wrongly tells the agent to render for 1.34.
        let (node, manager) = try await bootNode(version: "v1.33.4+k3s1")

        let first = try agent(node, ["install", "--registry", "harbor.example.com", "--kubernetes-version", "v1.34.1"])

        #expect(first.status == 1)
        #expect(first.error.contains("restored the previous files and restarted k3s.service again, which succeeded"))
        #expect(first.error.contains("Failed to register CRI auth plugins"))
        #expect(first.error.contains("ok   after rollback, settled:"))
        #expect(node.read(Self.dropIn) == nil)
        #expect(node.read(Self.providerConfig) == nil)
        let state = try #require(node.read("/var/lib/harbor-keyless/state.json"))
        #expect(state.contains("\"rejectedConfigs\" : [\n    \""))
        let afterRollback = try #require(try manager.unitState("k3s.service"))
        #expect(afterRollback.activeState == "active")

        // The same configuration is refused without touching k3s.
        let second = try agent(node, ["install", "--registry", "harbor.example.com", "--kubernetes-version", "v1.34.1"])
        #expect(second.status == 1)
        #expect(second.error.contains("k3s rejected this configuration before"))
        #expect(node.read(Self.dropIn) == nil)
        let later = try #require(try manager.unitState("k3s.service"))
        #expect(later.invocationID == afterRollback.invocationID)
        #expect(later.nRestarts == afterRollback.nRestarts)
    }

    @Test("the running unit is restarted when both unit files exist")
    func picksRunningUnit() async throws {
        let (node, manager) = try await bootNode(unit: "k3s-agent.service")
        #expect(try manager.unitState("k3s.service")?.activeState == "inactive")

        let run = try agent(node, ["install", "--registry", "harbor.example.com"])

        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("restarted k3s-agent.service and verified"))
        #expect(try manager.unitState("k3s.service")?.activeState == "inactive")
    }

    @Test("the agent inside the node restarts k3s over the node's own bus")
    func insideNode() async throws {
        let (node, manager) = try await bootNode()
        let before = try #require(try manager.unitState("k3s.service"))
        for name in ["harbor-keyless", "credential-provider-harbor"] {
            let target = node.root + "/opt/harbor-keyless/" + name
            try FileManager.default.createDirectory(atPath: node.root + "/opt/harbor-keyless", withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: NodeTree.buildDirectory + "/" + name, toPath: target)
        }

        let (status, output) = try node.exec([
            "/opt/harbor-keyless/harbor-keyless", "install", "--registry", "harbor.example.com",
            "--config", "/dev/null", "--settle-window", "5s",
        ])

        #expect(status == 0)
        #expect(output.contains("restarted k3s.service and verified"))
        #expect(try manager.unitState("k3s.service")?.invocationID != before.invocationID)
        #expect(node.read(Self.dropIn) != nil)
    }

    @Test("an agent killed during the settle window is resumed by the next run", arguments: ["if-changed", "always"])
    func resumeAfterKill(policy: String) async throws {
        let (node, manager) = try await bootNode()
        let before = try #require(try manager.unitState("k3s.service"))
        let process = Process()
        process.executableURL = URL(filePath: NodeTree.agentPath)
        process.arguments = [
            "install", "--registry", "harbor.example.com", "--host-root", node.root, "--config", "/dev/null",
            "--settle-window", "60s", "--restart", policy,
        ]
        process.environment = ["PATH": "/usr/bin:/bin", "DBUS_SYSTEM_BUS_ADDRESS": node.busAddress]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Kill the agent once systemd has restarted k3s and the agent watches it settle.
        for _ in 0..<200 where try manager.unitState("k3s.service")?.invocationID == before.invocationID {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("\"restartInFlight\"") == true)
        let restarted = try #require(try manager.unitState("k3s.service"))

        // With policy always, the verified restart is the restart that the policy requires.
        let next = try agent(node, ["install", "--registry", "harbor.example.com", "--restart", policy])

        #expect(next.status == 0, "\(next.error)")
        #expect(next.output.contains("verified the restart of k3s.service that an earlier run started"))
        #expect(!next.output.contains("restarted k3s.service"))
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("\"restartInFlight\"") == false)
        #expect(try manager.unitState("k3s.service")?.invocationID == restarted.invocationID)
    }

    @Test("doctor reads the node's real journal and unit")
    func doctorOnNode() async throws {
        let (node, _) = try await bootNode()
        let install = try agent(node, ["install", "--registry", "harbor.example.com"])
        #expect(install.status == 0, "\(install.error)")

        let process = Process()
        process.executableURL = URL(filePath: NodeTree.agentPath)
        process.arguments = [
            "doctor", "--registry", "harbor.example.com", "--host-root", node.root, "--config", "/dev/null",
            "--skip", "registry.reachable", "--output", "json", "--timeout", "20s",
        ]
        process.environment = ["PATH": "/usr/bin:/bin", "DBUS_SYSTEM_BUS_ADDRESS": node.busAddress]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()

        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let checks = try #require(report["checks"] as? [[String: Any]])
        func status(_ id: String) -> String? { checks.first { $0["id"] as? String == id }?["status"] as? String }
        #expect(status("kubelet.flags") == "pass")
        #expect(status("restart.pending") == "pass")
        #expect(status("host.drop-in") == "pass")
        #expect(status("journal.symptoms") == "pass")
    }

    @Test("a restart done by hand settles a pending one")
    func restartByHand() async throws {
        let (node, manager) = try await bootNode()
        let first = try agent(node, ["install", "--registry", "harbor.example.com", "--restart", "never"])
        #expect(first.output.contains("restart pending"))
        // systemd counts starts per unit; keep clear of its start limit.
        try await Task.sleep(for: .seconds(1))
        #expect(try await manager.restart("k3s.service", timeout: .seconds(30)) == .done)
        let restarted = try #require(try manager.unitState("k3s.service"))

        let next = try agent(node, ["install", "--registry", "harbor.example.com"])

        #expect(next.status == 0, "\(next.error)")
        #expect(next.output.contains("k3s.service was restarted after the files changed"))
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("pendingRestart") == false)
        #expect(try manager.unitState("k3s.service")?.invocationID == restarted.invocationID)
    }

    @Test("an interrupted rollback is finished by the next run")
    func resumeRollback() async throws {
        let (node, manager) = try await bootNode()
        let install = try agent(node, ["install", "--registry", "harbor.example.com", "--restart", "never"])
        #expect(install.output.contains("restart pending"))
        #expect(node.read(Self.dropIn) != nil)

        // The state a run leaves when it is killed after recording the rollback and before
        // restoring anything: the phase, the changed paths and each path's newest backup.
        try recordRollback(node)
        let before = try #require(try manager.unitState("k3s.service"))

        let next = try agent(node, ["install", "--registry", "harbor.example.com"])

        #expect(next.status == 1)
        #expect(next.error.contains("restored the previous files and restarted k3s.service again, which succeeded"))
        #expect(node.read(Self.dropIn) == nil)
        #expect(node.read(Self.providerConfig) == nil)
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("\"restartInFlight\"") == false)
        let restarted = try #require(try manager.unitState("k3s.service"))
        #expect(restarted.invocationID != before.invocationID)
        #expect(restarted.activeState == "active")

        // Killed after restoring and restarting, before clearing the record: the backups it
        // restored are gone, so nothing older is restored and k3s is not restarted again.
        try recordRollback(node, sequences: ["/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml": 1])
        let again = try agent(node, ["install", "--registry", "harbor.example.com", "--restart", "never"])

        #expect(again.status == 1)
        #expect(again.error.contains("the previous files are restored and k3s.service runs with them"))
        #expect(try manager.unitState("k3s.service")?.invocationID == restarted.invocationID)
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("\"restartInFlight\"") == false)
    }

    /// Writes a rolling-back restart record into the node's agent state, with the backup
    /// sequence of each changed path read from the backup directory unless given.
    func recordRollback(_ node: NodeHarness, sequences given: [String: Int]? = nil) throws {
        let statePath = "/var/lib/harbor-keyless/state.json"
        let text = try #require(node.read(statePath))
        var state = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var sequences: [String: Int] = [:]
        let backups = node.root + "/var/lib/harbor-keyless/backups"
        for folder in try FileManager.default.contentsOfDirectory(atPath: backups) {
            let path = try #require(folder.removingPercentEncoding)
            let newest = try FileManager.default.contentsOfDirectory(atPath: backups + "/" + folder).sorted().last
            sequences[path] = newest.flatMap { Int($0.prefix(8)) }
        }
        let changed = [Self.plugin, Self.providerConfig, Self.dropIn].filter { sequences[$0] != nil }
        if given == nil {
            #expect(changed.count == 3)
        }
        state["restartInFlight"] = [
            "unit": "k3s.service", "phase": "rolling-back", "configDigest": "rejected-by-test",
            "changedPaths": given.map { Array($0.keys) } ?? changed, "startedAt": Date().timeIntervalSince1970,
            "rollbackSequences": given ?? sequences,
        ] as [String: Any]
        state["lastRejection"] = ["digest": "rejected-by-test", "reason": "kubelet-config: rejected in this test", "at": 0]
        let data = try JSONSerialization.data(withJSONObject: state)
        try node.write(statePath, String(decoding: data, as: UTF8.self), mode: 0o600)
    }

    @Test("a rollback after two installs restores what the kubelet last loaded")
    func rollbackAcrossInstalls() async throws {
        // The kubelet is 1.33 and rejects every 1.34 config; the first install only writes.
        let (node, manager) = try await bootNode(version: "v1.33.4+k3s1")
        let bin = "/var/lib/rancher/credentialprovider/bin/"
        func install(_ registries: String, _ extra: [String]) throws -> AgentRun {
            let config = node.root + "/../agent.yaml"
            try registries.write(toFile: config, atomically: true, encoding: .utf8)
            return try AgentRun(
                ["install", "--host-root", node.root, "--config", config, "--settle-window", "5s", "--kubernetes-version", "v1.34.1"] + extra,
                environment: ["DBUS_SYSTEM_BUS_ADDRESS": node.busAddress]
            )
        }
        let first = try install("registries:\n  - host: harbor.example.com\n  - host: reg3.example.com\n    audience: aud3\n", ["--restart", "never"])
        #expect(first.status == 0, "\(first.error)")
        #expect(node.read(bin + "credential-provider-harbor-aud3") != nil)

        // The second install replaces aud3 by aud1 and restarts k3s, which rejects the files.
        let second = try install("registries:\n  - host: harbor.example.com\n  - host: reg1.example.com\n    audience: aud1\n", [])

        #expect(second.status == 1)
        #expect(second.error.contains("restored the previous files"))
        // Back to the node before the first install: no provider entry without its executable.
        #expect(node.read(Self.providerConfig) == nil)
        #expect(node.read(Self.dropIn) == nil)
        for name in ["credential-provider-harbor", "credential-provider-harbor-aud3", "credential-provider-harbor-aud1"] {
            #expect(node.read(bin + name) == nil, "\(name)")
        }
        #expect(try manager.unitState("k3s.service")?.activeState == "active")
    }

    @Test("k3s stopped during the settle window is no rejection")
    func stoppedDuringSettle() async throws {
        let (node, manager) = try await bootNode()
        let before = try #require(try manager.unitState("k3s.service"))
        let process = Process()
        process.executableURL = URL(filePath: NodeTree.agentPath)
        process.arguments = [
            "install", "--registry", "harbor.example.com", "--host-root", node.root, "--config", "/dev/null", "--settle-window", "20s",
        ]
        process.environment = ["PATH": "/usr/bin:/bin", "DBUS_SYSTEM_BUS_ADDRESS": node.busAddress]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Stop k3s once the agent's restart is done and it watches k3s settle.
        for _ in 0..<200 where try manager.unitState("k3s.service")?.invocationID == before.invocationID {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .seconds(1))
        #expect(try node.exec(["systemctl", "stop", "k3s.service"]).status == 0)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        #expect(process.terminationStatus == 0)
        #expect(text.contains("k3s.service is not running; k3s reads the new files when it starts"))
        #expect(node.read(Self.dropIn) != nil)
        let state = try #require(node.read("/var/lib/harbor-keyless/state.json"))
        #expect(!state.contains("lastRejection"))
        #expect(!state.contains("restartInFlight"))
        #expect(try manager.unitState("k3s.service")?.activeState == "inactive")
    }

    @Test("a slow start is verified later, not rolled back")
    func slowStart() async throws {
        let (node, manager) = try await bootNode()
        // k3s now needs 15 s to report ready; the agent waits 10 s for the restart job.
        try node.write("/etc/k3s-standin/ready-delay-seconds", "15\n")

        let first = try agent(node, ["install", "--registry", "harbor.example.com", "--restart-timeout", "10s"])

        #expect(first.status == 1)
        #expect(first.error.contains("has not finished starting with the new files"))
        #expect(node.read(Self.dropIn) != nil)
        let state = try #require(node.read("/var/lib/harbor-keyless/state.json"))
        #expect(!state.contains("lastRejection"))
        #expect(state.contains("\"phase\" : \"restarting\""))

        // The next run waits for the start to finish and verifies it.
        let next = try agent(node, ["install", "--registry", "harbor.example.com"])
        #expect(next.status == 0, "\(next.error)")
        #expect(next.output.contains("verified the restart of k3s.service that an earlier run started"))
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("restartInFlight") == false)
        #expect(try manager.unitState("k3s.service")?.activeState == "active")
    }

    @Test("a restart refused by the start limit is retried once")
    func startLimit() async throws {
        let (node, manager) = try await bootNode()
        // Use up the unit's start limit, set to 3 starts in 5 minutes so that the test does not
        // race systemd's default window of 10 s. The agent's restart is then the fourth start.
        try node.write("/etc/systemd/system/k3s.service.d/start-limit.conf", "[Unit]\nStartLimitIntervalSec=300\nStartLimitBurst=3\n")
        #expect(try node.exec(["systemctl", "daemon-reload"]).status == 0)
        try manager.resetFailed("k3s.service")
        for _ in 0..<3 {
            #expect(try await manager.restart("k3s.service", timeout: .seconds(30)) == .done)
        }
        #expect(try manager.unitState("k3s.service")?.activeState == "active")

        let run = try agent(node, ["install", "--registry", "harbor.example.com"])

        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("start-limit-hit"))
        #expect(run.output.contains("restarted k3s.service and verified"))
        #expect(try manager.unitState("k3s.service")?.activeState == "active")
        #expect(node.read("/var/lib/harbor-keyless/state.json")?.contains("rejectedConfigs\" : [\n    \"") == false)
    }

    @Test("a --unit that does not run k3s is rejected before writing")
    func wrongUnit() async throws {
        let (node, manager) = try await bootNode()
        let journald = try #require(try manager.unitState("systemd-journald.service"))

        let run = try agent(node, ["install", "--registry", "harbor.example.com", "--unit", "systemd-journald.service"])

        #expect(run.status == 1)
        #expect(run.error.contains("does not run k3s"))
        #expect(node.read(Self.dropIn) == nil)
        #expect(try manager.unitState("systemd-journald.service")?.invocationID == journald.invocationID)
    }
}
