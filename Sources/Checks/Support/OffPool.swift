import Dispatch

/// Runs blocking work (a child process, sd-journal, sd-bus) on its own serial dispatch queue.
/// Such a queue gets an overcommitting thread outside the width-limited pool that Swift
/// concurrency uses on Linux, so the work cannot delay other checks and their timeouts.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue(label: "harbor-keyless.checks.blocking").async {
            continuation.resume(returning: body())
        }
    }
}
