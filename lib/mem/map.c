// SPDX-License-Identifier: BSD-3-Clause
/*
 * lib/mem/map.c - the process-wide map of DMA regions, its published
 * snapshots, IOVA modes and DMA domains.
 *
 * Writers (alloc/free of heap chunks, register/unregister, attach/detach)
 * serialise on map_lock, keep the authoritative region array here, and
 * after each change build a complete new snapshot (regions sorted by VA
 * plus every segment sorted by IOVA, all in one allocation) and publish it
 * with a release store. Readers (nvp_mem_lookup(), nvp_mem_iova_to_va())
 * take no lock: they load the pointer with acquire and binary-search an
 * immutable array. An old snapshot may still be under a reader's feet, and
 * there is no cheap way to know when the last reader has left, so it is
 * retired to a list and freed only at teardown. Map changes are rare
 * (chunks are 2 MiB, registrations are meant to be long-lived), so the
 * retired list stays small.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem/internal.h"
#include "util/log.h"

#define VIRT_SEG_SHIFT 63 /* "the whole region is one segment" */

struct region {
	uintptr_t va;
	size_t len;
	enum nvp_region_kind kind;
	enum nvp_backing backing;
	unsigned int page_shift;	/* backing page size when HUGE */
	bool translated;		/* seg_* valid (always for FIXED) */
	unsigned int seg_shift;
	uint32_t nseg;
	uint64_t *seg_iova;
};

/* A published snapshot and the arrays it points to, in one allocation. */
struct snap_block {
	struct snap_block *retired_next;
	struct nvp_mem_snapshot pub;
	/* then: struct nvp_mem_region[count], struct nvp_mem_iova_ent[],
	 * uint64_t seg_iova[] */
};

_Atomic(const struct nvp_mem_snapshot *) nvp_mem_current;

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct region *regions;		/* sorted by va, non-overlapping */
static uint32_t nr_regions, regions_cap;
static struct nvp_dma_domain *domains;
static _Atomic int iova_mode = NVP_IOVA_UNSET;
static struct snap_block *retired;
static struct snap_block *current_block;

static const char *mode_name(int mode)
{
	return mode == NVP_IOVA_PHYS ? "physical" : "IOMMU virtual";
}

int nvp_mem_reserve_bus_range(uint64_t start, uint64_t len)
{
	int rc = 0;

	pthread_mutex_lock(&map_lock);
	if (nvp_mem_iova_mode() != NVP_IOVA_PHYS)
		rc = nvp_iova_reserve(start, len);
	pthread_mutex_unlock(&map_lock);
	return rc;
}

void nvp_mem_release_bus_range(uint64_t start, uint64_t len)
{
	pthread_mutex_lock(&map_lock);
	nvp_iova_unreserve(start, len);
	pthread_mutex_unlock(&map_lock);
}

enum nvp_iova_mode nvp_mem_iova_mode(void)
{
	return (enum nvp_iova_mode)atomic_load_explicit(&iova_mode, memory_order_acquire);
}

/* ---- snapshots --------------------------------------------------------- */

