#!/bin/sh
# The guest-side test list, run by /init as /guest/suite.sh (busybox ash).
# To add a step: write step_NAME below (see lib.sh for fail/skip/run/have/
# check_nvme_back) and append NAME to STEPS. Programs from the build land in /bin.
# shellcheck shell=sh
# shellcheck source=lib.sh
. /guest/lib.sh

NVP_ADDRS=$(nvme_addrs | tr '\n' ' ')
# shellcheck disable=SC2086  # split the address list into $1, $2, $3
set -- $NVP_ADDRS
ADDR0=${1:-}
ADDR1=${2:-}
# NVPOLL2, behind a PCIe root port (bus 01): hot-pluggable, in an NVM subsystem.
ADDR2=${3:-}
# NVPOLL3, behind root port rp2 (bus 02): CMB, metadata/PI and zoned namespaces.
ADDR3=${4:-}
export NVP_ADDRS ADDR0 ADDR1 ADDR2 ADDR3
echo "suite: mode=$NVP_MODE controllers: $NVP_ADDRS"

# Driver the library is expected to use in this boot.
case $NVP_MODE in
  uio) USER_DRIVER=uio_pci_generic ;;
  *) USER_DRIVER=vfio-pci ;;
esac

# Proves the rig's modules work: all controllers go to the userspace driver at
# once, their device nodes appear, then they go back to nvme and read again.
step_selftest_bind() {
  [ -n "$ADDR0" ] || { fail "no NVMe controller found"; return; }
  for a in $NVP_ADDRS; do
    bind_to "$a" "$USER_DRIVER" || return
  done
  for a in $NVP_ADDRS; do
    case $NVP_MODE in
      type1)
        node=/dev/vfio/$(iommu_group "$a") ;;
      noiommu)
        node=/dev/vfio/noiommu-$(iommu_group "$a") ;;
      uio)
        node=none
        for f in /sys/bus/pci/devices/"$a"/uio/uio*; do node=/dev/${f##*/}; done
        [ -e "/sys/bus/pci/devices/$a/resource0" ] || { fail "$a: no resource0"; return; } ;;
    esac
    [ -c "$node" ] || { fail "$a: $USER_DRIVER bound but no device node ($node)"; return; }
    info "$a on $USER_DRIVER: $node, PCI_COMMAND=$(pci_command "$a")"
  done
  for a in $NVP_ADDRS; do
    bind_to "$a" nvme || return
  done
  check_nvme_back
}

