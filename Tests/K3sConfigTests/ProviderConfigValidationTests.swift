import FixtureSupport
import Testing
import YAML
@testable import K3sConfig

/// Builds a v1 config file around one provider's YAML lines (indented under "- ").
private func configText(_ providerLines: [String], apiVersion: String = "kubelet.config.k8s.io/v1") -> String {
    var text = "apiVersion: \(apiVersion)\nkind: CredentialProviderConfig\nproviders:\n"
    for (index, line) in providerLines.enumerated() {
        text += (index == 0 ? "- " : "  ") + line + "\n"
    }
    return text
}

private func problems(
    _ text: String, kubelet: String = "v1.34.0", gate: Bool = true, binaryExists: @escaping (String) -> Bool = { _ in true }
) throws -> [String] {
    let config = try CredentialProviderConfig.parse(text, source: "config.yaml")
    return config.validate(kubelet: try KubernetesVersion.parse(kubelet), tokenGateEnabled: gate, binaryExists: binaryExists)
        .map(\.message)
}

@Suite("CredentialProviderConfig.validate upstream cases")
struct UpstreamValidationTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var provider: [String]
        var gate: Bool
        var expected: [String]
    }

    static let alpha = "apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1"
    static let v1 = "apiVersion: credentialprovider.kubelet.k8s.io/v1"
    static let base = ["name: foobar", "matchImages: [\"foobar.registry.io\"]", "defaultCacheDuration: 1m"]

    // Source: kubernetes/kubernetes pkg/credentialprovider/plugin/config_test.go,
    // Test_validateCredentialProviderConfig (the version with cacheType, Kubernetes 1.34+).
    // Each upstream Go struct is written here as the YAML file that decodes to it.
    static let cases: [Case] = [
        Case(
            description: "no matchImages provided",
            provider: ["name: foobar", "matchImages: []", "defaultCacheDuration: 1m", alpha], gate: false,
            expected: ["providers.matchImages: Required value: at least 1 item in matchImages is required"]
        ),
        Case(
            description: "no default cache duration provided",
            provider: ["name: foobar", "matchImages: [\"foobar.registry.io\"]", alpha], gate: false,
            expected: ["providers.defaultCacheDuration: Required value"]
        ),
        Case(
            description: "name contains '/'",
            provider: ["name: foo/../bar", "matchImages: [\"foobar.registry.io\"]", "defaultCacheDuration: 1m", alpha], gate: false,
            expected: ["providers.name: Invalid value: \"foo/../bar\": provider name cannot contain '/'"]
        ),
        Case(
            description: "name is '.'",
            provider: ["name: .", "matchImages: [\"foobar.registry.io\"]", "defaultCacheDuration: 1m", alpha], gate: false,
            expected: ["providers.name: Invalid value: \".\": provider name cannot be '.'"]
        ),
        Case(
            description: "name is '..'",
            provider: ["name: ..", "matchImages: [\"foobar.registry.io\"]", "defaultCacheDuration: 1m", alpha], gate: false,
            expected: ["providers.name: Invalid value: \"..\": provider name cannot be '..'"]
        ),
        Case(
            description: "name contains spaces",
            provider: ["name: foo bar", "matchImages: [\"foobar.registry.io\"]", "defaultCacheDuration: 1m", alpha], gate: false,
            expected: ["providers.name: Invalid value: \"foo bar\": provider name cannot contain spaces"]
        ),
        Case(
            description: "no apiVersion",
            provider: base + ["apiVersion: \"\""], gate: false,
            expected: ["providers.apiVersion: Required value"]
        ),
        Case(
            description: "invalid apiVersion",
            provider: base + ["apiVersion: credentialprovider.kubelet.k8s.io/v1alpha0"], gate: false,
            expected: [
                "providers.apiVersion: Unsupported value: \"credentialprovider.kubelet.k8s.io/v1alpha0\": supported values: \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \"credentialprovider.kubelet.k8s.io/v1beta1\"",
            ]
        ),
        Case(
            description: "negative default cache duration",
            provider: ["name: foobar", "matchImages: [\"foobar.registry.io\"]", "defaultCacheDuration: -1m", alpha], gate: false,
            expected: ["providers.defaultCacheDuration: Invalid value: \"-1m0s\": must be greater than or equal to 0"]
        ),
        Case(
            description: "invalid match image",
            provider: ["name: foobar", "matchImages: [\"%invalid%\"]", "defaultCacheDuration: 1m", alpha], gate: false,
            expected: [
                "providers.matchImages: Invalid value: \"%invalid%\": match image is invalid: parse \"https://%invalid%\": invalid URL escape \"%in\"",
            ]
        ),
        Case(description: "valid config", provider: base + [alpha], gate: false, expected: []),
        Case(
            description: "token attributes set without the feature gate",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: ServiceAccount",
                "  requireServiceAccount: true"],
            gate: false,
            expected: [
                "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled",
            ]
        ),
        Case(
            description: "token attributes not nil but empty ServiceAccountTokenAudience",
            provider: base + [v1, "tokenAttributes:", "  cacheType: Token",
                "  requiredServiceAccountAnnotationKeys: [prefix.io/annotation-1, prefix.io/annotation-2]", "  requireServiceAccount: true"],
            gate: true,
            expected: ["providers.tokenAttributes.serviceAccountTokenAudience: Required value"]
        ),
        Case(
            description: "token attributes not nil but empty CacheType",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  requireServiceAccount: true"],
            gate: true,
            expected: [
                "providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token",
            ]
        ),
        Case(
            description: "token attributes not nil, invalid CacheType",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: invalid-cache-type",
                "  requireServiceAccount: true"],
            gate: true,
            expected: [
                "providers.tokenAttributes.cacheType: Unsupported value: \"invalid-cache-type\": supported values: \"ServiceAccount\", \"Token\"",
            ]
        ),
        Case(
            description: "token attributes not nil but empty ServiceAccountTokenRequired",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: ServiceAccount",
                "  requiredServiceAccountAnnotationKeys: [prefix.io/annotation-1, prefix.io/annotation-2]"],
            gate: true,
            expected: ["providers.tokenAttributes.requireServiceAccount: Required value"]
        ),
        Case(
            description: "required annotation keys not qualified names",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: Token",
                "  requireServiceAccount: true", "  requiredServiceAccountAnnotationKeys: [cantendwithadash-, now-with-dashes/simple]"],
            gate: true,
            expected: [
                "providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Invalid value: \"cantendwithadash-\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ]
        ),
        Case(
            description: "optional annotation keys not qualified names",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: ServiceAccount",
                "  requireServiceAccount: true", "  optionalServiceAccountAnnotationKeys: [cantendwithadash-, now-with-dashes/simple]"],
            gate: true,
            expected: [
                "providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Invalid value: \"cantendwithadash-\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ]
        ),
        Case(
            description: "duplicate required annotation keys",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: Token",
                "  requireServiceAccount: true", "  requiredServiceAccountAnnotationKeys: [now-with-dashes/simple, now-with-dashes/simple]"],
            gate: true,
            expected: ["providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Duplicate value: \"now-with-dashes/simple\""]
        ),
        Case(
            description: "duplicate optional annotation keys",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: ServiceAccount",
                "  requireServiceAccount: true", "  optionalServiceAccountAnnotationKeys: [now-with-dashes/simple, now-with-dashes/simple]"],
            gate: true,
            expected: ["providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Duplicate value: \"now-with-dashes/simple\""]
        ),
        Case(
            description: "annotation key in required and optional keys",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: Token",
                "  requireServiceAccount: true",
                "  requiredServiceAccountAnnotationKeys: [now-with-dashes/simple-1, now-with-dashes/simple-2]",
                "  optionalServiceAccountAnnotationKeys: [now-with-dashes/simple-2, now-with-dashes/simple-3]"],
            gate: true,
            expected: ["providers.tokenAttributes: Invalid value: [\"now-with-dashes/simple-2\"]: annotation keys cannot be both required and optional"]
        ),
        Case(
            description: "required annotation keys with requireServiceAccount false",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: ServiceAccount",
                "  requireServiceAccount: false",
                "  requiredServiceAccountAnnotationKeys: [now-with-dashes/simple-1, now-with-dashes/simple-2]"],
            gate: true,
            expected: [
                "providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
            ]
        ),
        Case(
            description: "valid config with the feature gate enabled",
            provider: base + [v1, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: Token",
                "  requireServiceAccount: true",
                "  requiredServiceAccountAnnotationKeys: [now-with-dashes/simple-1, now-with-dashes/simple-2]",
                "  optionalServiceAccountAnnotationKeys: [now-with-dashes/simple-3]"],
            gate: true,
            expected: []
        ),
        Case(
            description: "tokenAttributes with v1alpha1 provider APIVersion",
            provider: base + [alpha, "tokenAttributes:", "  serviceAccountTokenAudience: audience", "  cacheType: Token",
                "  requireServiceAccount: true", "  requiredServiceAccountAnnotationKeys: [now-with-dashes/simple]"],
            gate: true,
            expected: ["providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version"]
        ),
        Case(
            description: "tokenAttributes with v1beta1 provider APIVersion",
            provider: base + ["apiVersion: credentialprovider.kubelet.k8s.io/v1beta1", "tokenAttributes:",
                "  serviceAccountTokenAudience: audience", "  cacheType: ServiceAccount", "  requireServiceAccount: true",
                "  requiredServiceAccountAnnotationKeys: [now-with-dashes/simple]"],
            gate: true,
            expected: ["providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version"]
        ),
    ]

    @Test("validation matches upstream", arguments: cases)
    func upstream(testCase: Case) throws {
        #expect(try problems(configText(testCase.provider), gate: testCase.gate) == testCase.expected)
    }

    @Test("no providers provided")
    func noProviders() throws {
        // Source: config_test.go Test_validateCredentialProviderConfig "no providers provided".
        let text = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n"
        #expect(try problems(text) == ["providers: Required value: at least 1 item in plugins is required"])
    }

    @Test("duplicate names")
    func duplicateNames() throws {
        // Source: config_test.go Test_validateCredentialProviderConfig "duplicate names".
        let text = configText(Self.base + [Self.alpha]) + "- name: foobar\n  matchImages: [\"bar.registry.io\"]\n"
            + "  defaultCacheDuration: 1m\n  \(Self.alpha)\n"
        #expect(try problems(text) == ["providers.name: Duplicate value: \"foobar\""])
    }
}

