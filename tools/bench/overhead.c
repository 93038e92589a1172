// SPDX-License-Identifier: BSD-3-Clause
/*
 * nvpoll-overhead: the driver's own CPU cost per I/O, against the emulated
 * controller, next to the floor any driver pays (store a 64-byte command,
 * write a doorbell, load a 16-byte completion). In the spirit of SPDK's
 * test/nvme/overhead.
 *
 * Submission is the time inside nvp_read() plus nvp_qpair_flush() (which
 * writes the doorbell); completion is the time inside nvp_qpair_poll() calls
 * that reaped something, less the time spent in our callback, per
 * completion. Polls that found nothing are reported on their own.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "hist.h"
#include "opts.h"
#include "tsc.h"

/*
 * One cost: every sample goes into a histogram too, because on a shared
 * machine a preempted call can be worth thousands of ordinary ones; the
 * median is the figure to read, the mean is shown beside it.
 */
struct acc {
	double ticks;		/* after subtracting the TSC reads */
	uint64_t n;		/* I/Os (or calls) the ticks cover */
	struct hist h;		/* per-I/O cost of each sample */
};

/* The spin-wait hint, and the barrier a doorbell store needs after a
 * command's stores on a write-combining mapping (the floor row). */
#if defined(__x86_64__)
#define cpu_relax()	__builtin_ia32_pause()
#define DB_FENCE	"sfence"
#elif defined(__aarch64__)
#define cpu_relax()	__asm__ volatile("yield")
#define DB_FENCE	"dsb st"
#else
#error "nvpoll-overhead supports x86-64 and arm64"
#endif

static double g_timer_ticks;	/* cost of one back-to-back TSC read */

/* Histogram samples are in 1/ACC_SCALE ticks: floor ops cost under a tick. */
#define ACC_SCALE 64

/* @raw ticks of one bracket covering @ios I/Os and @reads extra TSC reads */
static void acc_add(struct acc *a, uint64_t raw, uint64_t ios, double reads)
{
	double v = (double)raw - g_timer_ticks * reads;

	if (v < 0)
		v = 0;
	a->ticks += v;
	a->n += ios;
	hist_record(&a->h, (uint64_t)(v * ACC_SCALE / (double)ios + 0.5));
}

static double acc_mean(const struct acc *a)
{
	return a->n ? a->ticks / (double)a->n : 0;
}

/* Bucket midpoint of the median sample. */
static double acc_median(const struct acc *a)
{
	uint64_t hi = hist_percentile(&a->h, 0.5);
	unsigned int i = hist_index(hi);

	return hist_total(&a->h) ?
	       ((double)hist_bucket_low(i) + (double)hist_bucket_high(i)) / 2 / ACC_SCALE : 0;
}

struct run {
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	void *buf;
	uint32_t nlb;
	uint64_t units;
	uint64_t next_unit;
	uint32_t done;
	unsigned int errors;
	uint16_t first_status;
};

struct result {
	struct acc submit, doorbell, complete, idle;
	uint64_t busy_polls;	/* polls that reaped at least one completion */
};

static uint64_t g_hz;
static double g_cb_ticks;	/* cost of one call of our callback */
static uint64_t g_settle_ticks;	/* wait after the doorbell before polling */

/*
 * Kept trivial and untimed: TSC reads inside it would cost more than it
 * does. Its cost is measured on its own (callback_cost()) and subtracted.
 */
static void cb(void *arg, const struct nvp_cqe *cpl)
{
	struct run *r = arg;

	if (__builtin_expect(NVP_CPL_IS_ERROR(cpl), 0) && !r->errors++)
		r->first_status = cpl->status;
	r->done++;
}

/* The callback called through a pointer, as the driver does, per call. */
static double callback_cost(void)
{
	static struct nvp_cqe cqe;
	struct run r = { 0 };
	nvp_cmd_cb volatile fn = cb;
	const uint64_t n = 1000000;
	uint64_t t0 = tsc_now();

	for (uint64_t i = 0; i < n; i++)
		fn(&r, &cqe);
	return ((double)(tsc_now() - t0) - g_timer_ticks) / (double)n;
}

/* Median of back-to-back TSC reads: a mean would include preemptions. */
static void measure_timer(void)
{
	static struct hist h;
	unsigned int i;

	for (int n = 0; n < 1000000; n++) {
		uint64_t t0 = tsc_now();

		hist_record(&h, tsc_now() - t0);
	}
	i = hist_index(hist_percentile(&h, 0.5));
	g_timer_ticks = ((double)hist_bucket_low(i) + (double)hist_bucket_high(i)) / 2;
}

