internal import CShims
import Glibc

/// An open file descriptor, closed by `deinit` unless `close()` ran first.
final class FileDescriptor {
    private(set) var raw: Int32

    init(_ raw: Int32) {
        self.raw = raw
    }

    deinit {
        if raw >= 0 {
            Glibc.close(raw)
        }
    }

    func close() {
        if raw >= 0 {
            Glibc.close(raw)
            raw = -1
        }
    }

    func duplicate() -> Int32 {
        fcntl(raw, F_DUPFD_CLOEXEC, 0)
    }

    func stat() -> (Glibc.stat, Int32) {
        var info = Glibc.stat()
        let result = fstat(raw, &info)
        return (info, result == 0 ? 0 : errno)
    }

    /// Returns the f_type of the file system holding this descriptor, or nil when fstatfs fails.
    func fileSystemType() -> Int64? {
        var type: Int64 = 0
        return hk_fs_type(raw, &type) == 0 ? type : nil
    }

    /// Writes every byte, retrying short writes and EINTR. Returns 0 or the errno.
    func writeAll(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(raw, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return 0
    }

    /// Reads up to `count` bytes into `buffer`, retrying EINTR. Returns the count or -errno.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = Glibc.read(raw, buffer.baseAddress!, buffer.count)
            if count < 0 && errno == EINTR { continue }
            return count < 0 ? -Int(errno) : count
        }
    }

    /// Reads until end of file or until more than `limit` bytes arrived. Returns the bytes
    /// (at most limit + 1 of them, so callers can tell an over-long file) or the errno.
    func readAll(limit: Int) -> Result<[UInt8], Errno> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { read(into: $0) }
            if count < 0 { return .failure(Errno(Int32(-count))) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return .success(bytes)
    }

    func sync() -> Int32 {
        while fsync(raw) != 0 {
            if errno != EINTR { return errno }
        }
        return 0
    }
}

/// An errno value as an Error, for Result.
struct Errno: Error {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}

/// Runs a system call until it stops failing with EINTR. Returns its result; errno is
/// left as the call set it.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result < 0 && errno == EINTR { continue }
        return result
    }
}
