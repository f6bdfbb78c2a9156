/// What harbor-keyless is configured to set up on this node, as the checks compare it with
/// the host and the cluster. The CLI and the daemon build it from the agent configuration;
/// it is a plain value so this module does not depend on the agent's.
public struct NodeSetup: Sendable, Equatable {
    /// One provider entry: one audience, its executable `<bin-dir>/<name>`, and the registries
    /// it serves.
    public struct Provider: Sendable, Equatable {
        public var name: String
        public var audience: String
        public var matchImages: [String]
        public var username: String
        /// The annotation a service account needs before the kubelet runs the plugin for it;
        /// nil when every service account gets a token.
        public var serviceAccountAnnotationKey: String?
        /// Registry hosts (`host` or `host:port`) served by this entry.
        public var registryHosts: [String]

        public init(
            name: String, audience: String, matchImages: [String], username: String,
            serviceAccountAnnotationKey: String?, registryHosts: [String]
        ) {
            self.name = name
            self.audience = audience
            self.matchImages = matchImages
            self.username = username
            self.serviceAccountAnnotationKey = serviceAccountAnnotationKey
            self.registryHosts = registryHosts
        }
    }

    public var providers: [Provider]
    /// The k3s configuration file on the node; its drop-ins live in `<file>.d`.
    public var k3sConfigPath: String
    /// The agent's state directory on the node, holding `state.json`.
    public var stateDirectory: String
    /// The k3s systemd unit; nil to detect it from the unit files on the node.
    public var unit: String?

    public init(providers: [Provider], k3sConfigPath: String, stateDirectory: String, unit: String?) {
        self.providers = providers
        self.k3sConfigPath = k3sConfigPath
        self.stateDirectory = stateDirectory
        self.unit = unit
    }

    /// Every configured registry host, in configuration order.
    public var registryHosts: [String] { providers.flatMap(\.registryHosts) }
}

/// Inputs of a doctor run that only an operator gives.
public struct DoctorOptions: Sendable, Equatable {
    /// A service account named as namespace and name.
    public struct ServiceAccount: Sendable, Equatable, CustomStringConvertible {
        public var namespace: String
        public var name: String

        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }

        /// Parses `ns/name`; nil for anything else.
        /// Parses `NAMESPACE/NAME`. The namespace must be a DNS label and the name a DNS
        /// subdomain (Kubernetes object name rules), so neither can add path segments to a
        /// request such as `.../serviceaccounts/NAME/token`.
        public init?(parsing text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, Self.isDNSLabel(parts[0]), parts[1].split(separator: ".", omittingEmptySubsequences: false).allSatisfy(Self.isDNSLabel),
                parts[1].count <= 253
            else { return nil }
            self.init(namespace: String(parts[0]), name: String(parts[1]))
        }

        /// Lowercase letters, digits and inner '-', 1 to 63 characters (RFC 1123 label).
        static func isDNSLabel(_ text: Substring) -> Bool {
            !text.isEmpty && text.count <= 63 && text.first != "-" && text.last != "-"
                && text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
        }

        public var description: String { "\(namespace)/\(name)" }
    }

    /// Service accounts whose node-audience permission is checked by name.
    public var serviceAccounts: [ServiceAccount]
    /// The service account whose token `registry.login` mints and presents to the registry.
    public var loginTest: ServiceAccount?
    /// PEM file of CAs trusted for the registry; nil for the system bundle.
    public var registryCAFile: String?

    public init(serviceAccounts: [ServiceAccount] = [], loginTest: ServiceAccount? = nil, registryCAFile: String? = nil) {
        self.serviceAccounts = serviceAccounts
        self.loginTest = loginTest
        self.registryCAFile = registryCAFile
    }
}
