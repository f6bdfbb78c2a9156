internal import CredentialProvider
import YAML

extension CredentialProviderConfig {
    /// The provider API versions the kubelet accepts (kubernetes `pkg/credentialprovider/plugin/plugin.go`).
    public static let providerAPIVersions = [
        "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1",
        "credentialprovider.kubelet.k8s.io/v1beta1",
    ]
    /// The tokenAttributes cache types the kubelet accepts, sorted as its messages list them.
    public static let cacheTypes = ["ServiceAccount", "Token"]

    /// Returns every reason a kubelet of version `kubelet` would reject this config at start-up,
    /// with the kubelet's own text. An empty result means it would load the config.
    ///
    /// Checks, in the kubelet's order: strict decoding for that version, then every rule of
    /// kubernetes `pkg/credentialprovider/plugin/config.go` `validateCredentialProviderConfig`,
    /// then that `<bin-dir>/<name>` exists for each provider, through `binaryExists(name)`.
    /// `tokenGateEnabled` is the effective value of the kubelet gate
    /// KubeletServiceAccountTokenForCredentialProviders. Texts are those of the Kubernetes 1.34+
    /// sources; older releases word some Required messages differently.
    public func validate(
        kubelet: KubernetesVersion, tokenGateEnabled: Bool, binaryExists: (String) -> Bool
    ) -> [ProviderConfigProblem] {
        var decoder = ProviderConfigDecoder(kubelet: kubelet)
        let decoded = decoder.decode(self)
        var problems = decoder.problems

        // Without a known kind and version the kubelet reads nothing else of the file.
        guard decoder.typeMetaIsKnown else { return problems }

        if decoded.isEmpty {
            problems.append(ProviderConfigProblem(
                kind: .validation, provider: nil, message: "providers: Required value: at least 1 item in plugins is required"
            ))
        }
        var seenNames: Set<String> = []
        for provider in decoded {
            problems += Self.validate(provider, seenNames: &seenNames, kubelet: kubelet, tokenGateEnabled: tokenGateEnabled)
        }

        // Only valid names reach `binaryExists`, so a caller never resolves a path such as "../x".
        for provider in decoded where Self.isValidProviderName(provider.name) && !binaryExists(provider.name) {
            problems.append(ProviderConfigProblem(
                kind: .missingBinary, provider: provider.name,
                message: "plugin binary executable \(provider.name) did not exist", mark: provider.mark
            ))
        }
        return problems
    }

