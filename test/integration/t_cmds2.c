// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_cmds2.c - Compare, fused Compare and Write, Verify, Copy, Write
 * Uncorrectable and Dataset Management attributes, against data written
 * and read back. Each test runs on every namespace without metadata that
 * takes writes at its LBAs (a zoned or metadata namespace is left out, with
 * the reason in the note) and skips when a controller has none, or lacks
 * the command (ONCS/FUSES), after checking that the call says -ENOTSUP.
 */
#include <stdlib.h>
#include <string.h>

#include <nvpoll/emu.h>

#include "itest.h"

/* LBA windows of their own (t_cmds.c uses 1000..1399). */
#define LBA_CMP		2000
#define LBA_CAW		2100
#define LBA_WRAP	2200
#define LBA_VERIFY	2300
#define LBA_COPY_SRC	2400
#define LBA_COPY_DST	2500
#define LBA_WU		2600
#define LBA_DSM		2700
#define LBA_LIM_SRC	3000	/* cmd_copy_limits: up to 512 blocks */
#define LBA_LIM_DST	3600
#define LBA_BAD		3950	/* cmd_cmds_bad_args (not 0: a zoned namespace takes that) */

#define MEDIA(sc)	NVP_STATUS(NVP_SCT_MEDIA, sc)
#define STATUS_NO_DNR(s) ((uint16_t)((s) & ~NVP_STATUS_DNR_BIT))

static uint64_t seed_for(uint32_t salt)
{
	return itest_cfg.seed ^ ((uint64_t)salt << 36);
}

struct nsctx {
	struct itest_dev *d;
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	const struct nvp_ns_info *ni;
	uint32_t bs;
};

static void *dma(size_t bytes)
{
	void *p = nvp_dma_alloc(bytes, 0, NVP_NUMA_ANY);

	if (!p)
		itest_failf(__FILE__, __LINE__, "nvp_dma_alloc(%zu): %s", bytes, nvp_last_error());
	return p;
}

/*
 * Whether @ns suits the data tests: no metadata (these commands do not
 * carry it yet) and a plain write at @lba works (a zoned namespace refuses
 * one away from its write pointer). @why says why not.
 */
static bool ns_suits(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba, char *why,
		     size_t len)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	struct io_cpl c;
	uint8_t *w;
	int rc;

	if (ni->md_size) {
		snprintf(why, len, "ns%u has %u bytes of metadata per block", ni->nsid,
			 ni->md_size);
		return false;
	}
	if (ni->num_blocks < 4096) {
		snprintf(why, len, "ns%u has only %llu blocks", ni->nsid,
			 (unsigned long long)ni->num_blocks);
		return false;
	}
	w = dma(ni->block_size);
	if (!w)
		return false;
	pattern_fill(w, lba, 1, ni->block_size, 1);
	rc = io_sync(qp, ns, IO_WRITE, w, lba, 1, 0, &c);
	nvp_dma_free(w);
	if (rc) {
		snprintf(why, len, "ns%u: a write at LBA %llu fails (%s): not a conventional "
			 "namespace", ni->nsid, (unsigned long long)lba, nvp_status_str(c.status));
		return false;
	}
	return true;
}

/*
 * Run @fn on every suitable namespace of every controller; it returns false
 * when it could not test (the command is not supported), having noted why.
 * Skips the test when nothing was tested.
 */
/* Why the last namespace was not tested: the skip reason. */
static char skip_why[200];

static void for_each_ns(const char *what, bool (*fn)(struct nsctx *), uint64_t lba)
{
	struct nvp_qpair *qp = NULL;
	char *why = skip_why;
	const size_t whylen = sizeof(skip_why);
	int tested = 0;

	snprintf(skip_why, sizeof(skip_why), "no namespaces");

	for (int j = 0; j < itest_cfg.num_addrs && !itest_failed(); j++) {
		struct itest_dev *d = itest_dev(j);

		CHECK(d);
		qp = qpair_alloc_default(d);
		CHECK(qp);
		for (int i = 0; i < d->num_ns && !itest_failed(); i++) {
			struct nsctx c = { .d = d, .qp = qp, .ns = d->ns[i],
					   .ni = nvp_ns_get_info(d->ns[i]) };

			c.bs = c.ni->block_size;
			if (!ns_suits(qp, c.ns, lba, why, whylen)) {
				itest_notef("%s", why);
				continue;
			}
			if (fn(&c))
				tested++;
		}
		nvp_qpair_free(qp);
		qp = NULL;
	}
	if (!tested && !itest_failed())
		itest_skipf("%s: nothing to test on (%s)", what, why);
out:
	nvp_qpair_free(qp);
}

/* Expect -ENOTSUP naming the capability, then report "not tested". */
static bool unsupported(struct nsctx *c, int rc, const char *what, const char *bit)
{
	CHECKF(rc == -ENOTSUP, "%s on a controller without it: %d (%s), expected -ENOTSUP",
	       what, rc, itest_errname(rc));
	CHECKF(strstr(nvp_last_error(), bit), "the -ENOTSUP message does not name %s: %s", bit,
	       nvp_last_error());
	snprintf(skip_why, sizeof(skip_why), "ctrl %s ns%u: no %s (%s)", c->d->addr,
		 c->ni->nsid, what, bit);
	itest_notef("%s", skip_why);
out:
	return false;
}

/* ---- Compare ------------------------------------------------------------- */

static bool compare_on(struct nsctx *c)
{
	uint64_t seed = seed_for(0xc0 + c->ni->nsid);
	uint32_t big = c->ni->max_io_blocks + 2;
	uint8_t *w = NULL;
	struct nvp_io_opts o;
	struct io_cpl cpl;
	int rc;

	if (!c->ni->supports_compare)
		return unsupported(c, CMD_SYNC(c->qp, NULL, "compare",
			nvp_compare(c->qp, c->ns, c->qp, LBA_CMP, 1, NULL, io_cpl_cb, c_)),
			"Compare", "ONCS bit 0");
	if ((uint64_t)big * c->bs > (8u << 20) || LBA_CMP + big > c->ni->num_blocks)
		big = 0;	/* no split part: the buffer would be too large */
	w = dma((size_t)(big > 8 ? big : 8) * c->bs);
	CHECK(w);
	pattern_fill(w, LBA_CMP, 8, c->bs, seed);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_CMP, 8, 0, NULL), 0);
	CHECK_RC(CMD_SYNC(c->qp, &cpl, "compare",
			  nvp_compare(c->qp, c->ns, w, LBA_CMP, 8, NULL, io_cpl_cb, c_)), 0);
	nvp_io_opts_init(&o, sizeof(o));
	o.flags = NVP_IO_FUA | NVP_IO_LIMITED_RETRY;
	CHECK_RC(CMD_SYNC(c->qp, NULL, "compare FUA|LR",
			  nvp_compare(c->qp, c->ns, w, LBA_CMP, 8, &o, io_cpl_cb, c_)), 0);
	/* One byte off in the last block: Compare Failure. */
	w[8 * (size_t)c->bs - 1] ^= 0x5a;
	rc = CMD_SYNC(c->qp, &cpl, "compare",
		      nvp_compare(c->qp, c->ns, w, LBA_CMP, 8, NULL, io_cpl_cb, c_));
	CHECKF(rc == -EILSEQ && NVP_STATUS_SCT(cpl.status) == NVP_SCT_MEDIA &&
	       NVP_STATUS_SC(cpl.status) == NVP_SC_COMPARE_FAILURE,
	       "miscompare: %d (%s) status %#x %s", rc, itest_errname(rc), cpl.status,
	       nvp_status_str(cpl.status));
	/* Equal on the blocks before the changed one. */
	CHECK_RC(CMD_SYNC(c->qp, NULL, "compare",
			  nvp_compare(c->qp, c->ns, w, LBA_CMP, 7, NULL, io_cpl_cb, c_)), 0);
	if (big) {
		/* Split into parts: a miscompare in the first or the last fails it all. */
		pattern_fill(w, LBA_CMP, big, c->bs, seed + 1);
		CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_CMP, big, 0, NULL), 0);
		CHECK_RC(CMD_SYNC(c->qp, NULL, "split compare",
				  nvp_compare(c->qp, c->ns, w, LBA_CMP, big, NULL, io_cpl_cb, c_)),
			 0);
		w[(size_t)big * c->bs - 1] ^= 1;
		CHECK_RC(CMD_SYNC(c->qp, NULL, "split compare, last part differs",
				  nvp_compare(c->qp, c->ns, w, LBA_CMP, big, NULL, io_cpl_cb, c_)),
			 -EILSEQ);
		w[(size_t)big * c->bs - 1] ^= 1;
		w[0] ^= 1;
		CHECK_RC(CMD_SYNC(c->qp, NULL, "split compare, first part differs",
				  nvp_compare(c->qp, c->ns, w, LBA_CMP, big, NULL, io_cpl_cb, c_)),
			 -EILSEQ);
		itest_notef("ns%u: %u-block compare split", c->ni->nsid, big);
	}
