/// A YAML parse or emit failure, with the place in the input when there is one.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name or other label the caller passed to `YAML.parse`.
    public var source: String
    /// 1-based; 0 when the failure has no position (emitting, input too large).
    public var line: Int
    /// 1-based; 0 when the failure has no position.
    public var column: Int
    public var message: String

    public init(source: String, line: Int, column: Int, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.message = message
    }

    init(source: String, mark: YAMLMark?, message: String) {
        self.init(source: source, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message)
    }

    public var description: String {
        line > 0 ? "\(source):\(line):\(column): \(message)" : "\(source): \(message)"
    }
}
