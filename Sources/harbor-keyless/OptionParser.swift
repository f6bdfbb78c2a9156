/// A command-line option a command accepts.
struct OptionSpec: Sendable {
    var name: String
    /// Placeholder for the value in help text; nil for a flag that takes no value.
    var valueName: String?
    var help: String
    var repeatable = false
}

/// Parsed options of one command: values by option name, in command-line order.
struct ParsedOptions: Sendable {
    private(set) var values: [String: [String]] = [:]
    private(set) var arguments: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String]? { values[name] }
    func flag(_ name: String) -> Bool { values[name] != nil }

    /// Parses `--name value`, `--name=value` and `--flag`. Unknown options, missing values and
    /// a repeated single-value option are usage errors.
    static func parse(_ words: [String], specs: [OptionSpec]) throws(UsageError) -> ParsedOptions {
        var parsed = ParsedOptions()
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" {
                parsed.arguments += words[index...]
                break
            }
            guard word.hasPrefix("--") else {
                parsed.arguments.append(word)
                continue
            }

            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            guard let spec = specs.first(where: { $0.name == name }) else {
                throw UsageError("unknown option --\(name)")
            }

            let value: String
            if spec.valueName == nil {
                if inline != nil { throw UsageError("option --\(name) takes no value") }
                value = ""
            } else if let inline {
                value = inline
            } else {
                // A following option is a forgotten value, not a value that starts with "--".
                guard index < words.count, !words[index].hasPrefix("--") else {
                    throw UsageError("option --\(name) needs a value")
                }
                value = words[index]
                index += 1
            }
            if parsed.values[name] != nil && !spec.repeatable {
                throw UsageError("option --\(name) is given more than once")
            }
            parsed.values[name, default: []].append(value)
        }
        return parsed
    }
}

/// A command line that does not fit the command's usage; exits 64 (EX_USAGE).
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
