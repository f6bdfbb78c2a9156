internal import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Collects the Manager's `JobRemoved(u id, o job, s unit, s result)` signals seen on one
/// connection, keyed by job object path, so a job that ends before its path is known is
/// still found.
final class JobWatch {
    private var results: [String: String] = [:]

    /// Adds the match (a synchronous AddMatch call) and returns the slot that removes it.
    func install(on connection: BusConnection) throws(SystemdError) -> OpaquePointer? {
        guard let bus = connection.bus else {
            throw .transportFailed(address: connection.address, call: "AddMatch", errno: ENOTCONN)
        }
        var slot: OpaquePointer?
        let result = sd_bus_match_signal(
            bus, &slot,
            SystemdManager.destination, SystemdManager.managerPath, SystemdManager.managerInterface, "JobRemoved",
            { message, userdata, _ in
                guard let message, let userdata else { return 0 }
                let watch = Unmanaged<JobWatch>.fromOpaque(userdata).takeUnretainedValue()
                watch.record(message)
                return 0
            },
            Unmanaged.passUnretained(self).toOpaque()
        )
        guard result >= 0 else {
            throw .transportFailed(address: connection.address, call: "AddMatch JobRemoved", errno: -result)
        }
        return slot
    }

    private func record(_ message: OpaquePointer) {
        let signal = BusMessage.borrowing(message, address: "", call: "JobRemoved")
        do {
            _ = try signal.readUInt32()
            let job = try signal.readObjectPath()
            _ = try signal.readString()
            let result = try signal.readString()
            results[job] = result
        } catch {
            // A malformed signal cannot be ours; systemd always sends "uoss".
        }
    }

    func result(forJob job: String) -> String? {
        results[job]
    }
}
