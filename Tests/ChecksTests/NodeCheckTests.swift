import Foundation
import HostFiles
import APIStandInSupport
import Testing
@testable import Checks

@Suite("Restart, kubelet and journal checks")
struct NodeCheckTests {
    static let ourKubeletLine = #"May 26 22:08:49 node-a k3s[2226]: time="2026-05-26T22:08:49Z" level=info msg="Running kubelet --config-dir=/var/lib/rancher/k3s/agent/etc/kubelet.conf.d --hostname-override=node-a --image-credential-provider-bin-dir=/var/lib/rancher/credentialprovider/bin --image-credential-provider-config=/var/lib/rancher/credentialprovider/config.yaml --kubeconfig=/var/lib/rancher/k3s/agent/kubelet.kubeconfig""#

    @Test("pending restart in the agent state fails")
    func pendingInState() async throws {
        let node = try await nodeFixture()
        try node.write("/var/lib/harbor-keyless/state.json", #"{"installedProviders":["credential-provider-harbor"],"pendingRestart":{"reason":"changed the provider config","since":1764806400},"rejectedConfigs":[]}"#)
        let result = await run(.restartPending, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("changed the provider config"))
    }

    @Test("files newer than the k3s start fail, older pass")
    func filesAgainstStart() async throws {
        let node = try await nodeFixture()
        let changed = Date(timeIntervalSince1970: 1_800_000_000)
        try node.touch("/var/lib/rancher/credentialprovider/config.yaml", at: changed)
        try node.touch("/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml", at: changed)

        let before = FixedServiceStatus(ServiceStatus(mainStart: changed.addingTimeInterval(-60), mainPID: 2226, invocationID: nil))
        let stale = await run(.restartPending, try makeContext(node: node, serviceStatus: before))
        #expect(stale.status == .fail)
        #expect(stale.message.contains("systemd ExecMainStartTimestamp"))

        let after = FixedServiceStatus(ServiceStatus(mainStart: changed.addingTimeInterval(60), mainPID: 2226, invocationID: nil))
        #expect(await run(.restartPending, try makeContext(node: node, serviceStatus: after)).status == .pass)
    }

    @Test("touched files with the loaded content pass")
    func touchedFilesPass() async throws {
        let node = try await nodeFixture()
        let providerConfig = "/var/lib/rancher/credentialprovider/config.yaml"
        let dropIn = "/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
        let digests = try [providerConfig, dropIn].map { path in
            (path, ContentDigest.sha256(Array(try Data(contentsOf: URL(fileURLWithPath: node.path + path)))))
        }
        let state = ["loadedDigests": Dictionary(uniqueKeysWithValues: digests), "rejectedConfigs": []] as [String: Any]
        try node.write("/var/lib/harbor-keyless/state.json", String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self))
        let changed = Date(timeIntervalSince1970: 1_800_000_000)
        try node.touch(providerConfig, at: changed)
        try node.touch(dropIn, at: changed)
        let before = FixedServiceStatus(ServiceStatus(mainStart: changed.addingTimeInterval(-60), mainPID: 2226, invocationID: nil))

        #expect(await run(.restartPending, try makeContext(node: node, serviceStatus: before)).status == .pass)

        // New content at the same time fails.
        try node.write(dropIn, "image-credential-provider-config: /elsewhere.yaml\n")
        try node.touch(dropIn, at: changed)
        let edited = await run(.restartPending, try makeContext(node: node, serviceStatus: before))
        #expect(edited.status == .fail)
        #expect(edited.message.contains(dropIn))
        #expect(!edited.message.contains(providerConfig))
    }

    @Test("process start read from proc under the host root")
    func startFromProc() async throws {
        let node = try await nodeFixture()
        // proc(5) layout: field 22 of /proc/PID/stat is the start in clock ticks after boot.
        let fields = ["S"] + Array(repeating: "0", count: 18) + ["100"] + Array(repeating: "0", count: 10)
        try node.write("/proc/2226/stat", "2226 (k3s-server) " + fields.joined(separator: " ") + "\n")
        try node.write("/proc/2226/cmdline", "/usr/local/bin/k3s\0server\0")
        try node.write("/proc/stat", "cpu 1 2 3\nbtime 1900000000\n")
        let result = await run(.restartPending, try makeContext(node: node))
        #expect(result.status == .pass)
        #expect(result.message.contains("/proc/2226/stat"))
    }

    @Test("unknown k3s start skips")
    func startUnknown() async throws {
        let node = try await nodeFixture()
        #expect(await run(.restartPending, try makeContext(node: node)).status == .skip)
    }

