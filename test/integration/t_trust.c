// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_trust.c - the defects an adversarial review found, one test each
 * (issue "Trust"): NLB's 16-bit width, a transfer limit below one block,
 * part counts that wrap, a split completion that changes inside its own
 * callback, submissions while a qpair is freed, NULL arguments, -EAGAIN
 * versus -EINVAL for split commands, NUMA nodes that do not exist, and
 * registered memory that is not read-write.
 *
 * Tests that need a controller of a special shape attach their own
 * emulated one (T_EMU_ONLY: the main controller is emulated, so the
 * process is in virtual-address mode and may hold more emulators).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nvpoll/emu.h>

#include "itest.h"

#define LBA_SCRATCH 900

/* An emulated controller of a given shape, beside the shared ones. */
static struct nvp_ctrl *own_emu(const char *addr, uint32_t max_xfer_bytes)
{
	struct nvp_ctrl_opts opts;
	struct nvp_ctrl *ctrl = NULL;
	int rc;

	nvp_ctrl_opts_init(&opts, sizeof(opts));
	if (max_xfer_bytes)
		opts.max_xfer_bytes = max_xfer_bytes;
	rc = nvp_ctrl_attach(addr, &opts, &ctrl);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "attach %s: %d (%s): %s", addr, rc,
			    itest_errname(rc), nvp_last_error());
		return NULL;
	}
	return ctrl;
}

static void own_detach(struct nvp_ctrl *ctrl, struct nvp_qpair *qp)
{
	nvp_qpair_free(qp);
	if (ctrl && nvp_ctrl_detach(ctrl))
		itest_failf(__FILE__, __LINE__, "detach: %s", nvp_last_error());
}

static uint64_t io_cmds(struct nvp_ctrl *ctrl, uint8_t opc)
{
	struct nvp_emu_stats s;

	if (nvp_emu_get_stats(ctrl, &s, sizeof(s)))
		return UINT64_MAX;
	return s.io_cmds[opc];
}

/*
 * Defect 1: with MDTS 0 ("no limit") and a raised max_xfer_bytes, a
 * 100,000-block write went out as one command whose 16-bit NLB kept only
 * the low bits: reported done, most blocks never written. Every command
 * must stay within NLB's 65,536 blocks, and the data must all arrive.
 */
void test_trust_nlb_limit(void)
{
	const uint32_t nlb = 100000;
	struct nvp_ctrl *ctrl = own_emu("emu:ns=64M:512,mdts=0", 256u << 20);
	const struct nvp_ns_info *ni;
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	uint8_t *w = NULL, *r = NULL;
	uint64_t writes0, reads0;
	struct nvp_ns *ns;
	struct io_cpl c;
	char why[256];
	long bad;

	CHECK(ctrl);
	ns = nvp_ctrl_first_ns(ctrl);
	ni = nvp_ns_get_info(ns);
	CHECKF(nvp_ctrl_get_info(ctrl)->max_xfer_bytes == 256u << 20,
	       "max_xfer_bytes %u, expected 256 MiB (MDTS 0 = no limit)",
	       nvp_ctrl_get_info(ctrl)->max_xfer_bytes);
	CHECKF(ni->max_io_blocks == 65536, "max_io_blocks %u: NLB is 16 bits, 0's based, "
	       "so one command moves at most 65536 blocks", ni->max_io_blocks);
	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	qo.queue_size = 8;
	qo.num_requests = 7;
	CHECK(nvp_qpair_alloc(ctrl, &qo, &qp) == 0);
	w = nvp_dma_alloc((size_t)nlb * 512, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)nlb * 512, 0, NVP_NUMA_ANY);
	CHECK(w && r);
	pattern_fill(w, 7, nlb, 512, itest_cfg.seed ^ 0x4e4c42);
	writes0 = io_cmds(ctrl, NVP_NVM_WRITE);
	CHECKF(io_sync(qp, ns, IO_WRITE, w, 7, nlb, 0, &c) == 0, "write of %u blocks: %s, "
	       "status 0x%04x (%s)", nlb, nvp_last_error(), c.status, nvp_status_str(c.status));
	CHECKF(io_cmds(ctrl, NVP_NVM_WRITE) - writes0 == 2,
	       "a %u-block write took %llu Write commands, expected 2 (65536 + 34464)", nlb,
	       (unsigned long long)(io_cmds(ctrl, NVP_NVM_WRITE) - writes0));
	reads0 = io_cmds(ctrl, NVP_NVM_READ);
	CHECK_RC(io_sync(qp, ns, IO_READ, r, 7, nlb, 0, NULL), 0);
	CHECK(io_cmds(ctrl, NVP_NVM_READ) - reads0 == 2);
	bad = pattern_check(r, 7, nlb, 512, itest_cfg.seed ^ 0x4e4c42, why, sizeof(why));
	CHECKF(bad < 0, "block %ld of a %u-block write read back wrong: %s", bad, nlb, why);
	itest_notef("%u blocks in 2 commands, verified", nlb);
