#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# CTest check of tools/quickstart.sh's command line: --help prints the help
# and exits 0, an unknown argument exits 2; neither installs or builds
# anything. Stand-ins for every program the script would run to install or
# build (apt-get, dpkg-query, sudo, cmake) record any call and fail.
#   check_quickstart.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; exit 1; }
for prog in apt-get dpkg-query sudo cmake; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/called"\nexit 1\n' "$prog" "$tmp" >"$tmp/$prog"
  chmod +x "$tmp/$prog"
done
q() { PATH="$tmp:$PATH" bash "$src/tools/quickstart.sh" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; }

for opt in --help -h; do
  q $opt; rc=$?
  [ ! -e "$tmp/called" ] || fail "quickstart.sh $opt ran: $(cat "$tmp/called")"
  [ $rc = 0 ] || fail "quickstart.sh $opt exited $rc"
  grep -q "^Usage: tools/quickstart.sh" "$tmp/out" || fail "quickstart.sh $opt printed no Usage line"
  grep -q "NVP_PERF_ARGS" "$tmp/out" || fail "quickstart.sh $opt does not describe NVP_PERF_ARGS"
done
q --bogus; rc=$?
[ ! -e "$tmp/called" ] || fail "quickstart.sh --bogus ran: $(cat "$tmp/called")"
[ $rc = 2 ] || fail "quickstart.sh --bogus exited $rc, expected 2"
grep -q "unknown argument '--bogus'" "$tmp/err" || fail "no message for --bogus"
echo "quickstart.sh: --help and bad arguments checked"
