import Foundation
import APIStandInSupport
import Testing
@testable import KubeAPI

@Suite("Kubeconfig loading")
struct KubeconfigTests {
    static let pem = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)
    static let pemBase64 = Data(pem).base64EncodedString()

    func kubeconfig(cluster: String, user: String, currentContext: String = "default", extraContexts: String = "") -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: default
          cluster:
        \(cluster)
        - name: other
          cluster:
            server: https://10.0.0.20:6443
            certificate-authority-data: \(Self.pemBase64)
        contexts:
        - name: default
          context:
            cluster: default
            user: default
        - name: second
          context:
            cluster: other
            user: default
            namespace: kube-system
        \(extraContexts)
        current-context: \(currentContext)
        users:
        - name: default
          user:
        \(user)
        """
    }

    @Test("data fields are base64-decoded in memory")
    func dataFields() throws {
        let text = kubeconfig(
            cluster: "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(Self.pemBase64)",
            user: "    client-certificate-data: \(Self.pemBase64)\n    client-key-data: \(Self.pemBase64)"
        )
        let credentials = try KubeconfigLoader.parse(text, source: "test", directory: "/cfg")
        #expect(credentials.server == "https://127.0.0.1:6443")
        #expect(credentials.certificateAuthority == .data(Self.pem))
        #expect(credentials.clientCertificate == .data(Self.pem))
        #expect(credentials.clientKey == .data(Self.pem))
        #expect(credentials.token == nil)
    }

    @Test("file fields resolve against the kubeconfig directory")
    func fileFields() throws {
        let text = kubeconfig(
            cluster: "    server: https://127.0.0.1:6443\n    certificate-authority: ca.crt",
            user: "    client-certificate: /etc/pki/client.crt\n    client-key: keys/client.key"
        )
        let credentials = try KubeconfigLoader.parse(text, source: "test", directory: "/cfg")
        #expect(credentials.certificateAuthority == .file("/cfg/ca.crt"))
        #expect(credentials.clientCertificate == .file("/etc/pki/client.crt"))
        #expect(credentials.clientKey == .file("/cfg/keys/client.key"))
    }

    @Test("absolute file fields resolve under a host root")
    func hostRootPaths() throws {
        let text = kubeconfig(
            cluster: "    server: https://127.0.0.1:6444\n    certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt",
            user: "    client-certificate: /var/lib/rancher/k3s/agent/client-kubelet.crt\n    client-key: /var/lib/rancher/k3s/agent/client-kubelet.key"
        )
        let credentials = try KubeconfigLoader.parse(text, source: "test", directory: "/host/var/lib/rancher/k3s/agent", hostRoot: "/host")
        #expect(credentials.certificateAuthority == .file("/host/var/lib/rancher/k3s/agent/server-ca.crt"))
        #expect(credentials.clientCertificate == .file("/host/var/lib/rancher/k3s/agent/client-kubelet.crt"))
        #expect(credentials.clientKey == .file("/host/var/lib/rancher/k3s/agent/client-kubelet.key"))
    }

    @Test("token and tokenFile, with tokenFile preferred")
    func tokens() throws {
        let cluster = "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(Self.pemBase64)"
        let inline = try KubeconfigLoader.parse(kubeconfig(cluster: cluster, user: "    token: abc"), source: "test", directory: "/cfg")
        #expect(inline.token == .value(BearerToken("abc")))
        let file = try KubeconfigLoader.parse(kubeconfig(cluster: cluster, user: "    token: abc\n    tokenFile: token"), source: "test", directory: "/cfg")
        #expect(file.token == .file("/cfg/token"))
    }

    @Test("tls-server-name is kept")
    func tlsServerName() throws {
        let text = kubeconfig(
            cluster: "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(Self.pemBase64)\n    tls-server-name: kubernetes.default.svc",
            user: "    token: abc"
        )
        #expect(try KubeconfigLoader.parse(text, source: "test", directory: "/").tlsServerName == "kubernetes.default.svc")
    }

    @Test("current-context selects the cluster, an explicit context overrides it")
    func contexts() throws {
        let cluster = "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(Self.pemBase64)"
        let current = try KubeconfigLoader.parse(kubeconfig(cluster: cluster, user: "    token: abc", currentContext: "second"), source: "test", directory: "/")
        #expect(current.server == "https://10.0.0.20:6443")
        #expect(current.namespace == "kube-system")
        let explicit = try KubeconfigLoader.parse(kubeconfig(cluster: cluster, user: "    token: abc", currentContext: "second"), source: "test", directory: "/", context: "default")
        #expect(explicit.server == "https://127.0.0.1:6443")
    }

    @Test("unknown current-context is rejected by name")
    func unknownContext() throws {
        let cluster = "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(Self.pemBase64)"
        let error = #expect(throws: KubeAPIError.self) {
            try KubeconfigLoader.parse(kubeconfig(cluster: cluster, user: "    token: abc", currentContext: "missing"), source: "test", directory: "/")
        }
        #expect(error?.description.contains("no entry named \"missing\" in contexts") == true)
    }

    @Test("insecure-skip-tls-verify is rejected")
    func insecureSkipVerify() throws {
        let text = kubeconfig(
            cluster: "    server: https://127.0.0.1:6443\n    certificate-authority-data: \(Self.pemBase64)\n    insecure-skip-tls-verify: true",
            user: "    token: abc"
        )
        let error = #expect(throws: KubeAPIError.self) { try KubeconfigLoader.parse(text, source: "test", directory: "/") }
        #expect(error?.description.contains("insecure-skip-tls-verify") == true)
    }

    @Test("a cluster without a CA is rejected")
    func missingCA() throws {
        let text = kubeconfig(cluster: "    server: https://127.0.0.1:6443", user: "    token: abc")
        let error = #expect(throws: KubeAPIError.self) { try KubeconfigLoader.parse(text, source: "test", directory: "/") }
        #expect(error?.description.contains("no certificate-authority") == true)
    }

    @Test("invalid base64 names the field")
    func invalidBase64() throws {
        let text = kubeconfig(cluster: "    server: https://127.0.0.1:6443\n    certificate-authority-data: '***'", user: "    token: abc")
        let error = #expect(throws: KubeAPIError.self) { try KubeconfigLoader.parse(text, source: "test", directory: "/") }
        #expect(error?.description.contains("certificate-authority-data is not valid base64") == true)
    }

    @Test("a non-https server is rejected")
    func plainHTTP() throws {
        let text = kubeconfig(cluster: "    server: http://127.0.0.1:8080\n    certificate-authority-data: \(Self.pemBase64)", user: "    token: abc")
        let error = #expect(throws: KubeAPIError.self) { try KubeconfigLoader.parse(text, source: "test", directory: "/") }
        #expect(error?.description.contains("not an https URL") == true)
    }

    // Source: k3s.yaml committed in cly1213/k3s-3nodes (early-2020 k3s, basic auth admin user).
    @Test("the 2020 k3s basic-auth kubeconfig is rejected with the reason")
    func basicAuthFixture() throws {
        let text = try fixture("api/k3s-kubeconfig-2020-basic-auth.yaml")
        let error = #expect(throws: KubeAPIError.self) { try KubeconfigLoader.parse(text, source: "k3s.yaml", directory: "/") }
        #expect(error?.description.contains("username credentials are not supported") == true)
    }

    // Source: k3s.yaml committed in Sophoun/k3s-lab (k3s release from 2026), data fields redacted.
    @Test("the 2026 k3s admin kubeconfig shape parses")
    func k3sFixture() throws {
        let credentials = try KubeconfigLoader.parse(try fixture("api/k3s-kubeconfig-2026.yaml"), source: "k3s.yaml", directory: "/etc/rancher/k3s")
        #expect(credentials.server == "https://10.0.0.10:6443")
        #expect(credentials.origin.contains("context \"default\""))
        #expect(credentials.clientCertificate != nil)
        #expect(credentials.clientKey != nil)
    }
}
