// SPDX-License-Identifier: BSD-3-Clause
/*
 * nvpoll-perf: IOPS, bandwidth and latency through the nvpoll driver.
 *
 * One thread per CPU, pinned; each owns a queue pair on every namespace and
 * keeps -q commands in flight on it. Completion callbacks resubmit at once,
 * so new commands are posted while nvp_qpair_poll() runs and their doorbell
 * is rung once per poll. Time comes from the TSC only.
 *
 * The main thread is the admin poller: while the workers run it calls
 * nvp_ctrl_process_admin() for every controller every few milliseconds (so
 * a failed or removed controller is noticed, and events are delivered),
 * and with --reset-every it resets the controllers under the running I/O.
 * A command that ends with a retryable status (SCT Path, DNR clear: a
 * reset ended it) is submitted again by perf and counted. A controller
 * that is removed or fails for good stops the whole run.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "addr.h"
#include "opts.h"
#include "pattern.h"
#include "report.h"
#include "rng.h"
#include "tsc.h"
#include "zipf.h"

/* Verify state of a unit (one I/O-sized, I/O-aligned range): */
#define VS_INFLIGHT	0x80	/* a command of this thread is using it */
#define VS_LISTED	0x40	/* in the worker's list of written units */
#define VS_GEN_MASK	0x3f	/* generation last written; 0: contents unknown */

/* Units one thread tracks for --verify: bounds its memory (5 bytes a unit). */
#define VERIFY_MAX_UNITS (4u << 20)
/*
 * Read-only workloads under --verify first write this many units (or the
 * whole region, if smaller) so reads spread over a real working set rather
 * than the few units written so far.
 */
#define VERIFY_READ_SEED_UNITS 16384u

/*
 * Times perf submits one command again after retryable completions: the
 * driver already re-posts up to io_retries times per reset, so more than
 * this means resets come faster than the command can complete.
 */
#define PERF_MAX_RETRIES 8

/* How often the main thread runs the admin poller (health_check_ms is 100). */
#define ADMIN_POLL_MS 10

enum ctrl_state {
	CTRL_LIVE = 0,
	CTRL_REMOVED,
	CTRL_FAILED,
};

struct ctrl_ctx {
	const char *addr;
	struct nvp_ctrl *ctrl;
	const struct nvp_ctrl_info *info;
	uint32_t queue_size;
	uint32_t max_completions;	/* per poll, for every qpair */
	uint32_t nns;
	struct perf_ctrl_desc desc;
	char model[41];		/* copies: the report outlives the attach */
	char serial[21];
	/* Events; the callback may run on a worker that escalated a reset. */
	pthread_mutex_t lock;
	uint64_t resets, reset_failures, reset_us_min, reset_us_max, reset_us_sum;
	uint64_t resets_requested;
	int state;		/* enum ctrl_state, atomic */
	uint64_t gone_tsc;	/* when the removal or failure was noticed */
	double gone_mono;	/* the same, CLOCK_MONOTONIC seconds (as dmesg) */
	uint64_t detached_tsc;	/* when it was detached after that */
	char gone_reason[256];
	bool polling;		/* the admin poller still calls it */
};

struct ns_target {
	struct ctrl_ctx *cc;
	struct nvp_ns *ns;
	const struct nvp_ns_info *info;
	uint32_t nlb;		/* blocks per I/O */
	uint64_t units;		/* I/O-sized units in the namespace */
	uint32_t pi;		/* NVP_PI_* for a PI namespace (PRACT), else 0 */
};

/* The application tag perf's PRACT writes carry and --verify reads check. */
#define PERF_PI_APPTAG 0x4e56u

struct ns_worker;

struct io_slot {
	struct ns_worker *w;
	void *buf;
	uint64_t submit_tsc;
	uint64_t unit;
	uint8_t gen;		/* --verify: generation written or expected */
	bool is_read;
	bool readback;		/* --verify: the read that checks our own write */
	bool final;		/* --verify-final: a read of the final sweep */
	bool inflight;		/* accepted by the driver, callback not yet run */
	uint8_t retries;	/* perf's resubmissions of this command */
};

struct worker;
struct zone_ring;

struct ns_worker {
	struct zone_ring *zr;	/* -w zoneappend: this worker's zones */
	struct worker *thr;
	struct ns_target *t;
	struct perf_job *job;
	struct nvp_qpair *qp;
	struct io_slot *slots;
	void *bufs;
	struct rng rng;
	struct zipf zipf;
	bool use_zipf;
	uint64_t region_start;	/* first unit this worker walks or verifies */
	uint64_t region_units;
	uint64_t seq_next;
	uint64_t read_next;
	uint8_t *vstate;	/* --verify, per unit of the region */
	uint64_t seed_units;	/* --verify, units to write before reads only */
	uint64_t seed_next;
	uint32_t *written;	/* --verify, units with known contents */
	uint64_t nwritten;
	struct io_slot **pending;	/* -EAGAIN: retried after the next poll */
	uint32_t npending;
	uint64_t done;		/* completions, read by the progress line */
	uint64_t last_ok_tsc;	/* last successful completion */
	uint64_t dup_completions;	/* callbacks for a command not in flight */
	uint64_t lost;		/* commands whose callback never ran */
	uint64_t final_next;	/* --verify-final: next index into @written */
	uint32_t final_busy;	/* --verify-final: reads in flight */
	struct nvp_qpair_stats qstats;	/* read before the qpair is freed */
	bool closing;		/* the qpair is being freed: no resubmission */
	bool failed;
	struct perf_stats stats;
	char first_error[256];
};

struct worker {
	unsigned int idx;
	int cpu;
	pthread_t tid;
	struct ns_worker *nws;
	unsigned int nnws;
	bool failed;
	char error[256];
};

static const struct perf_opts *g_opts;
static uint64_t g_tsc_hz;
static pthread_barrier_t g_ready, g_go;
static bool g_abort;
static uint64_t g_measure_tsc;	/* end of warm-up */
static uint64_t g_end_tsc;	/* end of the run; lowered by SIGINT */
static volatile sig_atomic_t g_interrupted;
static unsigned int g_workers_done;	/* atomic: threads past their teardown */

static const char *prog = "nvpoll-perf";

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TOOL_EXIT_USAGE);
}

