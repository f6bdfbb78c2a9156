internal import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Owns one `sd_bus` client connection. sd-bus objects are not thread-safe: the owner must
/// use an instance from one thread at a time (`SystemdManager` confines it to a serial queue).
final class BusConnection {
    let address: String
    private(set) var bus: OpaquePointer?

    /// Opens a client connection to `address` and sends the `Hello` call.
    init(address: String) throws(SystemdError) {
        self.address = address

        var handle: OpaquePointer?
        var result = sd_bus_new(&handle)
        guard result >= 0, let handle else {
            throw .connectionFailed(address: address, errno: -result)
        }
        bus = handle

        // 1. A client of a message bus (Hello, unique name), not a peer-to-peer connection.
        result = sd_bus_set_address(handle, address)
        if result >= 0 { result = sd_bus_set_bus_client(handle, 1) }
        if result >= 0 { result = sd_bus_set_description(handle, "harbor-keyless") }

        // 2. Connect and authenticate. On a unix socket this fails at once when no process listens.
        if result >= 0 { result = sd_bus_start(handle) }
        guard result >= 0 else {
            close()
            throw .connectionFailed(address: address, errno: -result)
        }
    }

    deinit {
        close()
    }

    func close() {
        if let bus {
            sd_bus_flush_close_unref(bus)
        }
        bus = nil
    }

    /// Calls `member` and returns the reply. `call` names the operation in errors.
    func call(
        destination: String,
        path: String,
        interface: String,
        member: String,
        timeout: Duration = .seconds(25),
        arguments: (BusMessage) throws(SystemdError) -> Void = { _ throws(SystemdError) in }
    ) throws(SystemdError) -> BusMessage {
        let name = "\(interface.split(separator: ".").last ?? "").\(member)"
        guard let bus else {
            throw .transportFailed(address: address, call: name, errno: ENOTCONN)
        }

        var request: OpaquePointer?
        let created = sd_bus_message_new_method_call(bus, &request, destination, path, interface, member)
        guard created >= 0, let request else {
            throw .transportFailed(address: address, call: name, errno: -created)
        }
        let message = BusMessage(request, address: address, call: name)
        try arguments(message)

        var error = sd_bus_error(name: nil, message: nil, _need_free: 0)
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        let result = sd_bus_call(bus, request, microseconds(timeout), &error, &reply)
        guard result >= 0, let reply else {
            if let errorName = error.name {
                let text = error.message.map { String(cString: $0) } ?? ""
                throw .callFailed(address: address, call: name, errorName: String(cString: errorName), message: text)
            }
            throw .transportFailed(address: address, call: name, errno: -result)
        }
        return BusMessage(reply, address: address, call: name)
    }

    /// Dispatches every queued incoming message (signals for match callbacks).
    func processPending() throws(SystemdError) {
        guard let bus else { return }
        while true {
            let result = sd_bus_process(bus, nil)
            guard result >= 0 else {
                throw .transportFailed(address: address, call: "process", errno: -result)
            }
            if result == 0 { return }
        }
    }

    /// Blocks until a message arrives or `timeout` passes.
    func wait(timeout: Duration) throws(SystemdError) {
        guard let bus else { return }
        let result = sd_bus_wait(bus, microseconds(timeout))
        if result < 0 && result != -EINTR {
            throw .transportFailed(address: address, call: "wait", errno: -result)
        }
    }
}

func microseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0 else { return 0 }
    return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
}
