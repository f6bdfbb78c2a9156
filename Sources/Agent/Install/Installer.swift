import FoundationEssentials
internal import HostFiles

/// What an install or uninstall did, file by file.
public struct InstallReport: Sendable {
    public var plan: InstallPlan
    /// Set when a restart of k3s is due and was not done.
    public var pendingRestart: AgentState.PendingRestart?
}

/// Writes, renders and removes the credential provider files on one node.
public struct Installer: Sendable {
    public let configuration: AgentConfiguration

    /// Where the .deb puts the plugin.
    public static let packagedPluginPath = "/usr/lib/harbor-keyless/credential-provider-harbor"

    public init(configuration: AgentConfiguration) {
        self.configuration = configuration
    }

    // MARK: - Commands

    /// Plans the install without changing anything (`render`).
    public func plan() throws(InstallError) -> InstallPlan {
        let (root, state) = try openRoot()
        return try planner(root: root, state: state).installPlan(plugin: try loadPlugin())
    }

    /// Plans and applies the install under the agent's lock.
    public func install() throws(InstallError) -> InstallReport {
        let plugin = try loadPlugin()
        let (root, _) = try openRoot()
        let lock = try acquireLock(root)
        defer { lock.unlock() }

        var state = try AgentState.load(root: root, directory: configuration.stateDirectory)
        let plan = try planner(root: root, state: state).installPlan(plugin: plugin)
        try apply(plan, root: root)

        state.installedProviders = plan.providerNames
        if plan.needsRestart, state.pendingRestart == nil {
            let changed = plan.files.filter(\.needsRestart).map(\.path).joined(separator: ", ")
            state.pendingRestart = AgentState.PendingRestart(
                reason: "changed \(changed)",
                since: Date().timeIntervalSince1970
            )
        }
        try state.save(root: root, directory: configuration.stateDirectory)
        return InstallReport(plan: plan, pendingRestart: state.pendingRestart)
    }

    /// Removes our drop-in, provider entries and executables under the agent's lock.
    public func uninstall() throws(InstallError) -> InstallReport {
        let (root, _) = try openRoot()
        let lock = try acquireLock(root)
        defer { lock.unlock() }

        var state = try AgentState.load(root: root, directory: configuration.stateDirectory)
        let plan = try planner(root: root, state: state).uninstallPlan()
        try apply(plan, root: root)

        state.installedProviders = []
        if plan.needsRestart {
            state.pendingRestart = AgentState.PendingRestart(
                reason: "removed the credential provider configuration",
                since: Date().timeIntervalSince1970
            )
        }
        try state.save(root: root, directory: configuration.stateDirectory)
        return InstallReport(plan: plan, pendingRestart: state.pendingRestart)
    }

    // MARK: - Steps

    private func openRoot() throws(InstallError) -> (HostRoot, AgentState?) {
        do {
            return (try HostRoot(configuration.hostRoot), nil)
        } catch {
            throw InstallError("\(error)", fix: "pass --host-root with the directory that holds the node's file system")
        }
    }

    private func planner(root: HostRoot, state: AgentState?) throws(InstallError) -> InstallPlanner {
        let state = try state ?? AgentState.load(root: root, directory: configuration.stateDirectory)
        let layout: ProviderLayout
        do {
            layout = try ProviderLayout(configuration: configuration)
        } catch {
            throw InstallError(error.message, fix: error.fix)
        }
        return InstallPlanner(
            configuration: configuration,
            root: root,
            layout: layout,
            previouslyInstalled: Set(state.installedProviders)
        )
    }

    private func acquireLock(_ root: HostRoot) throws(InstallError) -> HostLock {
        do {
            try root.createDirectories(configuration.stateDirectory, mode: 0o700)
            return try root.lock(configuration.stateDirectory + "/lock")
        } catch {
            throw InstallError("\(error)", fix: "wait for the other harbor-keyless process to finish, or stop it")
        }
    }

    /// Applies the plan's files in order. Each write is atomic, and the order keeps the files
    /// consistent after every step, so a failure part-way (full disk, killed process) leaves a
    /// node k3s can still start on.
    private func apply(_ plan: InstallPlan, root: HostRoot) throws(InstallError) {
        let backups = BackupStore(root: root, directory: configuration.stateDirectory + "/backups")
        for file in plan.files where file.action != .unchanged {
            do {
                if let contents = file.contents {
                    try root.createDirectories(parentDirectory(file.path), mode: 0o755)
                    _ = try root.write(file.path, contents: contents, mode: file.mode, backups: backups)
                } else {
                    _ = try root.remove(file.path, backups: backups)
                }
            } catch {
                let done = plan.files.prefix { $0.path != file.path }.filter { $0.action != .unchanged }.map(\.path)
                throw InstallError(
                    "cannot write \(file.kind.rawValue) \(file.path): \(error)"
                        + (done.isEmpty ? "" : "\n  already applied: \(done.joined(separator: ", "))"),
                    fix: "fix the cause and run the command again; the files on disk are consistent and k3s can start with them"
                )
            }
        }
    }

    /// Reads the plugin executable to copy and checks that it runs here and is ours.
    func loadPlugin() throws(InstallError) -> [UInt8] {
        let path = pluginPath()
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InstallError(
                "the plugin executable \(path) cannot be read",
                fix: "build it (swift build) or install the harbor-keyless package, or pass --plugin-binary PATH"
            )
        }
        let result: SubprocessResult
        do {
            result = try runSubprocess(path, arguments: ["--version"], timeout: .seconds(10))
        } catch {
            throw InstallError("the plugin executable \(path) does not run: \(error)", fix: "rebuild it for this host")
        }
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        guard result.status == 0, output.hasPrefix("credential-provider-harbor") else {
            throw InstallError(
                "\(path) is not a credential-provider-harbor executable (`--version` exited \(result.status))",
                fix: "pass --plugin-binary with the path of credential-provider-harbor"
            )
        }
        return Array(data)
    }

    /// The configured plugin path, else the one next to this program, else the .deb's.
    func pluginPath() -> String {
        if let source = configuration.pluginSource { return source }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = parentDirectory(executable) + "/credential-provider-harbor"
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return Self.packagedPluginPath
    }
}

func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
