import Dispatch

/// Runs blocking work (a child process, sd-journal, sd-bus) on its own serial dispatch queue,
/// whose overcommitting thread is outside the width-limited pool that Swift concurrency uses
/// on Linux; blocking a pool thread would delay every other check and its timeout.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue(label: "harbor-keyless.checks.blocking").async {
            continuation.resume(returning: body())
        }
    }
}
