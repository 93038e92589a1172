#!/bin/sh
# CMB guest script for vm-compare.sh --guest-script: nvpoll-perf with its I/O
# submission queues in host memory and in the controller's Controller Memory
# Buffer, in interleaved rounds of the same boot, QD1 and QD32 4 KiB
# randread on a null-co controller that has a CMB. The bench hardware has
# none, so add one with NVP_VM_QEMU_ARGS:
#
#   NVP_VM_QEMU_ARGS="-drive driver=null-co,read-zeroes=on,size=1G,if=none,id=nullcmb
#     -device nvme,id=nvmecmb,serial=NVPCMB0,cmb_size_mb=16,bus=pcie.0,addr=0x7
#     -device nvme-ns,bus=nvmecmb,drive=nullcmb,nsid=1,logical_block_size=4096,physical_block_size=4096" \
#   tools/bench/vm-compare.sh --build-dir build --guest-script tools/bench/guest-cmb.sh
#
# Prints NVP-BENCH lines nvpoll-qd1 / nvpoll-cmb-qd1 / nvpoll-qd32 / nvpoll-cmb-qd32
# (SQs in host memory / in the CMB), which vm-compare.sh tabulates side by side.
# shellcheck shell=sh
. /guest/lib.sh
. /guest/guest-common.sh

bench_args 5 3

failures=0
bad() { echo "cmb: FAIL: $*"; failures=$((failures + 1)); }

# perf_run NAME MODE QD: the Total row gives IOPS ($2), mean ($4), min ($5).
perf_run() {
  name=$1 mode=$2 qd=$3
  run nvpoll-perf -a "$CMB_ADDR" --cmb-sqs "$mode" -o 4096 -t "$secs" -W 1 -L -q "$qd" \
    -w randread >/tmp/perf.out 2>&1 || { cat /tmp/perf.out; bad "$name exited $?"; return; }
  # The configuration line says whether the SQs really were in the CMB.
  case $mode in
    require) grep -q "CMB SQs on" /tmp/perf.out || { cat /tmp/perf.out; bad "$name: SQs not in the CMB"; return; } ;;
  esac
  # shellcheck disable=SC2046  # split the Total row into fields
  set -- $(grep "^Total" /tmp/perf.out)
  emit "$name" "$2" "$4" "$5"
}

CMB_ADDR=$(addr_of NVPCMB0) || { echo "cmb: no controller with serial NVPCMB0 (see the header)"; exit 1; }
have nvpoll-perf || bad "nvpoll-perf is not in the image"

round=1
while [ $round -le "$rounds" ]; do
  echo "cmb: round $round of $rounds"
  # Alternate which goes first, so neither always gets the warm start.
  if [ $((round % 2)) = 1 ]; then a=off an=nvpoll b=require bn=nvpoll-cmb
  else a=require an=nvpoll-cmb b=off bn=nvpoll; fi
  for qd in 1 32; do
    perf_run "$an-qd$qd" "$a" "$qd"
    perf_run "$bn-qd$qd" "$b" "$qd"
  done
  round=$((round + 1))
done
echo "cmb: done, $failures failures"
[ $failures = 0 ]
