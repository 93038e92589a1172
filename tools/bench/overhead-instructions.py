#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per I/O of nvpoll's submit, doorbell and completion paths,
counted under valgrind (callgrind), for machines without a readable
instruction counter (most VMs; nvpoll-overhead counts them itself where
perf_event_open works).

Instruction counts do not change with the load of a shared machine, so this
is the figure to compare between two builds. It runs nvpoll-overhead three
times under callgrind (-m idle, -m qd1, -m batch) and reads the inclusive
cost of every call of nvp_read(), nvp_qpair_flush() and nvp_qpair_poll().
Polls that found nothing are taken out of the completion figure (their cost
comes from the idle run), and so is the benchmark's own callback.

  tools/bench/overhead-instructions.py [--build-dir build] [-i IOS] [-b BATCH]
  tools/bench/overhead-instructions.py --build-dir A --build-dir B   # side by side
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

FUNCS = ("nvp_read", "nvp_qpair_flush", "nvp_qpair_poll", "cb")


def parse_callgrind(path):
    """{callee name: [calls, inclusive Ir]} summed over every caller."""
    names = {}  # compressed id -> name, shared by fn= and cfn= lines
    out = {}
    callee = None
    pending = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if pending is not None:
                # the line after calls=: "<position> <inclusive Ir>"
                fields = line.split()
                if fields and pending in FUNCS:
                    ent = out.setdefault(pending, [0, 0])
                    ent[0] += calls
                    ent[1] += int(fields[-1])
                pending = None
                continue
            m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?$", line)
            if m:
                if m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    callee = names.get(m.group(1), "?")
                continue
            m = re.match(r"^calls=(\d+) ", line)
            if m:
                calls = int(m.group(1))
                pending = callee
    return out


def run_part(binary, mode, ios, batch, tmp):
    out = os.path.join(tmp, "cg." + mode)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
           binary, "-m", mode, "-i", str(ios), "-b", str(batch)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("overhead-instructions: %s failed (%d):\n%s" %
                 (" ".join(cmd), p.returncode, p.stderr[-2000:]))
    m = re.search(r"^counts: (.*)$", p.stdout, re.M)
    if not m:
        sys.exit("overhead-instructions: no counts line from " + " ".join(cmd))
    counts = {k: int(v) if v.isdigit() else v
              for k, v in (kv.split("=") for kv in m.group(1).split())}
    return parse_callgrind(out), counts


def per_call(cg, fn):
    calls, ir = cg.get(fn, (0, 0))
    if not calls:
        sys.exit("overhead-instructions: no calls of %s in the profile "
                 "(a build without symbols, or inlined into the benchmark?)" % fn)
    return ir / calls, calls, ir


def measure(build, ios, batch):
    binary = os.path.join(build, "bin", "nvpoll-overhead")
    if not os.access(binary, os.X_OK):
        sys.exit("overhead-instructions: %s not found; build first "
                 "(cmake --build %s)" % (binary, build))
    tmp = tempfile.mkdtemp(prefix="nvp-ins-")
    try:
        cg, _ = run_part(binary, "idle", ios, batch, tmp)
        empty, _, _ = per_call(cg, "nvp_qpair_poll")
        res = {"empty poll, one command outstanding (per call)": (empty, empty)}
        cols = []
        for mode in ("qd1", "batch"):
            cg, c = run_part(binary, mode, ios, batch, tmp)
            n = c["ios"]
            sub, _, _ = per_call(cg, "nvp_read")
            _, _, flush_ir = per_call(cg, "nvp_qpair_flush")
            _, _, poll_ir = per_call(cg, "nvp_qpair_poll")
            cb, _, _ = per_call(cg, "cb")
            cpl = (poll_ir - c["empty_polls"] * empty) / n - cb
            cols.append({
                "submit: nvp_read()": sub,
                "doorbell: nvp_qpair_flush(), per I/O": flush_ir / n,
                "complete: nvp_qpair_poll(), less callback": cpl,
                "submit + complete (no doorbell)": sub + cpl,
                "driver total": sub + flush_ir / n + cpl,
                "busy polls per I/O": c["busy_polls"] / n,
            })
        for k in cols[0]:
            res[k] = (cols[0][k], cols[1][k])
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", action="append", help="CMake build dir (repeat to compare)")
    ap.add_argument("-i", type=int, default=20000, help="I/Os per part (default 20000)")
    ap.add_argument("-b", type=int, default=32, help="batch size (default 32)")
    a = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("overhead-instructions: valgrind not found (tools/install-deps.sh installs it)")
    builds = a.build_dir or ["build"]
    results = [measure(b, a.i, a.b) for b in builds]
    print("instructions per I/O (callgrind), %d I/Os per part, emu:, 4096-byte reads" % a.i)
    if len(builds) > 1:
        print("column pairs, left to right: " + ", ".join(builds))
    head = "  %-44s" % "per I/O"
    for _ in builds:
        head += " %12s %12s" % ("QD1", "batch %d" % a.b)
    print(head)
    for k in results[0]:
        line = "  %-44s" % k
        for r in results:
            qd1, bat = r[k]
            line += " %12.2f %12.2f" % (qd1, bat)
        print(line)


if __name__ == "__main__":
    main()
