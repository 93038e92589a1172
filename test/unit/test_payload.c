/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_payload.c - PRP/SGL construction, the choice between
 * them, the inline fast path, iovec translation and slicing.
 *
 * Two independent oracles check every build:
 *  - expectation tables: each row carries hand-computed entry and list-page
 *    counts, and the exact PRP entries are derived by walking the payload
 *    byte range page by page (never by calling the code under test);
 *  - a replay that reads the SQE and list memory the way a controller does
 *    (QEMU's rules: the last slot of a PRP list page is a chain pointer only
 *    when more than one page of data is left) and reconstructs the bytes the
 *    command describes, which must equal the input.
 * Generated sweeps (offset x length, random iovecs, random SGLs) run the
 * replay on thousands of shapes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>

#include "mem/mem.h"
#include "nvme/payload.h"

#define KiB		(1024ull)
#define MiB		(1024ull * 1024)

/* Fake bus addresses: data well apart from the list memory. */
#define DATA_A		0x0000001000000000ull
#define DATA_B		0x0000002000000000ull
#define DATA_C		0x0000003000000000ull
#define DATA_D		0x0000004000000000ull
#define LIST_IOVA	0x00000fee00000000ull

#define LIST_MAX_PAGES	8
#define POISON		0xa5
#define MAX_ENTRIES	(64 * 1024)

/* Default list size for table rows; -1 = no list memory at all. */
#define LIST_DEFAULT	0
#define LIST_NONE	(-1)

static const char *cur_case = "";

#define CHECK(cond, fmt, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_error("[%s] %s:%d: " fmt "\n", cur_case,         \
				    __FILE__, __LINE__, ##__VA_ARGS__);        \
			fail();                                                \
		}                                                              \
	} while (0)

/* ------------------------------------------------------------------------ */
/* Fake list memory                                                          */
/* ------------------------------------------------------------------------ */

struct fake_list {
	struct nvp_payload_list list;
	uint8_t *mem;
	uint32_t page_size;
	size_t alloc_pages;
};

static void fake_list_init(struct fake_list *fl, uint32_t page_size,
			   size_t pages)
{
	size_t bytes = (size_t)page_size * LIST_MAX_PAGES;

	fl->mem = aligned_alloc(page_size, bytes);
	assert_non_null(fl->mem);
	memset(fl->mem, POISON, bytes);
	fl->page_size = page_size;
	fl->alloc_pages = LIST_MAX_PAGES;
	fl->list.va = fl->mem;
	fl->list.iova = LIST_IOVA;
	fl->list.bytes = (size_t)page_size * pages;
}

static void fake_list_fini(struct fake_list *fl)
{
	free(fl->mem);
}

static bool untouched(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != POISON)
			return false;
	return true;
}

/* The controller's view of list memory: translate a list IOVA. */
static const void *list_translate(const struct fake_list *fl, uint64_t iova,
				  size_t len)
{
	size_t bytes = fl->list.bytes;

	CHECK(iova >= LIST_IOVA && iova - LIST_IOVA + len <= bytes,
	      "list pointer 0x%llx (+%zu) outside list memory", (unsigned long long)iova, len);
	return fl->mem + (iova - LIST_IOVA);
}

static uint64_t list_entry(const struct fake_list *fl, size_t page, size_t idx)
{
	uint64_t v;

	memcpy(&v, fl->mem + page * fl->page_size + idx * 8, 8);
	return nvp_le64_to_cpu(v);	/* list entries are little-endian */
}

/* ------------------------------------------------------------------------ */
/* Independent helpers                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Every page the payload touches, walking byte positions: element 0 is the
 * exact start address (PRP1), the rest are page addresses.
 */
static size_t walk_pages(const struct nvp_dma_seg *segs, unsigned int nsegs,
			 uint32_t page_size, uint64_t *out, size_t max)
{
	size_t k = 0;

	for (unsigned int i = 0; i < nsegs; i++) {
		uint64_t pos = segs[i].iova, end = segs[i].iova + segs[i].len;

		while (pos < end) {
			uint64_t page = pos - pos % page_size;

			assert_true(k < max);
			out[k] = k == 0 ? pos : page;
			k++;
			pos = page + page_size;
		}
	}
	return k;
}

/* List pages for @n entries, by filling pages one at a time. */
static unsigned int fill_pages(uint64_t n, uint64_t per_page)
{
	unsigned int pages;

	if (n < 2)
		return 0;
	pages = 1;
	while (n > per_page) {
		n -= per_page - 1; /* the last slot became a chain pointer */
		pages++;
	}
	return pages;
}

/* Merge bus-adjacent neighbours; returns the new count. */
static size_t merge_chunks(struct nvp_dma_seg *c, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (out && c[out - 1].iova + c[out - 1].len == c[i].iova)
			c[out - 1].len += c[i].len;
		else
			c[out++] = c[i];
	}
	return out;
}

static uint64_t total_len(const struct nvp_dma_seg *segs, unsigned int nsegs)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < nsegs; i++)
		t += segs[i].len;
	return t;
}

static void add_chunk(struct nvp_dma_seg *c, size_t *n, size_t max,
		      uint64_t iova, uint64_t len)
{
	CHECK(*n < max, "replay produced more than %zu chunks", max);
	c[*n].iova = iova;
	c[*n].len = len;
	(*n)++;
}

/* ------------------------------------------------------------------------ */
/* Controller replay                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Read PRP1/PRP2/lists like a controller transferring @total bytes; return
 * the (iova, len) chunks and the list pages visited.
 */
static size_t replay_prp(const struct nvp_sqe *sqe, uint64_t total,
			 uint32_t page_size, const struct fake_list *fl,
			 struct nvp_dma_seg *chunks, size_t max,
			 unsigned int *list_pages)
{
	uint64_t prp1 = nvp_le64_to_cpu(sqe->dptr.prp.prp1), prp2 = nvp_le64_to_cpu(sqe->dptr.prp.prp2);
	uint64_t first = page_size - prp1 % page_size;
	uint64_t left;
	size_t n = 0;

	*list_pages = 0;
	CHECK((sqe->flags >> 6) == 0, "PSDT is %u, want PRP", sqe->flags >> 6);
	CHECK(prp1 % 4 == 0, "PRP1 0x%llx not dword aligned", (unsigned long long)prp1);
	if (first > total)
		first = total;
	add_chunk(chunks, &n, max, prp1, first);
	left = total - first;
	if (!left) {
		CHECK(prp2 == 0, "PRP2 0x%llx set for a one-page transfer", (unsigned long long)prp2);
		return n;
	}
	if (left <= page_size) {
		CHECK(prp2 % page_size == 0, "PRP2 data pointer 0x%llx has an offset", (unsigned long long)prp2);
		add_chunk(chunks, &n, max, prp2, left);
		return n;
	}

	{
		uint64_t per_page = page_size / 8;
		const uint64_t *ents;
		uint64_t i = 0;

		CHECK(prp2 % page_size == 0, "PRP list pointer 0x%llx not page aligned", (unsigned long long)prp2);
		ents = list_translate(fl, prp2, page_size);
		*list_pages = 1;
		while (left) {
			uint64_t e, take;

			if (i == per_page - 1 && left > page_size) {
				e = nvp_le64_to_cpu(ents[i]);
				CHECK(e % page_size == 0, "chain pointer 0x%llx not page aligned", (unsigned long long)e);
				ents = list_translate(fl, e, page_size);
				(*list_pages)++;
				i = 0;
				continue;
			}
			e = nvp_le64_to_cpu(ents[i++]);
			CHECK(e % page_size == 0, "PRP entry 0x%llx has an offset", (unsigned long long)e);
			take = left < page_size ? left : page_size;
			add_chunk(chunks, &n, max, e, take);
			left -= take;
		}
	}
	return n;
}

static uint8_t sgl_kind(const struct nvp_sgl_desc *d)
{
	return d->type >> 4;
}

static void check_desc_clean(const struct nvp_sgl_desc *d)
{
	CHECK((d->type & 0xf) == NVP_SGL_SUBTYPE_ADDRESS, "descriptor subtype %u", d->type & 0xf);
	CHECK(!d->rsvd[0] && !d->rsvd[1] && !d->rsvd[2], "descriptor reserved bytes set");
}

