import FixtureSupport
import Testing
import YAML
@testable import K3sConfig

@Suite("K3sConfigFiles.merge")
struct MergeTests {
    // Source: k3s-io/k3s pkg/configfilearg/testdata (data.yaml at b2ec3f46, data.yaml.d/01-data.yml
    // and 02-data.yaml at 4de6d2db, 02-data-ignore-this.txt).
    static let upstreamData = K3sConfigFile(
        name: "data.yaml",
        text: "foo-bar: baz\nalice: bob\na-slice:\n- 1\n- \"2\"\n- \"\"\n- three\nisempty:\nc: b\nisfalse: false\nislast: true"
    )
    static let upstreamDropIns = [
        K3sConfigFile(name: "02-data-ignore-this.txt", text: "this: is not read"),
        K3sConfigFile(
            name: "02-data.yaml",
            text: "foo-bar: bar-foo\nb-string+: two\nc-slice+:\n- three\nd-slice:\n- three\n- four\ne-slice+:\n- one\n- two"
        ),
        K3sConfigFile(
            name: "01-data.yml",
            text: "foo-bar: get-overriden\na-slice:\n- 1\n- \"1.5\"\n- \"2\"\n- \"\"\n- three\nb-string: one\nc-slice:\n- one\n- two\nd-slice:\n- one\n- two"
        ),
    ]

