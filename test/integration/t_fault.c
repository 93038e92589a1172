// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_fault.c - the driver's behaviour under faults only the emulated
 * controller can produce (include/nvpoll/emu.h): injected error statuses,
 * lost and late completions, controller fatal status, surprise removal,
 * and completions with bogus command IDs.
 *
 * Every case counts callbacks per request: each must run exactly once,
 * whatever the device does. Each test attaches its own controller, since
 * several leave it failed on purpose.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvpoll/emu.h>

#include "itest.h"

struct fctx {
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	uint32_t bs;
	uint8_t *w, *r;		/* 64 blocks each */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * io_timeout_ms for the timing tests: small so they are quick, but above
 * what a loaded machine can delay the device thread; --fault-timeout-ms
 * raises it under valgrind.
 */
static uint32_t fault_timeout_ms(void)
{
	return itest_cfg.fault_timeout_ms ? itest_cfg.fault_timeout_ms : 400;
}

/* A fresh emulated controller (the shared one is let go first). */
static bool fault_attach(struct fctx *f, uint32_t io_timeout_ms)
{
	struct nvp_ctrl_opts opts;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = itest_dev_detach(0);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "detach shared controller: %d", rc);
		return false;
	}
	nvp_ctrl_opts_init(&opts, sizeof(opts));
	opts.io_timeout_ms = io_timeout_ms;
	rc = nvp_ctrl_attach(itest_cfg.addr[0], &opts, &f->ctrl);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "attach %s: %d (%s): %s", itest_cfg.addr[0], rc,
			    itest_errname(rc), nvp_last_error());
		f->ctrl = NULL;
		return false;
	}
	f->ns = nvp_ctrl_first_ns(f->ctrl);
	f->bs = nvp_ns_get_info(f->ns)->block_size;
	f->w = nvp_dma_alloc(64 * (size_t)f->bs, 0, NVP_NUMA_ANY);
	f->r = nvp_dma_alloc(64 * (size_t)f->bs, 0, NVP_NUMA_ANY);
	rc = nvp_qpair_alloc(f->ctrl, NULL, &f->qp);
	if (rc || !f->w || !f->r) {
		itest_failf(__FILE__, __LINE__, "qpair/buffers: %d (%s)", rc, itest_errname(rc));
		return false;
	}
	return true;
}

/* Free the qpair (aborting what is left) before the memory its commands use. */
static void fault_detach(struct fctx *f)
{
	int rc;

	nvp_qpair_free(f->qp);
	f->qp = NULL;
	if (f->ctrl) {
		rc = nvp_ctrl_detach(f->ctrl);
		if (rc)
			itest_failf(__FILE__, __LINE__, "detach: %d (%s)", rc, itest_errname(rc));
	}
	f->ctrl = NULL;
	nvp_dma_free(f->w);
	nvp_dma_free(f->r);
	f->w = f->r = NULL;
}

static int inject(struct fctx *f, enum nvp_emu_fault_type type, uint32_t match, uint8_t opc,
		  uint64_t slba, uint32_t count)
{
	struct nvp_emu_fault fault = {
		.type = type, .count = count, .match = match, .opcode = opc, .slba = slba,
	};

	return nvp_emu_inject(f->ctrl, &fault, sizeof(fault));
}

/* Poll @qp until @counter reaches @target or @ms pass; returns the last poll rc. */
static int poll_for(struct nvp_qpair *qp, atomic_int *counter, int target, uint64_t ms)
{
	uint64_t end = now_ms() + ms;
	int rc = 0;

	while (atomic_load(counter) < target && now_ms() < end)
		rc = nvp_qpair_poll(qp, 0);
	return rc;
}

/* The completion of a command the host gave up on (nvp_cmd_cb's contract). */
static bool host_gave_up(uint16_t status)
{
	return NVP_STATUS_SCT(status) == NVP_SCT_PATH &&
	       (NVP_STATUS_SC(status) == NVP_SC_HOST_ABORTED_CMD ||
		NVP_STATUS_SC(status) == NVP_SC_HOST_PATH_ERROR);
}

/* ------------------------------------------------------------------------ */

