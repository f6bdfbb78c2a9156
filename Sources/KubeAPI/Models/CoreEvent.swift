/// A core/v1 Event. The node identity may create these but not events.k8s.io/v1 Events
/// (kubernetes bootstrap policy NodeRules), so node readiness transitions use this type.
public struct CoreEvent: Codable, Sendable, Equatable {
    public var apiVersion: String = "v1"
    public var kind: String = "Event"
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String
    public var message: String
    public var type: String
    public var source: EventSource?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public struct ObjectReference: Codable, Sendable, Equatable {
        public var apiVersion: String?
        public var kind: String
        public var name: String
        public var namespace: String?
        public var uid: String?
    }

    public struct EventSource: Codable, Sendable, Equatable {
        public var component: String?
        public var host: String?
    }

    /// Makes an event about a Node. Post it in namespace `default`, where the kubelet posts
    /// its own Node events, because a Node has no namespace.
    public static func aboutNode(
        _ node: String,
        uid: String?,
        type: String,
        reason: String,
        message: String,
        component: String,
        time: String
    ) -> CoreEvent {
        CoreEvent(
            metadata: ObjectMeta(generateName: "\(node)."),
            involvedObject: ObjectReference(apiVersion: "v1", kind: "Node", name: node, namespace: nil, uid: uid),
            reason: reason,
            message: message,
            type: type,
            source: EventSource(component: component, host: node),
            firstTimestamp: time,
            lastTimestamp: time,
            count: 1,
            reportingComponent: component,
            reportingInstance: node
        )
    }
}
