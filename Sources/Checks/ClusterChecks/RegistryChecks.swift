import FoundationEssentials
import KubeAPI

extension Check {
    /// Each registry responds to `GET /v2/` with 401 and a `Www-Authenticate` challenge.
    static let registryReachable = Check(
        id: "registry.reachable", title: "Registry reachable from this node", area: .registry
    ) { context in
        var results: [CheckResult] = []
        for host in context.setup.registryHosts {
            let client = RegistryProbe.client(host: host, context: context)
            do throws(KubeAPIError) {
                let response = try await client.exchange(path: "/v2/")
                let challenge = response.headers["www-authenticate"]
                switch (response.status, challenge) {
                case (401, let challenge?):
                    results.append(.pass("https://\(host)/v2/ responds with 401 and the challenge \(RegistryChallenge(challenge)?.summary ?? challenge)"))
                case (200, _):
                    results.append(.warn("https://\(host)/v2/ responds with 200 without credentials: it is not asking for authentication, so it may not be Harbor's registry endpoint", remedy: "check the registry host name"))
                case (let status, _):
                    results.append(.fail("https://\(host)/v2/ responds with HTTP \(status)\(challenge == nil ? " without a Www-Authenticate header" : ""); a registry responds with 401 and a challenge", remedy: "check the registry host and port, and any proxy in front of it"))
                }
            } catch {
                results.append(.fail("https://\(host)/v2/ is not reachable from this node: \(error)", remedy: RegistryProbe.remedy(error)))
            }
        }
        return CheckResult.combine(results)
    }

    /// With `--login-test ns/sa`: a token minted for that account is accepted by the registry.
    static let registryLogin = Check(
        id: "registry.login", title: "Registry accepts a service account token", area: .registry
    ) { context in
        guard let account = context.options.loginTest else {
            return .skip("not requested: pass --login-test NAMESPACE/NAME with an identity allowed to create serviceaccounts/token")
        }
        guard context.client != nil else { return context.noAPIResult }
        var results: [CheckResult] = []
        for provider in context.setup.providers {
            let token: ServiceAccountToken
            switch await context.mintedToken(account: account, audience: provider.audience)! {
            case .success(let value): token = value
            case .failure(let error):
                results.append(context.apiProblem(error, checking: "the registry login of \(account)"))
                continue
            }
            for host in provider.registryHosts {
                results.append(await RegistryProbe.login(host: host, username: provider.username, token: token.token.secret, account: account, context: context))
            }
        }
        return CheckResult.combine(results)
    }
}

extension CheckContext {
    /// Returns a token for `account` with `audience`, valid 600 s (the API server's minimum), minted
    /// once per run; nil without API access.
    func mintedToken(account: DoctorOptions.ServiceAccount, audience: String) async -> Result<ServiceAccountToken, KubeAPIError>? {
        guard let client else { return nil }
        return await facts.value("token \(account) \(audience)") {
            await capture { () async throws(KubeAPIError) in
                try await client.requestToken(namespace: account.namespace, serviceAccount: account.name, audiences: [audience], expirationSeconds: 600)
            }
        }
    }
}

/// A `Www-Authenticate` challenge (RFC 7235), as registries send it.
struct RegistryChallenge: Sendable, Equatable {
    var scheme: String
    var parameters: [String: String]

    init?(_ header: String) {
        let trimmed = header.trimmingSpaces
        guard let space = trimmed.firstIndex(of: " ") else {
            guard !trimmed.isEmpty else { return nil }
            scheme = trimmed
            parameters = [:]
            return
        }
        scheme = String(trimmed[..<space])
        var parameters: [String: String] = [:]
        var rest = trimmed[trimmed.index(after: space)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            let key = String(rest.prefix { $0 != "=" }).lowercased()
            rest = rest.dropFirst(key.count)
            guard rest.first == "=" else { break }
            rest = rest.dropFirst()
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                value = String(rest.prefix { $0 != "\"" })
                rest = rest.dropFirst(value.count + 1)
            } else {
                value = String(rest.prefix { $0 != "," })
                rest = rest.dropFirst(value.count)
            }
            parameters[key] = value
        }
        self.parameters = parameters
    }

    var summary: String {
        ([scheme] + parameters.keys.sorted().map { "\($0)=\"\(parameters[$0]!)\"" }).joined(separator: " ")
    }
}

