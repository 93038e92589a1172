#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install nvpoll from a build tree into a temporary prefix, check the
# installed layout, then build an outside program against it three ways
# (CMake package shared and static, pkg-config shared and static) and run
# each against the emulated controller.
#
#   test/install/install-test.sh BUILD_DIR SOURCE_DIR [CC]
#
# Run by ctest as install/package; KEEP=1 keeps the temporary directory.
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=${3:-cc}
# A small namespace keeps the emulated controller's memory use low.
address="emu:ns=16M:512"

work=$(mktemp -d "${TMPDIR:-/tmp}/nvpoll-install.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "keeping $work"
else
	trap 'rm -rf "$work"' EXIT
fi
prefix=$work/prefix
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

step() {
	echo
	echo "== $*"
}

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 || {
	cat "$work/install.log" >&2
	echo "FAIL: cmake --install failed" >&2
	exit 1
}

# Debian's GNUInstallDirs uses lib/<multiarch> only for /usr; a temporary
# prefix gets plain lib, but look it up rather than assume.
libdir=$(dirname "$(find "$prefix" -name 'libnvpoll.so.0' | head -n1)")
[ -n "$libdir" ] && [ "$libdir" != . ] || { echo "FAIL: no libnvpoll.so.0 installed" >&2; exit 1; }
echo "libdir: $libdir"

step "installed layout"
for f in "$libdir/libnvpoll.so.0.1.0" "$libdir/libnvpoll.a" \
	 "$libdir/pkgconfig/nvpoll.pc" \
	 "$libdir/cmake/nvpoll/nvpollConfig.cmake" \
	 "$libdir/cmake/nvpoll/nvpollConfigVersion.cmake" \
	 "$libdir/cmake/nvpoll/nvpollTargets.cmake" \
	 "$prefix/share/man/man7/nvpoll.7" \
	 "$prefix/share/doc/nvpoll/README.md" "$prefix/share/doc/nvpoll/api/nvpoll.md"; do
	[ -f "$f" ] && echo "ok   ${f#"$prefix"/}" || fail "missing ${f#"$prefix"/}"
done
for link in libnvpoll.so.0:libnvpoll.so.0.1.0 libnvpoll.so:libnvpoll.so.0; do
	name=${link%%:*} target=${link#*:}
	if [ "$(readlink "$libdir/$name")" = "$target" ]; then
		echo "ok   $name -> $target"
	else
		fail "$name should be a symlink to $target"
	fi
done
for h in "$src"/include/nvpoll/*.h; do
	cmp -s "$h" "$prefix/include/nvpoll/$(basename "$h")" &&
		echo "ok   include/nvpoll/$(basename "$h")" ||
		fail "include/nvpoll/$(basename "$h") missing or differs from the source"
done
# Every installed command has a man page.
for tool in "$prefix"/bin/*; do
	[ -e "$tool" ] || { fail "no tools installed in bin/"; break; }
	page=$prefix/share/man/man1/$(basename "$tool").1
	[ -s "$page" ] && echo "ok   bin/$(basename "$tool") + man1/$(basename "$page")" ||
		fail "bin/$(basename "$tool") has no man page"
done

# $1: binary. The consumer must use the library just installed, not one
# found elsewhere on the system.
check_uses_installed_shared() {
	local resolved
	resolved=$(ldd "$1" | awk '/libnvpoll\.so\.0/ { print $3 }')
	if [ "$resolved" -ef "$libdir/libnvpoll.so.0" ]; then
		echo "ok   $(basename "$1") loads $resolved"
	else
		fail "$(basename "$1") loads '${resolved:-nothing}' instead of $libdir/libnvpoll.so.0"
	fi
}

check_static() {
	if readelf -d "$1" | grep -q 'NEEDED.*libnvpoll'; then
		fail "$(basename "$1") should not need libnvpoll.so (static link)"
	else
		echo "ok   $(basename "$1") has nvpoll linked in"
	fi
}

run() {
	local bin=$1
	shift
	if "$bin" "$@" >"$work/run.log" 2>&1; then
		echo "ok   $(basename "$bin"): $(tail -n1 "$work/run.log")"
	else
		cat "$work/run.log" >&2
		fail "$(basename "$bin") $* exited with an error"
	fi
}

# The tools link libnvpoll.so (tools/CMakeLists.txt): installed, they must
# find the library installed with them, from this prefix, without help.
step "installed tools load the installed libnvpoll.so"
for tool in "$prefix"/bin/*; do
	[ -e "$tool" ] || continue
	if readelf -d "$tool" | grep -q 'NEEDED.*libnvpoll'; then
		check_uses_installed_shared "$tool"
		run "$tool" --version
	else
		echo "ok   $(basename "$tool") does not use libnvpoll.so"
	fi
done

step "find_package(nvpoll) consumer"
if cmake -S "$src/test/install/consumer" -B "$work/cmake-consumer" \
	 -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
	 >"$work/consumer.log" 2>&1 &&
   cmake --build "$work/cmake-consumer" >>"$work/consumer.log" 2>&1; then
	check_uses_installed_shared "$work/cmake-consumer/consumer_shared"
	check_static "$work/cmake-consumer/consumer_static"
	run "$work/cmake-consumer/consumer_shared" "$address"
	run "$work/cmake-consumer/consumer_static" "$address"
	run "$work/cmake-consumer/consumer_cxx"
else
	cat "$work/consumer.log" >&2
	fail "the find_package consumer did not configure or build"
fi

# A shared link needs none of the static library's dependencies. Hide
# their development files the way a machine without libpciaccess-dev,
# libnuma-dev and libhugetlbfs-dev lacks them: no .pc files on pkg-config's
# path, and the system library directories ignored by find_library().
step "shared linking without the dependencies' -dev packages"
empty=$work/empty
mkdir -p "$empty"
sysdirs="/usr/lib/$(gcc -print-multiarch 2>/dev/null);/usr/lib;/lib/$(gcc -print-multiarch 2>/dev/null);/lib;/usr/local/lib"
if PKG_CONFIG_LIBDIR=$empty PKG_CONFIG_PATH= \
   cmake -S "$src/test/install/consumer-shared" -B "$work/cmake-shared-only" \
	 -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
	 "-DCMAKE_IGNORE_PATH=$sysdirs" >"$work/shared-only.log" 2>&1 &&
   cmake --build "$work/cmake-shared-only" >>"$work/shared-only.log" 2>&1; then
	check_uses_installed_shared "$work/cmake-shared-only/consumer_shared"
	run "$work/cmake-shared-only/consumer_shared" "$address"
else
	cat "$work/shared-only.log" >&2
	fail "find_package(nvpoll) for a shared link needs the dependencies' -dev packages"
fi
if PKG_CONFIG_LIBDIR=$empty PKG_CONFIG_PATH= \
   cmake -S "$src/test/install/consumer-shared" -B "$work/cmake-static-missing" \
	 -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" -DNVP_ASK_STATIC=ON \
	 "-DCMAKE_IGNORE_PATH=$sysdirs" >"$work/static-missing.log" 2>&1; then
	fail "find_package(nvpoll COMPONENTS static) succeeded without the -dev packages"
elif grep -q "libpciaccess-dev libnuma-dev libhugetlbfs-dev" "$work/static-missing.log"; then
	echo "ok   COMPONENTS static without them: fails and names the packages"
else
	cat "$work/static-missing.log" >&2
	fail "find_package(nvpoll COMPONENTS static) does not name the missing packages"
fi
if out=$(PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_PATH= pkg-config --cflags --libs nvpoll 2>&1); then
	echo "ok   pkg-config --libs nvpoll with only nvpoll.pc: $out"
else
	fail "pkg-config --libs nvpoll needs other .pc files for a shared link: $out"
fi

step "pkg-config consumer"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pc_prefix=$(pkg-config --variable=prefix nvpoll)
[ "$pc_prefix" = "$prefix" ] && echo "ok   nvpoll.pc prefix=$pc_prefix" ||
	fail "nvpoll.pc says prefix=$pc_prefix, installed to $prefix"
mkdir -p "$work/pc"
consumer=$src/test/install/consumer/consumer.c
# shellcheck disable=SC2046 # pkg-config output is meant to be word-split
if "$cc" -Wall -Wextra -Werror -o "$work/pc/consumer_shared" "$consumer" \
	$(pkg-config --cflags --libs nvpoll) -Wl,-rpath,"$libdir" 2>"$work/pc.log"; then
	check_uses_installed_shared "$work/pc/consumer_shared"
	run "$work/pc/consumer_shared" "$address"
else
	cat "$work/pc.log" >&2
	fail "cc \$(pkg-config --cflags --libs nvpoll) failed"
fi
# Static: the archive by name, then everything --static lists after it;
# this fails if Requires.private/Libs.private miss a dependency.
static_libs=$(pkg-config --static --libs nvpoll | sed 's/-lnvpoll\b//')
# shellcheck disable=SC2046,SC2086
if "$cc" -Wall -Wextra -Werror -o "$work/pc/consumer_static" "$consumer" \
	$(pkg-config --cflags nvpoll) -l:libnvpoll.a $static_libs 2>"$work/pc.log"; then
	check_static "$work/pc/consumer_static"
	run "$work/pc/consumer_static" "$address"
else
	cat "$work/pc.log" >&2
	fail "static link with \$(pkg-config --static --libs nvpoll) failed"
fi

echo
if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "install test passed"
