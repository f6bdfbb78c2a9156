import Foundation
import Glibc
import Testing

@testable import HostFiles

/// Set in the child process only: the host root the child writes into.
private let childRootVariable = "HARBOR_KEYLESS_TEST_KILLED_WRITER_ROOT"
private let childRoot = ProcessInfo.processInfo.environment[childRootVariable]
private let bigContents = [UInt8](repeating: 0x6e, count: 1 << 20)

@Suite("Writer killed by SIGKILL")
struct KilledWriterTests {
    @Test("SIGKILL mid-write keeps the old file")
    func killedMidWrite() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFile("/etc/file", "old contents")
        let marker = sandbox.base + "/child-is-writing"

        // The child is this test binary running only `childWriter` below.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "KilledWriterTests/childWriter"]
        child.environment = ProcessInfo.processInfo.environment.merging([childRootVariable: sandbox.root]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        let deadline = ContinuousClock.now + .seconds(30)
        while access(marker, F_OK) != 0 && child.isRunning && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        let reachedMidWrite = access(marker, F_OK) == 0
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let leftovers = sandbox.names(in: sandbox.root + "/etc").filter { $0 != "file" }

        #expect(reachedMidWrite, "the child never reached the middle of its write")
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "old contents")
        #expect(leftovers.count == 1)
        #expect(leftovers.first.flatMap { sandbox.lstat(sandbox.root + "/etc/" + $0)?.st_size } == Int(bigContents.count / 2))

        let root = try sandbox.hostRoot()
        let outcome = try root.write("/etc/file", contents: bytes("new contents"), mode: 0o644, backups: nil)

        #expect(outcome == .updated)
        #expect(sandbox.contents(sandbox.root + "/etc/file") == "new contents")
        #expect(sandbox.names(in: sandbox.root + "/etc") == ["file"])
    }

    /// The child side of `killedMidWrite`: writes half of the new contents, signals the
    /// parent through a marker file, and waits to be killed.
    @Test(
        "child writer waits to be killed",
        .enabled(if: childRoot != nil, "runs only as the child process of the SIGKILL test")
    )
    func childWriter() throws {
        let rootPath = try #require(childRoot)
        var root = try HostRoot(rootPath)
        root.labelsExecutablesForSELinux = false
        let marker = (rootPath as NSString).deletingLastPathComponent + "/child-is-writing"
        root.faultInjection = { stage in
            if stage == .partiallyWritten {
                close(open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600))
                while true { sleep(60) }
            }
            return .proceed
        }

        _ = try root.write("/etc/file", contents: bigContents, mode: 0o644, backups: nil)
        Issue.record("the child's write finished; it should have been killed first")
    }
}
