// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_recovery.c - controller reset and recovery: nvp_ctrl_reset() idle and
 * under verified load from other threads (these two run on QEMU's
 * controller too), and, on the emulated controller, every fault that only a
 * reset resolves: admin commands that time out (sync and async), queue
 * creation and deletion that fail or go unanswered, commands the device
 * loses, and asynchronous events. In every case each callback runs exactly
 * once, nvp_qpair_outstanding() returns to 0, and the queue pairs work
 * afterwards.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <nvpoll/emu.h>

#include "itest.h"

#define LBA_BASE 2000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct events {
	pthread_mutex_t lock;
	int count[16];
	int last_err;
	uint32_t last_nsid;
	uint8_t last_log_page;
	uint8_t last_aer_type;
};

static void on_event(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct events *e = arg;

	(void)ctrl;
	pthread_mutex_lock(&e->lock);
	if (ev->type < 16)
		e->count[ev->type]++;
	if (ev->type == NVP_EVENT_RESET_DONE)
		e->last_err = ev->err;
	e->last_nsid = ev->nsid;
	e->last_log_page = ev->log_page;
	e->last_aer_type = ev->aer_type;
	pthread_mutex_unlock(&e->lock);
}

static int ev_count(struct events *e, enum nvp_event_type t)
{
	int n;

	pthread_mutex_lock(&e->lock);
	n = e->count[t];
	pthread_mutex_unlock(&e->lock);
	return n;
}

static uint64_t ctrl_resets(struct nvp_ctrl *ctrl)
{
	struct nvp_ctrl_stats st;

	return nvp_ctrl_get_stats(ctrl, &st, sizeof(st)) ? UINT64_MAX : st.resets;
}

/* An emulated controller of its own, with short timeouts. */
static struct nvp_ctrl *own_emu(const char *addr, uint32_t io_timeout_ms, uint32_t admin_ms,
				uint32_t admin_queue_size)
{
	struct nvp_ctrl_opts o;
	struct nvp_ctrl *ctrl = NULL;
	int rc;

	nvp_ctrl_opts_init(&o, sizeof(o));
	o.io_timeout_ms = io_timeout_ms;
	o.admin_timeout_ms = admin_ms;
	if (admin_queue_size)
		o.admin_queue_size = admin_queue_size;
	rc = nvp_ctrl_attach(addr, &o, &ctrl);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "attach %s: %d (%s): %s", addr, rc,
			    itest_errname(rc), nvp_last_error());
		return NULL;
	}
	return ctrl;
}

static uint32_t admin_ms(void)
{
	return itest_cfg.fault_timeout_ms ? itest_cfg.fault_timeout_ms : 300;
}

/* ---- reset with nothing in flight (any controller) ----------------------- */

void test_recovery_reset_idle(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *before[ITEST_MAX_NS];
	struct nvp_qpair_stats qs;
	struct events ev;
	char serial[21];
	uint64_t r0;
	int rc;

	memset(&ev, 0, sizeof(ev));
	pthread_mutex_init(&ev.lock, NULL);
	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_BASE));
	for (int i = 0; i < d->num_ns; i++)
		before[i] = d->ns[i];
	snprintf(serial, sizeof(serial), "%s", d->info->serial);
	r0 = ctrl_resets(d->ctrl);
	CHECK_RC(nvp_ctrl_set_event_cb(d->ctrl, on_event, &ev), 0);
	rc = nvp_ctrl_reset(d->ctrl);
	CHECKF(rc == 0, "nvp_ctrl_reset: %d (%s): %s", rc, itest_errname(rc), nvp_last_error());
	CHECK(ev_count(&ev, NVP_EVENT_RESET_STARTED) == 1);
	CHECK(ev_count(&ev, NVP_EVENT_RESET_DONE) == 1 && ev.last_err == 0);
	CHECK(ctrl_resets(d->ctrl) == r0 + 1);
	CHECK(!nvp_ctrl_is_failed(d->ctrl));
	/* Handles are the same objects, the facts the same. */
	for (int i = 0; i < d->num_ns; i++) {
		CHECK(nvp_ctrl_get_ns(d->ctrl, nvp_ns_get_info(before[i])->nsid) == before[i]);
		CHECK(nvp_ns_get_info(before[i])->active);
	}
	CHECK(strcmp(serial, nvp_ctrl_get_info(d->ctrl)->serial) == 0);
	/* The qpair learns at its next poll and comes back by itself. */
	CHECK(nvp_qpair_poll(qp, 0) >= 0);
	CHECK(nvp_qpair_conn_state(qp) == NVP_QPAIR_CONNECTED);
	for (int i = 0; i < d->num_ns; i++)
		CHECK(qpair_still_works(qp, d->ns[i], LBA_BASE + 16));
	nvp_qpair_get_stats(qp, &qs, sizeof(qs));
	CHECK(qs.reconnects == 1 && qs.retried == 0 && qs.reset_aborted == 0);
	/* A qpair allocated after the reset works too. */
	nvp_qpair_free(qp);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_BASE + 32));
	CHECK_RC(nvp_ctrl_reset(NULL), -EINVAL);
	itest_notef("reset took %llu us", (unsigned long long)({
		struct nvp_ctrl_stats st;
		nvp_ctrl_get_stats(d->ctrl, &st, sizeof(st));
		st.last_reset_us; }));
