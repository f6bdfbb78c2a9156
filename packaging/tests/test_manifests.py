#!/usr/bin/env python3
"""Checks `harbor-keyless manifests` against the committed output and the rules the
DaemonSet must keep (RBAC, host mounts, probes), and that the ConfigMap's config.yaml is
accepted by the agent's own parser.

    python3 packaging/tests/test_manifests.py [--update]

Needs PyYAML, a built harbor-keyless (HARBOR_KEYLESS_BIN, default .build/debug/harbor-keyless)
and credential-provider-harbor (HARBOR_KEYLESS_PLUGIN, default: next to harbor-keyless, then
.build/release).
--update rewrites the committed files instead of comparing.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("HARBOR_KEYLESS_BIN", os.path.join(REPO, ".build", "debug", "harbor-keyless"))
# The plugin next to the agent, else the release build's.
PLUGIN = os.environ.get("HARBOR_KEYLESS_PLUGIN") or next(
    (path for path in (os.path.join(os.path.dirname(BINARY), "credential-provider-harbor"),
                       os.path.join(REPO, ".build", "release", "credential-provider-harbor"))
     if os.path.exists(path)),
    None)
COMMITTED = {
    "harbor-keyless.yaml": ["--registry", "harbor.example.com"],
    "harbor-keyless-uninstall.yaml": ["--registry", "harbor.example.com", "--uninstall"],
}

results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"ok: {name}")
    else:
        results["failed"] += 1
        print(f"FAIL: {name}" + (f": {detail}" if detail else ""))


def manifests(*arguments):
    """Runs `manifests` with no HARBOR_KEYLESS_* variables and an empty configuration file,
    so the host's /etc/harbor-keyless/config.yaml and environment cannot leak in."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as empty:
        result = subprocess.run(
            [BINARY, "manifests", "--config", empty.name, *arguments],
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
    return result


def documents(text):
    return [document for document in yaml.safe_load_all(text) if document is not None]


def by_kind(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def test_committed_files(update):
    for filename, arguments in COMMITTED.items():
        path = os.path.join(REPO, "packaging", "kubernetes", filename)
        result = manifests(*arguments)
        check(f"manifests {' '.join(arguments)} exits 0", result.returncode == 0, result.stderr.strip())
        if update:
            with open(path, "w") as file:
                file.write(result.stdout)
            continue
        with open(path) as file:
            committed = file.read()
        check(f"{filename} matches the generated output", committed == result.stdout,
              "regenerate with: python3 packaging/tests/test_manifests.py --update")


def test_rbac(docs):
    role = by_kind(docs, "ClusterRole", "harbor-keyless-agent")[0]
    rules = set()
    for rule in role["rules"]:
        if "nonResourceURLs" in rule:
            for url in rule["nonResourceURLs"]:
                for verb in rule["verbs"]:
                    rules.add(("url", url, verb))
            continue
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    rules.add((group, resource, verb))
    expected = {
        ("", "nodes", "get"),
        ("", "nodes/status", "patch"),
        ("", "events", "create"),
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
        ("authentication.k8s.io", "tokenreviews", "create"),
        ("", "nodes/metrics", "get"),
        ("url", "/metrics", "get"),
    }
    check("agent ClusterRole has exactly the expected rules", rules == expected, f"extra {rules - expected}, missing {expected - rules}")
    every_resource = {resource for rule in docs if rule["kind"] in ("ClusterRole", "Role") for r in rule["rules"] for resource in r.get("resources", [])}
    check("no role grants nodes/proxy", "nodes/proxy" not in every_resource)
    check("no role grants serviceaccounts/token", "serviceaccounts/token" not in every_resource)
    check("no role uses a wildcard", "*" not in every_resource)

    lease_role = by_kind(docs, "Role", "harbor-keyless-leases")[0]
    check("lease Role lives in the agent namespace", lease_role["metadata"]["namespace"] == "harbor-keyless")
    check("lease Role covers only leases", lease_role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "delete"]}
    ])

    audience_role = by_kind(docs, "ClusterRole", "harbor-keyless-node-audiences")[0]
    check("node-audience role names the audience", audience_role["rules"] == [
        {"apiGroups": [""], "resources": ["harbor.example.com"], "verbs": ["request-serviceaccounts-token-audience"]}
    ])
    binding = by_kind(docs, "ClusterRoleBinding", "harbor-keyless-node-audiences")[0]
    check("node-audience role is bound to system:nodes", binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}
    ])


