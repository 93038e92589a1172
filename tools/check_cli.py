#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest checks of what nvpoll-perf, nvpoll-identify and nvpoll-setup share:
their command line conventions and exit statuses.

Usage: check_cli.py BINDIR CHECK
  version-help  -V and --version print "<tool> 0.1.0"; --help, run by its full
                path, starts "Usage: <tool>" with the bare name and exits 0
  exit-codes    one rule for all three: 2 for usage and address errors
                (before anything is touched), 1 for failures during the run
Exits non-zero with the reason on the first mismatch.
"""
import os
import subprocess
import sys

TOOLS = ("nvpoll-perf", "nvpoll-identify", "nvpoll-setup")
VERSION = "0.1.0"


def run(argv, timeout=120, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def check(cond, msg, out="", err=""):
    if not cond:
        print("FAIL: " + msg)
        if out:
            print("--- stdout ---\n" + out)
        if err:
            print("--- stderr ---\n" + err)
        sys.exit(1)


def check_version_help(bindir):
    for tool in TOOLS:
        path = os.path.join(bindir, tool)
        for opt in ("-V", "--version"):
            rc, out, err = run([path, opt])
            check(rc == 0 and out == f"{tool} {VERSION}\n",
                  f"{tool} {opt}: exit {rc}, printed {out!r}", out, err)
        rc, out, err = run([path, "--help"])
        check(rc == 0, f"{tool} --help exited {rc}", out, err)
        check(out.startswith(f"Usage: {tool} "),
              f"{tool} --help does not start with 'Usage: {tool} '", out, err)
        check(bindir not in out, f"{tool} --help prints the path it was run by", out, err)


def non_nvme_function():
    """A PCI function of this machine that is not an NVMe controller, or None."""
    root = "/sys/bus/pci/devices"
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return None
    for name in names:
        try:
            with open(os.path.join(root, name, "class")) as f:
                if int(f.read(), 16) != 0x010802:
                    return name
        except (OSError, ValueError):
            continue
    return None


def check_exit_codes(bindir):
    perf, identify, setup = (os.path.join(bindir, t) for t in TOOLS)
    # Which command of each tool takes an address.
    takes = {
        "nvpoll-perf": lambda a: [perf, "-a", a, "-t", "0.1"],
        "nvpoll-identify": lambda a: [identify, a],
        "nvpoll-setup bind": lambda a: [setup, "--no-modprobe", "bind", a],
        "nvpoll-setup unbind": lambda a: [setup, "--no-modprobe", "unbind", a],
    }
    usage = [
        ([perf, "--bogus"], "unknown option"),
        ([perf, "-a", "emu:", "-q", "0"], "queue depth"),
        ([identify, "--bogus"], "--help"),
        ([identify], "missing ADDRESS"),
        ([setup, "--bogus"], "--help"),
        ([setup, "frobnicate"], "unknown command"),
    ]
    for argv, fragment in usage:
        rc, out, err = run(argv)
        check(rc == 2, f"{argv[1:]}: exit {rc}, expected 2", out, err)
        check(fragment in err, f"{argv[1:]}: stderr lacks {fragment!r}", out, err)

    # Address errors: exit 2 from every tool, with the same reason.
    addrs = [("not-an-address", "is not a PCI address"),
             ("0000:ff:1f.7", "no PCI function 0000:ff:1f.7")]
    other = non_nvme_function()
    if other:
        addrs.append((other, "is not an NVMe controller"))
    else:
        print("note: no non-NVMe PCI function here; that case is skipped")
    for addr, fragment in addrs:
        for name, argv in takes.items():
            rc, out, err = run(argv(addr))
            check(rc == 2, f"{name} {addr}: exit {rc}, expected 2", out, err)
            check(fragment in err, f"{name} {addr}: stderr lacks {fragment!r}", out, err)
    # emu: addresses the library refuses: bad options, a namespace file
    # that cannot be created (its directory does not exist).
    emu_bad = [("emu:bogus=1", "unknown option"),
               ("emu:ns=1M:4096:/nonexistent-nvpoll-dir/ns.img", "cannot open backing file")]
    for addr, fragment in emu_bad:
        for name in ("nvpoll-perf", "nvpoll-identify"):
            rc, out, err = run(takes[name](addr))
            check(rc == 2, f"{name} {addr}: exit {rc}, expected 2", out, err)
            check(fragment in err, f"{name} {addr}: stderr lacks {fragment!r}", out, err)

    # Failures during the run: exit 1.
    rc, out, err = run([perf, "-a", "emu:", "-q", "4", "-t", "10", "--test-fail-after", "0.3"])
    check(rc == 1, f"nvpoll-perf, controller failed during the run: exit {rc}, expected 1",
          out, err)
    check("failed for good" in err, "nvpoll-perf: no 'failed for good' message", out, err)
    # And success is 0.
    rc, out, err = run([identify, "emu:"])
    check(rc == 0, f"nvpoll-identify emu: exit {rc}", out, err)


CHECKS = {
    "version-help": check_version_help,
    "exit-codes": check_exit_codes,
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CHECKS:
        print(f"usage: {sys.argv[0]} BINDIR {'|'.join(CHECKS)}")
        return 2
    CHECKS[sys.argv[2]](os.path.abspath(sys.argv[1]))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
