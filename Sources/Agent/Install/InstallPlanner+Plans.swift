internal import Subprocess
internal import CredentialProvider
internal import HostFiles
internal import K3sConfig
internal import YAML

extension InstallPlanner {
    /// Plans an install: the plugin executables, our entries merged into the provider config,
    /// and the drop-in unless the operator chose the paths. The merged config is validated for
    /// the target kubelet before anything is written.
    func installPlan(plugin: PluginExecutable) throws(InstallError) -> InstallPlan {
        let paths = try nodePaths()
        let (version, versionSource) = try kubernetesVersion()
        let gates = try kubeletFeatureGates(paths)
        if gates["KubeletServiceAccountTokenForCredentialProviders"] == false {
            throw InstallError(
                "the k3s configuration turns the kubelet feature gate KubeletServiceAccountTokenForCredentialProviders off",
                fix: "remove KubeletServiceAccountTokenForCredentialProviders=false from kubelet-arg feature-gates: with the gate off the kubelet rejects tokenAttributes and k3s fails to start"
            )
        }

        var files: [PlannedFile] = []
        var warnings: [String] = []
        for entry in layout.entries {
            for pattern in entry.matchImages where Self.isBroad(pattern) {
                warnings.append(
                    "matchImages pattern \(pattern) matches registries of other owners: pods pulling from them send their service account token there"
                )
            }
        }

        // 1. Executables, one per provider entry.
        let wanted = layout.names
        for name in wanted {
            files.append(try plannedExecutable(path: paths.executable(named: name), plugin: plugin, mode: 0o755))
        }

        // 2. The provider config: keep every foreign provider, replace ours.
        var config = try existingProviderConfig(paths) ?? CredentialProviderConfig()
        try rejectForeignProviders(named: wanted, in: config, paths: paths)
        let stale = previouslyInstalled.subtracting(wanted)
        config.removeProviders(named: stale.union(wanted))
        for entry in layout.entries {
            config.upsert(harborProvider(entry))
        }
        try validate(config, paths: paths, version: version, newExecutables: Set(wanted), warnings: &warnings)
        let rendered: String
        do {
            rendered = try config.rendered()
        } catch {
            throw InstallError("cannot render the provider config: \(error)", fix: "report this as a bug")
        }
        let configMode = try existingMode(paths.providerConfig) ?? 0o644
        files.append(try plannedFile(.providerConfig, path: paths.providerConfig, contents: Array(rendered.utf8), mode: configMode))

        // 3. The drop-in, or its removal when the operator now sets the paths themselves.
        if paths.operatorChosePaths {
            warnings.append(
                "k3s already sets the credential provider paths (\(paths.binDirectorySetBy ?? paths.providerConfigSetBy!)); merged into them and wrote no drop-in"
            )
            if let removal = try plannedRemoval(.dropIn, path: paths.dropIn) { files.append(removal) }
        } else {
            let dropIn = K3sConfigFiles.renderDropIn(binDir: paths.binDirectory, configPath: paths.providerConfig)
            files.append(try plannedFile(.dropIn, path: paths.dropIn, contents: Array(dropIn.utf8), mode: 0o644))
        }

        // 4. Executables of providers we no longer configure, after the config dropped them.
        for name in stale.sorted() {
            if let removal = try plannedRemoval(.executable, path: paths.executable(named: name)) { files.append(removal) }
        }

        var plan = InstallPlan(
            paths: paths,
            kubernetesVersion: version.description,
            kubernetesVersionSource: versionSource,
            providerNames: wanted,
            files: files,
            warnings: warnings
        )
        plan.kubernetesMinorRelease = version.minorRelease
        return plan
    }

    /// Plans an uninstall: the drop-in first, then our provider entries (the config file is
    /// deleted only when no other provider remains), then our executables. At every step the
    /// files on disk name only executables that exist.
    func uninstallPlan() throws(InstallError) -> InstallPlan {
        let paths = try nodePaths()
        var files: [PlannedFile] = []
        // Names from the configuration count as ours only when their executable is our
        // plugin: a node that never ran harbor-keyless keeps a same-named foreign provider.
        let ours = previouslyInstalled.union(layout.names.filter { isOurExecutable(paths.executable(named: $0)) })

        if let removal = try plannedRemoval(.dropIn, path: paths.dropIn) { files.append(removal) }

        if var config = try existingProviderConfig(paths) {
            let before = config.providerNames
            config.removeProviders(named: ours)
            if config.providerNames.isEmpty {
                if let removal = try plannedRemoval(.providerConfig, path: paths.providerConfig) { files.append(removal) }
            } else if config.providerNames != before {
                let rendered: String
                do {
                    rendered = try config.rendered()
                } catch {
                    throw InstallError("cannot render the provider config: \(error)", fix: "report this as a bug")
                }
                let mode = try existingMode(paths.providerConfig) ?? 0o644
                files.append(try plannedFile(.providerConfig, path: paths.providerConfig, contents: Array(rendered.utf8), mode: mode))
            }
        }

        for name in ours.sorted() {
            if let removal = try plannedRemoval(.executable, path: paths.executable(named: name)) { files.append(removal) }
        }

        return InstallPlan(
            paths: paths,
            kubernetesVersion: "",
            kubernetesVersionSource: "",
            providerNames: [],
            files: files,
            warnings: []
        )
    }

    /// Returns whether a pattern's host has a wildcard in its last two labels (`*.io`, `*.example.*`),
    /// so it covers registries beyond one organisation's domain.
    static func isBroad(_ pattern: String) -> Bool {
        let host = pattern.split(separator: "/", maxSplits: 1).first.map(String.init) ?? pattern
        let name = host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? host
        return name.split(separator: ".").suffix(2).contains { $0.contains("*") }
    }

