// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_data.c - data integrity: transfer sizes, random placement, buffer
 * offsets, page and hugepage crossings, scatter lists; through SGLs where the
 * controller has them and through PRPs (re-attached with no_sgl).
 *
 * Every block written carries its LBA, a seed and a checksum
 * (pattern_fill()), so a misdirected, stale, torn or shifted block is told
 * apart from a correct one.
 */
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define HUGEPAGE (2u << 20)

/* A fresh seed for each write so stale data cannot pass for new data. */
static uint64_t next_seed(void)
{
	static uint64_t counter;

	return itest_cfg.seed ^ (++counter * 0x9e3779b97f4a7c15ull);
}

static uint32_t ns_bs(struct nvp_ns *ns)
{
	return nvp_ns_get_info(ns)->block_size;
}

/*
 * Write @nlb blocks from @wbuf and read them into @rbuf (either may be at
 * any offset); records a failure naming @what on a mismatch.
 */
static bool xfer_verify(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t *wbuf,
			uint8_t *rbuf, uint64_t lba, uint32_t nlb, const char *what)
{
	uint32_t bs = ns_bs(ns);
	uint64_t seed = next_seed();
	struct io_cpl c;
	char why[160];
	int rc;

	pattern_fill(wbuf, lba, nlb, bs, seed);
	memset(rbuf, 0x5a, (size_t)nlb * bs);
	rc = io_sync(qp, ns, IO_WRITE, wbuf, lba, nlb, 0, &c);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "%s: write %u blocks at LBA %llu: %d (%s) %s", what,
			    nlb, (unsigned long long)lba, rc, itest_errname(rc),
			    c.status ? nvp_status_str(c.status) : "");
		return false;
	}
	rc = io_sync(qp, ns, IO_READ, rbuf, lba, nlb, 0, &c);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "%s: read %u blocks at LBA %llu: %d (%s) %s", what,
			    nlb, (unsigned long long)lba, rc, itest_errname(rc),
			    c.status ? nvp_status_str(c.status) : "");
		return false;
	}
	if (pattern_check(rbuf, lba, nlb, bs, seed, why, sizeof(why)) >= 0) {
		itest_failf(__FILE__, __LINE__, "%s (nsid %u, %u blocks of %u): %s", what,
			    nvp_ns_get_info(ns)->nsid, nlb, bs, why);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Sizes                                                                    */
/* ------------------------------------------------------------------------ */

static void sizes_on_ns(struct nvp_qpair *qp, struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t m = ni->max_io_blocks, bs = ni->block_size;
	uint32_t sizes[] = { 1, 2, 3, 7, 8, 9, 17, m - 1, m, m + 1, 2 * m + 1, 3 * m - 1,
			     4 * m, 4 * m + 3 };
	uint32_t quick_sizes[] = { 1, 3, m, m + 1, 4 * m + 3 };
	uint32_t *list = itest_cfg.quick ? quick_sizes : sizes;
	size_t n = itest_cfg.quick ? sizeof(quick_sizes) / sizeof(quick_sizes[0])
				   : sizeof(sizes) / sizeof(sizes[0]);
	uint32_t maxn = 4 * m + 3;
	uint8_t *w = NULL, *r = NULL;
	uint64_t lba = 0;
	char what[64];
	size_t i;

	CHECKF(m >= 1, "nsid %u: max_io_blocks %u", ni->nsid, m);
	if (maxn > ni->num_blocks)
		maxn = (uint32_t)ni->num_blocks;
	w = nvp_dma_alloc((size_t)maxn * bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)maxn * bs, 0, NVP_NUMA_ANY);
	CHECKF(w && r, "nvp_dma_alloc(%zu) failed", (size_t)maxn * bs);
	for (i = 0; i < n; i++) {
		uint32_t nlb = list[i];

		if (nlb == 0 || nlb > maxn)
			continue;
		/* Consecutive ranges: a write spilling over would show as stale data. */
		if (lba + nlb > ni->num_blocks)
			lba = 0;
		snprintf(what, sizeof(what), "%u-block I/O", nlb);
		if (!xfer_verify(qp, ns, w, r, lba, nlb, what))
			goto out;
		lba += nlb;
	}
	itest_notef("ns%u: up to %u blocks (max %u per command)", ni->nsid, maxn, m);
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
}