    @Test("upstream data.yaml with drop-ins")
    func upstreamReadConfigFile() throws {
        // Source: k3s-io/k3s pkg/configfilearg/parser_test.go, TestParser_Parse "read config file"
        // (testDataOutput). The stored data.yaml also sets `alice: bob`, which adds --alice=bob.
        let config = try K3sConfigFiles.merge(main: Self.upstreamData, dropIns: Self.upstreamDropIns)
        #expect(config.flagArguments() == [
            "--foo-bar=bar-foo",
            "--alice=bob",
            "--a-slice=1",
            "--a-slice=1.5",
            "--a-slice=2",
            "--a-slice=",
            "--a-slice=three",
            "--isempty=",
            "-c=b",
            "--isfalse=false",
            "--islast=true",
            "--b-string=one",
            "--b-string=two",
            "--c-slice=one",
            "--c-slice=two",
            "--c-slice=three",
            "--d-slice=three",
            "--d-slice=four",
            "--e-slice=one",
            "--e-slice=two",
        ])
        #expect(config.files == ["data.yaml", "01-data.yml", "02-data.yaml"])
    }

    @Test("upstream single config file")
    func upstreamSingleFile() throws {
        // Source: k3s-io/k3s pkg/configfilearg/parser_test.go, TestParser_Parse "read single config file".
        let main = try #require(Self.upstreamDropIns.first(where: { $0.name == "02-data.yaml" }))
        let config = try K3sConfigFiles.merge(main: main, dropIns: [])
        #expect(config.flagArguments() == [
            "--foo-bar=bar-foo",
            "--b-string=two",
            "--c-slice=three",
            "--d-slice=three",
            "--d-slice=four",
            "--e-slice=one",
            "--e-slice=two",
        ])
    }

    @Test("upstream missing config is empty")
    func upstreamMissingConfig() throws {
        // Source: k3s-io/k3s pkg/configfilearg/parser_test.go, "ignore missing config when not set".
        let config = try K3sConfigFiles.merge(main: nil, dropIns: [])
        #expect(config.flagArguments().isEmpty)
        #expect(config.files.isEmpty)
    }

    @Test("upstream defaultdata.yaml flags")
    func upstreamDefaultData() throws {
        // Source: k3s-io/k3s pkg/configfilearg/defaultparser_test.go, Test_UnitMustParse "Agent with
        // config with known and unknown flags, flags are not skipped", on testdata/defaultdata.yaml
        // at 119b1aeb. That version has no kubelet-arg line, so --kubelet-arg=max-pods=999 is absent.
        let main = K3sConfigFile(
            name: "defaultdata.yaml",
            text: "token: 12345\nnode-label: DEAFBEEF\netcd-s3: true\netcd-s3-bucket: my-backup\nnotaflag : true"
        )
        let config = try K3sConfigFiles.merge(main: main, dropIns: [])
        #expect(config.flagArguments() == [
            "--token=12345", "--node-label=DEAFBEEF", "--etcd-s3=true", "--etcd-s3-bucket=my-backup", "--notaflag=true",
        ])
    }

    @Test("upstream invalid.yaml is rejected")
    func upstreamInvalid() {
        // Source: k3s-io/k3s pkg/configfilearg/testdata/invalid.yaml.
        #expect(throws: K3sConfigError.self) {
            try K3sConfigFiles.merge(main: K3sConfigFile(name: "invalid.yaml", text: "!invalid\n"), dropIns: [])
        }
    }

    @Test("k3s docs multi-file example")
    func docsMultiFile() throws {
        // Source: k3s-io/docs docs/installation/configuration.md "Multiple Config Files"; the
        // documented result is write-kubeconfig-mode 777, token boop, node-label [other=what,
        // foo=three], node-taint [alice=bob:NoExecute, charlie=delta:NoSchedule].
        let main = K3sConfigFile(name: "config.yaml", text: try fixture("k3s-config/k3s-docs-multi-file/config.yaml"))
        let dropIns = try ["test2.yaml", "test1.yaml"].map { name in
            K3sConfigFile(name: name, text: try fixture("k3s-config/k3s-docs-multi-file/config.yaml.d/\(name)"))
        }
        let config = try K3sConfigFiles.merge(main: main, dropIns: dropIns)

        #expect(config.list(forKey: "write-kubeconfig-mode") == ["777"])
        #expect(config.list(forKey: "token") == ["boop"])
        #expect(config.list(forKey: "node-label") == ["other=what", "foo=three"])
        #expect(config.list(forKey: "node-taint") == ["alice=bob:NoExecute", "charlie=delta:NoSchedule"])
        #expect(config.source(forKey: "token") == "config.yaml")
        #expect(config.source(forKey: "node-label") == "test2.yaml")
        #expect(config.sources(forKey: "node-taint") == ["test1.yaml", "test2.yaml"])
        #expect(config.keys == ["token", "node-label", "write-kubeconfig-mode", "node-taint"])
    }

    @Test("drop-ins apply without a main file")
    func dropInsWithoutMain() throws {
        // Source: kairos-io/kairos issue 110, a config.yaml.d/99-labels.yaml drop-in with `node-label+`.
        let dropIn = K3sConfigFile(name: "99-labels.yaml", text: try fixture("k3s-config/kairos-110-config.yaml.d-99-labels.yaml"))
        let config = try K3sConfigFiles.merge(main: nil, dropIns: [dropIn])
        #expect(config.list(forKey: "node-label") == ["node.c3os.io/uuid=$UUID"])
        #expect(config.value(forKey: "node-label")?.sequence?.count == 1)
    }

    @Test("append turns a scalar into a list")
    func appendToScalar() throws {
        let main = K3sConfigFile(name: "config.yaml", text: "node-label: a=b\n")
        let dropIn = K3sConfigFile(name: "10.yaml", text: "node-label+: c=d\n")
        let config = try K3sConfigFiles.merge(main: main, dropIns: [dropIn])
        #expect(config.list(forKey: "node-label") == ["a=b", "c=d"])
        #expect(config.value(forKey: "node-label")?.sequence != nil)
    }

    @Test("later file replaces a list whole")
    func laterListWins() throws {
        let first = K3sConfigFile(name: "10-a.yaml", text: "kubelet-arg:\n- max-pods=250\n")
        let second = K3sConfigFile(name: "20-b.yaml", text: "kubelet-arg:\n- feature-gates=A=true\n")
        let config = try K3sConfigFiles.merge(main: nil, dropIns: [second, first])
        #expect(config.list(forKey: "kubelet-arg") == ["feature-gates=A=true"])
        #expect(config.source(forKey: "kubelet-arg") == "20-b.yaml")
    }

    @Test("repeated key in one file: last wins")
    func repeatedKey() throws {
        let main = K3sConfigFile(name: "config.yaml", text: "token: a\ntoken: b\n")
        let config = try K3sConfigFiles.merge(main: main, dropIns: [])
        #expect(config.list(forKey: "token") == ["b"])
        #expect(config.keys == ["token"])
    }

    @Test("scalars convert as yaml.v2 decodes them", arguments: [
        ("mode: 0644", "420"), ("mode: \"0644\"", "0644"), ("mode: 0x1F", "31"), ("flag: yes", "true"),
        ("flag: Off", "false"), ("flag: \"yes\"", "yes"), ("n: 1_000", "1000"), ("f: 1.5", "1.5"), ("f: 1e3", "1000"),
        ("t: 2001-12-14", "2001-12-14"), ("e: ~", ""), ("s: 1h", "1h"),
    ])
    func scalarConversion(line: String, expected: String) throws {
        let config = try K3sConfigFiles.merge(main: K3sConfigFile(name: "config.yaml", text: line), dropIns: [])
        let key = try #require(config.keys.first)
        #expect(config.list(forKey: key) == [expected])
    }

    @Test("append of null adds nothing")
    func appendNull() throws {
        let main = K3sConfigFile(name: "config.yaml", text: "tls-san: a\ntls-san+:\n")
        let config = try K3sConfigFiles.merge(main: main, dropIns: [])
        #expect(config.list(forKey: "tls-san") == ["a"])
    }

    @Test("empty and comment-only files add nothing")
    func emptyFiles() throws {
        let config = try K3sConfigFiles.merge(
            main: K3sConfigFile(name: "config.yaml", text: ""),
            dropIns: [K3sConfigFile(name: "a.yaml", text: "# nothing\n"), K3sConfigFile(name: "b.yaml", text: "---\n")]
        )
        #expect(config.keys.isEmpty)
        #expect(config.files == ["config.yaml", "a.yaml", "b.yaml"])
    }

    @Test("top level must be a mapping")
    func topLevelList() {
        #expect {
            try K3sConfigFiles.merge(main: nil, dropIns: [K3sConfigFile(name: "a.yaml", text: "- token: x\n")])
        } throws: { error in
            guard let error = error as? K3sConfigError else { return false }
            return error.file == "a.yaml" && error.line == 1 && error.message.contains("must be a mapping")
        }
    }

    @Test("invalid drop-in names the file and line")
    func invalidDropIn() {
        #expect {
            try K3sConfigFiles.merge(
                main: K3sConfigFile(name: "config.yaml", text: "token: a\n"),
                dropIns: [K3sConfigFile(name: "50-bad.yaml", text: "a: 1\n\tb: 2\n")]
            )
        } throws: { error in
            guard let error = error as? K3sConfigError else { return false }
            return error.description.hasPrefix("50-bad.yaml:2:1: ")
        }
    }

    @Test("fixture configs merge", arguments: [
        "k3s-config/harbor-wif-k3s-config.yaml", "k3s-config/k3s-14039-config.yaml", "k3s-config/k3s-3289-config.yaml",
        "k3s-config/k3s-9839-config.yaml",
    ])
    func fixtureConfigs(path: String) throws {
        // Sources: each fixture's header names the k3s issue or repository it was copied from.
        let config = try K3sConfigFiles.merge(main: K3sConfigFile(name: path, text: try fixture(path)), dropIns: [])
        #expect(!config.keys.isEmpty)
        #expect(config.flagArguments().allSatisfy { $0.hasPrefix("--") })
    }

    @Test("fixture 3289 values")
    func fixture3289() throws {
        // Source: k3s-io/k3s issue 3289, /etc/rancher/k3s/config.yaml of k3s v1.21.1-rc1+k3s1.
        let path = "k3s-config/k3s-3289-config.yaml"
        let config = try K3sConfigFiles.merge(main: K3sConfigFile(name: path, text: try fixture(path)), dropIns: [])
        #expect(config.flagArguments() == ["--write-kubeconfig-mode=0644", "--tls-san=test", "--selinux=true"])
    }
}

@Suite("K3sConfigFiles.dropInNames")
struct DropInNameTests {
    @Test("selects yaml files in byte order")
    func selection() {
        let names = ["b.yaml", "A.YML", "c.txt", "a.yaml", "z.Yaml", ".hidden.yml", "10-x.yaml", "9-x.yaml", "yaml", "x.yaml.bak"]
        #expect(K3sConfigFiles.dropInNames(names) == [".hidden.yml", "10-x.yaml", "9-x.yaml", "A.YML", "a.yaml", "b.yaml", "z.Yaml"])
    }
}
