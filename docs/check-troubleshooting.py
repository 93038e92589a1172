#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check that docs/troubleshooting.md covers every error message.

  docs/check-troubleshooting.py           check; exit 1 listing what is missing
  docs/check-troubleshooting.py --list    print every message, grouped by file

The messages are found mechanically: every nvp_error() / nvp_error_fast() /
nvp_ctrl_fail() / init fail() call in lib/, with its string literals joined.
A message counts as covered when its *key phrase* appears in
troubleshooting.md (case and whitespace ignored, Markdown backticks and
emphasis removed). The key phrase is the first run of at least three
literal words (no printf conversions), cut to five words, so rewording the
tail of a message or changing its arguments does not break the check, while
a new message does. Tools' stderr messages (fprintf in tools/) are listed
with --list and reported, but do not fail the check, since the tools are
self-explanatory and change quickly.
"""
import argparse
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "troubleshooting.md")

# Calls whose format string is an error message, and the index of the
# argument that holds it.
LIB_CALLS = {"nvp_error": 1, "nvp_error_fast": 1, "nvp_ctrl_fail": 2, "fail": 2,
             "sysfs_error": 1}  # lib/sysfs (nvpoll_sysfs) reports through sysfs_error()
TOOL_CALLS = {"fprintf": 1}


def call_args(text, open_paren):
    """Split the arguments of the call whose '(' is at open_paren."""
    depth, i, start, args = 0, open_paren, open_paren + 1, []
    in_str = None
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == in_str:
                in_str = None
        elif c in "\"'":
            in_str = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(text[start:i])
                return args
        elif c == "," and depth == 1:
            args.append(text[start:i])
            start = i + 1
        i += 1
    return args


def literal(arg):
    """The concatenated string literals of an argument ('' if none)."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    return "".join(parts).replace('\\"', '"').replace("\\n", " ")


def messages(paths, calls):
    """[(file, line, function-call, message)] for every matching call."""
    out = []
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, calls)) + r")\s*\(")
    for path in paths:
        text = open(path, encoding="utf-8").read()
        for m in pattern.finditer(text):
            name = m.group(1)
            # fail() is init.c's "init of X failed in state 'S': why";
            # anything else called fail() elsewhere is not ours.
            if name == "fail" and not path.endswith("nvme/init.c"):
                continue
            line_start = text.rfind("\n", 0, m.start()) + 1
            if text[line_start:m.start()].lstrip().startswith(("*", "/*", "#define")):
                continue
            prefix = text[line_start:m.start()]
            if re.search(r"\b(static|int|void)\s+$", prefix):
                continue   # the definition, not a call
            args = call_args(text, m.end() - 1)
            idx = calls[name]
            if len(args) < idx + 1:
                continue
            if name == "fprintf" and "stderr" not in args[0]:
                continue
            msg = literal(args[idx])
            if not msg.strip() or not re.search(r"[A-Za-z]{3}", msg):
                continue
            line = text.count("\n", 0, m.start()) + 1
            out.append((os.path.relpath(path, ROOT), line, name, msg))
    return out


def normalise(s):
    """Lower case, without Markdown marks and punctuation, single spaces: so
    "the memlock limit (`ulimit -l` = N)" matches "the memlock limit ulimit -l"."""
    s = re.sub(r"[`*_,.;:()'\"\[\]<>]", "", s.lower())
    return re.sub(r"\s+", " ", s)


def key_phrase(msg):
    """First run of >= 3 literal words, at most 5 of them; None if none."""
    words = msg.split()
    run = []
    best = None
    for w in words + ["%end"]:
        if "%" in w:
            if len(run) >= 3:
                best = run
                break
            run = []
        else:
            run.append(w.strip(",.;:()'\""))
            run = [x for x in run if x]
            if len(run) >= 5:
                best = run
                break
    if best is None and len(run) >= 3:
        best = run
    return " ".join(best[:5]).lower() if best else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print every message")
    args = ap.parse_args()

    lib_files = sorted(glob.glob(os.path.join(ROOT, "lib", "**", "*.c"), recursive=True))
    tool_files = sorted(glob.glob(os.path.join(ROOT, "tools", "**", "*.c"), recursive=True))
    lib_msgs = messages(lib_files, LIB_CALLS)
    tool_msgs = messages(tool_files, TOOL_CALLS)

    if args.list:
        current = None
        for path, line, name, msg in lib_msgs + tool_msgs:
            if path != current:
                print(f"\n## {path}")
                current = path
            print(f"{line}: [{key_phrase(msg)}] {msg}")
        return 0

    doc = normalise(open(DOC, encoding="utf-8").read()) if os.path.exists(DOC) else ""
    missing, tool_missing, checked = [], [], 0
    for path, line, name, msg in lib_msgs:
        key = key_phrase(msg)
        if key is None:
            continue   # all arguments, nothing to look for
        checked += 1
        if normalise(key) not in doc:
            missing.append(f"  {path}:{line}: \"{key}\"  <- {msg}")
    for path, line, name, msg in tool_msgs:
        key = key_phrase(msg)
        if key and normalise(key) not in doc:
            tool_missing.append(f"  {path}:{line}: \"{key}\"")
    print(f"{checked} library messages checked against docs/troubleshooting.md")
    if tool_missing:
        print(f"note: {len(tool_missing)} tool messages are not in the guide "
              "(not an error):")
        print("\n".join(tool_missing))
    if missing:
        print(f"\n{len(missing)} library error messages are not in "
              "docs/troubleshooting.md. Add each one (its key phrase, in quotes "
              "below, must appear verbatim) with its cause and its fix:", file=sys.stderr)
        print("\n".join(missing), file=sys.stderr)
        print("\nList every message with: python3 docs/check-troubleshooting.py --list",
              file=sys.stderr)
        return 1
    print("every library error message is covered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
