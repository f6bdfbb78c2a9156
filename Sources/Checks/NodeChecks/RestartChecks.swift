import FoundationEssentials
import HostFiles

#if canImport(Glibc)
import Glibc
#endif

extension Check {
    /// k3s started after the files it reads at start-up last changed.
    static let restartPending = Check(
        id: "restart.pending", title: "k3s started after the files changed", area: .restart
    ) { context in
        let restart = "restart k3s when convenient: `systemctl restart \(context.unitName())`"
        var results: [CheckResult] = []

        // 1. The agent's own record of a restart it did not do.
        var loaded: [String: String] = [:]
        switch AgentStateView.load(context) {
        case .success(let state?):
            loaded = state.loadedDigests ?? [:]
            if let pending = state.pendingRestart {
                results.append(.fail("a restart of k3s is pending since \(isoTime(pending.since)): \(pending.reason)", remedy: restart))
            }
        case .success(nil):
            break
        case .failure(let error):
            results.append(.warn(error.message, remedy: "inspect the file; delete it only if no rejected configuration needs to be remembered"))
        }

        // 2. File times against the start of the k3s main process.
        guard case .success(let layout) = await context.hostLayout() else {
            return results.isEmpty ? .skip("the k3s configuration cannot be read (see host.drop-in)") : CheckResult.combine(results)
        }
        guard let (started, source) = await MainProcessStart.find(context) else {
            if !results.isEmpty { return CheckResult.combine(results) }
            return .skip("cannot tell when k3s started: systemd is not reachable and no k3s main process was found in /proc")
        }
        for path in [layout.providerConfig, layout.dropInPath] {
            guard let info = (try? context.root.info(path)) ?? nil else { continue }
            // Only a change of content needs a restart: backups and `cp -p` touch files too.
            if info.modificationTime > started, let digest = loaded[path],
                let bytes = (try? context.root.read(path)) ?? nil, ContentDigest.sha256(bytes) == digest
            {
                continue
            }
            if info.modificationTime > started {
                results.append(.fail(
                    "\(path) changed at \(isoTime(info.modificationTime.timeIntervalSince1970)), after k3s started at \(isoTime(started.timeIntervalSince1970)) (from \(source)); the kubelet still runs with the old file",
                    remedy: restart
                ))
            }
        }
        if results.isEmpty {
            return .pass("k3s started at \(isoTime(started.timeIntervalSince1970)) (from \(source)), after the provider config and drop-in last changed")
        }
        return CheckResult.combine(results)
    }

    /// No provider config was rejected by k3s and rolled back.
    static let rejectedConfig = Check(
        id: "restart.rejected-config", title: "No rejected provider config", area: .restart
    ) { context in
        switch AgentStateView.load(context) {
        case .failure(let error):
            return .warn(error.message, remedy: "inspect the file; delete it only if no rejected configuration needs to be remembered")
        case .success(let state):
            if let inFlight = state?.restartInFlight, inFlight.phase == "failed" {
                return .fail(
                    "a restart of \(inFlight.unit) failed and so did the restart after rolling back; the agent restarts k3s no more on its own",
                    remedy: "repair k3s by hand (`journalctl -u \(inFlight.unit)`), then run `harbor-keyless install --force`"
                )
            }
            guard let rejection = state?.lastRejection else {
                let history = state?.rejectedConfigs?.count ?? 0
                return .pass(history == 0 ? "no rejected provider config recorded" : "the current configuration was not rejected (\(history) earlier rejection(s) recorded)")
            }
            return .fail(
                "k3s rejected the provider config at \(isoTime(rejection.at)) (\(rejection.reason)) and the agent rolled back; it will not apply that configuration again",
                remedy: "read the k3s journal around the failed start (`journalctl -u \(context.unitName())`), fix the configuration or upgrade k3s, then run `harbor-keyless install`; a changed configuration or Kubernetes version clears the record"
            )
        }
    }
}

/// The parts of the agent's `state.json` the checks read.
struct AgentStateView: Decodable, Sendable {
    struct PendingRestart: Decodable, Sendable {
        var reason: String
        var since: Double
    }

    struct Rejection: Decodable, Sendable {
        var reason: String
        var at: Double
    }

    struct RestartInFlight: Decodable, Sendable {
        var unit: String
        var phase: String
    }

    var pendingRestart: PendingRestart?
    var loadedDigests: [String: String]?
    var rejectedConfigs: [String]?
    var lastRejection: Rejection?
    var restartInFlight: RestartInFlight?

    static func load(_ context: CheckContext) -> Result<AgentStateView?, CheckFailure> {
        let path = context.setup.stateDirectory + "/state.json"
        do throws(CheckFailure) {
            guard let text = try HostLayout.readText(context.root, path) else { return .success(nil) }
            do {
                return .success(try JSONDecoder().decode(AgentStateView.self, from: Data(text.utf8)))
            } catch {
                return .failure(CheckFailure("the agent state \(path) is corrupt: \(error)"))
            }
        } catch {
            return .failure(error)
        }
    }
}

/// When the k3s main process started.
enum MainProcessStart {
    /// `ExecMainStartTimestamp` from systemd, else the start time of `/proc/<MainPID>` (or of
    /// the process running k3s found in `/proc`), else nil.
    static func find(_ context: CheckContext) async -> (Date, String)? {
        let status = await context.serviceStatus.status(unit: context.unitName())
        if let start = status?.mainStart {
            return (start, "systemd ExecMainStartTimestamp")
        }
        let pid = status?.mainPID ?? findK3sProcess(context.root)
        if let pid, let start = processStart(root: context.root, pid: pid) {
            return (start, "/proc/\(pid)/stat")
        }
        return nil
    }

    /// Looks for a process whose command line is `k3s server` or `k3s agent`.
    static func findK3sProcess(_ root: HostRoot) -> Int32? {
        guard let entries = (try? root.list("/proc")) ?? nil else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), let bytes = (try? root.read("/proc/\(entry)/cmdline", limit: 4096)) ?? nil else { continue }
            let words = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if words.count >= 2, words[0].hasSuffix("k3s"), words[1] == "server" || words[1] == "agent" {
                return pid
            }
        }
        return nil
    }

    /// Start time from field 22 of `/proc/<pid>/stat` (clock ticks after boot) and `btime`
    /// of `/proc/stat` (proc(5)).
    static func processStart(root: HostRoot, pid: Int32) -> Date? {
        guard let stat = (try? root.read("/proc/\(pid)/stat", limit: 4096)) ?? nil,
            let system = (try? root.read("/proc/stat", limit: 1 << 20)) ?? nil
        else { return nil }
        let text = String(decoding: stat, as: UTF8.self)
        // The command name in field 2 may contain spaces; fields after it follow the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // Field 3 is the first after ')', so field 22 is index 19.
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        guard let line = String(decoding: system, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingSpaces)
        else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return Date(timeIntervalSince1970: boot + ticks / hertz)
    }
}

/// Formats seconds since 1970 as an ISO 8601 UTC time.
func isoTime(_ seconds: Double) -> String {
    Date(timeIntervalSince1970: seconds.rounded(.down)).formatted(.iso8601)
}
