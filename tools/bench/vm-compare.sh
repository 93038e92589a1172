#!/usr/bin/env bash
# Side-by-side benchmark on QEMU's NVMe controller: nvpoll-perf against fio
# (io_uring, direct=1, with and without hipri) on the kernel driver, and fio
# with the nvpoll engine (when the build has lib/nvpoll-fio.so), in one
# guest boot per IOMMU mode, on a null-co back end with 4096-byte blocks.
#
# Usage: tools/bench/vm-compare.sh [--build-dir DIR] [--modes "type1 noiommu"]
#                                  [--seconds N] [--rounds N] [--keep-logs]
#   --build-dir DIR  CMake build dir with bin/nvpoll-perf (default <repo>/build)
#   --modes LIST     modes to boot: type1, noiommu, uio (default "type1 noiommu";
#                    with --tcp, uio)
#   --seconds N      length of each measurement (default 10)
#   --rounds N       interleaved rounds of the compared rows, averaged (default 2)
#   --keep-logs      keep the guest consoles in test/vm/.cache/bench/
#   --guest-script F run F in the guest instead of guest-bench.sh (same two
#                    controllers; print NVP-BENCH lines for the table, and
#                    "NVP-RESULT: PASS" at the end)
#   --tcp            NVMe/TCP on loopback instead (guest-tcp.sh, uio boot):
#                    nvpoll-perf over TCP against fio on the kernel's nvme-tcp
#                    initiator, both on Linux's nvmet-tcp target in the guest
# Reuses the VM rig's host packages, cached guest kernel and initramfs
# builder (test/vm); adds guest-bench.sh to the image as a second cpio archive.
# Prints a table (IOPS, mean and minimum latency, nvpoll's ratio over each fio row).
# Environment: NVP_VM_CACHE, NVP_VM_TIMEOUT (per boot, default 1500 s).
# shellcheck disable=SC2054  # QEMU option values contain commas
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
rig=$repo/test/vm
cache=${NVP_VM_CACHE:-$rig/.cache}
timeout_s=${NVP_VM_TIMEOUT:-1500}

build_dir=$repo/build
modes="type1 noiommu"
secs=10
rounds=2
keep_logs=0
guest_script=$here/guest-bench.sh
tcp=0
while (($#)); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --keep-logs) keep_logs=1; shift ;;
    --guest-script) guest_script=$(realpath "$2"); shift 2 ;;
    --tcp) guest_script=$here/guest-tcp.sh; tcp=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vm-compare: unknown argument: $1" >&2; exit 2 ;;
  esac
done
# The TCP benchmark does not use the PCI controllers: one boot is enough.
((tcp)) && [[ $modes == "type1 noiommu" ]] && modes=uio
[[ -x $build_dir/bin/nvpoll-perf ]] ||
  { echo "vm-compare: $build_dir/bin/nvpoll-perf missing: build first" >&2; exit 2; }

log() { echo "vm-compare: $*" >&2; }

"$rig/install-deps.sh"
"$rig/fetch-kernel.sh" "$cache"
# shellcheck source=/dev/null
. "$cache/kernel.env"

work=$cache/bench
mkdir -p "$work"
NVP_CACHE=$cache "$rig/mkinitramfs.sh" --with-fio "$build_dir" "$work/base.cpio.gz"
# The kernel unpacks concatenated archives in order: ours adds one file.
extra=$(mktemp -d "${TMPDIR:-/tmp}/nvp-bench.XXXXXX")
trap 'rm -rf "$extra"' EXIT
mkdir -p "$extra/guest" "$extra/bin"
cp "$guest_script" "$extra/guest/nvpoll-bench.sh"
cp "$here/guest-common.sh" "$extra/guest/guest-common.sh"
chmod 755 "$extra/guest/nvpoll-bench.sh"
# SPDK's and libvfn's perf tools (static binaries) run in the same boot when
# they are there; SPDK's env init also reads OpenSSL's config.
peers_dir=${NVP_PEERS_DIR:-$repo/../shared/peers}
for p in spdk_nvme_perf libvfn-perf; do
  if [[ -x $peers_dir/$p && ! -e $build_dir/bin/$p ]]; then
    cp "$peers_dir/$p" "$extra/bin/$p"
    log "peer: $p from $peers_dir"
  fi
