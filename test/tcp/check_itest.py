#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest tcp/itest-fake: nvpoll-itest over NVMe/TCP against fake_target.py.

  check_itest.py NVPOLL_ITEST SUITE_SH

Starts the fake target (--strict: a protocol error from the host ends it,
and the run fails), then runs the integration tests the VM rig runs over
TCP (TCP_ITESTS in test/vm/guest/suite.sh), plus those the rig leaves out
for what Linux's target answers and the other I/O commands the fake target
has (EXTRA_TESTS), and requires "0 failed" and a PASS from each key test.
Then a few data tests again with header and data digests
(NVP_TCP_DIGESTS=both), R2Ts of 8 KiB, H2CData and C2HData of 4 KiB, host
data aligned to 32 bytes (CPDA 7), and the SUCCESS flag off.
NVP_TCP_ITEST_WRAPPER (e.g. "valgrind -q
--error-exitcode=99") runs nvpoll-itest under a tool.
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
KEY_TESTS = ["data_sizes", "data_iovec", "queue_wrap", "threads_disjoint",
             "recovery_reset_idle", "recovery_reset_under_load",
             "cmd_deallocate", "cmd_copy", "cmd_copy_limits", "bad_lba_range"]
EXTRA_TESTS = ("cmd_write_zeroes,cmd_deallocate,cmd_compare,cmd_verify,cmd_copy,"
               "cmd_copy_limits,cmd_dsm_attributes,cmd_cmds_bad_args,bad_lba_range,"
               "bad_too_many_qpairs,reattach_immediate")
DIGEST_TESTS = "data_sizes,data_iovec,data_buffer_offsets,cmd_fua"


def fail(msg, out=""):
    print("FAIL: " + msg)
    if out:
        print(out)
    sys.exit(1)


def start_target(*extra):
    portfile = f"/tmp/nvp-fake-{os.getpid()}-{time.monotonic_ns()}.port"
    log = open(portfile + ".log", "w+")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_target.py"), "--strict",
                          "--port-file", portfile, "--lifetime", "600", *extra],
                         stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(200):
        if os.path.exists(portfile) or p.poll() is not None:
            break
        time.sleep(0.05)
    if not os.path.exists(portfile):
        fail("the fake target did not start")
    with open(portfile) as f:
        port = int(f.read())
    os.unlink(portfile)
    return p, port, log


def run_itest(itest, port, only, env=None):
    wrapper = shlex.split(os.environ.get("NVP_TCP_ITEST_WRAPPER", ""))
    cmd = [*wrapper, itest, "-a", f"tcp://127.0.0.1:{port}/{NQN}", "--only", only]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       env={**os.environ, **(env or {})})
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


def check_run(what, rc, out, must_pass):
    summary = re.findall(r"^(\d+) passed, (\d+) failed$", out, re.M)
    if not summary:
        fail(f"{what}: no summary line (exit {rc})", out)
    passed, failed = map(int, summary[-1])
    if failed or rc:
        fail(f"{what}: {passed} passed, {failed} failed, exit {rc}", out)
    for t in must_pass:
        if not re.search(rf"^PASS {re.escape(t)} ", out, re.M):
            line = re.search(rf"^(SKIP|FAIL) {re.escape(t)}\b.*$", out, re.M)
            fail(f"{what}: {t} did not pass: {line.group(0) if line else 'not run'}", out)
    return passed


def main():
    itest, suite = sys.argv[1], sys.argv[2]
    with open(suite) as f:
        m = re.search(r'^TCP_ITESTS="([^"]+)"', f.read(), re.M)
    if not m:
        fail(f"no TCP_ITESTS in {suite}")
    only = m.group(1) + "," + EXTRA_TESTS

    p, port, log = start_target()
    rc, out, secs = run_itest(itest, port, only)
    alive = p.poll() is None
    tlog = stop_target(p, log)
    if not alive:
        fail("the fake target exited during the run (a protocol error from the host?)",
             out + "\n--- target log ---\n" + tlog[-3000:])
    if "protocol error from host" in tlog:
        fail("the target saw a protocol error from the host", tlog[-3000:])
    if " sqfc-off" not in tlog:
        fail("nvpoll never asked for SQ flow control off at an I/O Connect", tlog[-3000:])
    n = check_run("nvpoll-itest over TCP", rc, out, KEY_TESTS)
    print(f"nvpoll-itest over TCP against the fake target: {n} passed, 0 failed "
          f"({secs:.1f} s)")

    p, port, log = start_target("--r2t-max", "8192", "--c2h-max", "4096", "--maxh2cdata",
                                "4096", "--no-success", "--cpda", "7", "--refuse-sqfc")
    rc, out, secs = run_itest(itest, port, DIGEST_TESTS, {"NVP_TCP_DIGESTS": "both"})
    alive = p.poll() is None
    tlog = stop_target(p, log)
    if not alive or "protocol error from host" in tlog:
        fail("with digests: the target saw a protocol error", out + "\n" + tlog[-3000:])
    if "refused SQ flow control off" not in tlog:
        fail("with --refuse-sqfc: nvpoll never asked for SQ flow control off", tlog[-3000:])
    if "digests HD" not in tlog:
        fail("with digests: the target never saw both digests asked for", tlog[-3000:])
    n = check_run("nvpoll-itest with digests", rc, out, DIGEST_TESTS.split(","))
    print(f"with header and data digests, 8 KiB R2Ts, 4 KiB C2HData, CPDA 7, SQ flow "
          f"control off refused (Connect again without): {n} passed "
          f"({secs:.1f} s)")


if __name__ == "__main__":
    main()