out:
	if (d)
		nvp_ctrl_set_event_cb(d->ctrl, NULL, NULL);
	nvp_qpair_free(qp);
	pthread_mutex_destroy(&ev.lock);
}

/* ---- resets under verified load from several threads (any controller) --- */

#define LOAD_THREADS 2
#define LOAD_DEPTH 8
#define LOAD_BLOCKS 64		/* per thread, disjoint regions */

struct load;

struct slot {
	struct load *l;
	uint64_t lba;
	bool writing;
	uint32_t gen;		/* what was last written at lba (for reads) */
};

struct load {
	struct itest_dev *d;
	struct nvp_ns *ns;
	int id;
	uint32_t bs;
	uint64_t base;
	uint8_t *buf;		/* LOAD_DEPTH blocks */
	uint32_t written[LOAD_BLOCKS];	/* generation per block, 0 = never */
	atomic_bool stop;
	/* results */
	uint64_t ios, retried_by_app, mismatches, errors, extra_calls;
	uint64_t seed;
	char why[200];
	int setup_rc;
	struct nvp_qpair_stats qs;
	struct slot slots[LOAD_DEPTH];
	atomic_int calls[LOAD_DEPTH];
	atomic_int pending;
	struct nvp_qpair *qp;
};

static uint8_t *slot_buf(struct load *l, int i)
{
	return l->buf + (size_t)i * l->bs;
}

static int load_submit(struct load *l, int i);

static void load_done(void *arg, const struct nvp_cqe *cpl)
{
	struct slot *s = arg;
	struct load *l = s->l;
	int i = (int)(s - l->slots);
	uint16_t st = cpl->status & ~1u;

	if (atomic_fetch_add(&l->calls[i], 1) != 0)
		l->extra_calls++;
	atomic_fetch_sub(&l->pending, 1);
	if (st) {
		/* A reset may end a command with a retryable status: do it again. */
		if (NVP_STATUS_SCT(st) == NVP_SCT_PATH && !(st & NVP_STATUS_DNR_BIT)) {
			l->retried_by_app++;
		} else {
			l->errors++;
			snprintf(l->why, sizeof(l->why), "LBA %llu: %s",
				 (unsigned long long)s->lba, nvp_status_str(st));
			return;
		}
	} else {
		uint64_t off = s->lba - l->base;

		l->ios++;
		if (s->writing) {
			l->written[off] = s->gen;
		} else if (l->written[off]) {
			char why[160];

			if (pattern_check(slot_buf(l, i), s->lba, 1, l->bs,
					  l->seed + l->written[off], why, sizeof(why)) >= 0) {
				l->mismatches++;
				snprintf(l->why, sizeof(l->why), "LBA %llu gen %u: %s",
					 (unsigned long long)s->lba, l->written[off], why);
			}
		}
		/* Next: alternate writes and reads over the region. */
		s->writing = !s->writing || !l->written[off];
		if (s->writing) {
			s->lba = l->base + (s->lba - l->base + LOAD_DEPTH) % LOAD_BLOCKS;
			s->gen = l->written[s->lba - l->base] + 1;
		}
	}
	if (!atomic_load(&l->stop))
		load_submit(l, i);
}

static int load_submit(struct load *l, int i)
{
	struct slot *s = &l->slots[i];
	int rc;

	atomic_store(&l->calls[i], 0);
	if (s->writing) {
		pattern_fill(slot_buf(l, i), s->lba, 1, l->bs, l->seed + s->gen);
		rc = nvp_write(l->qp, l->ns, slot_buf(l, i), s->lba, 1, 0, load_done, s);
	} else {
		rc = nvp_read(l->qp, l->ns, slot_buf(l, i), s->lba, 1, 0, load_done, s);
	}
	if (rc == 0)
		atomic_fetch_add(&l->pending, 1);
	else if (!l->errors++)
		snprintf(l->why, sizeof(l->why), "submit LBA %llu: %s", (unsigned long long)s->lba,
			 nvp_last_error());
	return rc;
}

static void *load_thread(void *arg)
{
	struct load *l = arg;
	uint64_t end;

	l->setup_rc = nvp_qpair_alloc(l->d->ctrl, NULL, &l->qp);
	if (l->setup_rc)
		return NULL;
	for (int i = 0; i < LOAD_DEPTH; i++) {
		l->slots[i] = (struct slot){ .l = l, .lba = l->base + (uint64_t)i, .writing = true,
					     .gen = 1 };
		load_submit(l, i);
	}
	while (!atomic_load(&l->stop)) {
		int rc = nvp_qpair_poll(l->qp, 0);

		if (rc < 0 && !l->errors++)
			snprintf(l->why, sizeof(l->why), "poll: %s", nvp_last_error());
	}
	/* Drain: everything accepted completes, once. */
	end = now_ms() + itest_cfg.wait_ms;
	while (atomic_load(&l->pending) > 0 && now_ms() < end)
		nvp_qpair_poll(l->qp, 0);
	nvp_qpair_get_stats(l->qp, &l->qs, sizeof(l->qs));
	return NULL;
}

