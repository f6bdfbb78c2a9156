/// Connection settings for one Kubernetes API server: its address, the CA that signs its
/// serving certificate, and the client identity (certificate and key, or bearer token).
public struct KubeCredentials: Sendable, Equatable {
    /// The server URL as configured, for example `https://127.0.0.1:6443`.
    public var server: String

    /// Name to send as TLS SNI and to verify the server certificate against, in place of
    /// the host in `server` (kubeconfig `tls-server-name`).
    public var tlsServerName: String?

    public var certificateAuthority: PEMSource
    public var clientCertificate: PEMSource?
    public var clientKey: PEMSource?
    public var token: TokenSource?

    /// The service account's namespace when running in a pod.
    public var namespace: String?

    /// Source of these credentials for messages, such as the kubeconfig path. Never their content.
    public var origin: String

    public init(
        server: String,
        tlsServerName: String? = nil,
        certificateAuthority: PEMSource,
        clientCertificate: PEMSource? = nil,
        clientKey: PEMSource? = nil,
        token: TokenSource? = nil,
        namespace: String? = nil,
        origin: String
    ) {
        self.server = server
        self.tlsServerName = tlsServerName
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.token = token
        self.namespace = namespace
        self.origin = origin
    }
}

/// PEM material given either as a file path or inline (kubeconfig `*-data` fields, already
/// base64-decoded). Its description never shows the bytes.
public enum PEMSource: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case data([UInt8])

    public var description: String {
        switch self {
        case .file(let path): return "file \(path)"
        case .data(let bytes): return "inline data (\(bytes.count) bytes)"
        }
    }
}

/// A bearer token, inline or in a file. A file is read again before each request, because
/// the kubelet rotates projected service account tokens in place.
public enum TokenSource: Sendable, Equatable, CustomStringConvertible {
    case value(BearerToken)
    case file(String)

    public var description: String {
        switch self {
        case .value: return "inline token"
        case .file(let path): return "token file \(path)"
        }
    }
}

/// A secret token. Printing it shows only that it is redacted.
public struct BearerToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let secret: String

    public init(_ secret: String) {
        self.secret = secret
    }

    public var description: String { "<redacted token>" }
    public var debugDescription: String { "<redacted token>" }
}
