import Agent
import Checks
import Dispatch
import FoundationEssentials
import HostFiles
import KubeAPI
import Systemd

#if canImport(Glibc)
import Glibc
#endif

/// `harbor-keyless doctor`: runs every check once and prints the report.
enum DoctorCommand {
    static let specs: [OptionSpec] =
        ConfigurationOptions.specs + [
            OptionSpec(name: "kubeconfig", valueName: "PATH", help: "kubeconfig to use (default: the pod's service account, else the kubelet's kubeconfig under the host root)"),
            OptionSpec(name: "service-account", valueName: "NS/NAME", help: "check node-audience RBAC for this service account; repeat for more", repeatable: true),
            OptionSpec(name: "login-test", valueName: "NS/NAME", help: "mint a 600 s token for this service account and present it to each registry (needs create on serviceaccounts/token)"),
            OptionSpec(name: "registry-ca", valueName: "FILE", help: "PEM CA bundle to trust for the registries (default: the system bundle)"),
            OptionSpec(name: "journal-file", valueName: "FILE", help: "read the k3s journal from this `journalctl -u k3s -o json` export instead of the node's journal"),
            OptionSpec(name: "skip", valueName: "CHECK-ID", help: "leave out a check, such as registry.login; repeat for more", repeatable: true),
            OptionSpec(name: "timeout", valueName: "DURATION", help: "time each check may take, such as 10s or 500ms (default 10s)"),
            OptionSpec(name: "output", valueName: "FORMAT", help: "table or json (default table)"),
        ]

    static let command = Command(
        name: "doctor",
        summary: "Check the node and the cluster for keyless pulls; exit 1 when a check fails.",
        usage: "harbor-keyless doctor [options] [--kubeconfig PATH] [--service-account NS/NAME ...] [--login-test NS/NAME] [--registry-ca FILE] [--timeout 10s] [--output table|json]",
        options: specs,
        run: { options in try run(options) }
    )

    static func run(_ options: ParsedOptions) throws -> Int32 {
        // 1. Options, validated before anything is read.
        let output = options.value("output") ?? "table"
        guard output == "table" || output == "json" else {
            throw UsageError("--output must be table or json, not \(output.debugDescription)")
        }
        let timeout = try parseDuration(options.value("timeout") ?? "10s")
        let accounts = try (options.all("service-account") ?? []).map { try serviceAccount($0, option: "service-account") }
        let loginTest = try options.value("login-test").map { try serviceAccount($0, option: "login-test") }
        let skipped = Set(options.all("skip") ?? [])
        if let unknown = skipped.first(where: { id in !Check.all.contains { $0.id == id } }) {
            throw UsageError("--skip \(unknown.debugDescription) names no check; ids: \(Check.all.map(\.id).joined(separator: ", "))")
        }
        let checks = Check.all.filter { !skipped.contains($0.id) }
        let registryCA = options.value("registry-ca")
        if let registryCA, !FileManager.default.isReadableFile(atPath: registryCA) {
            throw UsageError("--registry-ca \(registryCA) is not a readable file")
        }
        let configuration = try ConfigurationOptions.load(options)
        let layout = try ProviderLayout(configuration: configuration)
        let environment = ProcessInfo.processInfo.environment

        // 2. The node, its API access, journal and systemd.
        let root = try HostRoot(configuration.hostRoot)
        let (api, nodeName) = apiAccess(kubeconfig: options.value("kubeconfig"), hostRoot: configuration.hostRoot, environment: environment, timeout: timeout)
        let context = CheckContext(
            setup: NodeSetup(configuration, layout: layout),
            options: DoctorOptions(serviceAccounts: accounts, loginTest: loginTest, registryCAFile: registryCA),
            root: root,
            api: api,
            nodeName: nodeName,
            journal: journalSource(file: options.value("journal-file"), hostRoot: configuration.hostRoot),
            serviceStatus: serviceStatus(hostRoot: configuration.hostRoot, environment: environment),
            environment: environment,
            timeout: timeout
        )

        // 3. Run and print.
        let report = blockingRun { await DoctorReport.run(checks, context: context) }
        if output == "json" {
            print(report.json(), terminator: "")
        } else {
            let color = isatty(1) == 1 && environment["NO_COLOR"] == nil
            print(report.table(color: color), terminator: "")
        }
        let status = report.ready ? ExitStatus.success : ExitStatus.failure

        // A timed-out check may still be inside libcurl on another thread. exit() would run
        // OpenSSL's atexit cleanup under it and crash, so leave without atexit handlers.
        if report.outcomes.contains(where: \.timedOut) {
            fflush(nil)
            _exit(status)
        }
        return status
    }

