internal import YAML

/// One host path the agent's pod mounts under `/host`. Directories only, except
/// `/etc/machine-id`: the agent replaces files by renaming a temporary file over them, and a
/// rename onto a file that is itself a bind mount fails with EBUSY.
struct HostMount: Equatable {
    var volumeName: String
    var hostPath: String
    /// hostPath volume type: `Directory` and `File` make the pod fail to start when the path
    /// is missing, `DirectoryOrCreate` creates an empty directory.
    var type: String
    var readOnly: Bool

    var mountPath: String { DaemonSetManifest.hostRoot + hostPath }
}

enum HostMounts {
    /// Returns the host paths the agent touches on the node, and nothing else. Never `/`.
    static func agent(_ configuration: AgentConfiguration) -> [HostMount] {
        [
            // The k3s config file (read) and its config.yaml.d drop-in directory (written).
            HostMount(volumeName: "k3s-config", hostPath: parentDirectory(configuration.k3sConfigPath), type: "DirectoryOrCreate", readOnly: false),
            // The plugin executables and the CredentialProviderConfig.
            // NOTE: a k3s config that sets image-credential-provider-bin-dir or -config to
            // another directory needs that directory mounted too.
            HostMount(volumeName: "credential-provider", hostPath: "/var/lib/rancher/credentialprovider", type: "DirectoryOrCreate", readOnly: false),
            // Agent state: pending restarts, rejected configurations, backups, the lock.
            HostMount(volumeName: "state", hostPath: configuration.stateDirectory, type: "DirectoryOrCreate", readOnly: false),
            // The system bus socket, for restarting k3s through systemd.
            HostMount(volumeName: "dbus", hostPath: "/run/dbus", type: "Directory", readOnly: false),
            // The journal, to find the kubelet's verdict on a new provider config. A node
            // without a persistent journal gets an empty /var/log/journal.
            // NOTE: with journald's default Storage=auto, that empty directory makes the
            // journal persistent from the next boot on.
            HostMount(volumeName: "journal", hostPath: "/var/log/journal", type: "DirectoryOrCreate", readOnly: true),
            HostMount(volumeName: "runtime-journal", hostPath: "/run/log/journal", type: "DirectoryOrCreate", readOnly: true),
            // The one file mount: the journal keeps each machine's files in a directory named
            // after its machine ID, and only the node's /etc/machine-id identifies the
            // node's directory. Read-only and never replaced, so the rename problem does not apply.
            HostMount(volumeName: "machine-id", hostPath: "/etc/machine-id", type: "File", readOnly: true),
            // The k3s binary, run as `k3s --version` to learn which kubelet the next start runs.
            HostMount(volumeName: "k3s-binary", hostPath: "/usr/local/bin", type: "Directory", readOnly: true),
            // The kubelet's drop-in configuration directory (k3s v1.32+), for feature gates
            // an operator set there. k3s creates it, so an empty one made here is harmless.
            HostMount(volumeName: "kubelet-config", hostPath: "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d", type: "DirectoryOrCreate", readOnly: true),
            // Unit files, to detect whether the node runs k3s.service or k3s-agent.service.
            HostMount(volumeName: "systemd-units-etc", hostPath: "/etc/systemd/system", type: "Directory", readOnly: true),
            HostMount(volumeName: "systemd-units-lib", hostPath: "/lib/systemd/system", type: "Directory", readOnly: true),
        ]
    }

    /// `uninstall` edits the same files as `install` and needs nothing to restart k3s.
    static func uninstall(_ configuration: AgentConfiguration) -> [HostMount] {
        agent(configuration).filter { ["k3s-config", "credential-provider", "state"].contains($0.volumeName) }
    }

    static func volumes(_ mounts: [HostMount]) -> [YAMLNode] {
        mounts.map { mount in
            mapping([
                "name": .string(mount.volumeName),
                "hostPath": mapping([
                    "path": .string(mount.hostPath),
                    "type": .string(mount.type),
                ]),
            ])
        }
    }

    static func volumeMounts(_ mounts: [HostMount]) -> [YAMLNode] {
        mounts.map { mount in
            var pairs: [(String, YAMLNode)] = [
                ("name", .string(mount.volumeName)),
                ("mountPath", .string(mount.mountPath)),
            ]
            if mount.readOnly {
                pairs.append(("readOnly", .bool(true)))
            }
            return mapping(pairs)
        }
    }

    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
