/// One subcommand: its name, a one-line summary for `help`, usage, options and body.
struct Command: Sendable {
    var name: String
    var summary: String
    var usage: String
    var options: [OptionSpec]
    /// Runs the command and returns the exit status.
    var run: @Sendable (ParsedOptions) async throws -> Int32
}

/// Exit statuses: 0 success, 1 failure, 64 usage error (sysexits.h EX_USAGE).
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
}

extension Command {
    /// Help text for `harbor-keyless COMMAND --help`.
    var help: String {
        var text = "\(summary)\n\nusage: \(usage)\n"
        if !options.isEmpty {
            text += "\noptions:\n"
            let width = options.map { optionLabel($0).count }.max() ?? 0
            for option in options {
                let label = optionLabel(option)
                text += "  " + label + String(repeating: " ", count: width - label.count + 2) + option.help + "\n"
            }
        }
        return text
    }

    private func optionLabel(_ option: OptionSpec) -> String {
        "--\(option.name)" + (option.valueName.map { " \($0)" } ?? "")
    }
}