    @Test("rejected config recorded fails")
    func rejectedConfig() async throws {
        let node = try await nodeFixture()
        #expect(await run(.rejectedConfig, try makeContext(node: node)).status == .pass)
        // Only a rejection of the configuration in place fails; older ones are history.
        try node.write("/var/lib/harbor-keyless/state.json", #"{"rejectedConfigs":["0f3a"]}"#)
        #expect(await run(.rejectedConfig, try makeContext(node: node)).status == .pass)
        try node.write(
            "/var/lib/harbor-keyless/state.json",
            #"{"rejectedConfigs":["0f3a"],"lastRejection":{"digest":"0f3a","reason":"settled: k3s exited","at":1780000000}}"#
        )
        let result = await run(.rejectedConfig, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("settled: k3s exited"))
        #expect(result.remedy?.contains("journalctl -u k3s.service") == true)
    }

    @Test("failed restart after rollback fails")
    func failedPhase() async throws {
        let node = try await nodeFixture()
        try node.write("/var/lib/harbor-keyless/state.json", #"{"restartInFlight":{"unit":"k3s.service","phase":"failed","configDigest":"0f3a","changedPaths":[],"startedAt":1}}"#)
        let result = await run(.rejectedConfig, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.remedy?.contains("--force") == true)
    }

    @Test("corrupt agent state warns")
    func corruptState() async throws {
        let node = try await nodeFixture()
        try node.write("/var/lib/harbor-keyless/state.json", "{not json")
        #expect(await run(.rejectedConfig, try makeContext(node: node)).status == .warn)
    }

    @Test("kubelet flags from the journal")
    func kubeletFlags() async throws {
        let node = try await nodeFixture()
        let ours = RecordedJournal(entries: journal(lines: [Self.ourKubeletLine]))
        #expect(await run(.kubeletFlags, try makeContext(node: node, journal: ours)).status == .pass)

        // Source: k3s-io/docs self-assessment 1.12, a kubelet started without provider flags.
        let field = RecordedJournal(entries: try journal(fixture: "k3s-v1.32-1.36-cis-1.12-kubelet.log"))
        let result = await run(.kubeletFlags, try makeContext(node: node, journal: field))
        #expect(result.status == .fail)
        #expect(result.message.contains("--image-credential-provider-bin-dir is missing"))

        #expect(await run(.kubeletFlags, try makeContext(node: node)).status == .skip)
        let broken = UnavailableJournal(reason: "no journal files")
        #expect(await run(.kubeletFlags, try makeContext(node: node, journal: broken)).status == .skip)
    }

    @Test("only the current invocation's kubelet line counts")
    func kubeletFlagsCurrentInvocation() async throws {
        let node = try await nodeFixture()
        let old = journal(lines: [Self.ourKubeletLine], invocation: "aaaa", endingAt: Date().addingTimeInterval(-600))
        let new = journal(lines: ["k3s starting", "Running kubelet --hostname-override=node-a"], invocation: "bbbb")
        let result = await run(.kubeletFlags, try makeContext(node: node, journal: RecordedJournal(entries: old + new)))
        #expect(result.status == .fail)
    }

    @Test("kubelet flags of a stopped unit fail", arguments: [
        ("failed", CheckStatus.fail), ("inactive", .fail), ("activating", .skip), ("active", .pass),
    ])
    func kubeletFlagsUnitState(state: String, expected: CheckStatus) async throws {
        let node = try await nodeFixture()
        let entries = journal(lines: [Self.ourKubeletLine], invocation: "aaaa")
        let status = FixedServiceStatus(ServiceStatus(mainStart: nil, mainPID: nil, invocationID: "aaaa", activeState: state))
        let context = try makeContext(node: node, journal: RecordedJournal(entries: entries), serviceStatus: status)
        let result = await run(.kubeletFlags, context)
        #expect(result.status == expected)
        if expected == .fail {
            #expect(result.message.contains("k3s.service is \(state)"))
        }
    }

    @Test("kubelet flags follow systemd's invocation")
    func kubeletFlagsSystemdInvocation() async throws {
        let node = try await nodeFixture()
        // systemd runs invocation "aaaa"; newer records of another invocation do not count.
        let current = journal(lines: [Self.ourKubeletLine], invocation: "aaaa", endingAt: Date().addingTimeInterval(-600))
        let other = journal(lines: ["Running kubelet --hostname-override=node-a"], invocation: "bbbb")
        let status = FixedServiceStatus(ServiceStatus(mainStart: nil, mainPID: nil, invocationID: "aaaa", activeState: "active"))
        let context = try makeContext(node: node, journal: RecordedJournal(entries: current + other), serviceStatus: status)
        #expect(await run(.kubeletFlags, context).status == .pass)
    }

    static let symptomFixtures: [(String, String, CheckStatus)] = [
        ("azure-4533-plugin-binary-did-not-exist.log", "plugin binary executable", .fail),
        ("capz-4110-failed-register-cri-auth-plugins-no-kind.log", "\"no kind\"", .fail),
        ("k3os-723-flag-provided-but-not-defined.log", "flag provided but not defined", .fail),
        ("k3s-14039-failed-register-cri-auth-plugins.log", "Failed to register CRI auth plugins", .fail),
        ("k8s-102750-failed-getting-credential-ecr.log", "Failed getting credential from external registry credential provider", .warn),
        ("k8s-noderestriction-audience-not-found.txt", "not found in pod spec volume", .warn),
        ("vpc-cni-708-no-basic-auth-credentials.log", "no basic auth credentials", .warn),
    ]

    @Test("journal symptoms from field reports", arguments: symptomFixtures)
    func journalSymptoms(file: String, signature: String, status: CheckStatus) async throws {
        let node = try await nodeFixture()
        let entries = RecordedJournal(entries: try journal(fixture: file))
        let result = await run(.journalSymptoms, try makeContext(node: node, journal: entries))
        #expect(result.status == status, "\(file)")
        #expect(result.message.contains(signature), "\(file): \(result.message)")
    }

    @Test("fatal symptom of an earlier run only warns")
    func symptomEarlierRun() async throws {
        let node = try await nodeFixture()
        let old = journal(lines: [#"E0511 "Failed to register CRI auth plugins" err="x""#], invocation: "aaaa", endingAt: Date().addingTimeInterval(-600))
        let new = journal(lines: ["k3s is up and running"], invocation: "bbbb")
        let result = await run(.journalSymptoms, try makeContext(node: node, journal: RecordedJournal(entries: old + new)))
        #expect(result.status == .warn)
        #expect(result.message.contains("earlier k3s run"))
    }

    @Test("clean journal passes, unreadable skips")
    func journalClean() async throws {
        let node = try await nodeFixture()
        let clean = RecordedJournal(entries: journal(lines: [Self.ourKubeletLine]))
        #expect(await run(.journalSymptoms, try makeContext(node: node, journal: clean)).status == .pass)
        #expect(await run(.journalSymptoms, try makeContext(node: node, journal: UnavailableJournal(reason: "none"))).status == .skip)
    }

    @Test("journalctl JSON export is read")
    func exportedJournal() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        let lines = [
            #"{"MESSAGE":"old","__REALTIME_TIMESTAMP":"\#(now - 2_000_000)","_SYSTEMD_INVOCATION_ID":"aa","_SYSTEMD_UNIT":"k3s.service"}"#,
            #"{"MESSAGE":[1,2,3],"__REALTIME_TIMESTAMP":"\#(now - 1_500_000)","_SYSTEMD_UNIT":"k3s.service"}"#,
            #"{"MESSAGE":"other unit","__REALTIME_TIMESTAMP":"\#(now - 1_200_000)","_SYSTEMD_UNIT":"containerd.service"}"#,
            #"{"MESSAGE":"new","__REALTIME_TIMESTAMP":"\#(now - 1_000_000)","_SYSTEMD_INVOCATION_ID":"bb","_SYSTEMD_UNIT":"k3s.service"}"#,
        ]
        try lines.joined(separator: "\n").write(toFile: directory + "/k3s.json", atomically: false, encoding: .utf8)
        let entries = try await ExportedJournal(.file(directory + "/k3s.json")).recentEntries(unit: "k3s.service", limit: 10, since: Date().addingTimeInterval(-60))
        #expect(entries.map(\.message) == ["old", "new"])
        #expect(entries.last?.invocationID == "bb")
    }

    @Test("opt-in and agent image")
    func pullSafety() async throws {
        let node = try await nodeFixture()
        #expect(await run(.optIn, try makeContext(node: node)).status == .warn)
        #expect(await run(.optIn, try makeContext(node: node, setup: harborSetup(annotationKey: "harbor.example.com/pull"))).status == .pass)

        #expect(await run(.agentImage, try makeContext(node: node)).status == .skip)
        let behind = ["HARBOR_KEYLESS_IMAGE": "harbor.example.com/system/harbor-keyless:0.1.0"]
        #expect(await run(.agentImage, try makeContext(node: node, environment: behind)).status == .warn)
        let elsewhere = ["HARBOR_KEYLESS_IMAGE": "ghcr.io/example/harbor-keyless@sha256:0123"]
        #expect(await run(.agentImage, try makeContext(node: node, environment: elsewhere)).status == .pass)
    }

    @Test("SHA-256 known vector and kubelet config hash")
    func hashes() {
        // FIPS 180-2 appendix B.1: SHA-256("abc").
        #expect(ContentDigestCheck.abc == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Length 3 as a big-endian uint64, then "abc"; digest computed with Python's hashlib.
        #expect(SHA256.providerConfigHash([Array("abc".utf8)]) == "sha256:" + ContentDigestCheck.prefixedABC)
    }
}

enum ContentDigestCheck {
    static var abc: String { ContentDigest.sha256(Array("abc".utf8)) }
    static let prefixedABC = "c3494ca1a2cf8eeb8a11ded316fb55b83c3bbbedb6313cd50415251e5d09e12f"
}