@Suite("CredentialProviderConfig strict decoding")
struct DecodingTests {
    static let plugin = """
        providers:
          - name: test
            matchImages:
            - "registry.io/foobar"
            defaultCacheDuration: 10m

        """

    // Source: kubernetes/kubernetes pkg/credentialprovider/plugin/config_test.go,
    // Test_readCredentialProviderConfig; upstream checks that the error contains this text.
    static let cases: [(String, String, String)] = [
        (
            "config with wrong Kind",
            "---\nkind: WrongKind\napiVersion: kubelet.config.k8s.io/v1alpha1\n" + plugin + "    apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1\n",
            "no kind \"WrongKind\" is registered for version \"kubelet.config.k8s.io/v1alpha1\""
        ),
        (
            "config with wrong apiversion",
            "---\nkind: CredentialProviderConfig\napiVersion: foobar/v1alpha1\n" + plugin + "    apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1\n",
            "no kind \"CredentialProviderConfig\" is registered for version \"foobar/v1alpha1"
        ),
        (
            "config with invalid typo",
            "---\nkind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\n" + plugin
                + "    unknownField: should not be here # this field should not be here\n    apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1\n",
            "strict decoding error: unknown field \"providers[0].unknownField\""
        ),
        (
            "v1alpha1 config with token attributes should fail",
            "---\nkind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1alpha1\n" + plugin
                + "    apiVersion: credentialprovider.kubelet.k8s.io/v1alpha1\n    tokenAttributes:\n      serviceAccountTokenAudience: audience\n",
            "strict decoding error: unknown field \"providers[0].tokenAttributes\""
        ),
        (
            "v1beta1 config with token attributes should fail",
            "---\nkind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1beta1\n" + plugin
                + "    apiVersion: credentialprovider.kubelet.k8s.io/v1beta1\n    tokenAttributes:\n      serviceAccountTokenAudience: audience\n",
            "strict decoding error: unknown field \"providers[0].tokenAttributes\""
        ),
    ]

