import Agent

/// Options of commands that may restart k3s.
enum RestartOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(name: "force", valueName: nil, help: "apply a configuration k3s rejected before, or remove executables without a restart"),
        OptionSpec(name: "settle-window", valueName: "DURATION", help: "how long k3s must stay up unchanged after a restart (default 60s, at least 5s)"),
        OptionSpec(name: "restart-timeout", valueName: "DURATION", help: "how long to wait for systemd's restart job (default 5m)"),
    ]

    static func settings(_ options: ParsedOptions) throws -> RestartSettings {
        var settings = RestartSettings()
        if let text = options.value("settle-window") {
            settings.settleWindow = try duration(text, option: "settle-window")
            // A shorter window ends before a kubelet has checked its provider config, which
            // turns verification off.
            guard settings.settleWindow >= RestartSettings.minimumSettleWindow else {
                throw UsageError("--settle-window \(text) is shorter than the minimum of \(RestartSettings.minimumSettleWindow)")
            }
        }
        if let text = options.value("restart-timeout") {
            settings.jobTimeout = try duration(text, option: "restart-timeout")
        }
        return settings
    }

    private static func duration(_ text: String, option: String) throws -> Duration {
        guard let seconds = Durations.seconds(text) else {
            throw UsageError("--\(option) \(text.debugDescription) is not a duration; use a Go duration such as 30s or 2m")
        }
        return .milliseconds(Int64(seconds * 1000))
    }
}
