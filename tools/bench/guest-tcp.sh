#!/bin/sh
# Guest side of vm-compare.sh --tcp (busybox ash, run by the rig's /init as
# /guest/nvpoll-bench.sh, uio boot): NVMe/TCP on loopback, issue 14.
# Starts the kernel's target (lib.sh tcp_target_up: nvmet-tcp on
# 127.0.0.1:4420, nsid 1 a memory-backed null_blk with 4096-byte blocks),
# then, in interleaved rounds, 4 KiB randread on nsid 1 at QD1 and QD32:
#   tcp-fio-qdN        fio io_uring direct=1 on the kernel's nvme-tcp
#                      initiator, connected with its defaults (no poll queues);
#   tcp-fio-hipri-qdN  the same with --hipri, the initiator connected with
#                      nr_poll_queues=1 (checked: io_poll on, and the I/O
#                      counted on the poll hctx when debugfs shows it);
#   tcp-nvpoll-qdN     nvpoll-perf -a tcp://127.0.0.1/NQN -n 1;
#   tcp-nvpoll-rps-qdN, tcp-fio-hipri-rps-qdN: the polled two again with
#                      loopback's receive work steered to CPU 1 (RPS, below).
# The kernel initiator is connected only for its own fio runs and deleted
# before nvpoll-perf runs (and nvpoll-perf has exited before fio runs), so
# each side has the target, and the guest's two CPUs, to itself: an idle
# connection costs little (a Keep Alive every few seconds), but it holds
# nvmet queues, kworkers and the rest of a path nvpoll's rows should not
# share.
# Each measurement prints one line for the host:
#   NVP-BENCH <mode> <name> <IOPS> <mean latency us> <min latency us>
# and one with the whole guest's CPU over the run (/proc/stat, both CPUs,
# the target's work included), for the report:
#   NVP-CPU <mode> <name> busy% user% sys% softirq% us-per-I/O
# and for nvpoll-perf its polls (each at least one recv(); one that takes
# data loops until EAGAIN) and SQ doorbell updates
# (each one sendmsg()) per I/O, from --qpair-stats:
#   NVP-POLLS <mode> <name> polls-per-I/O sends-per-I/O
# Kernel command line: nvp.bench_seconds=N (default 10), nvp.bench_rounds=N (2).
# shellcheck shell=sh source-path=SCRIPTDIR
# shellcheck source=lib.sh  # test/vm/guest, found with -P test/vm/guest
. /guest/lib.sh
# shellcheck source=guest-common.sh
. /guest/guest-common.sh

bench_args 10 2

failures=0
bad() { echo "bench: FAIL: $*"; failures=$((failures + 1)); }

TCP_ADDR="tcp://127.0.0.1/$NVP_TCP_NQN"
NCPU=$(grep -c '^cpu[0-9]' /proc/stat)

# cpu_begin / cpu_end NAME IOPS: the guest's CPU time over what ran in
# between, from /proc/stat (user+nice, system, irq+softirq; the rest idle):
# the NVP-CPU line, and each CPU's busy share on an "NVP-CPUS" line (which
# CPU the poller and the target's and initiator's work landed on).
cpu_begin() { cp /proc/stat /tmp/stat0; }
cpu_end() {
  cp /proc/stat /tmp/stat1
  awk -v name="$1" -v mode="$NVP_MODE" -v ncpu="$NCPU" -v iops="$2" '
    $1 ~ /^cpu[0-9]*$/ {
      u = $2 + $3; s = $4; q = $7 + $8; t = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9
      if (FILENAME == "/tmp/stat0") { U[$1] = u; S[$1] = s; Q[$1] = q; T[$1] = t; next }
      U[$1] = u - U[$1]; S[$1] = s - S[$1]; Q[$1] = q - Q[$1]; T[$1] = t - T[$1]
      if ($1 != "cpu") percpu = percpu sprintf(" %s=%.0f%%", $1, T[$1] > 0 ? 100 * (U[$1] + S[$1] + Q[$1]) / T[$1] : 0)
    }
    END {
      t = T["cpu"]
      if (t <= 0 || iops <= 0) exit
      busy = (U["cpu"] + S["cpu"] + Q["cpu"]) / t
      printf "NVP-CPU %s %s %.1f %.1f %.1f %.1f %.2f\n", mode, name, 100 * busy,
        100 * U["cpu"] / t, 100 * S["cpu"] / t, 100 * Q["cpu"] / t, busy * ncpu * 1e6 / iops
      printf "NVP-CPUS %s %s%s\n", mode, name, percpu
    }' /tmp/stat0 /tmp/stat1
}
# fio_iops: IOPS of fio's last run (terse field 8)
fio_iops() { cut -d';' -f8 /tmp/fio.out 2>/dev/null; }

