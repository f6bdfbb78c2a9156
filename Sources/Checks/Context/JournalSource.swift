import FoundationEssentials

/// One journal record of the k3s unit.
public struct JournalEntry: Sendable, Equatable {
    public var time: Date
    public var message: String
    /// systemd's `_SYSTEMD_INVOCATION_ID`: one value per start of the unit.
    public var invocationID: String?

    public init(time: Date, message: String, invocationID: String?) {
        self.time = time
        self.message = message
        self.invocationID = invocationID
    }
}

/// A failure to read the journal, with the reader's own message.
public struct JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Recent journal records of a unit. The agent reads the node's journal (sd-journal, local
/// or a journal directory under the host root); tests give recorded lines.
public protocol JournalSource: Sendable {
    /// Returns at most `limit` of the newest records of `unit` no older than `since`, oldest first.
    func recentEntries(unit: String, limit: Int, since: Date) async throws(JournalError) -> [JournalEntry]
}

/// A journal source that has nothing to read, for hosts where no journal is reachable.
public struct UnavailableJournal: JournalSource {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public func recentEntries(unit: String, limit: Int, since: Date) async throws(JournalError) -> [JournalEntry] {
        throw JournalError(reason)
    }
}

/// Records held in memory, such as lines in `journalctl -o short-iso` form or fixtures.
public struct RecordedJournal: JournalSource {
    public var entries: [JournalEntry]

    public init(entries: [JournalEntry]) {
        self.entries = entries
    }

    public func recentEntries(unit: String, limit: Int, since: Date) async throws(JournalError) -> [JournalEntry] {
        Array(entries.filter { $0.time >= since }.suffix(limit))
    }
}
