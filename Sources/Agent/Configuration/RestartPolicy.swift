/// When `install` restarts k3s after changing what its kubelet reads at start-up.
public enum RestartPolicy: String, Sendable, CaseIterable {
    /// Never restart; a restart that is due is recorded as pending.
    case never
    /// Restart only when the provider config or the drop-in changed, or the running kubelet
    /// lacks the credential provider flags.
    case ifChanged = "if-changed"
    /// Restart on every install.
    case always
}

/// Which Kubernetes version the provider config is rendered for.
public enum KubernetesVersionSetting: Sendable, Equatable {
    /// Read the version of the k3s binary on disk under the host root: the version the next
    /// start of k3s runs.
    case auto
    case explicit(String)
}
