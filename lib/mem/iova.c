// SPDX-License-Identifier: BSD-3-Clause
/*
 * lib/mem/iova.c - the IO virtual address allocator of VIRT mode.
 *
 * A sorted array of free ranges, first fit. First fit keeps IOVAs packed
 * just above 4 GiB, which matters because IOMMUs may offer as little as a
 * 39-bit address space; starting at 4 GiB keeps clear of the MSI window
 * (0xfee00000 on x86) and of anything a 32-bit DMA mask could mean.
 * Every call is made with the map mutex held.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem/internal.h"

#define IOVA_BASE	(1ull << 32)
#define IOVA_END	(1ull << 48)

struct iova_range {
	uint64_t start;
	uint64_t end; /* exclusive */
};

/*
 * Bus addresses that are not host memory (a CMB's BAR): never handed out,
 * or the controller would take a PRP pointing at host memory for its own.
 */
#define MAX_HOLES 8
static struct iova_range holes[MAX_HOLES];
static size_t nr_holes;

static struct iova_range *free_ranges;
static size_t nr_free, free_cap;
static size_t nr_live; /* allocations outstanding */

/*
 * Each live allocation can split one free range, so nr_live + 2 slots are
 * always enough; growing here, before allocating, lets nvp_iova_free()
 * never need memory.
 */
static int reserve_slots(void)
{
	size_t want = nr_live + 3;
	struct iova_range *n;

	if (free_cap >= want)
		return 0;
	want = want < 16 ? 16 : want * 2;
	n = realloc(free_ranges, want * sizeof(*n));
	if (!n)
		return -ENOMEM;
	free_ranges = n;
	free_cap = want;
	return 0;
}

/* Alignment that lets the IOMMU use its large pages for large regions. */
static uint64_t iova_align_for(size_t len)
{
	uint64_t a = NVP_SZ_4K;

	while (a < len && a < NVP_SZ_1G)
		a <<= 1;
	return a;
}

static void remove_slot(size_t i)
{
	memmove(&free_ranges[i], &free_ranges[i + 1],
		(nr_free - i - 1) * sizeof(*free_ranges));
	nr_free--;
}

static void insert_slot(size_t i, uint64_t start, uint64_t end)
{
	memmove(&free_ranges[i + 1], &free_ranges[i],
		(nr_free - i) * sizeof(*free_ranges));
	free_ranges[i].start = start;
	free_ranges[i].end = end;
	nr_free++;
}

/* Carve [s, s+len) out of free range i. */
static void carve(size_t i, uint64_t s, uint64_t len)
{
	struct iova_range *r = &free_ranges[i];
	uint64_t e = s + len;

	if (s == r->start && e == r->end)
		remove_slot(i);
	else if (s == r->start)
		r->start = e;
	else if (e == r->end)
		r->end = s;
	else {
		uint64_t old_end = r->end;

		r->end = s;
		insert_slot(i + 1, e, old_end);
	}
}

/* The first aligned start at or after @s whose range misses every hole. */
static uint64_t past_holes(uint64_t s, uint64_t len, uint64_t align)
{
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t h = 0; h < nr_holes; h++) {
			if (s < holes[h].end && s + len > holes[h].start) {
				s = (holes[h].end + align - 1) & ~(align - 1);
				moved = true;
			}
		}
	}
	return s;
}

static int first_fit(uint64_t len, uint64_t align, uint64_t avoid, uint64_t *out)
{
	for (size_t i = 0; i < nr_free; i++) {
		const struct iova_range *r = &free_ranges[i];
		uint64_t s = (r->start + align - 1) & ~(align - 1);

		if (s == avoid)
			s += align;
		s = past_holes(s, len, align);
		if (s < r->start || s >= r->end || r->end - s < len)
			continue;
		carve(i, s, len);
		*out = s;
		return 0;
	}
	return -ENOMEM;
}

int nvp_iova_alloc(size_t len, uint64_t avoid, uint64_t *iova)
{
	uint64_t l = ((uint64_t)len + NVP_SZ_4K - 1) & ~(NVP_SZ_4K - 1);
	int ret;

	ret = reserve_slots();
	if (ret)
		return ret;
	if (nr_live == 0) { /* start over from one free range */
		free_ranges[0].start = IOVA_BASE;
		free_ranges[0].end = IOVA_END;
		nr_free = 1;
	}
	ret = first_fit(l, iova_align_for(l), avoid, iova);
	if (!ret)
		nr_live++;
	return ret;
}

void nvp_iova_free(uint64_t iova, size_t len)
{
	uint64_t l = ((uint64_t)len + NVP_SZ_4K - 1) & ~(NVP_SZ_4K - 1);
	uint64_t e = iova + l;
	size_t i = 0;

	if (!nr_live)
		return;
	while (i < nr_free && free_ranges[i].start < iova)
		i++;
	/* i: first free range after the freed one; merge with neighbours. */
	if (i > 0 && free_ranges[i - 1].end == iova) {
		free_ranges[i - 1].end = e;
		if (i < nr_free && free_ranges[i].start == e) {
			free_ranges[i - 1].end = free_ranges[i].end;
			remove_slot(i);
		}
	} else if (i < nr_free && free_ranges[i].start == e) {
		free_ranges[i].start = iova;
	} else {
		insert_slot(i, iova, e);
	}
	nr_live--;
}

int nvp_iova_reserve(uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	bool inside = nr_live == 0;	/* nothing handed out: nothing to hit */

	if (!len || end < start)
		return -EINVAL;
	if (nr_holes == MAX_HOLES)
		return -ENOSPC;
	if (end <= IOVA_BASE || start >= IOVA_END)
		inside = true;	/* outside what the allocator hands out */
	for (size_t i = 0; i < nr_free && !inside; i++)
		inside = free_ranges[i].start <= start && end <= free_ranges[i].end;
	if (!inside)
		return -EBUSY;
	holes[nr_holes].start = start;
	holes[nr_holes].end = end;
	nr_holes++;
	return 0;
}

void nvp_iova_unreserve(uint64_t start, uint64_t len)
{
	for (size_t h = 0; h < nr_holes; h++) {
		if (holes[h].start == start && holes[h].end == start + len) {
			holes[h] = holes[--nr_holes];
			return;
		}
	}
}

void nvp_iova_teardown(void)
{
	free(free_ranges);
	free_ranges = NULL;
	nr_free = free_cap = nr_live = 0;
}
