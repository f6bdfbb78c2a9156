import APIStandInSupport
import Foundation
import Testing

/// A running `harbor-keyless run` on a temporary copy of the k3s node fixture, with restart
/// policy `never` so no systemd is needed. Its standard error is collected in a file.
final class DaemonProcess {
    let node: TemporaryNode
    let process = Process()
    let logPath: String
    let configPath: String

    init(
        extraArguments: [String] = ["--no-api"],
        environment: [String: String] = [:],
        registry: String = "harbor.example.com",
        restartPolicy: String = "never",
        interval: String = "1s",
        on shared: TemporaryNode? = nil
    ) throws {
        node = try shared ?? TemporaryNode()
        let name = shared == nil ? "daemon" : "daemon-\(UUID().uuidString.prefix(8))"
        logPath = node.root + "/\(name).log"
        configPath = node.root + "/\(name).yaml"
        try Self.writeConfiguration(registry: registry, to: configPath)
        FileManager.default.createFile(atPath: logPath, contents: nil)

        process.executableURL = URL(fileURLWithPath: buildDirectory + "/harbor-keyless")
        process.arguments = [
            "run", "--host-root", node.root, "--config", configPath, "--restart", restartPolicy,
            "--plugin-binary", buildDirectory + "/credential-provider-harbor",
            "--interval", interval, "--listen", "127.0.0.1:0",
        ] + extraArguments
        var merged = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("HARBOR_KEYLESS_") && !["NODE_NAME", "POD_NAMESPACE", "DBUS_SYSTEM_BUS_ADDRESS"].contains($0.key)
        }
        merged.merge(environment) { $1 }
        process.environment = merged
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    static func writeConfiguration(registry: String, to path: String) throws {
        try Data("registries:\n  - host: \(registry)\n".utf8).write(to: URL(fileURLWithPath: path + ".tmp"))
        _ = rename(path + ".tmp", path)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` seconds for a log line containing `text`, written after the
    /// first line containing `after` when given.
    func waitForLog(_ text: String, after: String? = nil, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var written = Substring(log)
            if let after {
                written = written.range(of: after).map { written[$0.upperBound...] } ?? ""
            }
            if written.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    var port: UInt16? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("msg=\"starting\"") }),
            let field = line.split(separator: " ").first(where: { $0.hasPrefix("port=") })
        else { return nil }
        return UInt16(field.dropFirst(5))
    }

    func get(_ path: String) throws -> String {
        let client = try RawClient(port: try #require(port))
        client.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return client.receiveAll()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        node.remove()
    }
}

extension DaemonTests {
    @Suite("harbor-keyless run", .serialized)
    struct DaemonProcessTests {
        @Test("SIGTERM stops it within two seconds")
        func sigterm() throws {
            let daemon = try DaemonProcess()
            #expect(daemon.waitForLog("msg=\"check status changed\" check=host-files"))

            let started = Date()
            kill(daemon.process.processIdentifier, SIGTERM)
            daemon.process.waitUntilExit()
            #expect(Date().timeIntervalSince(started) < 2)
            #expect(daemon.process.terminationStatus == 0)
            #expect(daemon.log.contains("msg=\"stopped\" signal=15"))
        }

        @Test("SIGINT stops it too")
        func sigint() throws {
            let daemon = try DaemonProcess()
            #expect(daemon.waitForLog("msg=\"starting\""))
            kill(daemon.process.processIdentifier, SIGINT)
            daemon.process.waitUntilExit()
            #expect(daemon.process.terminationStatus == 0)
            #expect(daemon.log.contains("msg=\"stopped\" signal=2"))
        }

        @Test("it installs the files and serves its status")
        func installsAndServes() throws {
            let daemon = try DaemonProcess()
            #expect(daemon.waitForLog("msg=\"repaired file\" path=/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"))
            #expect(FileManager.default.fileExists(atPath: daemon.node.root + "/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"))
            #expect(try daemon.get("/healthz").hasPrefix("HTTP/1.1 200"))
            // Restart policy never leaves the restart pending, which the restart.pending check fails.
            #expect(daemon.waitForLog("msg=\"check status changed\" check=restart.pending from=none to=fail"))
            let metrics = try daemon.get("/metrics")
            #expect(metrics.contains("harbor_keyless_check_status{check=\"host-files\",status=\"pass\"} 1"))
            #expect(metrics.contains("harbor_keyless_check_status{check=\"restart.pending\",status=\"fail\"} 1"))
            #expect(metrics.contains("harbor_keyless_node_ready 0"))
        }

        @Test("drift is repaired")
        func repairsDrift() throws {
            let daemon = try DaemonProcess()
            let dropIn = daemon.node.root + "/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
            #expect(daemon.waitForLog("msg=\"check status changed\" check=host-files"))
            let original = try String(contentsOfFile: dropIn, encoding: .utf8)

            try FileManager.default.removeItem(atPath: dropIn)
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: dropIn), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try String(contentsOfFile: dropIn, encoding: .utf8) == original)
            #expect(daemon.waitForLog("msg=\"repaired file\" path=/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml kind=\"k3s drop-in\" action=created", after: "check=host-files"))
        }

        @Test("a second daemon on the node waits for the first")
        func oneDaemonPerNode() throws {
            let first = try DaemonProcess()
            #expect(first.waitForLog("msg=\"check status changed\" check=host-files"))
            let second = try DaemonProcess(registry: "other.example.com", on: first.node)
            let providerConfig = first.node.root + "/var/lib/rancher/credentialprovider/config.yaml"

            #expect(second.waitForLog("msg=\"another harbor-keyless daemon manages this node; this one changes nothing until it stops\""))
            #expect(second.log.contains("pid \(first.process.processIdentifier)"))
            Thread.sleep(forTimeInterval: 3)
            #expect(try String(contentsOfFile: providerConfig, encoding: .utf8).contains("other.example.com") == false)
            #expect(try second.get("/healthz").hasPrefix("HTTP/1.1 200"))

            // Once the first stops, the second takes over and applies its configuration.
            kill(first.process.processIdentifier, SIGTERM)
            first.process.waitUntilExit()
            #expect(second.waitForLog("msg=\"the other daemon stopped; managing this node now\""))
            #expect(second.waitForLog("msg=\"repaired file\" path=/var/lib/rancher/credentialprovider/config.yaml"))
            #expect(try String(contentsOfFile: providerConfig, encoding: .utf8).contains("other.example.com"))
        }

        @Test("SIGHUP and file changes reload; invalid ones are rejected")
        func reload() throws {
            let daemon = try DaemonProcess()
            #expect(daemon.waitForLog("msg=\"check status changed\""))

            kill(daemon.process.processIdentifier, SIGHUP)
            #expect(daemon.waitForLog("msg=\"configuration unchanged\""))

            try Data("registries:\n  - host: [broken\n".utf8).write(to: URL(fileURLWithPath: daemon.configPath))
            #expect(daemon.waitForLog("msg=\"invalid configuration; keeping the previous one\""))
            #expect(try daemon.get("/status").contains("\"registries\" : \"harbor.example.com\""))
            #expect(try daemon.get("/healthz").hasPrefix("HTTP/1.1 200"))

            try DaemonProcess.writeConfiguration(registry: "harbor2.example.com", to: daemon.configPath)
            #expect(daemon.waitForLog("msg=\"reloaded configuration\" audiences=harbor2.example.com"))
            #expect(daemon.waitForLog("msg=\"repaired file\" path=/var/lib/rancher/credentialprovider/config.yaml", after: "msg=\"reloaded configuration\""))
            let providerConfig = try String(contentsOfFile: daemon.node.root + "/var/lib/rancher/credentialprovider/config.yaml", encoding: .utf8)
            #expect(providerConfig.contains("harbor2.example.com"))
        }

        @Test("uninstall refuses while a daemon manages the node")
        func uninstallWhileRunning() throws {
            let daemon = try DaemonProcess()
            #expect(daemon.waitForLog("msg=\"check status changed\" check=host-files"))
            let dropIn = daemon.node.root + "/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
            func uninstall(_ extra: [String], command: String = "uninstall") throws -> (Int32, String) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: buildDirectory + "/harbor-keyless")
                process.arguments = [command, "--host-root", daemon.node.root, "--config", daemon.configPath, "--restart", "never"] + extra
                let error = Pipe()
                process.standardError = error
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, text)
            }

            let (status, error) = try uninstall([])

            #expect(status != 0)
            #expect(error.contains("a harbor-keyless daemon manages this node"))
            #expect(error.contains("pid \(daemon.process.processIdentifier)"))
            #expect(FileManager.default.fileExists(atPath: dropIn))
            // install goes ahead but warns that the daemon's configuration wins.
            let (installStatus, installError) = try uninstall([], command: "install")
            #expect(installStatus == 0)
            #expect(installError.contains("warning: a harbor-keyless daemon manages this node"))
            #expect(try uninstall(["--force"]).0 == 0)
            #expect(!FileManager.default.fileExists(atPath: dropIn))
        }

        @Test("credentials that appear later are used")
        func lateCredentials() async throws {
            // The API server is a stand-in. k3s writes the kubelet's kubeconfig at its first
            // start, which may come after the agent's.
            let standIn = try await APIStandIn.start()
            let kubeconfig = try writeKubeconfig(standIn)
            defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
            let daemon = try DaemonProcess(extraArguments: ["--node-name", "node-a", "--namespace", "harbor-keyless"])
            #expect(daemon.waitForLog("msg=\"running without the API server"))
            #expect(daemon.waitForLog("msg=\"check status changed\" check=host-files"))

            // Paths in the kubelet's kubeconfig are host paths, read under the host root.
            let agentDirectory = daemon.node.root + "/var/lib/rancher/k3s/agent"
            try FileManager.default.createDirectory(atPath: agentDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: standIn.caFile, toPath: agentDirectory + "/server-ca.crt")
            let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
                .replacingOccurrences(of: standIn.caFile, with: "/var/lib/rancher/k3s/agent/server-ca.crt")
            try Data(text.utf8).write(to: URL(fileURLWithPath: agentDirectory + "/kubelet.kubeconfig.tmp"))
            #expect(rename(agentDirectory + "/kubelet.kubeconfig.tmp", agentDirectory + "/kubelet.kubeconfig") == 0)

            #expect(daemon.waitForLog("msg=\"found API credentials; reporting to the API server from now on\" node=node-a"))
            #expect(daemon.waitForLog("msg=\"wrote node condition\" node=node-a"))
            #expect(try await standIn.adminClient().node("node-a").condition("HarborCredentialProviderReady") != nil)
        }

        @Test("reload keeps the configuration on bad values")
        func reloadRejectsBadValues() throws {
            let daemon = try DaemonProcess()
            #expect(daemon.waitForLog("msg=\"check status changed\""))

            // Beyond Int64 nanoseconds: this crashed the daemon (SIGILL) before the parser
            // checked for overflow.
            try Data("registries:\n  - host: harbor.example.com\ndefaultCacheDuration: 18446744073.999999999s\n".utf8)
                .write(to: URL(fileURLWithPath: daemon.configPath))
            #expect(daemon.waitForLog("is out of range"))
            #expect(daemon.log.contains("18446744073.999999999s"))
            #expect(daemon.process.isRunning)
            #expect(try daemon.get("/healthz").hasPrefix("HTTP/1.1 200"))

            try Data("registries:\n  - host: harbor.example.com\nrestart: sometimes\n".utf8)
                .write(to: URL(fileURLWithPath: daemon.configPath))
            #expect(daemon.waitForLog("\(daemon.configPath): restart"))
            #expect(daemon.process.isRunning)
        }

        @Test("it reports the node condition through the API")
        func reportsCondition() async throws {
            let standIn = try await APIStandIn.start()
            let kubeconfig = try writeKubeconfig(standIn)
            defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
            let daemon = try DaemonProcess(extraArguments: ["--kubeconfig", kubeconfig, "--node-name", "node-a", "--namespace", "harbor-keyless"])
            #expect(daemon.waitForLog("msg=\"wrote node condition\" node=node-a status=False reason=RestartPending"))

            let condition = try await standIn.adminClient().node("node-a").condition("HarborCredentialProviderReady")
            #expect(condition?.status == "False")
            #expect(condition?.reason == "RestartPending")
            // The Event follows the condition.
            let deadline = Date().addingTimeInterval(10)
            while standIn.count(method: "POST", pathPrefix: "/api/v1/namespaces/default/events") == 0, Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(standIn.count(method: "POST", pathPrefix: "/api/v1/namespaces/default/events", status: 201) == 1)

            // Later cycles make no request until the heartbeat or the API checks are due.
            let agentRequests = { standIn.requests().filter { ($0["identity"] as? String)?.hasPrefix("system:serviceaccount:") == true }.count }
            let afterFirstCycle = agentRequests()
            try await Task.sleep(for: .milliseconds(2500))
            #expect(agentRequests() == afterFirstCycle)
            #expect(standIn.count(method: "PATCH", pathPrefix: "/api/v1/nodes/node-a/status") == 1)
        }
    }
}

/// Writes a kubeconfig with the agent's service account token for the stand-in.
func writeKubeconfig(_ standIn: APIStandIn) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)").path
    let text = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: standin
          cluster:
            server: \(standIn.server)
            certificate-authority: \(standIn.caFile)
        users:
        - name: agent
          user:
            token: \(APIStandIn.agentToken)
        contexts:
        - name: standin
          context:
            cluster: standin
            user: agent
        current-context: standin

        """
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}
