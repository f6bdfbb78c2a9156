/// Flags of a component that k3s logs once per start, as
/// `Running kubelet --a=b --c=d` (and `Running kube-apiserver ...` on servers). k3s joins
/// each flag as `--name=value` with spaces between flags and no quoting (k3s
/// `pkg/daemons/executor`), so a value never contains the separator ` --`.
struct ComponentFlags: Sendable, Equatable {
    var values: [(name: String, value: String)]

    static func == (lhs: ComponentFlags, rhs: ComponentFlags) -> Bool {
        lhs.values.map(\.name) == rhs.values.map(\.name) && lhs.values.map(\.value) == rhs.values.map(\.value)
    }

    /// Reads the flags after `Running <component> ` in a journal message; nil when the
    /// message is not such a line.
    init?(message: String, component: String) {
        let marker = "Running \(component) "
        guard let start = message.firstRange(of: marker) else { return nil }
        var text = message[start.upperBound...]
        // The k3s logrus line ends with a closing quote of msg="...".
        if let quote = text.lastIndex(of: "\"") { text = text[..<quote] }
        var values: [(String, String)] = []
        for part in (" " + text).components(separatedBy: " --").dropFirst() {
            let name = String(part.prefix { $0 != "=" })
            let value = part.count > name.count ? String(part.dropFirst(name.count + 1)) : ""
            values.append((name, value))
        }
        self.values = values
    }

    func value(_ name: String) -> String? { values.last { $0.name == name }?.value }
}

extension StringProtocol {
    /// Splits on a multi-character separator.
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
