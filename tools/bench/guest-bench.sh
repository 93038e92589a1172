#!/bin/sh
# Guest side of vm-compare.sh (busybox ash, run by the rig's /init as
# /guest/nvpoll-bench.sh). One boot, one null-co controller (serial NVPBENCH0)
# and one file-backed controller (NVPBENCH1, for --verify):
#   fio io_uring direct=1 on the kernel driver, QD1 and QD32, without hipri;
#   then, after reloading nvme with poll_queues=1, in rounds: fio with hipri,
#   nvpoll-perf 4 KiB randread (with and without shadow doorbells), QD1 and
#   QD32, fio with the nvpoll engine (nvpoll-fio.so) at QD1 and QD32 when the
#   build has it, with fio's null engine beside it (fio's own ceiling), and
#   nvpoll-perf with and without --verify on the file
#   namespace, and SPDK's and libvfn's perf tools when vm-compare.sh put them
#   in the image (guest-common.sh; libvfn in type1 only);
#   last, --verify on the null device, which must fail.
# Each measurement prints one line for the host:
#   NVP-BENCH <mode> <name> <IOPS> <mean latency us> <min latency us>
# Kernel command line: nvp.bench_seconds=N (default 10), nvp.bench_rounds=N (2).
# shellcheck shell=sh
. /guest/lib.sh
. /guest/guest-common.sh

bench_args 10 2

failures=0
bad() { echo "bench: FAIL: $*"; failures=$((failures + 1)); }

# fio_nvpoll NAME QD: the same fio workload through nvpoll-fio.so on the
# same controller (fio's own cost over nvpoll-perf: its per-I/O accounting,
# clock reads and engine calls).
FIO_ENGINE=/lib/nvpoll/nvpoll-fio.so
fio_nvpoll() {
  fn_name=$1 fn_qd=$2
  shift 2
  fio_randread "$fn_name" "$fn_qd" --thread --ioengine=external:$FIO_ENGINE \
    --filename="$(echo "$NULL_ADDR" | sed 's/:/\\:/g')" "$@"
}

# fio_null NAME QD: fio's own ceiling, the same job on fio's null engine
# (no device, no driver): what fio costs per I/O in this guest.
fio_null() {
  fio_randread "$@" --thread --ioengine=null --size=1G
}

# perf_run NAME ADDR ARGS...: the Total row gives IOPS ($2), mean ($4), min ($5).
perf_run() {
  name=$1 addr=$2
  shift 2
  run nvpoll-perf -a "$addr" -o 4096 -t "$secs" -W 1 -L "$@" >/tmp/perf.out 2>&1
  rc=$?
  cat /tmp/perf.out
  [ $rc = 0 ] || { bad "$name: nvpoll-perf exited $rc"; return; }
  # shellcheck disable=SC2046  # split the Total row into fields
  set -- $(grep "^Total" /tmp/perf.out)
  emit "$name" "$2" "$4" "$5"
}

NULL_ADDR=$(addr_of NVPBENCH0) || { echo "bench: no controller with serial NVPBENCH0"; exit 1; }
FILE_ADDR=$(addr_of NVPBENCH1) || FILE_ADDR=""
echo "bench: mode=$NVP_MODE null=$NULL_ADDR file=${FILE_ADDR:-none} seconds=$secs"

have fio || bad "fio is not in the image"
have nvpoll-perf || bad "nvpoll-perf is not in the image"
peers_setup

fio_kernel fio-qd1 1
fio_kernel fio-qd32 32
# hipri needs polled queues, which the nvme driver only makes at load time;
# nvpoll gives the controller back to this driver after each run
rmmod nvme && modprobe nvme poll_queues=1 && wait_blockdev "$NULL_ADDR" ||
  bad "reloading nvme with poll_queues=1"

# The host's load drifts during a boot, so the rows that are compared run
# interleaved, in rounds, and the host averages the rounds.
round=1
while [ $round -le "$rounds" ]; do
  echo "bench: round $round of $rounds"
  fio_kernel fio-hipri-qd1 1 --hipri
  perf_run nvpoll-qd1 "$NULL_ADDR" -q 1 -w randread
  perf_run nvpoll-nodbbuf-qd1 "$NULL_ADDR" -q 1 -w randread --no-shadow-doorbell
  [ -f $FIO_ENGINE ] && fio_nvpoll fio-nvpoll-qd1 1 && fio_null fio-null-qd1 1
  case $PEERS in *spdk*) spdk_run spdk-qd1 "$NULL_ADDR" 1 ;; esac
  case $PEERS in *libvfn*) libvfn_run libvfn-qd1 "$NULL_ADDR" 1 ;; esac
  fio_kernel fio-hipri-qd32 32 --hipri
  perf_run nvpoll-qd32 "$NULL_ADDR" -q 32 -w randread
  perf_run nvpoll-nodbbuf-qd32 "$NULL_ADDR" -q 32 -w randread --no-shadow-doorbell
  if [ -f $FIO_ENGINE ]; then
    fio_nvpoll fio-nvpoll-qd32 32
    # fio commits (rings the doorbell) after every I/O unless told to batch
    fio_nvpoll fio-nvpoll-batch-qd32 32 --iodepth_batch_submit=16 \
      --iodepth_batch_complete_max=32
    fio_null fio-null-qd32 32
  fi
  case $PEERS in *spdk*) spdk_run spdk-qd32 "$NULL_ADDR" 32 ;; esac
  case $PEERS in *libvfn*) libvfn_run libvfn-qd32 "$NULL_ADDR" 32 ;; esac
  if [ -n "$FILE_ADDR" ]; then
    perf_run nvpoll-file-qd32 "$FILE_ADDR" -q 32 -w randread
    perf_run nvpoll-file-verify-qd32 "$FILE_ADDR" -q 32 -w randread --verify
  fi
  round=$((round + 1))
done

# a null device drops writes: --verify must notice and fail (exit 1)
run nvpoll-perf -a "$NULL_ADDR" -q 4 -t 1 -w randrw --verify >/tmp/perf.out 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'verify: [1-9]' /tmp/perf.out; then
  echo "bench: --verify on null-co failed as it must: $(grep 'first failure' /tmp/perf.out)"
else
  bad "--verify on a null device exited $rc without reporting mismatches"
  cat /tmp/perf.out
fi

echo "bench: done, $failures failures"
[ $failures = 0 ]
