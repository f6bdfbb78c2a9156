#!/usr/bin/env bash
# Benchmarks the release credential-provider-harbor against a static C baseline doing the
# same JSON round trip: exec latency (mean, p50, p99 over RUNS runs), binary size stripped
# and unstripped, and peak RSS, printed as a markdown table with the targets
# (latency <= 2x the C baseline, stripped size < 15 MB, peak RSS < 10 MB).
#
# Usage: bench/plugin/run.sh    (RUNS=300 per program in ROUNDS=10 interleaved rounds)
# Needs: swift, gcc with glibc static archives (libc6-dev), strip, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${RUNS:-300}
work=$(mktemp -d /tmp/harbor-keyless-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 1. Build the release plugin, a stripped copy, the C baseline and the harness.
echo "building (swift build -c release --product credential-provider-harbor)..." >&2
if ! (cd "$root" && swift build -c release --product credential-provider-harbor) >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    exit 1
fi
plugin="$(cd "$root" && swift build -c release --show-bin-path)/credential-provider-harbor"
cp "$plugin" "$work/plugin-stripped"
strip "$work/plugin-stripped"
gcc -O2 -static -o "$work/baseline" "$here/baseline.c"
gcc -O2 -o "$work/harness" "$here/harness.c"

for binary in "$plugin" "$work/plugin-stripped" "$work/baseline"; do
    if ! file "$binary" | grep -q "statically linked"; then
        echo "error: $binary is not statically linked: $(file -b "$binary")" >&2
        exit 1
    fi
done

# 2. A kubelet-shaped request whose token expires in one hour.
base64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
exp=$(( $(date +%s) + 3600 ))
header=$(printf '{"alg":"RS256","kid":"bench-key"}' | base64url)
payload=$(printf '{"aud":["harbor.example.com"],"exp":%d,"iat":%d,"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:default:app"}' "$exp" $(( exp - 3600 )) | base64url)
signature=$(head -c 256 /dev/zero | base64url)
token="$header.$payload.$signature"
printf '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"harbor.example.com/library/app","serviceAccountToken":"%s","serviceAccountAnnotations":{}}' "$token" >"$work/request.json"

# 3. Both programs must give the same credentials before their speed means anything.
#    The harness treats a non-zero exit as a failure, so a broken run cannot look fast.
"$work/plugin-stripped" --username=jwt <"$work/request.json" >"$work/plugin.out"
"$work/baseline" <"$work/request.json" >"$work/baseline.out"
python3 - "$work/plugin.out" "$work/baseline.out" <<'PY'
import json, sys
plugin, baseline = (json.load(open(path)) for path in sys.argv[1:3])
if plugin["auth"] != baseline["auth"] or plugin["cacheKeyType"] != baseline["cacheKeyType"]:
    sys.exit("error: the plugin and the C baseline return different credentials")
PY

# 4. Measure in interleaved rounds, so load from other processes falls on every program
#    alike; each round runs every program RUNS/ROUNDS times after a short warm-up.
rounds=${ROUNDS:-10}
per_round=$(( (runs + rounds - 1) / rounds ))
rss_plugin=0; rss_unstripped=0; rss_baseline=0
peak() { sed -n 's/.*max_rss_kb=\([0-9]*\).*/\1/p'; }
for round in $(seq "$rounds"); do
    r=$("$work/harness" "$per_round" 5 "$work/request.json" "$work/plugin.samples" "$work/plugin-stripped" --username=jwt | peak)
    rss_plugin=$(( r > rss_plugin ? r : rss_plugin ))
    r=$("$work/harness" "$per_round" 5 "$work/request.json" "$work/baseline.samples" "$work/baseline" | peak)
    rss_baseline=$(( r > rss_baseline ? r : rss_baseline ))
    r=$("$work/harness" "$per_round" 5 "$work/request.json" "$work/unstripped.samples" "$plugin" --username=jwt | peak)
    rss_unstripped=$(( r > rss_unstripped ? r : rss_unstripped ))
done

size() { stat -c %s "$1"; }
python3 - "$work" "$rss_plugin" "$rss_unstripped" "$rss_baseline" \
    "$(size "$work/plugin-stripped")" "$(size "$plugin")" "$(size "$work/baseline")" <<'PY'
import math, sys
work = sys.argv[1]
rss = [int(value) * 1024 for value in sys.argv[2:5]]
sizes = [int(value) for value in sys.argv[5:8]]

def stats(name):
    samples = sorted(float(line) for line in open(f"{work}/{name}.samples"))
    rank = lambda q: samples[max(0, math.ceil(q * len(samples)) - 1)]
    return {"n": len(samples), "mean": sum(samples) / len(samples), "p50": rank(0.50), "p99": rank(0.99)}

plugin, unstripped, baseline = stats("plugin"), stats("unstripped"), stats("baseline")
mb = lambda n: n / 1e6
print("| program | size (MB) | mean (ms) | p50 (ms) | p99 (ms) | peak RSS (MB) |")
print("|---|---|---|---|---|---|")
rows = [("credential-provider-harbor, stripped", plugin, sizes[0], rss[0]),
        ("credential-provider-harbor, unstripped", unstripped, sizes[1], rss[1]),
        ("C baseline (gcc -O2 -static)", baseline, sizes[2], rss[2])]
for name, row, size, peak in rows:
    print(f"| {name} | {mb(size):.1f} | {row['mean']/1e3:.2f} | {row['p50']/1e3:.2f} | {row['p99']/1e3:.2f} | {mb(peak):.1f} |")

mean_ratio = plugin["mean"] / baseline["mean"]
p50_ratio = plugin["p50"] / baseline["p50"]
p99_ratio = plugin["p99"] / baseline["p99"]
print()
print(f"runs per program: {plugin['n']}, in interleaved rounds")
print()
print("| target | measured | met |")
print("|---|---|---|")
print(f"| mean latency <= 2x C baseline | {mean_ratio:.2f}x | {'yes' if mean_ratio <= 2 else 'no'} |")
print(f"| p50 latency <= 2x C baseline | {p50_ratio:.2f}x | {'yes' if p50_ratio <= 2 else 'no'} |")
print(f"| p99 latency <= 2x C baseline | {p99_ratio:.2f}x | {'yes' if p99_ratio <= 2 else 'no'} |")
print(f"| stripped size < 15 MB | {mb(sizes[0]):.1f} MB | {'yes' if sizes[0] < 15e6 else 'no'} |")
print(f"| peak RSS < 10 MB | {mb(rss[0]):.1f} MB | {'yes' if rss[0] < 10e6 else 'no'} |")
PY
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