out:
	nvp_dma_free(w);
	return true;
}

void test_cmd_compare(void)
{
	for_each_ns("compare", compare_on, LBA_CMP);
}

/* ---- fused Compare and Write --------------------------------------------- */

static uint64_t doorbells(struct nvp_qpair *qp)
{
	struct nvp_qpair_stats s;

	nvp_qpair_get_stats(qp, &s, sizeof(s));
	return s.sq_doorbell_writes;
}

/* The pair on @lba: @old expected there, @new written. */
static int caw(struct nvp_qpair *qp, struct nvp_ns *ns, const void *old, const void *new,
	       uint64_t lba, uint32_t nlb, struct io_cpl *cpl)
{
	return CMD_SYNC(qp, cpl, "compare and write",
			nvp_compare_and_write(qp, ns, old, new, lba, nlb, NULL, io_cpl_cb, c_));
}

static bool read_matches(struct nsctx *c, void *r, const void *want, uint64_t lba,
			 uint32_t nlb)
{
	memset(r, 0xee, (size_t)nlb * c->bs);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, r, lba, nlb, 0, NULL), 0);
	return memcmp(r, want, (size_t)nlb * c->bs) == 0;
out:
	return false;
}

static bool compare_write_on(struct nsctx *c)
{
	uint32_t max = c->ni->compare_write_max_blocks, n = 4;
	uint8_t *a = NULL, *b = NULL, *x = NULL, *r = NULL;
	uint64_t seed = seed_for(0xca + c->ni->nsid), db0;
	struct io_cpl cpl;
	int rc;

	if (!c->ni->supports_fused_compare_write)
		return unsupported(c, caw(c->qp, c->ns, c->qp, c->qp, LBA_CAW, 1, NULL),
				   "fused Compare and Write", "FUSES bit 0");
	CHECKF(max >= 1 && max <= c->ni->max_io_blocks, "compare_write_max_blocks %u", max);
	if (n > max)
		n = max;
	if ((uint64_t)max * c->bs > (4u << 20) || LBA_CAW + max + 1 > c->ni->num_blocks)
		max = 0;	/* edge not tried: buffers too large */
	a = dma((size_t)(max > n ? max + 1 : n + 1) * c->bs);
	b = dma((size_t)(max > n ? max + 1 : n + 1) * c->bs);
	x = dma((size_t)n * c->bs);
	r = dma((size_t)(max > n ? max + 1 : n + 1) * c->bs);
	CHECK(a && b && x && r);
	pattern_fill(a, LBA_CAW, n, c->bs, seed);
	pattern_fill(b, LBA_CAW, n, c->bs, seed + 1);
	pattern_fill(x, LBA_CAW, n, c->bs, seed + 2);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, a, LBA_CAW, n, 0, NULL), 0);

	/* Equal: the write is applied; the pair took one doorbell write. */
	db0 = doorbells(c->qp);
	rc = caw(c->qp, c->ns, a, b, LBA_CAW, n, &cpl);
	CHECKF(rc == 0, "compare and write, equal: %d (%s) %s", rc, itest_errname(rc),
	       nvp_status_str(cpl.status));
	CHECKF(doorbells(c->qp) == db0 + 1, "the pair took %llu doorbell writes",
	       (unsigned long long)(doorbells(c->qp) - db0));
	CHECKF(read_matches(c, r, b, LBA_CAW, n), "ns%u: the write of an equal pair is "
	       "not on the media", c->ni->nsid);

	/* Unequal (the blocks hold b now, not a): nothing written. */
	rc = caw(c->qp, c->ns, a, x, LBA_CAW, n, &cpl);
	CHECKF(rc == -EILSEQ && NVP_STATUS_SCT(cpl.status) == NVP_SCT_MEDIA &&
	       NVP_STATUS_SC(cpl.status) == NVP_SC_COMPARE_FAILURE &&
	       cpl.dw1 == NVP_FUSED_HALF_COMPARE,
	       "compare and write, unequal: %d (%s) status %#x %s, half %u", rc,
	       itest_errname(rc), cpl.status, nvp_status_str(cpl.status), cpl.dw1);
	CHECKF(read_matches(c, r, b, LBA_CAW, n), "ns%u: a failed compare let its write "
	       "through", c->ni->nsid);
	/* A miscompare in the last byte only. */
	memcpy(x, b, (size_t)n * c->bs);
	x[(size_t)n * c->bs - 1] ^= 0x80;
	CHECK_RC(caw(c->qp, c->ns, x, a, LBA_CAW, n, &cpl), -EILSEQ);
	CHECKF(read_matches(c, r, b, LBA_CAW, n), "ns%u: a failed compare let its write "
	       "through", c->ni->nsid);

	/* The limit, and one past it (never split). */
	if (max) {
		pattern_fill(a, LBA_CAW, max + 1, c->bs, seed + 3);
		pattern_fill(b, LBA_CAW, max + 1, c->bs, seed + 4);
		CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, a, LBA_CAW, max, 0, NULL), 0);
		CHECK_RC(caw(c->qp, c->ns, a, b, LBA_CAW, max, NULL), 0);
		CHECKF(read_matches(c, r, b, LBA_CAW, max), "ns%u: %u-block pair not written",
		       c->ni->nsid, max);
		CHECK_RC(caw(c->qp, c->ns, b, a, LBA_CAW, max + 1, NULL), -EINVAL);
		CHECKF(read_matches(c, r, b, LBA_CAW, max), "ns%u: a refused pair changed data",
		       c->ni->nsid);
		itest_notef("ns%u: pairs of up to %u blocks", c->ni->nsid, max);
	}
	CHECK(qpair_still_works(c->qp, c->ns, LBA_CAW + 8));
