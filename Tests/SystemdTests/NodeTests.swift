import Foundation
import NodeTestSupport
import Testing
@testable import Systemd

// Real systemd 252 in a Debian bookworm container (Tests/node/node.sh), driven from outside
// over the container's system bus. k3s.service runs the k3s stand-in, not k3s: it logs the
// `Running kubelet` line, sends READY=1, then checks the provider config as a 1.34 kubelet.

/// A CredentialProviderConfig a 1.34 kubelet accepts (kubelet.config.k8s.io/v1 with
/// tokenAttributes, KEP-4412).
private let validProviderConfig = """
    apiVersion: kubelet.config.k8s.io/v1
    kind: CredentialProviderConfig
    providers:
      - name: credential-provider-harbor
        apiVersion: credentialprovider.kubelet.k8s.io/v1
        matchImages: ["harbor.example.com"]
        defaultCacheDuration: "1h"
        tokenAttributes:
          serviceAccountTokenAudience: harbor.example.com
          requireServiceAccount: true
          cacheType: Token
    """

private let providerBinary = "/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"
private let providerConfigPath = "/var/lib/rancher/credentialprovider/config.yaml"

@Suite("SystemdManager and JournalReader on a real systemd node", .enabled(
    if: NodeHarness.enabled, "set HARBOR_KEYLESS_NODE_TESTS=1 and run as root to boot a systemd-nspawn node"
))
struct NodeTests {
    @Test("restart of k3s.service returns done with a new run in the journal")
    func restartOnNode() async throws {
        let node = try NodeHarness()
        try node.write(providerBinary, "#!/bin/sh\nexit 0\n", mode: 0o755)
        try node.write(providerConfigPath, validProviderConfig)
        try node.write("/etc/k3s-standin/kubelet-delay-seconds", "0.2\n")
        let manager = try SystemdManager.connect(address: node.busAddress)

        // 1. Start it once, so the measured restart replaces a running main process.
        let first = try await manager.restart("k3s.service", timeout: .seconds(30))
        let before = try #require(try manager.unitState("k3s.service"))

        let clock = ContinuousClock()
        let start = clock.now
        let result = try await manager.restart("k3s.service", timeout: .seconds(30))
        let roundTrip = start.duration(to: clock.now)
        let after = try #require(try manager.unitState("k3s.service"))
        print("node restart round trip: \(roundTrip)")

        #expect(first == .done)
        #expect(result == .done)
        #expect(after.activeState == "active")
        #expect(after.mainPID != 0)
        #expect(after.mainPID != before.mainPID)
        #expect(after.invocationID != before.invocationID)
        #expect(after.execMainStartTimestamp > before.execMainStartTimestamp)
        #expect(after.fragmentPath == "/etc/systemd/system/k3s.service")

        // 2. The journal of the new invocation contains the kubelet command line with the flags.
        let reader = JournalReader(source: .directory(node.journalDirectory))
        let line = try await waitForEntry(reader, .invocation(after.invocationID)) { $0.message.hasPrefix("Running kubelet ") || $0.message.contains("msg=\"Running kubelet ") }
        #expect(line?.message.contains("--image-credential-provider-config=\(providerConfigPath)") == true)
        #expect(line?.invocationID == after.invocationID)
        #expect(line?.pid == Int32(after.mainPID))
    }

    @Test("a rejected provider config makes systemd restart the unit")
    func rejectedConfigRestarts() async throws {
        let node = try NodeHarness()
        try node.write(providerBinary, "#!/bin/sh\nexit 0\n", mode: 0o755)
        // cacheType is required from Kubernetes 1.34 when tokenAttributes is set.
        let withoutCacheType = validProviderConfig.split(separator: "\n").filter { !$0.contains("cacheType") }
        try node.write(providerConfigPath, withoutCacheType.joined(separator: "\n") + "\n")
        try node.write("/etc/k3s-standin/kubelet-delay-seconds", "0.2\n")
        let manager = try SystemdManager.connect(address: node.busAddress)

        // READY=1 comes before the kubelet checks its providers, so the job still ends done.
        let result = try await manager.restart("k3s.service", timeout: .seconds(30))
        let started = try #require(try manager.unitState("k3s.service"))

        // Restart=always with RestartSec=5s: the next run starts about 5 s after the exit.
        var latest = started
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        // NRestarts grows when the restart begins, a moment before the new invocation id.
        while latest.nRestarts == started.nRestarts || latest.invocationID == started.invocationID,
              ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            latest = try #require(try manager.unitState("k3s.service"))
        }
        let reader = JournalReader(source: .directory(node.journalDirectory))
        let failure = try await waitForEntry(reader, .invocation(started.invocationID)) {
            $0.message.contains("\"Failed to register CRI auth plugins\"")
        }

        #expect(result == .done)
        #expect(latest.nRestarts > started.nRestarts)
        #expect(latest.invocationID != started.invocationID)
        #expect(failure?.message.contains("cacheType is required to be set when tokenAttributes is specified") == true)
    }
    @Test("an agent with a server-only key fails its restart job")
    func agentRejectsServerKey() async throws {
        let node = try NodeHarness()
        // k3s agent has no cluster-init flag, so the stand-in exits before READY=1.
        try node.write("/etc/rancher/k3s/config.yaml.d/50-server-only.yaml", "cluster-init: true\n")
        let manager = try SystemdManager.connect(address: node.busAddress)

        let result = try await manager.restart("k3s-agent.service", timeout: .seconds(30))
        let state = try #require(try manager.unitState("k3s-agent.service"))
        let reader = JournalReader(source: .directory(node.journalDirectory))
        let fatal = try await waitForEntry(reader, .unit("k3s-agent.service")) {
            $0.message.contains("level=fatal")
        }

        #expect(result == .failed)
        // systemd schedules the next start (auto-restart); on a loaded machine it may already
        // have begun by the time the state is read.
        #expect(["auto-restart", "start", "start-pre"].contains(state.subState), "\(state.subState)")
        #expect(fatal?.message.contains("flag provided but not defined: -cluster-init") == true)
    }
}

