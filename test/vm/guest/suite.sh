#!/bin/sh
# The guest-side test list, run by /init as /guest/suite.sh (busybox ash).
# To add a step: write step_NAME below (see lib.sh for fail/skip/run/have/
# check_nvme_back) and append NAME to STEPS. Programs from the build land in /bin.
# shellcheck shell=sh
# shellcheck source=lib.sh
. /guest/lib.sh

NVP_ADDRS=$(nvme_addrs | tr '\n' ' ')
# shellcheck disable=SC2086  # split the address list into $1, $2
set -- $NVP_ADDRS
ADDR0=${1:-}
ADDR1=${2:-}
export NVP_ADDRS ADDR0 ADDR1
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

# json_str KEY FILE: the first "KEY": "value" of nvpoll's line-per-member JSON.
json_str() { sed -n "s/^ *\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" "$2" | head -n1; }

# identify_check ADDR SERIAL "NSID:LBA_SIZE ...": nvpoll-identify --json
# reports QEMU's model, the serial from the QEMU command line, and 64 MiB
# namespaces (NSZE x 2^LBADS of the LBA format in use) with these LBA sizes.
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
    /"in_use": true/ { if (match($0, /"lbads": [0-9]+/)) lbads[ns] = substr($0, RSTART + 9, RLENGTH - 9) + 0 }
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
  run nvpoll-perf -a "$ADDR0" -q 8 -o 8192 -w randrw -M 70 -t 2 --verify >/tmp/verify.out 2>&1 ||
    { cat /tmp/verify.out; fail "nvpoll-perf --verify exited $?"; return; }
  grep -q "verify: 0 mismatches; [1-9]" /tmp/verify.out ||
    { cat /tmp/verify.out; fail "nvpoll-perf --verify compared no reads"; return; }
  info "$(grep '^verify:' /tmp/verify.out)"
  check_nvme_back
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

STEPS="selftest_hw selftest_bind hello_world itest identify setup perf wal fio_kernel in_use"
# shellcheck disable=SC2086  # word splitting of the step list is intended
run_steps $STEPS