/* Walk an SGL like a controller; return its data blocks in order. */
static size_t replay_sgl(const struct nvp_sqe *sqe, const struct fake_list *fl,
			 struct nvp_dma_seg *chunks, size_t max,
			 unsigned int *list_pages)
{
	const struct nvp_sgl_desc *d = &sqe->dptr.sgl1;
	size_t n = 0;

	*list_pages = 0;
	CHECK((sqe->flags >> 6) == 1, "PSDT is %u, want SGL (1)", sqe->flags >> 6);
	check_desc_clean(d);
	if (sgl_kind(d) == NVP_SGL_TYPE_DATA_BLOCK) {
		add_chunk(chunks, &n, max, nvp_le64_to_cpu(d->addr), nvp_le32_to_cpu(d->length));
		return n;
	}
	for (;;) {
		uint8_t kind = sgl_kind(d);
		const struct nvp_sgl_desc *seg;
		uint32_t count;
		bool chained = false;

		CHECK(kind == NVP_SGL_TYPE_SEGMENT || kind == NVP_SGL_TYPE_LAST_SEGMENT,
		      "descriptor type %u where a segment pointer belongs", kind);
		CHECK(nvp_le32_to_cpu(d->length) && nvp_le32_to_cpu(d->length) % 16 == 0, "segment length %u", nvp_le32_to_cpu(d->length));
		count = nvp_le32_to_cpu(d->length) / 16;
		seg = list_translate(fl, nvp_le64_to_cpu(d->addr), nvp_le32_to_cpu(d->length));
		(*list_pages)++;
		for (uint32_t j = 0; j < count; j++) {
			uint8_t t = sgl_kind(&seg[j]);

			check_desc_clean(&seg[j]);
			if (t == NVP_SGL_TYPE_DATA_BLOCK) {
				add_chunk(chunks, &n, max, nvp_le64_to_cpu(seg[j].addr), nvp_le32_to_cpu(seg[j].length));
				continue;
			}
			CHECK(kind == NVP_SGL_TYPE_SEGMENT,
			      "a last segment holds a type %u descriptor", t);
			CHECK(j == count - 1, "segment pointer at %u of %u", j, count);
			d = &seg[j];
			chained = true;
		}
		if (!chained) {
			CHECK(kind == NVP_SGL_TYPE_LAST_SEGMENT,
			      "a segment ends without pointing to the next");
			return n;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* SQE pattern: only DPTR and PSDT may change, FUSE must survive             */
/* ------------------------------------------------------------------------ */

#define SQE_FLAGS_PATTERN	0xda	/* PSDT 11b, reserved 0110b, FUSE 10b */

static void sqe_fill(struct nvp_sqe *sqe)
{
	memset(sqe, 0x5a, sizeof(*sqe));
	sqe->flags = SQE_FLAGS_PATTERN;
}

static void check_sqe_rest(const struct nvp_sqe *sqe, uint8_t psdt)
{
	struct nvp_sqe ref;

	sqe_fill(&ref);
	CHECK(sqe->flags == ((SQE_FLAGS_PATTERN & 0x3f) | psdt),
	      "flags 0x%02x, want 0x%02x", sqe->flags, (SQE_FLAGS_PATTERN & 0x3f) | psdt);
	CHECK(memcmp(sqe, &ref, offsetof(struct nvp_sqe, flags)) == 0 &&
	      memcmp((const uint8_t *)sqe + 2, (const uint8_t *)&ref + 2,
		     offsetof(struct nvp_sqe, dptr) - 2) == 0 &&
	      memcmp(&sqe->cdw10, &ref.cdw10, 24) == 0,
	      "SQE fields outside DPTR/PSDT changed");
}

/* ------------------------------------------------------------------------ */
/* PRP: common check                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Build a PRP and check it against: @entries and @list_pages (expected, from
 * the caller), the page walk, the replay, and the poison around the list.
 * @full_poison_check: scan all list memory (tables) or only the edges
 * (sweeps).
 */
static void check_prp_build(const struct nvp_dma_seg *segs, unsigned int nsegs,
			    uint32_t page_size, struct fake_list *fl,
			    uint64_t entries, unsigned int list_pages,
			    bool full_poison_check)
{
	static uint64_t pages[MAX_ENTRIES + 1];
	static struct nvp_dma_seg chunks[MAX_ENTRIES + 1];
	static struct nvp_dma_seg input[NVP_PAYLOAD_MAX_SEGS];
	uint64_t per_page = page_size / 8;
	struct nvp_sqe sqe;
	size_t npages, nchunks, ninput, k;
	unsigned int replay_pages;
	int rc;

	npages = walk_pages(segs, nsegs, page_size, pages, MAX_ENTRIES + 1);
	CHECK(npages - 1 == entries, "page walk finds %zu entries, table says %llu",
	      npages - 1, (unsigned long long)entries);

	sqe_fill(&sqe);
	rc = nvp_payload_prp(&sqe, segs, nsegs, page_size, &fl->list);
	CHECK(rc == 0, "nvp_payload_prp returned %d", rc);
	check_sqe_rest(&sqe, NVP_SQE_PSDT_PRP);

	CHECK(nvp_le64_to_cpu(sqe.dptr.prp.prp1) == pages[0], "PRP1 0x%llx, want 0x%llx",
	      (unsigned long long)nvp_le64_to_cpu(sqe.dptr.prp.prp1), (unsigned long long)pages[0]);
	if (entries == 0) {
		CHECK(nvp_le64_to_cpu(sqe.dptr.prp.prp2) == 0, "PRP2 0x%llx, want 0", (unsigned long long)nvp_le64_to_cpu(sqe.dptr.prp.prp2));
		CHECK(list_pages == 0, "table expects a list without entries");
	} else if (entries == 1) {
		CHECK(nvp_le64_to_cpu(sqe.dptr.prp.prp2) == pages[1], "PRP2 0x%llx, want 0x%llx",
		      (unsigned long long)nvp_le64_to_cpu(sqe.dptr.prp.prp2), (unsigned long long)pages[1]);
		CHECK(list_pages == 0, "table expects a list for one entry");
	} else {
		size_t last_count;

		CHECK(nvp_le64_to_cpu(sqe.dptr.prp.prp2) == LIST_IOVA, "PRP2 0x%llx, want list 0x%llx",
		      (unsigned long long)nvp_le64_to_cpu(sqe.dptr.prp.prp2), (unsigned long long)LIST_IOVA);
		CHECK(list_pages >= 1, "table expects no list for %llu entries",
		      (unsigned long long)entries);
		/* Full pages: per_page - 1 entries then the chain pointer. */
		k = 1;
		for (unsigned int pg = 0; pg + 1 < list_pages; pg++) {
			for (uint64_t j = 0; j + 1 < per_page; j++, k++)
				CHECK(list_entry(fl, pg, j) == pages[k],
				      "list page %u slot %llu: 0x%llx, want 0x%llx", pg,
				      (unsigned long long)j, (unsigned long long)list_entry(fl, pg, j),
				      (unsigned long long)pages[k]);
			CHECK(list_entry(fl, pg, per_page - 1) == LIST_IOVA + (uint64_t)(pg + 1) * page_size,
			      "list page %u chain 0x%llx", pg,
			      (unsigned long long)list_entry(fl, pg, per_page - 1));
		}
		last_count = npages - k;
		CHECK(last_count >= 2 && last_count <= per_page,
		      "last list page would hold %zu entries (table list_pages %u wrong?)",
		      last_count, list_pages);
		for (size_t j = 0; j < last_count; j++, k++)
			CHECK(list_entry(fl, list_pages - 1, j) == pages[k],
			      "last list page slot %zu: 0x%llx, want 0x%llx", j,
			      (unsigned long long)list_entry(fl, list_pages - 1, j),
			      (unsigned long long)pages[k]);
		/* Nothing written after the last entry. */
		CHECK(untouched(fl->mem + (size_t)(list_pages - 1) * page_size + last_count * 8,
				page_size - last_count * 8),
		      "list written past its last entry");
	}
	if (full_poison_check)
		CHECK(untouched(fl->mem + (size_t)list_pages * page_size,
				(fl->alloc_pages - list_pages) * page_size),
		      "list pages beyond the %u needed were written", list_pages);
	else if (list_pages < fl->alloc_pages)
		CHECK(untouched(fl->mem + (size_t)list_pages * page_size, page_size),
		      "list page %u written", list_pages);

	/* Replay like a controller and compare the bytes described. */
	nchunks = replay_prp(&sqe, total_len(segs, nsegs), page_size, fl, chunks,
			     MAX_ENTRIES + 1, &replay_pages);
	CHECK(replay_pages == list_pages, "controller walked %u list pages, want %u",
	      replay_pages, list_pages);
	memcpy(input, segs, nsegs * sizeof(*segs));
	ninput = merge_chunks(input, nsegs);
	nchunks = merge_chunks(chunks, nchunks);
	CHECK(nchunks == ninput, "replay gives %zu runs, input has %zu", nchunks, ninput);
	for (size_t i = 0; i < ninput; i++)
		CHECK(chunks[i].iova == input[i].iova && chunks[i].len == input[i].len,
		      "run %zu: replay (0x%llx, %llu), input (0x%llx, %llu)", i,
		      (unsigned long long)chunks[i].iova, (unsigned long long)chunks[i].len,
		      (unsigned long long)input[i].iova, (unsigned long long)input[i].len);

	/* Re-poison what this build wrote. */
	memset(fl->mem, POISON, (size_t)(list_pages ? list_pages : 1) * page_size);
}

/* A rejected build must leave the SQE and the list memory untouched. */
static void check_prp_rejected(const struct nvp_dma_seg *segs, unsigned int nsegs,
			       uint32_t page_size, const struct nvp_payload_list *list,
			       const struct fake_list *fl, int want)
{
	struct nvp_sqe sqe, ref;
	int rc;

	sqe_fill(&sqe);
	sqe_fill(&ref);
	rc = nvp_payload_prp(&sqe, segs, nsegs, page_size, list);
	CHECK(rc == want, "nvp_payload_prp returned %d, want %d", rc, want);
	CHECK(memcmp(&sqe, &ref, sizeof(sqe)) == 0, "rejected build changed the SQE");
	if (fl)
		CHECK(untouched(fl->mem, fl->alloc_pages * fl->page_size),
		      "rejected build wrote list memory");
}

/* ------------------------------------------------------------------------ */
/* PRP table                                                                  */
/* ------------------------------------------------------------------------ */

struct prp_case {
	const char *name;
	uint32_t mps;
	unsigned int nsegs;
	struct nvp_dma_seg segs[4];
	int list;		/* pages of list memory; LIST_DEFAULT, LIST_NONE */
	int rc;
	uint64_t entries;	/* hand computed: PRP entries after PRP1 */
	unsigned int list_pages; /* hand computed: list pages used */
};

#define S(a, l)		{ .iova = (a), .len = (l) }
#define K4		(4 * KiB)
#define K8		(8 * KiB)
#define K64		(64 * KiB)

static const struct prp_case prp_cases[] = {
	/* 4 KiB pages, one buffer */
	{ "512B at 0", K4, 1, { S(DATA_A, 512) }, 0, 0, 0, 0 },
	{ "512B at 4", K4, 1, { S(DATA_A + 4, 512) }, 0, 0, 0, 0 },
	{ "512B at 512", K4, 1, { S(DATA_A + 512, 512) }, 0, 0, 0, 0 },
	{ "512B ending on the page end", K4, 1, { S(DATA_A + 3584, 512) }, 0, 0, 0, 0 },
	{ "512B at 4092 crosses", K4, 1, { S(DATA_A + 4092, 512) }, 0, 0, 1, 0 },
	{ "4B at 4092", K4, 1, { S(DATA_A + 4092, 4) }, 0, 0, 0, 0 },
	{ "8B at 4092 crosses", K4, 1, { S(DATA_A + 4092, 8) }, 0, 0, 1, 0 },
	{ "exactly one page", K4, 1, { S(DATA_A, K4) }, 0, 0, 0, 0 },
	{ "one page at 4", K4, 1, { S(DATA_A + 4, K4) }, 0, 0, 1, 0 },
	{ "one page at 4092", K4, 1, { S(DATA_A + 4092, K4) }, 0, 0, 1, 0 },
	{ "exactly two pages", K4, 1, { S(DATA_A, 2 * K4) }, 0, 0, 1, 0 },
	{ "two pages at 4 need a list", K4, 1, { S(DATA_A + 4, 2 * K4) }, 0, 0, 2, 1 },
	{ "two pages at 4092", K4, 1, { S(DATA_A + 4092, 2 * K4) }, 0, 0, 2, 1 },
	{ "three pages", K4, 1, { S(DATA_A, 3 * K4) }, 0, 0, 2, 1 },
	{ "8K at 512", K4, 1, { S(DATA_A + 512, K8) }, 0, 0, 2, 1 },
	{ "128K", K4, 1, { S(DATA_A, 128 * KiB) }, 0, 0, 31, 1 },
	{ "128K at 4", K4, 1, { S(DATA_A + 4, 128 * KiB) }, 0, 0, 32, 1 },
	{ "128K at 512", K4, 1, { S(DATA_A + 512, 128 * KiB) }, 0, 0, 32, 1 },
	{ "128K at 4092", K4, 1, { S(DATA_A + 4092, 128 * KiB) }, 0, 0, 32, 1 },
	{ "512K", K4, 1, { S(DATA_A, 512 * KiB) }, 0, 0, 127, 1 },
	{ "512K at 4092", K4, 1, { S(DATA_A + 4092, 512 * KiB) }, 0, 0, 128, 1 },
	{ "2M", K4, 1, { S(DATA_A, 2 * MiB) }, 0, 0, 511, 1 },
	{ "2M+4K fills one list page", K4, 1, { S(DATA_A, 2 * MiB + K4) }, 0, 0, 512, 1 },
	{ "2M at 4 fills one list page", K4, 1, { S(DATA_A + 4, 2 * MiB) }, 0, 0, 512, 1 },
	{ "2M+8K chains", K4, 1, { S(DATA_A, 2 * MiB + K8) }, 0, 0, 513, 2 },
	{ "2M+4K at 4 chains", K4, 1, { S(DATA_A + 4, 2 * MiB + K4) }, 0, 0, 513, 2 },
	{ "4M: second list page exactly full, no extra chain", K4, 1,
	  { S(DATA_A, 4 * MiB) }, 0, 0, 1023, 2 },
	{ "4M-4K at 4092: second page exactly full", K4, 1,
	  { S(DATA_A + 4092, 4 * MiB - K4) }, 0, 0, 1023, 2 },
	{ "4M+4K: third list page", K4, 1, { S(DATA_A, 4 * MiB + K4) }, 0, 0, 1024, 3 },
	{ "4M at 4: third list page", K4, 1, { S(DATA_A + 4, 4 * MiB) }, 0, 0, 1024, 3 },
	{ "1535 pages: third page exactly full", K4, 1,
	  { S(DATA_A, 1535 * K4) }, 0, 0, 1534, 3 },
	{ "6M: fourth list page", K4, 1, { S(DATA_A, 6 * MiB) }, 0, 0, 1535, 4 },
	{ "6M at 4092", K4, 1, { S(DATA_A + 4092, 6 * MiB) }, 0, 0, 1536, 4 },

	/* 8 KiB pages: 1024 entries per list page */
	{ "8K mps: 4K at 0", K8, 1, { S(DATA_A, K4) }, 0, 0, 0, 0 },
	{ "8K mps: 4K at 4096 ends on page", K8, 1, { S(DATA_A + 4096, K4) }, 0, 0, 0, 0 },
	{ "8K mps: 8K at 4096 crosses", K8, 1, { S(DATA_A + 4096, K8) }, 0, 0, 1, 0 },
	{ "8K mps: 16K", K8, 1, { S(DATA_A, 16 * KiB) }, 0, 0, 1, 0 },
	{ "8K mps: 16K at 4", K8, 1, { S(DATA_A + 4, 16 * KiB) }, 0, 0, 2, 1 },
	{ "8K mps: 8M", K8, 1, { S(DATA_A, 8 * MiB) }, 0, 0, 1023, 1 },
	{ "8K mps: 8M+8K fills one page", K8, 1, { S(DATA_A, 8 * MiB + K8) }, 0, 0, 1024, 1 },
	{ "8K mps: 8M+16K chains", K8, 1, { S(DATA_A, 8 * MiB + 16 * KiB) }, 0, 0, 1025, 2 },
	{ "8K mps: 16M second page full", K8, 1, { S(DATA_A, 16 * MiB) }, 0, 0, 2047, 2 },
	{ "8K mps: 16M at 8188", K8, 1, { S(DATA_A + 8188, 16 * MiB) }, 0, 0, 2048, 3 },

	/* 64 KiB pages: 8192 entries per list page */
	{ "64K mps: 4K ending on the page end", K64, 1,
	  { S(DATA_A + 60 * KiB, K4) }, 0, 0, 0, 0 },
	{ "64K mps: 64K at 65532", K64, 1, { S(DATA_A + 65532, K64) }, 0, 0, 1, 0 },
	{ "64K mps: 128K at 4", K64, 1, { S(DATA_A + 4, 128 * KiB) }, 0, 0, 2, 1 },
	{ "64K mps: 2M", K64, 1, { S(DATA_A, 2 * MiB) }, 0, 0, 31, 1 },
	{ "64K mps: 512M+64K fills one page", K64, 1,
	  { S(DATA_A, 512 * MiB + K64) }, 0, 0, 8192, 1 },
	{ "64K mps: 512M+128K chains", K64, 1,
	  { S(DATA_A, 512 * MiB + 2 * K64) }, 0, 0, 8193, 2 },

	/* iovec-like payloads that PRPs can describe */
	{ "tail of a page + one page", K4, 2,
	  { S(DATA_A + 3584, 512), S(DATA_B, K4) }, 0, 0, 1, 0 },
	{ "page + 4 bytes", K4, 2, { S(DATA_A, K4), S(DATA_B, 4) }, 0, 0, 1, 0 },
	{ "bus-adjacent pages given separately", K4, 2,
	  { S(DATA_A, K4), S(DATA_A + K4, K4) }, 0, 0, 1, 0 },
	{ "8K + 4K", K4, 2, { S(DATA_A, K8), S(DATA_B, K4) }, 0, 0, 2, 1 },
	{ "first crosses then ends on a boundary", K4, 2,
	  { S(DATA_A + 2048, 6144), S(DATA_B, 512) }, 0, 0, 2, 1 },
	{ "offset first, full middle, short last", K4, 3,
	  { S(DATA_A + 4, 4092), S(DATA_B, K8), S(DATA_C, 100) }, 0, 0, 3, 1 },
	{ "four buffers chain", K4, 4,
	  { S(DATA_A + 512, 3584), S(DATA_B, MiB), S(DATA_C, MiB), S(DATA_D, K8 + 4) },
	  0, 0, 515, 2 },
	{ "four buffers, second page exactly full", K4, 4,
	  { S(DATA_A + 4, 4092), S(DATA_B, 2 * MiB), S(DATA_C, MiB), S(DATA_D, MiB - K4) },
	  0, 0, 1023, 2 },
	{ "8K mps: two 8K-aligned buffers", K8, 2,
	  { S(DATA_A + 4096, 4096), S(DATA_B, 4096) }, 0, 0, 1, 0 },

	/* rejected: PRP rules */
	{ "PRP1 not dword aligned", K4, 1, { S(DATA_A + 2, 512) }, 0, -EINVAL, 0, 0 },
	{ "PRP1 at odd byte", K4, 1, { S(DATA_A + 1, 4) }, 0, -EINVAL, 0, 0 },
	{ "middle buffer not page aligned", K4, 3,
	  { S(DATA_A, K4), S(DATA_B + 512, K4), S(DATA_C, K4) }, 0, -EINVAL, 0, 0 },
	{ "last buffer not page aligned", K4, 2,
	  { S(DATA_A, K4), S(DATA_B + 4, 512) }, 0, -EINVAL, 0, 0 },
	{ "first buffer ends mid-page", K4, 2,
	  { S(DATA_A, 512), S(DATA_B, K4) }, 0, -EINVAL, 0, 0 },
	{ "middle buffer ends mid-page", K4, 3,
	  { S(DATA_A, K4), S(DATA_B, 6144), S(DATA_C, K4) }, 0, -EINVAL, 0, 0 },
	{ "zero-length buffer", K4, 2, { S(DATA_A, K4), S(DATA_B, 0) }, 0, -EINVAL, 0, 0 },
	{ "8K mps: 4K-aligned second buffer", K8, 2,
	  { S(DATA_A, K8), S(DATA_B + 4096, 4096) }, 0, -EINVAL, 0, 0 },
	{ "8K mps: first ends on 4K, not 8K", K8, 2,
	  { S(DATA_A, K4), S(DATA_B, K8) }, 0, -EINVAL, 0, 0 },
	{ "page size not a power of two", 6144, 1, { S(DATA_A, 512) }, 0, -EINVAL, 0, 0 },
	{ "page size below 4K", 2048, 1, { S(DATA_A, 512) }, 0, -EINVAL, 0, 0 },
	{ "buffer wraps the address space", K4, 1,
	  { S(0xfffffffffffff000ull, K8) }, 0, -EINVAL, 0, 0 },
	{ "no segments", K4, 0, { S(DATA_A, 512) }, 0, -EINVAL, 0, 0 },

	/* list memory */
	{ "no list memory, none needed", K4, 1, { S(DATA_A + 4, K4) }, LIST_NONE, 0, 1, 0 },
	{ "no list memory for three pages", K4, 1, { S(DATA_A, 3 * K4) }, LIST_NONE, -E2BIG, 0, 0 },
	{ "one list page for 2M+8K", K4, 1, { S(DATA_A, 2 * MiB + K8) }, 1, -E2BIG, 0, 0 },
	{ "exactly two list pages for 4M", K4, 1, { S(DATA_A, 4 * MiB) }, 2, 0, 1023, 2 },
	{ "two list pages for 4M+4K", K4, 1, { S(DATA_A, 4 * MiB + K4) }, 2, -E2BIG, 0, 0 },
	{ "one list page for 2M+4K", K4, 1, { S(DATA_A, 2 * MiB + K4) }, 1, 0, 512, 1 },
};

static void test_prp_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(prp_cases) / sizeof(prp_cases[0]); r++) {
		const struct prp_case *c = &prp_cases[r];
		uint32_t alloc_mps = c->mps >= K4 && !(c->mps & (c->mps - 1)) ? c->mps : K4;
		struct fake_list fl;
		int pages = c->list == LIST_DEFAULT ? LIST_MAX_PAGES :
			    c->list == LIST_NONE ? 0 : c->list;

		cur_case = c->name;
		fake_list_init(&fl, alloc_mps, (size_t)pages);
		if (c->rc) {
			check_prp_rejected(c->segs, c->nsegs, c->mps,
					   c->list == LIST_NONE ? NULL : &fl.list,
					   &fl, c->rc);
		} else {
			if (c->list == LIST_NONE)
				fl.list.bytes = 0;
			check_prp_build(c->segs, c->nsegs, c->mps, &fl, c->entries,
					c->list_pages, true);
			/* The exact list size suffices; one page fewer does not. */
			if (c->list_pages) {
				fl.list.bytes = (size_t)c->list_pages * c->mps;
				check_prp_build(c->segs, c->nsegs, c->mps, &fl,
						c->entries, c->list_pages, true);
				fl.list.bytes -= c->mps;
				check_prp_rejected(c->segs, c->nsegs, c->mps,
						   &fl.list, &fl, -E2BIG);
			}
		}
		fake_list_fini(&fl);
	}
}

static void test_prp_list_alignment(void **state)
{
	struct nvp_dma_seg seg = S(DATA_A, 3 * K4);
	struct fake_list fl;

	(void)state;
	cur_case = "list IOVA not page aligned";
	fake_list_init(&fl, K4, 2);
	fl.list.iova = LIST_IOVA + 512;
	check_prp_rejected(&seg, 1, K4, &fl.list, &fl, -EINVAL);
	cur_case = "NULL list when PRP2 is a data pointer";
	{
		struct nvp_dma_seg two = S(DATA_A + 4, K4);
		struct nvp_sqe sqe = { 0 };

		CHECK(nvp_payload_prp(&sqe, &two, 1, K4, NULL) == 0 &&
		      nvp_le64_to_cpu(sqe.dptr.prp.prp2) == DATA_A + K4, "PRP2 0x%llx",
		      (unsigned long long)nvp_le64_to_cpu(sqe.dptr.prp.prp2));
	}
	cur_case = "layout rejection is quiet, misuse is reported";
	{
		const struct nvp_dma_seg bad[2] = { S(DATA_A, 512), S(DATA_B, K4) };
		struct nvp_sqe sqe = { 0 };
		char before[256];

		snprintf(before, sizeof(before), "%s", nvp_last_error());
		CHECK(nvp_payload_prp(&sqe, bad, 2, K4, &fl.list) == -EINVAL, "want -EINVAL");
		CHECK(strcmp(before, nvp_last_error()) == 0,
		      "a PRP layout rejection overwrote the last error: %s", nvp_last_error());
		CHECK(nvp_payload_prp(&sqe, bad, 2, 5000, &fl.list) == -EINVAL, "want -EINVAL");
		CHECK(strstr(nvp_last_error(), "5000"), "bad page size not reported: %s",
		      nvp_last_error());
	}
	cur_case = "8K mps with a 4K-aligned list";
	seg.len = 3 * K8;
	fl.list.iova = LIST_IOVA + K4;
	fl.list.bytes = 2 * K8;
	check_prp_rejected(&seg, 1, K8, &fl.list, NULL, -EINVAL);
	fake_list_fini(&fl);
}

/* ------------------------------------------------------------------------ */
/* PRP sweeps                                                                 */
/* ------------------------------------------------------------------------ */

static void sweep_one(uint32_t mps, uint64_t off, uint64_t len,
		      struct fake_list *fl)
{
	struct nvp_dma_seg seg = S(DATA_A + off, len);
	uint64_t pages = (off + len + mps - 1) / mps;

	check_prp_build(&seg, 1, mps, fl, pages - 1, fill_pages(pages - 1, mps / 8), false);
}

static void test_prp_sweep_offsets(void **state)
{
	static const uint32_t mpss[] = { K4, K8, K64 };
	char name[96];

	(void)state;
	for (size_t m = 0; m < 3; m++) {
		uint32_t p = mpss[m];
		uint64_t e = p / 8;
		/* Lengths around each boundary: page, 2 pages, full list page, chain. */
		const uint64_t small[] = { 4, 8, 508, 512, 4092, 4096, 4100, p - 4, p,
					   p + 4, 2 * p - 4, 2 * p, 2 * p + 4, 3 * p,
					   3 * p + 512, 16 * p };
		const uint64_t big[] = { e * p - 4, e * p, e * p + 4, (e + 1) * p,
					 (e + 1) * p + 4, (2 * e - 1) * p - 4,
					 (2 * e - 1) * p, (2 * e - 1) * p + 4, 2 * e * p,
					 (3 * e - 2) * p, (3 * e - 2) * p + 4 };
		const uint64_t big_offs[] = { 0, 4, 8, 512, 2048, p / 2, p - 8, p - 4 };
		struct fake_list fl;

		fake_list_init(&fl, p, LIST_MAX_PAGES);
		/* Every dword offset in the page for small lengths. */
		for (size_t l = 0; l < sizeof(small) / sizeof(small[0]); l++) {
			uint64_t step = p == K4 ? 4 : p / 256;

			for (uint64_t off = 0; off < p; off += step) {
				snprintf(name, sizeof(name), "sweep mps %u off %llu len %llu",
					 p, (unsigned long long)off, (unsigned long long)small[l]);
				cur_case = name;
				sweep_one(p, off, small[l], &fl);
			}
			cur_case = name;
			sweep_one(p, p - 4, small[l], &fl);
		}
		/* Chaining lengths at a few offsets (64 KiB pages: fewer). */
		for (size_t l = 0; l < sizeof(big) / sizeof(big[0]); l++) {
			for (size_t o = 0; o < sizeof(big_offs) / sizeof(big_offs[0]); o++) {
				if (p == K64 && o % 3)
					continue;
				snprintf(name, sizeof(name), "sweep mps %u off %llu len %llu",
					 p, (unsigned long long)big_offs[o],
					 (unsigned long long)big[l]);
				cur_case = name;
				sweep_one(p, big_offs[o], big[l], &fl);
			}
		}
		fake_list_fini(&fl);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across runs and platforms. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

/* A random payload PRPs can describe; buffers in distinct 1 GiB windows. */
static unsigned int random_prp_payload(struct nvp_dma_seg *segs, uint32_t p,
				       uint64_t max_pages_mid)
{
	unsigned int n = (unsigned int)rnd_range(1, 6);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t base = DATA_A + (uint64_t)i * 0x40000000ull +
				rnd_range(0, 1000) * p;
		bool first = i == 0, last = i == n - 1;
		uint64_t off = first ? rnd_range(0, p / 4 - 1) * 4 : 0;
		uint64_t len;

		if (last)
			len = rnd_range(1, max_pages_mid * p - off);
		else
			len = rnd_range(1, max_pages_mid) * p - off;
		segs[i].iova = base + off;
		segs[i].len = len;
	}
	return n;
}

static void test_prp_sweep_iovecs(void **state)
{
	static const uint32_t mpss[] = { K4, K8, K64 };
	struct nvp_dma_seg segs[8];
	char name[96];

	(void)state;
	for (size_t m = 0; m < 3; m++) {
		uint32_t p = mpss[m];
		struct fake_list fl;

		fake_list_init(&fl, p, LIST_MAX_PAGES);
		for (int it = 0; it < 1500; it++) {
			uint64_t max_mid = it % 10 == 0 ? (p == K64 ? 3000 : 500) : 5;
			unsigned int n = random_prp_payload(segs, p, max_mid);
			uint64_t pages = 0;

			snprintf(name, sizeof(name), "random iovec mps %u #%d", p, it);
			cur_case = name;
			for (unsigned int i = 0; i < n; i++)
				pages += (segs[i].iova % p + segs[i].len + p - 1) / p;
			check_prp_build(segs, n, p, &fl, pages - 1,
					fill_pages(pages - 1, p / 8), false);

			/* Break one rule; the build must be refused untouched. */
			if (n >= 2) {
				unsigned int victim = (unsigned int)rnd_range(0, n - 1);

				switch (rnd() % 3) {
				case 0: /* a later buffer starts mid-page */
					if (victim == 0)
						victim = 1;
					segs[victim].iova += 4 * rnd_range(1, p / 4 - 1);
					break;
				case 1: { /* an earlier buffer ends mid-page */
					uint64_t cut = 4 * rnd_range(1, 8);

					if (victim == n - 1)
						victim = n - 2;
					if (segs[victim].len > cut)
						segs[victim].len -= cut;
					else
						segs[victim].len += 4;
					break;
				}
				default: /* PRP1 not dword aligned */
					segs[0].iova += rnd_range(1, 3);
					break;
				}
				check_prp_rejected(segs, n, p, &fl.list, &fl, -EINVAL);
			}
		}
		fake_list_fini(&fl);
	}
}

/* ------------------------------------------------------------------------ */
/* SGL                                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Check an SGL build: @sgl1_type/@sgl1_len/@list_pages expected; every
 * descriptor position computed from the closed-form layout; replay equal.
 */
static void check_sgl_build(const struct nvp_dma_seg *segs, unsigned int nsegs,
			    uint32_t page_size, struct fake_list *fl,
			    uint8_t sgl1_type, uint32_t sgl1_len,
			    unsigned int list_pages)
{
	static struct nvp_dma_seg chunks[4096];
	uint64_t per_page = page_size / 16;
	unsigned int replay_pages;
	struct nvp_sqe sqe;
	size_t n, k;
	int rc;

	sqe_fill(&sqe);
	rc = nvp_payload_sgl(&sqe, segs, nsegs, page_size, &fl->list);
	CHECK(rc == 0, "nvp_payload_sgl returned %d", rc);
	check_sqe_rest(&sqe, NVP_SQE_PSDT_SGL_MPTR);
	CHECK(sgl_kind(&sqe.dptr.sgl1) == sgl1_type, "SGL1 type %u, want %u",
	      sgl_kind(&sqe.dptr.sgl1), sgl1_type);
	CHECK(nvp_le32_to_cpu(sqe.dptr.sgl1.length) == sgl1_len, "SGL1 length %u, want %u",
	      nvp_le32_to_cpu(sqe.dptr.sgl1.length), sgl1_len);
	check_desc_clean(&sqe.dptr.sgl1);

	if (sgl1_type == NVP_SGL_TYPE_DATA_BLOCK) {
		CHECK(nsegs == 1, "data block in the SQE for %u segments", nsegs);
		CHECK(nvp_le64_to_cpu(sqe.dptr.sgl1.addr) == segs[0].iova, "SGL1 address 0x%llx",
		      (unsigned long long)nvp_le64_to_cpu(sqe.dptr.sgl1.addr));
	} else {
		const struct nvp_sgl_desc *d = (const void *)fl->mem;
		size_t last_count;

		CHECK(nvp_le64_to_cpu(sqe.dptr.sgl1.addr) == LIST_IOVA, "SGL1 address 0x%llx",
		      (unsigned long long)nvp_le64_to_cpu(sqe.dptr.sgl1.addr));
		k = 0;
		for (unsigned int pg = 0; pg + 1 < list_pages; pg++) {
			const struct nvp_sgl_desc *page = d + pg * per_page;
			const struct nvp_sgl_desc *chain = &page[per_page - 1];
			bool next_is_last = pg + 2 == list_pages;
			uint64_t next_count;

			for (uint64_t j = 0; j + 1 < per_page; j++, k++)
				CHECK(sgl_kind(&page[j]) == NVP_SGL_TYPE_DATA_BLOCK &&
				      nvp_le64_to_cpu(page[j].addr) == segs[k].iova &&
				      nvp_le32_to_cpu(page[j].length) == segs[k].len,
				      "page %u descriptor %llu is not segment %zu", pg,
				      (unsigned long long)j, k);
			next_count = next_is_last ? nsegs - k : per_page;
			CHECK(nvp_le64_to_cpu(chain->addr) == LIST_IOVA + (uint64_t)(pg + 1) * page_size,
			      "page %u chain address 0x%llx", pg, (unsigned long long)nvp_le64_to_cpu(chain->addr));
			CHECK(sgl_kind(chain) == (next_is_last ? NVP_SGL_TYPE_LAST_SEGMENT :
								  NVP_SGL_TYPE_SEGMENT),
			      "page %u chain type %u", pg, sgl_kind(chain));
			CHECK(nvp_le32_to_cpu(chain->length) == next_count * 16, "page %u chain length %u, want %llu",
			      pg, nvp_le32_to_cpu(chain->length), (unsigned long long)(next_count * 16));
		}
		last_count = nsegs - k;
		CHECK(last_count >= 2 && last_count <= per_page,
		      "last SGL page would hold %zu descriptors", last_count);
		for (size_t j = 0; j < last_count; j++, k++) {
			const struct nvp_sgl_desc *e = d + (list_pages - 1) * per_page + j;

			CHECK(sgl_kind(e) == NVP_SGL_TYPE_DATA_BLOCK && nvp_le64_to_cpu(e->addr) == segs[k].iova &&
			      nvp_le32_to_cpu(e->length) == segs[k].len,
			      "last page descriptor %zu is not segment %zu", j, k);
		}
		CHECK(untouched(fl->mem + (size_t)(list_pages - 1) * page_size + last_count * 16,
				page_size - last_count * 16),
		      "SGL list written past its last descriptor");
	}
	CHECK(untouched(fl->mem + (size_t)list_pages * page_size, page_size),
	      "list page %u written", list_pages);

	n = replay_sgl(&sqe, fl, chunks, 4096, &replay_pages);
	CHECK(replay_pages == list_pages, "controller walked %u SGL pages, want %u",
	      replay_pages, list_pages);
	CHECK(n == nsegs, "replay gives %zu data blocks, want %u", n, nsegs);
	for (size_t i = 0; i < n; i++)
		CHECK(chunks[i].iova == segs[i].iova && chunks[i].len == segs[i].len,
		      "data block %zu differs", i);
	memset(fl->mem, POISON, (size_t)(list_pages ? list_pages : 1) * page_size);
}

struct sgl_case {
	const char *name;
	uint32_t mps;
	unsigned int nsegs;
	struct nvp_dma_seg segs[4];	/* when nsegs <= 4 */
	int list;
	int rc;
	uint8_t sgl1_type;
	uint32_t sgl1_len;
	unsigned int list_pages;
};

#define DB	NVP_SGL_TYPE_DATA_BLOCK
#define SEG	NVP_SGL_TYPE_SEGMENT
#define LAST	NVP_SGL_TYPE_LAST_SEGMENT

static const struct sgl_case sgl_cases[] = {
	{ "single 512B at 4", K4, 1, { S(DATA_A + 4, 512) }, 0, 0, DB, 512, 0 },
	{ "single 1M", K4, 1, { S(DATA_A, MiB) }, 0, 0, DB, MiB, 0 },
	{ "single odd address and length", K4, 1, { S(DATA_A + 1, 513) }, 0, 0, DB, 513, 0 },
	{ "single 4G-1", K4, 1, { S(DATA_A, 0xffffffffull) }, 0, 0, DB, 0xffffffffu, 0 },
	{ "single, no list memory", K4, 1, { S(DATA_A, 4096) }, LIST_NONE, 0, DB, 4096, 0 },
	{ "two segments", K4, 2, { S(DATA_A + 4, 100), S(DATA_B + 8, 4000) }, 0, 0, LAST, 32, 1 },
	{ "four unaligned segments", K4, 4,
	  { S(DATA_A + 3, 5), S(DATA_B + 4095, 1), S(DATA_C, 3 * MiB), S(DATA_D + 12, 44) },
	  0, 0, LAST, 64, 1 },
	/* generated: see sgl_generate() */
	{ "16 segments", K4, 16, { { 0 } }, 0, 0, LAST, 256, 1 },
	{ "255 segments", K4, 255, { { 0 } }, 0, 0, LAST, 255 * 16, 1 },
	{ "256 segments fill one page", K4, 256, { { 0 } }, 0, 0, LAST, 4096, 1 },
	{ "257 segments chain", K4, 257, { { 0 } }, 0, 0, SEG, 4096, 2 },
	{ "511 segments, second page full", K4, 511, { { 0 } }, 0, 0, SEG, 4096, 2 },
	{ "512 segments, third page", K4, 512, { { 0 } }, 0, 0, SEG, 4096, 3 },
	{ "766 segments, third page full", K4, 766, { { 0 } }, 0, 0, SEG, 4096, 3 },
	{ "767 segments, fourth page", K4, 767, { { 0 } }, 0, 0, SEG, 4096, 4 },
	{ "8K mps: 512 segments fill one page", K8, 512, { { 0 } }, 0, 0, LAST, 8192, 1 },
	{ "8K mps: 513 segments chain", K8, 513, { { 0 } }, 0, 0, SEG, 8192, 2 },
	{ "64K mps: 300 segments", K64, 300, { { 0 } }, 0, 0, LAST, 4800, 1 },
	{ "exact list: 257 segments in 2 pages", K4, 257, { { 0 } }, 2, 0, SEG, 4096, 2 },
	/* rejected */
	{ "two segments, no list memory", K4, 2, { S(DATA_A, 4), S(DATA_B, 4) },
	  LIST_NONE, -E2BIG, 0, 0, 0 },
	{ "257 segments, one list page", K4, 257, { { 0 } }, 1, -E2BIG, 0, 0, 0 },
	{ "zero-length segment", K4, 2, { S(DATA_A, 4), S(DATA_B, 0) }, 0, -EINVAL, 0, 0, 0 },
	{ "4 GiB segment", K4, 1, { S(DATA_A, 4ull << 30) }, 0, -EINVAL, 0, 0, 0 },
	{ "bad page size", 12288, 2, { S(DATA_A, 4), S(DATA_B, 4) }, 0, -EINVAL, 0, 0, 0 },
	{ "no segments", K4, 0, { { 0 } }, 0, -EINVAL, 0, 0, 0 },
};

static void sgl_generate(struct nvp_dma_seg *segs, unsigned int n)
{
	/* Distinct, non-adjacent buffers of varying length. */
	for (unsigned int i = 0; i < n; i++) {
		segs[i].iova = DATA_A + (uint64_t)i * 0x10000 + (i % 5) * 4;
		segs[i].len = 512 + (i % 7) * 4;
	}
}

static void test_sgl_table(void **state)
{
	static struct nvp_dma_seg segs[1024];

	(void)state;
	for (size_t r = 0; r < sizeof(sgl_cases) / sizeof(sgl_cases[0]); r++) {
		const struct sgl_case *c = &sgl_cases[r];
		uint32_t alloc_mps = c->mps >= K4 && !(c->mps & (c->mps - 1)) ? c->mps : K4;
		int pages = c->list == LIST_DEFAULT ? LIST_MAX_PAGES :
			    c->list == LIST_NONE ? 0 : c->list;
		struct fake_list fl;

		cur_case = c->name;
		if (c->nsegs <= 4)
			memcpy(segs, c->segs, sizeof(c->segs));
		else
			sgl_generate(segs, c->nsegs);
		fake_list_init(&fl, alloc_mps, (size_t)pages);
		if (c->rc) {
			struct nvp_sqe sqe, ref;
			int rc;

			sqe_fill(&sqe);
			sqe_fill(&ref);
			rc = nvp_payload_sgl(&sqe, segs, c->nsegs, c->mps,
					     c->list == LIST_NONE ? NULL : &fl.list);
			CHECK(rc == c->rc, "nvp_payload_sgl returned %d, want %d", rc, c->rc);
			CHECK(memcmp(&sqe, &ref, sizeof(sqe)) == 0, "rejected SGL changed the SQE");
			CHECK(untouched(fl.mem, fl.alloc_pages * fl.page_size),
			      "rejected SGL wrote list memory");
		} else {
			check_sgl_build(segs, c->nsegs, c->mps, &fl, c->sgl1_type,
					c->sgl1_len, c->list_pages);
		}
		fake_list_fini(&fl);
	}
}

static void test_sgl_sweep(void **state)
{
	static struct nvp_dma_seg segs[1024];
	char name[64];

	(void)state;
	for (int m = 0; m < 2; m++) {
		uint32_t p = m ? K8 : K4;
		uint64_t per_page = p / 16;
		struct fake_list fl;

		fake_list_init(&fl, p, LIST_MAX_PAGES);
		for (unsigned int n = 1; n <= 1024; n += (n < 16 || n % per_page > per_page - 3 ||
							   n % per_page < 3) ? 1 : 13) {
			unsigned int pages = n == 1 ? 0 : fill_pages(n, per_page);
			uint32_t first = pages <= 1 ? n * 16 : (uint32_t)per_page * 16;

			snprintf(name, sizeof(name), "SGL sweep mps %u n %u", p, n);
			cur_case = name;
			for (unsigned int i = 0; i < n; i++) {
				segs[i].iova = rnd() & ~3ull & 0x0000ffffffffffffull;
				segs[i].len = rnd_range(1, 1 << 20);
			}
			check_sgl_build(segs, n, p, &fl,
					n == 1 ? DB : pages == 1 ? LAST : SEG,
					n == 1 ? (uint32_t)segs[0].len : first, pages);
		}
		fake_list_fini(&fl);
	}
}

/* ------------------------------------------------------------------------ */
/* nvp_payload_list_bytes()                                                  */
/* ------------------------------------------------------------------------ */

static void test_list_bytes(void **state)
{
	static const struct {
		uint32_t max_xfer, mps;
		unsigned int max_segs;
		size_t bytes;
	} rows[] = {
		{ 0, K4, 0, 0 },
		{ 4, K4, 0, 0 },
		{ K4, K4, 0, 0 },		/* at 4092: 2 pages, PRP2 */
		{ K4 + 4, K4, 0, 0 },		/* at 4092: ends on page 2's end */
		{ K4 + 8, K4, 0, 4096 },	/* at 4092: 3 pages */
		{ K8, K4, 0, 4096 },
		{ 128 * KiB, K4, 0, 4096 },
		{ 2 * MiB, K4, 0, 4096 },	/* 513 pages: 512 entries */
		{ 2 * MiB + K4, K4, 0, 8192 },
		{ 4 * MiB - K4, K4, 0, 8192 },	/* 1023 entries, 2 pages */
		{ 4 * MiB, K4, 0, 12288 },
		{ 0, K4, 1, 0 },
		{ 0, K4, 2, 4096 },
		{ 0, K4, 256, 4096 },
		{ 0, K4, 257, 8192 },
		{ 128 * KiB, K4, 512, 12288 },	/* SGL dominates */
		{ 2 * MiB, K4, 256, 4096 },
		{ 64 * KiB, K64, 0, 0 },
		{ MiB, K64, 0, 65536 },
		{ 0xffffffffu, K4, 0, 2053 * 4096 },	/* 1048576 entries */
		{ 128 * KiB, 6000, 16, 0 },	/* bad page size */
	};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t got = nvp_payload_list_bytes(rows[r].max_xfer, rows[r].mps,
						    rows[r].max_segs);

		cur_case = "list_bytes";
		CHECK(got == rows[r].bytes, "row %zu: %zu bytes, want %zu", r, got,
		      rows[r].bytes);
	}
}

/* Property: a list sized by nvp_payload_list_bytes() takes any payload. */
static void test_list_bytes_suffices(void **state)
{
	static const uint32_t xfers[] = { 512, K4, K8, 128 * KiB, 2 * MiB,
					  2 * MiB + K4, 4 * MiB - K4, 4 * MiB };
	char name[80];

	(void)state;
	for (size_t x = 0; x < sizeof(xfers) / sizeof(xfers[0]); x++) {
		size_t bytes = nvp_payload_list_bytes(xfers[x], K4, 0);
		struct fake_list fl;

		fake_list_init(&fl, K4, LIST_MAX_PAGES);
		fl.list.bytes = bytes;
		for (uint64_t off = 0; off < K4; off += 4) {
			struct nvp_dma_seg seg = S(DATA_A + off, xfers[x]);
			struct nvp_sqe sqe = { 0 };
			int rc;

			snprintf(name, sizeof(name), "list_bytes(%u) at offset %llu",
				 xfers[x], (unsigned long long)off);
			cur_case = name;
			rc = nvp_payload_prp(&sqe, &seg, 1, K4, &fl.list);
			CHECK(rc == 0, "build failed with %d", rc);
		}
		fake_list_fini(&fl);
	}
}

/* ------------------------------------------------------------------------ */
/* nvp_payload_segments(): a fake memory map                                 */
/* ------------------------------------------------------------------------ */

#define HEAP_A_LEN	(64 * KiB)	/* VIRT-style: one segment */
#define HEAP_B_LEN	(32 * KiB)	/* PHYS-style: four 8 KiB "hugepages" */
#define HEAP_A_IOVA	0x100000000ull

static uint8_t *heap_block, *heap_a, *heap_b;
static const uint64_t heap_a_iova[1] = { HEAP_A_IOVA };
static const uint64_t heap_b_iova[4] = { 0x200000, 0x202000, 0x900000, 0x100000 };
static struct nvp_mem_region regions[2];
static struct nvp_mem_snapshot snapshot;
static const struct nvp_mem_snapshot *saved_snapshot;

static int map_setup(void **state)
{
	struct nvp_mem_region a, b;

	(void)state;
	/* One block: A, an unregistered gap, then B. */
	heap_block = aligned_alloc(64 * KiB, 256 * KiB);
	if (!heap_block)
		return -1;
	heap_a = heap_block;
	heap_b = heap_block + 128 * KiB;
	a = (struct nvp_mem_region){ (uintptr_t)heap_a, HEAP_A_LEN, 63, heap_a_iova };
	b = (struct nvp_mem_region){ (uintptr_t)heap_b, HEAP_B_LEN, 13, heap_b_iova };
	regions[0] = a.va < b.va ? a : b;
	regions[1] = a.va < b.va ? b : a;
	snapshot.count = 2;
	snapshot.by_va = regions;
	saved_snapshot = atomic_load(&nvp_mem_current);
	atomic_store(&nvp_mem_current, &snapshot);
	return 0;
}

static int map_teardown(void **state)
{
	(void)state;
	atomic_store(&nvp_mem_current, saved_snapshot);
	free(heap_block);
	return 0;
}

enum heap { HA, HB, STACK };

struct seg_case {
	const char *name;
	int iovcnt;
	struct { enum heap h; size_t off, len; } iov[4];
	unsigned int max_segs;
	int rc;
	unsigned int nsegs;
	struct nvp_dma_seg segs[4];
};

static const struct seg_case seg_cases[] = {
	{ "one buffer in a VIRT region", 1, { { HA, 100, 5000 } }, 8, 1, 1,
	  { S(HEAP_A_IOVA + 100, 5000) } },
	{ "whole VIRT region", 1, { { HA, 0, HEAP_A_LEN } }, 8, 1, 1,
	  { S(HEAP_A_IOVA, HEAP_A_LEN) } },
	{ "VA-adjacent elements merge", 2, { { HA, 0, 4096 }, { HA, 4096, 4096 } }, 8, 1, 1,
	  { S(HEAP_A_IOVA, 8192) } },
	{ "non-adjacent elements stay apart", 2, { { HA, 0, 4096 }, { HA, 8192, 512 } }, 8, 2, 2,
	  { S(HEAP_A_IOVA, 4096), S(HEAP_A_IOVA + 8192, 512) } },
	{ "hugepages: contiguous pair merges", 1, { { HB, 100, HEAP_B_LEN - 200 } }, 8, 3, 3,
	  { S(0x200000 + 100, 16284), S(0x900000, 8192), S(0x100000, 8092) } },
	{ "hugepages: last page to the region end", 1, { { HB, 24 * KiB, 8 * KiB } }, 8, 1, 1,
	  { S(0x100000, 8192) } },
	{ "hugepage boundary inside one element", 1, { { HB, 8188, 8 } }, 8, 1, 1,
	  { S(0x200000 + 8188, 8) } },
	{ "two regions", 2, { { HA, 60 * KiB, 4 * KiB }, { HB, 16 * KiB, 4 } }, 8, 2, 2,
	  { S(HEAP_A_IOVA + 60 * KiB, 4096), S(0x900000, 4) } },
	{ "exactly max_segs", 1, { { HB, 0, HEAP_B_LEN } }, 3, 3, 3,
	  { S(0x200000, 16384), S(0x900000, 8192), S(0x100000, 8192) } },
	{ "too many segments", 1, { { HB, 0, HEAP_B_LEN } }, 2, -E2BIG, 0, { { 0 } } },
	{ "zero-length element", 2, { { HA, 0, 512 }, { HA, 512, 0 } }, 8, -EINVAL, 0, { { 0 } } },
	{ "no elements", 0, { { HA, 0, 0 } }, 8, -EINVAL, 0, { { 0 } } },
	{ "not DMA memory", 1, { { STACK, 0, 64 } }, 8, -EFAULT, 0, { { 0 } } },
	{ "runs past the region end", 1, { { HA, HEAP_A_LEN - 16, 32 } }, 8, -EFAULT, 0, { { 0 } } },
};

static void test_segments_table(void **state)
{
	uint8_t stack_buf[64];

	(void)state;
	for (size_t r = 0; r < sizeof(seg_cases) / sizeof(seg_cases[0]); r++) {
		const struct seg_case *c = &seg_cases[r];
		struct nvp_dma_seg out[8];
		struct iovec iov[4];
		int rc;

		cur_case = c->name;
		for (int i = 0; i < c->iovcnt; i++) {
			uint8_t *base = c->iov[i].h == HA ? heap_a :
					c->iov[i].h == HB ? heap_b : stack_buf;

			iov[i].iov_base = base + c->iov[i].off;
			iov[i].iov_len = c->iov[i].len;
		}
		memset(out, 0, sizeof(out));
		rc = nvp_payload_segments(iov, c->iovcnt, out, c->max_segs);
		CHECK(rc == c->rc, "returned %d, want %d", rc, c->rc);
		for (unsigned int i = 0; rc > 0 && i < c->nsegs; i++)
			CHECK(out[i].iova == c->segs[i].iova && out[i].len == c->segs[i].len,
			      "segment %u: (0x%llx, %llu), want (0x%llx, %llu)", i,
			      (unsigned long long)out[i].iova, (unsigned long long)out[i].len,
			      (unsigned long long)c->segs[i].iova,
			      (unsigned long long)c->segs[i].len);
		if (rc == -EFAULT) {
			/* The message names the first address that is not DMA memory. */
			const uint8_t *bad = c->iov[0].h == STACK ? stack_buf :
					     heap_a + HEAP_A_LEN;
			char addr[32];

			snprintf(addr, sizeof(addr), "%p", (const void *)bad);
			CHECK(strstr(nvp_last_error(), addr), "message lacks %s: %s", addr,
			      nvp_last_error());
			CHECK(strstr(nvp_last_error(), "nvp_dma_alloc()") &&
			      strstr(nvp_last_error(), "nvp_mem_register()"),
			      "message lacks the remedy: %s", nvp_last_error());
		}
	}
}

static void test_segments_no_map(void **state)
{
	struct iovec iov = { heap_a, 512 };
	struct nvp_dma_seg out[1];

	(void)state;
	cur_case = "no map published";
	atomic_store(&nvp_mem_current, NULL);
	CHECK(nvp_payload_segments(&iov, 1, out, 1) == -EFAULT, "want -EFAULT");
	atomic_store(&nvp_mem_current, &snapshot);
}

/* ------------------------------------------------------------------------ */
/* Replay and compare, whichever description was chosen                      */
/* ------------------------------------------------------------------------ */

/* Read @sqe like a controller; the bytes it describes must be @segs'. */
static void check_describes(const struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
			    unsigned int nsegs, uint32_t page_size,
			    const struct fake_list *fl)
{
	static struct nvp_dma_seg chunks[MAX_ENTRIES + 1];
	static struct nvp_dma_seg input[NVP_PAYLOAD_MAX_SEGS];
	unsigned int list_pages;
	size_t n, ninput;

	if ((sqe->flags >> 6) == 0)
		n = replay_prp(sqe, total_len(segs, nsegs), page_size, fl, chunks,
			       MAX_ENTRIES + 1, &list_pages);
	else
		n = replay_sgl(sqe, fl, chunks, MAX_ENTRIES + 1, &list_pages);
	memcpy(input, segs, nsegs * sizeof(*segs));
	ninput = merge_chunks(input, nsegs);
	n = merge_chunks(chunks, n);
	CHECK(n == ninput, "replay gives %zu runs, the payload has %zu", n, ninput);
	for (size_t i = 0; i < n && i < ninput; i++)
		CHECK(chunks[i].iova == input[i].iova && chunks[i].len == input[i].len,
		      "run %zu: replay (0x%llx, %llu), payload (0x%llx, %llu)", i,
		      (unsigned long long)chunks[i].iova, (unsigned long long)chunks[i].len,
		      (unsigned long long)input[i].iova, (unsigned long long)input[i].len);
}

/* ------------------------------------------------------------------------ */
/* nvp_payload_prp_or_sgl(): the policy                                      */
/* ------------------------------------------------------------------------ */

#define PRP_ONLY	NVP_PAYLOAD_PRP_ONLY
#define SGL_DWORD	NVP_PAYLOAD_SGL_DWORD
#define SGL_BYTE	NVP_PAYLOAD_SGL_BYTE
#define PSDT_PRP	NVP_SQE_PSDT_PRP
#define PSDT_SGL	NVP_SQE_PSDT_SGL_MPTR

struct policy_case {
	const char *name;
	uint32_t mps;
	unsigned int nsegs;
	struct nvp_dma_seg segs[4];
	enum nvp_payload_sgl sgl;
	int list;		/* LIST_DEFAULT or LIST_NONE */
	int rc;
	uint8_t psdt;		/* which description, when rc is 0 */
	const char *why;	/* for -EINVAL: a phrase the message must hold */
};

static const struct policy_case policy_cases[] = {
	/* PRPs whenever they can: every controller takes them */
	{ "one page, PRP only", K4, 1, { S(DATA_A, K4) }, PRP_ONLY, 0, 0, PSDT_PRP, NULL },
	{ "one page, byte SGLs too", K4, 1, { S(DATA_A, K4) }, SGL_BYTE, 0, 0, PSDT_PRP, NULL },
	{ "one page at 4, dword SGLs too", K4, 1, { S(DATA_A + 4, K4) }, SGL_DWORD, 0, 0,
	  PSDT_PRP, NULL },
	{ "three pages: a PRP list, not an SGL", K4, 1, { S(DATA_A, 3 * K4) }, SGL_BYTE, 0, 0,
	  PSDT_PRP, NULL },
	{ "iovec PRPs can describe, byte SGLs too", K4, 3,
	  { S(DATA_A + 3584, 512), S(DATA_B, K8), S(DATA_C, 7) }, SGL_BYTE, 0, 0, PSDT_PRP, NULL },
	{ "last element of odd length, PRP only", K4, 2, { S(DATA_A, K4), S(DATA_B, 513) },
	  PRP_ONLY, 0, 0, PSDT_PRP, NULL },

	/* an SGL where PRPs cannot and the command may use one */
	{ "odd address, byte SGLs", K4, 1, { S(DATA_A + 1, 512) }, SGL_BYTE, 0, 0, PSDT_SGL, NULL },
	{ "2-byte aligned address, byte SGLs", K4, 1, { S(DATA_A + 2, K8) }, SGL_BYTE, 0, 0,
	  PSDT_SGL, NULL },
	{ "first element ends mid-page, dword SGLs", K4, 2, { S(DATA_A, 512), S(DATA_B, K4) },
	  SGL_DWORD, 0, 0, PSDT_SGL, NULL },
	{ "middle element starts mid-page, dword SGLs", K4, 3,
	  { S(DATA_A, K4), S(DATA_B + 512, K4), S(DATA_C, K4) }, SGL_DWORD, 0, 0, PSDT_SGL, NULL },
	{ "odd length mid-payload, byte SGLs", K4, 2, { S(DATA_A, 513), S(DATA_B, K4) },
	  SGL_BYTE, 0, 0, PSDT_SGL, NULL },
	{ "8K mps: 4K-aligned second element, dword SGLs", K8, 2,
	  { S(DATA_A, K8), S(DATA_B + K4, K4) }, SGL_DWORD, 0, 0, PSDT_SGL, NULL },

	/* neither */
	{ "odd address, PRP only", K4, 1, { S(DATA_A + 1, 512) }, PRP_ONLY, 0, -EINVAL, 0,
	  "cannot use an SGL" },
	{ "odd address, dword SGLs", K4, 1, { S(DATA_A + 1, 512) }, SGL_DWORD, 0, -EINVAL, 0,
	  "multiple of 4" },
	{ "first element ends mid-page, PRP only", K4, 2, { S(DATA_A, 512), S(DATA_B, K4) },
	  PRP_ONLY, 0, -EINVAL, 0, "cannot use an SGL" },
	{ "odd length mid-payload, dword SGLs", K4, 2, { S(DATA_A, 513), S(DATA_B, K4) },
	  SGL_DWORD, 0, -EINVAL, 0, "multiple of 4" },
	{ "8K mps: 4K-aligned second element, PRP only", K8, 2,
	  { S(DATA_A, K8), S(DATA_B + K4, K4) }, PRP_ONLY, 0, -EINVAL, 0, "8192-byte page" },
	{ "empty element, byte SGLs", K4, 2, { S(DATA_A, K4), S(DATA_B, 0) }, SGL_BYTE, 0,
	  -EINVAL, 0, NULL },
	{ "an SGL that needs list memory there is not", K4, 3,
	  { S(DATA_A, 512), S(DATA_B, 512), S(DATA_C, 512) }, SGL_BYTE, LIST_NONE, -E2BIG, 0,
	  NULL },
};

static void test_policy_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(policy_cases) / sizeof(policy_cases[0]); r++) {
		const struct policy_case *c = &policy_cases[r];
		struct nvp_sqe sqe, ref;
		struct fake_list fl;
		int rc;

		cur_case = c->name;
		fake_list_init(&fl, c->mps, c->list == LIST_NONE ? 0 : LIST_MAX_PAGES);
		sqe_fill(&sqe);
		sqe_fill(&ref);
		rc = nvp_payload_prp_or_sgl(&sqe, c->segs, c->nsegs, c->mps, c->sgl,
					    c->list == LIST_NONE ? NULL : &fl.list);
		CHECK(rc == c->rc, "returned %d, want %d", rc, c->rc);
		if (rc == 0 && c->rc == 0) {
			check_sqe_rest(&sqe, c->psdt);
			check_describes(&sqe, c->segs, c->nsegs, c->mps, &fl);
		} else if (rc == c->rc) {
			CHECK(memcmp(&sqe, &ref, sizeof(sqe)) == 0, "a refused payload changed the SQE");
			CHECK(untouched(fl.mem, fl.alloc_pages * fl.page_size),
			      "a refused payload wrote list memory");
			if (c->why)
				CHECK(strstr(nvp_last_error(), c->why),
				      "message lacks \"%s\": %s", c->why, nvp_last_error());
		}
		fake_list_fini(&fl);
	}
}

