import Glibc

extension HostRoot {
    /// Returns the bytes an unprivileged writer may still use on the file system holding
    /// `directory` (statvfs `f_bavail`), from its nearest existing ancestor when it does
    /// not exist yet.
    public func availableBytes(_ directory: String) throws(HostFileError) -> Int {
        var path = directory
        while true {
            if case .directory(let descriptor) = try walk(path, operation: "check free space", target: .directory(create: nil)) {
                var stats = statvfs()
                guard fstatvfs(descriptor.raw, &stats) == 0 else {
                    throw error(.system, "check free space", path, errno: errno)
                }
                let (bytes, overflow) = Int(stats.f_bavail).multipliedReportingOverflow(by: Int(stats.f_frsize))
                return overflow ? Int.max : bytes
            }
            guard let slash = path.lastIndex(of: "/"), path != "/" else { return Int.max }
            path = slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }
}