void test_fault_status(void)
{
	const uint16_t media = NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR) |
			       NVP_STATUS_DNR_BIT;
	struct nvp_emu_fault fault;
	struct nvp_emu_stats st;
	struct fctx f;
	struct io_cpl c;
	char why[160];
	uint32_t m, i;
	uint8_t *big = NULL;
	int rc;

	if (!fault_attach(&f, 0))
		goto out;
	CHECK_RC(nvp_emu_get_stats(f.ctrl, &st, sizeof(st)), 0);

	/* A read that fails with a media error, once. */
	pattern_fill(f.w, 10, 1, f.bs, itest_cfg.seed);
	CHECK_RC(io_sync(f.qp, f.ns, IO_WRITE, f.w, 10, 1, 0, NULL), 0);
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_STATUS;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_OPCODE;
	fault.opcode = NVP_NVM_READ;
	fault.status = media;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	rc = io_sync(f.qp, f.ns, IO_READ, f.r, 10, 1, 0, &c);
	CHECKF(atomic_load(&c.calls) == 1, "failed read: %d callbacks (rc %d)",
	       atomic_load(&c.calls), rc);
	CHECKF(c.status == media, "callback status %#x, injected %#x", c.status, media);
	CHECKF(strcasestr(nvp_status_str(c.status), "unrecovered read") != NULL,
	       "nvp_status_str(%#x) = '%s'", c.status, nvp_status_str(c.status));
	CHECKF(rc == -EIO, "errno of a media error: %d (%s)", rc, itest_errname(rc));
	/* Used up: the next read works and returns the data. */
	memset(f.r, 0, f.bs);
	CHECK_RC(io_sync(f.qp, f.ns, IO_READ, f.r, 10, 1, 0, NULL), 0);
	CHECKF(pattern_check(f.r, 10, 1, f.bs, itest_cfg.seed, why, sizeof(why)) < 0, "%s", why);

	/* Only the LBAs that match fail; the ones around them do not. */
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_STATUS;
	fault.count = NVP_EMU_FOREVER;
	fault.match = NVP_EMU_MATCH_LBA;
	fault.slba = 100;
	fault.nlb = 4;
	fault.status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL);
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	for (i = 96; i < 108; i++) {
		rc = io_sync(f.qp, f.ns, IO_READ, f.r, i, 1, 0, &c);
		if (i >= 100 && i < 104)
			CHECKF(NVP_STATUS_SC(c.status) == NVP_SC_INTERNAL && rc < 0,
			       "LBA %u: status %#x (%s)", i, c.status, nvp_status_str(c.status));
		else
			CHECKF(rc == 0, "LBA %u outside the fault: %d (%s)", i, rc,
			       nvp_status_str(c.status));
		CHECK(atomic_load(&c.calls) == 1);
	}

	CHECK_RC(nvp_emu_clear_faults(f.ctrl), 0);
	CHECK_RC(io_sync(f.qp, f.ns, IO_READ, f.r, 100, 4, 0, NULL), 0);

	/*
	 * A split I/O whose middle part fails completes once, with that part's
	 * error, after the parts around it are done.
	 */
	m = nvp_ns_get_info(f.ns)->max_io_blocks;
	big = nvp_dma_alloc((size_t)(3 * m) * f.bs, 0, NVP_NUMA_ANY);
	CHECK(big);
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_STATUS;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_LBA;
	fault.slba = 1000 + m + m / 2;
	fault.status = NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_WRITE_FAULTS);
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	pattern_fill(big, 1000, 3 * m, f.bs, itest_cfg.seed);
	rc = io_sync(f.qp, f.ns, IO_WRITE, big, 1000, 3 * m, 0, &c);
	CHECKF(atomic_load(&c.calls) == 1 && NVP_STATUS_SCT(c.status) == NVP_SCT_MEDIA &&
	       NVP_STATUS_SC(c.status) == NVP_SC_WRITE_FAULTS,
	       "split write with a failing middle part: %d callbacks, status %#x (%s), rc %d",
	       atomic_load(&c.calls), c.status, nvp_status_str(c.status), rc);
	CHECK(nvp_qpair_outstanding(f.qp) == 0);
	/* Parts that succeeded did write: the first part's data is there. */
	memset(f.r, 0, f.bs);
	CHECK_RC(io_sync(f.qp, f.ns, IO_READ, f.r, 1000, 1, 0, NULL), 0);
	CHECKF(pattern_check(f.r, 1000, 1, f.bs, itest_cfg.seed, why, sizeof(why)) < 0, "%s", why);

	/* Admin commands get injected errors too, with the errno of the status. */
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_STATUS;
	fault.match = NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	fault.qid = 0;
	fault.opcode = NVP_ADMIN_GET_LOG_PAGE;
	fault.status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_FIELD) | NVP_STATUS_DNR_BIT;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	CHECK_RC(nvp_get_log_page(f.ctrl, 0xffffffff, NVP_LOG_SMART, f.r, 512), -EINVAL);
	CHECK_RC(nvp_get_log_page(f.ctrl, 0xffffffff, NVP_LOG_SMART, f.r, 512), 0);
	CHECK(!nvp_ctrl_is_failed(f.ctrl));
	CHECK(qpair_still_works(f.qp, f.ns, 20));

	CHECK_RC(nvp_emu_get_stats(f.ctrl, &st, sizeof(st)), 0);
	CHECKF(st.faults_hit >= 1 + 4 + 1 + 1, "emu counted %llu fault hits",
	       (unsigned long long)st.faults_hit);
