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
checks_passed=0
checks_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs one stage, records its failure, and adds the stage's own "N passed, N failed" line
# (or 1 passed/1 failed for a stage without one) to the totals.
stage() {
    local name=$1
    shift
    local start=$SECONDS status=0 counts
    echo "::: packaging: $name"
    "$@" 2>&1 | tee "$log" || status=$?
    [ "$status" = 0 ] || failed+=("$name")
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1 || true)
    if [ -n "$counts" ]; then
        checks_passed=$((checks_passed + $(echo "$counts" | cut -d' ' -f1)))
        checks_failed=$((checks_failed + $(echo "$counts" | cut -d' ' -f3)))
    elif [ "$status" = 0 ]; then
        checks_passed=$((checks_passed + 1))
    fi
    if [ "$status" != 0 ] && [ -z "$counts" ]; then
        checks_failed=$((checks_failed + 1))
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
fi
echo "$checks_passed passed, $checks_failed failed"
[ ${#failed[@]} -eq 0 ]
