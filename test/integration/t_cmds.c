// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_cmds.c - the other NVM commands: flush, write zeroes, deallocate, FUA.
 */
#include <string.h>

#include "itest.h"

/* Each test works in its own LBA window so a stray write shows elsewhere. */
#define LBA_FLUSH	1000
#define LBA_ZEROES	1100
#define LBA_DSM		1200
#define LBA_FUA		1300

static uint64_t seed_for(uint32_t salt)
{
	return itest_cfg.seed ^ ((uint64_t)salt << 40);
}

void test_cmd_flush(void)
{
	struct nvp_qpair *qp = NULL;
	struct itest_dev *d;
	uint8_t *w = NULL, *r = NULL;
	struct io_cpl c;
	int i, j, rc;

	for (j = 0; j < itest_cfg.num_addrs; j++) {
		d = itest_dev(j);
		CHECK(d);
		qp = qpair_alloc_default(d);
		CHECK(qp);
		w = nvp_dma_alloc(8 * 4096, 0, NVP_NUMA_ANY);
		r = nvp_dma_alloc(8 * 4096, 0, NVP_NUMA_ANY);
		CHECK(w && r);
		for (i = 0; i < d->num_ns; i++) {
			uint32_t bs = nvp_ns_get_info(d->ns[i])->block_size;
			uint64_t seed = seed_for(0xf1 + i);
			char why[160];

			pattern_fill(w, LBA_FLUSH, 8, bs, seed);
			CHECK_RC(io_sync(qp, d->ns[i], IO_WRITE, w, LBA_FLUSH, 8, 0, NULL), 0);
			rc = io_sync(qp, d->ns[i], IO_FLUSH, NULL, 0, 0, 0, &c);
			CHECKF(rc == 0, "flush nsid %u: %d (%s) status %#x %s",
			       nvp_ns_get_info(d->ns[i])->nsid, rc, itest_errname(rc), c.status,
			       nvp_status_str(c.status));
			CHECK_RC(io_sync(qp, d->ns[i], IO_READ, r, LBA_FLUSH, 8, 0, NULL), 0);
			CHECKF(pattern_check(r, LBA_FLUSH, 8, bs, seed, why, sizeof(why)) < 0,
			       "after flush: %s", why);
		}
		itest_notef("ctrl %d vwc=%d", j, d->info->vwc);
		nvp_qpair_free(qp);
		qp = NULL;
		nvp_dma_free(w);
		nvp_dma_free(r);
		w = r = NULL;
	}
out:
	nvp_qpair_free(qp);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

static void zeroes_on_ns(struct nvp_qpair *qp, struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t bs = ni->block_size;
	uint64_t seed = seed_for(0x2e + ni->nsid);
	uint8_t *w = NULL, *r = NULL;
	char why[160];
	struct io_cpl c;
	uint64_t big;
	int rc;

	w = nvp_dma_alloc(16 * (size_t)bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc(16 * (size_t)bs, 0, NVP_NUMA_ANY);
	CHECK(w && r);
	if (!ni->supports_write_zeroes) {
		CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, LBA_ZEROES, 1, 0, NULL),
			 -ENOTSUP);
		itest_notef("ns%u: no Write Zeroes (-ENOTSUP)", ni->nsid);
		goto out;
	}

	/* 16 pattern blocks, then zero an odd-sized middle: 3..11. */
	pattern_fill(w, LBA_ZEROES, 16, bs, seed);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, LBA_ZEROES, 16, 0, NULL), 0);
	rc = io_sync(qp, ns, IO_WRITE_ZEROES, NULL, LBA_ZEROES + 3, 9, 0, &c);
	CHECKF(rc == 0, "write zeroes: %d (%s) %s", rc, itest_errname(rc),
	       nvp_status_str(c.status));
	memset(r, 0xa5, 16 * (size_t)bs);
	CHECK_RC(io_sync(qp, ns, IO_READ, r, LBA_ZEROES, 16, 0, NULL), 0);
	CHECKF(pattern_check(r, LBA_ZEROES, 3, bs, seed, why, sizeof(why)) < 0,
	       "block before the zeroed range: %s", why);
	CHECKF(buf_is_zero(r + 3 * (size_t)bs, 9 * (size_t)bs),
	       "nsid %u: blocks 3..11 not zero after Write Zeroes", ni->nsid);
	CHECKF(pattern_check(r + 12 * (size_t)bs, LBA_ZEROES + 12, 4, bs, seed, why,
			     sizeof(why)) < 0, "block after the zeroed range: %s", why);

	/* With FUA as well. */
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, LBA_ZEROES, 16, 0, NULL), 0);
	CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, LBA_ZEROES, 1, NVP_IO_FUA, NULL), 0);
	CHECK_RC(io_sync(qp, ns, IO_READ, r, LBA_ZEROES, 2, 0, NULL), 0);
	CHECK(buf_is_zero(r, bs));
	CHECKF(pattern_check(r + bs, LBA_ZEROES + 1, 1, bs, seed, why, sizeof(why)) < 0,
	       "after FUA write zeroes: %s", why);

	/* More than 65536 blocks is split: check both sides of the split. */
	big = 65536 + 3;
	if (!itest_cfg.quick && ni->num_blocks >= big + 8) {
		pattern_fill(w, 65536 - 2, 8, bs, seed);
		CHECK_RC(io_sync(qp, ns, IO_WRITE, w, 65536 - 2, 8, 0, NULL), 0);
		rc = io_sync(qp, ns, IO_WRITE_ZEROES, NULL, 0, (uint32_t)big, 0, &c);
		CHECKF(rc == 0, "write zeroes of %llu blocks: %d (%s) %s",
		       (unsigned long long)big, rc, itest_errname(rc), nvp_status_str(c.status));
		CHECK_RC(io_sync(qp, ns, IO_READ, r, 65536 - 2, 8, 0, NULL), 0);
		CHECKF(buf_is_zero(r, 5 * (size_t)bs),
		       "nsid %u: blocks 65534..65538 not zero after a split Write Zeroes",
		       ni->nsid);
		CHECKF(pattern_check(r + 5 * (size_t)bs, 65536 + 3, 3, bs, seed, why,
				     sizeof(why)) < 0, "after the split write zeroes: %s", why);
		itest_notef("ns%u: %llu-block write zeroes split", ni->nsid,
			    (unsigned long long)big);
	}
	CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, LBA_ZEROES, 0, 0, NULL), -EINVAL);
	CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, ni->num_blocks - 1, 2, 0, NULL),
		 -ERANGE);
	CHECK(qpair_still_works(qp, ns, LBA_ZEROES));
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
}

