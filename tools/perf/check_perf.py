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
  json-progress --json --progress: the progress line (IOPS, MiB/s, time left)
                goes to stderr and stdout is one valid JSON object
  header-first  the configuration header is on stdout while the run is still
                going; SIGINT then ends it early, and text and JSON say it was
                interrupted (first_error null, not "")
  mixed         a randrw run reports reads and writes apart, in fio's JSON
                layout (read/write/trim, latency in ns, fio's percentile
                keys), with the queue size and completions per poll used
  no-io         a run in which no command completes fails (exit 1)
  emu-cpu       a warning when an emulated controller's device thread may
                only run on CPUs where workers poll, and none when it has one
  pi-verify     namespaces whose metadata is only PI (types 1 and 3, both
                layouts) run with PRACT and pass --verify/--verify-final;
                one with more metadata than PI is refused (exit 2)
Exits non-zero with the reason on the first mismatch.
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

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


FIO_PERCENTILES = ["1.000000", "5.000000", "10.000000", "20.000000", "30.000000",
                   "40.000000", "50.000000", "60.000000", "70.000000", "80.000000",
                   "90.000000", "95.000000", "99.000000", "99.500000", "99.900000",
                   "99.950000", "99.990000"]
# The keys fio 3.33 writes in a job's "read"/"write" object that nvpoll-perf
# measures (fio's bandwidth and IOPS samples over time are left out).
FIO_DIR_KEYS = ["io_bytes", "io_kbytes", "bw_bytes", "bw", "iops", "runtime", "total_ios",
                "short_ios", "drop_ios", "slat_ns", "clat_ns", "lat_ns"]
FIO_LAT_KEYS = ["min", "max", "mean", "stddev", "N"]
PROGRESS = re.compile(r"\[(?:warm-up )?\d+/\d+ s\] +\d+ IOPS +[\d.]+ MiB/s, \d+ s left")


def check_json_progress(tool):
    rc, out, err = run(tool, "-a", "emu:", "-q", "4", "-t", "2.5", "--json", "--progress")
    check(rc == 0, f"exit status {rc}", out, err)
    try:
        data = json.loads(out)
    except ValueError as e:
        check(False, f"stdout is not one JSON object ({e})", out, err)
    check(data["result"] == "pass", "result is not pass", out, err)
    check("\r" not in out and "\033" not in out, "progress escapes on stdout", out, err)
    check(PROGRESS.search(err), "no progress line with IOPS, MiB/s and time left on stderr",
          out, err)


def read_until(proc, stream, pattern, limit=90):
    """Lines of @stream until one matches @pattern (None at EOF or after @limit s:
    a bound on the wait, not a measurement)."""
    seen = ""
    fd = stream.fileno()
    os.set_blocking(fd, False)
    buf = b""
    deadline = time.monotonic() + limit
    while True:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            return None, seen
        chunk = os.read(fd, 65536)
        if not chunk:
            return None, seen
        buf += chunk
        seen = buf.decode(errors="replace")
        if re.search(pattern, seen, re.M):
            return True, seen


def interrupted_run(tool, json_mode):
    args = [tool, "-a", "emu:", "-q", "4", "-t", "600", "--progress"]
    if json_mode:
        args.append("--json")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        head = ""
        if not json_mode:
            ok, head = read_until(proc, proc.stdout, r"^  -a emu: is .*shadow doorbells")
            check(ok, "no configuration header on stdout", head)
            check(proc.poll() is None, "the header came only after the run ended", head)
            check("Total" not in head and "result:" not in head,
                  "results on stdout before the run ended", head)
        # Stop once a measured second has gone by (the progress line says so).
        ok, err = read_until(proc, proc.stderr, r"\[[1-9]\d*/600 s\]")
        check(ok, "no progress line for the first measured second", head, err)
        proc.send_signal(signal.SIGINT if not json_mode else signal.SIGTERM)
        rest_out, rest_err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = head + rest_out.decode(errors="replace")
    err += rest_err.decode(errors="replace")
    check(proc.returncode == 0, f"interrupted run exited {proc.returncode}", out, err)
    check("interrupted; figures cover" in err, "no 'interrupted' note on stderr", out, err)
    return out, err


def check_header_first(tool):
    out, err = interrupted_run(tool, False)
    check(out.startswith("nvpoll-perf: randread, 4096 B, QD 4, 600 s"),
          "stdout does not start with the configuration header", out, err)
    check(out.count("nvpoll-perf: randread") == 1, "the header is printed twice", out, err)
    check(re.search(r"^Total +[\d.]+", out, re.M), "no Total row", out, err)
    check(re.search(r"^interrupted: the figures cover the [\d.]+ s measured$", out, re.M),
          "the text report does not say the run was interrupted", out, err)
    check("result: PASS" in out, "no 'result: PASS'", out, err)
    out, err = interrupted_run(tool, True)
    data = json.loads(out)
    check(data["interrupted"] is True, "JSON interrupted is not true", out, err)
    check(data["first_error"] is None, f"first_error is {data['first_error']!r}, not null",
          out, err)
    check(data["result"] == "pass", "result is not pass", out, err)
    check(0 < data["measured_seconds"] < 500, "measured_seconds not cut short", out, err)


