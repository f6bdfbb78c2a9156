import Testing

@testable import CredentialProvider

@Suite("matchImages")
struct MatchImagesTests {
    struct MatchCase: CustomTestStringConvertible, Sendable {
        var pattern: String
        var image: String
        var matches: Bool
        var testDescription: String { "\(pattern) vs \(image)" }
    }

    // kubernetes pkg/credentialprovider/keyring_test.go, TestURLsMatch, all cases.
    static let upstreamURLsMatch: [MatchCase] = [
        // match when there is no path component
        MatchCase(pattern: "*.kubernetes.io", image: "prefix.kubernetes.io", matches: true),
        MatchCase(pattern: "prefix.*.io", image: "prefix.kubernetes.io", matches: true),
        MatchCase(pattern: "prefix.kubernetes.*", image: "prefix.kubernetes.io", matches: true),
        MatchCase(pattern: "*-good.kubernetes.io", image: "prefix-good.kubernetes.io", matches: true),
        // match with path components
        MatchCase(pattern: "*.kubernetes.io/blah", image: "prefix.kubernetes.io/blah", matches: true),
        MatchCase(pattern: "prefix.*.io/foo", image: "prefix.kubernetes.io/foo/bar", matches: true),
        // match with path components and ports
        MatchCase(pattern: "*.kubernetes.io:1111/blah", image: "prefix.kubernetes.io:1111/blah", matches: true),
        MatchCase(pattern: "prefix.*.io:1111/foo", image: "prefix.kubernetes.io:1111/foo/bar", matches: true),
        // no match when number of parts mismatch
        MatchCase(pattern: "*.kubernetes.io", image: "kubernetes.io", matches: false),
        MatchCase(pattern: "*.*.kubernetes.io", image: "prefix.kubernetes.io", matches: false),
        MatchCase(pattern: "*.*.kubernetes.io", image: "kubernetes.io", matches: false),
        // no match when some parts mismatch
        MatchCase(pattern: "kubernetes.io", image: "kubernetes.com", matches: false),
        MatchCase(pattern: "k*.io", image: "quay.io", matches: false),
        // no match when ports mismatch
        MatchCase(pattern: "*.kubernetes.io:1234/blah", image: "prefix.kubernetes.io:1111/blah", matches: false),
        MatchCase(pattern: "prefix.*.io/foo", image: "prefix.kubernetes.io:1111/foo/bar", matches: false),
    ]

    // kubernetes pkg/credentialprovider/keyring_test.go, TestDockerKeyringLookup: the path
    // is a plain string prefix, so "pong" also covers "pongz".
    static let upstreamKeyringLookup: [MatchCase] = [
        MatchCase(pattern: "bar.example.com", image: "bar.example.com", matches: true),
        MatchCase(pattern: "bar.example.com/pong", image: "bar.example.com/pong", matches: true),
        MatchCase(pattern: "bar.example.com/pong", image: "bar.example.com/ping", matches: false),
        MatchCase(pattern: "bar.example.com", image: "bar.example.com/ping", matches: true),
        MatchCase(pattern: "bar.example.com/pong", image: "bar.example.com/pongz", matches: true),
        MatchCase(pattern: "bar.example.com/pong", image: "bar.example.com/pong/pang", matches: true),
        MatchCase(pattern: "bar.example.com", image: "example.com", matches: false),
        MatchCase(pattern: "bar.example.com", image: "foo.example.com", matches: false),
    ]

    // Cases for this product's registries, derived from the same rules.
    static let harborCases: [MatchCase] = [
        MatchCase(pattern: "harbor.example.com", image: "harbor.example.com/library/app", matches: true),
        MatchCase(pattern: "harbor.example.com", image: "harbor.example.com:8443/library/app", matches: false),
        MatchCase(pattern: "harbor.example.com:8443", image: "harbor.example.com/library/app", matches: false),
        MatchCase(pattern: "harbor.example.com:8443", image: "harbor.example.com:8443/library/app", matches: true),
        MatchCase(pattern: "*.example.com", image: "harbor.example.com/library/app", matches: true),
        MatchCase(pattern: "*.example.com", image: "a.harbor.example.com/library/app", matches: false),
        MatchCase(pattern: "harbor.example.com/library", image: "harbor.example.com/other/app", matches: false),
        MatchCase(pattern: "harbor.example.com/*", image: "harbor.example.com/library/app", matches: false),
        MatchCase(pattern: "harbor.example.com/*", image: "harbor.example.com/*/app", matches: true),
        MatchCase(pattern: "harbor.[a-z]xample.com", image: "harbor.example.com/app", matches: true),
        // Go negates a class with "^" only; "!" is an ordinary member.
        MatchCase(pattern: "harbor.[!e]xample.com", image: "harbor.example.com/app", matches: true),
        MatchCase(pattern: "harbor.[^e]xample.com", image: "harbor.axample.com/app", matches: false),
        // Go's URL parser starts the query at "?", so "?" can never act as a glob here,
        // and a host that starts with "[" is an IPv6 literal, never a class.
        MatchCase(pattern: "harbo?.example.com", image: "harbor.example.com/app", matches: false),
        MatchCase(pattern: "[h]arbor.example.com", image: "harbor.example.com/app", matches: false),
        MatchCase(pattern: "harbor.example.com:*", image: "harbor.example.com:8443/app", matches: false),
        MatchCase(pattern: "harbor[.example.com", image: "harbor[.example.com/app", matches: false),
        MatchCase(pattern: "[::1]:5000", image: "[::1]:5000/x", matches: true),
        MatchCase(pattern: "[::1]:5000", image: "[::1]:5001/x", matches: false),
        MatchCase(pattern: "localhost:5000", image: "localhost:5000/x", matches: true),
        MatchCase(pattern: "localhost", image: "localhost:5000/x", matches: false),
        MatchCase(pattern: "docker.io", image: "docker.io/library/nginx", matches: true),
        MatchCase(pattern: "%zz", image: "harbor.example.com/app", matches: false),
    ]

