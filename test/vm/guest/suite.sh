#!/bin/sh
# The guest-side test list, run by /init as /guest/suite.sh (busybox ash).
# To add a step: write step_NAME below (see lib.sh for fail/skip/run/have/
# check_nvme_back) and append NAME to STEPS. Programs from the build land in /bin.
# shellcheck shell=sh
# shellcheck source=lib.sh
. /guest/lib.sh

NVP_ADDRS=$(nvme_addrs | tr '\n' ' ')
# shellcheck disable=SC2086  # split the address list into $1, $2
set -- $NVP_ADDRS
ADDR0=${1:-}
ADDR1=${2:-}
export NVP_ADDRS ADDR0 ADDR1
echo "suite: mode=$NVP_MODE controllers: $NVP_ADDRS"

# Driver the library is expected to use in this boot.
case $NVP_MODE in
  uio) USER_DRIVER=uio_pci_generic ;;
  *) USER_DRIVER=vfio-pci ;;
esac

# Proves the rig's modules work: each controller goes to the userspace driver,
# its device node appears, then it goes back to nvme and reads again.
step_selftest_bind() {
  [ -n "$ADDR0" ] || { fail "no NVMe controller found"; return; }
  for a in $NVP_ADDRS; do
    bind_to "$a" "$USER_DRIVER" || return
    case $NVP_MODE in
      type1)
        g=$(iommu_group "$a")
        [ -c "/dev/vfio/$g" ] || { fail "$a: /dev/vfio/$g missing"; return; }
        info "$a on vfio-pci: /dev/vfio/$g, PCI_COMMAND=$(pci_command "$a")" ;;
      noiommu)
        g=$(iommu_group "$a")
        [ -c "/dev/vfio/noiommu-$g" ] || { fail "$a: /dev/vfio/noiommu-$g missing"; return; }
        info "$a on vfio-pci: /dev/vfio/noiommu-$g, PCI_COMMAND=$(pci_command "$a")" ;;
      uio)
        u=none
        for f in /sys/bus/pci/devices/"$a"/uio/uio*; do u=${f##*/}; done
        [ -c "/dev/$u" ] || { fail "$a: no uio device"; return; }
        [ -e "/sys/bus/pci/devices/$a/resource0" ] || { fail "$a: no resource0"; return; }
        info "$a on uio_pci_generic: /dev/$u, PCI_COMMAND=$(pci_command "$a")" ;;
    esac
    bind_to "$a" nvme || return
  done
  check_nvme_back
}

step_hello_world() {
  have hello_world || { skip "hello_world not built"; return; }
  run hello_world "$ADDR0" || { fail "hello_world exited $?"; return; }
  check_nvme_back
}

# The integration suite; its last line is "N passed, N failed".
step_itest() {
  have nvpoll-itest || { skip "nvpoll-itest not built"; return; }
  set -- -a "$ADDR0"
  [ -n "$ADDR1" ] && set -- "$@" -a "$ADDR1"
  run nvpoll-itest "$@" 2>&1 | tee /tmp/itest.log || { fail "nvpoll-itest exited $?"; return; }
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/itest.log | tail -n1)
  [ -n "$summary" ] || { fail "no 'N passed, N failed' line"; return; }
  case $summary in
    *" 0 failed"*) ;;
    *) fail "nvpoll-itest: $summary"; return ;;
  esac
  check_nvme_back
}

step_identify() {
  have nvpoll-identify || { skip "nvpoll-identify not built"; return; }
  run nvpoll-identify "$ADDR0" || { fail "nvpoll-identify exited $?"; return; }
  check_nvme_back
}

# A short smoke run, not a benchmark: TCG throughput means little.
step_perf() {
  have nvpoll-perf || { skip "nvpoll-perf not built"; return; }
  run nvpoll-perf -a "$ADDR0" -q 8 -o 4096 -w randread -t 2 ||
    { fail "nvpoll-perf exited $?"; return; }
  check_nvme_back
}

STEPS="selftest_bind hello_world itest identify perf"
# shellcheck disable=SC2086  # word splitting of the step list is intended
run_steps $STEPS