/* @batch commands per round; returns 0 or a negative errno. */
static int run_driver(struct run *r, uint32_t batch, uint64_t ios, struct result *res)
{
	memset(res, 0, sizeof(*res));
	r->errors = 0;
	for (uint64_t issued = 0; issued < ios; issued += batch) {
		uint64_t t0, t1;
		int rc;

		r->done = 0;
		t0 = tsc_now();
		for (uint32_t i = 0; i < batch; i++) {
			uint64_t lba = (r->next_unit++ % r->units) * r->nlb;

			rc = nvp_read(r->qp, r->ns, r->buf, lba, r->nlb, 0, cb, r);
			if (rc) {
				fprintf(stderr, "nvpoll-overhead: nvp_read: %s (%s)\n",
					strerror(-rc), nvp_last_error());
				return rc;
			}
		}
		t1 = tsc_now();
		acc_add(&res->submit, t1 - t0, batch, 1);
		t0 = tsc_now();
		nvp_qpair_flush(r->qp);
		t1 = tsc_now();
		acc_add(&res->doorbell, t1 - t0, batch, 1);
		/*
		 * Let the device finish before the first poll, so a poll finds
		 * the whole batch and we time the driver, not a race with the
		 * device thread (that race is device-specific and shows as
		 * empty polls and fewer completions per poll instead).
		 */
		if (g_settle_ticks)
			for (uint64_t until = tsc_now() + g_settle_ticks; tsc_now() < until;)
				cpu_relax();
		while (r->done < batch) {
			t0 = tsc_now();
			rc = nvp_qpair_poll(r->qp, 0);
			t1 = tsc_now();
			if (rc < 0) {
				fprintf(stderr, "nvpoll-overhead: nvp_qpair_poll: %s (%s)\n",
					strerror(-rc), nvp_last_error());
				return rc;
			}
			if (rc == 0) {
				acc_add(&res->idle, t1 - t0, 1, 1);
			} else {
				/* includes our callbacks; their cost is known apart */
				acc_add(&res->complete, t1 - t0, (uint64_t)rc, 1);
				res->busy_polls++;
			}
		}
	}
	if (r->errors) {
		fprintf(stderr, "nvpoll-overhead: %u reads failed, first: %s\n", r->errors,
			nvp_status_str(r->first_status));
		return -EIO;
	}
	return 0;
}

/* ---- the floor -------------------------------------------------------------- */

#define RING 256

struct cmd64 {
	uint64_t q[8];
};

struct cqe16 {
	uint64_t lo;
	uint64_t hi;
};

/* file scope so the stores count as used */
static struct cmd64 g_sq_ring[RING] __attribute__((aligned(64)));

/*
 * Floor ops are timed in brackets of this many: a TSC read costs more than
 * a store, so shorter brackets would measure the clock, not the op.
 */
#define FLOOR_GROUP 4096

static void floor_sqe_store(struct acc *a, uint64_t n)
{
	struct cmd64 tmpl = { { 0x02, 1, 0, 0, 0x1000, 0, 7, 0 } };
	uint64_t slot = 0;

	for (uint64_t g = 0; g < n / FLOOR_GROUP; g++) {
		uint64_t t0 = tsc_now();

		for (int i = 0; i < FLOOR_GROUP; i++, slot++) {
			tmpl.q[0] = 0x02 | (slot << 16);	/* a fresh command ID */
			g_sq_ring[slot % RING] = tmpl;
			__asm__ volatile("" ::: "memory");
		}
		acc_add(a, tsc_now() - t0, FLOOR_GROUP, 1);
	}
}

static void floor_doorbell(struct acc *a, uint64_t n, bool fence)
{
	static uint32_t page[1024] __attribute__((aligned(4096)));
	volatile uint32_t *db = &page[2];
	uint32_t tail = 0;

	for (uint64_t g = 0; g < n / FLOOR_GROUP; g++) {
		uint64_t t0 = tsc_now();

		for (int i = 0; i < FLOOR_GROUP; i++) {
			if (fence)
				__asm__ volatile(DB_FENCE ::: "memory");
			*db = ++tail % RING;
		}
		acc_add(a, tsc_now() - t0, FLOOR_GROUP, 1);
	}
}

static void floor_cqe_load(struct acc *a, uint64_t n)
{
	static struct cqe16 ring[RING] __attribute__((aligned(64)));
	volatile struct cqe16 *cq = ring;
	uint64_t sum = 0, head = 0;

	for (int i = 0; i < RING; i++)
		ring[i].hi = (uint64_t)1 << 48;	/* phase bit set */
	for (uint64_t g = 0; g < n / FLOOR_GROUP; g++) {
		uint64_t t0 = tsc_now();

		for (int i = 0; i < FLOOR_GROUP; i++, head++) {
			volatile struct cqe16 *e = &cq[head % RING];
			uint64_t hi = e->hi;

			if (hi & ((uint64_t)1 << 48))
				sum += e->lo + hi;
			__asm__ volatile("" ::: "memory");
		}
		acc_add(a, tsc_now() - t0, FLOOR_GROUP, 1);
	}
	__asm__ volatile("" : : "r"(sum));
}

