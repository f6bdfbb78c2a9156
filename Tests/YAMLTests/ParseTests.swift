import FixtureSupport
import Testing
@testable import YAML

@Suite("YAML.parse")
struct ParseTests {
    @Test("mapping keeps key order and marks")
    func mappingOrder() throws {
        let node = try #require(try YAML.parse("b: 1\na: two\nc:\n  - x\n", source: "t.yaml"))
        let pairs = try #require(node.mapping)
        #expect(pairs.map(\.key) == ["b", "a", "c"])
        #expect(node["a"]?.string == "two")
        #expect(node["c"]?.sequence?.first?.string == "x")
        #expect(pairs[1].keyMark == YAMLMark(line: 2, column: 1))
        #expect(node["c"]?.sequence?.first?.mark == YAMLMark(line: 4, column: 5))
    }

    @Test("empty input has no document", arguments: ["", "\n\n", "# only a comment\n", "---\n", "---\n...\n"])
    func emptyDocument(text: String) throws {
        #expect(try YAML.parse(text, source: "t.yaml") == nil)
    }

    @Test("trailing empty documents are ignored", arguments: ["a: 1\n---\n", "---\na: 1\n---\n---\n", "a: 1\n...\n---\n"])
    func trailingEmptyDocuments(text: String) throws {
        let node = try #require(try YAML.parse(text, source: "t.yaml"))
        #expect(node["a"]?.string == "1")
    }

    @Test("quoted scalars stay strings")
    func quotedScalars() throws {
        let node = try #require(try YAML.parse("a: \"true\"\nb: true\nc: '0644'\nd: 0644\ne: yes\n", source: "t.yaml"))
        #expect(node["a"]?.scalarKind == .string)
        #expect(node["a"]?.scalarStyle == .doubleQuoted)
        #expect(node["b"]?.scalarKind == .bool)
        #expect(node["b"]?.bool == true)
        #expect(node["c"]?.scalarKind == .string)
        #expect(node["d"]?.scalarKind == .int)
        #expect(node["e"]?.bool == true)
        #expect(node["a"] != node["b"])
    }

    @Test("plain scalar types", arguments: [
        ("~", YAMLScalarKind.null), ("null", .null), ("", .null), ("off", .bool), ("Y", .bool),
        ("12", .int), ("-0x1F", .int), ("0o17", .int), ("1_000", .int), ("1:30", .int),
        ("1.5", .float), (".5", .float), ("1e3", .float), ("-.inf", .float), (".NaN", .float),
        ("2001-12-14", .timestamp), ("2001-12-14T21:59:43Z", .timestamp), ("<<", .mergeKey),
        ("1h", .string), ("10m", .string), ("v1.34.1+k3s1", .string), ("1.2.3", .string), ("e3", .string),
        ("0x", .string), ("abc", .string), ("harbor.example.com", .string), ("+", .string), (".", .string),
    ])
    func plainTypes(text: String, kind: YAMLScalarKind) {
        #expect(YAMLScalarKind.resolve(plain: text) == kind)
    }

    @Test("JSON input parses as YAML")
    func jsonInput() throws {
        let text = "{\n\t\"apiVersion\": \"v1\",\n\t\"n\": 5,\n\t\"list\": [\"a\", true, null],\n\t\"o\": {}\n}\n"
        let node = try #require(try YAML.parse(text, source: "t.json"))
        #expect(node["apiVersion"]?.string == "v1")
        #expect(node["n"]?.scalarKind == .int)
        #expect(node["list"]?.sequence?.count == 3)
        #expect(node["list"]?.sequence?[1].bool == true)
        #expect(node["list"]?.sequence?[2].isNull == true)
        #expect(node["o"]?.mapping?.isEmpty == true)
    }

    @Test("JSON string escapes decode")
    func jsonEscapes() throws {
        // Swift's JSONEncoder, among others, writes "/" as "\/" unless told not to.
        let node = try #require(try YAML.parse(#"{"path": "\/var\/lib", "e": "\u00e9\t\"q\""}"#, source: "t.json"))
        #expect(node["path"]?.string == "/var/lib")
        #expect(node["e"]?.string == "é\t\"q\"")
    }

    @Test("aliases expand to the anchored node")
    func aliases() throws {
        let node = try #require(try YAML.parse("a: &x [1, 2]\nb: *x\nc: &s text\nd: *s\n", source: "t.yaml"))
        #expect(node["b"] == node["a"])
        #expect(node["d"]?.string == "text")
    }

    @Test("merge keys add keys not set explicitly")
    func mergeKeys() throws {
        let text = "base: &b {x: 1, y: 2}\nother: &o {z: 3}\nm:\n  <<: [*b, *o]\n  y: 9\n"
        let node = try #require(try YAML.parse(text, source: "t.yaml"))
        let merged = try #require(node["m"]?.mapping)
        #expect(merged.map(\.key) == ["x", "z", "y"])
        #expect(node["m"]?["y"]?.string == "9")
    }

    @Test("tags str and core types")
    func tags() throws {
        let node = try #require(try YAML.parse("a: !!str 123\nb: ! true\nc: !!int 5\nd: !!map {k: v}\n", source: "t.yaml"))
        #expect(node["a"]?.scalarKind == .string)
        #expect(node["a"]?.string == "123")
        #expect(node["b"]?.scalarKind == .string)
        #expect(node["c"]?.scalarKind == .int)
        #expect(node["d"]?["k"]?.string == "v")
    }

    @Test("UTF-8 byte order mark is skipped")
    func byteOrderMark() throws {
        let node = try #require(try YAML.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("a: b\n".utf8), source: "t.yaml"))
        #expect(node["a"]?.string == "b")
    }

    @Test("every fixture parses", arguments: try fixturePaths(under: "k3s-config") + fixturePaths(under: "provider-config"))
    func fixtures(path: String) throws {
        // Sources: each fixture's own header names the upstream repository or issue it comes from.
        let node = try YAML.parse(fixture(path), source: path)
        #expect(node?.mapping?.isEmpty == false)
    }

    @Test("harbor provider fixture values")
    func harborFixture() throws {
        // Source: container-registry/harbor-workload-identity-federation,
        // examples/kubernetes/k8s_credential_provider_config.yaml.
        let node = try #require(try YAML.parse(fixture("provider-config/harbor-tokenattributes.yaml"), source: "harbor"))
        let provider = try #require(node["providers"]?.sequence?.first)
        #expect(provider["name"]?.string == "credential-provider-harbor")
        #expect(provider["tokenAttributes"]?["requireServiceAccount"]?.bool == true)
        #expect(provider["defaultCacheDuration"]?.scalarStyle == .doubleQuoted)
    }
}
