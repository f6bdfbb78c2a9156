import Foundation
import Glibc
import Testing

@testable import HostFiles

@Suite("Host root and reads")
struct ReadTests {
    @Test("relative host root is rejected with the fix", arguments: ["host", "./host", ""])
    func relativeRoot(path: String) {
        let failure = hostFileError { () throws(HostFileError) in try HostRoot(path) }

        #expect(failure?.kind == .invalidRoot)
        #expect(failure?.description.contains("\"\(path)\"") == true)
        #expect(failure?.description.contains("absolute path") == true)
    }

    @Test("missing host root names ENOENT")
    func missingRoot() {
        let failure = hostFileError { () throws(HostFileError) in try HostRoot("/nonexistent-host-root-for-tests") }

        #expect(failure?.kind == .invalidRoot)
        #expect(failure?.errno == ENOENT)
    }

    @Test("resolved host path joins root and path")
    func resolvedPath() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }

        #expect(try HostRoot(sandbox.root + "/").resolvedHostPath("/etc/x") == sandbox.root + "/etc/x")
        #expect(try HostRoot("/").resolvedHostPath("/etc/x") == "/etc/x")
    }

    @Test("read returns nil for a missing file or directory")
    func readMissing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/etc")

        #expect(try root.read("/etc/missing") == nil)
        #expect(try root.read("/missing/dir/file") == nil)
        #expect(try root.info("/missing/dir/file") == nil)
        #expect(try root.list("/missing") == nil)
    }

    @Test("read limit rejects a larger file")
    func readLimit() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/file", String(repeating: "x", count: 100))

        let failure = hostFileError { () throws(HostFileError) in try root.read("/etc/file", limit: 99) }

        #expect(failure?.kind == .tooLarge)
        #expect(failure?.description.contains("99 bytes") == true)
        #expect(try root.read("/etc/file", limit: 100)?.count == 100)
    }

    @Test("read of a directory is rejected")
    func readDirectory() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/etc")

        let failure = hostFileError { () throws(HostFileError) in try root.read("/etc") }

        #expect(failure?.kind == .notRegularFile)
    }

    @Test("info reports kind, mode, size and owner")
    func info() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/bin/tool", "12345", mode: 0o4750)
        ageFile(sandbox.root + "/bin/tool")

        let info = try #require(try root.info("/bin/tool"))

        #expect(info.kind == .regular)
        #expect(info.mode == 0o4750)
        #expect(info.size == 5)
        #expect(info.uid == geteuid())
        #expect(info.modificationTime == Date(timeIntervalSince1970: 1_000_000_000))
        #expect(info.mtime == info.modificationTime)
        #expect(info.type == .regular)
        #expect(try root.info("/bin")?.kind == .directory)
        #expect(try root.info("/")?.kind == .directory)
    }

    @Test("isExecutableFile needs a regular file with an execute bit")
    func executable() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/bin/tool", "x", mode: 0o755)
        try sandbox.makeFile("/bin/data", "x", mode: 0o644)
        try sandbox.makeLink("/bin/alias", to: "tool")

        #expect(root.isExecutableFile("/bin/tool"))
        #expect(root.isExecutableFile("/bin/alias"))
        #expect(!root.isExecutableFile("/bin/data"))
        #expect(!root.isExecutableFile("/bin"))
        #expect(!root.isExecutableFile("/bin/missing"))
    }

    @Test("list returns sorted names")
    func list() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/d/b", "")
        try sandbox.makeFile("/d/a", "")
        try sandbox.makeDirectory("/d/c")

        #expect(try root.list("/d") == ["a", "b", "c"])
    }

    @Test("createDirectories makes each missing level with the mode")
    func createDirectories() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/var")
        chmod(sandbox.root + "/var", 0o755)

        try root.createDirectories("/var/lib/harbor-keyless/backups", mode: 0o700)

        #expect(sandbox.lstat(sandbox.root + "/var").map { $0.st_mode & 0o7777 } == 0o755)
        #expect(sandbox.lstat(sandbox.root + "/var/lib").map { $0.st_mode & 0o7777 } == 0o700)
        #expect(sandbox.lstat(sandbox.root + "/var/lib/harbor-keyless/backups").map { $0.st_mode & 0o7777 } == 0o700)
    }

    @Test("createDirectories through a file names ENOTDIR")
    func createThroughFile() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/var", "x")

        let failure = hostFileError { () throws(HostFileError) in try root.createDirectories("/var/lib", mode: 0o755) }

        #expect(failure?.errno == ENOTDIR)
        #expect(failure?.description.contains("/var is not a directory") == true)
    }
}
