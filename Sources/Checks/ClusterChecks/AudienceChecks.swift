import CredentialProvider
import FoundationEssentials
import HostFiles
import KubeAPI

extension Check {
    /// The API server's --api-audiences keeps the cluster's defaults and leaves out the
    /// registry audiences.
    static let apiAudiences = Check(
        id: "cluster.api-audiences", title: "API server audiences", area: .cluster
    ) { context in
        if let (audiences, issuer, source) = await APIAudiences.read(context) {
            return APIAudiences.evaluate(audiences, issuer: issuer, source: source, registryAudiences: context.setup.providers.map(\.audience))
        }
        if let result = await APIAudiences.tokenReviewProbe(context) {
            return result
        }
        return .skip(
            "the API server's audiences are unknown: no `Running kube-apiserver` line in this node's journal (an agent node, or rotated), no pod token to read, and no --login-test account to mint a probe token for"
        )
    }
}

enum APIAudiences {
    /// k3s's defaults (k3s `pkg/daemons/control/server.go`).
    static let k3sDefaults = ["https://kubernetes.default.svc.cluster.local", "k3s"]

    /// Reads the audiences from the newest `Running kube-apiserver` journal line, else from
    /// the `aud` of the pod's own projected token, which the API server fills with its
    /// api-audiences.
    static func read(_ context: CheckContext) async -> (audiences: [String], issuer: String?, source: String)? {
        if case .success(let entries) = await context.journalEntries(),
            let flags = entries.reversed().lazy.compactMap({ ComponentFlags(message: $0.message, component: "kube-apiserver") }).first
        {
            let issuer = flags.value("service-account-issuer")
            if let value = flags.value("api-audiences") {
                return (value.split(separator: ",").map(String.init), issuer, "--api-audiences in the `Running kube-apiserver` journal line")
            }
            // Without the flag the API server uses the issuer as its audience.
            if let issuer { return ([issuer], issuer, "the issuer, as no --api-audiences is in the `Running kube-apiserver` line") }
        }
        if context.inPod, let bytes = readLocal(context.podTokenPath),
            let claims = JWTClaims(token: String(decoding: bytes, as: UTF8.self).trimmingSpaces)
        {
            return (claims.audiences, claims.issuer, "the aud claim of this pod's service account token")
        }
        return nil
    }

    /// Mints a short-lived token for each registry audience for the `--login-test` account and
    /// has the API server review it with no audiences. The server then checks the token
    /// against its own api-audiences, so `authenticated: true` means the registry audience is
    /// one of them. The cluster's default audiences are not visible this way.
    static func tokenReviewProbe(_ context: CheckContext) async -> CheckResult? {
        guard let account = context.options.loginTest, let client = context.client else { return nil }
        var accepted: [String] = []
        let audiences = context.setup.providers.map(\.audience)
        for audience in audiences {
            do {
                let minted = try await client.requestToken(
                    namespace: account.namespace,
                    serviceAccount: account.name,
                    audiences: [audience],
                    expirationSeconds: 600
                )
                let review = try await client.tokenReview(token: minted.token, audiences: [])
                if review.authenticated == true { accepted.append(audience) }
            } catch {
                return context.apiProblem(error, checking: "the API server's audiences")
            }
        }
        let source = "a TokenReview of a token minted for \(account)"
        if !accepted.isEmpty {
            return .warn(
                "the API server accepts tokens for the registry audience \(accepted.joined(separator: ", ")) (from \(source)): tokens minted for the registry also authenticate to this cluster's API, so a token leaked on the registry side can call the API",
                remedy: "remove \(accepted.joined(separator: ", ")) from api-audiences in kube-apiserver-arg; the kubelet does not need it there to mint registry tokens"
            )
        }
        return .pass("the API server rejects tokens for \(audiences.joined(separator: ", ")) (from \(source)); its default audiences were not visible from here")
    }

    /// Reads a file of this container, such as the pod's token, which is not under the host root.
    static func readLocal(_ path: String) -> [UInt8]? {
        guard let root = try? HostRoot("/") else { return nil }
        return (try? root.read(path, limit: 64 << 10)) ?? nil
    }

    static func evaluate(_ audiences: [String], issuer: String?, source: String, registryAudiences: [String]) -> CheckResult {
        var results: [CheckResult] = []
        let defaults = issuer.map { Set([$0] + k3sDefaults) } ?? Set(k3sDefaults)
        if audiences.allSatisfy({ !defaults.contains($0) }) {
            results.append(.fail(
                "the API server accepts only \(audiences.joined(separator: ", ")) (from \(source)): the cluster's default audiences \(k3sDefaults.joined(separator: ", ")) were dropped, so in-cluster clients using default tokens are rejected",
                remedy: "keep the defaults in kube-apiserver-arg, e.g. api-audiences=\(k3sDefaults.joined(separator: ","))"
            ))
        }
        let added = registryAudiences.filter { audiences.contains($0) }
        if !added.isEmpty {
            results.append(.warn(
                "--api-audiences includes the registry audience \(added.joined(separator: ", ")) (from \(source)): tokens minted for the registry also authenticate to this cluster's API, so a token leaked on the registry side can call the API",
                remedy: "remove \(added.joined(separator: ", ")) from api-audiences in kube-apiserver-arg; the kubelet does not need it there to mint registry tokens"
            ))
        }
        if results.isEmpty {
            return .pass("the API server accepts \(audiences.joined(separator: ", ")) (from \(source)); no registry audience among them")
        }
        return CheckResult.combine(results)
    }
}
