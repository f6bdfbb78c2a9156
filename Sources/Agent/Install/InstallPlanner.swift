internal import Subprocess
internal import Checks
internal import CredentialProvider
internal import HostFiles
internal import K3sConfig
internal import YAML

/// An install or uninstall that cannot proceed; nothing on the host was changed.
public struct InstallError: Error, CustomStringConvertible {
    public var message: String
    public var fix: String

    public init(_ message: String, fix: String) {
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(message)\n  fix: \(fix)" }
}

/// Computes what `install` and `uninstall` would change, reading the node but never writing.
struct InstallPlanner {
    let configuration: AgentConfiguration
    let root: HostRoot
    let layout: ProviderLayout
    /// Provider names an earlier install of ours wrote, from the agent's state. Entries with
    /// those names that the configuration no longer wants are removed, so a renamed provider
    /// does not leave its old entry behind.
    let previouslyInstalled: Set<String>
    /// Replace providers harbor-keyless did not write.
    var force = false

    /// Lowest kubelet minor version the rendered config is valid for. KEP-4412 is beta and on
    /// by default from 1.34, which also requires `tokenAttributes.cacheType`. A 1.33 kubelet
    /// decodes the config strictly and rejects that field, so no single config fits both.
    static let minimumMinor = 34

    // MARK: - Node

    /// Reads the k3s unit's command line and configuration files and finds where the
    /// credential provider files go. What the kubelet finally uses is decided, strongest
    /// first, by a `kubelet-arg` item naming the kubelet flag, then k3s's own flag on the
    /// unit's command line, then the configuration files, then k3s's default.
    func nodePaths() throws(InstallError) -> NodePaths {
        let command = try serviceCommand()
        var configPath = configuration.k3sConfigPath
        if configPath == AgentConfiguration.defaultK3sConfigPath, let chosen = command.command.configFile {
            configPath = chosen
        }
        var paths = NodePaths(
            k3sConfig: configPath,
            binDirectory: NodePaths.defaultBinDirectory,
            providerConfig: NodePaths.defaultProviderConfig
        )
        paths.unit = command.unit

        // Merge the operator's files without our own drop-in: what they set is theirs.
        let effective = try operatorK3sConfig(paths)
        if let value = try effectivePath(effective, key: NodePaths.binDirectoryKey) {
            (paths.binDirectory, paths.binDirectorySetBy) = (value.path, value.source)
        }
        if let value = try effectivePath(effective, key: NodePaths.providerConfigKey) {
            (paths.providerConfig, paths.providerConfigSetBy) = (value.path, value.source)
        }
        let unitSource = "the ExecStart of \(command.unit ?? "the k3s unit")"
        if let path = command.command.providerBinDir {
            (paths.binDirectory, paths.binDirectorySetBy) = (path, unitSource)
        }
        if let path = command.command.providerConfig {
            (paths.providerConfig, paths.providerConfigSetBy) = (path, unitSource)
        }

        // kubelet-arg items are passed after k3s's own kubelet flags, so the kubelet uses them.
        let kubeletArgs = effective.list(forKey: "kubelet-arg").map { ($0, effective.source(forKey: "kubelet-arg") ?? "kubelet-arg") }
            + command.command.kubeletArgs.map { ($0, unitSource) }
        for (item, source) in kubeletArgs {
            let argument = K3sComponentArgument(parsing: item)
            guard argument.value.hasPrefix("/") else { continue }
            if argument.name == NodePaths.binDirectoryKey {
                (paths.binDirectory, paths.binDirectorySetBy) = (argument.value, "kubelet-arg in \(source)")
            } else if argument.name == NodePaths.providerConfigKey {
                (paths.providerConfig, paths.providerConfigSetBy) = (argument.value, "kubelet-arg in \(source)")
            }
        }
        return paths
    }