    // MARK: - Provider config

    /// Refuses to replace a provider entry that harbor-keyless did not write: its name is in
    /// the config, no earlier install recorded it, and its executable is not our plugin. An
    /// entry whose executable is ours was written by an install whose state was lost.
    func rejectForeignProviders(named names: [String], in config: CredentialProviderConfig, paths: NodePaths) throws(InstallError) {
        guard !force else { return }
        let existing = Set(config.providerNames)
        for name in names where existing.contains(name) && !previouslyInstalled.contains(name) {
            if isOurExecutable(paths.executable(named: name)) { continue }
            throw InstallError(
                "the provider config \(paths.providerConfig) already has a provider named \(name) that harbor-keyless did not install",
                fix: "choose another --provider-name, or pass --force to replace that provider and its executable"
            )
        }
    }

    /// Returns whether the file at `path` runs as credential-provider-harbor (`--version`).
    func isOurExecutable(_ path: String) -> Bool {
        guard let executable = try? root.openExecutable(path),
            let result = try? runSubprocess(
                executable.execPath,
                arguments: ["--version"],
                argumentZero: "credential-provider-harbor",
                inherit: [executable.descriptor],
                timeout: .seconds(5)
            )
        else { return false }
        return result.status == 0 && result.standardOutput.starts(with: Array("credential-provider-harbor".utf8))
    }

    func existingProviderConfig(_ paths: NodePaths) throws(InstallError) -> CredentialProviderConfig? {
        guard let text = try readText(paths.providerConfig) else { return nil }
        do {
            return try CredentialProviderConfig.parse(text, source: paths.providerConfig)
        } catch {
            throw InstallError(
                "the existing provider config \(paths.providerConfig) is invalid: \(error)",
                fix: "correct or move the file; harbor-keyless keeps other providers and will not overwrite a file it cannot read"
            )
        }
    }

    func harborProvider(_ entry: ProviderLayout.Entry) -> HarborProvider {
        HarborProvider(
            name: entry.name,
            matchImages: entry.matchImages,
            defaultCacheDuration: configuration.defaultCacheDuration,
            args: ["--username=\(entry.username)"],
            tokenAttributes: HarborProvider.TokenAttributes(
                serviceAccountTokenAudience: entry.audience,
                requiredServiceAccountAnnotationKeys: entry.serviceAccountAnnotationKey.map { [$0] } ?? []
            )
        )
    }

    /// Validates the merged config by every rule the target kubelet applies at start-up. A
    /// problem in one of our entries is a bug or a bad configuration. A problem in a foreign
    /// entry already breaks k3s's next start, so the operator must hear about it before we
    /// rewrite the file.
    func validate(
        _ config: CredentialProviderConfig,
        paths: NodePaths,
        version: KubernetesVersion,
        newExecutables: Set<String>,
        warnings: inout [String]
    ) throws(InstallError) {
        let problems = config.validate(
            kubelet: version,
            tokenGateEnabled: true,
            binaryExists: { name in newExecutables.contains(name) || root.isExecutableFile(paths.executable(named: name)) }
        )
        guard problems.isEmpty else {
            let list = problems.map { "  - \($0)" }.joined(separator: "\n")
            throw InstallError(
                "the provider config \(paths.providerConfig) would be rejected by the Kubernetes \(version) kubelet, which stops k3s:\n\(list)",
                fix: "correct the providers listed above (a foreign provider's executable must exist in \(paths.binDirectory)); nothing was written"
            )
        }
    }

    /// Kubelet feature gates the node sets: `kubelet-arg` items in the k3s configuration
    /// files and on the unit's command line, then `featureGates` in the kubelet's drop-in
    /// configuration directory (k3s v1.32+, `*.conf` files, read after the flags).
    func kubeletFeatureGates(_ paths: NodePaths) throws(InstallError) -> [String: Bool] {
        let effective = try operatorK3sConfig(paths)
        let command = try serviceCommand()
        var gates: [String: Bool] = [:]
        do {
            gates = try K3sComponentArguments.featureGates(
                items: effective.list(forKey: "kubelet-arg") + command.command.kubeletArgs,
                source: "kubelet-arg"
            )
        } catch {
            throw InstallError("invalid kubelet-arg feature-gates: \(error)", fix: "correct the feature-gates item; k3s would fail to start with it")
        }

        let directory = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d"
        let names: [String]
        do {
            names = try root.list(directory) ?? []
        } catch {
            throw InstallError("cannot list \(directory): \(error)", fix: "check the directory's permissions")
        }
        for name in names.sorted() where name.hasSuffix(".conf") {
            let path = directory + "/" + name
            guard let text = try readText(path) else { continue }
            let document: YAMLNode?
            do {
                document = try YAML.parse(text, source: path)
            } catch {
                throw InstallError("the kubelet drop-in \(path) is invalid: \(error)", fix: "correct it; the kubelet would fail to start with it")
            }
            for pair in document?["featureGates"]?.mapping ?? [] {
                if let value = pair.value.bool { gates[pair.key] = value }
            }
        }
        return gates
    }

    private func existingMode(_ path: String) throws(InstallError) -> UInt32? {
        do {
            return try root.info(path).map { $0.mode & 0o7777 }
        } catch {
            throw InstallError("cannot inspect \(path): \(error)", fix: "check the file and its permissions")
        }
    }
}
