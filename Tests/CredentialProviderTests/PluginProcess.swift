// Runs the built plugin binary the way the kubelet does: arguments, request on standard
// input, response read from standard output, exit status checked.
import Foundation
import Testing

struct PluginRun {
    var status: Int32
    var standardOutput: Data
    var standardError: String
}

enum PluginProcess {
    /// Returns the plugin binary's path: `HARBOR_KEYLESS_PLUGIN_BINARY`, else next to the
    /// test bundle, else `.build/debug` of this package. Build it first with
    /// `swift build --product credential-provider-harbor`.
    static func binaryPath() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["HARBOR_KEYLESS_PLUGIN_BINARY"] { return path }

        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("credential-provider-harbor").path,
            packageRoot.appendingPathComponent(".build/debug/credential-provider-harbor").path,
        ]
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "plugin binary not found in \(candidates); run swift build --product credential-provider-harbor first")
    }

    static func run(_ executable: String, _ arguments: [String], input: Data) throws -> PluginRun {
        // A child that stops reading early must not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()

        // Feed the request on another thread so large inputs cannot deadlock with the reads.
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()

        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errorOutput = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return PluginRun(status: process.terminationStatus, standardOutput: output, standardError: String(decoding: errorOutput, as: UTF8.self))
    }
}