# The emulated hardware is what README.md's table promises (serials, LBA
# sizes, MDTS, I/O queue count), so tests relying on it test what they claim.
step_selftest_hw() {
  [ -n "$ADDR1" ] || { fail "expected two controllers"; return; }
  check_nvme_back || return
  c0=$(basename /sys/bus/pci/devices/"$ADDR0"/nvme/nvme*)
  c1=$(basename /sys/bus/pci/devices/"$ADDR1"/nvme/nvme*)
  expect() { [ "$2" = "$3" ] || fail "$1 is '$2', expected '$3'"; }
  expect "$ADDR0 serial" "$(tr -d ' ' </sys/class/nvme/"$c0"/serial)" NVPOLL0 || return
  expect "$ADDR1 serial" "$(tr -d ' ' </sys/class/nvme/"$c1"/serial)" NVPOLL1 || return
  expect "${c0}n1 LBA size" "$(cat /sys/block/"${c0}"n1/queue/logical_block_size)" 4096 || return
  expect "${c0}n2 LBA size" "$(cat /sys/block/"${c0}"n2/queue/logical_block_size)" 512 || return
  expect "${c1}n1 LBA size" "$(cat /sys/block/"${c1}"n1/queue/logical_block_size)" 512 || return
  # mdts=3 with 4 KiB pages: 2^3 * 4 KiB = 32 KiB per command.
  expect "${c1} max transfer KiB" "$(cat /sys/block/"${c1}"n1/queue/max_hw_sectors_kb)" 32 || return
  nq=0
  for q in /sys/block/"${c1}"n1/mq/*; do [ -e "$q" ] && nq=$((nq + 1)); done
  [ "$nq" -le 2 ] || { fail "${c1}: $nq I/O queues, max_ioqpairs=2 allows 2"; return; }
  info "$ADDR0 ($c0): NVPOLL0, ${c0}n1 4096-byte LBAs, ${c0}n2 512-byte LBAs, max transfer $(cat /sys/block/"${c0}"n1/queue/max_hw_sectors_kb) KiB"
  info "$ADDR1 ($c1): NVPOLL1, ${c1}n1 512-byte LBAs, max transfer 32 KiB, $nq I/O queues"
  # NVPOLL2: behind a root port (so device_del can unplug it), in the NVM
  # subsystem nvpoll-subsys, only nsid 1 attached (nsid 2 is detached).
  [ -n "$ADDR2" ] || { fail "expected a third controller behind a root port"; return; }
  c2=$(basename /sys/bus/pci/devices/"$ADDR2"/nvme/nvme*)
  port=$(basename "$(dirname "$(readlink -f /sys/bus/pci/devices/"$ADDR2")")")
  expect "$ADDR2 serial" "$(tr -d ' ' </sys/class/nvme/"$c2"/serial)" NVPOLL2 || return
  expect "$ADDR2 upstream port class" "$(cat /sys/bus/pci/devices/"$port"/class 2>/dev/null)" 0x060400 || return
  expect "$ADDR2 subsystem NQN" "$(cat /sys/class/nvme/"$c2"/subsysnqn)" nqn.2019-08.org.qemu:nvpoll-subsys || return
  expect "$ADDR2 namespaces the kernel sees" "$(namespaces_of "$ADDR2" | tr '\n' ' ')" "${c2}n1 " || return
  expect "${c2}n1 LBA size" "$(cat /sys/block/"${c2}"n1/queue/logical_block_size)" 512 || return
  info "$ADDR2 ($c2): NVPOLL2 behind root port $port, subsystem nvpoll-subsys, ${c2}n1 512-byte LBAs (nsid 2 detached)"
  # NVPOLL3: the I/O command set's formats (metadata/PI, zoned) and a CMB.
  [ -n "$ADDR3" ] || { fail "expected a fourth controller (NVPOLL3) behind root port rp2"; return; }
  c3=$(basename /sys/bus/pci/devices/"$ADDR3"/nvme/nvme*)
  expect "$ADDR3 serial" "$(tr -d ' ' </sys/class/nvme/"$c3"/serial)" NVPOLL3 || return
  expect "$ADDR3 namespaces the kernel sees" "$(namespaces_of "$ADDR3" | tr '\n' ' ')" "${c3}n1 ${c3}n2 ${c3}n3 ${c3}n4 " || return
  expect "${c3}n4 zoned model" "$(cat /sys/block/"${c3}"n4/queue/zoned)" host-managed || return
  info "$ADDR3 ($c3): NVPOLL3, namespaces: $(for n in 1 2 3 4; do printf '%sn%s %s-byte LBAs (%s); ' "$c3" "$n" "$(cat /sys/block/"${c3}"n$n/queue/logical_block_size)" "$(cat /sys/block/"${c3}"n$n/integrity/format 2>/dev/null || echo none)"; done)CMB: $(sed -n 3p /sys/bus/pci/devices/"$ADDR3"/resource)"
}

step_hello_world() {
  have hello_world || { skip "hello_world not built"; return; }
  run hello_world "$ADDR0" || { fail "hello_world exited $?"; return; }
  check_nvme_back
}

# The integration suite; its last line is "N passed, N failed".
step_itest() {
  have nvpoll-itest || { skip "nvpoll-itest not built"; return; }
  set -- -a "$ADDR0"
  [ -n "$ADDR1" ] && set -- "$@" -a "$ADDR1"
  run nvpoll-itest "$@" 2>&1 | tee /tmp/itest.log || { fail "nvpoll-itest exited $?"; return; }
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/itest.log | tail -n1)
  [ -n "$summary" ] || { fail "no 'N passed, N failed' line"; return; }
  case $summary in
    *" 0 failed"*) ;;
    *) fail "nvpoll-itest: $summary"; return ;;
  esac
  check_nvme_back
}

# Namespace Attachment on NVPOLL2: itest's ns_attach attaches its detached
# namespace, waits for NVP_EVENT_NS_ADDED, does verified I/O, detaches it and
# checks the old handle refuses I/O. It must run, not skip.
step_ns_attach() {
  have nvpoll-itest || { skip "nvpoll-itest not built"; return; }
  [ -n "$ADDR2" ] || { fail "no third controller (NVPOLL2)"; return; }
  run nvpoll-itest --only ns_attach -a "$ADDR2" 2>&1 | tee /tmp/ns_attach.log ||
    { fail "nvpoll-itest --only ns_attach exited $?"; return; }
  grep -q '^PASS ns_attach' /tmp/ns_attach.log || { fail "ns_attach did not pass"; return; }
  check_nvme_back "$ADDR2"
}

# json_str KEY FILE: the first "KEY": "value" of nvpoll's line-per-member JSON.
json_str() { sed -n "s/^ *\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" "$2" | head -n1; }

# identify_check ADDR SERIAL "NSID:LBA_SIZE ...": nvpoll-identify --json
# reports QEMU's model, the serial from the QEMU command line, and 64 MiB
# namespaces (NSZE x 2^LBADS of the LBA format in use) with these LBA sizes.
# The LBA formats use nvme-cli's keys: "lbafs", LBADS as "ds", "in_use": 0|1.
identify_check() {
  run nvpoll-identify --json "$1" >/tmp/identify.json ||
    { fail "nvpoll-identify --json $1 exited $?"; return; }
  mn=$(json_str mn /tmp/identify.json)
  sn=$(json_str sn /tmp/identify.json)
  [ "$mn" = "QEMU NVMe Ctrl" ] || { fail "$1: MN is '$mn', expected 'QEMU NVMe Ctrl'"; return; }
  [ "$sn" = "$2" ] || { fail "$1: SN is '$sn', expected '$2'"; return; }
  got=$(awk -F': ' '
    /"nsid":/ { v = $2; sub(/,$/, "", v); ns = v; order[++n] = ns }
    /"nsze":/ { v = $2; sub(/,$/, "", v); nsze[ns] = v }
    /"in_use": 1[,} ]/ { if (match($0, /"ds": [0-9]+/)) lbads[ns] = substr($0, RSTART + 6, RLENGTH - 6) + 0 }
    END { for (i = 1; i <= n; i++) { ns = order[i]; bs = 1
          for (k = 0; k < lbads[ns]; k++) bs *= 2
          printf "%s:%d:%.0f ", ns, bs, nsze[ns] * bs } }' /tmp/identify.json)
  want=""
  for f in $3; do want="$want$f:67108864 "; done
  [ "$got" = "$want" ] || { fail "$1: namespaces (nsid:lba_size:bytes) are '$got', expected '$want'"; return; }
  info "$1: MN '$mn', SN '$sn', namespaces $got"
}

# nvpoll-identify against QEMU's controllers (serials, LBA sizes and sizes
# as in README's table), then the controllers must be back on nvme.
step_identify() {
  have nvpoll-identify || { skip "nvpoll-identify not built"; return; }
  run nvpoll-identify "$ADDR0" || { fail "nvpoll-identify exited $?"; return; }
  check_nvme_back "$ADDR0" || return
  identify_check "$ADDR0" NVPOLL0 "1:4096 2:512" || return
  identify_check "$ADDR1" NVPOLL1 "1:512" || return
  check_nvme_back
}

# status_driver ADDR FILE: the driver nvpoll-setup status --json reports for ADDR.
status_driver() {
  awk -v a="\"address\": \"$1\"," '
    index($0, a) { found = 1; next }
    found && /"driver":/ { sub(/^ *"driver": /, ""); gsub(/[",]/, ""); print; exit }' "$2"
}

# nvpoll-setup: status, bind to the mode's userspace driver, unbind back to nvme.
step_setup() {
  have nvpoll-setup || { skip "nvpoll-setup not built"; return; }
  run nvpoll-setup status >/tmp/setup.txt || { cat /tmp/setup.txt; fail "status exited $?"; return; }
  cat /tmp/setup.txt
  for a in $NVP_ADDRS; do
    grep -q "^  $a " /tmp/setup.txt || { fail "status does not list $a"; return; }
  done
  run nvpoll-setup status --json >/tmp/setup.json || { fail "status --json exited $?"; return; }
  [ "$(status_driver "$ADDR1" /tmp/setup.json)" = nvme ] ||
    { fail "status --json: $ADDR1 driver '$(status_driver "$ADDR1" /tmp/setup.json)', expected nvme"; return; }

  run nvpoll-setup bind "$ADDR1" || { fail "bind $ADDR1 exited $?"; return; }
  [ "$(driver_of "$ADDR1")" = "$USER_DRIVER" ] ||
    { fail "after bind, $ADDR1 is on '$(driver_of "$ADDR1")', expected $USER_DRIVER"; return; }
  run nvpoll-setup status --json >/tmp/setup.json || { fail "status --json exited $?"; return; }
  [ "$(status_driver "$ADDR1" /tmp/setup.json)" = "$USER_DRIVER" ] ||
    { fail "status --json after bind: $ADDR1 driver '$(status_driver "$ADDR1" /tmp/setup.json)'"; return; }
  node=$(json_str device_node /tmp/setup.json)
  [ -c "$node" ] || { fail "status reports device node '$node', which is not a character device"; return; }
  info "$ADDR1 on $USER_DRIVER, device node $node"
  # A second bind is a no-op; unbind hands it back.
  run nvpoll-setup bind "$ADDR1" || { fail "second bind exited $?"; return; }
  run nvpoll-setup unbind "$ADDR1" || { fail "unbind $ADDR1 exited $?"; return; }
  [ "$(driver_of "$ADDR1")" = nvme ] || { fail "after unbind, $ADDR1 is on '$(driver_of "$ADDR1")'"; return; }
  check_nvme_back || return
  run nvpoll-setup status --json >/tmp/setup.json || { fail "status --json exited $?"; return; }
  [ "$(status_driver "$ADDR1" /tmp/setup.json)" = nvme ] || { fail "status --json after unbind"; return; }
  grep -q '"hugetlbfs_mounts": \[$' /tmp/setup.json || { fail "status --json lists no hugetlbfs mount"; return; }
}

# A short smoke run, not a benchmark: TCG throughput means little.
step_perf() {
  have nvpoll-perf || { skip "nvpoll-perf not built"; return; }
  run nvpoll-perf -a "$ADDR0" -q 8 -o 4096 -w randread -t 2 ||
    { fail "nvpoll-perf exited $?"; return; }
  # --verify against QEMU's device: both namespaces (4096- and 512-byte
  # blocks), reads and writes; exit 1 would mean a mismatch or I/O error
  st=0
  run nvpoll-perf -a "$ADDR0" -q 8 -o 8192 -w randrw -M 70 -t 2 --verify >/tmp/verify.out 2>&1 || st=$?
  [ "$st" = 0 ] || { cat /tmp/verify.out; fail "nvpoll-perf --verify exited $st"; return; }
  grep -q "verify: 0 mismatches; [1-9]" /tmp/verify.out ||
    { cat /tmp/verify.out; fail "nvpoll-perf --verify compared no reads"; return; }
  info "$(grep '^verify:' /tmp/verify.out)"
  check_nvme_back
}

# Controller resets under verified load: nvpoll-perf resets the first
# controller every second while a thread does reads and writes on both its
# namespaces (4096- and 512-byte blocks); nothing may mismatch or fail, and
# afterwards every block written during the run reads back as last written.
step_perf_reset() {
  have nvpoll-perf || { skip "nvpoll-perf not built"; return; }
  st=0
  run nvpoll-perf -a "$ADDR0" -q 8 -o 8192 -w randrw -M 70 -t 4 --verify --verify-final \
    --reset-every 1 >/tmp/reset.out 2>&1 || st=$?
  [ "$st" = 0 ] || { cat /tmp/reset.out; fail "nvpoll-perf --reset-every exited $st"; return; }
  rec=$(grep '^recovery (-a' /tmp/reset.out)
  echo "$rec" | grep -Eq ': [1-9][0-9]* resets \([1-9][0-9]* by --reset-every\)' ||
    { cat /tmp/reset.out; fail "no reset happened"; return; }
  grep -q 'submitted again by perf [0-9]*, failed 0;' /tmp/reset.out ||
    { cat /tmp/reset.out; fail "commands failed across the resets"; return; }
  grep -q '^verify: 0 mismatches; [1-9]' /tmp/reset.out ||
    { cat /tmp/reset.out; fail "mismatches, or no read compared"; return; }
  grep -q '^verify, final read-back: [1-9][0-9]* units checked, 0 mismatches' /tmp/reset.out ||
    { cat /tmp/reset.out; fail "the final read-back found mismatches or checked nothing"; return; }
  info "$rec"
  info "$(grep -A1 '^recovery (-a' /tmp/reset.out | tail -n1)"
  info "$(grep '^verify' /tmp/reset.out | tr '\n' ' ')"
  check_nvme_back "$ADDR0"
}

# dmesg_time LINE: the seconds of a "[  12.345678] ..." kernel log line.
dmesg_time() { echo "$1" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }

# Surprise removal under I/O, in every mode. nvpoll-perf runs verified I/O on
# NVPOLL2; once it runs, the guest asks the host (console line
# "NVP-HOTPLUG: device_del nvme2") to unplug it through QMP (rig.sh). perf
# must notice, stop, free, detach, say so and exit 1, with every command
# completed once, and the kernel must let the device go cleanly: no
# "blocked until released", no warning, a single device request. Runs last:
# the controller is gone afterwards.
step_hot_remove() {
  have nvpoll-perf || { skip "nvpoll-perf not built"; return; }
  [ -n "$ADDR2" ] || { fail "no third controller (NVPOLL2 behind the root port)"; return; }
  check_nvme_back "$ADDR0" "$ADDR1" || return
  # The hotplug slot of NVPOLL2's root port (sysfs names it by bus:device).
  slot=""
  for hp_slot in /sys/bus/pci/slots/*; do
    [ "$(cat "$hp_slot/address" 2>/dev/null)" = "${ADDR2%.*}" ] && slot=$hp_slot
  done
  [ -n "$slot" ] || { fail "no hotplug slot for $ADDR2 in /sys/bus/pci/slots (is pciehp loaded?)"; return; }
  nlog=$(dmesg | wc -l)
  echo "    \$ nvpoll-perf -a $ADDR2 -q 8 -o 4096 -w randrw -M 50 --verify -t 60 --progress &" >&2
  timeout "$NVP_STEP_TIMEOUT" nvpoll-perf -a "$ADDR2" -q 8 -o 4096 -w randrw -M 50 --verify \
    -t 60 --progress >/tmp/hot.out 2>&1 &
  pid=$!
  i=0
  while ! tr '\r' '\n' </tmp/hot.out | grep -Eq ' [1-9][0-9]* IOPS'; do
    if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 300 ]; then
      kill "$pid" 2>/dev/null
      tr '\r' '\n' </tmp/hot.out
      fail "nvpoll-perf did not get I/O going on $ADDR2 within 30 s"
      return
    fi
    sleep 0.1
    i=$((i + 1))
  done
  mark_up=$(uptime_s)
  echo "nvp: hot removal of $ADDR2 requested" >/dev/kmsg
  echo "NVP-HOTPLUG: device_del nvme2 ($ADDR2)"
  status=0
  wait "$pid" || status=$?
  echo "NVP-HOTPLUG: exited $status"
  tr '\r' '\n' </tmp/hot.out | grep -v '^\[' | grep -v '^ *$' | sed 's/^/    | /'
  [ "$status" = 1 ] || { fail "nvpoll-perf exited $status, expected 1 (the controller was removed)"; return; }
  grep -q "^nvpoll-perf: controller $ADDR2 was removed during the run; [0-9]* commands ended with an error\$" /tmp/hot.out ||
    { fail "no 'controller $ADDR2 was removed during the run; N commands ended with an error' line"; return; }
  grep -q '^nvpoll-perf:   every command the driver had accepted completed exactly once' /tmp/hot.out ||
    { fail "commands completed twice or never"; return; }
  grep -q '^verify: 0 mismatches' /tmp/hot.out || { fail "verify mismatches"; return; }
  # How fast. vfio: the kernel's own log says when it relayed the device
  # request and when the device was released (perf detached): one clock.
  # Every mode: perf's own numbers, from its last successful completion
  # (under uio the device vanishes under running I/O, so that is when it
  # went) to noticing, and from noticing to the controller detached. The
  # time from the marker is shown too; it includes the console line
  # reaching the host watcher, which can lag under TCG.
  noticed=$(sed -n 's/.*noticed at \([0-9.]*\) s (CLOCK_MONOTONIC.*/\1/p' /tmp/hot.out)
  after_ok=$(sed -n 's/.*), \([0-9.]*\) ms after its last successful completion.*/\1/p' /tmp/hot.out)
  detach_ms=$(sed -n 's/.*controller detached \([0-9.]*\) ms after that.*/\1/p' /tmp/hot.out)
  dmesg | tail -n +"$((nlog + 1))" >/tmp/hot.dmesg
  sed 's/^/    dmesg: /' /tmp/hot.dmesg
  if [ -z "$noticed" ] || [ -z "$after_ok" ] || [ -z "$detach_ms" ]; then
    fail "cannot read perf's timings"; return
  fi
  info "perf noticed the removal $(awk "BEGIN { printf \"%.3f\", $noticed - $mark_up }") s after the guest asked for it (console lag, host watcher, QMP and pciehp included)"
  info "perf noticed it $after_ok ms after its last successful completion; stopped, freed and detached $detach_ms ms later"
  awk "BEGIN { exit !($after_ok < 1000 && $detach_ms < 1000) }" ||
    { fail "too slow: noticed $after_ok ms after the last completion, detached $detach_ms ms after that"; return; }
  if [ "$NVP_MODE" != uio ]; then
    req_k=$(dmesg_time "$(grep "$ADDR2: Relaying device request to user" /tmp/hot.dmesg | head -n1)")
    rel_k=$(dmesg_time "$(grep "$ADDR2: Removing from iommu group" /tmp/hot.dmesg | head -n1)")
    if [ -z "$req_k" ] || [ -z "$rel_k" ]; then
      fail "no 'Relaying device request' and 'Removing from iommu group' lines for $ADDR2"; return
    fi
    held=$(awk "BEGIN { printf \"%.3f\", $rel_k - $req_k }")
    info "kernel log: device request relayed at $req_k s, device released $held s later"
    awk "BEGIN { exit !($held < 1.0) }" ||
      { fail "the device was released only $held s after the kernel asked for it"; return; }
  fi
  if grep -q 'blocked until released by user' /tmp/hot.dmesg; then
    fail "the kernel waited for the device to be released by the user"; return
  fi
  [ "$(grep -c "$ADDR2: Relaying device request to user" /tmp/hot.dmesg)" -le 1 ] ||
    { fail "the kernel had to ask for the device more than once"; return; }
  if grep -Eq 'WARNING:|Call Trace|BUG:|Oops' /tmp/hot.dmesg; then
    fail "kernel warning during the removal"; return
  fi
  # A DMA the IOMMU refused (the guest's VT-d logs it; QEMU's own
  # "detected translation failure" fails the whole run in rig.sh).
  if grep -Eiq 'DMAR:.*fault|DMAR: \[DMA' /tmp/hot.dmesg; then
    fail "DMAR fault during the removal"; return
  fi
  i=0
  while [ -e "/sys/bus/pci/devices/$ADDR2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ ! -e "/sys/bus/pci/devices/$ADDR2" ] || { fail "$ADDR2 is still there 10 s after perf exited"; return; }
  # The unplug ends when pciehp powers the slot off (after removing the
  # function): only then does QEMU delete the device and, a little later
  # (from an RCU callback), emit DEVICE_DELETED, which the host waits for.
  # The host waits for it even after this guest has powered off (rig.sh
  # runs QEMU with -no-shutdown), so nothing here needs to wait for it.
  if [ -n "$slot" ]; then
    i=0
    while [ "$(cat "$slot/power" 2>/dev/null)" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(cat "$slot/power" 2>/dev/null)" = 0 ] ||
      { fail "slot $(basename "$slot") still powered 10 s after $ADDR2 left sysfs"; return; }
    info "slot $(basename "$slot") powered off $(awk "BEGIN { printf \"%.1f\", $(uptime_s) - $mark_up }") s after the removal was requested"
  fi
  check_nvme_back "$ADDR0" "$ADDR1"
}

# The kernel driver with the same workload as step_perf, for a side-by-side
# number from the same boot (only with rig.sh --with-fio).
step_fio_kernel() {
  have fio || { skip "fio not in the image (rig.sh --with-fio)"; return; }
  check_nvme_back "$ADDR0" || return
  c0=$(basename /sys/bus/pci/devices/"$ADDR0"/nvme/nvme*)
  run fio --name=kernel --filename="/dev/${c0}n1" --ioengine=io_uring --direct=1 \
    --rw=randread --bs=4096 --iodepth=8 --time_based --runtime=2 --output-format=terse \
    --terse-version=3 >/tmp/fio.out || { fail "fio exited $?"; return; }
  info "fio io_uring 4k randread qd8 on ${c0}n1: $(cut -d';' -f8 /tmp/fio.out) IOPS"
}

# fio_terse FILE JOB FIELD: a field of JOB's line in fio's terse v3 output
# (5 error, 6 KiB read, 47 KiB written).
fio_terse() { awk -F';' -v j="$2" -v f="$3" '$3 == j { print $f; exit }' "$1"; }

# fio_nvpoll_run NAME JOBFILE: run fio in /tmp (where it leaves verify state
# files) on a job file, terse v3 to /tmp/NAME.out and messages to
# /tmp/NAME.err; returns fio's status.
fio_nvpoll_run() {
  echo "    \$ fio $2  # $1" >&2
  sed 's/^/      /' "$2" >&2
  (cd /tmp && timeout "$NVP_STEP_TIMEOUT" fio "$2" --output-format=terse --terse-version=3 \
    >/tmp/"$1".out 2>/tmp/"$1".err)
}

# Debian's fio with the nvpoll engine (nvpoll-fio.so) on QEMU's controllers:
# verified random writes from several jobs on two controllers at once
# (iodepth 64 and 1, 4096- and 512-byte blocks, 128 KiB I/Os above NVPOLL1's
# 32 KiB MDTS), with flushes and FUA, and a trim; then data corrupted through
# the kernel driver must fail fio's verification. Every controller is back on
# nvme afterwards.
step_fio_nvpoll() {
  have fio || { skip "fio not in the image"; return; }
  so=/lib/nvpoll/nvpoll-fio.so
  [ -f "$so" ] || { skip "nvpoll-fio.so not built"; return; }
  check_nvme_back "$ADDR0" "$ADDR1" || return
  # fio's escaping of ':' in file names.
  f0=$(echo "$ADDR0" | sed 's/:/\\:/g')
  f1=$(echo "$ADDR1" | sed 's/:/\\:/g')
  {
    printf '[global]\nthread\nioengine=external:%s\nrw=randwrite\nverify=crc32c\n' "$so"
    printf '\n[c0n1-qd64]\nfilename=%s\nnsid=1\nbs=4k\niodepth=64\nsize=8M\n' "$f0"
    printf 'verify_backlog=64\nfsync=32\n'
    printf '\n[c0n2-qd1-512]\nfilename=%s\nnsid=2\nbs=512\niodepth=1\nsize=512k\n' "$f0"
    printf 'verify=pattern\nverify_pattern=0x5aa5c33c\n'
    printf '\n[c1-128k-above-mdts]\nfilename=%s\nbs=128k\niodepth=8\nsize=8M\n' "$f1"
    printf 'verify=md5\nfua=1\n'
    printf '\n[c1-trim]\nstonewall\nfilename=%s\nrw=randtrim\noffset=16M\nsize=4M\n' "$f1"
    printf 'bs=64k\niodepth=8\n'
  } >/tmp/fio-verify.fio
  fio_nvpoll_run verify /tmp/fio-verify.fio ||
    { cat /tmp/verify.err /tmp/verify.out; fail "fio exited $?"; return; }
  for j in c0n1-qd64:8192 c0n2-qd1-512:512 c1-128k-above-mdts:8192; do
    name=${j%%:*}
    kib=${j#*:}
    err=$(fio_terse /tmp/verify.out "$name" 5)
    w=$(fio_terse /tmp/verify.out "$name" 47)
    r=$(fio_terse /tmp/verify.out "$name" 6)
    if [ "$err" != 0 ] || [ "$w" != "$kib" ] || [ "$r" != "$kib" ]; then
      cat /tmp/verify.out /tmp/verify.err
      fail "$name: error '$err', wrote '$w' KiB, verified '$r' KiB; expected 0, $kib, $kib"
      return
    fi
    info "$name: wrote and verified $kib KiB"
  done
  [ "$(fio_terse /tmp/verify.out c1-trim 5)" = 0 ] ||
    { cat /tmp/verify.err; fail "c1-trim ended with an error"; return; }
  check_nvme_back "$ADDR0" "$ADDR1" || return

  # Corruption: write with checksums (no verify), verify_only passes; four
  # bytes changed through the kernel's block device; verify_only must fail
  # at that block.
  {
    printf '[global]\nthread\nioengine=external:%s\nfilename=%s\nnsid=1\n' "$so" "$f0"
    printf 'rw=randwrite\nbs=8k\niodepth=16\nsize=4M\noffset=32M\nverify=crc32c\n\n[corrupt]\n'
  } >/tmp/fio-corrupt.fio
  { cat /tmp/fio-corrupt.fio; echo "do_verify=0"; } >/tmp/fio-write.fio
  { cat /tmp/fio-corrupt.fio; echo "verify_only=1"; } >/tmp/fio-check.fio
  fio_nvpoll_run write /tmp/fio-write.fio || { cat /tmp/write.err; fail "write pass exited $?"; return; }
  fio_nvpoll_run check /tmp/fio-check.fio ||
    { cat /tmp/check.err; fail "verify_only of intact data exited $?"; return; }
  [ "$(fio_terse /tmp/check.out corrupt 6)" = 4096 ] ||
    { cat /tmp/check.out; fail "verify_only read $(fio_terse /tmp/check.out corrupt 6) KiB, expected 4096"; return; }
  check_nvme_back "$ADDR0" || return
  dev=/dev/$(namespaces_of "$ADDR0" | grep 'n1$')
  [ -b "$dev" ] || { fail "no block device for nsid 1 of $ADDR0 ($dev)"; return; }
  # Inside the 4096-byte block at 33 MiB.
  bad=$((33 << 20))
  printf 'XXXX' | dd of="$dev" bs=1 seek=$((bad + 100)) conv=notrunc,fsync 2>/dev/null ||
    { fail "cannot write to $dev"; return; }
  st=0
  fio_nvpoll_run bad /tmp/fio-check.fio || st=$?
  [ "$st" != 0 ] || { cat /tmp/bad.out /tmp/bad.err; fail "verify_only passed over a corrupted block"; return; }
  grep -q "crc32c: verify failed at file $ADDR0 offset $bad, length" /tmp/bad.err ||
    { cat /tmp/bad.err; fail "no 'verify failed' at offset $bad"; return; }
  info "corrupted block found: $(grep -m1 'verify failed' /tmp/bad.err)"
  check_nvme_back "$ADDR0" "$ADDR1"
}

# The write-ahead log example (examples/wal) on nsid 2 (512-byte LBAs) of the
# first controller: append from 4 threads with FUA and with Flush commits and
# recover every record; then SIGKILL an appender mid-write and check that
# recovery keeps every acknowledged record (the LSN in the ack file).
step_wal() {
  have nvpoll-wal || { skip "nvpoll-wal not built"; return; }
  ack=/tmp/wal.ack
  run nvpoll-wal -a "$ADDR0" -n 2 format || { fail "nvpoll-wal format exited $?"; return; }
  for mode in fua flush; do
    run nvpoll-wal -a "$ADDR0" -n 2 append --threads 4 --records 100 --size 100:3000 \
      --commit "$mode" --ack-file "$ack" || { fail "append --commit $mode exited $?"; return; }
    run nvpoll-wal -a "$ADDR0" -n 2 recover --expect-at-least "$(cat "$ack")" ||
      { fail "recover after append --commit $mode exited $?"; return; }
  done
  rm -f "$ack"
  echo "    \$ nvpoll-wal -a $ADDR0 -n 2 append --threads 4 --records 0 ... & kill -9" >&2
  nvpoll-wal -a "$ADDR0" -n 2 append --threads 4 --records 0 --size 100:3000 --ack-file "$ack" &
  pid=$!
  i=0
  while [ ! -s "$ack" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  # Short: under TCG the appenders write ~40 MiB/s and the log holds 64 MiB.
  sleep 0.3
  kill -9 "$pid"
  status=0
  wait "$pid" 2>/dev/null || status=$?
  [ "$status" -eq 137 ] || { fail "append was not killed mid-write (exit $status)"; return; }
  # The killed process could not hand the controller back; do what a reboot would.
  bind_to "$ADDR0" nvme || return
  run nvpoll-wal -a "$ADDR0" -n 2 recover --expect-at-least "$(cat "$ack")" ||
    { fail "recover after kill -9 lost acknowledged records (acked $(cat "$ack"))"; return; }
  check_nvme_back
}

# A namespace the kernel uses as swap makes nvpoll refuse the controller,
# with the message that says what to do, and leave it on nvme. (Mounted
# filesystems are covered by the unit tests: this kernel's initramfs has no
# block filesystem module.) Runs last: it overwrites the start of NVPOLL1's
# namespace, and wipes what it wrote.
step_in_use() {
  have hello_world || { skip "hello_world not built"; return; }
  c1=$(basename /sys/bus/pci/devices/"$ADDR1"/nvme/nvme*)
  dev=/dev/${c1}n1
  if ! mkswap "$dev" >/dev/null 2>&1 || ! swapon "$dev"; then
    fail "cannot make $dev a swap area"
    return
  fi
  out=$(hello_world "$ADDR1" 2>&1)
  rc=$?
  swapoff "$dev"
  dd if=/dev/zero of="$dev" bs=4096 count=16 conv=fsync 2>/dev/null
  [ $rc != 0 ] || { fail "hello_world took $ADDR1 while $dev was swap"; return; }
  echo "$out" | grep -qF "$dev is in use as swap; turn it off first (swapoff $dev)" ||
    { fail "unexpected message: $out"; return; }
  [ "$(driver_of "$ADDR1")" = nvme ] || { fail "$ADDR1 left on $(driver_of "$ADDR1")"; return; }
  info "$out"
  check_nvme_back
}

# The kernel's NVMe/TCP target on 127.0.0.1:4420 (lib.sh tcp_target_up) and
# its own initiator: the environment, and the reference, for the TCP
# transport of issue 14. Writes a pattern through the kernel initiator to
# both namespaces, reads it back, takes the port away and back (the
# initiator must reconnect), then disconnects.
# The library over NVMe/TCP (issue 14): nvp_ctrl_attach("tcp://...") and
# then the same calls as on PCIe. The integration tests that do not need a
# PCI function or the emulated controller's fault injection run against the
# kernel target; the ones in TCP_MUST_PASS must pass, not skip. Left out for
# what Linux 6.1's target answers, not for nvpoll: admin_smart_log (its SMART
# log reads 0 K) and bad_lba_range (a read past the end of a null_blk
# namespace ends with Internal Error, not LBA Out of Range), and
# cmd_write_zeroes (Write Zeroes on the null_blk namespace ends with SCT 1h
# SC 83h, which Linux 6.1's target sends as NVME_SC_ONCS_NOT_SUPPORTED when
# the block device cannot zero, though its ONCS says Write Zeroes; NVMe 2.0
# names that code Command Size Limit Exceeded). Then
# nvpoll-perf with --verify, plain and with digests, and with resets (each a
# reconnect) while it runs.
TCP_ITESTS="data_sizes,data_random_lbas,data_buffer_offsets,data_page_crossing,data_iovec,cmd_flush,cmd_fua,queue_wrap,queue_stats,queue_deep,queue_exhaustion,threads_disjoint,admin_async_identify,bad_namespace,bad_zero_length,bad_queue_size,bad_detach_busy,recovery_reset_idle,recovery_reset_under_load,trust_null_args,trust_split_admission,trust_split_cpl_stable,trust_flags_and_raw"
TCP_MUST_PASS="data_sizes data_random_lbas data_iovec queue_wrap queue_deep threads_disjoint recovery_reset_idle recovery_reset_under_load"
tcp_nvpoll() {
  tcp_addr="tcp://127.0.0.1/$NVP_TCP_NQN"
  have nvpoll-itest || { info "nvpoll-itest not built: the library over TCP not checked"; return 0; }
  run nvpoll-itest -a "$tcp_addr" --only "$TCP_ITESTS" 2>&1 | tee /tmp/tcp-itest.log ||
    { fail "nvpoll-itest -a $tcp_addr exited $?"; return 1; }
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/tcp-itest.log | tail -n1)
  case $summary in
    *", 0 failed") ;;
    *) fail "nvpoll-itest over TCP: ${summary:-no summary}"; return 1 ;;
  esac
  for t in $TCP_MUST_PASS; do
    grep -q "^PASS $t " /tmp/tcp-itest.log || { fail "$t did not pass over TCP: $(grep -E "^(SKIP|FAIL) $t" /tmp/tcp-itest.log)"; return 1; }
  done
  info "nvpoll-itest over TCP: $summary"
  # The tools take the same address, and SPDK's transport ID spelling.
  if have nvpoll-identify; then
    run nvpoll-identify --json "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:$NVP_TCP_NQN" >/tmp/tcp-id.json ||
      { cat /tmp/tcp-id.json; fail "nvpoll-identify over TCP (SPDK transport ID)"; return 1; }
    if [ "$(json_str access /tmp/tcp-id.json)" != tcp ] || [ "$(json_str subnqn /tmp/tcp-id.json)" != "$NVP_TCP_NQN" ]; then
      cat /tmp/tcp-id.json; fail "nvpoll-identify over TCP: access method or subsystem NQN not as expected"; return 1
    fi
  fi
  # fio with the nvpoll engine on the same address (fio escapes ':').
  so=/lib/nvpoll/nvpoll-fio.so
  if have fio && [ -f "$so" ]; then
    {
      printf '[global]\nthread\nioengine=external:%s\nnsid=1\nrw=randwrite\nverify=crc32c\n' "$so"
      printf '\n[tcp]\nfilename=%s\nbs=4k\niodepth=16\nsize=4M\noffset=64M\n' "$(echo "$tcp_addr" | sed 's/:/\\:/g')"
    } >/tmp/fio-tcp.fio
    fio_nvpoll_run fiotcp /tmp/fio-tcp.fio || { cat /tmp/fiotcp.err /tmp/fiotcp.out; fail "fio with nvpoll-fio.so over TCP exited $?"; return 1; }
    if [ "$(fio_terse /tmp/fiotcp.out tcp 5)" != 0 ] || [ "$(fio_terse /tmp/fiotcp.out tcp 47)" != 4096 ] ||
       [ "$(fio_terse /tmp/fiotcp.out tcp 6)" != 4096 ]; then
      cat /tmp/fiotcp.out /tmp/fiotcp.err; fail "fio over TCP: not 4 MiB written and verified without error"; return 1
    fi
    info "fio (nvpoll-fio.so) over TCP: 4 MiB written and verified"
  fi
  have nvpoll-perf || return 0
  run nvpoll-perf -a "$tcp_addr" -w randrw -q 16 -o 8k -t 2 --verify --verify-final ||
    { fail "nvpoll-perf --verify over TCP"; return 1; }
  NVP_TCP_DIGESTS=1 run nvpoll-perf -a "$tcp_addr" -w randrw -q 8 -o 64k -t 2 --verify ||
    { fail "nvpoll-perf --verify over TCP with digests"; return 1; }
  run nvpoll-perf -a "$tcp_addr" -w randrw -q 16 -t 3 --verify --reset-every 0.5 ||
    { fail "nvpoll-perf --verify --reset-every 0.5 over TCP (each reset a reconnect)"; return 1; }
  # The target's port goes away for 2 s in the middle of a verified run (the
  # target drops every connection and refuses new ones): the controller must
  # wait for it, reconnect, and finish the run with nothing lost or doubled.
  info "nvpoll-perf --verify over TCP while the port is unlinked for 2 s"
  nvpoll-perf -a "$tcp_addr" -w randrw -q 16 -t 8 --verify >/tmp/tcp-drop.log 2>&1 &
  perf_pid=$!
  sleep 3
  tcp_port_down
  sleep 2
  tcp_port_up
  rc=0
  wait "$perf_pid" || rc=$?
  cat /tmp/tcp-drop.log
  [ "$rc" = 0 ] || { fail "nvpoll-perf across the port drop exited $rc"; return 1; }
  grep -q 'verify: 0 mismatches' /tmp/tcp-drop.log || { fail "nvpoll-perf across the port drop: no clean verify line"; return 1; }
  resets=$(sed -n 's/^recovery (-a [^)]*): \([0-9]*\) resets.*/\1/p' /tmp/tcp-drop.log | head -n1)
  [ "${resets:-0}" -ge 1 ] || { fail "nvpoll-perf across the port drop: no reset (reconnect) reported"; return 1; }
  info "nvpoll-perf reconnected across the port drop ($resets reset(s)), 0 mismatches"
  return 0
}

step_tcp_target() {
  # Nothing here depends on how the PCI controllers are bound: one boot is enough.
  [ "$NVP_MODE" = uio ] || { skip "runs in the uio boot only (it does not use the PCI controllers)"; return; }
  tcp_target_up || return
  c=$(tcp_kernel_connect) || return
  i=0
  while [ ! -b "/dev/${c}n2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  for n in 1 2; do
    dev=/dev/${c}n$n
    [ -b "$dev" ] || { fail "$dev did not appear"; return; }
    head -c 1048576 /dev/urandom >/tmp/tcp-pat
    dd if=/tmp/tcp-pat of="$dev" bs=65536 seek=3 conv=fsync 2>/dev/null || { fail "write to $dev"; return; }
    echo 3 >/proc/sys/vm/drop_caches
    dd if="$dev" of=/tmp/tcp-back bs=65536 skip=3 count=16 2>/dev/null || { fail "read from $dev"; return; }
    cmp -s /tmp/tcp-pat /tmp/tcp-back || { fail "$dev: data read back differs from what was written"; return; }
  done
  info "kernel nvme-tcp initiator $c: 1 MiB written and read back on ${c}n1 (memory-backed null_blk) and ${c}n2"
  # lib/tcp on its own against the same target: plain, with header and data
  # digests, and addressed in SPDK's transport ID spelling with R2Ts answered
  # in 8 KiB H2CData PDUs.
  if have nvpoll-tcp-probe; then
    run nvpoll-tcp-probe "tcp://127.0.0.1:4420/$NVP_TCP_NQN" || { fail "nvpoll-tcp-probe (no digests)"; return; }
    run nvpoll-tcp-probe --digests "tcp://127.0.0.1/$NVP_TCP_NQN" || { fail "nvpoll-tcp-probe --digests"; return; }
    run nvpoll-tcp-probe --h2c-max 8192 "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:$NVP_TCP_NQN" ||
      { fail "nvpoll-tcp-probe (SPDK transport ID)"; return; }
  else
    info "nvpoll-tcp-probe not built: lib/tcp not checked"
  fi
  # Discovery: nvmet's log must list the subsystem linked to the port, in one entry.
  run nvpoll-identify --discover tcp://127.0.0.1 >/tmp/tcp-disc.log ||
    { cat /tmp/tcp-disc.log; fail "nvpoll-identify --discover tcp://127.0.0.1"; return; }
  cat /tmp/tcp-disc.log
  awk -v nqn="$NVP_TCP_NQN" '/^=====Discovery Log Entry/ { s = a = p = 0 }
    $1 == "subnqn:" && $2 == nqn { s = 1 } $1 == "traddr:" && $2 == "127.0.0.1" { a = 1 }
    $1 == "trsvcid:" && $2 == "4420" { p = 1 } s && a && p { ok = 1 } END { exit !ok }' /tmp/tcp-disc.log ||
    { fail "nvpoll-identify --discover lists no $NVP_TCP_NQN at 127.0.0.1:4420"; return; }
  tcp_nvpoll || return
  tcp_port_down
  sleep 1
  tcp_port_up
  i=0
  while [ "$(cat /sys/class/nvme/"$c"/state 2>/dev/null)" != live ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$(cat /sys/class/nvme/"$c"/state)" = live ] || { fail "$c is $(cat /sys/class/nvme/"$c"/state) 15 s after the port came back"; return; }
  info "$c reconnected after the port went away for 1 s"
  echo 1 >/sys/class/nvme/"$c"/delete_controller
}

# The I/O command set on QEMU's own controller (issue 13), NVPOLL3: metadata
# in both layouts and PI types 1-3 with the 16- and 64-bit guards (md_*,
# pi_*), zoned namespaces (zns_*) and the other commands (cmd_*), through
# the same tests CTest runs against the emulated controller. The tests that
# prove each feature must pass here, not skip: QEMU is the reference.
# Then nvpoll-perf --verify on the PI namespaces (PRACT, checks on) and the
# zoned workload (Zone Append, zones reset as they fill).
FORMATS_MUST_PASS="md_device_format md_device_roundtrip md_device_pi_checks md_roundtrip pi_pract pi_checks zns_fill_zone zns_write_errors zns_append_threads zns_transitions zns_limits"
step_formats() {
  have nvpoll-itest || { skip "nvpoll-itest not built"; return; }
  [ -n "$ADDR3" ] || { fail "expected a fourth controller (NVPOLL3)"; return; }
  # cmd_* run on NVPOLL0/1 in step itest: every NVPOLL3 namespace has
  # metadata or zones, which the plain data tests among them refuse.
  run nvpoll-itest -a "$ADDR3" --only 'md_*,pi_*,zns_*' 2>&1 | tee /tmp/formats.log ||
    { fail "nvpoll-itest on $ADDR3 exited $?"; return; }
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/formats.log | tail -n1)
  case $summary in
    *", 0 failed") ;;
    *) fail "nvpoll-itest on $ADDR3: ${summary:-no summary}"; return ;;
  esac
  for t in $FORMATS_MUST_PASS; do
    grep -q "^PASS $t " /tmp/formats.log || { fail "$t did not pass on QEMU's controller: $(grep -E "^(SKIP|FAIL) $t" /tmp/formats.log)"; return; }
  done
  info "$summary; skipped: $(grep "^SKIP" /tmp/formats.log | cut -d: -f1 | cut -c6- | tr "\n" " ")"
  run nvpoll-perf -a "$ADDR3" -q 8 -o 4096 -w randrw -M 50 --verify -t 2 >/tmp/formats-perf.log 2>&1 ||
    { cat /tmp/formats-perf.log; fail "nvpoll-perf --verify on the PI namespaces"; return; }
  info "PI namespaces 1-3 (PRACT, guard/apptag/reftag checked): $(grep -i -E 'mismatch|verif' /tmp/formats-perf.log | tail -n 1)"
  run nvpoll-perf -a "$ADDR3" -w zoneappend -o 64k -q 4 -t 2 --json >/tmp/formats-zone.json 2>/tmp/formats-zone.err ||
    { cat /tmp/formats-zone.err; fail "nvpoll-perf -w zoneappend"; return; }
  grep -q '"zone_resets"' /tmp/formats-zone.json || { fail "no zone_resets in the zoneappend JSON"; return; }
  info "zoneappend: $(grep -o '"zone_resets": *[0-9]*' /tmp/formats-zone.json | head -n1), $(grep -o '"errors": *[0-9]*' /tmp/formats-zone.json | head -n1)"
  # The tests leave blocks whose PI the kernel would reject on reading (a
  # type 2 reference tag that is not the LBA, a corrupted guard on purpose):
  # rewrite the blocks check_nvme_back reads through the kernel, which
  # writes the PI it checks.
  i=0
  while [ $i -lt 100 ]; do
    c3=none
    for d in /sys/bus/pci/devices/"$ADDR3"/nvme/nvme*; do [ -e "$d" ] && c3=${d##*/}; done
    [ -b "/dev/${c3}n1" ] && [ -b "/dev/${c3}n3" ] && break
    sleep 0.1
    i=$((i + 1))
  done
  for n in 1 3; do
    dd if=/dev/zero of="/dev/${c3}n$n" bs=4096 count=16 conv=fsync 2>/dev/null ||
      { fail "cannot rewrite the start of /dev/${c3}n$n through the kernel"; return; }
  done
  check_nvme_back
}

# I/O submission queues in NVPOLL3's Controller Memory Buffer (cmb_size_mb=16):
# itest's cmb_sqs with every I/O SQ in the CMB (--cmb-sqs require): verified
# single and batched I/O across the ring's wrap and a reset, on a namespace
# it can write (8-byte PI by PRACT, as NVPOLL3 has no plain one). It must
# run, not skip. The guest kernel's IOMMU/VFIO lines are shown for the record.
step_cmb() {
  have nvpoll-itest || { skip "nvpoll-itest not built"; return; }
  [ -n "$ADDR3" ] || { fail "expected a fourth controller (NVPOLL3) with a CMB"; return; }
  run nvpoll-itest -v --cmb-sqs require -a "$ADDR3" --only cmb_sqs 2>&1 | tee /tmp/cmb.log ||
    { fail "nvpoll-itest --cmb-sqs require exited $?"; return; }
  grep -q '^PASS cmb_sqs' /tmp/cmb.log || { fail "cmb_sqs did not pass on $ADDR3"; return; }
  info "$(grep '^PASS cmb_sqs' /tmp/cmb.log); $(grep -o 'I/O submission queues in the CMB.*' /tmp/cmb.log | head -n1)"
  info "kernel: $(dmesg | grep -i -E 'dmar|iommu|vfio|fault' | tail -n 3 | tr '\n' '|')"
  check_nvme_back
}

# hot_remove must stay last: it unplugs NVPOLL2.
STEPS="selftest_hw selftest_bind hello_world itest ns_attach identify setup perf perf_reset formats cmb wal fio_kernel fio_nvpoll in_use tcp_target hot_remove"
# rig.sh --steps (NVP_STEPS): only those, in the order above.
if [ -n "${NVP_STEPS:-}" ]; then
  sel=""
  for s in $NVP_STEPS; do
    case " $STEPS " in
      *" $s "*) ;;
      *) echo "suite: no step '$s' (steps: $STEPS)"; exit 1 ;;
    esac
  done
  for s in $STEPS; do
    case " $NVP_STEPS " in *" $s "*) sel="$sel $s" ;; esac
  done
  STEPS=$sel
fi
# shellcheck disable=SC2086  # word splitting of the step list is intended
run_steps $STEPS
