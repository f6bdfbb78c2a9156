import Foundation

/// A private `dbus-daemon` on a socket in a temporary directory and, when a scenario is given,
/// the systemd manager stand-in (systemd_manager_standin.py, a Python service that is NOT
/// systemd) owning org.freedesktop.systemd1 on it.
public final class PrivateBus {
    public let directory: URL
    public let address: String
    private let daemon: ChildProcess
    private var standIn: ChildProcess?

    /// With `serviceActivation`, the daemon uses Debian's session configuration, whose service
    /// directories include dbus's own org.freedesktop.systemd1 activation file (Exec=/bin/false),
    /// as the system bus configuration does; without it, nothing can be activated.
    public init(serviceActivation: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("harbor-keyless-systemd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let socket = directory.appendingPathComponent("bus").path
        address = "unix:path=\(socket)"

        var arguments = ["--nofork", "--nopidfile", "--address=\(address)"]
        if serviceActivation {
            arguments.append("--session")
        } else {
            let config = directory.appendingPathComponent("bus.conf")
            try Data(Self.configuration(listen: address).utf8).write(to: config)
            arguments.append("--config-file=\(config.path)")
        }
        daemon = try ChildProcess(bounded: "/usr/bin/dbus-daemon", arguments)
        // The socket file appears at bind(2), a moment before the daemon listens on it.
        try waitFor("dbus-daemon listening on \(socket)") { Self.acceptsConnections(socket) }
    }

    /// Starts the systemd manager stand-in with `scenario` (see the script's docstring).
    public func startStandIn(_ scenario: String) throws {
        let scenarioFile = directory.appendingPathComponent("scenario.json")
        try Data(scenario.utf8).write(to: scenarioFile)
        let ready = directory.appendingPathComponent("ready").path

        standIn = try ChildProcess(bounded: "/usr/bin/python3", [
            Self.standInScript, "--address", address, "--scenario", scenarioFile.path,
            "--log", callLog.path, "--ready", ready,
        ])
        try waitFor("systemd stand-in on \(address)") { FileManager.default.fileExists(atPath: ready) }
    }

    /// One method call the stand-in received.
    public struct Call: Sendable {
        public var member: String
        /// The call's arguments as JSON text.
        public var arguments: String
        /// The caller's unique bus name.
        public var sender: String
    }

    /// The method calls the stand-in received, in order.
    public func calls() throws -> [Call] {
        guard let text = try? String(contentsOf: callLog, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            let arguments = try JSONSerialization.data(withJSONObject: object["args"] ?? [])
            return Call(
                member: object["member"] as? String ?? "",
                arguments: String(decoding: arguments, as: UTF8.self),
                sender: object["sender"] as? String ?? ""
            )
        }
    }

    deinit {
        standIn?.stop()
        daemon.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Builds a bus configuration with no service directories, so an unowned name is ServiceUnknown.
    private static func configuration(listen address: String) -> String {
        """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>\(address)</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
            <allow own="*"/>
          </policy>
        </busconfig>
        """
    }

    private var callLog: URL { directory.appendingPathComponent("calls.log") }

    private static var standInScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SystemdTests/systemd_manager_standin.py").path
    }

    private static func acceptsConnections(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8.prefix(buffer.count - 1))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    private func waitFor(_ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(15)
        while !condition() {
            guard Date() < deadline else { throw FixtureError(message: "timed out waiting for \(what)") }
            usleep(20_000)
        }
    }
}


