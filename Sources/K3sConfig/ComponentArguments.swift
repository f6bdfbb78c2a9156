/// One item of a k3s `kubelet-arg` / `kube-apiserver-arg` list, such as `max-pods=250`.
///
/// Rules from k3s-io/k3s `pkg/util/args.go` (`GetArgs`): leading `--` is optional, the value is
/// everything after the first `=` (`true` when there is none), `name+=v` appends to k3s's own
/// default for the flag, and `name-=v` prepends to it.
public struct K3sComponentArgument: Sendable, Equatable, CustomStringConvertible {
    public enum Operation: Sendable, Equatable {
        case set
        case append
        case prepend
    }

    /// The flag name without dashes or the `+`/`-` operator.
    public var name: String
    public var value: String
    public var operation: Operation

    public init(name: String, value: String, operation: Operation = .set) {
        self.name = name
        self.value = value
        self.operation = operation
    }

    public init(parsing item: String) {
        let body = item.hasPrefix("--") ? String(item.dropFirst(2)) : item
        let parts = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let rawName = String(parts[0])
        value = parts.count > 1 ? String(parts[1]) : "true"

        if rawName.hasSuffix("+") {
            operation = .append
        } else if rawName.hasSuffix("-") {
            operation = .prepend
        } else {
            operation = .set
        }
        // Go's strings.TrimRight(name, "-+") strips every trailing '-' and '+'.
        var trimmed = Substring(rawName)
        while let last = trimmed.last, last == "-" || last == "+" { trimmed = trimmed.dropLast() }
        name = String(trimmed)
    }

    public var description: String {
        switch operation {
        case .set: "\(name)=\(value)"
        case .append: "\(name)+=\(value)"
        case .prepend: "\(name)-=\(value)"
        }
    }
}

public enum K3sComponentArguments {
    /// Builds the flags k3s passes to an embedded component from its own defaults and the
    /// `*-arg` items, as k3s's `GetArgs` does. An item replaces the default of its flag, `+=`
    /// keeps the default before the new value and `-=` keeps it after. Repeated items all stay,
    /// and flags come out sorted by name.
    public static func resolve(defaults: [String: String], items: [String]) -> [String] {
        var remainingDefaults = defaults
        var values: [String: [String]] = [:]

        for item in items {
            let argument = K3sComponentArgument(parsing: item)
            let initial = remainingDefaults[argument.name]
            let existing = values[argument.name] ?? []

            switch argument.operation {
            case .append:
                values[argument.name] = (initial.map { [$0] } ?? []) + existing + [argument.value]
            case .prepend:
                values[argument.name] = [argument.value] + (initial.map { [$0] } ?? []) + existing
            case .set:
                values[argument.name] = existing + [argument.value]
            }
            remainingDefaults[argument.name] = nil
        }
        for (name, value) in remainingDefaults { values[name] = [value] }

        let names = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return names.flatMap { name in values[name, default: []].map { "--\(name)=\($0)" } }
    }

    /// Collects the feature gates that the items set through `feature-gates=...`, the way the
    /// component's `--feature-gates` flag reads repeated values (k8s.io/component-base
    /// `MapStringBool.Set`): pairs are comma-separated `Gate=bool`, and a later pair wins.
    ///
    /// Throws with the component's own error text for a pair it would reject at start-up.
    public static func featureGates(items: [String], source: String) throws(K3sConfigError) -> [String: Bool] {
        var gates: [String: Bool] = [:]
        for item in items {
            let argument = K3sComponentArgument(parsing: item)
            guard argument.name == "feature-gates" else { continue }

            for pair in argument.value.split(separator: ",", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw K3sConfigError(
                        file: source,
                        message: "invalid argument \"\(argument.value)\" for \"--feature-gates\" flag: malformed pair, expect string=bool"
                    )
                }
                let gate = String(parts[0]).trimmingWhitespace()
                let text = String(parts[1]).trimmingWhitespace()
                guard let enabled = parseGoBool(text) else {
                    throw K3sConfigError(
                        file: source,
                        message: "invalid argument \"\(argument.value)\" for \"--feature-gates\" flag: invalid value of \(gate): \(text), err: strconv.ParseBool: parsing \"\(text)\": invalid syntax"
                    )
                }
                gates[gate] = enabled
            }
        }
        return gates
    }

    // Go's strconv.ParseBool.
    static func parseGoBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }
}

extension K3sEffectiveConfig {
    /// Parses the items of a component argument list such as `kubelet-arg`.
    public func componentArguments(forKey key: String) -> [K3sComponentArgument] {
        list(forKey: key).map(K3sComponentArgument.init(parsing:))
    }

    /// Collects the feature gates that the config files set for one component through the list
    /// under `key` (`kubelet-arg` or `kube-apiserver-arg`). Gates k3s sets on its own are not included.
    public func featureGates(forKey key: String) throws(K3sConfigError) -> [String: Bool] {
        try K3sComponentArguments.featureGates(items: list(forKey: key), source: source(forKey: key) ?? key)
    }
}