/* ------------------------------------------------------------------------ */
/* nvp_payload_map(): the inline fast path and the general path              */
/* ------------------------------------------------------------------------ */

/* What nvp_payload_map() reads of a queue pair, its controller and request. */
static struct nvp_id_ctrl fake_id;
static struct nvp_ctrl fake_ctrl;
static struct nvp_qpair fake_qp;
static struct nvp_req fake_req;

/* As init.c and qpair.c set them: SGLS bits 1:0 and no_sgl. */
static void fake_qpair_init(uint32_t page_size, uint32_t sgls, bool no_sgl,
			    const struct fake_list *fl)
{
	memset(&fake_id, 0, sizeof(fake_id));
	memset(&fake_ctrl, 0, sizeof(fake_ctrl));
	memset(&fake_qp, 0, sizeof(fake_qp));
	memset(&fake_req, 0, sizeof(fake_req));
	fake_id.sgls = nvp_cpu_to_le32(sgls);
	fake_ctrl.id = &fake_id;
	fake_qp.ctrl = &fake_ctrl;
	fake_qp.page_size = page_size;
	fake_qp.sgl_supported = (sgls & NVP_SGLS_SUPPORT_MASK) != 0 && !no_sgl;
	fake_req.list = fl->list;
}

/* Every address and length a multiple of 4 (what SGLS 10b asks). */
static bool segs_all_dword(const struct nvp_dma_seg *segs, int n)
{
	for (int i = 0; i < n; i++)
		if ((segs[i].iova | segs[i].len) % 4)
			return false;
	return true;
}

