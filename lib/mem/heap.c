// SPDX-License-Identifier: BSD-3-Clause
/*
 * lib/mem/heap.c - nvp_dma_alloc()/nvp_dma_free(): a sub-allocator over
 * hugepage chunks.
 *
 * One heap per (NUMA node, page size, hugepage or not). A heap grows by
 * chunks of exactly one hugepage, each a region in the map, and carves
 * first-fit blocks out of a chunk's sorted free-extent list. Because a
 * chunk is one page, a block no larger than a page never crosses a page
 * boundary, so queues and PRP lists are bus-contiguous in every mode.
 * Larger requests get a mapping of their own (1 GiB pages when reserved and
 * the request is at least that big). One empty chunk per heap is kept to
 * avoid map churn on alloc/free cycles; further empty chunks are released.
 *
 * Block metadata lives outside the DMA memory (a device could scribble on
 * an inline header), in a tsearch tree keyed by address. All of it is
 * under heap_lock; the lock order is heap_lock, then the map mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "mem/internal.h"
#include "util/log.h"

#define MIN_ALIGN	64	/* cache line: no false sharing between blocks */
#define DEFAULT_ALIGN	4096

struct extent {
	size_t off;
	size_t len;
	struct extent *next;
};

struct heap;

struct chunk {
	struct chunk *next;
	struct heap *heap;	/* NULL: a dedicated mapping for one buffer */
	uintptr_t va;
	size_t len;
	bool hugepage;
	size_t used;		/* bytes handed out */
	struct extent *free;	/* sorted by offset, coalesced */
};

struct heap {
	struct heap *next;
	int node;
	size_t page_size;
	bool hugepage;
	unsigned int empty_chunks;
	struct chunk *chunks;
};

struct block {
	uintptr_t va;
	size_t len;		/* as carved (rounded) */
	struct chunk *chunk;
	struct extent *spare;	/* so that freeing never needs memory */
	struct extent *split;	/* for carving; freed unless used */
};

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct heap *heaps;
static struct chunk *dedicated;	/* chunks with heap == NULL */
static void *blocks;		/* tsearch root of struct block */
static atomic_flag fallback_noted = ATOMIC_FLAG_INIT;

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->va < y->va ? -1 : x->va > y->va;
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static struct heap *get_heap(int node, size_t page_size, bool hugepage)
{
	struct heap *h;

	for (h = heaps; h; h = h->next)
		if (h->node == node && h->page_size == page_size && h->hugepage == hugepage)
			return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->node = node;
	h->page_size = page_size;
	h->hugepage = hugepage;
	h->next = heaps;
	heaps = h;
	return h;
}

/* ---- chunks ------------------------------------------------------------ */

static void chunk_release(struct chunk *c)
{
	struct chunk **pp = c->heap ? &c->heap->chunks : &dedicated;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	if (nvp_mem_map_remove((void *)c->va, NVP_REGION_DMA, NULL))
		nvp_warn("DMA chunk %p was missing from the map", (void *)c->va);
	nvp_mem_unmap((void *)c->va, c->len);
	while (c->free) {
		struct extent *e = c->free;

		c->free = e->next;
		free(e);
	}
	free(c);
}

/*
 * Map @len bytes of hugepages (@page_size) or, with @page_size 0, ordinary
 * memory, and enter them into the map. *@no_pages says the hugepages were
 * simply not there, which is the one failure that allows a fallback.
 */
