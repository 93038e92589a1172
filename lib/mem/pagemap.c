// SPDX-License-Identifier: BSD-3-Clause
/*
 * lib/mem/pagemap.c - physical addresses from /proc/self/pagemap.
 *
 * One 64-bit entry per 4 KiB virtual page: bit 63 "present", bits 0-54 the
 * page frame number. Since Linux 4.2 the PFN reads as 0 without
 * CAP_SYS_ADMIN, which is how a non-root process is recognised.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mem/internal.h"
#include "util/log.h"

#define PM_PRESENT	(1ull << 63)
#define PM_PFN_MASK	((1ull << 55) - 1)

int nvp_mem_phys_segments(uintptr_t va, size_t len, unsigned int seg_shift,
			  uint64_t *out)
{
	uint64_t seg = 1ull << seg_shift;
	size_t nseg = (size_t)((len + seg - 1) >> seg_shift);
	int fd, ret = 0;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nvp_error(-errno, "cannot open /proc/self/pagemap: %s; physical addresses need procfs",
				 strerror(errno));

	for (size_t i = 0; i < nseg; i++) {
		uintptr_t a = va + (i << seg_shift);
		uint64_t ent;
		ssize_t n;

		/* Make sure the page exists: a read fault allocates hugetlbfs
		 * pages (there is no shared zero page for them). */
		(void)*(volatile const char *)a;
		n = pread(fd, &ent, sizeof(ent), (off_t)(a / NVP_SZ_4K * sizeof(ent)));
		if (n != (ssize_t)sizeof(ent)) {
			ret = nvp_error(-EIO, "reading /proc/self/pagemap at %#lx failed: %s",
					(unsigned long)a, n < 0 ? strerror(errno) : "short read");
			break;
		}
		if (!(ent & PM_PRESENT)) {
			ret = nvp_error(-EIO, "page at %#lx is not present after faulting it in; is the memory locked out or swapped?",
					(unsigned long)a);
			break;
		}
		if (!(ent & PM_PFN_MASK)) {
			ret = nvp_error(-EACCES, "physical addresses need root (CAP_SYS_ADMIN); run as root or use VFIO with an IOMMU");
			break;
		}
		out[i] = (ent & PM_PFN_MASK) * NVP_SZ_4K + (a & (NVP_SZ_4K - 1));
	}
	close(fd);
	return ret;
}
