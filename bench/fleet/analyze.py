#!/usr/bin/env python3
"""Summarizes a bench/fleet/run.sh run: API requests and bytes per node per hour from the
stand-in's request log (steady state, after the warm-up), extrapolated to the default
heartbeat and API check interval; and the agents' CPU per cycle and memory from their stop
lines and /proc."""
import collections
import glob
import json
import re
import statistics
import sys


def seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def main():
    work, agents, start, stop, stagger = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    interval, heartbeat, api_check = (seconds(x) for x in sys.argv[6:9])

    entries = [json.loads(line) for line in open(work + "/requests.jsonl")]
    kinds = collections.Counter()
    written = collections.Counter()
    received = collections.Counter()
    for entry in entries:
        path = entry["path"]
        if path.endswith("/status"):
            kind = "PATCH nodes/status"
        elif "/events" in path:
            kind = "POST events"
        elif "/leases" in path:
            kind = entry["method"] + " leases"
        elif path.startswith("/api/v1/nodes/"):
            kind = "GET node"
        else:
            kind = entry["method"] + " " + path
        kinds[kind] += 1
        written[kind] += entry.get("requestBytes", 0)
        received[kind] += entry.get("bytes", 0)

    duration = stop - start
    hours = duration / 3600
    print("run: %d agents, %d s, interval %gs, heartbeat %gs, API checks every %gs" % (agents, duration, interval, heartbeat, api_check))
    print("requests over the whole run (start-up included):")
    for kind, count in sorted(kinds.items()):
        print("  %-22s %6d requests, %9d bytes sent by agents, %9d bytes returned" % (kind, count, written[kind], received[kind]))

    # Steady state: the start-up GET, PATCH and Event of each agent are left out, and the
    # time counts from the last agent's start, so the rates slightly overstate the steady state.
    steady_patch = max(kinds["PATCH nodes/status"] - agents, 0)
    steady_get = max(kinds["GET node"] - agents, 0)
    steady_hours = (duration - stagger) / 3600
    patch_rate = steady_patch / agents / steady_hours
    get_rate = steady_get / agents / steady_hours
    patch_bytes = written["PATCH nodes/status"] / max(kinds["PATCH nodes/status"], 1)
    print("steady state per node per hour at these settings: %.1f status PATCHes, %.1f GETs of the Node" % (patch_rate, get_rate))
    print("extrapolated to the defaults (heartbeat 30m, API checks 30m), by scaling each rate with its interval:")
    print("  %.2f writes/node/h (%.0f bytes each, %.0f bytes/node/h), %.2f reads/node/h, 0 Events without transitions"
          % (patch_rate * heartbeat / 1800, patch_bytes, patch_rate * heartbeat / 1800 * patch_bytes, get_rate * api_check / 1800))

    cpu, peak, cycles = [], [], []
    for path in glob.glob(work + "/logs/*.log"):
        for line in open(path):
            if 'msg="stopped"' in line:
                fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
                if fields.get("steadyCPUPerCycleMs", "unknown") != "unknown":
                    cpu.append(float(fields["steadyCPUPerCycleMs"]))
                if fields.get("peakRSSKiB", "unknown") != "unknown":
                    peak.append(int(fields["peakRSSKiB"]))
                cycles.append(int(fields["cycles"]))
    rss = [int(x) for x in open(work + "/rss-kib.txt").read().split()] if glob.glob(work + "/rss-kib.txt") else []
    print("agents that logged a stop line: %d of %d; cycles per agent: median %s" % (len(cycles), agents, statistics.median(cycles) if cycles else "-"))
    if cpu:
        print("CPU per cycle after the first (getrusage): median %.2f ms, max %.2f ms" % (statistics.median(cpu), max(cpu)))
    if peak:
        print("peak RSS (VmHWM): median %.1f MB, max %.1f MB" % (statistics.median(peak) / 1024, max(peak) / 1024))
    if rss:
        print("RSS before stop (VmRSS): median %.1f MB, max %.1f MB, total %.0f MB" % (statistics.median(rss) / 1024, max(rss) / 1024, sum(rss) / 1024))


main()
