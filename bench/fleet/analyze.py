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
        path = re.sub(r"node-\d+", "NODE", entry["path"].split("?", 1)[0])
        path = re.sub(r"/events/[^/]+$", "/events/NAME", path)
        kind = entry["method"] + " " + path
        kinds[kind] += 1
        written[kind] += entry.get("requestBytes", 0)
        received[kind] += entry.get("bytes", 0)

    duration = stop - start
    print("run: %d agents, %d s, interval %gs, heartbeat %gs, API checks every %gs" % (agents, duration, interval, heartbeat, api_check))
    print("requests over the whole run, start-up included (NODE stands for each node's name):")
    for kind, count in sorted(kinds.items()):
        print("  %-70s %6d requests, %9d bytes sent, %9d bytes returned" % (kind, count, written[kind], received[kind]))

    # Steady state: each agent's start-up request of every kind is left out, and time counts
    # from the last agent's start. Status PATCHes scale with the heartbeat, Events happen only
    # on transitions, and every other request with the API check interval.
    steady_hours = (duration - stagger) / 3600
    total_reads = total_writes = total_write_bytes = 0.0
    print("steady state per node per hour, measured, then extrapolated to the defaults (heartbeat 30m, API checks 30m):")
    for kind, count in sorted(kinds.items()):
        steady = max(count - agents, 0) / agents / steady_hours
        if "/events" in kind:
            scale = 0.0
        elif kind.startswith("PATCH") and kind.endswith("/status"):
            scale = heartbeat / 1800
        else:
            scale = api_check / 1800
        per_request = written[kind] / count if count else 0
        default_rate = steady * scale
        print("  %-70s %7.1f/h measured, %5.2f/h at defaults" % (kind, steady, default_rate))
        if kind.startswith("GET"):
            total_reads += default_rate
        else:
            total_writes += default_rate
            total_write_bytes += default_rate * per_request
    print("at defaults, per node per hour (estimate): %.2f reads, %.2f writes, %.0f bytes written" % (total_reads, total_writes, total_write_bytes))

    cpu, child, peak, cycles = [], [], [], []
    for path in glob.glob(work + "/logs/*.log"):
        for line in open(path):
            if 'msg="stopped"' in line:
                fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
                if fields.get("steadyCPUPerCycleMs", "unknown") != "unknown":
                    cpu.append(float(fields["steadyCPUPerCycleMs"]))
                if fields.get("childCPUPerCycleMs", "unknown") != "unknown":
                    child.append(float(fields["childCPUPerCycleMs"]))
                if fields.get("peakRSSKiB", "unknown") != "unknown":
                    peak.append(int(fields["peakRSSKiB"]))
                cycles.append(int(fields["cycles"]))
    rss = [int(x) for x in open(work + "/rss-kib.txt").read().split()] if glob.glob(work + "/rss-kib.txt") else []
    print("agents that logged a stop line: %d of %d; cycles per agent: median %s" % (len(cycles), agents, statistics.median(cycles) if cycles else "-"))
    if cpu:
        print("CPU per cycle after the first (getrusage): median %.2f ms, max %.2f ms" % (statistics.median(cpu), max(cpu)))
    if child:
        print("CPU per cycle of child processes (k3s --version, plugin runs by checks): median %.2f ms, max %.2f ms" % (statistics.median(child), max(child)))
    if peak:
        print("peak RSS (VmHWM): median %.1f MB, max %.1f MB" % (statistics.median(peak) / 1024, max(peak) / 1024))
    if rss:
        print("RSS before stop (VmRSS): median %.1f MB, max %.1f MB, total %.0f MB" % (statistics.median(rss) / 1024, max(rss) / 1024, sum(rss) / 1024))


main()
