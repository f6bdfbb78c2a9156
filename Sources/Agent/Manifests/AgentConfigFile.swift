internal import YAML

extension AgentConfiguration {
    /// Renders this configuration as the agent's `config.yaml`, in the file format that
    /// `ConfigurationLayer.file` reads. Every registry field is written out. Top-level keys
    /// are written only when they differ from the default, except `restart`, which decides
    /// whether the agent restarts k3s and so is always written.
    /// `hostRoot` and `pluginBinary` are left out: in a pod the environment sets the first and
    /// the image provides the second.
    func configFileYAML() -> YAMLNode {
        var pairs: [(String, YAMLNode)] = []

        let registryNodes = registries.map { registry -> YAMLNode in
            var fields: [(String, YAMLNode)] = [
                ("host", .string(registry.host)),
                ("audience", .string(registry.audience)),
                ("matchImages", .strings(registry.matchImages)),
                ("username", .string(registry.username)),
            ]
            if let key = registry.serviceAccountAnnotationKey {
                fields.append(("serviceAccountAnnotationKey", .string(key)))
            }
            return mapping(fields)
        }
        pairs.append(("registries", .sequence(registryNodes)))

        if providerName != Self.defaultProviderName {
            pairs.append(("providerName", .string(providerName)))
        }
        if defaultCacheDuration != Self.defaultCacheDurationValue {
            pairs.append(("defaultCacheDuration", .string(defaultCacheDuration)))
        }
        pairs.append(("restart", .string(restartPolicy.rawValue)))
        if case .explicit(let version) = kubernetesVersion {
            pairs.append(("kubernetesVersion", .string(version)))
        }
        if k3sConfigPath != Self.defaultK3sConfigPath {
            pairs.append(("k3sConfig", .string(k3sConfigPath)))
        }
        if stateDirectory != Self.defaultStateDirectory {
            pairs.append(("stateDirectory", .string(stateDirectory)))
        }
        if let unit {
            pairs.append(("unit", .string(unit)))
        }
        return mapping(pairs)
    }
}
