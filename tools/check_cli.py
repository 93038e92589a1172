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


CHECKS = {
    "version-help": check_version_help,
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
