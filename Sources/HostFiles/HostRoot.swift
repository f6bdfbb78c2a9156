import Glibc

/// The host's file system as this process reaches it: `/` on a bare node, `/host` in a pod
/// that mounts the node's root. Every operation takes an absolute path on the host and
/// resolves it under a directory descriptor of the root, so nothing outside the root is
/// read or written, whatever symbolic links the host contains.
public struct HostRoot: Sendable {
    /// The root directory, absolute, without a trailing slash (except `/` itself).
    public let path: String

    let handle: RootHandle

    /// Whether written executables get the SELinux label of their directory. Set from the
    /// running kernel when the root is opened.
    public var labelsExecutablesForSELinux: Bool

    /// Receives the warnings of `write` calls that do not collect them (for example "could
    /// not label ..."). The default writes one key=value line to stderr.
    public var warningHandler: @Sendable (HostFileWarning) -> Void

    /// Test hook called at the stages of an atomic write.
    var faultInjection: (@Sendable (WriteStage) -> FaultAction)?

    /// Opens the host root at `path`, an absolute path to an existing directory.
    public init(_ path: String) throws(HostFileError) {
        guard path.hasPrefix("/") else {
            throw HostFileError(
                .invalidRoot, operation: "open host root", path: path,
                detail: "the host root \"\(path)\" is a relative path",
                hint: "give an absolute path: / on a node, or the mount point of the node's root in a pod (for example /host)"
            )
        }
        var normalized = path
        while normalized.count > 1 && normalized.hasSuffix("/") {
            normalized.removeLast()
        }

        let fd = retryingEINTR { open(normalized, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else {
            let code = errno
            let hint: String? =
                switch code {
                case ENOENT: "create the directory, or in a pod mount the node's / there with a hostPath volume"
                case ENOTDIR: "point the host root at a directory"
                default: nil
                }
            throw HostFileError(.invalidRoot, operation: "open host root", path: normalized, errno: code, hint: hint)
        }

        self.path = normalized
        self.handle = RootHandle(fd)
        self.labelsExecutablesForSELinux = SELinux.isEnabled(hostRoot: normalized)
        self.warningHandler = { warning in
            let line = Array("level=warning msg=\"\(warning.message)\" path=\(warning.path)\n".utf8)
            _ = line.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
    }

    /// Returns the path of the host path `path` from this process: root + path. For
    /// messages and for executing host programs, never for opening files (use the methods).
    public func resolvedHostPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : "/" + path
        return self.path == "/" ? absolute : self.path + absolute
    }

    func error(
        _ kind: HostFileError.Kind, _ operation: String, _ path: String, errno: Int32? = nil,
        detail: String? = nil, hint: String? = nil
    ) -> HostFileError {
        HostFileError(
            kind, operation: operation, path: path, resolvedPath: resolvedHostPath(path), errno: errno,
            detail: detail, hint: hint
        )
    }
}

/// The root directory descriptor, shared by copies of a HostRoot and closed with the last.
final class RootHandle: Sendable {
    let fd: Int32

    init(_ fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }
}

/// A problem that did not stop an operation but that the operator should hear about.
public struct HostFileWarning: Sendable, CustomStringConvertible {
    /// The host path concerned.
    public var path: String
    public var message: String

    public var description: String { message }
}
