#!/usr/bin/env bash
# nvpoll VM test rig: boots QEMU guests with emulated NVMe controllers and runs
# the guest test suite in each configuration. See test/vm/README.md.
#
# Usage: test/vm/rig.sh [--build-dir DIR] [--only CONFIG...] [--keep-logs]
#                       [--with-fio] [--steps "A B"] [--script NAME] [--shell]
#   --build-dir DIR  CMake build dir whose bin/ and lib/ go into the guest
#                    (default: <repo>/build; missing is fine, programs SKIP)
#   --only CONFIG... run only these configurations (names of configs/*.conf)
#   --keep-logs      keep console logs, QEMU stderr and disk images in
#                    test/vm/.cache/runs/CONFIG/
#   --with-fio       put fio (and its ~82 MiB of libraries) into the guest;
#                    done anyway when the build has the fio engine
#                    (lib/nvpoll-fio.so), which the fio_nvpoll step uses
#   --steps "A B"    run only these steps of suite.sh (in the suite's order),
#                    e.g. --steps "selftest_hw fio_nvpoll"
#   --script NAME    run /guest/NAME instead of suite.sh
#   --shell          boot the first selected config with an interactive shell
#                    on this terminal instead of running a script
#   --list           list the configurations and exit
# Environment: NVP_VM_TIMEOUT (hard limit per boot, default 600 s),
#              NVP_VM_CACHE (default test/vm/.cache), NVP_VM_QEMU_ARGS (extra
#              QEMU args), NVP_VM_APPEND (extra guest kernel args, e.g. loglevel=7).
# QEMU option values contain commas by design.
# shellcheck disable=SC2054
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NVP_VM_CACHE:-$here/.cache}
timeout_s=${NVP_VM_TIMEOUT:-600}

build_dir=$repo/build
only=()
keep_logs=0
with_fio=0
script=suite.sh
steps=""
shell=0
list=0
while (($#)); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --only)
      shift
      while (($#)) && [[ $1 != --* ]]; do only+=("$1"); shift; done
      ;;
    --keep-logs) keep_logs=1; shift ;;
    --with-fio) with_fio=1; shift ;;
    --steps) steps=$(echo "$2" | tr ' ' ','); shift 2 ;;
    --script) script=$2; shift 2 ;;
    --shell) shell=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rig: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "rig: $*" >&2; }

# Configurations, in a fixed order; --only selects among them.
all_configs=()
for c in type1 noiommu uio; do
  [[ -f $here/configs/$c.conf ]] && all_configs+=("$c")
