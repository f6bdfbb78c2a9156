#if canImport(Glibc)
import Glibc
#endif

/// `harbor-keyless pause`: sleeps until SIGTERM or SIGINT, then exits 0. The uninstall
/// DaemonSet's main container runs it after its init container removed the provider, because
/// the scratch image has no shell or `sleep`. As PID 1 of its container the process must
/// handle SIGTERM itself: the kernel drops signals that PID 1 leaves at their default action.
let pauseCommand = Command(
    name: "pause",
    summary: "Sleep until terminated (the uninstall DaemonSet's main container).",
    usage: "harbor-keyless pause",
    options: [],
    run: { _ in
        signal(SIGTERM) { _ in _exit(0) }
        signal(SIGINT) { _ in _exit(0) }
        while true {
            Glibc.pause()
        }
    }
)