void test_recovery_reset_under_load(void)
{
	struct itest_dev *d = itest_dev(0);
	const int resets = itest_cfg.quick ? 3 : 6;
	struct load *l = calloc(LOAD_THREADS, sizeof(*l));
	pthread_t th[LOAD_THREADS];
	int started = 0, rc;
	uint64_t r0 = 0, t0 = 0;

	CHECK(d && l);
	r0 = ctrl_resets(d->ctrl);
	for (int t = 0; t < LOAD_THREADS; t++) {
		l[t].d = d;
		l[t].ns = d->ns[t % d->num_ns];
		l[t].id = t;
		l[t].bs = nvp_ns_get_info(l[t].ns)->block_size;
		l[t].base = LBA_BASE + 256 + (uint64_t)t * LOAD_BLOCKS;
		l[t].seed = itest_cfg.seed ^ (0x7e5e7ull << 8) ^ (uint64_t)t;
		l[t].buf = nvp_dma_alloc((size_t)LOAD_DEPTH * l[t].bs, 0, NVP_NUMA_ANY);
		CHECK(l[t].buf);
	}
	for (int t = 0; t < LOAD_THREADS; t++) {
		CHECK(pthread_create(&th[t], NULL, load_thread, &l[t]) == 0);
		started++;
	}
	t0 = now_ms();
	for (int r = 0; r < resets; r++) {
		itest_sleep_ms(d->is_emu ? 50 : 300);
		rc = nvp_ctrl_reset(d->ctrl);
		CHECKF(rc == 0, "reset %d: %s", r, nvp_last_error());
		/* The application's admin poller, as it would run anyway. */
		nvp_ctrl_process_admin(d->ctrl);
	}
	itest_sleep_ms(d->is_emu ? 50 : 300);
out:
	for (int t = 0; t < started; t++)
		atomic_store(&l[t].stop, true);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	if (l && started == LOAD_THREADS && !itest_failed()) {
		uint64_t ios = 0, retried = 0, app = 0;

		for (int t = 0; t < LOAD_THREADS; t++) {
			struct load *x = &l[t];

			CHECKF(x->setup_rc == 0, "thread %d: qpair: %d", t, x->setup_rc);
			CHECKF(x->errors == 0, "thread %d: %llu errors, last: %s", t,
			       (unsigned long long)x->errors, x->why);
			CHECKF(x->mismatches == 0, "thread %d: %llu mismatches: %s", t,
			       (unsigned long long)x->mismatches, x->why);
			CHECKF(x->extra_calls == 0, "thread %d: %llu callbacks ran twice", t,
			       (unsigned long long)x->extra_calls);
			CHECKF(atomic_load(&x->pending) == 0, "thread %d: %d commands never completed",
			       t, atomic_load(&x->pending));
			CHECK(nvp_qpair_outstanding(x->qp) == 0);
			/* Two resets between two polls make one reconnect. */
			CHECKF(x->qs.reconnects >= 1 && x->qs.reconnects <= (uint64_t)resets,
			       "thread %d: %llu reconnects for %d resets", t,
			       (unsigned long long)x->qs.reconnects, resets);
			ios += x->ios;
			retried += x->qs.retried;
			app += x->retried_by_app;
		}
		CHECK(ctrl_resets(d->ctrl) == r0 + (uint64_t)resets);
		CHECK(ios > 0);
		/* Every block written can be read back as last acknowledged. */
		for (int t = 0; t < LOAD_THREADS; t++) {
			struct nvp_qpair *qp = NULL;

			nvp_qpair_set_owner(l[t].qp);
			qp = l[t].qp;
			for (uint32_t b = 0; b < LOAD_BLOCKS; b++) {
				char why[160];

				if (!l[t].written[b])
					continue;
				CHECK_RC(io_sync(qp, l[t].ns, IO_READ, l[t].buf, l[t].base + b, 1, 0,
						 NULL), 0);
				CHECKF(pattern_check(l[t].buf, l[t].base + b, 1, l[t].bs,
						     l[t].seed + l[t].written[b], why,
						     sizeof(why)) < 0,
				       "after the resets, LBA %llu: %s",
				       (unsigned long long)(l[t].base + b), why);
			}
		}
		itest_notef("%d resets in %llu ms under load: %llu verified I/Os, %llu posted "
			    "again by the driver, %llu retried by the app", resets,
			    (unsigned long long)(now_ms() - t0), (unsigned long long)ios,
			    (unsigned long long)retried, (unsigned long long)app);
	}
	if (l) {
		for (int t = 0; t < LOAD_THREADS; t++) {
			if (l[t].qp)
				nvp_qpair_set_owner(l[t].qp);
			nvp_qpair_free(l[t].qp);
			nvp_dma_free(l[t].buf);
		}
		free(l);
	}
}

/* ---- admin commands that time out (emu) -------------------------------- */

/*
 * A sync admin command that times out gives its slot back through a reset:
 * more timeouts than the admin queue has slots, and it still works.
 */
