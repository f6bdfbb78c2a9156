import Foundation
import Testing
@testable import Agent

extension DaemonTests {
    @Suite("Readiness and logs")
    struct ReadinessTests {
        @Test("readiness from check results", arguments: [
            ([], nil, "Unknown", "NotChecked"),
            ([("host-files", ReadinessCheck.Status.pass)], nil, "True", "ChecksPassed"),
            ([("host-files", .pass), ("kubelet-flags", .warn), ("api", .skip)], nil, "True", "ChecksPassed"),
            ([("host-files", .pass), ("provider-config", .fail), ("api-audiences", .fail)], nil, "False", "ProviderConfig"),
            ([("host-files", .warn)], "journal: failed to validate", "False", "RolledBack"),
        ] as [([(String, ReadinessCheck.Status)], String?, String, String)])
        func evaluate(checks: [(String, ReadinessCheck.Status)], rejection: String?, status: String, reason: String) {
            let outcomes = checks.map { ReadinessCheck(id: $0.0, status: $0.1, message: "m") }
            let readiness = NodeReadiness.evaluate(checks: outcomes, rejection: rejection)
            #expect(readiness.status == status)
            #expect(readiness.reason == reason)
            #expect(!readiness.message.contains("\n"))
        }

        @Test("check id to CamelCase reason", arguments: [
            ("provider-config", "ProviderConfig"),
            ("api_audiences", "ApiAudiences"),
            ("kubelet.flags", "KubeletFlags"),
            ("1st-check", "Check1stCheck"),
        ])
        func camelCase(id: String, reason: String) {
            #expect(NodeReadiness.camelCase(id) == reason)
        }

        @Test("message kept on one line")
        func oneLine() {
            let text = NodeReadiness.oneLine("first\n  second\r\nthird", limit: 512)
            #expect(text == "first second third")
            #expect(NodeReadiness.oneLine(String(repeating: "x", count: 600)).count == 512)
        }

        @Test("log values are quoted when needed", arguments: [
            ("plain", "plain"),
            ("two words", "\"two words\""),
            ("a=b", "\"a=b\""),
            ("", "\"\""),
            ("line\nbreak \"q\"", "\"line\\nbreak \\\"q\\\"\""),
        ])
        func logQuoting(value: String, formatted: String) {
            #expect(DaemonLogger.formatted(value) == formatted)
        }

        @Test("repeated warnings are counted, not written")
        func rateLimit() {
            let capture = LogCapture()
            let logger = DaemonLogger(repeatWindow: .milliseconds(300)) { capture.append($0) }
            for _ in 0..<5 { logger.error("cannot read the node", [("node", "node-a")]) }
            logger.info("repaired file", [("path", "/x")])
            logger.info("repaired file", [("path", "/x")])
            #expect(capture.count(containing: "cannot read the node") == 1)
            #expect(capture.count(containing: "repaired file") == 2)

            Thread.sleep(forTimeInterval: 0.4)
            logger.error("cannot read the node", [("node", "node-a")])
            #expect(capture.all.last == "level=error msg=\"cannot read the node\" node=node-a suppressed=4\n")
        }

        @Test("metrics label values are escaped")
        func metricsEscaping() {
            var snapshot = DaemonStatus.Snapshot()
            snapshot.checks = [ReadinessCheck(id: "odd\"id\\x", status: .warn, message: "")]
            #expect(snapshot.metrics().contains("harbor_keyless_check_status{check=\"odd\\\"id\\\\x\",status=\"warn\"} 1\n"))
        }

        @Test("jitter stays within 10 to 20 percent")
        func jitter() {
            let settings = DaemonSettings()
            for _ in 0..<200 {
                let seconds = settings.jittered(.seconds(60)).components.seconds
                #expect((48...54).contains(seconds) || (66...72).contains(seconds))
            }
        }
    }
}
