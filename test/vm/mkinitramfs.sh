#!/usr/bin/env bash
# Build the guest initramfs: busybox-static, the kernel modules the rig needs,
# the project's binaries with their shared-library closure, and test/vm/guest/.
#
# Usage: mkinitramfs.sh [--with-fio] BUILD_DIR OUT
#   BUILD_DIR  the CMake build dir; every executable in BUILD_DIR/bin goes to /bin
#              and BUILD_DIR/lib/*.so* to /lib/nvpoll (a missing dir is fine).
#   OUT        the gzip'd newc cpio to write.
#   --with-fio fio and its libraries into /usr/bin; also done without the
#              option when BUILD_DIR/lib/nvpoll-fio.so exists (the fio engine,
#              which the guest's fio_nvpoll step runs) and fio is installed.
# Needs CACHE/kernel.env from fetch-kernel.sh (NVP_CACHE, default test/vm/.cache).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${NVP_CACHE:-$here/.cache}

with_fio=0
args=()
for a in "$@"; do
  case $a in
    --with-fio) with_fio=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
((${#args[@]} == 2)) || { echo "usage: $0 [--with-fio] BUILD_DIR OUT" >&2; exit 2; }
build_dir=${args[0]}
out=${args[1]}

log() { echo "mkinitramfs: $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f $cache/kernel.env ]] || die "$cache/kernel.env missing: run fetch-kernel.sh"
# shellcheck source=/dev/null
. "$cache/kernel.env"

stage=$(mktemp -d "${TMPDIR:-/tmp}/nvp-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,tmp,run,etc,guest,lib/nvpoll}

# busybox and one symlink per applet, at the paths busybox itself reports.
cp /bin/busybox "$stage/bin/busybox"
while read -r applet; do
  [[ -e $stage/$applet ]] || ln -s /bin/busybox "$stage/$applet"
done < <(/bin/busybox --list-full)

# Copy a file to the same absolute path inside the image (dereferencing links).
put() {
  local src=$1 dst=$stage$1
  [[ -e $dst ]] && return 0
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
}

# Copy the shared-library closure of an ELF file, as ldd resolves it on the host.
put_libs() {
  local f=$1 line lib
  # Static binaries and scripts make ldd fail; they need nothing.
  while read -r line; do
    case $line in
      *"=> not found"*) die "$f: unresolved library: $line" ;;
      *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
      /*) lib=${line%% (*} ;;
      *) continue ;;
    esac
    put "$lib"
  done < <(LD_LIBRARY_PATH="$build_dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$f" 2>/dev/null || true)
}

# --- kernel modules -----------------------------------------------------------
moddir=$NVP_MODROOT/lib/modules/$NVP_KVER
dst_moddir=$stage/lib/modules/$NVP_KVER
mkdir -p "$dst_moddir"
declare -A seen=()
# Copy a module and, recursively, what it depends on, keeping the tree layout
# so depmod -b finds them.
put_module() {
  local name=$1 f rel dep
  [[ -n ${seen[$name]:-} ]] && return 0
  seen[$name]=1
  f=$(find "$moddir/kernel" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" |
      head -n1)
  if [[ -z $f ]]; then
    # Dashes and underscores are interchangeable in module names.
    f=$(find "$moddir/kernel" -name "${name//_/-}.ko*" -o -name "${name//-/_}.ko*" | head -n1)
  fi
  [[ -n $f ]] || { log "module $name not found (built in?)"; return 0; }
  rel=${f#"$moddir/"}
  mkdir -p "$dst_moddir/$(dirname "$rel")"
  cp "$f" "$dst_moddir/$rel"
  for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
    put_module "$dep"
  done
}
# nvmet, nvmet-tcp, null_blk, nvme-tcp: the kernel's NVMe/TCP target and
# initiator, for the tcp_target step (the peer of issue 14's TCP transport);
# crc32c for their digests (nvmet-tcp allocates it when a host asks for them).
for m in nvme nvme-core vfio vfio_iommu_type1 vfio-pci vfio-pci-core irqbypass \
         vfio_virqfd uio uio_pci_generic nvmet nvmet-tcp null_blk nvme-tcp nvme-fabrics \
         crc32c_generic crc32c-intel; do
  put_module "$m"
done
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$dst_moddir/" 2>/dev/null || true
depmod -b "$stage" "$NVP_KVER"
# The no-IOMMU rebuild lives outside the depmod tree so modprobe never mixes
# the two vfio sets; /init insmods it by path.
mkdir -p "$stage/lib/noiommu"
cp "$NVP_NOIOMMU_DIR"/*.ko "$stage/lib/noiommu/"

# --- project binaries -------------------------------------------------------
nbin=0
if [[ -d $build_dir/lib ]]; then
  find "$build_dir/lib" -maxdepth 1 -name '*.so*' \( -type f -o -type l \) \
    -exec cp -a {} "$stage/lib/nvpoll/" \;
fi
if [[ -d $build_dir/bin ]]; then
  while IFS= read -r -d '' f; do
    cp -L "$f" "$stage/bin/$(basename "$f")"
    put_libs "$f"
    nbin=$((nbin + 1))
  done < <(find "$build_dir/bin" -maxdepth 1 \( -type f -o -type l \) -perm -u+x -print0)
else
  log "warning: $build_dir/bin does not exist; the guest suite will SKIP its programs"
fi
# Libraries in BUILD_DIR/lib may themselves need host libraries.
for f in "$stage"/lib/nvpoll/*.so*; do
  [[ -e $f ]] && put_libs "$f"
done

if ((!with_fio)) && [[ -f $build_dir/lib/nvpoll-fio.so ]] && command -v fio >/dev/null; then
  with_fio=1
fi
if ((with_fio)); then
  fio=$(command -v fio) || die "--with-fio: fio not installed"
  cp -L "$fio" "$stage/usr/bin/fio"
  put_libs "$fio"
fi

# --- guest scripts ----------------------------------------------------------
cp "$here/guest/init" "$stage/init"
chmod 755 "$stage/init"
find "$here/guest" -maxdepth 1 -type f ! -name init -exec cp {} "$stage/guest/" \;
chmod 755 "$stage"/guest/*

echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
  cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
log "$out: $(du -h "$out" | cut -f1), $nbin program(s) from $build_dir/bin$( ((with_fio)) && echo ", fio")"