/* PRP rules, checked here without the library. */
static bool prp_can(const struct nvp_dma_seg *segs, int n, uint32_t p)
{
	if (segs[0].iova % 4)
		return false;
	for (int i = 0; i < n; i++) {
		if (i > 0 && segs[i].iova % p)
			return false;
		if (i + 1 < n && (segs[i].iova + segs[i].len) % p)
			return false;
	}
	return true;
}

struct map_ctrl {
	const char *name;
	uint32_t sgls;
	bool no_sgl;
	bool allow_sgl;		/* false: an admin command */
	enum nvp_payload_sgl want;
};

static const struct map_ctrl map_ctrls[] = {
	{ "no SGLs", 0, false, true, PRP_ONLY },
	{ "byte SGLs", NVP_SGLS_SUPPORTED, false, true, SGL_BYTE },
	{ "byte SGLs, admin command", NVP_SGLS_SUPPORTED, false, false, PRP_ONLY },
	{ "byte SGLs, no_sgl", NVP_SGLS_SUPPORTED, true, true, PRP_ONLY },
	{ "dword SGLs", NVP_SGLS_DWORD_ALIGNED, false, true, SGL_DWORD },
};

/*
 * Buffers in the fake map (VIRT-style heap A; heap B's 8 KiB "hugepages",
 * two of them bus-adjacent), around every page and hugepage boundary, for
 * each kind of controller: whatever path nvp_payload_map() takes, the
 * command must describe exactly the buffer's bus segments, with PRPs when
 * they can, and the fast path's shape (one run, dword aligned, two pages
 * at most) must never touch the list.
 */
