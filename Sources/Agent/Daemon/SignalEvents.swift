import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// A signal the daemon acts on.
public enum DaemonSignal: Sendable, Equatable {
    /// SIGTERM or SIGINT: stop within two seconds.
    case terminate(Int32)
    /// SIGHUP: read the configuration again.
    case reload
}

/// Delivers SIGTERM, SIGINT and SIGHUP as an `AsyncStream`. The signals' default actions are
/// turned off, and dispatch sources on a private queue read them, so no async-signal-unsafe
/// code runs in a signal handler.
public func daemonSignals() -> AsyncStream<DaemonSignal> {
    let queue = DispatchQueue(label: "harbor-keyless.signals")
    let (stream, continuation) = AsyncStream<DaemonSignal>.makeStream()
    let handled: [(Int32, DaemonSignal)] = [(SIGTERM, .terminate(SIGTERM)), (SIGINT, .terminate(SIGINT)), (SIGHUP, .reload)]

    var sources: [any DispatchSourceSignal] = []
    for (number, event) in handled {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler { continuation.yield(event) }
        source.resume()
        sources.append(source)
    }
    let retained = SignalSources(sources)
    continuation.onTermination = { _ in retained.cancel() }
    return stream
}

private final class SignalSources: @unchecked Sendable {
    // Read only by `cancel`, which runs once when the stream ends.
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
