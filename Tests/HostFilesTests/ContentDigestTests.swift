import Testing

@testable import HostFiles

@Suite("Content digest")
struct ContentDigestTests {
    /// Test vectors from FIPS 180-2, appendix B.
    @Test(
        "SHA-256 matches the FIPS 180-2 vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ]
    )
    func vectors(input: String, expected: String) {
        #expect(ContentDigest.sha256(Array(input.utf8)) == expected)
    }

    @Test("parts hash like their concatenation")
    func parts() {
        #expect(ContentDigest.sha256(parts: [Array("ab".utf8), Array("c".utf8)]) == ContentDigest.sha256(Array("abc".utf8)))
    }
}
