#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# kill-test.sh NVPOLL_WAL [ITERATIONS]
#
# Crash test for the write-ahead log example. The log lives on an emulated
# NVMe namespace backed by a file. The emulated controller runs inside the
# nvpoll-wal process and writes into a MAP_SHARED mapping of that file, so
# kill -9 models a host crash: what the "device" had written when the
# process died is in the file (the page cache survives the process), and
# nothing else is.
#
# Each iteration appends from 4 threads, alternating FUA and Flush commits,
# kills the appender at a random moment and requires that recovery brings
# back every acknowledged record (recovered end LSN >= the acknowledged LSN
# in the ack file) with the right payload. The log is not reformatted
# between iterations, so each one also recovers and continues the previous
# crashed session. At the end two negative controls check that the checks
# can fail: an LSN past the recovered end, and a flipped payload byte.
set -eu

wal=${1:?usage: kill-test.sh NVPOLL_WAL [ITERATIONS]}
iterations=${2:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/nvpoll-wal-kill.XXXXXX")
trap 'rm -rf "$work"' EXIT
img=$work/ns.img
ack=$work/ack
block_size=4096
# 1 GiB, sparse: big enough that no appender fills it before being killed.
addr="emu:ns=1G:$block_size:$img"

fail() { echo "FAIL: $*" >&2; exit 1; }

# random_between LO HI: a random integer in [LO, HI].
random_between() {
  od -An -N2 -tu2 /dev/urandom | awk -v lo="$1" -v hi="$2" '{ print lo + $1 % (hi - lo + 1) }'
}

# field NAME FILE: the value of NAME=... on the "recovered:" line of FILE.
field() { sed -n "s/^recovered:.* $1=\\([0-9]*\\).*/\\1/p" "$2"; }

"$wal" -a "$addr" format >/dev/null || fail "format"

previous_end=0
for i in $(seq 1 "$iterations"); do
  if [ $((i % 2)) -eq 1 ]; then mode=fua; else mode=flush; fi
  delay_ms=$(random_between 200 1200)
  rm -f "$ack"
  "$wal" -a "$addr" append --threads 4 --records 0 --size 100:9000 --batch 8 \
    --commit "$mode" --ack-file "$ack" >"$work/append.log" 2>&1 &
  pid=$!
  # The ack file appears once recovery is done and appending starts.
  waited=0
  while [ ! -s "$ack" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/append.log" >&2; fail "append exited early"; }
    [ "$waited" -lt 1000 ] || fail "append did not start within 10 s"
    sleep 0.01
    waited=$((waited + 1))
  done
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  wait "$pid" 2>/dev/null || status=$?
  # 128 + SIGKILL: anything else means it finished or failed before the kill.
  [ "$status" -eq 137 ] || { cat "$work/append.log" >&2; fail "append was not killed mid-write (exit $status)"; }
  acked=$(cat "$ack")

  "$wal" -a "$addr" recover --expect-at-least "$acked" >"$work/recover.log" 2>&1 ||
    { cat "$work/recover.log" >&2; fail "iteration $i: recovery lost acknowledged records"; }
  end=$(field end_lsn "$work/recover.log")
  records=$(field records "$work/recover.log")
  stop=$(sed -n 's/^recovered:.* stop="\(.*\)"$/\1/p' "$work/recover.log")
  echo "iteration $i: commit=$mode killed after ${delay_ms} ms: acknowledged LSN $acked," \
       "recovered end LSN $end ($records records, +$(((end - previous_end) / block_size)) blocks" \
       "this round, $(((end - acked) / block_size)) blocks written but not acknowledged; stop: $stop)"
  previous_end=$end
done
[ "$previous_end" -gt 0 ] || fail "no record was ever acknowledged; the test proved nothing"

# Negative control 1: asking for more than was recovered must fail.
if "$wal" -a "$addr" recover --expect-at-least $((previous_end + 1)) >/dev/null 2>&1; then
  fail "recover accepted --expect-at-least past the recovered end"
fi
# Negative control 2: flip one payload byte of the first record (LSN 0, in
# the log area after the two superblock blocks). It was committed by an
# earlier session, so recovery must report lost data, not a shorter log.
offset=$((2 * block_size + 32 + 5))
byte=$(od -An -tu1 -j "$offset" -N1 "$img" | tr -d ' ')
# shellcheck disable=SC2059  # the format is built on purpose: one octal escape
printf "\\$(printf %o $(((byte + 1) % 256)))" |
  dd of="$img" bs=1 seek="$offset" conv=notrunc 2>/dev/null
if "$wal" -a "$addr" recover >"$work/recover.log" 2>&1; then
  fail "recover did not notice a damaged committed record"
fi
grep -q "committed data was lost" "$work/recover.log" ||
  { cat "$work/recover.log" >&2; fail "damaged record reported in an unexpected way"; }
echo "negative controls: over-large --expect-at-least and a flipped payload byte both fail recovery"
echo "PASS: $iterations kills, every acknowledged record recovered intact"