out:
	own_detach(ctrl, qp);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

/*
 * Defect 3: 64 KiB blocks with an 8 KiB MDTS made max_io_blocks 0 and the
 * split divide by zero (SIGFPE). Attach must work, that namespace must
 * refuse I/O with a message, and the other namespace must work.
 */
void test_trust_block_above_mdts(void)
{
	struct nvp_ctrl *ctrl = own_emu("emu:ns=4M:65536,ns=4M:4096,mdts=1", 0);
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *big, *small;
	uint8_t *buf = NULL;
	struct io_cpl c;

	CHECK(ctrl);
	big = nvp_ctrl_get_ns(ctrl, 1);
	small = nvp_ctrl_get_ns(ctrl, 2);
	CHECK(big && small);
	CHECK(nvp_ns_get_info(big)->block_size == 65536);
	CHECK(nvp_ns_get_info(big)->max_io_blocks == 0);
	CHECK(nvp_qpair_alloc(ctrl, NULL, &qp) == 0);
	buf = nvp_dma_alloc(4 * 65536, 0, NVP_NUMA_ANY);
	CHECK(buf);
	for (uint32_t nlb = 1; nlb <= 4; nlb *= 2) {
		CHECK_RC(io_sync(qp, big, IO_READ, buf, 0, nlb, 0, &c), -ENOTSUP);
		CHECKF(strstr(nvp_last_error(), "less than one block"),
		       "message does not explain: %s", nvp_last_error());
		CHECK_RC(io_sync(qp, big, IO_WRITE, buf, 0, nlb, 0, &c), -ENOTSUP);
	}
	CHECK(qpair_still_works(qp, small, 10));
out:
	own_detach(ctrl, qp);
	nvp_dma_free(buf);
}

/*
 * Defect 4: part counts computed in 32 bits wrapped to 0 for nlb at or
 * above 0xFFFF0001, so the call returned 0, posted nothing and never
 * called back. A 2^32-block namespace makes such ranges legal.
 */
