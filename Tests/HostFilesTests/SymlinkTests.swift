import Foundation
import Glibc
import Testing

@testable import HostFiles

/// One way a path can try to leave the host root.
struct EscapeCase: CustomTestStringConvertible, Sendable {
    var label: String
    /// Symbolic links to create: (host path, target). `OUTSIDE` in a target is replaced by
    /// the absolute path of the sandbox's outside directory.
    var links: [(String, String)]
    var writePath: String
    var expectedKind: HostFileError.Kind

    var testDescription: String { label }
}

private let escapeCases: [EscapeCase] = [
    EscapeCase(
        label: ".. chain in the path", links: [],
        writePath: "/etc/../../outside/file", expectedKind: .escapesRoot),
    EscapeCase(
        label: "relative link climbing out", links: [("/etc/up", "../../outside")],
        writePath: "/etc/up/file", expectedKind: .escapesRoot),
    EscapeCase(
        label: "absolute link climbing out with ..", links: [("/etc/abs", "/../outside")],
        writePath: "/etc/abs/file", expectedKind: .escapesRoot),
    EscapeCase(
        label: "symlinked directory pointing out", links: [("/var/lib", "../../../outside")],
        writePath: "/var/lib/rancher/file", expectedKind: .escapesRoot),
    EscapeCase(
        label: "chain of links ending outside", links: [("/a", "b"), ("/b", "c/.."), ("/c", "/d"), ("/d", "../..")],
        writePath: "/a/outside/file", expectedKind: .escapesRoot),
    // An absolute target means root + target, as on the host, so the real outside
    // directory is never reached. Below the root that directory does not exist.
    EscapeCase(
        label: "absolute link to the outside path", links: [("/etc/abs", "OUTSIDE")],
        writePath: "/etc/abs/file", expectedKind: .parentMissing),
    EscapeCase(
        label: "final component is a symbolic link", links: [("/etc/file", "OUTSIDE/file")],
        writePath: "/etc/file", expectedKind: .symlinkAtTarget),
    EscapeCase(
        label: "final component links to a file inside", links: [("/etc/file", "/etc/real")],
        writePath: "/etc/file", expectedKind: .symlinkAtTarget),
]

@Suite("Symbolic links and the host root")
struct SymlinkTests {
    @Test("write through an escaping path is rejected", arguments: escapeCases)
    func escapeRejected(_ escape: EscapeCase) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/etc")
        try sandbox.makeFile("/etc/real", "inside")
        for (path, target) in escape.links {
            try sandbox.makeLink(path, to: target.replacingOccurrences(of: "OUTSIDE", with: sandbox.outside))
        }

        let failure = hostFileError { () throws(HostFileError) in
            try root.write(escape.writePath, contents: bytes("x"), mode: 0o644, backups: nil)
        }

        #expect(failure?.kind == escape.expectedKind)
        #expect(sandbox.names(in: sandbox.outside) == [])
        #expect(sandbox.contents(sandbox.root + "/etc/real") == "inside")
    }

    @Test("escape error names the link and the fix")
    func escapeMessage() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeLink("/etc/up", to: "../../outside")

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/etc/up/file", contents: bytes("x"), mode: 0o644, backups: nil)
        }
        let text = failure?.description ?? ""

        #expect(text.contains("/etc/up -> ../../outside"))
        #expect(text.contains("EXDEV"))
        #expect(text.contains("Fix: replace the symbolic link"))
    }

    @Test("read and remove through an escaping link are rejected")
    func readRemoveRejected() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeLink("/etc", to: "../outside")
        #expect(FileManager.default.createFile(atPath: sandbox.outside + "/secret", contents: Data("s".utf8)))

        let readFailure = hostFileError { () throws(HostFileError) in try root.read("/etc/secret") }
        let removeFailure = hostFileError { () throws(HostFileError) in try root.remove("/etc/secret", backups: nil) }
        let listFailure = hostFileError { () throws(HostFileError) in try root.list("/etc") }

        #expect(readFailure?.kind == .escapesRoot)
        #expect(removeFailure?.kind == .escapesRoot)
        #expect(listFailure?.kind == .escapesRoot)
        #expect(sandbox.contents(sandbox.outside + "/secret") == "s")
        #expect(!root.isExecutableFile("/etc/secret"))
    }

    @Test("final symbolic link is not removed")
    func finalLinkNotRemoved() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/real", "inside")
        try sandbox.makeLink("/etc/link", to: "real")

        let failure = hostFileError { () throws(HostFileError) in try root.remove("/etc/link", backups: nil) }

        #expect(failure?.kind == .symlinkAtTarget)
        #expect(sandbox.lstat(sandbox.root + "/etc/link").map { $0.st_mode & S_IFMT } == S_IFLNK)
    }

    @Test("inside links followed like the host", arguments: ["/data/rancher", "../data/rancher"])
    func insideLinkFollowed(target: String) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/data/rancher")
        try sandbox.makeLink("/var/rancher", to: target)

        let outcome = try root.write("/var/rancher/config.yaml", contents: bytes("k: v\n"), mode: 0o600, backups: nil)
        let readBack = try root.read("/var/rancher/config.yaml")
        let listed = try root.list("/var/rancher")

        #expect(outcome == .created)
        #expect(sandbox.contents(sandbox.root + "/data/rancher/config.yaml") == "k: v\n")
        #expect(readBack == bytes("k: v\n"))
        #expect(listed == ["config.yaml"])
    }

    @Test("read follows a final link inside the root; info does not")
    func finalLinkRead() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/real", "inside")
        try sandbox.makeLink("/etc/link", to: "/etc/real")

        #expect(try root.read("/etc/link") == bytes("inside"))
        #expect(try root.info("/etc/link")?.kind == .symlink)
        #expect(try root.symlinkTarget("/etc/link") == "/etc/real")
    }

    @Test("links through /proc are rejected")
    func procMagicLink() throws {
        // Read-only use of the real root: /proc/self/root is a magic link to this process's root.
        let root = try HostRoot("/")

        let failure = hostFileError { () throws(HostFileError) in try root.read("/proc/self/root/etc/hostname") }

        #expect(failure?.kind == .magicLink)
        #expect(failure?.description.contains("/proc/self") == true)
    }

    @Test("link loop ends with ELOOP")
    func linkLoop() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeLink("/a", to: "/b")
        try sandbox.makeLink("/b", to: "/a")

        let failure = hostFileError { () throws(HostFileError) in try root.read("/a/file") }

        #expect(failure?.errno == ELOOP)
    }
}
