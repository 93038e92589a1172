// SPDX-License-Identifier: BSD-3-Clause
// A C++ program using the installed headers: linking it proves the API has
// C linkage (extern "C"), which compiling alone cannot show.
#include <cstdio>
#include <cstring>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

int main()
{
	struct nvp_ctrl_opts opts;

	nvp_ctrl_opts_init(&opts, sizeof(opts));
	const char *name = nvp_status_str(0);
	if (opts.opts_size != sizeof(opts) || name == nullptr || std::strlen(name) == 0) {
		std::fprintf(stderr, "unexpected results from the C API\n");
		return 1;
	}
	std::printf("ok: C++ links the C API (status 0 = \"%s\")\n", name);
	return 0;
}
