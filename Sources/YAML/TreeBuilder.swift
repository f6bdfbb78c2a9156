/// Turns libyaml's event stream into one `YAMLNode`, resolving aliases, merge keys and tags, and
/// enforcing the limits.
struct TreeBuilder {
    private let events: LibYAMLParser
    private let source: String
    private let limits: YAMLLimits
    private let duplicateKeys: YAMLDuplicateKeys
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var nodeCount = 0

    init(events: LibYAMLParser, source: String, limits: YAMLLimits, duplicateKeys: YAMLDuplicateKeys) {
        self.events = events
        self.source = source
        self.limits = limits
        self.duplicateKeys = duplicateKeys
    }

    /// Reads the whole stream. Returns nil when it contains no document and throws when it contains more than one.
    mutating func document() throws(YAMLError) -> YAMLNode? {
        try expect(events.next(), "stream start") { if case .streamStart = $0 { true } else { false } }

        let first = try events.next()
        switch first.kind {
        case .streamEnd:
            return nil
        case .documentStart:
            break
        default:
            throw error(at: first.mark, "unexpected event at the start of the stream")
        }

        let root = try node(from: events.next(), depth: 1)
        try expect(events.next(), "document end") { if case .documentEnd = $0 { true } else { false } }

        // Later documents may only be empty, as a trailing "---" makes them.
        while true {
            let after = try events.next()
            guard case .documentStart = after.kind else { break }
            let content = try node(from: events.next(), depth: 1)
            guard case .scalar("", .plain, _) = content else {
                throw error(
                    at: after.mark,
                    "a second YAML document starts here, but only one is read; remove the \"---\" line or put each document in its own file"
                )
            }
            try expect(events.next(), "document end") { if case .documentEnd = $0 { true } else { false } }
        }

        // An empty document ("---" alone) means no content, like an empty file.
        if case .scalar("", .plain, _) = root { return nil }
        return root
    }

    private mutating func node(from event: ParserEvent, depth: Int) throws(YAMLError) -> YAMLNode {
        if depth > limits.maxDepth {
            throw error(at: event.mark, "nesting is deeper than \(limits.maxDepth) levels; the input is not a configuration file")
        }

        switch event.kind {
        case .alias(let anchor):
            guard let target = anchors[anchor] else {
                throw error(at: event.mark, "alias *\(anchor) names no anchor defined before it")
            }
            try count(target.size, at: event.mark)
            return target.node

        case .scalar(let value, let style, let anchor, let tag):
            try count(1, at: event.mark)
            let node = try tagged(.scalar(value, style: style, mark: event.mark), tag: tag, at: event.mark)
            remember(node, size: 1, anchor: anchor)
            return node

        case .sequenceStart(let anchor, let tag):
            let before = nodeCount
            try count(1, at: event.mark)
            var items: [YAMLNode] = []
            while true {
                let next = try events.next()
                if case .sequenceEnd = next.kind { break }
                items.append(try node(from: next, depth: depth + 1))
            }
            let node = try tagged(.sequence(items, mark: event.mark), tag: tag, at: event.mark)
            remember(node, size: nodeCount - before, anchor: anchor)
            return node

        case .mappingStart(let anchor, let tag):
            let before = nodeCount
            try count(1, at: event.mark)
            let pairs = try mappingPairs(depth: depth)
            let node = try tagged(.mapping(pairs, mark: event.mark), tag: tag, at: event.mark)
            remember(node, size: nodeCount - before, anchor: anchor)
            return node

        default:
            throw error(at: event.mark, "unexpected YAML event where a value should start")
        }
    }