/// Provider configs the k3s stand-in must reject as the kubelet of the claimed version does
/// (kubernetes pkg/credentialprovider/plugin/config.go): version, config, kubelet error text.
private let rejectedConfigs: [(version: String, config: String, binary: Bool, error: String)] = [
    ("v1.34.1+k3s1", validProviderConfig.replacingOccurrences(of: "cacheType: Token", with: "cacheType: \"\""), true,
     "providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified"),
    ("v1.33.4+k3s1", validProviderConfig, true,
     #"strict decoding error: unknown field \"providers[0].tokenAttributes.cacheType\""#),
    ("v1.32.9+k3s1", validProviderConfig, true,
     #"strict decoding error: unknown field \"providers[0].tokenAttributes\""#),
    ("v1.34.1+k3s1", validProviderConfig, false,
     "plugin binary executable \(providerBinary) did not exist"),
    ("v1.34.1+k3s1", validProviderConfig.replacingOccurrences(of: "defaultCacheDuration: \"1h\"", with: "defaultCacheDuration: \"-1m\""), true,
     #"providers.defaultCacheDuration: Invalid value: \"-1m\": must be greater than or equal to 0"#),
]

@Suite("k3s stand-in on a real systemd node", .serialized, .enabled(
    if: NodeHarness.enabled, "set HARBOR_KEYLESS_NODE_TESTS=1 and run as root to boot a systemd-nspawn node"
))
struct StandInTests {
    @Test("stand-in rejects configs per kubelet version")
    func rejectsPerVersion() async throws {
        let node = try NodeHarness()
        // One second between READY=1 and the kubelet's validation, like a real server whose
        // API server is up first; shorter delays let systemd see the exit before READY=1 on
        // loaded cores and fail the job instead.
        try node.write("/etc/k3s-standin/kubelet-delay-seconds", "1\n")
        let manager = try SystemdManager.connect(address: node.busAddress)
        let reader = JournalReader(source: .directory(node.journalDirectory))

        for (version, config, binary, error) in rejectedConfigs {
            try node.write("/etc/k3s-standin/version", version + "\n")
            try node.write(providerConfigPath, config)
            if binary {
                try node.write(providerBinary, "#!/bin/sh\nexit 0\n", mode: 0o755)
            } else {
                try? FileManager.default.removeItem(atPath: node.root + providerBinary)
            }

            let result = try await manager.restart("k3s.service", timeout: .seconds(30))
            let state = try #require(try manager.unitState("k3s.service"))
            let failure = try await waitForEntry(reader, .invocation(state.invocationID)) {
                $0.message.contains("\"Failed to register CRI auth plugins\"")
            }

            #expect(result == .done, "\(version)")
            #expect(failure?.message.contains(error) == true, "\(version): \(failure?.message ?? "no failure logged")")
        }
    }

    @Test("stand-in merges config files like k3s")
    func mergesConfigFiles() async throws {
        let node = try NodeHarness()
        try node.write("/etc/k3s-standin/kubelet-delay-seconds", "0.1\n")
        try node.write("/etc/rancher/k3s/config.yaml", "kubelet-arg: [\"v=2\"]\nnode-ip: 10.0.0.1\n")
        try node.write("/etc/rancher/k3s/config.yaml.d/10-append.yaml", "kubelet-arg+: [\"max-pods=50\"]\n")
        try node.write("/etc/rancher/k3s/config.yaml.d/20-ignored.txt", "kubelet-arg: [\"v=9\"]\n")
        try node.write("/etc/rancher/k3s/config.yaml.d/30-node.YML", "node-ip: 10.0.0.2\nbogus-key: 1\n")
        let manager = try SystemdManager.connect(address: node.busAddress)

        let result = try await manager.restart("k3s.service", timeout: .seconds(30))
        let state = try #require(try manager.unitState("k3s.service"))
        let reader = JournalReader(source: .directory(node.journalDirectory))
        let kubelet = try await waitForEntry(reader, .invocation(state.invocationID)) { $0.message.contains("Running kubelet ") }
        let unknown = try await waitForEntry(reader, .invocation(state.invocationID)) { $0.message.contains("Unknown flag") }
        let files = try manager.listUnitFiles(matching: ["k3s*.service"])

        #expect(result == .done)
        #expect(kubelet?.message.contains("--max-pods=50") == true)
        #expect(kubelet?.message.contains("--v=2") == true)
        #expect(kubelet?.message.contains("--v=9") == false)
        #expect(kubelet?.message.contains("--image-credential-provider") == false)
        #expect(unknown?.message.contains("Unknown flag --bogus-key found in config.yaml, skipping") == true)
        #expect(files.map(\.name) == ["k3s-agent.service", "k3s.service"])
    }
}

/// Polls the journal for up to 10 s until an entry matching `predicate` shows up.
private func waitForEntry(
    _ reader: JournalReader, _ filter: JournalReader.Filter, _ predicate: (JournalEntry) -> Bool
) async throws -> JournalEntry? {
    let deadline = ContinuousClock.now.advanced(by: .seconds(10))
    while ContinuousClock.now < deadline {
        if let entry = try reader.entries(filter, limit: 200, maxAge: .seconds(600)).first(where: predicate) {
            return entry
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    return nil
}
