#if canImport(Glibc)
import Glibc
#endif

/// A file outside the host root that could not be read, such as the agent's own
/// configuration file.
public struct FileReadError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32?
    public var reason: String

    public var description: String { "cannot read \(path): \(reason)" }
}

/// Reads a whole file of the agent's own file system (not the node's host root) with plain
/// POSIX calls, so character devices such as /dev/null read as empty, and errors carry
/// strerror text. Returns nil when the file does not exist.
public func readLocalFile(_ path: String, limit: Int = 1 << 20) throws(FileReadError) -> [UInt8]? {
    // O_NONBLOCK keeps a FIFO from blocking the open; only regular files and character
    // devices (/dev/null) are read.
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    if descriptor < 0 {
        let code = errno
        if code == ENOENT { return nil }
        throw FileReadError(path: path, errno: code, reason: String(cString: strerror(code)))
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
        let code = errno
        throw FileReadError(path: path, errno: code, reason: String(cString: strerror(code)))
    }
    let type = info.st_mode & S_IFMT
    guard type == S_IFREG || type == S_IFCHR else {
        throw FileReadError(path: path, errno: nil, reason: type == S_IFDIR ? "is a directory" : "is not a regular file")
    }

    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(descriptor, &buffer, buffer.count)
        if count < 0 {
            let code = errno
            if code == EINTR { continue }
            throw FileReadError(path: path, errno: code, reason: String(cString: strerror(code)))
        }
        if count == 0 { return bytes }
        bytes += buffer[0..<count]
        if bytes.count > limit {
            throw FileReadError(path: path, errno: nil, reason: "larger than \(limit) bytes")
        }
    }
}
