import Testing

@testable import CredentialProvider

@Suite("JWT claims")
struct JWTClaimsTests {
    @Test("service account token claims are read")
    func readsServiceAccountToken() throws {
        let claims = try #require(JWTClaims(token: TestTokens.serviceAccountToken(exp: 1_800_000_000)))
        #expect(claims.expiresAt == 1_800_000_000)
        #expect(claims.audiences == ["harbor.example.com"])
        #expect(claims.issuer == "https://kubernetes.default.svc.cluster.local")
        #expect(claims.subject == "system:serviceaccount:default:app")
        #expect(claims.keyID == "key-1")
    }

    @Test("exp forms", arguments: [
        (#"{"exp":1800000000}"#, Optional(1_800_000_000)),
        (#"{"exp":1800000000.75}"#, Optional(1_800_000_000)),
        (#"{"exp":1.8e9}"#, Optional(1_800_000_000)),
        (#"{"exp":-5}"#, Optional(-5)),
        (#"{"exp":9223372036854775807}"#, Optional(Int.max)),
        (#"{"exp":1e300}"#, nil),
        (#"{"exp":99999999999999999999999}"#, nil),
        (#"{"exp":"1800000000"}"#, nil),
        (#"{"exp":null}"#, nil),
        (#"{"exp":true}"#, nil),
        (#"{}"#, nil),
    ] as [(String, Int?)])
    func expForms(payload: String, expected: Int?) throws {
        let claims = try #require(JWTClaims(token: TestTokens.token(payloadJSON: payload)))
        #expect(claims.expiresAt == expected)
    }

    @Test("aud as a string or an array", arguments: [
        (#"{"aud":"harbor"}"#, ["harbor"]),
        (#"{"aud":["a","b"]}"#, ["a", "b"]),
        (#"{"aud":42}"#, []),
        (#"{}"#, []),
    ])
    func audienceForms(payload: String, expected: [String]) throws {
        let claims = try #require(JWTClaims(token: TestTokens.token(payloadJSON: payload)))
        #expect(claims.audiences == expected)
    }

    @Test("a header without kid gives no key id")
    func missingKeyID() throws {
        let claims = try #require(JWTClaims(token: TestTokens.token(header: #"{"alg":"none"}"#, payloadJSON: "{}")))
        #expect(claims.keyID == nil)
    }

    static let garbage: [String] = [
        "",
        "not-a-token",
        "a.b",
        "a.b.c.d.e",
        "!!!.???.sig",
        TestTokens.base64URL("{}") + "." + TestTokens.base64URL("[1,2]") + ".sig",
        TestTokens.base64URL("{}") + "." + TestTokens.base64URL("not json") + ".sig",
        TestTokens.base64URL("{}") + "." + "a" + ".sig",
        TestTokens.base64URL("{}") + "." + TestTokens.base64URL("{}") + "=.sig",
        "." + TestTokens.base64URL("{}") + ".sig",
        String(repeating: "A", count: 100_000),
        "\u{0}.\u{0}.\u{0}",
    ]

    @Test("garbage gives nil", arguments: garbage)
    func garbageIsNil(token: String) {
        #expect(JWTClaims(token: token) == nil)
    }
}

@Suite("Cache duration")
struct CacheDurationTests {
    static let now = 1_800_000_000

    @Test("policy", arguments: [
        (Optional(now + 3600), 55 * 60),
        (Optional(now + 2 * 3600), 3600),
        (Optional(now + 365 * 24 * 3600), 3600),
        (Optional(now + 5 * 60 + 30), 30),
        (Optional(now + 5 * 60), 0),
        (Optional(now + 60), 0),
        (Optional(now), 0),
        (Optional(now - 3600), 0),
        (Optional(Int.max), 3600),
        (Optional(Int.min), 0),
        (nil, 0),
    ] as [(Int?, Int)])
    func policy(expiresAt: Int?, expected: Int) {
        #expect(CacheDuration.seconds(expiresAt: expiresAt, now: Self.now) == expected)
    }

    @Test("policy with now far in the past does not overflow")
    func overflowingNow() {
        #expect(CacheDuration.seconds(expiresAt: Int.max, now: Int.min) == 3600)
        #expect(CacheDuration.seconds(expiresAt: Int.min, now: Int.max) == 0)
    }

    // Expected strings are what Go's time.Duration.String prints for these values.
    @Test("Go duration strings", arguments: [
        (0, "0s"), (1, "1s"), (59, "59s"), (60, "1m0s"), (90, "1m30s"), (3570, "59m30s"),
        (3600, "1h0m0s"), (3661, "1h1m1s"), (86400, "24h0m0s"), (-90, "-1m30s"),
    ])
    func goDurations(seconds: Int, expected: String) {
        #expect(CacheDuration.goDuration(seconds: seconds) == expected)
    }
}