out:
	nvp_dma_free(a);
	nvp_dma_free(b);
	nvp_dma_free(x);
	nvp_dma_free(r);
	return true;
}

void test_cmd_compare_write(void)
{
	for_each_ns("compare and write", compare_write_on, LBA_CAW);
}

/*
 * An 8-entry SQ: before each pair, single writes move the tail to the next
 * position, so over 8 rounds the pair starts at every slot, slot 7 (its
 * second half then in slot 0) included. The emulated controller fails a
 * pair whose halves are not behind one doorbell write (Missing Fused).
 */
static bool compare_write_wrap_on(struct nsctx *c)
{
	struct nvp_qpair_opts qo;
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_stats st;
	uint8_t *cur = NULL, *next = NULL, *r = NULL;
	uint64_t seed = seed_for(0x3a + c->ni->nsid);
	const uint32_t entries = 8;
	bool wrapped = false;

	if (!c->ni->supports_fused_compare_write)
		return unsupported(c, caw(c->qp, c->ns, c->qp, c->qp, LBA_WRAP, 1, NULL),
				   "fused Compare and Write", "FUSES bit 0");
	nvp_qpair_opts_init(c->d->ctrl, &qo, sizeof(qo));
	qo.queue_size = entries;
	qo.num_requests = entries - 1;
	CHECK_RC(nvp_qpair_alloc(c->d->ctrl, &qo, &qp), 0);
	cur = dma(c->bs);
	next = dma(c->bs);
	r = dma(c->bs);
	CHECK(cur && next && r);
	pattern_fill(cur, LBA_WRAP, 1, c->bs, seed);
	CHECK_RC(io_sync(qp, c->ns, IO_WRITE, cur, LBA_WRAP, 1, 0, NULL), 0);
	for (uint32_t round = 0; round < 2 * entries; round++) {
		uint32_t want = round % entries, slot;
		struct io_cpl cpl;
		int rc;

		for (;;) {
			nvp_qpair_get_stats(qp, &st, sizeof(st));
			/* No resets here: the tail is the submission count mod entries. */
			slot = (uint32_t)(st.submitted % entries);
			if (slot == want)
				break;
			CHECK_RC(io_sync(qp, c->ns, IO_WRITE, cur, LBA_WRAP, 1, 0, NULL), 0);
		}
		wrapped |= slot == entries - 1;
		pattern_fill(next, LBA_WRAP, 1, c->bs, seed + round + 1);
		rc = caw(qp, c->ns, cur, next, LBA_WRAP, 1, &cpl);
		CHECKF(rc == 0, "pair in slots %u and %u: %d (%s) %s", slot, (slot + 1) % entries,
		       rc, itest_errname(rc), nvp_status_str(cpl.status));
		memset(r, 0, c->bs);
		CHECK_RC(io_sync(qp, c->ns, IO_READ, r, LBA_WRAP, 1, 0, NULL), 0);
		CHECKF(memcmp(r, next, c->bs) == 0, "pair in slots %u and %u: write not applied",
		       slot, (slot + 1) % entries);
		memcpy(cur, next, c->bs);
	}
	CHECK(wrapped);
out:
	nvp_qpair_free(qp);
	nvp_dma_free(cur);
	nvp_dma_free(next);
	nvp_dma_free(r);
	return true;
}

void test_cmd_compare_write_wrap(void)
{
	for_each_ns("compare and write at the SQ wrap", compare_write_wrap_on, LBA_WRAP);
}

/*
 * A pair accepted (in the ring, not yet rung) when the controller resets:
 * with retries it goes out again as a pair and runs once; without, both
 * halves end and the pair's callback runs once with Host Aborted Command.
 * Its own emulated controllers, so the options may differ.
 */
static void caw_across_reset(uint32_t retries)
{
	struct nvp_ctrl_opts co;
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_stats st;
	struct nvp_ns *ns;
	uint8_t *a = NULL, *b = NULL, *r = NULL;
	struct io_cpl *cpl = NULL;
	uint32_t bs;
	int rc;

	nvp_ctrl_opts_init(&co, sizeof(co));
	co.io_retries = retries;
	rc = nvp_ctrl_attach("emu:ns=16M:4096", &co, &ctrl);
	CHECKF(rc == 0, "attach emu: %d %s", rc, nvp_last_error());
	ns = nvp_ctrl_first_ns(ctrl);
	CHECK(ns && nvp_ns_get_info(ns)->supports_fused_compare_write);
	bs = nvp_ns_get_info(ns)->block_size;
	CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	a = dma(2 * (size_t)bs);
	b = dma(2 * (size_t)bs);
	r = dma(2 * (size_t)bs);
	cpl = io_cpl_new();
	CHECK(a && b && r && cpl);
	pattern_fill(a, 100, 2, bs, 7);
	pattern_fill(b, 100, 2, bs, 8);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, a, 100, 2, 0, NULL), 0);
	/* Accepted, not rung: no poll until the reset is done. */
	CHECK_RC(nvp_compare_and_write(qp, ns, a, b, 100, 2, NULL, io_cpl_cb, cpl), 0);
	rc = nvp_ctrl_reset(ctrl);
	CHECKF(rc == 0, "reset: %d %s", rc, nvp_last_error());
	CHECK_RC(poll_until(qp, &cpl->calls, 1), 0);
	for (int i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	CHECKF(atomic_load(&cpl->calls) == 1, "pair callback ran %d times",
	       atomic_load(&cpl->calls));
	nvp_qpair_get_stats(qp, &st, sizeof(st));
	CHECK_RC(io_sync(qp, ns, IO_READ, r, 100, 2, 0, NULL), 0);
	if (retries) {
		CHECKF(cpl->status == 0, "re-posted pair: %s", nvp_status_str(cpl->status));
		CHECKF(st.retried == 2 && st.reset_aborted == 0, "retried %llu, ended %llu",
		       (unsigned long long)st.retried, (unsigned long long)st.reset_aborted);
		CHECKF(memcmp(r, b, 2 * (size_t)bs) == 0, "re-posted pair: write not applied");
	} else {
		CHECKF(NVP_STATUS_SCT(cpl->status) == NVP_SCT_PATH &&
		       NVP_STATUS_SC(cpl->status) == NVP_SC_HOST_ABORTED_CMD,
		       "ended pair: %s", nvp_status_str(cpl->status));
		CHECKF(st.reset_aborted == 2 && st.retried == 0, "retried %llu, ended %llu",
		       (unsigned long long)st.retried, (unsigned long long)st.reset_aborted);
		CHECKF(memcmp(r, a, 2 * (size_t)bs) == 0, "ended pair: data changed");
	}
	CHECK(qpair_still_works(qp, ns, 200));
out:
	free(cpl);
	nvp_qpair_free(qp);
	nvp_dma_free(a);
	nvp_dma_free(b);
	nvp_dma_free(r);
	if (ctrl)
		nvp_ctrl_detach(ctrl);
}

/*
 * The compare completed but the write's completion was lost: the timeout
 * ends in a reset, which must not post the write again without its
 * partner (a lone second half is a Missing Fused Command, or worse, a
 * write no compare guards). It ends, and the pair reports it, once.
 */
