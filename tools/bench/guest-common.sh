#!/bin/sh
# What vm-compare.sh's guest scripts share (sourced after /guest/lib.sh,
# busybox ash; vm-compare.sh puts it in the image as /guest/guest-common.sh):
#
#   bench_args SECS ROUNDS   $secs and $rounds from nvp.bench_seconds= and
#                            nvp.bench_rounds= on the kernel command line
#                            (defaults as given), and lib.sh's step timeout
#   addr_of SERIAL           the PCI address of the controller with it
#   blockdev_of ADDR         /dev/nvmeXn1 of a controller on the nvme driver
#   wait_blockdev ADDR       wait up to 10 s for that block device
#   emit NAME IOPS MEAN MIN  one "NVP-BENCH <mode> ..." row for the host
#   fio_randread NAME QD OPTS  fio 4 KiB randread at QD on the target OPTS
#                            name, one row through emit (failures: bad())
#   fio_kernel NAME QD OPTS  the same through the nvme driver (io_uring,
#                            O_DIRECT) on the null controller ($NULL_ADDR)
#
# and the peer perf tools, SPDK's spdk_nvme_perf and libvfn's perf, from
# ../shared/peers (vm-compare.sh copies them into the image's /bin when it
# finds them). Each runner binds the controller to vfio-pci for the run and
# gives it back to nvme, prints one row through emit, and reports failures
# through the caller's bad():
#
#   peers_setup              sets $PEERS: "spdk", "libvfn" (type1 only), both
#                            or none, and prepares SPDK's files
#   spdk_run NAME ADDR QD    Total row: IOPS, mean and min latency (us)
#   libvfn_run NAME ADDR QD  the line under "iops mbps lavg lmin lmax"
# shellcheck shell=sh

bench_args() {
  secs=$1
  rounds=$2
  read -r cmdline </proc/cmdline
  for w in $cmdline; do
    case $w in
      nvp.bench_seconds=*) secs=${w#nvp.bench_seconds=} ;;
      nvp.bench_rounds=*) rounds=${w#nvp.bench_rounds=} ;;
    esac
  done
  # shellcheck disable=SC2034  # read by run() in lib.sh
  NVP_STEP_TIMEOUT=$((secs * 3 + 120))
}

addr_of() {
  for a in $(nvme_addrs); do
    for c in /sys/bus/pci/devices/"$a"/nvme/nvme*; do
      [ "$(tr -d ' ' <"$c/serial" 2>/dev/null)" = "$1" ] && { echo "$a"; return 0; }
    done
  done
  return 1
}

blockdev_of() {
  for c in /sys/bus/pci/devices/"$1"/nvme/nvme*; do
    [ -e "$c" ] && { echo "/dev/${c##*/}n1"; return 0; }
  done
  return 1
}

wait_blockdev() {
  i=0
  while [ $i -lt 100 ]; do
    d=$(blockdev_of "$1") && [ -b "$d" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

emit() { echo "NVP-BENCH $NVP_MODE $1 $2 $3 $4"; }

# fio_randread NAME QD [fio options]: fio's 4 KiB randread at QD for $secs
# after 1 s of ramp-up, on the target the options name (--filename,
# --ioengine, then that engine's options); emits IOPS (terse v3 field 8) and mean and minimum total
# latency in us (fields 40 and 38). On failure calls the script's bad().
fio_randread() {
  name=$1 qd=$2
  shift 2
  run fio --name="$name" --rw=randread --bs=4096 --iodepth="$qd" --numjobs=1 \
    --time_based --runtime="$secs" --ramp_time=1 --norandommap --randrepeat=0 \
    --output-format=terse --terse-version=3 "$@" >/tmp/fio.out 2>/tmp/fio.err ||
    { bad "$name: fio exited $?: $(tail -n 3 /tmp/fio.err)"; return; }
  emit "$name" "$(cut -d';' -f8 /tmp/fio.out)" "$(cut -d';' -f40 /tmp/fio.out)" \
    "$(cut -d';' -f38 /tmp/fio.out)"
}

# fio_kernel NAME QD [fio options]: the same through the kernel driver,
# io_uring with O_DIRECT on the null controller's block device.
fio_kernel() {
  fk_name=$1 fk_qd=$2
  shift 2
  wait_blockdev "$NULL_ADDR" || { bad "$fk_name: $NULL_ADDR has no block device"; return; }
  # the engine before OPTS: fio takes an engine's options (--hipri) only after it
  fio_randread "$fk_name" "$fk_qd" --filename="$(blockdev_of "$NULL_ADDR")" \
    --ioengine=io_uring --direct=1 "$@"
}

peers_setup() {
  PEERS=""
  if have spdk_nvme_perf && [ -f /bin/openssl.cnf ]; then
    # SPDK's lock files, and the OpenSSL config its env init loads.
    mkdir -p /var/tmp /usr/lib/ssl
    [ -e /var/run ] || ln -s /run /var/run
    cp /bin/openssl.cnf /usr/lib/ssl/openssl.cnf
    PEERS="$PEERS spdk"
  fi
  # libvfn's perf needs an IOMMU (VFIO type1).
  have libvfn-perf && [ "$NVP_MODE" = type1 ] && PEERS="$PEERS libvfn"
  echo "peers:${PEERS:- none}"
}

spdk_run() {
  name=$1 addr=$2 qd=$3
  bind_to "$addr" vfio-pci || { bad "$name: binding vfio-pci"; return; }
  # --iova-mode=pa: QEMU's VT-d has a 39-bit address width.
  run spdk_nvme_perf -b "$addr" -r "trtype:PCIe traddr:$addr" -q "$qd" -o 4096 \
    -w randread -t "$secs" -c 0x1 --iova-mode=pa >/tmp/spdk.out 2>&1
  rc=$?
  bind_to "$addr" nvme
  [ $rc = 0 ] || { tail -n 20 /tmp/spdk.out; bad "$name: spdk_nvme_perf exited $rc"; return; }
  # shellcheck disable=SC2046  # split the Total row into fields
  set -- $(grep "^Total" /tmp/spdk.out | cut -d: -f2)
  emit "$name" "$1" "$3" "$4"
}

libvfn_run() {
  name=$1 addr=$2 qd=$3
  bind_to "$addr" vfio-pci || { bad "$name: binding vfio-pci"; return; }
  run libvfn-perf -d "$addr" -N 1 -p randread -q "$qd" -t "$secs" >/tmp/vfn.out 2>&1
  rc=$?
  bind_to "$addr" nvme
  [ $rc = 0 ] || { tail -n 20 /tmp/vfn.out; bad "$name: libvfn-perf exited $rc"; return; }
  # mbps assumes 512-byte blocks: only iops, lavg and lmin are used.
  # shellcheck disable=SC2046  # the numbers after the header line
  set -- $(awk '/iops.*mbps.*lavg/ { getline; print; exit }' /tmp/vfn.out)
  emit "$name" "$1" "$3" "$4"
}
