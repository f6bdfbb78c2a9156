import FoundationEssentials

/// The parts of a server URL that libcurl needs to connect, and the URL to send when
/// `tls-server-name` replaces the host for SNI and certificate verification.
struct ServerAddress: Equatable {
    var host: String
    var port: Int
    var basePath: String

    init(server: String) throws(KubeAPIError) {
        guard let components = URLComponents(string: server),
            components.scheme?.lowercased() == "https",
            let host = components.host, !host.isEmpty
        else {
            throw .invalidCredentials(
                source: "server \(server)",
                reason: "not an https URL with a host",
                fix: "Set the cluster's server to https://HOST:PORT"
            )
        }
        // Keep IPv6 literals without brackets, whichever way Foundation returns them.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 443
        basePath = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
    }

    /// Formats a host for a URL or a CONNECT_TO entry, with IPv6 literals in brackets.
    static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    /// Builds the URL for `path`, and the CURLOPT_CONNECT_TO entry when a TLS server name is set.
    /// With CONNECT_TO, libcurl connects to the real host but uses the URL's host (the TLS
    /// server name) for SNI, certificate verification and the Host header.
    func target(path: String, tlsServerName: String?) -> (url: String, connectTo: String?) {
        let urlHost = Self.bracketed(tlsServerName ?? host)
        let url = "https://\(urlHost):\(port)\(basePath)\(path)"
        guard let tlsServerName, tlsServerName != host else { return (url, nil) }
        return (url, "\(Self.bracketed(tlsServerName)):\(port):\(Self.bracketed(host)):\(port)")
    }
}
