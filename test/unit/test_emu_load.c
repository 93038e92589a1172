/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_load.c - the driver against the emulated controller
 * under multi-threaded load, counting: every command the threads submit
 * must be executed by the device exactly once, called back exactly once,
 * and leave the data it wrote. This is the check that catches a device
 * that re-executes stale submission queue entries (or loses some), which
 * a test looking only at callbacks and statuses cannot see.
 *
 * Runs NVP_TEST_LOAD_SECS seconds (default 3) with shadow doorbells on,
 * then once more with them off.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#define THREADS		4
#define SLOTS		24	/* commands a thread keeps in flight, at most */
#define QUEUE_SIZE	16	/* small rings: many laps, many doorbell writes */
#define BLOCK		512

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *s = getenv(name);
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? (unsigned int)v : dflt;
}

enum slot_state { IDLE, WRITING, WRITTEN, READING, READ_DONE };

struct worker;

struct slot {
	struct worker *w;
	enum slot_state state;
	uint32_t gen;
	uint64_t lba;
	uint8_t *buf;
};

struct worker {
	pthread_t thread;
	struct nvp_ctrl *ctrl;
	struct nvp_ns *ns;
	unsigned int id;
	uint64_t deadline_ms;
	uint64_t drain_ms;
	struct slot slots[SLOTS];
	uint8_t *bufs;
	/* What this thread did, compared with the device's counters at the end. */
	uint64_t writes, reads;
	uint64_t write_cbs, read_cbs;
	uint64_t bad_status, stray_cbs, mismatches, submit_errors;
	uint64_t left_outstanding;
	int setup_rc;
	char why[256];
};

/* The block's content names its thread, slot, LBA and generation. */
static void pattern(uint8_t *buf, const struct worker *w, unsigned int s, uint64_t lba,
		    uint32_t gen)
{
	uint32_t *p = (uint32_t *)buf;

	for (size_t i = 0; i < BLOCK / 4; i++)
		p[i] = (w->id << 24) ^ (s << 16) ^ (uint32_t)lba ^ (gen * 2654435761u) ^
		       (uint32_t)(i * 40503u);
}

static void on_done(void *arg, const struct nvp_cqe *cpl)
{
	struct slot *sl = arg;
	struct worker *w = sl->w;

	if (NVP_CPL_IS_ERROR(cpl))
		w->bad_status++;
	switch (sl->state) {
	case WRITING:
		w->write_cbs++;
		sl->state = WRITTEN;
		break;
	case READING:
		w->read_cbs++;
		sl->state = READ_DONE;
		break;
	default:
		w->stray_cbs++;	/* a second callback for one command */
		break;
	}
}

