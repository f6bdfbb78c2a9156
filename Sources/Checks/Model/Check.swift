/// One diagnostic: a stable id that scripts and the daemon's metrics key on, a title for
/// people, the area it belongs to, and the work. `run` never throws: every failure to check
/// becomes a result (`skip` when the identity lacks a permission, `warn` when a source did
/// not respond), so one broken source cannot hide the other checks.
public struct Check: Sendable {
    public var id: String
    public var title: String
    public var area: CheckArea
    public var run: @Sendable (CheckContext) async -> CheckResult

    public init(id: String, title: String, area: CheckArea, run: @escaping @Sendable (CheckContext) async -> CheckResult) {
        self.id = id
        self.title = title
        self.area = area
        self.run = run
    }
}

/// The part of the setup a check looks at; reports group results by area, in this order.
public enum CheckArea: String, Sendable, CaseIterable, Codable {
    case host
    case restart
    case kubelet
    case version
    case featureGates = "feature-gates"
    case cluster
    case pullSafety = "pull-safety"
    case journal
    case registry

    public var title: String {
        switch self {
        case .host: "Host files"
        case .restart: "Restart"
        case .kubelet: "Kubelet"
        case .version: "Versions"
        case .featureGates: "Feature gates"
        case .cluster: "Cluster"
        case .pullSafety: "Pull safety"
        case .journal: "Journal"
        case .registry: "Registry"
        }
    }
}
