internal import YAML

// Builders that keep the manifest code close to the YAML it produces. Keys keep the order
// given, which is the order `kubectl` users expect (apiVersion, kind, metadata, spec).

func mapping(_ pairs: KeyValuePairs<String, YAMLNode>) -> YAMLNode {
    .mapping(pairs.map { YAMLPair(key: $0.key, value: $0.value) })
}

func mapping(_ pairs: [(String, YAMLNode)]) -> YAMLNode {
    .mapping(pairs.map { YAMLPair(key: $0.0, value: $0.1) })
}

func integer(_ value: Int) -> YAMLNode {
    .scalar(String(value))
}

/// Standard labels (app.kubernetes.io) on every object, so one selector finds them all.
func labels(component: String) -> YAMLNode {
    mapping([
        "app.kubernetes.io/name": .string(ManifestOptions.name),
        "app.kubernetes.io/component": .string(component),
        "app.kubernetes.io/version": .string(AgentVersion.current),
    ])
}

func metadata(name: String, namespace: String?, component: String) -> YAMLNode {
    var pairs: [(String, YAMLNode)] = [("name", .string(name))]
    if let namespace {
        pairs.append(("namespace", .string(namespace)))
    }
    pairs.append(("labels", labels(component: component)))
    return mapping(pairs)
}
