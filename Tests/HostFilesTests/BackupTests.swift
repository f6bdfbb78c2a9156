import Foundation
import Glibc
import Testing

@testable import HostFiles

@Suite("Backups")
struct BackupTests {
    @Test("backups keep the newest N versions and restore walks back")
    func boundedAndRestorable() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root, keep: 3)
        try sandbox.makeDirectory("/etc")

        for version in 1...8 {
            _ = try root.write("/etc/file", contents: bytes("v\(version)"), mode: 0o600 + UInt32(version), backups: store)
        }
        let history = try store.history(for: "/etc/file")
        let latest = try #require(try store.latest(for: "/etc/file"))

        #expect(history.map(\.sequence) == [6, 7, 8])
        #expect(latest.contents == bytes("v7"))
        #expect(latest.entry.mode == 0o607)

        let first = try store.restore("/etc/file")
        #expect(first == .rewritten(.updated))
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "v7")
        #expect(sandbox.lstat(sandbox.root + "/etc/file").map { $0.st_mode & 0o7777 } == 0o607)

        _ = try store.restore("/etc/file")
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "v6")
        #expect(try store.history(for: "/etc/file").map(\.sequence) == [6])
    }

    @Test("backup store directories are private")
    func privateDirectories() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root)
        try sandbox.makeFile("/etc/file", "old", mode: 0o644)

        _ = try root.write("/etc/file", contents: bytes("new"), mode: 0o644, backups: store)
        let folder = sandbox.root + "/var/lib/harbor-keyless/backups/%2Fetc%2Ffile"
        let stored = try #require(sandbox.names(in: folder).first)

        #expect(sandbox.lstat(sandbox.root + "/var/lib/harbor-keyless/backups").map { $0.st_mode & 0o7777 } == 0o700)
        #expect(sandbox.lstat(folder + "/" + stored).map { $0.st_mode & 0o7777 } == 0o600)
        #expect(stored == "00000001-0644.bak")
        #expect(sandbox.contents(folder + "/" + stored) == "old")
    }

    @Test("restoring a created file removes it")
    func restoreCreated() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root)
        try sandbox.makeDirectory("/etc")

        _ = try root.write("/etc/new", contents: bytes("x"), mode: 0o644, backups: store)
        let latest = try store.latest(for: "/etc/new")
        let outcome = try store.restore("/etc/new")

        #expect(latest?.contents == nil)
        #expect(latest?.entry.mode == nil)
        #expect(outcome == .removed(true))
        #expect(sandbox.lstat(sandbox.root + "/etc/new") == nil)
    }

    @Test("restoring a removed file brings it back")
    func restoreRemoved() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root)
        try sandbox.makeFile("/bin/tool", "binary", mode: 0o755)

        let removed = try root.remove("/bin/tool", backups: store)
        let outcome = try store.restore("/bin/tool")

        #expect(removed)
        #expect(outcome == .rewritten(.created))
        #expect(sandbox.contents(sandbox.root + "/bin/tool") == "binary")
        #expect(sandbox.lstat(sandbox.root + "/bin/tool").map { $0.st_mode & 0o7777 } == 0o755)
    }

    @Test("unchanged write stores no backup")
    func unchangedNoBackup() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root)
        try sandbox.makeFile("/etc/file", "same", mode: 0o644)

        _ = try root.write("/etc/file", contents: bytes("same"), mode: 0o644, backups: store)

        #expect(try store.history(for: "/etc/file").isEmpty)
        #expect(try store.restore("/etc/file") == nil)
    }

    @Test("backup store rejects bad settings", arguments: [("backups", 5), ("/var/backups", 0)])
    func badSettings(directory: String, keep: Int) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()

        let failure = hostFileError { () throws(HostFileError) in try BackupStore(root: root, directory: directory, keep: keep) }

        #expect(failure?.kind == .invalidPath)
    }

    @Test("long paths still map to distinct names under NAME_MAX")
    func longPathNames() {
        let long = "/" + String(repeating: "d/", count: 150)
        let first = encodePathAsName(long + "a")
        let second = encodePathAsName(long + "b")

        #expect(first != second)
        #expect(first.utf8.count <= 255)
    }
}
