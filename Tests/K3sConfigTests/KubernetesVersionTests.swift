import Testing
@testable import K3sConfig

@Suite("KubernetesVersion")
struct KubernetesVersionTests {
    @Test("parses release texts", arguments: [
        ("v1.34.1+k3s1", 1, 34, 1, nil, "k3s1", "v1.34.1+k3s1"),
        ("1.35.0", 1, 35, 0, nil, nil, "v1.35.0"),
        ("v1.34.0-rc.1+k3s1", 1, 34, 0, "rc.1", "k3s1", "v1.34.0-rc.1+k3s1"),
        ("k3s version v1.34.1+k3s1 (abcdef12)", 1, 34, 1, nil, "k3s1", "v1.34.1+k3s1"),
        ("go version go1.24.4\nk3s version v1.33.4+k3s1 (148243c4)", 1, 33, 4, nil, "k3s1", "v1.33.4+k3s1"),
        ("v1.31", 1, 31, 0, nil, nil, "v1.31.0"),
    ] as [(String, Int, Int, Int, String?, String?, String)])
    func parse(text: String, major: Int, minor: Int, patch: Int, preRelease: String?, build: String?, description: String) throws {
        let version = try KubernetesVersion.parse(text)
        #expect(version.major == major)
        #expect(version.minor == minor)
        #expect(version.patch == patch)
        #expect(version.preRelease == preRelease)
        #expect(version.build == build)
        #expect(version.description == description)
    }

    @Test("rejects non-versions", arguments: ["", "k3s", "v1", "v1.x.3", "1.2.3.4", "v1.34.1+", "version: unknown"])
    func rejects(text: String) {
        #expect(KubernetesVersion(parsing: text) == nil)
        #expect(throws: K3sConfigError.self) { try KubernetesVersion.parse(text) }
    }

    @Test("orders by semantic versioning", arguments: [
        ("v1.33.9", "v1.34.0"), ("v1.34.0-rc.1+k3s1", "v1.34.0+k3s1"), ("v1.34.0-alpha.2", "v1.34.0-beta.0"),
        ("v1.34.0-rc.2", "v1.34.0-rc.10"), ("v1.34.1+k3s1", "v1.34.1+k3s2"), ("v1.34.1+k3s2", "v1.34.1+k3s10"),
        ("v1.9.0", "v1.10.0"),
    ])
    func ordering(lower: String, higher: String) throws {
        let low = try KubernetesVersion.parse(lower)
        let high = try KubernetesVersion.parse(higher)
        #expect(low < high)
        #expect(!(high < low))
    }

    @Test("minor release checks")
    func minorChecks() throws {
        let version = try KubernetesVersion.parse("v1.34.0-rc.1+k3s1")
        #expect(version.isAtLeast(1, 34))
        #expect(!version.isAtLeast(1, 35))
        #expect(version.minorRelease == "1.34")
    }
}
