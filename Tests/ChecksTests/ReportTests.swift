import Foundation
import Testing
@testable import Checks

@Suite("Runner and report")
struct ReportTests {
    static let outcomes = [
        CheckOutcome(id: "host.a", area: .host, title: "A", result: .pass("fine"), duration: 0.01),
        CheckOutcome(id: "cluster.b", area: .cluster, title: "B", result: .fail("broken", remedy: "apply:\nkind: ClusterRole"), duration: 0.02),
        CheckOutcome(id: "registry.c", area: .registry, title: "C", result: .skip("not requested"), duration: 0),
    ]

    @Test("JSON has the documented schema")
    func jsonSchema() throws {
        let text = DoctorReport(node: "node-a", outcomes: Self.outcomes).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["node", "ready", "checks"])
        #expect(object["node"] as? String == "node-a")
        #expect(object["ready"] as? Bool == false)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count == 3)
        #expect(Set(checks[0].keys) == ["id", "area", "title", "status", "message", "remedy"])
        #expect(checks[0]["remedy"] is NSNull)
        #expect(checks[1]["status"] as? String == "fail")
        #expect(checks[1]["remedy"] as? String == "apply:\nkind: ClusterRole")
    }

    @Test("unknown node is null and warnings leave the node ready")
    func jsonNullNode() throws {
        let report = DoctorReport(node: nil, outcomes: [CheckOutcome(id: "x", area: .host, title: "X", result: .warn("w"), duration: 0)])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(object["node"] is NSNull)
        #expect(object["ready"] as? Bool == true)
    }

    @Test("table groups by area and shows the remedy under failures")
    func table() {
        let text = DoctorReport(node: "node-a", outcomes: Self.outcomes).table(color: false)
        #expect(text.contains("Host files\n  PASS  host.a: fine"))
        #expect(text.contains("FAIL  cluster.b: broken\n        fix: apply:\n             kind: ClusterRole"))
        #expect(text.contains("NOT READY: 1 pass, 0 warn, 1 fail, 1 skip"))
        #expect(!text.contains("\u{1B}["))
        #expect(DoctorReport(node: "node-a", outcomes: Self.outcomes).table(color: true).contains("\u{1B}[31;1mFAIL"))
    }

    @Test("checks run in parallel, each bounded by the timeout")
    func parallelAndBounded() async throws {
        let slow = Check(id: "test.slow", title: "Slow", area: .host) { _ in
            try? await Task.sleep(for: .seconds(60))
            return .pass("late")
        }
        let quick = Check(id: "test.quick", title: "Quick", area: .host) { _ in .pass("quick") }
        let node = try await nodeFixture(installed: false)
        let context = try makeContext(node: node, timeout: .milliseconds(300))
        let started = Date()
        let outcomes = await CheckRunner.run([slow, slow, quick], context: context)
        // Each slow check alone takes 60 s; bounded runs end near 0.3 s, with slack for a
        // machine busy with other tests.
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(outcomes.map(\.id) == ["test.slow", "test.slow", "test.quick"])
        #expect(outcomes[0].result.status == .warn)
        #expect(outcomes[2].result.status == .pass)
    }

    @Test("check ids are unique and dotted")
    func ids() {
        let ids = Check.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        for check in Check.all {
            #expect(check.id.hasPrefix(check.area.rawValue + "."), "\(check.id)")
        }
    }

    /// The time is printed, not asserted: a timed assertion fails on loaded machines. The
    /// benchmark bench/doctor/run.sh measures it.
    @Test("whole run against the stand-in completes")
    func wholeRunTime() async throws {
        // The API server and the kubelet are stand-ins on loopback.
        let api = try await standIn()
        let kubelet = try await standIn(["role": "kubelet", "caDir": api.caDirectory, "metrics": "kubernetes_feature_enabled{name=\"KubeletServiceAccountTokenForCredentialProviders\",stage=\"BETA\"} 1\n"])
        let node = try await nodeFixture()
        let checks = Check.all.filter { $0.id != "registry.reachable" }
        let context = try makeContext(node: node, api: api.asAgent, kubelet: kubelet.endpoint)
        let started = Date()
        let report = await DoctorReport.run(checks, context: context)
        let elapsed = Date().timeIntervalSince(started)
        print("doctor run against the stand-in: \(Int(elapsed * 1000)) ms for \(report.outcomes.count) checks")
        #expect(report.outcomes.count == checks.count)
        #expect(report.outcomes.allSatisfy { !$0.timedOut })
    }
}
