internal import HostFiles

/// One host file the install writes, replaces or removes.
public struct PlannedFile: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case executable = "plugin executable"
        case providerConfig = "provider config"
        case dropIn = "k3s drop-in"
    }

    public enum Action: String, Sendable {
        case create = "created"
        case update = "updated"
        case unchanged
        case remove = "removed"
    }

    public var kind: Kind
    public var path: String
    public var action: Action
    /// Desired bytes of the provider config and the drop-in; nil for executables, which are
    /// copied from `plugin`, and for removals.
    public var contents: [UInt8]?
    public var mode: UInt32
    /// The executable an executable entry is copied from; nil for other files and removals.
    public var plugin: PluginExecutable? = nil

    /// The kubelet reads the provider config and k3s reads the drop-in only at start-up, so
    /// only their changes need a restart. The kubelet execs the plugin on every pull, so a new
    /// executable takes effect without one.
    public var needsRestart: Bool { kind != .executable && action != .unchanged }
}

/// The changes `install` or `uninstall` would make on this node, computed without changing anything.
public struct InstallPlan: Sendable {
    public var paths: NodePaths
    public var kubernetesVersion: String
    /// `major.minor` of that version: what decides whether a kubelet accepts the config.
    public var kubernetesMinorRelease: String = ""
    /// Source of the version, for messages: the k3s binary's path or the configured version.
    public var kubernetesVersionSource: String
    public var providerNames: [String]
    /// Files in the order they must be applied: executables before the config that names
    /// them, the config before the drop-in that points k3s at it, removals of executables
    /// after the config stopped naming them.
    public var files: [PlannedFile]
    /// Things the operator should know that do not stop the install.
    public var warnings: [String]

    public var needsRestart: Bool { files.contains(where: \.needsRestart) }

    /// SHA-256 over what the kubelet reads at start-up (the provider config, then the
    /// drop-in), as planned, and the Kubernetes version it was rendered for. A configuration
    /// k3s rejected is remembered by this digest, so a k3s upgrade allows another attempt.
    public var configurationDigest: String {
        var parts: [[UInt8]] = [Array("kubernetes \(kubernetesMinorRelease)\n".utf8)]
        for kind in [PlannedFile.Kind.providerConfig, .dropIn] {
            let contents = files.first { $0.kind == kind }?.contents ?? []
            parts.append(Array("\(kind.rawValue) \(contents.count)\n".utf8))
            parts.append(contents)
        }
        return ContentDigest.sha256(parts: parts)
    }
    public var changesFiles: Bool { files.contains { $0.action != .unchanged } }
}
