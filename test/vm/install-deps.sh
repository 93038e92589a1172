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
)

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $st == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if ((EUID != 0)); then SUDO=(sudo); fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
