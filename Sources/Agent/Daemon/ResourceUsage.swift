import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// CPU time and peak memory of this process, for the stop line and the benchmark.
struct ResourceUsage {
    var userSeconds: Double
    var systemSeconds: Double
    /// CPU time of waited-for child processes (`k3s --version`, the plugin run by checks).
    var childrenSeconds: Double
    /// Peak resident set size (VmHWM in /proc/self/status), in KiB.
    var peakResidentKiB: Int?

    static func current() -> ResourceUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        var children = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &children)
        let childrenSeconds = Double(children.ru_utime.tv_sec + children.ru_stime.tv_sec) + Double(children.ru_utime.tv_usec + children.ru_stime.tv_usec) / 1e6
        return ResourceUsage(userSeconds: user, systemSeconds: system, childrenSeconds: childrenSeconds, peakResidentKiB: peakResident())
    }

    private static func peakResident() -> Int? {
        guard let bytes = try? readLocalFile("/proc/self/status") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).split { $0 == " " || $0 == "\t" }.first ?? "")
        }
        return nil
    }
}