static void caw_half_lost(void)
{
	const uint32_t timeout_ms = itest_cfg.fault_timeout_ms ? itest_cfg.fault_timeout_ms : 400;
	struct nvp_emu_fault fault;
	struct nvp_ctrl_opts co;
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_stats st;
	struct nvp_ns *ns;
	uint8_t *a = NULL, *b = NULL;
	struct io_cpl *cpl = NULL;
	uint32_t bs;
	int rc;

	nvp_ctrl_opts_init(&co, sizeof(co));
	co.io_timeout_ms = timeout_ms;
	rc = nvp_ctrl_attach("emu:ns=16M:4096", &co, &ctrl);
	CHECKF(rc == 0, "attach emu: %d %s", rc, nvp_last_error());
	ns = nvp_ctrl_first_ns(ctrl);
	CHECK(ns);
	bs = nvp_ns_get_info(ns)->block_size;
	CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	a = dma(bs);
	b = dma(bs);
	cpl = io_cpl_new();
	CHECK(a && b && cpl);
	pattern_fill(a, 300, 1, bs, 9);
	pattern_fill(b, 300, 1, bs, 10);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, a, 300, 1, 0, NULL), 0);
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_DROP;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_OPCODE;
	fault.opcode = NVP_NVM_WRITE;
	CHECK_RC(nvp_emu_inject(ctrl, &fault, sizeof(fault)), 0);
	CHECK_RC(nvp_compare_and_write(qp, ns, a, b, 300, 1, NULL, io_cpl_cb, cpl), 0);
	/* Timeout, Abort (finds nothing), a second timeout, reset: a few. */
	rc = poll_until(qp, &cpl->calls, 1);
	CHECKF(rc == 0, "the pair never completed: %d (%s)", rc, itest_errname(rc));
	for (int i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	CHECKF(atomic_load(&cpl->calls) == 1, "pair callback ran %d times",
	       atomic_load(&cpl->calls));
	CHECKF(NVP_STATUS_SCT(cpl->status) == NVP_SCT_PATH &&
	       NVP_STATUS_SC(cpl->status) == NVP_SC_HOST_ABORTED_CMD &&
	       cpl->dw1 == NVP_FUSED_HALF_WRITE,
	       "pair with a lost write completion: %s, half %u", nvp_status_str(cpl->status),
	       cpl->dw1);
	nvp_qpair_get_stats(qp, &st, sizeof(st));
	CHECKF(st.retried == 0 && st.reset_aborted == 1, "retried %llu, ended %llu: the "
	       "second half went out alone", (unsigned long long)st.retried,
	       (unsigned long long)st.reset_aborted);
	CHECK_RC(nvp_emu_clear_faults(ctrl), 0);
	CHECK(qpair_still_works(qp, ns, 400));
out:
	free(cpl);
	nvp_qpair_free(qp);
	nvp_dma_free(a);
	nvp_dma_free(b);
	if (ctrl)
		nvp_ctrl_detach(ctrl);
}

void test_cmd_compare_write_reset(void)
{
	const struct nvp_ctrl_info *info = itest_dev(0)->info;

	/* It attaches an emulated controller of its own, which needs IOVA-as-
	 * virtual addresses: not beside a no-IOMMU or uio controller. */
	if (info && (info->driver == NVP_DRIVER_VFIO_NOIOMMU || info->driver == NVP_DRIVER_UIO)) {
		itest_skipf("%s uses physical addresses (%s), which an emulated controller in the "
			    "same process cannot share", info->addr, nvp_driver_name(info->driver));
		return;
	}
	caw_across_reset(3);
	if (!itest_failed())
		caw_across_reset(0);
	if (!itest_failed())
		caw_half_lost();
}

/* ---- Verify and Write Uncorrectable ---------------------------------------- */

static bool verify_on(struct nsctx *c)
{
	uint64_t seed = seed_for(0x7e + c->ni->nsid);
	uint32_t big = 2 * c->ni->max_io_blocks + 1;
	uint8_t *w = NULL;
	struct io_cpl cpl;
	int rc;

	if (!c->ni->supports_verify)
		return unsupported(c, CMD_SYNC(c->qp, NULL, "verify",
			nvp_verify(c->qp, c->ns, LBA_VERIFY, 1, NULL, io_cpl_cb, c_)),
			"Verify", "ONCS bit 7");
	w = dma(16 * (size_t)c->bs);
	CHECK(w);
	pattern_fill(w, LBA_VERIFY, 16, c->bs, seed);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_VERIFY, 16, 0, NULL), 0);
	CHECK_RC(CMD_SYNC(c->qp, NULL, "verify",
			  nvp_verify(c->qp, c->ns, LBA_VERIFY, 16, NULL, io_cpl_cb, c_)), 0);
	if (big <= c->ni->num_blocks) {
		CHECK_RC(CMD_SYNC(c->qp, NULL, "split verify",
				  nvp_verify(c->qp, c->ns, 0, big, NULL, io_cpl_cb, c_)), 0);
	}
	if (c->ni->supports_write_uncorrectable) {
		CHECK_RC(CMD_SYNC(c->qp, NULL, "write uncorrectable",
				  nvp_write_uncorrectable(c->qp, c->ns, LBA_VERIFY + 5, 1, NULL,
							  io_cpl_cb, c_)), 0);
		rc = CMD_SYNC(c->qp, &cpl, "verify",
			      nvp_verify(c->qp, c->ns, LBA_VERIFY, 16, NULL, io_cpl_cb, c_));
		CHECKF(rc == -EIO && STATUS_NO_DNR(cpl.status) ==
		       MEDIA(NVP_SC_UNRECOVERED_READ_ERROR), "verify of an uncorrectable "
		       "block: %d (%s) %s", rc, itest_errname(rc), nvp_status_str(cpl.status));
		CHECK_RC(CMD_SYNC(c->qp, NULL, "verify around it",
				  nvp_verify(c->qp, c->ns, LBA_VERIFY, 5, NULL, io_cpl_cb, c_)), 0);
		CHECK_RC(CMD_SYNC(c->qp, NULL, "verify around it",
				  nvp_verify(c->qp, c->ns, LBA_VERIFY + 6, 10, NULL, io_cpl_cb,
					     c_)), 0);
		CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_VERIFY, 16, 0, NULL), 0);
		CHECK_RC(CMD_SYNC(c->qp, NULL, "verify after the rewrite",
				  nvp_verify(c->qp, c->ns, LBA_VERIFY, 16, NULL, io_cpl_cb, c_)), 0);
	} else {
		itest_notef("ns%u: no Write Uncorrectable, verify failure not tried",
			    c->ni->nsid);
	}
out:
	nvp_dma_free(w);
	return true;
}

void test_cmd_verify(void)
{
	for_each_ns("verify", verify_on, LBA_VERIFY);
}

static bool read_fails(struct nsctx *c, void *r, uint64_t lba, uint32_t nlb)
{
	struct io_cpl cpl;
	int rc = io_sync(c->qp, c->ns, IO_READ, r, lba, nlb, 0, &cpl);

	CHECKF(rc == -EIO && STATUS_NO_DNR(cpl.status) == MEDIA(NVP_SC_UNRECOVERED_READ_ERROR),
	       "read of LBA %llu+%u: %d (%s) %s, expected Unrecovered Read Error",
	       (unsigned long long)lba, nlb, rc, itest_errname(rc), nvp_status_str(cpl.status));
	return true;
out:
	return false;
}

