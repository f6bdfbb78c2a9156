#if canImport(Glibc)
import Glibc
#endif

/// A failure talking to systemd over D-Bus or reading its journal.
///
/// Every case carries what was being done, on which bus address or journal path, and the
/// library's own error: the D-Bus error name and message, or the errno. `description` adds
/// the next step for the operator.
public enum SystemdError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The bus at `address` could not be opened (`sd_bus_start` failed with `errno`).
    case connectionFailed(address: String, errno: Int32)

    /// A method call returned a D-Bus error, for example `org.freedesktop.systemd1.NoSuchUnit`.
    case callFailed(address: String, call: String, errorName: String, message: String)

    /// A call failed below D-Bus (connection lost, malformed reply) with `errno`.
    case transportFailed(address: String, call: String, errno: Int32)

    /// Our own deadline passed before systemd removed the restart job of `unit`. The job may
    /// still be queued or running in systemd.
    case timedOut(unit: String, after: Duration)

    /// The waiting task was cancelled before the job of `unit` finished. The job keeps running.
    case cancelled(unit: String)

    /// An argument was rejected before anything was sent, for example an empty unit name.
    case invalidArgument(name: String, value: String, reason: String)

    /// An sd-journal call failed with `errno`; `path` is the journal directory, nil for the
    /// local journal.
    case journalFailed(operation: String, path: String?, errno: Int32)

    /// The D-Bus error name, when systemd or the bus daemon returned one.
    public var errorName: String? {
        if case .callFailed(_, _, let name, _) = self { return name }
        return nil
    }

    public var description: String {
        switch self {
        case .connectionFailed(let address, let code):
            return "cannot connect to the system bus at \(address): \(errnoText(code)); "
                + "check that dbus is running on the host and that the socket exists and is readable "
                + "(in a pod, mount the host's /run/dbus/system_bus_socket and set DBUS_SYSTEM_BUS_ADDRESS=unix:path=<mount>)"
        case .callFailed(let address, let call, let name, let message):
            return "\(call) on \(address) failed: \(name): \(message)\(hint(forErrorName: name, address: address))"
        case .transportFailed(let address, let call, let code):
            return "\(call) on \(address) failed: \(errnoText(code)); check that the bus daemon is still running"
        case .timedOut(let unit, let after):
            return "restart of \(unit) did not finish within \(after); the job may still be running, "
                + "check 'systemctl status \(unit)' and 'journalctl -u \(unit)'"
        case .cancelled(let unit):
            return "waiting for the restart of \(unit) was cancelled; the job keeps running in systemd"
        case .invalidArgument(let name, let value, let reason):
            return "invalid \(name) '\(value)': \(reason)"
        case .journalFailed(let operation, let path, let code):
            let place = path.map { "journal directory \($0)" } ?? "local journal"
            return "\(operation) on \(place) failed: \(errnoText(code)); "
                + "check that the directory exists and is readable by this user (root or group systemd-journal)"
        }
    }
}

/// Returns the fix for the D-Bus errors an operator can act on, or an empty string.
private func hint(forErrorName name: String, address: String) -> String {
    // A system bus without systemd either has no owner for the name or, where dbus's own
    // activation file for org.freedesktop.systemd1 is installed, fails to spawn /bin/false.
    if name.hasPrefix("org.freedesktop.DBus.Error.Spawn.") {
        return "; no systemd answers on \(address) (bus activation failed): point DBUS_SYSTEM_BUS_ADDRESS at the host's system bus, not a session bus"
    }
    switch name {
    case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
        return "; no systemd answers on \(address): point DBUS_SYSTEM_BUS_ADDRESS at the host's system bus, not a session bus"
    case "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.DBus.Error.UnknownObject":
        return "; check the unit name with 'systemctl list-unit-files' on the host"
    case "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired":
        return "; managing units needs uid 0 on the host (in a pod: run as root, privileged)"
    case "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout":
        return "; systemd did not reply in time, check 'systemctl is-system-running' on the host"
    default:
        return ""
    }
}

func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
