// Splitting an image reference into registry, repository, tag and digest with the rules of
// distribution/reference `normalize.go` (`splitDockerDomain`), which containerd and the
// kubelet follow: the part before the first "/" names a registry only when it contains "."
// or ":", is "localhost", or contains an upper-case letter; otherwise the image is on
// Docker Hub ("docker.io", with "library/" before a one-part name).

/// An image reference such as `harbor.example.com:8443/project/app:v1@sha256:...`.
public struct ImageReference: Equatable, Sendable {
    /// Registry host with optional port, e.g. `harbor.example.com:8443` or `[::1]:5000`.
    public var registry: String
    /// Repository path within the registry, e.g. `library/nginx`.
    public var repository: String
    public var tag: String?
    public var digest: String?

    /// Docker Hub's registry name after normalisation.
    public static let dockerHub = "docker.io"

    public struct InvalidReference: Error, Equatable, Sendable, CustomStringConvertible {
        public var reference: String
        public var reason: String
        public var description: String { "invalid image reference \(goQuoted(reference)): \(reason)" }
    }

    /// Parses `reference`.
    /// - Throws: `InvalidReference` when it is empty, contains white space or control
    ///   characters, or has an empty registry, repository, tag or digest part.
    public init(parsing reference: String) throws(InvalidReference) {
        func invalid(_ reason: String) -> InvalidReference {
            InvalidReference(reference: reference, reason: reason)
        }
        guard !reference.isEmpty else { throw invalid("it is empty") }
        guard !reference.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) else {
            throw invalid("it contains white space or a control character")
        }

        // The digest follows the first "@".
        var name = Substring(reference)
        if let at = name.firstIndex(of: "@") {
            digest = String(name[name.index(after: at)...])
            name = name[..<at]
            guard digest != "" else { throw invalid("the digest after \"@\" is empty") }
        }

        // The registry is the first component when it looks like a host.
        let (registryPart, remainder) = Self.splitRegistry(name)
        guard !registryPart.isEmpty else { throw invalid("the registry host is empty") }
        registry = registryPart

        // A tag follows the last ":" after the last "/" (a ":" before it belongs to a port).
        var path = remainder
        let lastSlash = path.lastIndex(of: "/") ?? path.startIndex
        if let colon = path[lastSlash...].lastIndex(of: ":") {
            tag = String(path[path.index(after: colon)...])
            path = path[..<colon]
            guard tag != "" else { throw invalid("the tag after \":\" is empty") }
        }
        guard !path.isEmpty, !path.hasSuffix("/"), !path.hasPrefix("/") else {
            throw invalid("the repository path is empty or has an empty component")
        }
        if registry == Self.dockerHub && !path.contains("/") {
            repository = "library/" + path
        } else {
            repository = String(path)
        }
    }

    /// Returns the registry host (with port) of `image`: the key for the `auth` map of a
    /// `CredentialProviderResponse`.
    public static func registryHost(of image: String) throws(InvalidReference) -> String {
        try ImageReference(parsing: image).registry
    }

    private static func splitRegistry(_ name: Substring) -> (String, Substring) {
        guard let slash = name.firstIndex(of: "/") else {
            return (dockerHub, name)
        }
        let first = name[..<slash]
        let isHost = first.contains(".") || first.contains(":") || first == "localhost"
            || first.contains(where: \.isUppercase)
        guard isHost else { return (dockerHub, name) }

        // "index.docker.io" is the legacy name of Docker Hub.
        let registry = first == "index.docker.io" ? dockerHub : String(first)
        return (registry, name[name.index(after: slash)...])
    }
}