void test_trust_huge_nlb(void)
{
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	const uint32_t huge[] = { 0xFFFF0001u, 0xFFFFFFFFu, 0x80000001u };
	uint8_t *buf = NULL;
	struct nvp_ns *ns;
	struct io_cpl c;
	char why[256];
	int rc;

	/* 2 TiB of address space, never touched (MAP_NORESERVE); valgrind's
	 * address space manager cannot reserve that much. */
	if (getenv("NVP_TEST_QEMU_USER")) {
		itest_skipf("qemu-user keeps state for every page of a mapping: reserving "
			    "2 TiB of address space takes it minutes");
		goto out;
	}
	rc = nvp_ctrl_attach("emu:ns=2T:512", NULL, &ctrl);
	if (rc && strstr(nvp_last_error(), "cannot map")) {
		itest_skipf("cannot reserve 2 TiB of address space here: %s", nvp_last_error());
		ctrl = NULL;
		goto out;
	}
	CHECKF(rc == 0, "attach emu:ns=2T:512: %s", nvp_last_error());
	ns = nvp_ctrl_first_ns(ctrl);
	CHECK(nvp_ns_get_info(ns)->num_blocks == 1ull << 32);
	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	qo.queue_size = 1024;
	qo.num_requests = 1023;
	CHECK(nvp_qpair_alloc(ctrl, &qo, &qp) == 0);
	buf = nvp_dma_alloc(64 * 512, 0, NVP_NUMA_ANY);
	CHECK(buf);
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		/* Never fits 1023 requests: refused, nothing posted, no callback. */
		CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, 0, huge[i], 0, &c), -EINVAL);
		CHECK_RC(io_sync(qp, ns, IO_READ, buf, 0, huge[i], 0, &c), -EINVAL);
		CHECK_RC(io_sync(qp, ns, IO_WRITE, buf, 0, huge[i], 0, &c), -EINVAL);
		CHECK(nvp_qpair_outstanding(qp) == 0);
	}
	/* A legal split across two 65536-block boundaries zeroes exactly its range. */
	{
		const uint64_t lba = 65536 - 3;
		const uint32_t nlb = 2 * 65536 + 6;	/* ends 3 past the 2nd boundary */
		const uint64_t probes[] = { lba - 1, lba, 65535, 65536, 131071, 131072,
					    lba + nlb - 1, lba + nlb };

		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			pattern_fill(buf, probes[i], 1, 512, 77);
			CHECK_RC(io_sync(qp, ns, IO_WRITE, buf, probes[i], 1, 0, NULL), 0);
		}
		CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, lba, nlb, 0, NULL), 0);
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			bool inside = probes[i] >= lba && probes[i] < lba + nlb;

			CHECK_RC(io_sync(qp, ns, IO_READ, buf, probes[i], 1, 0, NULL), 0);
			if (inside)
				CHECKF(buf_is_zero(buf, 512), "LBA %llu inside the range is not zero",
				       (unsigned long long)probes[i]);
			else
				CHECKF(pattern_check(buf, probes[i], 1, 512, 77, why, sizeof(why)) < 0,
				       "LBA %llu outside the range changed: %s",
				       (unsigned long long)probes[i], why);
		}
	}
out:
	own_detach(ctrl, qp);
	nvp_dma_free(buf);
}

/* ---- defect 5: a split completion must not change inside its callback ---- */

struct nested {
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	uint8_t *buf;
	uint32_t nlb;
	atomic_int outer_calls;
	atomic_int inner_calls;
	uint16_t seen_before;
	uint16_t seen_after;
	int resubmit_rc;
	struct io_cpl inner;
};

static void nested_outer_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct nested *n = arg;

	n->seen_before = cpl->status & ~1u;
	/* Another split I/O from inside the callback reuses freed requests. */
	n->resubmit_rc = nvp_read(n->qp, n->ns, n->buf, 0, n->nlb, 0, io_cpl_cb, &n->inner);
	n->seen_after = cpl->status & ~1u;
	atomic_fetch_add(&n->outer_calls, 1);
}

void test_trust_split_cpl_stable(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nested n;
	struct nvp_emu_fault fault;
	uint32_t step;

	memset(&n, 0, sizeof(n));
	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	n.qp = qp;
	n.ns = d->ns[0];
	step = nvp_ns_get_info(n.ns)->max_io_blocks;
	n.nlb = 3 * step;
	n.buf = nvp_dma_alloc((size_t)n.nlb * nvp_ns_get_info(n.ns)->block_size, 0, NVP_NUMA_ANY);
	CHECK(n.buf);
	io_cpl_init(&n.inner);
	/* The middle part fails; the others succeed, the last one last. */
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_STATUS;
	fault.count = 1;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_OPCODE | NVP_EMU_MATCH_LBA;
	fault.opcode = NVP_NVM_READ;
	fault.slba = step;
	fault.nlb = 1;
	fault.status = NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR) |
		       NVP_STATUS_DNR_BIT;
	CHECK(nvp_emu_inject(d->ctrl, &fault, sizeof(fault)) == 0);
	CHECK_RC(nvp_read(qp, n.ns, n.buf, 0, n.nlb, 0, nested_outer_cb, &n), 0);
	CHECK_RC(poll_until(qp, &n.outer_calls, 1), 0);
	CHECK_RC(poll_until(qp, &n.inner.calls, 1), 0);
	CHECK(n.resubmit_rc == 0);
	CHECKF(NVP_STATUS_SC(n.seen_before) == NVP_SC_UNRECOVERED_READ_ERROR,
	       "the split read reported status 0x%04x, expected the failed part's",
	       n.seen_before);
	CHECKF(n.seen_after == n.seen_before, "the completion changed inside its callback: "
	       "0x%04x before submitting another split I/O, 0x%04x after",
	       n.seen_before, n.seen_after);
	CHECK(n.inner.status == 0);
	CHECK(atomic_load(&n.outer_calls) == 1 && atomic_load(&n.inner.calls) == 1);
	CHECK(nvp_qpair_outstanding(qp) == 0);
