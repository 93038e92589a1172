/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * t_free_reset.c - nvp_qpair_free() while another thread resets the
 * controller.
 *
 * A reset marks the controller RESETTING at once, but the device keeps
 * running until the reset has deleted the I/O queues and disabled it. A
 * queue pair freed in that window must not hand its buffers back before
 * the device has stopped: found by nvpoll-torture as blocks that read back
 * as another command's data (a read still running after its buffer was
 * reused), or as garbage on the medium (a write still running after its
 * buffer was reused).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "itest.h"

#define FR_BLOCKS	16
#define FR_BS		4096
#define FR_LEN		(FR_BLOCKS * FR_BS)
#define FR_DELAY_MS	200	/* the device holds the read this long */
#define FR_HOLD_MS	1000	/* the reset waits this long after RESET_STARTED */

static uint64_t fr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Holds the resetting thread right after RESET_STARTED, as a slow reset
 * (or a descheduled thread) would: the device is still running. */
struct fr_hold {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	bool release;
	int reset_rc;
};

static void fr_event(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct fr_hold *h = arg;
	struct timespec until;

	(void)ctrl;
	if (ev->type != NVP_EVENT_RESET_STARTED)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FR_HOLD_MS / 1000;
	until.tv_nsec += (long)(FR_HOLD_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	h->started = true;
	pthread_cond_broadcast(&h->cond);
	while (!h->release)
		if (pthread_cond_timedwait(&h->cond, &h->lock, &until))
			break;
	pthread_mutex_unlock(&h->lock);
}

struct fr_reset {
	struct nvp_ctrl *ctrl;
	struct fr_hold *hold;
};

static void *fr_resetter(void *arg)
{
	struct fr_reset *r = arg;

	r->hold->reset_rc = nvp_ctrl_reset(r->ctrl);
	return NULL;
}

struct fr_read {
	atomic_int calls;
	uint16_t status;
	uint8_t *buf;
};

/* The application takes its buffer back: it writes its own data there. */
static void fr_read_done(void *arg, const struct nvp_cqe *cpl)
{
	struct fr_read *r = arg;

	r->status = cpl->status & 0xfffe;
	memset(r->buf, 0x77, FR_LEN);
	atomic_fetch_add(&r->calls, 1);
}

/*
 * A read held in the device by a delay fault; another thread starts a reset
 * and is kept between RESET_STARTED and the queue deletion; the owner frees
 * the queue pair. Once the read's callback ran, the device must never write
 * its buffer again.
 */
void test_recovery_free_during_reset(void)
{
	struct fr_hold hold = { .lock = PTHREAD_MUTEX_INITIALIZER,
				.cond = PTHREAD_COND_INITIALIZER };
	struct fr_reset rs;
	struct fr_read rd = { 0 };
	struct nvp_ctrl_opts o;
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_emu_fault f;
	uint8_t *buf = NULL, *wbuf = NULL;
	pthread_t th;
	bool thread_started = false;
	uint64_t t0, freed_ms;
	size_t bad = 0;

	nvp_ctrl_opts_init(&o, sizeof(o));
	o.io_timeout_ms = 0;	/* nothing here may end by timeout */
	CHECK_RC(nvp_ctrl_attach("emu:ns=16M:4096,dbbuf=0", &o, &ctrl), 0);
	CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(FR_LEN, 0, NVP_NUMA_ANY);
	wbuf = nvp_dma_alloc(FR_LEN, 0, NVP_NUMA_ANY);
	CHECK(buf && wbuf);
	/* Blocks that are not zero, so that a late read is easy to tell. */
	pattern_fill(wbuf, 0, FR_BLOCKS, FR_BS, 0x1234);
	CHECK_RC(io_sync(qp, nvp_ctrl_first_ns(ctrl), IO_WRITE, wbuf, 0, FR_BLOCKS, 0, NULL), 0);

	memset(&f, 0, sizeof(f));
	f.type = NVP_EMU_FAULT_DELAY;
	f.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_QID | NVP_EMU_MATCH_OPCODE;
	f.qid = nvp_qpair_id(qp);
	f.opcode = NVP_NVM_READ;
	f.delay_us = FR_DELAY_MS * 1000u;
	f.count = 1;
	CHECK_RC(nvp_emu_inject(ctrl, &f, sizeof(f)), 0);

	memset(buf, 0x5a, FR_LEN);
	rd.buf = buf;
	CHECK_RC(nvp_read(qp, nvp_ctrl_first_ns(ctrl), buf, 0, FR_BLOCKS, 0, fr_read_done, &rd),
		 0);
	nvp_qpair_flush(qp);	/* the device fetches it and holds it */
	itest_sleep_ms(20);
	CHECK(atomic_load(&rd.calls) == 0);

	CHECK_RC(nvp_ctrl_set_event_cb(ctrl, fr_event, &hold), 0);
	rs.ctrl = ctrl;
	rs.hold = &hold;
	CHECK(pthread_create(&th, NULL, fr_resetter, &rs) == 0);
	thread_started = true;
	pthread_mutex_lock(&hold.lock);
	while (!hold.started)
		pthread_cond_wait(&hold.cond, &hold.lock);
	pthread_mutex_unlock(&hold.lock);

	/* The reset has started; the device has not been stopped yet. */
	t0 = fr_now_ms();
	nvp_qpair_free(qp);
	qp = NULL;
	freed_ms = fr_now_ms() - t0;
	CHECKF(atomic_load(&rd.calls) == 1, "the read got %d callbacks from nvp_qpair_free()",
	       atomic_load(&rd.calls));

	/* Give the device the time to do whatever it still would, then let the
	 * reset go on (a queue pair that waited for it finds it done). */
	itest_sleep_ms(FR_DELAY_MS + 150);
	pthread_mutex_lock(&hold.lock);
	hold.release = true;
	pthread_cond_broadcast(&hold.cond);
	pthread_mutex_unlock(&hold.lock);
	pthread_join(th, NULL);
	thread_started = false;
	CHECKF(hold.reset_rc == 0, "nvp_ctrl_reset(): %d (%s)", hold.reset_rc,
	       itest_errname(hold.reset_rc));
	for (size_t i = 0; i < FR_LEN; i++)
		bad += buf[i] != 0x77;
	CHECKF(bad == 0, "%zu bytes of the read buffer were written by the device after "
	       "nvp_qpair_free() had completed the read (status 0x%04x) and returned in %llu ms: "
	       "the queue pair gave its buffers back while the device was still running",
	       bad, rd.status, (unsigned long long)freed_ms);
	itest_notef("nvp_qpair_free() during a reset took %llu ms; read ended with 0x%04x, its "
		    "buffer untouched afterwards", (unsigned long long)freed_ms, rd.status);
out:
	if (thread_started) {
		pthread_mutex_lock(&hold.lock);
		hold.release = true;
		pthread_cond_broadcast(&hold.cond);
		pthread_mutex_unlock(&hold.lock);
		pthread_join(th, NULL);
	}
	if (qp)
		nvp_qpair_free(qp);
	if (ctrl) {
		nvp_ctrl_set_event_cb(ctrl, NULL, NULL);
		CHECK_RC(nvp_ctrl_detach(ctrl), 0);
	}
	nvp_dma_free(buf);
	nvp_dma_free(wbuf);
}
