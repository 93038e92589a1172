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

# Installed for this machine's architecture (with arm64 added through
# multiarch, an unqualified name can match two packages), or Architecture: all.
installed() {
  local q=$1
  [[ $q == *:* ]] || q="$q:$(dpkg --print-architecture)"
  dpkg-query -W -f='${Status}\n' "$q" 2>/dev/null | grep -qx 'install ok installed' && return 0
  [[ $1 != *:* ]] &&
    dpkg-query -W -f='${Architecture} ${Status}\n' "$1" 2>/dev/null | grep -qx 'all install ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
  installed "$p" || missing+=("$p")
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
