import CredentialProvider
import FoundationEssentials
import HostFiles
import K3sConfig

extension Check {
    /// The provider config passes every rule of the kubelet that the next start runs.
    static let providerConfig = Check(
        id: "host.provider-config", title: "Provider config valid for this kubelet", area: .host
    ) { context in
        let input: ProviderConfigInput
        switch await ProviderConfigInput.load(context) {
        case .success(let value): input = value
        case .failure(let error): return error.result
        }
        guard let target = await context.targetKubeletVersion() else {
            return .skip("the kubelet version is unknown (no k3s binary on disk and no Node from the API), so the config cannot be validated for it")
        }
        let gate = await configuredKubeletTokenGate(context, version: target.version)
        let problems = input.config.validate(kubelet: target.version, tokenGateEnabled: gate ?? false) { name in
            context.root.isExecutableFile(input.layout.executable(named: name))
        }
        var results: [CheckResult] = []
        if !problems.isEmpty {
            results.append(.fail(
                "a kubelet \(target.version) (from \(target.source)) rejects \(input.layout.providerConfig) and k3s then exits: \(problems.map(\.description).joined(separator: "; "))",
                remedy: "run `harbor-keyless install` to rewrite the config, or fix the entries named above; do not restart k3s until this check passes"
            ))
        }
        for provider in context.setup.providers {
            guard let entry = input.config.harborProvider(named: provider.name) else {
                results.append(.fail("\(input.layout.providerConfig) has no provider named \(provider.name)", remedy: "run `harbor-keyless install`"))
                continue
            }
            if entry.tokenAttributes.serviceAccountTokenAudience != provider.audience {
                results.append(.fail(
                    "provider \(provider.name) requests tokens for audience \(entry.tokenAttributes.serviceAccountTokenAudience), configured is \(provider.audience)",
                    remedy: "run `harbor-keyless install` to update the entry"
                ))
            }
        }
        if results.isEmpty {
            return .pass("\(input.layout.providerConfig) is valid for kubelet \(target.version) (from \(target.source)) with providers \(input.config.providerNames.joined(separator: ", "))")
        }
        return CheckResult.combine(results)
    }

    /// Every configured registry host, port included, is covered by our matchImages.
    static let matchImages = Check(
        id: "host.match-images", title: "matchImages covers each registry", area: .host
    ) { context in
        let input: ProviderConfigInput
        switch await ProviderConfigInput.load(context) {
        case .success(let value): input = value
        case .failure(let error): return error.result
        }
        var results: [CheckResult] = []
        for provider in context.setup.providers {
            let patterns = input.config.harborProvider(named: provider.name)?.matchImages ?? []
            for host in provider.registryHosts {
                let image = "\(host)/library/probe"
                if patterns.contains(where: { MatchImages.matches(pattern: $0, image: image) }) {
                    results.append(.pass("\(host) is matched by \(provider.name)"))
                } else {
                    results.append(.fail(
                        "no matchImages pattern of \(provider.name) (\(patterns.joined(separator: ", "))) matches images on \(host); the kubelet never calls the plugin for them and pulls without credentials",
                        remedy: "add \(host) to matchImages (a pattern must carry the port when the image does), then run `harbor-keyless install`"
                    ))
                }
            }
        }
        return CheckResult.combine(results)
    }

    /// No other provider's matchImages overlaps ours.
    static let providerOverlap = Check(
        id: "host.provider-overlap", title: "No other provider matches our images", area: .host
    ) { context in
        let input: ProviderConfigInput
        switch await ProviderConfigInput.load(context) {
        case .success(let value): input = value
        case .failure(let error): return error.result
        }
        let ours = Set(context.setup.providers.map(\.name))
        var overlaps: [String] = []
        for provider in context.setup.providers {
            let patterns = input.config.harborProvider(named: provider.name)?.matchImages ?? provider.matchImages
            for other in input.config.providers where !ours.contains(other.name ?? "") {
                let otherPatterns = other.node["matchImages"]?.sequence?.compactMap(\.string) ?? []
                for pattern in patterns {
                    for otherPattern in otherPatterns where MatchImages.overlap(pattern, otherPattern) {
                        overlaps.append("\(other.name ?? "?") pattern \(otherPattern) overlaps \(provider.name) pattern \(pattern)")
                    }
                }
            }
        }
        guard overlaps.isEmpty else {
            return .warn(
                overlaps.joined(separator: "; ") + "; the kubelet runs both for such images and, where their auth keys collide, uses the earlier provider's credentials",
                remedy: "narrow the other provider's matchImages so it no longer matches the Harbor registry"
            )
        }
        return .pass("no other provider in \(input.layout.providerConfig) matches our registries")
    }
}

/// The provider config and the layout, or the result to report when they cannot be read.
struct ProviderConfigInput: Sendable {
    var layout: HostLayout
    var config: CredentialProviderConfig

    static func load(_ context: CheckContext) async -> Result<ProviderConfigInput, CheckResultError> {
        let layout: HostLayout
        switch await context.hostLayout() {
        case .success(let value): layout = value
        case .failure(let error): return .failure(CheckResultError(.fail(error.message, remedy: "correct the k3s configuration file named above")))
        }
        do {
            guard let config = try ProviderConfigFile.read(context.root, layout.providerConfig) else {
                return .failure(CheckResultError(.fail("\(layout.providerConfig) does not exist", remedy: "run `harbor-keyless install`")))
            }
            return .success(ProviderConfigInput(layout: layout, config: config))
        } catch {
            return .failure(CheckResultError(.fail("\(layout.providerConfig) is invalid: \(error.message)", remedy: "run `harbor-keyless install` to rewrite it, or fix the line named above")))
        }
    }
}

/// A check result carried as an error, for helpers whose failure is already a verdict.
struct CheckResultError: Error, Sendable {
    var result: CheckResult

    init(_ result: CheckResult) {
        self.result = result
    }
}

/// The effective kubelet gate from the k3s files and the version default; nil when the gate
/// does not exist in that version.
func configuredKubeletTokenGate(_ context: CheckContext, version: KubernetesVersion) async -> Bool? {
    if case .success(let layout) = await context.hostLayout(),
        let gates = try? layout.effective.featureGates(forKey: "kubelet-arg"),
        let value = gates[FeatureGateDefaults.kubeletTokenGate]
    {
        return value
    }
    return FeatureGateDefaults.kubeletTokenGate(version)
}
