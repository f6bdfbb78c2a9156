import Testing

@testable import CredentialProvider

// Cases follow distribution/reference normalize.go (splitDockerDomain) and its tests.
@Suite("Image references")
struct ImageReferenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var image: String
        var registry: String
        var repository: String
        var tag: String? = nil
        var digest: String? = nil
        var testDescription: String { image }
    }

    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static let cases: [Case] = [
        Case(image: "harbor.example.com/library/app", registry: "harbor.example.com", repository: "library/app"),
        Case(image: "harbor.example.com:8443/p/app", registry: "harbor.example.com:8443", repository: "p/app"),
        Case(image: "harbor.example.com/p/app:v1.2", registry: "harbor.example.com", repository: "p/app", tag: "v1.2"),
        Case(image: "harbor.example.com:8443/p/app:v1", registry: "harbor.example.com:8443", repository: "p/app", tag: "v1"),
        Case(image: "harbor.example.com/p/app@\(digest)", registry: "harbor.example.com", repository: "p/app", digest: digest),
        Case(image: "harbor.example.com/p/app:v1@\(digest)", registry: "harbor.example.com", repository: "p/app", tag: "v1", digest: digest),
        Case(image: "library/nginx", registry: "docker.io", repository: "library/nginx"),
        Case(image: "nginx", registry: "docker.io", repository: "library/nginx"),
        Case(image: "nginx:1.27", registry: "docker.io", repository: "library/nginx", tag: "1.27"),
        Case(image: "bitnami/redis", registry: "docker.io", repository: "bitnami/redis"),
        Case(image: "docker.io/library/nginx", registry: "docker.io", repository: "library/nginx"),
        Case(image: "index.docker.io/library/nginx", registry: "docker.io", repository: "library/nginx"),
        Case(image: "localhost/app", registry: "localhost", repository: "app"),
        Case(image: "localhost:5000/x", registry: "localhost:5000", repository: "x"),
        Case(image: "[::1]:5000/x", registry: "[::1]:5000", repository: "x"),
        Case(image: "[fe80::1%25eth0]:5000/x:t", registry: "[fe80::1%25eth0]:5000", repository: "x", tag: "t"),
        Case(image: "Registry/app", registry: "Registry", repository: "app"),
        Case(image: "registry:5000/team/app", registry: "registry:5000", repository: "team/app"),
        Case(image: "harbor/app", registry: "docker.io", repository: "harbor/app"),
    ]

    @Test("registry, repository, tag and digest", arguments: cases)
    func parses(testCase: Case) throws {
        let reference = try ImageReference(parsing: testCase.image)
        #expect(reference.registry == testCase.registry)
        #expect(reference.repository == testCase.repository)
        #expect(reference.tag == testCase.tag)
        #expect(reference.digest == testCase.digest)
    }

    @Test("registryHost returns the registry", arguments: cases)
    func registryHost(testCase: Case) throws {
        #expect(try ImageReference.registryHost(of: testCase.image) == testCase.registry)
    }

    @Test("invalid references are rejected", arguments: [
        "", "harbor.example.com/app name", "harbor.example.com/app\n", "/app", "harbor.example.com/",
        "harbor.example.com//app", "harbor.example.com/app:", "harbor.example.com/app@", "harbor.example.com/app\u{7f}",
    ])
    func rejects(image: String) {
        #expect(throws: ImageReference.InvalidReference.self) { try ImageReference(parsing: image) }
    }
}
