import CShims
import Foundation
import Glibc
import Synchronization
import Testing

@testable import HostFiles

private let labelAttribute = "security.selinux"
private let binLabel = "system_u:object_r:bin_t:s0"

/// Returns the security.selinux value of `path`, or nil when it has none.
private func label(of path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = hk_fgetxattr(fd, labelAttribute, &buffer, buffer.count)
    return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
}

private func setLabel(_ path: String, _ value: String) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    return hk_fsetxattr(fd, labelAttribute, bytes, bytes.count, 0) == 0
}

/// Whether this process can set security.* attributes here: root on a file system that
/// stores them without an SELinux policy in the kernel (ext4 and tmpfs do).
private let canSetLabels: Bool = {
    guard let sandbox = try? Sandbox() else { return false }
    defer { sandbox.remove() }
    return setLabel(sandbox.root, binLabel)
}()

/// Whether a fresh directory carries no label, as on a kernel without SELinux.
private let newDirectoriesUnlabelled: Bool = {
    guard let sandbox = try? Sandbox() else { return false }
    defer { sandbox.remove() }
    return label(of: sandbox.root) == nil
}()

@Suite("SELinux labels")
struct SELinuxTests {
    @Test(
        "executable gets its directory's label",
        .enabled(if: canSetLabels, "needs root and a file system that stores security.* attributes")
    )
    func executableLabelled() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        root.labelsExecutablesForSELinux = true
        try sandbox.makeDirectory("/bin")
        #expect(setLabel(sandbox.root + "/bin", binLabel))

        var warnings: [HostFileWarning] = []
        let outcome = try root.write("/bin/tool", contents: bytes("x"), mode: 0o755, backups: nil, warnings: &warnings)

        #expect(outcome == .created)
        #expect(label(of: sandbox.root + "/bin/tool") == binLabel)
        #expect(warnings.isEmpty)
    }

    @Test(
        "non-executable file is not labelled",
        .enabled(if: canSetLabels && newDirectoriesUnlabelled, "needs root, security.* attributes and no SELinux policy")
    )
    func dataNotLabelled() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        root.labelsExecutablesForSELinux = true
        try sandbox.makeDirectory("/etc")
        #expect(setLabel(sandbox.root + "/etc", binLabel))

        _ = try root.write("/etc/data", contents: bytes("x"), mode: 0o644, backups: nil)

        #expect(label(of: sandbox.root + "/etc/data") == nil)
    }

    @Test(
        "unlabelled directory gives a warning, not a failure",
        .enabled(if: newDirectoriesUnlabelled, "needs a kernel without an SELinux policy")
    )
    func warningWhenUnlabelled() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var root = try sandbox.hostRoot()
        root.labelsExecutablesForSELinux = true
        let received = Mutex<[String]>([])
        root.warningHandler = { warning in received.withLock { $0.append(warning.message) } }
        try sandbox.makeDirectory("/bin")

        let outcome = try root.write("/bin/tool", contents: bytes("x"), mode: 0o755, backups: nil)
        let messages = received.withLock { $0 }

        #expect(outcome == .created)
        #expect(sandbox.contents(sandbox.root + "/bin/tool") == "x")
        #expect(messages.count == 1)
        #expect(messages.first?.hasPrefix("could not label \(sandbox.root)/bin/tool") == true)
        #expect(messages.first?.contains("restorecon -v /bin/tool") == true)
    }

    @Test("labelling off writes no label and no warning")
    func labellingOff() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let root = try sandbox.hostRoot()
        try sandbox.makeDirectory("/bin")

        var warnings: [HostFileWarning] = []
        _ = try root.write("/bin/tool", contents: bytes("x"), mode: 0o755, backups: nil, warnings: &warnings)

        #expect(warnings.isEmpty)
        #expect(label(of: sandbox.root + "/bin/tool") == nil)
    }
}
