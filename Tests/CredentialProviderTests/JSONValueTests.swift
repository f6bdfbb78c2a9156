import Foundation
import Testing

@testable import CredentialProvider

// Cases in the style of RFC 8259 and the JSONTestSuite y_/n_ files: what a conforming
// parser must accept and reject.
@Suite("JSON reader and writer")
struct JSONValueTests {
    @Test("valid documents", arguments: [
        (#"{}"#, JSONValue.object([:])),
        (#" [ ] "#, .array([])),
        (#"{"a":"b","a":"c"}"#, .object(["a": .string("c")])),
        (#"[1,-0,2.5e-3,1E+2,true,false,null]"#, .array([.number("1"), .number("-0"), .number("2.5e-3"), .number("1E+2"), .bool(true), .bool(false), .null])),
        (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{8}\u{c}\n\r\t")),
        (#""\u00e9\u263a\ud83d\ude00""#, .string("é☺😀")),
        ("\"é☺\"", .string("é☺")),
        (#"{"a":{"b":[{"c":null}]}}"#, .object(["a": .object(["b": .array([.object(["c": .null])])])])),
    ])
    func validDocuments(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(Array(text.utf8)) == expected)
    }

    @Test("invalid documents", arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "[01]", "[1.]", "[.5]", "[1e]", "[-]",
        "[+1]", "[NaN]", "[Infinity]", "tru", "nul", #""abc"#, "\"a\u{1}b\"", #""\x""#, #""\u12""#, #""\ud800""#,
        #""\ud800\u0041""#, #""\udc00""#, "{} {}", "[1] x", "'a'", "[1,,2]", #"{"a":1 "b":2}"#,
        String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    ])
    func invalidDocuments(text: String) {
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 in a string is rejected")
    func invalidUTF8() {
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse([0x22, 0xff, 0x22]) }
    }

    @Test("nesting up to the maximum depth is accepted")
    func maximumDepth() throws {
        let text = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test("integer values of numbers", arguments: [
        ("1800000000", Optional(1_800_000_000)), ("1800000000.9", Optional(1_800_000_000)), ("-1.5", Optional(-2)),
        ("1.8e9", Optional(1_800_000_000)), ("9223372036854775807", Optional(Int.max)), ("1e300", nil),
    ] as [(String, Int?)])
    func integerValues(text: String, expected: Int?) {
        #expect(JSONValue.number(text).integerValue == expected)
    }

    static let tricky = ["plain", "a/b", "quote \" and backslash \\", "line\nbreak\ttab\rreturn", "é ☺ 😀", "", "\u{7f}"]

    @Test("writer output equals JSONEncoder's with sorted keys", arguments: tricky)
    func writerMatchesJSONEncoder(text: String) throws {
        let response = CredentialProviderResponse(
            cacheKeyType: .image, cacheDuration: text,
            auth: [text + ".example.com": AuthConfig(username: text, password: text), "b.example.com": AuthConfig(username: "u", password: "p")])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try encoder.encode(response)
        #expect(Data(CredentialProviderPlugin.encode(response)) == expected)
    }

    @Test("control characters round trip through the writer")
    func controlCharactersRoundTrip() throws {
        let text = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        var output: [UInt8] = []
        appendJSONString(text, to: &output)
        #expect(try JSONValue.parse(output) == .string(text))
        #expect(try JSONDecoder().decode(String.self, from: Data(output)) == text)
    }
}