/* Every namespace of every controller: the second one may have a small MDTS. */
void test_data_sizes(void)
{
	struct nvp_qpair *qp = NULL;
	struct itest_dev *d;
	int i, j;

	for (j = 0; j < itest_cfg.num_addrs && !itest_failed(); j++) {
		d = itest_dev(j);
		CHECK(d);
		qp = qpair_alloc_default(d);
		CHECK(qp);
		for (i = 0; i < d->num_ns && !itest_failed(); i++)
			sizes_on_ns(qp, d->ns[i]);
		CHECK(!itest_failed());
		CHECK(nvp_qpair_outstanding(qp) == 0);
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	nvp_qpair_free(qp);
}

/* ------------------------------------------------------------------------ */
/* Random LBAs                                                              */
/* ------------------------------------------------------------------------ */

struct placed {
	uint64_t lba;
	uint32_t nlb;
	uint64_t seed;
};

/*
 * Random, non-overlapping ranges: the namespace is cut into slots, visited
 * in a random order, each holding one range of random length and offset.
 * All are written first and read afterwards, so a write landing in the
 * wrong place damages another range and is caught.
 */
static void random_on_ns(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t seed)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t count = itest_cfg.quick ? 24 : 96;
	uint32_t bs = ni->block_size, maxn, i;
	uint64_t slot, st = seed;
	struct placed *p = NULL;
	uint8_t *w = NULL, *r = NULL;
	char why[160];
	int rc;

	slot = ni->num_blocks / count;
	CHECK(slot >= 1);
	maxn = 2 * ni->max_io_blocks + 1;
	if (maxn > slot)
		maxn = (uint32_t)slot;
	p = calloc(count, sizeof(*p));
	w = nvp_dma_alloc((size_t)maxn * bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)maxn * bs, 0, NVP_NUMA_ANY);
	CHECK(p && w && r);
	for (i = 0; i < count; i++) {
		uint32_t j = (uint32_t)itest_rand_below(&st, i + 1);

		/* Fisher-Yates: slot order is a random permutation. */
		p[i] = p[j];
		p[j].lba = i;
	}
	for (i = 0; i < count; i++) {
		/* Mostly small I/Os, some up to twice the command limit. */
		if (itest_rand_below(&st, 4) == 0)
			p[i].nlb = 1 + (uint32_t)itest_rand_below(&st, maxn);
		else
			p[i].nlb = 1 + (uint32_t)itest_rand_below(&st, maxn < 16 ? maxn : 16);
		p[i].lba = p[i].lba * slot + itest_rand_below(&st, slot - p[i].nlb + 1);
		p[i].seed = itest_rand(&st);
		pattern_fill(w, p[i].lba, p[i].nlb, bs, p[i].seed);
		rc = io_sync(qp, ns, IO_WRITE, w, p[i].lba, p[i].nlb, 0, NULL);
		CHECKF(rc == 0, "write %u blocks at LBA %llu: %d (%s)", p[i].nlb,
		       (unsigned long long)p[i].lba, rc, itest_errname(rc));
	}
	for (i = 0; i < count; i++) {
		memset(r, 0, (size_t)p[i].nlb * bs);
		rc = io_sync(qp, ns, IO_READ, r, p[i].lba, p[i].nlb, 0, NULL);
		CHECKF(rc == 0, "read %u blocks at LBA %llu: %d (%s)", p[i].nlb,
		       (unsigned long long)p[i].lba, rc, itest_errname(rc));
		CHECKF(pattern_check(r, p[i].lba, p[i].nlb, bs, p[i].seed, why, sizeof(why)) < 0,
		       "nsid %u, random range %u (seed 0x%llx): %s", ni->nsid, i,
		       (unsigned long long)seed, why);
	}
