import FoundationEssentials
internal import YAML

/// Reads the credentials of one context from a kubeconfig file, with the fields and rules of
/// client-go's clientcmd. `current-context` (or an explicit context) names a cluster and a
/// user. `*-data` fields contain base64 PEM, and relative file paths resolve against the
/// kubeconfig's own directory.
public enum KubeconfigLoader {
    /// Loads `path`. With `hostRoot`, the file is read from under that root and absolute
    /// paths inside it (the kubelet kubeconfig names its certificate files that way) are
    /// resolved under the root too.
    public static func load(path: String, hostRoot: String? = nil, context: String? = nil) throws(KubeAPIError) -> KubeCredentials {
        let filePath = HostPath.resolve(path, under: hostRoot)
        let bytes = try FileContents.read(filePath)
        let directory = directoryName(filePath)
        return try parse(
            String(decoding: bytes, as: UTF8.self),
            source: "kubeconfig \(filePath)",
            directory: directory,
            hostRoot: hostRoot,
            context: context
        )
    }

    /// Parses kubeconfig text. `directory` anchors relative file paths.
    public static func parse(
        _ text: String,
        source: String,
        directory: String,
        hostRoot: String? = nil,
        context requestedContext: String? = nil
    ) throws(KubeAPIError) -> KubeCredentials {
        let root: YAMLNode
        do {
            guard let parsed = try YAML.parse(text, source: source), parsed.mapping != nil else {
                throw KubeAPIError.invalidCredentials(source: source, reason: "the file is empty or not a mapping", fix: "Pass a kubeconfig file")
            }
            root = parsed
        } catch let error as KubeAPIError {
            throw error
        } catch {
            throw .invalidCredentials(source: source, reason: "invalid YAML: \(error)", fix: "Fix the file's syntax")
        }
        var fields = KubeconfigFields(source: source, directory: directory, hostRoot: hostRoot)

        // 1. The context: the requested one, else current-context.
        guard let contextName = requestedContext ?? root["current-context"]?.string, !contextName.isEmpty else {
            throw .invalidCredentials(source: source, reason: "no current-context is set", fix: "Set current-context or pass a context name")
        }
        let context = try fields.named("contexts", contextName, in: root, field: "context")
        guard let clusterName = context["cluster"]?.string, !clusterName.isEmpty else {
            throw .invalidCredentials(source: source, reason: "context \"\(contextName)\" names no cluster", fix: "Set contexts[].context.cluster")
        }
        let cluster = try fields.named("clusters", clusterName, in: root, field: "cluster")
        let userName = context["user"]?.string ?? ""
        let user = userName.isEmpty ? YAMLNode.mapping([]) : try fields.named("users", userName, in: root, field: "user")

        // 2. The cluster: server, trust and the name to verify.
        fields.scope = "cluster \"\(clusterName)\""
        guard let server = cluster["server"]?.string, !server.isEmpty else {
            throw .invalidCredentials(source: "\(source): \(fields.scope)", reason: "server is missing", fix: "Set the cluster's server to https://HOST:PORT")
        }
        _ = try ServerAddress(server: server)
        if cluster["insecure-skip-tls-verify"]?.bool == true {
            throw .invalidCredentials(
                source: "\(source): \(fields.scope)",
                reason: "insecure-skip-tls-verify is set, and harbor-keyless always verifies the API server",
                fix: "Remove insecure-skip-tls-verify and set certificate-authority-data to the cluster's CA"
            )
        }
        guard let authority = try fields.pem(cluster, dataKey: "certificate-authority-data", fileKey: "certificate-authority") else {
            throw .invalidCredentials(
                source: "\(source): \(fields.scope)",
                reason: "no certificate-authority or certificate-authority-data",
                fix: "Set the CA that signs the API server's certificate; the system trust store is never used"
            )
        }
        let tlsServerName = cluster["tls-server-name"]?.string.flatMap { $0.isEmpty ? nil : $0 }

        // 3. The user: client certificate and key, and/or a token.
        fields.scope = "user \"\(userName)\""
        for unsupported in ["exec", "auth-provider", "username", "password"] where user[unsupported] != nil {
            throw .invalidCredentials(
                source: "\(source): \(fields.scope)",
                reason: "\(unsupported) credentials are not supported",
                fix: "Use a client certificate or a token (token or tokenFile)"
            )
        }
        let certificate = try fields.pem(user, dataKey: "client-certificate-data", fileKey: "client-certificate")
        let key = try fields.pem(user, dataKey: "client-key-data", fileKey: "client-key")
        var token: TokenSource?
        if let tokenFile = user["tokenFile"]?.string, !tokenFile.isEmpty {
            token = .file(fields.path(tokenFile))
        } else if let value = user["token"]?.string, !value.isEmpty {
            token = .value(BearerToken(value))
        }

        return KubeCredentials(
            server: server,
            tlsServerName: tlsServerName,
            certificateAuthority: authority,
            clientCertificate: certificate,
            clientKey: key,
            token: token,
            namespace: context["namespace"]?.string,
            origin: "\(source), context \"\(contextName)\""
        )
    }
}

/// Field access with errors that name the file and the entry.
struct KubeconfigFields {
    var source: String
    var directory: String
    var hostRoot: String?
    var scope = ""

    /// Returns the inner mapping (`field`) of the entry called `name` in the list `list`.
    func named(_ list: String, _ name: String, in root: YAMLNode, field: String) throws(KubeAPIError) -> YAMLNode {
        let entries = root[list]?.sequence ?? []
        guard let entry = entries.last(where: { $0["name"]?.string == name }) else {
            throw .invalidCredentials(source: source, reason: "no entry named \"\(name)\" in \(list)", fix: "Add it, or select a context whose \(field) exists")
        }
        return entry[field] ?? .mapping([])
    }

    /// Returns a PEM source from a base64 `*-data` field (which wins, as in client-go) or a file path.
    func pem(_ node: YAMLNode, dataKey: String, fileKey: String) throws(KubeAPIError) -> PEMSource? {
        if let encoded = node[dataKey]?.string, !encoded.isEmpty {
            let compact = encoded.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else {
                throw .invalidCredentials(source: "\(source): \(scope)", reason: "\(dataKey) is not valid base64", fix: "Set it to the base64 encoding of the PEM file")
            }
            return .data(Array(data))
        }
        if let file = node[fileKey]?.string, !file.isEmpty {
            return .file(path(file))
        }
        return nil
    }

    func path(_ value: String) -> String {
        if value.hasPrefix("/") {
            return HostPath.resolve(value, under: hostRoot)
        }
        return joinPath(directory, value)
    }
}

/// Joins a host path to a host root (`/` or nil means the path as it is).
enum HostPath {
    static func resolve(_ path: String, under root: String?) -> String {
        guard let root, !root.isEmpty, root != "/", path.hasPrefix("/") else { return path }
        let trimmed = root.hasSuffix("/") ? String(root.dropLast()) : root
        return trimmed + path
    }
}
