/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mem/mem.h - the memory layer: hugepage DMA memory, user-memory
 * registration, and the process-wide virtual-to-bus-address map.
 *
 * Knows nothing of NVMe. One map per process: every DMA region (an
 * nvp_dma_alloc() heap chunk or an nvp_mem_register() buffer) is known here,
 * and each attached "DMA domain" (the VFIO type1 container, the physical
 * address domain of no-IOMMU/uio, the emulated controller) is told about
 * every region so the device can reach it.
 *
 * Bus-address (IOVA) modes are process-wide, as in SPDK:
 *  - NVP_IOVA_VIRT: the library hands out IOVAs from its own allocator
 *    (never equal to the VA) and an IOMMU or the emulator translates them.
 *    Any memory can be registered.
 *  - NVP_IOVA_PHYS: IOVA = physical address from /proc/self/pagemap.
 *    Only hugetlbfs memory (which never moves) can be used.
 * The mode is fixed by the first domain attached and released with the last.
 */
#ifndef NVP_LIB_MEM_H
#define NVP_LIB_MEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nvp_iova_mode {
	NVP_IOVA_UNSET = 0,
	NVP_IOVA_VIRT = 1,
	NVP_IOVA_PHYS = 2,
};

/**
 * struct nvp_dma_domain - something a DMA region must be made visible to.
 * @name: for messages ("vfio container", "emu", "physical").
 * @map: make [@va, @va+@len) reachable at bus address @iova. Return 0 or a
 *       negative errno with a message logged (e.g. -ENOMEM for memlock).
 *       NULL if the domain needs no call (emu, physical addresses).
 * @unmap: undo @map; NULL if not needed. Must not fail in a way that leaves
 *         the range mapped: the memory is about to be reused.
 * @priv: the domain's own state.
 * @next: list link, owned by the memory layer.
 *
 * @map and @unmap are called with the map mutex held, once per bus-contiguous
 * segment (one call per region in VIRT mode, one per hugepage in PHYS mode).
 * They must not call back into the memory layer (no nvp_dma_alloc(),
 * nvp_mem_register(), attach/detach): that would deadlock. Regions are
 * mapped into a domain before lookups can see them and unmapped after
 * lookups stop seeing them.
 */
struct nvp_dma_domain {
	const char *name;
	int (*map)(struct nvp_dma_domain *d, void *va, uint64_t iova, size_t len);
	int (*unmap)(struct nvp_dma_domain *d, void *va, uint64_t iova, size_t len);
	void *priv;
	struct nvp_dma_domain *next;
};

/**
 * nvp_mem_domain_attach() - add a DMA domain; replay every existing region.
 * @d: the domain (caller-owned; stays valid until detached).
 * @mode: the IOVA mode this domain needs (NVP_IOVA_VIRT or NVP_IOVA_PHYS).
 *
 * The first domain fixes the process's mode: in VIRT mode every region
 * (including ones allocated before) gets an IOVA from the library's
 * allocator; in PHYS mode every region gets the physical address of each
 * of its hugepages from /proc/self/pagemap (root only). Empty cached
 * non-hugepage heap chunks are released before a PHYS attach.
 *
 * Return: 0; -EINVAL if @mode conflicts with the process's current mode (the
 * message says which controllers use which mode) or @d is already
 * attached; -ENOTSUP in PHYS mode when an existing region is not hugepage
 * memory; -EACCES in PHYS mode without CAP_SYS_ADMIN; -ENOMEM; errors from
 * @d->map.
 */
int nvp_mem_domain_attach(struct nvp_dma_domain *d, enum nvp_iova_mode mode);

/**
 * nvp_mem_domain_detach() - remove a domain, unmapping every region from it.
 * @d: the domain (ignored if not attached).
 *
 * Detaching the last domain resets the mode to NVP_IOVA_UNSET and drops all
 * translations (lookups fail with -EFAULT until the next attach), so a
 * later attach may choose the other mode. The caller must have stopped all
 * DMA and all users of nvp_mem_iova_to_va() for this domain first.
 */
void nvp_mem_domain_detach(struct nvp_dma_domain *d);

/** nvp_mem_iova_mode() - the process's current IOVA mode. */
enum nvp_iova_mode nvp_mem_iova_mode(void);

/**
 * nvp_mem_reserve_bus_range() - bus addresses that belong to a device (a
 * Controller Memory Buffer's BAR) and must never be given to host memory.
 * @start: first bus address. @len: bytes.
 *
 * In NVP_IOVA_VIRT mode the IOVA allocator skips the range from now on; in
 * NVP_IOVA_PHYS mode nothing is needed (RAM's physical addresses are never
 * a BAR's).
 *
 * Return: 0; -EBUSY if memory already has IOVAs in the range (the caller
 * must not use it); -ENOSPC if too many ranges are reserved.
 */
int nvp_mem_reserve_bus_range(uint64_t start, uint64_t len);

/** nvp_mem_release_bus_range() - undo nvp_mem_reserve_bus_range(). */
void nvp_mem_release_bus_range(uint64_t start, uint64_t len);

