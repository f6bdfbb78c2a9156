import Glibc
import Synchronization

/// An exclusive flock(2) on a lock file under the host root, released by `unlock()` or
/// when the lock is deallocated. The kernel releases it too when the process dies.
public final class HostLock: Sendable {
    /// The lock file, as an absolute path on the host.
    public let path: String
    private let descriptor: Mutex<Int32>

    init(path: String, fd: Int32) {
        self.path = path
        self.descriptor = Mutex(fd)
    }

    deinit {
        unlock()
    }

    /// Clears the holder's pid from the file and releases the lock. Calling it again does nothing.
    public func unlock() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = ftruncate(fd, 0)
            close(fd)
            fd = -1
        }
    }
}

extension HostRoot {
    /// Takes an exclusive lock on the file `path` (for example `/var/lib/harbor-keyless/lock`),
    /// creating it (0600) and its missing directories (0700). Waits up to `timeout` for
    /// another holder, then throws an error naming that holder's pid, which each holder
    /// writes into the file.
    public func lock(_ path: String, timeout: Duration = .seconds(30)) throws(HostFileError) -> HostLock {
        let operation = "lock"
        var resolved = try walk(path, operation: operation, target: .entry(followSymlink: false))
        if case .missing = resolved {
            let parentPath = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            try createDirectories(parentPath.isEmpty ? "/" : parentPath, mode: 0o700)
            resolved = try walk(path, operation: operation, target: .entry(followSymlink: false))
        }
        guard case .entry(let parent, let name) = resolved else {
            throw error(.invalidPath, operation, path, errno: EISDIR, detail: "the lock path names a directory")
        }

        let fd = retryingEINTR { openat(parent.raw, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        guard fd >= 0 else {
            throw error(.system, operation, path, errno: errno, detail: errno == ELOOP ? "the lock file is a symbolic link" : nil)
        }
        let file = FileDescriptor(fd)

        // Poll with LOCK_NB, because a blocking flock cannot time out.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                throw error(.system, operation, path, errno: code)
            }
            guard clock.now < deadline else {
                let holder = holderPID(file).map { "pid \($0)" } ?? "pid unknown"
                throw error(
                    .lockTimeout, operation, path,
                    detail: "another harbor-keyless holds the lock (\(holder)); waited \(timeout)",
                    hint: "wait for that run to finish, or stop it if it hangs"
                )
            }
            usleep(20_000)
        }

        // Record this process as the holder for anyone who times out waiting.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }

        let lockFD = file.duplicate()
        guard lockFD >= 0 else {
            throw error(.system, operation, path, errno: errno)
        }
        return HostLock(path: path, fd: lockFD)
    }

    private func holderPID(_ file: FileDescriptor) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(file.raw, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return Int32(text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first ?? "")
    }
}
