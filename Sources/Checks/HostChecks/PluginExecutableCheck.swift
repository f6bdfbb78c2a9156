internal import Subprocess
import CredentialProvider
import FoundationEssentials
import HostFiles
import K3sConfig

#if canImport(Glibc)
import Glibc
#endif

extension Check {
    /// Runs each of our executables as the kubelet would, with a synthetic request.
    static let pluginExecutable = Check(
        id: "host.plugin-executable", title: "Provider executables run on this host", area: .host
    ) { context in
        let layout: HostLayout
        switch await context.hostLayout() {
        case .success(let value): layout = value
        case .failure(let error): return .fail(error.message, remedy: "correct the k3s configuration file named above")
        }
        let config = try? ProviderConfigFile.read(context.root, layout.providerConfig)
        var results: [CheckResult] = []
        for provider in context.setup.providers {
            let args = config?.harborProvider(named: provider.name)?.args ?? ["--username=\(provider.username)"]
            let path = layout.executable(named: provider.name)
            results.append(await offPool { PluginProbe.run(provider: provider, path: path, args: args, context: context) })
        }
        return CheckResult.combine(results)
    }
}

/// Runs one provider executable with a synthetic CredentialProviderRequest and checks its
/// response the way the kubelet decodes it.
enum PluginProbe {
    static func run(provider: NodeSetup.Provider, path: String, args: [String], context: CheckContext) -> CheckResult {
        let reinstall = "run `harbor-keyless install` to put the executable back"
        let info: FileInfo?
        do {
            info = try context.root.info(path)
        } catch {
            return .fail("cannot inspect \(path): \(error)", remedy: reinstall)
        }
        guard let info else {
            return .fail("\(path) does not exist; the kubelet rejects the provider config (plugin binary executable \(provider.name) did not exist)", remedy: reinstall)
        }
        guard info.isExecutableFile else {
            return .fail("\(path) is not an executable regular file (mode \(String(info.mode & 0o7777, radix: 8)))", remedy: reinstall)
        }

        // 1. A request like the kubelet's, with a fake unsigned token for our audience.
        let host = provider.registryHosts.first ?? provider.audience
        let token = fakeToken(audience: provider.audience, now: context.now())
        let request = CredentialProviderRequest(
            apiVersion: credentialProviderAPIVersion,
            kind: "CredentialProviderRequest",
            image: "\(host)/harbor-keyless/doctor-probe",
            serviceAccountToken: token,
            serviceAccountAnnotations: [:]
        )
        let input: [UInt8]
        do {
            input = Array(try JSONEncoder().encode(request))
        } catch {
            return .fail("cannot encode the probe request: \(error)", remedy: "report this as a bug")
        }

        // 2. Run it; ENOEXEC and a missing loader are the field's usual failures.
        let result: SubprocessResult
        do {
            // Run the file opened inside the host root: `root + path` would resolve links on
            // this machine rather than on the node.
            guard let executable = try? context.root.openExecutable(path) else {
                return .fail("\(path) is missing or not executable", remedy: reinstall)
            }
            result = try runRetryingBusy(executable, arguments: args, input: input)
        } catch {
            guard case .spawnFailed(_, let code) = error else { return .fail("\(path) does not run: \(error)", remedy: reinstall) }
            let cause =
                code == ENOEXEC
                ? "exec format error: the file is for another architecture or not an executable"
                : code == ENOENT
                    ? "no such file or directory although the file exists: it is dynamically linked against a loader this host lacks"
                    : String(cString: strerror(code))
            return .fail("\(path) does not run: \(cause)", remedy: "install the static x86_64 build of credential-provider-harbor: \(reinstall)")
        }
        if result.timedOut {
            return .fail("\(path) did not respond within 5 s", remedy: reinstall)
        }
        // Redact before shortening: a cut through the token would leave a piece redact cannot find.
        let errorText = String(redact(String(decoding: result.standardError, as: UTF8.self), token).prefix(300)).trimmingSpaces
        guard result.status == 0 else {
            return .fail("\(path) exited with status \(result.status): \(errorText)", remedy: reinstall)
        }

        // 3. The response, strictly as the kubelet reads it.
        let response: CredentialProviderResponse
        do {
            response = try JSONDecoder().decode(CredentialProviderResponse.self, from: Data(result.standardOutput))
        } catch {
            return .fail("\(path) wrote a response the kubelet cannot decode", remedy: reinstall)
        }
        var problems: [String] = []
        if response.apiVersion != credentialProviderAPIVersion { problems.append("apiVersion is \(response.apiVersion)") }
        if response.kind != "CredentialProviderResponse" { problems.append("kind is \(response.kind)") }
        if response.cacheKeyType != .registry { problems.append("cacheKeyType is \(response.cacheKeyType.rawValue), expected Registry") }
        if let auth = response.auth[host] {
            if auth.username != provider.username { problems.append("username is \(redact(auth.username, token)), expected \(provider.username)") }
            if auth.password != token { problems.append("the password is not the service account token it was given") }
        } else {
            problems.append("auth has no entry for \(host) (keys: \(response.auth.keys.sorted().map { redact($0, token) }.joined(separator: ", ")))")
        }
        guard problems.isEmpty else {
            return .fail("\(path) wrote a wrong response: \(problems.joined(separator: "; "))", remedy: reinstall)
        }
        return .pass("\(path) returns credentials for \(host) as user \(provider.username)")
    }

    /// Runs the executable, retrying for up to 2 s on ETXTBSY. A file that another process
    /// still has open for writing (a copy in progress, or a descriptor a concurrently forked
    /// child inherited) cannot be executed for that moment, which lasts longer on loaded cores.
    static func runRetryingBusy(_ executable: OpenedExecutable, arguments: [String], input: [UInt8]) throws(SubprocessError) -> SubprocessResult {
        var attempt = 1
        while true {
            do {
                return try runSubprocess(
                    executable.execPath,
                    arguments: arguments,
                    argumentZero: "credential-provider-harbor",
                    inherit: [executable.descriptor],
                    input: input,
                    timeout: .seconds(5)
                )
            } catch {
                guard case .spawnFailed(_, let code) = error, code == ETXTBSY, attempt < 40 else { throw error }
                attempt += 1
                usleep(50_000)
            }
        }
    }

    /// Returns an unsigned JWT (`alg: none`) with the claims the plugin reads. It grants nothing.
    static func fakeToken(audience: String, now: Date) -> String {
        let header = #"{"alg":"none","typ":"JWT"}"#
        let expiry = Int(now.timeIntervalSince1970) + 600
        let payload = #"{"aud":["\#(audience)"],"exp":\#(expiry),"iss":"harbor-keyless-doctor","sub":"system:serviceaccount:harbor-keyless:doctor-probe"}"#
        return base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8)) + ".c2lnbmF0dXJl"
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = String(text.filter { $0 != "=" })
        text = text.replacing("+", with: "-")
        return text.replacing("/", with: "_")
    }
}

/// Replaces every occurrence of `secret` in `text`.
func redact(_ text: String, _ secret: String) -> String {
    guard !secret.isEmpty else { return text }
    return text.replacing(secret, with: "<redacted>")
}

/// The provider config file on the node.
enum ProviderConfigFile {
    static func read(_ root: HostRoot, _ path: String) throws(CheckFailure) -> CredentialProviderConfig? {
        guard let text = try HostLayout.readText(root, path) else { return nil }
        do {
            return try CredentialProviderConfig.parse(text, source: path)
        } catch {
            throw CheckFailure("\(error)")
        }
    }
}