out:
	if (d)
		nvp_emu_clear_faults(d->ctrl);
	nvp_qpair_free(qp);
	nvp_dma_free(n.buf);
}

/* ---- defect 6: submissions from callbacks during nvp_qpair_free() ---- */

struct dying {
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	uint8_t *buf;
	atomic_int calls;
	atomic_int nested_accepted;
	atomic_int nested_calls;
	int nested_rc;
};

static void dying_nested_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct dying *dy = arg;

	(void)cpl;
	atomic_fetch_add(&dy->nested_calls, 1);
}

static void dying_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct dying *dy = arg;
	int rc;

	(void)cpl;
	atomic_fetch_add(&dy->calls, 1);
	rc = nvp_read(dy->qp, dy->ns, dy->buf, 0, 1, 0, dying_nested_cb, dy);
	dy->nested_rc = rc;
	if (rc == 0)
		atomic_fetch_add(&dy->nested_accepted, 1);
}

void test_trust_submit_during_free(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct dying dy;

	memset(&dy, 0, sizeof(dy));
	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	dy.qp = qp;
	dy.ns = d->ns[0];
	dy.buf = nvp_dma_alloc(nvp_ns_get_info(dy.ns)->block_size, 0, NVP_NUMA_ANY);
	CHECK(dy.buf);
	/* Posted but never rung: still outstanding when the qpair is freed. */
	for (int i = 0; i < 4; i++)
		CHECK_RC(nvp_read(qp, dy.ns, dy.buf, (uint64_t)i, 1, 0, dying_cb, &dy), 0);
	nvp_qpair_free(qp);
	qp = NULL;
	CHECKF(atomic_load(&dy.calls) == 4, "%d callbacks for 4 commands", atomic_load(&dy.calls));
	CHECKF(atomic_load(&dy.nested_accepted) == 0,
	       "%d commands submitted from callbacks during nvp_qpair_free() were accepted; "
	       "they could never complete", atomic_load(&dy.nested_accepted));
	CHECKF(dy.nested_rc == -ENXIO, "submission during free returned %d (%s), expected -ENXIO",
	       dy.nested_rc, itest_errname(dy.nested_rc));
	CHECK(atomic_load(&dy.nested_calls) == 0);
out:
	nvp_qpair_free(qp);
	nvp_dma_free(dy.buf);
}

/* ---- defect 7: NULL arguments ---- */

