internal import K3sConfig
/// Syntax checks for every value that ends up in a host file, a command line or an HTTP
/// request. Values reach YAML files that the kubelet and k3s parse at start-up, so anything
/// outside a narrow alphabet is rejected rather than quoted. A stray newline or `#` in a host
/// name must not become a second YAML key in the node's configuration.
enum InputValidation {
    /// Audiences the API server accepts by default on k3s (`--api-audiences`, set from the
    /// service account issuer) and on upstream Kubernetes. A registry token with one of them
    /// would also authenticate to the cluster.
    static let apiServerAudiences: Set<String> = [
        "k3s", "https://kubernetes.default.svc.cluster.local", "https://kubernetes.default.svc", "kubernetes.default.svc",
    ]

    /// `host[:port]` where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
    static func registryHost(_ value: String, field: String) throws(ConfigurationError) {
        try hostWithOptionalPort(value, field: field, what: "registry host")
    }

    /// Checks the token audience. Harbor matches it exactly against its identity provider's claim
    /// rule, so it is held to the registry host's syntax: no scheme, no path, no spaces. Any
    /// string is a valid audience to Kubernetes, but this one also names the provider's
    /// executable and the resource of the node-audience RBAC rule, where `/` separates a
    /// subresource.
    static func audience(_ value: String, field: String) throws(ConfigurationError) {
        do {
            try hostWithOptionalPort(value, field: field, what: "audience")
        } catch {
            throw ConfigurationError(
                error.message,
                fix: "use an audience in host syntax, for example harbor.example.com (it also names the provider's executable and its RBAC rule), and set Harbor's identity provider to expect the same string"
            )
        }
    }

    /// Checks a kubelet `matchImages` pattern: `host[:port][/path]` where host labels may use `*`
    /// globs. The kubelet's own parse (also run on the rendered config) decides the rest.
    static func matchImage(_ value: String, field: String) throws(ConfigurationError) {
        try rejectUnsafeCharacters(value, field: field, allowed: { $0.isASCIIAlphanumeric || "-._:/*[]".contains($0) })
        if value.contains("://") {
            throw ConfigurationError(
                "\(field) \(quoted(value)) has a scheme",
                fix: "write the pattern without https://, for example harbor.example.com"
            )
        }
    }

    static func username(_ value: String, field: String) throws(ConfigurationError) {
        if value.isEmpty || value.utf8.count > 64 {
            throw ConfigurationError("\(field) \(quoted(value)) must be 1 to 64 characters", fix: "use jwt, the default")
        }
        try rejectUnsafeCharacters(value, field: field, allowed: { $0.isASCIIAlphanumeric || "-._".contains($0) })
    }

    /// Checks a Kubernetes qualified name: optional DNS-subdomain prefix and `/`, then a name of up
    /// to 63 characters (k8s.io/apimachinery validation.IsQualifiedName).
    static func annotationKey(_ value: String, field: String) throws(ConfigurationError) {
        let fix = "use a key such as harbor.example.com/pull (DNS prefix, '/', then letters, digits, '-', '_', '.')"
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last else {
            throw ConfigurationError("\(field) \(quoted(value)) is not a qualified name", fix: fix)
        }
        if parts.count == 2 {
            let prefix = String(parts[0])
            if prefix.isEmpty || prefix.utf8.count > 253 || !isDNSName(prefix, allowWildcards: false) {
                throw ConfigurationError("\(field) \(quoted(value)) has an invalid prefix \(quoted(prefix))", fix: fix)
            }
        }
        let nameCharacters = name.allSatisfy { $0.isASCIIAlphanumeric || "-_.".contains($0) }
        if name.isEmpty || name.utf8.count > 63 || !nameCharacters || !name.first!.isASCIIAlphanumeric
            || !name.last!.isASCIIAlphanumeric
        {
            throw ConfigurationError("\(field) \(quoted(value)) is not a qualified name", fix: fix)
        }
    }

    /// Checks the provider name, which is also a file name in the kubelet's bin dir.
    static func providerName(_ value: String, field: String) throws(ConfigurationError) {
        let valid =
            !value.isEmpty && value.utf8.count <= 200 && value != "." && value != ".."
            && value.allSatisfy { $0.isASCIIAlphanumeric || "-_.".contains($0) }
        if !valid {
            throw ConfigurationError(
                "\(field) \(quoted(value)) is not a valid provider name",
                fix: "use letters, digits, '-', '_' and '.', for example credential-provider-harbor"
            )
        }
    }

    /// Checks a Go `time.ParseDuration` string that is not negative: `1h`, `90m`, `1h30m`, `0s`.
    static func goDuration(_ value: String, field: String) throws(ConfigurationError) {
        _ = try Durations.nanoseconds(value, field: field)
    }