void test_recovery_admin_timeout(void)
{
	const uint32_t ms = admin_ms();
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096", 0, ms, 4);
	struct nvp_emu_fault f;
	struct nvp_qpair *qp = NULL;
	uint8_t *page = NULL;
	int rc;

	CHECK(ctrl);
	page = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(page);
	memset(&f, 0, sizeof(f));
	f.type = NVP_EMU_FAULT_DROP;
	f.count = 6;	/* the admin queue has 4 entries: 3 slots */
	f.match = NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	f.qid = 0;
	f.opcode = NVP_ADMIN_GET_LOG_PAGE;
	CHECK_RC(nvp_emu_inject(ctrl, &f, sizeof(f)), 0);
	for (int i = 0; i < 6; i++) {
		rc = nvp_get_log_page(ctrl, NVP_NSID_ALL, NVP_LOG_SMART, page, 512);
		CHECKF(rc == -ETIMEDOUT, "log page %d with its answer dropped: %d (%s): %s", i, rc,
		       itest_errname(rc), nvp_last_error());
		CHECKF(strstr(nvp_last_error(), "has been reset"), "message: %s",
		       nvp_last_error());
	}
	CHECK(ctrl_resets(ctrl) == 6);
	CHECK_RC(nvp_get_log_page(ctrl, NVP_NSID_ALL, NVP_LOG_SMART, page, 512), 0);
	CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	CHECK(qpair_still_works(qp, nvp_ctrl_first_ns(ctrl), 10));
	CHECK(!nvp_ctrl_is_failed(ctrl));
out:
	nvp_qpair_free(qp);
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	nvp_dma_free(page);
}

/* An async admin command that times out: the admin poller resets, the
 * callback runs once with a retryable status. */
void test_recovery_async_admin_timeout(void)
{
	const uint32_t ms = admin_ms();
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096", 0, ms, 0);
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_GET_LOG_PAGE, .nsid = NVP_NSID_ALL };
	struct nvp_emu_fault f;
	uint8_t *page = NULL;
	struct io_cpl c;
	uint64_t t0;

	CHECK(ctrl);
	page = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(page);
	memset(&f, 0, sizeof(f));
	f.type = NVP_EMU_FAULT_DROP;
	f.match = NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	f.opcode = NVP_ADMIN_GET_LOG_PAGE;
	CHECK_RC(nvp_emu_inject(ctrl, &f, sizeof(f)), 0);
	cmd.cdw10 = NVP_LOG_SMART | ((512 / 4 - 1) << 16);
	io_cpl_init(&c);
	CHECK_RC(nvp_admin_cmd(ctrl, &cmd, page, 512, io_cpl_cb, &c), 0);
	t0 = now_ms();
	while (atomic_load(&c.calls) == 0 && now_ms() - t0 < 20 * ms)
		CHECK(nvp_ctrl_process_admin(ctrl) >= 0);
	CHECKF(atomic_load(&c.calls) == 1, "%d callbacks after %llu ms", atomic_load(&c.calls),
	       (unsigned long long)(now_ms() - t0));
	CHECKF(NVP_STATUS_SCT(c.status) == NVP_SCT_PATH && !(c.status & NVP_STATUS_DNR_BIT),
	       "status %#x (%s), expected a retryable host status", c.status,
	       nvp_status_str(c.status));
	CHECKF(now_ms() - t0 >= ms, "ended after %llu ms, before the %u ms admin timeout",
	       (unsigned long long)(now_ms() - t0), ms);
	CHECK(ctrl_resets(ctrl) == 1);
	for (int i = 0; i < 50; i++)
		CHECK(nvp_ctrl_process_admin(ctrl) >= 0);
	CHECK(atomic_load(&c.calls) == 1);
	/* Retried, it works. */
	io_cpl_init(&c);
	CHECK_RC(nvp_admin_cmd(ctrl, &cmd, page, 512, io_cpl_cb, &c), 0);
	CHECK_RC(admin_poll_until(ctrl, &c.calls, 1), 0);
	CHECK(c.status == 0);
out:
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	nvp_dma_free(page);
}

/* ---- queue creation and deletion failures (emu) ------------------------ */

static int inject_admin(struct nvp_ctrl *ctrl, enum nvp_emu_fault_type type, uint8_t opc,
			uint16_t status)
{
	struct nvp_emu_fault f;

	memset(&f, 0, sizeof(f));
	f.type = type;
	f.match = NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	f.opcode = opc;
	f.status = status;
	return nvp_emu_inject(ctrl, &f, sizeof(f));
}

void test_recovery_queue_create_fail(void)
{
	const uint32_t ms = admin_ms();
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096,qpairs=2", 0, ms, 0);
	const uint16_t invalid = NVP_STATUS(NVP_SCT_CMD_SPECIFIC, 0x01) | NVP_STATUS_DNR_BIT;
	struct nvp_qpair *qp = NULL, *qp2 = NULL;
	int rc;

	CHECK(ctrl);
	/* Create CQ refused: nothing exists, the ID is free again. */
	CHECK_RC(inject_admin(ctrl, NVP_EMU_FAULT_STATUS, NVP_ADMIN_CREATE_CQ, invalid), 0);
	rc = nvp_qpair_alloc(ctrl, NULL, &qp);
	CHECKF(rc < 0 && strstr(nvp_last_error(), "completion queue"), "alloc: %d: %s", rc,
	       nvp_last_error());
	/* Create SQ refused: the CQ is deleted again. */
	CHECK_RC(inject_admin(ctrl, NVP_EMU_FAULT_STATUS, NVP_ADMIN_CREATE_SQ, invalid), 0);
	rc = nvp_qpair_alloc(ctrl, NULL, &qp);
	CHECKF(rc < 0 && strstr(nvp_last_error(), "submission queue"), "alloc: %d: %s", rc,
	       nvp_last_error());
	/*
	 * Create CQ never answered: the timeout resets the controller, which
	 * clears whatever half-exists, and the new qpair comes back like any
	 * other after a reset: it connects at its first poll.
	 */
	CHECK_RC(inject_admin(ctrl, NVP_EMU_FAULT_DROP, NVP_ADMIN_CREATE_CQ, 0), 0);
	rc = nvp_qpair_alloc(ctrl, NULL, &qp);
	CHECKF(rc == 0, "alloc with Create CQ dropped: %d (%s): %s", rc, itest_errname(rc),
	       nvp_last_error());
	CHECK(ctrl_resets(ctrl) == 1);
	CHECK(nvp_qpair_conn_state(qp) == NVP_QPAIR_RECONNECTING);
	CHECK(nvp_qpair_poll(qp, 0) == 0);
	CHECK(nvp_qpair_conn_state(qp) == NVP_QPAIR_CONNECTED);
	/* Both queue IDs are usable: no "Invalid Queue Identifier". */
	CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp2), 0);
	CHECK(qpair_still_works(qp, nvp_ctrl_first_ns(ctrl), 10));
	CHECK(qpair_still_works(qp2, nvp_ctrl_first_ns(ctrl), 20));