    /// Finds credentials and the node name; without credentials the API checks skip.
    static func apiAccess(kubeconfig: String?, hostRoot: String, environment: [String: String], timeout: Duration) -> (APIAccess, String?) {
        let credentials: KubeCredentials
        do {
            credentials = try CredentialDiscovery.discover(explicitKubeconfig: kubeconfig, hostRoot: hostRoot, environment: environment)
        } catch {
            return (.unavailable(reason: "\(error)"), environment["NODE_NAME"].flatMap { $0.isEmpty ? nil : $0 })
        }
        // Two attempts at most, each bounded by the check timeout, so a dead API server costs
        // one timeout per check and no more.
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let options = KubeClientOptions(connectTimeout: min(3, seconds), requestTimeout: seconds, maxAttempts: 2, retryBaseDelay: 0.1, retryMaxDelay: 0.5)

        // The node name: the credentials' certificate, NODE_NAME, else the kubelet's own
        // certificate under the host root (an admin kubeconfig names no node).
        var nodeName = try? credentials.nodeName(environment: environment)
        if nodeName == nil, let kubelet = try? KubeconfigLoader.load(path: CredentialDiscovery.kubeletKubeconfig, hostRoot: hostRoot) {
            nodeName = try? kubelet.nodeName(environment: [:])
        }
        return (.client(KubeClient(credentials: credentials, options: options)), nodeName ?? nil)
    }

    static func journalSource(file: String?, hostRoot: String) -> any JournalSource {
        if let file { return ExportedJournal(.file(file)) }
        return SystemdJournal(JournalReader(source: hostRoot == "/" ? .local : .osRoot(hostRoot)))
    }

    /// systemd of the node: over the local system bus when the host root is `/`, over the
    /// host's socket mounted into the pod, or at DBUS_SYSTEM_BUS_ADDRESS. A host root that is
    /// a plain directory (a copy, a test tree) gets no systemd.
    static func serviceStatus(hostRoot: String, environment: [String: String]) -> any ServiceStatusSource {
        let inPod = !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty
        guard hostRoot == "/" || inPod || environment["DBUS_SYSTEM_BUS_ADDRESS"] != nil else { return NoServiceStatus() }
        guard let manager = try? SystemdManager.connect() else { return NoServiceStatus() }
        return SystemdServiceStatus(manager)
    }

    static func serviceAccount(_ text: String, option: String) throws -> DoctorOptions.ServiceAccount {
        guard let account = DoctorOptions.ServiceAccount(parsing: text) else {
            throw UsageError("--\(option) \(text.debugDescription) is not NAMESPACE/NAME")
        }
        return account
    }

    /// Parses a Go duration such as `10s`, `500ms` or `1m`, or a plain number of seconds;
    /// from 100 ms to 1 h.
    static func parseDuration(_ text: String) throws -> Duration {
        let isPlainNumber = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        let value = try Durations.duration(isPlainNumber ? text + "s" : text, field: "--timeout", minimum: .milliseconds(100))
        guard value <= .seconds(3600) else {
            throw UsageError("--timeout \(text.debugDescription) is longer than the maximum of 1h0m0s")
        }
        return value
    }

    /// Runs async work from the synchronous command table and waits for it.
    static func blockingRun<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = ResultBox<T>()
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            box.value = await body()
            semaphore.signal()
        }
        semaphore.wait()
        return box.value!
    }
}

/// Carries a result from a task to the thread waiting on a semaphore; the semaphore orders
/// the write before the read.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