    @Test("decoding errors match upstream", arguments: cases)
    func upstream(name: String, text: String, expected: String) throws {
        let found = try problems(text)
        #expect(found.contains { $0.contains(expected) }, "\(name): \(found)")
    }

    @Test("upstream valid files load")
    func upstreamValidFiles() throws {
        // Source: config_test.go Test_readCredentialProviderConfig, "config with 1 plugin and 1
        // image matcher (JSON!)" (tab-indented JSON) and "v1 config with multiple providers".
        let json = """
            {
            \t\t\t\t  "kind": "CredentialProviderConfig",
            \t\t\t\t  "apiVersion": "kubelet.config.k8s.io/v1alpha1",
            \t\t\t\t  "providers": [
            \t\t\t\t\t{
            \t\t\t\t\t  "name": "test",
            \t\t\t\t\t  "matchImages": [
            \t\t\t\t\t\t"registry.io/foobar"
            \t\t\t\t\t  ],
            \t\t\t\t\t  "defaultCacheDuration": "10m",
            \t\t\t\t\t  "apiVersion": "credentialprovider.kubelet.k8s.io/v1alpha1",
            \t\t\t\t\t  "args": [
            \t\t\t\t\t\t"--v=5"
            \t\t\t\t\t  ],
            \t\t\t\t\t  "env": [
            \t\t\t\t\t\t{
            \t\t\t\t\t\t  "name": "FOO",
            \t\t\t\t\t\t  "value": "BAR"
            \t\t\t\t\t\t}
            \t\t\t\t\t  ]
            \t\t\t\t\t}
            \t\t\t\t  ]
            \t\t\t\t}
            """
        #expect(try problems(json) == [])

        let multiple = """
            ---
            kind: CredentialProviderConfig
            apiVersion: kubelet.config.k8s.io/v1
            providers:
              - name: test1
                matchImages:
                - "registry.io/one"
                defaultCacheDuration: 10m
                apiVersion: credentialprovider.kubelet.k8s.io/v1
              - name: test2
                matchImages:
                - "registry.io/two"
                defaultCacheDuration: 10m
                apiVersion: credentialprovider.kubelet.k8s.io/v1
                args:
                - --v=5
                env:
                - name: FOO
                  value: BAR
            """
        let config = try CredentialProviderConfig.parse(multiple, source: "config.yaml")
        #expect(config.providerNames == ["test1", "test2"])
        #expect(try problems(multiple) == [])
    }

