import Foundation
import Testing

@testable import CredentialProvider

@Suite("Plugin request handling")
struct PluginTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let token = TestTokens.serviceAccountToken(exp: 1_800_000_000 + 1800)

    static func request(
        apiVersion: String? = "credentialprovider.kubelet.k8s.io/v1", kind: String? = "CredentialProviderRequest",
        image: String? = "harbor.example.com:8443/library/app", token: String? = PluginTests.token
    ) -> [UInt8] {
        let value = CredentialProviderRequest(apiVersion: apiVersion, kind: kind, image: image, serviceAccountToken: token)
        return Array(try! JSONEncoder().encode(value))
    }

    static func decodeResponse(_ bytes: [UInt8]) throws -> CredentialProviderResponse {
        try JSONDecoder().decode(CredentialProviderResponse.self, from: Data(bytes))
    }

    @Test("token becomes the password for the registry host")
    func answersWithToken() throws {
        let response = try Self.decodeResponse(
            CredentialProviderPlugin.handle(requestBytes: Self.request(), username: "robot", now: Self.now))
        #expect(response.apiVersion == "credentialprovider.kubelet.k8s.io/v1")
        #expect(response.kind == "CredentialProviderResponse")
        #expect(response.cacheKeyType == .registry)
        #expect(response.cacheDuration == "25m0s")
        #expect(response.auth == ["harbor.example.com:8443": AuthConfig(username: "robot", password: Self.token)])
    }

    @Test("auth key matches the image as the kubelet checks it", arguments: [
        "harbor.example.com/library/app", "harbor.example.com:8443/p/app", "localhost:5000/x", "[::1]:5000/x",
        "docker.io/library/nginx",
    ])
    func authKeyMatchesImage(image: String) throws {
        let response = try Self.decodeResponse(
            CredentialProviderPlugin.handle(requestBytes: Self.request(image: image), username: "jwt", now: Self.now))
        let key = try #require(response.auth.keys.first)
        #expect(MatchImages.matches(pattern: key, image: image))
    }

    @Test("unreadable token is returned uncached")
    func opaqueTokenIsNotCached() throws {
        let response = try Self.decodeResponse(
            CredentialProviderPlugin.handle(requestBytes: Self.request(token: "opaque-token"), username: "jwt", now: Self.now))
        #expect(response.cacheDuration == "0s")
        #expect(response.auth.values.first?.password == "opaque-token")
    }

    @Test("unknown request fields are ignored")
    func ignoresUnknownFields() throws {
        let body = #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"h.io/a","serviceAccountToken":"t","future":{"x":1}}"#
        let response = try Self.decodeResponse(
            CredentialProviderPlugin.handle(requestBytes: Array(body.utf8), username: "jwt", now: Self.now))
        #expect(response.auth["h.io"]?.password == "t")
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var name: String
        var body: [UInt8]
        var username = "jwt"
        var expected: PluginError
        var testDescription: String { name }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "oversized", body: Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 1),
                  expected: .requestTooLarge(limit: 1 << 20)),
        ErrorCase(name: "empty body", body: [], expected: .malformedJSON(detail: "the body is not valid JSON (syntax error at byte 0)")),
        // A cut-off document fails where the input ends.
        ErrorCase(name: "truncated JSON", body: Array(request().dropLast(5)),
                  expected: .malformedJSON(detail: "the body is not valid JSON (syntax error at byte \(request().count - 5))")),
        ErrorCase(name: "trailing comma", body: Array(#"{"image":"h.io/a",}"#.utf8),
                  expected: .malformedJSON(detail: "the body is not valid JSON (syntax error at byte 18)")),
        ErrorCase(name: "annotations of wrong type", body: Array(#"{"serviceAccountAnnotations":["a"]}"#.utf8),
                  expected: .malformedJSON(detail: "field serviceAccountAnnotations is not an object")),
        ErrorCase(name: "annotation value of wrong type", body: Array(#"{"serviceAccountAnnotations":{"a":1}}"#.utf8),
                  expected: .malformedJSON(detail: "field serviceAccountAnnotations.a is not a string")),
        ErrorCase(name: "JSON array", body: Array("[1]".utf8), expected: .malformedJSON(detail: "the body is not a JSON object")),
        ErrorCase(name: "token of wrong type", body: Array(#"{"serviceAccountToken":42}"#.utf8),
                  expected: .malformedJSON(detail: "field serviceAccountToken is not a string")),
        ErrorCase(name: "wrong apiVersion", body: request(apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1"),
                  expected: .unsupportedAPIVersion("credentialprovider.kubelet.k8s.io/v1beta1")),
        ErrorCase(name: "missing apiVersion", body: request(apiVersion: nil), expected: .unsupportedAPIVersion("")),
        ErrorCase(name: "wrong kind", body: request(kind: "CredentialProviderResponse"),
                  expected: .unexpectedKind("CredentialProviderResponse")),
        ErrorCase(name: "missing image", body: request(image: nil), expected: .missingImage),
        ErrorCase(name: "empty image", body: request(image: ""), expected: .missingImage),
        ErrorCase(name: "invalid image", body: request(image: "harbor.example.com/"),
                  expected: .invalidImage(.init(reference: "harbor.example.com/", reason: "the repository path is empty or has an empty component"))),
        ErrorCase(name: "missing token", body: request(token: nil), expected: .missingToken),
        ErrorCase(name: "empty token", body: request(token: ""), expected: .missingToken),
        ErrorCase(name: "username with colon", body: request(), username: "a:b", expected: .invalidUsername("a:b")),
        ErrorCase(name: "empty username", body: request(), username: "", expected: .invalidUsername("")),
    ]

    @Test("request errors", arguments: errorCases)
    func requestErrors(testCase: ErrorCase) {
        #expect(throws: testCase.expected) {
            try CredentialProviderPlugin.handle(requestBytes: testCase.body, username: testCase.username, now: Self.now)
        }
    }

    @Test("error messages are one line", arguments: errorCases)
    func messagesAreOneLine(testCase: ErrorCase) {
        #expect(!testCase.expected.description.contains("\n"))
        #expect(!testCase.expected.description.isEmpty)
    }

    // Bodies that carry the token next to the fault that rejects them.
    static let bodiesWithToken: [String] = [
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"h.io/a","serviceAccountToken":"TOKEN""#,
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"h.io/a","serviceAccountToken":"TOKEN",}"#,
        #"{"apiVersion":"TOKEN","kind":"CredentialProviderRequest","image":"h.io/a","serviceAccountToken":"TOKEN"}"#,
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"TOKEN","image":"h.io/a","serviceAccountToken":"TOKEN"}"#,
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"TOKEN/","serviceAccountToken":"TOKEN"}"#,
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":42,"serviceAccountToken":"TOKEN"}"#,
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"h.io/a","serviceAccountToken":"TOKEN\x"}"#,
        #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","serviceAccountToken":"TOKEN"}"#,
        #"TOKEN"#,
    ]

    @Test("values sharing text with the token are withheld")
    func withholdsTokenText() {
        #expect(PluginError.displayValue("x" + Self.token.dropFirst(40).prefix(10) + "y", token: Self.token) == PluginError.withheldValue)
        #expect(PluginError.displayValue("credentialprovider.kubelet.k8s.io/v1beta1", token: Self.token) == "credentialprovider.kubelet.k8s.io/v1beta1")
        #expect(PluginError.displayValue(String(repeating: "a", count: 100), token: nil) == String(repeating: "a", count: 64) + "...")
    }

    @Test("byte search finds needles", arguments: [
        ("abc", "xxabcxx", true), ("abc", "abc", true), ("abc", "abcx", true), ("abc", "xabc", true),
        ("abd", "abcabc", false), ("abcd", "abc", false), ("", "abc", true), ("a", "", false),
    ])
    func byteSearch(needle: String, haystack: String, found: Bool) {
        #expect(PluginError.occurs(Array(needle.utf8), in: Array(haystack.utf8)) == found)
    }

    @Test("short value inside the token is withheld")
    func shortValueWithheld() {
        #expect(PluginError.displayValue(String(Self.token.dropFirst(3).prefix(5)), token: Self.token) == PluginError.withheldValue)
        #expect(PluginError.displayValue("~~~", token: Self.token) == "~~~")
    }

    @Test("token never appears in an error message", arguments: bodiesWithToken)
    func tokenNeverInMessage(body: String) {
        let body = body.replacingOccurrences(of: "TOKEN", with: Self.token)
        do {
            _ = try CredentialProviderPlugin.handle(requestBytes: Array(body.utf8), username: "jwt", now: Self.now)
            Issue.record("request was accepted")
        } catch {
            // Any 12-character run of the token would show a leak; the message is checked
            // without printing it, since it could hold the token.
            let message = error.description
            let leaked = stride(from: 0, to: Self.token.count - 12, by: 4).contains { offset in
                let start = Self.token.index(Self.token.startIndex, offsetBy: offset)
                return message.contains(Self.token[start..<Self.token.index(start, offsetBy: 12)])
            }
            #expect(!leaked, "error message contains part of the token")
        }
    }
}
