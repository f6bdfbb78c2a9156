// `matchImages` semantics of the kubelet (kubernetes `pkg/credentialprovider/keyring.go`
// `URLsMatch` and `ParseSchemelessURL`; `pkg/credentialprovider/plugin/config.go` validation):
// - a pattern is valid when Go's URL parser accepts `"https://" + pattern`, nothing more;
// - an image matches when the host has the same number of dot-separated parts as the
//   pattern's host and each part matches its glob, the ports are equal as strings (no port on
//   one side means no match against a port on the other), and the pattern's path is a plain
//   string prefix of the image's path ("host/app" matches "host/apple");
// - ports and paths are compared literally, so "*" there is an ordinary character.

/// Validation and matching of `CredentialProviderConfig` `matchImages` entries.
public enum MatchImages {
    /// An entry the kubelet rejects at start-up.
    public struct InvalidPattern: Error, Equatable, Sendable, CustomStringConvertible {
        public var pattern: String
        /// The kubelet's own text after "match image is invalid: ", e.g.
        /// `parse "https://%invalid%": invalid URL escape "%in"`.
        public var reason: String

        public var description: String {
            "match image \(goQuoted(pattern)) is invalid: \(reason)"
        }
    }

    /// Throws when the kubelet would reject `pattern` in `matchImages`, which makes it fail to start.
    public static func validate(_ pattern: String) throws(InvalidPattern) {
        do {
            _ = try SchemelessURL(parsing: pattern)
        } catch {
            throw InvalidPattern(pattern: pattern, reason: error.message)
        }
    }

    /// Returns whether the kubelet execs a provider with `pattern` in its `matchImages` for
    /// `image`, which is also whether it accepts an `auth` entry keyed `pattern` for `image`. An invalid pattern,
    /// image or host glob matches nothing, as in the kubelet.
    public static func matches(pattern: String, image: String) -> Bool {
        guard let pattern = try? MatchPattern(pattern), let image = try? SchemelessURL(parsing: image) else {
            return false
        }
        let (imageParts, imagePort) = splitHost(image.host)
        guard pattern.port == imagePort, pattern.hostGlobs.count == imageParts.count else { return false }
        guard image.path.hasPrefix(pattern.path) else { return false }
        return zip(pattern.hostGlobs, imageParts).allSatisfy { glob, part in glob.matches(part) }
    }

    /// Returns whether some image could match both patterns. Conservative: `true` unless the
    /// patterns provably match disjoint sets of images. The kubelet execs every provider whose
    /// patterns match an image and merges their responses.
    public static func overlap(_ first: String, _ second: String) -> Bool {
        guard let first = try? MatchPattern(first), let second = try? MatchPattern(second) else {
            return false
        }
        guard first.port == second.port, first.hostGlobs.count == second.hostGlobs.count else { return false }

        // An image path must start with both pattern paths, so one is a prefix of the other.
        guard first.path.hasPrefix(second.path) || second.path.hasPrefix(first.path) else { return false }
        return zip(first.hostGlobs, second.hostGlobs).allSatisfy { GlobIntersection.isNonEmpty($0, $1) }
    }
}

/// A parsed `matchImages` entry: one glob per host part, the port and the path.
struct MatchPattern {
    var hostGlobs: [GoGlob]
    var port: String
    var path: String

    init(_ text: String) throws {
        let url = try SchemelessURL(parsing: text)
        let (parts, port) = splitHost(url.host)
        hostGlobs = try parts.map { part throws(GoGlob.BadPattern) in try GoGlob(part) }
        self.port = port
        path = url.path
    }
}

/// Splits `host[:port]` into dot-separated host parts and the port, as the kubelet's
/// `splitURL` does with Go's `net.SplitHostPort`: when that fails (no port, or too many
/// colons), the whole text is the host and the port is empty.
func splitHost(_ hostPort: String) -> (parts: [String], port: String) {
    let (host, port) = splitHostPort(hostPort) ?? (hostPort, "")
    return (host.split(separator: ".", omittingEmptySubsequences: false).map(String.init), port)
}

// Go's `net.SplitHostPort`: nil where Go returns an error.
private func splitHostPort(_ text: String) -> (host: String, port: String)? {
    let bytes = Array(text.utf8)
    guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return nil }

    var host: ArraySlice<UInt8>
    var hostStart = 0
    var portSearchStart = 0
    if bytes.first == UInt8(ascii: "[") {
        // "[host]:port": the "]" must sit right before the last colon.
        guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close + 1 == colon else { return nil }
        host = bytes[1..<close]
        hostStart = 1
        portSearchStart = close + 1
    } else {
        host = bytes[..<colon]
        guard !host.contains(UInt8(ascii: ":")) else { return nil }
    }
    guard !bytes[hostStart...].contains(UInt8(ascii: "[")) else { return nil }
    guard !bytes[portSearchStart...].contains(UInt8(ascii: "]")) else { return nil }

    let port = bytes[(colon + 1)...]
    return (String(decoding: host, as: UTF8.self), String(decoding: port, as: UTF8.self))
}
