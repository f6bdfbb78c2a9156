internal import COpenSSL

/// SHA-256 through OpenSSL's libcrypto (one-shot EVP digest).
enum SHA256 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &output, &length, EVP_sha256(), nil)
        }
        // EVP_Digest fails only when libcrypto cannot allocate or lacks SHA-256; neither
        // happens with a working OpenSSL 3.
        precondition(status == 1 && length == 32, "EVP_Digest(SHA-256) failed")
        return output
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in digest(bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The hash the kubelet (1.34+) exports as `kubelet_credential_provider_config_info{hash}`:
    /// SHA-256 over each config file's contents, each preceded by its length as a big-endian
    /// uint64, in the order the kubelet reads the files (kubernetes
    /// `pkg/credentialprovider/plugin/config.go`).
    static func providerConfigHash(_ files: [[UInt8]]) -> String {
        var input: [UInt8] = []
        for file in files {
            let length = UInt64(file.count)
            for shift in stride(from: 56, through: 0, by: -8) {
                input.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
            input += file
        }
        return "sha256:" + hex(input)
    }
}
