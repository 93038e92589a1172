/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/api/address.c - nvp_check_address(): whether an address names a
 * controller, before anything is touched. It joins layers that never
 * meet below the API: the PCI check (lib/pci, libpciaccess), the emulated
 * controller's option parser (lib/emu) and NVMe/TCP's address parser
 * (lib/tcp; the target is not contacted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "emu/emu.h"
#include "pci/pci.h"
#include "tcp/addr.h"
#include "util/log.h"

int nvp_check_address(const char *addr)
{
	if (!addr || !*addr)
		return nvp_error(-EINVAL, "no controller address given; use a PCI address such as 0000:00:04.0 or emu:");
	if (!strncmp(addr, "emu:", 4)) {
		/* Large (namespace paths): not on the stack. */
		struct emu_opts *opts = malloc(sizeof(*opts));
		int rc;

		if (!opts)
			return nvp_error(-ENOMEM, "out of memory");
		rc = nvp_emu_parse_opts(addr, opts);
		free(opts);
		return rc;
	} else {
		struct nvp_tcp_addr tcp;
		struct nvp_pci_info info;
		int rc = nvp_tcp_addr_parse(addr, &tcp);

		/* -ENOENT: not an NVMe/TCP address at all. */
		if (rc != -ENOENT)
			return rc;

		/* Parses, finds the function and checks its class. */
		return nvp_pci_probe(addr, &info);
	}
}
