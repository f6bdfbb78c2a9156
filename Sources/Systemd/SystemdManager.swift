internal import CSystemd
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A client of systemd's manager (`org.freedesktop.systemd1`) on a system bus.
///
/// One instance owns one bus connection. Every bus call runs on the instance's serial queue,
/// because sd-bus connections are not thread-safe; the synchronous methods block their caller
/// until the reply arrives (25 s D-Bus timeout). `restart` does not block the calling task; it
/// waits on the queue in 100 ms slices, so other calls can run while a job is pending.
public final class SystemdManager: @unchecked Sendable {
    /// The address this manager is connected to, for messages.
    public let busAddress: String

    // Touched only on `queue`.
    private let connection: BusConnection
    private var subscribed = false

    private let queue = DispatchQueue(label: "harbor-keyless.systemd-bus")

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
    /// that a bus answers; the first call finds out whether systemd is on it.
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

    /// Returns the state of `unit`, or nil when systemd knows no such unit (no unit file and
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
                fragmentPath: unitProperties["FragmentPath"]?.string ?? ""
            )
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

    // MARK: Restart

    /// Restarts `unit` (`RestartUnit` with mode `replace`) and waits until systemd removes the
    /// job, returning the job's result.
    ///
    /// k3s units set `TimeoutStartSec=0`, so systemd itself may wait forever for `READY=1`:
    /// after `timeout` this throws `.timedOut` and leaves the job running in systemd.
    /// Cancelling the task throws `.cancelled` within about 100 ms.
    public func restart(_ unit: String, timeout: Duration) async throws(SystemdError) -> JobResult {
        try validateUnitName(unit)
        let cancellation = CancellationFlag()
        let result: Result<JobResult, SystemdError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let wait = RestartWait(unit: unit, timeout: timeout, cancellation: cancellation) { result in
                    continuation.resume(returning: result)
                }
                queue.async { self.beginRestart(wait) }
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }

    /// Holds what a restart needs between wait slices; used only on the bus queue.
    private final class RestartWait: @unchecked Sendable {
        let unit: String
        let timeout: Duration
        let deadline: ContinuousClock.Instant
        let cancellation: CancellationFlag
        let watch = JobWatch()
        var slot: OpaquePointer?
        var job = ""
        let finish: @Sendable (Result<JobResult, SystemdError>) -> Void

        init(unit: String, timeout: Duration, cancellation: CancellationFlag,
             finish: @escaping @Sendable (Result<JobResult, SystemdError>) -> Void) {
            self.unit = unit
            self.timeout = timeout
            self.deadline = ContinuousClock.now.advanced(by: timeout)
            self.cancellation = cancellation
            self.finish = finish
        }

        deinit {
            sd_bus_slot_unref(slot)
        }
    }

    /// Starts the restart job on the bus queue, then waits for it in slices.
    private func beginRestart(_ wait: RestartWait) {
        do throws(SystemdError) {
            // 1. Catch JobRemoved before the job exists: systemd can finish a job and send the
            // signal before the RestartUnit reply reaches us. sd-bus queues such signals while
            // sd_bus_call waits, and processPending() dispatches them later.
            wait.slot = try wait.watch.install(on: connection)

            // 2. systemd sends job signals only while some client is subscribed.
            try subscribe()

            // 3. Start the job and remember its object path.
            let reply = try connection.call(
                destination: Self.destination, path: Self.managerPath, interface: Self.managerInterface,
                member: "RestartUnit"
            ) { (message) throws(SystemdError) in
                try message.append(wait.unit)
                try message.append("replace")
            }
            wait.job = try reply.readObjectPath()
        } catch {
            wait.finish(.failure(error))
            return
        }
        continueRestart(wait)
    }

    /// Waits up to 100 ms for the job's JobRemoved, then queues the next slice, so other calls
    /// on this manager run in between and the deadline and cancellation are checked.
    private func continueRestart(_ wait: RestartWait) {
        do throws(SystemdError) {
            try connection.processPending()
            if let result = wait.watch.result(forJob: wait.job) {
                wait.finish(.success(JobResult(rawValue: result)))
                return
            }
            if wait.cancellation.isCancelled {
                throw .cancelled(unit: wait.unit)
            }
            let remaining = ContinuousClock.now.duration(to: wait.deadline)
            if remaining <= .zero {
                throw .timedOut(unit: wait.unit, after: wait.timeout)
            }
            try connection.wait(timeout: min(remaining, .milliseconds(100)))
        } catch {
            wait.finish(.failure(error))
            return
        }
        queue.async { self.continueRestart(wait) }
    }

    /// Calls `Subscribe` once per connection; systemd then sends job and unit signals to the
    /// bus until this client disconnects.
    private func subscribe() throws(SystemdError) {
        guard !subscribed else { return }
        do {
            _ = try connection.call(
                destination: Self.destination, path: Self.managerPath, interface: Self.managerInterface,
                member: "Subscribe"
            )
        } catch where error.errorName == "org.freedesktop.systemd1.AlreadySubscribed" {
            // Another call on this connection subscribed first; that is all we need.
        }
        subscribed = true
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
private func validateUnitName(_ unit: String) throws(SystemdError) {
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

/// Set by a task cancellation handler, read by the bus queue.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func cancel() {
        flag.store(true, ordering: .relaxed)
    }

    var isCancelled: Bool {
        flag.load(ordering: .relaxed)
    }
}