out:
	free(p);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

void test_data_random_lbas(void)
{
	uint64_t seed = itest_cfg.seed ^ 0x72616e646f6dull;
	struct nvp_qpair *qp = NULL;
	struct itest_dev *d;
	int i, j;

	itest_notef("seed 0x%llx", (unsigned long long)seed);
	for (j = 0; j < itest_cfg.num_addrs && !itest_failed(); j++) {
		d = itest_dev(j);
		CHECK(d);
		qp = qpair_alloc_default(d);
		CHECK(qp);
		for (i = 0; i < d->num_ns && !itest_failed(); i++)
			random_on_ns(qp, d->ns[i], seed + (uint64_t)(j * 100 + i));
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	nvp_qpair_free(qp);
}

/* ------------------------------------------------------------------------ */
/* Buffer placement                                                         */
/* ------------------------------------------------------------------------ */

static void offsets_on_ns(struct itest_dev *d, struct nvp_qpair *qp, struct nvp_ns *ns)
{
	static const uint32_t dword_offs[] = { 0, 4, 512, 3000, 4092 };
	static const uint32_t byte_offs[] = { 1, 2, 3, 4095 };
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t bs = ni->block_size, m = ni->max_io_blocks;
	uint32_t counts[] = { 1, 3, m };
	bool byte_ok = itest_byte_sgl(d);
	uint8_t *wb = NULL, *rb = NULL;
	size_t len, k, c;
	char what[96];
	int rc;

	len = (size_t)m * bs + 8192;
	wb = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	rb = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	CHECK(wb && rb);
	for (k = 0; k < sizeof(dword_offs) / sizeof(dword_offs[0]); k++) {
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			/* Read into a different offset than the write came from. */
			uint32_t roff = dword_offs[(k + 2) % 5];

			snprintf(what, sizeof(what), "buffer at page offset %u/%u", dword_offs[k],
				 roff);
			if (!xfer_verify(qp, ns, wb + dword_offs[k], rb + roff, 100 + c * m,
					 counts[c], what))
				goto out;
		}
	}
	for (k = 0; k < sizeof(byte_offs) / sizeof(byte_offs[0]); k++) {
		snprintf(what, sizeof(what), "buffer at byte offset %u", byte_offs[k]);
		if (byte_ok) {
			if (!xfer_verify(qp, ns, wb + byte_offs[k], rb + byte_offs[3 - k], 40, 2,
					 what))
				goto out;
			continue;
		}
		/* PRPs (and dword SGLs) cannot start at an odd byte. */
		rc = io_sync(qp, ns, IO_WRITE, wb + byte_offs[k], 40, 1, 0, NULL);
		CHECKF(rc == -EINVAL, "%s: write returned %d (%s), expected -EINVAL", what, rc,
		       itest_errname(rc));
		rc = io_sync(qp, ns, IO_READ, rb + byte_offs[k], 40, 1, 0, NULL);
		CHECKF(rc == -EINVAL, "%s: read returned %d (%s), expected -EINVAL", what, rc,
		       itest_errname(rc));
	}
	if (!byte_ok)
		CHECK(qpair_still_works(qp, ns, 40));
	itest_notef("ns%u byte offsets %s", ni->nsid, byte_ok ? "work (SGL)" : "-EINVAL");
out:
	nvp_dma_free(wb);
	nvp_dma_free(rb);
}

