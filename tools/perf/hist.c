// SPDX-License-Identifier: BSD-3-Clause
#include <string.h>

#include "hist.h"

uint64_t hist_bucket_low(unsigned int i)
{
	unsigned int group = i >> HIST_SUB_BITS;

	if (group <= 1)
		return i;
	return (uint64_t)(HIST_SUB_COUNT | (i & (HIST_SUB_COUNT - 1))) << (group - 1);
}

uint64_t hist_bucket_high(unsigned int i)
{
	if (i + 1 >= HIST_BUCKETS)
		return UINT64_MAX;
	return hist_bucket_low(i + 1) - 1;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		dst->count[i] += src->count[i];
}

uint64_t hist_total(const struct hist *h)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		total += h->count[i];
	return total;
}

uint64_t hist_percentile(const struct hist *h, double fraction)
{
	uint64_t total = hist_total(h), rank, seen = 0;

	if (!total)
		return 0;
	if (fraction < 0)
		fraction = 0;
	/* rank of the sample we want, 1-based: ceil(fraction * total) */
	rank = (uint64_t)(fraction * (double)total);
	if ((double)rank < fraction * (double)total)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank)
			return hist_bucket_high(i);
	}
	return UINT64_MAX;
}
