internal import CSystemd
import FoundationEssentials

/// One journal entry of a unit.
public struct JournalEntry: Sendable, Equatable {
    /// `MESSAGE=`, decoded as UTF-8 with invalid bytes replaced.
    public var message: String
    /// When journald received the entry, in microseconds since the Unix epoch.
    public var realtimeMicroseconds: UInt64
    /// `_SYSTEMD_INVOCATION_ID=` (32 hex digits), empty when the entry has none.
    public var invocationID: String
    /// `_PID=`, 0 when missing.
    public var pid: Int32

    public init(message: String, realtimeMicroseconds: UInt64, invocationID: String, pid: Int32) {
        self.message = message
        self.realtimeMicroseconds = realtimeMicroseconds
        self.invocationID = invocationID
        self.pid = pid
    }

    public var timestamp: Date {
        Date(timeIntervalSince1970: Double(realtimeMicroseconds) / 1_000_000)
    }
}

/// Reads systemd journal entries with sd-journal.
///
/// Each query opens the journal, reads and closes it, so a reader is a plain value and may be
/// used from any thread. Reading blocks on file I/O, so keep it off latency-sensitive tasks.
public struct JournalReader: Sendable {
    /// The location of the journal files.
    public enum Source: Sendable, Equatable {
        /// This system's journal (`sd_journal_open`, system and runtime files).
        case local
        /// One directory of journal files, searched one level deep, such as a node's
        /// `/var/log/journal` (`sd_journal_open_directory`).
        case directory(String)
        /// The `/var/log/journal` and `/run/log/journal` under an OS tree, such as a pod's
        /// read-only mount of the host's root at `/host` (`SD_JOURNAL_OS_ROOT`).
        case osRoot(String)
    }

    /// The entries to read.
    public enum Filter: Sendable, Equatable {
        /// Entries a unit's processes wrote (`_SYSTEMD_UNIT=`).
        case unit(String)
        /// Entries of one run of a unit (`_SYSTEMD_INVOCATION_ID=`).
        case invocation(String)
    }

    public var source: Source

    public init(source: Source = .local) {
        self.source = source
    }

    /// Returns up to `limit` entries matching `filter`, newest first, none older than
    /// `maxAge` (measured back from now).
    public func entries(_ filter: Filter, limit: Int, maxAge: Duration? = nil) throws(SystemdError) -> [JournalEntry] {
        let journal = try Journal(source: source)
        let oldest = maxAge.map { age -> UInt64 in
            let now = UInt64(Date().timeIntervalSince1970 * 1_000_000)
            let span = microseconds(age)
            return now > span ? now - span : 0
        }

        switch filter {
        case .unit(let unit): try journal.addMatch("_SYSTEMD_UNIT=\(unit)")
        case .invocation(let id): try journal.addMatch("_SYSTEMD_INVOCATION_ID=\(id)")
        }

        var entries: [JournalEntry] = []
        try journal.seekTail()
        while entries.count < limit, try journal.previous() {
            let realtime = try journal.realtime()
            if let oldest, realtime < oldest { break }
            entries.append(JournalEntry(
                message: journal.field("MESSAGE") ?? "",
                realtimeMicroseconds: realtime,
                invocationID: journal.field("_SYSTEMD_INVOCATION_ID") ?? "",
                pid: journal.field("_PID").flatMap { Int32($0) } ?? 0
            ))
        }
        return entries
    }
}

/// Owns one `sd_journal` handle.
private final class Journal {
    private var handle: OpaquePointer?
    private let path: String?

    init(source: JournalReader.Source) throws(SystemdError) {
        var result: Int32
        switch source {
        case .local:
            path = nil
            result = sd_journal_open(&handle, 0)
        case .directory(let directory):
            path = directory
            result = sd_journal_open_directory(&handle, directory, 0)
        case .osRoot(let root):
            path = root
            result = sd_journal_open_directory(&handle, root, Int32(SD_JOURNAL_OS_ROOT))
        }
        guard result >= 0, handle != nil else {
            throw .journalFailed(operation: "sd_journal_open", path: path, errno: -result)
        }

        // Kubelet command lines run to a few KiB; cap field reads well above that.
        sd_journal_set_data_threshold(handle, 256 * 1024)
    }

    deinit {
        sd_journal_close(handle)
    }

    private func check(_ result: Int32, _ operation: String) throws(SystemdError) {
        if result < 0 {
            throw .journalFailed(operation: operation, path: path, errno: -result)
        }
    }

    func addMatch(_ match: String) throws(SystemdError) {
        let result = match.withCString { sd_journal_add_match(handle, $0, 0) }
        try check(result, "sd_journal_add_match \(match)")
    }

    func seekTail() throws(SystemdError) {
        try check(sd_journal_seek_tail(handle), "sd_journal_seek_tail")
    }

    func previous() throws(SystemdError) -> Bool {
        let result = sd_journal_previous(handle)
        try check(result, "sd_journal_previous")
        return result > 0
    }

    func realtime() throws(SystemdError) -> UInt64 {
        var value: UInt64 = 0
        try check(sd_journal_get_realtime_usec(handle, &value), "sd_journal_get_realtime_usec")
        return value
    }

    /// Returns the field's value, nil when the entry lacks it.
    func field(_ name: String) -> String? {
        var data: UnsafeRawPointer?
        var length = 0
        let result = sd_journal_get_data(handle, name, &data, &length)
        guard result >= 0, let data else { return nil }

        // sd-journal returns "NAME=value".
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        let prefix = name.utf8.count + 1
        guard length >= prefix else { return nil }
        return String(decoding: bytes[prefix...], as: UTF8.self)
    }
}
