import Agent
import FoundationEssentials

/// The command table: every subcommand of `harbor-keyless`, in the order `help` lists them.
let commands: [Command] = [
    Command(
        name: "install",
        summary: "Write the plugin, its provider config and the k3s drop-in onto the node.",
        usage: "harbor-keyless install [options]",
        options: ConfigurationOptions.specs,
        run: { options in
            let report = try Installer(configuration: ConfigurationOptions.load(options)).install()
            printPlan(report.plan)
            if let pending = report.pendingRestart {
                print("restart pending: \(pending.reason); k3s reads these files only at start-up")
                print("  finish with: systemctl restart k3s   (k3s-agent on agent nodes)")
            }
            return ExitStatus.success
        }
    ),
    Command(
        name: "uninstall",
        summary: "Remove our drop-in, provider entries and executables from the node.",
        usage: "harbor-keyless uninstall [options]",
        options: ConfigurationOptions.specs,
        run: { options in
            let report = try Installer(configuration: ConfigurationOptions.load(options, requireRegistry: false)).uninstall()
            printPlan(report.plan)
            if report.pendingRestart != nil {
                print("restart pending: the running kubelet keeps its provider config until k3s restarts")
                print("  finish with: systemctl restart k3s   (k3s-agent on agent nodes)")
            }
            return ExitStatus.success
        }
    ),
    Command(
        name: "render",
        summary: "Print the files install would write; change nothing.",
        usage: "harbor-keyless render [options]",
        options: ConfigurationOptions.specs,
        run: { options in
            let plan = try Installer(configuration: ConfigurationOptions.load(options)).plan()
            printRendered(plan)
            return ExitStatus.success
        }
    ),
    manifestsCommand, healthCommand, pauseCommand,
    Command(
        name: "version",
        summary: "Print the version.",
        usage: "harbor-keyless version",
        options: [],
        run: { _ in
            print("harbor-keyless \(AgentVersion.current)")
            return ExitStatus.success
        }
    ),
]

// MARK: - Output

private func printPlan(_ plan: InstallPlan) {
    if !plan.kubernetesVersion.isEmpty {
        print("Kubernetes \(plan.kubernetesVersion) (from \(plan.kubernetesVersionSource))")
    }
    for warning in plan.warnings {
        print("note: \(warning)")
    }
    if plan.files.isEmpty {
        print("nothing to do")
    }
    for file in plan.files {
        let action = file.action.rawValue
        print("\(action)\(String(repeating: " ", count: max(1, 10 - action.count)))\(file.path)  (\(file.kind.rawValue))")
    }
}

private func printRendered(_ plan: InstallPlan) {
    print("# Kubernetes \(plan.kubernetesVersion) (from \(plan.kubernetesVersionSource))")
    for warning in plan.warnings {
        print("# note: \(warning)")
    }
    for file in plan.files {
        let mode = String(file.mode, radix: 8)
        switch (file.kind, file.contents) {
        case (.executable, let contents?):
            print("# \(file.path): plugin executable, \(contents.count) bytes, mode \(mode), would be \(file.action.rawValue)")
        case (_, let contents?):
            print("# \(file.path): mode \(mode), would be \(file.action.rawValue)")
            print(String(decoding: contents, as: UTF8.self), terminator: contents.last == 0x0A ? "" : "\n")
        case (_, nil):
            print("# \(file.path): would be removed")
        }
    }
}
