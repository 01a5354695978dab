#!/usr/bin/env python3
"""Summarises `perf script` output of a Fairway run (see profile.sh): CPU by thread, by code (the leaf frame's kernel,
JVM library or Java package) and, by each frame pattern given (a regular expression per '|' part), inclusive (any
frame of the sample matches) and innermost (the pattern of the frame nearest the leaf takes the sample, so patterns
split the samples between them: e.g. the server and the client side of a proxy, kernel time included).

Usage: perf-report.py PERF_SCRIPT_TXT [FRAME_REGEX|FRAME_REGEX...]
"""
import collections
import re
import sys


def samples(path):
    """Yields (thread name, [frames from leaf to root]) per sample."""
    thread, frames = None, []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if thread is not None:
                    yield thread, frames
                thread, frames = None, []
            elif line[0] not in " \t":
                m = re.match(r"(\S.*?)\s+\d+\s", line)
                thread = m.group(1) if m else line.split()[0]
            else:
                parts = line.strip().split(" ", 1)
                if len(parts) == 2:
                    frames.append(parts[1])
    if thread is not None:
        yield thread, frames


def code_of(leaf):
    if "kernel" in leaf:
        return "kernel"
    method = leaf.split("(", 1)[0].split()[-1] if "(" in leaf else ""  # a Java frame: "type pkg.Class.method(args)"
    m = re.match(r"((?:io|java|jdk|dev|sun|org|ch)\.[a-z0-9_]+(?:\.[a-z0-9_]+)?)\.", method)
    if m:
        return m.group(1)
    for lib in ("libjvm", "vdso", "libc"):
        if lib in leaf:
            return lib
    return "other (stubs, interpreter)"


def thread_group(name):
    for prefix, group in (("vert.x-eventloop", "event loop"), ("fairway-access", "access log writer"),
                          ("C1 Compiler", "JIT"), ("C2 Compiler", "JIT"), ("GC Thread", "GC")):
        if name.startswith(prefix[:15]):
            return group
    return "other threads"


def main():
    path = sys.argv[1]
    patterns = [p for p in (sys.argv[2].split("|") if len(sys.argv) > 2 else []) if p]
    threads, code, frames, innermost = collections.Counter(), collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for thread, stack in samples(path):
        total += 1
        group = thread_group(thread)
        threads[group] += 1
        if group == "event loop" and stack:
            code[code_of(stack[0])] += 1
        for p in patterns:
            if any(re.search(p, f) for f in stack):
                frames[p] += 1
        nearest = next((p for f in stack for p in patterns if re.search(p, f)), None)
        if nearest:
            innermost[nearest] += 1
    if total == 0:
        sys.exit("no samples")
    print(f"{total} samples")
    print("\nCPU by thread:")
    for k, v in threads.most_common():
        print(f"  {100 * v / total:6.2f}%  {k}")
    print("\nEvent loop CPU by code (leaf frame):")
    for k, v in code.most_common(15):
        print(f"  {100 * v / total:6.2f}%  {k}")
    if patterns:
        print("\nInclusive (any frame matching), all threads:")
        for p in patterns:
            print(f"  {100 * frames[p] / total:6.2f}%  {p}")
        print("\nInnermost (the matching frame nearest the leaf takes the sample), all threads:")
        for p in patterns:
            print(f"  {100 * innermost[p] / total:6.2f}%  {p}")


if __name__ == "__main__":
    main()
