import Agent
import FoundationEssentials

/// The command table: every subcommand of `harbor-keyless`, in the order `help` lists them.
let commands: [Command] = [
    Command(
        name: "install",
        summary: "Write the plugin, its provider config and the k3s drop-in onto the node.",
        usage: "harbor-keyless install [options]",
        options: ConfigurationOptions.specs + RestartOptions.specs,
        run: { options in
            let installer = Installer(configuration: try ConfigurationOptions.load(options), restartSettings: try RestartOptions.settings(options))
            if let holder = installer.managingDaemon() {
                printError("warning: a harbor-keyless daemon manages this node (\(holder)); at its next cycle it applies its own configuration over this install")
            }
            let report = try await installer.install(force: options.flag("force"))
            printReport(report)
            return ExitStatus.success
        }
    ),
    Command(
        name: "uninstall",
        summary: "Remove our drop-in, provider entries and executables from the node.",
        usage: "harbor-keyless uninstall [options]",
        options: ConfigurationOptions.specs + RestartOptions.specs,
        run: { options in
            let installer = Installer(
                configuration: try ConfigurationOptions.load(options, requireRegistry: false),
                restartSettings: try RestartOptions.settings(options)
            )
            let report = try await installer.uninstall(force: options.flag("force"))
            printReport(report)
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
    DoctorCommand.command,
    RunCommand.command,
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

private func printReport(_ report: InstallReport) {
    if let resumed = report.resumed {
        print("note: \(resumed)")
    }
    printPlan(report.plan)
    switch report.restart {
    case .notNeeded:
        break
    case .restarted(let unit, let steps):
        print("restarted \(unit) and verified:")
        for step in steps {
            print("  ok   \(step.name): \(step.detail)")
        }
    case .unitStopped(let unit):
        print("\(unit) is not running; k3s reads the new files when it starts")
    case .startedSince(let unit):
        print("\(unit) was restarted after the files changed; no restart needed")
    case .pending(let reason):
        print("restart pending: \(reason)")
    }
    if !report.keptExecutables.isEmpty {
        print("kept until k3s restarts, because the running kubelet may still run them: \(report.keptExecutables.joined(separator: ", "))")
        print("  the next run after the restart removes them")
    }
}

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
        switch (file.plugin, file.contents) {
        case (let plugin?, _):
            print("# \(file.path): plugin executable, \(plugin.size) bytes, mode \(mode), would be \(file.action.rawValue)")
        case (nil, let contents?):
            print("# \(file.path): mode \(mode), would be \(file.action.rawValue)")
            print(String(decoding: contents, as: UTF8.self), terminator: contents.last == 0x0A ? "" : "\n")
        case (nil, nil):
            print("# \(file.path): would be removed")
        }
    }
}
