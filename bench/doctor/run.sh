#!/usr/bin/env bash
# Times `harbor-keyless doctor` on a copy of the k3s node tree after an install, with no API
# access (host, restart, version, gate and journal checks run; API checks skip), using
# hyperfine. The registry check is skipped: it would resolve a name outside this machine.
#
# Usage: bench/doctor/run.sh   (RUNS=30; needs hyperfine and a debug build)
set -euo pipefail
cd "$(dirname "$0")/../.."

swift build >/dev/null
agent=$PWD/.build/debug/harbor-keyless
node=$(mktemp -d /tmp/harbor-keyless-bench-doctor.XXXXXX)
trap 'rm -rf "$node"' EXIT
cp -a Tests/Fixtures/k3s-node/. "$node/"
"$agent" install --host-root "$node" --registry harbor.example.com --restart never --config /dev/null >/dev/null

hyperfine --runs "${RUNS:-30}" --warmup 3 -i --style basic \
    "$agent doctor --host-root $node --registry harbor.example.com --config /dev/null --skip registry.reachable --output json"