void test_trust_null_args(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_stats st;
	struct nvp_dsm_range range = { .slba = 0, .nlb = 1 };
	struct nvp_sqe cmd = { .opc = NVP_NVM_FLUSH };
	struct iovec iov;
	uint8_t *buf = NULL;
	struct nvp_ns *ns;
	uint32_t bs;

	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	buf = nvp_dma_alloc(bs, 0, NVP_NUMA_ANY);
	CHECK(buf);
	iov.iov_base = buf;
	iov.iov_len = bs;
	cmd.nsid = nvp_ns_get_info(ns)->nsid;
	/* A NULL callback would be called later, from poll: refuse it now. */
	CHECK_RC(nvp_read(qp, ns, buf, 0, 1, 0, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_write(qp, ns, buf, 0, 1, 0, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_readv(qp, ns, &iov, 1, 0, 1, 0, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_writev(qp, ns, &iov, 1, 0, 1, 0, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_flush(qp, ns, NULL, NULL), -EINVAL);
	if (nvp_ns_get_info(ns)->supports_write_zeroes)
		CHECK_RC(nvp_write_zeroes(qp, ns, 0, 1, 0, NULL, NULL), -EINVAL);
	if (nvp_ns_get_info(ns)->supports_dsm)
		CHECK_RC(nvp_deallocate(qp, ns, &range, 1, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_io_raw(qp, &cmd, NULL, 0, NULL, NULL), -EINVAL);
	CHECK_RC(nvp_admin_cmd(d->ctrl, &cmd, NULL, 0, NULL, NULL), -EINVAL);
	CHECKF(strstr(nvp_last_error(), "NULL"), "message: %s", nvp_last_error());
	CHECK(nvp_qpair_outstanding(qp) == 0);
	CHECK_RC(nvp_qpair_poll(qp, 0), 0);
	/* NULL handles: an error or a neutral value, never a crash. */
	CHECK_RC(nvp_qpair_poll(NULL, 0), -EINVAL);
	CHECK_RC(nvp_ctrl_process_admin(NULL), -EINVAL);
	CHECK_RC(nvp_read(NULL, ns, buf, 0, 1, 0, io_cpl_cb, NULL), -EINVAL);
	CHECK(nvp_qpair_outstanding(NULL) == 0);
	CHECK(nvp_qpair_id(NULL) == 0);
	nvp_qpair_flush(NULL);
	nvp_qpair_set_owner(NULL);
	memset(&st, 0xa5, sizeof(st));
	nvp_qpair_get_stats(NULL, &st, sizeof(st));
	CHECK(st.submitted == 0 && st.completed == 0 && st.polls == 0);
	nvp_qpair_get_stats(qp, NULL, sizeof(st));
	CHECK(nvp_ctrl_get_info(NULL) == NULL && nvp_ctrl_identify(NULL) == NULL);
	CHECK(nvp_ns_get_info(NULL) == NULL && nvp_ns_identify(NULL) == NULL);
	CHECK(nvp_ctrl_first_ns(NULL) == NULL && nvp_ctrl_next_ns(NULL, ns) == NULL);
	CHECK(nvp_ctrl_get_ns(NULL, 1) == NULL);
	CHECK(!nvp_ctrl_is_failed(NULL));
	CHECK(nvp_ctrl_numa_node(NULL) == NVP_NUMA_ANY);
	CHECK_RC(nvp_ctrl_detach(NULL), 0);
	nvp_qpair_free(NULL);
	nvp_dma_free(NULL);
	if (d->is_emu) {
		CHECK_RC(nvp_emu_get_stats(d->ctrl, NULL, sizeof(struct nvp_emu_stats)), -EINVAL);
		CHECK_RC(nvp_emu_inject(d->ctrl, NULL, sizeof(struct nvp_emu_fault)), -EINVAL);
	}
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
}

/*
 * Defect 8: a one-request qpair that is busy reported -EINVAL ("needs 2
 * request objects") for a one-part Write Zeroes; it is -EAGAIN. A split
 * that can never fit is -EINVAL.
 */
void test_trust_split_admission(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	uint8_t *buf = NULL;
	struct io_cpl busy, c;
	struct nvp_ns *ns;
	uint32_t step;

	io_cpl_init(&busy);
	CHECK(d);
	ns = d->ns[0];
	if (!nvp_ns_get_info(ns)->supports_write_zeroes) {
		itest_skipf("no Write Zeroes");
		goto out;
	}
	step = nvp_ns_get_info(ns)->max_io_blocks;
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	qo.queue_size = 4;
	qo.num_requests = 1;
	CHECK(nvp_qpair_alloc(d->ctrl, &qo, &qp) == 0);
	buf = nvp_dma_alloc((size_t)2 * step * nvp_ns_get_info(ns)->block_size, 0, NVP_NUMA_ANY);
	CHECK(buf);
	io_cpl_init(&c);
	/* Posted, not rung: the one request stays busy until the next poll. */
	CHECK_RC(nvp_read(qp, ns, buf, 0, 1, 0, io_cpl_cb, &busy), 0);
	CHECK_RC(nvp_write_zeroes(qp, ns, LBA_SCRATCH, 1, 0, io_cpl_cb, &c), -EAGAIN);
	CHECK_RC(nvp_write(qp, ns, buf, LBA_SCRATCH, 1, 0, io_cpl_cb, &c), -EAGAIN);
	/* Needs 3 requests (two parts and the whole), the qpair has 1 in all. */
	CHECK_RC(nvp_read(qp, ns, buf, 0, step + 1, 0, io_cpl_cb, &c), -EINVAL);
	CHECKF(strstr(nvp_last_error(), "request objects"), "message: %s", nvp_last_error());
	if (nvp_ns_get_info(ns)->num_blocks > 65536)
		CHECK_RC(nvp_write_zeroes(qp, ns, 0, 65537, 0, io_cpl_cb, &c), -EINVAL);
	CHECK_RC(poll_until(qp, &busy.calls, 1), 0);
	CHECK(atomic_load(&busy.calls) == 1 && atomic_load(&c.calls) == 0);
	CHECK(nvp_qpair_outstanding(qp) == 0);
	CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, LBA_SCRATCH, 1, 0, &c), 0);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
}

/* Defect 11: a NUMA node that does not exist is a bad argument, not -ENOMEM. */
void test_trust_numa_node(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	struct nvp_ctrl_opts co;
	struct nvp_ctrl *other = NULL;
	void *p;

	CHECK(d);
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	qo.numa_node = 4000;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), -EINVAL);
	CHECKF(strstr(nvp_last_error(), "4000") && strstr(nvp_last_error(), "node 0"),
	       "message should name node 4000 and the nodes that exist: %s", nvp_last_error());
	qo.numa_node = -7;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), -EINVAL);
	nvp_ctrl_opts_init(&co, sizeof(co));
	co.numa_node = 4000;
	CHECK_RC(nvp_ctrl_attach(d->addr, &co, &other), -EINVAL);
	CHECK(strstr(nvp_last_error(), "4000"));
	errno = 0;
	p = nvp_dma_alloc(4096, 0, 4000);
	CHECK(p == NULL && errno == EINVAL);
	/* The controller was not disturbed. */
	qo.numa_node = NVP_NUMA_ANY;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
