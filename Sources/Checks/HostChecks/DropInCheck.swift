import FoundationEssentials
import HostFiles
import K3sConfig

extension Check {
    /// k3s will pass our paths to the kubelet: the drop-in is there and nothing later (a
    /// later drop-in, or a flag in the unit's ExecStart) overrides it.
    static let dropIn = Check(
        id: "host.drop-in", title: "k3s passes our paths to the kubelet", area: .host
    ) { context in
        let layout: HostLayout
        switch await context.hostLayout() {
        case .success(let value): layout = value
        case .failure(let error): return .fail(error.message, remedy: "correct the k3s configuration file named above")
        }
        var results: [CheckResult] = []
        if layout.operatorChosePaths && layout.dropInExists {
            // An operator's file sets a provider path and sorts after ours or is config.yaml:
            // k3s uses their value, so our drop-in no longer decides the paths.
            for key in [HostLayout.binDirectoryKey, HostLayout.providerConfigKey] {
                guard let source = layout.effective.source(forKey: key), source != layout.dropInPath,
                    let value = layout.effective.value(forKey: key)?.string
                else { continue }
                results.append(.fail(
                    "\(source) sets \(key)=\(value), which replaces the value of \(layout.dropInPath)",
                    remedy: "rerun `harbor-keyless install`: it then installs into the paths set in \(source) and removes its own drop-in; or remove \(key) from \(source)"
                ))
            }
        }
        if !layout.operatorChosePaths && !layout.dropInExists {
            results.append(.fail("\(layout.dropInPath) does not exist, so k3s does not pass our provider paths", remedy: "run `harbor-keyless install`, then restart k3s"))
        }

        // Values from every file, ours included, merged as k3s merges them; flags in
        // ExecStart win over files.
        let unit = context.unitName()
        let execFlags = UnitFile.execStartFlags(root: context.root, unit: unit)
        let expected = [(HostLayout.binDirectoryKey, layout.binDirectory), (HostLayout.providerConfigKey, layout.providerConfig)]
        for (key, path) in expected {
            if let flag = execFlags.last(where: { $0.name == key }) {
                if flag.value != path {
                    results.append(.fail(
                        "ExecStart of \(unit) sets --\(key)=\(flag.value), which overrides \(path) from the k3s configuration files",
                        remedy: "remove --\(key) from ExecStart in \(unit) (then `systemctl daemon-reload` and restart k3s), or rerun install with that path set in the k3s configuration"
                    ))
                }
                continue
            }
            let value = layout.effective.value(forKey: key)?.string
            let source = layout.effective.source(forKey: key) ?? "the k3s default"
            if let value, value != path {
                results.append(.fail(
                    "\(key) is \(value) from \(source), not \(path)",
                    remedy: "remove \(key) from \(source), or rerun `harbor-keyless install` so it uses that path"
                ))
            } else if !layout.operatorChosePaths, layout.dropInExists, source != layout.dropInPath {
                results.append(.fail(
                    "\(key) comes from \(source) rather than \(layout.dropInPath)",
                    remedy: "remove \(key) from \(source): a drop-in sorting after ours replaces our value"
                ))
            }
        }

        // k3s passes the flags only when the bin dir is a directory and the config a file.
        let binInfo = (try? context.root.info(layout.binDirectory)) ?? nil
        let configInfo = (try? context.root.info(layout.providerConfig)) ?? nil
        if binInfo?.kind != .directory || configInfo?.kind != .regular {
            results.append(.fail(
                "k3s passes the provider flags only when \(layout.binDirectory) is a directory and \(layout.providerConfig) a regular file; one is missing",
                remedy: "run `harbor-keyless install`, then restart k3s"
            ))
        }
        if results.isEmpty {
            let origin = layout.operatorChosePaths ? "the operator's k3s configuration" : layout.dropInPath
            return .pass("k3s passes \(layout.binDirectory) and \(layout.providerConfig) (set by \(origin))")
        }
        return CheckResult.combine(results)
    }
}

/// Reads a systemd unit file under the host root.
enum UnitFile {
    static let directories = ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"]

    /// Returns the `--name=value` and `--name value` flags of the unit's ExecStart lines, with line
    /// continuations joined.
    static func execStartFlags(root: HostRoot, unit: String) -> [(name: String, value: String)] {
        guard let text = directories.lazy.compactMap({ try? HostLayout.readText(root, $0 + "/" + unit) }).first else { return [] }
        var logical: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingSpaces
            if trimmed.hasSuffix("\\") {
                current += String(trimmed.dropLast()) + " "
            } else {
                logical.append(current + trimmed)
                current = ""
            }
        }
        var flags: [(String, String)] = []
        for line in logical where line.hasPrefix("ExecStart=") {
            let words = line.dropFirst("ExecStart=".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String($0).trimmingQuotes }
            var index = 0
            while index < words.count {
                let word = words[index]
                index += 1
                guard word.hasPrefix("--") else { continue }
                let body = word.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    flags.append((String(body[..<equals]), String(body[body.index(after: equals)...])))
                } else if index < words.count, !words[index].hasPrefix("-") {
                    flags.append((String(body), words[index]))
                    index += 1
                }
            }
        }
        return flags
    }

    /// Returns whether `unit` has a unit file under the host root, and whether it is enabled (a
    /// symlink in a `*.wants` directory).
    static func presence(root: HostRoot, unit: String) -> (exists: Bool, enabled: Bool) {
        let exists = directories.contains { ((try? root.info($0 + "/" + unit)) ?? nil) != nil }
        let wants = ["/etc/systemd/system/multi-user.target.wants", "/etc/systemd/system/default.target.wants"]
        let enabled = wants.contains { ((try? root.info($0 + "/" + unit)) ?? nil) != nil }
        return (exists, enabled)
    }
}

extension String {
    var trimmingQuotes: String {
        if count >= 2, let first, first == "\"" || first == "'", last == first { return String(dropFirst().dropLast()) }
        return self
    }
}
