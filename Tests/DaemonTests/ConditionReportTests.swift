import APIStandInSupport
import Foundation
import KubeAPI
import Testing
@testable import Agent

extension DaemonTests {
    /// The node condition and Events against the kube-apiserver stand-in (Tests/apistandin), which
    /// authorizes each identity like a k3s API server with the Node authorizer and RBAC.
    @Suite("Node condition reporting")
    struct ConditionReportTests {
        static let ready = NodeReadiness(status: "True", reason: "ChecksPassed", message: "3 checks passed")
        static let notReady = NodeReadiness(status: "False", reason: "ProviderConfig", message: "provider-config: missing")

        func condition(_ standIn: APIStandIn, node: String = "node-a") async throws -> NodeCondition? {
            try await standIn.adminClient().node(node).condition(NodeReadiness.conditionType)
        }

        @Test("condition written on change only")
        func writesOnChangeOnly() async throws {
            let standIn = try await APIStandIn.start()
            let reporter = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: LogCapture().logger)

            #expect(await reporter.report(Self.ready))
            #expect(await reporter.report(Self.ready))
            #expect(await reporter.report(Self.ready))
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status") == 1)

            #expect(await reporter.report(Self.notReady))
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status") == 2)
            let written = try await condition(standIn)
            #expect(written?.status == "False")
            #expect(written?.reason == "ProviderConfig")
            #expect(written?.message == "provider-config: missing")
        }

        @Test("reason change keeps lastTransitionTime")
        func keepsTransitionTime() async throws {
            let standIn = try await APIStandIn.start()
            let reporter = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: LogCapture().logger)

            await reporter.report(Self.notReady)
            let first = try await condition(standIn)
            try await Task.sleep(for: .milliseconds(1100))
            await reporter.report(NodeReadiness(status: "False", reason: "RolledBack", message: "k3s rejected it"))
            let second = try await condition(standIn)

            #expect(second?.reason == "RolledBack")
            #expect(second?.lastTransitionTime == first?.lastTransitionTime)
            #expect(second?.lastHeartbeatTime != first?.lastHeartbeatTime)
        }

        @Test("heartbeat rewrites an unchanged condition")
        func heartbeat() async throws {
            let standIn = try await APIStandIn.start()
            let reporter = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(4), logger: LogCapture().logger)

            // Two reports in a row: the second is within the heartbeat and writes nothing.
            await reporter.report(Self.ready)
            let written = ContinuousClock.now
            await reporter.report(Self.ready)
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status") == 1)

            let first = try await condition(standIn)
            try await Task.sleep(until: written + .milliseconds(4300))
            await reporter.report(Self.ready)
            let second = try await condition(standIn)
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status") == 2)
            #expect(second?.lastTransitionTime == first?.lastTransitionTime)
            #expect(second?.lastHeartbeatTime != first?.lastHeartbeatTime)
        }

        @Test("Event posted on each status transition")
        func eventOnTransition() async throws {
            let standIn = try await APIStandIn.start()
            let reporter = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: LogCapture().logger)

            await reporter.report(Self.ready)
            await reporter.report(Self.ready)
            await reporter.report(Self.notReady)
            await reporter.report(NodeReadiness(status: "False", reason: "Other", message: "still failing"))

            let (_, body) = try await standIn.adminClient().rawGet("/api/v1/namespaces/default/events")
            let list = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            let events = (list?["items"] as? [[String: Any]]) ?? []
            #expect(events.count == 2)
            let reasons = Set(events.compactMap { $0["reason"] as? String })
            #expect(reasons == ["ChecksPassed", "ProviderConfig"])
            let warning = events.first { $0["reason"] as? String == "ProviderConfig" }
            #expect(warning?["type"] as? String == "Warning")
            #expect(warning?["reportingComponent"] as? String == "harbor-keyless")
            #expect((warning?["involvedObject"] as? [String: Any])?["name"] as? String == "node-a")
            #expect((warning?["involvedObject"] as? [String: Any])?["kind"] as? String == "Node")
        }

        @Test("node identity writes its own condition and Events")
        func nodeIdentity() async throws {
            let standIn = try await APIStandIn.start()
            let client = standIn.client(standIn.credentials(client: "node-a"))
            let reporter = ConditionReporter(client: client, node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: LogCapture().logger)

            #expect(await reporter.report(Self.notReady))
            #expect(standIn.count(method: "POST", pathPrefix: "/api/v1/namespaces/default/events", status: 201) == 1)
            #expect(try await condition(standIn)?.status == "False")
        }

        @Test("node identity cannot write another node")
        func otherNodeRejected() async throws {
            let standIn = try await APIStandIn.start()
            let logs = LogCapture()
            let client = standIn.client(standIn.credentials(client: "node-a"))
            let reporter = ConditionReporter(client: client, node: "node-b", eventNamespace: "default", heartbeat: .seconds(3600), logger: logs.logger)

            #expect(await reporter.report(Self.ready) == false)
            #expect(logs.count(containing: "msg=\"cannot write the node condition; retrying next cycle\" node=node-b") == 1)
            #expect(try await condition(standIn, node: "node-b") == nil)
        }

        @Test("API outage is retried until it recovers")
        func outageAndRecovery() async throws {
            // Three attempts per PATCH (the client's retries) fail for two reports, then the API
            // recovers.
            let standIn = try await APIStandIn.start(["faults": [["method": "PATCH", "path": "/api/v1/nodes/node-a/status", "status": 503, "times": 6]]])
            let logs = LogCapture()
            let reporter = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: logs.logger)

            #expect(await reporter.report(Self.ready) == false)
            #expect(await reporter.report(Self.ready) == false)
            #expect(await reporter.report(Self.ready))
            #expect(await reporter.report(Self.ready))
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status", status: 503) == 6)
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status", status: 200) == 1)
            #expect(try await condition(standIn)?.status == "True")
            // The second failure repeats the first log line, so it is suppressed and counted.
            #expect(logs.count(containing: "cannot write the node condition") == 1)
        }

        @Test("restarted agent keeps a fresh unchanged condition")
        func seedSkipsWrite() async throws {
            let standIn = try await APIStandIn.start()
            let first = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: LogCapture().logger)
            await first.report(Self.ready)

            let second = ConditionReporter(client: standIn.agentClient(), node: "node-a", eventNamespace: "default", heartbeat: .seconds(3600), logger: LogCapture().logger)
            await second.seed(from: try await standIn.agentClient().node("node-a"))
            await second.report(Self.ready)
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status") == 1)
        }
    }
}
