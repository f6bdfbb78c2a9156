import FixtureSupport
import Testing
import YAML
@testable import K3sConfig

@Suite("CredentialProviderConfig model")
struct ProviderConfigModelTests {
    static let harbor = HarborProvider(
        name: "credential-provider-harbor",
        matchImages: ["harbor.example.com", "harbor.example.com:5000"],
        defaultCacheDuration: "0s",
        args: ["--username=jwt"],
        tokenAttributes: .init(serviceAccountTokenAudience: "harbor.example.com")
    )

    @Test("new config renders as v1 YAML")
    func renderNew() throws {
        var config = CredentialProviderConfig()
        config.upsert(Self.harbor)
        #expect(try config.rendered() == """
            apiVersion: kubelet.config.k8s.io/v1
            kind: CredentialProviderConfig
            providers:
            - name: credential-provider-harbor
              matchImages:
              - harbor.example.com
              - harbor.example.com:5000
              defaultCacheDuration: 0s
              apiVersion: credentialprovider.kubelet.k8s.io/v1
              args:
              - --username=jwt
              tokenAttributes:
                serviceAccountTokenAudience: harbor.example.com
                cacheType: Token
                requireServiceAccount: true

            """)
        let reread = try CredentialProviderConfig.parse(try config.rendered(), source: "rendered")
        #expect(reread.validate(kubelet: try KubernetesVersion.parse("v1.34.1+k3s1"), tokenGateEnabled: true) { _ in true }.isEmpty)
        #expect(reread.harborProvider(named: Self.harbor.name) == Self.harbor)
    }

    @Test("upsert keeps foreign providers verbatim")
    func keepsForeign() throws {
        // Source: kubernetes-sigs/cloud-provider-azure examples/out-of-tree/credential-provider-config.yaml.
        let original = try CredentialProviderConfig.parse(try fixture("provider-config/acr-cloud-provider-azure.yaml"), source: "acr")
        var config = original
        config.upsert(Self.harbor)

        let reread = try CredentialProviderConfig.parse(try config.rendered(), source: "rendered")
        #expect(reread.providerNames == ["acr-credential-provider", "credential-provider-harbor"])
        #expect(reread.providers.first?.node == original.providers.first?.node)
        #expect(reread.providers.first?.node["matchImages"]?.sequence?.count == 9)
    }

    @Test("upsert replaces in place and drops duplicates")
    func replacesInPlace() throws {
        let text = """
            apiVersion: kubelet.config.k8s.io/v1
            kind: CredentialProviderConfig
            providers:
            - name: credential-provider-harbor
              oldField: kept-only-until-replaced
            - name: other
              matchImages: [other.io]
              defaultCacheDuration: 1m
              apiVersion: credentialprovider.kubelet.k8s.io/v1
              futureField: {nested: [1, 2]}
            - name: credential-provider-harbor
            """
        var config = try CredentialProviderConfig.parse(text, source: "config.yaml")
        var changed = Self.harbor
        changed.tokenAttributes.serviceAccountTokenAudience = "registry.example.org"
        config.upsert(changed)

        #expect(config.providerNames == ["credential-provider-harbor", "other"])
        #expect(config.harborProvider(named: changed.name) == changed)
        #expect(config.providers.last?.node["futureField"]?["nested"]?.sequence?.count == 2)
    }

    @Test("upsert upgrades a v1alpha1 file to v1")
    func upgradesVersion() throws {
        // Source: k3s-io/k3s issue 3463, a v1alpha1 ECR config used with k3s v1.21.
        var config = try CredentialProviderConfig.parse(try fixture("provider-config/ecr-k3s-3463-v1alpha1.yaml"), source: "ecr")
        #expect(config.apiVersion == "kubelet.config.k8s.io/v1alpha1")
        config.upsert(Self.harbor)

        #expect(config.apiVersion == CredentialProviderConfig.currentAPIVersion)
        #expect(config.providers.first?.node["apiVersion"]?.string == "credentialprovider.kubelet.k8s.io/v1alpha1")
        let reread = try CredentialProviderConfig.parse(try config.rendered(), source: "rendered")
        #expect(reread.validate(kubelet: try KubernetesVersion.parse("v1.34.1"), tokenGateEnabled: true) { _ in true }.isEmpty)
    }

    @Test("JSON file is rewritten as YAML")
    func jsonInput() throws {
        // Source: kubernetes/cloud-provider-aws issue 1280 (a user's JSON config).
        var config = try CredentialProviderConfig.parse(
            try fixture("provider-config/ecr-tokenattributes-cloud-provider-aws-1280.json"), source: "ecr.json"
        )
        config.upsert(Self.harbor)
        let rendered = try config.rendered()
        #expect(rendered.hasPrefix("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: ecr-credential-provider\n"))
        let reread = try CredentialProviderConfig.parse(rendered, source: "rendered")
        #expect(reread.providers.first?.node["tokenAttributes"]?["requireServiceAccount"]?.bool == false)
        #expect(reread.providers.first?.node["env"]?.sequence?.first?["value"]?.string == "${REGION}")
    }

    @Test("removeProviders keeps the others in order")
    func remove() throws {
        var config = try CredentialProviderConfig.parse(try fixture("provider-config/gcr-openshift-mco.yaml"), source: "gcr")
        config.upsert(Self.harbor)
        var second = Self.harbor
        second.name = "credential-provider-harbor-2"
        config.upsert(second)
        config.removeProviders(named: [Self.harbor.name, second.name])
        #expect(config.providerNames == ["gcr-credential-provider"])
    }

    @Test("harborProvider rejects other shapes")
    func foreignShape() throws {
        let config = try CredentialProviderConfig.parse(try fixture("provider-config/acr-cloud-provider-azure.yaml"), source: "acr")
        #expect(config.harborProvider(named: "acr-credential-provider") == nil)
    }

    @Test("annotation keys and env render")
    func optionalFields() throws {
        var provider = Self.harbor
        provider.env = [.init(name: "HARBOR_USERNAME", value: "jwt")]
        provider.tokenAttributes.requiredServiceAccountAnnotationKeys = ["harbor.example.com/robot"]
        provider.tokenAttributes.optionalServiceAccountAnnotationKeys = ["harbor.example.com/project"]
        var config = CredentialProviderConfig()
        config.upsert(provider)
        let reread = try CredentialProviderConfig.parse(try config.rendered(), source: "rendered")
        #expect(reread.harborProvider(named: provider.name) == provider)
        #expect(reread.validate(kubelet: try KubernetesVersion.parse("v1.34.1"), tokenGateEnabled: true) { _ in true }.isEmpty)
    }
}

@Suite("Go durations")
struct GoDurationTests {
    @Test("parse and format like Go", arguments: [
        ("1h", "1h0m0s"), ("-1m", "-1m0s"), ("1.5s", "1.5s"), ("300ms", "300ms"), ("1h30m", "1h30m0s"), ("2us", "2µs"),
        ("2µs", "2µs"), ("0", "0s"), ("1.5h", "1h30m0s"), ("100ns", "100ns"), ("12h", "12h0m0s"), ("+10m", "10m0s"), ("1.s", "1s"),
        ("0.5ms", "500µs"),
    ])
    func roundTrip(text: String, formatted: String) throws {
        let nanoseconds = try GoDuration.parse(text).get()
        #expect(GoDuration.format(nanoseconds) == formatted)
    }

    @Test("errors have Go's text", arguments: [
        ("", "time: invalid duration \"\""), ("10", "time: missing unit in duration \"10\""),
        ("10x", "time: unknown unit \"x\" in duration \"10x\""), ("abc", "time: invalid duration \"abc\""),
        ("1..5s", "time: missing unit in duration \"1..5s\""), ("-", "time: invalid duration \"-\""),
    ])
    func errors(text: String, message: String) {
        #expect(GoDuration.parse(text) == .failure(DurationError(message)))
    }

    // Values at the Int64 limit, with the results of time.ParseDuration in Go's
    // src/time/format.go (checked with go1.19.8; later releases have the same code there).
    @Test("limits match Go", arguments: [
        ("9223372036.854775807s", Int64.max), ("-9223372036.854775808s", Int64.min),
        ("9223372036854775807ns", Int64.max), ("-9223372036854775808ns", Int64.min),
        ("2562047h47m16.854775807s", Int64.max), ("9223372036s854775807ns", Int64.max),
        ("153722867m", 9_223_372_020_000_000_000), ("0.1234567890123456789s", 123_456_789),
        ("0.9999999999999999999h", 3_600_000_000_000), ("1.00000000000000000000000000001s", 1_000_000_000),
        ("1μs", 1_000), (".5s", 500_000_000),
        // Go sums terms in uint64 without a check, so two terms of 1<<63 wrap to 0.
        ("9223372036854775808ns9223372036854775808ns", 0),
    ])
    func limits(text: String, nanoseconds: Int64) {
        #expect(GoDuration.parse(text) == .success(nanoseconds))
    }

    // Go returns `time: invalid duration "<text>"` for each of these (src/time/format.go).
    @Test("overflow is an invalid duration", arguments: [
        "18446744073.999999999s", "9223372036.854775808s", "-9223372036.854775809s", "9223372036854775808ns",
        "18446744073709551615ns", "18446744073709551616ns", "2562047h47m16.854775808s", "2562048h",
        "9223372036s854775808ns", "153722868m", "5124095576030431h",
        "2562047h47m16.854775808s2562047h47m16.854775808s", "9999999999h",
    ])
    func overflow(text: String) {
        #expect(GoDuration.parse(text) == .failure(DurationError("time: invalid duration \(goQuote(text))", isOutOfRange: true)))
    }
}

@Suite("Qualified names")
struct QualifiedNameTests {
    // Source: k8s.io/apimachinery pkg/util/validation IsQualifiedName messages.
    @Test("valid keys", arguments: ["a", "example.com/role-arn", "eks.amazonaws.com/role-arn", "now-with-dashes/simple", "A_b.C"])
    func valid(key: String) {
        #expect(QualifiedName.validate(key.lowercased()).isEmpty)
    }

    @Test("invalid keys", arguments: [
        ("/name", "prefix part must be non-empty"),
        ("a/b/c", "a qualified name must consist of alphanumeric characters"),
        ("example.com/", "name part must be non-empty"),
        ("Bad_Prefix/name", "prefix part a lowercase RFC 1123 subdomain must consist of"),
        (String(repeating: "a", count: 64), "name part must be no more than 63 bytes"),
    ])
    func invalid(key: String, messagePrefix: String) {
        let messages = QualifiedName.validate(key)
        #expect(messages.contains { $0.hasPrefix(messagePrefix) })
    }
}