static void fail_setup(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static uint64_t end_tsc(void)
{
	return __atomic_load_n(&g_end_tsc, __ATOMIC_RELAXED);
}

/* End the run at @now (or keep an earlier end): workers drain and stop. */
static void stop_run(uint64_t now)
{
	uint64_t end = end_tsc();

	while (now < end &&
	       !__atomic_compare_exchange_n(&g_end_tsc, &end, now, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

static int ctrl_state(struct ctrl_ctx *cc)
{
	return __atomic_load_n(&cc->state, __ATOMIC_ACQUIRE);
}

/*
 * The controller was removed (@err -ENODEV) or failed for good: remember
 * when and why (the first report wins) and stop every worker.
 */
static void ctrl_gone(struct ctrl_ctx *cc, int err, const char *why)
{
	uint64_t now = tsc_now();
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&cc->lock);
	if (cc->state == CTRL_LIVE) {
		cc->gone_tsc = now;
		cc->gone_mono = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		snprintf(cc->gone_reason, sizeof(cc->gone_reason), "%s",
			 why && *why ? why : strerror(-err));
		__atomic_store_n(&cc->state, err == -ENODEV ? CTRL_REMOVED : CTRL_FAILED,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&cc->lock);
	stop_run(now);
}

static void on_event(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct ctrl_ctx *cc = arg;

	(void)ctrl;
	switch (ev->type) {
	case NVP_EVENT_RESET_DONE:
		pthread_mutex_lock(&cc->lock);
		if (ev->err) {
			cc->reset_failures++;
		} else {
			if (!cc->resets || ev->duration_us < cc->reset_us_min)
				cc->reset_us_min = ev->duration_us;
			if (ev->duration_us > cc->reset_us_max)
				cc->reset_us_max = ev->duration_us;
			cc->reset_us_sum += ev->duration_us;
			cc->resets++;
		}
		pthread_mutex_unlock(&cc->lock);
		break;
	case NVP_EVENT_REMOVED:
		ctrl_gone(cc, -ENODEV, ev->reason);
		break;
	case NVP_EVENT_FAILED:
		ctrl_gone(cc, ev->err ? ev->err : -ENXIO, ev->reason);
		break;
	default:
		break;
	}
}

/* A call on @cc failed with @rc: if the controller is gone, say so. */
static bool lost_ctrl(struct ctrl_ctx *cc, int rc)
{
	if (!nvp_ctrl_is_failed(cc->ctrl))
		return false;
	ctrl_gone(cc, rc == -ENODEV ? -ENODEV : -ENXIO, nvp_last_error());
	return true;
}

static void note_error(struct ns_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_error(struct ns_worker *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->first_error[0])
		return;
	n = snprintf(w->first_error, sizeof(w->first_error), "%s ns%u CPU %d: ",
		     w->t->cc->addr, w->t->info->nsid, w->thr->cpu);
	if (n < 0 || (size_t)n >= sizeof(w->first_error))
		return;
	va_start(ap, fmt);
	vsnprintf(w->first_error + n, sizeof(w->first_error) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---- choosing the next command ------------------------------------------ */

static uint64_t pick_unit(struct ns_worker *w)
{
	if (g_opts->random) {
		if (w->use_zipf)
			return w->region_start + zipf_next(&w->zipf, &w->rng) - 1;
		return w->region_start + rng_below(&w->rng, w->region_units);
	}
	if (w->seq_next >= w->region_units)
		w->seq_next = 0;
	return w->region_start + w->seq_next++;
}

static bool pick_read(struct ns_worker *w)
{
	int pct = g_opts->read_pct;

	if (pct >= 100)
		return true;
	if (pct <= 0)
		return false;
	return rng_below(&w->rng, 100) < (uint64_t)pct;
}

/*
 * --verify: reads go only to units whose contents this worker knows, and no
 * two commands of the worker touch one unit at once. Workers own disjoint
 * regions, so nothing else writes there.
 */
static void verify_choose(struct ns_worker *w, struct io_slot *s)
{
	uint64_t unit = 0, i;
	uint8_t *st;
	int tries;

	if (s->readback) {
		/* the unit stays claimed from the write to this read */
		s->is_read = true;
		return;
	}
	s->is_read = pick_read(w) && w->nwritten >= w->seed_units;
	if (s->is_read && w->nwritten) {
		for (tries = 0; tries < 8; tries++) {
			if (g_opts->random)
				unit = w->written[rng_below(&w->rng, w->nwritten)];
			else
				unit = w->read_next++ % w->region_units;
			st = &w->vstate[unit];
			if (!(*st & VS_INFLIGHT) && (*st & VS_GEN_MASK)) {
				*st |= VS_INFLIGHT;
				s->unit = w->region_start + unit;
				s->gen = *st & VS_GEN_MASK;
				return;
			}
		}
	}
	/* a write: to a fresh unit, or because nothing readable was free */
	s->is_read = false;
	if (w->nwritten < w->seed_units)
		unit = w->seed_next++ % w->region_units;	/* seeding: in order */
	else
		unit = pick_unit(w) - w->region_start;
	for (i = 0; i < w->region_units; i++) {
		st = &w->vstate[unit];
		if (!(*st & VS_INFLIGHT))
			break;
		if (++unit == w->region_units)
			unit = 0;
	}
	st = &w->vstate[unit];
	*st |= VS_INFLIGHT;
	s->unit = w->region_start + unit;
	s->gen = (uint8_t)(((*st & VS_GEN_MASK) % VS_GEN_MASK) + 1);
}

static void verify_release(struct ns_worker *w, struct io_slot *s, bool ok)
{
	uint64_t unit = s->unit - w->region_start;
	uint8_t *st = &w->vstate[unit];

	if (s->is_read) {
		*st &= (uint8_t)~VS_INFLIGHT;
		return;
	}
	if (!ok) {
		/* a failed write leaves the unit's contents unknown */
		*st = (uint8_t)(*st & VS_LISTED);
		return;
	}
	*st = (uint8_t)((*st & VS_LISTED) | s->gen);
	if (!(*st & VS_LISTED)) {
		*st |= VS_LISTED;
		w->written[w->nwritten++] = (uint32_t)unit;
	}
	if (g_opts->read_pct == 0) {
		/* write-only workloads read every write back, still claimed */
		*st |= VS_INFLIGHT;
		s->readback = true;
	}
}

static void io_done(void *arg, const struct nvp_cqe *cpl);

/*
 * @s will not go out (the run ended, or its controller is gone): release
 * its unit. A write perf was submitting again may have reached the media
 * before, so its contents are unknown; otherwise the last completed
 * write still stands.
 */
static void release_unsent(struct ns_worker *w, struct io_slot *s)
{
	uint8_t *st;

	if (!g_opts->verify)
		return;
	st = &w->vstate[s->unit - w->region_start];
	if (!s->is_read && s->retries)
		*st = (uint8_t)(*st & VS_LISTED);
	else
		*st &= (uint8_t)~VS_INFLIGHT;
	s->readback = false;
}

static int zone_submit(struct ns_worker *w, struct io_slot *s);
static void zone_io_done(struct ns_worker *w, struct io_slot *s);
/*
 * A namespace whose metadata is only its PI, driven with PRACT: the
 * controller inserts the PI on writes and strips it on reads (and with
 * --verify checks guard, application tag and, types 1 and 2, the reference
 * tag, which perf sets to the LBA), so the data buffers stay plain.
 */
static int __attribute__((noinline)) submit_pi(struct ns_worker *w, struct io_slot *s,
					       uint64_t lba)
{
	struct ns_target *t = w->t;
	struct nvp_io_opts o;

	nvp_io_opts_init(&o, sizeof(o));
	o.pi = t->pi;
	o.apptag = PERF_PI_APPTAG;
	o.apptag_mask = 0xffff;
	if (t->info->pi_type != 3)
		o.reftag = lba & (t->info->pi_guard_bits == 64 ? (1ull << 48) - 1 : 0xffffffffull);
	if (s->is_read)
		return nvp_read_ext(w->qp, t->ns, s->buf, lba, t->nlb, &o, io_done, s);
	return nvp_write_ext(w->qp, t->ns, s->buf, lba, t->nlb, &o, io_done, s);
}

/* Post @s, its latency counted from @now; returns false if the worker must stop. */
static bool submit(struct ns_worker *w, struct io_slot *s, uint64_t now)
{
	struct ns_target *t = w->t;
	uint64_t lba = s->unit * t->nlb;
	int rc;

	s->submit_tsc = now;
	if (w->zr)
		rc = zone_submit(w, s);
	else if (__builtin_expect(t->pi != 0, 0))
		rc = submit_pi(w, s, lba);
	else if (s->is_read)
		rc = nvp_read(w->qp, t->ns, s->buf, lba, t->nlb, 0, io_done, s);
	else
		rc = nvp_write(w->qp, t->ns, s->buf, lba, t->nlb, 0, io_done, s);
	if (rc == 0) {
		s->inflight = true;
		return true;
	}
	if (rc == -EAGAIN) {
		w->pending[w->npending++] = s;
		return true;
	}
	w->failed = true;
	if (lost_ctrl(t->cc, rc)) {
		/* Never issued: the lost controller is reported, not the command. */
		release_unsent(w, s);
		return false;
	}
	w->stats.errors++;
	note_error(w, "%s of LBA %" PRIu64 " refused: %s (%s)",
		   w->zr ? "zone append" : s->is_read ? "read" : "write", lba, strerror(-rc),
		   nvp_last_error());
	return false;
}

/* Choose and post the next command of slot @s; @now is a fresh TSC reading. */
static void start_io(struct ns_worker *w, struct io_slot *s, uint64_t now)
{
	s->retries = 0;
	if (g_opts->verify) {
		verify_choose(w, s);
		if (!s->is_read) {
			pattern_fill(s->buf, w->t->nlb, w->t->info->block_size,
				     s->unit * w->t->nlb, g_opts->seed, s->gen);
			now = tsc_now();	/* the fill is not the device's time */
		}
	} else {
		s->is_read = pick_read(w);
		s->unit = pick_unit(w);
	}
	submit(w, s, now);
}

/* Check a read against the pattern; false (and counted) on a mismatch. */
static bool verify_read(struct ns_worker *w, struct io_slot *s, const char *what_read)
{
	struct pattern_mismatch mm;
	char what[200];

	if (pattern_check(s->buf, w->t->nlb, w->t->info->block_size,
			  s->unit * w->t->nlb, g_opts->seed, s->gen, &mm))
		return true;
	w->stats.mismatches++;
	pattern_describe(&mm, g_opts->seed, s->gen, what, sizeof(what));
	note_error(w, "%s mismatch: %s", what_read, what);
	return false;
}

/*
 * SCT Path with DNR clear: the driver ended the command without the
 * device failing it (a reset, a timeout); the same command may succeed.
 */
static bool retryable(const struct nvp_cqe *cpl)
{
	return NVP_STATUS_SCT(cpl->status) == NVP_SCT_PATH &&
	       !(cpl->status & NVP_STATUS_DNR_BIT);
}

/* A command failed for good: count it, and name the first (unless the
 * controller is gone, which the report states instead). */
static void io_failed(struct ns_worker *w, struct io_slot *s, const struct nvp_cqe *cpl,
		      const char *what)
{
	w->stats.errors++;
	if (!nvp_ctrl_is_failed(w->t->cc->ctrl))
		note_error(w, "%s of LBA %" PRIu64 " failed: %s (status 0x%04x)%s", what,
			   s->unit * w->t->nlb, nvp_status_str(cpl->status), cpl->status,
			   s->retries ? " after perf submitted it again" : "");
}

static void final_next(struct ns_worker *w, struct io_slot *s);

/* --verify-final: one read of the sweep completed. */
static void final_done(struct ns_worker *w, struct io_slot *s, const struct nvp_cqe *cpl)
{
	w->final_busy--;
	if (NVP_CPL_IS_ERROR(cpl)) {
		io_failed(w, s, cpl, "final read-back");
	} else {
		w->stats.final_checks++;
		if (!verify_read(w, s, "final read-back"))
			w->stats.final_mismatches++;
	}
	s->final = false;
	if (!w->failed)
		final_next(w, s);
}

static void io_done(void *arg, const struct nvp_cqe *cpl)
{
	struct io_slot *s = arg;
	struct ns_worker *w = s->w;
	struct perf_stats *st = &w->stats;
	uint64_t now;
	bool ok = !NVP_CPL_IS_ERROR(cpl);
	bool in_window;

	if (!s->inflight) {
		/* Exactly once per accepted command is the driver's promise. */
		w->dup_completions++;
		note_error(w, "the callback of a %s of LBA %" PRIu64 " ran twice (driver bug)",
			   s->is_read ? "read" : "write", s->unit * w->t->nlb);
		return;
	}
	s->inflight = false;
	if (w->zr)
		zone_io_done(w, s);
	if (!ok && retryable(cpl) && s->retries < PERF_MAX_RETRIES && !w->closing &&
	    !nvp_ctrl_is_failed(w->t->cc->ctrl)) {
		/* Same unit, generation and buffer; latency keeps its start. */
		s->retries++;
		st->retries++;
		/* Refused because the controller just went: it was in flight, so
		 * it ends with an error (other refusals count themselves). */
		if (!submit(w, s, s->submit_tsc) && nvp_ctrl_is_failed(w->t->cc->ctrl))
			st->errors++;
		return;
	}
	if (s->final) {
		final_done(w, s, cpl);
		return;
	}
	now = tsc_now();
	in_window = now >= g_measure_tsc && now < end_tsc();
	if (!ok) {
		io_failed(w, s, cpl, s->is_read ? "read" : "write");
	} else {
		w->last_ok_tsc = now;
	}
	if (ok && in_window)
		perf_dir_record(&st->dir[s->is_read ? PERF_READ : PERF_WRITE], now - s->submit_tsc);
	__atomic_store_n(&w->done, w->done + 1, __ATOMIC_RELAXED);

	if (g_opts->verify) {
		if (ok && s->is_read) {
			uint64_t before = now;	/* the bookkeeping above is noise */

			verify_read(w, s, "verify");
			now = tsc_now();	/* the check is not the next command's time */
			if (in_window) {
				st->checks++;
				st->check_ticks += now - before;
			}
		}
		s->readback = false;
		verify_release(w, s, ok);
	}
	if (now < end_tsc() && !w->failed) {
		/* one TSC read serves as this completion and the next submission */
		start_io(w, s, now);
	} else if (s->readback) {
		/* the run is over: drop the claim the read-back would have used */
		s->readback = false;
		w->vstate[s->unit - w->region_start] &= (uint8_t)~VS_INFLIGHT;
	}
}

/* ---- -w zoneappend ---------------------------------------------------------- */

/*
 * Each worker appends to zones of its own, one at a time: it reserves
 * @nlb blocks of the current zone per command (appends never overflow a
 * zone), moves to the next zone when the rest is too small, and resets a
 * zone it left once its last append completed. A zone is appended to only
 * after its reset completed; until then slots wait as for a free request.
 */
enum zone_ring_state {
	ZR_NEED_RESET = 0,	/* to reset (again: -EAGAIN) */
	ZR_RESETTING,
	ZR_READY,		/* empty */
	ZR_CURRENT,		/* appended to */
	ZR_DRAINING,		/* left, appends in flight */
};

struct zone_reset {
	struct ns_worker *w;
	uint32_t z;
};

struct zone_ring {
	uint64_t first;		/* zone index of the worker's first zone */
	uint32_t nz;
	uint64_t zsize;		/* blocks */
	uint64_t zcap;		/* blocks written per zone */
	uint32_t cur;
	uint64_t used;		/* blocks reserved in the current zone */
	uint8_t *state;
	uint32_t *inflight;
	struct zone_reset *resets;
};

static void zone_ring_free(struct ns_worker *w)
{
	if (!w->zr)
		return;
	free(w->zr->state);
	free(w->zr->inflight);
	free(w->zr->resets);
	free(w->zr);
	w->zr = NULL;
}

static void zone_reset_done(void *arg, const struct nvp_cqe *cpl)
{
	struct zone_reset *r = arg;
	struct ns_worker *w = r->w;

	if (NVP_CPL_IS_ERROR(cpl)) {
		w->zr->state[r->z] = ZR_NEED_RESET;
		if (w->closing || retryable(cpl))
			return;
		w->failed = true;
		w->stats.errors++;
		note_error(w, "reset of zone %" PRIu64 " failed: %s (status 0x%04x)",
			   w->zr->first + r->z, nvp_status_str(cpl->status), cpl->status);
		return;
	}
	w->zr->state[r->z] = ZR_READY;
	w->stats.zone_resets++;
}

static void zone_reset(struct ns_worker *w, uint32_t z)
{
	struct zone_ring *zr = w->zr;
	int rc;

	if (w->closing || w->failed)
		return;
	rc = nvp_zone_mgmt(w->qp, w->t->ns, (zr->first + z) * zr->zsize, NVP_ZONE_RESET, 0,
			   zone_reset_done, &zr->resets[z]);
	if (rc == 0) {
		zr->state[z] = ZR_RESETTING;
	} else if (rc != -EAGAIN) {
		w->failed = true;
		if (!lost_ctrl(w->t->cc, rc)) {
			w->stats.errors++;
			note_error(w, "reset of zone %" PRIu64 " refused: %s (%s)", zr->first + z,
				   strerror(-rc), nvp_last_error());
		}
	}	/* -EAGAIN: stays ZR_NEED_RESET, retried after the next poll */
}

static void zone_retry_resets(struct ns_worker *w)
{
	for (uint32_t z = 0; z < w->zr->nz; z++)
		if (w->zr->state[z] == ZR_NEED_RESET)
			zone_reset(w, z);
}

/* An append of zone @s->unit completed: a zone left behind may be reset. */
static void zone_io_done(struct ns_worker *w, struct io_slot *s)
{
	struct zone_ring *zr = w->zr;
	uint32_t z = (uint32_t)s->unit;

	if (--zr->inflight[z] == 0 && zr->state[z] == ZR_DRAINING)
		zone_reset(w, z);
}

/* Reserve room for @s in the current zone (or the next) and append. */
static int zone_submit(struct ns_worker *w, struct io_slot *s)
{
	struct zone_ring *zr = w->zr;
	uint32_t nlb = w->t->nlb;
	int rc;

	if (zr->state[zr->cur] != ZR_CURRENT || zr->used + nlb > zr->zcap) {
		uint32_t next = (zr->cur + 1) % zr->nz;

		if (zr->state[zr->cur] == ZR_CURRENT) {
			zr->state[zr->cur] = ZR_DRAINING;
			if (!zr->inflight[zr->cur])
				zone_reset(w, zr->cur);
		}
		if (zr->state[next] != ZR_READY)
			return -EAGAIN;	/* waits, as for a free request */
		zr->cur = next;
		zr->state[next] = ZR_CURRENT;
		zr->used = 0;
	}
	s->unit = zr->cur;
	rc = nvp_zone_append(w->qp, w->t->ns, s->buf, (zr->first + zr->cur) * zr->zsize, nlb,
			     NULL, io_done, s);
	if (rc == 0) {
		zr->used += nlb;
		zr->inflight[zr->cur]++;
	}
	return rc;
}

/* Poll @w's queue pair until @done is set or 10 s pass. */
static int zone_wait(struct ns_worker *w, const bool *done)
{
	uint64_t deadline = tsc_now() + 10 * g_tsc_hz;

	while (!__atomic_load_n(done, __ATOMIC_ACQUIRE) && tsc_now() < deadline) {
		int rc = nvp_qpair_poll(w->qp, 0);

		if (rc < 0)
			return rc;
	}
	return __atomic_load_n(done, __ATOMIC_ACQUIRE) ? 0 : -ETIMEDOUT;
}

struct zone_report_wait {
	bool done;
	uint16_t status;
};

static void zone_report_done(void *arg, const struct nvp_cqe *cpl)
{
	struct zone_report_wait *r = arg;

	r->status = cpl->status & (uint16_t)~1u;
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

/* The worker's share of the zones; their capacity from a zone report. */
static int zone_ring_setup(struct ns_worker *w, unsigned int nthreads)
{
	const struct nvp_zns_info *zi = nvp_ns_zns_info(w->t->ns);
	struct zone_report_wait rw = { 0 };
	struct zone_ring *zr;
	struct nvp_zone zone;
	uint64_t idx = w->thr->idx, per;
	int rc;

	if (!zi)
		return -ENOTSUP;
	per = zi->num_zones / nthreads;
	if (per < 2) {
		note_error(w, "-w zoneappend: %" PRIu64 " zones are too few for %u threads (each "
			   "needs 2: one to fill while the other is reset); use fewer CPUs",
			   zi->num_zones, nthreads);
		return -EINVAL;
	}
	if (w->t->nlb > zi->max_append_blocks) {
		note_error(w, "-o %" PRIu64 " is larger than the append limit of %s ns%u (%u "
			   "bytes, ZASL); use -o %u or less", g_opts->io_size, w->t->cc->addr,
			   w->t->info->nsid, zi->max_append_bytes, zi->max_append_bytes);
		return -EINVAL;
	}
	zr = calloc(1, sizeof(*zr));
	w->zr = zr;
	if (!zr)
		return -ENOMEM;
	zr->first = idx * per;
	zr->nz = (uint32_t)(per > UINT32_MAX ? UINT32_MAX : per);
	zr->zsize = zi->zone_size;
	zr->state = calloc(zr->nz, 1);		/* all ZR_NEED_RESET */
	zr->inflight = calloc(zr->nz, sizeof(*zr->inflight));
	zr->resets = calloc(zr->nz, sizeof(*zr->resets));
	if (!zr->state || !zr->inflight || !zr->resets) {
		note_error(w, "out of memory for %u zones", zr->nz);
		return -ENOMEM;
	}
	for (uint32_t z = 0; z < zr->nz; z++)
		zr->resets[z] = (struct zone_reset){ .w = w, .z = z };
	/* The slots' buffers (DMA memory) hold the report: 64 + 64 bytes. */
	rc = nvp_zone_report(w->qp, w->t->ns, zr->first * zr->zsize, NVP_ZONE_FILTER_ALL,
			     NVP_ZONE_REPORT_PARTIAL, w->bufs, 128, zone_report_done, &rw);
	if (!rc)
		rc = zone_wait(w, &rw.done);
	if (!rc && NVP_CPL_IS_ERROR(&(struct nvp_cqe){ .status = rw.status }))
		rc = nvp_status_to_errno(rw.status);
	if (!rc && nvp_zone_report_parse(w->bufs, 128, &zone, 1, NULL) != 1)
		rc = -EIO;
	if (rc) {
		note_error(w, "zone report of %s ns%u failed: %s (%s)", w->t->cc->addr,
			   w->t->info->nsid, strerror(-rc), nvp_last_error());
		return rc;
	}
	zr->zcap = zone.capacity;
	if (zr->zcap < w->t->nlb) {
		note_error(w, "-o %" PRIu64 " is larger than a zone's capacity (%" PRIu64
			   " blocks)", g_opts->io_size, zr->zcap);
		return -EINVAL;
	}
	/* The first submission moves to zone 0 once its reset completed. */
	zr->cur = zr->nz - 1;
	zone_retry_resets(w);
	return w->failed ? -EIO : 0;
}

/* ---- workers --------------------------------------------------------------- */

static int ns_worker_setup(struct ns_worker *w, unsigned int nthreads)
{
	const struct perf_opts *o = g_opts;
	struct ns_target *t = w->t;
	struct nvp_ctrl *ctrl = t->cc->ctrl;
	struct nvp_qpair_opts qo;
	uint64_t idx = w->thr->idx, seed;
	int rc;

	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	qo.queue_size = t->cc->queue_size;
	qo.num_requests = qo.queue_size - 1;
	qo.max_completions = t->cc->max_completions;
	rc = nvp_qpair_alloc(ctrl, &qo, &w->qp);
	if (rc) {
		note_error(w, "cannot allocate an I/O queue pair: %s", nvp_last_error());
		return rc;
	}
	w->bufs = nvp_dma_alloc(o->depth * o->io_size, 4096, nvp_ctrl_numa_node(ctrl));
	w->slots = calloc(o->depth, sizeof(*w->slots));
	w->pending = calloc(o->depth, sizeof(*w->pending));
	if (!w->bufs || !w->slots || !w->pending) {
		note_error(w, "out of memory for %u buffers of %" PRIu64 " bytes: %s",
			   o->depth, o->io_size,
			   w->bufs ? "calloc failed" : nvp_last_error());
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->depth; i++) {
		w->slots[i].w = w;
		w->slots[i].buf = (uint8_t *)w->bufs + (size_t)i * o->io_size;
	}

	if (o->workload == WL_ZONE_APPEND) {
		perf_stats_init(&w->stats);
		return zone_ring_setup(w, nthreads);
	}
	if (o->verify) {
		/* disjoint slices per thread: nobody else writes what we check */
		w->region_start = idx * t->units / nthreads;
		w->region_units = (idx + 1) * t->units / nthreads - w->region_start;
		if (w->region_units > VERIFY_MAX_UNITS)
			w->region_units = VERIFY_MAX_UNITS;
		if (o->read_pct == 100)
			w->seed_units = w->region_units < VERIFY_READ_SEED_UNITS ?
					w->region_units : VERIFY_READ_SEED_UNITS;
		w->vstate = calloc(w->region_units, 1);
		w->written = calloc(w->region_units, sizeof(*w->written));
		if (!w->vstate || !w->written) {
			note_error(w, "out of memory for verify state");
			return -ENOMEM;
		}
	} else {
		w->region_start = 0;
		w->region_units = t->units;
		/* sequential threads start spread over the namespace */
		w->seq_next = idx * t->units / nthreads;
	}
	if (o->zipf_theta > 0) {
		if (zipf_init(&w->zipf, w->region_units, o->zipf_theta)) {
			note_error(w, "bad zipf parameters");
			return -EINVAL;
		}
		w->use_zipf = true;
	}
	seed = o->seed ^ (idx << 32) ^ ((uint64_t)(w - w->thr->nws) << 48);
	rng_seed(&w->rng, splitmix64(&seed));
	perf_stats_init(&w->stats);
	return 0;
}

static void print_qpair_stats(const struct ns_worker *w)
{
	const struct nvp_qpair_stats *st = &w->qstats;

	fprintf(stderr, "qpair %u: %llu submitted, %llu completed, %llu polls (%.1f%% empty); "
		"SQ doorbell %llu updates, %llu MMIO; CQ doorbell %llu updates, %llu MMIO; "
		"%llu posted again after resets, %llu ended by resets, %llu reconnects\n",
		nvp_qpair_id(w->qp), (unsigned long long)st->submitted,
		(unsigned long long)st->completed, (unsigned long long)st->polls,
		st->polls ? 100.0 * (double)st->empty_polls / (double)st->polls : 0.0,
		(unsigned long long)st->sq_doorbell_writes, (unsigned long long)st->sq_doorbell_mmio,
		(unsigned long long)st->cq_doorbell_writes, (unsigned long long)st->cq_doorbell_mmio,
		(unsigned long long)st->retried, (unsigned long long)st->reset_aborted,
		(unsigned long long)st->reconnects);
}

static void ns_worker_teardown(struct ns_worker *w)
{
	if (w->qp) {
		nvp_qpair_get_stats(w->qp, &w->qstats, sizeof(w->qstats));
		if (g_opts->qpair_stats)
			print_qpair_stats(w);
	}
	/* Callbacks nvp_qpair_free() runs must not submit again. */
	w->closing = true;
	nvp_qpair_free(w->qp);
	w->qp = NULL;
	for (uint32_t i = 0; w->slots && i < g_opts->depth; i++)
		if (w->slots[i].inflight)
			w->lost++;
	nvp_dma_free(w->bufs);
	w->bufs = NULL;
	free(w->slots);
	w->slots = NULL;
	free(w->pending);
	free(w->vstate);
	free(w->written);
	zone_ring_free(w);
}

static void retry_pending(struct ns_worker *w)
{
	uint32_t n = w->npending;

	if (w->zr)
		zone_retry_resets(w);
	/* resubmission may queue again, at an index we have already passed */
	w->npending = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct io_slot *s = w->pending[i];

		/* a command perf submits again keeps the start of its latency */
		if (!submit(w, s, s->retries ? s->submit_tsc : tsc_now()))
			return;
	}
}

/* The run is over: what still waits for a free request never goes out. */
static void drop_pending(struct ns_worker *w)
{
	for (uint32_t i = 0; i < w->npending; i++)
		release_unsent(w, w->pending[i]);
	w->npending = 0;
}

/* --verify-final: post the next read of the sweep in slot @s, if any. */
static void final_next(struct ns_worker *w, struct io_slot *s)
{
	while (w->final_next < w->nwritten) {
		uint64_t unit = w->written[w->final_next++];
		uint8_t st = w->vstate[unit];

		/* contents unknown (a failed write), or still claimed */
		if (!(st & VS_GEN_MASK) || (st & VS_INFLIGHT))
			continue;
		s->final = true;
		s->is_read = true;
		s->readback = false;
		s->retries = 0;
		s->unit = w->region_start + unit;
		s->gen = st & VS_GEN_MASK;
		w->final_busy++;
		if (!submit(w, s, tsc_now()))
			w->final_busy--;
		return;
	}
}

/*
 * --verify-final: after the drain, read back every unit this thread wrote
 * whose contents it knows, and check it. Not part of the figures.
 */
static void final_sweep(struct worker *thr)
{
	uint64_t deadline = tsc_now() + tsc_from_sec(120, g_tsc_hz);
	unsigned int busy;

	for (unsigned int n = 0; n < thr->nnws; n++) {
		struct ns_worker *w = &thr->nws[n];

		if (w->failed || ctrl_state(w->t->cc) != CTRL_LIVE)
			continue;
		for (uint32_t i = 0; i < g_opts->depth && !w->failed; i++)
			if (!w->slots[i].inflight)
				final_next(w, &w->slots[i]);
	}
	do {
		busy = 0;
		for (unsigned int n = 0; n < thr->nnws; n++) {
			struct ns_worker *w = &thr->nws[n];
			int rc;

			if (!w->final_busy)
				continue;
			rc = nvp_qpair_poll(w->qp, 0);
			if (rc < 0) {
				if (!lost_ctrl(w->t->cc, rc))
					note_error(w, "polling failed during the final read-back: "
						   "%s (%s)", strerror(-rc), nvp_last_error());
				w->failed = true;
				continue;
			}
			if (w->npending)
				retry_pending(w);
			busy += w->final_busy != 0;
		}
	} while (busy && tsc_now() < deadline);
	for (unsigned int n = 0; n < thr->nnws; n++) {
		struct ns_worker *w = &thr->nws[n];

		if (w->final_busy && !w->failed)
			note_error(w, "the final read-back did not finish in 120 s (%u reads "
				   "outstanding); the device stopped answering", w->final_busy);
		drop_pending(w);
	}
}

static void worker_run(struct worker *thr)
{
	const struct perf_opts *o = g_opts;
	bool stop = false;
	uint64_t deadline;
	unsigned int busy;

	for (unsigned int n = 0; n < thr->nnws; n++)
		for (uint32_t i = 0; i < o->depth && !thr->nws[n].failed; i++)
			start_io(&thr->nws[n], &thr->nws[n].slots[i], tsc_now());

	for (unsigned int spins = 0; !stop; spins++) {
		/* Under emulation a TSC read costs more than a poll: look at the
		 * clock every 64 rounds; completions read it anyway. */
		if (spins % 64 == 0 && tsc_now() >= end_tsc())
			break;
		for (unsigned int n = 0; n < thr->nnws; n++) {
			struct ns_worker *w = &thr->nws[n];
			int rc = nvp_qpair_poll(w->qp, 0);

			if (rc < 0) {
				/* A lost controller ends the whole run (ctrl_gone). */
				if (!lost_ctrl(w->t->cc, rc)) {
					note_error(w, "polling failed: %s (%s)", strerror(-rc),
						   nvp_last_error());
					w->stats.errors++;
				}
				w->failed = true;
			}
			if (w->npending && !w->failed)
				retry_pending(w);
			if (w->failed)
				stop = true;
		}
	}

	/* drain: completions now only release their slots (or retry) */
	deadline = tsc_now() + tsc_from_sec(40, g_tsc_hz);
	do {
		busy = 0;
		for (unsigned int n = 0; n < thr->nnws; n++) {
			struct ns_worker *w = &thr->nws[n];
			int rc;

			if (!nvp_qpair_outstanding(w->qp))
				continue;
			/* what waits in w->pending stays out (drop_pending()) */
			rc = nvp_qpair_poll(w->qp, 0);
			if (rc < 0) {
				lost_ctrl(w->t->cc, rc);
				continue;
			}
			busy += nvp_qpair_outstanding(w->qp) != 0;
		}
	} while (busy && tsc_now() < deadline);
	for (unsigned int n = 0; n < thr->nnws; n++)
		if (nvp_qpair_outstanding(thr->nws[n].qp))
			note_error(&thr->nws[n], "%u commands never completed",
				   nvp_qpair_outstanding(thr->nws[n].qp));

	for (unsigned int n = 0; n < thr->nnws; n++)
		drop_pending(&thr->nws[n]);
	if (o->verify_final && !g_interrupted)
		final_sweep(thr);
}

static void *worker_main(void *arg)
{
	struct worker *thr = arg;
	cpu_set_t set;
	int rc;

	CPU_ZERO(&set);
	CPU_SET(thr->cpu, &set);
	rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc) {
		snprintf(thr->error, sizeof(thr->error), "cannot pin a thread to CPU %d: %s",
			 thr->cpu, strerror(rc));
		thr->failed = true;
	}
	for (unsigned int n = 0; n < thr->nnws && !thr->failed; n++) {
		if (ns_worker_setup(&thr->nws[n], g_opts->ncpus)) {
			snprintf(thr->error, sizeof(thr->error), "%s", thr->nws[n].first_error);
			thr->failed = true;
		}
	}
	pthread_barrier_wait(&g_ready);
	pthread_barrier_wait(&g_go);
	if (!__atomic_load_n(&g_abort, __ATOMIC_ACQUIRE))
		worker_run(thr);
	for (unsigned int n = 0; n < thr->nnws; n++)
		ns_worker_teardown(&thr->nws[n]);
	/* the main thread runs the admin poller until every worker got here */
	__atomic_add_fetch(&g_workers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- set-up ---------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

static void resolve_cpus(struct perf_opts *o)
{
	cpu_set_t allowed;
	char list[256] = "";
	size_t len = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		fail_setup(TOOL_EXIT_FAILURE, "cannot read the CPU affinity: %s", strerror(errno));
	for (int c = 0; c < CPU_SETSIZE && len < sizeof(list) - 8; c++)
		if (CPU_ISSET(c, &allowed))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d",
						len ? "," : "", c);
	if (!o->ncpus) {
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &allowed)) {
				o->cpus[o->ncpus++] = c;
				return;
			}
		}
		fail_setup(TOOL_EXIT_FAILURE, "no CPU to run on");
	}
	for (unsigned int i = 0; i < o->ncpus; i++)
		if (o->cpus[i] >= CPU_SETSIZE || !CPU_ISSET(o->cpus[i], &allowed))
			die_usage("-c: CPU %d is not available to this process (it may use %s)",
				  o->cpus[i], list);
}

static struct ctrl_ctx *g_ctrls;
static unsigned int g_nctrls;

static void detach_all(void)
{
	for (unsigned int i = 0; i < g_nctrls; i++) {
		struct ctrl_ctx *cc = &g_ctrls[i];
		int rc;

		if (!cc->ctrl)
			continue;
		rc = nvp_ctrl_detach(cc->ctrl);
		if (rc)
			fprintf(stderr, "%s: detaching %s failed: %s (%s); run nvpoll-setup "
				"status to see which driver has it\n", prog, cc->addr,
				strerror(-rc), nvp_last_error());
		cc->ctrl = NULL;
		cc->detached_tsc = tsc_now();
	}
}

static void fail_setup(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void fail_setup(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	detach_all();
	exit(code);
}

static void attach_all(const struct perf_opts *o)
{
	g_ctrls = calloc(o->naddrs, sizeof(*g_ctrls));
	if (!g_ctrls)
		fail_setup(TOOL_EXIT_FAILURE, "out of memory");
	for (unsigned int i = 0; i < o->naddrs; i++) {
		struct ctrl_ctx *cc = &g_ctrls[i];
		struct nvp_ctrl_opts co;
		int rc;

		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(o->addrs[j], o->addrs[i]))
				fail_setup(TOOL_EXIT_USAGE, "-a %s is given twice", o->addrs[i]);
		nvp_ctrl_opts_init(&co, sizeof(co));
		co.no_shadow_doorbells = o->no_shadow_doorbell;
		co.cmb_sqs = (enum nvp_cmb_sqs)o->cmb_sqs;
		if (o->io_retries >= 0)
			co.io_retries = (uint32_t)o->io_retries;
		if (co.num_io_queues < o->ncpus)
			co.num_io_queues = o->ncpus;
		/* A typo, an absent function or a network card is a usage error. */
		if (tool_check_address(o->addrs[i]))
			fail_setup(TOOL_EXIT_USAGE, "cannot attach '%s': %s", o->addrs[i],
				   nvp_last_error());
		rc = nvp_ctrl_attach(o->addrs[i], &co, &cc->ctrl);
		if (rc) {
			const char *why = nvp_last_error();

			fail_setup(tool_attach_status(o->addrs[i], rc),
				   "cannot attach '%s': %s", o->addrs[i],
				   why && *why ? why : strerror(-rc));
		}
		g_nctrls = i + 1;
		cc->addr = o->addrs[i];
		cc->info = nvp_ctrl_get_info(cc->ctrl);
		pthread_mutex_init(&cc->lock, NULL);
		cc->polling = true;
		nvp_ctrl_set_event_cb(cc->ctrl, on_event, cc);
		snprintf(cc->model, sizeof(cc->model), "%s", cc->info->model);
		snprintf(cc->serial, sizeof(cc->serial), "%s", cc->info->serial);
		cc->desc.addr = cc->addr;
		cc->desc.model = cc->model;
		cc->desc.serial = cc->serial;
		cc->desc.driver = nvp_driver_name(cc->info->driver);
		cc->desc.shadow_doorbells = cc->info->shadow_doorbells;
		cc->desc.cmb_sqs = cc->info->cmb_sqs;
		cc->desc.cmb_bytes = cc->info->cmb_bytes;
		cc->desc.max_queue_entries = cc->info->max_queue_entries;
		cc->desc.num_io_queues = cc->info->num_io_queues;
		cc->desc.numa_node = cc->info->numa_node;
	}
}

static void list_nsids(struct nvp_ctrl *ctrl, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (struct nvp_ns *ns = nvp_ctrl_first_ns(ctrl); ns && off < len - 16;
	     ns = nvp_ctrl_next_ns(ctrl, ns))
		off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? ", " : "",
					nvp_ns_get_info(ns)->nsid);
	if (!off)
		snprintf(buf, len, "none");
}

/* Collect the namespaces to run on and check the options against them. */
static struct ns_target *find_targets(const struct perf_opts *o, unsigned int *ntargets)
{
	struct ns_target *targets = NULL;
	unsigned int n = 0, cap = 0;

	for (unsigned int i = 0; i < g_nctrls; i++) {
		struct ctrl_ctx *cc = &g_ctrls[i];
		struct nvp_qpair_opts qo;
		uint32_t mqe = cc->info->max_queue_entries;
		struct nvp_ns *ns;

		if (o->depth > mqe - 1)
			fail_setup(TOOL_EXIT_USAGE, "-q %u is deeper than %s can queue: its I/O queues hold "
				   "at most %u entries, so %u commands", o->depth, cc->addr,
				   mqe, mqe - 1);
		if (o->io_queue_size > mqe)
			fail_setup(TOOL_EXIT_USAGE, "--io-queue-size %u is larger than %s allows (%u entries)",
				   o->io_queue_size, cc->addr, mqe);
		nvp_qpair_opts_init(cc->ctrl, &qo, sizeof(qo));
		cc->max_completions = o->max_completions ? o->max_completions : qo.max_completions;
		cc->queue_size = o->io_queue_size;
		if (!cc->queue_size) {
			cc->queue_size = qo.queue_size;
			if (cc->queue_size < o->depth + 1)
				cc->queue_size = o->depth + 1;
		}
		if (o->nsid) {
			ns = nvp_ctrl_get_ns(cc->ctrl, o->nsid);
			if (!ns) {
				char have[128];

				list_nsids(cc->ctrl, have, sizeof(have));
				fail_setup(TOOL_EXIT_USAGE, "-n %u: %s has no active namespace %u (active: %s)",
					   o->nsid, cc->addr, o->nsid, have);
			}
		} else {
			ns = nvp_ctrl_first_ns(cc->ctrl);
			if (!ns)
				fail_setup(TOOL_EXIT_USAGE, "%s has no active namespace", cc->addr);
		}
		for (; ns; ns = o->nsid ? NULL : nvp_ctrl_next_ns(cc->ctrl, ns)) {
			const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
			struct ns_target *t;

			/* Zoned namespaces take sequential writes only: zoneappend's. */
			if (ni->zoned != (o->workload == WL_ZONE_APPEND)) {
				if (o->nsid && ni->zoned)
					fail_setup(TOOL_EXIT_USAGE, "-n %u: %s ns%u is zoned; only "
						   "-w zoneappend runs on it", o->nsid, cc->addr,
						   ni->nsid);
				if (o->nsid)
					fail_setup(TOOL_EXIT_USAGE, "-w zoneappend: %s ns%u is not "
						   "zoned", cc->addr, ni->nsid);
				continue;
			}
			if (o->io_size % ni->block_size)
				fail_setup(TOOL_EXIT_USAGE, "-o %" PRIu64 " is not a multiple of the block size "
					   "of %s ns%u (%u bytes)", o->io_size, cc->addr,
					   ni->nsid, ni->block_size);
			if (o->io_size > ni->size_bytes)
				fail_setup(TOOL_EXIT_USAGE, "-o %" PRIu64 " is larger than %s ns%u (%" PRIu64
					   " bytes)", o->io_size, cc->addr, ni->nsid,
					   ni->size_bytes);
			if (o->io_size / ni->block_size > UINT32_MAX)
				fail_setup(TOOL_EXIT_USAGE, "-o %" PRIu64 " is too many blocks for one command",
					   o->io_size);
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				targets = realloc(targets, cap * sizeof(*targets));
				if (!targets)
					fail_setup(TOOL_EXIT_FAILURE, "out of memory");
			}
			if (ni->md_size && (!ni->pi_type || ni->md_size != ni->pi_size))
				fail_setup(TOOL_EXIT_USAGE, "%s ns%u has %u bytes of metadata per block%s; "
					   "nvpoll-perf drives metadata namespaces only when the "
					   "metadata is just the PI (the controller inserts and "
					   "strips it, NVP_PI_PRACT); pick another namespace with -n",
					   cc->addr, ni->nsid, ni->md_size, ni->pi_type ?
					   " (more than its protection information)" :
					   " without protection information");
			t = &targets[n++];
			t->cc = cc;
			t->ns = ns;
			t->info = ni;
			t->nlb = (uint32_t)(o->io_size / ni->block_size);
			t->units = ni->num_blocks / t->nlb;
			/* PI: PRACT always; the checks with --verify (type 3 has no reftag). */
			t->pi = !ni->pi_type ? 0 : NVP_PI_PRACT |
				(!o->verify ? 0 : NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG |
				 (ni->pi_type != 3 ? NVP_PI_CHECK_REFTAG : 0));
			cc->nns++;
			if (o->verify) {
				uint64_t per_thread = t->units / o->ncpus;

				if (ni->block_size < 64 || ni->block_size % 8)
					fail_setup(TOOL_EXIT_USAGE, "--verify needs blocks of at least 64 bytes "
						   "(%s ns%u has %u)", cc->addr, ni->nsid,
						   ni->block_size);
				if (per_thread < 2ull * o->depth)
					fail_setup(TOOL_EXIT_USAGE, "--verify: %s ns%u has %" PRIu64 " I/Os of "
						   "%" PRIu64 " bytes, too few for %u threads at QD %u "
						   "(each needs twice its depth)", cc->addr, ni->nsid,
						   t->units, o->io_size, o->ncpus, o->depth);
			}
		}
		if (!cc->nns)
			fail_setup(TOOL_EXIT_USAGE, "%s has no %s namespace for -w %s", cc->addr,
				   o->workload == WL_ZONE_APPEND ? "zoned" : "conventional",
				   perf_workload_name(o->workload));
		if (cc->info->num_io_queues < o->ncpus * cc->nns)
			fail_setup(TOOL_EXIT_USAGE, "%s granted %u I/O queues; %u CPUs on %u namespaces "
				   "need %u (use fewer CPUs or -n)", cc->addr,
				   cc->info->num_io_queues, o->ncpus, cc->nns, o->ncpus * cc->nns);
	}
	*ntargets = n;
	return targets;
}

/* ---- progress and main ----------------------------------------------------- */

static uint64_t total_done(struct worker *workers, unsigned int nworkers)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < nworkers; i++)
		for (unsigned int n = 0; n < workers[i].nnws; n++)
			sum += __atomic_load_n(&workers[i].nws[n].done, __ATOMIC_RELAXED);
	return sum;
}

