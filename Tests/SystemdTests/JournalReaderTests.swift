import Foundation
import NodeTestSupport
import Testing
@testable import Systemd

// Journal files are written by systemd's own systemd-journal-remote (Debian package
// systemd-journal-remote) from the journal export format, so JournalReader reads real
// journal files with entries whose fields and timestamps the test chose.

private let journalRemote = "/lib/systemd/systemd-journal-remote"

/// One entry in the journal export format (systemd.io/JOURNAL_EXPORT_FORMATS).
private struct ExportEntry {
    var message: String
    var unit: String
    var invocation: String
    var pid: Int
    var ageSeconds: UInt64
}

/// Writes `entries` (oldest first) into `directory/name.journal`.
private func writeJournal(_ entries: [ExportEntry], into directory: URL, name: String = "test") throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let now = UInt64(Date().timeIntervalSince1970 * 1_000_000)
    var export = ""
    for (index, entry) in entries.enumerated() {
        export += """
            __REALTIME_TIMESTAMP=\(now - entry.ageSeconds * 1_000_000)
            __MONOTONIC_TIMESTAMP=\(index + 1)
            _BOOT_ID=0123456789abcdef0123456789abcdef
            MESSAGE=\(entry.message)
            _SYSTEMD_UNIT=\(entry.unit)
            _SYSTEMD_INVOCATION_ID=\(entry.invocation)
            _PID=\(entry.pid)


            """
    }
    let input = directory.appendingPathComponent("\(name).export")
    try Data(export.utf8).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }

    guard FileManager.default.isExecutableFile(atPath: journalRemote) else {
        throw FixtureError(message: "\(journalRemote) is missing: apt-get install systemd-journal-remote")
    }
    let output = directory.appendingPathComponent("\(name).journal").path
    let (status, _) = try ChildProcess.run(journalRemote, ["-o", output, "-"], stdin: input.path)
    guard status == 0 else { throw FixtureError(message: "systemd-journal-remote exited with \(status)") }
}

private let first = String(repeating: "a", count: 32)
private let second = String(repeating: "b", count: 32)

private let k3sEntries = [
    ExportEntry(message: "old run", unit: "k3s.service", invocation: first, pid: 100, ageSeconds: 7200),
    ExportEntry(message: "Running kubelet --node-ip=10.0.0.10", unit: "k3s.service", invocation: first, pid: 100, ageSeconds: 7100),
    ExportEntry(message: "other unit", unit: "ssh.service", invocation: String(repeating: "c", count: 32), pid: 50, ageSeconds: 30),
    ExportEntry(message: "Running kubelet --image-credential-provider-bin-dir=/bin", unit: "k3s.service", invocation: second, pid: 200, ageSeconds: 20),
    ExportEntry(message: "new run ready", unit: "k3s.service", invocation: second, pid: 200, ageSeconds: 10),
]

@Suite("JournalReader on journal files")
struct JournalReaderTests {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("harbor-keyless-journal-\(UUID().uuidString.prefix(8))")

    @Test("entries of a unit come newest first")
    func unitNewestFirst() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeJournal(k3sEntries, into: directory)

        let entries = try JournalReader(source: .directory(directory.path)).entries(.unit("k3s.service"), limit: 10)

        #expect(entries.map(\.message) == [
            "new run ready", "Running kubelet --image-credential-provider-bin-dir=/bin",
            "Running kubelet --node-ip=10.0.0.10", "old run",
        ])
        #expect(entries.first?.pid == 200)
        #expect(entries.first?.invocationID == second)
    }

    @Test("limit and maximum age bound the result", arguments: [
        (10, Duration?.none, 4),
        (2, nil, 2),
        (10, .seconds(3600), 2),
        (10, .seconds(5), 0),
    ])
    func bounds(limit: Int, maxAge: Duration?, expectedCount: Int) throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeJournal(k3sEntries, into: directory)

        let entries = try JournalReader(source: .directory(directory.path))
            .entries(.unit("k3s.service"), limit: limit, maxAge: maxAge)

        #expect(entries.count == expectedCount)
    }

    @Test("an invocation filter returns only that run")
    func invocationFilter() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeJournal(k3sEntries, into: directory)

        let entries = try JournalReader(source: .directory(directory.path)).entries(.invocation(first), limit: 10)

        #expect(entries.map(\.message) == ["Running kubelet --node-ip=10.0.0.10", "old run"])
        #expect(entries.allSatisfy { $0.pid == 100 })
    }

    @Test("entry timestamps are the journal's realtime stamps")
    func timestamps() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeJournal(k3sEntries, into: directory)

        let newest = try #require(try JournalReader(source: .directory(directory.path)).entries(.unit("k3s.service"), limit: 1).first)
        let age = Date().timeIntervalSince(newest.timestamp)

        #expect(age > 9)
        #expect(age < 60)
    }

    @Test("an OS root reads both the persistent and the runtime journal")
    func osRoot() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let machine = "0123456789abcdef0123456789abcdef"
        try writeJournal([k3sEntries[0]], into: directory.appendingPathComponent("var/log/journal/\(machine)"), name: "system")
        try writeJournal([k3sEntries[4]], into: directory.appendingPathComponent("run/log/journal/\(machine)"), name: "system")

        let entries = try JournalReader(source: .osRoot(directory.path)).entries(.unit("k3s.service"), limit: 10)

        #expect(entries.map(\.message) == ["new run ready", "old run"])
    }

    @Test("a missing directory is an error naming it")
    func missingDirectory() throws {
        let path = directory.appendingPathComponent("absent").path

        let error = #expect(throws: SystemdError.self) {
            try JournalReader(source: .directory(path)).entries(.unit("k3s.service"), limit: 1)
        }

        #expect(error?.description.contains(path) == true)
    }
}
