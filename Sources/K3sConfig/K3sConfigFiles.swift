import YAML

/// One k3s config file: its name (for drop-ins the bare file name, for the main file its path)
/// and its contents. Callers read the files; this module never touches the file system.
public struct K3sConfigFile: Sendable, Equatable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// The k3s config-file rules of k3s-io/k3s `pkg/configfilearg/parser.go`: which drop-ins count and
/// how the files merge.
public enum K3sConfigFiles {
    /// The default main file; `k3s server` and `k3s agent` both read it. Drop-ins live in
    /// `<main file>.d/`.
    public static let defaultMainPath = "/etc/rancher/k3s/config.yaml"
    public static let defaultDropInDirectory = "/etc/rancher/k3s/config.yaml.d"

    /// Selects the drop-in file names k3s reads, in the order it reads them: names ending in
    /// `.yaml` or `.yml` in any letter case, sorted by their bytes (Go's `os.ReadDir` order).
    /// Callers pass regular files only, because k3s skips directories.
    public static func dropInNames(_ names: [String]) -> [String] {
        names
            .filter { name in
                let lowered = name.lowercased()
                return lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml")
            }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Merges the main file and the drop-ins the way k3s does at start-up. Names may be bare file
    /// names or paths within the one drop-in directory.
    ///
    /// - The main file is read first when it exists; drop-ins apply even without it.
    /// - `dropIns` are filtered and ordered with `dropInNames`, so callers may pass the whole directory.
    /// - A later file (or a later entry in the same file) that sets a top-level key replaces its
    ///   value whole, lists included.
    /// - `key+:` appends to the value set so far, turning a scalar into a one-item list first. On a
    ///   key that nothing set before, `key+` sets it as if it had no `+`.
    /// - Keys keep the order in which they first appeared across all files.
    ///
    /// Throws when a file is invalid YAML or its top level is not a mapping, because k3s then fails
    /// to start.
    public static func merge(main: K3sConfigFile?, dropIns: [K3sConfigFile]) throws(K3sConfigError) -> K3sEffectiveConfig {
        let selected = dropInNames(dropIns.map(\.name))
        var files: [K3sConfigFile] = main.map { [$0] } ?? []
        for name in selected {
            if let file = dropIns.first(where: { $0.name == name }) { files.append(file) }
        }

        var config = K3sEffectiveConfig(files: files.map(\.name))
        for file in files {
            for pair in try topLevelPairs(of: file) {
                let isAppend = pair.key.hasSuffix("+")
                let key = isAppend ? String(pair.key.dropLast()) : pair.key
                config.apply(key: key, value: pair.value, from: file.name, appending: isAppend)
            }
        }
        return config
    }

    // Reads a file's top-level entries in order. Repeated keys are kept, as yaml.v2's MapSlice
    // (which k3s decodes into) keeps them.
    private static func topLevelPairs(of file: K3sConfigFile) throws(K3sConfigError) -> [YAMLPair] {
        let root: YAMLNode?
        do {
            root = try YAML.parse(file.text, source: file.name, duplicateKeys: .keepAll)
        } catch {
            throw K3sConfigError(error)
        }
        guard let root, !root.isNull else { return [] }
        guard let pairs = root.mapping else {
            throw K3sConfigError(
                file: file.name, mark: root.mark,
                message: "the top level must be a mapping of k3s flag names to values, like \"token: abc\""
            )
        }
        return pairs
    }
}
