import Agent
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Entry point: picks the command, parses its options, maps errors to exit statuses.
func main(_ arguments: [String]) async -> Int32 {
    guard let name = arguments.first, name != "help", name != "--help", name != "-h" else {
        let topic = arguments.dropFirst().first
        if let topic, let command = commands.first(where: { $0.name == topic }) {
            print(command.help, terminator: "")
        } else {
            print(overview, terminator: "")
        }
        return arguments.isEmpty ? ExitStatus.usage : ExitStatus.success
    }
    if name == "--version" {
        print("harbor-keyless \(AgentVersion.current)")
        return ExitStatus.success
    }
    guard let command = commands.first(where: { $0.name == name }) else {
        printError("unknown command \(name.debugDescription)")
        printError(overview)
        return ExitStatus.usage
    }

    let words = Array(arguments.dropFirst())
    if words.contains("--help") || words.contains("-h") {
        print(command.help, terminator: "")
        return ExitStatus.success
    }
    do {
        let options = try ParsedOptions.parse(words, specs: command.options)
        if let extra = options.arguments.first {
            throw UsageError("unexpected argument \(extra.debugDescription)")
        }
        return try await command.run(options)
    } catch let error as UsageError {
        printError("error: \(error)")
        printError("usage: \(command.usage)  (see harbor-keyless \(command.name) --help)")
        return ExitStatus.usage
    } catch let error as ConfigurationError {
        printError("error: \(error.message)\n  fix: \(error.fix)")
        return ExitStatus.usage
    } catch let failure as RestartFailure {
        for step in failure.steps {
            printError("  \(step.passed ? "ok  " : "FAIL") \(step.name): \(step.detail)")
        }
        printError("error: \(failure)")
        return ExitStatus.failure
    } catch {
        printError("error: \(error)")
        return ExitStatus.failure
    }
}

let overview: String = {
    var text = "harbor-keyless \(AgentVersion.current): prepares a k3s node for image pulls from Harbor with service account tokens.\n\nusage: harbor-keyless COMMAND [options]\n\ncommands:\n"
    for command in commands {
        text += "  " + command.name + String(repeating: " ", count: 12 - command.name.count) + command.summary + "\n"
    }
    text += "  help        Print this overview, or a command's help with `help COMMAND`.\n"
    return text
}()

/// Writes one message to standard error, unbuffered.
func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    var bytes = Array(line.utf8)[...]
    while !bytes.isEmpty {
        let count = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes = bytes.dropFirst(count)
    }
}

exit(await main(Array(CommandLine.arguments.dropFirst())))
