import Foundation
import Testing

@testable import CredentialProvider

// Wire format of credentialprovider.kubelet.k8s.io/v1, as on the kubernetes.io reference page
// "Kubelet CredentialProvider (v1)".
@Suite("API types")
struct APITypesTests {
    static let now = 1_800_000_000
    static let token = TestTokens.serviceAccountToken(exp: now + 3600)

    static let goldenRequest = """
        {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest",\
        "image":"harbor.example.com/library/app","serviceAccountToken":"\(token)",\
        "serviceAccountAnnotations":{"harbor.example.com/robot":"app"}}
        """

    static let goldenResponse = """
        {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","auth":{"harbor.example.com":\
        {"password":"\(token)","username":"jwt"}},"cacheDuration":"55m0s","cacheKeyType":"Registry",\
        "kind":"CredentialProviderResponse"}
        """

    @Test("golden request decodes every field")
    func decodesGoldenRequest() throws {
        let request = try JSONDecoder().decode(CredentialProviderRequest.self, from: Data(Self.goldenRequest.utf8))
        #expect(request.apiVersion == "credentialprovider.kubelet.k8s.io/v1")
        #expect(request.kind == "CredentialProviderRequest")
        #expect(request.image == "harbor.example.com/library/app")
        #expect(request.serviceAccountToken == Self.token)
        #expect(request.serviceAccountAnnotations == ["harbor.example.com/robot": "app"])
    }

    @Test("golden request gives the golden response bytes")
    func producesGoldenResponse() throws {
        let now = Date(timeIntervalSince1970: TimeInterval(Self.now))
        let output = try CredentialProviderPlugin.handle(requestBytes: Array(Self.goldenRequest.utf8), username: "jwt", now: now)
        #expect(String(decoding: output, as: UTF8.self) == Self.goldenResponse)
    }

    @Test("response JSON has no escaped slashes")
    func responseHasNoEscapedSlashes() {
        let response = CredentialProviderResponse(
            cacheKeyType: .image, cacheDuration: "0s",
            auth: ["harbor.example.com/library/app": AuthConfig(username: "jwt", password: "a/b")])
        let text = String(decoding: CredentialProviderPlugin.encode(response), as: UTF8.self)
        #expect(!text.contains(#"\/"#))
        #expect(text.contains(#""harbor.example.com/library/app""#))
    }

    @Test("equal responses encode to equal bytes")
    func encodingIsStable() {
        let auth = (0..<20).reduce(into: [String: AuthConfig]()) { auth, index in
            auth["registry\(index).example.com"] = AuthConfig(username: "jwt", password: "p\(index)")
        }
        let response = CredentialProviderResponse(cacheKeyType: .global, cacheDuration: nil, auth: auth)
        let first = CredentialProviderPlugin.encode(response)
        let second = CredentialProviderPlugin.encode(CredentialProviderResponse(cacheKeyType: .global, cacheDuration: nil, auth: auth))
        #expect(first == second)
        let text = String(decoding: first, as: UTF8.self)
        #expect(text.hasPrefix(#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","auth":{"registry0.example.com":"#))
    }

    @Test("absent cacheDuration is left out of the JSON")
    func absentCacheDurationIsOmitted() {
        let response = CredentialProviderResponse(cacheKeyType: .registry, cacheDuration: nil, auth: [:])
        let text = String(decoding: CredentialProviderPlugin.encode(response), as: UTF8.self)
        #expect(!text.contains("cacheDuration"))
    }

    @Test("cacheKeyType values match the API", arguments: [
        (CacheKeyType.image, "Image"), (.registry, "Registry"), (.global, "Global"),
    ])
    func cacheKeyTypeValues(type: CacheKeyType, wire: String) {
        #expect(type.rawValue == wire)
    }
}
