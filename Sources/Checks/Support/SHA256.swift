import HostFiles

/// SHA-256 over provider config files, as the kubelet hashes them.
enum SHA256 {
    /// Computes the hash the kubelet (1.34+) exports as `kubelet_credential_provider_config_info{hash}`:
    /// SHA-256 over each config file's contents, each preceded by its length as a big-endian
    /// uint64, in the order the kubelet reads the files (kubernetes
    /// `pkg/credentialprovider/plugin/config.go`).
    static func providerConfigHash(_ files: [[UInt8]]) -> String {
        var parts: [[UInt8]] = []
        for file in files {
            let length = UInt64(file.count)
            parts.append(stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: length >> UInt64($0)) })
            parts.append(file)
        }
        return "sha256:" + ContentDigest.sha256(parts: parts)
    }
}