static bool write_uncorrectable_on(struct nsctx *c)
{
	uint64_t seed = seed_for(0x3c + c->ni->nsid);
	uint8_t *w = NULL, *r = NULL;
	struct nvp_io_opts o;
	char why[160];

	if (!c->ni->supports_write_uncorrectable)
		return unsupported(c, CMD_SYNC(c->qp, NULL, "write uncorrectable",
			nvp_write_uncorrectable(c->qp, c->ns, LBA_WU, 1, NULL, io_cpl_cb, c_)),
			"Write Uncorrectable", "ONCS bit 1");
	w = dma(8 * (size_t)c->bs);
	r = dma(8 * (size_t)c->bs);
	CHECK(w && r);
	pattern_fill(w, LBA_WU, 8, c->bs, seed);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_WU, 8, 0, NULL), 0);
	/* Blocks 2..4 uncorrectable. */
	CHECK_RC(CMD_SYNC(c->qp, NULL, "write uncorrectable",
			  nvp_write_uncorrectable(c->qp, c->ns, LBA_WU + 2, 3, NULL, io_cpl_cb,
						  c_)), 0);
	CHECK(read_fails(c, r, LBA_WU, 8));
	CHECK(read_fails(c, r, LBA_WU + 4, 1));
	if (c->ni->supports_compare)
		CHECK_RC(CMD_SYNC(c->qp, NULL, "compare of uncorrectable blocks",
				  nvp_compare(c->qp, c->ns, w + 2 * (size_t)c->bs, LBA_WU + 2, 1,
					      NULL, io_cpl_cb, c_)), -EIO);
	/* The blocks around them read as written. */
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, r, LBA_WU, 2, 0, NULL), 0);
	CHECKF(pattern_check(r, LBA_WU, 2, c->bs, seed, why, sizeof(why)) < 0, "%s", why);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, r, LBA_WU + 5, 3, 0, NULL), 0);
	CHECKF(pattern_check(r, LBA_WU + 5, 3, c->bs, seed, why, sizeof(why)) < 0, "%s", why);
	/* Writing the middle one repairs only it. */
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w + 3 * (size_t)c->bs, LBA_WU + 3, 1, 0, NULL),
		 0);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, r, LBA_WU + 3, 1, 0, NULL), 0);
	CHECKF(pattern_check(r, LBA_WU + 3, 1, c->bs, seed, why, sizeof(why)) < 0, "%s", why);
	CHECK(read_fails(c, r, LBA_WU + 2, 1));
	CHECK(read_fails(c, r, LBA_WU + 4, 1));
	/* Writing all of them repairs all. */
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_WU, 8, 0, NULL), 0);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, r, LBA_WU, 8, 0, NULL), 0);
	CHECKF(pattern_check(r, LBA_WU, 8, c->bs, seed, why, sizeof(why)) < 0, "%s", why);
	/* No flags on this command. */
	nvp_io_opts_init(&o, sizeof(o));
	o.flags = NVP_IO_FUA;
	CHECK_RC(CMD_SYNC(c->qp, NULL, "write uncorrectable with FUA",
			  nvp_write_uncorrectable(c->qp, c->ns, LBA_WU, 1, &o, io_cpl_cb, c_)),
		 -EINVAL);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, r, LBA_WU, 1, 0, NULL), 0);
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
	return true;
}

void test_cmd_write_uncorrectable(void)
{
	for_each_ns("write uncorrectable", write_uncorrectable_on, LBA_WU);
}

/* ---- Copy -------------------------------------------------------------------- */

static int copy_sync(struct nsctx *c, const struct nvp_copy_range *rg, uint32_t n,
		     uint64_t sdlba, const struct nvp_io_opts *o, struct io_cpl *cpl)
{
	return CMD_SYNC(c->qp, cpl, "copy",
			nvp_copy(c->qp, c->ns, rg, n, sdlba, o, io_cpl_cb, c_));
}

/* Read @total blocks at @sdlba and compare them with the sources, in order. */
static bool dest_matches(struct nsctx *c, const struct nvp_copy_range *rg, uint32_t n,
			 uint64_t sdlba)
{
	uint64_t total = 0, at = 0;
	uint8_t *src = NULL, *dst = NULL;
	bool ok = false;

	for (uint32_t i = 0; i < n; i++)
		total += rg[i].nlb;
	src = dma((size_t)total * c->bs);
	dst = dma((size_t)total * c->bs);
	CHECK(src && dst);
	for (uint32_t i = 0; i < n; i++) {
		CHECK_RC(io_sync(c->qp, c->ns, IO_READ, src + at * c->bs, rg[i].slba, rg[i].nlb, 0,
				 NULL), 0);
		at += rg[i].nlb;
	}
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, dst, sdlba, (uint32_t)total, 0, NULL), 0);
	for (uint64_t b = 0; b < total; b++)
		CHECKF(memcmp(src + b * c->bs, dst + b * c->bs, c->bs) == 0,
		       "copy destination block %llu (LBA %llu) differs from its source",
		       (unsigned long long)b, (unsigned long long)(sdlba + b));
	ok = true;
out:
	nvp_dma_free(src);
	nvp_dma_free(dst);
	return ok;
}

static bool copy_on(struct nsctx *c)
{
	const uint32_t want[4] = { 3, 1, 5, 2 };
	const uint64_t at[4] = { LBA_COPY_SRC + 40, LBA_COPY_SRC, LBA_COPY_SRC + 10,
				 LBA_COPY_SRC + 60 };
	struct nvp_copy_range rg[4];
	uint64_t seed = seed_for(0xc9 + c->ni->nsid), total = 0;
	uint8_t *w = NULL;
	struct nvp_io_opts o;
	struct io_cpl cpl;
	uint32_t n = 0;
	int rc;

	if (!c->ni->supports_copy)
		return unsupported(c, copy_sync(c, &(struct nvp_copy_range){ LBA_COPY_SRC, 1 }, 1,
						LBA_COPY_DST, NULL, NULL), "Copy", "ONCS bit 8");
	CHECKF(c->ni->copy_max_ranges >= 1 && c->ni->copy_max_range_blocks >= 1 &&
	       c->ni->copy_max_blocks >= 1, "copy limits %u ranges, %u per range, %u in all",
	       c->ni->copy_max_ranges, c->ni->copy_max_range_blocks, c->ni->copy_max_blocks);
	/* Several ranges of different sizes, out of LBA order, within the limits. */
	for (uint32_t i = 0; i < 4 && n < c->ni->copy_max_ranges; i++) {
		uint32_t nlb = want[i] < c->ni->copy_max_range_blocks ? want[i] :
									c->ni->copy_max_range_blocks;

		if (total + nlb > c->ni->copy_max_blocks)
			break;
		rg[n].slba = at[i];
		rg[n++].nlb = nlb;
		total += nlb;
	}
	w = dma(64 * (size_t)c->bs);
	CHECK(w);
	pattern_fill(w, LBA_COPY_SRC, 64, c->bs, seed);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_COPY_SRC, 64, 0, NULL), 0);
	memset(w, 0, 16 * (size_t)c->bs);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_COPY_DST, 16, 0, NULL), 0);
	rc = copy_sync(c, rg, n, LBA_COPY_DST, NULL, &cpl);
	CHECKF(rc == 0, "copy of %u ranges: %d (%s) %s", n, rc, itest_errname(rc),
	       nvp_status_str(cpl.status));
	CHECK(dest_matches(c, rg, n, LBA_COPY_DST));
	/* The block after the destination is untouched. */
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, w, LBA_COPY_DST + total, 1, 0, NULL), 0);
	CHECKF(buf_is_zero(w, c->bs), "copy wrote past its destination");
	/* With FUA, to another place. */
	nvp_io_opts_init(&o, sizeof(o));
	o.flags = NVP_IO_FUA;
	CHECK_RC(copy_sync(c, rg, n, LBA_COPY_DST + 20, &o, NULL), 0);
	CHECK(dest_matches(c, rg, n, LBA_COPY_DST + 20));
	itest_notef("ns%u: copy of %u ranges, %llu blocks (limits: %u ranges, %u per range, "
		    "%u in all)", c->ni->nsid, n, (unsigned long long)total,
		    c->ni->copy_max_ranges, c->ni->copy_max_range_blocks, c->ni->copy_max_blocks);
