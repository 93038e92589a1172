#!/usr/bin/env bash
# Install what building and testing nvpoll needs on Debian 12 (root or sudo).
# Idempotent: apt is not touched when every package is already present.
#   tools/install-deps.sh          build + unit/emu test dependencies
#   tools/install-deps.sh --vm     also the QEMU guest rig's (test/vm)
# Then it fetches the source of the installed fio (tools/fio/fetch-fio-src.sh:
# apt-get source with a private deb-src list, no change to apt's
# configuration) so the build can compile the fio engine, nvpoll-fio.so.
# NVP_NO_FIO_SRC=1 skips that.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

pkgs=(
  gcc make cmake pkg-config     # the build
  libpciaccess-dev              # PCI discovery
  libnuma-dev                   # NUMA placement of DMA memory
  libhugetlbfs-dev              # hugetlbfs mounts and page sizes
  libmount-dev                  # the tools read mount tables (nvpoll-setup)
  libcmocka-dev                 # unit tests
  python3                       # docs generator, JSON checks in tests
  valgrind                      # memory checks in the test run
  binutils                      # readelf/nm for the exported-symbol test
  help2man                      # man pages from --help
  clang libclang-rt-14-dev      # libFuzzer targets (test/fuzz/run.sh)
  fio                           # the fio engine (tools/fio) and its tests
  dpkg-dev                      # dpkg-source, for apt-get source of fio
)

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $st == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=()
  ((EUID == 0)) || SUDO=(sudo)
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ${NVP_NO_FIO_SRC:-0} != 1 ]]; then
  # Not fatal: without it the build skips nvpoll-fio.so and says so
  # (test/run-tests.sh then reports the engine missing).
  "$here/fio/fetch-fio-src.sh" --quiet ||
    echo "install-deps: warning: could not fetch fio's source; nvpoll-fio.so will not be built" >&2
fi
if [[ ${1:-} == --vm ]]; then
  "$here/../test/vm/install-deps.sh"
fi
