# Helpers for guest test scripts (busybox ash). Sourced, not run.
# A step is a shell function step_NAME that returns 0 (pass), 1 (fail, after
# "fail MESSAGE") or 77 (skip, after "skip MESSAGE"); run_steps runs a list.
# shellcheck shell=sh

# busybox ash has pipefail: "prog | tee log" must fail when prog does.
# shellcheck disable=SC3040
set -o pipefail
NVP_STEP_TIMEOUT=${NVP_STEP_TIMEOUT:-180}
nvp_passed=0
nvp_failed=0
nvp_skipped=0

info() { echo "    $*"; }
fail() { echo "    fail: $*"; return 1; }
skip() { echo "    skip: $*"; return 77; }

# have PROG: the program was put into the image (the build may not have it yet).
have() { command -v "$1" >/dev/null 2>&1; }

# run PROG ARGS...: echo the command and run it under the per-step time limit.
run() {
  echo "    \$ $*" >&2
  timeout "$NVP_STEP_TIMEOUT" "$@"
}

# PCI addresses of all NVMe controllers (class 0x010802), in bus order.
nvme_addrs() {
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/class")" = 0x010802 ] && echo "${d##*/}"
  done
  return 0
}

# driver_of ADDR: the bound driver's name, or "none".
driver_of() {
  if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
    basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
  else
    echo none
  fi
}

# pci_command ADDR: the PCI command register (bit 2 = bus master, bit 1 = memory).
pci_command() { echo "0x$(od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' ')"; }

# iommu_group ADDR: the group number, or "none".
iommu_group() {
  if [ -e "/sys/bus/pci/devices/$1/iommu_group" ]; then
    basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"
  else
    echo none
  fi
}

# bind_to ADDR DRIVER: move a device to DRIVER the way the library does
# (unbind, driver_override, drivers_probe), then clear the override.
bind_to() {
  d=/sys/bus/pci/devices/$1
  [ -e "$d/driver" ] && echo "$1" >"$d/driver/unbind"
  echo "$2" >"$d/driver_override"
  echo "$1" >/sys/bus/pci/drivers_probe
  echo >"$d/driver_override"
  [ "$(driver_of "$1")" = "$2" ] || fail "$1: bind to $2 failed (driver: $(driver_of "$1"))"
}

# namespaces_of ADDR: block device names of the controller's namespaces.
# A controller in a multi-controller NVM subsystem lists its path devices
# (nvme2c2n1, hidden: no /dev node); I/O goes through the subsystem's head
# device, nvme2n1, which is what is printed for them.
namespaces_of() {
  for n in /sys/bus/pci/devices/"$1"/nvme/nvme*/nvme*n*; do
    [ -e "$n/size" ] || continue
    n=${n##*/}
    case $n in
      nvme*c*n*) echo "$n" | sed 's/c[0-9]*n/n/' ;;
      *) echo "$n" ;;
    esac
  done
  return 0
}

# check_nvme_back [ADDR...]: each controller (default: all) is on the kernel
# nvme driver and its namespaces read with dd; this is what the library's
# detach promises.
check_nvme_back() {
  # shellcheck disable=SC2086  # the address list is split on purpose
  [ $# -gt 0 ] || set -- $NVP_ADDRS
  for a in "$@"; do
    drv=$(driver_of "$a")
    [ "$drv" = nvme ] || { fail "$a is bound to '$drv', not nvme"; return; }
    i=0
    while [ -z "$(namespaces_of "$a")" ] && [ $i -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    nss=$(namespaces_of "$a")
    [ -n "$nss" ] || { fail "$a: no namespace block device after 10 s"; return; }
    for ns in $nss; do
      dd if="/dev/$ns" of=/dev/null bs=4096 count=16 2>/dev/null ||
        { fail "$a: dd from /dev/$ns failed"; return; }
    done
    info "$a back on nvme: $(echo "$nss" | tr '\n' ' ')"
  done
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# run_steps NAME...: run step_NAME for each, one "STEP PASS|FAIL|SKIP" line each,
# then a summary; returns non-zero if any step failed.
run_steps() {
  for s in "$@"; do
    echo "=== $s"
    t0=$(uptime_s)
    "step_$s"
    rc=$?
    dt=$(awk "BEGIN { printf \"%.1f\", $(uptime_s) - $t0 }")
    case $rc in
      0) echo "STEP PASS $s (${dt} s)"; nvp_passed=$((nvp_passed + 1)) ;;
      77) echo "STEP SKIP $s"; nvp_skipped=$((nvp_skipped + 1)) ;;
      *) echo "STEP FAIL $s (${dt} s)"; nvp_failed=$((nvp_failed + 1)) ;;
    esac
  done
  echo "suite: $nvp_passed passed, $nvp_failed failed, $nvp_skipped skipped"
  [ "$nvp_failed" = 0 ]
}

