import Agent
import FoundationEssentials

/// `harbor-keyless manifests`: prints the DaemonSet, its RBAC and configuration as YAML.
let manifestsCommand = Command(
    name: "manifests",
    summary: "Print the Kubernetes manifests that run the agent as a DaemonSet.",
    usage: "harbor-keyless manifests [--registry HOST] [options] [--namespace NS] [--image REF] [--uninstall] [--no-node-audience-rbac]",
    options: ConfigurationOptions.specs + [
        OptionSpec(name: "namespace", valueName: "NAME", help: "namespace of the agent and its Leases (default \(ManifestOptions.defaultNamespace))"),
        OptionSpec(name: "image", valueName: "REF", help: "agent image (default \(ManifestOptions.defaultImage))"),
        OptionSpec(name: "uninstall", valueName: nil, help: "print the DaemonSet that runs `harbor-keyless uninstall` on every node instead"),
        OptionSpec(name: "no-node-audience-rbac", valueName: nil, help: "leave out the ClusterRole that lets nodes request tokens for the registry audiences"),
        OptionSpec(name: "restart-max-concurrent", valueName: "N", help: "maximum number of nodes that restart k3s at the same time (default 1)"),
    ],
    run: { options in
        let uninstall = options.flag("uninstall")
        var manifestOptions = ManifestOptions(
            configuration: try ConfigurationOptions.load(options, requireRegistry: !uninstall),
            uninstall: uninstall,
            nodeAudienceRBAC: !options.flag("no-node-audience-rbac")
        )
        if let namespace = options.value("namespace") {
            manifestOptions.namespace = namespace
        }
        if let image = options.value("image") {
            manifestOptions.image = image
        }
        if let text = options.value("restart-max-concurrent") {
            guard let count = Int(text) else {
                throw UsageError("--restart-max-concurrent \(text.debugDescription) is not a whole number")
            }
            manifestOptions.restartMaxConcurrent = count
        }
        print(try Manifests.render(manifestOptions), terminator: "")
        return ExitStatus.success
    }
)
