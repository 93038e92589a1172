// SPDX-License-Identifier: BSD-3-Clause
/*
 * lib/mem/register.c - application buffers as DMA targets, and the public
 * translation call.
 *
 * Registration only enters the buffer into the map; pinning is the
 * domain's business (VFIO pins on map; the emulator needs none). Whether
 * the buffer is hugetlbfs memory is only asked when it matters (PHYS mode),
 * because reading /proc/self/smaps walks every mapping of the process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll/nvpoll.h>

#include "mem/internal.h"
#include "util/log.h"

/*
 * Hugetlbfs mappings are the ones whose KernelPageSize is above the base
 * page size (transparent hugepages report 4 kB there, and can be split
 * and moved, so they rightly do not count).
 */
enum nvp_backing nvp_mem_probe_backing(uintptr_t va, size_t len,
				       unsigned int *page_shift)
{
	uintptr_t end = va + len, cursor = va;
	unsigned long vstart = 0, vend = 0;
	unsigned int min_shift = 63;
	bool in_range = false, huge = true;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f) {
		nvp_debug("mem: cannot read /proc/self/smaps: %s", strerror(errno));
		return NVP_BACKING_NORMAL;
	}
	while (huge && getline(&line, &cap, f) > 0) {
		unsigned long kps;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &vstart, &vend, perms) == 3) {
			in_range = vend > cursor && vstart < end;
			if (in_range && vstart > cursor)
				huge = false; /* a hole: not even mapped */
			if (vstart >= end)
				break;
			continue;
		}
		if (!in_range || sscanf(line, "KernelPageSize: %lu kB", &kps) != 1)
			continue;
		if (kps <= 4) {
			huge = false;
		} else {
			unsigned int shift = (unsigned int)__builtin_ctzl(kps << 10);

			if (shift < min_shift)
				min_shift = shift;
			cursor = vend;
		}
	}
	free(line);
	fclose(f);
	if (!huge || cursor < end)
		return NVP_BACKING_NORMAL;
	*page_shift = min_shift;
	return NVP_BACKING_HUGE;
}

/*
 * A controller writes into registered memory (reads land there) and reads
 * from it, so every byte must be mapped readable and writable. VFIO would
 * refuse to pin anything else; the emulated controller and the physical
 * modes would fault or corrupt later, in another thread. Checked once
 * here, for every backend, against /proc/self/maps.
 */
static int check_mapped_rw(uintptr_t va, size_t len)
{
	uintptr_t cursor = va, end = va + len;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return 0; /* cannot tell (no procfs): the backend decides */
	while (cursor < end && getline(&line, &cap, f) > 0) {
		unsigned long start, stop;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &start, &stop, perms) != 3 || stop <= cursor)
			continue;
		if (start > cursor)
			break; /* a hole */
		if (perms[0] != 'r' || perms[1] != 'w') {
			free(line);
			fclose(f);
			return nvp_error(-EFAULT, "nvp_mem_register(%p, %zu): the memory at 0x%lx is mapped %.4s, not read-write; a controller writes into registered memory, so register only memory mapped PROT_READ|PROT_WRITE",
					 (void *)va, len, (unsigned long)cursor, perms);
		}
		cursor = stop;
	}
	free(line);
	fclose(f);
	if (cursor < end)
		return nvp_error(-EFAULT, "nvp_mem_register(%p, %zu): nothing is mapped at 0x%lx; register only memory the process has mapped",
				 (void *)va, len, (unsigned long)cursor);
	return 0;
}

NVP_API int nvp_mem_register(void *buf, size_t len)
{
	long ps = sysconf(_SC_PAGESIZE);
	int rc;

	if (ps <= 0)
		ps = 4096;
	if (!buf || !len || (uintptr_t)buf % (unsigned long)ps || len % (unsigned long)ps)
		return nvp_error(-EINVAL, "nvp_mem_register(%p, %zu): the buffer must start on a page boundary and its length be a non-zero multiple of the page size (%ld bytes)",
				 buf, len, ps);
	if ((uintptr_t)buf + len < (uintptr_t)buf)
		return nvp_error(-EINVAL, "nvp_mem_register(%p, %zu): the range wraps past the end of the address space",
				 buf, len);
	rc = check_mapped_rw((uintptr_t)buf, len);
	if (rc)
		return rc;
	return nvp_mem_map_add(buf, len, NVP_REGION_USER, NVP_BACKING_UNKNOWN, 12);
}

NVP_API int nvp_mem_unregister(void *buf)
{
	int ret = nvp_mem_map_remove(buf, NVP_REGION_USER, NULL);

	if (ret == -ENOENT)
		return nvp_error(-ENOENT, "nvp_mem_unregister(%p): no registration starts there; pass the address given to nvp_mem_register()",
				 buf);
	return ret;
}

NVP_API int nvp_mem_translate(const void *buf, uint64_t *iova, size_t *contig)
{
	size_t c;
	int ret;

	if (!iova)
		return nvp_error(-EINVAL, "nvp_mem_translate() needs somewhere to store the address");
	ret = nvp_mem_lookup(buf, iova, &c);
	if (ret) {
		if (nvp_mem_iova_mode() == NVP_IOVA_UNSET)
			return nvp_error(-EFAULT, "%p has no bus address yet: bus addresses exist once a controller is attached",
					 buf);
		return nvp_error(-EFAULT, "%p is not DMA memory; allocate it with nvp_dma_alloc() or register it with nvp_mem_register()",
				 buf);
	}
	if (contig)
		*contig = c;
	return 0;
}
