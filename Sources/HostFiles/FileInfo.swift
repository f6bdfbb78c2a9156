import Glibc

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Metadata of one host file, as lstat(2) reports it (a symbolic link is described itself).
public struct FileInfo: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, other
    }

    public var kind: Kind
    /// Permission bits, including set-user-ID, set-group-ID and sticky (mode & 0o7777).
    public var mode: UInt32
    /// Size in bytes.
    public var size: Int64
    public var modificationTime: Date
    public var uid: UInt32
    public var gid: UInt32

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        mode = UInt32(info.st_mode & 0o7777)
        size = Int64(info.st_size)
        let seconds = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1_000_000_000
        modificationTime = Date(timeIntervalSince1970: seconds)
        uid = info.st_uid
        gid = info.st_gid
    }

    /// The same value as `kind`.
    public var type: Kind { kind }

    /// The same value as `modificationTime`.
    public var mtime: Date { modificationTime }

    /// Whether anyone may execute this file: a regular file with an execute bit set.
    public var isExecutableFile: Bool {
        kind == .regular && mode & 0o111 != 0
    }
}
