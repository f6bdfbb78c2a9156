import Testing

@testable import Agent

@Suite("Configuration layering and validation")
struct ConfigurationTests {
    @Test("flags win over environment and file")
    func flagsWin() throws {
        var flags = ConfigurationLayer()
        flags.registryHost = "flag.example.com"
        let environment = ConfigurationLayer.environment([
            "HARBOR_KEYLESS_REGISTRY": "env.example.com",
            "HARBOR_KEYLESS_USERNAME": "robot",
            "HARBOR_KEYLESS_RESTART": "never",
        ])
        let file = try ConfigurationLayer.file(
            text: "registries:\n  - host: file.example.com\nrestart: always\nproviderName: from-file\n",
            source: "config.yaml"
        )

        let configuration = try ConfigurationLayer.resolve([flags, environment, file])

        #expect(configuration.registries.map(\.host) == ["flag.example.com"])
        #expect(configuration.registries[0].username == "robot")
        #expect(configuration.restartPolicy == .never)
        #expect(configuration.providerName == "from-file")
    }

    @Test("file lists several registries with defaults")
    func fileRegistries() throws {
        let text = """
            registries:
              - host: harbor.example.com
              - host: harbor.example.com:8443
                audience: harbor-internal
                matchImages: ["harbor.example.com:8443/team"]
                username: robot
                serviceAccountAnnotationKey: harbor.example.com/pull
            """
        let configuration = try ConfigurationLayer.resolve([try ConfigurationLayer.file(text: text, source: "c.yaml")])

        let first = configuration.registries[0]
        #expect(first.audience == "harbor.example.com")
        #expect(first.matchImages == ["harbor.example.com"])
        #expect(first.username == "jwt")
        #expect(first.serviceAccountAnnotationKey == nil)
        let second = configuration.registries[1]
        #expect(second.audience == "harbor-internal")
        #expect(second.matchImages == ["harbor.example.com:8443/team"])
        #expect(second.serviceAccountAnnotationKey == "harbor.example.com/pull")
    }

    @Test("default matchImages keeps the port")
    func matchImagesKeepPort() throws {
        var flags = ConfigurationLayer()
        flags.registryHost = "harbor.example.com:5000"
        let configuration = try ConfigurationLayer.resolve([flags])
        #expect(configuration.registries[0].matchImages == ["harbor.example.com:5000"])
    }

    @Test("single-registry flags refine a one-entry file")
    func refineFile() throws {
        var flags = ConfigurationLayer()
        flags.audience = "other-audience"
        let file = try ConfigurationLayer.file(text: "registries:\n  - host: harbor.example.com\n", source: "c.yaml")
        let configuration = try ConfigurationLayer.resolve([flags, file])
        #expect(configuration.registries[0].audience == "other-audience")
    }

    @Test("single-registry flags with two file registries are rejected")
    func refineAmbiguous() throws {
        var flags = ConfigurationLayer()
        flags.audience = "other"
        let file = try ConfigurationLayer.file(
            text: "registries:\n  - host: a.example.com\n  - host: b.example.com\n",
            source: "c.yaml"
        )
        #expect(throws: ConfigurationError.self) { try ConfigurationLayer.resolve([flags, file]) }
    }

