#!/bin/bash
# Runs the image the way the committed DaemonSet runs it, against a booted Debian node: the
# image's root file system, only the hostPath mounts the manifest lists (under /host, read-only
# where the manifest marks them), the ConfigMap's config.yaml and the manifest's environment. In that
# "pod" it runs `install` (restarting the k3s stand-in over the node's system bus) and then,
# with only the uninstall manifest's mounts, `uninstall`. So the mount list is shown to be
# enough, and the read-only mounts to stay unwritten.
#
#   packaging/tests/pod-node.sh
#
# Needs root, python3 with PyYAML, the node harness (Tests/node/node.sh or NODE_SH) and
# out/harbor-keyless-image.oci.tar. Skips unless HARBOR_KEYLESS_NODE_TESTS=1.
# NOTE: no kubelet or container runtime runs here. This checks the file system and bus
# layout the manifest gives the agent, not the pod's scheduling or security context.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
node_sh=${NODE_SH:-$repo/Tests/node/node.sh}
archive="$repo/out/harbor-keyless-image.oci.tar"
name=pkg-pod-$$
passed=0
failed=0

if [ "${HARBOR_KEYLESS_NODE_TESTS:-0}" != 1 ]; then
    echo "skip: pod-node.sh boots a systemd-nspawn node as root; set HARBOR_KEYLESS_NODE_TESTS=1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
[ -f "$archive" ] || { echo "error: $archive not found; run packaging/image/build.sh" >&2; exit 1; }

# shellcheck source=packaging/tests/node-check.sh
. "$(dirname "$0")/node-check.sh"

