import FoundationEssentials
import Synchronization
internal import KubeAPI

/// Limits restarts of k3s across the cluster with coordination.k8s.io/v1 Leases in the
/// agent's namespace. A node restarts only while it holds one of `slots` Leases named
/// `harbor-keyless-restart-<i>`. A control-plane node must also hold the shared Lease
/// `harbor-keyless-restart-control-plane`, so two control-plane nodes never restart
/// together and etcd keeps quorum. A held Lease is renewed until release; a Lease whose
/// renewTime + leaseDurationSeconds lies in the past is taken over.
///
/// An identity that may not use Leases in that namespace (the kubelet's `system:node:<name>`
/// of the .deb daemon gets 403) restarts without coordination and logs that once.
public final class LeaseRestartPermit: RestartPermit {
    public struct Settings: Sendable {
        public var namespace: String
        public var holder: String
        public var slots: Int = 1
        public var leaseDuration: Duration = .seconds(600)
        /// How long `acquire` waits for a free Lease before the restart stays pending.
        public var waitTimeout: Duration = .seconds(600)
        /// Base delay between attempts while every Lease is held or a write conflicted.
        public var retryDelay: Duration = .seconds(5)
        /// How long release waits for the node's Ready condition after the restart.
        public var readyTimeout: Duration = .seconds(300)

        public init(namespace: String, holder: String) {
            self.namespace = namespace
            self.holder = holder
        }
    }

    static let slotPrefix = "harbor-keyless-restart-"
    static let controlPlaneLease = "harbor-keyless-restart-control-plane"

    let client: KubeClient
    let settings: Settings
    let logger: DaemonLogger
    /// Set from the Node's labels (`node-role.kubernetes.io/control-plane`).
    let isControlPlane: Mutex<Bool>
    private let uncoordinatedLogged = Mutex(false)

