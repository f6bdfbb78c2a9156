#!/bin/bash
# Runs every packaging test in order, printing the time of each stage:
# .deb build and lintian, image build and chroot test, manifests, schemas, Helm chart,
# health and pause commands, and the .deb in a booted systemd node.
#
#   bash packaging/tests/run.sh
#
# Builds the release configuration once (`swift build -c release`) and tests those binaries.
# As root with HARBOR_KEYLESS_NODE_TESTS=1 the image chroot test and the node test run too;
# otherwise they report a skip. Needs the packages listed in packaging/README-section.md.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
failed=()

stage() {
    local name=$1
    shift
    local start=$SECONDS
    echo "::: packaging: $name"
    if ! "$@"; then
        failed+=("$name")
    fi
    echo "::: packaging: $name took $((SECONDS - start)) s"
}

stage "release build" swift build -c release
bin=$(swift build -c release --show-bin-path)
export HARBOR_KEYLESS_BIN="$bin/harbor-keyless"
export HARBOR_KEYLESS_PLUGIN="$bin/credential-provider-harbor"

stage "manifests" python3 packaging/tests/test_manifests.py
stage "manifest schemas" bash packaging/tests/validate-manifests.sh
stage "helm chart" python3 packaging/tests/test_helm.py
stage "health and pause" python3 packaging/tests/test_health_pause.py
stage "deb build" env SKIP_BUILD=1 bash packaging/deb/build.sh
stage "lintian" lintian --fail-on error,warning --tag-display-limit 0 "$repo"/out/harbor-keyless_*_amd64.deb
stage "image build" env SKIP_BUILD=1 bash packaging/image/build.sh
stage "image" python3 packaging/tests/test_image.py
stage "image as the DaemonSet runs it, in a systemd node" bash packaging/tests/pod-node.sh
stage "deb in a systemd node" bash packaging/tests/deb-node.sh

if [ ${#failed[@]} -gt 0 ]; then
    echo "packaging: failed stages: ${failed[*]}"
    exit 1
fi
echo "packaging: every stage passed"
