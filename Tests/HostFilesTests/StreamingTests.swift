import Foundation
import Glibc
import Testing

@testable import HostFiles

/// Bytes over several 64 KiB chunks plus a partial one, so chunk edges are crossed.
private let largeSize = 3 * chunkSize + 4_321

/// Deterministic bytes that differ from chunk to chunk, so a misplaced chunk shows.
private func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 16 &+ Int(seed)) }
}

private func writeFile(_ fullPath: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
    try FileManager.default.createDirectory(
        atPath: (fullPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: fullPath))
    chmod(fullPath, mode)
}

private func fileBytes(_ fullPath: String) -> [UInt8]? {
    FileManager.default.contents(atPath: fullPath).map { Array($0) }
}

/// One case of the streamed comparison: the installed bytes derived from the source's.
struct CompareCase: Sendable, CustomStringConvertible {
    var description: String
    var sourceSize: Int
    var installed: @Sendable ([UInt8]) -> [UInt8]
    var equal: Bool
}

private func flipping(_ index: @escaping @Sendable (Int) -> Int) -> @Sendable ([UInt8]) -> [UInt8] {
    { bytes in
        var copy = bytes
        copy[index(bytes.count)] ^= 0x01
        return copy
    }
}

private let compareCases: [CompareCase] = [
    CompareCase(description: "equal", sourceSize: largeSize, installed: { $0 }, equal: true),
    CompareCase(description: "first byte differs", sourceSize: largeSize, installed: flipping { _ in 0 }, equal: false),
    CompareCase(description: "middle byte differs", sourceSize: largeSize, installed: flipping { $0 / 2 }, equal: false),
    CompareCase(description: "last byte differs", sourceSize: largeSize, installed: flipping { $0 - 1 }, equal: false),
    CompareCase(description: "installed is one byte longer", sourceSize: largeSize, installed: { $0 + [0] }, equal: false),
    CompareCase(description: "installed is one byte shorter", sourceSize: largeSize, installed: { Array($0.dropLast()) }, equal: false),
    CompareCase(description: "both empty", sourceSize: 0, installed: { $0 }, equal: true),
    CompareCase(description: "installed empty", sourceSize: largeSize, installed: { _ in [] }, equal: false),
    CompareCase(description: "source empty", sourceSize: 0, installed: { _ in [1] }, equal: false),
]

@Suite("Streamed compare, copy, backup and restore")
struct StreamingTests {
    @Test("compare finds equal and differing files", arguments: compareCases)
    func compare(_ testCase: CompareCase) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let sourceBytes = pattern(testCase.sourceSize)
        try writeFile(sandbox.outside + "/source", sourceBytes)
        try writeFile(sandbox.root + "/bin/tool", testCase.installed(sourceBytes))
        let source = try SourceFile.open(sandbox.outside + "/source")

        let withFile = try root.compare("/bin/tool", with: source)
        let withBytes = try root.compare("/bin/tool", with: sourceBytes)

