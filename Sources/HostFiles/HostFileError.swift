import Glibc

/// A failed host file operation: what was attempted, on which host path, the errno when a
/// system call failed, and the fix where one is known.
public struct HostFileError: Error, CustomStringConvertible, Sendable {
    /// The class of failure, for callers that react differently to each.
    public enum Kind: Sendable, Equatable {
        /// A system call failed; `errno` is set.
        case system
        /// The host root given to `HostRoot.init` is unusable.
        case invalidRoot
        /// The host path is not absolute, or names the root itself where a file is expected.
        case invalidPath
        /// A `..` component or a symbolic link leads out of the host root.
        case escapesRoot
        /// A symbolic link on procfs (a "magic link" such as `/proc/self/root`) is on the path.
        case magicLink
        /// The final component of a write or remove is a symbolic link.
        case symlinkAtTarget
        /// The path names something other than a regular file where one is expected.
        case notRegularFile
        /// The directory that would contain the file does not exist.
        case parentMissing
        /// The file is larger than the read limit.
        case tooLarge
        /// Another process holds the lock and the timeout passed.
        case lockTimeout
        /// A test fault injected into an atomic write.
        case injectedFault
        /// The file a write copies from changed while it was copied.
        case sourceChanged
    }

    public var kind: Kind
    /// The operation, such as `write` or `lock`.
    public var operation: String
    /// The absolute path on the host.
    public var path: String
    /// The same path seen from this process (host root + path), when it differs.
    public var resolvedPath: String?
    /// The errno of the failing call, when there is one.
    public var errno: Int32?
    /// The explanation of the failure, where errno's text alone is not enough.
    public var detail: String?
    /// The next step for the operator.
    public var hint: String?

    public init(
        _ kind: Kind, operation: String, path: String, resolvedPath: String? = nil,
        errno: Int32? = nil, detail: String? = nil, hint: String? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.path = path
        self.resolvedPath = resolvedPath
        self.errno = errno
        self.detail = detail
        self.hint = hint ?? errno.flatMap { HostFileError.hint(for: $0) }
    }

    /// The symbolic errno name (`ENOSPC`), or nil for codes outside the table.
    public var errnoName: String? {
        errno.flatMap { errnoNames[$0] }
    }

    public var description: String {
        var text = "\(operation) \(path)"
        if let resolvedPath, resolvedPath != path {
            text += " (\(resolvedPath))"
        }
        text += ": "

        var reasons: [String] = []
        if let detail {
            reasons.append(detail)
        }
        // Where `detail` already explains the failure, strerror's generic text (such as
        // "Invalid cross-device link" for an escape) would mislead, so only the name follows.
        if let errno, detail == nil || kind == .system {
            let message = String(cString: strerror(errno))
            reasons.append(errnoName.map { "\(message) (\($0))" } ?? "\(message) (errno \(errno))")
        }
        text += reasons.isEmpty ? "failed" : reasons.joined(separator: ": ")
        if let errno, detail != nil, kind != .system {
            text += " (\(errnoName ?? "errno \(errno)"))"
        }

        if let hint {
            text += ". Fix: \(hint)"
        }
        return text
    }

    /// Returns the usual fix for an errno, or nil when there is no general one.
    static func hint(for code: Int32) -> String? {
        switch code {
        case ENOSPC:
            return "free space on the host file system that holds this path (`df -h` on the directory), then retry; the previous file was left intact"
        case EDQUOT:
            return "raise the disk quota or free space for this user on the host file system, then retry; the previous file was left intact"
        case EROFS:
            return "the host file system is mounted read-only: remount it read-write, or in a pod mount the hostPath volume without readOnly, then retry"
        case EACCES, EPERM:
            return "run harbor-keyless as root (in a pod: privileged, or UID 0 with the hostPath mounted read-write), and check that the file is not immutable (`lsattr`)"
        case ELOOP, EXDEV:
            return "replace the symbolic link with a real file or directory, or point the setting at a path inside the host root"
        default:
            return nil
        }
    }
}

/// Symbolic names for the errno values file operations produce, from Linux's errno-base.h and errno.h.
private let errnoNames: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
    EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST",
    EXDEV: "EXDEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE",
    EMFILE: "EMFILE", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG", ENOSPC: "ENOSPC", EROFS: "EROFS",
    EMLINK: "EMLINK", ENAMETOOLONG: "ENAMETOOLONG", ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP",
    EDQUOT: "EDQUOT", EOPNOTSUPP: "EOPNOTSUPP", ENODATA: "ENODATA", ETIMEDOUT: "ETIMEDOUT",
]
