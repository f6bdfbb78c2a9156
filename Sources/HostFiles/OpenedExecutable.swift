import Glibc

/// An executable opened by walking its path inside the host root. Running it through
/// `execPath` starts exactly this file, even when a directory or link on the way would resolve
/// elsewhere on the real host (an absolute symbolic link at `/host/usr/local/bin/k3s`
/// resolves against the pod's own root, not the node's).
public final class OpenedExecutable: @unchecked Sendable {
    private let file: FileDescriptor

    init(_ file: FileDescriptor) {
        self.file = file
    }

    /// The descriptor; a child process must inherit it for `execPath` to work.
    public var descriptor: Int32 { file.raw }

    /// A path that names the open file in this process and, once inherited, in a child.
    public var execPath: String { "/proc/self/fd/\(file.raw)" }
}

extension HostRoot {
    /// Opens `path`, following symbolic links inside the root, when it is a regular file with
    /// an execute bit. Returns nil when it is missing or not executable.
    public func openExecutable(_ path: String) throws(HostFileError) -> OpenedExecutable? {
        guard let file = try openEntry(path, operation: "open executable") else { return nil }
        let (info, statError) = file.stat()
        guard statError == 0 else { throw error(.system, "open executable", path, errno: statError) }
        guard FileInfo(info).isExecutableFile else { return nil }
        return OpenedExecutable(file)
    }
}