/* Move one slot along: write a new generation, then read it back and check. */
static void step(struct worker *w, struct nvp_qpair *qp, unsigned int s)
{
	struct slot *sl = &w->slots[s];
	uint8_t expect[BLOCK];
	int rc;

	switch (sl->state) {
	case READ_DONE:
		pattern(expect, w, s, sl->lba, sl->gen);
		if (memcmp(expect, sl->buf, BLOCK))
			w->mismatches++;
		sl->gen++;
		sl->state = IDLE;
		/* fall through */
	case IDLE:
		pattern(sl->buf, w, s, sl->lba, sl->gen);
		sl->state = WRITING;
		rc = nvp_write(qp, w->ns, sl->buf, sl->lba, 1, 0, on_done, sl);
		if (rc) {
			sl->state = IDLE;
			if (rc != -EAGAIN)
				w->submit_errors++;
			return;
		}
		w->writes++;
		break;
	case WRITTEN:
		memset(sl->buf, 0, BLOCK);
		sl->state = READING;
		rc = nvp_read(qp, w->ns, sl->buf, sl->lba, 1, 0, on_done, sl);
		if (rc) {
			sl->state = WRITTEN;
			if (rc != -EAGAIN)
				w->submit_errors++;
			return;
		}
		w->reads++;
		break;
	default:
		break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct nvp_qpair_opts qo;
	struct nvp_qpair *qp;
	unsigned int seed = w->id * 7919u + 1, round = 0;
	uint64_t end;

	nvp_qpair_opts_init(w->ctrl, &qo, sizeof(qo));
	qo.queue_size = QUEUE_SIZE;
	qo.num_requests = QUEUE_SIZE - 1;
	qo.max_completions = QUEUE_SIZE / 2;
	w->setup_rc = nvp_qpair_alloc(w->ctrl, &qo, &qp);
	if (w->setup_rc) {
		snprintf(w->why, sizeof(w->why), "%s", nvp_last_error());
		return NULL;
	}
	while (now_ms() < w->deadline_ms) {
		/* Vary how many commands go out per poll, so doorbell writes
		 * come in bursts of every size and the ring wraps often. */
		unsigned int burst = 1 + rand_r(&seed) % SLOTS;

		for (unsigned int i = 0; i < burst; i++)
			step(w, qp, (round * 5 + i) % SLOTS);
		round++;
		if (nvp_qpair_poll(qp, 0) < 0)
			break;
	}
	/* Stop submitting; reap everything still in flight. */
	end = now_ms() + w->drain_ms;
	while (nvp_qpair_outstanding(qp) && now_ms() < end)
		if (nvp_qpair_poll(qp, 0) < 0)
			break;
	/* A stray completion for a command already reaped would arrive now. */
	for (int i = 0; i < 1000; i++)
		nvp_qpair_poll(qp, 0);
	w->left_outstanding = nvp_qpair_outstanding(qp);
	for (unsigned int s = 0; s < SLOTS; s++) {
		struct slot *sl = &w->slots[s];
		uint8_t expect[BLOCK];

		if (sl->state != READ_DONE)
			continue;
		pattern(expect, w, s, sl->lba, sl->gen);
		if (memcmp(expect, sl->buf, BLOCK))
			w->mismatches++;
	}
	nvp_qpair_free(qp);
	return NULL;
}

static void run_load(const char *addr, bool expect_shadow)
{
	unsigned int secs = env_uint("NVP_TEST_LOAD_SECS", 3);
	unsigned int scale = env_uint("NVP_TEST_TIME_SCALE", 1);
	struct nvp_ctrl_opts o;
	struct nvp_ctrl *ctrl;
	struct nvp_emu_stats before, after;
	struct worker *ws;
	uint64_t writes = 0, reads = 0, admin_before = 0, admin_after = 0;
	uint64_t start;

	nvp_ctrl_opts_init(&o, sizeof(o));
	o.io_timeout_ms = 0;	/* a lost command shows up as outstanding */
	assert_int_equal(nvp_ctrl_attach(addr, &o, &ctrl), 0);
	assert_int_equal(nvp_ctrl_get_info(ctrl)->shadow_doorbells, expect_shadow);
	ws = calloc(THREADS, sizeof(*ws));
	assert_non_null(ws);
	assert_int_equal(nvp_emu_get_stats(ctrl, &before, sizeof(before)), 0);
	start = now_ms();
	for (unsigned int t = 0; t < THREADS; t++) {
		struct worker *w = &ws[t];

		w->ctrl = ctrl;
		w->ns = nvp_ctrl_first_ns(ctrl);
		w->id = t;
		w->deadline_ms = start + secs * 1000ull;
		w->drain_ms = 10000ull * scale;
		w->bufs = nvp_dma_alloc(SLOTS * BLOCK, 4096, NVP_NUMA_ANY);
		assert_non_null(w->bufs);
		for (unsigned int s = 0; s < SLOTS; s++) {
			w->slots[s].w = w;
			w->slots[s].lba = (uint64_t)t * SLOTS + s;
			w->slots[s].buf = w->bufs + (size_t)s * BLOCK;
		}
		assert_int_equal(pthread_create(&w->thread, NULL, worker_main, w), 0);
	}
	for (unsigned int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(ws[t].thread, NULL), 0);
	assert_int_equal(nvp_emu_get_stats(ctrl, &after, sizeof(after)), 0);

	for (unsigned int t = 0; t < THREADS; t++) {
		struct worker *w = &ws[t];

		print_message("%s thread %u: %llu writes, %llu reads, %llu/%llu callbacks, %llu stray, %llu bad status, %llu mismatches, %llu outstanding\n",
			      addr, t, (unsigned long long)w->writes, (unsigned long long)w->reads,
			      (unsigned long long)w->write_cbs, (unsigned long long)w->read_cbs,
			      (unsigned long long)w->stray_cbs, (unsigned long long)w->bad_status,
			      (unsigned long long)w->mismatches,
			      (unsigned long long)w->left_outstanding);
		if (w->setup_rc)
			print_error("thread %u: qpair: %s\n", t, w->why);
		assert_int_equal(w->setup_rc, 0);
		assert_true(w->writes > 0 && w->reads > 0);
		assert_int_equal(w->write_cbs, w->writes);
		assert_int_equal(w->read_cbs, w->reads);
		assert_int_equal(w->stray_cbs, 0);
		assert_int_equal(w->bad_status, 0);
		assert_int_equal(w->mismatches, 0);
		assert_int_equal(w->submit_errors, 0);
		assert_int_equal(w->left_outstanding, 0);
		writes += w->writes;
		reads += w->reads;
		nvp_dma_free(w->bufs);
	}
	print_message("%s device: %llu writes, %llu reads executed; %llu CQEs; %llu invalid doorbells\n",
		      addr,
		      (unsigned long long)(after.io_cmds[NVP_NVM_WRITE] - before.io_cmds[NVP_NVM_WRITE]),
		      (unsigned long long)(after.io_cmds[NVP_NVM_READ] - before.io_cmds[NVP_NVM_READ]),
		      (unsigned long long)(after.cqes_posted - before.cqes_posted),
		      (unsigned long long)(after.invalid_doorbells - before.invalid_doorbells));
	/* The device executed exactly what was submitted: no replays, no losses. */
	assert_int_equal(after.io_cmds[NVP_NVM_WRITE] - before.io_cmds[NVP_NVM_WRITE], writes);
	assert_int_equal(after.io_cmds[NVP_NVM_READ] - before.io_cmds[NVP_NVM_READ], reads);
	for (int opc = 0; opc < 256; opc++)
		if (opc != NVP_NVM_WRITE && opc != NVP_NVM_READ)
			assert_int_equal(after.io_cmds[opc], before.io_cmds[opc]);
	/* One CQE per command: the I/O, plus the admin commands (queue
	 * create/delete) the threads issued meanwhile. */
	for (int opc = 0; opc < 256; opc++) {
		admin_before += before.admin_cmds[opc];
		admin_after += after.admin_cmds[opc];
	}
	assert_int_equal(after.cqes_posted - before.cqes_posted,
			 writes + reads + (admin_after - admin_before) -
				 (after.aers_outstanding - before.aers_outstanding));
	assert_int_equal(after.invalid_doorbells, before.invalid_doorbells);
	assert_int_equal(after.dma_faults, before.dma_faults);
	free(ws);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

static void test_load_shadow_doorbells(void **state)
{
	(void)state;
	run_load("emu:ns=16M:512,qpairs=8,mqes=64", true);
}

static void test_load_mmio_doorbells(void **state)
{
	(void)state;
	run_load("emu:ns=16M:512,qpairs=8,mqes=64,dbbuf=0", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_shadow_doorbells),
		cmocka_unit_test(test_load_mmio_doorbells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
