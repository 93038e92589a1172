// SPDX-License-Identifier: BSD-3-Clause
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"
#include "rng.h"

#define WORD_STEP 0x9e3779b97f4a7c15ull

static uint64_t block_base(uint64_t lba, uint64_t seed, uint32_t gen)
{
	uint64_t x = lba ^ (seed * 0xd1342543de82ef95ull) ^ ((uint64_t)gen << 48);

	return splitmix64(&x);
}

/*
 * Body words and checksum, four independent vector lanes at a time: the
 * per-I/O cost of --verify is these loops, so they must not be one long
 * dependency chain. The checksum is the sum of each lane, mixed; the full
 * comparison against the regenerated block is what catches errors, the
 * checksum only tells corrupted data from intact data that is merely
 * someone else's.
 *
 * Two 64-bit lanes per vector: SSE2, which every x86-64 has.
 */
typedef uint64_t v2u64 __attribute__((vector_size(16), aligned(8)));

/*
 * Sum and OR-of-differences over the body, eight words per step in four
 * independent vector lanes. Words 0..7 of a step go to lanes 0..3, two each.
 */
static uint64_t body_scan(const uint64_t *w, size_t nwords, uint64_t base,
			  bool compare, uint64_t *diff)
{
	v2u64 sum[4] = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } };
	v2u64 dif[4] = { { 0, 0 } }, k[4], vbase = { base, base };
	const v2u64 step = { 8 * WORD_STEP, 8 * WORD_STEP };
	uint64_t a[4], d = 0;
	size_t i;

	for (int l = 0; l < 4; l++) {
		k[l][0] = (uint64_t)(2 * l + 1) * WORD_STEP;
		k[l][1] = (uint64_t)(2 * l + 2) * WORD_STEP;
	}
	for (i = 0; i + 8 <= nwords; i += 8) {
		for (int l = 0; l < 4; l++) {
			v2u64 x;

			memcpy(&x, &w[i + 2 * l], sizeof(x));
			sum[l] += x;
			if (compare)
				dif[l] |= x ^ vbase ^ k[l];
			k[l] += step;
		}
	}
	for (int l = 0; l < 4; l++) {
		a[l] = sum[l][0] + sum[l][1];
		d |= dif[l][0] | dif[l][1];
	}
	for (; i < nwords; i++) {
		a[i % 4] += w[i];
		d |= w[i] ^ base ^ ((i + 1) * WORD_STEP);
	}
	*diff = compare ? d : 0;
	return a[0] ^ ((a[1] << 16) | (a[1] >> 48)) ^ ((a[2] << 32) | (a[2] >> 32)) ^
	       ((a[3] << 48) | (a[3] >> 16));
}

static uint64_t body_csum(const uint64_t *w, size_t nwords)
{
	uint64_t unused;

	return body_scan(w, nwords, 0, false, &unused);
}

static void body_fill(uint64_t *w, size_t nwords, uint64_t base)
{
	v2u64 k[4], vbase = { base, base };
	const v2u64 step = { 8 * WORD_STEP, 8 * WORD_STEP };
	size_t i;

	for (int l = 0; l < 4; l++) {
		k[l][0] = (uint64_t)(2 * l + 1) * WORD_STEP;
		k[l][1] = (uint64_t)(2 * l + 2) * WORD_STEP;
	}
	for (i = 0; i + 8 <= nwords; i += 8) {
		for (int l = 0; l < 4; l++) {
			v2u64 x = vbase ^ k[l];

			memcpy(&w[i + 2 * l], &x, sizeof(x));
			k[l] += step;
		}
	}
	for (; i < nwords; i++)
		w[i] = base ^ ((i + 1) * WORD_STEP);
}

/* OR of (found ^ expected) over the body, and the found body's checksum. */
static uint64_t body_diff(const uint64_t *w, size_t nwords, uint64_t base, uint64_t *csum)
{
	uint64_t diff;

	*csum = body_scan(w, nwords, base, true, &diff);
	return diff;
}

