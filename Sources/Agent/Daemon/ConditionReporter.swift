import FoundationEssentials
internal import KubeAPI

/// Writes the node condition `HarborCredentialProviderReady` with one strategic-merge PATCH
/// of `nodes/status`, only when the readiness changed, when the heartbeat is due, or to retry
/// a write that failed. Every status PATCH rewrites the whole Node object in the datastore,
/// so a steady node costs one write per heartbeat. Each change of status also posts a
/// core/v1 Event about the Node.
actor ConditionReporter {
    private let client: KubeClient
    private let node: String
    private let eventNamespace: String
    private let heartbeat: Duration
    private let logger: DaemonLogger

    private var written: NodeReadiness?
    private var transitionTime: String?
    private var lastWrite: ContinuousClock.Instant?
    private var nodeUID: String?

    init(client: KubeClient, node: String, eventNamespace: String, heartbeat: Duration, logger: DaemonLogger) {
        self.client = client
        self.node = node
        self.eventNamespace = eventNamespace
        self.heartbeat = heartbeat
        self.logger = logger
    }

    /// Starts from the condition the Node already carries, so an agent restart neither
    /// rewrites an unchanged condition before its heartbeat is due nor moves its
    /// lastTransitionTime.
    func seed(from node: Node) {
        nodeUID = node.metadata.uid
        guard written == nil, let condition = node.condition(NodeReadiness.conditionType) else { return }
        written = NodeReadiness(status: condition.status, reason: condition.reason ?? "", message: condition.message ?? "")
        transitionTime = condition.lastTransitionTime
        let age = condition.lastHeartbeatTime.flatMap(Self.parseTime).map { Date().timeIntervalSince($0) }
        if let age, age >= 0, age < heartbeat.seconds {
            lastWrite = ContinuousClock.now - .seconds(age)
        }
    }

    /// Writes `readiness` when needed. Returns true when the API server stores this value now.
    @discardableResult
    func report(_ readiness: NodeReadiness) async -> Bool {
        let now = ContinuousClock.now
        let heartbeatDue = lastWrite.map { now - $0 >= heartbeat } ?? true
        guard readiness != written || heartbeatDue else { return true }

        let statusChanged = readiness.status != written?.status
        let time = KubeTime.rfc3339(Date())
        let transition = statusChanged || transitionTime == nil ? time : transitionTime!
        let condition = NodeCondition(
            type: NodeReadiness.conditionType,
            status: readiness.status,
            reason: readiness.reason,
            message: readiness.message,
            lastHeartbeatTime: time,
            lastTransitionTime: transition
        )
        do {
            let updated = try await client.patchNodeStatusCondition(node: node, condition: condition)
            nodeUID = updated.metadata.uid ?? nodeUID
        } catch {
            logger.error("cannot write the node condition; retrying next cycle", [("node", node), ("condition", NodeReadiness.conditionType), ("error", "\(error)")])
            return false
        }

        let previous = written
        written = readiness
        transitionTime = transition
        lastWrite = .now
        logger.info("wrote node condition", [
            ("node", node), ("status", readiness.status), ("reason", readiness.reason), ("heartbeat", statusChanged || readiness != previous ? "false" : "true"),
        ])
        if statusChanged {
            await postEvent(readiness, previous: previous, time: time)
        }
        return true
    }

    private func postEvent(_ readiness: NodeReadiness, previous: NodeReadiness?, time: String) async {
        let event = CoreEvent.aboutNode(
            node,
            uid: nodeUID,
            type: readiness.isReady ? "Normal" : "Warning",
            reason: readiness.reason,
            message: "\(NodeReadiness.conditionType) is \(readiness.status)" + (previous.map { " (was \($0.status))" } ?? "") + ": \(readiness.message)",
            component: "harbor-keyless",
            time: time
        )
        do {
            _ = try await client.createEvent(namespace: eventNamespace, event: event)
        } catch {
            // Not retried: a retry after a lost response would record the event twice.
            logger.error("cannot post the readiness event", [("node", node), ("namespace", eventNamespace), ("reason", readiness.reason), ("error", "\(error)")])
        }
    }

    private static func parseTime(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text)
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
