import Agent
import FoundationEssentials

/// `harbor-keyless manifests`: prints the DaemonSet, its RBAC and configuration as YAML.
let manifestsCommand = Command(
    name: "manifests",
    summary: "Print the Kubernetes manifests that run the agent as a DaemonSet.",
    usage: "harbor-keyless manifests [--registry HOST] [options] [--namespace NS] [--no-create-namespace] [--image REF] [--uninstall] [--no-node-audience-rbac]",
    options: ConfigurationOptions.specs + [
        OptionSpec(name: "namespace", valueName: "NAME", help: "namespace of the agent and its Leases (default \(ManifestOptions.defaultNamespace))"),
        OptionSpec(
            name: "no-create-namespace", valueName: nil,
            help: "leave out the Namespace object, for a namespace that exists and allows privileged pods (always left out for default, kube-system, kube-public and kube-node-lease)"
        ),
        OptionSpec(name: "image", valueName: "REF", help: "agent image (default \(ManifestOptions.defaultImage))"),
        OptionSpec(name: "uninstall", valueName: nil, help: "print the DaemonSet that runs `harbor-keyless uninstall` on every node instead"),
        OptionSpec(name: "no-node-audience-rbac", valueName: nil, help: "leave out the ClusterRole that lets nodes request tokens for the registry audiences"),
        OptionSpec(name: "max-concurrent-restarts", valueName: "N", help: "maximum number of nodes that restart k3s at the same time (default 1)"),
        OptionSpec(name: "restart-max-concurrent", valueName: "N", help: "older spelling of --max-concurrent-restarts, still accepted"),
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
        manifestOptions.createNamespace = !options.flag("no-create-namespace")
        if let image = options.value("image") {
            manifestOptions.image = image
        }
        let spellings = ["max-concurrent-restarts", "restart-max-concurrent"].filter { options.value($0) != nil }
        if spellings.count > 1 {
            throw UsageError("--max-concurrent-restarts and --restart-max-concurrent are the same option; give it once")
        }
        if let option = spellings.first, let text = options.value(option) {
            guard let count = Int(text) else {
                throw UsageError("--\(option) \(text.debugDescription) is not a whole number")
            }
            manifestOptions.restartMaxConcurrent = count
        }
        print(try Manifests.render(manifestOptions), terminator: "")
        return ExitStatus.success
    }
)
