import Foundation
import APIStandInSupport
import Testing
import KubeAPI

/// Credential sources end to end: kubeconfig files, the pod's service account and the
/// kubelet's kubeconfig under a host root, each used against the API stand-in (a loopback
/// stand-in for kube-apiserver).
@Suite("Credential sources")
struct CredentialSourceTests {
    static let standIn = Task { try await APIStandIn.start() }

    var standIn: APIStandIn { get async throws { try await Self.standIn.value } }

    func base64(_ path: String) throws -> String {
        try Data(contentsOf: URL(fileURLWithPath: path)).base64EncodedString()
    }

    @Test("kubeconfig with data fields connects as its user")
    func kubeconfigDataFields() async throws {
        let standIn = try await standIn
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: \(try base64(standIn.caFile))
                server: \(standIn.server)
              name: default
            contexts:
            - context:
                cluster: default
                user: default
              name: default
            current-context: default
            users:
            - name: default
              user:
                client-certificate-data: \(try base64(standIn.clientCertificate("admin")))
                client-key-data: \(try base64(standIn.clientKey("admin")))
            """
        let credentials = try KubeconfigLoader.parse(text, source: "test kubeconfig", directory: "/")
        #expect(try await KubeClient(credentials: credentials).node("node-b").metadata.name == "node-b")
        #expect(try credentials.nodeName(environment: [:]) == nil)
    }

    @Test("kubeconfig tokenFile is re-read and tls-server-name verified")
    func kubeconfigTokenFileAndServerName() async throws {
        let standIn = try await APIStandIn.start(["serverNames": ["kubernetes.default.svc.cluster.local"]])
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: standIn.caFile, toPath: "\(directory)/ca.crt")
        try APIStandIn.otherToken.write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: standin
              cluster:
                server: \(standIn.server)
                certificate-authority: ca.crt
                tls-server-name: kubernetes.default.svc.cluster.local
            contexts:
            - name: agent
              context: {cluster: standin, user: agent}
            current-context: agent
            users:
            - name: agent
              user:
                tokenFile: token
            """.write(toFile: "\(directory)/config", atomically: true, encoding: .utf8)

        // The serving certificate names only kubernetes.default.svc.cluster.local, so the
        // call succeeds only when that name is verified in place of 127.0.0.1.
        let client = KubeClient(credentials: try KubeconfigLoader.load(path: "\(directory)/config"))
        let before = await apiError { try await client.node("node-a") }
        #expect(before?.forbiddenPermission?.message.contains("system:serviceaccount:default:other") == true)
        try APIStandIn.agentToken.write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
        #expect(try await client.node("node-a").metadata.name == "node-a")
    }

    @Test("kubelet kubeconfig under a host root gives the node identity and name")
    func kubeletKubeconfig() async throws {
        let standIn = try await standIn
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }

        // Lay out the files where k3s puts them, with the absolute host paths k3s writes.
        let agent = "\(root)/var/lib/rancher/k3s/agent"
        try FileManager.default.createDirectory(atPath: agent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: standIn.caFile, toPath: "\(agent)/server-ca.crt")
        try FileManager.default.copyItem(atPath: standIn.clientCertificate("node-a"), toPath: "\(agent)/client-kubelet.crt")
        try FileManager.default.copyItem(atPath: standIn.clientKey("node-a"), toPath: "\(agent)/client-kubelet.key")
        try """
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt
                server: \(standIn.server)
              name: local
            contexts:
            - context:
                cluster: local
                namespace: default
                user: user
              name: Default
            current-context: Default
            kind: Config
            preferences: {}
            users:
            - name: user
              user:
                client-certificate: /var/lib/rancher/k3s/agent/client-kubelet.crt
                client-key: /var/lib/rancher/k3s/agent/client-kubelet.key
            """.write(toFile: "\(agent)/kubelet.kubeconfig", atomically: true, encoding: .utf8)
        // An admin kubeconfig on the host must not be picked up.
        try FileManager.default.createDirectory(atPath: "\(root)/etc/rancher/k3s", withIntermediateDirectories: true)
        try "not: used".write(toFile: "\(root)/etc/rancher/k3s/k3s.yaml", atomically: true, encoding: .utf8)

