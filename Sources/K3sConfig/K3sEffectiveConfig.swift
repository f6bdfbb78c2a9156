public import YAML

/// The merged k3s configuration: each top-level key with its value and the files that produced it.
public struct K3sEffectiveConfig: Sendable, Equatable {
    /// One merged key. `sources` lists the files that set or appended to the current value, in order.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: YAMLNode
        public var sources: [String]

        /// The file that set or appended to this key last.
        public var source: String { sources.last ?? "" }
    }

    /// The files read, in the order k3s reads them.
    public var files: [String]
    /// The keys in order of first appearance across all files.
    public private(set) var entries: [Entry] = []

    public init(files: [String] = []) {
        self.files = files
    }

    public var keys: [String] { entries.map(\.key) }

    public func value(forKey key: String) -> YAMLNode? {
        entries.first(where: { $0.key == key })?.value
    }

    public func source(forKey key: String) -> String? {
        entries.first(where: { $0.key == key })?.source
    }

    public func sources(forKey key: String) -> [String] {
        entries.first(where: { $0.key == key })?.sources ?? []
    }

    /// Returns the values k3s passes for the key, one per flag it generates: a list gives its items,
    /// any other value (null too) gives one item. Values are converted to text as k3s does, so a
    /// plain `0644` becomes `420` and `yes` becomes `true`. An unset key gives an empty list.
    public func list(forKey key: String) -> [String] {
        guard let value = value(forKey: key) else { return [] }
        if let items = value.sequence { return items.map(GoScalar.string(of:)) }
        return [GoScalar.string(of: value)]
    }

    /// Returns the command-line flags k3s builds from the merged files, in its order: `--key=value`
    /// (`-k=value` for one-letter keys), one flag per list item.
    public func flagArguments() -> [String] {
        entries.flatMap { entry in
            let prefix = entry.key.count == 1 ? "-" : "--"
            return list(forKey: entry.key).map { "\(prefix)\(entry.key)=\($0)" }
        }
    }

    mutating func apply(key: String, value: YAMLNode, from file: String, appending: Bool) {
        guard let index = entries.firstIndex(where: { $0.key == key }) else {
            entries.append(Entry(key: key, value: value, sources: [file]))
            return
        }
        if appending {
            let merged = Self.items(of: entries[index].value) + Self.items(of: value)
            entries[index].value = .sequence(merged, mark: entries[index].value.mark)
            entries[index].sources.append(file)
        } else {
            entries[index].value = value
            entries[index].sources = [file]
        }
    }

    // k3s's toSlice: a list gives its items, a string one item, and any other value one item unless
    // its text is empty (a null value adds nothing).
    private static func items(of value: YAMLNode) -> [YAMLNode] {
        if let items = value.sequence { return items }
        if GoScalar.kind(of: value) == .string { return [value] }
        let text = GoScalar.string(of: value).trimmingWhitespace()
        return text.isEmpty ? [] : [value]
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
