import Glibc

/// A regular file opened once for reading, so that what is checked, compared and copied is
/// this one file even when its path is replaced meanwhile. Writes copy it in chunks
/// (`HostRoot.write(_:from:mode:backups:)`), so its size never has to fit in memory.
public final class SourceFile: @unchecked Sendable {
    let file: FileDescriptor
    /// The path it was opened by, for messages.
    public let path: String
    /// The size in bytes when it was opened.
    public let size: Int
    private let identity: Identity

    init(_ file: FileDescriptor, info: stat, path: String) {
        self.file = file
        self.path = path
        self.size = Int(info.st_size)
        self.identity = Identity(info)
    }

    /// Opens the regular file at `path` in this process's file system (not under a host
    /// root), following symbolic links. Throws when it is missing, unreadable or not a
    /// regular file.
    public static func open(_ path: String) throws(HostFileError) -> SourceFile {
        // O_NONBLOCK keeps a FIFO at the path from blocking the open.
        let fd = retryingEINTR { Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else {
            throw HostFileError(.system, operation: "open", path: path, errno: errno)
        }
        let file = FileDescriptor(fd)
        let (info, statError) = file.stat()
        guard statError == 0 else {
            throw HostFileError(.system, operation: "open", path: path, errno: statError)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw HostFileError(.notRegularFile, operation: "open", path: path, detail: "not a regular file")
        }
        return SourceFile(file, info: info, path: path)
    }

    /// The descriptor; a child process must inherit it for `execPath` to work.
    public var descriptor: Int32 { file.raw }

    /// A path that names the open file in this process and, once inherited, in a child, so
    /// running it runs exactly the file that is copied.
    public var execPath: String { "/proc/self/fd/\(file.raw)" }

    /// Returns whether the file still has the device, inode, size and modification time it
    /// had when it was opened. False also when fstat fails.
    public func isUnchanged() -> Bool {
        let (info, statError) = file.stat()
        return statError == 0 && Identity(info) == identity
    }

    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modifiedSeconds = info.st_mtim.tv_sec
            modifiedNanoseconds = info.st_mtim.tv_nsec
        }
    }
}