void test_cmd_write_zeroes(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	int i;

	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	for (i = 0; i < d->num_ns && !itest_failed(); i++)
		zeroes_on_ns(qp, d->ns[i]);
out:
	nvp_qpair_free(qp);
}

/* Deallocate completion through the generic callback. */
static int dsm_sync(struct nvp_qpair *qp, struct nvp_ns *ns, const struct nvp_dsm_range *r,
		    uint32_t n, struct io_cpl *c)
{
	int rc;

	io_cpl_init(c);
	rc = nvp_deallocate(qp, ns, r, n, io_cpl_cb, c);
	if (rc) {
		for (int i = 0; i < 16; i++)
			nvp_qpair_poll(qp, 0);
		if (atomic_load(&c->calls))
			itest_failf(__FILE__, __LINE__, "refused deallocate ran its callback");
		return rc;
	}
	rc = poll_until(qp, &c->calls, 1);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "deallocate: no completion (%d, %s)", rc,
			    itest_errname(rc));
		/* @c is on our caller's stack; the watchdog ends a real hang. */
		while (atomic_load(&c->calls) == 0)
			nvp_qpair_poll(qp, 0);
	}
	for (int i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	if (atomic_load(&c->calls) != 1)
		itest_failf(__FILE__, __LINE__, "deallocate callback ran %d times",
			    atomic_load(&c->calls));
	return nvp_status_to_errno(c->status);
}