out:
	nvp_dma_free(big);
	fault_detach(&f);
}

void test_fault_drop_timeout(void)
{
	const uint32_t timeout_ms = fault_timeout_ms(), others = 8;
	struct io_cpl *c = NULL;
	struct nvp_emu_stats st;
	uint64_t t0, took = 0;
	bool needed_admin = false;
	struct fctx f;
	char why[160];
	uint32_t i;
	int rc;

	if (!fault_attach(&f, timeout_ms))
		goto out;
	c = calloc(others + 1, sizeof(*c));
	CHECK(c);
	CHECK_RC(inject(&f, NVP_EMU_FAULT_DROP, NVP_EMU_MATCH_IO | NVP_EMU_MATCH_LBA, 0, 50, 1),
		 0);
	/* The victim first, then others that must not wait for it. */
	pattern_fill(f.w, 50, others + 1, f.bs, itest_cfg.seed ^ 0xd0);
	t0 = now_ms();
	for (i = 0; i <= others; i++) {
		io_cpl_init(&c[i]);
		CHECK_RC(nvp_write(f.qp, f.ns, f.w + (size_t)i * f.bs, 50 + i, 1, 0, io_cpl_cb,
				   &c[i]), 0);
	}
	for (i = 1; i <= others; i++) {
		poll_for(f.qp, &c[i].calls, 1, 5000);
		CHECKF(atomic_load(&c[i].calls) == 1 && c[i].status == 0,
		       "write %u beside the dropped one: %d callbacks, status %#x", i,
		       atomic_load(&c[i].calls), c[i].status);
	}
	CHECKF(atomic_load(&c[0].calls) == 0, "the dropped write completed at once");

	/* Polling the I/O queue alone must be enough to time it out. */
	poll_for(f.qp, &c[0].calls, 1, 20 * timeout_ms);
	if (atomic_load(&c[0].calls) == 0) {
		needed_admin = true;
		for (uint64_t end = now_ms() + 20 * timeout_ms;
		     atomic_load(&c[0].calls) == 0 && now_ms() < end;) {
			nvp_ctrl_process_admin(f.ctrl);
			nvp_qpair_poll(f.qp, 0);
		}
	}
	took = now_ms() - t0;
	CHECKF(atomic_load(&c[0].calls) == 1, "dropped write: %d callbacks after %llu ms",
	       atomic_load(&c[0].calls), (unsigned long long)took);
	CHECKF(!needed_admin, "the timeout only fired once nvp_ctrl_process_admin() was called "
	       "(%llu ms)", (unsigned long long)took);
	CHECKF(took >= timeout_ms, "timed out after %llu ms, io_timeout_ms is %u",
	       (unsigned long long)took, timeout_ms);
	/*
	 * The device ran it but never said so; the Abort answered "not
	 * aborted". Only a reset can end it safely (the command could still
	 * be waiting to run): afterwards it is posted again and succeeds.
	 */
	CHECKF(c[0].status == 0, "timed-out write, posted again after the reset: status %#x "
	       "(%s)", c[0].status, nvp_status_str(c[0].status));
	CHECKF(took >= 2 * timeout_ms, "ended after %llu ms: before the Abort had its own "
	       "timeout (io_timeout_ms %u)", (unsigned long long)took, timeout_ms);
	CHECK(itest_log_contains("timed out"));
	CHECK(itest_log_contains("resetting"));
	CHECK(!nvp_ctrl_is_failed(f.ctrl));

	/* Nothing else was lost, and the qpair goes on (through every CID). */
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(f.qp, 0);
	for (i = 0; i <= others; i++)
		CHECKF(atomic_load(&c[i].calls) == 1, "write %u: %d callbacks", i,
		       atomic_load(&c[i].calls));
	for (i = 0; i < 300; i++) {
		rc = io_sync(f.qp, f.ns, IO_READ, f.r, 51 + i % others, 1, 0, NULL);
		CHECKF(rc == 0, "read %u after the timeout: %d (%s)", i, rc, itest_errname(rc));
	}
	CHECK_RC(io_sync(f.qp, f.ns, IO_READ, f.r, 51, others, 0, NULL), 0);
	CHECKF(pattern_check(f.r, 51, others, f.bs, itest_cfg.seed ^ 0xd0, why, sizeof(why)) < 0,
	       "%s", why);
	CHECK(qpair_still_works(f.qp, f.ns, 70));
	CHECK_RC(nvp_emu_get_stats(f.ctrl, &st, sizeof(st)), 0);
	CHECK(st.cqes_dropped == 1);
	itest_notef("dropped write: timeout, Abort, reset; done again after %llu ms "
		    "(io_timeout_ms %u)", (unsigned long long)took, timeout_ms);
out:
	fault_detach(&f);
	free(c);
}

