import Foundation
import Glibc
import Testing

/// Peak memory of `harbor-keyless install` with a plugin executable far larger than the
/// real one: comparing, backing up and copying it go in chunks, so the peak stays below
/// what holding the file in memory even once would need.
@Suite("Install memory")
struct InstallMemoryTests {
    static let binDir = "/var/lib/rancher/credentialprovider/bin"
    /// Random bytes appended to the real plugin. An ELF executable ignores bytes after its
    /// segments, so the enlarged copy still runs and prints its own `--version` line.
    static let padding = 48 << 20
    /// The measured install's peak RSS must stay below this: the padding alone is as large,
    /// and the agent's own pages come on top (about 23 MiB in a debug build, measured on
    /// x86_64 with a 52 MB plugin).
    static let peakLimitKiB = 48 << 10

    /// The outcome of one run of the agent, with the peak RSS that wait4 reported for it.
    struct MeasuredRun {
        var status: Int32
        var output: String
        var error: String
        /// ru_maxrss in KiB: the agent's own peak, or a larger one of a child it waited for.
        var peakKiB: Int
    }

    @Test("install with a large plugin stays below the file's size")
    func largePluginPeak() throws {
        let node = try NodeTree()
        defer { node.remove() }
        let plugin = node.root + "/large-credential-provider-harbor"
        try makeLargePlugin(at: plugin)
        let arguments = [
            "install", "--host-root", node.root, "--registry", "harbor.example.com", "--config", "/dev/null",
            "--restart", "never", "--plugin-binary", plugin,
        ]
        let installed = node.path(Self.binDir + "/credential-provider-harbor")

        let first = try measure(arguments, in: node)
        let createdEqual = try filesEqual(installed, plugin)

        // The same size and one differing last byte make the next install read both files
        // to the end, back up the old file and copy the new one.
        try flipLastByte(installed)
        let second = try measure(arguments, in: node)
        let updatedEqual = try filesEqual(installed, plugin)
        let backups = node.path("/var/lib/harbor-keyless/backups")
        let backupNames = (try? FileManager.default.subpathsOfDirectory(atPath: backups)) ?? []

        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("created   \(Self.binDir)/credential-provider-harbor"))
        #expect(createdEqual)
        #expect(first.peakKiB < Self.peakLimitKiB, "peak RSS \(first.peakKiB) KiB")
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("updated   \(Self.binDir)/credential-provider-harbor"))
        #expect(updatedEqual)
        #expect(backupNames.contains { $0.hasSuffix("-0755.bak") })
        #expect(second.peakKiB < Self.peakLimitKiB, "peak RSS \(second.peakKiB) KiB")
    }

    /// Writes the real plugin followed by `padding` random bytes. A shell does the writing,
    /// so no descriptor open for writing is in this process, where another test's spawned
    /// child could inherit it and make executing the file fail with ETXTBSY.
    func makeLargePlugin(at path: String) throws {
        let script = "cat \"$1\" > \"$2\" && head -c \(Self.padding) /dev/urandom >> \"$2\" && chmod 755 \"$2\""
        let process = Process()
        process.executableURL = URL(filePath: "/bin/sh")
        process.arguments = ["-c", script, "sh", NodeTree.pluginPath, path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
    }

    func flipLastByte(_ path: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        try handle.seek(toOffset: end - 1)
        let last = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: end - 1)
        try handle.write(contentsOf: [last ^ 0xFF])
    }

    /// Compares two files in 1 MiB steps.
    func filesEqual(_ first: String, _ second: String) throws -> Bool {
        let a = try #require(FileHandle(forReadingAtPath: first))
        let b = try #require(FileHandle(forReadingAtPath: second))
        defer {
            try? a.close()
            try? b.close()
        }
        while true {
            let left = try a.read(upToCount: 1 << 20) ?? Data()
            let right = try b.read(upToCount: 1 << 20) ?? Data()
            if left != right { return false }
            if left.isEmpty { return true }
        }
    }

    /// Starts the agent from this small Python process and reaps it with wait4, whose
    /// rusage contains that one child's peak RSS. The test process cannot start it itself:
    /// exec records the RSS of the memory the caller had before exec into ru_maxrss
    /// (Linux exec_mmap), and posix_spawn's child shares this large process's memory, so
    /// the test runner's own pages would count. A fork of Python counts its about 10 MB.
    static let measuringParent = """
        import os, sys
        output, error, agent = sys.argv[1], sys.argv[2], sys.argv[3]
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
                os.dup2(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
                os.dup2(os.open(error, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
                os.execve(agent, sys.argv[3:], {"PATH": "/usr/bin:/bin"})
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
        """

    /// Runs the built agent with `arguments` and returns its outcome and peak RSS.
    func measure(_ arguments: [String], in node: NodeTree) throws -> MeasuredRun {
        let outputPath = node.root + "/agent-output-\(UUID().uuidString)"
        let errorPath = outputPath + ".err"
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }

        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.measuringParent, outputPath, errorPath, NodeTree.agentPath] + arguments
        let report = Pipe()
        process.standardOutput = report
        try process.run()
        let reported = String(decoding: report.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the measuring Python process failed")

        let fields = reported.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(fields.count == 2, "unexpected report from the measuring process: \(reported)")
        return MeasuredRun(
            status: Int32(fields[0]),
            output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            error: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "",
            peakKiB: fields[1]
        )
    }
}