static void crossing_on_ns(struct nvp_qpair *qp, struct nvp_ns *ns, uint32_t page)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t bs = ni->block_size, m = ni->max_io_blocks;
	/* 1 PRP entry, PRP1+PRP2, a PRP list, and a list for the largest command. */
	static const uint32_t starts[] = { 8, 2048, 4092 };
	uint32_t bytes[] = { page - 4096 + bs, 2 * page, 3 * page + bs, m * bs };
	uint8_t *wb = NULL, *rb = NULL;
	size_t len, s, b;
	char what[96];

	len = (size_t)m * bs + 3 * (size_t)page;
	wb = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	rb = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	CHECK(wb && rb);
	for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (b = 0; b < sizeof(bytes) / sizeof(bytes[0]); b++) {
			uint32_t nlb = bytes[b] / bs;

			if (nlb == 0 || nlb > m)
				continue;
			snprintf(what, sizeof(what), "%u bytes from page offset %u", nlb * bs,
				 starts[s]);
			if (!xfer_verify(qp, ns, wb + starts[s], rb + page - starts[s], 300 + b * m,
					 nlb, what))
				goto out;
		}
	}
out:
	nvp_dma_free(wb);
	nvp_dma_free(rb);
}

/*
 * A buffer across a 2 MiB line: with hugepage-backed memory the two sides are
 * different hugepages, contiguous in neither physical nor (without an
 * IOMMU mapping them together) bus address space.
 */
static void hugepage_on_ns(struct nvp_qpair *qp, struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t bs = ni->block_size, m = ni->max_io_blocks;
	size_t len = 2 * (size_t)HUGEPAGE + 4 * (size_t)m * bs + 65536;
	uint8_t *wb = NULL, *rb = NULL, *wline, *rline;
	uintptr_t line;
	/* How far before the line each buffer starts. */
	size_t before[] = { bs, 3 * (size_t)bs + 4, (size_t)m * bs / 2 + 12,
			    (size_t)m * bs * 2 - bs };
	uint32_t nlb;
	uint64_t big;
	size_t i;
	char what[96];

	wb = nvp_dma_alloc(len, HUGEPAGE, NVP_NUMA_ANY);
	rb = nvp_dma_alloc(len, HUGEPAGE, NVP_NUMA_ANY);
	CHECKF(wb && rb, "nvp_dma_alloc(%zu, 2 MiB align) failed: %s", len, strerror(errno));
	/* The first 2 MiB line after the start, leaving room on both sides. */
	line = ((uintptr_t)wb + (size_t)m * bs * 2 + HUGEPAGE - 1) & ~(uintptr_t)(HUGEPAGE - 1);
	CHECK(line + 2 * (size_t)m * bs <= (uintptr_t)wb + len);
	CHECK(line + HUGEPAGE + 32768 <= (uintptr_t)wb + len);
	wline = (uint8_t *)line;
	line = ((uintptr_t)rb + (size_t)m * bs * 2 + HUGEPAGE - 1) & ~(uintptr_t)(HUGEPAGE - 1);
	rline = (uint8_t *)line;
	for (i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		/* Reach well past the line too: up to 4 commands' worth. */
		nlb = (uint32_t)((before[i] + 2 * (size_t)m * bs) / bs);
		snprintf(what, sizeof(what), "%u blocks, %zu bytes before a 2 MiB line", nlb,
			 before[i]);
		if (!xfer_verify(qp, ns, wline - before[i], rline - before[(i + 1) % 4], 500,
				 nlb, what))
			goto out;
	}
	/* One I/O over more than 2 MiB covers two whole hugepage boundaries. */
	big = (uint64_t)HUGEPAGE + 65536;
	nlb = (uint32_t)(big / bs);
	if (nlb <= ni->num_blocks) {
		CHECK(xfer_verify(qp, ns, wline - 32768, rline - 32768, 0, nlb,
				  "2 MiB + 64 KiB across a hugepage"));
	}
	itest_notef("ns%u: buffers at %p/%p, lines at %p/%p", ni->nsid, (void *)wb, (void *)rb,
		    (void *)wline, (void *)rline);
out:
	nvp_dma_free(wb);
	nvp_dma_free(rb);
}

/* ------------------------------------------------------------------------ */
/* Scatter lists                                                            */
/* ------------------------------------------------------------------------ */

