#!/usr/bin/env bash
# Measures the time from `harbor-keyless install` start to a verified restart of k3s, without
# the settle window (the minimum, 5 s, is subtracted), on a real systemd node
# (Tests/node/node.sh) running the k3s stand-in.
# Each round changes the registry, so each install rewrites the provider config and restarts.
#
# Usage: bench/restart/run.sh   (ROUNDS=10; needs root, systemd-nspawn and a debug build)
# The stand-in reports ready at once and checks the provider config 0.2 s later; a real k3s
# server takes seconds to tens of seconds to start, which this does not measure.
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${ROUNDS:-10}
swift build >/dev/null
agent=$PWD/.build/debug/harbor-keyless
name=hk-bench-$$
eval "$(bash Tests/node/node.sh start "$name" --enable k3s.service 2>/dev/null)"
trap 'bash Tests/node/node.sh stop "$name" >/dev/null 2>&1' EXIT
printf '0.2\n' >"$NODE_ROOT/etc/k3s-standin/kubelet-delay-seconds"
sleep 2

times=()
for round in $(seq 1 "$rounds"); do
    start=$(date +%s%N)
    DBUS_SYSTEM_BUS_ADDRESS=$NODE_BUS "$agent" install --host-root "$NODE_ROOT" --config /dev/null \
        --registry "harbor-$round.example.com" --settle-window 5s >/tmp/$name.out 2>&1 || {
        cat /tmp/$name.out >&2
        exit 1
    }
    grep -q "restarted k3s.service and verified" /tmp/$name.out
    times+=($(( ($(date +%s%N) - start) / 1000000 - 5000 )))
    # systemd refuses a sixth start of a unit within 10 s (StartLimitBurst=5,
    # StartLimitIntervalSec=10s by default), so rounds are spaced out.
    sleep 2.5
done

printf '%s\n' "${times[@]}" | sort -n | awk -v rounds="$rounds" '
    { t[NR] = $1; sum += $1 }
    END {
        printf "| rounds | mean | median | min | max |\n|---|---|---|---|---|\n"
        printf "| %d | %.0f ms | %d ms | %d ms | %d ms |\n", rounds, sum / NR, t[int((NR + 1) / 2)], t[1], t[NR]
    }'
