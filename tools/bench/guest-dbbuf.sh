#!/bin/sh
# Guest script for vm-compare.sh --guest-script: where shadow doorbells cost
# at QD32. In interleaved rounds on the null-co controller (NVPBENCH0),
# 4 KiB randread QD32: nvpoll-perf with and without shadow doorbells (with
# --qpair-stats: SQ/CQ doorbell updates and MMIO writes per command, polls
# and empty polls) and spdk_nvme_perf (also with shadow doorbells).
#
#   tools/bench/vm-compare.sh --build-dir build/rel --modes type1 \
#       --guest-script tools/bench/guest-dbbuf.sh --rounds 3 --seconds 5
#
# Prints NVP-BENCH lines (nvpoll-qd32, nvpoll-nodbbuf-qd32, spdk-qd32) and,
# per nvpoll run, a "dbbuf:" line with the queue pair's counters per command.
# shellcheck shell=sh
. /guest/lib.sh
. /guest/guest-common.sh

bench_args 10 2

failures=0
bad() { echo "dbbuf: FAIL: $*"; failures=$((failures + 1)); }

perf_run() {
  name=$1
  shift
  run nvpoll-perf -a "$NULL_ADDR" -o 4096 -q 32 -w randread -t "$secs" -W 1 -L \
    --qpair-stats "$@" >/tmp/perf.out 2>&1
  rc=$?
  cat /tmp/perf.out
  [ $rc = 0 ] || { bad "$name: nvpoll-perf exited $rc"; return; }
  # shellcheck disable=SC2046  # split the Total row into fields
  set -- $(grep "^Total" /tmp/perf.out)
  emit "$name" "$2" "$4" "$5"
  # per command: SQ doorbell updates and MMIO writes, CQ MMIO, polls
  sed -n 's/^qpair [0-9]*: \([0-9]*\) submitted, [0-9]* completed, \([0-9]*\) polls (\([0-9.]*\)% empty); SQ doorbell \([0-9]*\) updates, \([0-9]*\) MMIO; CQ doorbell \([0-9]*\) updates, \([0-9]*\) MMIO.*/\1 \2 \3 \4 \5 \6 \7/p' \
    /tmp/perf.out | awk -v n="$name" '{ printf "dbbuf: %s: per command %.3f SQ updates, %.3f SQ MMIO, %.4f CQ MMIO, %.2f polls (%s%% empty)\n", n, $4 / $1, $5 / $1, $7 / $1, $2 / $1, $3 }'
}

NULL_ADDR=$(addr_of NVPBENCH0) || { echo "dbbuf: no controller with serial NVPBENCH0"; exit 1; }
have nvpoll-perf || bad "nvpoll-perf is not in the image"
peers_setup

round=1
while [ $round -le "$rounds" ]; do
  echo "dbbuf: round $round of $rounds"
  perf_run nvpoll-qd32
  perf_run nvpoll-nodbbuf-qd32 --no-shadow-doorbell
  case $PEERS in *spdk*) spdk_run spdk-qd32 "$NULL_ADDR" 32 ;; esac
  round=$((round + 1))
done
[ "$failures" = 0 ] && echo "NVP-RESULT: PASS" || echo "NVP-RESULT: FAIL ($failures)"
