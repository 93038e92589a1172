#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest tcp/hostile-fake: nvpoll-tcp-hostile against fake_target.py's
failure modes, one fake target per case.

  check_hostile.py NVPOLL_TCP_HOSTILE [CASE...]

Each case starts the target with one failure mode, runs the C program
(verified I/O through the fault; see tcp_hostile.c) with the library
messages it must find and the resets it must count, and checks the
target's side too (how many associations were made). NVP_TCP_HOSTILE_WRAPPER
(e.g. "valgrind -q --error-exitcode=99") runs the C program under a tool.
"""
import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nvmet_fake import stop_target  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NQN = "nqn.2026-12.io.nvpoll:fake-target"

# name: (target flags, environment, nvpoll-tcp-hostile flags, least admin
# connects[, exit status: 3 = the controller failed cleanly])
CASES = {
    "normal": ([], {}, ["--max-resets", "0"], 1),
    "digests": ([], {"NVP_TCP_DIGESTS": "both"}, ["--rounds", "6", "--max-resets", "0"], 1),
    "port-down": (["--close-after", "40", "--refuse-seconds", "2"], {},
                  ["--min-resets", "1", "--max-resets", "1",
                   "--expect", "the target closed the connection",
                   "--expect", "cannot reach the target",
                   "--expect", "the target is back after"], 2),
    "port-gone": (["--close-after", "40", "--refuse-seconds", "60"], {},
                  ["--loss-ms", "2000", "--may-fail", "--expect", "stayed unreachable",
                   "--expect", "cannot reach the target"], 1, 3),
    "slow": (["--delay-after", "40", "--delay-seconds", "2.5"], {},
             # The Abort comes at 1.5-1.9 s, the answer at 2.5 s, a reset only
             # after 3 s: allowed, should a loaded machine stretch that.
             ["--max-resets", "1", "--expect", "timed out; aborting it"], 1),
    "bad-cid-repeat": (["--bad-cid-after", "20", "--fault-times", "0"], {},
                       ["--min-resets", "5", "--expect", "which is not outstanding"], 6),
    "hang": (["--hang-after", "40"], {},
             ["--min-resets", "1", "--max-resets", "2", "--max-admin-ms", "1000",
              "--expect", "resetting the controller"], 2),
    # The health check's Property Get goes unanswered: a reset after the
    # admin timeout, and no admin poll meanwhile waits for the target.
    "hang-idle": (["--hang-after-seconds", "1"], {},
                  ["--idle-ms", "6000", "--min-resets", "1", "--max-resets", "1",
                   "--max-admin-ms", "1000",
                   "--expect", "Fabrics command (opcode 0x7f) got no answer"], 2),
    # The health check's asynchronous Property Get reads a fatal CSTS, or
    # all-ones: a reset, after which the new association reads clean.
    "csts-cfs": (["--csts-after", "4"], {},
                 ["--idle-ms", "1000", "--min-resets", "1", "--max-resets", "1",
                  "--max-admin-ms", "1000", "--expect", "fatal status (CSTS.CFS)"], 2),
    "csts-ones": (["--csts-after", "4", "--csts-value", "0xffffffff"], {},
                  ["--idle-ms", "1000", "--min-resets", "1", "--max-resets", "1",
                   "--max-admin-ms", "1000", "--expect", "answered all-ones for CSTS"], 2),
    "hang-idle-ka": (["--hang-after-seconds", "1"], {},
                     ["--idle-ms", "8000", "--no-health-check", "--min-resets", "1",
                      "--max-resets", "1", "--expect", "(opcode 0x18) got no answer"], 2),
    "ka-bad-cid": (["--fault-on", "keepalive", "--bad-cid-after", "0"], {},
                   ["--idle-ms", "2500", "--min-resets", "1", "--max-resets", "1",
                    "--expect", "which is not outstanding"], 2),
    "ka-term": (["--fault-on", "keepalive", "--malformed-after", "0", "--malformed", "term"], {},
                ["--idle-ms", "2500", "--min-resets", "1", "--max-resets", "1",
                 "--expect", "C2HTermReq"], 2),
    "bad-cid": (["--bad-cid-after", "40"], {},
                ["--min-resets", "1", "--max-resets", "1",
                 "--expect", "which is not outstanding"], 2),
    "bad-plen": (["--malformed-after", "40", "--malformed", "plen"], {},
                 ["--min-resets", "1", "--max-resets", "1", "--expect", "PDU length"], 2),
    "bad-type": (["--malformed-after", "40", "--malformed", "type"], {},
                 ["--min-resets", "1", "--max-resets", "1", "--expect", "unknown PDU type 0x0f"],
                 2),
    "early-resp": (["--early-resp-after", "40"], {},
                   ["--max-resets", "0", "--retry-status", "0x082"], 1),
    "term": (["--malformed-after", "40", "--malformed", "term"], {},
             ["--min-resets", "1", "--max-resets", "1", "--expect", "C2HTermReq"], 2),
    "bad-hdgst": (["--malformed-after", "40", "--malformed", "hdgst"],
                  {"NVP_TCP_DIGESTS": "header"},
                  ["--min-resets", "1", "--max-resets", "1",
                   "--expect", "header digest mismatch"], 2),
    "bad-ddgst": (["--malformed-after", "40", "--malformed", "ddgst"],
                  {"NVP_TCP_DIGESTS": "data"},
                  ["--rounds", "4", "--min-resets", "1", "--max-resets", "1",
                   "--expect", "data digest mismatch"], 2),
}


def run_case(prog, name):
    tflags, env, pflags, min_admin, want_rc = (CASES[name] + (0,))[:5]
    portfile = f"/tmp/nvp-hostile-{os.getpid()}-{name}.port"
    log = open(portfile + ".log", "w+")
    tgt = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_target.py"), "--strict",
                            "--port-file", portfile, "--lifetime", "300", *tflags],
                           stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(200):
            if os.path.exists(portfile) or tgt.poll() is not None:
                break
            time.sleep(0.05)
        with open(portfile) as f:
            port = int(f.read())
        os.unlink(portfile)
        wrapper = shlex.split(os.environ.get("NVP_TCP_HOSTILE_WRAPPER", ""))
        cmd = [*wrapper, prog, *pflags, f"tcp://127.0.0.1:{port}/{NQN}"]
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                               env={**os.environ, **env})
            rc, out = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out = "timeout", f"{e.stdout or ''}{e.stderr or ''}"
        secs = time.monotonic() - t0
        alive = tgt.poll() is None
    finally:
        tlog = stop_target(tgt, log)
    problems = []
    if rc != want_rc:
        problems.append(f"nvpoll-tcp-hostile exited {rc}, expected {want_rc}")
    if not alive:
        problems.append("the fake target exited early (a protocol error from the host?)")
    if "protocol error from host" in tlog:
        problems.append("the target saw a protocol error from the host")
    admin = len(re.findall(r"Connect queue 0 ", tlog))
    if admin < min_admin:
        problems.append(f"{admin} admin Connect(s) at the target, expected at least {min_admin}")
    if tflags and "fault:" not in tlog:
        problems.append("the fault never fired")
    summary = [line for line in out.splitlines() if line.startswith("nvpoll-tcp-hostile")]
    if problems:
        print(f"FAIL {name}: " + "; ".join(problems))
        print(out[-6000:])
        print("--- target log ---")
        print(tlog[-3000:])
        return False
    print(f"PASS {name} ({secs:.1f} s, {admin} association(s)): "
          f"{summary[-1] if summary else ''}")
    return True


def main():
    prog = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    ok = True
    for name in names:
        ok &= run_case(prog, name)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
