/// The stat identities (device, inode, size, modification time) of every file an install
/// reads or writes, taken after a clean install. While they stay the same, installing again
/// would change nothing.
struct HostFingerprint {
    private var identities: [String: FileIdentity?]

    /// Places where k3s installs put the binary whose `--version` decides the rendering.
    static let k3sBinaries = ["/usr/local/bin/k3s", "/opt/bin/k3s", "/usr/bin/k3s"]

    init(report: InstallReport, configuration: AgentConfiguration, pluginPath: String) {
        let root = configuration.hostRoot == "/" ? "" : configuration.hostRoot
        var hostPaths = report.plan.files.map(\.path)
        hostPaths += [report.plan.paths.k3sConfig, report.plan.paths.dropInDirectory, report.plan.paths.binDirectory]
        hostPaths += Self.k3sBinaries
        hostPaths.append(configuration.stateDirectory + "/" + AgentState.fileName)

        var identities: [String: FileIdentity?] = [:]
        for path in hostPaths {
            identities[root + path] = FileIdentity.of(root + path)
        }
        identities[pluginPath] = FileIdentity.of(pluginPath)
        self.identities = identities
    }

    func isCurrent() -> Bool {
        identities.allSatisfy { FileIdentity.of($0.key) == $0.value }
    }
}
