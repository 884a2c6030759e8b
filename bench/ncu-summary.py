#!/usr/bin/env python3
"""Sums Nsight Compute's per-kernel gpu__time_duration (ncu --csv --metrics gpu__time_duration.sum) by kernel name: the kernels
that take a run's GPU time, largest first. usage: ncu-summary.py ncu.csv [top]"""
import csv
import sys
from collections import defaultdict

path = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
rows = []
with open(path, newline="", errors="replace") as f:
    lines = [l for l in f if l.startswith('"')]
for r in csv.DictReader(lines):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    unit = r.get("Metric Unit", "")
    v = float(str(r.get("Metric Value", "0")).replace(",", ""))
    ns = v * {"nsecond": 1, "usecond": 1e3, "msecond": 1e6, "second": 1e9}.get(unit, 1)
    rows.append((r.get("Kernel Name", "?"), ns))
total = sum(ns for _, ns in rows)
by = defaultdict(lambda: [0, 0.0])
for name, ns in rows:
    by[name][0] += 1
    by[name][1] += ns
print("kernels %d, GPU time %.2f ms" % (len(rows), total / 1e6))
print("%8s %10s %7s  %s" % ("launches", "ms", "share", "kernel"))
for name, (n, ns) in sorted(by.items(), key=lambda kv: -kv[1][1])[:top]:
    print("%8d %10.3f %6.1f%%  %s" % (n, ns / 1e6, 100 * ns / max(total, 1), name[:150]))