    init(client: KubeClient, settings: Settings, isControlPlane: Bool, logger: DaemonLogger) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.isControlPlane = Mutex(isControlPlane)
    }

    public func acquire(unit: String) async throws -> any RestartPermission {
        let deadline = ContinuousClock.now + settings.waitTimeout
        let controlPlane = isControlPlane.withLock { $0 }
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                if let held = try await tryAcquire(controlPlane: controlPlane) {
                    logger.info("took restart lease", [("node", settings.holder), ("unit", unit), ("leases", held.map(\.metadata.name!).joined(separator: ","))])
                    return LeaseHold(permit: self, leases: held)
                }
            } catch .forbidden(let verb, let resource, _, _) {
                noteUncoordinated("the identity may not \(verb) \(resource) in namespace \(settings.namespace)")
                return Uncoordinated()
            } catch {
                logger.warning("cannot take a restart lease; retrying", [("node", settings.holder), ("namespace", settings.namespace), ("error", "\(error)")])
            }

            attempt += 1
            let delay = backoff(attempt)
            guard ContinuousClock.now + delay < deadline else {
                throw RestartLeaseError(message: "every restart lease in namespace \(settings.namespace) stayed held for \(Int(settings.waitTimeout.seconds)) s")
            }
            logger.info("waiting for a restart lease", [("node", settings.holder), ("namespace", settings.namespace), ("attempt", "\(attempt)")])
            try await Task.sleep(for: delay)
        }
    }

    /// Takes the control-plane Lease when needed, then the first free slot. Returns nil, with
    /// nothing held, when either is taken by another node.
    private func tryAcquire(controlPlane: Bool) async throws(KubeAPIError) -> [Lease]? {
        var held: [Lease] = []
        if controlPlane {
            guard let lease = try await take(Self.controlPlaneLease) else { return nil }
            held.append(lease)
        }
        // Start at a random slot, so waiting nodes do not all contend for slot 0.
        let offset = Int.random(in: 0..<max(settings.slots, 1))
        for index in 0..<settings.slots {
            let name = Self.slotPrefix + String((offset + index) % settings.slots)
            do {
                if let lease = try await take(name) {
                    return held + [lease]
                }
            } catch {
                await releaseAll(held)
                throw error
            }
        }
        await releaseAll(held)
        return nil
    }

    /// Takes one Lease: creates it when missing, takes it over when it is free, expired or
    /// already ours. Returns nil when another holder has it or a write conflicted.
    func take(_ name: String) async throws(KubeAPIError) -> Lease? {
        let now = Date()
        let spec = Lease.LeaseSpec(
            holderIdentity: settings.holder,
            leaseDurationSeconds: Int(settings.leaseDuration.seconds),
            acquireTime: KubeTime.micro(now),
            renewTime: KubeTime.micro(now),
            leaseTransitions: 0
        )

        let current: Lease
        do {
            current = try await client.lease(namespace: settings.namespace, name: name)
        } catch .notFound {
            do {
                return try await client.createLease(namespace: settings.namespace, lease: Lease(metadata: ObjectMeta(name: name, namespace: settings.namespace), spec: spec))
            } catch .conflict {
                return nil
            }
        }

        let holder = current.spec.holderIdentity ?? ""
        guard holder.isEmpty || holder == settings.holder || Self.isExpired(current, now: now) else { return nil }
        var next = current
        next.spec.holderIdentity = settings.holder
        next.spec.leaseDurationSeconds = spec.leaseDurationSeconds
        next.spec.renewTime = spec.renewTime
        if holder != settings.holder {
            next.spec.acquireTime = spec.acquireTime
            next.spec.leaseTransitions = (current.spec.leaseTransitions ?? 0) + 1
            if !holder.isEmpty {
                logger.info("taking over an expired restart lease", [("lease", name), ("previousHolder", holder), ("node", settings.holder)])
            }
        }
        do {
            return try await client.updateLease(namespace: settings.namespace, lease: next)
        } catch .conflict {
            return nil
        }
    }

    /// True when `renewTime + leaseDurationSeconds` lies before `now`. A Lease without a
    /// renew time or duration counts as expired, because no holder keeps it alive.
    static func isExpired(_ lease: Lease, now: Date) -> Bool {
        guard let renew = lease.spec.renewTime.flatMap(parseMicroTime), let duration = lease.spec.leaseDurationSeconds else { return true }
        return renew.addingTimeInterval(Double(duration)) < now
    }

    static func parseMicroTime(_ text: String) -> Date? {
        // metav1.MicroTime: RFC 3339 with six fractional digits.
        var strategy = Date.ISO8601FormatStyle()
        strategy = strategy.time(includingFractionalSeconds: true)
        return (try? strategy.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    /// Renews `lease`; returns the updated Lease, or nil when it is no longer ours.
    func renew(_ lease: Lease) async -> Lease? {
        var next = lease
        next.spec.renewTime = KubeTime.micro(Date())
        do {
            return try await client.updateLease(namespace: settings.namespace, lease: next)
        } catch .conflict {
            // Someone wrote in between: read again and renew only if it is still ours.
            guard let current = try? await client.lease(namespace: settings.namespace, name: lease.metadata.name ?? ""),
                current.spec.holderIdentity == settings.holder
            else { return nil }
            return await renew(current)
        } catch {
            logger.warning("cannot renew the restart lease; retrying", [("lease", lease.metadata.name ?? ""), ("error", "\(error)")])
            return lease
        }
    }

    /// Deletes each Lease if it is still ours, with its resourceVersion as precondition.
    func releaseAll(_ leases: [Lease]) async {
        for lease in leases.reversed() {
            guard let name = lease.metadata.name else { continue }
            let current = (try? await client.lease(namespace: settings.namespace, name: name)) ?? lease
            guard current.spec.holderIdentity == settings.holder else { continue }
            do {
                try await client.deleteLease(namespace: settings.namespace, name: name, resourceVersion: current.metadata.resourceVersion)
                logger.info("released restart lease", [("lease", name), ("node", settings.holder)])
            } catch .notFound {
                continue
            } catch {
                logger.error("cannot release the restart lease; it expires on its own", [("lease", name), ("error", "\(error)")])
            }
        }
    }

    /// Waits until the node's Ready condition is True again, or `readyTimeout` passed.
    /// NOTE: right after a restart, Ready may still show the status from before it, until the
    /// node controller's grace period (40 s by default) passes. The settle window before this
    /// wait usually covers that, but a short `--settle-window` does not.
    func waitForNodeReady() async {
        let deadline = ContinuousClock.now + settings.readyTimeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let node = try? await client.node(settings.holder), node.condition("Ready")?.status == "True" {
                return
            }
            try? await Task.sleep(for: .seconds(5))
        }
        logger.warning("node not Ready after the restart; releasing the restart lease anyway", [("node", settings.holder)])
    }

    private func noteUncoordinated(_ reason: String) {
        let first = uncoordinatedLogged.withLock { logged in
            defer { logged = true }
            return !logged
        }
        if first {
            logger.warning("restart uncoordinated", [("node", settings.holder), ("reason", reason)])
        }
    }

    private func backoff(_ attempt: Int) -> Duration {
        let base = settings.retryDelay.seconds * Double(1 << min(attempt - 1, 4))
        return .milliseconds(Int64(base * Double.random(in: 0.8...1.2) * 1000))
    }

    /// Whether the last acquire ran without Leases.
    var isUncoordinated: Bool { uncoordinatedLogged.withLock { $0 } }
}

/// Leases held for one restart, renewed until released.
final class LeaseHold: RestartPermission {
    private let permit: LeaseRestartPermit
    private let renewal: Task<Void, Never>
    private let leases: HeldLeases

    final class HeldLeases: Sendable {
        let list: Mutex<[Lease]>
        init(_ leases: [Lease]) { list = Mutex(leases) }
    }

    init(permit: LeaseRestartPermit, leases: [Lease]) {
        self.permit = permit
        let held = HeldLeases(leases)
        self.leases = held
        let interval = permit.settings.leaseDuration / 3
        renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                for lease in held.list.withLock({ $0 }) {
                    guard let renewed = await permit.renew(lease) else { continue }
                    held.list.withLock { list in
                        if let index = list.firstIndex(where: { $0.metadata.name == renewed.metadata.name }) {
                            list[index] = renewed
                        }
                    }
                }
            }
        }
    }

    func release() async {
        await permit.waitForNodeReady()
        renewal.cancel()
        await permit.releaseAll(leases.list.withLock { $0 })
    }

    deinit {
        renewal.cancel()
    }
}

/// The permit of an identity that may not use Leases: restarts alone.
struct Uncoordinated: RestartPermission {
    func release() async {}
}

public struct RestartLeaseError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "\(message); the restart stays pending and is tried again next cycle" }
}
