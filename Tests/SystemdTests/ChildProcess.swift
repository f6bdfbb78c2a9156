import Foundation

/// A child process started with posix_spawn, with an empty signal mask and default signal
/// dispositions. Foundation's Process passes on the spawning thread's mask, and Dispatch
/// worker threads block every signal, so its children ignore SIGTERM.
final class ChildProcess {
    let pid: pid_t
    private var exited = false

    init(_ executable: String, _ arguments: [String]) throws {
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

        // Stdout goes nowhere; stderr stays the test's, so a crashing stand-in shows its trace.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }

        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw FixtureError(message: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Sends SIGTERM, then SIGKILL after `grace`, and reaps the child.
    func stop(grace: Duration = .seconds(5)) {
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