static int cmp_iova_ent(const void *a, const void *b)
{
	const struct nvp_mem_iova_ent *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static uint64_t seg_len(const struct region *r, uint32_t i)
{
	uint64_t start = (uint64_t)i << r->seg_shift;
	uint64_t left = r->len - start;

	if (r->seg_shift >= 63)
		return left;
	return left < (1ull << r->seg_shift) ? left : (1ull << r->seg_shift);
}

/* Build the snapshot for the current region array; NULL in UNSET mode. */
static int build_snapshot(struct snap_block **out)
{
	struct nvp_mem_region *by_va;
	struct nvp_mem_iova_ent *by_iova;
	struct snap_block *b;
	uint64_t *segs;
	uint32_t count = 0, nents = 0;
	size_t size;

	*out = NULL;
	if (atomic_load_explicit(&iova_mode, memory_order_relaxed) == NVP_IOVA_UNSET)
		return 0;
	for (uint32_t i = 0; i < nr_regions; i++) {
		if (!regions[i].translated)
			continue;
		count++;
		nents += regions[i].nseg;
	}
	size = sizeof(*b) + count * sizeof(*by_va) + nents * sizeof(*by_iova) +
	       nents * sizeof(*segs);
	b = calloc(1, size);
	if (!b)
		return -ENOMEM;
	by_va = (struct nvp_mem_region *)(b + 1);
	by_iova = (struct nvp_mem_iova_ent *)(by_va + count);
	segs = (uint64_t *)(by_iova + nents);

	count = nents = 0;
	for (uint32_t i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (!r->translated)
			continue;
		memcpy(segs, r->seg_iova, r->nseg * sizeof(*segs));
		by_va[count].va = r->va;
		by_va[count].len = r->len;
		by_va[count].seg_shift = r->seg_shift;
		by_va[count].seg_iova = segs;
		count++;
		for (uint32_t s = 0; s < r->nseg; s++) {
			by_iova[nents].iova = r->seg_iova[s];
			by_iova[nents].len = seg_len(r, s);
			by_iova[nents].va = r->va + ((uint64_t)s << (r->seg_shift & 63));
			nents++;
		}
		segs += r->nseg;
	}
	qsort(by_iova, nents, sizeof(*by_iova), cmp_iova_ent);
	b->pub.count = count;
	b->pub.by_va = by_va;
	b->pub.iova_count = nents;
	b->pub.by_iova = by_iova;
	*out = b;
	return 0;
}

static void publish(struct snap_block *b)
{
	/* Release: a reader that sees the pointer sees the filled arrays. */
	atomic_store_explicit(&nvp_mem_current, b ? &b->pub : NULL, memory_order_release);
	if (current_block) {
		current_block->retired_next = retired;
		retired = current_block;
	}
	current_block = b;
}

static int republish(void)
{
	struct snap_block *b;
	int ret = build_snapshot(&b);

	if (ret)
		return nvp_error(ret, "out of memory building the DMA address map; free some memory and retry");
	publish(b);
	return 0;
}

/* ---- translations ------------------------------------------------------ */

static int translate_virt(struct region *r)
{
	uint64_t iova;
	int ret;

	r->seg_iova = malloc(sizeof(*r->seg_iova));
	if (!r->seg_iova)
		return nvp_error(-ENOMEM, "out of memory for the DMA address map");
	ret = nvp_iova_alloc(r->len, r->va, &iova);
	if (ret) {
		free(r->seg_iova);
		r->seg_iova = NULL;
		return nvp_error(ret, "IO virtual address space exhausted mapping %zu bytes; free or unregister DMA memory",
				 r->len);
	}
	r->seg_shift = VIRT_SEG_SHIFT;
	r->nseg = 1;
	r->seg_iova[0] = iova;
	return 0;
}

static int translate_phys(struct region *r)
{
	uint64_t seg;
	int ret;

	if (r->backing == NVP_BACKING_UNKNOWN)
		r->backing = nvp_mem_probe_backing(r->va, r->len, &r->page_shift);
	if (r->backing != NVP_BACKING_HUGE) {
		if (r->kind == NVP_REGION_USER)
			return nvp_error(-ENOTSUP, "registered buffer %p (%zu bytes) is not hugetlbfs memory; without an IOMMU (no-IOMMU vfio, uio) the device uses physical addresses and ordinary pages may move, so only hugepage memory can be registered: unregister it and use nvp_dma_alloc() or hugetlbfs memory, or use VFIO with an IOMMU",
					 (void *)r->va, r->len);
		return nvp_error(-ENOTSUP, "DMA memory at %p (%zu bytes) is ordinary memory (allocated while no hugepages were free); physical-address mode (no-IOMMU vfio, uio) needs hugepages: free it before attaching the controller and reserve hugepages: %s",
				 (void *)r->va, r->len, nvp_mem_hugepage_hint());
	}
	/* Segments count from the region start: use hugepage-sized ones only
	 * when the start is on a hugepage boundary, else 4 KiB ones. */
	r->seg_shift = (r->va & ((1ull << r->page_shift) - 1)) ? 12 : r->page_shift;
	seg = 1ull << r->seg_shift;
	r->nseg = (uint32_t)((r->len + seg - 1) >> r->seg_shift);
	r->seg_iova = malloc(r->nseg * sizeof(*r->seg_iova));
	if (!r->seg_iova)
		return nvp_error(-ENOMEM, "out of memory for the DMA address map");
	ret = nvp_mem_phys_segments(r->va, r->len, r->seg_shift, r->seg_iova);
	if (ret) {
		free(r->seg_iova);
		r->seg_iova = NULL;
	}
	return ret;
}

static int translate(struct region *r, int mode)
{
	int ret;

	if (r->translated)
		return 0;
	ret = mode == NVP_IOVA_PHYS ? translate_phys(r) : translate_virt(r);
	if (!ret)
		r->translated = true;
	return ret;
}

static void untranslate(struct region *r, int mode)
{
	if (!r->translated)
		return;
	if (mode == NVP_IOVA_VIRT)
		nvp_iova_free(r->seg_iova[0], r->len);
	free(r->seg_iova);
	r->seg_iova = NULL;
	r->translated = false;
	r->nseg = 0;
}

/* ---- domains ----------------------------------------------------------- */

static void domain_unmap_segs(struct nvp_dma_domain *d, const struct region *r,
			      uint32_t nseg)
{
	if (!d->unmap)
		return;
	for (uint32_t s = 0; s < nseg; s++) {
		uint64_t off = (uint64_t)s << (r->seg_shift & 63);
		int ret = d->unmap(d, (void *)(r->va + off), r->seg_iova[s], seg_len(r, s));

		if (ret)
			nvp_warn("%s: unmapping DMA memory at %p failed (%d)", d->name,
				 (void *)(r->va + off), ret);
	}
}

static int domain_map_region(struct nvp_dma_domain *d, const struct region *r)
{
	if (!d->map)
		return 0;
	for (uint32_t s = 0; s < r->nseg; s++) {
		uint64_t off = (uint64_t)s << (r->seg_shift & 63);
		int ret = d->map(d, (void *)(r->va + off), r->seg_iova[s], seg_len(r, s));

		if (ret) {
			domain_unmap_segs(d, r, s);
			return ret < 0 ? ret : -EIO;
		}
	}
	return 0;
}

static void domain_unmap_region(struct nvp_dma_domain *d, const struct region *r)
{
	domain_unmap_segs(d, r, r->nseg);
}

/* Map @r into every domain, or into none. */
static int map_everywhere(const struct region *r)
{
	struct nvp_dma_domain *d, *undo;
	int ret;

	for (d = domains; d; d = d->next) {
		ret = domain_map_region(d, r);
		if (ret) {
			for (undo = domains; undo != d; undo = undo->next)
				domain_unmap_region(undo, r);
			return ret;
		}
	}
	return 0;
}

static void unmap_everywhere(const struct region *r)
{
	for (struct nvp_dma_domain *d = domains; d; d = d->next)
		domain_unmap_region(d, r);
}

/* ---- the region array -------------------------------------------------- */

/* Index of the first region with va >= @va. */
static uint32_t lower_bound(uintptr_t va)
{
	uint32_t lo = 0, hi = nr_regions;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (regions[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve_region_slot(void)
{
	struct region *n;
	uint32_t cap;

	if (nr_regions < regions_cap)
		return 0;
	cap = regions_cap ? regions_cap * 2 : 32;
	n = realloc(regions, cap * sizeof(*n));
	if (!n)
		return nvp_error(-ENOMEM, "out of memory for the DMA region map");
	regions = n;
	regions_cap = cap;
	return 0;
}

static void insert_at(uint32_t i, const struct region *r)
{
	memmove(&regions[i + 1], &regions[i], (nr_regions - i) * sizeof(*regions));
	regions[i] = *r;
	nr_regions++;
}

static void remove_at(uint32_t i)
{
	memmove(&regions[i], &regions[i + 1], (nr_regions - i - 1) * sizeof(*regions));
	nr_regions--;
}

static int add_locked(struct region *r)
{
	int mode = atomic_load_explicit(&iova_mode, memory_order_relaxed);
	uint32_t i = lower_bound(r->va);
	const struct region *o = NULL;
	int ret;

	if (i < nr_regions && regions[i].va - r->va < r->len)
		o = &regions[i];
	else if (i > 0 && r->va - regions[i - 1].va < regions[i - 1].len)
		o = &regions[i - 1];
	if (o)
		return nvp_error(-EEXIST, "memory %p-%p overlaps DMA memory %p-%p that is already %s; unregister it first, or register one combined range",
				 (void *)r->va, (void *)(r->va + r->len), (void *)o->va,
				 (void *)(o->va + o->len),
				 o->kind == NVP_REGION_USER ? "registered" : "allocated by nvp_dma_alloc()");
	ret = reserve_region_slot();
	if (ret)
		return ret;
	if (mode != NVP_IOVA_UNSET) {
		ret = translate(r, mode);
		if (ret)
			return ret;
	}
	ret = map_everywhere(r);
	if (ret)
		goto untranslate;
	insert_at(i, r);
	ret = republish();
	if (ret) {
		remove_at(i);
		unmap_everywhere(r);
		goto untranslate;
	}
	return 0;

untranslate:
	untranslate(r, mode);
	return ret;
}

int nvp_mem_map_add(void *va, size_t len, enum nvp_region_kind kind,
		    enum nvp_backing backing, unsigned int page_shift)
{
	struct region r = {
		.va = (uintptr_t)va,
		.len = len,
		.kind = kind,
		.backing = backing,
		.page_shift = page_shift,
	};
	int ret;

	if (!len || (uintptr_t)va + len < (uintptr_t)va)
		return nvp_error(-EINVAL, "DMA region %p of %zu bytes is empty or wraps around", va, len);
	pthread_mutex_lock(&map_lock);
	ret = add_locked(&r);
	pthread_mutex_unlock(&map_lock);
	return ret;
}

int nvp_mem_map_remove(void *va, enum nvp_region_kind kind, size_t *len)
{
	int mode, ret;
	struct region r;
	uint32_t i;

	pthread_mutex_lock(&map_lock);
	mode = atomic_load_explicit(&iova_mode, memory_order_relaxed);
	i = lower_bound((uintptr_t)va);
	if (i >= nr_regions || regions[i].va != (uintptr_t)va || regions[i].kind != kind) {
		pthread_mutex_unlock(&map_lock);
		return -ENOENT;
	}
	r = regions[i];
	remove_at(i);
	ret = republish();
	if (ret) {
		insert_at(i, &r);
		pthread_mutex_unlock(&map_lock);
		return ret;
	}
	/* Lookups can no longer find it; now the devices lose it too. */
	unmap_everywhere(&r);
	untranslate(&r, mode);
	pthread_mutex_unlock(&map_lock);
	if (len)
		*len = r.len;
	return 0;
}

/* ---- attach / detach --------------------------------------------------- */

static void untranslate_all(int mode)
{
	for (uint32_t i = 0; i < nr_regions; i++)
		untranslate(&regions[i], mode);
}

static int attach_locked(struct nvp_dma_domain *d, int mode)
{
	int cur = atomic_load_explicit(&iova_mode, memory_order_relaxed);
	bool first = cur == NVP_IOVA_UNSET;
	uint32_t i;
	int ret = 0;

	for (struct nvp_dma_domain *x = domains; x; x = x->next)
		if (x == d)
			return nvp_error(-EINVAL, "DMA domain %s is already attached", d->name);
	if (!first && cur != mode)
		return nvp_error(-EINVAL, "%s needs %s addresses, but this process already uses %s addresses for %s; IOMMU and no-IOMMU/uio controllers cannot be mixed in one process",
				 d->name, mode_name(mode), mode_name(cur),
				 domains ? domains->name : "another controller");
	if (first) {
		atomic_store_explicit(&iova_mode, mode, memory_order_release);
		for (i = 0; i < nr_regions && !ret; i++)
			ret = translate(&regions[i], mode);
		if (ret)
			goto reset;
	}
	for (i = 0; i < nr_regions; i++) {
		ret = domain_map_region(d, &regions[i]);
		if (ret) {
			while (i--)
				domain_unmap_region(d, &regions[i]);
			goto reset;
		}
	}
	d->next = domains;
	domains = d;
	if (first) {
		ret = republish();
		if (ret) {
			domains = d->next;
			for (i = 0; i < nr_regions; i++)
				domain_unmap_region(d, &regions[i]);
			goto reset;
		}
	}
	return 0;

reset:
	if (first) {
		untranslate_all(mode);
		atomic_store_explicit(&iova_mode, NVP_IOVA_UNSET, memory_order_release);
	}
	return ret;
}

int nvp_mem_domain_attach(struct nvp_dma_domain *d, enum nvp_iova_mode mode)
{
	int ret;

	if (!d || (mode != NVP_IOVA_VIRT && mode != NVP_IOVA_PHYS))
		return nvp_error(-EINVAL, "attaching a DMA domain needs a domain and NVP_IOVA_VIRT or NVP_IOVA_PHYS");
	if (!d->name)
		d->name = "DMA domain";
	/* Cached empty chunks of ordinary memory would make a PHYS attach
	 * fail for no reason; drop them first (heap lock before map lock). */
	if (mode == NVP_IOVA_PHYS)
		nvp_mem_heap_trim(true);
	pthread_mutex_lock(&map_lock);
	ret = attach_locked(d, mode);
	pthread_mutex_unlock(&map_lock);
	if (!ret)
		nvp_debug("mem: %s attached (%s addresses, %u regions)", d->name,
			  mode_name(mode), nr_regions);
	return ret;
}

void nvp_mem_domain_detach(struct nvp_dma_domain *d)
{
	struct nvp_dma_domain **pp;
	int mode;

	if (!d)
		return;
	pthread_mutex_lock(&map_lock);
	for (pp = &domains; *pp && *pp != d; pp = &(*pp)->next)
		;
	if (!*pp) {
		pthread_mutex_unlock(&map_lock);
		return;
	}
	for (uint32_t i = 0; i < nr_regions; i++)
		domain_unmap_region(d, &regions[i]);
	*pp = d->next;
	d->next = NULL;
	if (!domains) {
		/* Last one: forget the mode so the next attach may pick again. */
		mode = atomic_load_explicit(&iova_mode, memory_order_relaxed);
		atomic_store_explicit(&iova_mode, NVP_IOVA_UNSET, memory_order_release);
		publish(NULL);
		untranslate_all(mode);
	}
	pthread_mutex_unlock(&map_lock);
}

/* ---- queries ----------------------------------------------------------- */

void *nvp_mem_iova_to_va(uint64_t iova, size_t len, size_t *contig)
{
	const struct nvp_mem_snapshot *s =
		atomic_load_explicit(&nvp_mem_current, memory_order_acquire);
	const struct nvp_mem_iova_ent *base;
	uint64_t off, avail;
	uint32_t n;

	if (!s || !s->iova_count)
		return NULL;
	base = s->by_iova;
	n = s->iova_count;
	if (iova < base->iova)
		return NULL;
	while (n > 1) {
		uint32_t half = n / 2;

		base = (base[half].iova <= iova) ? &base[half] : base;
		n -= half;
	}
	off = iova - base->iova;
	if (off >= base->len)
		return NULL;
	avail = base->len - off;
	if (!len)
		len = 1;
	if (contig)
		*contig = avail < len ? (size_t)avail : len;
	else if (avail < len)
		return NULL;
	return (void *)(base->va + off);
}

/* ---- teardown ---------------------------------------------------------- */

/*
 * At exit, free the snapshots and bookkeeping (so valgrind sees no leaks)
 * unless a domain is still attached: then a device thread may still be
 * reading, and the memory is simply left to the kernel.
 */
__attribute__((destructor)) static void map_teardown(void)
{
	if (pthread_mutex_trylock(&map_lock))
		return;
	if (domains) {
		pthread_mutex_unlock(&map_lock);
		return;
	}
	publish(NULL);
	while (retired) {
		struct snap_block *next = retired->retired_next;

		free(retired);
		retired = next;
	}
	for (uint32_t i = 0; i < nr_regions; i++)
		free(regions[i].seg_iova);
	free(regions);
	regions = NULL;
	nr_regions = regions_cap = 0;
	nvp_iova_teardown();
	pthread_mutex_unlock(&map_lock);
}
