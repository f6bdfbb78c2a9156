import Foundation
import KubeAPI
import APIStandInSupport
import Testing
@testable import Checks

// Every API server, kubelet and registry in this file is a stand-in
// (Tests/apistandin/standin.py): no real kube-apiserver, kubelet or Harbor runs here.
@Suite("Checks against the API stand-in")
struct ClusterCheckTests {
    @Test("versions pass for 1.34 as the node identity")
    func versionsPass() async throws {
        // The API server is a stand-in.
        let api = try await standIn()
        let node = try await nodeFixture()
        let context = try makeContext(node: node, api: api.asNode)
        #expect(await run(.apiserverVersion, context).status == .pass)
        let kubelet = await run(.kubeletVersion, context)
        #expect(kubelet.status == .pass)
        #expect(kubelet.message.contains("v1.34.1+k3s1"))
    }

    @Test("API server older than 1.34 fails with the reason")
    func versionTooOld() async throws {
        // The API server is a stand-in that returns 1.33 from /version.
        let api = try await standIn(["version": ["major": "1", "minor": "33", "gitVersion": "v1.33.4+k3s1"]])
        let node = try await nodeFixture()
        let result = await run(.apiserverVersion, try makeContext(node: node, api: api.asNode))
        #expect(result.status == .fail)
        #expect(result.message.contains("rejects cacheType"))
    }

    @Test("running kubelet differing from the binary on disk warns")
    func versionDiffers() async throws {
        // The API server is a stand-in whose Node reports kubelet v1.34.2+k3s1.
        let api = try await standIn(["nodes": ["node-a": ["kubeletVersion": "v1.34.2+k3s1"]]])
        let node = try await nodeFixture()
        let result = await run(.kubeletVersion, try makeContext(node: node, api: api.asNode))
        #expect(result.status == .warn)
        #expect(result.message.contains("next restart"))
    }

    @Test("API errors warn: 500, wrong CA, unreachable")
    func apiErrors() async throws {
        // The API server is a stand-in that fails /version with 500 every time.
        let api = try await standIn(["faults": [["path": "/version", "status": 500]]])
        let node = try await nodeFixture()
        let failing = await run(.apiserverVersion, try makeContext(node: node, api: api.asNode))
        #expect(failing.status == .warn)
        #expect(failing.message.contains("500"))

        var wrongCA = api.credentials(client: "node-a")
        wrongCA.certificateAuthority = .file(api.unrelatedCAFile)
        let untrusted = await run(.apiserverVersion, try makeContext(node: node, api: .client(api.client(wrongCA))))
        #expect(untrusted.status == .warn)
        #expect(untrusted.message.contains("curl error 60"))

        var closed = api.credentials(client: "node-a")
        closed.server = "https://127.0.0.1:1"
        let unreachable = await run(.apiserverVersion, try makeContext(node: node, api: .client(api.client(closed))))
        #expect(unreachable.status == .warn)
    }

