#!/bin/sh
# Peer perf tools in the guest, for vm-compare.sh's guest scripts (sourced,
# busybox ash): SPDK's spdk_nvme_perf and libvfn's perf, from ../shared/peers
# (vm-compare.sh copies them into the image's /bin when it finds them). Each
# runner binds the controller to vfio-pci for the run and gives it back to
# nvme, and prints one NVP-BENCH row through the caller's emit(); failures go
# through the caller's bad().
#
#   peers_setup              sets $PEERS: "spdk", "libvfn" (type1 only), both
#                            or none, and prepares SPDK's files
#   spdk_run NAME ADDR QD    Total row: IOPS, mean and min latency (us)
#   libvfn_run NAME ADDR QD  the line under "iops mbps lavg lmin lmax"
# shellcheck shell=sh

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