work=$(mktemp -d)
cleanup() { "$node_sh" stop "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# 1. The image's root file system, from the OCI archive's layers.
python3 - "$archive" "$work/rootfs" <<'PY'
import json, os, sys, tarfile
archive, rootfs = sys.argv[1], sys.argv[2]
layout = rootfs + ".layout"
tarfile.open(archive).extractall(layout)
blob = lambda digest: os.path.join(layout, "blobs", *digest.split(":"))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
os.makedirs(rootfs)
for layer in manifest["layers"]:
    tarfile.open(blob(layer["digest"])).extractall(rootfs)
PY

# 2. Mounts, config and environment of the agent container and the uninstall init container.
python3 - "$repo/packaging/kubernetes" "$work" <<'PY'
import os, sys, yaml
directory, work = sys.argv[1], sys.argv[2]
def container(filename, daemonset, init):
    documents = [d for d in yaml.safe_load_all(open(os.path.join(directory, filename))) if d]
    pod = next(d for d in documents if d["kind"] == "DaemonSet" and d["metadata"]["name"] == daemonset)["spec"]["template"]["spec"]
    spec = (pod["initContainers"] if init else pod["containers"])[0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    return documents, spec, volumes
for filename, daemonset, init, prefix in [
    ("harbor-keyless.yaml", "harbor-keyless", False, "agent"),
    ("harbor-keyless-uninstall.yaml", "harbor-keyless-uninstall", True, "uninstall"),
]:
    documents, spec, volumes = container(filename, daemonset, init)
    with open(os.path.join(work, prefix + ".mounts"), "w") as out:
        for mount in spec["volumeMounts"]:
            volume = volumes[mount["name"]]
            source = volume["hostPath"]["path"] if "hostPath" in volume else "configmap"
            out.write(f"{source} {mount['mountPath']} {'ro' if mount.get('readOnly') else 'rw'} {volume.get('hostPath', {}).get('type', '-')}\n")
    with open(os.path.join(work, prefix + ".env"), "w") as out:
        for variable in spec.get("env", []):
            value = variable.get("value")
            if value is None:
                value = "pod-node-test" if variable["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName" else "harbor-keyless"
            out.write(f"{variable['name']}={value}\n")
config = next(d for d in documents if d["kind"] == "ConfigMap")["data"]["config.yaml"]
open(os.path.join(work, "config.yaml"), "w").write(config)
PY

"$node_sh" start "$name" --enable k3s.service > "$work/info"
eval "$(grep -E '^NODE_(ROOT|DIR)=' "$work/info")"

# Runs the image's harbor-keyless in a private mount namespace with one container's mounts.
# Host paths resolve inside the node root. /run is the exception, because it lives in the
# container's tmpfs, so the system bus comes from NODE_DIR/bus, where the harness binds it.
run_in_pod() {
    local container=$1
    shift
    NODE_ROOT=$NODE_ROOT NODE_DIR=$NODE_DIR WORK=$work CONTAINER=$container \
        unshare --mount --propagation private bash -euo pipefail -s "$@" <<'INNER'
rootfs=$WORK/rootfs
while read -r source target mode type; do
    if [ "$type" = File ]; then
        mkdir -p "$(dirname "$rootfs$target")"
        touch "$rootfs$target"
    else
        mkdir -p "$rootfs$target"
    fi
    case $source in
        configmap) host=$WORK/configmap ; mkdir -p "$host"; cp "$WORK/config.yaml" "$host/config.yaml" ;;
        /run/dbus) host=$NODE_DIR/bus ;;
        /run/*) host=$WORK/run$source; mkdir -p "$host" ;;
        *) host=$NODE_ROOT$source ;;
    esac
    if [ "$type" = DirectoryOrCreate ]; then mkdir -p "$host"; fi
    mount --bind "$host" "$rootfs$target"
    if [ "$mode" = ro ]; then mount -o remount,bind,ro "$rootfs$target"; fi
done < "$WORK/$CONTAINER.mounts"
mkdir -p "$rootfs/proc"
mount -t proc proc "$rootfs/proc"
exec env -i $(cat "$WORK/$CONTAINER.env") /usr/sbin/chroot "$rootfs" /usr/bin/harbor-keyless "$@"
INNER
}

# 3. install in the agent's pod. The stand-in k3s is a Python script, which the image cannot
#    run (real k3s is a static binary), so the version is given.
k3s_before=$(on_node systemctl show -P InvocationID k3s.service)
if run_in_pod agent install --kubernetes-version v1.34.1 --settle-window 5s > "$work/install.log" 2>&1; then status=0; else status=$?; fi
check "install in the agent pod exits 0" test "$status" = 0
[ "$status" = 0 ] || cat "$work/install.log"
check "plugin written through /host" test -x "$NODE_ROOT/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"
check "drop-in written through /host" test -f "$NODE_ROOT/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
check "state written through /host" test -f "$NODE_ROOT/var/lib/harbor-keyless/state.json"
check "k3s restarted over the mounted system bus" test "$(on_node systemctl show -P InvocationID k3s.service)" != "$k3s_before"
check "k3s active after the restart" test "$(on_node systemctl is-active k3s.service || true)" = active

# A read-only mount stays read-only: state pointed into /usr/local/bin cannot be written.
if run_in_pod agent install --kubernetes-version v1.34.1 --restart never --state-dir /usr/local/bin/hk-state > "$work/readonly.log" 2>&1; then status=0; else status=$?; fi
check "install fails on a read-only mount" test "$status" != 0
check "read-only mount left unwritten" test ! -e "$NODE_ROOT/usr/local/bin/hk-state"

# 4. uninstall with only the uninstall manifest's mounts.
k3s_after_install=$(on_node systemctl show -P InvocationID k3s.service)
if run_in_pod uninstall uninstall --restart never > "$work/uninstall.log" 2>&1; then status=0; else status=$?; fi
check "uninstall in the uninstall pod exits 0" test "$status" = 0
[ "$status" = 0 ] || cat "$work/uninstall.log"
check "uninstall removed the drop-in" test ! -e "$NODE_ROOT/etc/rancher/k3s/config.yaml.d/99-credential-provider-harbor.yaml"
check "uninstall removed the provider config" test ! -e "$NODE_ROOT/var/lib/rancher/credentialprovider/config.yaml"
check "uninstall keeps the plugin until k3s restarts" test -x "$NODE_ROOT/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"
check "k3s was not restarted by the uninstall pod" test "$(on_node systemctl show -P InvocationID k3s.service)" = "$k3s_after_install"

# 5. Once k3s has restarted, the kubelet no longer runs the plugin, and `uninstall --force`
#    removes it. Without --force the agent keeps it, because it does not notice a restart
#    that it did not do itself.
on_node systemctl restart k3s.service
if run_in_pod uninstall uninstall --restart never --force > "$work/uninstall2.log" 2>&1; then status=0; else status=$?; fi
check "second uninstall exits 0" test "$status" = 0
[ "$status" = 0 ] || cat "$work/uninstall2.log"
check "second uninstall removed the plugin" test ! -e "$NODE_ROOT/var/lib/rancher/credentialprovider/bin/credential-provider-harbor"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