    @Test("kubernetes TestURLsMatch cases", arguments: upstreamURLsMatch)
    func upstreamURLsMatchCases(testCase: MatchCase) {
        #expect(MatchImages.matches(pattern: testCase.pattern, image: testCase.image) == testCase.matches)
    }

    @Test("kubernetes TestDockerKeyringLookup cases", arguments: upstreamKeyringLookup)
    func upstreamKeyringCases(testCase: MatchCase) {
        #expect(MatchImages.matches(pattern: testCase.pattern, image: testCase.image) == testCase.matches)
    }

    @Test("Harbor registry cases", arguments: harborCases)
    func harborMatchCases(testCase: MatchCase) {
        #expect(MatchImages.matches(pattern: testCase.pattern, image: testCase.image) == testCase.matches)
    }

    // Messages are Go's url.Parse errors as the kubelet prints them after
    // "match image is invalid: ". The first two are kubernetes'
    // pkg/credentialprovider/plugin/config_test.go cases.
    @Test("invalid patterns carry Go's message", arguments: [
        ("%invalid%", #"parse "https://%invalid%": invalid URL escape "%in""#),
        ("[::1", #"parse "https://[::1": missing ']' in host"#),
        ("harbor.example.com:port", #"parse "https://harbor.example.com:port": invalid port ":port" after host"#),
        ("harbor.example.com:*", #"parse "https://harbor.example.com:*": invalid port ":*" after host"#),
        ("harbor example.com", #"parse "https://harbor example.com": invalid character " " in host name"#),
        ("harbor.[^e]xample.com", #"parse "https://harbor.[^e]xample.com": invalid character "^" in host name"#),
        ("harbor.example.com\t", #"parse "https://harbor.example.com\t": net/url: invalid control character in URL"#),
        ("harbor.example.com/%zz", #"parse "https://harbor.example.com/%zz": invalid URL escape "%zz""#),
        ("harbor%41.example.com", #"parse "https://harbor%41.example.com": invalid URL escape "%41""#),
        ("[::1]x/app", #"parse "https://[::1]x/app": invalid port "x" after host"#),
        ("[127.0.0.1]:5000", #"parse "https://[127.0.0.1]:5000": invalid IP-literal"#),
        ("us{er@harbor.example.com", #"parse "https://us{er@harbor.example.com": net/url: invalid userinfo"#),
    ])
    func invalidPatterns(pattern: String, message: String) {
        #expect(throws: MatchImages.InvalidPattern(pattern: pattern, reason: message)) {
            try MatchImages.validate(pattern)
        }
    }

    // The kubelet accepts these: Go's parser does, and the kubelet checks nothing else.
    @Test("valid patterns", arguments: [
        "harbor.example.com", "harbor.example.com:8443", "harbor.example.com/library", "*.example.com",
        "*.*.example.com", "harbor.*", "[::1]:5000", "[fe80::1%25eth0]", "localhost:5000/team",
        "harbor.example.com/*", "harbor.example.com?x=1", "harbor.example.com#frag", "harbor[.example.com", "",
    ])
    func validPatterns(pattern: String) throws {
        try MatchImages.validate(pattern)
    }

    @Test("invalid pattern description names the pattern")
    func invalidPatternDescription() {
        let error = MatchImages.InvalidPattern(pattern: "%invalid%", reason: "r")
        #expect(error.description == #"match image "%invalid%" is invalid: r"#)
    }

    @Test("overlapping patterns", arguments: [
        ("harbor.example.com", "harbor.example.com", true),
        ("harbor.example.com", "*.example.com", true),
        ("*.example.com", "harbor.*.com", true),
        ("harbor.example.com/library", "harbor.example.com", true),
        ("harbor.example.com/lib", "harbor.example.com/library", true),
        ("harbor.example.com/a", "harbor.example.com/b", false),
        ("harbor.example.com", "harbor.example.com:8443", false),
        ("harbor.example.com:8443", "harbor.example.com:8443/p", true),
        ("harbor.example.com", "example.com", false),
        ("harbor.example.com", "registry.example.com", false),
        ("h*.example.com", "*r.example.com", true),
        ("a*.example.com", "b*.example.com", false),
        ("*a.example.com", "*b.example.com", false),
        ("x[a-c]x.example.com", "xbx.example.com", true),
        ("x[a-c]x.example.com", "xdx.example.com", false),
        ("x[a-c]x.example.com", "x[c-e]x.example.com", true),
        ("x[a-b]x.example.com", "x[c-e]x.example.com", false),
        // Go's URL parser rejects "^" in a host, so a negated class never gets this far.
        ("x[^a]x.example.com", "x[a]x.example.com", false),
        ("x*.example.com", "x.example.com", true),
        ("x*y.example.com", "xy.example.com", true),
        ("x*y.example.com", "xz.example.com", false),
        ("[a-c]x.example.com", "bx.example.com", false),
        ("harbor[.example.com", "harbor[.example.com", false),
        ("%zz", "%zz", false),
    ])
    func overlap(first: String, second: String, expected: Bool) {
        #expect(MatchImages.overlap(first, second) == expected)
        #expect(MatchImages.overlap(second, first) == expected)
    }

    // overlap() must never return false when an image matches both patterns.
    @Test("overlap agrees with matches on sample images")
    func overlapIsConservative() {
        let patterns = [
            "harbor.example.com", "*.example.com", "harbor.*.com", "h*r.example.com", "harbor.example.com/library",
            "harbor.example.com:8443", "h[a-c]rbor.example.com", "*arbor.example.com", "harbor.example.com/lib",
        ]
        let images = [
            "harbor.example.com/library/app", "harbor.example.com:8443/library/app", "hr.example.com/x",
            "harbor.example.com/lib", "hcrbor.example.com/x", "harbor.other.com/x",
        ]
        for first in patterns {
            for second in patterns {
                let shared = images.contains {
                    MatchImages.matches(pattern: first, image: $0) && MatchImages.matches(pattern: second, image: $0)
                }
                if shared {
                    #expect(MatchImages.overlap(first, second), "\(first) and \(second) share an image")
                }
            }
        }
    }
}

@Suite("Go filepath.Match globs")
struct GoGlobTests {
    // Cases from Go's path/filepath match_test.go matchTests that apply to one host part.
    @Test("match results", arguments: [
        ("abc", "abc", true), ("*", "abc", true), ("*c", "abc", true), ("a*", "a", true), ("a*", "abc", true),
        ("a*", "ab/c", false), ("a*b*c*d*e*/f", "axbxcxdxe/f", true), ("a*b?c*x", "abxbbxdbxebxczzx", true),
        ("a*b?c*x", "abxbbxdbxebxczzy", false), ("ab[c]", "abc", true), ("ab[b-d]", "abc", true),
        ("ab[e-g]", "abc", false), ("ab[^c]", "abc", false), ("ab[^b-d]", "abc", false), ("ab[^e-g]", "abc", true),
        ("a\\*b", "a*b", true), ("a\\*b", "ab", false), ("a?b", "a☺b", true), ("a[^a]b", "a☺b", true),
        ("a???b", "a☺b", false), ("a[^a][^a][^a]b", "a☺b", false), ("[a-ζ]*", "α", true), ("*[a-ζ]", "A", false),
        ("a?b", "a/b", false), ("a*b", "a/b", false), ("[\\]a]", "]", true), ("[\\-]", "-", true),
        ("[x\\-]", "x", true), ("[x\\-]", "-", true), ("[x\\-]", "z", false), ("[\\-x]", "x", true),
        ("*x", "xxx", true),
    ])
    func matches(pattern: String, text: String, expected: Bool) throws {
        #expect(try GoGlob(pattern).matches(text) == expected)
    }

    @Test("many stars match in bounded time")
    func manyStars() throws {
        let glob = try GoGlob(String(repeating: "*a", count: 40) + "b")
        #expect(!glob.matches(String(repeating: "a", count: 200)))
        #expect(glob.matches(String(repeating: "a", count: 200) + "b"))
    }

    @Test("long text does not exhaust the stack")
    func longText() throws {
        let text = String(repeating: "a", count: 200_000)
        #expect(try GoGlob("*").matches(text))
        #expect(try GoGlob("a*a").matches(text))
        #expect(try !GoGlob("*b").matches(text))
    }

    @Test("empty pattern and empty text", arguments: [("", "", true), ("", "a", false), ("*", "", true), ("?", "", false)])
    func emptyInputs(pattern: String, text: String, expected: Bool) throws {
        #expect(try GoGlob(pattern).matches(text) == expected)
    }

    // Go's ErrBadPattern cases from the same table.
    @Test("bad patterns", arguments: ["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "*x\\", "[\\", "a["])
    func badPatterns(pattern: String) {
        #expect(throws: GoGlob.BadPattern.self) { try GoGlob(pattern) }
    }
}