    /// Reads the command line of the k3s unit: the configured unit, or the only k3s unit file
    /// on the node. Several unit files that disagree on what matters here are an error, because
    /// the wrong one would put the files where the running kubelet does not look.
    func serviceCommand() throws(InstallError) -> (unit: String?, command: K3sServiceCommand) {
        let directory = "/etc/systemd/system"
        var names: [String]
        do {
            names = try root.list(directory) ?? []
        } catch {
            throw InstallError("cannot list \(directory): \(error)", fix: "check the directory's permissions")
        }
        names = names.filter { $0 == "k3s.service" || ($0.hasPrefix("k3s-") && $0.hasSuffix(".service")) }
        if let unit = configuration.unit { names = names.filter { $0 == unit } }

        var commands: [(String, K3sServiceCommand)] = []
        for name in names.sorted() {
            // Drop-ins in `<unit>.d/*.conf` may replace ExecStart (an empty ExecStart= resets
            // it), so they are read after the unit file, in name order.
            guard var text = try readText(directory + "/" + name) else { continue }
            let dropInDirectory = directory + "/" + name + ".d"
            let dropIns: [String]
            do {
                dropIns = try root.list(dropInDirectory) ?? []
            } catch {
                throw InstallError("cannot list \(dropInDirectory): \(error)", fix: "check the directory's permissions")
            }
            for dropIn in dropIns.sorted() where dropIn.hasSuffix(".conf") {
                text += "\n" + (try readText(dropInDirectory + "/" + dropIn) ?? "")
            }
            guard var command = K3sServiceCommand.parse(unitFile: text) else { continue }
            if command.configFile == nil, let environment = try readText(directory + "/" + name + ".env") {
                command.configFile = k3sConfigFile(fromEnvironmentFile: environment)
            }
            commands.append((name, command))
        }
        guard let first = commands.first else { return (nil, K3sServiceCommand()) }
        let differing = commands.dropFirst().filter {
            $0.1.configFile != first.1.configFile || $0.1.providerBinDir != first.1.providerBinDir
                || $0.1.providerConfig != first.1.providerConfig || $0.1.kubeletArgs != first.1.kubeletArgs
        }
        if !differing.isEmpty {
            throw InstallError(
                "the k3s units \(commands.map(\.0).joined(separator: ", ")) start k3s with different options",
                fix: "pass --unit with the unit that runs k3s on this node"
            )
        }
        return (commands.count == 1 ? first.0 : nil, first.1)
    }

    /// Merges the k3s configuration files as k3s does, leaving out our own drop-in.
    func operatorK3sConfig(_ paths: NodePaths) throws(InstallError) -> K3sEffectiveConfig {
        let main = try readText(paths.k3sConfig).map { K3sConfigFile(name: paths.k3sConfig, text: $0) }
        var dropIns: [K3sConfigFile] = []
        let names: [String]
        do {
            names = try root.list(paths.dropInDirectory) ?? []
        } catch {
            throw InstallError("cannot list \(paths.dropInDirectory): \(error)", fix: "check the directory's permissions")
        }
        for name in K3sConfigFiles.dropInNames(names) {
            let path = paths.dropInDirectory + "/" + name
            if path == paths.dropIn { continue }
            if let text = try readText(path) {
                dropIns.append(K3sConfigFile(name: path, text: text))
            }
        }
        do {
            return try K3sConfigFiles.merge(main: main, dropIns: dropIns)
        } catch {
            throw InstallError(
                "the k3s configuration is invalid: \(error)",
                fix: "k3s itself will not start with it either; correct the file named above"
            )
        }
    }

    private func effectivePath(_ config: K3sEffectiveConfig, key: String) throws(InstallError) -> (path: String, source: String)? {
        guard let node = config.value(forKey: key) else { return nil }
        guard let path = node.string, path.hasPrefix("/") else {
            throw InstallError(
                "\(key) in \(config.source(forKey: key) ?? "the k3s configuration") is not an absolute path",
                fix: "set it to an absolute path, or remove it to use the k3s default"
            )
        }
        return (path, config.source(forKey: key) ?? "the k3s configuration")
    }

    // MARK: - Kubernetes version

