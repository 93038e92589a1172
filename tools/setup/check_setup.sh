#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# CTest checks of nvpoll-setup on a host without NVMe controllers or VFIO.
#   check_setup.sh TOOL status      status text/JSON, usage and error paths
#   check_setup.sh TOOL hugepages   reserve two more 2 MiB pages, then restore
#                                   (root only; exits 77 = skipped otherwise)
set -u
tool=$1
what=$2
out=$(mktemp)
err=$(mktemp)
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
want() { grep -qF -- "$1" "$out" || fail "output lacks '$1'"; }
want_err() { grep -qF -- "$1" "$err" || fail "stderr lacks '$1'"; }
run() { "$tool" "$@" >"$out" 2>"$err"; }

check_status() {
  run status || fail "status exited $?"
  if ls /sys/bus/pci/drivers/nvme/0* >/dev/null 2>&1; then
    echo "note: this host has NVMe controllers; skipping the 'none' check"
  else
    want "no NVMe controllers"
  fi
  want "Hugepages"
  want "2.0 MiB pages"
  want "hugetlbfs mounts"
  want "Memlock limit (soft)"
  want "IOMMU"
  want "no-IOMMU mode"
  want "Advice"

  run status --json || fail "status --json exited $?"
  python3 -m json.tool "$out" >/dev/null || fail "status --json is not JSON"
  python3 - "$out" <<'PY' || fail "status --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["controllers"], list)
sizes = [h["page_size"] for h in d["hugepages"]]
assert 2 << 20 in sizes, sizes
assert "soft_bytes" in d["memlock"] and "cap_ipc_lock" in d["memlock"]
for k in ("iommu_on", "noiommu", "vfio_pci_loaded", "uio_pci_generic_loaded", "access_method"):
    assert k in d["platform"], k
assert isinstance(d["advice"], list) and d["advice"]
PY

  run --version || fail "--version exited $?"
  [ "$(cat "$out")" = "nvpoll-setup 0.1.0" ] || fail "--version"
  run --help || fail "--help exited $?"
  want "Usage: nvpoll-setup"
  run frobnicate; [ $? = 2 ] || fail "unknown command should exit 2"
  want_err "unknown command 'frobnicate'"
  run bind; [ $? = 2 ] || fail "bind without address should exit 2"
  run hugepages lots; [ $? = 2 ] || fail "hugepages lots should exit 2"
  want_err "needs a SIZE"

  # bind and unbind check every address before loading any module: an
  # absent function is named as such (exit 2), and modprobe never runs.
  # A stand-in modprobe early in PATH records any call.
  stub=$(mktemp -d)
  printf '#!/bin/sh\necho "$@" >>"%s/called"\nexit 1\n' "$stub" >"$stub/modprobe"
  chmod +x "$stub/modprobe"
  for cmd in bind unbind; do
    for drv in "" "--driver uio_pci_generic" "--driver vfio-pci"; do
      [ "$cmd" = unbind ] && [ -n "$drv" ] && continue
      # shellcheck disable=SC2086
      PATH="$stub:$PATH" run $drv $cmd 0000:ff:1f.7; rc=$?
      [ $rc = 2 ] || fail "$cmd $drv of an absent device exited $rc, expected 2"
      want_err "no PCI function 0000:ff:1f.7"
      [ ! -e "$stub/called" ] || fail "$cmd $drv of an absent device ran modprobe $(cat "$stub/called")"
    done
  done
  rm -rf "$stub"
  # A malformed address: exit 2; bind has no use for emu:, so no hint at it.
  for cmd in bind unbind; do
    run $cmd nonsense; [ $? = 2 ] || fail "$cmd nonsense should exit 2"
    want_err "is not a PCI address"
    if grep -q "emu" "$err"; then fail "$cmd nonsense suggests emu:"; fi
    run $cmd emu:; [ $? = 2 ] || fail "$cmd emu: should exit 2"
    want_err "needs no $cmd"
  done
  echo "nvpoll-setup status checks passed"
}

check_hugepages() {
  [ "$(id -u)" = 0 ] || { echo "not root: skipped"; exit 77; }
  nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  [ -w $nr ] || { echo "no writable $nr: skipped"; exit 77; }
  orig=$(cat $nr)
  # The pool is machine-wide: if another program holds hugepages right now,
  # shrinking it back cannot be checked.
  pool=/sys/kernel/mm/hugepages/hugepages-2048kB
  if [ "$(cat $pool/free_hugepages)" != "$orig" ] || [ "$(cat $pool/surplus_hugepages)" != 0 ]; then
    echo "2 MiB hugepages are in use by another program: skipped"; exit 77
  fi
  had_mount=$(grep -c ' - hugetlbfs .*pagesize=2M' /proc/self/mountinfo)
  # Put everything back however this ends.
  restore() {
    echo "$orig" >$nr
    if [ "$had_mount" = 0 ] && grep -q ' /dev/hugepages .* - hugetlbfs ' /proc/self/mountinfo; then
      umount /dev/hugepages && rmdir /dev/hugepages 2>/dev/null
    fi
    rm -f "$out" "$err"
  }
  trap restore EXIT INT TERM
  want_pages=$((orig + 2))
  run --json hugepages "$((want_pages * 2))M" || fail "hugepages exited $?"
  python3 -m json.tool "$out" >/dev/null || fail "hugepages --json is not JSON"
  [ "$(cat $nr)" = "$want_pages" ] || fail "nr_hugepages is $(cat $nr), expected $want_pages"
  grep -q ' - hugetlbfs .*pagesize=2M' /proc/self/mountinfo || fail "no 2 MiB hugetlbfs mount"
  run status || fail "status exited $?"
  grep -A1 "2.0 MiB pages" "$out" | grep -q "total $want_pages " || fail "status does not show $want_pages pages"
  # Asking for less keeps the larger pool unless --exact.
  run hugepages 2M || fail "hugepages 2M exited $?"
  [ "$(cat $nr)" = "$want_pages" ] || fail "hugepages 2M shrank the pool to $(cat $nr)"
  run hugepages "$((orig * 2))M" --exact || fail "hugepages --exact exited $?"
  [ "$(cat $nr)" = "$orig" ] || fail "--exact left $(cat $nr) pages, expected $orig"
  run --page-size 3M hugepages 2M; [ $? = 2 ] || fail "--page-size 3M should exit 2"
  run --node 999 hugepages 2M; [ $? = 2 ] || fail "--node 999 should exit 2"
  want_err "NUMA node 999 does not exist"
  echo "nvpoll-setup hugepages checks passed"
}

case $what in
  status) trap 'rm -f "$out" "$err"' EXIT; check_status ;;
  hugepages) check_hugepages ;;
  *) echo "usage: $0 TOOL status|hugepages"; exit 2 ;;
esac
