#!/usr/bin/env bash
# Install what building and testing nvpoll needs on Debian 12 (root or sudo).
# Idempotent: apt is not touched when every package is already present.
#   tools/install-deps.sh          build + unit/emu test dependencies
#   tools/install-deps.sh --vm     also the QEMU guest rig's (test/vm)
#   tools/install-deps.sh --arm64  also the arm64 cross build's: Debian's
#                                  cross compiler, the arm64 -dev packages
#                                  (multiarch) and qemu-user to run the tests
#                                  (cmake/toolchains/aarch64-linux-gnu.cmake)
# Options combine.
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

vm=0 arm64=0
for a in "$@"; do
  case $a in
    --vm) vm=1 ;;
    --arm64) arm64=1 ;;
    *) echo "usage: $0 [--vm] [--arm64]" >&2; exit 2 ;;
  esac
done

# shellcheck source=tools/apt-packages.sh
. "$here/apt-packages.sh"
apt_install_missing "${pkgs[@]}"
if [[ ${NVP_NO_FIO_SRC:-0} != 1 ]]; then
  # Not fatal: without it the build skips nvpoll-fio.so and says so
  # (test/run-tests.sh then reports the engine missing).
  "$here/fio/fetch-fio-src.sh" --quiet ||
    echo "install-deps: warning: could not fetch fio's source; nvpoll-fio.so will not be built" >&2
fi

if ((arm64)); then
  # The cross build (test/run-tests.sh's arm64 step): Debian's cross
  # compiler, and the arm64 builds of the same -dev packages through
  # multiarch; qemu-user runs the arm64 test binaries.
  cross=(
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # the compiler and libc
    qemu-user                                    # qemu-aarch64
    libpciaccess-dev:arm64 libnuma-dev:arm64 libhugetlbfs-dev:arm64 libcmocka-dev:arm64
    libmount-dev:arm64                           # nvpoll-setup
  )
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "install-deps: adding the arm64 architecture (dpkg multiarch)" >&2
    "${NVP_APT_SUDO[@]}" dpkg --add-architecture arm64
    apt_lists_stale
  fi
  apt_install_missing "${cross[@]}"
fi

if ((vm)); then
  "$here/../test/vm/install-deps.sh"
fi
