internal import HostFiles

/// The plugin executable an install copies. It is opened once, checked with `--version`
/// through that open file and copied from it in chunks. So the file checked is the file
/// installed even when its path is replaced meanwhile, and memory use does not grow with
/// its size.
public struct PluginExecutable: Sendable, Equatable {
    let source: SourceFile

    /// The path it was opened by.
    public var path: String { source.path }
    /// Its size in bytes when it was opened.
    public var size: Int { source.size }

    /// Two values are equal when they share the same open file.
    public static func == (lhs: PluginExecutable, rhs: PluginExecutable) -> Bool {
        lhs.source === rhs.source
    }
}
