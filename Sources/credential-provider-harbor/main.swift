// The kubelet exec plugin: reads a CredentialProviderRequest on standard input and writes
// the CredentialProviderResponse to standard output, nothing else. Diagnostics go to
// standard error. Exit status: 0 success, 1 request error, 64 usage error (sysexits EX_USAGE).
import CredentialProvider
import FoundationEssentials
import Glibc

let usage = """
    Usage: \(CredentialProviderPlugin.name) [--username=NAME]

    Kubelet image credential provider (credentialprovider.kubelet.k8s.io/v1). Reads a
    CredentialProviderRequest on standard input and returns the pod's service account token
    as the Basic-auth password for the image's registry.

    Options:
      --username=NAME  Basic-auth user name to return (default: \(CredentialProviderPlugin.defaultUsername))
      --version        Print the version and exit
      --help           Print this help and exit

    """

enum Command {
    case answer(username: String)
    case printVersion
    case printHelp
}

struct UsageError: Error {
    var message: String
}

func parseArguments(_ arguments: ArraySlice<String>) throws(UsageError) -> Command {
    var username = CredentialProviderPlugin.defaultUsername
    var remaining = arguments
    while let argument = remaining.popFirst() {
        switch argument {
        case "--help", "-h":
            return .printHelp
        case "--version":
            return .printVersion
        case "--username":
            guard let value = remaining.popFirst() else {
                throw UsageError(message: "option --username needs a value")
            }
            username = value
        case _ where argument.hasPrefix("--username="):
            username = String(argument.dropFirst("--username=".count))
        default:
            throw UsageError(message: "unknown argument \"\(argument)\"")
        }
    }
    guard CredentialProviderPlugin.isValidUsername(username) else {
        throw UsageError(message: "invalid --username \"\(username)\": it must be non-empty and contain no \":\" or control characters")
    }
    return .answer(username: username)
}

/// Reads standard input to its end, stopping one byte past `limit` so an oversized request
/// is detected without buffering all of it.
func readStandardInput(limit: Int) throws(PluginIOError) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while bytes.count <= limit {
        let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
        if count == 0 { break }
        if count < 0 {
            if errno == EINTR { continue }
            throw PluginIOError(operation: "read standard input", code: errno)
        }
        bytes += chunk[..<count]
    }
    return bytes
}

func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(PluginIOError) {
    var offset = 0
    while offset < bytes.count {
        let count = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw PluginIOError(operation: "write standard output", code: errno)
        }
        offset += count
    }
}

struct PluginIOError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

func printError(_ message: String) {
    try? writeAll(Array("\(CredentialProviderPlugin.name): error: \(message)\n".utf8), to: STDERR_FILENO)
}

func run() -> Int32 {
    let command: Command
    do {
        command = try parseArguments(CommandLine.arguments.dropFirst())
    } catch {
        printError(error.message)
        try? writeAll(Array(usage.utf8), to: STDERR_FILENO)
        return 64
    }

    switch command {
    case .printHelp:
        return (try? writeAll(Array(usage.utf8), to: STDOUT_FILENO)) == nil ? 1 : 0
    case .printVersion:
        let line = "\(CredentialProviderPlugin.name) \(CredentialProviderPlugin.version)\n"
        return (try? writeAll(Array(line.utf8), to: STDOUT_FILENO)) == nil ? 1 : 0
    case .answer(let username):
        do {
            let request = try readStandardInput(limit: CredentialProviderPlugin.maxRequestBytes)
            let response = try CredentialProviderPlugin.handle(requestBytes: request, username: username, now: Date())
            try writeAll(response, to: STDOUT_FILENO)
            return 0
        } catch let error as PluginError {
            printError(error.description)
        } catch {
            printError("\(error)")
        }
        return 1
    }
}

exit(run())
