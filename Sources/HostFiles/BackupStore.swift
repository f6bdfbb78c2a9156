import Glibc

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Previous versions of the files harbor-keyless replaced or removed, kept under the host
/// root so a failed change can be rolled back, even by a later run.
///
/// Layout: one directory per host path (the path percent-encoded into one name), holding
/// `<sequence>-<mode in octal>.bak` files with the old bytes, or `<sequence>-absent` when
/// the file did not exist before harbor-keyless created it. Directories are 0700 and backup
/// files 0600, whatever the original mode was. Only the newest `keep` entries per path stay.
public struct BackupStore: Sendable {
    public static let defaultDirectory = "/var/lib/harbor-keyless/backups"

    public let root: HostRoot
    /// The store's directory, as an absolute path on the host.
    public let directory: String
    /// Entries kept per path.
    public let keep: Int

    public init(root: HostRoot, directory: String = BackupStore.defaultDirectory, keep: Int = 5) throws(HostFileError) {
        guard directory.hasPrefix("/") else {
            throw HostFileError(
                .invalidPath, operation: "open backup store", path: directory,
                detail: "the backup directory is relative", hint: "give the absolute path on the host, starting with /"
            )
        }
        guard keep >= 1 else {
            throw HostFileError(
                .invalidPath, operation: "open backup store", path: directory,
                detail: "keep is \(keep)", hint: "keep at least 1 backup per file"
            )
        }
        self.root = root
        self.directory = directory
        self.keep = keep
    }

    /// Saves the bytes of `old` (copied in chunks) and `mode` as the newest previous
    /// version of `path`.
    func record(_ path: String, from old: SourceFile, mode: UInt32) throws(HostFileError) {
        try add(path, suffix: String(format4Octal(mode)) + ".bak", source: .file(old))
    }

    /// Records that `path` did not exist, so restoring removes it. Skipped when that is
    /// already the newest entry.
    func recordAbsence(of path: String) throws(HostFileError) {
        if let newest = try history(for: path).last, newest.mode == nil {
            return
        }
        try add(path, suffix: "absent", source: .bytes([]))
    }

    /// Returns the entries for `path`, oldest first, without their contents.
    public func history(for path: String) throws(HostFileError) -> [BackupEntry] {
        let folder = folder(for: path)
        guard let names = try root.list(folder) else {
            return []
        }
        var entries: [BackupEntry] = []
        for name in names {
            guard let entry = BackupEntry(path: path, fileName: name) else { continue }
            let info = try root.info(folder + "/" + name)
            entries.append(entry.with(createdAt: info?.modificationTime))
        }
        return entries.sorted { $0.sequence < $1.sequence }
    }

    /// Returns, for each of `paths` that has entries, the sequence number of its newest one.
    public func newestSequences(_ paths: [String]) -> [String: Int] {
        var sequences: [String: Int] = [:]
        for path in paths {
            if let newest = try? history(for: path).last {
                sequences[path] = newest.sequence
            }
        }
        return sequences
    }

    /// Returns the newest previous version of `path` with its bytes in memory, or nil when
    /// none is stored. `restore` does not use it: it copies the stored file in chunks.
    public func latest(for path: String) throws(HostFileError) -> Backup? {
        guard let entry = try history(for: path).last else {
            return nil
        }
        var contents: [UInt8]? = nil
        if entry.mode != nil {
            contents = try root.read(folder(for: path) + "/" + entry.fileName, limit: Int.max - 1)
        }
        return Backup(entry: entry, contents: contents)
    }

    /// Puts the newest previous version of `path` back (removing the file if it did not
    /// exist before), then drops that entry, so calling it again goes one version further
    /// back. Returns nil when no version is stored.
    public func restore(_ path: String) throws(HostFileError) -> RestoreOutcome? {
        guard let entry = try history(for: path).last else {
            return nil
        }
        let stored = folder(for: path) + "/" + entry.fileName

        let outcome: RestoreOutcome
        if let mode = entry.mode {
            guard let backup = try root.openSourceFile(stored, operation: "restore") else {
                throw root.error(.system, "restore", stored, errno: ENOENT, detail: "the backup of \(path) disappeared")
            }
            outcome = .rewritten(try root.write(path, from: backup, mode: mode, backups: nil))
        } else {
            outcome = .removed(try root.remove(path, backups: nil))
        }

        _ = try root.remove(stored, backups: nil)
        return outcome
    }

    private func add(_ path: String, suffix: String, source: WriteSource) throws(HostFileError) {
        let folder = folder(for: path)
        try root.createDirectories(folder, mode: 0o700)

        let existing = try history(for: path)
        let sequence = (existing.last?.sequence ?? 0) + 1
        let name = String(sequence).leftPadded(to: 8) + "-" + suffix
        var warnings: [HostFileWarning] = []
        _ = try root.write(folder + "/" + name, source: source, mode: 0o600, backups: nil, warnings: &warnings)
        for warning in warnings {
            root.warningHandler(warning)
        }

        // Drop the oldest beyond `keep`.
        for old in existing.dropLast(max(0, keep - 1)) {
            _ = try root.remove(folder + "/" + old.fileName, backups: nil)
        }
    }

    func folder(for path: String) -> String {
        directory + "/" + encodePathAsName(path)
    }
}

/// One stored previous version of a file, without its contents.
public struct BackupEntry: Sendable, Equatable {
    /// The host path the entry belongs to.
    public var path: String
    /// Increases by one per entry for the same path.
    public var sequence: Int
    /// The file's mode, or nil when the file did not exist.
    public var mode: UInt32?
    /// When the entry was stored.
    public var createdAt: Date?
    var fileName: String

    init?(path: String, fileName: String) {
        let parts = fileName.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let sequence = Int(parts[0]) else {
            return nil
        }
        if parts[1] == "absent" {
            mode = nil
        } else if parts[1].hasSuffix(".bak"), let mode = UInt32(parts[1].dropLast(4), radix: 8) {
            self.mode = mode
        } else {
            return nil
        }
        self.path = path
        self.sequence = sequence
        self.fileName = fileName
    }

    func with(createdAt: Date?) -> BackupEntry {
        var copy = self
        copy.createdAt = createdAt
        return copy
    }
}

/// A stored previous version with its contents.
public struct Backup: Sendable, Equatable {
    public var entry: BackupEntry
    /// The previous bytes, or nil when the file did not exist.
    public var contents: [UInt8]?
}

/// The result of `BackupStore.restore`.
public enum RestoreOutcome: Sendable, Equatable {
    /// The previous contents and mode were written back.
    case rewritten(WriteOutcome)
    /// The file did not exist before; true when it was removed, false when already absent.
    case removed(Bool)
}

private func format4Octal(_ mode: UInt32) -> String {
    String(mode, radix: 8).leftPadded(to: 4)
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Percent-encodes every byte outside [A-Za-z0-9._-] so a host path becomes one file name.
/// Names over 200 bytes are cut and end in an FNV-1a hash of the whole path, so they stay
/// under NAME_MAX and distinct.
func encodePathAsName(_ path: String) -> String {
    var name = ""
    for byte in path.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            name.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            name += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }
    guard name.utf8.count > 200 else {
        return name
    }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in path.utf8 {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }
    return String(name.prefix(183)) + "~" + String(hash, radix: 16).leftPadded(to: 16)
}
