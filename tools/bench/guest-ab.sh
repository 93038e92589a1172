#!/bin/sh
# A/B guest script for vm-compare.sh --guest-script: two builds of
# nvpoll-perf in one boot, in interleaved rounds, on the null-co controller
# (NVPBENCH0), QD1 and QD32 4 KiB randread, with fio io_uring hipri as the
# common reference. The build under test is bin/nvpoll-perf; the baseline
# is bin/nvpoll-perf-base in the same build dir (copy a baseline build's
# nvpoll-perf there; it links the library statically).
#
#   cp /path/to/baseline/build/bin/nvpoll-perf build/bin/nvpoll-perf-base
#   tools/bench/vm-compare.sh --build-dir build --guest-script tools/bench/guest-ab.sh
#
# Peers in the same rounds (guest-common.sh): vm-compare.sh brings SPDK's and
# libvfn's perf from ../shared/peers into the image when it finds them.
#
# Prints NVP-BENCH lines (vm-compare.sh keeps them in .cache/bench/results.txt):
#   nvpoll-qd1 / nvpoll-base-qd1 / spdk-qd1 / libvfn-qd1 / fio-hipri-qd1,
#   the same for qd32, and nvpoll-noshadow-qd32 (the build under test with
#   --no-shadow-doorbell: the type1 QD32 question in docs/performance.md).
# shellcheck shell=sh
. /guest/lib.sh
. /guest/guest-common.sh

bench_args 10 2

failures=0
bad() { echo "ab: FAIL: $*"; failures=$((failures + 1)); }

# perf_run NAME BINARY QD: the Total row gives IOPS ($2), mean ($4), min ($5).
perf_run() {
  name=$1 bin=$2 qd=$3
  shift 3
  run "$bin" -a "$NULL_ADDR" -o 4096 -t "$secs" -W 1 -L -q "$qd" -w randread "$@" >/tmp/perf.out 2>&1 ||
    { cat /tmp/perf.out; bad "$name: $bin exited $?"; return; }
  # shellcheck disable=SC2046  # split the Total row into fields
  set -- $(grep "^Total" /tmp/perf.out)
  emit "$name" "$2" "$4" "$5"
}

NULL_ADDR=$(addr_of NVPBENCH0) || { echo "ab: no controller with serial NVPBENCH0"; exit 1; }
peers_setup
have nvpoll-perf || bad "nvpoll-perf is not in the image"
have nvpoll-perf-base || bad "nvpoll-perf-base is not in the image (see the header)"
rmmod nvme && modprobe nvme poll_queues=1 && wait_blockdev "$NULL_ADDR" ||
  bad "reloading nvme with poll_queues=1"

round=1
while [ $round -le "$rounds" ]; do
  echo "ab: round $round of $rounds"
  # Alternate which build goes first, so neither always gets the warm start.
  if [ $((round % 2)) = 1 ]; then a=nvpoll-perf an=nvpoll b=nvpoll-perf-base bn=nvpoll-base
  else a=nvpoll-perf-base an=nvpoll-base b=nvpoll-perf bn=nvpoll; fi
  for qd in 1 32; do
    perf_run "$an-qd$qd" "$a" $qd
    perf_run "$bn-qd$qd" "$b" $qd
    case $PEERS in *spdk*) spdk_run "spdk-qd$qd" "$NULL_ADDR" $qd ;; esac
    case $PEERS in *libvfn*) libvfn_run "libvfn-qd$qd" "$NULL_ADDR" $qd ;; esac
    fio_kernel "fio-hipri-qd$qd" $qd --hipri
  done
  perf_run nvpoll-noshadow-qd32 nvpoll-perf 32 --no-shadow-doorbell
  round=$((round + 1))
done
echo "ab: done, $failures failures"
[ $failures = 0 ]
