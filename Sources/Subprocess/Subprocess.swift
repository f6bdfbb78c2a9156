#if canImport(Glibc)
import Glibc
#endif

/// Output of a finished child process.
public struct SubprocessResult: Sendable {
    public var status: Int32
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]
    public var timedOut: Bool
}

public enum SubprocessError: Error, CustomStringConvertible {
    case spawnFailed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .spawnFailed(let path, let code):
            "cannot run \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// Runs `path` with `arguments`, feeding `input` on standard input and collecting both output
/// streams up to `outputLimit` bytes each. The child is killed with SIGKILL when `timeout`
/// passes. FoundationEssentials has no `Process`, so this uses posix_spawn directly.
///
/// The child leads its own process group, so a timeout kills what it started too.
/// `inherit` lists descriptors the child keeps, such as an executable opened inside the host
/// root and run through `/proc/self/fd/N`.
public func runSubprocess(
    _ path: String,
    arguments: [String],
    argumentZero: String? = nil,
    inherit: [Int32] = [],
    input: [UInt8] = [],
    environment: [String] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"],
    timeout: Duration = .seconds(10),
    outputLimit: Int = 1 << 20
) throws(SubprocessError) -> SubprocessResult {
    var stdinPipe: [Int32] = [-1, -1]
    var stdoutPipe: [Int32] = [-1, -1]
    var stderrPipe: [Int32] = [-1, -1]
    // Close-on-exec keeps these pipes out of children spawned by other threads. posix_spawn's
    // dup2 clears the flag on the copies the child gets as 0, 1 and 2.
    for index in 0..<3 {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw .spawnFailed(path: path, errno: errno) }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        switch index {
        case 0: stdinPipe = ends
        case 1: stdoutPipe = ends
        default: stderrPipe = ends
        }
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
    // dup2 onto itself clears FD_CLOEXEC in the child only (POSIX.1-2024, glibc 2.29+).
    for descriptor in inherit {
        posix_spawn_file_actions_adddup2(&actions, descriptor, descriptor)
    }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))

    let argv = ([argumentZero ?? path] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup($0) } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }

    var pid: pid_t = 0
    let spawnResult = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    close(stdinPipe[0])
    close(stdoutPipe[1])
    close(stderrPipe[1])
    guard spawnResult == 0 else {
        close(stdinPipe[1])
        close(stdoutPipe[0])
        close(stderrPipe[0])
        throw .spawnFailed(path: path, errno: spawnResult)
    }

    // Feed standard input before reading. The callers pass small inputs (a JSON request of a
    // few KB), far below the 64 KiB pipe buffer, so this cannot deadlock.
    // NOTE: an input larger than the pipe buffer to a child that writes before it reads would
    // block here; no caller sends one.
    var written = 0
    input.withUnsafeBytes { buffer in
        while written < buffer.count {
            let count = write(stdinPipe[1], buffer.baseAddress! + written, buffer.count - written)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            written += count
        }
    }
    close(stdinPipe[1])

    var output: [UInt8] = []
    var errors: [UInt8] = []
    var open = [stdoutPipe[0], stderrPipe[0]]
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var timedOut = false

    while !open.isEmpty {
        let remaining = clock.now.duration(to: deadline)
        if remaining <= .zero {
            timedOut = true
            kill(-pid, SIGKILL)
            break
        }
        var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let milliseconds = Int32(min(remaining.components.seconds * 1000 + 1, 1000))
        let ready = poll(&fds, nfds_t(fds.count), milliseconds)
        if ready < 0 && errno == EINTR { continue }
        for descriptor in fds where descriptor.revents != 0 {
            var chunk = [UInt8](repeating: 0, count: 16384)
            let count = read(descriptor.fd, &chunk, chunk.count)
            if count > 0 {
                if descriptor.fd == stdoutPipe[0] {
                    if output.count < outputLimit { output += chunk[0..<min(count, outputLimit - output.count)] }
                } else if errors.count < outputLimit {
                    errors += chunk[0..<min(count, outputLimit - errors.count)]
                }
            } else if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) {
                open.removeAll { $0 == descriptor.fd }
            }
        }
    }
    close(stdoutPipe[0])
    close(stderrPipe[0])

    // The child may close its output and keep running: wait for it under the same deadline.
    var status: Int32 = 0
    while true {
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid || (reaped < 0 && errno != EINTR) { break }
        if clock.now >= deadline {
            timedOut = true
            kill(-pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            break
        }
        usleep(10_000)
    }
    // Decode the wait status the way the WIFEXITED/WEXITSTATUS macros do.
    let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return SubprocessResult(status: exitCode, standardOutput: output, standardError: errors, timedOut: timedOut)
}