    /// Returns whether the kubelet accepts `name` as a provider name, which is also the file name of
    /// the provider's executable in the bin dir.
    public static func isValidProviderName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.contains(" ") && name != "." && name != ".."
    }

    /// Returns the providers that appear in more than one file, for a kubelet that reads a
    /// directory of config files (kubernetes `readCredentialProviderConfig`).
    public static func duplicateProviderNames(across configs: [CredentialProviderConfig]) -> [ProviderConfigProblem] {
        var seen: Set<String> = []
        var problems: [ProviderConfigProblem] = []
        for config in configs {
            for name in config.providerNames {
                if seen.contains(name) {
                    problems.append(ProviderConfigProblem(
                        kind: .validation, provider: name,
                        message: "duplicate provider name \(goQuote(name)) found in configuration file(s)"
                    ))
                }
                seen.insert(name)
            }
        }
        return problems
    }

    private static func validate(
        _ provider: DecodedProvider, seenNames: inout Set<String>, kubelet: KubernetesVersion, tokenGateEnabled: Bool
    ) -> [ProviderConfigProblem] {
        var messages: [String] = []
        let name = provider.name

        // Name: it becomes a file name under the bin dir.
        if name.contains("/") { messages.append("providers.name: Invalid value: \(goQuote(name)): provider name cannot contain '/'") }
        if name.contains(" ") { messages.append("providers.name: Invalid value: \(goQuote(name)): provider name cannot contain spaces") }
        if name == "." { messages.append("providers.name: Invalid value: \(goQuote(name)): provider name cannot be '.'") }
        if name == ".." { messages.append("providers.name: Invalid value: \(goQuote(name)): provider name cannot be '..'") }
        if seenNames.contains(name) { messages.append("providers.name: Duplicate value: \(goQuote(name))") }
        seenNames.insert(name)

        if provider.apiVersion.isEmpty {
            messages.append("providers.apiVersion: Required value")
        } else if !providerAPIVersions.contains(provider.apiVersion) {
            messages.append(
                "providers.apiVersion: Unsupported value: \(goQuote(provider.apiVersion)): supported values: "
                    + providerAPIVersions.map(goQuote).joined(separator: ", ")
            )
        }

        if provider.matchImages.isEmpty {
            messages.append("providers.matchImages: Required value: at least 1 item in matchImages is required")
        }
        for image in provider.matchImages {
            do {
                try MatchImages.validate(image)
            } catch {
                messages.append("providers.matchImages: Invalid value: \(goQuote(image)): match image is invalid: \(error.reason)")
            }
        }

        // A duration that failed to decode is already reported; the kubelet never gets this far.
        if provider.defaultCacheDuration == nil && !provider.defaultCacheDurationFailed {
            messages.append("providers.defaultCacheDuration: Required value")
        }
        if let duration = provider.defaultCacheDuration, duration < 0 {
            messages.append(
                "providers.defaultCacheDuration: Invalid value: \(goQuote(GoDuration.format(duration))): must be greater than or equal to 0"
            )
        }

        if let attributes = provider.tokenAttributes {
            messages += validate(attributes, providerAPIVersion: provider.apiVersion, kubelet: kubelet, tokenGateEnabled: tokenGateEnabled)
        }

        return messages.map { ProviderConfigProblem(kind: .validation, provider: name, message: $0, mark: provider.mark) }
    }

    private static func validate(
        _ attributes: DecodedProvider.TokenAttributes, providerAPIVersion: String, kubelet: KubernetesVersion, tokenGateEnabled: Bool
    ) -> [String] {
        var messages: [String] = []
        let path = "providers.tokenAttributes"

        if !tokenGateEnabled {
            messages.append(
                "\(path): Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"
            )
        }
        if attributes.serviceAccountTokenAudience.isEmpty { messages.append("\(path).serviceAccountTokenAudience: Required value") }
        if attributes.requireServiceAccount == nil { messages.append("\(path).requireServiceAccount: Required value") }
        if providerAPIVersion != HarborProvider.providerAPIVersion {
            messages.append("\(path): Forbidden: tokenAttributes is only supported for \(HarborProvider.providerAPIVersion) API version")
        }
        if attributes.requireServiceAccount == false && !attributes.requiredServiceAccountAnnotationKeys.isEmpty {
            messages.append(
                "\(path).requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set"
            )
        }

        messages += annotationKeyMessages(attributes.requiredServiceAccountAnnotationKeys, path: "\(path).requiredServiceAccountAnnotationKeys")
        messages += annotationKeyMessages(attributes.optionalServiceAccountAnnotationKeys, path: "\(path).optionalServiceAccountAnnotationKeys")

        let both = Set(attributes.requiredServiceAccountAnnotationKeys)
            .intersection(attributes.optionalServiceAccountAnnotationKeys)
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        if !both.isEmpty {
            let list = "[" + both.map(goQuote).joined(separator: ",") + "]"
            messages.append("\(path): Invalid value: \(list): annotation keys cannot be both required and optional")
        }

        // cacheType exists from 1.34 on, where it is required.
        if kubelet.isAtLeast(1, 34) {
            if attributes.cacheType.isEmpty {
                messages.append(
                    "\(path).cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: "
                        + cacheTypes.joined(separator: ", ")
                )
            } else if !cacheTypes.contains(attributes.cacheType) {
                messages.append(
                    "\(path).cacheType: Unsupported value: \(goQuote(attributes.cacheType)): supported values: "
                        + cacheTypes.map(goQuote).joined(separator: ", ")
                )
            }
        }
        return messages
    }

    // Keys must be qualified names once lowercased (the rule of metadata annotation keys), and unique.
    private static func annotationKeyMessages(_ keys: [String], path: String) -> [String] {
        var messages: [String] = []
        var seen: Set<String> = []
        for key in keys {
            for message in QualifiedName.validate(key.lowercased()) {
                messages.append("\(path): Invalid value: \(goQuote(key)): \(message)")
            }
            if seen.contains(key) { messages.append("\(path): Duplicate value: \(goQuote(key))") }
            seen.insert(key)
        }
        return messages
    }
}