    @Test("missing registry names the fix")
    func missingRegistry() {
        do {
            _ = try ConfigurationLayer.resolve([ConfigurationLayer()])
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "no registry is configured")
            #expect(error.fix.contains("--registry"))
        }
    }

    @Test("missing registry names the file in use")
    func missingRegistryNamesFile() throws {
        let file = try ConfigurationLayer.file(text: "restart: never\n", source: "/tmp/other.yaml")
        do {
            _ = try ConfigurationLayer.resolve([ConfigurationLayer(), file])
            Issue.record("expected an error")
        } catch {
            #expect(error.fix.contains("/tmp/other.yaml"))
            #expect(!error.fix.contains(AgentConfiguration.defaultFilePath))
        }
    }

    @Test("unknown restart value names the file")
    func unknownRestartNamesFile() {
        do {
            _ = try ConfigurationLayer.file(text: "restart: sometimes\n", source: "/tmp/reloaded.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "/tmp/reloaded.yaml: restart \"sometimes\" is unknown")
            #expect(error.fix == "use one of never, if-changed, always")
        }
    }

    @Test("unknown file key is rejected", arguments: ["registry: x\n", "registries:\n  - host: a.example.com\n    audiance: x\n"])
    func unknownKey(text: String) {
        #expect(throws: ConfigurationError.self) { try ConfigurationLayer.file(text: text, source: "c.yaml") }
    }

    @Test("malformed YAML names the file and line")
    func malformedYAML() {
        do {
            _ = try ConfigurationLayer.file(text: "registries:\n  - host: [unclosed\n", source: "/etc/harbor-keyless/config.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("/etc/harbor-keyless/config.yaml:"))
        }
    }

    @Test(
        "hostile registry hosts are rejected",
        arguments: [
            "", "harbor.example.com\nkubelet-arg: x", "harbor example.com", "https://harbor.example.com",
            "harbor.example.com/library", "harbor.example.com:0", "harbor.example.com:65536", "harbor.example.com:80:80",
            "harbor.example.com;rm -rf /", "$(reboot)", "harbor.example.com#x", "'quoted'", "-leading.example.com",
            "harbor..example.com", "[::1", "[zz::1]:5000", "harbor.example.com:08",
        ]
    )
    func hostileHost(host: String) {
        var flags = ConfigurationLayer()
        flags.registryHost = host
        #expect(throws: ConfigurationError.self) { try ConfigurationLayer.resolve([flags]) }
    }

    @Test(
        "valid registry hosts are accepted",
        arguments: ["harbor.example.com", "harbor.example.com:8443", "10.0.0.10:5000", "[fd00::1]:5000", "localhost:5000", "registry"]
    )
    func validHost(host: String) throws {
        var flags = ConfigurationLayer()
        flags.registryHost = host
        let configuration = try ConfigurationLayer.resolve([flags])
        #expect(configuration.registries[0].host == host)
    }

    @Test(
        "other invalid values name the field",
        arguments: [
            ("audience", "https://harbor.example.com"),
            ("username", "a:b"),
            ("serviceAccountAnnotationKey", "bad key"),
            ("providerName", "../escape"),
            ("defaultCacheDuration", "-1h"),
            ("hostRoot", "relative/root"),
            ("restart", "sometimes"),
            ("unit", "k3s"),
        ]
    )
    func invalidValue(field: String, value: String) {
        var flags = ConfigurationLayer()
        flags.registryHost = "harbor.example.com"
        switch field {
        case "audience": flags.audience = value
        case "username": flags.username = value
        case "serviceAccountAnnotationKey": flags.serviceAccountAnnotationKey = value
        case "providerName": flags.providerName = value
        case "defaultCacheDuration": flags.defaultCacheDuration = value
        case "hostRoot": flags.hostRoot = value
        case "restart": flags.restartPolicy = value
        default: flags.unit = value
        }
        do {
            _ = try ConfigurationLayer.resolve([flags])
            Issue.record("expected an error for \(field)")
        } catch {
            #expect(error.message.contains(field))
            #expect(!error.fix.isEmpty)
        }
    }

    @Test("audience errors explain the host syntax", arguments: ["urn:harbor:prod", "https://harbor.example.com", "harbor/prod"])
    func audienceSyntax(value: String) {
        var flags = ConfigurationLayer()
        flags.registryHost = "harbor.example.com"
        flags.audience = value
        do {
            _ = try ConfigurationLayer.resolve([flags])
            Issue.record("expected an error for \(value)")
        } catch {
            #expect(error.message.contains(value))
            #expect(error.fix.contains("host syntax"))
            #expect(!error.fix.contains("IPv6"))
        }
    }

    @Test("an API server audience is rejected")
    func apiServerAudience() {
        var flags = ConfigurationLayer()
        flags.registryHost = "harbor.example.com"
        flags.audience = "k3s"
        #expect(throws: ConfigurationError.self) { try ConfigurationLayer.resolve([flags]) }
    }

    @Test("matchImages that miss the registry are rejected", arguments: [["*.com"], ["other.example.com"], ["harbor.example.com:5000"]])
    func matchImagesMissHost(patterns: [String]) {
        var flags = ConfigurationLayer()
        flags.registryHost = "harbor.example.com"
        flags.matchImages = patterns
        #expect(throws: ConfigurationError.self) { try ConfigurationLayer.resolve([flags]) }
    }

    @Test("messages escape control characters")
    func quotedEscapes() {
        #expect(InputValidation.quoted("a\nb\"c") == "\"a\\nb\\\"c\"")
    }

    @Test(
        "Go durations parse like time.ParseDuration",
        arguments: [("1h", 3600.0), ("90m", 5400), ("1h30m", 5400), ("0s", 0), ("0", 0), ("1.5h", 5400), ("500ms", 0.5)]
    )
    func goDurations(text: String, seconds: Double) {
        #expect(parseGoDuration(text) == seconds)
    }

    @Test("invalid Go durations are rejected", arguments: ["", "1", "h", "-1h", "1d", "1hh", "1.h2", "18446744073.999999999s"])
    func invalidGoDurations(text: String) {
        #expect(parseGoDuration(text) == nil)
    }

    @Test(
        "defaultCacheDuration errors say what is wrong",
        arguments: [
            ("18446744073.999999999s", "defaultCacheDuration \"18446744073.999999999s\" is out of range (time: invalid duration \"18446744073.999999999s\")"),
            ("-5s", "defaultCacheDuration \"-5s\" is negative"),
            ("5", "defaultCacheDuration \"5\" is not a duration (time: missing unit in duration \"5\")"),
        ]
    )
    func defaultCacheDurationErrors(text: String, message: String) {
        var flags = ConfigurationLayer()
        flags.registryHost = "harbor.example.com"
        flags.defaultCacheDuration = text
        do {
            _ = try ConfigurationLayer.resolve([flags])
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test(
        "timing settings below their minimum are rejected",
        arguments: [
            ("1ns", false, "--interval \"1ns\" is shorter than the minimum of 1s", "use at least 1s"),
            ("999ms", false, "--interval \"999ms\" is shorter than the minimum of 1s", "use at least 1s"),
            ("0s", false, "--interval \"0s\" is shorter than the minimum of 1s", "use at least 1s"),
            ("1ns", true, "--interval \"1ns\" is shorter than the minimum of 1s", "use 0s or at least 1s"),
            ("-1s", false, "--interval \"-1s\" is negative", "use a duration of 0s or more, such as 1h or 30m"),
        ]
    )
    func timingMinimum(text: String, allowsZero: Bool, message: String, fix: String) {
        do {
            _ = try Durations.duration(text, field: "--interval", minimum: .seconds(1), allowsZero: allowsZero)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.message == message)
            #expect(error.fix == fix)
        }
    }

    @Test("timing settings at or above their minimum are kept", arguments: [("1s", 1.0), ("1.5s", 1.5), ("1h", 3600)])
    func timingAccepted(text: String, seconds: Double) throws {
        let value = try Durations.duration(text, field: "--interval", minimum: .seconds(1))
        #expect(value == .milliseconds(Int64(seconds * 1000)))
        #expect(try Durations.duration("0s", field: "--settle-window", minimum: .seconds(5), allowsZero: true) == .zero)
    }
}

@Suite("Provider layout")
struct ProviderLayoutTests {
    @Test("one audience gives one entry with every pattern")
    func sharedAudience() throws {
        let configuration = AgentConfiguration(registries: [
            RegistryConfiguration(host: "a.example.com", audience: "harbor"),
            RegistryConfiguration(host: "b.example.com:5000", audience: "harbor"),
        ])
        let layout = try ProviderLayout(configuration: configuration)
        #expect(layout.names == ["credential-provider-harbor"])
        #expect(layout.entries[0].matchImages == ["a.example.com", "b.example.com:5000"])
    }

    @Test("two audiences give two entries with their own names")
    func twoAudiences() throws {
        let configuration = AgentConfiguration(registries: [
            RegistryConfiguration(host: "a.example.com"),
            RegistryConfiguration(host: "[fd00::1]:5000"),
        ])
        let layout = try ProviderLayout(configuration: configuration)
        #expect(layout.names == ["credential-provider-harbor", "credential-provider-harbor--fd00--1--5000"])
        #expect(layout.entries[1].audience == "[fd00::1]:5000")
    }

    @Test("one audience with two usernames is rejected")
    func conflictingUsernames() {
        let configuration = AgentConfiguration(registries: [
            RegistryConfiguration(host: "a.example.com", audience: "harbor"),
            RegistryConfiguration(host: "b.example.com", audience: "harbor", username: "robot"),
        ])
        #expect(throws: ConfigurationError.self) { try ProviderLayout(configuration: configuration) }
    }
}