out:
	nvp_qpair_free(qp);
	if (other)
		nvp_ctrl_detach(other);
}

/*
 * Defect 12: read-only or unmapped memory was accepted by
 * nvp_mem_register() and crashed the emulated device later. Every backend
 * refuses it up front with -EFAULT.
 */
void test_trust_register_rw(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint8_t *ro = MAP_FAILED, *holed = MAP_FAILED, *none = MAP_FAILED;

	ro = mmap(NULL, 2 * (size_t)ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	holed = mmap(NULL, 3 * (size_t)ps, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, (size_t)ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED && holed != MAP_FAILED && none != MAP_FAILED);
	CHECK(munmap(holed + ps, (size_t)ps) == 0);
	CHECK_RC(nvp_mem_register(ro, 2 * (size_t)ps), -EFAULT);
	CHECKF(strstr(nvp_last_error(), "read-write"), "message: %s", nvp_last_error());
	CHECK_RC(nvp_mem_register(holed, 3 * (size_t)ps), -EFAULT);
	CHECKF(strstr(nvp_last_error(), "nothing is mapped"), "message: %s", nvp_last_error());
	CHECK_RC(nvp_mem_register(none, (size_t)ps), -EFAULT);
	CHECK_RC(nvp_mem_register((void *)(uintptr_t)-(uintptr_t)ps, 2 * (size_t)ps), -EINVAL);
	/* Nothing was registered: unregistering finds nothing. */
	CHECK_RC(nvp_mem_unregister(ro), -ENOENT);
	CHECK_RC(nvp_mem_unregister(holed), -ENOENT);
	/* The writable first page alone is fine (or -ENOTSUP in physical mode). */
	{
		int rc = nvp_mem_register(holed, (size_t)ps);

		CHECKF(rc == 0 || rc == -ENOTSUP, "register a read-write page: %d (%s)", rc,
		       itest_errname(rc));
		if (rc == 0)
			CHECK_RC(nvp_mem_unregister(holed), 0);
	}
out:
	if (ro != MAP_FAILED)
		munmap(ro, 2 * (size_t)ps);
	if (holed != MAP_FAILED) {
		munmap(holed, (size_t)ps);
		munmap(holed + 2 * ps, (size_t)ps);
	}
	if (none != MAP_FAILED)
		munmap(none, (size_t)ps);
}

/*
 * Inputs the library used to accept and quietly reinterpret: I/O flag bits
 * it does not know (ignored, so a newer caller's flag would silently do
 * nothing), a raw command whose buffer and length disagree (a buffer of
 * length 0 sent the command's own data pointer, 0, to the device), and a
 * fused raw command (its partner can never be guaranteed the next SQ slot,
 * and a lone first half can stall the queue). Each is -EINVAL with a
 * message, nothing reaches the device, and the queue pair keeps working.
 */
void test_trust_flags_and_raw(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_dsm_range range = { .slba = LBA_SCRATCH, .nlb = 1 };
	struct nvp_sqe cmd;
	struct iovec iov;
	uint8_t *buf = NULL;
	struct io_cpl stray;	/* for commands wrongly accepted */
	struct nvp_ns *ns;
	uint32_t bs;

	io_cpl_init(&stray);
	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	buf = nvp_dma_alloc(bs, 0, NVP_NUMA_ANY);
	CHECK(buf);
	iov.iov_base = buf;
	iov.iov_len = bs;
	for (uint32_t bit = 2; bit < 32; bit++) {
		uint32_t flags = NVP_IO_FUA | (1u << bit);

		CHECK_RC(nvp_read(qp, ns, buf, LBA_SCRATCH, 1, flags, io_cpl_cb, &stray), -EINVAL);
		CHECKF(strstr(nvp_last_error(), "does not know"), "message: %s", nvp_last_error());
		CHECK_RC(nvp_write(qp, ns, buf, LBA_SCRATCH, 1, flags, io_cpl_cb, &stray), -EINVAL);
		CHECK_RC(nvp_readv(qp, ns, &iov, 1, LBA_SCRATCH, 1, flags, io_cpl_cb, &stray),
			 -EINVAL);
		CHECK_RC(nvp_writev(qp, ns, &iov, 1, LBA_SCRATCH, 1, flags, io_cpl_cb, &stray),
			 -EINVAL);
		if (nvp_ns_get_info(ns)->supports_write_zeroes)
			CHECK_RC(nvp_write_zeroes(qp, ns, LBA_SCRATCH, 1, flags, io_cpl_cb, &stray),
				 -EINVAL);
	}
	if (nvp_ns_get_info(ns)->supports_dsm) {
		CHECK_RC(nvp_deallocate(qp, ns, NULL, 1, io_cpl_cb, &stray), -EINVAL);
		CHECKF(strstr(nvp_last_error(), "ranges is NULL"), "message: %s", nvp_last_error());
		CHECK_RC(nvp_deallocate(qp, ns, &range, 0, io_cpl_cb, &stray), -EINVAL);
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_NVM_READ;
	cmd.nsid = nvp_ns_get_info(ns)->nsid;
	cmd.cdw10 = LBA_SCRATCH;
	CHECK_RC(nvp_io_raw(qp, &cmd, buf, 0, io_cpl_cb, &stray), -EINVAL);
	CHECKF(strstr(nvp_last_error(), "length 0"), "message: %s", nvp_last_error());
	CHECK_RC(nvp_io_raw(qp, &cmd, NULL, bs, io_cpl_cb, &stray), -EINVAL);
	for (uint8_t fuse = 1; fuse <= 3; fuse++) {
		cmd.flags = fuse;
		CHECK_RC(nvp_io_raw(qp, &cmd, buf, bs, io_cpl_cb, &stray), -EINVAL);
		CHECKF(strstr(nvp_last_error(), "fused"), "message: %s", nvp_last_error());
	}
	CHECKF(nvp_qpair_outstanding(qp) == 0, "%u commands were accepted",
	       nvp_qpair_outstanding(qp));
	/* The known flags still work, and so does a well-formed raw read. */
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
	CHECK_RC(io_sync(qp, ns, IO_READ, buf, LBA_SCRATCH, 1, NVP_IO_FUA | NVP_IO_LIMITED_RETRY,
			 NULL), 0);
	cmd.flags = 0;
	CHECK_RC(raw_sync(qp, &cmd, buf, bs, NULL), 0);
out:
	/* Anything wrongly accepted completes before the buffer goes. */
	while (qp && nvp_qpair_outstanding(qp) && nvp_qpair_poll(qp, 0) >= 0)
		;
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
}
