import FoundationEssentials
import K3sConfig
import KubeAPI

extension Check {
    /// The API server runs Kubernetes 1.34 or newer.
    static let apiserverVersion = Check(
        id: "version.apiserver", title: "API server version", area: .version
    ) { context in
        guard let result = await context.apiVersion() else { return context.noAPIResult }
        switch result {
        case .failure(let error):
            return context.apiProblem(error, checking: "the API server version")
        case .success(let body):
            guard let version = KubernetesVersion(parsing: body.gitVersion) else {
                return .warn("the API server reports an unreadable version \(body.gitVersion)")
            }
            return VersionRule.evaluate(version, what: "the API server")
        }
    }

    /// The running kubelet and the k3s binary on disk both run 1.34+, and agree.
    static let kubeletVersion = Check(
        id: "version.kubelet", title: "Kubelet and k3s binary versions", area: .version
    ) { context in
        var running: KubernetesVersion?
        var runningNote: CheckResult?
        switch await context.node() {
        case .success(let node)?:
            running = node.status?.nodeInfo?.kubeletVersion.flatMap { KubernetesVersion(parsing: $0) }
        case .failure(let error)?:
            runningNote = context.apiProblem(error, checking: "the running kubelet's version")
        case nil:
            runningNote = context.client == nil ? context.noAPIResult : .skip("the node name is unknown: set NODE_NAME")
        }
        let disk = await context.diskK3sVersion()

        var results: [CheckResult] = []
        if let running { results.append(VersionRule.evaluate(running, what: "the running kubelet")) }
        if case .success(let onDisk) = disk {
            results.append(VersionRule.evaluate(onDisk.version, what: "\(onDisk.binary) (the next start)"))
            if let running, running.major != onDisk.version.major || running.minor != onDisk.version.minor || running.patch != onDisk.version.patch {
                results.append(.warn(
                    "the running kubelet is \(running) but \(onDisk.binary) is \(onDisk.version): the next restart of k3s changes the Kubernetes version",
                    remedy: "run `harbor-keyless install` again after the upgrade so the files suit the new version, and restart k3s in a maintenance window"
                ))
            }
        }
        if results.isEmpty {
            if case .failure(let error) = disk {
                return runningNote.map { CheckResult.combine([$0, .skip(error.message)]) } ?? .skip(error.message)
            }
            return runningNote ?? .skip("no version source")
        }
        return CheckResult.combine(results)
    }
}

enum VersionRule {
    /// 1.34 is the first release where a config with tokenAttributes works as written: the
    /// kubelet requires `tokenAttributes.cacheType` from 1.34 and a 1.33 kubelet rejects it,
    /// and tokenAttributes itself needs 1.33+ (kubernetes `pkg/credentialprovider/plugin/config.go`).
    static func evaluate(_ version: KubernetesVersion, what: String) -> CheckResult {
        if version.major == 1, version.minor >= 34 || version.major > 1 {
            return .pass("\(what) runs \(version)")
        }
        let reason =
            version.isAtLeast(1, 33)
            ? "1.33 accepts tokenAttributes only behind an alpha gate and rejects cacheType, which 1.34 requires"
            : "tokenAttributes (service account tokens for credential providers) needs 1.33+, and cacheType, required from 1.34, is rejected by older kubelets"
        return .fail("\(what) runs \(version), older than 1.34: \(reason)", remedy: "upgrade k3s to v1.34 or newer, then run `harbor-keyless install`")
    }
}
