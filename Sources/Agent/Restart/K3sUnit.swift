internal import HostFiles
internal import K3sConfig
internal import Systemd

/// Finds the systemd unit that runs k3s on this node: `k3s.service` (server),
/// `k3s-agent.service` (agent), or `k3s-<name>.service` (installed with `INSTALL_K3S_NAME`).
/// Restarting the wrong unit is worse than not restarting, so any doubt is an error that names
/// the `--unit` override.
struct K3sUnit {
    static let patterns = ["k3s.service", "k3s-*.service"]

    enum Resolution: Equatable {
        /// The unit to restart.
        case running(String)
        /// The unit exists but is not running: k3s reads the new files when it next starts.
        case stopped(String)
    }

    /// Units whose state systemd reports as running or starting.
    static let runningStates: Set<String> = ["active", "activating", "reloading"]

    static func resolve(explicit: String?, manager: SystemdManager, root: HostRoot) throws(RestartError) -> Resolution {
        if let explicit {
            let state = try unitState(explicit, manager: manager)
            guard let state, state.loadState == "loaded" else {
                throw RestartError(
                    "the unit \(explicit) given with --unit is not loaded by systemd on \(manager.busAddress)",
                    fix: "check the name with `systemctl list-units 'k3s*'`"
                )
            }
            // Restarting another service (journald, a database) is worse than not restarting.
            let text = (try? root.read(state.fragmentPath)).flatMap { String(validating: $0, as: UTF8.self) }
            let executable = text.flatMap { K3sServiceCommand.executable(unitFile: $0) }
            guard let executable, executable.split(separator: "/").last == "k3s" else {
                throw RestartError(
                    "the unit \(explicit) given with --unit does not run k3s (ExecStart of \(state.fragmentPath): \(executable ?? "unreadable"))",
                    fix: "pass the unit that runs k3s, such as k3s.service or k3s-agent.service"
                )
            }
            return runningStates.contains(state.activeState) ? .running(explicit) : .stopped(explicit)
        }

        let files: [(name: String, state: String)]
        do {
            files = try manager.listUnitFiles(matching: patterns)
        } catch {
            throw RestartError("cannot list k3s unit files on \(manager.busAddress): \(error)", fix: "check that systemd is reachable, or pass --unit")
        }
        var loaded: [(name: String, activeState: String)] = []
        for file in files.map(\.name).sorted() {
            if let state = try unitState(file, manager: manager), state.loadState == "loaded" {
                loaded.append((file, state.activeState))
            }
        }

        let running = loaded.filter { runningStates.contains($0.activeState) }
        if running.count == 1 { return .running(running[0].name) }
        if running.count > 1 {
            throw RestartError(
                "several k3s units are running: \(running.map(\.name).joined(separator: ", "))",
                fix: "pass --unit with the one whose kubelet should use the credential provider"
            )
        }
        if loaded.count == 1 { return .stopped(loaded[0].name) }
        if loaded.isEmpty {
            throw RestartError(
                "no k3s unit found on \(manager.busAddress) (looked for \(patterns.joined(separator: ", ")))",
                fix: "install k3s with its install script, or pass --unit with the unit that runs it"
            )
        }
        throw RestartError(
            "several k3s units exist and none is running: \(loaded.map(\.name).joined(separator: ", "))",
            fix: "pass --unit with the unit that runs k3s on this node"
        )
    }

    private static func unitState(_ unit: String, manager: SystemdManager) throws(RestartError) -> UnitState? {
        do {
            return try manager.unitState(unit)
        } catch {
            throw RestartError("cannot read the state of \(unit) on \(manager.busAddress): \(error)", fix: "check that systemd is reachable and that the agent runs as root")
        }
    }
}
