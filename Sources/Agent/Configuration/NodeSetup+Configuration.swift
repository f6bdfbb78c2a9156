public import Checks

extension NodeSetup {
    /// Builds what the checks compare with the node from the agent configuration and its
    /// provider layout; doctor and the daemon both use it.
    public init(_ configuration: AgentConfiguration, layout: ProviderLayout) {
        self.init(
            providers: layout.entries.map {
                NodeSetup.Provider(
                    name: $0.name, audience: $0.audience, matchImages: $0.matchImages, username: $0.username,
                    serviceAccountAnnotationKey: $0.serviceAccountAnnotationKey, registryHosts: $0.registryHosts
                )
            },
            k3sConfigPath: configuration.k3sConfigPath,
            stateDirectory: configuration.stateDirectory,
            unit: configuration.unit
        )
    }
}
