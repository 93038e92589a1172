/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/common/addr.h - the exit status rule the three tools share, and the
 * address checks it rests on.
 *
 *   0  success
 *   1  a failure while the tool runs: attaching a controller the address
 *      does name (no access method, permissions, in use, the device does
 *      not come up), a command or I/O that fails, a lost controller
 *   2  a usage or address error, found before anything is touched: a bad
 *      option or option value, or something the command line names that
 *      this machine does not have (a malformed address, no such PCI
 *      function, a function that is not an NVMe controller, bad emu:
 *      options or an emu: namespace file that cannot be opened or created,
 *      a CPU or NUMA node or hugepage size that does not exist)
 */
#ifndef NVP_TOOLS_ADDR_H
#define NVP_TOOLS_ADDR_H

#include <stdbool.h>

#define TOOL_EXIT_OK		0
#define TOOL_EXIT_FAILURE	1
#define TOOL_EXIT_USAGE		2

/* Whether @addr is an emulated controller's address ("emu:..."). */
bool tool_addr_is_emu(const char *addr);

/*
 * Check that @addr names a controller (nvp_check_address()): a PCI address
 * must parse, exist and be an NVMe controller; an emu: address must parse.
 * Returns 0, or TOOL_EXIT_USAGE with nvp_last_error() saying why. Touches
 * no driver.
 */
int tool_check_address(const char *addr);

/*
 * The exit status for nvp_ctrl_attach(@addr) having failed with @rc (after
 * tool_check_address() passed): an emu: namespace file that cannot be
 * opened or created, or options the library refuses, are address errors
 * (2); anything else is a failure (1).
 */
int tool_attach_status(const char *addr, int rc);

#endif /* NVP_TOOLS_ADDR_H */