# --- the kernel's NVMe/TCP target (nvmet-tcp) on 127.0.0.1 -------------------
# The peer that nvpoll's TCP transport (issue 14) is tested against: a real
# target nvpoll did not write. Subsystem NVP_TCP_NQN exports a null_blk
# namespace (nsid 1, memory-backed so data reads back) and a 64 MiB file on
# tmpfs (nsid 2, buffered: tmpfs has no O_DIRECT), on port 1 = 127.0.0.1:4420.
NVP_TCP_NQN=nqn.2026-12.io.nvpoll:tcp-target
NVP_TCP_CFS=/sys/kernel/config/nvmet

# cfs_put VALUE FILE: write one configfs attribute, or say which failed.
cfs_put() {
  echo "$1" >"$2" 2>/dev/null || { fail "cannot write '$1' to $2"; return; }
}

# tcp_target_up: configure it (idempotent: a second call finds it up).
tcp_target_up() {
  [ -d "$NVP_TCP_CFS/subsystems/$NVP_TCP_NQN" ] && return 0
  ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up || { fail "cannot bring up lo"; return; }
  modprobe null_blk nr_devices=1 gb=1 bs=4096 memory_backed=1 || { fail "modprobe null_blk"; return; }
  # nvmet pulls in configfs (a module here), which creates /sys/kernel/config.
  modprobe nvmet-tcp || { fail "modprobe nvmet-tcp"; return; }
  # The digests' CRC32C: loaded up front, as the target needs it the moment
  # a host asks for digests (without it nvmet-tcp drops the connection).
  modprobe crc32c-intel 2>/dev/null || modprobe crc32c_generic || { fail "modprobe crc32c"; return; }
  grep -q " /sys/kernel/config configfs " /proc/mounts || mount -t configfs configfs /sys/kernel/config ||
    { fail "cannot mount configfs"; return; }
  tcp_sub=$NVP_TCP_CFS/subsystems/$NVP_TCP_NQN
  tcp_port=$NVP_TCP_CFS/ports/1
  truncate -s 64M /tmp/tcp-ns2.img
  mkdir "$tcp_sub" "$tcp_sub/namespaces/1" "$tcp_sub/namespaces/2" "$tcp_port" || { fail "cannot create the nvmet configfs entries"; return; }
  cfs_put 1 "$tcp_sub/attr_allow_any_host" || return
  cfs_put /dev/nullb0 "$tcp_sub/namespaces/1/device_path" || return
  cfs_put 1 "$tcp_sub/namespaces/1/enable" || return
  cfs_put /tmp/tcp-ns2.img "$tcp_sub/namespaces/2/device_path" || return
  cfs_put 1 "$tcp_sub/namespaces/2/buffered_io" || return
  cfs_put 1 "$tcp_sub/namespaces/2/enable" || return
  cfs_put tcp "$tcp_port/addr_trtype" || return
  cfs_put ipv4 "$tcp_port/addr_adrfam" || return
  cfs_put 127.0.0.1 "$tcp_port/addr_traddr" || return
  cfs_put 4420 "$tcp_port/addr_trsvcid" || return
  ln -s "$tcp_sub" "$tcp_port/subsystems/$NVP_TCP_NQN" || { fail "cannot link $NVP_TCP_NQN to port 1"; return; }
}

# tcp_port_down / tcp_port_up: take the port away under a running initiator
# and give it back (the failure a TCP transport must survive).
tcp_port_down() { rm "$NVP_TCP_CFS/ports/1/subsystems/$NVP_TCP_NQN"; }
tcp_port_up() { ln -s "$NVP_TCP_CFS/subsystems/$NVP_TCP_NQN" "$NVP_TCP_CFS/ports/1/subsystems/$NVP_TCP_NQN"; }

# tcp_kernel_connect: the kernel's nvme-tcp initiator to the target; prints
# the new controller's name (nvmeN). NVP_TCP_CONNECT_OPTS, when set, adds
# to /dev/nvme-fabrics' comma-separated options (nr_poll_queues=1).
tcp_kernel_connect() {
  modprobe nvme-tcp || { fail "modprobe nvme-tcp"; return; }
  tcp_opts="transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=$NVP_TCP_NQN${NVP_TCP_CONNECT_OPTS:+,$NVP_TCP_CONNECT_OPTS}"
  tcp_out=$(printf '%s' "$tcp_opts" 2>&1 >/dev/nvme-fabrics) || true
  for tcp_c in /sys/class/nvme/nvme*; do
    [ "$(cat "$tcp_c/subsysnqn" 2>/dev/null)" = "$NVP_TCP_NQN" ] && [ "$(cat "$tcp_c/transport" 2>/dev/null)" = tcp ] &&
      { basename "$tcp_c"; return 0; }
  done
  fail "the kernel initiator did not connect to $NVP_TCP_NQN ($tcp_out)"
}
