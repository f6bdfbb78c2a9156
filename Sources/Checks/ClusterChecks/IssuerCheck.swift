import CredentialProvider
import FoundationEssentials
import HostFiles
import KubeAPI

extension Check {
    /// Shows the issuer and JWKS key ids for comparison with Harbor's identity provider, and
    /// warns when a token's `kid` is not among the published keys.
    static let issuerKeys = Check(
        id: "cluster.issuer-keys", title: "Issuer and signing keys", area: .cluster
    ) { context in
        guard let client = context.client else { return context.noAPIResult }
        struct Discovery: Decodable {
            var issuer: String
            var jwks_uri: String?
        }
        struct KeySet: Decodable {
            struct Key: Decodable { var kid: String? }
            var keys: [Key]
        }
        let discovery: Discovery
        let keys: [String]
        do throws(KubeAPIError) {
            let body = try await client.rawGet("/.well-known/openid-configuration", accept: "application/json").body
            guard let decoded = try? JSONDecoder().decode(Discovery.self, from: Data(body)) else {
                return .warn("/.well-known/openid-configuration is not an OpenID configuration document")
            }
            discovery = decoded
            let keyBody = try await client.rawGet("/openid/v1/jwks", accept: "application/json").body
            guard let keySet = try? JSONDecoder().decode(KeySet.self, from: Data(keyBody)) else {
                return .warn("/openid/v1/jwks is not a JSON Web Key Set")
            }
            keys = keySet.keys.compactMap(\.kid)
        } catch {
            return context.apiProblem(error, checking: "the issuer and its keys")
        }
        let summary = "issuer \(discovery.issuer), JWKS key ids \(keys.isEmpty ? "(none)" : keys.joined(separator: ", ")): Harbor's identity provider must have this issuer and these keys"

        // A token whose kid is not published cannot be verified by Harbor.
        var tokens: [(String, String)] = []
        if let account = context.options.loginTest, let provider = context.setup.providers.first,
            case .success(let minted)? = await context.mintedToken(account: account, audience: provider.audience)
        {
            tokens.append(("the token minted for \(account)", minted.token.secret))
        }
        if context.inPod, let bytes = APIAudiences.readLocal(context.podTokenPath) {
            tokens.append(("this pod's token", String(decoding: bytes, as: UTF8.self).trimmingSpaces))
        }
        for (name, token) in tokens {
            guard let claims = JWTClaims(token: token) else { continue }
            guard let kid = claims.keyID else {
                return .warn("\(summary); \(name) has no kid header, and Harbor requires one", remedy: "check the API server's --service-account-signing-key-file")
            }
            if !keys.contains(kid) {
                return .warn(
                    "\(summary); \(name) is signed with key id \(kid), which the JWKS does not list",
                    remedy: "the signing key changed or the JWKS is stale: update the keys of Harbor's identity provider from /openid/v1/jwks"
                )
            }
        }
        return .pass(summary)
    }
}
