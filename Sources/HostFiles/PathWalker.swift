internal import CShims
import Glibc

/// The kind of entry the last component of a walked path must be.
enum WalkTarget {
    /// A file or other entry, returned as its parent directory and name. With
    /// `followSymlink`, a final symbolic link is resolved (inside the root) first.
    case entry(followSymlink: Bool)
    /// A directory; with `create`, missing directories are made with that mode.
    case directory(create: UInt32?)
}

enum WalkResult {
    case entry(parent: FileDescriptor, name: String)
    case directory(FileDescriptor)
    /// A directory on the way does not exist; the value is its host path, as resolved.
    case missing(String)
}

/// Linux follows at most 40 symbolic links in one lookup (MAXSYMLINKS in fs/namei.c).
private let maxSymlinks = 40

extension HostRoot {
    /// Resolves `path` one component at a time under the root descriptor. Every component is
    /// opened with O_NOFOLLOW. A symbolic link is read and spliced into the remaining path
    /// the way the host would resolve it, so an absolute target starts again at the root.
    /// `..` pops the descriptor stack and is rejected at the root, so no path climbs above it.
    func walk(_ path: String, operation: String, target: WalkTarget) throws(HostFileError) -> WalkResult {
        guard path.hasPrefix("/") else {
            throw error(
                .invalidPath, operation, path,
                detail: "the path is relative", hint: "give the absolute path on the host, starting with /"
            )
        }
        guard !path.utf8.contains(0) else {
            throw error(.invalidPath, operation, path, detail: "the path contains a NUL byte")
        }

        let rootCopy = fcntl(handle.fd, F_DUPFD_CLOEXEC, 0)
        guard rootCopy >= 0 else {
            throw error(.system, operation, path, errno: errno)
        }
        var stack = [FileDescriptor(rootCopy)]
        var names: [String] = []
        var pending = Array(components(path).reversed())
        var symlinkCount = 0
        var lastLink: String?

        // Splices the symbolic link `name` in `directory` into `pending`.
        func expandLink(_ name: String, in directory: FileDescriptor) throws(HostFileError) -> Bool {
            guard let target = readLink(directory.raw, name) else {
                return false
            }
            let linkPath = "/" + (names + [name]).joined(separator: "/")
            if directory.fileSystemType() == Int64(HK_PROC_SUPER_MAGIC) {
                throw error(
                    .magicLink, operation, path, errno: ELOOP,
                    detail: "\(linkPath) is a /proc symbolic link, which the kernel resolves by process, not by name",
                    hint: "give the path without going through /proc"
                )
            }
            symlinkCount += 1
            guard symlinkCount <= maxSymlinks else {
                throw error(.system, operation, path, errno: ELOOP, detail: "more than \(maxSymlinks) symbolic links")
            }
            guard !target.isEmpty else {
                throw error(.system, operation, path, errno: ENOENT, detail: "\(linkPath) is an empty symbolic link")
            }

            lastLink = "\(linkPath) -> \(target)"
            if target.hasPrefix("/") {
                stack.removeSubrange(1...)
                names.removeAll()
            }
            pending.append(contentsOf: components(target).reversed())
            return true
        }

        while let name = pending.popLast() {
            if name == "." {
                continue
            }
            if name == ".." {
                guard stack.count > 1 else {
                    if let lastLink {
                        throw error(
                            .escapesRoot, operation, path, errno: EXDEV,
                            detail: "the symbolic link \(lastLink) leads out of the host root \(self.path)"
                        )
                    }
                    throw error(
                        .escapesRoot, operation, path, errno: EXDEV,
                        detail: "the path climbs above the host root with ..",
                        hint: "give the path without .. components"
                    )
                }
                stack.removeLast()
                names.removeLast()
                continue
            }

            let top = stack[stack.count - 1]

            // The final component of an entry walk is returned rather than opened.
            if pending.isEmpty, case .entry(let follow) = target {
                if follow, try expandLink(name, in: top) {
                    continue
                }
                return .entry(parent: top, name: name)
            }

            let fd = retryingEINTR { openat(top.raw, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0) }
            if fd >= 0 {
                stack.append(FileDescriptor(fd))
                names.append(name)
                continue
            }

            let code = errno
            let componentPath = "/" + (names + [name]).joined(separator: "/")
            switch code {
            case ENOENT:
                guard case .directory(create: let mode?) = target else {
                    return .missing(componentPath)
                }
                stack.append(try makeDirectory(name, in: top, mode: mode, operation: operation, path: path))
                names.append(name)

            case ELOOP, ENOTDIR:
                if try expandLink(name, in: top) {
                    continue
                }
                throw error(.system, operation, path, errno: ENOTDIR, detail: "\(componentPath) is not a directory")

            default:
                throw error(.system, operation, path, errno: code, detail: "cannot open \(componentPath)")
            }
        }
        return .directory(stack[stack.count - 1])
    }

    /// Creates directory `name` in `parent` with exactly `mode` (the umask does not apply),
    /// makes the entry durable, and returns the new directory open.
    private func makeDirectory(
        _ name: String, in parent: FileDescriptor, mode: UInt32, operation: String, path: String
    ) throws(HostFileError) -> FileDescriptor {
        if mkdirat(parent.raw, name, mode_t(mode)) != 0 && errno != EEXIST {
            throw error(.system, operation, path, errno: errno, detail: "cannot create directory \(name)")
        }
        // EEXIST means another process made it; opening with O_NOFOLLOW still rejects a link.
        let fd = retryingEINTR { openat(parent.raw, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0) }
        guard fd >= 0 else {
            throw error(.system, operation, path, errno: errno, detail: "cannot open new directory \(name)")
        }
        let directory = FileDescriptor(fd)
        if fchmod(fd, mode_t(mode)) != 0 {
            throw error(.system, operation, path, errno: errno, detail: "cannot set the mode of directory \(name)")
        }
        let syncError = parent.sync()
        if syncError != 0 {
            throw error(.system, operation, path, errno: syncError, detail: "cannot sync the parent of \(name)")
        }
        return directory
    }
}

/// Splits a path into its non-empty components.
func components(_ path: String) -> [String] {
    path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
}

/// Returns the target of the symbolic link `name` in `directory`, or nil when it is not a link.
func readLink(_ directory: Int32, _ name: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlinkat(directory, name, &buffer, buffer.count - 1)
    guard count >= 0 else {
        return nil
    }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