struct iov_layout {
	const char *name;
	bool prp_ok;		/* describable by a PRP list */
	int n;
	uint32_t off[16];	/* start offset inside its own allocation */
	uint32_t len[16];
};

/* Each element in its own DMA allocation, so none is contiguous with another. */
static const struct iov_layout layouts[] = {
	{ "PRP-shaped (offset start, page-aligned middles, short tail)", true, 4,
	  { 512, 0, 0, 0 }, { 3584, 8192, 4096, 4608 } },
	{ "one element", true, 1, { 4 }, { 20480 } },
	{ "16 whole pages", true, 16, { 0 }, { 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096,
					       4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096 } },
	{ "dword-aligned ragged elements (SGL only)", false, 5,
	  { 4, 100, 2048, 12, 4092 }, { 1000, 2996, 8196, 100, 8188 } },
};

static uint32_t layout_bytes(const struct iov_layout *l)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < l->n; i++)
		sum += l->len[i];
	return sum;
}

static void iovec_on_ns(struct itest_dev *d, struct nvp_qpair *qp, struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	bool sgl = d->info->sgl_supported && !d->opts.no_sgl;
	uint32_t bs = ni->block_size;
	uint8_t *mem[16] = { NULL }, *flat = NULL, *gather = NULL;
	struct iovec iov[16];
	uint64_t seed, lba = 700;
	uint32_t bytes, nlb, pos;
	size_t li;
	char why[160];
	int i, rc;

	flat = nvp_dma_alloc(65536 + 4096, 0, NVP_NUMA_ANY);
	gather = malloc(65536 + 4096);
	CHECK(flat && gather);
	for (li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		const struct iov_layout *l = &layouts[li];

		bytes = layout_bytes(l);
		CHECKF(bytes % bs == 0, "layout %s: %u bytes", l->name, bytes);
		nlb = bytes / bs;
		for (i = 0; i < l->n; i++) {
			mem[i] = nvp_dma_alloc(l->off[i] + l->len[i] + 64, 0, NVP_NUMA_ANY);
			CHECK(mem[i]);
			iov[i].iov_base = mem[i] + l->off[i];
			iov[i].iov_len = l->len[i];
		}

		/* Scattered write, contiguous read. */
		seed = itest_cfg.seed ^ (0x10000ull * (li + 1)) ^ ni->nsid;
		pattern_fill(gather, lba, nlb, bs, seed);
		for (i = 0, pos = 0; i < l->n; pos += l->len[i], i++)
			memcpy(iov[i].iov_base, gather + pos, l->len[i]);
		rc = iov_sync(qp, ns, true, iov, l->n, lba, nlb, NULL);
		if (!l->prp_ok && !sgl) {
			CHECKF(rc == -EINVAL, "writev %s without SGL: %d (%s), expected -EINVAL",
			       l->name, rc, itest_errname(rc));
			rc = iov_sync(qp, ns, false, iov, l->n, lba, nlb, NULL);
			CHECKF(rc == -EINVAL, "readv %s without SGL: %d (%s), expected -EINVAL",
			       l->name, rc, itest_errname(rc));
			CHECK(qpair_still_works(qp, ns, lba));
			goto next;
		}
		CHECKF(rc == 0, "writev %s: %d (%s)", l->name, rc, itest_errname(rc));
		CHECK_RC(io_sync(qp, ns, IO_READ, flat, lba, nlb, 0, NULL), 0);
		CHECKF(pattern_check(flat, lba, nlb, bs, seed, why, sizeof(why)) < 0,
		       "writev %s, nsid %u: %s", l->name, ni->nsid, why);

		/* Contiguous write, scattered read. */
		seed ^= 0xabcdef;
		pattern_fill(flat, lba, nlb, bs, seed);
		CHECK_RC(io_sync(qp, ns, IO_WRITE, flat, lba, nlb, 0, NULL), 0);
		for (i = 0; i < l->n; i++)
			memset(iov[i].iov_base, 0x33, l->len[i]);
		rc = iov_sync(qp, ns, false, iov, l->n, lba, nlb, NULL);
		CHECKF(rc == 0, "readv %s: %d (%s)", l->name, rc, itest_errname(rc));
		for (i = 0, pos = 0; i < l->n; pos += l->len[i], i++)
			memcpy(gather + pos, iov[i].iov_base, l->len[i]);
		CHECKF(pattern_check(gather, lba, nlb, bs, seed, why, sizeof(why)) < 0,
		       "readv %s, nsid %u: %s", l->name, ni->nsid, why);

		/* Lengths that do not add up to the block count. */
		rc = iov_sync(qp, ns, false, iov, l->n, lba, nlb + 1, NULL);
		CHECKF(rc == -EINVAL, "readv %s with nlb+1: %d (%s), expected -EINVAL", l->name,
		       rc, itest_errname(rc));
next:
		for (i = 0; i < l->n; i++) {
			nvp_dma_free(mem[i]);
			mem[i] = NULL;
		}
		lba += nlb;
	}
	CHECK(qpair_still_works(qp, ns, lba));
out:
	for (i = 0; i < 16; i++)
		nvp_dma_free(mem[i]);
	nvp_dma_free(flat);
	free(gather);
}

