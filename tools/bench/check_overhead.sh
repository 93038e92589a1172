#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# nvpoll-overhead runs and reports (no timing is judged): the full table, and
# each -m part (used by overhead-instructions.py under valgrind), whose
# counts line must add up; a bad -m is refused.
set -e
bin=$1
out=$("$bin" -i 2000)
echo "$out"
for row in 'submit: nvp_read()' 'complete less callback' 'floor at QD1'; do
  echo "$out" | grep -qF "$row" || { echo "FAIL: no '$row' row"; exit 1; }
done
for m in qd1 batch idle; do
  c=$("$bin" -m "$m" -i 500)
  echo "$c"
  echo "$c" | awk -v m="$m" '
    /^counts:/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      found = 1
    }
    END {
      if (!found) { print "FAIL: -m " m ": no counts line"; exit 1 }
      if (v["mode"] != m || v["polls"] != v["busy_polls"] + v["empty_polls"] || v["polls"] < 1) {
        print "FAIL: -m " m ": counts do not add up"; exit 1
      }
      if (m != "idle" && (v["ios"] < 500 || v["busy_polls"] < 1)) {
        print "FAIL: -m " m ": fewer I/Os than asked, or no completions"; exit 1
      }
      if (m == "idle" && (v["busy_polls"] != 0 || v["polls"] != 500)) {
        print "FAIL: -m idle: a held command completed, or not 500 polls"; exit 1
      }
    }'
done
if "$bin" -m nonsense >/dev/null 2>&1; then
  echo "FAIL: -m nonsense was accepted"; exit 1
fi
echo PASS