out:
	nvp_qpair_free(qp);
	nvp_qpair_free(qp2);
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
}

void test_recovery_queue_delete_fail(void)
{
	const uint32_t ms = admin_ms();
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096,qpairs=1", 0, ms, 0);
	const uint16_t internal = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL) | NVP_STATUS_DNR_BIT;
	struct nvp_qpair *qp = NULL;
	uint8_t *buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	struct io_cpl c;

	CHECK(ctrl && buf);
	for (int round = 0; round < 2; round++) {
		/* Round 0: Delete SQ fails. Round 1: it is never answered. */
		CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
		io_cpl_init(&c);
		/* Posted, not rung: outstanding when the qpair is freed. */
		CHECK_RC(nvp_read(qp, nvp_ctrl_first_ns(ctrl), buf, 0, 1, 0, io_cpl_cb, &c), 0);
		CHECK_RC(inject_admin(ctrl, round ? NVP_EMU_FAULT_DROP : NVP_EMU_FAULT_STATUS,
				      NVP_ADMIN_DELETE_SQ, internal), 0);
		nvp_qpair_free(qp);
		qp = NULL;
		CHECK(atomic_load(&c.calls) == 1);
		CHECKF(ctrl_resets(ctrl) == (uint64_t)round + 1, "round %d: %llu resets", round,
		       (unsigned long long)ctrl_resets(ctrl));
		/* The only queue ID is usable again. */
		CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
		CHECK(qpair_still_works(qp, nvp_ctrl_first_ns(ctrl), 10));
		nvp_qpair_free(qp);
		qp = NULL;
	}
out:
	nvp_qpair_free(qp);
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	nvp_dma_free(buf);
}

/* ---- commands the device loses (emu) ----------------------------------- */

/*
 * Commands the device runs but never completes: each times out, its Abort
 * answers "not aborted", and since that does not prove the device will not
 * still run it (a command waiting in the SQ runs later), only a reset ends
 * them. They are posted again and succeed; no CID is lost to the pool and
 * nvp_qpair_outstanding() returns to 0.
 */
