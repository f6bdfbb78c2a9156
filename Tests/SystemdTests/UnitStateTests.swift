import Foundation
import NodeTestSupport
import Testing
@testable import Systemd

// Runs against a real dbus-daemon with the Python systemd manager stand-in
// (systemd_manager_standin.py), which is not systemd.

@Suite("SystemdManager unit state and connection errors")
struct UnitStateTests {
    @Test("unitState reads Unit and Service properties")
    func readsProperties() throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let state = try #require(try manager.unitState("k3s.service"))

        #expect(state.loadState == "loaded")
        #expect(state.activeState == "active")
        #expect(state.subState == "running")
        #expect(state.invocationID.count == 32)
        #expect(state.invocationID.allSatisfy { $0.isHexDigit })
        #expect(state.mainPID > 0)
        #expect(state.execMainStartTimestamp > 1_700_000_000_000_000)
        #expect(state.nRestarts == 0)
        #expect(state.fragmentPath == "/etc/systemd/system/k3s.service")
        #expect(state.result == "success")
    }

    @Test("unitState is nil for a unit systemd does not know")
    func unknownUnit() throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done"}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let state = try manager.unitState("k3s-agent.service")
        let members = try bus.calls().map(\.member)

        #expect(state == nil)
        #expect(members == ["GetUnit", "LoadUnit"])
    }

    @Test("unitState shows a crash loop that never settles")
    func crashLoop() async throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done", "churn": true}}}"#)
        let manager = try SystemdManager.connect(address: bus.address)

        let first = try #require(try manager.unitState("k3s.service"))
        try await Task.sleep(for: .milliseconds(300))
        let second = try #require(try manager.unitState("k3s.service"))

        #expect(second.invocationID != first.invocationID)
        #expect(second.mainPID != first.mainPID)
        #expect(second.nRestarts > first.nRestarts)
    }

    @Test("listUnitFiles matches patterns")
    func unitFiles() throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"""
            {"units": {"k3s.service": {"unit_file_state": "enabled"},
                       "k3s-agent.service": {"unit_file_state": "disabled"},
                       "ssh.service": {}}}
            """#)
        let manager = try SystemdManager.connect(address: bus.address)

        let files = try manager.listUnitFiles(matching: ["k3s.service", "k3s-*.service"])

        #expect(files.map(\.name) == ["k3s-agent.service", "k3s.service"])
        #expect(files.map(\.state) == ["disabled", "enabled"])
    }

    @Test("a bus without systemd gives ServiceUnknown with the address")
    func noSystemd() throws {
        let bus = try PrivateBus()
        let manager = try SystemdManager.connect(address: bus.address)

        let error = #expect(throws: SystemdError.self) { try manager.unitState("k3s.service") }

        #expect(error?.errorName == "org.freedesktop.DBus.Error.ServiceUnknown")
        #expect(error?.description.contains(bus.address) == true)
        #expect(error?.description.contains("DBUS_SYSTEM_BUS_ADDRESS") == true)
    }

    @Test("a bus that fails to activate systemd names the cause")
    func activationFails() throws {
        let bus = try PrivateBus(serviceActivation: true)
        let manager = try SystemdManager.connect(address: bus.address)

        let error = #expect(throws: SystemdError.self) { try manager.unitState("k3s.service") }

        #expect(error?.errorName?.hasPrefix("org.freedesktop.DBus.Error.Spawn.") == true)
        #expect(error?.description.contains("no systemd answers on \(bus.address)") == true)
    }

    @Test("connect to a missing socket names the address")
    func missingSocket() throws {
        let address = "unix:path=/tmp/harbor-keyless-no-such-dir/bus"

        let error = #expect(throws: SystemdError.self) { try SystemdManager.connect(address: address) }

        #expect(error == .connectionFailed(address: address, errno: ENOENT))
        #expect(error?.description.contains(address) == true)
    }

    @Test("connect uses DBUS_SYSTEM_BUS_ADDRESS by default")
    func defaultAddress() throws {
        let bus = try PrivateBus()
        try bus.startStandIn(#"{"units": {"k3s.service": {}}}"#)
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address, 1)
        defer { unsetenv("DBUS_SYSTEM_BUS_ADDRESS") }

        let manager = try SystemdManager.connect()
        let state = try manager.unitState("k3s.service")

        #expect(manager.busAddress == bus.address)
        #expect(state?.loadState == "loaded")
    }

    @Test("unit names without a type suffix are rejected", arguments: ["", "k3s", "../k3s.service"])
    func invalidUnitName(name: String) throws {
        let bus = try PrivateBus()
        let manager = try SystemdManager.connect(address: bus.address)

        #expect(throws: SystemdError.self) { try manager.unitState(name) }
    }
}