static void nap_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The admin poller: completions, health checks, events, for every controller. */
static void admin_poll_all(void)
{
	for (unsigned int i = 0; i < g_nctrls; i++) {
		struct ctrl_ctx *cc = &g_ctrls[i];
		int rc;

		if (!cc->polling || !cc->ctrl)
			continue;
		rc = nvp_ctrl_process_admin(cc->ctrl);
		if (rc >= 0)
			continue;
		/* Only a failed controller makes it fail; nothing more to poll. */
		cc->polling = false;
		if (!lost_ctrl(cc, rc))
			ctrl_gone(cc, rc, nvp_last_error());
	}
}

/* --reset-every: reset each live controller while the workers keep going. */
static void reset_all(void)
{
	for (unsigned int i = 0; i < g_nctrls; i++) {
		struct ctrl_ctx *cc = &g_ctrls[i];
		int rc;

		if (ctrl_state(cc) != CTRL_LIVE)
			continue;
		pthread_mutex_lock(&cc->lock);
		cc->resets_requested++;
		pthread_mutex_unlock(&cc->lock);
		rc = nvp_ctrl_reset(cc->ctrl);
		/* A reset that fails leaves the controller failed (the event
		 * says so); anything else is a refusal that ends the run too. */
		if (rc && !lost_ctrl(cc, rc)) {
			fprintf(stderr, "%s: nvp_ctrl_reset(%s) failed: %s (%s); stopping the "
				"run\n", prog, cc->addr, strerror(-rc), nvp_last_error());
			ctrl_gone(cc, -ENXIO, nvp_last_error());
		}
	}
}

