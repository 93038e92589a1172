/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verify patterns. Every block starts with a header naming its LBA, the run
 * seed and a write generation, with a checksum of those fields, followed by
 * words derived from the three. A read is checked against the regenerated
 * block; on a mismatch, a block whose body is exactly what its own header
 * names is intact but someone else's (stale, misdirected, another run),
 * anything else is corrupted.
 */
#ifndef NVPOLL_PERF_PATTERN_H
#define NVPOLL_PERF_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAGIC	0x5650564eu	/* "NVPV" */

struct pattern_hdr {
	uint32_t magic;
	uint32_t gen;
	uint64_t lba;
	uint64_t seed;
	uint64_t hsum;		/* checksum of magic, gen, lba and seed */
};

/* What a failed check found in the first bad block. */
struct pattern_mismatch {
	uint64_t lba;		/* LBA of the bad block */
	size_t offset;		/* first differing byte within it */
	bool magic_ok;		/* the header carries our magic */
	bool intact;		/* sound header, and the body it names */
	uint64_t found_lba;
	uint64_t found_seed;
	uint32_t found_gen;
};

/* Fill @nblocks blocks of @block_size bytes (a multiple of 8, >= 64). */
void pattern_fill(void *buf, uint32_t nblocks, uint32_t block_size,
		  uint64_t lba, uint64_t seed, uint32_t gen);

/* Return true if @buf holds exactly what pattern_fill() wrote; else describe. */
bool pattern_check(const void *buf, uint32_t nblocks, uint32_t block_size,
		   uint64_t lba, uint64_t seed, uint32_t gen,
		   struct pattern_mismatch *mm);

/* One line describing @mm, e.g. for an error message. */
void pattern_describe(const struct pattern_mismatch *mm, uint64_t seed,
		      uint32_t gen, char *out, size_t len);

#endif /* NVPOLL_PERF_PATTERN_H */
