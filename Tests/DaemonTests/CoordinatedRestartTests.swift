import NodeTestSupport
import APIStandInSupport
import Foundation
import Testing

extension DaemonTests {
    /// Two real `harbor-keyless run` processes restart k3s on one systemd stand-in (a Python
    /// service on a private D-Bus bus, NOT systemd) while the kube-apiserver stand-in holds
    /// their restart Leases. The host roots have no journal, so each restart fails its kubelet
    /// flags check and is rolled back: two RestartUnit calls per agent, all under one Lease.
    @Suite("Coordinated restarts", .serialized)
    struct CoordinatedRestartTests {
        @Test("two agents restart one at a time")
        func oneAtATime() async throws {
            let bus = try PrivateBus()
            try bus.startStandIn(#"{"units": {"k3s.service": {"restart": "done", "delay_ms": 100}}}"#)
            let standIn = try await APIStandIn.start()
            let kubeconfig = try writeKubeconfig(standIn)
            defer { try? FileManager.default.removeItem(atPath: kubeconfig) }

            let agents = try ["node-a", "node-b"].map { node in
                try DaemonProcess(
                    extraArguments: [
                        "--kubeconfig", kubeconfig, "--node-name", node, "--namespace", "harbor-keyless",
                        "--unit", "k3s.service", "--settle-window", "5s",
                    ],
                    environment: ["DBUS_SYSTEM_BUS_ADDRESS": bus.address],
                    restartPolicy: "if-changed",
                    interval: "30s"
                )
            }
            for agent in agents {
                #expect(agent.waitForLog("msg=\"restart of k3s failed\" result=rolled-back", timeout: 60))
                #expect(agent.log.contains("msg=\"took restart lease\""))
                #expect(agent.log.contains("msg=\"released restart lease\" lease=harbor-keyless-restart-0"))
            }

            // Each agent's restart and rollback restart follow each other without the other's
            // restarts in between.
            let senders = try bus.calls().filter { $0.member == "RestartUnit" }.map(\.sender)
            #expect(senders.count == 4)
            if senders.count == 4 {
                #expect(senders[0] == senders[1])
                #expect(senders[2] == senders[3])
                #expect(senders[1] != senders[2])
            }

            // The Lease was taken twice, and the loser waited for it rather than restarting.
            #expect(standIn.count(method: "DELETE", pathPrefix: "/apis/coordination.k8s.io/v1/namespaces/harbor-keyless/leases/harbor-keyless-restart-0", status: 200) == 2)
            #expect(agents.contains { $0.log.contains("msg=\"waiting for a restart lease\"") })
        }
    }
}