out:
	nvp_dma_free(w);
	return true;
}

void test_cmd_copy(void)
{
	for_each_ns("copy", copy_on, LBA_COPY_SRC);
}

/* A raw Copy with @nr ranges of @nlb blocks each (the device's own checks). */
static int raw_copy(struct nsctx *c, uint32_t nr, uint32_t nlb, struct io_cpl *cpl)
{
	struct nvp_copy_range_fmt0 *e = dma(nr * sizeof(*e));
	struct nvp_sqe cmd = { .opc = NVP_NVM_COPY };
	int rc;

	if (!e)
		return -ENOMEM;
	memset(e, 0, nr * sizeof(*e));
	for (uint32_t i = 0; i < nr; i++) {
		e[i].slba = nvp_cpu_to_le64(LBA_LIM_SRC + i);
		e[i].nlb = nvp_cpu_to_le16((uint16_t)(nlb - 1));
	}
	cmd.nsid = c->ni->nsid;
	cmd.cdw10 = LBA_LIM_DST;
	cmd.cdw12 = nr - 1;
	rc = raw_sync(c->qp, &cmd, e, nr * sizeof(*e), cpl);
	nvp_dma_free(e);
	return rc;
}

#define SIZE_LIMIT NVP_STATUS(NVP_SCT_CMD_SPECIFIC, NVP_SC_CMD_SIZE_LIMIT)

static bool copy_limits_on(struct nsctx *c)
{
	uint32_t mr = c->ni->copy_max_ranges, mssrl = c->ni->copy_max_range_blocks;
	uint32_t mcl = c->ni->copy_max_blocks;
	struct nvp_copy_range *rg = NULL;
	struct io_cpl cpl;
	uint8_t *w = NULL;
	uint32_t n;
	int rc;

	if (!c->ni->supports_copy)
		return unsupported(c, copy_sync(c, &(struct nvp_copy_range){ LBA_LIM_SRC, 1 }, 1,
						LBA_LIM_DST, NULL, NULL), "Copy", "ONCS bit 8");
	rg = calloc(NVP_COPY_MAX_RANGES + 1, sizeof(*rg));
	w = dma(512 * (size_t)c->bs);
	CHECK(rg && w);
	pattern_fill(w, LBA_LIM_SRC, 512, c->bs, seed_for(0x11 + c->ni->nsid));
	/* In pieces: a small transfer limit would split 512 blocks too finely. */
	for (uint32_t at = 0; at < 512; at += 32)
		CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w + (size_t)at * c->bs, LBA_LIM_SRC + at,
				 32, 0, NULL), 0);
	for (uint32_t i = 0; i <= NVP_COPY_MAX_RANGES; i++)
		rg[i] = (struct nvp_copy_range){ .slba = LBA_LIM_SRC + 2 * i, .nlb = 1 };

	/* NULL and zero ranges. */
	CHECK_RC(copy_sync(c, NULL, 1, LBA_LIM_DST, NULL, NULL), -EINVAL);
	CHECK_RC(copy_sync(c, rg, 0, LBA_LIM_DST, NULL, NULL), -EINVAL);
	/* MSRC is 0's based: MSRC + 1 ranges go, one more does not. */
	n = mr <= mcl ? mr : 0;
	if (n) {
		rc = copy_sync(c, rg, n, LBA_LIM_DST, NULL, &cpl);
		CHECKF(rc == 0, "copy of %u ranges (MSRC + 1): %d (%s) %s: %s", n, rc,
		       itest_errname(rc), nvp_status_str(cpl.status), rc ? nvp_last_error() : "");
		CHECK(dest_matches(c, rg, n, LBA_LIM_DST));
	}
	CHECK_RC(copy_sync(c, rg, mr + 1, LBA_LIM_DST, NULL, NULL), -EINVAL);
	CHECKF(strstr(nvp_last_error(), "MSRC"), "message: %s", nvp_last_error());
	if (mr < NVP_COPY_MAX_RANGES && mr + 1 <= mcl) {
		/* The device refuses it too (raw, past the library's check). */
		CHECK_RC(raw_copy(c, mr + 1, 1, &cpl), -EINVAL);
		CHECKF(STATUS_NO_DNR(cpl.status) == SIZE_LIMIT, "raw copy of MSRC + 2 ranges: %s",
		       nvp_status_str(cpl.status));
	}
	/* MSSRL per range. */
	if (mssrl <= mcl && mssrl <= 256) {
		rg[0] = (struct nvp_copy_range){ .slba = LBA_LIM_SRC, .nlb = mssrl };
		CHECK_RC(copy_sync(c, rg, 1, LBA_LIM_DST, NULL, NULL), 0);
		CHECK(dest_matches(c, rg, 1, LBA_LIM_DST));
	}
	if (mssrl < 512) {	/* else the range runs past the end first: -ERANGE */
		rg[0] = (struct nvp_copy_range){ .slba = LBA_LIM_SRC, .nlb = mssrl + 1 };
		CHECK_RC(copy_sync(c, rg, 1, LBA_LIM_DST, NULL, NULL), -EINVAL);
		CHECKF(strstr(nvp_last_error(), "MSSRL"), "message: %s", nvp_last_error());
	}
	if (mssrl + 1 <= mcl && mssrl < 256) {
		CHECK_RC(raw_copy(c, 1, mssrl + 1, &cpl), -EINVAL);
		CHECKF(STATUS_NO_DNR(cpl.status) == SIZE_LIMIT, "raw copy of MSSRL + 1 blocks: %s",
		       nvp_status_str(cpl.status));
	}
	/* MCL in all: ranges of up to MSSRL adding up to MCL, then MCL + 1. */
	/* (Only where MCL blocks fit the windows: QEMU's and emu's 128 do.) */
	n = 0;
	for (uint32_t left = mcl <= 256 ? mcl : 0; left && n < mr && n < NVP_COPY_MAX_RANGES;
	     n++) {
		uint32_t k = left < mssrl ? left : mssrl;

		if (k > 256)
			break;	/* keep the sources within the written window */
		rg[n] = (struct nvp_copy_range){ .slba = LBA_LIM_SRC, .nlb = k };
		left -= k;
		if (!left) {
			n++;
			CHECK_RC(copy_sync(c, rg, n, LBA_LIM_DST, NULL, NULL), 0);
			CHECK(dest_matches(c, rg, n, LBA_LIM_DST));
			if (n < mr) {
				rg[n++] = (struct nvp_copy_range){ .slba = LBA_LIM_SRC, .nlb = 1 };
				CHECK_RC(copy_sync(c, rg, n, LBA_LIM_DST, NULL, NULL), -EINVAL);
				CHECKF(strstr(nvp_last_error(), "MCL"), "message: %s",
				       nvp_last_error());
			}
			itest_notef("ns%u: MCL %u in %u ranges", c->ni->nsid, mcl, n);
			break;
		}
	}
	/* Past the end: a source, the destination. */
	rg[0] = (struct nvp_copy_range){ .slba = c->ni->num_blocks - 1, .nlb = 2 };
	CHECK_RC(copy_sync(c, rg, 1, LBA_LIM_DST, NULL, NULL), -ERANGE);
	rg[0] = (struct nvp_copy_range){ .slba = LBA_LIM_SRC, .nlb = 1 };
	CHECK_RC(copy_sync(c, rg, 1, c->ni->num_blocks, NULL, NULL), -ERANGE);
	CHECK_RC(copy_sync(c, rg, 1, c->ni->num_blocks - 1, NULL, NULL), 0);
	rg[0].nlb = 0;
	CHECK_RC(copy_sync(c, rg, 1, LBA_LIM_DST, NULL, NULL), -EINVAL);
	CHECK(qpair_still_works(c->qp, c->ns, LBA_LIM_DST));