    @Test("JSON types the kubelet rejects", arguments: [
        ("name: 123", "json: cannot unmarshal number into Go struct field CredentialProvider.providers.name of type string"),
        ("defaultCacheDuration: 0", "json: cannot unmarshal number into Go value of type string"),
        ("defaultCacheDuration: \"10\"", "time: missing unit in duration \"10\""),
        ("defaultCacheDuration: 10x", "time: unknown unit \"x\" in duration \"10x\""),
        ("matchImages: registry.io", "json: cannot unmarshal string into Go struct field CredentialProvider.providers.matchImages of type []string"),
        ("args: [1]", "json: cannot unmarshal number into Go struct field CredentialProvider.providers.args of type string"),
    ])
    func typeErrors(line: String, expected: String) throws {
        let fields = [
            "name: test", "matchImages: [a.io]", "defaultCacheDuration: 1m", "apiVersion: credentialprovider.kubelet.k8s.io/v1", "args: [x]",
        ]
        let key = line.prefix { $0 != ":" }
        let text = configText(fields.map { $0.hasPrefix(key + ":") ? line : $0 })
        #expect(try problems(text).contains(expected))
    }

    @Test("top-level problems")
    func topLevel() throws {
        #expect(try problems("") == ["Object 'Kind' is missing"])
        #expect(try problems("kind: CredentialProviderConfig\nproviders: []\n").first == "Object 'apiVersion' is missing")
        let extra = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\nextra: 1\n"
        #expect(try problems(extra).first == "strict decoding error: unknown field \"extra\"")
    }