/* --test-remove-after / --test-fail-after on emulated controllers. */
static void test_break(bool remove)
{
	for (unsigned int i = 0; i < g_nctrls; i++) {
		struct ctrl_ctx *cc = &g_ctrls[i];
		int rc;

		if (remove) {
			rc = nvp_emu_remove(cc->ctrl);
		} else {
			/*
			 * A fatal status starts a reset; every admin command
			 * failing makes that reset fail, and the controller
			 * with it.
			 */
			struct nvp_emu_fault f = {
				.type = NVP_EMU_FAULT_STATUS,
				.count = NVP_EMU_FOREVER,
				.match = NVP_EMU_MATCH_QID,
				.qid = 0,
				.status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL) |
					  NVP_STATUS_DNR_BIT,
			};

			rc = nvp_emu_inject(cc->ctrl, &f, sizeof(f));
			if (!rc)
				rc = nvp_emu_fatal(cc->ctrl);
		}
		if (rc)
			fprintf(stderr, "%s: warning: cannot %s %s: %s\n", prog,
				remove ? "remove" : "break", cc->addr, nvp_last_error());
	}
}

static bool workers_done(unsigned int nworkers)
{
	return __atomic_load_n(&g_workers_done, __ATOMIC_ACQUIRE) >= nworkers;
}

