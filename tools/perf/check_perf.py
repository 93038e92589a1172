#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest checks of nvpoll-perf's recovery handling on the emulated controller.

Usage: check_perf.py NVPOLL_PERF CHECK
  reset-verify  --verify --verify-final --reset-every 0.2: resets happen,
                the driver re-posts what they interrupt, nothing mismatches
  reset-retry   the same with --io-retries 0: every interrupted command comes
                back with Host Aborted (retryable) and perf submits it again
  removal       --test-remove-after: exit 1, the removal message, every
                outstanding command ended once with an error, seen in < 1 s
  failed        --test-fail-after: the reset fails, exit 1, the failure message
  usage         the new options' usage errors exit 2 and say what to do
Exits non-zero with the reason on the first mismatch.
"""
import json
import re
import subprocess
import sys

# Two namespaces with the rig's LBA sizes, as test/vm/rig.sh's first controller.
ADDR = "emu:ns=64M:4096,ns=16M:512"
QD = 8
NSIDS = 2
WORKLOAD = ["-q", str(QD), "-o", "8192", "-w", "randrw", "-M", "70", "--verify"]


def run(tool, *args, timeout=120):
    p = subprocess.run([tool, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check(cond, msg, out="", err=""):
    if not cond:
        print("FAIL: " + msg)
        if out:
            print("--- stdout ---\n" + out)
        if err:
            print("--- stderr ---\n" + err)
        sys.exit(1)


def reset_run(tool, extra):
    rc, out, err = run(tool, "-a", ADDR, *WORKLOAD, "-t", "2", "--verify-final",
                       "--reset-every", "0.2", "--json", *extra)
    check(rc == 0, f"exit status {rc}, expected 0", out, err)
    data = json.loads(out)
    total = data["total"]
    rec = data["controllers"][0]["recovery"]
    check(data["result"] == "pass", "result is not pass", out, err)
    check(total["verify_mismatches"] == 0, f"{total['verify_mismatches']} mismatches", out)
    check(total["errors"] == 0, f"{total['errors']} errors", out)
    check(total.get("verify_checks", 0) > 0, "no read was compared", out)
    check(total["verify_final_checks"] > 0, "the final read-back checked nothing", out)
    check(total["verify_final_mismatches"] == 0, "final read-back mismatches", out)
    check(rec["resets"] > 0, "no reset happened", out)
    check(rec["resets_requested"] == rec["resets"],
          f"{rec['resets_requested']} resets requested, {rec['resets']} done", out)
    check(rec["reset_failures"] == 0, "a reset failed", out)
    check(0 < rec["reset_ms"]["min"] <= rec["reset_ms"]["avg"] <= rec["reset_ms"]["max"],
          f"reset times min/avg/max out of order: {rec['reset_ms']}", out)
    # A reset that comes while a qpair is still reconnecting from the last
    # one costs no extra reconnect: at most one per reset and qpair.
    check(0 < rec["reconnects"] <= rec["resets"] * NSIDS,
          f"{rec['reconnects']} reconnects for {rec['resets']} resets of {NSIDS} qpairs", out)
    check(rec["failed_commands"] == 0, "failed commands", out)
    check(data["controllers"][0]["state"] == "live", "controller not live", out)
    return rec, total, out, err


def check_reset_verify(tool):
    rec, total, out, _ = reset_run(tool, [])
    # QD 8 per qpair in flight at every reset: the driver re-posts them.
    check(rec["driver_retried"] > 0, "the driver posted nothing again", out)
    check(total["retries"] == rec["perf_retried"], "per-job and per-controller retries differ", out)
    rc, out, err = run(tool, "-a", ADDR, *WORKLOAD, "-t", "1", "--reset-every", "0.2")
    check(rc == 0, f"text run exited {rc}", out, err)
    check(re.search(r"^recovery \(-a \S+\): [1-9]\d* resets \([1-9]\d* by --reset-every\), "
                    r"each [\d.]+ / [\d.]+ / [\d.]+ ms", out, re.M),
          "no recovery line with reset times in the text report", out)
    check("verify: 0 mismatches" in out, "no 'verify: 0 mismatches' line", out)


def check_reset_retry(tool):
    rec, total, out, _ = reset_run(tool, ["--io-retries", "0"])
    check(rec["driver_retried"] == 0, "the driver re-posted with io_retries 0", out)
    check(rec["reset_aborted"] > 0, "no command was ended by a reset", out)
    check(rec["perf_retried"] == rec["reset_aborted"],
          f"perf retried {rec['perf_retried']} of {rec['reset_aborted']} commands the "
          "resets ended", out)


def lost_run(tool, option, state, phrase):
    rc, out, err = run(tool, "-a", ADDR, *WORKLOAD, "-t", "10", option, "0.5", "--json")
    check(rc == 1, f"exit status {rc}, expected 1", out, err)
    data = json.loads(out)
    ctrl = data["controllers"][0]
    check(ctrl["state"] == state, f"state {ctrl['state']!r}, expected {state!r}", out)
    check(data["measured_seconds"] < 5, "the run did not stop early", out)
    m = re.search(r"^nvpoll-perf: controller (\S+) " + phrase +
                  r" during the run; (\d+) commands ended with an error$", err, re.M)
    check(m, "no 'controller X " + phrase + " during the run; N commands ended with an "
          "error' line", out, err)
    check(m.group(1) == ADDR, f"message names {m.group(1)}", out, err)
    # The commands in flight (QD per namespace) end exactly once: with an
    # error, or with success if the device answered just before it stopped.
    n = int(m.group(2))
    check(0 < n <= QD * NSIDS, f"{n} commands ended with an error, expected 1..{QD * NSIDS}",
          out, err)
    check(ctrl["recovery"]["failed_commands"] == n, "JSON and message disagree", out, err)
    check("every command the driver had accepted completed exactly once" in err,
          "no exactly-once line", out, err)
    m = re.search(r"noticed at [\d.]+ s \(CLOCK_MONOTONIC, as in dmesg\), ([\d.]+) ms "
                  r"after its last successful completion; workers stopped, queue pairs "
                  r"freed and controller detached ([\d.]+) ms after that", err)
    check(m, "no timing line", out, err)
    check(float(m.group(1)) < 1000, f"noticed only after {m.group(1)} ms", out, err)
    check(float(m.group(2)) < 1000, f"detached only {m.group(2)} ms after that", out, err)
    check(re.search(r"^nvpoll-perf: (if the removal|check the kernel log)", err, re.M),
          "no advice line", out, err)


def check_removal(tool):
    lost_run(tool, "--test-remove-after", "removed", "was removed")


def check_failed(tool):
    lost_run(tool, "--test-fail-after", "failed", "failed for good")


def check_usage(tool):
    cases = [
        (["-a", ADDR, "--reset-every", "0"], "--reset-every '0': give the interval"),
        (["-a", ADDR, "--reset-every", "x"], "--reset-every 'x'"),
        (["-a", ADDR, "--io-retries", "-1"], "--io-retries '-1': must be 0..1000"),
        (["-a", ADDR, "--verify-final"], "add --verify"),
        (["-a", "0000:00:04.0", "--test-remove-after", "1"], "only work on emulated"),
        (["-a", ADDR, "--test-fail-after", "0"], "--test-fail-after '0'"),
    ]
    for args, fragment in cases:
        rc, out, err = run(tool, *args)
        check(rc == 2, f"{args}: exit status {rc}, expected 2", out, err)
        check(fragment in err, f"{args}: message lacks {fragment!r}", out, err)


CHECKS = {
    "reset-verify": check_reset_verify,
    "reset-retry": check_reset_retry,
    "removal": check_removal,
    "failed": check_failed,
    "usage": check_usage,
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CHECKS:
        print(f"usage: {sys.argv[0]} NVPOLL_PERF {'|'.join(CHECKS)}")
        return 2
    CHECKS[sys.argv[2]](sys.argv[1])
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
