/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear latency histogram (HDR style) for nvpoll-perf.
 *
 * A value v (TSC ticks) lands in bucket ((bit length - HIST_SUB_BITS) <<
 * HIST_SUB_BITS) + the HIST_SUB_BITS bits below its top bit. Values below
 * 2 * HIST_SUB_COUNT get a bucket each. Recording is one clz, two shifts,
 * one add and one increment; the relative bucket width is at most
 * 1/HIST_SUB_COUNT (about 3%).
 */
#ifndef NVPOLL_PERF_HIST_H
#define NVPOLL_PERF_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	5
#define HIST_SUB_COUNT	(1u << HIST_SUB_BITS)
/* Top bit 63 gives group 63 - HIST_SUB_BITS + 1. */
#define HIST_BUCKETS	((64 - HIST_SUB_BITS + 1) * HIST_SUB_COUNT)

struct hist {
	uint64_t count[HIST_BUCKETS];
};

static inline unsigned int hist_index(uint64_t v)
{
	unsigned int top, shift;

	if (v < 2 * HIST_SUB_COUNT)
		return (unsigned int)v;
	top = 63u - (unsigned int)__builtin_clzll(v);
	shift = top - HIST_SUB_BITS;
	return ((shift + 1) << HIST_SUB_BITS) |
	       (unsigned int)((v >> shift) & (HIST_SUB_COUNT - 1));
}

static inline void hist_record(struct hist *h, uint64_t v)
{
	h->count[hist_index(v)]++;
}

/* Smallest value that lands in bucket @i. */
uint64_t hist_bucket_low(unsigned int i);
/* Largest value that lands in bucket @i. */
uint64_t hist_bucket_high(unsigned int i);

void hist_reset(struct hist *h);
void hist_merge(struct hist *dst, const struct hist *src);
uint64_t hist_total(const struct hist *h);

/*
 * The value at or below which @fraction (0..1) of the samples lie: the upper
 * bound of the bucket holding that rank, so percentiles never understate.
 * Returns 0 for an empty histogram.
 */
uint64_t hist_percentile(const struct hist *h, double fraction);

#endif /* NVPOLL_PERF_HIST_H */