        let credentials = try CredentialDiscovery.discover(explicitKubeconfig: nil, hostRoot: root, environment: [:])
        #expect(credentials.clientCertificate == .file("\(agent)/client-kubelet.crt"))
        #expect(try credentials.nodeName(environment: ["NODE_NAME": "ignored"]) == "node-a")
        let node = try await KubeClient(credentials: credentials).node("node-a")
        #expect(node.metadata.name == "node-a")
    }

    @Test("in-cluster credentials join host and port IPv6-safe")
    func inClusterAddress() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "t".write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
        try "harbor-keyless\n".write(toFile: "\(directory)/namespace", atomically: true, encoding: .utf8)

        let cases: [(host: String, server: String)] = [
            ("10.43.0.1", "https://10.43.0.1:443"),
            ("fd00:10:43::1", "https://[fd00:10:43::1]:443"),
        ]
        for (host, server) in cases {
            let credentials = try InClusterCredentials.load(environment: ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "443"], directory: directory)
            #expect(credentials?.server == server)
            #expect(credentials?.namespace == "harbor-keyless")
            #expect(credentials?.token == .file("\(directory)/token"))
            #expect(credentials?.certificateAuthority == .file("\(directory)/ca.crt"))
        }
        #expect(try InClusterCredentials.load(environment: [:], directory: directory) == nil)
    }

    @Test("in-cluster token file is read again before each request")
    func tokenRotation() async throws {
        let standIn = try await standIn
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: standIn.caFile, toPath: "\(directory)/ca.crt")
        try APIStandIn.otherToken.write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)

        let environment = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(standIn.port)]
        let credentials = try CredentialDiscovery.discover(explicitKubeconfig: nil, hostRoot: "/nonexistent", environment: environment, serviceAccountDirectory: directory)
        let client = KubeClient(credentials: credentials)

        // The other service account may not read Nodes; after rotation to the agent's token
        // the same client may.
        let before = await apiError { try await client.node("node-a") }
        #expect(before?.forbiddenPermission != nil)
        try APIStandIn.agentToken.write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
        #expect(try await client.node("node-a").metadata.name == "node-a")
    }

    @Test("explicit kubeconfig wins over in-cluster and kubelet credentials")
    func discoveryOrder() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pem = Data("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
        let path = "\(directory)/config"
        try """
            clusters:
            - name: c
              cluster: {server: "https://127.0.0.1:7443", certificate-authority-data: "\(pem)"}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            current-context: x
            users:
            - name: u
              user: {token: abc}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        try "t".write(toFile: "\(directory)/token", atomically: true, encoding: .utf8)
        let environment = ["KUBERNETES_SERVICE_HOST": "10.43.0.1", "KUBERNETES_SERVICE_PORT": "443"]

        let explicit = try CredentialDiscovery.discover(explicitKubeconfig: path, hostRoot: "/", environment: environment, serviceAccountDirectory: directory)
        #expect(explicit.server == "https://127.0.0.1:7443")
        let inCluster = try CredentialDiscovery.discover(explicitKubeconfig: nil, hostRoot: "/", environment: environment, serviceAccountDirectory: directory)
        #expect(inCluster.server == "https://10.43.0.1:443")
    }

    @Test("no source gives an error listing what was tried")
    func noCredentials() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let error = #expect(throws: KubeAPIError.self) {
            try CredentialDiscovery.discover(explicitKubeconfig: nil, hostRoot: root, environment: [:])
        }
        #expect(error?.description.contains("\(root)/var/lib/rancher/k3s/agent/kubelet.kubeconfig does not exist") == true)
        #expect(error?.description.contains("Pass --kubeconfig PATH") == true)
    }

    @Test("node name falls back to NODE_NAME without a node certificate")
    func nodeNameFromEnvironment() async throws {
        let standIn = try await standIn
        let admin = standIn.credentials(client: "admin")
        #expect(try admin.nodeName(environment: ["NODE_NAME": "node-c"]) == "node-c")
        #expect(try admin.nodeName(environment: [:]) == nil)
    }

    @Test("certificate subject, groups and expiry are read")
    func certificateSubject() async throws {
        let standIn = try await standIn
        let pem = Array(try Data(contentsOf: URL(fileURLWithPath: standIn.clientCertificate("expired"))))
        let subject = try #require(CertificateSubject.parse(pem: pem))
        #expect(subject.commonName == "system:node:node-a")
        #expect(subject.organizations == ["system:nodes"])
        #expect(try #require(subject.notAfter) < Date())
        #expect(CertificateSubject.parse(pem: Array("not a certificate".utf8)) == nil)
    }
}
