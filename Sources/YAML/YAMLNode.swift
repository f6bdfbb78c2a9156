/// A position in YAML text; `line` and `column` are 1-based and count Unicode scalars, as libyaml does.
public struct YAMLMark: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// The presentation style of a scalar. Any style other than `.plain` makes the scalar a string, so
/// a quoted `"true"` is the text `true`, while a plain `true` is a boolean to a YAML 1.1 reader.
public enum ScalarStyle: Sendable, Equatable, Hashable {
    case plain
    case singleQuoted
    case doubleQuoted
    case literal
    case folded

    public var isQuoted: Bool { self != .plain }
}

/// One entry of a mapping. `keyMark` is where the key was written; equality ignores it.
public struct YAMLPair: Sendable, Equatable {
    public var key: String
    public var value: YAMLNode
    public var keyMark: YAMLMark?

    public init(key: String, value: YAMLNode, keyMark: YAMLMark? = nil) {
        self.key = key
        self.value = value
        self.keyMark = keyMark
    }

    public static func == (lhs: YAMLPair, rhs: YAMLPair) -> Bool {
        lhs.key == rhs.key && lhs.value == rhs.value
    }
}

/// A YAML value tree: scalars keep their text and style, mappings keep their key order.
///
/// Equality compares meaning, not presentation: marks are ignored, and two scalars are equal when
/// their text is equal and they resolve to the same YAML 1.1 type (so `"a"` equals plain `a`, but
/// `"true"` differs from plain `true`).
public indirect enum YAMLNode: Sendable {
    case scalar(String, style: ScalarStyle = .plain, mark: YAMLMark? = nil)
    case sequence([YAMLNode], mark: YAMLMark? = nil)
    case mapping([YAMLPair], mark: YAMLMark? = nil)
}

extension YAMLNode {
    /// Makes a scalar that every reader takes as a string, quoted on output only when needed.
    public static func string(_ value: String) -> YAMLNode {
        .scalar(value, style: .doubleQuoted)
    }

    /// Makes a sequence of string scalars.
    public static func strings(_ values: [String]) -> YAMLNode {
        .sequence(values.map { .string($0) })
    }

    /// Makes a plain boolean scalar.
    public static func bool(_ value: Bool) -> YAMLNode {
        .scalar(value ? "true" : "false")
    }

    /// Looks up a mapping key. Parsed mappings never contain a key twice because `YAML.parse` rejects
    /// duplicates. In a mapping built by code the last entry wins, as when yaml.v2 decodes into a Go map.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.last(where: { $0.key == key })?.value
    }

    /// The text of a scalar, whatever its type.
    public var string: String? {
        guard case .scalar(let text, _, _) = self else { return nil }
        return text
    }

    public var sequence: [YAMLNode]? {
        guard case .sequence(let items, _) = self else { return nil }
        return items
    }

    public var mapping: [YAMLPair]? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs
    }

    public var mark: YAMLMark? {
        switch self {
        case .scalar(_, _, let mark), .sequence(_, let mark), .mapping(_, let mark): mark
        }
    }

    public var scalarStyle: ScalarStyle? {
        guard case .scalar(_, let style, _) = self else { return nil }
        return style
    }

    /// The YAML 1.1 type a reader gives this scalar (nil for collections).
    public var scalarKind: YAMLScalarKind? {
        guard case .scalar(let text, let style, _) = self else { return nil }
        return style.isQuoted ? .string : YAMLScalarKind.resolve(plain: text)
    }

    /// True for a plain null scalar (`~`, `null`, or nothing at all).
    public var isNull: Bool { scalarKind == .null }

    /// The value of a boolean scalar, by the YAML 1.1 rules that yaml.v2 (used by k3s) applies.
    public var bool: Bool? {
        guard scalarKind == .bool, let text = string else { return nil }
        return YAMLScalarKind.yaml11True.contains(text)
    }

    /// The node without marks, for comparisons and output that must not depend on where text stood.
    public var withoutMarks: YAMLNode {
        switch self {
        case .scalar(let text, let style, _):
            .scalar(text, style: style)
        case .sequence(let items, _):
            .sequence(items.map(\.withoutMarks))
        case .mapping(let pairs, _):
            .mapping(pairs.map { YAMLPair(key: $0.key, value: $0.value.withoutMarks) })
        }
    }
}

extension YAMLNode: Equatable {
    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let left, _, _), .scalar(let right, _, _)):
            left == right && lhs.scalarKind == rhs.scalarKind
        case (.sequence(let left, _), .sequence(let right, _)):
            left == right
        case (.mapping(let left, _), .mapping(let right, _)):
            left == right
        default:
            false
        }
    }
}