def check_fio_dir(name, d, io_size, seconds, out):
    check(all(k in d for k in FIO_DIR_KEYS), f"{name} lacks fio keys: "
          f"{[k for k in FIO_DIR_KEYS if k not in d]}", out)
    n = d["total_ios"]
    check(d["io_bytes"] == n * io_size and d["io_kbytes"] == d["io_bytes"] // 1024,
          f"{name}: io_bytes/io_kbytes disagree with total_ios", out)
    check(abs(d["iops"] - n / seconds) <= 1e-3 * max(1, n / seconds), f"{name}: iops", out)
    check(abs(d["bw"] - d["bw_bytes"] / 1024) <= 1, f"{name}: bw is not KiB/s", out)
    for lat in ("clat_ns", "lat_ns"):
        lat_d = d[lat]
        check(all(k in lat_d for k in FIO_LAT_KEYS), f"{name}.{lat} lacks fio keys", out)
        check(lat_d["N"] == n, f"{name}.{lat}.N {lat_d['N']} != total_ios {n}", out)
        if n:
            pct = lat_d["percentile"]
            check(list(pct) == FIO_PERCENTILES, f"{name}.{lat} percentile keys {list(pct)}",
                  out)
            vals = list(pct.values())
            check(vals == sorted(vals), f"{name}.{lat} percentiles not increasing", out)
            check(lat_d["min"] <= lat_d["mean"] <= lat_d["max"] and vals[-1] <= lat_d["max"],
                  f"{name}.{lat}: min/mean/max/percentiles out of order", out)
            check(lat_d["min"] > 0, f"{name}.{lat}: latency in ns is 0", out)


def check_mixed(tool):
    rc, out, err = run(tool, "-a", "emu:", "-q", "8", "-w", "randrw", "-M", "70", "-t", "1",
                       "--json")
    check(rc == 0, f"exit status {rc}", out, err)
    data = json.loads(out)
    check(data["fio version"].startswith("nvpoll-perf-"), "no 'fio version'", out)
    secs = data["measured_seconds"]
    for job in data["jobs"] + [data["total"]]:
        name = job["jobname"]
        for ddir in ("read", "write", "trim"):
            check_fio_dir(f"{name}.{ddir}", job[ddir], 4096, secs, out)
        r, w = job["read"]["total_ios"], job["write"]["total_ios"]
        check(r > 0 and w > 0, f"{name}: reads {r}, writes {w}: not both", out)
        check(job["trim"]["total_ios"] == 0, f"{name}: trims", out)
        check(job["reads"] == r and job["writes"] == w and job["ios"] == r + w,
              f"{name}: nvpoll's counts disagree with fio's", out)
        check(job["job options"]["rw"] == "randrw" and job["job options"]["rwmixread"] == "70",
              f"{name}: job options", out)
    check(data["total"]["mixed"] is True, "total.mixed is not true", out)
    ctrl = data["controllers"][0]
    check(data["config"]["io_queue_size"] == ctrl["queue_size"] == 256,
          f"io_queue_size {data['config']['io_queue_size']}, queue_size "
          f"{ctrl['queue_size']}; expected the 256 used", out)
    check(data["config"]["max_completions"] == ctrl["max_completions"] == 128,
          f"max_completions {data['config']['max_completions']}; expected the 128 used", out)
    rc, out, err = run(tool, "-a", "emu:", "-q", "8", "-t", "0.5", "--json",
                       "--io-queue-size", "64", "--max-completions", "7")
    check(rc == 0, f"exit status {rc}", out, err)
    data = json.loads(out)
    check(data["config"]["io_queue_size"] == 64 and data["config"]["max_completions"] == 7,
          f"config says {data['config']['io_queue_size']}/{data['config']['max_completions']}"
          ", asked for 64/7", out)
    rc, out, err = run(tool, "-a", "emu:", "-q", "8", "-w", "randrw", "-M", "70", "-t", "1",
                       "-L")
    check(rc == 0, f"text run exited {rc}", out, err)
    for label in ("reads", "writes"):
        rows = re.findall(r"^  " + label + r" +[\d.]+ +[\d.]+ +[\d.]+", out, re.M)
        # Per job and Total, in the table and in the percentiles.
        check(len(rows) == 4, f"{len(rows)} '  {label}' rows, expected 4", out)


def check_no_io(tool):
    # Each command takes 3 s; the run measures 0.5 s: nothing completes in it.
    args = ["-a", "emu:lat_us=3000000", "-q", "1", "-t", "0.5"]
    rc, out, err = run(tool, *args)
    check(rc == 1, f"exit status {rc}, expected 1", out, err)
    check("result: FAIL" in out, "no 'result: FAIL'", out, err)
    check("no command completed in the measured window" in err, "no message on stderr",
          out, err)
    rc, out, err = run(tool, *args, "--json")
    check(rc == 1, f"--json: exit status {rc}, expected 1", out, err)
    data = json.loads(out)
    check(data["result"] == "fail", "JSON result is not fail", out)
    check(data["first_error"].startswith("no command completed"), "JSON first_error", out)


