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
#      and the emu integration suite under valgrind, the NVMe/TCP tests
#      against test/tcp's fake target under valgrind,
#   4. arm64: a cross build (cmake/toolchains/aarch64-linux-gnu.cmake,
#      warnings are errors there too), the unit tests and the emu
#      integration suite (--quick) under qemu-aarch64; and the byte-order
#      check: the unit and emu tests again with every wire field's bytes
#      swapped (NVP_TEST_WIRE_SWAP), as a big-endian CPU would see them,
#   5. the QEMU guest rig: the real driver against QEMU's NVMe controller in
#      VFIO type1, VFIO no-IOMMU and uio_pci_generic modes.
# Options: --no-vm (skip 5), --no-sanitize (skip 3), --no-arm64 (skip 4),
# --jobs N.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vm=1 sanitize=1 arm64=1 jobs=$(nproc)
while (($#)); do
  case $1 in
    --no-vm) vm=0 ;;
    --no-sanitize) sanitize=0 ;;
    --no-arm64) arm64=0 ;;
    --jobs) jobs=$2; shift ;;
    *) echo "usage: $0 [--no-vm] [--no-sanitize] [--no-arm64] [--jobs N]" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n=== %s\n' "$*"; }
failed=()

step "dependencies"
"$root/tools/install-deps.sh" $( ((vm)) && echo --vm) $( ((arm64)) && echo --arm64)

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

  step "NVMe/TCP against the fake target under valgrind"
  # The same drivers as CTest's tcp/itest-fake and tcp/hostile-fake
  # (test/tcp), with the C programs under valgrind; the target is Python.
  vg_tcp="valgrind --quiet --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
  NVP_TCP_ITEST_WRAPPER=$vg_tcp python3 "$root/test/tcp/check_itest.py" \
    "$root/build/debug/bin/nvpoll-itest" "$root/test/vm/guest/suite.sh" \
    >"$root/build/debug/valgrind-tcp.log" 2>&1 &&
  NVP_TCP_HOSTILE_WRAPPER=$vg_tcp python3 "$root/test/tcp/check_hostile.py" \
    "$root/build/debug/bin/nvpoll-tcp-hostile" >>"$root/build/debug/valgrind-tcp.log" 2>&1 \
    && grep -E '^(PASS|nvpoll-itest|with)' "$root/build/debug/valgrind-tcp.log" \
    || { cat "$root/build/debug/valgrind-tcp.log"; failed+=("valgrind NVMe/TCP fake target"); }
fi

if ((arm64)); then
  step "arm64: cross build, unit tests and emu integration suite under qemu-aarch64"
  # Optimised (as users build it) with the debug checks on (as the native
  # ctest run). The toolchain file runs each test binary under qemu-aarch64;
  # tests that cannot work under qemu-user (hugetlbfs placement, execve of
  # an arm64 binary) skip and say why. The emulated controller's device
  # thread runs beside the driver, so arm64's weaker memory model meets
  # lib/util/barrier.h's barriers.
  arm_t0=$SECONDS
  arm="$root/build/arm64"
  # A failed configure or build fails this step, not the whole run.
  if cmake -S "$root" -B "$arm" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVP_DEBUG=ON \
       -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" >/dev/null &&
     cmake --build "$arm" -j"$jobs"; then
    ctest --test-dir "$arm" --output-on-failure -j"$jobs" -L unit || failed+=("arm64 unit tests")
    ctest --test-dir "$arm" --output-on-failure -R '^itest/emu-quick$' || failed+=("arm64 itest")
  else
    failed+=("arm64 build")
  fi
  echo "arm64 step: $((SECONDS - arm_t0)) s"

  step "byte order: unit, emu integration and identify tests with every wire field swapped"
  # NVP_TEST_WIRE_SWAP makes the byte-order helpers swap, as on a big-endian
  # CPU: a field the driver, the emulated controller or a test forgot to
  # convert then reads differently on the two sides, and a test fails.
  swap_t0=$SECONDS
  if cmake -S "$root" -B "$root/build/wire-swap" -DCMAKE_BUILD_TYPE=Debug -DNVP_TEST_WIRE_SWAP=ON >/dev/null &&
     cmake --build "$root/build/wire-swap" -j"$jobs"; then
    # Unit tests, the emu integration suite and nvpoll-identify's checks
    # (it prints every Identify and SMART field); the timing-bound tool
    # tests add no byte-order coverage beyond these.
    ctest --test-dir "$root/build/wire-swap" --output-on-failure -j"$jobs" \
      -R '^(unit/|itest/emu|tools/identify-emu$)' || failed+=("ctest wire-swap")
  else
    failed+=("wire-swap build")
  fi
  echo "byte-order step: $((SECONDS - swap_t0)) s"
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
