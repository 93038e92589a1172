#!/bin/sh
# Reset soak, a guest script for vm-compare.sh --guest-script: nvpoll-perf
# resets QEMU's file-backed controller (NVPBENCH1) ten times a second while
# a verified random read/write load runs, then reads back every unit
# written. It answers "does the device survive many resets under I/O, and
# does the driver lose nothing across them" with a count large enough to
# see rare failures (QEMU 7.2 crashed in nvme_rw_complete_cb in about 2 %
# of resets before the driver deleted the I/O queues ahead of the disable).
#
#   tools/bench/vm-compare.sh --build-dir build --modes "type1 noiommu" \
#     --seconds 60 --rounds 1 --guest-script tools/bench/guest-reset-soak.sh
#
# Prints one NVP-BENCH row per mode (reset-soak: IOPS, mean and minimum
# latency in microseconds) and the recovery and verify lines of the run;
# fails on a mismatch, a failed command, no reset, or a crashed QEMU (no
# NVP-RESULT line at all).
# shellcheck shell=sh
. /guest/lib.sh
. /guest/guest-common.sh

bench_args 60 1

failures=0
bad() { echo "soak: FAIL: $*"; failures=$((failures + 1)); }

ADDR=$(addr_of NVPBENCH1) || { echo "soak: no controller with serial NVPBENCH1"; exit 1; }
have nvpoll-perf || { echo "soak: nvpoll-perf is not in the image"; exit 1; }

run nvpoll-perf -a "$ADDR" -q 16 -o 8192 -w randrw -M 70 -t "$secs" -L --verify --verify-final \
  --reset-every 0.1 >/tmp/soak.out 2>&1 || bad "nvpoll-perf exited $?"
grep -E '^(recovery|verify)' /tmp/soak.out | sed 's/^/soak: /'
grep -A1 '^recovery (-a' /tmp/soak.out | tail -n1 | sed 's/^/soak: /'
grep -Eq ': [1-9][0-9]* resets' /tmp/soak.out || bad "no reset happened"
grep -q 'failed 0;' /tmp/soak.out || bad "commands failed across the resets"
grep -q '^verify: 0 mismatches; [1-9]' /tmp/soak.out || bad "mismatches, or no read compared"
grep -q '^verify, final read-back: [1-9][0-9]* units checked, 0 mismatches' /tmp/soak.out ||
  bad "the final read-back found mismatches or checked nothing"
[ $failures = 0 ] || cat /tmp/soak.out
# shellcheck disable=SC2046  # split the Total row into fields
set -- $(grep "^Total" /tmp/soak.out)
[ $# -ge 5 ] && echo "NVP-BENCH $NVP_MODE reset-soak $2 $4 $5"
echo "soak: done, $failures failures"
[ $failures = 0 ]