# kpath_of CTRL / kdev_of CTRL: the namespace-1 block device of a kernel controller; with
# native multipath the controller lists its hidden path device nvmeXcYn1
# and I/O goes to the head, /dev/nvmeXn1 (as in lib.sh namespaces_of).
kpath_of() {
  for n in /sys/class/nvme/"$1"/nvme*n1; do
    [ -e "$n/size" ] && { echo "${n##*/}"; return 0; }
  done
  return 1
}
kdev_of() { kpath_of "$1" | sed 's/c[0-9]*n/n/'; }

# kconnect [OPTIONS]: connect the kernel initiator, wait for nsid 1's block
# device; sets KCTRL, KPATH (the request queue's disk) and KDEV.
kconnect() {
  KCTRL=$(NVP_TCP_CONNECT_OPTS="$*" && tcp_kernel_connect) || { echo "$KCTRL"; return 1; }
  i=0
  while [ $i -lt 100 ]; do
    KPATH=$(kpath_of "$KCTRL") && KDEV=$(kdev_of "$KCTRL") && [ -b "/dev/$KDEV" ] && break
    sleep 0.1
    i=$((i + 1))
  done
  [ -b "/dev/${KDEV:-none}" ] || { echo "no block device for $KCTRL nsid 1"; return 1; }
  echo "bench: kernel initiator $KCTRL (${*:-default queues}): /dev/$KDEV, path $KPATH, io_poll $(cat "/sys/block/$KDEV/queue/io_poll" 2>/dev/null)"
}

kdisconnect() {
  [ -n "${KCTRL:-}" ] || return 0
  echo 1 >"/sys/class/nvme/$KCTRL/delete_controller" 2>/dev/null
  i=0
  while [ -e "/sys/class/nvme/$KCTRL" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -e "/sys/class/nvme/$KCTRL" ] && bad "$KCTRL still there 10 s after delete_controller"
  KCTRL=""
}

# poll_queued: commands the path device queued on its poll hctxs (debugfs
# hctxN/queued; empty when it cannot tell: Linux 6.1 has no such counter,
# and then io_poll and the "mapped .../1 poll queues" line are the check).
poll_queued() {
  d=/sys/kernel/debug/block/$KPATH
  total=""
  for h in "$d"/hctx*; do
    if [ "$(cat "$h/type" 2>/dev/null)" = poll ] && [ -f "$h/queued" ]; then
      total=$((${total:-0} + $(cat "$h/queued")))
    fi
  done
  echo "$total"
}

# rps CPUMASK: where loopback's receive work (softirq) runs: 0 is the
# sending CPU (the default), 2 is CPU 1. The target's nvmet-tcp work runs
# where its socket's packets were received (sk_incoming_cpu), so with the
# default it shares the CPU of whatever sent the commands.
rps() { echo "$1" >/sys/class/net/lo/queues/rx-0/rps_cpus || bad "setting lo rps_cpus to $1"; }

# fio_tcp NAME QD [fio options]: fio io_uring O_DIRECT on the initiator's
# nsid 1, with the CPU line.
fio_tcp() {
  ft_name=$1 ft_qd=$2
  shift 2
  cpu_begin
  fio_randread "$ft_name" "$ft_qd" --filename="/dev/$KDEV" --ioengine=io_uring --direct=1 "$@" &&
    cpu_end "$ft_name" "$(fio_iops)"
}