done
for f in "$here"/configs/*.conf; do
  c=$(basename "$f" .conf)
  [[ " ${all_configs[*]} " == *" $c "* ]] || all_configs+=("$c")
done
if ((list)); then
  for c in "${all_configs[@]}"; do
    # shellcheck source=/dev/null
    desc=$(. "$here/configs/$c.conf"; echo "$desc")
    printf '%-10s %s\n' "$c" "$desc"
  done
  exit 0
fi
if ((${#only[@]})); then
  for c in "${only[@]}"; do
    [[ -f $here/configs/$c.conf ]] || { log "no such config: $c (have: ${all_configs[*]})"; exit 2; }
  done
  configs=("${only[@]}")
else
  configs=("${all_configs[@]}")
fi

# 1. Host packages, 2. guest kernel (cached), 3. initramfs (always rebuilt).
"$here/install-deps.sh"
"$here/fetch-kernel.sh" "$cache"
# shellcheck source=/dev/null
. "$cache/kernel.env"
initrd=$cache/initramfs.cpio.gz
fio_arg=()
((with_fio)) && fio_arg=(--with-fio)
NVP_CACHE=$cache "$here/mkinitramfs.sh" "${fio_arg[@]}" "$build_dir" "$initrd"

# The emulated hardware, the same in every config so one boot covers several
# features at once (table in README.md):
#   0000:00:04.0 serial NVPOLL0: nsid 1 with 4096-byte LBAs, nsid 2 with 512-byte
#   0000:00:05.0 serial NVPOLL1: mdts=3 (32 KiB with 4 KiB pages), max_ioqpairs=2, nsid 1 (512)
#   0000:01:00.0 serial NVPOLL2: behind PCIe root port rp1 (hot-pluggable), in NVM
#                subsystem nvpsubsys: nsid 1 (512) attached, nsid 2 (4096) allocated
#                but detached (Namespace Attachment test); removed last (device_del)
#   0000:02:00.0 serial NVPOLL3: behind root port rp2, a 16 MiB Controller Memory
#                Buffer, and the formats of the I/O command set: nsid 1 4096+8
#                PI type 1 (separate metadata), nsid 2 512+8 PI type 3
#                (extended LBAs), nsid 3 4096+16 PI type 2 with the 64-bit guard
#                (separate, PI last), nsid 4 zoned (4 MiB zones of 3 MiB capacity)
# Namespaces are real 64 MiB raw files so data written can be read back.
device_args() {
  local w=$1 img
  for img in c0n1 c0n2 c1n1 c2n1 c2n2 c3n1 c3n2 c3n3 c3n4; do
    rm -f "$w/$img.img"
    truncate -s 64M "$w/$img.img"
  done
  qargs+=(
    -drive "file=$w/c0n1.img,if=none,id=c0n1,format=raw"
    -drive "file=$w/c0n2.img,if=none,id=c0n2,format=raw"
    -drive "file=$w/c1n1.img,if=none,id=c1n1,format=raw"
    -drive "file=$w/c2n1.img,if=none,id=c2n1,format=raw"
    -drive "file=$w/c2n2.img,if=none,id=c2n2,format=raw"
    -drive "file=$w/c3n1.img,if=none,id=c3n1,format=raw"
    -drive "file=$w/c3n2.img,if=none,id=c3n2,format=raw"
    -drive "file=$w/c3n3.img,if=none,id=c3n3,format=raw"
    -drive "file=$w/c3n4.img,if=none,id=c3n4,format=raw"
    -device nvme,id=nvme0,serial=NVPOLL0,bus=pcie.0,addr=0x4
    -device nvme-ns,bus=nvme0,drive=c0n1,nsid=1,logical_block_size=4096,physical_block_size=4096
    -device nvme-ns,bus=nvme0,drive=c0n2,nsid=2,logical_block_size=512,physical_block_size=512
    -device nvme,id=nvme1,serial=NVPOLL1,mdts=3,max_ioqpairs=2,bus=pcie.0,addr=0x5
    -device nvme-ns,bus=nvme1,drive=c1n1,nsid=1
    -device pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x6
    -device nvme-subsys,id=nvpsubsys,nqn=nvpoll-subsys
    -device nvme,id=nvme2,serial=NVPOLL2,subsys=nvpsubsys,bus=rp1
    -device nvme-ns,bus=nvme2,drive=c2n1,nsid=1
    -device nvme-ns,bus=nvme2,drive=c2n2,nsid=2,logical_block_size=4096,physical_block_size=4096,detached=true
    -device pcie-root-port,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=0x7
    -device nvme,id=nvme3,serial=NVPOLL3,cmb_size_mb=16,bus=rp2
    -device nvme-ns,bus=nvme3,drive=c3n1,nsid=1,logical_block_size=4096,physical_block_size=4096,ms=8,mset=0,pi=1
    -device nvme-ns,bus=nvme3,drive=c3n2,nsid=2,logical_block_size=512,physical_block_size=512,ms=8,mset=1,pi=3
    -device nvme-ns,bus=nvme3,drive=c3n3,nsid=3,logical_block_size=4096,physical_block_size=4096,ms=16,mset=0,pi=2,pil=1,pif=2
    -device nvme-ns,bus=nvme3,drive=c3n4,nsid=4,logical_block_size=4096,physical_block_size=4096,zoned=true,zoned.zone_size=4M,zoned.zone_capacity=3M,zoned.max_open=6,zoned.max_active=8
  )
}

# QMP: one client (qmp.py watch) for the whole boot. QEMU runs with
# -no-shutdown, so when the guest powers off (or, with -no-reboot, reboots or
# panics) it stops the VM but keeps running; the watcher sees SHUTDOWN and
# sends quit. In between it does the host side of the guest's hot-removal
# step: when the guest prints "NVP-HOTPLUG: device_del ID" (its I/O is
# running), it sends device_del and waits for QEMU's DEVICE_DELETED, for at
# most hotplug_wait_s after the request even if the guest has powered off by
# then. Why not let QEMU exit on power-off: QEMU 7.2 sends DEVICE_DELETED from
# the device's finalizer, which runs in its call_rcu thread after an RCU grace
# period, some time after the guest's slot power-off that the guest sees at
# once; a QEMU that exits on power-off can exit first, and the event is never
# sent (2 of 3 CI runs on a loaded 2-core machine). README.md, "Hot removal".
hotplug_wait_s=60

# run_config NAME: boot one configuration; prints its PASS/FAIL line.
passed=0
failed=0
crashed=0
qemu_crashes=0

# The crashed QEMU's backtrace, from the core it left in $1. Debian's QEMU
# keeps its global symbols only, so static functions (most of hw/nvme)
# show as addresses; qemu-system-x86-dbgsym, where installed, names them.
qemu_backtrace() {
  local core
  core=$(find "$1" -maxdepth 1 -name 'core*' -type f | head -n1)
  if [[ -z $core ]]; then
    echo "(no core file in $1: core_pattern is '$(cat /proc/sys/kernel/core_pattern 2>/dev/null)')"
  elif ! command -v gdb >/dev/null; then
    echo "(core file $core; gdb is not installed)"
  else
    echo "----- QEMU backtrace (crashing thread) -----"
    # shellcheck disable=SC2016  # $pc is gdb's, not the shell's
    gdb -batch -nx -ex 'bt 25' -ex 'info registers rip' -ex 'x/3i $pc' \
      "$(command -v qemu-system-x86_64)" "$core" 2>&1 | grep -v -e '^\[New LWP' -e '^warning: ' | tail -n 40
  fi
  ((keep_logs)) || rm -f "$core"
}

run_config() {
  local name=$1 mode iommu w console qerr t0 t1 rc reason qpid wpid wrc hp_id
  crashed=0
  mode="" iommu=off
  # shellcheck source=/dev/null
  . "$here/configs/$name.conf"
  w=$cache/runs/$name
  rm -rf "$w" && mkdir -p "$w"
  console=$w/console.log
  qerr=$w/qemu.stderr

  local cmdline="console=ttyS0 panic=-1 quiet nvp.mode=$mode nvp.script=$script"
  cmdline+=" nvp.timeout=$((timeout_s > 120 ? timeout_s - 60 : timeout_s / 2))"
  qargs=(
    -machine q35 -accel tcg,thread=multi -cpu max -smp 2 -m 2G
    -nodefaults -display none -no-reboot
    -kernel "$NVP_VMLINUZ" -initrd "$initrd"
  )
  if [[ $iommu == on ]]; then
    # Under TCG the split irqchip is implied; KVM would need kernel-irqchip=split.
    qargs+=(-device intel-iommu,intremap=on)
    cmdline+=" intel_iommu=on"
  fi
  device_args "$w"
  # QMP for the hot-removal step; a UNIX socket path must stay short.
  qmp_sock=$w/qmp.sock
  ((${#qmp_sock} < 100)) || qmp_sock=$(mktemp -u /tmp/nvp-qmp.XXXXXX)
  qargs+=(-qmp "unix:$qmp_sock,server=on,wait=off")
  [[ -n $steps ]] && cmdline+=" nvp.steps=$steps"
  [[ -n ${NVP_VM_APPEND:-} ]] && cmdline+=" $NVP_VM_APPEND"
  # shellcheck disable=SC2206  # extra args are split on purpose
  [[ -n ${NVP_VM_QEMU_ARGS:-} ]] && qargs+=($NVP_VM_QEMU_ARGS)

  if ((shell)); then
    cmdline=${cmdline/nvp.script=$script/nvp.script=shell}
    log "interactive $name: 'exit' in the guest powers off (Ctrl-A X quits QEMU)"
    qemu-system-x86_64 "${qargs[@]}" -serial mon:stdio -append "$cmdline"
    return 0
  fi

  t0=$(date +%s)
  rc=0
  : >"$console"
  # -no-shutdown: the watcher quits QEMU (see above). The time limit still
  # ends a hung guest, and SIGTERM ends QEMU even with -no-shutdown.
  # A QEMU crash leaves a core in $w (guest RAM left out) for qemu_backtrace.
  (cd "$w" && ulimit -c unlimited 2>/dev/null
   exec timeout -k 10 "$timeout_s" qemu-system-x86_64 "${qargs[@]}" -no-shutdown \
     -machine dump-guest-core=off -serial "file:$console" -monitor none \
     -append "$cmdline" </dev/null 2>"$qerr") &
  qpid=$!
  python3 "$here/qmp.py" "$qmp_sock" watch --console "$console" --pid "$qpid" \
    --hotplug-wait "$hotplug_wait_s" >"$w/qmp.log" 2>&1 &
  wpid=$!
  wrc=0
  wait "$wpid" || wrc=$?
  echo "qmp: watcher exited $wrc" >>"$w/qmp.log"
  # The watcher has quit QEMU, or QEMU has gone. Should the watcher have
  # failed with QEMU still there (paused), do not wait for the time limit.
  for _ in {1..100}; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$qpid" 2>/dev/null; then
    echo "qmp: QEMU still running 10 s after the watcher ended; terminating it" >>"$w/qmp.log"
    kill "$qpid" 2>/dev/null || true
  fi
  wait "$qpid" || rc=$?
  t1=$(date +%s)
  rm -f "$qmp_sock"

  reason=""
  if ((rc == 124 || rc == 137)); then
    reason="timed out after ${timeout_s} s"
  elif ((rc > 128)); then
    # QEMU itself crashed (seen: SIGSEGV in nvme_rw_complete_cb after guest resets).
    reason="qemu was killed by signal $((rc - 128)) (a QEMU crash; backtrace below)"
    crashed=1
  elif ((rc != 0)); then
    reason="qemu exited $rc"
  elif grep -q 'detected translation failure' "$qerr"; then
    # Bad DMA completes with status 0; QEMU's VT-d model is the witness.
    reason="IOMMU translation failure (bad DMA address)"
  elif hp_id=$(grep -a -m1 '^NVP-HOTPLUG: device_del ' "$console" | awk '{print $3}' | tr -cd 'A-Za-z0-9_-') &&
       [[ -n $hp_id ]] &&
       { ((wrc != 0)) || ! grep -q "^qmp: DEVICE_DELETED $hp_id at " "$w/qmp.log"; }; then
    # The guest's step may pass on its own; the unplug must have worked too:
    # QEMU must have reported DEVICE_DELETED for the device (the watcher
    # exits 0 only then, and logs the event).
    reason="hot removal through QMP failed: $(grep '^qmp: ' "$w/qmp.log" | grep -v '^qmp: connected' | tr '\n' ' ')"
  elif ((wrc != 0)); then
    reason="QMP watcher: $(grep '^qmp: ' "$w/qmp.log" | grep -v '^qmp: connected' | tr '\n' ' ')"
  elif ! grep -q '^NVP-RESULT: PASS' "$console"; then
    # No such line at all (a guest that panicked) must not end the rig here.
    reason=$(grep -a '^NVP-RESULT:' "$console" | tail -n1 | sed -E 's/^NVP-RESULT: *FAIL *\((.*)\)$/\1/' || true)
    reason=${reason:-"no NVP-RESULT line"}
  fi

  # The hot-removal lines (uio boot), or everything if the watcher failed.
  if ((wrc != 0)); then
    sed 's/^/  /' "$w/qmp.log"
  elif grep -q '^hotplug: ' "$w/qmp.log"; then
    grep -v -e '^qmp: connected' -e '^qmp: watcher exited 0' "$w/qmp.log" | sed 's/^/  /'
  fi
  if [[ -z $reason ]]; then
    echo "PASS $name ($((t1 - t0)) s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name ($((t1 - t0)) s): $reason"
    failed=$((failed + 1))
    echo "----- $name: guest console (last 150 lines) -----"
    tail -n 150 "$console" 2>/dev/null || true
    echo "----- $name: qemu stderr -----"
    tail -n 50 "$qerr" 2>/dev/null || true
    ((crashed)) && qemu_backtrace "$w"
    echo "----- end $name -----"
  fi
  if ((keep_logs)); then
    log "$name logs: $console $qerr $w/qmp.log"
  else
    rm -rf "$w"
  fi
}

if ((shell)); then
  run_config "${configs[0]}"
  exit 0
fi

# QEMU 7.2's NVMe model crashes now and then (test/vm/README.md, "QEMU's
# end"). A boot that QEMU crashed in counts as failed and runs once more, so
# that one emulator crash does not hide what the rest of the suite finds; a
# second crash fails the rig as well.
for c in "${configs[@]}"; do
  run_config "$c"
  if ((crashed)); then
    echo "rig: QEMU crashed in the $c boot (failure above); running that boot once more"
    failed=$((failed - 1))
    qemu_crashes=$((qemu_crashes + 1))
    run_config "$c"
  fi
done
((qemu_crashes == 0)) || echo "rig: QEMU crashed $qemu_crashes time(s); the backtraces are above"
echo "$passed passed, $failed failed"
((failed == 0))