    @Test("top level must be a mapping")
    func notAMapping() {
        #expect(throws: ProviderConfigError.self) { try CredentialProviderConfig.parse("- a\n", source: "config.yaml") }
    }
}

@Suite("CredentialProviderConfig.validate per kubelet version")
struct VersionValidationTests {
    // Source: container-registry/harbor-workload-identity-federation,
    // examples/kubernetes/k8s_credential_provider_config.yaml (tokenAttributes with cacheType).
    static let harborPath = "provider-config/harbor-tokenattributes.yaml"

    @Test("harbor fixture per version", arguments: [
        ("v1.34.1+k3s1", true, [String]()),
        ("v1.35.0", true, []),
        ("v1.33.4+k3s1", true, ["strict decoding error: unknown field \"providers[0].tokenAttributes.cacheType\""]),
        ("v1.32.5+k3s1", true, ["strict decoding error: unknown field \"providers[0].tokenAttributes\""]),
        ("v1.34.1+k3s1", false, [
            "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled",
        ]),
        ("v1.25.16+k3s4", true, ["no kind \"CredentialProviderConfig\" is registered for version \"kubelet.config.k8s.io/v1\""]),
    ])
    func harbor(kubelet: String, gate: Bool, expected: [String]) throws {
        #expect(try problems(fixture(Self.harborPath), kubelet: kubelet, gate: gate) == expected)
    }

    @Test("fixtures without tokenAttributes load on 1.34", arguments: [
        "provider-config/acr-cloud-provider-azure.yaml", "provider-config/gcr-openshift-mco.yaml",
        "provider-config/ecr-k3s-3463-v1alpha1.yaml",
    ])
    func plainFixtures(path: String) throws {
        // Sources: each fixture's header (cloud-provider-azure, openshift machine-config-operator, k3s issue 3463).
        #expect(try problems(fixture(path)) == [])
    }

