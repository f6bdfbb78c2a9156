import FoundationEssentials

extension Check {
    /// Known failure messages in the recent k3s journal, with cause and fix.
    static let journalSymptoms = Check(
        id: "journal.symptoms", title: "No known failures in the k3s journal", area: .journal
    ) { context in
        let entries: [JournalEntry]
        switch await context.journalEntries() {
        case .success(let value): entries = value
        case .failure(let error): return .skip("the k3s journal cannot be read: \(error.message)")
        }
        let current = entries.last?.invocationID
        var results: [CheckResult] = []
        for symptom in JournalSymptom.all {
            let hits = entries.filter { symptom.matches($0.message) }
            guard let last = hits.last else { continue }
            let inCurrent = current == nil || last.invocationID == current
            let status: CheckStatus = symptom.fatal && inCurrent ? .fail : .warn
            let when = inCurrent ? "in the current k3s run" : "in an earlier k3s run"
            results.append(CheckResult(
                status,
                "\(hits.count)× \"\(symptom.signature)\" \(when), last at \(isoTime(last.time.timeIntervalSince1970)): \(symptom.cause)",
                remedy: symptom.fix
            ))
        }
        guard !results.isEmpty else {
            return .pass("none of \(JournalSymptom.all.count) known failure messages in \(entries.count) journal records of the last 24 hours")
        }
        return CheckResult.combine(results)
    }
}

/// A log message seen in the field when keyless pulls break, with its usual cause.
struct JournalSymptom: Sendable {
    var signature: String
    /// Further text that must appear in the same message, for signatures that are short.
    var alsoContains: [String] = []
    var cause: String
    var fix: String
    /// Whether the message means k3s or the kubelet cannot run (as opposed to one failed pull).
    var fatal: Bool

    func matches(_ message: String) -> Bool {
        message.contains(signature) && alsoContains.allSatisfy { message.contains($0) }
    }

    // Messages from kubernetes pkg/credentialprovider/plugin, pkg/kubelet/kuberuntime,
    // plugin/pkg/admission/noderestriction and k3s pkg/configfilearg, as seen in field reports.
    static let all: [JournalSymptom] = [
        JournalSymptom(
            signature: "no basic auth credentials",
            cause: "the kubelet pulled without credentials: it runs without the provider flags or files (drop-in missing, k3s not restarted, or files missing so k3s skipped the flags), or matchImages misses the image",
            fix: "see host.drop-in, kubelet.flags and host.match-images; restart k3s after fixing", fatal: false
        ),
        JournalSymptom(
            signature: "not found in pod spec volume", alsoContains: ["audience"],
            cause: "node-audience RBAC is missing: the API server refused the kubelet's token request for the registry audience",
            fix: "grant system:nodes the verb request-serviceaccounts-token-audience on the audience (see cluster.node-audience-rbac)", fatal: false
        ),
        JournalSymptom(
            signature: "Failed to register CRI auth plugins",
            cause: "the kubelet rejected the provider config at start-up and exited, taking k3s with it",
            fix: "run `harbor-keyless doctor` for host.provider-config, fix or roll back the config, then restart k3s", fatal: true
        ),
        JournalSymptom(
            signature: "plugin binary executable", alsoContains: ["did not exist"],
            cause: "a provider named in the config has no executable in the bin dir",
            fix: "run `harbor-keyless install` to put the executable back", fatal: true
        ),
        JournalSymptom(
            signature: "exec format error",
            cause: "the provider executable is for another architecture or is not an executable",
            fix: "install the static x86_64 build of credential-provider-harbor (`harbor-keyless install`)", fatal: false
        ),
        JournalSymptom(
            signature: "unrecognized feature gate",
            cause: "a feature gate is set that this Kubernetes version does not have (KubeletCredentialProviders was removed in 1.28; KubeletServiceAccountTokenForCredentialProviders exists from 1.33)",
            fix: "remove the gate from kubelet-arg or kube-apiserver-arg feature-gates", fatal: true
        ),
        JournalSymptom(
            signature: "flag provided but not defined",
            cause: "a drop-in holds a key `k3s agent` does not know (a server-only key); agents exit on it",
            fix: "move server-only keys out of drop-ins shared with agent nodes", fatal: true
        ),
        JournalSymptom(
            // klog quotes the error, so the inner quotes arrive escaped (\").
            signature: "no kind", alsoContains: ["CredentialProviderConfig", "is registered"],
            cause: "the provider config's apiVersion is newer than this kubelet (v1 needs 1.26+)",
            fix: "upgrade k3s to v1.34 or newer", fatal: true
        ),
        JournalSymptom(
            signature: "Failed getting credential from external registry credential provider",
            cause: "the kubelet ran a provider and it failed (see the rest of the message); the pull then went without credentials",
            fix: "run `harbor-keyless doctor` for host.plugin-executable", fatal: false
        ),
        JournalSymptom(
            signature: "Error getting service account token",
            cause: "the kubelet could not mint the pod's token for the provider: usually node-audience RBAC or the kubelet token gate",
            fix: "see cluster.node-audience-rbac and feature-gates.kubelet-token", fatal: false
        ),
    ]
}
