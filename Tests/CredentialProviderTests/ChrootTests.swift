// Runs the plugin in an empty root holding only the binary and /proc, which proves it
// needs no loader and no shared library from the host.
import Foundation
import Testing

@testable import CredentialProvider

@Suite("Plugin in an empty root")
struct ChrootTests {
    static let enabled = ProcessInfo.processInfo.environment["HARBOR_KEYLESS_NODE_TESTS"] == "1" && getuid() == 0

    @Test("plugin answers in a root with only /proc", .enabled(if: enabled, "needs HARBOR_KEYLESS_NODE_TESTS=1 and root (mount, chroot)"))
    func answersInEmptyRoot() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let proc = root + "/proc"
        try FileManager.default.createDirectory(atPath: proc, withIntermediateDirectories: false)
        guard mount("proc", proc, "proc", 0, nil) == 0 else {
            let code = errno
            Issue.record("mount proc on \(proc): \(String(cString: strerror(code)))")
            return
        }
        defer { umount2(proc, Int32(MNT_DETACH)) }

        // Control: a dynamically linked program cannot start in this root.
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: root + "/true")
        let control = try PluginProcess.run("/usr/sbin/chroot", [root, "/true"], input: Data())
        #expect(control.status != 0, "a dynamic binary ran without its loader, so this root proves nothing")

        try FileManager.default.copyItem(atPath: PluginProcess.binaryPath(), toPath: root + "/credential-provider-harbor")
        let token = TestTokens.serviceAccountToken(exp: Int(Date().timeIntervalSince1970) + 7200)
        let request = try JSONEncoder().encode(CredentialProviderRequest(image: "harbor.example.com/library/app", serviceAccountToken: token))
        // A child that another test thread forks while the copy's write descriptor is open
        // inherits it, and exec then fails with ETXTBSY until that child execs or exits.
        var run = try PluginProcess.run("/usr/sbin/chroot", [root, "/credential-provider-harbor", "--username=jwt"], input: request)
        for _ in 0..<20 where run.status == 126 && run.standardError.contains("Text file busy") {
            Thread.sleep(forTimeInterval: 0.1)
            run = try PluginProcess.run("/usr/sbin/chroot", [root, "/credential-provider-harbor", "--username=jwt"], input: request)
        }

        #expect(run.status == 0)
        #expect(run.standardError.isEmpty)
        let response = try JSONDecoder().decode(CredentialProviderResponse.self, from: run.standardOutput)
        #expect(response.auth["harbor.example.com"]?.password == token)
        #expect(response.cacheDuration == "1h0m0s")
    }

    private func makeRoot() throws -> String {
        var template = Array("/tmp/harbor-keyless-chroot.XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return String(cString: path)
    }
}
