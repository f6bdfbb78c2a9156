#!/usr/bin/env python3
"""Renders the Helm chart with packaging/helm/render (text/template + sprig, no helm
binary) and compares the parsed documents with `harbor-keyless manifests` for the same
settings, including the config.yaml inside the ConfigMap. Also checks the values against
values.schema.json and the chart's own errors.

    python3 packaging/tests/test_helm.py

Needs Go 1.19 (golang-go), sprig and yaml.v2 from Debian (golang-github-masterminds-sprig-dev,
golang-gopkg-yaml.v2-dev under /usr/share/gocode), PyYAML, jsonschema, and a built
harbor-keyless (HARBOR_KEYLESS_BIN, default .build/debug/harbor-keyless).
"""

import json
import os
import subprocess
import sys
import tempfile

import jsonschema
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(REPO, "packaging", "helm", "harbor-keyless")
BINARY = os.environ.get("HARBOR_KEYLESS_BIN", os.path.join(REPO, ".build", "debug", "harbor-keyless"))
NAMESPACE = "harbor-keyless"
# Namespaces every cluster has; neither the chart nor `manifests` may emit them.
BUILT_IN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
results = {"passed": 0, "failed": 0}

# Each case: chart values, and the `manifests` flags that mean the same.
CASES = [
    ("defaults", {}, []),
    ("restart disabled", {"kubelet": {"restart": False}}, ["--restart", "never"]),
    ("no node-audience RBAC", {"nodeAudienceRbac": {"create": False}}, ["--no-node-audience-rbac"]),
    ("audience and matchImages", {"registry": {"audience": "harbor", "matchImages": ["harbor.example.com/team/*", "harbor.example.com/base"]}},
     ["--audience", "harbor", "--match-image", "harbor.example.com/team/*", "--match-image", "harbor.example.com/base"]),
    ("annotation key and username", {"registry": {"serviceAccountAnnotationKey": "harbor.example.com/pull", "username": "robot"}},
     ["--annotation-key", "harbor.example.com/pull", "--username", "robot"]),
    ("image", {"image": {"repository": "registry.example.com/platform/harbor-keyless", "tag": "9.9.9"}},
     ["--image", "registry.example.com/platform/harbor-keyless:9.9.9"]),
    ("two concurrent restarts", {"restart": {"maxConcurrent": 2}}, ["--max-concurrent-restarts", "2"]),
    ("two concurrent restarts, older flag", {"restart": {"maxConcurrent": 2}}, ["--restart-max-concurrent", "2"]),
    ("namespace not created", {"namespace": {"create": False}}, ["--no-create-namespace"]),
    ("team namespace", {}, ["--namespace", "team-a"], "team-a"),
    ("team namespace not created", {"namespace": {"create": False}}, ["--namespace", "team-a", "--no-create-namespace"], "team-a"),
    ("kube-system", {}, ["--namespace", "kube-system"], "kube-system"),
    ("default", {}, ["--namespace", "default"], "default"),
    ("kube-public", {}, ["--namespace", "kube-public"], "kube-public"),
    ("kube-node-lease", {}, ["--namespace", "kube-node-lease"], "kube-node-lease"),
]


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    line = ("ok: " if condition else "FAIL: ") + name
    if not condition and detail:
        line += ": " + detail
    print(line)


def merge(base, override):
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def build_renderer(directory):
    output = os.path.join(directory, "render")
    environment = dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off",
                       GOCACHE=os.path.join(directory, "gocache"), GOFLAGS="")
    subprocess.run(["go", "build", "-o", output, "."], cwd=os.path.join(REPO, "packaging", "helm", "render"),
                   env=environment, check=True)
    return output


def render_chart(renderer, values, directory, namespace=NAMESPACE):
    path = os.path.join(directory, "values.yaml")
    with open(path, "w") as file:
        yaml.safe_dump(values, file)
    return subprocess.run([renderer, "-f", path, "-namespace", namespace, CHART], capture_output=True, text=True)