def check_emu_cpu(tool):
    # The warning comes before the run and does not depend on how it goes: a
    # starved device thread may complete nothing in 0.1 s (exit 1), so only
    # a usage error (2) or a crash counts against it.
    allowed = sorted(os.sched_getaffinity(0))
    warning = "device thread may only run on CPU"
    cpu0 = allowed[0]
    # Pinned to the worker's CPU: shares it.
    rc, out, err = run(tool, "-a", f"emu:cpu={cpu0}", "-c", str(cpu0), "-q", "2", "-t", "0.1")
    check(rc in (0, 1), f"exit status {rc}", out, err)
    check(f"{warning} {cpu0}, where perf's workers poll" in err, "no warning for a device "
          "thread pinned to the worker's CPU", out, err)
    # Workers on every CPU this process may use: the device thread has none left.
    cpus = ",".join(str(c) for c in allowed)
    rc, out, err = run(tool, "-a", "emu:", "-c", cpus, "-q", "2", "-t", "0.1")
    check(rc in (0, 1), f"exit status {rc}", out, err)
    check(warning in err, f"no warning with workers on every CPU ({cpus})", out, err)
    if len(allowed) < 2:
        print("note: one CPU only; the cases with a free CPU are skipped")
        return
    for addr in (f"emu:cpu={allowed[1]}", "emu:"):
        rc, out, err = run(tool, "-a", addr, "-c", str(cpu0), "-q", "2", "-t", "0.1")
        check(rc in (0, 1), f"{addr}: exit status {rc}", out, err)
        check(warning not in err, f"{addr} -c {cpu0}: a warning although the device "
              "thread has a CPU of its own", out, err)


def check_zoneappend(tool):
    # Zone Append on the zoned namespace only; zones reset as they fill:
    # 4 MiB zones of 3 MiB at 64 KiB per append fill one every 48 appends.
    addr = "emu:ns=16M:4096,ns=64M:4096,zoned=4M/3M,zone_open=6,zone_active=8"
    rc, out, err = run(tool, "-a", addr, "-w", "zoneappend", "-o", "64k", "-q", "4",
                       "-t", "1", "--json")
    check(rc == 0, f"exit status {rc}", out, err)
    data = json.loads(out)
    check(data["config"]["workload"] == "zoneappend", "JSON workload", out)
    jobs = data["jobs"]
    check([j["nsid"] for j in jobs] == [2], "zoneappend ran on the zoned namespace only", out)
    job = jobs[0]
    check(job["errors"] == 0 and job["writes"] > 0, "appends failed or none completed", out)
    check(job["zone_resets"] >= 1 or job["writes"] < 48,
          f"{job['writes']} appends of 64 KiB filled no zone to reset", out)
    # The conventional workloads leave zoned namespaces out; -n says why.
    rc, out, err = run(tool, "-a", addr, "-w", "write", "-n", "2", "-t", "0.1")
    check(rc == 2 and "is zoned; only -w zoneappend runs on it" in err, "write to zoned -n",
          out, err)
    rc, out, err = run(tool, "-a", "emu:", "-w", "zoneappend", "-t", "0.1")
    check(rc == 2 and "has no zoned namespace" in err, "zoneappend without zones", out, err)
    rc, out, err = run(tool, "-a", addr + ",zasl=3", "-w", "zoneappend", "-o", "64k", "-t", "0.1")
    check(rc != 0 and "larger than the append limit" in err, "-o above ZASL", out, err)
    rc, out, err = run(tool, "-a", addr, "-w", "zoneappend", "--verify", "-t", "0.1")
    check(rc == 2 and "--verify does not apply to -w zoneappend" in err, "--verify", out, err)


def check_pi_verify(tool):
    addr = "emu:ns=16M:4096+8:pi1,ns=16M:512+8:ext:pi3:first"
    rc, out, err = run(tool, "-a", addr, *WORKLOAD, "-t", "1", "--verify-final", "--json")
    check(rc == 0, f"exit status {rc}, expected 0", out, err)
    total = json.loads(out)["total"]
    check(total["errors"] == 0, f"{total['errors']} errors", out, err)
    check(total["verify_mismatches"] == 0, "mismatches", out, err)
    check(total.get("verify_checks", 0) > 0 and total["verify_final_checks"] > 0,
          "nothing was compared", out, err)
    rc, out, err = run(tool, "-a", "emu:ns=16M:4096+16:pi1", "-q", "2", "-t", "0.2")
    check(rc == 2, f"more metadata than PI: exit status {rc}, expected 2", out, err)
    check("only when the metadata is just the PI" in err, "no message saying why", out, err)


CHECKS = {
    "zoneappend": check_zoneappend,
    "pi-verify": check_pi_verify,
    "json-progress": check_json_progress,
    "header-first": check_header_first,
    "mixed": check_mixed,
    "no-io": check_no_io,
    "emu-cpu": check_emu_cpu,
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
