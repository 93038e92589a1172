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
 * Body words and checksum, in four independent lanes: the per-I/O cost of
 * --verify is these loops, so they must not be one long dependency chain.
 * Plain 64-bit integer code on purpose: under QEMU's TCG (where the VM
 * benchmarks run) SSE operations are emulated by helper calls and made the
 * check twenty times slower, while natively the scalar lanes are within 10%.
 * The checksum is the sum of each lane, mixed; the full comparison against
 * the regenerated block is what catches errors, the checksum only tells
 * corrupted data from intact data that is merely someone else's.
 */
static uint64_t body_scan(const uint64_t *w, size_t nwords, uint64_t base,
			  uint64_t *diff)
{
	uint64_t a0 = 1, a1 = 2, a2 = 3, a3 = 4, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
	uint64_t k = WORD_STEP;
	size_t i;

	for (i = 0; i + 4 <= nwords; i += 4) {
		uint64_t x0 = w[i], x1 = w[i + 1], x2 = w[i + 2], x3 = w[i + 3];

		a0 += x0;
		a1 += x1;
		a2 += x2;
		a3 += x3;
		d0 |= x0 ^ base ^ k;
		d1 |= x1 ^ base ^ (k + WORD_STEP);
		d2 |= x2 ^ base ^ (k + 2 * WORD_STEP);
		d3 |= x3 ^ base ^ (k + 3 * WORD_STEP);
		k += 4 * WORD_STEP;
		/* keeps GCC -O3 from turning this into SSE (see above): it did,
		 * and a check took 5.6 us instead of about 1 under TCG */
		__asm__("" : "+r"(k));
	}
	for (; i < nwords; i++, k += WORD_STEP) {
		a0 += w[i];
		d0 |= w[i] ^ base ^ k;
		__asm__("" : "+r"(k));
	}
	*diff = d0 | d1 | d2 | d3;
	return a0 ^ ((a1 << 16) | (a1 >> 48)) ^ ((a2 << 32) | (a2 >> 32)) ^
	       ((a3 << 48) | (a3 >> 16));
}

static uint64_t body_csum(const uint64_t *w, size_t nwords)
{
	uint64_t unused;

	return body_scan(w, nwords, 0, &unused);
}

static void body_fill(uint64_t *w, size_t nwords, uint64_t base)
{
	uint64_t k = WORD_STEP;
	size_t i;

	for (i = 0; i + 4 <= nwords; i += 4) {
		w[i] = base ^ k;
		w[i + 1] = base ^ (k + WORD_STEP);
		w[i + 2] = base ^ (k + 2 * WORD_STEP);
		w[i + 3] = base ^ (k + 3 * WORD_STEP);
		k += 4 * WORD_STEP;
		/* keeps GCC from turning this into SSE (see above) */
		__asm__("" : "+r"(k));
	}
	for (; i < nwords; i++, k += WORD_STEP)
		w[i] = base ^ k;
}

/* OR of (found ^ expected) over the body, and the found body's checksum. */
static uint64_t body_diff(const uint64_t *w, size_t nwords, uint64_t base, uint64_t *csum)
{
	uint64_t diff;

	*csum = body_scan(w, nwords, base, &diff);
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