void test_recovery_lost_commands(void)
{
	const uint32_t timeout = itest_cfg.fault_timeout_ms ? itest_cfg.fault_timeout_ms : 400;
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096", timeout, 0, 0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	struct nvp_qpair_stats qs;
	struct nvp_emu_fault f;
	struct io_cpl c[8];
	uint8_t *buf = NULL;
	uint64_t t0;
	char why[160];
	int done;

	CHECK(ctrl);
	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	qo.queue_size = 64;
	qo.num_requests = 32;
	CHECK_RC(nvp_qpair_alloc(ctrl, &qo, &qp), 0);
	buf = nvp_dma_alloc(32 * 4096, 0, NVP_NUMA_ANY);
	CHECK(buf);
	memset(&f, 0, sizeof(f));
	f.type = NVP_EMU_FAULT_DROP;
	f.count = 8;
	f.match = NVP_EMU_MATCH_IO;
	CHECK_RC(nvp_emu_inject(ctrl, &f, sizeof(f)), 0);
	pattern_fill(buf, 0, 8, 4096, itest_cfg.seed ^ 0x1057);
	for (int i = 0; i < 8; i++) {
		io_cpl_init(&c[i]);
		CHECK_RC(nvp_write(qp, nvp_ctrl_first_ns(ctrl), buf + (size_t)i * 4096, (uint64_t)i,
				   1, 0, io_cpl_cb, &c[i]), 0);
	}
	t0 = now_ms();
	do {
		nvp_qpair_poll(qp, 0);
		done = 0;
		for (int i = 0; i < 8; i++)
			done += atomic_load(&c[i].calls);
	} while (done < 8 && now_ms() - t0 < 20 * timeout);
	CHECKF(done == 8, "%d of 8 lost writes completed", done);
	for (int i = 0; i < 8; i++) {
		CHECK(atomic_load(&c[i].calls) == 1);
		CHECKF(c[i].status == 0, "write %d: %s", i, nvp_status_str(c[i].status));
	}
	CHECKF(now_ms() - t0 >= 2 * timeout, "done after %llu ms, before the Abort's own timeout",
	       (unsigned long long)(now_ms() - t0));
	for (int i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	CHECKF(nvp_qpair_outstanding(qp) == 0, "outstanding %u after every callback ran",
	       nvp_qpair_outstanding(qp));
	CHECKF(ctrl_resets(ctrl) >= 1, "no reset");
	nvp_qpair_get_stats(qp, &qs, sizeof(qs));
	CHECK(qs.retried == 8 && qs.timeouts == 8);
	memset(buf, 0, 8 * 4096);
	CHECK_RC(io_sync(qp, nvp_ctrl_first_ns(ctrl), IO_READ, buf, 0, 8, 0, NULL), 0);
	CHECKF(pattern_check(buf, 0, 8, 4096, itest_cfg.seed ^ 0x1057, why, sizeof(why)) < 0,
	       "%s", why);
	/* All 32 requests are usable: 32 at once, none refused. */
	{
		struct io_cpl many[32];

		for (int i = 0; i < 32; i++) {
			io_cpl_init(&many[i]);
			CHECK_RC(nvp_read(qp, nvp_ctrl_first_ns(ctrl), buf + (size_t)i * 4096,
					  (uint64_t)i, 1, 0, io_cpl_cb, &many[i]), 0);
		}
		for (int i = 0; i < 32; i++)
			CHECK_RC(poll_until(qp, &many[i].calls, 1), 0);
	}
	CHECK(nvp_qpair_outstanding(qp) == 0);
out:
	nvp_qpair_free(qp);
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	nvp_dma_free(buf);
}

/* ---- asynchronous events (emu) ----------------------------------------- */

void test_recovery_async_events(void)
{
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096", 0, 0, 0);
	struct nvp_ctrl_stats st;
	struct events ev;
	uint64_t t0;

	memset(&ev, 0, sizeof(ev));
	pthread_mutex_init(&ev.lock, NULL);
	CHECK(ctrl);
	CHECK_RC(nvp_ctrl_set_event_cb(ctrl, on_event, &ev), 0);
	/* Two SMART critical warnings: the AER is posted again after each. */
	for (int i = 1; i <= 2; i++) {
		CHECK_RC(nvp_emu_async_event(ctrl, NVP_AER_TYPE_SMART, 0x01, NVP_LOG_SMART), 0);
		t0 = now_ms();
		while (ev_count(&ev, NVP_EVENT_ASYNC) < i && now_ms() - t0 < itest_cfg.wait_ms)
			CHECK(nvp_ctrl_process_admin(ctrl) >= 0);
		CHECKF(ev_count(&ev, NVP_EVENT_ASYNC) == i, "event %d not reported", i);
		CHECK(ev.last_aer_type == NVP_AER_TYPE_SMART && ev.last_log_page == NVP_LOG_SMART);
	}
	CHECK_RC(nvp_ctrl_get_stats(ctrl, &st, sizeof(st)), 0);
	CHECK(st.async_events == 2);
	/* A reset keeps events coming (the AER is posted again). */
	CHECK_RC(nvp_ctrl_reset(ctrl), 0);
	CHECK_RC(nvp_emu_async_event(ctrl, NVP_AER_TYPE_ERROR, 0x00, NVP_LOG_ERROR), 0);
	t0 = now_ms();
	while (ev_count(&ev, NVP_EVENT_ASYNC) < 3 && now_ms() - t0 < itest_cfg.wait_ms)
		CHECK(nvp_ctrl_process_admin(ctrl) >= 0);
	CHECK(ev_count(&ev, NVP_EVENT_ASYNC) == 3 && ev.last_aer_type == NVP_AER_TYPE_ERROR);
out:
	if (ctrl) {
		nvp_ctrl_set_event_cb(ctrl, NULL, NULL);
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	}
	pthread_mutex_destroy(&ev.lock);
}

/* ---- found by the torture test (emu) ------------------------------------ */

#define LATE_N 160
#define LATE_SZ (1u << 20)

struct late {
	uint8_t *buf[LATE_N];
	atomic_int calls[LATE_N];
	uint16_t status[LATE_N];
};

struct late_slot {
	struct late *l;
	int i;
};

/* The buffer is the application's again: it reuses it at once. */
static void late_slot_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct late_slot *s = arg;

	s->l->status[s->i] = cpl->status & ~1u;
	memset(s->l->buf[s->i], 0xee, LATE_SZ);
	atomic_fetch_add(&s->l->calls[s->i], 1);
}

/*
 * Slow 1 MiB reads queued beyond what the device does within a short
 * io_timeout_ms: some time out while still in the SQ. Whatever happens
 * (Abort, reset, posting again), once a command's callback ran the device
 * never writes its buffer again.
 */
