import FoundationEssentials

/// Credentials of the pod's own service account, as client-go's rest.InClusterConfig builds
/// them: the server from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, the CA and
/// token from the projected service account volume.
public enum InClusterCredentials {
    public static let defaultDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Loads the credentials, or returns nil outside a pod (either variable missing).
    public static func load(
        environment: [String: String],
        directory: String = defaultDirectory
    ) throws(KubeAPIError) -> KubeCredentials? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else { return nil }
        guard let portNumber = Int(port), (1...65535).contains(portNumber) else {
            throw .invalidCredentials(source: "KUBERNETES_SERVICE_PORT=\(port)", reason: "not a port number", fix: "Unset it, or set it to the API server's port")
        }

        // The token is read again before each request: the kubelet rotates it in place.
        let tokenPath = "\(directory)/token"
        guard FileManager.default.fileExists(atPath: tokenPath) else {
            throw .invalidCredentials(
                source: "service account directory \(directory)",
                reason: "KUBERNETES_SERVICE_HOST is set but \(tokenPath) does not exist",
                fix: "Mount the service account token (automountServiceAccountToken: true) or pass --kubeconfig"
            )
        }
        let namespace = (try? FileContents.read("\(directory)/namespace"))
            .map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() }

        return KubeCredentials(
            server: "https://\(ServerAddress.bracketed(host)):\(portNumber)",
            certificateAuthority: .file("\(directory)/ca.crt"),
            token: .file(tokenPath),
            namespace: namespace,
            origin: "in-cluster service account (\(directory))"
        )
    }
}

/// Finds the credentials to use, in this order:
/// 1. an explicit kubeconfig (`--kubeconfig PATH`), read as is;
/// 2. the pod's service account, when running in a pod;
/// 3. the kubelet's own kubeconfig under the host root (identity `system:node:<name>`).
/// The admin kubeconfig `/etc/rancher/k3s/k3s.yaml` is never picked up on its own: an
/// operator passes it explicitly.
public enum CredentialDiscovery {
    /// Path of the kubelet's kubeconfig that k3s writes. It names client-kubelet.crt/.key and
    /// server-ca.crt as file paths.
    public static let kubeletKubeconfig = "/var/lib/rancher/k3s/agent/kubelet.kubeconfig"

    public static func discover(
        explicitKubeconfig: String?,
        hostRoot: String,
        environment: [String: String],
        serviceAccountDirectory: String = InClusterCredentials.defaultDirectory
    ) throws(KubeAPIError) -> KubeCredentials {
        if let explicitKubeconfig {
            return try KubeconfigLoader.load(path: explicitKubeconfig)
        }
        if let inCluster = try InClusterCredentials.load(environment: environment, directory: serviceAccountDirectory) {
            return inCluster
        }
        let kubelet = HostPath.resolve(kubeletKubeconfig, under: hostRoot)
        if FileManager.default.fileExists(atPath: kubelet) {
            return try KubeconfigLoader.load(path: kubeletKubeconfig, hostRoot: hostRoot)
        }
        throw .noCredentials(tried: [
            "no --kubeconfig given",
            "not in a pod (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset)",
            "\(kubelet) does not exist",
        ])
    }
}
