internal import CShims
import Glibc

/// Bytes compared or copied per step, so memory use does not grow with the file's size.
let chunkSize = 64 * 1024

/// The contents a write puts in place: bytes in memory, or an open file copied in chunks.
enum WriteSource {
    case bytes([UInt8])
    case file(SourceFile)

    var count: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .file(let source): source.size
        }
    }
}

/// The reason a chunked copy stopped.
enum CopyFailure: Error {
    /// A system call failed with this errno.
    case system(Int32)
    /// The source ended before the requested range did.
    case endedEarly
}

extension FileDescriptor {
    /// Reads at `offset` until `buffer` is full or the file ends, retrying short reads and
    /// EINTR. Returns the count, or -errno.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = pread(raw, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset + filled))
            if count < 0 {
                if errno == EINTR { continue }
                return -Int(errno)
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }
}

/// Returns whether `file` contains exactly the bytes of `source`, read in chunks at explicit
/// offsets (the descriptors' positions are left alone). The caller compares the sizes first,
/// so a difference in size costs no read.
func contentsEqual(_ file: FileDescriptor, _ source: WriteSource) -> Result<Bool, Errno> {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    var other: UnsafeMutableRawBufferPointer? = nil
    if case .file = source {
        other = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
    }
    defer { other?.deallocate() }

    let total = source.count
    var offset = 0
    while offset < total {
        let length = min(chunkSize, total - offset)
        let count = file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]), at: offset)
        if count < 0 { return .failure(Errno(Int32(-count))) }
        if count < length { return .success(false) }

        let equal: Bool
        switch source {
        case .bytes(let bytes):
            equal = bytes.withUnsafeBytes { memcmp(buffer.baseAddress!, $0.baseAddress! + offset, length) == 0 }
        case .file(let sourceFile):
            let expected = sourceFile.file.read(into: UnsafeMutableRawBufferPointer(rebasing: other![0..<length]), at: offset)
            if expected < 0 { return .failure(Errno(Int32(-expected))) }
            equal = expected == length && memcmp(buffer.baseAddress!, other!.baseAddress!, length) == 0
        }
        if !equal { return .success(false) }
        offset += length
    }

    // A file that grew since its size was taken differs too.
    var extra: UInt8 = 0
    let beyond = withUnsafeMutableBytes(of: &extra) { file.read(into: $0, at: total) }
    if beyond < 0 { return .failure(Errno(Int32(-beyond))) }
    return .success(beyond == 0)
}

/// Appends bytes `range` of `source` to `destination` at its file position: through
/// copy_file_range, which copies inside the kernel, or through pread and write in chunks
/// where the file systems do not support it. `kernelCopy` false starts with pread and write.
func copy(
    _ source: FileDescriptor, range: Range<Int>, to destination: FileDescriptor, kernelCopy: Bool = true
) -> Result<Void, CopyFailure> {
    var offset = range.lowerBound
    var useKernelCopy = kernelCopy
    var buffer: UnsafeMutableRawBufferPointer? = nil
    defer { buffer?.deallocate() }

    while offset < range.upperBound {
        let length = min(chunkSize * 16, range.upperBound - offset)
        if useKernelCopy {
            var position = Int64(offset)
            let copied = hk_copy_file_range(source.raw, &position, destination.raw, length)
            if copied > 0 {
                offset += copied
                continue
            }
            let code = errno
            if copied < 0 && code == EINTR { continue }
            // Unsupported between these file systems (EXDEV, EINVAL, EOPNOTSUPP, ENOSYS), or 0
            // from a file system that reports no data: the read and write path decides.
            if copied < 0 && ![EXDEV, EINVAL, EOPNOTSUPP, ENOSYS, EBADF].contains(code) {
                return .failure(.system(code))
            }
            useKernelCopy = false
        }

        if buffer == nil {
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        }
        let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer![0..<min(chunkSize, range.upperBound - offset)])
        let count = source.read(into: chunk, at: offset)
        if count < 0 { return .failure(.system(Int32(-count))) }
        if count == 0 { return .failure(.endedEarly) }
        let writeError = destination.writeAll(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        if writeError != 0 { return .failure(.system(writeError)) }
        offset += count
    }
    return .success(())
}