out:
	free(rg);
	nvp_dma_free(w);
	return true;
}

void test_cmd_copy_limits(void)
{
	for_each_ns("copy limits", copy_limits_on, LBA_LIM_SRC);
}

/* ---- Dataset Management with attributes ------------------------------------ */

static int dsm_sync(struct nsctx *c, const struct nvp_dsm_range *r, uint32_t n, uint32_t attr,
		    struct io_cpl *cpl)
{
	return CMD_SYNC(c->qp, cpl, "dataset management",
			nvp_dsm(c->qp, c->ns, r, n, attr, io_cpl_cb, c_));
}

static bool dsm_on(struct nsctx *c)
{
	uint64_t seed = seed_for(0xd5 + c->ni->nsid);
	struct nvp_dsm_range r[NVP_DSM_MAX_RANGES + 1];
	uint8_t *w = NULL, *rd = NULL;
	char why[160];
	int rc;

	r[0] = (struct nvp_dsm_range){ .cattr = 0, .nlb = 1, .slba = LBA_DSM };
	if (!c->ni->supports_dsm)
		return unsupported(c, dsm_sync(c, r, 1, NVP_DSM_ATTR_IDR, NULL),
				   "Dataset Management", "ONCS bit 2");
	w = dma(8 * (size_t)c->bs);
	rd = dma(8 * (size_t)c->bs);
	CHECK(w && rd);
	pattern_fill(w, LBA_DSM, 8, c->bs, seed);
	CHECK_RC(io_sync(c->qp, c->ns, IO_WRITE, w, LBA_DSM, 8, 0, NULL), 0);
	/* Hints (integral dataset for read and write, context attributes:
	 * access frequency, latency, sequential read) change no data. */
	r[0] = (struct nvp_dsm_range){ .cattr = 0x3 | (0x1 << 4) | (1u << 8), .nlb = 4,
				       .slba = LBA_DSM };
	r[1] = (struct nvp_dsm_range){ .cattr = 0x5, .nlb = 4, .slba = LBA_DSM + 4 };
	rc = dsm_sync(c, r, 2, NVP_DSM_ATTR_IDR | NVP_DSM_ATTR_IDW, NULL);
	CHECKF(rc == 0, "dsm IDR|IDW: %d (%s)", rc, itest_errname(rc));
	CHECK_RC(dsm_sync(c, r, 2, NVP_DSM_ATTR_IDR, NULL), 0);
	CHECK_RC(dsm_sync(c, r, 2, 0, NULL), 0);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, rd, LBA_DSM, 8, 0, NULL), 0);
	CHECKF(pattern_check(rd, LBA_DSM, 8, c->bs, seed, why, sizeof(why)) < 0,
	       "after DSM hints: %s", why);
	/* 256 ranges; 257, 0 and NULL are refused; unknown attributes too. */
	for (uint32_t i = 0; i <= NVP_DSM_MAX_RANGES; i++)
		r[i] = (struct nvp_dsm_range){ .cattr = i & 0xf, .nlb = 1, .slba = LBA_DSM + i % 8 };
	CHECK_RC(dsm_sync(c, r, NVP_DSM_MAX_RANGES, NVP_DSM_ATTR_IDW, NULL), 0);
	CHECK_RC(dsm_sync(c, r, NVP_DSM_MAX_RANGES + 1, NVP_DSM_ATTR_IDW, NULL), -EINVAL);
	CHECK_RC(dsm_sync(c, r, 0, NVP_DSM_ATTR_IDW, NULL), -EINVAL);
	CHECK_RC(dsm_sync(c, NULL, 1, NVP_DSM_ATTR_IDW, NULL), -EINVAL);
	CHECK_RC(dsm_sync(c, r, 1, 1u << 3, NULL), -EINVAL);
	r[0] = (struct nvp_dsm_range){ .nlb = 2, .slba = c->ni->num_blocks - 1 };
	CHECK_RC(dsm_sync(c, r, 1, NVP_DSM_ATTR_IDR, NULL), -ERANGE);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, rd, LBA_DSM, 8, 0, NULL), 0);
	CHECKF(pattern_check(rd, LBA_DSM, 8, c->bs, seed, why, sizeof(why)) < 0,
	       "after DSM hints: %s", why);
	/* Deallocate, through nvp_dsm() and nvp_deallocate(), with hints too. */
	r[0] = (struct nvp_dsm_range){ .nlb = 2, .slba = LBA_DSM + 1 };
	CHECK_RC(dsm_sync(c, r, 1, NVP_DSM_ATTR_DEALLOCATE | NVP_DSM_ATTR_IDR, NULL), 0);
	r[0] = (struct nvp_dsm_range){ .nlb = 1, .slba = LBA_DSM + 6 };
	CHECK_RC(CMD_SYNC(c->qp, NULL, "deallocate",
			  nvp_deallocate(c->qp, c->ns, r, 1, io_cpl_cb, c_)), 0);
	CHECK_RC(io_sync(c->qp, c->ns, IO_READ, rd, LBA_DSM, 8, 0, NULL), 0);
	CHECKF(pattern_check(rd, LBA_DSM, 1, c->bs, seed, why, sizeof(why)) < 0,
	       "block before the deallocated ones: %s", why);
	CHECKF(pattern_check(rd + 3 * (size_t)c->bs, LBA_DSM + 3, 3, c->bs, seed, why,
			     sizeof(why)) < 0, "blocks between the deallocated ones: %s", why);
	/*
	 * Deallocate is advisory (QEMU on a raw file keeps the data): each
	 * deallocated block reads zeroes or its old data, nothing else; the
	 * emulator promises zeroes (DLFEAT) and keeps that promise.
	 */
	for (uint32_t i = 1; i <= 6; i += (i == 2 ? 4 : 1)) {
		const uint8_t *blk = rd + (size_t)i * c->bs;

		if (buf_is_zero(blk, c->bs))
			continue;
		CHECKF(!c->ni->deallocated_reads_zeroes || !c->d->is_emu,
		       "emu: DLFEAT says zeroes but deallocated block %u kept data", i);
		CHECKF(pattern_check(blk, LBA_DSM + i, 1, c->bs, seed, why, sizeof(why)) < 0,
		       "deallocated block %u is neither zero nor the old data: %s", i, why);
	}
out:
	nvp_dma_free(w);
	nvp_dma_free(rd);
	return true;
}

