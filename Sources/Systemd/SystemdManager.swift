internal import CSystemd
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// A client of systemd's manager (`org.freedesktop.systemd1`) on a system bus.
///
/// One instance owns one bus connection. Every bus call runs on the instance's serial queue
/// because sd-bus connections are not thread-safe. The synchronous methods block their caller
/// until the reply arrives (25 s D-Bus timeout). `restart` does not block the calling task; it
/// waits on the queue in 100 ms slices, so other calls can run while a job is pending.
public final class SystemdManager: @unchecked Sendable {
    /// The address this manager is connected to, for messages.
    public let busAddress: String

    // Touched only on `queue`.
    let connection: BusConnection
    var subscribed = false

    let queue = DispatchQueue(label: "harbor-keyless.systemd-bus")

    /// The system bus address: `DBUS_SYSTEM_BUS_ADDRESS` when set, else the standard socket
    /// `/run/dbus/system_bus_socket`, which is also where a pod mounts the host's socket.
    public static var defaultAddress: String {
        if let value = getenv("DBUS_SYSTEM_BUS_ADDRESS"), value.pointee != 0 {
            return String(cString: value)
        }
        return "unix:path=/run/dbus/system_bus_socket"
    }

    private init(connection: BusConnection) {
        self.connection = connection
        self.busAddress = connection.address
    }

    /// Connects to the system bus at `address` (default: `defaultAddress`). This checks only
    /// that a bus accepts the connection. The first call finds out whether systemd is on it.
    public static func connect(address: String? = nil) throws(SystemdError) -> SystemdManager {
        let target = address ?? defaultAddress
        return SystemdManager(connection: try BusConnection(address: target))
    }

    /// Runs `body` on the bus queue and returns its result to the blocked caller.
    private func onQueue<T>(_ body: () throws(SystemdError) -> T) throws(SystemdError) -> T {
        let result: Result<T, SystemdError> = queue.sync { Result(catching: body) }
        return try result.get()
    }

    // MARK: Units

    /// Returns the state of `unit`, or nil when systemd has no such unit (no unit file and
    /// not loaded). Loads the unit when it is not loaded yet, as `systemctl show` does.
    public func unitState(_ unit: String) throws(SystemdError) -> UnitState? {
        try validateUnitName(unit)
        return try onQueue { () throws(SystemdError) -> UnitState? in
            guard let path = try unitPath(unit) else { return nil }

            let unitProperties = try allProperties(path: path, interface: "org.freedesktop.systemd1.Unit")
            let loadState = unitProperties["LoadState"]?.string ?? ""
            if loadState == "not-found" { return nil }

            // Service properties exist only on service units.
            var serviceProperties: [String: BusValue] = [:]
            if unit.hasSuffix(".service") {
                serviceProperties = try allProperties(path: path, interface: "org.freedesktop.systemd1.Service")
            }

            return UnitState(
                loadState: loadState,
                activeState: unitProperties["ActiveState"]?.string ?? "",
                subState: unitProperties["SubState"]?.string ?? "",
                invocationID: hex(unitProperties["InvocationID"]?.bytes ?? []),
                mainPID: serviceProperties["MainPID"]?.uint32 ?? 0,
                execMainStartTimestamp: serviceProperties["ExecMainStartTimestamp"]?.uint64 ?? 0,
                nRestarts: serviceProperties["NRestarts"]?.uint32 ?? 0,
                fragmentPath: unitProperties["FragmentPath"]?.string ?? "",
                result: serviceProperties["Result"]?.string ?? ""
            )
        }
    }

    /// Resets the unit's failed state and its start counter (`ResetFailedUnit`, as
    /// `systemctl reset-failed` does), so a unit stopped by its start limit can start again.
    public func resetFailed(_ unit: String) throws(SystemdError) {
        try validateUnitName(unit)
        try onQueue { () throws(SystemdError) in
            _ = try connection.call(
                destination: Self.destination, path: Self.managerPath, interface: Self.managerInterface,
                member: "ResetFailedUnit"
            ) { (message) throws(SystemdError) in
                try message.append(unit)
            }
        }
    }

    /// Lists unit files whose names match any of the shell-style `patterns` (for example
    /// `k3s*.service`), with their enablement state (`enabled`, `disabled`, `static`, ...).
    public func listUnitFiles(matching patterns: [String]) throws(SystemdError) -> [(name: String, state: String)] {
        try onQueue { () throws(SystemdError) -> [(name: String, state: String)] in
            let reply = try connection.call(
                destination: Self.destination, path: Self.managerPath, interface: Self.managerInterface,
                member: "ListUnitFilesByPatterns"
            ) { (message) throws(SystemdError) in
                try message.append([String]())  // every enablement state
                try message.append(patterns)
            }

            var files: [(name: String, state: String)] = []
            try reply.enter("a", contents: "(ss)")
            while try reply.enter("r", contents: "ss") {
                let path = try reply.readString()
                let state = try reply.readString()
                try reply.exit()
                files.append((name: String(path.split(separator: "/").last ?? Substring(path)), state: state))
            }
            try reply.exit()
            return files.sorted { $0.name < $1.name }
        }
    }

    // MARK: Helpers

    static let destination = "org.freedesktop.systemd1"
    static let managerPath = "/org/freedesktop/systemd1"
    static let managerInterface = "org.freedesktop.systemd1.Manager"

    /// Returns the unit's object path, loading the unit if needed; nil when systemd has
    /// neither a loaded unit nor a unit file of that name.
    private func unitPath(_ unit: String) throws(SystemdError) -> String? {
        for member in ["GetUnit", "LoadUnit"] {
            do {
                let reply = try connection.call(
                    destination: Self.destination, path: Self.managerPath, interface: Self.managerInterface,
                    member: member
                ) { (message) throws(SystemdError) in
                    try message.append(unit)
                }
                return try reply.readObjectPath()
            } catch where error.errorName == "org.freedesktop.systemd1.NoSuchUnit" {
                continue
            }
        }
        return nil
    }

    private func allProperties(path: String, interface: String) throws(SystemdError) -> [String: BusValue] {
        let reply = try connection.call(
            destination: Self.destination, path: path, interface: "org.freedesktop.DBus.Properties",
            member: "GetAll"
        ) { (message) throws(SystemdError) in
            try message.append(interface)
        }
        return try reply.readPropertyMap()
    }
}

/// Rejects names systemd would reject anyway, with a clearer message.
func validateUnitName(_ unit: String) throws(SystemdError) {
    guard !unit.isEmpty, !unit.contains("/"), unit.contains(".") else {
        throw .invalidArgument(name: "unit name", value: unit, reason: "expected a full unit name such as k3s.service")
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}
