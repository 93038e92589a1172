#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# CTest wal/crc32c: nvpoll-wal selftest passes (RFC 3720 CRC32C vectors
# through wal_crc32c() and the portable code, both agreeing on every length
# and alignment), and on a CPU with SSE4.2 wal_crc32c() uses its crc32
# instruction rather than tables.
#   check-crc32c.sh NVPOLL_WAL
set -u
out=$("$1" selftest) || { echo "$out"; echo "FAIL: nvpoll-wal selftest exited $?"; exit 1; }
echo "$out"
impl=$(echo "$out" | sed -n 's/^crc32c: //p')
[ -n "$impl" ] || { echo "FAIL: selftest does not say which CRC32C code it uses"; exit 1; }
if [ "$(uname -m)" = x86_64 ] && grep -qw sse4_2 /proc/cpuinfo; then
  [ "$impl" = sse4.2 ] || { echo "FAIL: this CPU has SSE4.2, but CRC32C uses: $impl"; exit 1; }
fi
echo "crc32c: $impl, as this CPU allows"
