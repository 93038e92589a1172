/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem/internal.h - glue between the files of the memory layer.
 *
 * Not for other layers: they use mem.h and nvpoll.h. The unit test uses
 * the test hook at the end.
 */
#ifndef NVP_LIB_MEM_INTERNAL_H
#define NVP_LIB_MEM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/mem.h"

#define NVP_SZ_4K	(1ull << 12)
#define NVP_SZ_2M	(1ull << 21)
#define NVP_SZ_1G	(1ull << 30)

/* What a region in the map is, which decides who may remove it. */
enum nvp_region_kind {
	NVP_REGION_DMA,		/* a heap chunk or large nvp_dma_alloc() */
	NVP_REGION_USER,	/* nvp_mem_register() */
};

/* Backing of a region, as far as the physical-address mode cares. */
enum nvp_backing {
	NVP_BACKING_UNKNOWN,	/* a registration not inspected yet */
	NVP_BACKING_HUGE,	/* hugetlbfs: never moves, physical pages stable */
	NVP_BACKING_NORMAL,	/* anonymous/file pages: may move */
};

/* ---- map.c ------------------------------------------------------------ */

/**
 * nvp_mem_map_add() - enter a region into the map and every domain.
 * @va: start, page aligned.
 * @len: length, a multiple of 4 KiB.
 * @kind: who owns it.
 * @backing: NVP_BACKING_UNKNOWN makes PHYS mode inspect /proc/self/smaps.
 * @page_shift: log2 of the backing page size when @backing is HUGE.
 *
 * Return: 0; -EEXIST on overlap; -ENOTSUP (PHYS, not hugepages); -EACCES
 * (PHYS without CAP_SYS_ADMIN); -ENOMEM; a domain's map error. Logged.
 */
int nvp_mem_map_add(void *va, size_t len, enum nvp_region_kind kind,
		    enum nvp_backing backing, unsigned int page_shift);

/**
 * nvp_mem_map_remove() - remove a region starting at @va from the map.
 * @va: the region's start.
 * @kind: must match the region's kind.
 * @len: out, optional: the region's length.
 *
 * Return: 0, or -ENOENT (not logged: callers word their own message).
 */
int nvp_mem_map_remove(void *va, enum nvp_region_kind kind, size_t *len);

/* ---- iova.c (all calls under the map mutex) ---------------------------- */

/**
 * nvp_iova_alloc() - take a range of bus addresses for a VIRT-mode region.
 * @len: bytes (rounded up to 4 KiB).
 * @avoid: the region's VA: the IOVA is never equal to it, so code that
 *         wrongly passes a VA to the device faults instead of working.
 * @iova: out: the start.
 *
 * Return: 0 or -ENOMEM (not logged).
 */
int nvp_iova_alloc(size_t len, uint64_t avoid, uint64_t *iova);

/**
 * nvp_iova_free() - give back a range from nvp_iova_alloc().
 * @iova: its start.
 * @len: the length passed to nvp_iova_alloc().
 */
void nvp_iova_free(uint64_t iova, size_t len);

/**
 * nvp_iova_reserve() - keep [@start, @start + @len) out of every later
 * allocation (a BAR's bus addresses).
 *
 * Return: 0; -EBUSY if a live allocation overlaps it; -ENOSPC if too many
 * ranges are reserved; -EINVAL for an empty or wrapping range.
 */
int nvp_iova_reserve(uint64_t start, uint64_t len);

/** nvp_iova_unreserve() - undo nvp_iova_reserve() with the same range. */
void nvp_iova_unreserve(uint64_t start, uint64_t len);

/** nvp_iova_teardown() - free the allocator's bookkeeping. */
void nvp_iova_teardown(void);

/* ---- pagemap.c --------------------------------------------------------- */

