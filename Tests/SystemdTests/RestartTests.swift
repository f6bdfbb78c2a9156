import Foundation
import NodeTestSupport
import Testing
@testable import Systemd

// These tests run SystemdManager against a real dbus-daemon and a Python stand-in for
// systemd's manager (systemd_manager_standin.py), scripted per test. The stand-in is not
// systemd; Tests/SystemdTests/NodeTests.swift runs the same calls against real systemd.

@Suite("SystemdManager restart against the systemd stand-in")
struct RestartTests {
    @Test("restart returns done and the unit runs with a new invocation")
    func restartDone() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done", "delay_ms": 100}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let before = try #require(try manager.unitState("k3s.service"))
        let result = try await manager.restart("k3s.service", timeout: .seconds(10))
        let after = try #require(try manager.unitState("k3s.service"))

        #expect(result == .done)
        #expect(after.invocationID != before.invocationID)
        #expect(after.mainPID != before.mainPID)
        #expect(after.activeState == "active")
    }

    @Test("restart subscribes before it sends RestartUnit with mode replace")
    func restartCallOrder() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        _ = try await manager.restart("k3s.service", timeout: .seconds(10))
        let members = try bus.calls().map(\.member)
        let arguments = try bus.calls().first { $0.member == "RestartUnit" }?.arguments

        #expect(members == ["Subscribe", "RestartUnit"])
        #expect(arguments == #"["k3s.service","replace"]"#)
    }

    @Test("restart returns the job result systemd sends", arguments: [
        ("failed", JobResult.failed),
        ("timeout", .timeout),
        ("canceled", .canceled),
        ("dependency", .dependency),
        ("skipped", .skipped),
    ])
    func restartResults(scripted: String, expected: JobResult) async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "\#(scripted)"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let result = try await manager.restart("k3s.service", timeout: .seconds(10))

        #expect(result == expected)
    }

    @Test("restart catches JobRemoved sent before the method reply")
    func signalBeforeReply() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "before-reply"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        // Nothing sends JobRemoved again, so a missed signal ends in .timedOut.
        let result = try await manager.restart("k3s.service", timeout: .seconds(10))

        #expect(result == .done)
    }

    @Test("restart ignores JobRemoved of other jobs")
    func otherJobsIgnored() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done"}}, "noise_jobs": true}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let result = try await manager.restart("k3s.service", timeout: .seconds(10))

        #expect(result == .done)
    }

    @Test("restart throws timedOut when the job never ends")
    func ownDeadline() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "never"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: SystemdError.timedOut(unit: "k3s.service", after: .milliseconds(400))) {
            try await manager.restart("k3s.service", timeout: .milliseconds(400))
        }
        let elapsed = start.duration(to: clock.now)

        #expect(elapsed >= .milliseconds(400))
        // Generous: parallel tests on two loaded cores delayed the wake-up by 17 s once. The
        // bound only shows that the wait ends on its own deadline rather than never.
        #expect(elapsed < .seconds(90))
    }

    @Test("other calls run while a restart waits")
    func callsDuringRestart() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done", "delay_ms": 4000}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let restart = Task { try await manager.restart("k3s.service", timeout: .seconds(20)) }
        // Poll until the job is seen running; on loaded cores the restart task may start late.
        var during: String?
        for _ in 0..<35 where during != "activating" {
            try await Task.sleep(for: .milliseconds(100))
            during = try manager.unitState("k3s.service")?.activeState
        }
        let result = try await restart.value

        #expect(during == "activating")
        #expect(result == .done)
    }

    @Test("cancelling the task ends the wait")
    func cancellation() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "never"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let restart = Task { try await manager.restart("k3s.service", timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(300))
        restart.cancel()
        let outcome = await restart.result

        #expect(throws: SystemdError.cancelled(unit: "k3s.service")) { try outcome.get() }
    }

    @Test("two restarts on one connection both finish")
    func repeatedRestart() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let first = try await manager.restart("k3s.service", timeout: .seconds(10))
        let second = try await manager.restart("k3s.service", timeout: .seconds(10))

        #expect(first == .done)
        #expect(second == .done)
    }

    @Test("restart of a missing unit names NoSuchUnit")
    func missingUnit() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let error = await #expect(throws: SystemdError.self) {
            try await manager.restart("k3s-agent.service", timeout: .seconds(5))
        }

        #expect(error?.errorName == "org.freedesktop.systemd1.NoSuchUnit")
        #expect(error?.description.contains("k3s-agent.service") == true)
        #expect(error?.description.contains("systemctl list-unit-files") == true)
    }
}
