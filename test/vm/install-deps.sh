#!/usr/bin/env bash
# Install the host packages the VM rig needs (Debian/Ubuntu, root or sudo).
# Idempotent: apt is not touched at all when every package is already present.
set -euo pipefail

pkgs=(
  qemu-system-x86   # the emulator (q35, intel-iommu, nvme devices)
  seabios           # BIOS images for -kernel boots (normally pulled by qemu)
  busybox-static    # the guest userland
  cpio gzip         # initramfs packing
  kmod              # depmod/modinfo for the guest module tree
  dpkg apt          # apt-get download + dpkg -x of the guest kernel packages
  xz-utils          # linux-source ships as .tar.xz
  gcc make bc flex bison libelf-dev libc6-dev  # out-of-tree rebuild of drivers/vfio
  coreutils         # timeout
  fio               # optional guest benchmark (--with-fio)
  gdb               # the backtrace of a crashed QEMU, from its core
)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/apt-packages.sh
. "$here/../../tools/apt-packages.sh"
apt_install_missing "${pkgs[@]}"
