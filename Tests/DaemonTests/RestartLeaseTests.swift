import APIStandInSupport
import Foundation
import KubeAPI
import Synchronization
import Testing
@testable import Agent

/// Times during which a test agent held its restart permit.
final class Intervals: Sendable {
    let list = Mutex<[(start: Date, end: Date)]>([])
}

extension DaemonTests {
    /// Restart Leases against the kube-apiserver stand-in (Tests/apistandin), which keeps
    /// Leases with resourceVersions and returns 409 on a stale write, like the real API server.
    @Suite("Restart Leases")
    struct RestartLeaseTests {
        @Test("one holder at a time for one slot")
        func contention() async throws {
            let standIn = try await APIStandIn.start(["nodes": ["node-a": [:], "node-b": [:], "node-c": [:], "node-d": [:]]])
            let intervals = Intervals()

            // Four agents restart at once; each holds its permit for 300 ms.
            await withTaskGroup(of: Void.self) { group in
                for node in ["node-a", "node-b", "node-c", "node-d"] {
                    group.addTask {
                        let permit = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: node), isControlPlane: false, logger: LogCapture().logger)
                        guard let held = try? await permit.acquire(unit: "k3s.service") else { return }
                        let start = Date()
                        try? await Task.sleep(for: .milliseconds(300))
                        let end = Date()
                        intervals.list.withLock { $0.append((start, end)) }
                        await held.release()
                    }
                }
            }

