#!/usr/bin/env python3
"""Compares two processes sampled together by `perf record -p A,B` (see profile-pair.sh), per request: by thread, by
leaf frame (largest differences first) and, inclusive, by each frame pattern given. Every figure is a share of A's
CPU per request, so B - A is what the variant costs per request, where it is spent.

Usage: perf-pair.py PERF_SCRIPT_TXT PID_A REQ_PER_S_A PID_B REQ_PER_S_B [FRAME_REGEX|FRAME_REGEX...]
(perf script -F comm,pid,tid,ip,sym)
"""
import collections
import re
import sys


def samples(path):
    """Yields (pid, thread name, [frames from leaf to root]) per sample."""
    pid, thread, frames = None, None, []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if pid is not None and frames:
                    yield pid, thread, frames
                pid, thread, frames = None, None, []
            elif line[0] not in " \t":
                m = re.match(r"(.*?)\s+(\d+)/(\d+)", line)
                if m:
                    thread, pid = m.group(1).strip(), m.group(2)
            else:
                parts = line.strip().split(" ", 1)
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1] if len(parts) == 2 else "?"))
    if pid is not None and frames:
        yield pid, thread, frames


def thread_kind(name):
    if "eventloo" in name:  # perf keeps 15 characters of a thread name
        return "event loop"
    if name.startswith("fairway-access"):
        return "access log writer"
    if name.startswith(("C1 ", "C2 ")):
        return "JIT"
    if name.startswith("GC "):
        return "GC"
    return "other threads"


def main():
    path, a, ra, b, rb = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    patterns = [p for p in (sys.argv[6].split("|") if len(sys.argv) > 6 else []) if p]
    threads = {a: collections.Counter(), b: collections.Counter()}
    leaves = {a: collections.Counter(), b: collections.Counter()}
    matched = {a: collections.Counter(), b: collections.Counter()}
    for pid, thread, frames in samples(path):
        if pid not in threads:
            continue
        threads[pid][thread_kind(thread)] += 1
        leaves[pid][frames[0]] += 1
        for p in patterns:
            if any(re.search(p, f) for f in frames):
                matched[pid][p] += 1
    rate = {a: ra, b: rb}
    base = sum(threads[a].values()) / ra  # A's samples per request: 100%

    def share(counter, pid, key):
        return 100 * counter[pid].get(key, 0) / rate[pid] / base

    def row(counter, key, label):
        """B - A, A, B for one key, then its label."""
        pa, pb = share(counter, a, key), share(counter, b, key)
        print(f"  {pb - pa:+6.2f}%  {pa:6.2f}%  {pb:6.2f}%  {label}")

    print(f"requests/s: A {ra:.0f}, B {rb:.0f}; samples: A {sum(threads[a].values())}, B {sum(threads[b].values())}")
    print(f"CPU per request, B against A: {100 * (sum(threads[b].values()) / rb / base - 1):+.2f}%")
    print("\nBy thread (share of A's CPU per request): B - A, A, B")
    for k in sorted(set(threads[a]) | set(threads[b]), key=lambda k: -share(threads, b, k)):
        row(threads, k, k)
    print("\nLeaf frames, largest differences: B - A, A, B")
    keys = set(leaves[a]) | set(leaves[b])
    diff = sorted(keys, key=lambda k: share(leaves, a, k) - share(leaves, b, k))
    for k in diff[:20] + ["..."] + diff[-5:]:
        if k == "...":
            print("  ...")
            continue
        row(leaves, k, k[:110])
    if patterns:
        print("\nInclusive (any frame matching): B - A, A, B")
        for p in patterns:
            row(matched, p, p)


if __name__ == "__main__":
    main()