done
if [[ -e $extra/bin/spdk_nvme_perf && -f /etc/ssl/openssl.cnf ]]; then
  cp /etc/ssl/openssl.cnf "$extra/bin/openssl.cnf"
fi
(cd "$extra" && find guest bin | cpio -o -H newc --quiet | gzip -1) >"$work/extra.cpio.gz"
cat "$work/base.cpio.gz" "$work/extra.cpio.gz" >"$work/initramfs.cpio.gz"

results=$work/results.txt
: >"$results"
# guest-tcp.sh's CPU (NVP-CPU) and poll (NVP-POLLS) lines, shown after the table
extras=$work/extras.txt
: >"$extras"
for mode in $modes; do
  case $mode in
    type1) iommu=on ;;
    noiommu|uio) iommu=off ;;
    *) log "unknown mode $mode (type1, noiommu, uio)"; exit 2 ;;
  esac
  console=$work/console-$mode.log
  rm -f "$work/verify.img"
  # Written, not sparse: reads with and without --verify both return real
  # data (QEMU reads holes faster, which made --verify look costlier).
  head -c 256M /dev/zero >"$work/verify.img"
  cmdline="console=ttyS0 panic=-1 quiet nvp.mode=$mode nvp.script=nvpoll-bench.sh"
  cmdline+=" nvp.timeout=$((timeout_s - 60)) nvp.bench_seconds=$secs nvp.bench_rounds=$rounds"
  qargs=(
    -machine q35 -accel tcg,thread=multi -cpu max -smp 2 -m 2G
    -nodefaults -display none -no-reboot
    -kernel "$NVP_VMLINUZ" -initrd "$work/initramfs.cpio.gz"
    -drive driver=null-co,read-zeroes=on,size=1G,if=none,id=null0
    -device nvme,id=nvme0,serial=NVPBENCH0,bus=pcie.0,addr=0x4
    -device nvme-ns,bus=nvme0,drive=null0,nsid=1,logical_block_size=4096,physical_block_size=4096
    -drive "file=$work/verify.img,if=none,id=file0,format=raw"
    -device nvme,id=nvme1,serial=NVPBENCH1,bus=pcie.0,addr=0x5
    -device nvme-ns,bus=nvme1,drive=file0,nsid=1,logical_block_size=4096,physical_block_size=4096
  )
  if [[ $iommu == on ]]; then
    qargs+=(-device intel-iommu,intremap=on)
    cmdline+=" intel_iommu=on"
  fi
  # extra QEMU arguments, as in the rig (e.g. -trace to count doorbell writes)
  # shellcheck disable=SC2206  # split on purpose
  [[ -n ${NVP_VM_QEMU_ARGS:-} ]] && qargs+=($NVP_VM_QEMU_ARGS)
  log "booting $mode (about $(((secs + 4) * (2 + 13 * rounds) + 60)) s)"
  rc=0
  timeout -k 10 "$timeout_s" qemu-system-x86_64 "${qargs[@]}" \
    -serial "file:$console" -monitor none -append "$cmdline" \
    </dev/null 2>"$work/qemu-$mode.stderr" || rc=$?
  grep -a '^NVP-BENCH ' "$console" | tr -d '\r' >>"$results" || true
  grep -a -E '^NVP-(CPU|POLLS) ' "$console" | tr -d '\r' >>"$extras" || true
  if ((rc != 0)) || ! grep -q '^NVP-RESULT: PASS' "$console"; then
    log "$mode: boot failed (qemu rc $rc); last console lines:"
    tail -n 60 "$console" >&2
  fi
  if grep -q 'detected translation failure' "$work/qemu-$mode.stderr"; then
    log "$mode: IOMMU translation failure (bad DMA address)"
  fi
done
((keep_logs)) || rm -f "$work"/console-*.log "$work"/qemu-*.stderr "$work/verify.img"

