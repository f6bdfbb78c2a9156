import Agent

/// Options of commands that may restart k3s.
enum RestartOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(name: "force", valueName: nil, help: "apply a configuration k3s rejected before, or remove executables without a restart"),
        OptionSpec(name: "settle-window", valueName: "DURATION", help: "how long k3s must stay up unchanged after a restart (default 60s, at least 5s)"),
        OptionSpec(name: "restart-timeout", valueName: "DURATION", help: "how long to wait for systemd's restart job (default 5m, at least 10s)"),
    ]

    /// Shortest `--restart-timeout`. A k3s server takes seconds to start, and a job timeout
    /// that ends before it is up rolls back a good configuration.
    static let minimumRestartTimeout: Duration = .seconds(10)

    static func settings(_ options: ParsedOptions) throws -> RestartSettings {
        var settings = RestartSettings()
        // A shorter settle window ends before a kubelet has checked its provider config, which
        // turns verification off.
        if let text = options.value("settle-window") {
            settings.settleWindow = try Durations.duration(
                text, field: "--settle-window", minimum: RestartSettings.minimumSettleWindow)
        }
        if let text = options.value("restart-timeout") {
            settings.jobTimeout = try Durations.duration(text, field: "--restart-timeout", minimum: minimumRestartTimeout)
        }
        return settings
    }
}