def render_manifests(flags):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as empty:
        return subprocess.run([BINARY, "manifests", "--config", empty.name, "--registry", "harbor.example.com", *flags],
                              env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)


def normalized(text):
    """Documents by (kind, namespace, name), with the ConfigMap's config.yaml parsed too."""
    documents = {}
    for document in yaml.safe_load_all(text):
        if not document:
            continue
        if document["kind"] == "ConfigMap" and "config.yaml" in document.get("data", {}):
            document["data"]["config.yaml"] = yaml.safe_load(document["data"]["config.yaml"])
        metadata = document["metadata"]
        documents[(document["kind"], metadata.get("namespace", ""), metadata["name"])] = document
    return documents


def differences(left, right, path=""):
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            found += differences(left.get(key, "<missing>"), right.get(key, "<missing>"), f"{path}.{key}")
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = []
        for index, (a, b) in enumerate(zip(left, right)):
            found += differences(a, b, f"{path}[{index}]")
        return found
    return [] if left == right else [f"{path}: chart {left!r} != manifests {right!r}"]


def main():
    with open(os.path.join(CHART, "values.yaml")) as file:
        defaults = yaml.safe_load(file)
    with open(os.path.join(CHART, "values.schema.json")) as file:
        schema = json.load(file)

    with tempfile.TemporaryDirectory() as directory:
        renderer = build_renderer(directory)
        base = {"registry": {"host": "harbor.example.com"}}

        for name, override, flags, *rest in CASES:
            namespace = rest[0] if rest else NAMESPACE
            values = merge(base, override)
            try:
                jsonschema.validate(merge(defaults, values), schema)
                valid = True
            except jsonschema.ValidationError as error:
                valid = False
                print(f"  schema: {error.message}")
            check(f"{name}: values match the schema", valid)

            chart = render_chart(renderer, values, directory, namespace)
            check(f"{name}: chart renders", chart.returncode == 0, chart.stderr.strip())
            manifests = render_manifests(flags)
            check(f"{name}: manifests renders", manifests.returncode == 0, manifests.stderr.strip())
            if chart.returncode or manifests.returncode:
                continue
            chart_documents = normalized(chart.stdout)
            manifest_documents = normalized(manifests.stdout)
            check(f"{name}: same objects", sorted(chart_documents) == sorted(manifest_documents),
                  f"chart {sorted(chart_documents)} manifests {sorted(manifest_documents)}")
            # A Namespace object only for a namespace the release may own and delete.
            expects_namespace = override.get("namespace", {}).get("create", True) and namespace not in BUILT_IN_NAMESPACES
            has_namespace = any(kind == "Namespace" for kind, _, _ in chart_documents)
            check(f"{name}: Namespace object {'present' if expects_namespace else 'absent'}", has_namespace == expects_namespace)
            for key in sorted(set(chart_documents) & set(manifest_documents)):
                found = differences(chart_documents[key], manifest_documents[key])
                check(f"{name}: {key[0]} {key[2]} is the same", not found, "; ".join(found[:5]))

        missing = render_chart(renderer, {}, directory)
        check("missing registry.host fails the render", missing.returncode != 0 and "registry.host is required" in missing.stderr,
              missing.stderr.strip())
        profile = render_chart(renderer, merge(base, {"profile": "rke2"}), directory)
        check("an unknown profile fails the render", profile.returncode != 0 and "rke2" in profile.stderr, profile.stderr.strip())

        for name, values in [
            ("an unknown key", merge(defaults, {"registry": {"host": "h", "hots": "x"}})),
            ("a non-boolean kubelet.restart", merge(defaults, {"registry": {"host": "h"}, "kubelet": {"restart": "yes"}})),
            ("maxConcurrent 0", merge(defaults, {"registry": {"host": "h"}, "restart": {"maxConcurrent": 0}})),
        ]:
            try:
                jsonschema.validate(values, schema)
                rejected = False
            except jsonschema.ValidationError:
                rejected = True
            check(f"schema rejects {name}", rejected)

    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
