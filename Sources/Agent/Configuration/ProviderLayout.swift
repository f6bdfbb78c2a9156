/// The provider entries the configuration needs: one per audience, because a provider entry
/// carries exactly one `serviceAccountTokenAudience`. The kubelet execs `<bin-dir>/<name>`,
/// so every entry also gets its own executable file.
public struct ProviderLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Provider name and executable file name.
        public var name: String
        public var audience: String
        public var matchImages: [String]
        public var username: String
        public var serviceAccountAnnotationKey: String?
        /// Hosts of the registries served by this entry, in configuration order.
        public var registryHosts: [String]
    }

    public var entries: [Entry]

    /// Groups registries by audience in the order the audiences first appear. The first
    /// audience gets the configured provider name; each further audience gets the name plus
    /// its audience in file-name-safe form, so the name stays the same when registries are
    /// reordered or added.
    public init(configuration: AgentConfiguration) throws(ConfigurationError) {
        var entries: [Entry] = []
        for registry in configuration.registries {
            if let index = entries.firstIndex(where: { $0.audience == registry.audience }) {
                var entry = entries[index]
                if entry.username != registry.username
                    || entry.serviceAccountAnnotationKey != registry.serviceAccountAnnotationKey
                {
                    throw ConfigurationError(
                        "registries \(entry.registryHosts[0]) and \(registry.host) share the audience \(registry.audience) but differ in username or serviceAccountAnnotationKey",
                        fix: "give registries with one audience the same username and annotation key, or give them different audiences"
                    )
                }
                entry.matchImages += registry.matchImages.filter { !entry.matchImages.contains($0) }
                entry.registryHosts.append(registry.host)
                entries[index] = entry
            } else {
                let name =
                    entries.isEmpty
                    ? configuration.providerName
                    : "\(configuration.providerName)-\(Self.fileNameSafe(registry.audience))"
                entries.append(
                    Entry(
                        name: name,
                        audience: registry.audience,
                        matchImages: registry.matchImages,
                        username: registry.username,
                        serviceAccountAnnotationKey: registry.serviceAccountAnnotationKey,
                        registryHosts: [registry.host]
                    )
                )
            }
        }
        var seen: [String: String] = [:]
        for entry in entries {
            if let other = seen[entry.name] {
                throw ConfigurationError(
                    "the audiences \(other) and \(entry.audience) both map to the provider name \(entry.name)",
                    fix: "give one of these registries another audience; provider names replace ':' '[' ']' with '-'"
                )
            }
            seen[entry.name] = entry.audience
        }
        self.entries = entries
    }

    public var names: [String] { entries.map(\.name) }

    /// Maps an audience (host syntax, already validated) to provider-name characters:
    /// `[` `]` and `:` become `-`.
    static func fileNameSafe(_ audience: String) -> String {
        String(audience.map { $0.isASCIIAlphanumeric || $0 == "." || $0 == "-" ? $0 : "-" })
    }
}