void test_fault_delay(void)
{
	const uint32_t timeout_ms = fault_timeout_ms();
	struct io_cpl c[8], late;
	struct nvp_emu_fault fault;
	uint64_t t0, fast_done = 0, slow_done = 0;
	struct fctx f;
	char why[160];
	uint32_t i;

	if (!fault_attach(&f, timeout_ms))
		goto out;
	pattern_fill(f.w, 200, 8, f.bs, itest_cfg.seed ^ 0xde1);
	CHECK_RC(io_sync(f.qp, f.ns, IO_WRITE, f.w, 200, 8, 0, NULL), 0);

	/* Reads of LBAs 200..203 are held 50 ms, below the timeout. */
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_DELAY;
	fault.count = 4;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_LBA;
	fault.slba = 200;
	fault.nlb = 4;
	fault.delay_us = 50000;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	memset(f.r, 0, 8 * (size_t)f.bs);
	t0 = now_ms();
	for (i = 0; i < 8; i++) {
		io_cpl_init(&c[i]);
		CHECK_RC(nvp_read(f.qp, f.ns, f.r + (size_t)i * f.bs, 200 + i, 1, 0, io_cpl_cb,
				  &c[i]), 0);
	}
	while (now_ms() - t0 < 5000) {
		int fast = 0, slow = 0;

		nvp_qpair_poll(f.qp, 0);
		for (i = 0; i < 4; i++)
			slow += atomic_load(&c[i].calls);
		for (i = 4; i < 8; i++)
			fast += atomic_load(&c[i].calls);
		if (fast == 4 && !fast_done)
			fast_done = now_ms() - t0;
		if (slow == 4 && !slow_done)
			slow_done = now_ms() - t0;
		if (fast_done && slow_done)
			break;
	}
	CHECKF(fast_done && slow_done, "delayed reads did not all complete (fast %llu ms, "
	       "slow %llu ms)", (unsigned long long)fast_done, (unsigned long long)slow_done);
	CHECKF(slow_done >= 50, "delayed reads done after %llu ms, delay was 50 ms",
	       (unsigned long long)slow_done);
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(f.qp, 0);
	for (i = 0; i < 8; i++)
		CHECKF(atomic_load(&c[i].calls) == 1 && c[i].status == 0,
		       "read %u: %d callbacks, status %#x (%s)", i, atomic_load(&c[i].calls),
		       c[i].status, nvp_status_str(c[i].status));
	CHECKF(pattern_check(f.r, 200, 8, f.bs, itest_cfg.seed ^ 0xde1, why, sizeof(why)) < 0,
	       "%s", why);

	/*
	 * Held past the timeout: the host aborts it (the device can, while it
	 * holds it), and the late completion must not produce a second call.
	 */
	fault.count = 1;
	fault.nlb = 1;
	fault.delay_us = 6 * timeout_ms * 1000;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	io_cpl_init(&late);
	t0 = now_ms();
	CHECK_RC(nvp_read(f.qp, f.ns, f.r, 200, 1, 0, io_cpl_cb, &late), 0);
	for (uint64_t end = now_ms() + 20 * timeout_ms;
	     atomic_load(&late.calls) == 0 && now_ms() < end;) {
		nvp_qpair_poll(f.qp, 0);
		nvp_ctrl_process_admin(f.ctrl);
	}
	CHECKF(atomic_load(&late.calls) == 1, "read held past the timeout: %d callbacks",
	       atomic_load(&late.calls));
	CHECKF(late.status != 0, "read held past the timeout succeeded after %llu ms",
	       (unsigned long long)(now_ms() - t0));
	itest_notef("held past the timeout: %s after %llu ms", nvp_status_str(late.status),
		    (unsigned long long)(now_ms() - t0));
	/* Outlive the delay: nothing may complete it a second time. */
	for (uint64_t end = t0 + 8 * timeout_ms; now_ms() < end;) {
		nvp_qpair_poll(f.qp, 0);
		nvp_ctrl_process_admin(f.ctrl);
	}
	CHECKF(atomic_load(&late.calls) == 1, "aborted read: %d callbacks after the delay",
	       atomic_load(&late.calls));
	CHECK(!nvp_ctrl_is_failed(f.ctrl));
	CHECK(qpair_still_works(f.qp, f.ns, 210));
out:
	fault_detach(&f);
}

/*
 * The Abort itself is lost: what the driver cannot resolve with an Abort it
 * resolves with a reset (Linux's order), without any admin poller: the
 * write is posted again on the re-created queue and succeeds, once. The
 * qpair is freed and the controller detached cleanly although the lost
 * Abort's context pointed at the qpair's request.
 */
