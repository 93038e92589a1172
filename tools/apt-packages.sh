# shellcheck shell=bash
# Sourced by tools/install-deps.sh and test/vm/install-deps.sh: install the
# Debian packages that are missing, and touch apt only when one is.
#
#   apt_install_missing PKG...   PKG may be qualified (libnuma-dev:arm64)

NVP_APT_SUDO=()
((EUID == 0)) || NVP_APT_SUDO=(sudo)
nvp_apt_updated=0

# Installed for this machine's architecture (with arm64 added through
# multiarch, an unqualified name can match two packages), or Architecture: all.
apt_installed() {
  local q=$1
  [[ $q == *:* ]] || q="$q:$(dpkg --print-architecture)"
  dpkg-query -W -f='${Status}\n' "$q" 2>/dev/null | grep -qx 'install ok installed' && return 0
  [[ $1 != *:* ]] &&
    dpkg-query -W -f='${Architecture} ${Status}\n' "$1" 2>/dev/null | grep -qx 'all install ok installed'
}

# After dpkg --add-architecture the package lists must be read again.
apt_lists_stale() { nvp_apt_updated=0; }

apt_install_missing() {
  local p missing=()

  for p in "$@"; do
    apt_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  ((nvp_apt_updated)) || "${NVP_APT_SUDO[@]}" apt-get update -qq
  nvp_apt_updated=1
  "${NVP_APT_SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