/*
 * The main thread while the workers run: admin poller, resets, test
 * hooks and the progress line. Returns once every worker has torn down
 * (the admin poller must keep running through their drain).
 */
static void supervise(struct worker *workers, unsigned int nworkers, uint64_t start,
		      bool progress)
{
	const struct perf_opts *o = g_opts;
	uint64_t next = start + g_tsc_hz, last_done = 0, last_tsc = start;
	uint64_t reset_ticks = o->reset_every > 0 ? tsc_from_sec(o->reset_every, g_tsc_hz) : 0;
	uint64_t next_reset = start + reset_ticks;
	uint64_t remove_at = o->test_remove_after > 0 ?
			     start + tsc_from_sec(o->test_remove_after, g_tsc_hz) : UINT64_MAX;
	uint64_t fail_at = o->test_fail_after > 0 ?
			   start + tsc_from_sec(o->test_fail_after, g_tsc_hz) : UINT64_MAX;
	bool shown = false;

	for (;;) {
		uint64_t now;

		nap_ms(ADMIN_POLL_MS);
		admin_poll_all();
		now = tsc_now();
		if (g_interrupted && now < end_tsc())
			stop_run(now);
		if (now >= end_tsc() || workers_done(nworkers))
			break;
		if (now >= remove_at) {
			test_break(true);
			remove_at = UINT64_MAX;
		}
		if (now >= fail_at) {
			test_break(false);
			fail_at = UINT64_MAX;
		}
		if (reset_ticks && now >= next_reset) {
			reset_all();
			/* a reset slower than the interval is followed at once */
			next_reset += reset_ticks;
			if (next_reset < tsc_now())
				next_reset = tsc_now();
			continue;
		}
		if (progress && now >= next) {
			uint64_t done = total_done(workers, nworkers);
			double iops = (double)(done - last_done) * (double)g_tsc_hz /
				      (double)(now - last_tsc);
			double mib_s = iops * (double)o->io_size / (1024.0 * 1024.0);
			double left = now < end_tsc() ? (double)(end_tsc() - now) /
							(double)g_tsc_hz : 0;

			/* stderr, always: stdout carries only the report (or JSON). */
			if (now < g_measure_tsc)
				fprintf(stderr, "\r[warm-up %.0f/%.0f s] %12.0f IOPS %10.2f MiB/s, "
					"%.0f s left\033[K", (double)(now - start) / (double)g_tsc_hz,
					o->warmup, iops, mib_s, left);
			else
				fprintf(stderr, "\r[%.0f/%.0f s] %12.0f IOPS %10.2f MiB/s, %.0f s "
					"left\033[K", (double)(now - g_measure_tsc) /
					(double)g_tsc_hz, o->seconds, iops, mib_s, left);
			fflush(stderr);
			shown = true;
			last_done = done;
			last_tsc = now;
			next += g_tsc_hz;
		}
	}
	if (shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	while (!workers_done(nworkers)) {
		nap_ms(ADMIN_POLL_MS);
		admin_poll_all();
	}
}

/* What happened to the commands of one controller. */
struct ctrl_outcome {
	uint64_t errors;	/* commands that ended with an error */
	uint64_t dup;		/* callbacks that ran a second time */
	uint64_t lost;		/* callbacks that never ran */
	uint64_t last_ok_tsc;	/* the last successful completion */
};

/* The report's view of @cc, from its events and its queue pairs' counters. */
static void describe_ctrl(struct ctrl_ctx *cc, struct worker *workers, unsigned int nworkers,
			  struct perf_ctrl_desc *d, struct ctrl_outcome *out)
{
	*d = cc->desc;
	d->queue_size = cc->queue_size;
	d->max_completions = cc->max_completions;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&cc->lock);
	d->resets_requested = cc->resets_requested;
	d->resets = cc->resets;
	d->reset_failures = cc->reset_failures;
	d->reset_us_min = cc->reset_us_min;
	d->reset_us_max = cc->reset_us_max;
	d->reset_us_sum = cc->reset_us_sum;
	pthread_mutex_unlock(&cc->lock);
	for (unsigned int i = 0; i < nworkers; i++) {
		for (unsigned int n = 0; n < workers[i].nnws; n++) {
			const struct ns_worker *w = &workers[i].nws[n];

			if (w->t->cc != cc)
				continue;
			d->driver_retried += w->qstats.retried;
			d->reset_aborted += w->qstats.reset_aborted;
			d->reconnects += w->qstats.reconnects;
			d->retries += w->stats.retries;
			d->errors += w->stats.errors;
			out->dup += w->dup_completions;
			out->lost += w->lost;
			if (w->last_ok_tsc > out->last_ok_tsc)
				out->last_ok_tsc = w->last_ok_tsc;
		}
	}
	out->errors = d->errors;
	switch (ctrl_state(cc)) {
	case CTRL_REMOVED:
		d->state = "removed";
		break;
	case CTRL_FAILED:
		d->state = "failed";
		break;
	default:
		d->state = "live";
		break;
	}
	d->state_reason = cc->gone_reason;
}

