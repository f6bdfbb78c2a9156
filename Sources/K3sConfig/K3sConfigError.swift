import YAML

/// A k3s config file that k3s itself would reject, with the place when one is known.
public typealias K3sConfigError = ConfigFileError

/// A configuration file that cannot be used, with the place when one is known.
public struct ConfigFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name the caller passed.
    public var file: String
    /// 1-based; 0 when the problem has no position.
    public var line: Int
    /// 1-based; 0 when the problem has no position.
    public var column: Int
    public var message: String

    public init(file: String, line: Int = 0, column: Int = 0, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    init(_ error: YAMLError) {
        self.init(file: error.source, line: error.line, column: error.column, message: error.message)
    }

    init(file: String, mark: YAMLMark?, message: String) {
        self.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message)
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}
