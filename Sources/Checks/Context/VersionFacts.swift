internal import Subprocess
import FoundationEssentials
import HostFiles
import K3sConfig

/// The k3s binary on disk: what the next start of k3s runs.
public struct DiskVersion: Sendable {
    public var version: KubernetesVersion
    public var binary: String

    /// Runs `<root>/usr/local/bin/k3s --version` (or `/opt/bin/k3s`, `/usr/bin/k3s`) and reads
    /// its `k3s version v1.34.1+k3s1 (hash)` line. The binary is opened inside the host root and
    /// run through its descriptor, so a link cannot make it run a program of this machine.
    /// Blocks while k3s runs, at most 15 s.
    public static func read(_ root: HostRoot) -> Result<DiskVersion, DiskVersionError> {
        let candidates = ["/usr/local/bin/k3s", "/opt/bin/k3s", "/usr/bin/k3s"]
        var found: (String, OpenedExecutable)?
        for candidate in candidates where found == nil {
            if let executable = try? root.openExecutable(candidate) { found = (candidate, executable) }
        }
        guard let (binary, executable) = found else {
            return .failure(.notFound("no executable k3s binary found (looked in \(candidates.joined(separator: ", ")))"))
        }
        let result: SubprocessResult
        do {
            result = try runSubprocess(
                executable.execPath,
                arguments: ["--version"],
                argumentZero: "k3s",
                inherit: [executable.descriptor],
                timeout: .seconds(15)
            )
        } catch {
            return .failure(.unreadable("cannot run \(binary): \(error)"))
        }
        // k3s may print warnings first; the version line starts with "k3s version".
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        let line = output.split(separator: "\n").first { $0.hasPrefix("k3s version ") }
        guard result.status == 0, !result.timedOut, let line, let version = KubernetesVersion(parsing: String(line)) else {
            let reason = result.timedOut ? "timed out" : "exited \(result.status) without a version line"
            return .failure(.unreadable("`\(binary) --version` \(reason)"))
        }
        return .success(DiskVersion(version: version, binary: binary))
    }
}

/// Why the version of the k3s binary on disk is unknown.
public enum DiskVersionError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case unreadable(String)

    public var description: String {
        switch self {
        case .notFound(let message), .unreadable(let message): message
        }
    }
}

extension CheckContext {
    /// The version of the k3s binary on disk, read once per run.
    func diskK3sVersion() async -> Result<DiskVersion, CheckFailure> {
        await facts.value("disk-version") { [root] in
            await offPool { DiskVersion.read(root).mapError { CheckFailure($0.description) } }
        }
    }

    /// The kubelet version the files must suit: the binary on disk (what the next start
    /// runs), else the running kubelet's from the Node.
    func targetKubeletVersion() async -> (version: KubernetesVersion, source: String)? {
        if case .success(let disk) = await diskK3sVersion() {
            return (disk.version, disk.binary)
        }
        if case .success(let node)? = await node(),
            let text = node.status?.nodeInfo?.kubeletVersion, let version = KubernetesVersion(parsing: text)
        {
            return (version, "the Node's kubeletVersion")
        }
        return nil
    }
}

/// Feature gate defaults per Kubernetes minor release (kubernetes `pkg/features/kube_features.go`).
enum FeatureGateDefaults {
    static let kubeletTokenGate = "KubeletServiceAccountTokenForCredentialProviders"
    static let nodeAudienceGate = "ServiceAccountNodeAudienceRestriction"

    /// Default of the kubelet gate: absent before 1.33 (setting it is fatal there), alpha and
    /// off in 1.33, beta and on from 1.34.
    static func kubeletTokenGate(_ version: KubernetesVersion) -> Bool? {
        if !version.isAtLeast(1, 33) { return nil }
        return version.isAtLeast(1, 34)
    }

    /// Default of the API server gate: beta from 1.32, on in 1.32.0-1.32.1, off from 1.32.2,
    /// on again from 1.33.
    static func nodeAudienceGate(_ version: KubernetesVersion) -> Bool? {
        if !version.isAtLeast(1, 32) { return nil }
        if version.isAtLeast(1, 33) { return true }
        return version.patch < 2
    }
}
