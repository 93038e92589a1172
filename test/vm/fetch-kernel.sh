#!/usr/bin/env bash
# Fetch Debian's own amd64 kernel for the guest (never installed on the host)
# and rebuild drivers/vfio with CONFIG_VFIO_NOIOMMU, which the stock package
# lacks. Everything lands in the cache dir; steps whose outputs exist are skipped.
#
# Usage: fetch-kernel.sh [CACHE_DIR]   (default: test/vm/.cache)
# Writes CACHE_DIR/kernel.env with NVP_KVER, NVP_VMLINUZ, NVP_MODROOT, NVP_NOIOMMU_DIR.
# NVP_KERNEL_ABI=6.1.0-NN overrides the ABI picked from linux-image-amd64.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:-$here/.cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

log() { echo "fetch-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

apt_updated=0
apt_update_once() {
  if ((apt_updated == 0)); then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
}

# Resolve the ABI from the metapackage, e.g. linux-image-6.1.0-56-amd64 -> 6.1.0-56.
resolve_abi() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)-amd64$/\1/p' | head -n1
}

abi=${NVP_KERNEL_ABI:-}
if [[ -z $abi ]]; then
  abi=$(resolve_abi)
  if [[ -z $abi ]]; then
    apt_update_once
    abi=$(resolve_abi)
  fi
fi
[[ -n $abi ]] || die "cannot resolve the kernel ABI from linux-image-amd64"
kver=$abi-amd64
img_pkg=linux-image-$kver

candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
pkgver=$(candidate "$img_pkg")
if [[ -z $pkgver || $pkgver == "(none)" ]]; then
  apt_update_once
  pkgver=$(candidate "$img_pkg")
fi
[[ -n $pkgver && $pkgver != "(none)" ]] || die "no candidate for $img_pkg"
# linux-kbuild-6.1 / linux-source-6.1 are named after the upstream major.minor.
series=$(echo "$abi" | cut -d. -f1,2)

debs=$cache/debs
kroot=$cache/kernel/$kver            # dpkg -x of linux-image
hroot=$cache/headers/$kver           # dpkg -x of headers + kbuild
srcdir=$cache/vfio-src/$kver         # drivers/vfio only, from linux-source
noiommu=$cache/noiommu/$kver         # rebuilt .ko files, flat
mkdir -p "$debs"

# apt-get download; the sandbox option avoids the _apt permission warning.
# Stale package lists can name a version the mirror no longer has: then update
# the lists and start over once, so the ABI and version are resolved again.
download() {
  (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "$@") && return 0
  [[ -z ${NVP_FETCH_RETRIED:-} ]] || die "apt-get download $* failed"
  apt-get update -qq
  NVP_FETCH_RETRIED=1 exec "$0" "$cache"
}
deb_of() { find "$debs" -maxdepth 1 -name "$1_*.deb" | head -n1; }

# 1. The kernel image and its modules.
if [[ ! -f $kroot/.done ]]; then
  log "downloading $img_pkg=$pkgver"
  download "$img_pkg=$pkgver"
  rm -rf "$kroot" && mkdir -p "$kroot"
  dpkg -x "$(deb_of "$img_pkg")" "$kroot"
  [[ -f $kroot/boot/vmlinuz-$kver ]] || die "no vmlinuz in $img_pkg"
  rm -f "$(deb_of "$img_pkg")"
  touch "$kroot/.done"
fi

# 2. Headers and kbuild, extracted side by side so their relative links resolve.
hdir=$hroot/usr/src/linux-headers-$kver
if [[ ! -f $hroot/.done ]]; then
  hpkgs=("linux-headers-$kver=$pkgver" "linux-headers-$abi-common=$pkgver" "linux-kbuild-$series=$pkgver")
  log "downloading ${hpkgs[*]}"
  download "${hpkgs[@]}"
  rm -rf "$hroot" && mkdir -p "$hroot"
  for p in "linux-headers-$kver" "linux-headers-$abi-common" "linux-kbuild-$series"; do
    dpkg -x "$(deb_of "$p")" "$hroot"
    rm -f "$(deb_of "$p")"
  done
  # The arch Makefile includes the common one by absolute path; point it here.
  sed -i "s|/usr/src/linux-headers-$abi-common|$hroot/usr/src/linux-headers-$abi-common|" "$hdir/Makefile"
  touch "$hroot/.done"
fi

# 3. drivers/vfio from linux-source, streamed out of the .deb (the tarball is ~140 MB).
if [[ ! -f $srcdir/.done ]]; then
  src_pkg=linux-source-$series
  log "downloading $src_pkg=$pkgver (large)"
  download "$src_pkg=$pkgver"
  rm -rf "$srcdir" && mkdir -p "$srcdir"
  dpkg-deb --fsys-tarfile "$(deb_of "$src_pkg")" |
    tar -xO "./usr/src/$src_pkg.tar.xz" |
    tar -xJ -C "$srcdir" --strip-components=1 "$src_pkg/drivers/vfio"
  [[ -f $srcdir/drivers/vfio/Makefile ]] || die "drivers/vfio missing from $src_pkg"
  rm -f "$(deb_of "$src_pkg")"
  touch "$srcdir/.done"
fi

# 4. Out-of-tree rebuild of drivers/vfio with no-IOMMU mode compiled in.
if [[ ! -f $noiommu/.done ]]; then
  log "building no-IOMMU vfio modules"
  build=$cache/vfio-build/$kver
  rm -rf "$build" && mkdir -p "$build"
  cp -a "$srcdir/drivers/vfio/." "$build/"
  # Re-point the include each time: the cache may have moved since extraction.
  sed -i "s|^include .*/usr/src/linux-headers-$abi-common/Makefile\$|include $hroot/usr/src/linux-headers-$abi-common/Makefile|" "$hdir/Makefile"
  # Config symbols come from the headers' auto.conf (VFIO=m, VFIO_PCI=m, ...);
  # only the NOIOMMU ifdefs need forcing on.
  make -s -C "$hdir" M="$build" \
    ccflags-y=-DCONFIG_VFIO_NOIOMMU=1 -j"$(nproc)" modules >"$build/build.log" 2>&1 ||
    { tail -n 40 "$build/build.log" >&2; die "vfio module build failed"; }
  rm -rf "$noiommu" && mkdir -p "$noiommu"
  find "$build" -name '*.ko' -exec cp {} "$noiommu/" \;
  # Debug info triples their size and they go into every initramfs.
  strip --strip-debug "$noiommu"/*.ko
  modinfo -p "$noiommu/vfio.ko" | grep -q '^enable_unsafe_noiommu_mode' ||
    die "rebuilt vfio.ko lacks enable_unsafe_noiommu_mode"
  touch "$noiommu/.done"
fi

cat >"$cache/kernel.env.tmp" <<ENV
NVP_KVER=$kver
NVP_KPKGVER=$pkgver
NVP_VMLINUZ=$kroot/boot/vmlinuz-$kver
NVP_MODROOT=$kroot
NVP_NOIOMMU_DIR=$noiommu
ENV
mv "$cache/kernel.env.tmp" "$cache/kernel.env"
log "kernel $kver ($pkgver) ready"
