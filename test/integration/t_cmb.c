// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_cmb.c - I/O submission queues in the Controller Memory Buffer
 * (nvp_ctrl_opts.cmb_sqs): verified I/O through CMB queues, single and
 * batched (many commands copied per doorbell, across the ring's wrap),
 * across a controller reset (the queues are re-created in the CMB), and
 * the fallbacks when there is no CMB or it is full.
 *
 * Namespaces: one without metadata, else (QEMU's NVPOLL3) one whose 8
 * metadata bytes are all protection information, written and read with
 * PRACT through raw commands, so the controller inserts and strips it and
 * the buffers carry data only. Zoned namespaces are left alone.
 */
#include <stdlib.h>
#include <string.h>

#include <nvpoll/emu.h>

#include "itest.h"

#define PRINFO_PRACT	(1u << 29)	/* CDW12: the controller inserts/strips PI */
#define CNS_NS_CSI	0x05		/* Identify: I/O command set specific namespace */
#define CSI_ZNS		2u

struct target {
	struct nvp_ns *ns;
	uint32_t nsid;
	uint32_t bs;
	bool pract;
	uint64_t blocks;
};

/* A zoned namespace answers the ZNS-specific Identify (QEMU, NVMe 2.0). */
static bool ns_is_zoned(struct nvp_ctrl *ctrl, uint32_t nsid, void *page)
{
	struct nvp_sqe c = { .opc = NVP_ADMIN_IDENTIFY, .nsid = nsid, .cdw10 = CNS_NS_CSI,
			     .cdw11 = CSI_ZNS << 24 };

	return nvp_admin_cmd_sync(ctrl, &c, page, 4096, NULL) == 0;
}

/* A namespace the test can write, and how; false (and why) if none. */
static bool pick_target(struct itest_dev *d, struct target *t, char *why, size_t len)
{
	void *page = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	bool found = false;

	snprintf(why, len, "no namespace without metadata or with 8-byte PI only");
	for (int i = 0; page && i < d->num_ns && !found; i++) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(d->ns[i]);
		struct nvp_sqe c = { .opc = NVP_ADMIN_IDENTIFY, .nsid = ni->nsid, .cdw10 = 0 };
		const struct nvp_id_ns *id = page;

		if (ns_is_zoned(d->ctrl, ni->nsid, page))
			continue;
		memset(t, 0, sizeof(*t));
		t->ns = d->ns[i];
		t->nsid = ni->nsid;
		t->bs = ni->block_size;
		t->blocks = ni->num_blocks;
		if (ni->md_size == 0) {
			found = true;
		} else if (ni->md_size == 8 && nvp_admin_cmd_sync(d->ctrl, &c, page, 4096, NULL) == 0 &&
			   (id->dps & 7)) {
			t->pract = true;	/* PI type 1-3 in all 8 bytes */
			found = true;
		}
	}
	nvp_dma_free(page);
	return found;
}

static void rw_cmd(const struct target *t, bool write, uint64_t lba, uint32_t nlb,
		   struct nvp_sqe *c)
{
	memset(c, 0, sizeof(*c));
	c->opc = write ? NVP_NVM_WRITE : NVP_NVM_READ;
	c->nsid = t->nsid;
	c->cdw10 = (uint32_t)lba;
	c->cdw11 = (uint32_t)(lba >> 32);
	c->cdw12 = (nlb - 1) | (t->pract ? PRINFO_PRACT : 0);
	c->cdw14 = (uint32_t)lba;	/* initial reference tag (PI type 1) */
}

/*
 * @n commands of @nlb blocks each, all submitted before any is polled
 * (one doorbell copies many into the CMB), writes then reads, verified.
 */
static bool batch(struct nvp_qpair *qp, const struct target *t, uint8_t *w, uint8_t *r,
		  uint64_t lba0, uint32_t n, uint32_t nlb, uint64_t seed)
{
	size_t len = (size_t)nlb * t->bs;
	struct io_cpl *c = calloc(n, sizeof(*c));
	atomic_int done = 0;
	bool ok = false;
	char why[160];

	if (!c)
		return false;
	for (int pass = 0; pass < 2; pass++) {
		bool write = pass == 0;

		atomic_store(&done, 0);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t lba = lba0 + (uint64_t)i * nlb;
			struct nvp_sqe cmd;
			int rc;

			if (write)
				pattern_fill(w + i * len, lba, nlb, t->bs, seed);
			else
				memset(r + i * len, 0xa5, len);
			io_cpl_init(&c[i]);
			rw_cmd(t, write, lba, nlb, &cmd);
			rc = nvp_io_raw(qp, &cmd, (write ? w : r) + i * len, len, io_cpl_cb, &c[i]);
			CHECKF(rc == 0, "%s %u of %u: %d (%s)", write ? "write" : "read", i, n, rc,
			       itest_errname(rc));
		}
		for (uint32_t i = 0; i < n; i++) {
			CHECK_RC(poll_until(qp, &c[i].calls, 1), 0);
			CHECKF(atomic_load(&c[i].calls) == 1, "command %u called back %d times", i,
			       atomic_load(&c[i].calls));
			CHECKF(c[i].status == 0, "%s %u: status %#x %s", write ? "write" : "read", i,
			       c[i].status, nvp_status_str(c[i].status));
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		long bad = pattern_check(r + i * len, lba0 + (uint64_t)i * nlb, nlb, t->bs, seed,
					 why, sizeof(why));

		CHECKF(bad < 0, "nsid %u, command %u, block %ld: %s", t->nsid, i, bad, why);
	}
	ok = true;
out:
	free(c);
	return ok;
}

static bool one(struct nvp_qpair *qp, const struct target *t, uint8_t *w, uint8_t *r,
		uint64_t lba, uint64_t seed)
{
	struct nvp_sqe cmd;
	struct io_cpl c;
	char why[160];
	long bad;

	pattern_fill(w, lba, 1, t->bs, seed);
	memset(r, 0xa5, t->bs);
	rw_cmd(t, true, lba, 1, &cmd);
	CHECK_RC(raw_sync(qp, &cmd, w, t->bs, &c), 0);
	rw_cmd(t, false, lba, 1, &cmd);
	CHECK_RC(raw_sync(qp, &cmd, r, t->bs, &c), 0);
	bad = pattern_check(r, lba, 1, t->bs, seed, why, sizeof(why));
	CHECKF(bad < 0, "nsid %u LBA %llu: %s", t->nsid, (unsigned long long)lba, why);
	return true;
out:
	return false;
}

void test_cmb_sqs(void)
{
	struct nvp_qpair *small = NULL, *dflt = NULL;
	struct nvp_emu_stats s0, s1;
	struct nvp_qpair_opts qo;
	struct nvp_ctrl_opts o;
	struct itest_dev *d = itest_dev(0);
	uint8_t *w = NULL, *r = NULL;
	const uint32_t n = 24, nlb = 2;
	bool reattached = false, emu;
	struct target t;
	char why[128];

	if (!d)
		return;
	if (d->opts.cmb_sqs == NVP_CMB_SQS_OFF) {
		o = d->opts;
		o.cmb_sqs = NVP_CMB_SQS_PREFER;
		d = itest_dev_reattach(0, &o);
		reattached = true;
		CHECK(d);
	}
	if (!d->info->cmb_sqs) {
		itest_skipf("%s has no Controller Memory Buffer that holds submission queues "
			    "(the attach log says why)", d->addr);
		goto out;
	}
	CHECKF(d->info->cmb_bytes >= 8192 && d->info->cmb_bytes % 4096 == 0,
	       "info.cmb_bytes %llu", (unsigned long long)d->info->cmb_bytes);
	if (!pick_target(d, &t, why, sizeof(why))) {
		itest_skipf("%s: %s", d->addr, why);
		goto out;
	}
	CHECKF(t.blocks >= (uint64_t)2 * n * nlb + 64, "nsid %u is too small", t.nsid);
	w = nvp_dma_alloc((size_t)n * nlb * t.bs, 4096, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)n * nlb * t.bs, 4096, NVP_NUMA_ANY);
	CHECK(w && r);
	emu = nvp_emu_get_stats(d->ctrl, &s0, sizeof(s0)) == 0;

	/* A 32-entry queue, wrapped several times one command at a time. */
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	qo.queue_size = 32;
	qo.num_requests = 31;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &small), 0);
	dflt = qpair_alloc_default(d);
	CHECK(dflt);
	for (uint32_t i = 0; i < 48; i++)
		CHECK(one(small, &t, w, r, i % 40, itest_cfg.seed + i));
	/* Batches: 24 commands per doorbell, through the wrap of the small ring. */
	CHECK(batch(small, &t, w, r, 0, n, nlb, itest_cfg.seed ^ 0xc3b1));
	CHECK(batch(small, &t, w, r, n * nlb, n, nlb, itest_cfg.seed ^ 0xc3b2));
	CHECK(batch(dflt, &t, w, r, 7, n, nlb, itest_cfg.seed ^ 0xc3b3));
	if (emu) {
		CHECK_RC(nvp_emu_get_stats(d->ctrl, &s1, sizeof(s1)), 0);
		CHECKF(s1.cmb_sqs >= 2, "emu: %u SQs in the CMB, want the 2 qpairs'", s1.cmb_sqs);
		CHECKF(s1.cmb_cmds - s0.cmb_cmds >= 2 * 48 + 6 * n,
		       "emu fetched %llu commands from the CMB, want >= %u",
		       (unsigned long long)(s1.cmb_cmds - s0.cmb_cmds), 2 * 48 + 6 * n);
	}

	/* A reset re-creates the queues in the CMB (CMBMSC written again). */
	CHECK_RC(nvp_ctrl_reset(d->ctrl), 0);
	CHECKF(d->info->cmb_sqs, "after the reset the CMB is no longer used");
	/* Each qpair re-creates its queues at its next poll; raw commands
	 * submitted before that would end as interrupted (never re-posted). */
	CHECK(nvp_qpair_poll(small, 0) >= 0 && nvp_qpair_poll(dflt, 0) >= 0);
	CHECK(batch(small, &t, w, r, 3, n, nlb, itest_cfg.seed ^ 0xc3b4));
	CHECK(batch(dflt, &t, w, r, 11, n, nlb, itest_cfg.seed ^ 0xc3b5));
	if (emu) {
		CHECK_RC(nvp_emu_get_stats(d->ctrl, &s0, sizeof(s0)), 0);
		CHECKF(s0.cmb_sqs >= 2, "emu: after the reset %u SQs are in the CMB", s0.cmb_sqs);
		CHECKF(s0.cmb_cmds - s1.cmb_cmds >= 4 * n, "emu: after the reset only %llu commands came from the CMB",
		       (unsigned long long)(s0.cmb_cmds - s1.cmb_cmds));
	}
	itest_notef("CMB %llu KiB, nsid %u (%u-byte blocks%s)",
		    (unsigned long long)(d->info->cmb_bytes >> 10), t.nsid, t.bs,
		    t.pract ? ", PI by PRACT" : "");
