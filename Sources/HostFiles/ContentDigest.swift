internal import COpenSSL

/// SHA-256 digests of file contents, through OpenSSL's libcrypto.
public enum ContentDigest {
    /// Returns the digest of `bytes` as 64 lowercase hex digits.
    public static func sha256(_ bytes: [UInt8]) -> String {
        sha256(parts: [bytes])
    }

    /// Returns the digest of the concatenation of `parts`, without building it.
    public static func sha256(parts: [[UInt8]]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var context = SHA256_CTX()
        SHA256_Init(&context)
        for part in parts {
            part.withUnsafeBytes { _ = SHA256_Update(&context, $0.baseAddress, $0.count) }
        }
        SHA256_Final(&digest, &context)
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
