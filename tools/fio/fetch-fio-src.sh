#!/usr/bin/env bash
# Fetch the source of the installed fio, so the nvpoll fio engine
# (tools/fio) can be compiled against the headers of exactly that version.
#
# Debian ships no fio headers, and fio refuses an external engine built
# against another version's (FIO_IOOPS_VERSION). This script:
#   1. reads the installed fio's source package and version (dpkg-query);
#   2. finds the archive apt installed it from (apt-cache policy) and writes a
#      deb-src line for it into a private apt directory;
#   3. runs `apt-get update` and `apt-get source` with that directory only
#      (-o Dir::Etc::SourceList/SourceParts, Dir::State::Lists, Dir::Cache):
#      the machine's apt configuration and lists are not touched;
#   4. runs fio's ./configure in the unpacked tree for config-host.h, with
#      the options that change the layout of fio's structures set as
#      Debian's build had them (see below);
#   5. records the tree in CACHE/fio-src.env (NVP_FIO_SRC=..., NVP_FIO_VERSION=...).
#
# Usage: tools/fio/fetch-fio-src.sh [--cache DIR] [--quiet]
#   --cache DIR  where to keep it (default: <repo>/.cache/fio, git-ignored;
#                environment NVP_FIO_CACHE). CMake looks there by default.
# Exit 0 when the tree is ready (or already was), 1 on failure, 3 when fio is
# not installed (nothing to do). Needs dpkg-dev (dpkg-source) and a C compiler.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NVP_FIO_CACHE:-$repo/.cache/fio}
quiet=0
while (($#)); do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-fio-src: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { ((quiet)) || echo "fetch-fio-src: $*" >&2; }
die() { echo "fetch-fio-src: error: $*" >&2; exit 1; }

st=$(dpkg-query -W -f='${Status}' fio 2>/dev/null || true)
[[ $st == "install ok installed" ]] || { log "fio is not installed; nothing to fetch"; exit 3; }
src_pkg=$(dpkg-query -W -f='${source:Package}' fio)
src_ver=$(dpkg-query -W -f='${source:Version}' fio)
# Upstream version: no epoch, no Debian revision ("3.33-3" -> "3.33").
up_ver=${src_ver#*:}
up_ver=${up_ver%-*}

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
tree=$cache/$src_pkg-$src_ver
envf=$cache/fio-src.env
if [[ -f $tree/config-host.h && -f $tree/.nvp-configured && -f $envf ]] &&
   grep -qx "NVP_FIO_SRC=$tree" "$envf"; then
  log "fio $src_ver source ready in $tree"
  exit 0
fi

# The archive the installed version came from: the line under "*** VERSION"
# in apt-cache policy, e.g. "500 http://deb.debian.org/debian bookworm/main
# amd64 Packages". Its deb-src twin holds the source package.
repo_line=$(apt-cache policy fio | awk -v v="$src_ver" '
  $1 == "***" && $2 == v { inv = 1; next }
  inv && $2 ~ /^[a-z+]+:\/\// { print $2, $3; exit }
  inv && $1 == "***" { exit }')
if [[ -z $repo_line ]]; then
  # Installed from a .deb, or the version left the archive: try the suites
  # of every Debian archive apt knows.
  repo_line=$(apt-cache policy | awk '$2 ~ /^[a-z+]+:\/\// && $4 == "Packages" { print $2, $3; exit }')
fi
[[ -n $repo_line ]] || die "cannot tell which archive fio $src_ver came from (apt-cache policy fio)"
uri=${repo_line%% *}
suite_comp=${repo_line#* }   # bookworm/main
suite=${suite_comp%/*}
comp=${suite_comp##*/}

apt_dir=$cache/apt
rm -rf "$apt_dir"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
keyring=
for k in /usr/share/keyrings/debian-archive-keyring.gpg; do
  [[ -r $k ]] && keyring=$k
done
opts=${keyring:+ [signed-by=$keyring]}
echo "deb-src$opts $uri $suite $comp" >"$apt_dir/sources.list.d/nvp-fio-src.list"
log "deb-src$opts $uri $suite $comp (private list in $apt_dir)"

apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list.d/nvp-fio-src.list"
  -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  # Downloads run as the invoking user: no _apt sandbox to grant access to.
  -o "APT::Sandbox::User=$(id -un)"
  -o "Debug::NoLocking=1"
)
log "apt-get update (private lists)"
apt-get "${apt_opts[@]}" update -qq >"$apt_dir/update.log" 2>&1 ||
  { cat "$apt_dir/update.log" >&2; die "apt-get update with the private deb-src list failed"; }

work=$cache/work
rm -rf "$work"
mkdir -p "$work"
log "apt-get source $src_pkg=$src_ver"
(cd "$work" && apt-get "${apt_opts[@]}" source -qq "$src_pkg=$src_ver") >"$cache/source.log" 2>&1 ||
  { cat "$cache/source.log" >&2; die "apt-get source $src_pkg=$src_ver failed (is dpkg-dev installed?)"; }
unpacked=$work/$src_pkg-$up_ver
[[ -f $unpacked/ioengines.h ]] || die "apt-get source gave no fio tree at $unpacked"

# config-host.h decides which members some of fio's structures have, so it
# must agree with the one Debian built the fio binary with. Debian's rules
# run ./configure --disable-native with more optional libraries installed
# (libaio, rdma, ...); in fio 3.33 those only add members to a union at the
# end of struct io_u whose size the POSIX AIO member sets either way, and
# the engine never allocates an io_u. The rest comes from the compiler and
# the OS, the same here. When loaded, the engine checks fio's version
# string and that fio's struct thread_data points at its ops where the
# headers say (tools/fio/nvpoll-fio.c, nvp_fio_usable() and nvp_fio_init()).
log "./configure"
(cd "$unpacked" && ./configure --disable-native >"$cache/configure.log" 2>&1) ||
  { cat "$cache/configure.log" >&2; die "fio's ./configure failed"; }
[[ -f $unpacked/config-host.h ]] || die "./configure wrote no config-host.h"
touch "$unpacked/.nvp-configured"

rm -rf "$tree"
mv "$unpacked" "$tree"
rm -rf "$work"
{
  echo "NVP_FIO_SRC=$tree"
  echo "NVP_FIO_VERSION=$up_ver"
  echo "NVP_FIO_DEB_VERSION=$src_ver"
} >"$envf"
log "fio $src_ver source ready in $tree"
