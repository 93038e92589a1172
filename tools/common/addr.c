/* SPDX-License-Identifier: BSD-3-Clause */
/* tools/common/addr.c - address checks and the exit status rule (addr.h). */
#include <errno.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "addr.h"

bool tool_addr_is_emu(const char *addr)
{
	return addr && !strncmp(addr, "emu:", 4);
}

int tool_check_address(const char *addr)
{
	/* Parses, finds the PCI function and checks its class; or parses emu: options. */
	return nvp_check_address(addr ? addr : "") ? TOOL_EXIT_USAGE : 0;
}

int tool_attach_status(const char *addr, int rc)
{
	if (rc == -EINVAL)
		return TOOL_EXIT_USAGE;	/* options or NVP_DRIVER the library refuses */
	if (!tool_addr_is_emu(addr))
		return TOOL_EXIT_FAILURE;
	switch (-rc) {
	case ENOENT:	/* the namespace file or its directory */
	case EACCES:
	case EPERM:
	case EROFS:
	case EISDIR:
	case ENOTDIR:
	case ENAMETOOLONG:
	case ELOOP:
		return TOOL_EXIT_USAGE;
	default:
		return TOOL_EXIT_FAILURE;
	}
}
