#!/usr/bin/env bash
# The whole test run, as CI runs it:
#   1. install dependencies (apt; idempotent),
#   2. a Debug build (debug checks on) and every CTest test: unit tests,
#      header and install checks, the integration suite against the
#      built-in emulated controller, and Debian's fio driving the fio engine
#      (nvpoll-fio.so) with verification against it,
#   3. a Release build of everything (warnings are errors at -O3 too),
#      the tests built with ASan+UBSan, the model-based torture test (90 s)
#      under ASan+UBSan, the libFuzzer targets (20 s each), the unit tests
#      and the emu integration suite under valgrind,
#   4. the QEMU guest rig: the real driver against QEMU's NVMe controller in
#      VFIO type1, VFIO no-IOMMU and uio_pci_generic modes.
# Options: --no-vm (skip 4), --no-sanitize (skip 3), --jobs N.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vm=1 sanitize=1 jobs=$(nproc)
while (($#)); do
  case $1 in
    --no-vm) vm=0 ;;
    --no-sanitize) sanitize=0 ;;
    --jobs) jobs=$2; shift ;;
    *) echo "usage: $0 [--no-vm] [--no-sanitize] [--jobs N]" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n=== %s\n' "$*"; }
failed=()

step "dependencies"
"$root/tools/install-deps.sh" $( ((vm)) && echo --vm)

step "debug build"
cmake -S "$root" -B "$root/build/debug" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$root/build/debug" -j"$jobs"

# The fio engine is optional in the build (it needs the installed fio's
# source, which install-deps.sh fetches) but not in CI: without it the fio
# tests would not run.
if command -v fio >/dev/null && [[ ! -f $root/build/debug/lib/nvpoll-fio.so ]]; then
  echo "nvpoll-fio.so was not built: see the 'fio engine:' line of cmake's output" >&2
  failed+=("fio engine not built")
fi

step "tests (debug build)"
ctest --test-dir "$root/build/debug" --output-on-failure -j"$jobs" || failed+=("ctest debug")

# -O2/-O3 finds warnings -O0 does not (truncation, maybe-uninitialised), and
# Release is what tools/quickstart.sh builds: it must compile cleanly too.
step "release build"
cmake -S "$root" -B "$root/build/release-check" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build/release-check" -j"$jobs" || failed+=("release build")

if ((sanitize)); then
  step "ASan + UBSan build and tests"
  cmake -S "$root" -B "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DNVP_SANITIZE=ON >/dev/null
  cmake --build "$root/build/asan" -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$root/build/asan" --output-on-failure -j"$jobs" -LE "install|torture" \
    || failed+=("ctest asan")

  step "torture test under ASan + UBSan (90 s)"
  # Random public-API calls from several threads, with faults, checked
  # against a model (test/torture/README.md); the seed is on the first line
  # and a failure prints the replay command.
  # The timeout bounds a crash report that itself hangs (a signal handler
  # meeting a lock the sanitizer holds at exit): a failure, not a stuck CI.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    timeout -k 10 600 "$root/build/asan/bin/nvpoll-torture" --seconds 90 || failed+=("torture")

  step "fuzz targets (libFuzzer, ASan + UBSan)"
  # Addresses and emu: options, device data at attach, corrupted
  # completions (test/fuzz/README.md); a finding is kept in build/fuzz/artifacts.
  "$root/test/fuzz/run.sh" -t "${NVP_FUZZ_SECONDS:-20}" -j "$jobs" || failed+=("fuzz")

  step "unit tests under valgrind"
  for t in "$root"/build/debug/test/unit/test_*; do
    [[ -x $t ]] || continue
    # Valgrind runs everything ~50x slower on one core: stretch the emulator
    # tests' waits, and schedule fairly (a spinning host thread would
    # otherwise starve the emulated device thread). The hugepage test is covered by the runs above (valgrind
    # places MAP_HUGETLB mappings where the kernel cannot back them).
    NVP_TEST_TIME_SCALE=20 NVP_TEST_NO_HUGEPAGES=1 \
    valgrind --quiet --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      "$t" >/dev/null 2>"$root/build/debug/valgrind-$(basename "$t").log" \
      && echo "valgrind clean: $(basename "$t")" \
      || { echo "valgrind: $(basename "$t") failed, see build/debug/valgrind-$(basename "$t").log";
           cat "$root/build/debug/valgrind-$(basename "$t").log"; failed+=("valgrind $(basename "$t")"); }
  done

  step "integration suite against emu under valgrind"
  # --quick trims the slow tests; fault waits are stretched for valgrind.
  if valgrind --quiet --fair-sched=yes --error-exitcode=99 --leak-check=full \
       --errors-for-leak-kinds=definite "$root/build/debug/bin/nvpoll-itest" --quick \
       --fault-timeout-ms 4000 -a "emu:ns=64M:4096,ns=16M:512" \
       -a "emu:ns=16M:512,mdts=3,qpairs=2" >"$root/build/debug/valgrind-itest.log" 2>&1; then
    tail -n 1 "$root/build/debug/valgrind-itest.log"
  else
    cat "$root/build/debug/valgrind-itest.log"
    failed+=("valgrind nvpoll-itest")
  fi
fi

if ((vm)); then
  step "QEMU guest rig (vfio type1, no-IOMMU, uio)"
  "$root/test/vm/rig.sh" --build-dir "$root/build/debug" || failed+=("vm rig")
fi

step "summary"
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all test stages passed"