    /// The version the next start of k3s runs: explicit, or read from the k3s binary on disk.
    func kubernetesVersion() throws(InstallError) -> (version: KubernetesVersion, source: String) {
        let parsed: KubernetesVersion
        let source: String
        switch configuration.kubernetesVersion {
        case .explicit(let text):
            guard let version = KubernetesVersion(parsing: text) else {
                throw InstallError(
                    "the configured Kubernetes version \(InputValidation.quoted(text)) is not a Kubernetes version",
                    fix: "pass a version such as v1.34.1 or v1.34.1+k3s1"
                )
            }
            parsed = version
            source = "the configured Kubernetes version"
        case .auto:
            (parsed, source) = try detectK3sVersion()
        }

        guard parsed.major == 1 else {
            throw InstallError(
                "Kubernetes \(parsed) (from \(source)) is not a 1.x version this agent knows",
                fix: "check the version; harbor-keyless supports Kubernetes 1.\(Self.minimumMinor) and newer 1.x releases"
            )
        }
        guard parsed.minor >= Self.minimumMinor else {
            throw InstallError(
                "Kubernetes \(parsed) (from \(source)) is older than 1.\(Self.minimumMinor)",
                fix: "upgrade k3s to v1.\(Self.minimumMinor) or newer first: the kubelet mints service account tokens for credential providers only from 1.33 (alpha, off), and the 1.34 config format (tokenAttributes.cacheType) is rejected by older kubelets"
            )
        }
        return (parsed, source)
    }

    /// Runs `<root>/usr/local/bin/k3s --version` (or `/opt/bin/k3s`, where some distributions
    /// install it) and parses `k3s version v1.34.1+k3s1 (hash)`.
    private func detectK3sVersion() throws(InstallError) -> (KubernetesVersion, String) {
        switch DiskVersion.read(root) {
        case .success(let disk):
            return (disk.version, disk.binary)
        case .failure(.notFound(let message)):
            throw InstallError(
                "\(message) under \(configuration.hostRoot)",
                fix: "install k3s first, check --host-root, or pass --kubernetes-version with the version k3s will run"
            )
        case .failure(.unreadable(let message)):
            throw InstallError(message, fix: "pass --kubernetes-version with the version k3s runs")
        }
    }


    // MARK: - Files

    func readText(_ path: String) throws(InstallError) -> String? {
        let bytes: [UInt8]?
        do {
            bytes = try root.read(path)
        } catch {
            throw InstallError("cannot read \(path): \(error)", fix: "check the file and its permissions")
        }
        guard let bytes else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InstallError("\(path) is not UTF-8 text", fix: "inspect the file; k3s and the kubelet read it as UTF-8 YAML")
        }
        return text
    }

    /// Compares desired bytes and mode with the file on disk.
    func plannedFile(_ kind: PlannedFile.Kind, path: String, contents: [UInt8], mode: UInt32) throws(InstallError) -> PlannedFile {
        let action = try plannedAction(path: path, mode: mode) { () throws(HostFileError) in
            try root.compare(path, with: contents)
        }
        return PlannedFile(kind: kind, path: path, action: action, contents: contents, mode: mode)
    }

    /// Compares the plugin executable and mode with the file on disk, chunk by chunk.
    func plannedExecutable(path: String, plugin: PluginExecutable, mode: UInt32) throws(InstallError) -> PlannedFile {
        let action = try plannedAction(path: path, mode: mode) { () throws(HostFileError) in
            try root.compare(path, with: plugin.source)
        }
        return PlannedFile(kind: .executable, path: path, action: action, contents: nil, mode: mode, plugin: plugin)
    }

    /// Returns the action that puts the desired file at `path`. `compare` returns whether the
    /// file there has the desired bytes, or nil when there is none.
    private func plannedAction(
        path: String, mode: UInt32, compare: () throws(HostFileError) -> Bool?
    ) throws(InstallError) -> PlannedFile.Action {
        let equal: Bool?
        let info: FileInfo?
        do {
            equal = try compare()
            info = try root.info(path)
        } catch {
            throw InstallError("cannot read \(path): \(error)", fix: "check the file and its permissions")
        }
        // Writes never replace a symbolic link (it may be the operator's), so report it now
        // rather than after other files were written.
        if info?.kind == .symlink {
            throw InstallError(
                "\(path) is a symbolic link; harbor-keyless replaces only regular files",
                fix: "replace the link with the file it points to, or point k3s at the real path"
            )
        }
        guard let equal else {
            return .create
        }
        return equal && info?.mode == mode ? .unchanged : .update
    }

    func plannedRemoval(_ kind: PlannedFile.Kind, path: String) throws(InstallError) -> PlannedFile? {
        let info: FileInfo?
        do {
            info = try root.info(path)
        } catch {
            throw InstallError("cannot inspect \(path): \(error)", fix: "check the file and its permissions")
        }
        guard info != nil else { return nil }
        return PlannedFile(kind: kind, path: path, action: .remove, contents: nil, mode: 0)
    }
}
