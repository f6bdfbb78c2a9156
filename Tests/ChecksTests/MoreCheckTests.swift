import Foundation
import APIStandInSupport
import Testing
@testable import Checks

@Suite("Version, gate and layout edge cases")
struct MoreCheckTests {
    /// Replaces the k3s stand-in binary of the node tree with one reporting `version`.
    static func k3sBinary(_ node: NodeFixture, version: String) throws {
        try node.write("/usr/local/bin/k3s", "#!/bin/sh\necho \"k3s version \(version) (00000000)\"\necho \"go version go1.23.0\"\n", mode: 0o755)
    }

    @Test("k3s 1.32 on disk fails version and gate checks")
    func oldBinary() async throws {
        let node = try await nodeFixture()
        try Self.k3sBinary(node, version: "v1.32.5+k3s1")
        let context = try makeContext(node: node)
        let version = await run(.kubeletVersion, context)
        #expect(version.status == .fail)
        #expect(version.message.contains("needs 1.33+"))
        let gate = await run(.kubeletTokenGate, context)
        #expect(gate.status == .fail)
        #expect(gate.message.contains("predates 1.33"))
        let audience = await run(.nodeAudienceGate, context)
        #expect(audience.status == .pass)
        #expect(audience.message.contains("is off"))
    }

    @Test("k3s 1.33 on disk: kubelet gate off by default")
    func alphaGate() async throws {
        let node = try await nodeFixture()
        try Self.k3sBinary(node, version: "v1.33.4+k3s1")
        let gate = await run(.kubeletTokenGate, try makeContext(node: node))
        #expect(gate.status == .fail)
        #expect(gate.message.contains("is off"))
    }

    @Test("API server gate turned off in kube-apiserver-arg")
    func apiserverGateFromConfig() async throws {
        let node = try await nodeFixture()
        try node.write("/etc/rancher/k3s/config.yaml.d/20-gates.yaml", "kube-apiserver-arg+:\n  - feature-gates=ServiceAccountNodeAudienceRestriction=false\n")
        let result = await run(.nodeAudienceGate, try makeContext(node: node))
        #expect(result.status == .pass)
        #expect(result.message.contains("is off"))
        #expect(result.message.contains("20-gates.yaml"))
    }

    @Test("operator's own provider paths pass without our drop-in")
    func operatorPaths() async throws {
        let node = try await nodeFixture()
        try node.remove("/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml")
        try node.write("/etc/rancher/k3s/config.yaml.d/30-providers.yaml", "image-credential-provider-bin-dir: /var/lib/rancher/credentialprovider/bin\nimage-credential-provider-config: /var/lib/rancher/credentialprovider/config.yaml\n")
        let result = await run(.dropIn, try makeContext(node: node))
        #expect(result.status == .pass)
        #expect(result.message.contains("the operator's k3s configuration"))
    }

    @Test("registry answering 200 without credentials warns")
    func registryOpen() async throws {
        // The registry is a stand-in that returns 200 from /v2/ without credentials.
        let registry = try await standIn(["role": "registry", "registry": ["status": 200]])
        let node = try await nodeFixture()
        let setup = harborSetup(registryHosts: ["127.0.0.1:\(registry.port)"])
        let result = await run(.registryReachable, try makeContext(node: node, setup: setup, options: DoctorOptions(registryCAFile: registry.caFile)))
        #expect(result.status == .warn)
    }

    @Test("pod token without kid warns")
    func podTokenWithoutKid() async throws {
        // The API server is a stand-in; the admin may read the issuer and JWKS.
        let api = try await standIn(["jwks": ["keys": [["kid": "key-1"]]]])
        let node = try await nodeFixture()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try unsignedJWT(claims: ["aud": ["k3s"]], kid: nil).write(toFile: directory + "/token", atomically: false, encoding: .utf8)
        let context = try makeContext(node: node, api: api.asAdmin, environment: ["KUBERNETES_SERVICE_HOST": "10.43.0.1"], podTokenPath: directory + "/token")
        let result = await run(.issuerKeys, context)
        #expect(result.status == .warn)
        #expect(result.message.contains("no kid header"))
    }

    static let syntheticSymptoms: [(String, String)] = [
        (#"Failed to pull image: fork/exec /var/lib/rancher/credentialprovider/bin/credential-provider-harbor: exec format error"#, "exec format error"),
        (#"level=fatal msg="unrecognized feature gate: KubeletCredentialProviders""#, "unrecognized feature gate"),
        (#"E1204 10:00:00.000000 2226 plugin.go:400] "Error getting service account token" pod="default/app""#, "Error getting service account token"),
    ]

    @Test("journal symptoms without field samples", arguments: syntheticSymptoms)
    func syntheticJournal(line: String, signature: String) async throws {
        let node = try await nodeFixture()
        let result = await run(.journalSymptoms, try makeContext(node: node, journal: RecordedJournal(entries: journal(lines: [line]))))
        #expect(result.status != .pass)
        #expect(result.message.contains(signature))
    }
}