static int chunk_create(size_t len, size_t page_size, int node, struct chunk **out,
			bool *no_pages)
{
	struct chunk *c;
	void *va;
	int ret;

	*no_pages = false;
	c = calloc(1, sizeof(*c));
	if (!c)
		return nvp_error(-ENOMEM, "out of memory for DMA heap bookkeeping");
	if (page_size)
		ret = nvp_hugepage_map(len, page_size, node, &va);
	else
		ret = nvp_anon_map(len, node, &va);
	if (ret) {
		free(c);
		if (page_size) {
			*no_pages = true;
			return ret;
		}
		return nvp_error(-ENOMEM, "cannot map %zu bytes of memory for DMA; the system is out of memory",
				 len);
	}
	c->va = (uintptr_t)va;
	c->len = len;
	c->hugepage = page_size != 0;
	ret = nvp_mem_map_add(va, len, NVP_REGION_DMA,
			      c->hugepage ? NVP_BACKING_HUGE : NVP_BACKING_NORMAL,
			      page_size ? (unsigned int)__builtin_ctzll(page_size) : 12);
	if (ret) {
		nvp_mem_unmap(va, len);
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

static int heap_grow(struct heap *h, struct chunk **out, bool *no_pages)
{
	struct extent *e = malloc(sizeof(*e));
	struct chunk *c = NULL;
	int ret;

	*no_pages = false;
	if (!e)
		return nvp_error(-ENOMEM, "out of memory for DMA heap bookkeeping");
	ret = chunk_create(h->page_size, h->hugepage ? h->page_size : 0, h->node, &c,
			   no_pages);
	if (ret) {
		free(e);
		return ret;
	}
	e->off = 0;
	e->len = c->len;
	e->next = NULL;
	c->free = e;
	c->heap = h;
	c->next = h->chunks;
	h->chunks = c;
	h->empty_chunks++;
	*out = c;
	return 0;
}

/* Carve @len bytes aligned to @align out of @c; 0 if it does not fit. */
static uintptr_t chunk_carve(struct chunk *c, size_t len, size_t align,
			     struct extent **spare)
{
	for (struct extent **pp = &c->free; *pp; pp = &(*pp)->next) {
		struct extent *e = *pp;
		uintptr_t start = c->va + e->off;
		uintptr_t a = (start + align - 1) & ~(uintptr_t)(align - 1);
		size_t pad = a - start;

		if (pad > e->len || e->len - pad < len)
			continue;
		if (pad && e->len - pad > len) {
			/* Keep the leading pad in e; the tail needs a node. */
			struct extent *tail = *spare;

			*spare = NULL;
			tail->off = e->off + pad + len;
			tail->len = e->len - pad - len;
			tail->next = e->next;
			e->len = pad;
			e->next = tail;
		} else if (pad) {
			e->len = pad;
		} else if (e->len > len) {
			e->off += len;
			e->len -= len;
		} else {
			*pp = e->next;
			free(e);
		}
		if (!c->used && c->heap)
			c->heap->empty_chunks--;
		c->used += len;
		return a;
	}
	return 0;
}

/* Give [off, off+len) back to @c, coalescing; uses @spare if needed. */
static void chunk_return(struct chunk *c, size_t off, size_t len, struct extent *spare)
{
	struct extent *prev = NULL, *next = c->free;

	while (next && next->off < off) {
		prev = next;
		next = next->next;
	}
	if (prev && prev->off + prev->len == off) {
		prev->len += len;
		if (next && off + len == next->off) {
			prev->len += next->len;
			prev->next = next->next;
			free(next);
		}
		free(spare);
	} else if (next && off + len == next->off) {
		next->off = off;
		next->len += len;
		free(spare);
	} else {
		spare->off = off;
		spare->len = len;
		spare->next = next;
		if (prev)
			prev->next = spare;
		else
			c->free = spare;
	}
	c->used -= len;
}

/* ---- allocation -------------------------------------------------------- */

static uintptr_t heap_try(struct heap *h, size_t len, size_t align, struct extent **spare,
			  struct chunk **from)
{
	for (struct chunk *c = h->chunks; c; c = c->next) {
		uintptr_t a = chunk_carve(c, len, align, spare);

		if (a) {
			*from = c;
			return a;
		}
	}
	return 0;
}

static void note_fallback(int node)
{
	if (!atomic_flag_test_and_set(&fallback_noted))
		nvp_info("no free hugepages; DMA memory comes from ordinary pages, which works with an IOMMU (vfio) or the emulated controller but not with no-IOMMU vfio or uio. To use hugepages: %s",
			 nvp_mem_hugepage_hint_for(node, 0));
}

static int no_hugepages_error(size_t size, int node)
{
	return nvp_error(-ENOMEM, "no free hugepages for %zu bytes of DMA memory, and without an IOMMU (no-IOMMU vfio, uio) the device needs hugepages; reserve some: %s",
			 size, nvp_mem_hugepage_hint_for(node, size));
}

static int alloc_small(struct block *b, size_t size, size_t align, int node, size_t base)
{
	size_t len = round_up(size, MIN_ALIGN);
	struct heap *h = NULL;
	struct chunk *c;
	bool no_pages = true;
	int ret;

	if (nvp_hugepage_default_size()) {
		h = get_heap(node, base, true);
		if (!h)
			return nvp_error(-ENOMEM, "out of memory for DMA heap bookkeeping");
		b->va = heap_try(h, len, align, &b->split, &b->chunk);
		if (b->va)
			goto done;
		ret = heap_grow(h, &c, &no_pages);
		if (!ret) {
			b->va = chunk_carve(c, len, align, &b->split);
			b->chunk = c;
			goto done;
		}
		if (!no_pages)
			return ret;
	}
	if (nvp_mem_iova_mode() == NVP_IOVA_PHYS)
		return no_hugepages_error(size, node);
	h = get_heap(node, round_up(base, NVP_SZ_2M), false);
	if (!h)
		return nvp_error(-ENOMEM, "out of memory for DMA heap bookkeeping");
	b->va = heap_try(h, len, align, &b->split, &b->chunk);
	if (!b->va) {
		ret = heap_grow(h, &c, &no_pages);
		if (ret)
			return ret;
		note_fallback(node);
		b->va = chunk_carve(c, len, align, &b->split);
		b->chunk = c;
	}
done:
	if (!b->va) /* cannot happen: a fresh chunk fits any small request */
		return nvp_error(-ENOMEM, "DMA heap could not place %zu bytes", size);
	b->len = len;
	memset((void *)b->va, 0, size);
	return 0;
}

static int alloc_large(struct block *b, size_t size, int node, size_t base)
{
	size_t large = nvp_hugepage_large_size();
	struct chunk *c = NULL;
	bool no_pages = true;
	size_t len;
	int ret = -ENOMEM;

	if (large && size >= large &&
	    (size_t)nvp_hugepage_available(large, NVP_NUMA_ANY) >= round_up(size, large) / large) {
		ret = chunk_create(round_up(size, large), large, node, &c, &no_pages);
		if (ret && !no_pages)
			return ret;
	}
	if (ret && base) {
		ret = chunk_create(round_up(size, base), base, node, &c, &no_pages);
		if (ret && !no_pages)
			return ret;
	}
	if (ret) {
		if (nvp_mem_iova_mode() == NVP_IOVA_PHYS)
			return no_hugepages_error(size, node);
		len = round_up(size, NVP_SZ_2M);
		ret = chunk_create(len, 0, node, &c, &no_pages);
		if (ret)
			return ret;
		note_fallback(node);
	}
	c->used = c->len;
	c->next = dedicated;
	dedicated = c;
	b->va = c->va;
	b->len = c->len;
	b->chunk = c;
	/* A fresh mapping is already zero. */
	return 0;
}

NVP_API void *nvp_dma_alloc(size_t size, size_t align, int numa_node)
{
	size_t base = nvp_hugepage_default_size();
	struct block *b;
	int node, ret;

	if (!base)
		base = NVP_SZ_2M;
	if (!align)
		align = DEFAULT_ALIGN;
	if (!size || (align & (align - 1)) || align > base || size > SIZE_MAX / 2) {
		nvp_error(-EINVAL, "nvp_dma_alloc(%zu, %zu): the size must be non-zero and the alignment a power of two no larger than the hugepage size (%zu)",
			  size, align, base);
		errno = EINVAL;
		return NULL;
	}
	node = nvp_mem_numa_node_valid(numa_node);
	if (node < NVP_NUMA_ANY) {
		errno = -node;
		return NULL;
	}
	if (align < MIN_ALIGN)
		align = MIN_ALIGN;

	b = calloc(1, sizeof(*b));
	if (b) {
		b->spare = malloc(sizeof(*b->spare));
		b->split = malloc(sizeof(*b->split));
	}
	if (!b || !b->spare || !b->split) {
		if (b) {
			free(b->spare);
			free(b->split);
		}
		free(b);
		nvp_error(-ENOMEM, "out of memory for DMA heap bookkeeping");
		errno = ENOMEM;
		return NULL;
	}

	pthread_mutex_lock(&heap_lock);
	if (size <= base)
		ret = alloc_small(b, size, align, node, base);
	else
		ret = alloc_large(b, size, node, base);
	if (!ret && !tsearch(b, &blocks, cmp_block)) {
		/* Cannot track it: give it straight back. */
		if (b->chunk->heap) {
			chunk_return(b->chunk, b->va - b->chunk->va, b->len, b->spare);
			b->spare = NULL;
		} else {
			chunk_release(b->chunk);
		}
		ret = nvp_error(-ENOMEM, "out of memory for DMA heap bookkeeping");
	}
	pthread_mutex_unlock(&heap_lock);
	free(b->split);
	b->split = NULL;
	if (ret) {
		free(b->spare);
		free(b);
		errno = -ret;
		return NULL;
	}
	return (void *)b->va;
}

/* Keep one empty chunk per heap for the next allocation; release others. */
static void maybe_release(struct chunk *c)
{
	if (c->used)
		return;
	if (!c->heap) {
		chunk_release(c);
		return;
	}
	c->heap->empty_chunks++;
	if (c->heap->empty_chunks > 1) {
		c->heap->empty_chunks--;
		chunk_release(c);
	}
}

NVP_API void nvp_dma_free(void *buf)
{
	struct block key = { .va = (uintptr_t)buf }, *b;
	void **node;

	if (!buf)
		return;
	pthread_mutex_lock(&heap_lock);
	node = tfind(&key, &blocks, cmp_block);
	if (!node) {
		pthread_mutex_unlock(&heap_lock);
		nvp_error(-EINVAL, "nvp_dma_free(%p): not a buffer from nvp_dma_alloc(), or already freed",
			  buf);
		return;
	}
	b = *node;
	tdelete(&key, &blocks, cmp_block);
	if (b->chunk->heap) {
		chunk_return(b->chunk, b->va - b->chunk->va, b->len, b->spare);
		b->spare = NULL;
	} else {
		b->chunk->used = 0;
	}
	maybe_release(b->chunk);
	pthread_mutex_unlock(&heap_lock);
	free(b->spare);
	free(b);
}

void nvp_mem_heap_trim(bool normal_only)
{
	pthread_mutex_lock(&heap_lock);
	for (struct heap *h = heaps; h; h = h->next) {
		struct chunk *c, *next;

		if (normal_only && h->hugepage)
			continue;
		for (c = h->chunks; c; c = next) {
			next = c->next;
			if (!c->used) {
				h->empty_chunks--;
				chunk_release(c);
			}
		}
	}
	pthread_mutex_unlock(&heap_lock);
}

/* ---- teardown ---------------------------------------------------------- */

static void free_block(void *p)
{
	struct block *b = p;

	free(b->spare);
	free(b);
}

static void free_chunk_meta(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		while (c->free) {
			struct extent *e = c->free;

			c->free = e->next;
			free(e);
		}
		free(c);
		c = next;
	}
}

/*
 * At exit, free the bookkeeping so leak checkers stay quiet. The DMA
 * memory itself is left mapped (a device may still be using it) and goes
 * with the process.
 */
__attribute__((destructor)) static void heap_teardown(void)
{
	if (pthread_mutex_trylock(&heap_lock))
		return;
	tdestroy(blocks, free_block);
	blocks = NULL;
	while (heaps) {
		struct heap *next = heaps->next;

		free_chunk_meta(heaps->chunks);
		free(heaps);
		heaps = next;
	}
	free_chunk_meta(dedicated);
	dedicated = NULL;
	pthread_mutex_unlock(&heap_lock);
}
