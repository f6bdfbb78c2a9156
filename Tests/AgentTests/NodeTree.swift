import Foundation
import Synchronization
import Testing

/// A temporary copy of the k3s server node tree under Tests/Fixtures/k3s-node, removed by
/// `remove()`.
struct NodeTree {
    let root: String

    static let fixture: String = {
        let testsDirectory = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return testsDirectory.appending(path: "Fixtures/k3s-node").path
    }()

    /// The build directory that contains the test bundle and the executables.
    static let buildDirectory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var url = URL(filePath: executable).deletingLastPathComponent()
        // The test runner is inside `<build>/<name>.xctest` on Linux.
        if url.path.hasSuffix(".xctest") { url.deleteLastPathComponent() }
        return url.path
    }()

    static var pluginPath: String { buildDirectory + "/credential-provider-harbor" }
    static var agentPath: String { buildDirectory + "/harbor-keyless" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appending(path: "hk-node-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let copy = Process()
        copy.executableURL = URL(filePath: "/bin/cp")
        copy.arguments = ["-a", Self.fixture + "/.", root + "/"]
        try copy.run()
        copy.waitUntilExit()
        try #require(copy.terminationStatus == 0)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ hostPath: String) -> String { root + hostPath }

    func text(_ hostPath: String) -> String? {
        FileManager.default.contents(atPath: path(hostPath)).flatMap { String(data: $0, encoding: .utf8) }
    }

    func exists(_ hostPath: String) -> Bool {
        FileManager.default.fileExists(atPath: path(hostPath))
    }

    func write(_ hostPath: String, _ text: String, mode: Int = 0o644) throws {
        let url = URL(filePath: path(hostPath))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    func modificationDate(_ hostPath: String) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: path(hostPath))[.modificationDate] as! Date
    }

    func permissions(_ hostPath: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path(hostPath))[.posixPermissions] as! Int
    }

    /// Makes `usr/local/bin/k3s` report another version.
    func setK3sVersion(_ version: String) throws {
        try write("/usr/local/bin/k3s", "#!/bin/sh\necho \"k3s version \(version) (standin)\"\n", mode: 0o755)
    }
}

/// One run of the built `harbor-keyless` executable: exit status and both output streams.
struct AgentRun {
    var status: Int32
    var output: String
    var error: String

    /// Runs the agent with a clean environment (PATH plus `environment`), so variables of
    /// the developer's shell cannot change the result.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(filePath: NodeTree.agentPath)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read standard error on another thread, so a full pipe cannot block the child.
        let errorData = Mutex(Data())
        let reader = Thread { errorData.withLock { $0 = error.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while reader.isExecuting || !reader.isFinished { usleep(1000) }
        status = process.terminationStatus
        self.output = String(decoding: outputData, as: UTF8.self)
        self.error = String(decoding: errorData.withLock { $0 }, as: UTF8.self)
    }
}
