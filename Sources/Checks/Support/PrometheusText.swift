/// Samples read from the Prometheus text exposition format (version 0.0.4), only as far as
/// these checks need: metric name, labels and value of each sample line.
struct PrometheusSample: Sendable, Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

enum PrometheusText {
    /// Parses sample lines; comments, blank lines and lines that do not parse are skipped.
    static func samples(_ text: String, named name: String) -> [PrometheusSample] {
        text.split(separator: "\n").compactMap { line -> PrometheusSample? in
            guard line.hasPrefix(name) else { return nil }
            return sample(Substring(line))
        }.filter { $0.name == name }
    }

    static func sample(_ line: Substring) -> PrometheusSample? {
        var rest = line[...]
        let name = String(rest.prefix { $0 != "{" && $0 != " " })
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while let first = rest.first, first != "}" {
                if first == "," || first == " " {
                    rest = rest.dropFirst()
                    continue
                }
                let key = String(rest.prefix { $0 != "=" })
                rest = rest.dropFirst(key.count)
                guard rest.first == "=" else { return nil }
                rest = rest.dropFirst()
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[key.trimmingSpaces] = value
            }
            guard rest.first == "}" else { return nil }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) else { return nil }
        return PrometheusSample(name: name, labels: labels, value: value)
    }

    /// Returns every gate in `kubernetes_feature_enabled` with whether it is on.
    static func featureGates(_ text: String) -> [String: Bool] {
        var gates: [String: Bool] = [:]
        for sample in samples(text, named: "kubernetes_feature_enabled") {
            if let name = sample.labels["name"], gates[name] == nil {
                gates[name] = sample.value == 1
            }
        }
        return gates
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
