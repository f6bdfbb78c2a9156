#!/usr/bin/env python3
"""Checks the built image: its configuration (entrypoint, labels, no user), that its root
file system holds only the expected files, and that both executables run from it under
chroot with nothing from the host: `harbor-keyless version`, `harbor-keyless manifests`,
and the plugin answering a CredentialProviderRequest on stdin.

    python3 packaging/tests/test_image.py

Needs root, skopeo, tar, and out/harbor-keyless-image.oci.tar from packaging/image/build.sh.
Skips unless HARBOR_KEYLESS_NODE_TESTS=1 (chroot and mount need root).
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARCHIVE = os.path.join(REPO, "out", "harbor-keyless-image.oci.tar")
DOCKER_ARCHIVE = os.path.join(REPO, "out", "harbor-keyless-image.tar")
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    line = ("ok: " if condition else "FAIL: ") + name
    if not condition and detail:
        line += ": " + detail
    print(line)


def inspect(transport):
    output = subprocess.run(["skopeo", "inspect", "--config", transport], check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def unpack(directory):
    """Extracts the OCI archive's layers in order into directory/rootfs."""
    layout = os.path.join(directory, "layout")
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(layout)
    with open(os.path.join(layout, "index.json")) as file:
        manifest_digest = json.load(file)["manifests"][0]["digest"]

    def blob(digest):
        return os.path.join(layout, "blobs", *digest.split(":"))

    with open(blob(manifest_digest)) as file:
        manifest = json.load(file)
    rootfs = os.path.join(directory, "rootfs")
    os.makedirs(rootfs)
    for layer in manifest["layers"]:
        with tarfile.open(blob(layer["digest"])) as archive:
            archive.extractall(rootfs)
    return rootfs


def fake_token(expires):
    """A token with the shape of a service account JWT. The plugin decodes only `exp` and
    never checks the signature, so an unsigned test token is enough."""
    def encode(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    header = encode({"alg": "RS256", "kid": "test"})
    claims = encode({"sub": "system:serviceaccount:default:app", "aud": ["harbor.example.com"], "exp": expires})
    return f"{header}.{claims}.c2lnbmF0dXJl"


def test_config():
    config = inspect(f"oci-archive:{ARCHIVE}")
    settings = config.get("config", {})
    check("entrypoint is harbor-keyless run", settings.get("Entrypoint") == ["/usr/bin/harbor-keyless", "run"], str(settings.get("Entrypoint")))
    check("no user is set, so it runs as root", not settings.get("User"))
    labels = settings.get("Labels", {})
    for key in ("source", "version", "licenses", "title", "description"):
        check(f"label org.opencontainers.image.{key} is set", bool(labels.get(f"org.opencontainers.image.{key}")))
    check("license label is Apache-2.0", labels.get("org.opencontainers.image.licenses") == "Apache-2.0")
    docker = inspect(f"docker-archive:{DOCKER_ARCHIVE}")
    check("docker archive has the same entrypoint", docker.get("config", {}).get("Entrypoint") == settings.get("Entrypoint"))


def test_rootfs(rootfs):
    files = []
    for directory, _, names in os.walk(rootfs):
        for name in names:
            files.append(os.path.relpath(os.path.join(directory, name), rootfs))
    check("no shell in the image", not any(path.endswith("/sh") or path.endswith("/bash") for path in files))
    check("no /etc/passwd in the image", "etc/passwd" not in files)
    check("CA bundle is present", "etc/ssl/certs/ca-certificates.crt" in files)
    check("loader is present", "lib64/ld-linux-x86-64.so.2" in files)
    symlinks = [path for path in files if os.path.islink(os.path.join(rootfs, path))]
    check("no symbolic links in the image", not symlinks, str(symlinks))
    unexpected = [path for path in files if not (path.startswith("lib/x86_64-linux-gnu/") or path in (
        "usr/bin/harbor-keyless", "usr/lib/harbor-keyless/credential-provider-harbor",
        "lib64/ld-linux-x86-64.so.2", "etc/ssl/certs/ca-certificates.crt"))]
    check("only the executables, libraries, loader and CA bundle", not unexpected, str(unexpected))


def chroot(rootfs, *command, stdin=None):
    return subprocess.run(["/usr/sbin/chroot", rootfs, *command], input=stdin, capture_output=True, env={"PATH": "/usr/bin"}, timeout=60)


def test_run(rootfs):
    # /proc is what the Swift runtime reads at start-up; the pod has it too.
    proc = os.path.join(rootfs, "proc")
    os.makedirs(proc, exist_ok=True)
    subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    try:
        version = chroot(rootfs, "/usr/bin/harbor-keyless", "version")
        check("harbor-keyless version runs in the image", version.returncode == 0 and version.stdout.startswith(b"harbor-keyless "),
              version.stderr.decode(errors="replace"))

        manifests = chroot(rootfs, "/usr/bin/harbor-keyless", "manifests", "--registry", "harbor.example.com")
        check("harbor-keyless manifests runs in the image (libyaml)", manifests.returncode == 0 and b"kind: DaemonSet" in manifests.stdout,
              manifests.stderr.decode(errors="replace"))

        token = fake_token(int(time.time()) + 7200)
        request = json.dumps({
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "kind": "CredentialProviderRequest",
            "image": "harbor.example.com/library/app:1",
            "serviceAccountToken": token,
        }).encode()
        plugin = chroot(rootfs, "/usr/lib/harbor-keyless/credential-provider-harbor", "--username=jwt", stdin=request)
        check("plugin exits 0 in the image", plugin.returncode == 0, plugin.stderr.decode(errors="replace"))
        try:
            response = json.loads(plugin.stdout)
        except ValueError:
            response = {}
        auth = response.get("auth", {}).get("harbor.example.com", {})
        check("plugin returns the response kind", response.get("kind") == "CredentialProviderResponse")
        check("plugin returns username jwt", auth.get("username") == "jwt")
        # Compared, never printed.
        check("plugin returns the token as password", auth.get("password") == token)
    finally:
        subprocess.run(["umount", proc])


def main():
    if os.environ.get("HARBOR_KEYLESS_NODE_TESTS") != "1" or os.geteuid() != 0:
        print("skip: test_image.py needs root and HARBOR_KEYLESS_NODE_TESTS=1 (chroot, mount)")
        print("0 passed, 0 failed, 1 skipped")
        return 0
    if not os.path.exists(ARCHIVE):
        print(f"error: {ARCHIVE} not found; run packaging/image/build.sh", file=sys.stderr)
        return 1
    directory = tempfile.mkdtemp()
    try:
        test_config()
        rootfs = unpack(directory)
        test_rootfs(rootfs)
        test_run(rootfs)
    finally:
        shutil.rmtree(directory)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
