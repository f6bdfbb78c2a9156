/// Paths of the credential provider files on this node, and the files that chose them.
public struct NodePaths: Sendable, Equatable {
    /// k3s defaults for both credential provider flags (k3s v1.21.1+, pkg/cli/cmds/agent.go).
    public static let defaultBinDirectory = "/var/lib/rancher/credentialprovider/bin"
    public static let defaultProviderConfig = "/var/lib/rancher/credentialprovider/config.yaml"
    public static let binDirectoryKey = "image-credential-provider-bin-dir"
    public static let providerConfigKey = "image-credential-provider-config"

    /// The k3s configuration file and its drop-in directory (`<file>.d`).
    public var k3sConfig: String
    public var dropInDirectory: String { k3sConfig + ".d" }

    /// Our drop-in. The `99-` prefix sorts it after the drop-ins operators usually write, and
    /// k3s reads drop-ins in file-name order with the last file winning per key.
    public var dropIn: String { dropInDirectory + "/99-credential-provider-harbor.yaml" }

    public var binDirectory: String
    public var providerConfig: String

    /// The file that set each path, when the operator's own k3s configuration set it. Then we
    /// merge into their paths and write no drop-in, which would override their choice.
    public var binDirectorySetBy: String?
    public var providerConfigSetBy: String?

    /// The k3s unit file found on the node, when there is exactly one.
    public var unit: String?

    public var operatorChosePaths: Bool { binDirectorySetBy != nil || providerConfigSetBy != nil }

    public func executable(named name: String) -> String { binDirectory + "/" + name }
}