static void test_map_buffers(void **state)
{
	static const size_t offs[] = { 0, 1, 2, 4, 512, 3584, 4092, 4096, 4100, 8188,
				       8192, 12284, 16380 };
	static const size_t lens[] = { 1, 4, 512, 3584, 4092, 4096, 4100, 8188, 8192,
				       8196, 12288, 16384 };
	char name[128];

	(void)state;
	for (size_t k = 0; k < sizeof(map_ctrls) / sizeof(map_ctrls[0]); k++) {
		const struct map_ctrl *mc = &map_ctrls[k];

		for (int h = 0; h < 2; h++) {
			uint8_t *heap = h ? heap_b : heap_a;
			size_t heap_len = h ? HEAP_B_LEN : HEAP_A_LEN;

			for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
				for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
					struct iovec iov = { heap + offs[o], lens[l] };
					struct nvp_dma_seg segs[8];
					struct nvp_sqe sqe, ref;
					struct fake_list fl;
					bool prp, sgl, fast;
					int n, rc;

					if (offs[o] + lens[l] > heap_len)
						continue;
					snprintf(name, sizeof(name), "%s: heap %c + %zu, %zu bytes",
						 mc->name, h ? 'B' : 'A', offs[o], lens[l]);
					cur_case = name;
					n = nvp_payload_segments(&iov, 1, segs, 8);
					CHECK(n > 0, "segments: %d", n);
					prp = prp_can(segs, n, K4);
					sgl = mc->want == SGL_BYTE ||
					      (mc->want == SGL_DWORD && segs_all_dword(segs, n));
					fast = n == 1 && segs[0].iova % 4 == 0 &&
					       segs[0].iova % K4 + segs[0].len <= 2 * K4;

					fake_list_init(&fl, K4, LIST_MAX_PAGES);
					fake_qpair_init(K4, mc->sgls, mc->no_sgl, &fl);
					sqe_fill(&sqe);
					sqe.flags &= (uint8_t)~NVP_SQE_PSDT_MASK; /* the caller's part */
					ref = sqe;
					rc = nvp_payload_map(&fake_qp, &fake_req, &sqe, iov.iov_base,
							     (uint32_t)iov.iov_len, mc->allow_sgl);
					if (!prp && !sgl) {
						CHECK(rc == -EINVAL, "returned %d, want -EINVAL", rc);
						CHECK(memcmp(&sqe, &ref, sizeof(sqe)) == 0,
						      "a refused buffer changed the SQE");
					} else {
						CHECK(rc == 0, "returned %d: %s", rc, nvp_last_error());
						check_sqe_rest(&sqe, prp ? PSDT_PRP : PSDT_SGL);
						check_describes(&sqe, segs, (unsigned int)n, K4, &fl);
					}
					if (fast)
						CHECK(untouched(fl.mem, fl.alloc_pages * fl.page_size),
						      "one buffer within two pages wrote list memory");
					fake_list_fini(&fl);
				}
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* nvp_payload_slice()                                                        */
/* ------------------------------------------------------------------------ */

/* Bus address of payload byte @off, by walking the segments. */
static uint64_t iova_at(const struct nvp_dma_seg *segs, unsigned int n, uint64_t off)
{
	for (unsigned int i = 0; i < n; i++) {
		if (off < segs[i].len)
			return segs[i].iova + off;
		off -= segs[i].len;
	}
	fail_msg("offset past the payload");
	return 0;
}

/* Segments a slice [off, off+len) touches: boundaries inside it + 1. */
static unsigned int segs_touched(const struct nvp_dma_seg *segs, unsigned int n,
				 uint64_t off, uint64_t len)
{
	unsigned int count = 0;
	uint64_t start = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t end = start + segs[i].len;

		if (end > off && start < off + len)
			count++;
		start = end;
	}
	return count;
}

static void check_slicing(const struct nvp_dma_seg *segs, unsigned int n,
			  uint64_t cut)
{
	static struct nvp_dma_seg all[64], input[64];
	uint64_t total = total_len(segs, n);
	size_t nall = 0, ninput;

	for (uint64_t off = 0; off < total; off += cut) {
		uint64_t len = total - off < cut ? total - off : cut;
		struct nvp_dma_seg out[64];
		int rc = nvp_payload_slice(segs, n, off, len, out, 64);
		uint64_t pos = off;

		CHECK(rc == (int)segs_touched(segs, n, off, len),
		      "slice at %llu+%llu: %d segments, want %u", (unsigned long long)off,
		      (unsigned long long)len, rc, segs_touched(segs, n, off, len));
		for (int i = 0; i < rc; i++) {
			CHECK(out[i].len > 0, "empty slice segment");
			CHECK(out[i].iova == iova_at(segs, n, pos) &&
			      out[i].iova + out[i].len - 1 == iova_at(segs, n, pos + out[i].len - 1),
			      "slice segment %d at payload byte %llu maps wrongly", i,
			      (unsigned long long)pos);
			pos += out[i].len;
			/* Reassemble as we go: append, merging bus neighbours. */
			if (nall && all[nall - 1].iova + all[nall - 1].len == out[i].iova) {
				all[nall - 1].len += out[i].len;
			} else {
				CHECK(nall < 64, "reassembly has too many runs");
				all[nall++] = out[i];
			}
		}
		CHECK(pos == off + len, "slice covers %llu bytes, want %llu",
		      (unsigned long long)(pos - off), (unsigned long long)len);
	}
	/* Reassembled slices are the payload. */
	memcpy(input, segs, n * sizeof(*segs));
	ninput = merge_chunks(input, n);
	CHECK(nall == ninput, "reassembly gives %zu runs, want %zu", nall, ninput);
	for (size_t i = 0; i < nall; i++)
		CHECK(all[i].iova == input[i].iova && all[i].len == input[i].len,
		      "reassembled run %zu differs", i);
}

static void test_slice(void **state)
{
	static const uint64_t cuts[] = { 1, 4, 512, 4096, 4100, 65536, 131072, 1000003 };
	struct nvp_dma_seg segs[20];
	char name[64];

	(void)state;
	for (int it = 0; it < 60; it++) {
		unsigned int n = (unsigned int)rnd_range(1, 20);
		/* Small payloads first so even 1-byte cuts stay cheap. */
		bool small = it < 20;

		for (unsigned int i = 0; i < n; i++) {
			segs[i].iova = DATA_A + (uint64_t)i * 0x1000000 + rnd_range(0, 1023) * 4;
			segs[i].len = rnd_range(1, small ? 2000 : 200000);
		}
		for (size_t c = small ? 0 : 3; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			snprintf(name, sizeof(name), "slice #%d cut %llu", it,
				 (unsigned long long)cuts[c]);
			cur_case = name;
			check_slicing(segs, n, cuts[c]);
		}
		/* Random slices. */
		for (int k = 0; k < 50; k++) {
			uint64_t total = total_len(segs, n);
			uint64_t off = rnd_range(0, total - 1);
			uint64_t len = rnd_range(1, total - off);
			struct nvp_dma_seg out[20];
			int rc = nvp_payload_slice(segs, n, off, len, out, 20);

			cur_case = "random slice";
			CHECK(rc == (int)segs_touched(segs, n, off, len), "%d segments", rc);
			CHECK(out[0].iova == iova_at(segs, n, off), "first byte maps wrongly");
			CHECK(out[rc - 1].iova + out[rc - 1].len - 1 == iova_at(segs, n, off + len - 1),
			      "last byte maps wrongly");
		}
	}
}

static void test_slice_edges(void **state)
{
	const struct nvp_dma_seg segs[3] = { S(DATA_A, 4096), S(DATA_B + 4, 100), S(DATA_C, 8192) };
	struct nvp_dma_seg out[3];
	int rc;

	(void)state;
	cur_case = "slice starting on a segment boundary";
	rc = nvp_payload_slice(segs, 3, 4096, 100, out, 3);
	CHECK(rc == 1 && out[0].iova == DATA_B + 4 && out[0].len == 100, "rc %d", rc);
	cur_case = "slice ending on a segment boundary";
	rc = nvp_payload_slice(segs, 3, 0, 4196, out, 3);
	CHECK(rc == 2 && out[1].iova == DATA_B + 4 && out[1].len == 100, "rc %d", rc);
	cur_case = "whole payload";
	rc = nvp_payload_slice(segs, 3, 0, 12388, out, 3);
	CHECK(rc == 3 && out[2].len == 8192, "rc %d", rc);
	cur_case = "zero-length input segments are skipped";
	{
		const struct nvp_dma_seg holes[4] = { S(DATA_A, 100), S(DATA_B, 0),
						      S(DATA_C, 100), S(DATA_D, 0) };

		rc = nvp_payload_slice(holes, 4, 0, 200, out, 3);
		CHECK(rc == 2 && out[0].len == 100 && out[1].iova == DATA_C &&
		      out[1].len == 100, "rc %d", rc);
		rc = nvp_payload_slice(holes, 4, 100, 100, out, 3);
		CHECK(rc == 1 && out[0].iova == DATA_C, "rc %d", rc);
	}
	cur_case = "past the end";
	CHECK(nvp_payload_slice(segs, 3, 12388, 1, out, 3) == -EINVAL, "want -EINVAL");
	CHECK(nvp_payload_slice(segs, 3, 100, 12300, out, 3) == -EINVAL, "want -EINVAL");
	cur_case = "empty slice";
	CHECK(nvp_payload_slice(segs, 3, 0, 0, out, 3) == -EINVAL, "want -EINVAL");
	cur_case = "output too small";
	CHECK(nvp_payload_slice(segs, 3, 0, 4196, out, 1) == -E2BIG, "want -E2BIG");
	CHECK(nvp_payload_slice(segs, 3, 10, 10, out, 0) == -E2BIG, "want -E2BIG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prp_table),
		cmocka_unit_test(test_prp_list_alignment),
		cmocka_unit_test(test_prp_sweep_offsets),
		cmocka_unit_test(test_prp_sweep_iovecs),
		cmocka_unit_test(test_sgl_table),
		cmocka_unit_test(test_sgl_sweep),
		cmocka_unit_test(test_list_bytes),
		cmocka_unit_test(test_list_bytes_suffices),
		cmocka_unit_test_setup_teardown(test_segments_table, map_setup, map_teardown),
		cmocka_unit_test_setup_teardown(test_segments_no_map, map_setup, map_teardown),
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test_setup_teardown(test_map_buffers, map_setup, map_teardown),
		cmocka_unit_test(test_slice),
		cmocka_unit_test(test_slice_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