void test_fault_abort_lost(void)
{
	const uint32_t timeout_ms = fault_timeout_ms();
	struct nvp_emu_fault fault;
	struct nvp_qpair_stats qs;
	struct nvp_ctrl_stats cs;
	struct fctx f;
	struct io_cpl c;
	char why[160];
	uint64_t t0;

	if (!fault_attach(&f, timeout_ms))
		goto out;
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_DROP;
	fault.match = NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	fault.qid = 0;
	fault.opcode = NVP_ADMIN_ABORT;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	CHECK_RC(inject(&f, NVP_EMU_FAULT_DROP, NVP_EMU_MATCH_IO | NVP_EMU_MATCH_LBA, 0, 60, 1),
		 0);
	io_cpl_init(&c);
	pattern_fill(f.w, 60, 1, f.bs, itest_cfg.seed);
	CHECK_RC(nvp_write(f.qp, f.ns, f.w, 60, 1, 0, io_cpl_cb, &c), 0);
	t0 = now_ms();
	while (atomic_load(&c.calls) == 0 && now_ms() - t0 < 20 * timeout_ms)
		nvp_qpair_poll(f.qp, 0);
	for (int i = 0; i < 16; i++)
		nvp_qpair_poll(f.qp, 0);
	CHECKF(atomic_load(&c.calls) == 1, "write whose Abort was lost: %d callbacks after %llu ms",
	       atomic_load(&c.calls), (unsigned long long)(now_ms() - t0));
	CHECKF(c.status == 0, "the write, posted again after the reset: status %#x (%s)",
	       c.status, nvp_status_str(c.status));
	CHECK(!nvp_ctrl_is_failed(f.ctrl));
	CHECK(nvp_qpair_outstanding(f.qp) == 0);
	CHECK_RC(nvp_ctrl_get_stats(f.ctrl, &cs, sizeof(cs)), 0);
	nvp_qpair_get_stats(f.qp, &qs, sizeof(qs));
	CHECKF(cs.resets == 1 && qs.retried == 1 && qs.timeouts == 1 && qs.reconnects == 1,
	       "resets %llu, retried %llu, timeouts %llu, reconnects %llu: expected 1 each",
	       (unsigned long long)cs.resets, (unsigned long long)qs.retried,
	       (unsigned long long)qs.timeouts, (unsigned long long)qs.reconnects);
	memset(f.r, 0, f.bs);
	CHECK_RC(io_sync(f.qp, f.ns, IO_READ, f.r, 60, 1, 0, NULL), 0);
	CHECKF(pattern_check(f.r, 60, 1, f.bs, itest_cfg.seed, why, sizeof(why)) < 0, "%s", why);
	itest_notef("reset and re-posted after %llu ms, reset took %llu us",
		    (unsigned long long)(now_ms() - t0), (unsigned long long)cs.last_reset_us);
out:
	/* Free the qpair first, then detach. */
	fault_detach(&f);
}

/* Events, recorded in order, with the time they arrived. */
struct ev_log {
	atomic_int n;
	enum nvp_event_type type[16];
	int err[16];
	uint64_t at_ms[16];
};

static void ev_record(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct ev_log *log = arg;
	int i = atomic_fetch_add(&log->n, 1);

	(void)ctrl;
	if (i < 16) {
		log->type[i] = ev->type;
		log->err[i] = ev->err;
		log->at_ms[i] = now_ms();
	}
}

/* The first event of @type, or -1. */
static int ev_find(const struct ev_log *log, enum nvp_event_type type)
{
	for (int i = 0; i < atomic_load(&log->n) && i < 16; i++)
		if (log->type[i] == type)
			return i;
	return -1;
}

/*
 * CSTS.CFS or removal while commands are inside the device (held there by
 * a delay fault), with I/O timeouts off: the admin poller must notice
 * within a second (health_check_ms, default 100). After CFS the controller
 * is reset and the commands, lost in the device, are posted again and
 * succeed. After removal they end with an error, new work is refused, and
 * detach works.
 */