    @Test("quay template needs cacheType from 1.34")
    func quayTemplate() throws {
        // Source: sabre1041/quay-credential-provider examples/kind/CredentialProviderConfig.yaml.template,
        // written for kind v1.33 (placeholders left as is).
        let text = try fixture("provider-config/quay-tokenattributes.yaml.template")
        #expect(try problems(text, kubelet: "v1.33.1", gate: true) == [])
        #expect(try problems(text, kubelet: "v1.34.0", gate: true) == [
            "providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token",
        ])
    }

    @Test("ECR JSON template placeholders are invalid hosts")
    func ecrTemplate() throws {
        // Source: kubernetes/cloud-provider-aws issue 1280, a user's JSON config with ${ACCOUNT} placeholders.
        let found = try problems(fixture("provider-config/ecr-tokenattributes-cloud-provider-aws-1280.json"))
        #expect(found == [
            "providers.matchImages: Invalid value: \"${ACCOUNT}.dkr.ecr.*.amazonaws.com\": match image is invalid: parse \"https://${ACCOUNT}.dkr.ecr.*.amazonaws.com\": invalid character \"{\" in host name",
            "providers.matchImages: Invalid value: \"${ACCOUNT}.dkr.ecr-*.*.amazonaws.com\": match image is invalid: parse \"https://${ACCOUNT}.dkr.ecr-*.*.amazonaws.com\": invalid character \"{\" in host name",
        ])
    }

    @Test("missing binary names the provider")
    func missingBinary() throws {
        let config = try CredentialProviderConfig.parse(try fixture(Self.harborPath), source: "config.yaml")
        let found = config.validate(kubelet: try KubernetesVersion.parse("v1.34.1"), tokenGateEnabled: true) { $0 != "credential-provider-harbor" }
        #expect(found.map(\.message) == ["plugin binary executable credential-provider-harbor did not exist"])
        #expect(found.first?.kind == .missingBinary)
        #expect(found.first?.provider == "credential-provider-harbor")
    }

    @Test("problems carry the provider name and place")
    func problemContext() throws {
        let text = configText(["name: foo bar", "matchImages: [a.io]", "defaultCacheDuration: 1m", "apiVersion: credentialprovider.kubelet.k8s.io/v1"])
        let config = try CredentialProviderConfig.parse(text, source: "config.yaml")
        let found = config.validate(kubelet: try KubernetesVersion.parse("v1.34.1"), tokenGateEnabled: true) { _ in true }
        #expect(found.count == 1)
        #expect(found.first?.description == "provider \"foo bar\": providers.name: Invalid value: \"foo bar\": provider name cannot contain spaces")
        #expect(found.first?.mark?.line == 4)
    }

    @Test("duplicate names across files")
    func acrossFiles() throws {
        let first = try CredentialProviderConfig.parse(try fixture(Self.harborPath), source: "a.yaml")
        let second = try CredentialProviderConfig.parse(try fixture(Self.harborPath), source: "b.yaml")
        #expect(CredentialProviderConfig.duplicateProviderNames(across: [first, second]).map(\.message) == [
            "duplicate provider name \"credential-provider-harbor\" found in configuration file(s)",
        ])
    }
}

@Suite("CredentialProviderConfig YAML typing")
struct YAMLTypingTests {
    @Test("yaml.v2 strings and booleans decode", arguments: [
        "name: 2001-12-14", "name: \"123\"", "name: 1:30",
    ])
    func stringLike(line: String) throws {
        let text = configText([line, "matchImages: [a.io]", "defaultCacheDuration: 1m", "apiVersion: credentialprovider.kubelet.k8s.io/v1"])
        #expect(try problems(text) == [])
    }

    @Test("requireServiceAccount accepts yes")
    func yesIsBool() throws {
        let text = configText([
            "name: a", "matchImages: [a.io]", "defaultCacheDuration: 1m", "apiVersion: credentialprovider.kubelet.k8s.io/v1",
            "tokenAttributes:", "  serviceAccountTokenAudience: aud", "  cacheType: Token", "  requireServiceAccount: yes",
        ])
        #expect(try problems(text) == [])
    }
}

@Suite("CredentialProviderConfig binary check")
struct BinaryCheckTests {
    @Test("invalid names never reach binaryExists")
    func invalidNamesSkipped() throws {
        let text = configText(["name: ../../bin/sh", "matchImages: [a.io]", "defaultCacheDuration: 1m", "apiVersion: credentialprovider.kubelet.k8s.io/v1"])
        var asked: [String] = []
        let config = try CredentialProviderConfig.parse(text, source: "config.yaml")
        let found = config.validate(kubelet: KubernetesVersion(major: 1, minor: 34), tokenGateEnabled: true) { name in
            asked.append(name)
            return false
        }
        #expect(asked.isEmpty)
        #expect(found.map(\.kind) == [.validation])
    }

    @Test("provider names", arguments: [("a", true), ("credential-provider-harbor", true), ("", false), ("a/b", false), ("a b", false), (".", false), ("..", false)])
    func names(name: String, valid: Bool) {
        #expect(CredentialProviderConfig.isValidProviderName(name) == valid)
    }
}
