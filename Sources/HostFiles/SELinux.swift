internal import CShims
import Glibc

/// SELinux labelling of written executables.
///
/// A file made by rename keeps the label of its temp file. The policy's type transition for
/// the agent's domain picks that label, not the label the host's file contexts give the
/// path, so the kubelet may be denied executing it. The written executable therefore gets
/// its directory's label, because the policy already lets the kubelet use that directory.
/// `restorecon` on the host would compute the file-context label instead, but that needs
/// libselinux, which harbor-keyless does not link.
enum SELinux {
    static let attribute = "security.selinux"

    /// Returns whether SELinux is enabled in the running kernel, enforcing or permissive.
    ///
    /// selinuxfs reports the kernel's state, which the host and every container share, so
    /// the real `/sys/fs/selinux` is read first: a pod's host root mount need not carry the
    /// host's /sys. The host root's copy is the fallback for a container that hides /sys/fs.
    /// Permissive hosts are labelled too, because switching them to enforcing would
    /// otherwise stop the kubelet from executing an unlabelled provider.
    static func isEnabled(hostRoot: String) -> Bool {
        let candidates = ["/sys/fs/selinux/enforce", hostRoot == "/" ? nil : hostRoot + "/sys/fs/selinux/enforce"]
        for candidate in candidates.compactMap({ $0 }) {
            let fd = open(candidate, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                close(fd)
                return true
            }
        }
        return false
    }

    /// Copies the label of `directory` onto `file`. Returns nil on success, or the reason it failed.
    static func copyLabel(from directory: FileDescriptor, to file: FileDescriptor) -> String? {
        var label = [UInt8](repeating: 0, count: 1024)
        let count = hk_fgetxattr(directory.raw, attribute, &label, label.count)
        guard count > 0 else {
            let code = count == 0 ? ENODATA : errno
            return "the directory has no readable \(attribute) label: \(String(cString: strerror(code)))"
        }
        guard hk_fsetxattr(file.raw, attribute, label, count, 0) == 0 else {
            return "setting \(attribute) failed: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
