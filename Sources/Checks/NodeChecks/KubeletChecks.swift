import FoundationEssentials
import HostFiles
import KubeAPI

extension Check {
    /// The running kubelet got our paths: the newest `Running kubelet` line of the current
    /// k3s invocation carries both flags.
    static let kubeletFlags = Check(
        id: "kubelet.flags", title: "Running kubelet uses our files", area: .kubelet
    ) { context in
        // A stopped unit's journal still shows the kubelet line of its last run.
        let unit = context.unitName()
        switch await context.serviceStatus.status(unit: unit)?.activeState {
        case "activating"?:
            return .skip("\(unit) is starting; its kubelet has not reported its flags yet")
        case let state? where state != "active" && state != "reloading":
            return .fail(
                "\(unit) is \(state): no kubelet runs on this node, so no image is pulled",
                remedy: "start it (`systemctl start \(unit)`) and read `journalctl -u \(unit)` if it does not stay up"
            )
        default:
            break
        }
        let entries: [JournalEntry]
        switch await context.currentInvocationEntries() {
        case .success(let value): entries = value
        case .failure(let error): return .skip("the k3s journal cannot be read: \(error.message)")
        }
        guard case .success(let layout) = await context.hostLayout() else {
            return .skip("the k3s configuration cannot be read (see host.drop-in)")
        }
        guard let flags = entries.reversed().lazy.compactMap({ ComponentFlags(message: $0.message, component: "kubelet") }).first else {
            return .skip("no `Running kubelet` line in the journal of the current \(context.unitName()) invocation (journal rotated, or k3s has not started its kubelet)")
        }
        let restart = "restart k3s (`systemctl restart \(context.unitName())`) after checking host.drop-in and host.provider-config"
        var problems: [String] = []
        for (key, path) in [(HostLayout.binDirectoryKey, layout.binDirectory), (HostLayout.providerConfigKey, layout.providerConfig)] {
            switch flags.value(key) {
            case nil: problems.append("--\(key) is missing")
            case let value? where value != path: problems.append("--\(key)=\(value), expected \(path)")
            default: break
            }
        }
        guard problems.isEmpty else {
            return .fail("the running kubelet was started without our provider files: \(problems.joined(separator: ", ")); pulls from the registry go without credentials (no basic auth credentials)", remedy: restart)
        }
        return .pass("the current kubelet runs with --\(HostLayout.binDirectoryKey)=\(layout.binDirectory) and --\(HostLayout.providerConfigKey)=\(layout.providerConfig)")
    }

    /// The kubelet loaded exactly the provider config on disk (kubelet 1.34+ exports its hash).
    static let kubeletConfigHash = Check(
        id: "kubelet.config-hash", title: "Kubelet loaded the config on disk", area: .kubelet
    ) { context in
        guard let metrics = await context.kubeletMetrics() else { return context.noAPIResult }
        let text: String
        switch metrics {
        case .success(let value): text = value
        case .failure(let error): return context.apiProblem(error, checking: "the kubelet's loaded provider config")
        }
        guard let loaded = PrometheusText.samples(text, named: "kubelet_credential_provider_config_info").first?.labels["hash"] else {
            return .skip("the kubelet exports no kubelet_credential_provider_config_info (kubelet older than 1.34, or no provider config loaded)")
        }
        guard case .success(let layout) = await context.hostLayout() else {
            return .skip("the k3s configuration cannot be read (see host.drop-in)")
        }
        let files: [[UInt8]]
        switch ProviderConfigBytes.read(context.root, layout.providerConfig) {
        case .success(let value): files = value
        case .failure(let error): return .warn(error.message, remedy: "check the file's permissions")
        }
        let expected = SHA256.providerConfigHash(files)
        guard loaded == expected else {
            return .fail(
                "the kubelet loaded a provider config with hash \(loaded), but \(layout.providerConfig) on disk hashes to \(expected): the files changed after k3s started",
                remedy: "restart k3s (`systemctl restart \(context.unitName())`) after checking host.provider-config"
            )
        }
        return .pass("the kubelet loaded \(layout.providerConfig) as it is on disk (\(expected))")
    }
}

/// The provider config file contents in the order the kubelet reads them: one file, or the
/// `*.json`, `*.yaml` and `*.yml` files of a directory in name order.
enum ProviderConfigBytes {
    static func read(_ root: HostRoot, _ path: String) -> Result<[[UInt8]], CheckFailure> {
        do {
            guard let info = try root.info(path) else { return .failure(CheckFailure("\(path) does not exist")) }
            if info.kind == .directory {
                let names = (try root.list(path) ?? []).filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                return .success(try names.map { try root.read(path + "/" + $0) ?? [] })
            }
            return .success([try root.read(path) ?? []])
        } catch {
            return .failure(CheckFailure("cannot read \(path): \(error)"))
        }
    }
}