static void dead_controller(bool removal)
{
	const uint32_t n = 8;
	struct io_cpl c[8], after;
	struct nvp_emu_fault fault;
	struct ev_log log;
	uint64_t t0, took;
	struct fctx f;
	char why[160];
	uint32_t i;
	int rc, done, seen;

	memset(&log, 0, sizeof(log));
	if (!fault_attach(&f, 0))
		goto out;
	CHECK_RC(nvp_ctrl_set_event_cb(f.ctrl, ev_record, &log), 0);
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_DELAY;
	fault.count = NVP_EMU_FOREVER;
	fault.match = NVP_EMU_MATCH_IO;
	fault.delay_us = 60 * 1000 * 1000;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	pattern_fill(f.w, 300, n, f.bs, itest_cfg.seed);
	for (i = 0; i < n; i++) {
		io_cpl_init(&c[i]);
		CHECK_RC(nvp_write(f.qp, f.ns, f.w + (size_t)i * f.bs, 300 + i, 1, 0, io_cpl_cb,
				   &c[i]), 0);
	}
	/* Wait until the device holds all of them (slow under valgrind). */
	t0 = now_ms();
	do {
		struct nvp_emu_stats st;

		nvp_qpair_poll(f.qp, 0);
		CHECK_RC(nvp_emu_get_stats(f.ctrl, &st, sizeof(st)), 0);
		if (st.pending == n)
			break;
	} while (now_ms() - t0 < itest_cfg.wait_ms);
	CHECK(nvp_qpair_outstanding(f.qp) == n);
	/* After the reset the re-posted writes must not be held again. (The
	 * fault stays for removal: a write the device fetched only now would
	 * otherwise complete before the removal.) */
	if (!removal)
		CHECK_RC(nvp_emu_clear_faults(f.ctrl), 0);
	CHECK_RC(removal ? nvp_emu_remove(f.ctrl) : nvp_emu_fatal(f.ctrl), 0);

	t0 = now_ms();
	for (;;) {
		done = 0;
		for (i = 0; i < n; i++)
			done += atomic_load(&c[i].calls);
		if (done >= (int)n || now_ms() - t0 > 20000)
			break;
		rc = nvp_qpair_poll(f.qp, 0);
		if (rc < 0)
			CHECKF(removal && rc == -ENODEV, "poll: %d (%s)", rc, itest_errname(rc));
		rc = nvp_ctrl_process_admin(f.ctrl);
		if (rc < 0)
			CHECKF(removal && rc == -ENODEV, "process_admin: %d (%s)", rc,
			       itest_errname(rc));
	}
	took = now_ms() - t0;
	CHECKF(done == (int)n, "%d of %u outstanding commands completed after %llu ms", done, n,
	       (unsigned long long)took);
	seen = ev_find(&log, removal ? NVP_EVENT_REMOVED : NVP_EVENT_RESET_STARTED);
	CHECKF(seen >= 0, "no %s event", removal ? "REMOVED" : "RESET_STARTED");
	CHECKF(log.at_ms[seen] - t0 < 1000, "%s noticed after %llu ms, expected under 1 s "
	       "with I/O timeouts off", removal ? "removal" : "CSTS.CFS",
	       (unsigned long long)(log.at_ms[seen] - t0));
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(f.qp, 0);
	for (i = 0; i < n; i++)
		CHECKF(atomic_load(&c[i].calls) == 1, "write %u: %d callbacks", i,
		       atomic_load(&c[i].calls));
	CHECK(nvp_qpair_outstanding(f.qp) == 0);
	if (!removal) {
		seen = ev_find(&log, NVP_EVENT_RESET_DONE);
		CHECKF(seen >= 0 && log.err[seen] == 0, "no successful RESET_DONE event");
		for (i = 0; i < n; i++)
			CHECKF(c[i].status == 0, "write %u after the reset: %s", i,
			       nvp_status_str(c[i].status));
		CHECK(!nvp_ctrl_is_failed(f.ctrl));
		CHECK(nvp_qpair_conn_state(f.qp) == NVP_QPAIR_CONNECTED);
		memset(f.r, 0, (size_t)n * f.bs);
		CHECK_RC(io_sync(f.qp, f.ns, IO_READ, f.r, 300, n, 0, NULL), 0);
		CHECKF(pattern_check(f.r, 300, n, f.bs, itest_cfg.seed, why, sizeof(why)) < 0,
		       "writes lost in the device and posted again after the reset: %s", why);
		itest_notef("CSTS.CFS noticed in %llu ms, %u writes posted again and verified",
			    (unsigned long long)(log.at_ms[ev_find(&log, NVP_EVENT_RESET_STARTED)] -
						 t0), n);
		goto out;
	}
	for (i = 0; i < n; i++)
		CHECKF(NVP_CPL_IS_ERROR(&(struct nvp_cqe){ .status = c[i].status }),
		       "write %u on a removed controller succeeded", i);
	CHECK(nvp_ctrl_is_failed(f.ctrl));
	CHECK(nvp_qpair_conn_state(f.qp) == NVP_QPAIR_FAILED);
	/* New work is refused at once, without a callback. */
	io_cpl_init(&after);
	rc = nvp_read(f.qp, f.ns, f.r, 0, 1, 0, io_cpl_cb, &after);
	CHECKF(rc == -ENODEV, "read on a removed controller: %d (%s)", rc, itest_errname(rc));
	rc = nvp_qpair_poll(f.qp, 0);
	CHECKF(rc == -ENODEV, "poll: %d (%s)", rc, itest_errname(rc));
	CHECK(atomic_load(&after.calls) == 0);
	rc = nvp_get_log_page(f.ctrl, NVP_NSID_ALL, NVP_LOG_SMART, f.r, 512);
	CHECKF(rc == -ENODEV, "admin command on a removed controller: %d (%s)", rc,
	       itest_errname(rc));
	CHECK(nvp_ctrl_process_admin(f.ctrl) == -ENODEV);
	CHECK(nvp_ctrl_reset(f.ctrl) == -ENODEV);
	itest_notef("removal noticed in %llu ms; %u outstanding ended with %s",
		    (unsigned long long)(log.at_ms[ev_find(&log, NVP_EVENT_REMOVED)] - t0), n,
		    nvp_status_str(c[0].status));

	/* Detach works and does not hang (the watchdog would catch a hang). */
	t0 = now_ms();
	nvp_qpair_free(f.qp);
	f.qp = NULL;
	rc = nvp_ctrl_detach(f.ctrl);
	f.ctrl = NULL;
	CHECK_RC(rc, 0);
	CHECKF(now_ms() - t0 < 10000, "detach of a removed controller took %llu ms",
	       (unsigned long long)(now_ms() - t0));
out:
	fault_detach(&f);
}