# fio_hipri NAME QD: fio with --hipri; fails the row when the requests did
# not reach a poll queue (debugfs, when it is there).
fio_hipri() {
  fh_name=$1
  [ "$(cat "/sys/block/$KDEV/queue/io_poll" 2>/dev/null)" = 1 ] ||
    { bad "$fh_name: /sys/block/$KDEV/queue/io_poll is not 1"; return; }
  q0=$(poll_queued)
  fio_tcp "$@" --hipri
  q1=$(poll_queued)
  if [ -n "$q0" ] && [ -n "$q1" ]; then
    echo "bench: $fh_name: $((q1 - q0)) requests queued on $KPATH's poll hctx"
    [ $((q1 - q0)) -gt 0 ] || bad "$fh_name: nothing went to the poll queue"
  fi
}

# perf_tcp NAME QD: nvpoll-perf on nsid 1 with its queue pair's counters
# (a poll is at least one recv(), a SQ doorbell update one sendmsg()).
perf_tcp() {
  name=$1 qd=$2
  cpu_begin
  run nvpoll-perf -a "$TCP_ADDR" -n 1 -q "$qd" -o 4096 -w randread -t "$secs" -W 1 -L \
    --qpair-stats >/tmp/perf.out 2>&1
  rc=$?
  cat /tmp/perf.out
  [ $rc = 0 ] || { bad "$name: nvpoll-perf exited $rc"; return; }
  # shellcheck disable=SC2046  # split the Total row into fields
  set -- $(grep "^Total" /tmp/perf.out)
  emit "$name" "$2" "$4" "$5"
  cpu_end "$name" "$2"
  # shellcheck disable=SC2046  # the counters of the qpair line
  set -- $(sed -n 's/^qpair [0-9]*: \([0-9]*\) submitted, \([0-9]*\) completed, \([0-9]*\) polls.*SQ doorbell \([0-9]*\) updates.*/\1 \2 \3 \4/p' /tmp/perf.out | head -n1)
  [ $# = 4 ] && [ "$2" -gt 0 ] &&
    echo "$name $*" | awk -v mode="$NVP_MODE" '{ printf "NVP-POLLS %s %s %.2f %.3f\n", mode, $1, $4 / $3, $5 / $3 }'
}

echo "bench: mode=$NVP_MODE target=$TCP_ADDR seconds=$secs rounds=$rounds cpus=$NCPU"
have fio || bad "fio is not in the image"
have nvpoll-perf || bad "nvpoll-perf is not in the image"
tcp_target_up || { echo "bench: the nvmet-tcp target did not come up"; exit 1; }
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "bench: target nsid 1: $(cat /sys/block/nullb0/queue/logical_block_size)-byte blocks, $(($(cat /sys/block/nullb0/size) / 2048)) MiB"

round=1
while [ $round -le "$rounds" ]; do
  echo "bench: round $round of $rounds"
  if kconnect; then
    fio_tcp tcp-fio-qd1 1
    fio_tcp tcp-fio-qd32 32
  else
    bad "connecting the kernel initiator"
  fi
  kdisconnect
  if kconnect nr_poll_queues=1; then
    dmesg | grep "$KCTRL: mapped" | tail -n1
    fio_hipri tcp-fio-hipri-qd1 1
    fio_hipri tcp-fio-hipri-qd32 32
  else
    bad "connecting the kernel initiator with nr_poll_queues=1"
  fi
  kdisconnect
  perf_tcp tcp-nvpoll-qd1 1
  perf_tcp tcp-nvpoll-qd32 32
  # The same with loopback's receive work on CPU 1 (RPS): nvpoll-perf polls
  # on CPU 0, and the target's work moves off it.
  if [ "$NCPU" -ge 2 ]; then
    rps 2
    perf_tcp tcp-nvpoll-rps-qd1 1
    perf_tcp tcp-nvpoll-rps-qd32 32
    if kconnect nr_poll_queues=1; then
      fio_hipri tcp-fio-hipri-rps-qd1 1
      fio_hipri tcp-fio-hipri-rps-qd32 32
    else
      bad "connecting the kernel initiator with nr_poll_queues=1"
    fi
    kdisconnect
    rps 0
  fi
  round=$((round + 1))
done

echo "bench: done, $failures failures"
[ $failures = 0 ]
