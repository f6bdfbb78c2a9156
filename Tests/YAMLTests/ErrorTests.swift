import Testing
@testable import YAML

@Suite("YAML.parse errors")
struct ErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var text: String
        var line: Int
        var column: Int
        var messagePart: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "tab indentation", text: "a:\n\tb: c\n", line: 2, column: 1, messagePart: "not tabs"),
        Case(name: "unclosed double quote", text: "a: \"abc\nb: c\n", line: 3, column: 1, messagePart: "unexpected end of stream"),
        Case(name: "unclosed single quote", text: "a: 'abc\n", line: 2, column: 1, messagePart: "unexpected end of stream"),
        Case(name: "duplicate key", text: "a: 1\nb: 2\na: 3\n", line: 3, column: 1, messagePart: "duplicate key \"a\" (first set at line 1, column 1)"),
        Case(name: "two documents", text: "a: 1\n---\nb: 2\n", line: 2, column: 1, messagePart: "a second YAML document"),
        Case(name: "mapping value in scalar", text: "a: b: c\n", line: 1, column: 5, messagePart: "mapping values are not allowed"),
        Case(name: "undefined alias", text: "a: *nope\n", line: 1, column: 4, messagePart: "alias *nope names no anchor"),
        Case(name: "unknown tag", text: "a: !custom x\n", line: 1, column: 4, messagePart: "unsupported tag !custom"),
        Case(name: "mapping as key", text: "? {a: 1}\n: x\n", line: 1, column: 3, messagePart: "a mapping key must be a scalar"),
        Case(name: "bad merge value", text: "a:\n  <<: 5\n", line: 2, column: 3, messagePart: "merge key"),
        Case(name: "control character", text: "a: b\u{01}\n", line: 1, column: 5, messagePart: "control characters are not allowed"),
    ]

    @Test("malformed input names the place", arguments: cases)
    func malformed(testCase: Case) {
        #expect {
            try YAML.parse(testCase.text, source: "in.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.source == "in.yaml" && error.line == testCase.line && error.column == testCase.column
                && error.message.contains(testCase.messagePart)
        }
    }

    @Test("error description has source, line and column")
    func description() {
        let error = YAMLError(source: "/etc/rancher/k3s/config.yaml", line: 3, column: 7, message: "duplicate key")
        #expect(error.description == "/etc/rancher/k3s/config.yaml:3:7: duplicate key")
    }

    @Test("invalid UTF-8 names the byte")
    func invalidUTF8() {
        #expect {
            try YAML.parse(bytes: Array("a: b\nc: ".utf8) + [0xFF, 0x0A], source: "in.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.line == 2 && error.column == 4 && error.message.contains("0xFF")
        }
    }

    @Test("input over the size limit")
    func sizeLimit() {
        #expect {
            try YAML.parse(String(repeating: "a", count: 100), source: "in.yaml", limits: YAMLLimits(maxInputBytes: 10))
        } throws: { error in
            (error as? YAMLError)?.message.contains("more than the limit of 10 bytes") == true
        }
    }

    @Test("nesting over the depth limit")
    func depthLimit() {
        let text = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect {
            try YAML.parse(text, source: "in.yaml")
        } throws: { error in
            (error as? YAMLError)?.message.contains("deeper than 64 levels") == true
        }
    }

    @Test("alias expansion over the node limit")
    func billionLaughs() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
            previous = name
        }
        #expect {
            try YAML.parse(text, source: "in.yaml")
        } throws: { error in
            (error as? YAMLError)?.message.contains("more than 100000 nodes") == true
        }
    }
}

@Suite("YAML.parse duplicate keys")
struct DuplicateKeyTests {
    @Test("keepAll keeps every entry in order")
    func keepAll() throws {
        let node = try #require(try YAML.parse("a: 1\nb: 2\na: 3\n", source: "in.yaml", duplicateKeys: .keepAll))
        #expect(node.mapping?.map(\.key) == ["a", "b", "a"])
        #expect(node["a"]?.string == "3")
    }
}
