internal import CSystemd
import Dispatch
import Synchronization

extension SystemdManager {
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

    /// The state of one restart between wait slices, used only on the bus queue.
    fileprivate final class RestartWait: @unchecked Sendable {
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
