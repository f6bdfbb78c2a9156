/// The options a k3s systemd unit passes to k3s on its command line: the parts that decide where
/// the kubelet looks for credential providers. Real command-line flags win over every
/// configuration file (k3s pkg/configfilearg), so they must be read, not only the files.
public struct K3sServiceCommand: Sendable, Equatable {
    /// `server` or `agent`, when the command names one.
    public var subcommand: String?
    /// `--config`/`-c`: the configuration file k3s reads instead of the default.
    public var configFile: String?
    /// `--image-credential-provider-bin-dir` and `--image-credential-provider-config`.
    public var providerBinDir: String?
    public var providerConfig: String?
    /// Every `--kubelet-arg` item, in order.
    public var kubeletArgs: [String] = []

    public init() {}

    /// Returns the executable of the last `ExecStart=` of a unit file, without systemd's
    /// `-@:+!` prefixes.
    public static func executable(unitFile text: String) -> String? {
        guard let words = execStartWords(text), let first = words.first else { return nil }
        return String(first.drop { "-@:+!".contains($0) })
    }

    /// Reads the last `ExecStart=` of a unit file. Returns nil when there is none.
    public static func parse(unitFile text: String) -> K3sServiceCommand? {
        execStartWords(text).map { parse(words: $0) }
    }

    /// Returns the words of the last `ExecStart=`, or nil when there is none.
    static func execStartWords(_ text: String) -> [String]? {
        // Join continuation lines, then keep the last ExecStart= (a later one replaces an
        // earlier one in a drop-in; an empty one resets).
        var logical: [String] = []
        var current = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasSuffix("\\") {
                current += line.dropLast() + " "
            } else {
                logical.append(current + line)
                current = ""
            }
        }
        if !current.isEmpty { logical.append(current) }

        var execStart: String?
        for line in logical {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("ExecStart=") else { continue }
            let value = trimmed.dropFirst("ExecStart=".count)
            execStart = value.allSatisfy({ $0 == " " }) ? nil : String(value)
        }
        return execStart.map(splitWords)
    }

    /// Reads k3s arguments; the first word is the executable (with systemd's `-@:+!` prefixes).
    public static func parse(words: [String]) -> K3sServiceCommand {
        var command = K3sServiceCommand()
        var index = 1
        func value(_ word: String, _ name: String) -> String? {
            if word.hasPrefix(name + "=") { return String(word.dropFirst(name.count + 1)) }
            if word == name, index + 1 < words.count {
                index += 1
                return words[index]
            }
            return nil
        }
        while index < words.count {
            let word = words[index]
            if command.subcommand == nil, word == "server" || word == "agent" {
                command.subcommand = word
            } else if let path = value(word, "--config") ?? value(word, "-c") {
                command.configFile = path
            } else if let path = value(word, "--image-credential-provider-bin-dir") {
                command.providerBinDir = path
            } else if let path = value(word, "--image-credential-provider-config") {
                command.providerConfig = path
            } else if let item = value(word, "--kubelet-arg") {
                command.kubeletArgs.append(item)
            }
            index += 1
        }
        return command
    }

    /// Splits a systemd command line into words: whitespace separates, single and double
    /// quotes group, a backslash escapes the next character (systemd.service(5), "Command
    /// lines"). Specifiers such as `%n` are left as they are.
    static func splitWords(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                word.append(character)
                escaped = false
                continue
            }
            if character == "\\" {
                escaped = true
                inWord = true
                continue
            }
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
                continue
            }
            if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}

/// Reads `K3S_CONFIG_FILE` from a unit's environment file (`KEY=value` lines, optional
/// quotes), which k3s honours like `--config`.
public func k3sConfigFile(fromEnvironmentFile text: String) -> String? {
    for line in text.split(separator: "\n") {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("K3S_CONFIG_FILE=") else { continue }
        var value = String(trimmed.dropFirst("K3S_CONFIG_FILE=".count))
        if value.count >= 2, let first = value.first, first == value.last, first == "'" || first == "\"" {
            value = String(value.dropFirst().dropLast())
        }
        return value.isEmpty ? nil : value
    }
    return nil
}
