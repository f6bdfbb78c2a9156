import CredentialProvider

extension Check {
    /// Warns when every service account gets a token, not only opted-in ones.
    static let optIn = Check(
        id: "pull-safety.opt-in", title: "Token only for opted-in accounts", area: .pullSafety
    ) { context in
        let open = context.setup.providers.filter { $0.serviceAccountAnnotationKey == nil }
        guard open.isEmpty else {
            return .warn(
                "no opt-in annotation key is set for \(open.map(\.name).joined(separator: ", ")): every service account now sends a token to \(open.flatMap(\.registryHosts).joined(separator: ", ")), the kubelet no longer pulls anonymously from it, and Harbor rejects tokens of accounts it cannot map (public projects included)",
                remedy: "set annotationKey (--annotation-key) so only annotated service accounts send a token, or map every service account that pulls from Harbor to a robot account"
            )
        }
        return .pass("only service accounts annotated with \(context.setup.providers.compactMap(\.serviceAccountAnnotationKey).joined(separator: ", ")) send a token")
    }

    /// The agent's own image is not pulled through our provider.
    static let agentImage = Check(
        id: "pull-safety.agent-image", title: "Agent image not behind the provider", area: .pullSafety
    ) { context in
        guard let image = context.environment["HARBOR_KEYLESS_IMAGE"], !image.isEmpty else {
            return .skip("HARBOR_KEYLESS_IMAGE is not set (not running from the DaemonSet)")
        }
        let repository = image.split(separator: "@").first.map(String.init) ?? image
        let withoutTag: String
        if let colon = repository.lastIndex(of: ":"), !repository[colon...].contains("/") {
            withoutTag = String(repository[..<colon])
        } else {
            withoutTag = repository
        }
        let matching = context.setup.providers.filter { provider in
            provider.matchImages.contains { MatchImages.matches(pattern: $0, image: withoutTag) }
        }
        guard matching.isEmpty else {
            return .warn(
                "the agent's image \(image) matches matchImages of \(matching.map(\.name).joined(separator: ", ")): when the provider breaks, the agent that would repair it cannot be pulled",
                remedy: "pull the agent's image from another registry, or pre-load it on the nodes"
            )
        }
        return .pass("the agent's image \(image) is not pulled through our provider")
    }
}