void pattern_fill(void *buf, uint32_t nblocks, uint32_t block_size,
		  uint64_t lba, uint64_t seed, uint32_t gen)
{
	size_t nwords = (block_size - sizeof(struct pattern_hdr)) / 8;

	for (uint32_t b = 0; b < nblocks; b++) {
		uint8_t *blk = (uint8_t *)buf + (size_t)b * block_size;
		struct pattern_hdr *h = (struct pattern_hdr *)blk;
		uint64_t *w = (uint64_t *)(h + 1);

		body_fill(w, nwords, block_base(lba + b, seed, gen));
		h->magic = PATTERN_MAGIC;
		h->gen = gen;
		h->lba = lba + b;
		h->seed = seed;
		h->csum = body_csum(w, nwords);
	}
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return len;
}

bool pattern_check(const void *buf, uint32_t nblocks, uint32_t block_size,
		   uint64_t lba, uint64_t seed, uint32_t gen,
		   struct pattern_mismatch *mm)
{
	size_t nwords = (block_size - sizeof(struct pattern_hdr)) / 8;

	for (uint32_t b = 0; b < nblocks; b++) {
		const uint8_t *blk = (const uint8_t *)buf + (size_t)b * block_size;
		const struct pattern_hdr *h = (const struct pattern_hdr *)blk;
		const uint64_t *w = (const uint64_t *)(h + 1);
		uint64_t base = block_base(lba + b, seed, gen);
		uint64_t csum, diff = body_diff(w, nwords, base, &csum);
		struct pattern_hdr want;
		size_t i;

		want.magic = PATTERN_MAGIC;
		want.gen = gen;
		want.lba = lba + b;
		want.seed = seed;
		want.csum = csum;
		if (!diff && !memcmp(h, &want, sizeof(want)))
			continue;

		if (mm) {
			size_t off;

			memset(mm, 0, sizeof(*mm));
			mm->lba = lba + b;
			mm->magic_ok = h->magic == PATTERN_MAGIC;
			mm->csum_ok = h->csum == body_csum(w, nwords);
			mm->found_lba = h->lba;
			mm->found_seed = h->seed;
			mm->found_gen = h->gen;
			/* the stored checksum follows the body: blame the body first */
			off = first_diff((const uint8_t *)h, (const uint8_t *)&want,
					 offsetof(struct pattern_hdr, csum));
			if (off == offsetof(struct pattern_hdr, csum)) {
				for (i = 0; i < nwords; i++)
					if (w[i] != (base ^ ((i + 1) * WORD_STEP)))
						break;
				if (i < nwords) {
					uint64_t e = base ^ ((i + 1) * WORD_STEP);

					off = sizeof(struct pattern_hdr) + i * 8 +
					      first_diff((const uint8_t *)&w[i],
							 (const uint8_t *)&e, 8);
				}
			}
			mm->offset = off;
		}
		return false;
	}
	return true;
}

void pattern_describe(const struct pattern_mismatch *mm, uint64_t seed,
		      uint32_t gen, char *out, size_t len)
{
	const char *what;

	if (!mm->magic_ok)
		what = "no pattern header (never written, zeroes or foreign data)";
	else if (!mm->csum_ok)
		what = "corrupted data (checksum does not match its own body)";
	else if (mm->found_lba != mm->lba)
		what = "misdirected: intact block of another LBA";
	else if (mm->found_seed != seed)
		what = "intact block from another run (seed differs)";
	else if (mm->found_gen != gen)
		what = "stale data: intact block from an older write";
	else
		what = "data differs";
	snprintf(out, len,
		 "LBA %" PRIu64 " byte %zu: %s (found lba %" PRIu64 " gen %u seed %" PRIu64
		 ", expected gen %u)",
		 mm->lba, mm->offset, what, mm->found_lba, mm->found_gen,
		 mm->found_seed, gen);
}