/**
 * nvp_mem_phys_segments() - physical address of each segment of a range.
 * @va: start, aligned to 2^@seg_shift.
 * @len: bytes.
 * @seg_shift: log2 of the segment size (a hugepage, or 4 KiB).
 * @out: ceil(@len / 2^@seg_shift) entries.
 *
 * Faults each page in (reading one byte) and reads /proc/self/pagemap.
 *
 * Return: 0; -EACCES when the kernel hides PFNs (no CAP_SYS_ADMIN); -EIO.
 * Logged.
 */
int nvp_mem_phys_segments(uintptr_t va, size_t len, unsigned int seg_shift,
			  uint64_t *out);

/* ---- register.c -------------------------------------------------------- */

/**
 * nvp_mem_probe_backing() - whether a range is entirely hugetlbfs memory.
 * @va: start.
 * @len: bytes.
 * @page_shift: out: log2 of the smallest page size backing the range.
 *
 * Reads /proc/self/smaps (KernelPageSize of each overlapping mapping).
 *
 * Return: NVP_BACKING_HUGE or NVP_BACKING_NORMAL (also for unmapped holes).
 */
enum nvp_backing nvp_mem_probe_backing(uintptr_t va, size_t len,
				       unsigned int *page_shift);

/* ---- hugepage.c -------------------------------------------------------- */

/**
 * nvp_hugepage_default_size() - the hugepage size heaps are built from.
 *
 * Return: 2 MiB when the kernel offers it, else the smallest hugepage size,
 * else 0 (no hugepage support at all).
 */
size_t nvp_hugepage_default_size(void);

/**
 * nvp_hugepage_large_size() - the 1 GiB size, if the kernel offers it.
 *
 * Return: 1 GiB or 0.
 */
size_t nvp_hugepage_large_size(void);

/**
 * nvp_hugepage_available() - free hugepages of a size (on a node).
 * @page_size: hugepage size in bytes.
 * @node: NUMA node or NVP_NUMA_ANY.
 *
 * Return: pages that can still be faulted (free minus reserved), or 0.
 */
long nvp_hugepage_available(size_t page_size, int node);

/**
 * nvp_hugepage_map() - map, place and fault in hugetlbfs memory.
 * @len: a multiple of @page_size.
 * @page_size: hugepage size.
 * @node: NUMA node or NVP_NUMA_ANY.
 * @va: out: the mapping (aligned to @page_size, zeroed).
 *
 * Return: 0 or -ENOMEM (not logged: the caller decides whether to fall
 * back). Quiet: never lets libhugetlbfs print.
 */
int nvp_hugepage_map(size_t len, size_t page_size, int node, void **va);

/**
 * nvp_anon_map() - map ordinary memory as a hugepage stand-in.
 * @len: a multiple of 2 MiB.
 * @node: NUMA node or NVP_NUMA_ANY.
 * @va: out: the mapping, 2 MiB aligned, zeroed, MADV_HUGEPAGE.
 *
 * Return: 0 or -ENOMEM (not logged).
 */
int nvp_anon_map(size_t len, int node, void **va);

/**
 * nvp_mem_unmap() - release a mapping from nvp_hugepage_map()/nvp_anon_map().
 * @va: start.
 * @len: length.
 */
void nvp_mem_unmap(void *va, size_t len);

/**
 * nvp_mem_hugepage_hint_for() - nvp_mem_hugepage_hint() for a node and size.
 * @node: NUMA node the memory was wanted on, or NVP_NUMA_ANY.
 * @bytes: how much hugepage memory is needed (0: the default 1 GiB).
 *
 * Return: a thread-local string.
 */
const char *nvp_mem_hugepage_hint_for(int node, size_t bytes);

/* ---- heap.c ------------------------------------------------------------ */

/**
 * nvp_mem_heap_trim() - release cached empty heap chunks.
 * @normal_only: only chunks of ordinary (non-hugepage) memory.
 *
 * Called before a PHYS attach, which would refuse them. Must not be called
 * with the map mutex held (lock order: heap, then map).
 */
void nvp_mem_heap_trim(bool normal_only);

#endif /* NVP_LIB_MEM_INTERNAL_H */