enum RegistryProbe {
    /// Debian's system CA bundle; `--registry-ca` replaces it.
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"

    static func client(server: String, context: CheckContext) -> KubeClient {
        let seconds = Double(context.timeout.components.seconds) + Double(context.timeout.components.attoseconds) / 1e18
        let options = KubeClientOptions(connectTimeout: min(5, seconds), requestTimeout: seconds, maxResponseBytes: 1 << 20, maxAttempts: 1)
        let credentials = KubeCredentials(
            server: server,
            certificateAuthority: .file(context.options.registryCAFile ?? systemBundle),
            origin: "registry \(server)"
        )
        return KubeClient(credentials: credentials, options: options)
    }

    static func client(host: String, context: CheckContext) -> KubeClient {
        client(server: "https://\(host)", context: context)
    }

    static func remedy(_ error: KubeAPIError) -> String {
        if case .transport(let code, _, _) = error, code == 60 || code == 77 {
            return "the registry's certificate is not trusted: pass its CA with --registry-ca FILE (containerd needs it too, in registries.yaml configs.<host>.tls)"
        }
        return "check DNS, routes and firewalls between this node and the registry"
    }

    /// Presents the token the way the plugin's response makes containerd present it: Basic
    /// `username:token`, to the token endpoint the registry's challenge names.
    static func login(host: String, username: String, token: String, account: DoctorOptions.ServiceAccount, context: CheckContext) async -> CheckResult {
        let basic = "Basic " + Data("\(username):\(token)".utf8).base64EncodedString()
        let clean = { (text: String) in redact(redact(text, token), basic) }
        do throws(KubeAPIError) {
            let probe = try await client(host: host, context: context).exchange(path: "/v2/")
            guard let header = probe.headers["www-authenticate"], let challenge = RegistryChallenge(header) else {
                return .fail("https://\(host)/v2/ sent no Www-Authenticate challenge (HTTP \(probe.status))", remedy: "check the registry host")
            }
            let response: KubeResponse
            if challenge.scheme.lowercased() == "bearer", let realm = challenge.parameters["realm"] {
                guard let split = splitURL(realm) else {
                    return .fail("the registry's token realm \(realm) is not an https URL", remedy: "check the registry's external URL setting")
                }
                var path = split.path
                if let service = challenge.parameters["service"] {
                    path += (path.contains("?") ? "&" : "?") + "service=" + percentEncoded(service)
                }
                response = try await client(server: split.server, context: context).exchange(path: path, authorization: basic)
            } else {
                response = try await client(host: host, context: context).exchange(path: "/v2/", authorization: basic)
            }
            if (200..<300).contains(response.status) {
                return .pass("\(host) accepted a token of \(account) (audience as configured) from user \(username)")
            }
            let reason = clean(registryError(response.body) ?? "HTTP \(response.status)")
            return .fail(
                "\(host) rejected a token of \(account): HTTP \(response.status): \(reason)",
                remedy: "in Harbor, check the identity provider's issuer and JWKS (see cluster.issuer-keys) and a robot account whose claim rules match sub=system:serviceaccount:\(account.namespace):\(account.name) and the audience"
            )
        } catch {
            return .fail("the login test against \(host) failed: \(clean("\(error)"))", remedy: remedy(error))
        }
    }

    /// Returns the message of a registry error body (`{"errors":[{"code","message"}]}`).
    static func registryError(_ body: [UInt8]) -> String? {
        struct Body: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]?
        }
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)), let errors = decoded.errors, !errors.isEmpty else { return nil }
        return errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
    }

    /// Splits `https://host[:port]/path?query` into server and path.
    static func splitURL(_ url: String) -> (server: String, path: String)? {
        guard url.hasPrefix("https://") else { return nil }
        let rest = url.dropFirst("https://".count)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let path = String(rest[slash...])
        return ("https://" + rest[..<slash], path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : path))
    }

    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if character.isASCII && (character.isLetter || character.isNumber || "-._~".contains(character)) {
                result.append(character)
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