def test_daemonset(docs):
    daemonset = by_kind(docs, "DaemonSet", "harbor-keyless")[0]
    pod = daemonset["spec"]["template"]["spec"]
    container = pod["containers"][0]

    host_paths = {v["name"]: v["hostPath"] for v in pod["volumes"] if "hostPath" in v}
    check("no host path is /", all(p["path"] != "/" for p in host_paths.values()))
    files = [p["path"] for p in host_paths.values() if p["type"] != "Directory" and p["type"] != "DirectoryOrCreate"]
    check("only /etc/machine-id is mounted as a file", files == ["/etc/machine-id"], str(files))
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    check("every host path is mounted under /host",
          all(mounts[name]["mountPath"] == "/host" + path["path"] for name, path in host_paths.items()))
    read_only = {host_paths[name]["path"] for name, m in mounts.items() if m.get("readOnly") and name in host_paths}
    check("journal, machine-id, k3s binary, kubelet config and unit directories are read-only", read_only == {
        "/var/log/journal", "/run/log/journal", "/etc/machine-id", "/usr/local/bin",
        "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d", "/etc/systemd/system", "/lib/systemd/system"})
    writable = {host_paths[name]["path"] for name, m in mounts.items() if not m.get("readOnly") and name in host_paths}
    check("only the written directories and the bus are writable", writable == {
        "/etc/rancher/k3s", "/var/lib/rancher/credentialprovider", "/var/lib/harbor-keyless", "/run/dbus"})

    env = {e["name"]: e for e in container["env"]}
    check("host root is /host", env["HARBOR_KEYLESS_HOST_ROOT"].get("value") == "/host")
    check("node name comes from spec.nodeName", env["NODE_NAME"].get("valueFrom") == {"fieldRef": {"fieldPath": "spec.nodeName"}})
    check("system bus is the host's socket", env["DBUS_SYSTEM_BUS_ADDRESS"].get("value") == "unix:path=/host/run/dbus/system_bus_socket")
    check("image is passed to the agent", env["HARBOR_KEYLESS_IMAGE"].get("value") == container["image"])

    check("container is privileged", container["securityContext"].get("privileged") is True)
    check("tolerates every taint", pod["tolerations"] == [{"operator": "Exists"}])
    check("runs as system-node-critical", pod["priorityClassName"] == "system-node-critical")
    check("rolls one node at a time", daemonset["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}})
    check("selects linux amd64 nodes", pod["nodeSelector"] == {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"})
    check("pull policy is IfNotPresent", container["imagePullPolicy"] == "IfNotPresent")
    check("container runs harbor-keyless run", container["command"] == ["/usr/bin/harbor-keyless", "run", "--max-concurrent-restarts", "1"] and "args" not in container)
    for probe in ("livenessProbe", "readinessProbe"):
        check(f"{probe} runs harbor-keyless health", container[probe].get("exec") == {"command": ["/usr/bin/harbor-keyless", "health"]})
    check("no hostNetwork", "hostNetwork" not in pod)
    check("memory limit is set", container["resources"]["limits"].get("memory") == "128Mi")


def test_config_round_trip(docs):
    """The ConfigMap's config.yaml must be accepted by the agent's parser and validator."""
    config = by_kind(docs, "ConfigMap", "harbor-keyless")[0]["data"]["config.yaml"]
    node = tempfile.mkdtemp()
    try:
        shutil.copytree(os.path.join(REPO, "Tests", "Fixtures", "k3s-node"), node, dirs_exist_ok=True)
        path = os.path.join(node, "agent-config.yaml")
        with open(path, "w") as file:
            file.write(config)
        if PLUGIN is None:
            check("credential-provider-harbor is built", False, "build it or set HARBOR_KEYLESS_PLUGIN")
            return
        result = subprocess.run(
            [BINARY, "render", "--config", path, "--host-root", node, "--kubernetes-version", "v1.34.1",
             "--plugin-binary", PLUGIN],
            env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        check("agent renders from the ConfigMap's config.yaml", result.returncode == 0, result.stderr.strip())
        check("rendered provider config names the registry", "harbor.example.com" in result.stdout)
    finally:
        shutil.rmtree(node)


def test_options():
    result = manifests("--registry", "harbor.example.com", "--no-node-audience-rbac", "--namespace", "keyless", "--image", "registry.example.com/hk:1")
    docs = documents(result.stdout)
    check("--no-node-audience-rbac drops the node-audience role", not by_kind(docs, "ClusterRole", "harbor-keyless-node-audiences"))
    check("--namespace moves namespaced objects", {d["metadata"].get("namespace") for d in docs if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")} == {"keyless"})
    check("--namespace moves the binding subject", by_kind(docs, "ClusterRoleBinding", "harbor-keyless-agent")[0]["subjects"][0]["namespace"] == "keyless")
    check("--image sets the container image", by_kind(docs, "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/hk:1")

    missing = manifests()
    check("a missing registry is a usage error", missing.returncode == 64, missing.stderr.strip())
    bad = manifests("--registry", "harbor.example.com", "--namespace", "Bad_Name")
    check("an invalid namespace is a usage error", bad.returncode == 64 and "Bad_Name" in bad.stderr, bad.stderr.strip())

    too_many = manifests("--registry", "harbor.example.com", "--restart-max-concurrent", "101")
    check("more than 100 concurrent restarts is a usage error", too_many.returncode == 64, too_many.stderr.strip())
    two_restarts = manifests("--registry", "harbor.example.com", "--restart-max-concurrent", "2")
    command = by_kind(documents(two_restarts.stdout), "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0]["command"]
    check("--restart-max-concurrent reaches the run command", command[-2:] == ["--max-concurrent-restarts", "2"], str(command))

    new_spelling = manifests("--registry", "harbor.example.com", "--max-concurrent-restarts", "3")
    command = by_kind(documents(new_spelling.stdout), "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0]["command"]
    check("--max-concurrent-restarts reaches the run command", command[-2:] == ["--max-concurrent-restarts", "3"], str(command))
    both = manifests("--registry", "harbor.example.com", "--max-concurrent-restarts", "3", "--restart-max-concurrent", "2")
    check("both spellings together are a usage error", both.returncode == 64, both.stderr.strip())

    # `kubectl delete -f` on the output deletes every Namespace object in it.
    for namespace in ("default", "kube-system", "kube-public", "kube-node-lease"):
        for uninstall in ([], ["--uninstall"]):
            result = manifests("--registry", "harbor.example.com", "--namespace", namespace, *uninstall)
            docs = documents(result.stdout)
            check(f"no Namespace object for {namespace} {' '.join(uninstall)}".strip(),
                  result.returncode == 0 and not by_kind(docs, "Namespace") and by_kind(docs, "ServiceAccount")[0]["metadata"]["namespace"] == namespace,
                  result.stderr.strip())
    existing = manifests("--registry", "harbor.example.com", "--namespace", "team-a", "--no-create-namespace")
    existing_docs = documents(existing.stdout)
    check("--no-create-namespace leaves out the Namespace", existing.returncode == 0 and not by_kind(existing_docs, "Namespace"), existing.stderr.strip())
    check("--no-create-namespace keeps the objects in the namespace",
          {d["metadata"].get("namespace") for d in existing_docs if d["kind"] not in ("ClusterRole", "ClusterRoleBinding")} == {"team-a"})
    team = documents(manifests("--registry", "harbor.example.com", "--namespace", "team-a").stdout)
    check("a new namespace gets its Namespace object", [d["metadata"]["name"] for d in by_kind(team, "Namespace")] == ["team-a"])

    two = manifests("--registry", "harbor.example.com", "--audience", "harbor")
    audience_role = by_kind(documents(two.stdout), "ClusterRole", "harbor-keyless-node-audiences")[0]
    check("--audience sets the node-audience resource", audience_role["rules"][0]["resources"] == ["harbor"])


def main():
    update = "--update" in sys.argv[1:]
    test_committed_files(update)
    if update:
        return 0
    docs = documents(manifests("--registry", "harbor.example.com").stdout)
    test_rbac(docs)
    test_daemonset(docs)
    test_config_round_trip(docs)
    test_options()
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
