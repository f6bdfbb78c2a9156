import Foundation
import Glibc
import Testing

@testable import HostFiles

@Suite("Atomic writes")
struct WriteTests {
    @Test("write creates, then updates, then leaves equal contents alone")
    func createUpdateUnchanged() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/etc/rancher/k3s")
        let file = sandbox.root + "/etc/rancher/k3s/config.yaml"

        let created = try root.write("/etc/rancher/k3s/config.yaml", contents: bytes("a: 1\n"), mode: 0o644, backups: nil)
        #expect(created == .created)
        #expect(sandbox.contents(file) == "a: 1\n")
        #expect(sandbox.lstat(file).map { $0.st_mode & 0o7777 } == 0o644)

        let updated = try root.write("/etc/rancher/k3s/config.yaml", contents: bytes("a: 2\n"), mode: 0o644, backups: nil)
        #expect(updated == .updated)
        #expect(sandbox.contents(file) == "a: 2\n")

        ageFile(file)
        let before = try #require(sandbox.lstat(file))
        let unchanged = try root.write("/etc/rancher/k3s/config.yaml", contents: bytes("a: 2\n"), mode: 0o644, backups: nil)
        let after = try #require(sandbox.lstat(file))
        #expect(unchanged == .unchanged)
        #expect(after.st_mtim.tv_sec == 1_000_000_000)
        #expect(after.st_ino == before.st_ino)
        #expect(sandbox.names(in: sandbox.root + "/etc/rancher/k3s") == ["config.yaml"])
    }

    @Test("write with only a new mode changes the mode in place")
    func modeOnly() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/bin/tool", "#!/bin/sh\n", mode: 0o644)
        let file = sandbox.root + "/bin/tool"
        ageFile(file)
        let before = try #require(sandbox.lstat(file))

        let outcome = try root.write("/bin/tool", contents: bytes("#!/bin/sh\n"), mode: 0o755, backups: nil)
        let after = try #require(sandbox.lstat(file))

        #expect(outcome == .updated)
        #expect(after.st_mode & 0o7777 == 0o755)
        #expect(after.st_ino == before.st_ino)
        #expect(after.st_mtim.tv_sec == 1_000_000_000)
    }

    @Test("written mode ignores the umask")
    func modeIgnoresUmask() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/bin")

        let previous = umask(0o077)
        defer { umask(previous) }
        _ = try root.write("/bin/tool", contents: bytes("x"), mode: 0o755, backups: nil)

        #expect(sandbox.lstat(sandbox.root + "/bin/tool").map { $0.st_mode & 0o7777 } == 0o755)
    }

    @Test("write into a missing directory names the missing parent")
    func missingParent() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/etc")

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/missing/file", contents: bytes("x"), mode: 0o644, backups: nil)
        }

        #expect(failure?.kind == .parentMissing)
        #expect(failure?.description.contains("the directory /etc/missing does not exist") == true)
    }

    @Test("write onto a directory is rejected")
    func directoryTarget() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/etc/dir")

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/dir", contents: bytes("x"), mode: 0o644, backups: nil)
        }

        #expect(failure?.kind == .notRegularFile)
        #expect(sandbox.lstat(sandbox.root + "/etc/dir").map { $0.st_mode & S_IFMT } == S_IFDIR)
    }

    @Test("relative host path is rejected with the fix")
    func relativePath() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("etc/file", contents: bytes("x"), mode: 0o644, backups: nil)
        }

        #expect(failure?.kind == .invalidPath)
        #expect(failure?.description.contains("starting with /") == true)
    }

    @Test("remove deletes a file and reports an absent one")
    func remove() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/file", "x")

        let removed = try root.remove("/etc/file", backups: nil)
        let removedAgain = try root.remove("/etc/file", backups: nil)
        let missingParent = try root.remove("/nowhere/file", backups: nil)

        #expect(removed)
        #expect(!removedAgain)
        #expect(!missingParent)
        #expect(sandbox.lstat(sandbox.root + "/etc/file") == nil)
    }

    @Test("failure between fsync and rename keeps the old file and no temp file")
    func failureBeforeRename() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/file", "old")
        root.faultInjection = { stage in stage == .synced ? .fail(EIO) : .proceed }

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/file", contents: bytes("new"), mode: 0o644, backups: nil)
        }

        #expect(failure?.errno == EIO)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "old")
        #expect(sandbox.names(in: sandbox.root + "/etc") == ["file"])
    }

    @Test(
        "abandoned write keeps the old file",
        arguments: [WriteStage.partiallyWritten, .synced]
    )
    func killedWriter(stage: WriteStage) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/file", "old contents")

        // `.abandon` returns without cleanup, which leaves the disk as SIGKILL would.
        root.faultInjection = { current in current == stage ? .abandon : .proceed }
        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/file", contents: bytes("new contents"), mode: 0o644, backups: nil)
        }
        let leftovers = sandbox.names(in: sandbox.root + "/etc").filter { $0 != "file" }

        #expect(failure?.kind == .injectedFault)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "old contents")
        #expect(leftovers.count == 1)

        root.faultInjection = nil
        let outcome = try root.write("/etc/file", contents: bytes("new contents"), mode: 0o644, backups: nil)

        #expect(outcome == .updated)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "new contents")
        #expect(sandbox.names(in: sandbox.root + "/etc") == ["file"])
    }

    @Test("temp file of a write in progress is kept")
    func tempInProgressKept() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/file", "old")

        // Another writer holds the flock on its temp file while it writes.
        let tempPath = sandbox.root + "/etc/.file.hk-0123456789abcdef.tmp"
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)

        _ = try root.write("/etc/file", contents: bytes("new"), mode: 0o644, backups: nil)

        #expect(sandbox.lstat(tempPath) != nil)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "new")
    }

    @Test("write keeps the owner of the file it replaces")
    func keepsOwner() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/file", "old")
        let owner: uid_t = geteuid() == 0 ? 4242 : geteuid()
        chown(sandbox.root + "/etc/file", owner, owner)

        _ = try root.write("/etc/file", contents: bytes("new"), mode: 0o640, backups: nil)
        let info = try #require(sandbox.lstat(sandbox.root + "/etc/file"))

        #expect(info.st_uid == owner)
        #expect(info.st_gid == owner)
        #expect(info.st_mode & 0o7777 == 0o640)
    }
}