/* ------------------------------------------------------------------------ */
/* The tests                                                                */
/* ------------------------------------------------------------------------ */

enum placement { P_OFFSETS, P_PAGES, P_HUGEPAGES, P_IOVEC };

static void run_placement(struct itest_dev *d, enum placement what)
{
	struct nvp_qpair *qp = NULL;
	int i;

	qp = qpair_alloc_default(d);
	CHECK(qp);
	for (i = 0; i < d->num_ns && !itest_failed(); i++) {
		switch (what) {
		case P_OFFSETS:
			offsets_on_ns(d, qp, d->ns[i]);
			break;
		case P_PAGES:
			crossing_on_ns(qp, d->ns[i], d->info->page_size);
			break;
		case P_HUGEPAGES:
			hugepage_on_ns(qp, d->ns[i]);
			break;
		case P_IOVEC:
			iovec_on_ns(d, qp, d->ns[i]);
			break;
		}
	}
	CHECK(nvp_qpair_outstanding(qp) == 0);
out:
	nvp_qpair_free(qp);
}

void test_data_buffer_offsets(void)
{
	struct itest_dev *d = itest_dev(0);

	CHECK(d);
	run_placement(d, P_OFFSETS);
out:
	return;
}

void test_data_page_crossing(void)
{
	struct itest_dev *d = itest_dev(0);

	CHECK(d);
	run_placement(d, P_PAGES);
out:
	return;
}

void test_data_hugepage_crossing(void)
{
	struct itest_dev *d = itest_dev(0);

	CHECK(d);
	run_placement(d, P_HUGEPAGES);
out:
	return;
}

void test_data_iovec(void)
{
	struct itest_dev *d;
	int j;

	for (j = 0; j < itest_cfg.num_addrs && !itest_failed(); j++) {
		d = itest_dev(j);
		CHECK(d);
		itest_notef("ctrl %d: %s", j, d->info->sgl_supported ? "SGL" : "PRP only");
		run_placement(d, P_IOVEC);
	}
out:
	return;
}

void test_data_prp_only(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_ctrl_opts opts;

	CHECK(d);
	nvp_ctrl_opts_init(&opts, sizeof(opts));
	opts.no_sgl = true;
	d = itest_dev_reattach(0, &opts);
	CHECK(d);
	CHECK(!itest_byte_sgl(d));
	run_placement(d, P_OFFSETS);
	run_placement(d, P_PAGES);
	run_placement(d, P_HUGEPAGES);
	run_placement(d, P_IOVEC);
	CHECK(!itest_failed());
	/* The next test gets a default attach again (itest_dev() sees no_sgl). */
out:
	return;
}