void test_recovery_no_late_dma(void)
{
	const uint32_t tmo[] = { 20, 10, 5 };
	struct late *l = calloc(1, sizeof(*l));
	struct late_slot slot[LATE_N];
	uint8_t *big = NULL;

	CHECK(l);
	big = nvp_dma_alloc((size_t)LATE_N * LATE_SZ, 0, NVP_NUMA_ANY);
	CHECK(big);
	for (int i = 0; i < LATE_N; i++) {
		l->buf[i] = big + (size_t)i * LATE_SZ;
		slot[i] = (struct late_slot){ .l = l, .i = i };
	}
	for (size_t t = 0; t < sizeof(tmo) / sizeof(tmo[0]); t++) {
		struct nvp_ctrl *ctrl;
		struct nvp_qpair *qp = NULL;
		struct nvp_ctrl_opts o;
		uint64_t t0;
		int done, late = 0, errors = 0;

		nvp_ctrl_opts_init(&o, sizeof(o));
		o.io_timeout_ms = tmo[t];
		o.max_xfer_bytes = LATE_SZ;
		CHECK_RC(nvp_ctrl_attach("emu:ns=64M:4096,mdts=8,dbbuf=0", &o, &ctrl), 0);
		CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
		for (int i = 0; i < LATE_N; i++)
			atomic_store(&l->calls[i], 0);
		memset(big, 0x22, (size_t)LATE_N * LATE_SZ);
		t0 = now_ms();
		for (int i = 0; i < LATE_N; i++)
			CHECK_RC(nvp_read(qp, nvp_ctrl_first_ns(ctrl), l->buf[i], (uint64_t)(i % 64) * 256,
					  256, 0, late_slot_cb, &slot[i]), 0);
		do {
			nvp_qpair_poll(qp, 0);
			done = 0;
			for (int i = 0; i < LATE_N; i++)
				done += atomic_load(&l->calls[i]);
		} while (done < LATE_N && now_ms() - t0 < itest_cfg.wait_ms);
		/* Let the device finish whatever it might still do. */
		for (uint64_t end = now_ms() + 300; now_ms() < end;)
			nvp_qpair_poll(qp, 0);
		for (int i = 0; i < LATE_N; i++) {
			CHECKF(atomic_load(&l->calls[i]) == 1, "read %d: %d callbacks", i,
			       atomic_load(&l->calls[i]));
			errors += l->status[i] != 0;
			for (size_t k = 0; k < LATE_SZ; k += 512)
				if (l->buf[i][k] != 0xee) {
					late++;
					break;
				}
		}
		CHECKF(late == 0, "io_timeout_ms %u: %d buffers written by the device after their "
		       "callback ran", tmo[t], late);
		itest_notef("io_timeout_ms %u: %d reads, %d ended with an error, %llu resets; no "
			    "late DMA", tmo[t], LATE_N, errors,
			    (unsigned long long)ctrl_resets(ctrl));
		nvp_qpair_free(qp);
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	}
out:
	nvp_dma_free(big);
	free(l);
}

struct poller {
	struct nvp_ctrl *ctrl;
	atomic_bool stop;
	atomic_int resets;
};

static void count_resets(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct poller *p = arg;

	(void)ctrl;
	if (ev->type == NVP_EVENT_RESET_STARTED)
		atomic_fetch_add(&p->resets, 1);
}

static void *admin_poller(void *arg)
{
	struct poller *p = arg;

	while (!atomic_load(&p->stop))
		nvp_ctrl_process_admin(p->ctrl);
	return NULL;
}

/* One thread polls admin, another runs synchronous admin commands: a
 * command posted while the poller checks timeouts must not look late. */
void test_recovery_admin_poller_race(void)
{
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096", 0, 10000, 0);
	struct poller p = { .ctrl = ctrl };
	uint8_t *page = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	bool started = false;
	uint64_t t0;
	int n = 0;

	CHECK(ctrl && page);
	CHECK_RC(nvp_ctrl_set_event_cb(ctrl, count_resets, &p), 0);
	{
		pthread_t th;

		CHECK(pthread_create(&th, NULL, admin_poller, &p) == 0);
		started = true;
		t0 = now_ms();
		while (now_ms() - t0 < (itest_cfg.quick ? 1000u : 3000u)) {
			int rc = nvp_get_log_page(ctrl, NVP_NSID_ALL, NVP_LOG_SMART, page, 512);

			CHECKF(rc == 0, "log page %d: %s", n, nvp_last_error());
			n++;
		}
		atomic_store(&p.stop, true);
		pthread_join(th, NULL);
		started = false;
	}
	CHECKF(atomic_load(&p.resets) == 0, "%d resets during %d log page reads with an admin "
	       "poller beside them", atomic_load(&p.resets), n);
	itest_notef("%d log page reads beside the admin poller, no reset", n);
out:
	(void)started;
	if (ctrl) {
		nvp_ctrl_set_event_cb(ctrl, NULL, NULL);
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	}
	nvp_dma_free(page);
}

struct resetter {
	struct nvp_ctrl *ctrl;
	atomic_bool stop;
	atomic_int resets;
};

static void *reset_loop(void *arg)
{
	struct resetter *r = arg;

	while (!atomic_load(&r->stop)) {
		if (nvp_ctrl_reset(r->ctrl) == 0)
			atomic_fetch_add(&r->resets, 1);
		itest_sleep_ms(2);
	}
	return NULL;
}

/* Queue pairs allocated while another thread resets over and over get the
 * controller's real transfer limit, connect, and complete what they take. */
