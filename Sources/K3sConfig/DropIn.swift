import YAML

extension K3sConfigFiles {
    /// The k3s flag that names the directory the kubelet execs credential provider binaries from.
    public static let credentialProviderBinDirKey = "image-credential-provider-bin-dir"
    /// The k3s flag that names the kubelet's CredentialProviderConfig file.
    public static let credentialProviderConfigKey = "image-credential-provider-config"

    /// The default drop-in file harbor-keyless writes. The `99-` prefix makes k3s read it after the
    /// operator's own drop-ins.
    public static let dropInFileName = "99-credential-provider-harbor.yaml"

    /// Renders the drop-in harbor-keyless writes. It sets only the two credential provider flags:
    /// both are agent flags that `k3s server` accepts too, and `k3s agent` exits on any
    /// server-only key, so one file fits every node.
    public static func renderDropIn(binDir: String, configPath: String) -> String {
        let header = """
            # Managed by harbor-keyless; local changes are overwritten.
            # Points the kubelet embedded in k3s at the Harbor credential provider. k3s reads this
            # file only at start-up, so a change takes effect after k3s restarts.

            """
        let body = YAMLNode.mapping([
            YAMLPair(key: credentialProviderBinDirKey, value: .string(binDir)),
            YAMLPair(key: credentialProviderConfigKey, value: .string(configPath)),
        ])
        if let emitted = try? YAML.emit(body) { return header + emitted }

        // libyaml fails here only when it cannot allocate memory; JSON-style quoting is valid YAML.
        return header + "\(credentialProviderBinDirKey): \(doubleQuoted(binDir))\n"
            + "\(credentialProviderConfigKey): \(doubleQuoted(configPath))\n"
    }

    private static func doubleQuoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
