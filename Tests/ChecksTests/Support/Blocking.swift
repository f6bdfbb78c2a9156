import APIStandInSupport
import Dispatch
import Foundation

/// Runs blocking test setup (starting a stand-in, copying a tree, running the binary) on its
/// own dispatch queue. Swift concurrency shares a small thread pool with Dispatch on Linux,
/// so blocking it would delay other tests' tasks and timers.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue(label: "checks-tests.blocking").async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Starts an API, kubelet or registry stand-in off the shared pool.
func standIn(_ overrides: [String: Any] = [:]) async throws -> APIStandIn {
    try await APIStandIn.start(overrides)
}

/// Makes a node tree off the shared pool.
func nodeFixture(installed: Bool = true) async throws -> NodeFixture {
    try await blocking { try NodeFixture(installed: installed) }
}