static void dsm_on_ns(struct itest_dev *d, struct nvp_qpair *qp, struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint32_t bs = ni->block_size, i;
	uint64_t seed = seed_for(0xd5 + ni->nsid);
	struct nvp_dsm_range ranges[2] = {
		{ .cattr = 0, .nlb = 8, .slba = LBA_DSM + 4 },
		{ .cattr = 0, .nlb = 4, .slba = LBA_DSM + 20 },
	};
	struct nvp_dsm_range many[257];
	uint8_t *w = NULL, *r = NULL;
	uint32_t zeroed = 0, kept = 0;
	struct io_cpl c;
	char why[160];
	int rc;

	w = nvp_dma_alloc(32 * (size_t)bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc(32 * (size_t)bs, 0, NVP_NUMA_ANY);
	CHECK(w && r);
	if (!ni->supports_dsm) {
		CHECK_RC(dsm_sync(qp, ns, ranges, 1, &c), -ENOTSUP);
		itest_notef("ns%u: no Dataset Management (-ENOTSUP)", ni->nsid);
		goto out;
	}
	pattern_fill(w, LBA_DSM, 32, bs, seed);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, LBA_DSM, 32, 0, NULL), 0);
	rc = dsm_sync(qp, ns, ranges, 2, &c);
	CHECKF(rc == 0, "deallocate: %d (%s) %s", rc, itest_errname(rc), nvp_status_str(c.status));
	CHECK_RC(io_sync(qp, ns, IO_READ, r, LBA_DSM, 32, 0, NULL), 0);
	for (i = 0; i < 32; i++) {
		bool in_range = (i >= 4 && i < 12) || (i >= 20 && i < 24);
		const uint8_t *blk = r + (size_t)i * bs;

		if (!in_range) {
			CHECKF(pattern_check(blk, LBA_DSM + i, 1, bs, seed, why, sizeof(why)) < 0,
			       "block outside the deallocated ranges: %s", why);
			continue;
		}
		/*
		 * Deallocate is advisory: a controller may keep the data. What
		 * it may not do is return anything but zeroes (when DLFEAT
		 * promises them) or the old block.
		 */
		if (buf_is_zero(blk, bs)) {
			zeroed++;
		} else {
			CHECKF(pattern_check(blk, LBA_DSM + i, 1, bs, seed, why, sizeof(why)) < 0,
			       "deallocated block is neither zero nor the old data: %s", why);
			kept++;
		}
	}
	if (ni->deallocated_reads_zeroes && d->is_emu)
		CHECKF(kept == 0, "emu: DLFEAT says zeroes but %u deallocated blocks kept data",
		       kept);
	itest_notef("ns%u: %u deallocated blocks read zero, %u kept data (DLFEAT zeroes %d)",
		    ni->nsid, zeroed, kept, ni->deallocated_reads_zeroes);

	CHECK_RC(dsm_sync(qp, ns, ranges, 0, &c), -EINVAL);
	memset(many, 0, sizeof(many));
	for (i = 0; i < 257; i++) {
		many[i].slba = LBA_DSM + i;
		many[i].nlb = 1;
	}
	CHECK_RC(dsm_sync(qp, ns, many, 257, &c), -EINVAL);
	/* The maximum, 256 ranges, is accepted. */
	CHECK_RC(dsm_sync(qp, ns, many, 256, &c), 0);
	CHECK(qpair_still_works(qp, ns, LBA_DSM));
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
}

void test_cmd_deallocate(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	int i;

	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	for (i = 0; i < d->num_ns && !itest_failed(); i++)
		dsm_on_ns(d, qp, d->ns[i]);
out:
	nvp_qpair_free(qp);
}

void test_cmd_fua(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	uint8_t *w = NULL, *r = NULL;
	int i;

	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	for (i = 0; i < d->num_ns && !itest_failed(); i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(d->ns[i]);
		/* One block, and a split I/O where every part must carry FUA. */
		uint32_t big = ni->max_io_blocks + 1;

		w = nvp_dma_alloc((size_t)big * ni->block_size, 0, NVP_NUMA_ANY);
		r = nvp_dma_alloc((size_t)big * ni->block_size, 0, NVP_NUMA_ANY);
		CHECK(w && r);
		CHECK(write_read_verify(qp, d->ns[i], w, r, LBA_FUA, 1, seed_for(0xf0a + i),
					NVP_IO_FUA));
		CHECK(write_read_verify(qp, d->ns[i], w, r, LBA_FUA + 1, big,
					seed_for(0xf0b + i), NVP_IO_FUA));
		CHECK(write_read_verify(qp, d->ns[i], w, r, LBA_FUA, 3, seed_for(0xf0c + i),
					NVP_IO_FUA | NVP_IO_LIMITED_RETRY));
		nvp_dma_free(w);
		nvp_dma_free(r);
		w = r = NULL;
	}
out:
	nvp_qpair_free(qp);
	nvp_dma_free(w);
	nvp_dma_free(r);
}
