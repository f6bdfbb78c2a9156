#!/usr/bin/env bash
# Fleet benchmark: AGENTS real `harbor-keyless run` processes, each on its own copy of the k3s
# node fixture, against the kube-apiserver stand-in (Tests/apistandin/standin.py). Intervals
# are shortened so a few minutes show steady state; analyze.py extrapolates the request log
# to the default heartbeat and API check interval (30 min each) and prints that it did.
#
# Usage: bench/fleet/run.sh [AGENTS] [SECONDS]
# Environment: BIN (directory with harbor-keyless and credential-provider-harbor; default the
# release build), INTERVAL (5s), HEARTBEAT (60s), API_CHECK (60s).
set -euo pipefail

AGENTS=${1:-200}
SECONDS_TO_RUN=${2:-240}
INTERVAL=${INTERVAL:-5s}
HEARTBEAT=${HEARTBEAT:-60s}
API_CHECK=${API_CHECK:-60s}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$REPO/.build/release}
WORK=$(mktemp -d /tmp/hk-fleet.XXXXXX)
echo "work directory: $WORK"

cleanup() {
    for pidfile in "$WORK"/pids/*; do
        [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    exec 3>&- 2>/dev/null || true
}
trap cleanup EXIT

# 1. The API stand-in with AGENTS nodes and the agent's RBAC; it exits when fd 3 closes.
python3 - "$WORK" "$AGENTS" "$REPO" <<'PY'
import json, sys
work, agents, repo = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bindings = json.load(open(repo + "/Tests/apistandin/agent-rbac.json"))
config = {
    "clients": [],
    "nodes": {"node-%d" % i: {} for i in range(agents)},
    "bindings": bindings,
    "tokenFile": work + "/tokens.json",
    "requestLog": work + "/requests.jsonl",
}
json.dump(config, open(work + "/standin.json", "w"))
json.dump({"fleet-agent-token": {"user": "system:serviceaccount:harbor-keyless:harbor-keyless",
                                 "groups": ["system:serviceaccounts", "system:serviceaccounts:harbor-keyless"]}},
          open(work + "/tokens.json", "w"))
PY
mkfifo "$WORK/standin.stdin"
python3 "$REPO/Tests/apistandin/standin.py" --config "$WORK/standin.json" --dir "$WORK/pki" < "$WORK/standin.stdin" > "$WORK/standin.out" 2> "$WORK/standin.err" &
exec 3> "$WORK/standin.stdin"
for _ in $(seq 100); do [ -s "$WORK/standin.out" ] && break; sleep 0.1; done
PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/standin.out")
cat > "$WORK/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $WORK/pki/ca/ca.crt
users:
- name: agent
  user:
    token: fleet-agent-token
contexts:
- name: standin
  context: {cluster: standin, user: agent}
current-context: standin
KC
printf 'registries:\n  - host: harbor.example.com\n' > "$WORK/agent.yaml"

# 2. The agents, started 20 ms apart.
mkdir -p "$WORK/pids" "$WORK/logs" "$WORK/nodes"
START=$(date +%s)
for i in $(seq 0 $((AGENTS - 1))); do
    root="$WORK/nodes/node-$i"
    mkdir -p "$root" && cp -a "$REPO/Tests/Fixtures/k3s-node/." "$root/"
    env -u NODE_NAME -u POD_NAMESPACE "$BIN/harbor-keyless" run --host-root "$root" --config "$WORK/agent.yaml" \
        --restart never --plugin-binary "$BIN/credential-provider-harbor" \
        --kubeconfig "$WORK/kubeconfig" --node-name "node-$i" --namespace harbor-keyless \
        --interval "$INTERVAL" --heartbeat "$HEARTBEAT" --api-check-interval "$API_CHECK" \
        --listen 127.0.0.1:0 2> "$WORK/logs/node-$i.log" &
    echo $! > "$WORK/pids/node-$i"
    sleep 0.02
done
STAGGER=$(( $(date +%s) - START ))
echo "started $AGENTS agents in $STAGGER s; running ${SECONDS_TO_RUN} s"
sleep "$SECONDS_TO_RUN"

# 3. Resident memory now, then stop every agent and read its stop line.
for pidfile in "$WORK"/pids/*; do
    pid=$(cat "$pidfile")
    awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null >> "$WORK/rss-kib.txt" || true
done
STOP=$(date +%s)
for pidfile in "$WORK"/pids/*; do kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; done
wait_deadline=$(( $(date +%s) + 10 ))
for pidfile in "$WORK"/pids/*; do
    while kill -0 "$(cat "$pidfile")" 2>/dev/null && [ "$(date +%s)" -lt "$wait_deadline" ]; do sleep 0.05; done
done
rm -f "$WORK"/pids/*

python3 "$REPO/bench/fleet/analyze.py" "$WORK" "$AGENTS" "$START" "$STOP" "$STAGGER" "$INTERVAL" "$HEARTBEAT" "$API_CHECK"
