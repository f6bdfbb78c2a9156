import FoundationEssentials
import HostFiles
import K3sConfig

/// Where the credential provider files are on this node, read from the k3s configuration
/// files the way k3s merges them.
struct HostLayout: Sendable {
    /// k3s defaults for both credential provider flags (k3s v1.21.1+, pkg/cli/cmds/agent.go).
    static let defaultBinDirectory = "/var/lib/rancher/credentialprovider/bin"
    static let defaultProviderConfig = "/var/lib/rancher/credentialprovider/config.yaml"
    static let binDirectoryKey = K3sConfigFiles.credentialProviderBinDirKey
    static let providerConfigKey = K3sConfigFiles.credentialProviderConfigKey

    var k3sConfigPath: String
    var dropInDirectory: String { k3sConfigPath + ".d" }
    var dropInPath: String { dropInDirectory + "/" + K3sConfigFiles.dropInFileName }

    /// Paths harbor-keyless installs to: the operator's, when their own files set them,
    /// else the k3s defaults.
    var binDirectory: String
    var providerConfig: String
    var operatorChosePaths: Bool

    /// Every file k3s reads, ours included, merged.
    var effective: K3sEffectiveConfig
    var dropInExists: Bool

    var executableNames: [String] = []

    func executable(named name: String) -> String { binDirectory + "/" + name }

    /// Reads and merges the k3s configuration files under `root`.
    static func read(root: HostRoot, k3sConfigPath: String) throws(CheckFailure) -> HostLayout {
        let main = try readText(root, k3sConfigPath).map { K3sConfigFile(name: k3sConfigPath, text: $0) }
        let directory = k3sConfigPath + ".d"
        let names: [String]
        do {
            names = try root.list(directory) ?? []
        } catch {
            throw CheckFailure("cannot list \(directory): \(error)")
        }
        var dropIns: [K3sConfigFile] = []
        for name in K3sConfigFiles.dropInNames(names) {
            let path = directory + "/" + name
            if let text = try readText(root, path) {
                dropIns.append(K3sConfigFile(name: path, text: text))
            }
        }
        let ours = directory + "/" + K3sConfigFiles.dropInFileName

        let operatorConfig: K3sEffectiveConfig
        let effective: K3sEffectiveConfig
        do {
            operatorConfig = try K3sConfigFiles.merge(main: main, dropIns: dropIns.filter { $0.name != ours })
            effective = try K3sConfigFiles.merge(main: main, dropIns: dropIns)
        } catch {
            throw CheckFailure("the k3s configuration is invalid, so k3s will not start: \(error)")
        }

        let binSet = operatorConfig.value(forKey: binDirectoryKey)?.string
        let configSet = operatorConfig.value(forKey: providerConfigKey)?.string
        return HostLayout(
            k3sConfigPath: k3sConfigPath,
            binDirectory: binSet ?? defaultBinDirectory,
            providerConfig: configSet ?? defaultProviderConfig,
            operatorChosePaths: binSet != nil || configSet != nil,
            effective: effective,
            dropInExists: dropIns.contains { $0.name == ours }
        )
    }

    static func readText(_ root: HostRoot, _ path: String) throws(CheckFailure) -> String? {
        let bytes: [UInt8]?
        do {
            bytes = try root.read(path)
        } catch {
            throw CheckFailure("cannot read \(path): \(error)")
        }
        guard let bytes else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CheckFailure("\(path) is not UTF-8 text")
        }
        return text
    }
}

/// A fact that could not be read, with the reason.
struct CheckFailure: Error, Sendable, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
