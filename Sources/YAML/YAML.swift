/// The handling of a key that a mapping repeats, for `YAML.parse`.
public enum YAMLDuplicateKeys: Sendable, Equatable {
    /// Throw an error naming both places (the default).
    case reject
    /// Keep every entry in order, as yaml.v2 does when it decodes into a `yaml.MapSlice`. k3s reads
    /// its config files this way, so a repeated key there is valid and the later entry wins.
    case keepAll
}

/// Entry points: parse YAML (or JSON) text into a `YAMLNode`, and emit a node as block YAML.
/// Both run on libyaml.
public enum YAML {
    /// Parses one YAML document. Returns nil when the text contains no document (empty, only
    /// comments, or `---` alone). Throws when it contains more than one, when a mapping repeats a
    /// key, or when the input exceeds `limits`.
    public static func parse(
        _ text: String, source: String, limits: YAMLLimits = .default, duplicateKeys: YAMLDuplicateKeys = .reject
    ) throws(YAMLError) -> YAMLNode? {
        try parse(bytes: Array(text.utf8), source: source, limits: limits, duplicateKeys: duplicateKeys)
    }

    /// Parses raw file bytes, rejecting anything that is not UTF-8 with the place of the first bad byte.
    public static func parse(
        bytes: [UInt8], source: String, limits: YAMLLimits = .default, duplicateKeys: YAMLDuplicateKeys = .reject
    ) throws(YAMLError) -> YAMLNode? {
        if bytes.count > limits.maxInputBytes {
            throw YAMLError(
                source: source, line: 0, column: 0,
                message: "input is \(bytes.count) bytes, more than the limit of \(limits.maxInputBytes) bytes for a configuration file"
            )
        }
        if let offset = firstInvalidUTF8Offset(bytes) {
            let mark = bytes.withUnsafeBufferPointer { LibYAMLParser.mark(ofByteOffset: offset, in: $0) }
            throw YAMLError(
                source: source, mark: mark,
                message: "invalid UTF-8 (byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset)); save the file as UTF-8"
            )
        }

        let parser = try LibYAMLParser(bytes: bytes, source: source)
        var builder = TreeBuilder(events: parser, source: source, limits: limits, duplicateKeys: duplicateKeys)
        return try builder.document()
    }

    /// Emits a node as one block-style YAML document with 2-space indentation. Scalars are quoted
    /// when plain text would read back as another type (`"true"`, `"0755"`) or could not be
    /// written plain (`"*.example.com"`, leading spaces).
    public static func emit(_ node: YAMLNode) throws(YAMLError) -> String {
        try LibYAMLEmitter().emit(node)
    }

    private static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
            case .emptyInput:
                return nil
            case .error:
                return offset
            }
        }
    }
}