    @Test("slow API ends at the timeout")
    func slowAnswer() async throws {
        // The API server is a stand-in that responds to /version after 30 s.
        let api = try await standIn(["faults": [["path": "/version", "delay": 30]]])
        let node = try await nodeFixture()
        let context = try makeContext(node: node, api: api.asNode, timeout: .milliseconds(500))
        let started = Date()
        let outcome = await CheckRunner.runOne(.apiserverVersion, context: context)
        #expect(outcome.result.status == .warn)
        #expect(outcome.result.message.contains("timed out after 0.5 s"))
        // The response comes after 30 s; the check ends near 0.5 s, with seconds of slack
        // for two cores busy with parallel tests.
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("no API access skips API checks and says why")
    func noAPI() async throws {
        let node = try await nodeFixture()
        let context = try makeContext(node: node, api: .unavailable(reason: "no credentials found"))
        for check in [Check.apiserverVersion, .nodeAudienceRBAC, .issuerKeys, .kubeletConfigHash] {
            let result = await run(check, context)
            #expect(result.status == .skip, "\(check.id)")
            #expect(result.message.contains("no credentials found"), "\(check.id)")
        }
    }

    @Test("feature gates from /metrics where permitted")
    func gatesFromMetrics() async throws {
        // The API server and the kubelet are stand-ins; the kubelet signs with the API server's CA.
        let api = try await standIn()
        let kubelet = try await standIn([
            "role": "kubelet", "caDir": api.caDirectory,
            "metrics": "kubernetes_feature_enabled{name=\"KubeletServiceAccountTokenForCredentialProviders\",stage=\"BETA\"} 0\n",
        ])
        let node = try await nodeFixture()
        let agent = try makeContext(node: node, api: api.asAgent, kubelet: kubelet.endpoint)
        let token = await run(.kubeletTokenGate, agent)
        #expect(token.status == .fail)
        #expect(token.message.contains("kubelet /metrics"))
        let audience = await run(.nodeAudienceGate, agent)
        #expect(audience.status == .pass)
        #expect(audience.message.contains("API server /metrics"))

        // The node identity may read neither /metrics: defaults of the version, and why.
        let asNode = try makeContext(node: node, api: api.asNode, kubelet: kubelet.endpoint)
        let fallback = await run(.kubeletTokenGate, asNode)
        #expect(fallback.status == .pass)
        #expect(fallback.message.contains("the default of v1.34.1+k3s1"))
        #expect(fallback.message.contains("not permitted (get /metrics)"))
    }

    @Test("API server gates are read once per version")
    func gateCache() async throws {
        let api = try await standIn()
        let node = try await nodeFixture()
        let cache = APIServerGateCache()
        for _ in 0..<2 {
            let context = try makeContext(node: node, api: api.asAgent, apiserverGates: cache)
            let result = await run(.nodeAudienceGate, context)
            #expect(result.message.contains("is on (from API server /metrics)"))
        }
        #expect(api.requests(path: "/metrics").count == 1)

        // Gates stored for another API server version are read again.
        cache.store(["ServiceAccountNodeAudienceRestriction": false], version: "v1.33.4+k3s1")
        let upgraded = await run(.nodeAudienceGate, try makeContext(node: node, api: api.asAgent, apiserverGates: cache))
        #expect(upgraded.message.contains("is on"))
        #expect(api.requests(path: "/metrics").count == 2)

        // So are gates older than the cache's maximum age.
        let expired = APIServerGateCache(maxAge: .zero)
        for _ in 0..<2 {
            _ = await run(.nodeAudienceGate, try makeContext(node: node, api: api.asAgent, apiserverGates: expired))
        }
        #expect(api.requests(path: "/metrics").count == 4)
    }

    @Test("gate turned off in kubelet-arg fails without API")
    func gateFromConfig() async throws {
        let node = try await nodeFixture()
        try node.write("/etc/rancher/k3s/config.yaml.d/20-gates.yaml", "kubelet-arg+:\n  - feature-gates=KubeletServiceAccountTokenForCredentialProviders=false\n")
        let result = await run(.kubeletTokenGate, try makeContext(node: node))
        #expect(result.status == .fail)
        #expect(result.message.contains("20-gates.yaml"))
    }

    @Test("kubelet config hash matches the file on disk")
    func configHash() async throws {
        let node = try await nodeFixture()
        let bytes = Array(try node.read("/var/lib/rancher/credentialprovider/config.yaml").utf8)
        let hash = SHA256.providerConfigHash([bytes])
        // The API server and the kubelet are stand-ins.
        let api = try await standIn()
        let kubelet = try await standIn(["role": "kubelet", "caDir": api.caDirectory, "metrics": "kubelet_credential_provider_config_info{hash=\"\(hash)\"} 1\n"])
        let matching = await run(.kubeletConfigHash, try makeContext(node: node, api: api.asAgent, kubelet: kubelet.endpoint))
        #expect(matching.status == .pass)

        try node.write("/var/lib/rancher/credentialprovider/config.yaml", String(decoding: bytes, as: UTF8.self) + "# changed\n")
        let stale = await run(.kubeletConfigHash, try makeContext(node: node, api: api.asAgent, kubelet: kubelet.endpoint))
        #expect(stale.status == .fail)

        let forbidden = await run(.kubeletConfigHash, try makeContext(node: node, api: api.asNode, kubelet: kubelet.endpoint))
        #expect(forbidden.status == .skip)
        #expect(forbidden.message.contains("may not get /metrics"))

        let older = try await standIn(["role": "kubelet", "caDir": api.caDirectory, "metrics": "kubelet_running_pods 3\n"])
        #expect(await run(.kubeletConfigHash, try makeContext(node: node, api: api.asAgent, kubelet: older.endpoint)).status == .skip)
    }

    @Test("api-audiences from the kube-apiserver journal line")
    func apiAudiences() async throws {
        let node = try await nodeFixture()
        // Source: k3s-io/docs self-assessment 1.12, the default --api-audiences of k3s.
        let field = RecordedJournal(entries: try journal(fixture: "k3s-v1.32-1.36-cis-1.12-kube-apiserver.log"))
        #expect(await run(.apiAudiences, try makeContext(node: node, journal: field)).status == .pass)

        let added = RecordedJournal(entries: journal(lines: [#"msg="Running kube-apiserver --api-audiences=https://kubernetes.default.svc.cluster.local,k3s,harbor.example.com --service-account-issuer=https://kubernetes.default.svc.cluster.local""#]))
        let warned = await run(.apiAudiences, try makeContext(node: node, journal: added))
        #expect(warned.status == .warn)
        #expect(warned.message.contains("harbor.example.com"))

        let dropped = RecordedJournal(entries: journal(lines: [#"msg="Running kube-apiserver --api-audiences=harbor.example.com --service-account-issuer=https://kubernetes.default.svc.cluster.local""#]))
        #expect(await run(.apiAudiences, try makeContext(node: node, journal: dropped)).status == .fail)

        #expect(await run(.apiAudiences, try makeContext(node: node)).status == .skip)
    }

    @Test("api-audiences from the pod's token")
    func apiAudiencesFromPodToken() async throws {
        let node = try await nodeFixture()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = try unsignedJWT(claims: ["aud": ["https://kubernetes.default.svc.cluster.local", "k3s"], "iss": "https://kubernetes.default.svc.cluster.local"], kid: "key-1")
        try token.write(toFile: directory + "/token", atomically: false, encoding: .utf8)
        let context = try makeContext(node: node, environment: ["KUBERNETES_SERVICE_HOST": "10.43.0.1"], podTokenPath: directory + "/token")
        let result = await run(.apiAudiences, context)
        #expect(result.status == .pass)
        #expect(result.message.contains("aud claim"))
    }

    @Test("node-audience RBAC: granted, restricted, denied, not permitted")
    func nodeAudienceRBAC() async throws {
        // The API server is a stand-in; its RBAC grants system:nodes the audience harbor.example.com.
        let api = try await standIn()
        let node = try await nodeFixture()
        #expect(await run(.nodeAudienceRBAC, try makeContext(node: node, api: api.asNode)).status == .pass)

        let other = harborSetup(audience: "other.example.com")
        let restricted = await run(.nodeAudienceRBAC, try makeContext(node: node, setup: other, api: api.asNode))
        #expect(restricted.status == .warn)
        #expect(restricted.remedy?.contains("doctor --service-account") == true)
        #expect(restricted.remedy?.contains("kind: ClusterRoleBinding") == true)

        let named = DoctorOptions(serviceAccounts: [DoctorOptions.ServiceAccount(namespace: "default", name: "app")])
        let denied = await run(.nodeAudienceRBAC, try makeContext(node: node, setup: other, options: named, api: api.asAdmin))
        #expect(denied.status == .fail)
        #expect(denied.remedy?.contains("resourceNames: [\"app\"]") == true)

        let notPermitted = await run(.nodeAudienceRBAC, try makeContext(node: node, api: api.asOther))
        #expect(notPermitted.status == .skip)
        #expect(notPermitted.message.contains("may not create subjectaccessreviews"))
    }

    @Test("issuer and keys: admin reads them, node may not, unknown kid warns")
    func issuerKeys() async throws {
        // The API server is a stand-in that mints JWT-shaped tokens signed "with" key-2.
        let api = try await standIn(["jwks": ["keys": [["kid": "key-1", "kty": "RSA"]]], "mintJWT": ["kid": "key-2"]])
        let node = try await nodeFixture()
        let admin = await run(.issuerKeys, try makeContext(node: node, api: api.asAdmin))
        #expect(admin.status == .pass)
        #expect(admin.message.contains("key-1"))

        let asNode = await run(.issuerKeys, try makeContext(node: node, api: api.asNode))
        #expect(asNode.status == .skip)

        let login = DoctorOptions(loginTest: DoctorOptions.ServiceAccount(namespace: "default", name: "app"))
        let unknown = await run(.issuerKeys, try makeContext(node: node, options: login, api: api.asAdmin))
        #expect(unknown.status == .warn)
        #expect(unknown.message.contains("key-2"))
    }

    @Test("TokenReview probe finds a registry audience")
    func audiencesByTokenReview() async throws {
        // The API server is a stand-in whose TokenReview checks tokens against its
        // api-audiences, as kube-apiserver does when a review names no audiences.
        let login = DoctorOptions(loginTest: DoctorOptions.ServiceAccount(namespace: "default", name: "app"))
        let node = try await nodeFixture()

        let widened = try await standIn(["apiAudiences": ["https://kubernetes.default.svc.cluster.local", "k3s", "harbor.example.com"]])
        let warned = await run(.apiAudiences, try makeContext(node: node, options: login, api: widened.asAdmin))
        #expect(warned.status == .warn)
        #expect(warned.message.contains("harbor.example.com"))
        #expect(warned.message.contains("TokenReview"))

        let defaults = try await standIn()
        let passed = await run(.apiAudiences, try makeContext(node: node, options: login, api: defaults.asAdmin))
        #expect(passed.status == .pass)

        let noLogin = await run(.apiAudiences, try makeContext(node: node, api: defaults.asAdmin))
        #expect(noLogin.status == .skip)
    }

    @Test("registry reachable with its CA, untrusted without")
    func registryReachable() async throws {
        // The registry is a stand-in that responds to /v2/ with 401 and a Bearer challenge.
        let registry = try await standIn(["role": "registry", "registry": ["accept": true]])
        let node = try await nodeFixture()
        let host = "127.0.0.1:\(registry.port)"
        let setup = harborSetup(registryHosts: [host])
        let trusted = await run(.registryReachable, try makeContext(node: node, setup: setup, options: DoctorOptions(registryCAFile: registry.caFile)))
        #expect(trusted.status == .pass)
        #expect(trusted.message.contains("service=\"harbor-registry\""))

        let untrusted = await run(.registryReachable, try makeContext(node: node, setup: setup, options: DoctorOptions(registryCAFile: registry.unrelatedCAFile)))
        #expect(untrusted.status == .fail)
        #expect(untrusted.remedy?.contains("--registry-ca") == true)

        let silent = try await standIn(["role": "registry", "registry": ["challenge": false]])
        let noChallenge = harborSetup(registryHosts: ["127.0.0.1:\(silent.port)"])
        #expect(await run(.registryReachable, try makeContext(node: node, setup: noChallenge, options: DoctorOptions(registryCAFile: silent.caFile))).status == .fail)
    }

    @Test("login test: accepted, rejected, not permitted, not requested")
    func registryLogin() async throws {
        // The API server and the registry are stand-ins; the registry signs with the API server's CA.
        let api = try await standIn()
        let accepting = try await standIn(["role": "registry", "caDir": api.caDirectory, "registry": ["accept": true]])
        let rejecting = try await standIn(["role": "registry", "caDir": api.caDirectory, "registry": ["accept": false]])
        let node = try await nodeFixture()
        let account = DoctorOptions.ServiceAccount(namespace: "default", name: "app")
        let options = DoctorOptions(loginTest: account, registryCAFile: api.caFile)

        let accepted = await run(.registryLogin, try makeContext(node: node, setup: harborSetup(registryHosts: ["127.0.0.1:\(accepting.port)"]), options: options, api: api.asAdmin))
        #expect(accepted.status == .pass)

        let rejected = await run(.registryLogin, try makeContext(node: node, setup: harborSetup(registryHosts: ["127.0.0.1:\(rejecting.port)"]), options: options, api: api.asAdmin))
        #expect(rejected.status == .fail)
        #expect(rejected.message.contains("no robots matched your token"))
        #expect(!rejected.message.contains("standin."))

        let asNode = await run(.registryLogin, try makeContext(node: node, setup: harborSetup(registryHosts: ["127.0.0.1:\(accepting.port)"]), options: options, api: api.asNode))
        #expect(asNode.status == .skip)
        #expect(asNode.message.contains("may not create serviceaccounts/token"))

        #expect(await run(.registryLogin, try makeContext(node: node, api: api.asAdmin)).status == .skip)
    }
}
