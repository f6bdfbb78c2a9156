import FoundationEssentials
import Synchronization

/// Runs checks in parallel, each bounded by the context's timeout.
public enum CheckRunner {
    /// Runs `checks` concurrently and returns their outcomes in the order given. A check that
    /// does not finish within `context.timeout` is reported as a warning and its work is
    /// abandoned. The API client's own timeouts end any request it left behind.
    public static func run(_ checks: [Check], context: CheckContext) async -> [CheckOutcome] {
        await withTaskGroup(of: (Int, CheckOutcome).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await runOne(check, context: context)) }
            }
            var outcomes = [CheckOutcome?](repeating: nil, count: checks.count)
            for await (index, outcome) in group {
                outcomes[index] = outcome
            }
            return outcomes.compactMap { $0 }
        }
    }

    static func runOne(_ check: Check, context: CheckContext) async -> CheckOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let (result, timedOut) = await withTimeout(context.timeout, check: check, context: context)
        let elapsed = start.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return CheckOutcome(id: check.id, area: check.area, title: check.title, result: result, duration: seconds, timedOut: timedOut)
    }

    /// Returns the check's result, or a timeout warning once `timeout` passes, whichever comes
    /// first. The check runs in its own task so a call blocked in C cannot hold the report.
    private static func withTimeout(_ timeout: Duration, check: Check, context: CheckContext) async -> (CheckResult, timedOut: Bool) {
        let resumed = OnceFlag()
        return await withCheckedContinuation { (continuation: CheckedContinuation<(CheckResult, timedOut: Bool), Never>) in
            let work = Task {
                let result = await check.run(context)
                if resumed.claim() {
                    continuation.resume(returning: (result, false))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if resumed.claim() {
                    work.cancel()
                    continuation.resume(returning: (.warn(
                        "timed out after \(timeout.formatted()): a source did not respond in time",
                        remedy: "rerun with a longer --timeout, or check that the API server and the registry are reachable"
                    ), true))
                }
            }
        }
    }
}

extension Duration {
    /// Seconds with up to three decimals, such as `10 s` or `0.5 s`.
    func formatted() -> String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }
}

/// A flag that exactly one caller can claim.
final class OnceFlag: Sendable {
    private let claimed = Mutex(false)

    /// Returns true for the first caller only.
    func claim() -> Bool {
        claimed.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