out:
	if (small)
		nvp_qpair_free(small);
	if (dflt)
		nvp_qpair_free(dflt);
	nvp_dma_free(w);
	nvp_dma_free(r);
	if (reattached)
		itest_dev_reattach(0, NULL);
}

/* Emulated controllers: no CMB, and a CMB that fills up. */
void test_cmb_fallback(void)
{
	struct nvp_qpair *qps[20] = { 0 };
	struct nvp_ctrl *ctrl = NULL;
	const struct nvp_ctrl_info *info;
	struct nvp_emu_stats st;
	struct nvp_qpair_opts qo;
	struct nvp_ctrl_opts o;
	int k = 0, rc;

	nvp_ctrl_opts_init(&o, sizeof(o));
	/* Required without a CMB: attach fails and says why. */
	o.cmb_sqs = NVP_CMB_SQS_REQUIRE;
	CHECK_RC(nvp_ctrl_attach("emu:ns=16M:4096", &o, &ctrl), -ENOTSUP);
	CHECKF(strstr(nvp_last_error(), "no CMB"), "message: %s", nvp_last_error());
	/* Preferred: attach works with host-memory SQs. */
	o.cmb_sqs = NVP_CMB_SQS_PREFER;
	CHECK_RC(nvp_ctrl_attach("emu:ns=16M:4096", &o, &ctrl), 0);
	info = nvp_ctrl_get_info(ctrl);
	CHECK(!info->cmb_sqs && info->cmb_bytes == 0);
	CHECK(itest_log_contains("stay in host memory"));
	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	CHECK_RC(nvp_qpair_alloc(ctrl, &qo, &qps[0]), 0);
	CHECK(qpair_still_works(qps[0], nvp_ctrl_first_ns(ctrl), 0));
	nvp_qpair_free(qps[0]);
	qps[0] = NULL;
	CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	ctrl = NULL;
	/* An out-of-range mode is refused. */
	o.cmb_sqs = (enum nvp_cmb_sqs)3;
	CHECK_RC(nvp_ctrl_attach("emu:ns=16M:4096,cmb=1M", &o, &ctrl), -EINVAL);

	/* 1 MiB of CMB holds 16 SQs of 1024 entries (64 KiB each). */
	o.cmb_sqs = NVP_CMB_SQS_REQUIRE;
	CHECK_RC(nvp_ctrl_attach("emu:ns=16M:4096,cmb=1M,qpairs=20", &o, &ctrl), 0);
	info = nvp_ctrl_get_info(ctrl);
	CHECK(info->cmb_sqs && info->cmb_bytes == 1u << 20);
	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	qo.queue_size = 1024;
	qo.num_requests = 64;
	for (k = 0; k < 16; k++)
		CHECK_RC(nvp_qpair_alloc(ctrl, &qo, &qps[k]), 0);
	rc = nvp_qpair_alloc(ctrl, &qo, &qps[16]);
	CHECKF(rc == -ENOSPC && strstr(nvp_last_error(), "no room left"),
	       "17th qpair: %d (%s): %s", rc, itest_errname(rc), nvp_last_error());
	qps[16] = NULL;
	/* Freeing one gives its room back. */
	nvp_qpair_free(qps[3]);
	qps[3] = NULL;
	CHECK_RC(nvp_qpair_alloc(ctrl, &qo, &qps[3]), 0);
	CHECK_RC(nvp_emu_get_stats(ctrl, &st, sizeof(st)), 0);
	CHECKF(st.cmb_sqs == 16, "emu: %u SQs in the CMB, want 16", st.cmb_sqs);
	CHECK(qpair_still_works(qps[15], nvp_ctrl_first_ns(ctrl), 0));
	for (k = 0; k < 20; k++)
		if (qps[k]) {
			nvp_qpair_free(qps[k]);
			qps[k] = NULL;
		}
	CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	ctrl = NULL;

	/* Preferred and full: the 17th SQ goes to host memory. */
	o.cmb_sqs = NVP_CMB_SQS_PREFER;
	CHECK_RC(nvp_ctrl_attach("emu:ns=16M:4096,cmb=1M,qpairs=20", &o, &ctrl), 0);
	for (k = 0; k < 17; k++)
		CHECK_RC(nvp_qpair_alloc(ctrl, &qo, &qps[k]), 0);
	CHECK_RC(nvp_emu_get_stats(ctrl, &st, sizeof(st)), 0);
	CHECKF(st.cmb_sqs == 16 && st.io_sqs == 17, "emu: %u of %u SQs in the CMB", st.cmb_sqs,
	       st.io_sqs);
	CHECK(qpair_still_works(qps[16], nvp_ctrl_first_ns(ctrl), 8));
	CHECK(qpair_still_works(qps[0], nvp_ctrl_first_ns(ctrl), 16));
out:
	for (k = 0; k < 20; k++)
		if (qps[k])
			nvp_qpair_free(qps[k]);
	if (ctrl)
		nvp_ctrl_detach(ctrl);
}
