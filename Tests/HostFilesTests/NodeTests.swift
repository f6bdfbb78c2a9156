import Foundation
import Glibc
import Testing

@testable import HostFiles

/// Mounting needs root and a kernel that lets this process mount, so these tests run only
/// with HARBOR_KEYLESS_NODE_TESTS=1 as root.
private let nodeTestsEnabled =
    ProcessInfo.processInfo.environment["HARBOR_KEYLESS_NODE_TESTS"] == "1" && geteuid() == 0

private func run(_ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite(
    "Full and read-only file systems",
    .enabled(if: nodeTestsEnabled, "set HARBOR_KEYLESS_NODE_TESTS=1 and run as root to mount tmpfs")
)
struct NodeTests {
    @Test("full disk keeps the old file and names ENOSPC with the fix")
    func fullDisk() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        #expect(try run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", sandbox.root]) == 0)
        defer { _ = try? run(["umount", sandbox.root]) }
        let root = try sandbox.hostRoot()
        try root.createDirectories("/etc", mode: 0o755)
        _ = try root.write("/etc/file", contents: bytes("old"), mode: 0o644, backups: nil)

        let big = [UInt8](repeating: 0x61, count: 200 * 1024)
        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/file", contents: big, mode: 0o644, backups: nil)
        }

        #expect(failure?.errno == ENOSPC)
        #expect(failure?.description.contains("ENOSPC") == true)
        #expect(failure?.description.contains("free space") == true)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "old")
        #expect(sandbox.names(in: sandbox.root + "/etc") == ["file"])
    }

    @Test("full disk during a streamed copy keeps the old file")
    func fullDiskStreamed() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        #expect(try run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", sandbox.root]) == 0)
        defer { _ = try? run(["umount", sandbox.root]) }
        let root = try sandbox.hostRoot()
        try root.createDirectories("/bin", mode: 0o755)
        _ = try root.write("/bin/tool", contents: bytes("old"), mode: 0o755, backups: nil)
        // The source lies outside the tmpfs, so the copy crosses file systems.
        try Data(repeating: 0x61, count: 200 * 1024).write(to: URL(fileURLWithPath: sandbox.outside + "/source"))

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/source"), mode: 0o755, backups: nil)
        }

        #expect(failure?.errno == ENOSPC)
        #expect(failure?.description.contains("free space") == true)
        #expect(sandbox.contents(sandbox.root + "/bin/tool") == "old")
        #expect(sandbox.names(in: sandbox.root + "/bin") == ["tool"])
    }

    @Test("read-only file system keeps the old file and names EROFS with the fix")
    func readOnly() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        #expect(try run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", sandbox.root]) == 0)
        defer { _ = try? run(["umount", sandbox.root]) }
        let root = try sandbox.hostRoot()
        try root.createDirectories("/etc", mode: 0o755)
        _ = try root.write("/etc/file", contents: bytes("old"), mode: 0o644, backups: nil)
        #expect(try run(["mount", "-o", "remount,ro", sandbox.root]) == 0)

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/file", contents: bytes("new"), mode: 0o644, backups: nil)
        }
        let removeFailure = hostFileError { () throws(HostFileError) in try root.remove("/etc/file", backups: nil) }

        #expect(failure?.errno == EROFS)
        #expect(failure?.description.contains("EROFS") == true)
        #expect(failure?.description.contains("remount it read-write") == true)
        #expect(removeFailure?.errno == EROFS)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "old")
    }

    @Test("full disk during a backup keeps the old file")
    func fullDiskBackup() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        #expect(try run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", sandbox.root]) == 0)
        defer { _ = try? run(["umount", sandbox.root]) }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root)
        try root.createDirectories("/etc", mode: 0o755)
        let old = [UInt8](repeating: 0x62, count: 40 * 1024)
        _ = try root.write("/etc/file", contents: old, mode: 0o644, backups: nil)

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/file", contents: bytes("new"), mode: 0o644, backups: store)
        }

        #expect(failure?.errno == ENOSPC)
        #expect(try root.read("/etc/file") == old)
    }
}