        #expect(withFile == testCase.equal)
        #expect(withBytes == testCase.equal)
    }

    @Test("compare of a missing file returns nil")
    func compareMissing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try writeFile(sandbox.outside + "/source", pattern(10))
        let source = try SourceFile.open(sandbox.outside + "/source")

        #expect(try root.compare("/bin/tool", with: source) == nil)
        #expect(try root.compare("/missing/tool", with: source) == nil)
    }

    @Test("source open rejects a directory and a missing path")
    func sourceOpenErrors() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }

        let directory = hostFileError { () throws(HostFileError) in try SourceFile.open(sandbox.outside) }
        let missing = hostFileError { () throws(HostFileError) in try SourceFile.open(sandbox.outside + "/none") }

        #expect(directory?.kind == .notRegularFile)
        #expect(missing?.errno == ENOENT)
    }

    @Test("write from a file larger than a chunk copies every byte")
    func writeLarge() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let first = pattern(largeSize)
        let second = pattern(largeSize * 2 + 1, seed: 7)
        try writeFile(sandbox.outside + "/first", first)
        try writeFile(sandbox.outside + "/second", second)
        try sandbox.makeDirectory("/bin")

        let created = try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/first"), mode: 0o755, backups: nil)
        let createdBytes = fileBytes(sandbox.root + "/bin/tool")
        let unchanged = try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/first"), mode: 0o755, backups: nil)
        let updated = try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/second"), mode: 0o755, backups: nil)

        #expect(created == .created)
        #expect(createdBytes == first)
        #expect(unchanged == .unchanged)
        #expect(updated == .updated)
        #expect(fileBytes(sandbox.root + "/bin/tool") == second)
        #expect(sandbox.lstat(sandbox.root + "/bin/tool").map { $0.st_mode & 0o7777 } == 0o755)
        #expect(sandbox.names(in: sandbox.root + "/bin") == ["tool"])
    }

    @Test("one source file is copied to several paths")
    func sourceReused() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let bytes = pattern(largeSize)
        try writeFile(sandbox.outside + "/source", bytes)
        try sandbox.makeDirectory("/bin")
        let source = try SourceFile.open(sandbox.outside + "/source")

        _ = try root.write("/bin/a", from: source, mode: 0o755, backups: nil)
        _ = try root.write("/bin/b", from: source, mode: 0o755, backups: nil)

        #expect(fileBytes(sandbox.root + "/bin/a") == bytes)
        #expect(fileBytes(sandbox.root + "/bin/b") == bytes)
    }

    @Test("large file is backed up and restored byte for byte")
    func backupRestoreLarge() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root, directory: "/var/lib/harbor-keyless/backups")
        let old = pattern(largeSize * 3, seed: 1)
        let new = pattern(largeSize * 3, seed: 2)
        try writeFile(sandbox.root + "/bin/tool", old, mode: 0o750)
        try writeFile(sandbox.outside + "/new", new)

        let outcome = try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/new"), mode: 0o755, backups: store)
        let stored = sandbox.names(in: sandbox.root + store.folder(for: "/bin/tool"))
        let storedBytes = stored.first.flatMap { fileBytes(sandbox.root + store.folder(for: "/bin/tool") + "/" + $0) }
        let restored = try store.restore("/bin/tool")

        #expect(outcome == .updated)
        #expect(stored == ["00000001-0750.bak"])
        #expect(storedBytes == old)
        #expect(restored == .rewritten(.updated))
        #expect(fileBytes(sandbox.root + "/bin/tool") == old)
        #expect(sandbox.lstat(sandbox.root + "/bin/tool").map { $0.st_mode & 0o7777 } == 0o750)
        #expect(try store.history(for: "/bin/tool").isEmpty)
    }

    @Test("removing a large file backs it up and restore brings it back")
    func removeRestoreLarge() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        let store = try BackupStore(root: root, directory: "/var/lib/harbor-keyless/backups")
        let old = pattern(largeSize * 2, seed: 3)
        try writeFile(sandbox.root + "/bin/tool", old, mode: 0o755)

        let removed = try root.remove("/bin/tool", backups: store)
        let restored = try store.restore("/bin/tool")

        #expect(removed)
        #expect(restored == .rewritten(.created))
        #expect(fileBytes(sandbox.root + "/bin/tool") == old)
    }

    @Test("mid-copy failure keeps the old file")
    func failureMidCopy() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        let old = pattern(largeSize, seed: 4)
        try writeFile(sandbox.root + "/bin/tool", old, mode: 0o755)
        try writeFile(sandbox.outside + "/new", pattern(largeSize * 4, seed: 5))
        root.faultInjection = { stage in stage == .partiallyWritten ? .fail(ENOSPC) : .proceed }

        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/new"), mode: 0o755, backups: nil)
        }

        #expect(failure?.errno == ENOSPC)
        #expect(fileBytes(sandbox.root + "/bin/tool") == old)
        #expect(sandbox.names(in: sandbox.root + "/bin") == ["tool"])
    }

    @Test("abandoned copy keeps the old file")
    func abandonedMidCopy() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        let old = pattern(largeSize, seed: 4)
        let new = pattern(largeSize * 4, seed: 5)
        try writeFile(sandbox.root + "/bin/tool", old, mode: 0o755)
        try writeFile(sandbox.outside + "/new", new)

        // `.abandon` returns without cleanup, which leaves the disk as SIGKILL would.
        root.faultInjection = { stage in stage == .partiallyWritten ? .abandon : .proceed }
        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/new"), mode: 0o755, backups: nil)
        }
        let leftovers = sandbox.names(in: sandbox.root + "/bin").filter { $0 != "tool" }

        #expect(failure?.kind == .injectedFault)
        #expect(fileBytes(sandbox.root + "/bin/tool") == old)
        #expect(leftovers.count == 1)
        #expect(leftovers.first.flatMap { sandbox.lstat(sandbox.root + "/bin/" + $0)?.st_size } == new.count / 2)

        root.faultInjection = nil
        let outcome = try root.write("/bin/tool", from: SourceFile.open(sandbox.outside + "/new"), mode: 0o755, backups: nil)

        #expect(outcome == .updated)
        #expect(fileBytes(sandbox.root + "/bin/tool") == new)
        #expect(sandbox.names(in: sandbox.root + "/bin") == ["tool"])
    }

    @Test("source changed during the copy fails and keeps the old file")
    func sourceChangedMidCopy() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        let old = pattern(largeSize, seed: 4)
        let sourcePath = sandbox.outside + "/new"
        try writeFile(sandbox.root + "/bin/tool", old, mode: 0o755)
        try writeFile(sourcePath, pattern(largeSize * 2, seed: 5))

        // Another writer truncates the source half-way through the copy.
        root.faultInjection = { stage in
            if stage == .partiallyWritten { truncate(sourcePath, 10) }
            return .proceed
        }
        let failure = hostFileError { () throws(HostFileError) in
            try root.write("/bin/tool", from: SourceFile.open(sourcePath), mode: 0o755, backups: nil)
        }

        #expect(failure?.kind == .sourceChanged)
        #expect(fileBytes(sandbox.root + "/bin/tool") == old)
        #expect(sandbox.names(in: sandbox.root + "/bin") == ["tool"])
    }
}

