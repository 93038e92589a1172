#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer targets (clang, ASan, UBSan) and run each one for a
# bounded time. Exits non-zero if any target finds a crash, a sanitizer
# report, a leak, a timeout or a broken invariant; the input that did it is
# kept as build/fuzz/artifacts/<target>/crash-* (or leak-*, timeout-*, oom-*).
#
#   test/fuzz/run.sh                    every target, 25 s each (about 1.5 min)
#   test/fuzz/run.sh -t 60 fuzz_cqe     one target, 60 s
#   FUZZ_SECONDS=10 test/fuzz/run.sh    same as -t 10
#   test/fuzz/run.sh --no-build         use the existing build
#
# Options:
#   -t SECONDS     time per target (default 25, or $FUZZ_SECONDS)
#   -j JOBS        build jobs (default 2)
#   -B DIR         build directory (default build/fuzz)
#   --no-build     do not (re)build
#   --keep-corpus  keep what a run adds to the working corpus (default:
#                  start each run from the seed corpus in test/fuzz/corpus)
#
# The seeds in test/fuzz/corpus/<target>/ are read, never written: a run
# works in build/fuzz/corpus/<target>/. Reproduce a finding with
#   build/fuzz/fuzz/<target> build/fuzz/artifacts/<target>/crash-...
# (fuzz_cqe: FUZZ_TRACE=1 prints what the input does).
# Needs clang and libclang-rt (tools/install-deps.sh installs them).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-25}
jobs=2
build=$root/build/fuzz
do_build=1
keep=0
targets=()

while (($#)); do
  case $1 in
    -t) secs=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -B) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --keep-corpus) keep=1; shift ;;
    -h|--help) sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ $secs =~ ^[0-9]+$ ]] && ((secs > 0)) || { echo "run.sh: -t needs a number of seconds > 0" >&2; exit 2; }
((${#targets[@]})) || targets=(fuzz_addr fuzz_attach fuzz_cqe fuzz_tcp_pdu)

if ((do_build)); then
  command -v clang >/dev/null || { echo "run.sh: clang not found; run tools/install-deps.sh (or apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
  cmake -S "$root" -B "$build" -DNVP_FUZZ=ON -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$jobs" -- --no-print-directory >/dev/null
fi

# Per-target input limits: each input costs an attach, so keep them small.
declare -A max_len=([fuzz_addr]=1024 [fuzz_attach]=16384 [fuzz_cqe]=1024)
# Exactly-once checks need sanitizer reports to stop the run (abort).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  [[ -x $bin ]] || { echo "run.sh: no fuzz target $t in $build/fuzz" >&2; exit 2; }
  seeds=$root/test/fuzz/corpus/$t
  work=$build/corpus/$t
  art=$build/artifacts/$t
  mkdir -p "$work" "$art"
  ((keep)) || rm -f "$work"/*
  rm -f "$art"/*
  log=$build/$t.log
  echo "=== $t: ${secs} s (log: $log)"
  # -timeout: one input taking this long is a hang (waits inside are <= 2 s).
  if "$bin" -max_total_time="$secs" -max_len="${max_len[$t]:-4096}" -timeout=15 \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
       "$work" "$seeds" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | tail -2 | sed 's/^/    /'
  else
    echo "    FAILED: $(grep -m1 -E 'ERROR|invariant broken|SUMMARY|deadly' "$log" || tail -1 "$log")"
    ls "$art" | sed "s|^|    input: $art/|"
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: no findings (${targets[*]})"
