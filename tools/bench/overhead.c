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
 *
 * Every row is measured twice when the CPU's instruction counter can be
 * read (perf_event_open): once in TSC cycles, once in user-space
 * instructions retired. Instruction counts do not move with the load of a
 * shared machine, so they are the figure to compare between builds; where
 * there is no counter (most VMs), tools/bench/overhead-instructions.py
 * counts them under valgrind with -m.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <nvpoll/emu.h>
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

/*
 * What a bracket is measured in: TSC ticks, or user-space instructions
 * retired (the second pass, when the counter opens). acc_add() subtracts
 * the cost of the closing stamp of the meter in use.
 */
enum meter { METER_TSC, METER_INSTRUCTIONS, NUM_METERS };

static enum meter g_meter;
static int g_ins_fd = -1;		/* perf_event instructions counter */
static double g_stamp_cost[NUM_METERS];	/* one back-to-back stamp, median */

/* User-space instructions retired so far; the kernel's share of read() is
 * excluded by the counter (exclude_kernel), libc's wrapper is calibrated. */
static uint64_t ins_now(void)
{
	uint64_t v = 0;

	if (read(g_ins_fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		v = 0;
	return v;
}

static inline uint64_t stamp(void)
{
	return __builtin_expect(g_meter == METER_INSTRUCTIONS, 0) ? ins_now() : tsc_now();
}

/* Open the instructions counter; on failure @why says why (no PMU in a VM,
 * perf_event_paranoid). */
static void open_instruction_counter(char *why, size_t len)
{
	struct perf_event_attr pa;

	memset(&pa, 0, sizeof(pa));
	pa.type = PERF_TYPE_HARDWARE;
	pa.size = sizeof(pa);
	pa.config = PERF_COUNT_HW_INSTRUCTIONS;
	pa.exclude_kernel = 1;
	pa.exclude_hv = 1;
	g_ins_fd = (int)syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);
	if (g_ins_fd < 0)
		snprintf(why, len, "perf_event_open: %s%s", strerror(errno),
			 errno == ENOENT || errno == EOPNOTSUPP ?
			 " (no hardware counter, as in most VMs)" :
			 errno == EACCES || errno == EPERM ?
			 " (see /proc/sys/kernel/perf_event_paranoid)" : "");
}

/* Histogram samples are in 1/ACC_SCALE ticks: floor ops cost under a tick. */
#define ACC_SCALE 64

/* @raw ticks of one bracket covering @ios I/Os and @reads extra TSC reads */
static void acc_add(struct acc *a, uint64_t raw, uint64_t ios, double reads)
{
	double v = (double)raw - g_stamp_cost[g_meter] * reads;

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
static uint64_t g_settle_ticks;	/* wait after the doorbell before polling */
static bool g_yield_when_idle;	/* -m: give the CPU away after an empty poll */

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
	uint64_t t0 = stamp();

	for (uint64_t i = 0; i < n; i++)
		fn(&r, &cqe);
	return ((double)(stamp() - t0) - g_stamp_cost[g_meter]) / (double)n;
}

/* Median of back-to-back stamps: a mean would include preemptions. */
static void measure_timer(void)
{
	static struct hist h;
	unsigned int i;

	memset(&h, 0, sizeof(h));
	for (int n = 0; n < 1000000; n++) {
		uint64_t t0 = stamp();

		hist_record(&h, stamp() - t0);
	}
	i = hist_index(hist_percentile(&h, 0.5));
	g_stamp_cost[g_meter] = ((double)hist_bucket_low(i) + (double)hist_bucket_high(i)) / 2;
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
		t0 = stamp();
		for (uint32_t i = 0; i < batch; i++) {
			uint64_t lba = (r->next_unit++ % r->units) * r->nlb;

			rc = nvp_read(r->qp, r->ns, r->buf, lba, r->nlb, 0, cb, r);
			if (rc) {
				fprintf(stderr, "nvpoll-overhead: nvp_read: %s (%s)\n",
					strerror(-rc), nvp_last_error());
				return rc;
			}
		}
		t1 = stamp();
		acc_add(&res->submit, t1 - t0, batch, 1);
		t0 = stamp();
		nvp_qpair_flush(r->qp);
		t1 = stamp();
		acc_add(&res->doorbell, t1 - t0, batch, 1);
		/*
		 * Let the device finish before the first poll, so a poll finds
		 * the whole batch and we time the driver, not a race with the
		 * device thread (that race is device-specific and shows as
		 * empty polls and fewer completions per poll instead).
		 */
		if (g_yield_when_idle) {
			/* -m (under valgrind): sleep, so its scheduler runs the
			 * device thread and the first poll finds the batch */
			const struct timespec nap = { 0, 1000000 };

			nanosleep(&nap, NULL);
		} else if (g_settle_ticks) {
			for (uint64_t until = tsc_now() + g_settle_ticks; tsc_now() < until;)
				cpu_relax();
		}
		while (r->done < batch) {
			t0 = stamp();
			rc = nvp_qpair_poll(r->qp, 0);
			t1 = stamp();
			if (rc < 0) {
				fprintf(stderr, "nvpoll-overhead: nvp_qpair_poll: %s (%s)\n",
					strerror(-rc), nvp_last_error());
				return rc;
			}
			if (rc == 0) {
				acc_add(&res->idle, t1 - t0, 1, 1);
				/* -m under valgrind: let its scheduler run the device thread */
				if (g_yield_when_idle)
					sched_yield();
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
		uint64_t t0 = stamp();

		for (int i = 0; i < FLOOR_GROUP; i++, slot++) {
			tmpl.q[0] = 0x02 | (slot << 16);	/* a fresh command ID */
			g_sq_ring[slot % RING] = tmpl;
			__asm__ volatile("" ::: "memory");
		}
		acc_add(a, stamp() - t0, FLOOR_GROUP, 1);
	}
}

static void floor_doorbell(struct acc *a, uint64_t n, bool fence)
{
	static uint32_t page[1024] __attribute__((aligned(4096)));
	volatile uint32_t *db = &page[2];
	uint32_t tail = 0;

	for (uint64_t g = 0; g < n / FLOOR_GROUP; g++) {
		uint64_t t0 = stamp();

		for (int i = 0; i < FLOOR_GROUP; i++) {
			if (fence)
				__asm__ volatile(DB_FENCE ::: "memory");
			*db = ++tail % RING;
		}
		acc_add(a, stamp() - t0, FLOOR_GROUP, 1);
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
		uint64_t t0 = stamp();

		for (int i = 0; i < FLOOR_GROUP; i++, head++) {
			volatile struct cqe16 *e = &cq[head % RING];
			uint64_t hi = e->hi;

			if (hi & ((uint64_t)1 << 48))
				sum += e->lo + hi;
			__asm__ volatile("" ::: "memory");
		}
		acc_add(a, stamp() - t0, FLOOR_GROUP, 1);
	}
	__asm__ volatile("" : : "r"(sum));
}

/* ---- main ------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: nvpoll-overhead [-a ADDRESS] [-n NSID] [-o BYTES] [-i IOS] [-b BATCH] [-c CPU]\n"
"                       [-s MICROSECONDS] [-m MODE]\n"
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
"  -m MODE     all (default: the table), or run only one part and print its\n"
"              counts, for counting instructions under valgrind\n"
"              (tools/bench/overhead-instructions.py): qd1, batch, or idle\n"
"              (empty polls only)\n"
"  -h          this text\n");
}

/* Every figure of one pass (one meter). */
struct pass {
	struct result qd1, qdb;
	struct acc f_sqe, f_db, f_dbf, f_cqe;
	double cb;		/* one call of our callback */
	bool done;
};

static struct pass g_pass[NUM_METERS];

static double median_or_zero(double v)
{
	return v < 0 ? 0 : v;
}

/* One pass over every row, in the meter g_meter. */
static int measure_pass(struct run *r, uint32_t batch, uint64_t ios, uint64_t floor_n)
{
	struct pass *p = &g_pass[g_meter];
	int rc;

	measure_timer();
	p->cb = callback_cost();
	/* warm caches and the device thread, then measure */
	rc = run_driver(r, 1, ios / 10 + 1, &p->qd1);
	if (!rc)
		rc = run_driver(r, 1, ios, &p->qd1);
	if (!rc)
		rc = run_driver(r, batch, ios, &p->qdb);
	if (rc)
		return rc;
	floor_sqe_store(&p->f_sqe, floor_n);
	floor_doorbell(&p->f_db, floor_n, false);
	floor_doorbell(&p->f_dbf, floor_n, true);
	floor_cqe_load(&p->f_cqe, floor_n);
	p->done = true;
	return 0;
}

/* A row: ns and cycles from the TSC pass, instructions from the other. */
static void row(const char *name, double ticks, double ins, double mean_ticks)
{
	char ins_s[16] = "-", mean_s[16] = "";

	if (g_pass[METER_INSTRUCTIONS].done)
		snprintf(ins_s, sizeof(ins_s), "%.1f", ins);
	if (mean_ticks >= 0)
		snprintf(mean_s, sizeof(mean_s), "%.1f", tsc_to_ns(mean_ticks, g_hz));
	printf("  %-46s %9.1f %9.1f %9s %11s\n", name, tsc_to_ns(ticks, g_hz), ticks, ins_s,
	       mean_s);
}

/* The row of one accumulator, found at the same offset in both passes. */
#define ROW_ACC(name, member)                                                      \
	row(name, acc_median(&g_pass[METER_TSC].member),                           \
	    acc_median(&g_pass[METER_INSTRUCTIONS].member), acc_mean(&g_pass[METER_TSC].member))

/* Per-I/O totals of one pass: [0] QD1, [1] batches; callback subtracted. */
static void totals(const struct pass *p, uint32_t batch, double cpl[2], double tot[2],
		   double floor[2])
{
	cpl[0] = median_or_zero(acc_median(&p->qd1.complete) - p->cb);
	cpl[1] = median_or_zero(acc_median(&p->qdb.complete) - p->cb);
	tot[0] = acc_median(&p->qd1.submit) + acc_median(&p->qd1.doorbell) + cpl[0];
	tot[1] = acc_median(&p->qdb.submit) + acc_median(&p->qdb.doorbell) + cpl[1];
	floor[0] = acc_median(&p->f_sqe) + acc_median(&p->f_db) + acc_median(&p->f_cqe);
	floor[1] = acc_median(&p->f_sqe) + acc_median(&p->f_db) / batch + acc_median(&p->f_cqe);
}

static void print_table(uint32_t batch, uint64_t floor_n)
{
	const struct pass *t = &g_pass[METER_TSC], *in = &g_pass[METER_INSTRUCTIONS];
	double cpl[2], tot[2], flo[2], icpl[2] = { 0 }, itot[2] = { 0 }, iflo[2] = { 0 };

	totals(t, batch, cpl, tot, flo);
	if (in->done)
		totals(in, batch, icpl, itot, iflo);
	printf("  %-46s %9s %9s %9s %11s\n", "per I/O", "ns", "cycles", "instr", "mean ns");
	printf("QD1\n");
	ROW_ACC("submit: nvp_read()", qd1.submit);
	ROW_ACC("doorbell: nvp_qpair_flush()", qd1.doorbell);
	ROW_ACC("complete: nvp_qpair_poll() with callback", qd1.complete);
	row("complete less callback", cpl[0], icpl[0], -1);
	row("driver total (medians)", tot[0], itot[0], -1);
	row("submit + complete (no doorbell)", tot[0] - acc_median(&t->qd1.doorbell),
	    itot[0] - acc_median(&in->qd1.doorbell), -1);
	ROW_ACC("empty poll (per call)", qd1.idle);
	printf("batches of %u\n", batch);
	ROW_ACC("submit: nvp_read()", qdb.submit);
	ROW_ACC("doorbell: nvp_qpair_flush(), share per I/O", qdb.doorbell);
	ROW_ACC("complete: nvp_qpair_poll() with callback", qdb.complete);
	row("complete less callback", cpl[1], icpl[1], -1);
	row("driver total (medians)", tot[1], itot[1], -1);
	ROW_ACC("empty poll (per call)", qdb.idle);
	printf("  (%.1f completions per non-empty poll)\n",
	       t->qdb.busy_polls ? (double)t->qdb.complete.n / (double)t->qdb.busy_polls : 0.0);
	printf("floor (brackets of %d, %" PRIu64 " ops each)\n", FLOOR_GROUP, floor_n);
	ROW_ACC("store one 64-byte command into a ring", f_sqe);
	ROW_ACC("one 32-bit doorbell store", f_db);
	ROW_ACC("one 32-bit doorbell store after " DB_FENCE, f_dbf);
	ROW_ACC("load one 16-byte completion (phase check)", f_cqe);
	row("floor at QD1 (command + doorbell + completion)", flo[0], iflo[0], -1);
	row("floor in batches (doorbell shared)", flo[1], iflo[1], -1);
	printf("\ndriver / floor (cycles): QD1 %.1fx, batches of %u %.1fx\n",
	       flo[0] > 0 ? tot[0] / flo[0] : 0, batch, flo[1] > 0 ? tot[1] / flo[1] : 0);
}

/*
 * -m qd1|batch|idle: run one part only, untimed output, for counting
 * instructions of nvp_read(), nvp_qpair_flush() and nvp_qpair_poll() under
 * valgrind. The counts line says how many calls found nothing, so empty
 * polls can be taken out of the completion figure.
 */
static int run_one_part(struct nvp_ctrl *ctrl, struct run *r, const char *mode,
			uint32_t batch, uint64_t ios)
{
	struct result res;
	int rc;

	if (!strcmp(mode, "idle")) {
		/*
		 * Empty polls with one command outstanding, as in the QD1 and
		 * batch loops: the emulated device holds one read for a minute
		 * (nvp_qpair_free() ends it afterwards).
		 */
		struct nvp_emu_fault hold = {
			.type = NVP_EMU_FAULT_DELAY, .count = 1, .match = NVP_EMU_MATCH_IO,
			.delay_us = 60u * 1000 * 1000,
		};

		rc = nvp_emu_inject(ctrl, &hold, sizeof(hold));
		if (!rc)
			rc = nvp_read(r->qp, r->ns, r->buf, 0, r->nlb, 0, cb, r);
		if (rc) {
			fprintf(stderr, "nvpoll-overhead: -m idle needs the emulated controller "
				"(emu:): %s\n", nvp_last_error());
			return rc;
		}
		nvp_qpair_flush(r->qp);
		for (uint64_t i = 0; i < ios; i++) {
			rc = nvp_qpair_poll(r->qp, 0);
			if (rc) {
				fprintf(stderr, "nvpoll-overhead: a poll of the held command "
					"returned %d\n", rc);
				return rc < 0 ? rc : -EIO;
			}
		}
		printf("counts: mode=idle ios=0 polls=%" PRIu64 " busy_polls=0 empty_polls=%"
		       PRIu64 "\n", ios, ios);
		return 0;
	}
	rc = run_driver(r, !strcmp(mode, "qd1") ? 1 : batch, ios, &res);
	if (rc)
		return rc;
	printf("counts: mode=%s batch=%u ios=%" PRIu64 " polls=%" PRIu64 " busy_polls=%" PRIu64
	       " empty_polls=%" PRIu64 "\n", mode, !strcmp(mode, "qd1") ? 1 : batch,
	       res.complete.n, res.busy_polls + res.idle.n, res.busy_polls, res.idle.n);
	return 0;
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
	const char *mode = "all";
	char ins_why[160] = "";
	cpu_set_t set;

	while ((c = getopt(argc, argv, "a:n:o:i:b:c:s:m:h")) != -1) {
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
		case 'm':
			mode = optarg;
			if (strcmp(mode, "all") && strcmp(mode, "qd1") && strcmp(mode, "batch") &&
			    strcmp(mode, "idle")) {
				fprintf(stderr, "nvpoll-overhead: -m takes all, qd1, batch or idle\n");
				return 2;
			}
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
	if (!strcmp(mode, "all"))
		open_instruction_counter(ins_why, sizeof(ins_why));
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

	if (strcmp(mode, "all")) {
		g_yield_when_idle = true;
		rc = run_one_part(ctrl, &r, mode, batch, ios);
		goto out;
	}
	g_meter = METER_TSC;
	rc = measure_pass(&r, batch, ios, floor_n);
	if (!rc && g_ins_fd >= 0) {
		g_meter = METER_INSTRUCTIONS;
		rc = measure_pass(&r, batch, ios, floor_n);
		g_meter = METER_TSC;
	}
	if (rc)
		goto out;

	printf("nvpoll-overhead: %s ns%u, %" PRIu64 "-byte reads, %" PRIu64 " per row, "
	       "CPU %d, TSC %.3f GHz, settle %.0f us, shadow doorbells %s\n",
	       addr, ni->nsid, io_size, ios, cpu, (double)g_hz / 1e9, settle_us,
	       nvp_ctrl_get_info(ctrl)->shadow_doorbells ? "on" : "off");
	printf("The stamp closing each bracket (TSC read %.1f cycles", g_stamp_cost[METER_TSC]);
	if (g_pass[METER_INSTRUCTIONS].done)
		printf(", counter read %.1f instructions", g_stamp_cost[METER_INSTRUCTIONS]);
	printf(") is subtracted.\nOur callback costs %.1f cycles", g_pass[METER_TSC].cb);
	if (g_pass[METER_INSTRUCTIONS].done)
		printf(" (%.1f instructions)", g_pass[METER_INSTRUCTIONS].cb);
	printf(" a call in a loop of its own and is\nsubtracted from completion. Median per "
	       "I/O; the mean beside it includes preemption\non a busy machine. ");
	if (g_pass[METER_INSTRUCTIONS].done)
		printf("instr: user-space instructions retired, from a second pass.\n\n");
	else
		printf("instr: not counted here (%s);\ntools/bench/overhead-instructions.py "
		       "counts them under valgrind.\n\n", ins_why);
	print_table(batch, floor_n);
out:
	nvp_qpair_free(r.qp);
	nvp_dma_free(r.buf);
	nvp_ctrl_detach(ctrl);
	return rc ? 1 : 0;
}
