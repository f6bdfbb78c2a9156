/// The metav1.ObjectMeta fields harbor-keyless reads or sets.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var creationTimestamp: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?

    public init(
        name: String? = nil,
        generateName: String? = nil,
        namespace: String? = nil,
        uid: String? = nil,
        resourceVersion: String? = nil,
        labels: [String: String]? = nil,
        annotations: [String: String]? = nil
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.labels = labels
        self.annotations = annotations
    }
}

/// The body of GET /version.
public struct KubeVersion: Codable, Sendable, Equatable {
    public var major: String
    public var minor: String
    public var gitVersion: String
    public var gitCommit: String?
    public var gitTreeState: String?
    public var buildDate: String?
    public var goVersion: String?
    public var compiler: String?
    public var platform: String?
}
