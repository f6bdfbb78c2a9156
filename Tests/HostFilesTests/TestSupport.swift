import Foundation
import Glibc
import Testing

@testable import HostFiles

/// A temporary directory laid out as `<base>/root` (the host root) and `<base>/outside`
/// (a directory next to it that no operation may touch).
struct Sandbox {
    let base: String
    var root: String { base + "/root" }
    var outside: String { base + "/outside" }

    init() throws {
        var directory = NSTemporaryDirectory()
        while directory.count > 1 && directory.hasSuffix("/") {
            directory.removeLast()
        }
        var template = Array((directory + "/hostfiles-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        base = String(cString: made)
        try FileManager.default.createDirectory(atPath: base + "/root", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: false)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: base)
    }

    func hostRoot() throws -> HostRoot {
        var root = try HostRoot(root)
        root.labelsExecutablesForSELinux = false
        return root
    }

    /// Creates a file at the host path `hostPath` under the root, with `text` and `mode`.
    func makeFile(_ hostPath: String, _ text: String, mode: mode_t = 0o644) throws {
        let full = root + hostPath
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        chmod(full, mode)
    }

    func makeDirectory(_ hostPath: String) throws {
        try FileManager.default.createDirectory(atPath: root + hostPath, withIntermediateDirectories: true)
    }

    /// Creates a symbolic link at `hostPath` (under the root) whose target text is `target`.
    func makeLink(_ hostPath: String, to target: String) throws {
        let full = root + hostPath
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard symlink(target, full) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
    }

    func contents(_ fullPath: String) -> String? {
        FileManager.default.contents(atPath: fullPath).map { String(decoding: $0, as: UTF8.self) }
    }

    func lstat(_ fullPath: String) -> stat? {
        var info = stat()
        return Glibc.lstat(fullPath, &info) == 0 ? info : nil
    }

    func names(in fullPath: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fullPath)) ?? []).sorted()
    }
}

/// Sets a file's modification time to 2001-09-09T01:46:40Z, so any rewrite shows.
func ageFile(_ fullPath: String) {
    var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
    utimensat(AT_FDCWD, fullPath, &times, AT_SYMLINK_NOFOLLOW)
}

func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// Runs `body` and returns the HostFileError it throws, or nil when it throws none.
func hostFileError<T>(_ body: () throws(HostFileError) -> T) -> HostFileError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