void test_fault_cfs(void)
{
	dead_controller(false);
}

void test_fault_surprise_removal(void)
{
	dead_controller(true);
}

/*
 * Without the admin poller, the I/O timeout alone finds a removed device:
 * the timed-out command's health check reads all-ones.
 */
void test_fault_removal_by_timeout(void)
{
	const uint32_t timeout_ms = fault_timeout_ms();
	struct nvp_emu_fault fault;
	struct io_cpl c;
	struct fctx f;
	uint64_t t0;

	if (!fault_attach(&f, timeout_ms))
		goto out;
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_DELAY;
	fault.match = NVP_EMU_MATCH_IO;
	fault.delay_us = 60 * 1000 * 1000;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	io_cpl_init(&c);
	CHECK_RC(nvp_read(f.qp, f.ns, f.r, 5, 1, 0, io_cpl_cb, &c), 0);
	for (int i = 0; i < 100; i++)
		nvp_qpair_poll(f.qp, 0);
	CHECK_RC(nvp_emu_remove(f.ctrl), 0);
	t0 = now_ms();
	while (atomic_load(&c.calls) == 0 && now_ms() - t0 < 20 * timeout_ms)
		nvp_qpair_poll(f.qp, 0);
	CHECKF(atomic_load(&c.calls) == 1, "%d callbacks", atomic_load(&c.calls));
	CHECK(host_gave_up(c.status));
	CHECK(nvp_ctrl_is_failed(f.ctrl));
	CHECK(nvp_qpair_poll(f.qp, 0) == -ENODEV);
	itest_notef("noticed through the I/O timeout in %llu ms", (unsigned long long)(now_ms() - t0));
out:
	fault_detach(&f);
}

struct chain {
	struct fctx *f;
	struct io_cpl first;	/* the command whose completion is duplicated */
	struct io_cpl second;	/* submitted from the first one's callback */
	uint16_t first_cid;
	uint16_t second_cid;
	bool second_data_ok;	/* its buffer held the data when it completed */
	uint64_t seed;
	int submit_rc;
};

static void second_done(void *arg, const struct nvp_cqe *cpl)
{
	struct chain *ch = arg;
	char why[160];

	ch->second_cid = cpl->cid;
	ch->second_data_ok = pattern_check(ch->f->r, 400, 1, ch->f->bs, ch->seed, why,
					   sizeof(why)) < 0;
	io_cpl_cb(&ch->second, cpl);
}

/*
 * The driver logs a bad completion when a poll reaches it, which may be
 * after the good one was reaped (the device posts the two one after the
 * other, and under emulation a poll can fall in between): poll until the
 * message appears, for at most itest_cfg.wait_ms.
 */
static bool poll_until_logged(struct nvp_qpair *qp, unsigned int logs)
{
	struct timespec ts;
	uint64_t now, end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + itest_cfg.wait_ms;
	while (itest_log_count() <= logs) {
		if (nvp_qpair_poll(qp, 0) < 0)
			return false;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		if (now > end)
			return false;
	}
	return true;
}

/* Reuse is what makes a duplicate dangerous: submit again from the callback. */
static void first_done(void *arg, const struct nvp_cqe *cpl)
{
	struct chain *ch = arg;

	ch->first_cid = cpl->cid;
	io_cpl_cb(&ch->first, cpl);
	if (atomic_load(&ch->first.calls) == 1)
		ch->submit_rc = nvp_read(ch->f->qp, ch->f->ns, ch->f->r, 400, 1, 0, second_done, ch);
}

