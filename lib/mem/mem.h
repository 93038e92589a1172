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
 * @unmap: undo @map.
 * @priv: the domain's own state.
 * @next: list link, owned by the memory layer.
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
 * @mode: the IOVA mode this domain needs.
 *
 * Return: 0; -EINVAL if @mode conflicts with the process's current mode (the
 * message says which controllers use which mode); -ENOTSUP in PHYS mode
 * when an existing region is not hugepage memory; errors from @d->map.
 */
int nvp_mem_domain_attach(struct nvp_dma_domain *d, enum nvp_iova_mode mode);

/**
 * nvp_mem_domain_detach() - remove a domain, unmapping every region from it.
 * @d: the domain.
 */
void nvp_mem_domain_detach(struct nvp_dma_domain *d);

/** nvp_mem_iova_mode() - the process's current IOVA mode. */
enum nvp_iova_mode nvp_mem_iova_mode(void);

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
 *             is one segment (seg_shift = 63); in PHYS mode one hugepage.
 * @seg_iova: bus address of each segment (len >> seg_shift entries, at
 *            least one).
 */
struct nvp_mem_region {
	uintptr_t va;
	size_t len;
	unsigned int seg_shift;
	const uint64_t *seg_iova;
};

/**
 * struct nvp_mem_snapshot - an immutable view of the map.
 * @count: number of regions.
 * @by_va: regions sorted by @va.
 */
struct nvp_mem_snapshot {
	uint32_t count;
	const struct nvp_mem_region *by_va;
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
	uintptr_t a = (uintptr_t)va;
	uint32_t lo = 0, hi;

	if (!s)
		return -14; /* -EFAULT without dragging errno.h into every user */
	hi = s->count;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct nvp_mem_region *r = &s->by_va[mid];

		if (a < r->va) {
			hi = mid;
		} else if (a - r->va >= r->len) {
			lo = mid + 1;
		} else {
			uint64_t off = a - r->va;
			uint64_t seg = off >> r->seg_shift;
			uint64_t seg_start = seg << r->seg_shift;
			uint64_t seg_end = seg_start + (1ull << r->seg_shift);

			if (seg_end > r->len || seg_end < seg_start)
				seg_end = r->len;
			*iova = r->seg_iova[seg] + (off - seg_start);
			*contig = (size_t)(seg_end - off);
			return 0;
		}
	}
	return -14;
}

/**
 * nvp_mem_iova_to_va() - reverse translation, for the emulated controller.
 * @iova: a bus address.
 * @len: bytes the caller wants to access.
 * @contig: out, optional: bytes contiguous in virtual memory from the result
 *          (may be less than @len when the range spans segments).
 *
 * Return: the virtual address, or NULL if @iova is not mapped (a DMA fault).
 */
void *nvp_mem_iova_to_va(uint64_t iova, size_t len, size_t *contig);

/**
 * nvp_mem_is_hugepage() - whether @va lies in hugetlbfs-backed DMA memory.
 * @va: an address.
 */
bool nvp_mem_is_hugepage(const void *va);

/**
 * nvp_mem_hugepage_hint() - the shell command that reserves hugepages.
 *
 * Return: a static string such as
 * "echo 512 > /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages".
 */
const char *nvp_mem_hugepage_hint(void);

#endif /* NVP_LIB_MEM_H */
