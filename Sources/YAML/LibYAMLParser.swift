internal import CYAML

/// One libyaml parser event, copied out of C memory so the C event can be freed at once.
struct ParserEvent {
    enum Kind {
        case streamStart
        case streamEnd
        case documentStart
        case documentEnd
        case alias(anchor: String)
        case scalar(value: String, style: ScalarStyle, anchor: String?, tag: String?)
        case sequenceStart(anchor: String?, tag: String?)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?)
        case mappingEnd
    }

    var kind: Kind
    var mark: YAMLMark
}

/// Owns a libyaml `yaml_parser_t` and the input bytes it reads.
final class LibYAMLParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let source: String

    init(bytes: [UInt8], source: String) throws(YAMLError) {
        // Set up the C state in locals first: a throw after every stored property is set would
        // run deinit, which frees them a second time.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            throw YAMLError(source: source, mark: nil, message: "libyaml could not allocate a parser (out of memory)")
        }
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)

        self.source = source
        self.parser = parser
        self.input = input
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    func next() throws(YAMLError) -> ParserEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw currentError() }
        defer { yaml_event_delete(&event) }

        let mark = YAMLMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        let kind: ParserEvent.Kind
        switch event.type {
        case YAML_STREAM_START_EVENT:
            kind = .streamStart
        case YAML_STREAM_END_EVENT:
            kind = .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            kind = .documentStart
        case YAML_DOCUMENT_END_EVENT:
            kind = .documentEnd
        case YAML_ALIAS_EVENT:
            kind = .alias(anchor: Self.string(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: Int(scalar.length)), as: UTF8.self)
            } ?? ""
            kind = .scalar(
                value: value,
                style: Self.style(scalar.style),
                anchor: Self.string(scalar.anchor),
                tag: Self.string(scalar.tag)
            )
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            kind = .sequenceStart(anchor: Self.string(start.anchor), tag: Self.string(start.tag))
        case YAML_SEQUENCE_END_EVENT:
            kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            kind = .mappingStart(anchor: Self.string(start.anchor), tag: Self.string(start.tag))
        case YAML_MAPPING_END_EVENT:
            kind = .mappingEnd
        default:
            throw YAMLError(source: source, mark: mark, message: "libyaml returned an unknown event type \(event.type.rawValue)")
        }
        return ParserEvent(kind: kind, mark: mark)
    }

    // Builds the error from libyaml's own problem text, its context and the place it names.
    private func currentError() -> YAMLError {
        let state = parser.pointee
        let problem = Self.string(state.problem) ?? "unknown libyaml error"
        var message = problem
        let mark: YAMLMark
        if state.error == YAML_READER_ERROR {
            // Reader errors carry a byte offset instead of a mark.
            mark = Self.mark(ofByteOffset: Int(state.problem_offset), in: UnsafeBufferPointer(input))
            if state.problem_value != -1 {
                message += " (byte 0x\(String(state.problem_value, radix: 16, uppercase: true)))"
            }
        } else {
            mark = YAMLMark(line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1)
            if let context = Self.string(state.context) {
                let contextMark = YAMLMark(line: Int(state.context_mark.line) + 1, column: Int(state.context_mark.column) + 1)
                message += " \(context) started at line \(contextMark.line), column \(contextMark.column)"
            }
        }
        if problem.contains("cannot start any token"), Self.isTab(at: mark, in: UnsafeBufferPointer(input)) {
            message += "; YAML indentation must use spaces, not tabs"
        }
        return YAMLError(source: source, mark: mark, message: message)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func style(_ style: yaml_scalar_style_t) -> ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }

    static func mark(ofByteOffset offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return YAMLMark(line: line, column: column)
    }

    private static func isTab(at mark: YAMLMark, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard mark.line - 1 < lines.count else { return false }
        let scalars = Array(String(decoding: lines[mark.line - 1], as: UTF8.self).unicodeScalars)
        return mark.column - 1 < scalars.count && scalars[mark.column - 1] == "\t"
    }
}