    // Reads key/value events up to the mapping's end. Explicit keys must be unique; `<<` merge keys
    // (YAML 1.1, supported by yaml.v2) add the keys of other mappings that are not set explicitly.
    private mutating func mappingPairs(depth: Int) throws(YAMLError) -> [YAMLPair] {
        var pairs: [YAMLPair] = []
        var seen: [String: YAMLMark] = [:]
        var merges: [(index: Int, sources: [YAMLNode])] = []

        while true {
            let keyEvent = try events.next()
            if case .mappingEnd = keyEvent.kind { break }

            let keyNode = try node(from: keyEvent, depth: depth + 1)
            guard case .scalar(let key, let keyStyle, _) = keyNode else {
                throw error(at: keyEvent.mark, "a mapping key must be a scalar, not a \(Self.kindName(keyNode))")
            }
            let value = try node(from: events.next(), depth: depth + 1)

            if key == "<<", keyStyle == .plain {
                merges.append((pairs.count, try mergeSources(value, at: keyEvent.mark)))
                continue
            }
            if let first = seen[key], duplicateKeys == .reject {
                throw error(
                    at: keyEvent.mark,
                    "duplicate key \"\(key)\" (first set at line \(first.line), column \(first.column)); keep only one"
                )
            }
            if seen[key] == nil { seen[key] = keyEvent.mark }
            pairs.append(YAMLPair(key: key, value: value, keyMark: keyEvent.mark))
        }

        // Insert merged keys where the `<<` stood; earlier sources win over later ones.
        for merge in merges.reversed() {
            var inserted: [YAMLPair] = []
            for source in merge.sources {
                for pair in source.mapping ?? [] where seen[pair.key] == nil {
                    seen[pair.key] = pair.keyMark ?? YAMLMark(line: 0, column: 0)
                    inserted.append(pair)
                }
            }
            pairs.insert(contentsOf: inserted, at: merge.index)
        }
        return pairs
    }

    private func mergeSources(_ value: YAMLNode, at mark: YAMLMark) throws(YAMLError) -> [YAMLNode] {
        if value.mapping != nil { return [value] }
        if let items = value.sequence, items.allSatisfy({ $0.mapping != nil }) { return items }
        throw error(at: mark, "the merge key << needs a mapping or a list of mappings")
    }

    // Applies a tag: `!!str` and the non-specific `!` make a scalar a string, the other YAML core
    // tags are accepted as written, and any other tag is rejected.
    private func tagged(_ node: YAMLNode, tag: String?, at mark: YAMLMark) throws(YAMLError) -> YAMLNode {
        guard let tag else { return node }
        let core = "tag:yaml.org,2002:"
        let name = tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag

        switch (name, node) {
        case ("!", .scalar(let text, let style, let mark)), ("!!str", .scalar(let text, let style, let mark)):
            return .scalar(text, style: style == .plain ? .doubleQuoted : style, mark: mark)
        case ("!!int", .scalar), ("!!float", .scalar), ("!!bool", .scalar), ("!!null", .scalar),
            ("!!timestamp", .scalar), ("!!binary", .scalar):
            return node
        case ("!", .sequence), ("!!seq", .sequence), ("!", .mapping), ("!!map", .mapping):
            return node
        default:
            throw error(at: mark, "unsupported tag \(name) on a \(Self.kindName(node)); remove the tag")
        }
    }

    private mutating func count(_ nodes: Int, at mark: YAMLMark) throws(YAMLError) {
        nodeCount += nodes
        if nodeCount > limits.maxNodes {
            throw error(
                at: mark,
                "the document holds more than \(limits.maxNodes) nodes once aliases are expanded; the input is not a configuration file"
            )
        }
    }

    private mutating func remember(_ node: YAMLNode, size: Int, anchor: String?) {
        if let anchor { anchors[anchor] = (node, size) }
    }

    private func expect(
        _ event: ParserEvent, _ name: String, _ matches: (ParserEvent.Kind) -> Bool
    ) throws(YAMLError) {
        if !matches(event.kind) { throw error(at: event.mark, "expected \(name) in the YAML event stream") }
    }

    private func error(at mark: YAMLMark, _ message: String) -> YAMLError {
        YAMLError(source: source, mark: mark, message: message)
    }

    static func kindName(_ node: YAMLNode) -> String {
        switch node {
        case .scalar: "scalar"
        case .sequence: "sequence"
        case .mapping: "mapping"
        }
    }
}
