import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes one line per event to standard error as `level=info msg="..." key=value`, the
/// format journald and log shippers parse. A line identical to one written less than
/// `repeatWindow` ago is suppressed and counted; the next line written for it carries
/// `suppressed=N`. Callers never pass a token, key or certificate.
public final class DaemonLogger: Sendable {
    public enum Level: String, Sendable {
        case debug, info, warning, error
    }

    private struct Repeat {
        var lastWritten: ContinuousClock.Instant
        var suppressed: Int
    }

    private let repeatWindow: Duration
    private let repeats = Mutex<[String: Repeat]>([:])
    private let sink: @Sendable (String) -> Void

    /// - Parameter sink: receives each finished line with its newline; standard error by default.
    public init(repeatWindow: Duration = .seconds(300), sink: (@Sendable (String) -> Void)? = nil) {
        self.repeatWindow = repeatWindow
        self.sink = sink ?? { line in DaemonLogger.writeStandardError(line) }
    }

    public func info(_ message: String, _ fields: [(String, String)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, String)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, String)] = []) { log(.error, message, fields) }

    public func log(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        let body = "level=\(level.rawValue) msg=\(Self.quoted(message))" + fields.map { " \($0.0)=\(Self.formatted($0.1))" }.joined()
        let now = ContinuousClock.now

        guard level == .warning || level == .error else {
            sink(body + "\n")
            return
        }

        // Repeats of the same line inside the window are only counted.
        let suppressed: Int? = repeats.withLock { table in
            if var entry = table[body], now - entry.lastWritten < repeatWindow {
                entry.suppressed += 1
                table[body] = entry
                return nil
            }
            let count = table[body]?.suppressed ?? 0
            table[body] = Repeat(lastWritten: now, suppressed: 0)
            if table.count > 512 {
                table = table.filter { now - $0.value.lastWritten < repeatWindow }
            }
            return count
        }
        guard let suppressed else { return }
        sink(body + (suppressed > 0 ? " suppressed=\(suppressed)" : "") + "\n")
    }

    /// Quotes a value when it is empty or contains a space, quote, equals sign or control
    /// character, escaping quotes, backslashes and newlines so the event stays on one line.
    static func formatted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
        return plain ? value : quoted(value)
    }

    static func quoted(_ value: String) -> String {
        InputValidation.quoted(value)
    }

    private static func writeStandardError(_ line: String) {
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes = bytes.dropFirst(count)
        }
    }
}