/* ---- main ------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: nvpoll-overhead [-a ADDRESS] [-n NSID] [-o BYTES] [-i IOS] [-b BATCH] [-c CPU]\n"
"                       [-s MICROSECONDS]\n"
"\n"
"Measure nvpoll's CPU cost per I/O (submission and completion, at QD1 and\n"
"in batches) and the floor it is compared with, in one run.\n"
"\n"
"  -a ADDRESS  controller (default emu:, its device thread pinned to\n"
"              another CPU than -c: emu:cpu=N)\n"
"  -n NSID     namespace (default: the first active one)\n"
"  -o BYTES    read size (default 4096)\n"
"  -i IOS      reads per measurement (default 200000)\n"
"  -b BATCH    commands per batch for the batched rows (default 32)\n"
"  -c CPU      CPU to pin the measuring thread to (default: first allowed)\n"
"  -s US       wait this long after the doorbell before the first poll, so\n"
"              polls find whole batches (default 50; 0 polls at once and\n"
"              races the device)\n"
"  -h          this text\n");
}

static void row(const char *name, double ticks)
{
	printf("  %-46s %9.1f %9.1f\n", name, tsc_to_ns(ticks, g_hz), ticks);
}

static void row_acc(const char *name, const struct acc *a)
{
	double med = acc_median(a), mean = acc_mean(a);

	printf("  %-46s %9.1f %9.1f %11.1f\n", name, tsc_to_ns(med, g_hz), med,
	       tsc_to_ns(mean, g_hz));
}

int main(int argc, char **argv)
{
	const char *addr = "emu:";
	uint32_t nsid = 0, batch = 32;
	uint64_t io_size = 4096, ios = 200000, floor_n = 3200000;
	int cpu = -1, c, rc;
	double settle_us = 50;
	static char emu_addr[32];
	struct nvp_ctrl *ctrl;
	struct nvp_qpair_opts qo;
	const struct nvp_ns_info *ni;
	struct run r = { 0 };
	static struct result qd1, qdb;
	static struct acc f_sqe, f_db, f_dbf, f_cqe;
	double d1_total, db_total, d1_cpl, db_cpl, floor1, floorb;
	cpu_set_t set;

	while ((c = getopt(argc, argv, "a:n:o:i:b:c:s:h")) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'n':
			nsid = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			if (perf_parse_size(optarg, &io_size) || !io_size) {
				fprintf(stderr, "nvpoll-overhead: bad -o %s\n", optarg);
				return 2;
			}
			break;
		case 'i':
			ios = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			batch = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 's':
			settle_us = strtod(optarg, NULL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ios || !batch || batch > 1023) {
		fprintf(stderr, "nvpoll-overhead: -i must be > 0 and -b 1..1023\n");
		return 2;
	}
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	if (cpu < 0)
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	/* the default emulated controller gets a CPU of its own, if there is one */
	if (!strcmp(addr, "emu:")) {
		for (int other = 0; other < CPU_SETSIZE; other++) {
			if (other != cpu && CPU_ISSET(other, &set)) {
				snprintf(emu_addr, sizeof(emu_addr), "emu:cpu=%d", other);
				addr = emu_addr;
				break;
			}
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "nvpoll-overhead: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
		return 2;
	}

	g_hz = tsc_calibrate(200);
	measure_timer();
	g_cb_ticks = callback_cost();
	g_settle_ticks = settle_us > 0 ? (uint64_t)(settle_us * (double)g_hz / 1e6) : 0;

	rc = nvp_ctrl_attach(addr, NULL, &ctrl);
	if (rc) {
		fprintf(stderr, "nvpoll-overhead: cannot attach %s: %s\n", addr,
			nvp_last_error());
		return 2;
	}
	r.ns = nsid ? nvp_ctrl_get_ns(ctrl, nsid) : nvp_ctrl_first_ns(ctrl);
	if (!r.ns) {
		fprintf(stderr, "nvpoll-overhead: %s has no namespace %u\n", addr, nsid);
		nvp_ctrl_detach(ctrl);
		return 2;
	}
	ni = nvp_ns_get_info(r.ns);
	if (io_size % ni->block_size || io_size > ni->size_bytes) {
		fprintf(stderr, "nvpoll-overhead: -o %" PRIu64 " does not fit blocks of %u "
			"bytes in a %" PRIu64 "-byte namespace\n", io_size, ni->block_size,
			ni->size_bytes);
		nvp_ctrl_detach(ctrl);
		return 2;
	}
	r.nlb = (uint32_t)(io_size / ni->block_size);
	r.units = ni->num_blocks / r.nlb;
	nvp_qpair_opts_init(ctrl, &qo, sizeof(qo));
	if (qo.queue_size < batch + 1)
		qo.queue_size = batch + 1;
	qo.num_requests = qo.queue_size - 1;
	qo.max_completions = qo.queue_size - 1;
	rc = nvp_qpair_alloc(ctrl, &qo, &r.qp);
	if (rc) {
		fprintf(stderr, "nvpoll-overhead: nvp_qpair_alloc: %s\n", nvp_last_error());
		nvp_ctrl_detach(ctrl);
		return 1;
	}
	r.buf = nvp_dma_alloc(io_size, 4096, nvp_ctrl_numa_node(ctrl));
	if (!r.buf) {
		fprintf(stderr, "nvpoll-overhead: nvp_dma_alloc: %s\n", nvp_last_error());
		rc = -ENOMEM;
		goto out;
	}

	/* warm caches and the device thread, then measure */
	rc = run_driver(&r, 1, ios / 10 + 1, &qd1);
	if (!rc)
		rc = run_driver(&r, 1, ios, &qd1);
	if (!rc)
		rc = run_driver(&r, batch, ios, &qdb);
	if (rc)
		goto out;
	floor_sqe_store(&f_sqe, floor_n);
	floor_doorbell(&f_db, floor_n, false);
	floor_doorbell(&f_dbf, floor_n, true);
	floor_cqe_load(&f_cqe, floor_n);

	d1_cpl = acc_median(&qd1.complete) - g_cb_ticks;
	db_cpl = acc_median(&qdb.complete) - g_cb_ticks;
	if (d1_cpl < 0)
		d1_cpl = 0;
	if (db_cpl < 0)
		db_cpl = 0;
	d1_total = acc_median(&qd1.submit) + acc_median(&qd1.doorbell) + d1_cpl;
	db_total = acc_median(&qdb.submit) + acc_median(&qdb.doorbell) + db_cpl;
	floor1 = acc_median(&f_sqe) + acc_median(&f_db) + acc_median(&f_cqe);
	floorb = acc_median(&f_sqe) + acc_median(&f_db) / batch + acc_median(&f_cqe);

	printf("nvpoll-overhead: %s ns%u, %" PRIu64 "-byte reads, %" PRIu64 " per row, "
	       "CPU %d, TSC %.3f GHz, settle %.0f us, shadow doorbells %s\n",
	       addr, ni->nsid, io_size, ios, cpu, (double)g_hz / 1e9, settle_us,
	       nvp_ctrl_get_info(ctrl)->shadow_doorbells ? "on" : "off");
	printf("The TSC read closing each bracket (%.1f cycles) is subtracted. Our "
	       "callback costs %.1f cycles a call\nin a loop of its own and is "
	       "subtracted from completion. Median per I/O; the mean beside it\n"
	       "includes preemption on a busy machine.\n\n", g_timer_ticks, g_cb_ticks);
	printf("  %-46s %9s %9s %11s\n", "per I/O", "ns", "cycles", "mean ns");
	printf("QD1\n");
	row_acc("submit: nvp_read()", &qd1.submit);
	row_acc("doorbell: nvp_qpair_flush()", &qd1.doorbell);
	row_acc("complete: nvp_qpair_poll() with callback", &qd1.complete);
	row("complete less callback", d1_cpl);
	row("driver total (medians)", d1_total);
	row_acc("empty poll (per call)", &qd1.idle);
	printf("batches of %u\n", batch);
	row_acc("submit: nvp_read()", &qdb.submit);
	row_acc("doorbell: nvp_qpair_flush(), share per I/O", &qdb.doorbell);
	row_acc("complete: nvp_qpair_poll() with callback", &qdb.complete);
	row("complete less callback", db_cpl);
	row("driver total (medians)", db_total);
	row_acc("empty poll (per call)", &qdb.idle);
	printf("  (%.1f completions per non-empty poll)\n",
	       qdb.busy_polls ? (double)qdb.complete.n / (double)qdb.busy_polls : 0.0);
	printf("floor (brackets of %d, %" PRIu64 " ops each)\n", FLOOR_GROUP, floor_n);
	row_acc("store one 64-byte command into a ring", &f_sqe);
	row_acc("one 32-bit doorbell store", &f_db);
	row_acc("one 32-bit doorbell store after " DB_FENCE, &f_dbf);
	row_acc("load one 16-byte completion (phase check)", &f_cqe);
	row("floor at QD1 (command + doorbell + completion)", floor1);
	row("floor in batches (doorbell shared)", floorb);
	printf("\ndriver / floor: QD1 %.1fx, batches of %u %.1fx\n",
	       floor1 > 0 ? d1_total / floor1 : 0, batch, floorb > 0 ? db_total / floorb : 0);
out:
	nvp_qpair_free(r.qp);
	nvp_dma_free(r.buf);
	nvp_ctrl_detach(ctrl);
	return rc ? 1 : 0;
}