void test_cmd_dsm_attributes(void)
{
	for_each_ns("dataset management", dsm_on, LBA_DSM);
}

/* ---- bad arguments: an error, and nothing sent ------------------------------ */

static bool bad_args_on(struct nsctx *c)
{
	struct nvp_qpair *qp = c->qp, *small = NULL;
	struct nvp_ns *ns = c->ns;
	uint64_t end = c->ni->num_blocks;
	struct nvp_qpair_stats s0, s1;
	struct nvp_qpair_opts qo;
	struct nvp_io_opts o;
	struct io_cpl *held = NULL;
	uint8_t *b = NULL;

	b = dma(2 * (size_t)c->bs);
	CHECK(b);
	nvp_qpair_get_stats(qp, &s0, sizeof(s0));
	/* NULL queue pair or callback. */
	CHECK_RC(nvp_compare(NULL, ns, b, 0, 1, NULL, io_cpl_cb, NULL), -EINVAL);
	CHECK_RC(nvp_compare(qp, ns, b, 0, 1, NULL, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_verify(qp, ns, 0, 1, NULL, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_copy(qp, ns, &(struct nvp_copy_range){ 0, 1 }, 1, 8, NULL, NULL, NULL),
		 -EINVAL);
	CHECK_RC(nvp_write_uncorrectable(NULL, ns, 0, 1, NULL, io_cpl_cb, NULL), -EINVAL);
	CHECK_RC(nvp_dsm(qp, ns, &(struct nvp_dsm_range){ 0, 1, 0 }, 1, 0, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_compare_and_write(qp, ns, b, b, 0, 1, NULL, NULL, NULL), -EINVAL);
	/* NULL namespace, zero blocks, past the end. */
	CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, NULL, b, 0, 1, NULL, io_cpl_cb,
							   c_)), -EINVAL);
	CHECK_RC(CMD_SYNC(qp, NULL, "verify", nvp_verify(qp, NULL, 0, 1, NULL, io_cpl_cb, c_)),
		 -EINVAL);
	if (c->ni->supports_compare) {
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, NULL, 0, 1, NULL,
								   io_cpl_cb, c_)), -EINVAL);
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, 0, 0, NULL,
								   io_cpl_cb, c_)), -EINVAL);
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, end - 1, 2, NULL,
								   io_cpl_cb, c_)), -ERANGE);
		/* Options: no size; PI checks or a metadata buffer on a namespace
		 * without metadata (nvp_io_apply_opts() refuses both); unknown flags. */
		memset(&o, 0, sizeof(o));
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, 0, 1, &o,
								   io_cpl_cb, c_)), -EINVAL);
		nvp_io_opts_init(&o, sizeof(o));
		o.pi = NVP_PI_CHECK_GUARD;
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, 0, 1, &o,
								   io_cpl_cb, c_)), -EINVAL);
		nvp_io_opts_init(&o, sizeof(o));
		o.md = b;
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, 0, 1, &o,
								   io_cpl_cb, c_)), -EINVAL);
		nvp_io_opts_init(&o, sizeof(o));
		o.flags = 1u << 7;
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, 0, 1, &o,
								   io_cpl_cb, c_)), -EINVAL);
		/* An older caller's smaller struct: only what it has is read. */
		nvp_io_opts_init(&o, sizeof(o));
		o.opts_size = sizeof(size_t);
		o.flags = 1u << 7;
		CHECK_RC(io_sync(qp, ns, IO_WRITE, b, LBA_BAD, 1, 0, NULL), 0);
		CHECK_RC(CMD_SYNC(qp, NULL, "compare", nvp_compare(qp, ns, b, LBA_BAD, 1, &o,
								   io_cpl_cb, c_)), 0);
	}
	if (c->ni->supports_verify) {
		CHECK_RC(CMD_SYNC(qp, NULL, "verify", nvp_verify(qp, ns, 0, 0, NULL, io_cpl_cb,
								 c_)), -EINVAL);
		CHECK_RC(CMD_SYNC(qp, NULL, "verify", nvp_verify(qp, ns, end, 1, NULL, io_cpl_cb,
								 c_)), -ERANGE);
	}
	if (c->ni->supports_write_uncorrectable)
		CHECK_RC(CMD_SYNC(qp, NULL, "write uncorrectable",
				  nvp_write_uncorrectable(qp, ns, end - 1, 2, NULL, io_cpl_cb, c_)),
			 -ERANGE);
	if (c->ni->supports_fused_compare_write) {
		CHECK_RC(CMD_SYNC(qp, NULL, "compare and write",
				  nvp_compare_and_write(qp, ns, NULL, b, 0, 1, NULL, io_cpl_cb, c_)),
			 -EINVAL);
		CHECK_RC(CMD_SYNC(qp, NULL, "compare and write",
				  nvp_compare_and_write(qp, ns, b, NULL, 0, 1, NULL, io_cpl_cb, c_)),
			 -EINVAL);
		CHECK_RC(CMD_SYNC(qp, NULL, "compare and write",
				  nvp_compare_and_write(qp, ns, b, b, 0, 0, NULL, io_cpl_cb, c_)),
			 -EINVAL);
		CHECK_RC(CMD_SYNC(qp, NULL, "compare and write",
				  nvp_compare_and_write(qp, ns, b, b, end - 1, 2, NULL, io_cpl_cb,
							c_)), -ERANGE);
		/* Three request objects: a pool of two can never take a pair ... */
		nvp_qpair_opts_init(c->d->ctrl, &qo, sizeof(qo));
		qo.queue_size = 3;
		qo.num_requests = 2;
		CHECK_RC(nvp_qpair_alloc(c->d->ctrl, &qo, &small), 0);
		CHECK_RC(CMD_SYNC(small, NULL, "compare and write",
				  nvp_compare_and_write(small, ns, b, b, 0, 1, NULL, io_cpl_cb, c_)),
			 -EINVAL);
		nvp_qpair_free(small);
		small = NULL;
		/* ... and a pool of three with one busy has to wait. */
		qo.queue_size = 4;
		qo.num_requests = 3;
		CHECK_RC(nvp_qpair_alloc(c->d->ctrl, &qo, &small), 0);
		held = io_cpl_new();
		CHECK(held);
		CHECK_RC(nvp_write(small, ns, b, LBA_BAD, 1, 0, io_cpl_cb, held), 0);
		CHECK_RC(nvp_compare_and_write(small, ns, b, b, 0, 1, NULL, io_cpl_cb, held),
			 -EAGAIN);
		CHECK_RC(poll_until(small, &held->calls, 1), 0);
		CHECK_RC(CMD_SYNC(small, NULL, "compare and write",
				  nvp_compare_and_write(small, ns, b, b, LBA_BAD, 1, NULL, io_cpl_cb,
							c_)), 0);
		CHECK(atomic_load(&held->calls) == 1);
	}
	nvp_qpair_get_stats(qp, &s1, sizeof(s1));
	/* Only the write and the compare of the smaller-struct case were sent. */
	CHECKF(s1.submitted - s0.submitted == (c->ni->supports_compare ? 2u : 0u),
	       "%llu commands went out", (unsigned long long)(s1.submitted - s0.submitted));
out:
	nvp_qpair_free(small);
	free(held);
	nvp_dma_free(b);
	return true;
}

void test_cmd_cmds_bad_args(void)
{
	for_each_ns("bad arguments", bad_args_on, LBA_BAD);
}