# Table: per mode, the median over rounds of each row (a round the host
# stalled moves a mean, not a median), nvpoll's ratio at the same queue
# depth over each other row (of the medians, and the lowest and highest of
# the per-round ratios: round i of a row against round i of nvpoll), and
# the spread of the rounds.
awk -v secs="$secs" -v rounds="$rounds" '
  {
    k = $2 " " $3
    if (!(k in n)) { if (!($2 in seen)) { seen[$2] = 1; order[m++] = $2 } }
    n[k]++; iops[k, n[k]] = $4; lat[k, n[k]] = $5
    if (!(k in mn) || $6 < mn[k]) mn[k] = $6
  }
  # median of a[k, 1..cnt]
  function median(a, k, cnt,   i, j, t, v) {
    for (i = 1; i <= cnt; i++) v[i] = a[k, i] + 0
    for (i = 2; i <= cnt; i++)
      for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
  }
  function row(mode, name, label, ref,   k, rk, r, pr, spread, i, x, lo, hi, cnt, lo_i, hi_i) {
    k = mode " " name
    if (!(k in n)) return
    r = ""; pr = ""
    rk = mode " " ref
    if (ref != "" && (rk in n)) {
      r = sprintf("%.2fx", median(iops, rk, n[rk]) / median(iops, k, n[k]))
      cnt = n[k] < n[rk] ? n[k] : n[rk]
      for (i = 1; i <= cnt && n[k] > 1; i++) {
        x = iops[rk, i] / iops[k, i]
        if (i == 1 || x < lo) lo = x
        if (i == 1 || x > hi) hi = x
      }
      if (n[k] > 1) pr = sprintf("%.2f-%.2fx", lo, hi)
    }
    for (i = 1; i <= n[k]; i++) {
      if (i == 1 || iops[k, i] < lo_i) lo_i = iops[k, i]
      if (i == 1 || iops[k, i] > hi_i) hi_i = iops[k, i]
    }
    spread = n[k] > 1 ? sprintf("%.0f-%.0f", lo_i, hi_i) : ""
    printf "| %-8s | %-38s | %10.0f | %9.2f | %8.2f | %-8s | %-13s | %-15s |\n", mode, label,
      median(iops, k, n[k]), median(lat, k, n[k]), mn[k], r, pr, spread
  }
  END {
    printf "4 KiB randread, 4096-byte LBAs, %s s per run, median of %s interleaved rounds\n\n", secs, rounds
    printf "| %-8s | %-38s | %10s | %9s | %8s | %-8s | %-13s | %-15s |\n", "mode", "run", "IOPS", "mean us", "min us", "nvpoll/x", "per round", "IOPS per round"
    printf "|----------|----------------------------------------|------------|-----------|----------|----------|---------------|-----------------|\n"
    for (i = 0; i < m; i++) {
      md = order[i]
      row(md, "nvpoll-qd1", "nvpoll-perf QD1", "")
      row(md, "nvpoll-base-qd1", "nvpoll-perf QD1, baseline build (A/B)", "nvpoll-qd1")
      row(md, "fio-hipri-qd1", "fio io_uring hipri QD1", "nvpoll-qd1")
      row(md, "fio-qd1", "fio io_uring QD1 (before the rounds)", "nvpoll-qd1")
      row(md, "fio-nvpoll-qd1", "fio + nvpoll-fio.so QD1", "nvpoll-qd1")
      row(md, "fio-null-qd1", "fio null engine QD1 (no I/O)", "nvpoll-qd1")
      row(md, "spdk-qd1", "spdk_nvme_perf QD1", "nvpoll-qd1")
      row(md, "libvfn-qd1", "libvfn-perf QD1", "nvpoll-qd1")
      row(md, "nvpoll-qd32", "nvpoll-perf QD32", "")
      row(md, "nvpoll-base-qd32", "nvpoll-perf QD32, baseline build (A/B)", "nvpoll-qd32")
      row(md, "fio-hipri-qd32", "fio io_uring hipri QD32", "nvpoll-qd32")
      row(md, "fio-qd32", "fio io_uring QD32 (before the rounds)", "nvpoll-qd32")
      row(md, "fio-nvpoll-qd32", "fio + nvpoll-fio.so QD32", "nvpoll-qd32")
      row(md, "fio-nvpoll-batch-qd32", "fio + nvpoll-fio.so QD32, batch 16", "nvpoll-qd32")
      row(md, "fio-null-qd32", "fio null engine QD32 (no I/O)", "nvpoll-qd32")
      row(md, "spdk-qd32", "spdk_nvme_perf QD32", "nvpoll-qd32")
      row(md, "libvfn-qd32", "libvfn-perf QD32", "nvpoll-qd32")
      row(md, "nvpoll-cmb-qd1", "nvpoll-perf QD1, SQs in the CMB", "nvpoll-qd1")
      row(md, "nvpoll-cmb-qd32", "nvpoll-perf QD32, SQs in the CMB", "nvpoll-qd32")
      row(md, "nvpoll-nodbbuf-qd1", "nvpoll-perf QD1, no shadow doorbell", "")
      row(md, "nvpoll-nodbbuf-qd32", "nvpoll-perf QD32, no shadow doorbell", "")
      row(md, "nvpoll-file-qd32", "nvpoll-perf QD32, raw file", "")
      row(md, "nvpoll-file-verify-qd32", "nvpoll-perf QD32, raw file, --verify", "nvpoll-file-qd32")
      row(md, "tcp-nvpoll-qd1", "TCP: nvpoll-perf QD1", "")
      row(md, "tcp-fio-hipri-qd1", "TCP: fio io_uring hipri, nvme-tcp QD1", "tcp-nvpoll-qd1")
      row(md, "tcp-fio-qd1", "TCP: fio io_uring, nvme-tcp QD1", "tcp-nvpoll-qd1")
      row(md, "tcp-nvpoll-qd32", "TCP: nvpoll-perf QD32", "")
      row(md, "tcp-fio-hipri-qd32", "TCP: fio io_uring hipri, nvme-tcp QD32", "tcp-nvpoll-qd32")
      row(md, "tcp-fio-qd32", "TCP: fio io_uring, nvme-tcp QD32", "tcp-nvpoll-qd32")
      row(md, "tcp-nvpoll-rps-qd1", "TCP, lo RPS on CPU 1: nvpoll-perf QD1", "")
      row(md, "tcp-fio-hipri-rps-qd1", "TCP, lo RPS on CPU 1: fio hipri QD1", "tcp-nvpoll-rps-qd1")
      row(md, "tcp-nvpoll-rps-qd32", "TCP, lo RPS on CPU 1: nvpoll-perf QD32", "")
      row(md, "tcp-fio-hipri-rps-qd32", "TCP, lo RPS on CPU 1: fio hipri QD32", "tcp-nvpoll-rps-qd32")
    }
  }' "$results"
