import FoundationEssentials
public import Systemd

/// The k3s journal read with sd-journal.
public struct SystemdJournal: JournalSource {
    public var reader: JournalReader

    public init(_ reader: JournalReader) {
        self.reader = reader
    }

    public func recentEntries(unit: String, limit: Int, since: Date) async throws(JournalError) -> [JournalEntry] {
        let age = max(0, Date().timeIntervalSince(since))
        let reader = self.reader
        let read = await offPool { Result { () throws(SystemdError) -> [Systemd.JournalEntry] in
            try reader.entries(.unit(unit), limit: limit, maxAge: .milliseconds(Int64(age * 1000)))
        } }
        let entries: [Systemd.JournalEntry]
        switch read {
        case .success(let value): entries = value
        case .failure(let error): throw JournalError("\(error)")
        }
        // The reader returns newest first; checks read oldest first.
        return entries.reversed().map {
            JournalEntry(time: $0.timestamp, message: $0.message, invocationID: $0.invocationID.isEmpty ? nil : $0.invocationID)
        }
    }
}

/// The k3s unit's main process as systemd's manager reports it over D-Bus.
public struct SystemdServiceStatus: ServiceStatusSource {
    public var manager: SystemdManager

    public init(_ manager: SystemdManager) {
        self.manager = manager
    }

    public func status(unit: String) async -> ServiceStatus? {
        let manager = self.manager
        guard let state = await offPool({ try? manager.unitState(unit) }) ?? nil else { return nil }
        // systemd reports 0 for a timestamp or PID it does not have.
        return ServiceStatus(
            mainStart: state.execMainStartTimestamp == 0 ? nil : Date(timeIntervalSince1970: Double(state.execMainStartTimestamp) / 1_000_000),
            mainPID: state.mainPID == 0 ? nil : Int32(state.mainPID),
            invocationID: state.invocationID.isEmpty ? nil : state.invocationID,
            activeState: state.activeState.isEmpty ? nil : state.activeState
        )
    }
}
