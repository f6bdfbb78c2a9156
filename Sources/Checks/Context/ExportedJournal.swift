internal import Subprocess
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Journal records in the export form of `journalctl -o json` (one JSON object per line),
/// read from a file or from `journalctl` itself.
public struct ExportedJournal: JournalSource {
    public enum Origin: Sendable {
        /// A file written with `journalctl -u k3s -o json > FILE`.
        case file(String)
        /// `journalctl` run on this host; `directory` names a journal directory (such as
        /// `<host-root>/var/log/journal`), nil for the local journal.
        case journalctl(directory: String?)
    }

    public var origin: Origin

    public init(_ origin: Origin) {
        self.origin = origin
    }

    public func recentEntries(unit: String, limit: Int, since: Date) async throws(JournalError) -> [JournalEntry] {
        let text: String
        switch origin {
        case .file(let path):
            text = try Self.readFile(path)
            let entries = Self.parse(text).filter { $0.unit == nil || $0.unit == unit }.map(\.entry)
            return Array(entries.filter { $0.time >= since }.suffix(limit))
        case .journalctl(let directory):
            // NOTE: a stop-gap until the sd-journal reader of the Systemd module is wired in.
            var arguments = ["-u", unit, "-o", "json", "-n", String(limit), "--no-pager", "--since", "@\(Int(since.timeIntervalSince1970))"]
            if let directory { arguments += ["-D", directory] }
            let candidates: [String] = ["/usr/bin/journalctl", "/bin/journalctl"]
            let binary = candidates.first { path in access(path, X_OK) == 0 } ?? candidates[0]
            let run = await offPool { [arguments] in Result { () throws(SubprocessError) -> SubprocessResult in
                try runSubprocess(binary, arguments: arguments, timeout: .seconds(5), outputLimit: 32 << 20)
            } }
            let result: SubprocessResult
            switch run {
            case .success(let value): result = value
            case .failure(let error): throw JournalError("\(error)")
            }
            guard result.status == 0, !result.timedOut else {
                let message = String(decoding: result.standardError.prefix(300), as: UTF8.self).trimmingSpaces
                throw JournalError("journalctl exited with status \(result.status)\(message.isEmpty ? "" : ": \(message)")")
            }
            text = String(decoding: result.standardOutput, as: UTF8.self)
            return Self.parse(text).map(\.entry)
        }
    }

    static func readFile(_ path: String) throws(JournalError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError("cannot read the journal export \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses export lines; lines that are not JSON objects with a text MESSAGE are skipped
    /// (journald exports binary messages as byte arrays).
    static func parse(_ text: String) -> [(entry: JournalEntry, unit: String?)] {
        struct Record: Decodable {
            var MESSAGE: String?
            var __REALTIME_TIMESTAMP: String?
            var _SYSTEMD_INVOCATION_ID: String?
            var _SYSTEMD_UNIT: String?
        }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { line in
            guard let record = try? decoder.decode(Record.self, from: Data(line.utf8)), let message = record.MESSAGE else { return nil }
            let microseconds = record.__REALTIME_TIMESTAMP.flatMap(Double.init) ?? 0
            let entry = JournalEntry(time: Date(timeIntervalSince1970: microseconds / 1_000_000), message: message, invocationID: record._SYSTEMD_INVOCATION_ID)
            return (entry, record._SYSTEMD_UNIT)
        }
    }
}
