#!/usr/bin/env bash
# Set up, build, and run the main job: nvpoll-perf, 4 KiB random reads.
#  - With NVMe controllers present and root: against each controller that no
#    mounted filesystem uses (the library moves it to vfio-pci or
#    uio_pci_generic and hands it back to nvme afterwards).
#  - Otherwise: against nvpoll's built-in emulated controller (emu:).
# Environment: NVP_PERF_ARGS (extra nvpoll-perf options), NVP_ADDR (force an
# address, e.g. 0000:01:00.0 or emu:ns=1G:4096).
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: tools/quickstart.sh [--help]

Install what nvpoll needs (tools/install-deps.sh, Debian 12, root or sudo),
build it in build/release, and run nvpoll-perf (4 KiB random reads, QD 32,
10 s, latency percentiles):
  - as root, against every NVMe controller found (one with a mounted
    namespace is refused with a message saying so; the others still run);
  - otherwise, or when there is none, against the built-in emulated
    controller (emu:).

Environment:
  NVP_ADDR=ADDR        run against this address only (0000:01:00.0, emu:...)
  NVP_PERF_ARGS="..."  extra nvpoll-perf options (see nvpoll-perf --help)

Options:
  -h, --help           display this help and exit
TXT
}

case ${1:-} in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "quickstart: unknown argument '$1'" >&2
     echo "Try 'tools/quickstart.sh --help' for more information." >&2
     exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/release

"$root/tools/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNVP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"

addrs=()
if [[ -n ${NVP_ADDR:-} ]]; then
  addrs=("$NVP_ADDR")
elif ((EUID == 0)); then
  for dev in /sys/bus/pci/devices/*; do
    [[ $(cat "$dev/class" 2>/dev/null) == 0x010802 ]] || continue
    addrs+=("$(basename "$dev")")
  done
fi

perf=("$build/bin/nvpoll-perf" -q 32 -o 4096 -w randread -t 10 -W 1 -L)
if ((${#addrs[@]})); then
  echo "quickstart: NVMe controllers: ${addrs[*]}"
  for a in "${addrs[@]}"; do
    # A controller with a mounted namespace is refused by the library
    # with a message saying so; the others still run.
    "${perf[@]}" -a "$a" ${NVP_PERF_ARGS:-} || echo "quickstart: $a skipped (see message above)"
  done
else
  echo "quickstart: no NVMe controller usable here (none found, or not root);"
  echo "quickstart: running against the built-in emulated controller (emu:)"
  "${perf[@]}" -a emu: ${NVP_PERF_ARGS:-}
fi