void test_recovery_alloc_during_resets(void)
{
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:512", 0, 0, 0);
	struct resetter r = { .ctrl = ctrl };
	uint8_t *buf = nvp_dma_alloc(8192, 0, NVP_NUMA_ANY);
	struct nvp_sqe cmd = { .opc = NVP_NVM_READ, .nsid = 1, .cdw12 = 15 };
	pthread_t th;
	bool started = false;
	int allocs = 0, ok = 0;
	uint64_t t0;

	CHECK(ctrl && buf);
	CHECK(pthread_create(&th, NULL, reset_loop, &r) == 0);
	started = true;
	t0 = now_ms();
	while (now_ms() - t0 < (itest_cfg.quick ? 1000u : 3000u)) {
		struct nvp_qpair *qp = NULL;
		struct io_cpl c;
		int rc;

		if (nvp_qpair_alloc(ctrl, NULL, &qp))
			continue;	/* refused mid-reset: fine, try again */
		allocs++;
		io_cpl_init(&c);
		rc = nvp_io_raw(qp, &cmd, buf, 8192, io_cpl_cb, &c);
		if (rc) {
			nvp_qpair_free(qp);
			CHECKF(0, "8 KiB raw read on a qpair allocated during resets: %d (%s): %s",
			       rc, itest_errname(rc), nvp_last_error());
		}
		for (uint64_t end = now_ms() + itest_cfg.wait_ms;
		     !atomic_load(&c.calls) && now_ms() < end;)
			nvp_qpair_poll(qp, 0);
		nvp_qpair_free(qp);
		CHECKF(atomic_load(&c.calls) == 1, "raw read: %d callbacks", atomic_load(&c.calls));
		ok += c.status == 0;
	}
out:
	if (started) {
		atomic_store(&r.stop, true);
		pthread_join(th, NULL);
	}
	if (!itest_failed())
		itest_notef("%d qpairs allocated during %d resets, %d raw reads succeeded "
			    "(the rest ended retryably by a reset)", allocs,
			    atomic_load(&r.resets), ok);
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	nvp_dma_free(buf);
}

/*
 * A namespace rescan is no reset: when one of its Identify commands times
 * out, the controller stays enabled and may still answer. The page it was
 * given must not go back to the allocator, or the late answer lands in
 * the next buffer the application gets. A Namespace Attribute Changed
 * event makes the admin poller rescan; the device holds the rescan's
 * first Identify for three admin timeouts. Buffers allocated right after
 * the failed rescan (the allocator's first candidates for a freed page)
 * must keep their pattern through the late answer. No admin polling
 * meanwhile: the poller would abort the held command and hide a late DMA.
 */
#define LATE_ID_BUFS 16

void test_recovery_rescan_late_identify(void)
{
	const uint32_t ms = admin_ms();
	struct nvp_ctrl *ctrl = own_emu("emu:ns=16M:4096", 0, ms, 0);
	struct nvp_emu_stats st;
	struct nvp_emu_fault f;
	uint8_t *buf[LATE_ID_BUFS] = { 0 };
	uint64_t ids, end;
	int hit = 0;

	CHECK(ctrl);
	CHECK_RC(nvp_emu_get_stats(ctrl, &st, sizeof(st)), 0);
	ids = st.admin_cmds[NVP_ADMIN_IDENTIFY];
	memset(&f, 0, sizeof(f));
	f.type = NVP_EMU_FAULT_DELAY;
	f.count = 1;
	f.match = NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	f.qid = 0;
	f.opcode = NVP_ADMIN_IDENTIFY;
	f.delay_us = 3 * ms * 1000;
	CHECK_RC(nvp_emu_inject(ctrl, &f, sizeof(f)), 0);
	CHECK_RC(nvp_emu_async_event(ctrl, NVP_AER_TYPE_NOTICE, 0x00, NVP_LOG_CHANGED_NS), 0);
	/* Poll until the rescan has run (it returns after its Identify timed out). */
	end = now_ms() + itest_cfg.wait_ms;
	do {
		CHECK(nvp_ctrl_process_admin(ctrl) >= 0);
		CHECK_RC(nvp_emu_get_stats(ctrl, &st, sizeof(st)), 0);
	} while (st.admin_cmds[NVP_ADMIN_IDENTIFY] == ids && now_ms() < end);
	CHECKF(st.admin_cmds[NVP_ADMIN_IDENTIFY] > ids, "no rescan within %u ms of the event",
	       itest_cfg.wait_ms);
	for (int i = 0; i < LATE_ID_BUFS; i++) {
		buf[i] = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
		CHECK(buf[i]);
		memset(buf[i], 0x5a, 4096);
	}
	/* The held Identify runs at three admin timeouts. */
	for (end = now_ms() + 4 * ms; now_ms() < end;)
		usleep(1000);
	for (int i = 0; i < LATE_ID_BUFS; i++)
		for (int k = 0; k < 4096; k++)
			if (buf[i][k] != 0x5a) {
				hit++;
				break;
			}
	CHECKF(hit == 0, "%d buffers allocated after the failed rescan were written by its "
	       "late Identify", hit);
	/* The controller is still usable. */
	for (end = now_ms() + 2 * ms; now_ms() < end;)
		nvp_ctrl_process_admin(ctrl);
	CHECK(!nvp_ctrl_is_failed(ctrl));
	CHECK(nvp_ctrl_first_ns(ctrl) != NULL);
out:
	for (int i = 0; i < LATE_ID_BUFS; i++)
		nvp_dma_free(buf[i]);
	if (ctrl)
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
}
