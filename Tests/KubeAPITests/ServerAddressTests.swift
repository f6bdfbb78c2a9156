import Testing
@testable import KubeAPI

@Suite("Server addresses")
struct ServerAddressTests {
    @Test("URL and CONNECT_TO entry per server and TLS server name", arguments: [
        ("https://127.0.0.1:6443", nil, "https://127.0.0.1:6443/version", nil),
        ("https://127.0.0.1:6443", "kubernetes", "https://kubernetes:6443/version", "kubernetes:6443:127.0.0.1:6443"),
        ("https://[fd00::1]:6443", nil, "https://[fd00::1]:6443/version", nil),
        ("https://[fd00::1]:6443", "kubernetes", "https://kubernetes:6443/version", "kubernetes:6443:[fd00::1]:6443"),
        ("https://rancher.example.com/k8s/clusters/c-1", nil, "https://rancher.example.com:443/k8s/clusters/c-1/version", nil),
        ("https://api.example.com:6443/", "api.example.com", "https://api.example.com:6443/version", nil),
    ] as [(String, String?, String, String?)])
    func target(server: String, tlsServerName: String?, url: String, connectTo: String?) throws {
        let target = try ServerAddress(server: server).target(path: "/version", tlsServerName: tlsServerName)
        #expect(target.url == url)
        #expect(target.connectTo == connectTo)
    }

    @Test("non-https servers are rejected", arguments: ["http://127.0.0.1:6443", "127.0.0.1:6443", "https://", ""])
    func rejected(server: String) {
        #expect(throws: KubeAPIError.self) { try ServerAddress(server: server) }
    }
}
