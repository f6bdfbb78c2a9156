import Foundation
import Glibc
import Testing

@testable import HostFiles

@Suite("Lock")
struct LockTests {
    @Test("second lock times out naming the holder's pid")
    func contention() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()

        let first = try root.lock("/var/lib/harbor-keyless/lock", timeout: .seconds(1))
        let started = ContinuousClock.now
        let failure = hostFileError { () throws(HostFileError) in
            try root.lock("/var/lib/harbor-keyless/lock", timeout: .milliseconds(200))
        }
        let waited = ContinuousClock.now - started

        #expect(failure?.kind == .lockTimeout)
        #expect(failure?.description.contains("another harbor-keyless holds the lock (pid \(getpid()))") == true)
        #expect(waited >= .milliseconds(200))
        #expect(sandbox.contents(sandbox.root + "/var/lib/harbor-keyless/lock") == "\(getpid())\n")

        first.unlock()
        let second = try root.lock("/var/lib/harbor-keyless/lock", timeout: .seconds(5))
        second.unlock()
    }

    @Test("lock is released when the lock object goes away")
    func releasedOnDeinit() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()

        // The timeouts allow for a test elsewhere in this process forking a child, which
        // keeps copies of every descriptor until its exec closes them.
        do {
            let held = try root.lock("/state/lock", timeout: .seconds(5))
            _ = held
        }
        let again = try root.lock("/state/lock", timeout: .seconds(5))

        #expect(again.path == "/state/lock")
        #expect(sandbox.lstat(sandbox.root + "/state").map { $0.st_mode & 0o7777 } == 0o700)
        #expect(sandbox.lstat(sandbox.root + "/state/lock").map { $0.st_mode & 0o7777 } == 0o600)
    }

    @Test("lock file that is a symbolic link is rejected")
    func symlinkLockFile() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeFile("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        try sandbox.makeLink("/state/lock", to: "/etc/passwd")

        let failure = hostFileError { () throws(HostFileError) in try root.lock("/state/lock", timeout: .zero) }

        #expect(failure?.errno == ELOOP)
        #expect(sandbox.contents(sandbox.root + "/etc/passwd") == "root:x:0:0::/root:/bin/sh\n")
    }
}