if [[ -s $extras ]]; then
  # per run: the whole guest's CPU (both vCPUs, the target's work included)
  # and, for nvpoll-perf, polls (each at least one recv()) and SQ doorbell
  # updates (each a sendmsg()) per I/O; medians over rounds
  echo
  awk '
    function median(a, k, cnt,   i, j, t, v) {
      for (i = 1; i <= cnt; i++) v[i] = a[k, i] + 0
      for (i = 2; i <= cnt; i++)
        for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
    }
    $1 == "NVP-CPU" {
      k = $2 " " $3
      if (!(k in n)) order[m++] = k
      n[k]++; for (f = 4; f <= 8; f++) c[f, k, n[k]] = $f
    }
    $1 == "NVP-POLLS" { k = $2 " " $3; np[k]++; polls[k, np[k]] = $4; sends[k, np[k]] = $5 }
    END {
      printf "Guest CPU per run (median of rounds; %% of both vCPUs)\n\n"
      printf "| %-8s | %-22s | %6s | %6s | %6s | %8s | %10s | %11s | %11s |\n", "mode", "run", "busy %", "user %", "sys %", "softirq %", "CPU us/IO", "polls/IO", "sends/IO"
      printf "|----------|------------------------|--------|--------|--------|-----------|------------|-------------|-------------|\n"
      for (i = 0; i < m; i++) {
        k = order[i]; split(k, a, " ")
        for (f = 4; f <= 8; f++) { for (r = 1; r <= n[k]; r++) tmp[k, r] = c[f, k, r]; med[f] = median(tmp, k, n[k]) }
        p = ""; sd = ""
        if (k in np) { p = sprintf("%.1f", median(polls, k, np[k])); sd = sprintf("%.3f", median(sends, k, np[k])) }
        printf "| %-8s | %-22s | %6.1f | %6.1f | %6.1f | %9.1f | %10.2f | %11s | %11s |\n", a[1], a[2], med[4], med[5], med[6], med[7], med[8], p, sd
      }
    }' "$extras"
fi
