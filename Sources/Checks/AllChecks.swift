extension Check {
    /// Every check, in report order. `harbor-keyless doctor` and the daemon run exactly this
    /// list; ids are stable because scripts and metrics key on them.
    public static let all: [Check] = [
        // Host files
        .pluginExecutable,
        .providerConfig,
        .matchImages,
        .providerOverlap,
        .dropIn,
        .registriesAuth,
        .managedTwice,
        // Restart
        .restartPending,
        .rejectedConfig,
        // Kubelet
        .kubeletFlags,
        .kubeletConfigHash,
        // Versions
        .apiserverVersion,
        .kubeletVersion,
        // Feature gates
        .kubeletTokenGate,
        .nodeAudienceGate,
        // Cluster
        .apiAudiences,
        .nodeAudienceRBAC,
        .issuerKeys,
        // Pull safety
        .optIn,
        .agentImage,
        // Journal
        .journalSymptoms,
        // Registry
        .registryReachable,
        .registryLogin,
    ]
}