/*
 * Hot-path translation. The map is published as an immutable, sorted
 * snapshot through an atomic pointer (RCU style: writers copy, readers
 * never lock). Retired snapshots are kept until the memory layer is torn
 * down, so a reader can never see freed memory.
 */

/**
 * struct nvp_mem_region - one DMA region in a snapshot.
 * @va: start (page aligned).
 * @len: length in bytes.
 * @seg_shift: log2 of the bus-contiguous segment size. In VIRT mode a region
 *             is one segment (seg_shift = 63); in PHYS mode one hugepage
 *             (or one 4 KiB page for a registration that does not start on
 *             a hugepage boundary). Segments are counted from @va.
 * @seg_iova: bus address of each segment: ceil(@len / 2^@seg_shift) entries.
 */
struct nvp_mem_region {
	uintptr_t va;
	size_t len;
	unsigned int seg_shift;
	const uint64_t *seg_iova;
};

/**
 * struct nvp_mem_iova_ent - one bus-contiguous segment, for reverse lookup.
 * @iova: bus address of the segment.
 * @len: its length.
 * @va: its virtual address.
 */
struct nvp_mem_iova_ent {
	uint64_t iova;
	uint64_t len;
	uintptr_t va;
};

/**
 * struct nvp_mem_snapshot - an immutable view of the map.
 * @count: number of regions.
 * @by_va: regions sorted by @va (non-overlapping).
 * @iova_count: number of segments in @by_iova.
 * @by_iova: every segment of every region, sorted by bus address.
 *
 * Only published while an IOVA mode is set: with no domain attached the
 * published pointer is NULL.
 */
struct nvp_mem_snapshot {
	uint32_t count;
	const struct nvp_mem_region *by_va;
	uint32_t iova_count;
	const struct nvp_mem_iova_ent *by_iova;
};

/* The published snapshot; read with acquire ordering. */
extern _Atomic(const struct nvp_mem_snapshot *) nvp_mem_current;

/**
 * nvp_mem_lookup() - translate a virtual address to a bus address.
 * @va: address inside DMA memory.
 * @iova: out: bus address of @va.
 * @contig: out: bytes from @va on that are contiguous in bus space (to the
 *          end of the segment).
 *
 * Binary search over the snapshot: no locks, no syscalls.
 *
 * Return: 0, or -EFAULT if @va is not inside a registered region or no IOVA
 * mode is set yet (no controller attached).
 */
static inline int nvp_mem_lookup(const void *va, uint64_t *iova, size_t *contig)
{
	/* Acquire pairs with the writer's release: the snapshot is complete. */
	const struct nvp_mem_snapshot *s =
		atomic_load_explicit(&nvp_mem_current, memory_order_acquire);
	const struct nvp_mem_region *base, *r;
	uintptr_t a = (uintptr_t)va;
	uint64_t off, seg_start, seg_end;
	uint32_t n;

	if (!s || !s->count)
		return -14; /* -EFAULT without dragging errno.h into every user */

	/* Find the last region starting at or below @a: halve the window,
	 * keeping base->va <= a (the loop body compiles to a cmov). */
	base = s->by_va;
	n = s->count;
	if (a < base->va)
		return -14;
	while (n > 1) {
		uint32_t half = n / 2;

		base = (base[half].va <= a) ? &base[half] : base;
		n -= half;
	}
	r = base;
	off = a - r->va;
	if (off >= r->len)
		return -14;

	/* seg_shift 63 (VIRT) makes the whole region segment 0. */
	seg_start = off >> r->seg_shift << r->seg_shift;
	seg_end = seg_start + (1ull << r->seg_shift);
	if (seg_end > r->len || seg_end < seg_start)
		seg_end = r->len;
	*iova = r->seg_iova[off >> r->seg_shift] + (off - seg_start);
	*contig = (size_t)(seg_end - off);
	return 0;
}

/**
 * nvp_mem_iova_to_va() - reverse translation, for the emulated controller.
 * @iova: a bus address.
 * @len: bytes the caller wants to access (at least 1).
 * @contig: out, optional: bytes contiguous in virtual memory from the result,
 *          up to the end of the segment (may be less than @len when the range
 *          spans segments: translate the rest with another call).
 *
 * Lock-free binary search over the published snapshot; safe from any thread.
 *
 * Return: the virtual address, or NULL if @iova is not mapped (a DMA fault).
 * With @contig NULL, also NULL unless all @len bytes lie in one segment.
 */
void *nvp_mem_iova_to_va(uint64_t iova, size_t len, size_t *contig);

/**
 * nvp_mem_numa_node_valid() - check a NUMA node argument (any layer's).
 * @node: the node.
 *
 * Return: the node to use (NVP_NUMA_ANY when the machine has no NUMA), or
 * -EINVAL (logged) for a node that does not exist.
 */
int nvp_mem_numa_node_valid(int node);

/**
 * nvp_mem_hugepage_hint() - the shell command that reserves hugepages.
 *
 * Return: a thread-local string such as
 * "echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
 * followed by "&& mount -t hugetlbfs nodev /dev/hugepages" when no hugetlbfs
 * is mounted. Valid until the next call on the same thread.
 */
const char *nvp_mem_hugepage_hint(void);

#endif /* NVP_LIB_MEM_H */