void test_fault_bogus_cid(void)
{
	struct nvp_emu_fault fault;
	struct chain ch;
	struct fctx f;
	struct io_cpl c;
	unsigned int logs;
	char why[160];
	int i, rc;

	if (!fault_attach(&f, 0))
		goto out;

	/* A CID the qpair never issued. */
	pattern_fill(f.w, 400, 1, f.bs, itest_cfg.seed ^ 0xc1d);
	CHECK_RC(io_sync(f.qp, f.ns, IO_WRITE, f.w, 400, 1, 0, &c), 0);
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_UNKNOWN_CID;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_OPCODE;
	fault.opcode = NVP_NVM_READ;
	fault.cid = 0xfffe;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	logs = itest_log_count();
	memset(f.r, 0, f.bs);
	rc = io_sync(f.qp, f.ns, IO_READ, f.r, 400, 1, 0, &c);
	CHECKF(rc == 0, "read with an extra unknown-CID completion: %d (%s)", rc,
	       itest_errname(rc));
	CHECKF(pattern_check(f.r, 400, 1, f.bs, itest_cfg.seed ^ 0xc1d, why, sizeof(why)) < 0,
	       "%s", why);
	CHECKF(poll_until_logged(f.qp, logs), "no log message for CID 0xfffe");
	CHECK(itest_log_contains("CID"));

	/*
	 * An in-range CID that is not outstanding: learn the CID a command
	 * gets (the completion carries it), then aim just past it.
	 */
	{
		struct chain probe = { .f = &f };

		io_cpl_init(&probe.second);
		CHECK_RC(nvp_read(f.qp, f.ns, f.r, 400, 1, 0, second_done, &probe), 0);
		CHECK(poll_until(f.qp, &probe.second.calls, 1) == 0);
		fault.cid = (uint16_t)(probe.second_cid + 1);
	}
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	logs = itest_log_count();
	memset(f.r, 0, f.bs);
	rc = io_sync(f.qp, f.ns, IO_READ, f.r, 400, 1, 0, &c);
	CHECKF(rc == 0, "read with an extra completion for free CID %u: %d (%s)", fault.cid, rc,
	       itest_errname(rc));
	CHECKF(pattern_check(f.r, 400, 1, f.bs, itest_cfg.seed ^ 0xc1d, why, sizeof(why)) < 0,
	       "%s", why);
	CHECKF(poll_until_logged(f.qp, logs), "no log message for free CID %u", fault.cid);

	/* The same completion twice. */
	memset(&fault, 0, sizeof(fault));
	fault.type = NVP_EMU_FAULT_DUP_CID;
	fault.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_OPCODE;
	fault.opcode = NVP_NVM_WRITE;
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	logs = itest_log_count();
	rc = io_sync(f.qp, f.ns, IO_WRITE, f.w, 400, 1, 0, &c);
	CHECKF(rc == 0 && atomic_load(&c.calls) == 1, "write with a duplicated completion: %d, "
	       "%d callbacks", rc, atomic_load(&c.calls));
	CHECKF(poll_until_logged(f.qp, logs), "no log message for the duplicate completion");
	CHECK(qpair_still_works(f.qp, f.ns, 410));

	/*
	 * The hard case: the callback submits the next command at once, which
	 * takes the CID just freed, and the duplicate is already in the CQ. The
	 * duplicate must not complete the new command.
	 */
	memset(&ch, 0, sizeof(ch));
	ch.f = &f;
	ch.seed = itest_cfg.seed ^ 0xd0b;
	io_cpl_init(&ch.first);
	io_cpl_init(&ch.second);
	pattern_fill(f.w, 400, 1, f.bs, ch.seed);
	memset(f.r, 0x5a, f.bs);
	CHECK_RC(nvp_emu_inject(f.ctrl, &fault, sizeof(fault)), 0);
	CHECK_RC(nvp_write(f.qp, f.ns, f.w, 400, 1, 0, first_done, &ch), 0);
	CHECK(poll_until(f.qp, &ch.first.calls, 1) == 0);
	CHECKF(ch.submit_rc == 0, "read from the callback: %d (%s)", ch.submit_rc,
	       itest_errname(ch.submit_rc));
	CHECK(poll_until(f.qp, &ch.second.calls, 1) == 0);
	for (i = 0; i < 200; i++)
		nvp_qpair_poll(f.qp, 0);
	CHECKF(atomic_load(&ch.first.calls) == 1, "duplicated write: %d callbacks",
	       atomic_load(&ch.first.calls));
	CHECKF(atomic_load(&ch.second.calls) == 1, "follow-up read: %d callbacks",
	       atomic_load(&ch.second.calls));
	CHECKF(ch.second_data_ok,
	       "the duplicate completion of CID %u completed the next command (CID %u) "
	       "before its data arrived", ch.first_cid, ch.second_cid);
	CHECK(ch.second.status == 0);
	itest_notef("CIDs: duplicated %u, reused by %u", ch.first_cid, ch.second_cid);
	CHECK(qpair_still_works(f.qp, f.ns, 410));
	CHECK(!nvp_ctrl_is_failed(f.ctrl));
out:
	fault_detach(&f);
}
