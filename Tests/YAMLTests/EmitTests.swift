import FixtureSupport
import Testing
@testable import YAML

@Suite("YAML.emit")
struct EmitTests {
    @Test("block style with two-space indentation")
    func blockStyle() throws {
        let node = YAMLNode.mapping([
            YAMLPair(key: "apiVersion", value: .string("kubelet.config.k8s.io/v1")),
            YAMLPair(key: "providers", value: .sequence([
                .mapping([
                    YAMLPair(key: "name", value: .string("credential-provider-harbor")),
                    YAMLPair(key: "matchImages", value: .strings(["harbor.example.com", "*.example.com"])),
                    YAMLPair(key: "tokenAttributes", value: .mapping([YAMLPair(key: "requireServiceAccount", value: .bool(true))])),
                ]),
            ])),
            YAMLPair(key: "empty", value: .sequence([])),
        ])
        let expected = """
            apiVersion: kubelet.config.k8s.io/v1
            providers:
            - name: credential-provider-harbor
              matchImages:
              - harbor.example.com
              - '*.example.com'
              tokenAttributes:
                requireServiceAccount: true
            empty: []

            """
        #expect(try YAML.emit(node) == expected)
    }

    @Test("strings that read as other types are quoted", arguments: [
        "true", "yes", "off", "null", "~", "", "0644", "12", "1.5", "1e3", ".inf", "2001-12-14", "<<",
    ])
    func quotesTypedText(text: String) throws {
        let emitted = try YAML.emit(.mapping([YAMLPair(key: "k", value: .string(text))]))
        #expect(emitted == "k: \"\(text)\"\n")
        let reread = try YAML.parse(emitted, source: "emitted")
        #expect(reread?["k"]?.scalarKind == .string)
    }

    @Test("plain strings stay plain", arguments: ["1h", "harbor.example.com", "v1.34.1+k3s1", "--username=jwt"])
    func plainStrings(text: String) throws {
        #expect(try YAML.emit(.mapping([YAMLPair(key: "k", value: .string(text))])) == "k: \(text)\n")
    }

    @Test("typed plain scalars stay unquoted")
    func typedPlain() throws {
        #expect(try YAML.emit(.mapping([YAMLPair(key: "k", value: .scalar("0644"))])) == "k: 0644\n")
    }

    @Test("text that would break the document round-trips", arguments: [
        "a: b", "- x", "#comment", " leading", "trailing ", "line1\nline2", "quote\"s", "it's", "tab\there", "{x}",
        "ünïcödé", "\u{1F600}", "@at", "`tick", "%percent", "!bang", "&amp", "*star", "key:", "a #b",
    ])
    func breakingText(text: String) throws {
        let node = YAMLNode.mapping([YAMLPair(key: text, value: .string(text))])
        let reread = try YAML.parse(YAML.emit(node), source: "emitted")
        #expect(reread == node)
        #expect(reread?.mapping?.first?.key == text)
    }

    @Test("fixtures round-trip", arguments: try fixturePaths(under: "k3s-config") + fixturePaths(under: "provider-config"))
    func fixtureRoundTrip(path: String) throws {
        let node = try #require(try YAML.parse(fixture(path), source: path))
        let emitted = try YAML.emit(node)
        let reread = try YAML.parse(emitted, source: "emitted \(path)")
        #expect(reread == node)
        #expect(try YAML.emit(#require(reread)) == emitted)
    }

    @Test("literal block scalar round-trips")
    func literal() throws {
        let node = YAMLNode.mapping([YAMLPair(key: "script", value: .scalar("echo a\necho b\n", style: .literal))])
        let emitted = try YAML.emit(node)
        #expect(emitted == "script: |\n  echo a\n  echo b\n")
        #expect(try YAML.parse(emitted, source: "emitted") == node)
    }
}