    static func absolutePath(_ value: String, field: String) throws(ConfigurationError) {
        guard value.hasPrefix("/") else {
            throw ConfigurationError(
                "\(field) \(quoted(value)) is not an absolute path",
                fix: "give a path that starts with /"
            )
        }
        try rejectUnsafeCharacters(value, field: field, allowed: { !$0.isNewline && $0 != "\0" })
        if value.split(separator: "/").contains("..") {
            throw ConfigurationError("\(field) \(quoted(value)) contains '..'", fix: "give the path without '..'")
        }
    }

    static func unitName(_ value: String, field: String) throws(ConfigurationError) {
        let valid =
            value.hasSuffix(".service") && value.utf8.count <= 255
            && value.allSatisfy { $0.isASCIIAlphanumeric || "-_.@:\\".contains($0) }
        if !valid {
            throw ConfigurationError(
                "\(field) \(quoted(value)) is not a systemd service name",
                fix: "give the unit's full name, for example k3s.service or k3s-agent.service"
            )
        }
    }

    // MARK: - Helpers

    private static func hostWithOptionalPort(_ value: String, field: String, what: String) throws(ConfigurationError) {
        let example = "for example harbor.example.com or harbor.example.com:8443"
        if value.contains("://") {
            throw ConfigurationError("\(field) \(quoted(value)) has a scheme", fix: "give the \(what) without it, \(example)")
        }
        try rejectUnsafeCharacters(value, field: field, allowed: { $0.isASCIIAlphanumeric || "-.:[]".contains($0) || $0 == "/" })
        if value.contains("/") {
            throw ConfigurationError("\(field) \(quoted(value)) has a path", fix: "give the \(what) alone, \(example)")
        }

        var host = Substring(value)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw ConfigurationError("\(field) \(quoted(value)) has an unclosed '['", fix: "write an IPv6 address as [fd00::1]:5000")
            }
            let rest = host[host.index(after: close)...]
            let address = host[host.index(after: host.startIndex)..<close]
            if !address.contains(":") || !address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
                throw ConfigurationError("\(field) \(quoted(value)) is not a valid IPv6 address", fix: example)
            }
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw ConfigurationError("\(field) \(quoted(value)) has text after ']'", fix: example)
                }
                port = rest.dropFirst()
            }
            host = address
        } else {
            let pieces = host.split(separator: ":", omittingEmptySubsequences: false)
            if pieces.count > 2 {
                throw ConfigurationError("\(field) \(quoted(value)) has more than one ':'", fix: "write an IPv6 address in brackets, \(example)")
            }
            host = pieces[0]
            if pieces.count == 2 { port = pieces[1] }
            if host.utf8.count > 253 || !isDNSName(String(host), allowWildcards: false) {
                throw ConfigurationError("\(field) \(quoted(value)) is not a valid host name", fix: example)
            }
        }
        if let port {
            guard let number = Int(port), (1...65535).contains(number), port.first != "0" else {
                throw ConfigurationError("\(field) \(quoted(value)) has an invalid port \(quoted(String(port)))", fix: "use a port from 1 to 65535")
            }
        }
    }

    /// DNS labels of 1 to 63 letters, digits and inner hyphens (RFC 1123), which also covers
    /// dotted IPv4 addresses.
    static func isDNSName(_ name: String, allowWildcards: Bool) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty
            && labels.allSatisfy { label in
                if allowWildcards && label == "*" { return true }
                return !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" }
            }
    }

    private static func rejectUnsafeCharacters(
        _ value: String,
        field: String,
        allowed: (Character) -> Bool
    ) throws(ConfigurationError) {
        if value.isEmpty {
            throw ConfigurationError("\(field) is empty", fix: "give a value")
        }
        if let bad = value.first(where: { !allowed($0) }) {
            let name = bad.isWhitespace || bad.isNewline ? "whitespace" : "the character \(quoted(String(bad)))"
            throw ConfigurationError(
                "\(field) \(quoted(value)) contains \(name)",
                fix: "remove it: host files accept only letters, digits and - . : [ ] here"
            )
        }
    }

    /// Quotes a value for a message, escaping control characters so a hostile value cannot
    /// forge extra log lines.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension Character {
    var isASCIIAlphanumeric: Bool { isASCII && (isLetter || isNumber) }
}

/// Parses a Go `time.ParseDuration` string into seconds with the kubelet's own parser (see
/// K3sConfig's GoDuration). Returns nil for anything Go would reject, and for negative values.
func parseGoDuration(_ text: String) -> Double? {
    guard case .success(let nanoseconds) = GoDuration.parse(text), nanoseconds >= 0 else { return nil }
    return Double(nanoseconds) / 1e9
}