            let sorted = intervals.list.withLock { $0 }.sorted { $0.start < $1.start }
            #expect(sorted.count == 4)
            for (earlier, later) in zip(sorted, sorted.dropFirst()) {
                #expect(earlier.end <= later.start)
            }
            let lease = try? await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-0")
            #expect(lease == nil)
        }

        @Test("two slots allow two holders")
        func twoSlots() async throws {
            let standIn = try await APIStandIn.start()
            let a = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-a", slots: 2), isControlPlane: false, logger: LogCapture().logger)
            let b = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-b", slots: 2), isControlPlane: false, logger: LogCapture().logger)

            let first = try await a.acquire(unit: "k3s.service")
            let second = try await b.acquire(unit: "k3s.service")
            let zero = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-0")
            let one = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-1")
            #expect(Set([zero.spec.holderIdentity, one.spec.holderIdentity]) == ["node-a", "node-b"])
            await first.release()
            await second.release()
        }

        @Test("a held slot times out a waiting agent")
        func waitTimesOut() async throws {
            let standIn = try await APIStandIn.start()
            let a = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-a"), isControlPlane: false, logger: LogCapture().logger)
            var waiting = fastLeaseSettings(holder: "node-b")
            waiting.waitTimeout = .milliseconds(500)
            let b = LeaseRestartPermit(client: standIn.agentClient(), settings: waiting, isControlPlane: false, logger: LogCapture().logger)

            let held = try await a.acquire(unit: "k3s.service")
            await #expect(throws: RestartLeaseError.self) { _ = try await b.acquire(unit: "k3s.service") }
            await held.release()
        }

        @Test("expired lease is taken over")
        func expiredTakeover() async throws {
            let standIn = try await APIStandIn.start()
            let stale = Date().addingTimeInterval(-3600)
            _ = try await standIn.adminClient().createLease(namespace: "harbor-keyless", lease: Lease(
                metadata: ObjectMeta(name: "harbor-keyless-restart-0", namespace: "harbor-keyless"),
                spec: .init(holderIdentity: "node-gone", leaseDurationSeconds: 600, acquireTime: KubeTime.micro(stale), renewTime: KubeTime.micro(stale), leaseTransitions: 3)
            ))
            let logs = LogCapture()
            let permit = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-a"), isControlPlane: false, logger: logs.logger)

            let held = try await permit.acquire(unit: "k3s.service")
            let lease = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-0")
            #expect(lease.spec.holderIdentity == "node-a")
            #expect(lease.spec.leaseTransitions == 4)
            #expect(logs.count(containing: "previousHolder=node-gone") == 1)
            await held.release()
        }

        @Test("live lease of another node is not taken")
        func liveLeaseKept() async throws {
            let standIn = try await APIStandIn.start()
            _ = try await standIn.adminClient().createLease(namespace: "harbor-keyless", lease: Lease(
                metadata: ObjectMeta(name: "harbor-keyless-restart-0", namespace: "harbor-keyless"),
                spec: .init(holderIdentity: "node-b", leaseDurationSeconds: 600, renewTime: KubeTime.micro(Date()))
            ))
            let permit = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-a"), isControlPlane: false, logger: LogCapture().logger)

            #expect(try await permit.take("harbor-keyless-restart-0") == nil)
            let lease = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-0")
            #expect(lease.spec.holderIdentity == "node-b")
        }

        @Test("stale write gets 409 and is retried")
        func conflictRetried() async throws {
            let standIn = try await APIStandIn.start()
            let permit = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-a"), isControlPlane: false, logger: LogCapture().logger)
            let created = try #require(try await permit.take("harbor-keyless-restart-0"))

            // A write with an old resourceVersion is rejected with 409, then renew reads again.
            _ = try await standIn.adminClient().updateLease(namespace: "harbor-keyless", lease: created)
            let renewed = await permit.renew(created)
            #expect(renewed?.spec.holderIdentity == "node-a")
            #expect(standIn.count(method: "PUT", pathPrefix: "/apis/coordination.k8s.io/v1/namespaces/harbor-keyless/leases/", status: 409) == 1)
        }

        @Test("control-plane nodes restart one at a time")
        func controlPlane() async throws {
            let label = ["node-role.kubernetes.io/control-plane": "true"]
            let standIn = try await APIStandIn.start(["nodes": ["node-a": ["labels": label], "node-b": ["labels": label], "node-c": [:]]])
            let a = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-a", slots: 3), isControlPlane: true, logger: LogCapture().logger)
            var waiting = fastLeaseSettings(holder: "node-b", slots: 3)
            waiting.waitTimeout = .milliseconds(500)
            let b = LeaseRestartPermit(client: standIn.agentClient(), settings: waiting, isControlPlane: true, logger: LogCapture().logger)
            let c = LeaseRestartPermit(client: standIn.agentClient(), settings: fastLeaseSettings(holder: "node-c", slots: 3), isControlPlane: false, logger: LogCapture().logger)

            let heldA = try await a.acquire(unit: "k3s.service")
            let shared = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-control-plane")
            #expect(shared.spec.holderIdentity == "node-a")
            await #expect(throws: RestartLeaseError.self) { _ = try await b.acquire(unit: "k3s.service") }

            // An agent node still restarts next to a control-plane node while a slot is free.
            let heldC = try await c.acquire(unit: "k3s.service")
            await heldC.release()

            await heldA.release()
            let heldB = try await b.acquire(unit: "k3s.service")
            await heldB.release()
        }

        @Test("node identity without Lease permission restarts uncoordinated")
        func uncoordinated() async throws {
            let standIn = try await APIStandIn.start()
            let logs = LogCapture()
            let client = standIn.client(standIn.credentials(client: "node-a"))
            let permit = LeaseRestartPermit(client: client, settings: fastLeaseSettings(holder: "node-a"), isControlPlane: false, logger: logs.logger)

            let first = try await permit.acquire(unit: "k3s.service")
            await first.release()
            let second = try await permit.acquire(unit: "k3s.service")
            await second.release()

            #expect(first is Uncoordinated)
            #expect(logs.count(containing: "msg=\"restart uncoordinated\" node=node-a reason=") == 1)
            #expect(permit.isUncoordinated)
        }

        @Test("held lease is renewed")
        func renewal() async throws {
            let standIn = try await APIStandIn.start()
            var settings = fastLeaseSettings(holder: "node-a")
            settings.leaseDuration = .seconds(3)
            let permit = LeaseRestartPermit(client: standIn.agentClient(), settings: settings, isControlPlane: false, logger: LogCapture().logger)

            let held = try await permit.acquire(unit: "k3s.service")
            let before = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-0")
            try await Task.sleep(for: .milliseconds(2300))
            let after = try await standIn.adminClient().lease(namespace: "harbor-keyless", name: "harbor-keyless-restart-0")
            #expect(after.spec.renewTime != before.spec.renewTime)
            #expect(after.spec.holderIdentity == "node-a")
            await held.release()
        }

        @Test("expiry follows renewTime plus duration", arguments: [
            (-30.0, 10, true),
            (-5.0, 10, false),
            (0.0, 600, false),
        ])
        func expiry(renewedSecondsAgo: Double, duration: Int, expired: Bool) {
            let renew = KubeTime.micro(Date().addingTimeInterval(renewedSecondsAgo))
            let lease = Lease(metadata: ObjectMeta(name: "x"), spec: .init(holderIdentity: "n", leaseDurationSeconds: duration, renewTime: renew))
            #expect(LeaseRestartPermit.isExpired(lease, now: Date()) == expired)
        }
    }
}
