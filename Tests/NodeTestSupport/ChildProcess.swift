import Foundation

/// A child process started with posix_spawn, with an empty signal mask and default signal
/// dispositions. Foundation's Process passes on the spawning thread's mask, and Dispatch
/// worker threads block every signal, so its children ignore SIGTERM.
public final class ChildProcess {
    public let pid: pid_t
    private var exited = false

    public init(_ executable: String, _ arguments: [String], stdin: String = "/dev/null", stdout: String = "/dev/null") throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // Stdout goes to `stdout`; stderr stays the test's, so a crashing stand-in shows its trace.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }

        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw FixtureError(message: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Waits for the child to exit and returns its exit status (128 + signal when killed).
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exited = true
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Sends SIGTERM, then SIGKILL after `grace`, and reaps the child.
    public func stop(grace: Duration = .seconds(5)) {
        guard !exited else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now.advanced(by: grace)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(10_000)
        }
        exited = true
    }

    deinit {
        stop()
    }
}

extension ChildProcess {
    /// Starts `executable` under coreutils `timeout`, so a server outlives a killed test run
    /// by at most 5 minutes; `stop()` still ends it at once because timeout forwards SIGTERM.
    public convenience init(bounded executable: String, _ arguments: [String]) throws {
        try self.init("/usr/bin/timeout", ["--kill-after=5", "300", executable] + arguments)
    }

    /// Runs `executable` to completion and returns its exit status and standard output.
    /// Standard error stays the test's, so failures show the tool's own message.
    public static func run(_ executable: String, _ arguments: [String], stdin: String = "/dev/null") throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("harbor-keyless-output-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: output) }

        let child = try ChildProcess(executable, arguments, stdin: stdin, stdout: output.path)
        let status = child.wait()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return (status, text)
    }
}

/// A test fixture that could not be set up.
public struct FixtureError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}