static double ms_between(uint64_t from, uint64_t to)
{
	return to > from ? (double)(to - from) * 1e3 / (double)g_tsc_hz : 0;
}

/*
 * The closing message for a controller that was removed or failed for
 * good: what happened, how fast perf reacted, and whether every command
 * it had accepted completed exactly once.
 */
static void report_lost_ctrl(struct ctrl_ctx *cc, const struct ctrl_outcome *out)
{
	bool removed = ctrl_state(cc) == CTRL_REMOVED;
	char timing[128] = "";
	char when[96];

	fprintf(stderr, "%s: controller %s %s during the run; %" PRIu64 " commands ended with "
		"an error\n", prog, cc->addr, removed ? "was removed" : "failed for good",
		out->errors);
	fprintf(stderr, "%s:   why: %s\n", prog, cc->gone_reason);
	/* CLOCK_MONOTONIC lines up with the kernel log's timestamps. */
	snprintf(when, sizeof(when), "noticed at %.3f s (CLOCK_MONOTONIC, as in dmesg)",
		 cc->gone_mono);
	if (out->last_ok_tsc)
		snprintf(timing, sizeof(timing), ", %.1f ms after its last successful completion",
			 ms_between(out->last_ok_tsc, cc->gone_tsc));
	fprintf(stderr, "%s:   %s%s; workers stopped, queue pairs freed and controller "
		"detached %.1f ms after that\n", prog, when, timing,
		ms_between(cc->gone_tsc, cc->detached_tsc));
	if (out->dup || out->lost)
		fprintf(stderr, "%s:   %" PRIu64 " commands completed twice and %" PRIu64 " never "
			"completed: a driver bug; please report it with this output\n", prog,
			out->dup, out->lost);
	else
		fprintf(stderr, "%s:   every command the driver had accepted completed exactly "
			"once\n", prog);
	if (removed)
		fprintf(stderr, "%s: if the removal was not intended, check the slot and the "
			"kernel log (dmesg); once the device is back (nvpoll-setup status lists "
			"it), run again\n", prog);
	else
		fprintf(stderr, "%s: check the kernel log (dmesg) and the controller's health "
			"(nvpoll-identify prints its SMART log); a power cycle or a PCI reset "
			"may bring it back\n", prog);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * An emulated controller's device thread needs a CPU of its own: if every
 * CPU it may run on also runs a worker, each command waits for a time
 * slice and the figures measure the scheduler (they swing about 100x on
 * a busy 2-CPU host). The device threads are the "nvp-emu" threads of this
 * process; their CPU masks say where they may run.
 */
static void warn_emu_cpus(const struct perf_opts *o)
{
	cpu_set_t workers;
	struct dirent *e;
	bool any_emu = false;
	DIR *d;

	for (unsigned int i = 0; i < o->naddrs; i++)
		any_emu |= tool_addr_is_emu(o->addrs[i]);
	if (!any_emu)
		return;
	CPU_ZERO(&workers);
	for (unsigned int i = 0; i < o->ncpus; i++)
		if (o->cpus[i] < CPU_SETSIZE)
			CPU_SET(o->cpus[i], &workers);
	d = opendir("/proc/self/task");
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "", list[256] = "";
		cpu_set_t allowed, shared;
		size_t len = 0;
		FILE *f;
		int tid = atoi(e->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, "nvp-emu", 7) || sched_getaffinity(tid, sizeof(allowed), &allowed))
			continue;
		CPU_AND(&shared, &allowed, &workers);
		if (!CPU_EQUAL(&shared, &allowed))
			continue;	/* it has a CPU no worker polls on */
		for (int c = 0; c < CPU_SETSIZE && len < sizeof(list) - 8; c++)
			if (CPU_ISSET(c, &allowed))
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d",
							len ? "," : "", c);
		fprintf(stderr, "%s: warning: an emulated controller's device thread may only "
			"run on CPU %s, where perf's workers poll: every command waits for a "
			"time slice and the figures measure the scheduler, not the driver; give "
			"it a CPU of its own (emu:cpu=N with N outside -c, or fewer -c CPUs)\n",
			prog, list);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	static struct perf_opts opts;
	char err[512];
	struct ns_target *targets;
	unsigned int ntargets, njobs;
	struct perf_job *jobs;
	struct worker *workers;
	struct perf_report report;
	struct perf_ctrl_desc *descs;
	struct ctrl_outcome *outcomes;
	const char *first_error = "";
	bool failed = false, progress;
	uint64_t start;
	int exit_code;

	switch (perf_parse_args(argc, argv, &opts, err, sizeof(err))) {
	case PERF_PARSE_EXIT:
		return 0;
	case PERF_PARSE_ERROR:
		die_usage("%s", err);
	case PERF_PARSE_OK:
		break;
	}
	g_opts = &opts;
	resolve_cpus(&opts);

	if (!tsc_is_invariant())
		fprintf(stderr, "%s: warning: the CPU does not report an invariant TSC "
			"(constant_tsc, nonstop_tsc); latencies may be off\n", prog);
	g_tsc_hz = tsc_calibrate(100);
	if (g_tsc_hz < 1000000)
		fail_setup(TOOL_EXIT_FAILURE, "cannot calibrate the TSC against CLOCK_MONOTONIC");

	attach_all(&opts);
	targets = find_targets(&opts, &ntargets);
	warn_emu_cpus(&opts);
	if (!opts.json) {
		/* The configuration first, so a long run says at once what it does. */
		descs = calloc(g_nctrls, sizeof(*descs));
		if (!descs)
			fail_setup(TOOL_EXIT_FAILURE, "out of memory");
		for (unsigned int i = 0; i < g_nctrls; i++) {
			descs[i] = g_ctrls[i].desc;
			descs[i].queue_size = g_ctrls[i].queue_size;
		}
		perf_report_header(stdout, &opts, descs, g_nctrls);
		fflush(stdout);
		free(descs);
	}

	njobs = ntargets * opts.ncpus;
	jobs = calloc(njobs, sizeof(*jobs));
	workers = calloc(opts.ncpus, sizeof(*workers));
	if (!jobs || !workers)
		fail_setup(TOOL_EXIT_FAILURE, "out of memory");
	for (unsigned int i = 0; i < opts.ncpus; i++) {
		struct worker *thr = &workers[i];

		thr->idx = i;
		thr->cpu = opts.cpus[i];
		thr->nnws = ntargets;
		thr->nws = calloc(ntargets, sizeof(*thr->nws));
		if (!thr->nws)
			fail_setup(TOOL_EXIT_FAILURE, "out of memory");
		for (unsigned int t = 0; t < ntargets; t++) {
			struct ns_worker *w = &thr->nws[t];

			w->thr = thr;
			w->t = &targets[t];
			w->job = &jobs[t * opts.ncpus + i];
			w->job->ctrl = targets[t].cc->addr;
			w->job->nsid = targets[t].info->nsid;
			w->job->cpu = thr->cpu;
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pthread_barrier_init(&g_ready, NULL, opts.ncpus + 1);
	pthread_barrier_init(&g_go, NULL, opts.ncpus + 1);
	g_end_tsc = UINT64_MAX;
	for (unsigned int i = 0; i < opts.ncpus; i++) {
		int rc = pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]);

		if (rc)
			fail_setup(TOOL_EXIT_FAILURE, "cannot start a thread: %s", strerror(rc));
	}
	pthread_barrier_wait(&g_ready);
	for (unsigned int i = 0; i < opts.ncpus; i++) {
		if (workers[i].failed) {
			fprintf(stderr, "%s: CPU %d: %s\n", prog, workers[i].cpu,
				workers[i].error);
			failed = true;
		}
	}
	start = tsc_now();
	g_measure_tsc = start + tsc_from_sec(opts.warmup, g_tsc_hz);
	g_end_tsc = g_measure_tsc + tsc_from_sec(opts.seconds, g_tsc_hz);
	__atomic_store_n(&g_abort, failed, __ATOMIC_RELEASE);
	pthread_barrier_wait(&g_go);

	/* On stderr, so JSON on stdout stays valid; by default only on a terminal. */
	progress = opts.progress > 0 || (opts.progress < 0 && isatty(STDERR_FILENO));
	if (!failed)
		supervise(workers, opts.ncpus, start, progress);
	for (unsigned int i = 0; i < opts.ncpus; i++)
		pthread_join(workers[i].tid, NULL);
	if (failed)
		fail_setup(TOOL_EXIT_FAILURE, "setup failed; nothing was measured");
	/* Every qpair is freed: a removed device is let go of at once. */
	detach_all();

	for (unsigned int i = 0; i < opts.ncpus; i++) {
		for (unsigned int t = 0; t < ntargets; t++) {
			struct ns_worker *w = &workers[i].nws[t];

			w->job->stats = w->stats;
			if (!*first_error && w->first_error[0])
				first_error = w->first_error;
		}
	}
	memset(&report, 0, sizeof(report));
	report.opts = &opts;
	report.tsc_hz = g_tsc_hz;
	report.seconds = end_tsc() > g_measure_tsc ?
			 (double)(end_tsc() - g_measure_tsc) / (double)g_tsc_hz : 0;
	report.jobs = jobs;
	report.njobs = njobs;
	report.nctrls = g_nctrls;
	report.first_error = first_error;
	report.interrupted = g_interrupted != 0;
	report.timestamp_ms = wall_ms();
	descs = calloc(g_nctrls, sizeof(*descs));
	outcomes = calloc(g_nctrls, sizeof(*outcomes));
	for (unsigned int i = 0; descs && outcomes && i < g_nctrls; i++)
		describe_ctrl(&g_ctrls[i], workers, opts.ncpus, &descs[i], &outcomes[i]);
	report.ctrls = descs;
	if (!descs || !outcomes)
		report.nctrls = 0;
	if (opts.json)
		perf_report_json(stdout, &report);
	else
		perf_report_text(stdout, &report);
	fflush(stdout);
	exit_code = perf_report_failed(&report) ? 1 : 0;
	if (g_interrupted)
		fprintf(stderr, "%s: interrupted; figures cover %.3f s\n", prog, report.seconds);
	else if (!report.first_error[0] && perf_report_no_io(&report))
		fprintf(stderr, "%s: %s\n", prog, perf_report_no_io(&report));
	for (unsigned int i = 0; i < report.nctrls; i++)
		if (ctrl_state(&g_ctrls[i]) != CTRL_LIVE)
			report_lost_ctrl(&g_ctrls[i], &outcomes[i]);

	free(descs);
	free(outcomes);
	for (unsigned int i = 0; i < opts.ncpus; i++)
		free(workers[i].nws);
	free(workers);
	free(jobs);
	free(targets);
	free(g_ctrls);
	return exit_code;
}
