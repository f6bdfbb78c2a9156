internal import CYAML

/// Owns a libyaml `yaml_emitter_t` and collects what it writes.
final class LibYAMLEmitter {
    private final class Output {
        var bytes: [UInt8] = []
    }

    private static let source = "YAML emitter"
    private let emitter: UnsafeMutablePointer<yaml_emitter_t>
    private let output = Output()

    init() {
        emitter = .allocate(capacity: 1)
        emitter.initialize(to: yaml_emitter_t())
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    func emit(_ node: YAMLNode) throws(YAMLError) -> String {
        guard yaml_emitter_initialize(emitter) == 1 else {
            throw YAMLError(source: Self.source, line: 0, column: 0, message: "libyaml could not allocate an emitter (out of memory)")
        }
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)
        yaml_emitter_set_output(emitter, { data, buffer, size in
            guard let data, let buffer else { return 0 }
            let output = Unmanaged<Output>.fromOpaque(data).takeUnretainedValue()
            output.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, Unmanaged.passUnretained(output).toOpaque())

        try send { yaml_stream_start_event_initialize(&$0, YAML_UTF8_ENCODING) }
        try send { yaml_document_start_event_initialize(&$0, nil, nil, nil, 1) }
        try emitNode(node)
        try send { yaml_document_end_event_initialize(&$0, 1) }
        try send { yaml_stream_end_event_initialize(&$0) }
        guard yaml_emitter_flush(emitter) == 1 else { throw currentError() }

        return withExtendedLifetime(output) { String(decoding: output.bytes, as: UTF8.self) }
    }

    private func emitNode(_ node: YAMLNode) throws(YAMLError) {
        switch node {
        case .scalar(let text, let style, _):
            try emitScalar(text, style: style)
        case .sequence(let items, _):
            try send { yaml_sequence_start_event_initialize(&$0, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE) }
            for item in items { try emitNode(item) }
            try send { yaml_sequence_end_event_initialize(&$0) }
        case .mapping(let pairs, _):
            try send { yaml_mapping_start_event_initialize(&$0, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE) }
            for pair in pairs {
                try emitScalar(pair.key, style: .doubleQuoted)
                try emitNode(pair.value)
            }
            try send { yaml_mapping_end_event_initialize(&$0) }
        }
    }

    // A plain scalar is written plain, so it reads back with the type it had. A string (any other
    // style) is written plain only when plain text would read back as the same string. libyaml
    // itself switches to quotes when plain text would break the document.
    private func emitScalar(_ text: String, style: ScalarStyle) throws(YAMLError) {
        let libyamlStyle: yaml_scalar_style_t
        switch style {
        case .plain:
            libyamlStyle = YAML_PLAIN_SCALAR_STYLE
        case .singleQuoted, .doubleQuoted:
            libyamlStyle = YAMLScalarKind.resolve(plain: text) == .string ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE
        case .literal:
            libyamlStyle = YAML_LITERAL_SCALAR_STYLE
        case .folded:
            libyamlStyle = YAML_FOLDED_SCALAR_STYLE
        }

        // A trailing NUL keeps the buffer non-empty for an empty scalar; the length excludes it.
        var bytes = Array(text.utf8) + [0]
        let length = bytes.count - 1
        guard length <= Int(Int32.max) else {
            throw YAMLError(source: Self.source, line: 0, column: 0, message: "a scalar of \(length) bytes is too long to emit")
        }
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(YAMLError) in
            // libyaml copies the value into the event.
            try send {
                yaml_scalar_event_initialize(&$0, nil, nil, buffer.baseAddress, Int32(length), 1, 1, libyamlStyle)
            }
        }
    }

    private func send(_ initialize: (inout yaml_event_t) -> Int32) throws(YAMLError) {
        var event = yaml_event_t()
        guard initialize(&event) == 1 else {
            throw YAMLError(source: Self.source, line: 0, column: 0, message: "libyaml could not allocate an event (out of memory)")
        }
        // yaml_emitter_emit takes ownership of the event, also when it fails.
        guard yaml_emitter_emit(emitter, &event) == 1 else { throw currentError() }
    }

    private func currentError() -> YAMLError {
        let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "unknown libyaml error"
        return YAMLError(source: Self.source, line: 0, column: 0, message: "libyaml could not emit the document: \(problem)")
    }
}