@Suite("Chunked copy")
struct ChunkedCopyTests {
    @Test("copy appends the range with and without copy_file_range", arguments: [true, false])
    func copyRange(kernelCopy: Bool) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let bytes = pattern(largeSize * 5, seed: 9)
        try writeFile(sandbox.outside + "/source", bytes)
        let source = FileDescriptor(open(sandbox.outside + "/source", O_RDONLY | O_CLOEXEC))
        let destination = FileDescriptor(open(sandbox.outside + "/copy", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600))
        let range = 1_000..<(bytes.count - 1_000)

        let result = copy(source, range: range, to: destination, kernelCopy: kernelCopy)
        destination.close()

        #expect(throws: Never.self) { try result.get() }
        #expect(fileBytes(sandbox.outside + "/copy") == Array(bytes[range]))
    }

    @Test("copy past the end of the source reports that it ended early", arguments: [true, false])
    func copyPastEnd(kernelCopy: Bool) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writeFile(sandbox.outside + "/source", pattern(100))
        let source = FileDescriptor(open(sandbox.outside + "/source", O_RDONLY | O_CLOEXEC))
        let destination = FileDescriptor(open(sandbox.outside + "/copy", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600))

        let result = copy(source, range: 0..<200, to: destination, kernelCopy: kernelCopy)

        guard case .failure(.endedEarly) = result else {
            Issue.record("expected endedEarly, got \(result)")
            return
        }
    }
}
