# SPDX-License-Identifier: BSD-3-Clause
# Cross build for arm64 with Debian's cross compiler (gcc-aarch64-linux-gnu)
# and the arm64 -dev packages installed through multiarch
# (tools/install-deps.sh --arm64 installs both):
#
#   cmake -S . -B build/arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#   cmake --build build/arm64 -j2
#   ctest --test-dir build/arm64 -L unit      # runs each binary under qemu-aarch64
#
# Test binaries run through CMAKE_CROSSCOMPILING_EMULATOR: qemu-aarch64
# (Debian's qemu-user) with its library prefix (-L, as QEMU_LD_PREFIX) at
# the cross libc, so ctest works unchanged. LD_LIBRARY_PATH in the guest
# keeps libc with the loader it was built with: the -dev packages bring
# the multiarch libc6:arm64 too, a different build that the host's
# ld.so.cache lists, and a loader paired with another build's libc hangs
# before main(). The libraries come from /usr/lib/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(NVP_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${NVP_CROSS_TRIPLE}-gcc)
# C++ only compiles the public headers once more (test/headers); without
# g++-aarch64-linux-gnu those checks are skipped with a warning.
find_program(NVP_CROSS_CXX ${NVP_CROSS_TRIPLE}-g++)
if(NVP_CROSS_CXX)
  set(CMAKE_CXX_COMPILER ${NVP_CROSS_CXX})
endif()

# Headers and libraries: the cross libc under /usr/aarch64-linux-gnu and
# the multiarch packages under /usr/lib/aarch64-linux-gnu (found through
# the standard paths; only the target's, never the build machine's).
set(CMAKE_FIND_ROOT_PATH /usr/${NVP_CROSS_TRIPLE})
set(CMAKE_LIBRARY_ARCHITECTURE ${NVP_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config: the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${NVP_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

find_program(NVP_QEMU_AARCH64 qemu-aarch64)
if(NVP_QEMU_AARCH64)
  # NVP_TEST_QEMU_USER tells the tests that cannot work under qemu-user
  # (hugetlbfs placement, execve of an arm64 binary) to skip, saying why.
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${NVP_QEMU_AARCH64};-L;/usr/${NVP_CROSS_TRIPLE};-E;LD_LIBRARY_PATH=/usr/${NVP_CROSS_TRIPLE}/lib;-E;NVP_TEST_QEMU_USER=1)
endif()
