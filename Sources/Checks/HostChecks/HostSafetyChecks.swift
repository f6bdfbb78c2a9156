import FoundationEssentials
import HostFiles
import YAML

extension Check {
    /// No static credential for one of our registries left in registries.yaml.
    static let registriesAuth = Check(
        id: "host.registries-auth", title: "No static registry credentials", area: .host
    ) { context in
        let path = "/etc/rancher/k3s/registries.yaml"
        let text: String?
        do throws(CheckFailure) {
            text = try HostLayout.readText(context.root, path)
        } catch {
            return .warn(error.message, remedy: "check the file's permissions")
        }
        guard let text else { return .pass("\(path) does not exist") }
        let tree: YAMLNode?
        do {
            tree = try YAML.parse(text, source: path)
        } catch {
            return .fail("\(path) is invalid YAML, so k3s does not start: \(error)", remedy: "fix the line named above")
        }
        let configs = tree?["configs"]
        let withAuth = context.setup.registryHosts.filter { configs?[$0]?["auth"] != nil }
        guard withAuth.isEmpty else {
            return .warn(
                "\(path) still holds a static credential (configs.<host>.auth) for \(withAuth.joined(separator: ", ")); containerd can send it in place of the service account token, and a static secret remains on the node",
                remedy: "remove configs.\(withAuth[0]).auth from \(path) (keep any tls settings), then restart k3s"
            )
        }
        return .pass("\(path) holds no static credential for \(context.setup.registryHosts.joined(separator: ", "))")
    }

    /// Not managed by both the .deb service and the DaemonSet.
    static let managedTwice = Check(
        id: "host.managed-twice", title: "Managed by one agent only", area: .host
    ) { context in
        let service = UnitFile.presence(root: context.root, unit: "harbor-keyless.service")
        guard context.inPod else {
            return .pass("running from the host; the DaemonSet's agent runs this same check from its pod")
        }
        if service.enabled {
            return .warn(
                "this DaemonSet pod and the harbor-keyless.service unit enabled on the node both manage the same files and restarts",
                remedy: "keep one: `systemctl disable --now harbor-keyless` and `apt purge harbor-keyless` on the node, or remove the node from the DaemonSet"
            )
        }
        if service.exists {
            return .pass("the harbor-keyless.service unit is installed on the node but not enabled")
        }
        return .pass("no harbor-keyless.service unit on the node")
    }
}
