import Foundation
import Testing

@testable import CredentialProvider

@Suite("Plugin executable")
struct ExecutableTests {
    static let token = TestTokens.serviceAccountToken(exp: Int(Date().timeIntervalSince1970) + 3600)

    static func request(image: String = "harbor.example.com:8443/library/app", token: String? = ExecutableTests.token) -> Data {
        let value = CredentialProviderRequest(image: image, serviceAccountToken: token, serviceAccountAnnotations: ["a": "b"])
        return try! JSONEncoder().encode(value)
    }

    @Test("kubelet request gets the token as password", arguments: [
        (["--username=robot"], "robot"), (["--username", "robot"], "robot"), ([], "jwt"),
    ])
    func answersRequest(arguments: [String], username: String) throws {
        let run = try PluginProcess.run(PluginProcess.binaryPath(), arguments, input: Self.request())
        #expect(run.status == 0)
        #expect(run.standardError.isEmpty)

        let response = try JSONDecoder().decode(CredentialProviderResponse.self, from: run.standardOutput)
        #expect(response.auth == ["harbor.example.com:8443": AuthConfig(username: username, password: Self.token)])
        #expect(response.cacheKeyType == .registry)
        // 3600 s of lifetime minus the 300 s margin; a run on loaded cores may lose some
        // seconds between minting the token and the plugin reading the clock.
        let expected = (3240...3300).map { CacheDuration.goDuration(seconds: $0) }
        #expect(expected.contains(response.cacheDuration ?? ""))
    }

    @Test("stdout carries only the response JSON")
    func stdoutIsOnlyJSON() throws {
        let run = try PluginProcess.run(PluginProcess.binaryPath(), [], input: Self.request())
        let text = String(decoding: run.standardOutput, as: UTF8.self)
        #expect(text.hasPrefix(#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","auth":"#))
        #expect(text.hasSuffix(#""kind":"CredentialProviderResponse"}"#))
    }

    @Test("request errors exit 1 with one line on stderr", arguments: [
        ("missing token", request(token: nil), "request has no serviceAccountToken"),
        ("malformed JSON", Data(#"{"apiVersion":"#.utf8), "request is not a valid CredentialProviderRequest"),
        ("empty input", Data(), "request is not a valid CredentialProviderRequest"),
        ("oversized", Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 1), "request is larger than 1048576 bytes"),
        ("invalid image", request(image: "harbor.example.com/"), "request image is invalid"),
    ])
    func requestErrors(name: String, input: Data, expected: String) throws {
        let run = try PluginProcess.run(PluginProcess.binaryPath(), ["--username=jwt"], input: input)
        #expect(run.status == 1)
        #expect(run.standardOutput.isEmpty)
        #expect(run.standardError.hasPrefix("credential-provider-harbor: error: " + expected))
        #expect(run.standardError.filter { $0 == "\n" }.count == 1)
        #expect(!run.standardError.contains(Self.token.suffix(20)), "stderr contains the token")
    }

    @Test("usage errors exit 64", arguments: [["--bogus"], ["--username"], ["--username="], ["--username=a:b"], ["extra"]])
    func usageErrors(arguments: [String]) throws {
        let run = try PluginProcess.run(PluginProcess.binaryPath(), arguments, input: Self.request())
        #expect(run.status == 64)
        #expect(run.standardOutput.isEmpty)
        #expect(run.standardError.hasPrefix("credential-provider-harbor: error: "))
        #expect(run.standardError.contains("Usage: credential-provider-harbor"))
    }

    @Test("--version prints the module's version")
    func version() throws {
        let run = try PluginProcess.run(PluginProcess.binaryPath(), ["--version"], input: Data())
        #expect(run.status == 0)
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "credential-provider-harbor \(CredentialProviderPlugin.version)\n")
    }

    @Test("--help prints usage to stdout")
    func help() throws {
        let run = try PluginProcess.run(PluginProcess.binaryPath(), ["--help"], input: Data())
        #expect(run.status == 0)
        #expect(String(decoding: run.standardOutput, as: UTF8.self).hasPrefix("Usage: credential-provider-harbor"))
        #expect(run.standardError.isEmpty)
    }

    // A dynamically linked ELF names its loader in a PT_INTERP program header.
    @Test("binary has no program interpreter")
    func binaryIsStatic() throws {
        let elf = try Data(contentsOf: URL(fileURLWithPath: PluginProcess.binaryPath()))
        #expect(elf.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]))
        #expect(elf[4] == 2, "not a 64-bit ELF")

        func integer(_ offset: Int, _ size: Int) -> Int {
            (0..<size).reduce(0) { $0 | Int(elf[offset + $1]) << (8 * $1) }
        }
        let programHeaderOffset = integer(0x20, 8)
        let entrySize = integer(0x36, 2)
        let entryCount = integer(0x38, 2)
        let types = (0..<entryCount).map { integer(programHeaderOffset + $0 * entrySize, 4) }
        #expect(!types.isEmpty)
        #expect(!types.contains(3), "PT_INTERP present: the binary needs a dynamic loader")
    }
}
