/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-torture: a model-based torture test of nvpoll's public API.
 * See README.md for what is modelled and how to replay a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "torture.h"

struct t_cfg cfg;
struct t_ctrl ctrls[T_MAX_CTRLS];
int nctrls, nmain;
struct t_thread *threads[T_MAX_THREADS];
_Thread_local struct t_thread *tls;
atomic_bool t_stop;
atomic_uint fepoch_req, fepoch_done;

static uint64_t t_start;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool reporting;
static char cmdline[2048];
static const char *fatal_addr = "emu:ns=32M:512,mdts=3,qpairs=32";

void t_admin_check_all(int idx);

/* ------------------------------------------------------------------------ */
/* Time, names                                                              */
/* ------------------------------------------------------------------------ */

uint64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t t_ms(void)
{
	return (t_now_ns() - t_start) / 1000000;
}

const char *t_errname(int err)
{
	switch (err) {
	case 0: return "0";
	case -EINVAL: return "EINVAL";
	case -ERANGE: return "ERANGE";
	case -EFAULT: return "EFAULT";
	case -EAGAIN: return "EAGAIN";
	case -ENXIO: return "ENXIO";
	case -ENODEV: return "ENODEV";
	case -EBUSY: return "EBUSY";
	case -ENOENT: return "ENOENT";
	case -EEXIST: return "EEXIST";
	case -ENOTSUP: return "ENOTSUP";
	case -ENOSPC: return "ENOSPC";
	case -ENOMEM: return "ENOMEM";
	case -ETIMEDOUT: return "ETIMEDOUT";
	case -EIO: return "EIO";
	case -EXDEV: return "EXDEV";
	case -E2BIG: return "E2BIG";
	default: return err > 0 ? "positive!" : "other";
	}
}

const char *t_kind_name(int kind)
{
	static const char *const n[K_COUNT] = {
		[K_READ] = "read", [K_WRITE] = "write", [K_READV] = "readv",
		[K_WRITEV] = "writev", [K_RAW_READ] = "raw-read", [K_RAW_WRITE] = "raw-write",
		[K_COMPARE] = "raw-compare", [K_FLUSH] = "flush", [K_WZ] = "write-zeroes",
		[K_DSM] = "deallocate", [K_RAW_BAD] = "raw-bad", [K_RAW_FLUSH_ALL] = "raw-flush-all",
		[K_QP_ALLOC] = "qpair-alloc", [K_QP_FREE] = "qpair-free", [K_POLL] = "poll",
		[K_ADMIN] = "admin", [K_MEM] = "mem", [K_FAULT] = "fault", [K_QUIESCE] = "quiesce",
		[K_CHECK] = "refusal",
	};

	return kind >= 0 && kind < K_COUNT && n[kind] ? n[kind] : "?";
}

bool t_op_enabled(enum t_opclass oc)
{
	return cfg.ops_mask & (1u << oc);
}

bool t_reset_since(const struct t_ctrl *c, uint32_t rs0)
{
	uint32_t st = atomic_load(&c->ev_started);

	return st != rs0 || st != atomic_load(&c->ev_done);
}

/* Controller events: counted, and checked against what the phase allows. */
static void event_cb(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct t_ctrl *c = arg;

	(void)ctrl;
	if (ev->size < offsetof(struct nvp_event, reason) + sizeof(ev->reason))
		t_violation(tls, "controller event with size %zu", ev->size);
	switch (ev->type) {
	case NVP_EVENT_RESET_STARTED:
		atomic_fetch_add(&c->ev_started, 1);
		/* must be refused: the event runs inside a reset or the admin poller */
		if (nvp_ctrl_reset(c->ctrl) != -EDEADLK)
			t_violation(tls, "nvp_ctrl_reset() from an event callback did not return "
				    "-EDEADLK");
		break;
	case NVP_EVENT_RESET_DONE:
		if (ev->err) {
			atomic_fetch_add(&c->ev_done_err, 1);
			if (!c->removal_expected)
				t_violation(tls, "a reset of controller %d failed: %d (%s): %s", c->idx,
					    ev->err, t_errname(ev->err), ev->reason ? ev->reason : "");
		}
		atomic_fetch_add(&c->ev_done, 1);
		break;
	case NVP_EVENT_FAILED:
		atomic_fetch_add(&c->ev_failed, 1);
		t_violation(tls, "controller %d failed: %d (%s): %s", c->idx, ev->err,
			    t_errname(ev->err), ev->reason ? ev->reason : "");
		break;
	case NVP_EVENT_REMOVED:
		atomic_fetch_add(&c->ev_removed, 1);
		if (!c->removal_expected)
			t_violation(tls, "controller %d reported removed: %s", c->idx,
				    ev->reason ? ev->reason : "");
		break;
	case NVP_EVENT_NS_ADDED:
	case NVP_EVENT_NS_CHANGED:
	case NVP_EVENT_NS_REMOVED:
		t_violation(tls, "namespace event %d for NSID %u: nothing changed namespaces",
			    ev->type, ev->nsid);
		break;
	default:
		break;
	}
}

/* Phase hand-over: threads arrive at a step; the main thread lets them go. */
static atomic_int arrived[8], go_step;

void t_arrive(struct t_thread *th, int step)
{
	(void)th;
	atomic_fetch_add(&arrived[step], 1);
}

void t_await(int step)
{
	while (atomic_load(&go_step) < step)
		usleep(200);
}

/* The admin poller (the documented duty of one application thread). */
static void admin_poll(void)
{
	for (int i = 0; i < nctrls; i++) {
		struct t_ctrl *c = &ctrls[i];
		int rc;

		if (!c->ctrl)
			continue;
		rc = nvp_ctrl_process_admin(c->ctrl);
		if (rc == -ENODEV && c->removal_expected && c->dead)
			continue;
		if (rc < 0)
			t_violation(NULL, "nvp_ctrl_process_admin() of controller %d returned %d (%s): %s",
				    i, rc, t_errname(rc), nvp_last_error());
	}
}

static void main_wait_arrivals(int step)
{
	while (atomic_load(&arrived[step]) < cfg.threads) {
		admin_poll();
		usleep(5000);
	}
}

/* ------------------------------------------------------------------------ */
/* Library messages: kept for the failure report                            */
/* ------------------------------------------------------------------------ */

#define LOG_KEEP 24
#define ERR_KEEP 8
static char log_ring[LOG_KEEP][240], err_ring[ERR_KEEP][240], rst_ring[ERR_KEEP][240];
static unsigned int log_pos, err_pos, rst_pos;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_sink(enum nvp_log_level level, const char *msg, void *arg)
{
	static const char *const lv[] = { "err", "warn", "info", "debug" };

	(void)arg;
	pthread_mutex_lock(&log_lock);
	if (strstr(msg, "resetting the controller") || strstr(msg, "reset done"))
		snprintf(rst_ring[rst_pos++ % ERR_KEEP], sizeof(rst_ring[0]), "%6" PRIu64 " ms: %s",
			 t_start ? t_ms() : 0, msg);
	if (level == NVP_LOG_ERR)	/* mostly the refusals the model asked for */
		snprintf(err_ring[err_pos++ % ERR_KEEP], sizeof(err_ring[0]), "%6" PRIu64 " ms %s: %s",
			 t_start ? t_ms() : 0, lv[level & 3], msg);
	else
		snprintf(log_ring[log_pos++ % LOG_KEEP], sizeof(log_ring[0]), "%6" PRIu64 " ms %s: %s",
			 t_start ? t_ms() : 0, lv[level & 3], msg);
	pthread_mutex_unlock(&log_lock);
	if (cfg.verbose)
		fprintf(stderr, "nvpoll %s: %s\n", lv[level & 3], msg);
}

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */
/* ------------------------------------------------------------------------ */

static void print_ring(const struct t_thread *th, uint32_t max)
{
	uint32_t n = th->ring_pos < max ? th->ring_pos : max;

	fprintf(stderr, "  last %u operations of thread %d:\n", n, th->idx);
	for (uint32_t i = th->ring_pos - n; i != th->ring_pos; i++) {
		const struct t_rec *r = &th->ring[i % T_RING];
		char st[48] = "";

		if (r->status >= 0)
			snprintf(st, sizeof(st), " status 0x%04x", (unsigned int)r->status);
		fprintf(stderr, "    #%-8" PRIu64 " %6" PRIu64 "ms %-13s c%d ns%d q%u lba %" PRIu64
			" n %" PRIu64 " rc %s%s  %s\n", r->seq, r->t, t_kind_name(r->kind), r->ctrl,
			r->ns, r->qid, r->lba, r->nlb, r->rc == 1 ? "(in call)" : r->rc == 2 ? "-" : t_errname(r->rc), st,
			r->note);
	}
}

/* After nvp_ctrl_detach(): its info and namespace infos are freed with it. */
static void forget_ctrl(struct t_ctrl *c)
{
	c->ctrl = NULL;
	c->info = NULL;
	for (int n = 0; n < c->nns; n++)
		c->ns[n].info = NULL;
}

static void report_context(struct t_thread *th)
{
	fprintf(stderr, "  controllers:\n");
	for (int i = 0; i < nctrls; i++) {
		const struct t_ctrl *c = &ctrls[i];

		fprintf(stderr, "    %d: %s (max_xfer %u, io_timeout %u ms, %u queues, sgl %d, "
			"shadow doorbells %d; resets started %u, done %u, failed %u; removed %u)\n",
			i, c->addr, c->info ? c->info->max_xfer_bytes : 0,
			c->timeout_ms, c->info ? c->info->num_io_queues : 0,
			c->info ? c->info->sgl_supported : 0, c->info ? c->info->shadow_doorbells : 0,
			atomic_load(&c->ev_started), atomic_load(&c->ev_done),
			atomic_load(&c->ev_done_err), atomic_load(&c->ev_removed));
		for (int n = 0; n < c->nns; n++)
			fprintf(stderr, "       ns%d: nsid %u, %u-byte blocks, %" PRIu64 " blocks, "
				"max_io_blocks %u\n", n, c->ns[n].info ? c->ns[n].info->nsid : 0,
				c->ns[n].bs, c->ns[n].nblocks, c->ns[n].max_io);
	}
	fprintf(stderr, "  last library errors (mostly refusals the model expected):\n");
	pthread_mutex_lock(&log_lock);
	for (unsigned int i = err_pos > ERR_KEEP ? err_pos - ERR_KEEP : 0; i < err_pos; i++)
		fprintf(stderr, "    %s\n", err_ring[i % ERR_KEEP]);
	fprintf(stderr, "  last resets:\n");
	for (unsigned int i = rst_pos > ERR_KEEP ? rst_pos - ERR_KEEP : 0; i < rst_pos; i++)
		fprintf(stderr, "    %s\n", rst_ring[i % ERR_KEEP]);
	fprintf(stderr, "  last library warnings:\n");
	for (unsigned int i = log_pos > LOG_KEEP ? log_pos - LOG_KEEP : 0; i < log_pos; i++)
		fprintf(stderr, "    %s\n", log_ring[i % LOG_KEEP]);
	pthread_mutex_unlock(&log_lock);
	if (th)
		print_ring(th, T_RING);
	for (int i = 0; i < cfg.threads; i++)
		if (threads[i] && threads[i] != th)
			print_ring(threads[i], th ? 24 : 64);
	fprintf(stderr, "replay: %s --seed %" PRIu64 "\n", cmdline, cfg.seed);
}

void t_violation(struct t_thread *th, const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&reporting, true)) {
		for (;;)
			pause();	/* another thread is reporting */
	}
	pthread_mutex_lock(&report_lock);
	fflush(stdout);
	fprintf(stderr, "\nVIOLATION (seed %" PRIu64 ", thread %d, op #%" PRIu64 ", %" PRIu64
		" ms): ", cfg.seed, th ? th->idx : -1, th ? th->cur_seq : 0, t_ms());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	report_context(th);
	fflush(stderr);
	printf("FAIL seed %" PRIu64 "\n", cfg.seed);
	fflush(stdout);
	_exit(1);
}

void t_fatal_setup(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvpoll-torture: setup failed: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static void on_signal(int sig)
{
	struct t_thread *th = tls;

	if (!atomic_exchange(&reporting, true)) {
		fprintf(stderr, "\nCRASH (seed %" PRIu64 ", thread %d, op #%" PRIu64 "): signal %d (%s)"
			" inside the library or the test\n", cfg.seed, th ? th->idx : -1,
			th ? th->cur_seq : 0, sig, strsignal(sig));
		report_context(th);
		fflush(stderr);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void *watchdog(void *arg)
{
	uint64_t limit = (uint64_t)(cfg.seconds * 1000) + 180000;

	(void)arg;
	for (;;) {
		sleep(1);
		if (t_ms() > limit) {
			if (atomic_exchange(&reporting, true))
				return NULL;
			fprintf(stderr, "\nHANG (seed %" PRIu64 "): the run is %" PRIu64 " ms over its "
				"time budget; a thread is stuck (inside a library call, or waiting "
				"for a callback)\n", cfg.seed, t_ms() - limit + 180000);
			report_context(NULL);
			fflush(stderr);
			_exit(3);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvpoll-torture [options]\n"
		"  --seed N        replay a run (the seed is printed on the first line)\n"
		"  --seconds S     run length (default 60)\n"
		"  --threads N     threads, each with its own qpairs and LBA regions (default 4)\n"
		"  -a ADDR         a controller (repeatable); default: three emu controllers and\n"
		"                  a fourth chosen by the seed, plus two for the failure phase\n"
		"  -O OPTS         attach options for the preceding -a, comma separated:\n"
		"                  max_xfer=BYTES timeout=MS admin_timeout=MS no_sgl no_shadow\n"
		"                  queues=N\n"
		"  --ops LIST      operation classes (default all): rw,vec,raw,flush,wz,dsm,\n"
		"                  invalid,qpair,admin,mem,fault,nest; '-x' removes x\n"
		"  --faults LIST   fault types (default all): status,drop,delay,unknown,dup,cqe\n"
		"  --no-fatal      skip the controller failure phase\n"
		"  -F ADDR         the emu controllers of the failure phase (default\n"
		"                  emu:ns=32M:512,mdts=3,qpairs=32)\n"
		"  --hang-ms MS    a command without callback this long is a failure (20000)\n"
		"  -v              print library messages as they happen\n");
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	default: break;
	}
	return v;
}

static void parse_copts(struct t_spec *sp, const char *s)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t v = eq ? parse_size(eq + 1) : 0;

		if (eq)
			*eq = 0;
		if (!strcmp(tok, "max_xfer"))
			sp->opts.max_xfer_bytes = (uint32_t)v;
		else if (!strcmp(tok, "timeout"))
			sp->opts.io_timeout_ms = (uint32_t)v;
		else if (!strcmp(tok, "admin_timeout"))
			sp->opts.admin_timeout_ms = (uint32_t)v;
		else if (!strcmp(tok, "no_sgl"))
			sp->opts.no_sgl = true;
		else if (!strcmp(tok, "no_shadow"))
			sp->opts.no_shadow_doorbells = true;
		else if (!strcmp(tok, "queues"))
			sp->opts.num_io_queues = (uint32_t)v;
		else
			t_fatal_setup("unknown attach option '%s' in -O %s", tok, s);
	}
}

static uint32_t parse_list(const char *s, const char *const *names, int n, uint32_t all)
{
	char buf[256], *save = NULL;
	uint32_t m = 0;
	bool only_removals = true;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (tok[0] != '-')
			only_removals = false;
	if (only_removals)
		m = all;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool rm = tok[0] == '-';
		int i;

		if (!strcmp(tok, "none"))
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(tok + rm, names[i]))
				break;
		if (i == n)
			t_fatal_setup("unknown name '%s' in '%s'", tok, s);
		if (rm)
			m &= ~(1u << i);
		else
			m |= 1u << i;
	}
	return m;
}

static struct t_spec *add_spec(const char *addr)
{
	struct t_spec *sp;

	if (cfg.nspec == T_MAX_CTRLS)
		t_fatal_setup("at most %d controllers", T_MAX_CTRLS);
	sp = &cfg.spec[cfg.nspec++];
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->addr, sizeof(sp->addr), "%s", addr);
	nvp_ctrl_opts_init(&sp->opts, sizeof(sp->opts));
	return sp;
}

static void parse_args(int argc, char **argv)
{
	static const char *const ops[] = { "rw", "vec", "raw", "flush", "wz", "dsm", "invalid",
					   "qpair", "admin", "mem", "fault", "nest" };
	static const char *const faults[] = { "status", "drop", "delay", "unknown", "dup", "cqe" };
	bool seeded = false;
	size_t o = 0;

	cfg.seconds = 60;
	cfg.threads = 4;
	cfg.ops_mask = (1u << OC_COUNT) - 1;
	cfg.fault_mask = TF_ALL;
	cfg.fatal_phase = true;
	cfg.hang_ms = 20000;
	for (int i = 0; i < argc && o < sizeof(cmdline); i++)
		if (strcmp(argv[i], "--seed") && (i == 0 || strcmp(argv[i - 1], "--seed")))
			o += (size_t)snprintf(cmdline + o, sizeof(cmdline) - o, "%s%s%s%s",
					      i ? " " : "", strchr(argv[i], ' ') ? "'" : "",
					      argv[i], strchr(argv[i], ' ') ? "'" : "");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "-v")) {
			cfg.verbose = true;
		} else if (!strcmp(a, "--no-fatal")) {
			cfg.fatal_phase = false;
		} else if (!v) {
			usage(stderr);
			exit(2);
		} else if (!strcmp(a, "--seed")) {
			cfg.seed = strtoull(v, NULL, 0);
			seeded = true;
			i++;
		} else if (!strcmp(a, "--seconds")) {
			cfg.seconds = strtod(v, NULL);
			i++;
		} else if (!strcmp(a, "--threads")) {
			cfg.threads = atoi(v);
			i++;
		} else if (!strcmp(a, "-a")) {
			add_spec(v);
			cfg.user_ctrls = true;
			i++;
		} else if (!strcmp(a, "-O")) {
			if (!cfg.nspec)
				t_fatal_setup("-O must follow an -a");
			parse_copts(&cfg.spec[cfg.nspec - 1], v);
			i++;
		} else if (!strcmp(a, "--ops")) {
			cfg.ops_mask = parse_list(v, ops, OC_COUNT, (1u << OC_COUNT) - 1);
			i++;
		} else if (!strcmp(a, "--faults")) {
			cfg.fault_mask = parse_list(v, faults, 6, TF_ALL);
			i++;
		} else if (!strcmp(a, "-F")) {
			fatal_addr = v;
			i++;
		} else if (!strcmp(a, "--hang-ms")) {
			cfg.hang_ms = (uint32_t)atoi(v);
			i++;
		} else {
			usage(stderr);
			exit(2);
		}
	}
	if (cfg.threads < 1 || cfg.threads > T_MAX_THREADS)
		t_fatal_setup("--threads must be 1..%d", T_MAX_THREADS);
	if (!seeded) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, &cfg.seed, sizeof(cfg.seed)) != sizeof(cfg.seed))
			cfg.seed = t_now_ns();
		if (fd >= 0)
			close(fd);
		cfg.seed &= 0xffffffffffffull;
	}
}

/* The default controllers: what the brief and the known defect classes need. */
static void default_specs(void)
{
	struct t_spec *sp;
	int variant = (int)(t_mix(cfg.seed ^ 0x5eed) % 4);

	sp = add_spec("emu:ns=64M:4096,ns=16M:512");
	sp->opts.io_timeout_ms = 500;
	/* small MDTS, few queues, a namespace of 2^33 blocks (LBAs above 2^32) */
	sp = add_spec("emu:ns=16M:512,ns=4T:512,mdts=3,qpairs=4");
	sp->opts.io_timeout_ms = 500;
	/* no MDTS and a raised transfer limit: commands of > 65536 blocks, big PRP lists */
	sp = add_spec("emu:ns=256M:512,mdts=0,dbbuf=0");
	sp->opts.max_xfer_bytes = 64u << 20;
	sp->opts.io_timeout_ms = 2000;
	switch (variant) {
	case 1:	/* a transfer limit below one block */
		sp = add_spec("emu:ns=8M:8192,sgl=0");
		sp->opts.max_xfer_bytes = 4096;
		sp->opts.io_timeout_ms = 500;
		break;
	case 2:	/* PRPs only, small queues, no shadow doorbells */
		sp = add_spec("emu:ns=32M:4096,sgl=0,mqes=64,qpairs=8");
		sp->opts.no_shadow_doorbells = true;
		sp->opts.io_timeout_ms = 500;
		break;
	case 3:	/* 8 KiB MDTS, latency, the library told not to use SGLs */
		sp = add_spec("emu:ns=32M:512,mdts=1,lat_us=50");
		sp->opts.no_sgl = true;
		sp->opts.io_timeout_ms = 500;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Controllers                                                              */
/* ------------------------------------------------------------------------ */

static void regions(struct t_ns *ns)
{
	uint64_t nb = ns->nblocks, T = (uint64_t)cfg.threads;
	uint64_t cap = (64ull << 20) / ns->bs, len = nb / T < cap ? nb / T : cap;

	/* spread evenly, the last region ending at the last block */
	for (uint64_t t = 0; t < T; t++) {
		ns->rlen[t] = len;
		ns->rbase[t] = T == 1 ? nb - len : (nb - len) / (T - 1) * t;
	}
	/* a big namespace: thread 0 across LBA 2^32 (CDW11), if that fits */
	if (nb > (1ull << 32) + len) {
		uint64_t b0 = (1ull << 32) - len / 2;
		bool ok = true;

		for (uint64_t t = 1; t < T; t++)
			if (b0 < ns->rbase[t] + len && ns->rbase[t] < b0 + len)
				ok = false;
		if (ok)
			ns->rbase[0] = b0;
	}
	for (uint64_t a = 0; a < T; a++)
		for (uint64_t b = a + 1; b < T; b++)
			if (ns->rbase[a] < ns->rbase[b] + len && ns->rbase[b] < ns->rbase[a] + len)
				t_fatal_setup("regions of threads %" PRIu64 " and %" PRIu64 " overlap",
					      a, b);
	/* several times the transfer limit, within the region and 48 MiB */
	ns->max_op_blocks = 4ull * (ns->max_io ? ns->max_io : 16);
	if (ns->max_op_blocks > (48ull << 20) / ns->bs)
		ns->max_op_blocks = (48ull << 20) / ns->bs;
	if (ns->max_op_blocks > len)
		ns->max_op_blocks = len;
}

static void attach(struct t_ctrl *c, const struct t_spec *sp, int idx)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->idx = idx;
	c->addr = sp->addr;
	c->opts = sp->opts;
	pthread_mutex_init(&c->qp_lock, NULL);
	rc = nvp_ctrl_attach(sp->addr, &sp->opts, &c->ctrl);
	if (rc)
		t_fatal_setup("attach %s: %d (%s): %s", sp->addr, rc, t_errname(rc), nvp_last_error());
	c->info = nvp_ctrl_get_info(c->ctrl);
	c->is_emu = c->info->driver == NVP_DRIVER_EMU;
	if (nvp_ctrl_set_event_cb(c->ctrl, event_cb, c))
		t_fatal_setup("nvp_ctrl_set_event_cb: %s", nvp_last_error());
	c->byte_sgl = c->info->sgl_supported &&
		      (nvp_le32_to_cpu(nvp_ctrl_identify(c->ctrl)->sgls) & NVP_SGLS_SUPPORT_MASK) ==
			      NVP_SGLS_SUPPORTED;
	c->timeout_ms = sp->opts.io_timeout_ms;
	for (struct nvp_ns *n = nvp_ctrl_first_ns(c->ctrl); n && c->nns < T_MAX_NS;
	     n = nvp_ctrl_next_ns(c->ctrl, n)) {
		struct t_ns *ns = &c->ns[c->nns];

		ns->ns = n;
		ns->info = nvp_ns_get_info(n);
		ns->c = c;
		ns->idx = c->nns++;
		ns->bs = ns->info->block_size;
		ns->nblocks = ns->info->num_blocks;
		ns->max_io = ns->info->max_io_blocks;
		if (ns->bs < 512 || ns->bs > 65536 || (ns->bs & 7))
			t_fatal_setup("%s: namespace %u has a %u-byte block size", sp->addr,
				      ns->info->nsid, ns->bs);
		if (ns->max_io == 0)
			printf("note: %s namespace %u reports max_io_blocks 0 (transfer limit %u "
			       "bytes, %u-byte blocks): every I/O there must be refused\n", sp->addr,
			       ns->info->nsid, c->info->max_xfer_bytes, ns->bs);
		regions(ns);
	}
	if (!c->nns)
		t_fatal_setup("%s has no namespace", sp->addr);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */

static pthread_barrier_t bar;
static int fatal_ctrl[2] = { -1, -1 };

static void *thread_main(void *arg)
{
	struct t_thread *th = arg;

	tls = th;
	t_thread_setup(th);
	pthread_barrier_wait(&bar);		/* 1: all set up */
	t_main_phase(th);
	t_drain(th);
	pthread_barrier_wait(&bar);		/* 2: quiet; main clears faults */
	pthread_barrier_wait(&bar);		/* 3 */
	t_faults_forget(th);
	t_verify_all(th);
	t_free_all_qpairs(th);
	pthread_barrier_wait(&bar);		/* 4: verified */
	for (int k = 0; k < 2; k++) {
		if (fatal_ctrl[k] < 0)
			continue;
		t_fatal_phase(th, &ctrls[fatal_ctrl[k]], k == 1, 4 * k);
		t_await(4 * k + 3);		/* the main thread detached it */
	}
	t_admin_check_all(th->idx);
	return NULL;
}

static void summary(void)
{
	uint64_t tot[K_COUNT] = { 0 }, refused = 0, cpl = 0, cerr = 0, blocks = 0, faults = 0,
		 precise = 0, fb = 0, nest = 0, tmo = 0;

	for (int i = 0; i < cfg.threads; i++) {
		struct t_thread *th = threads[i];

		for (int k = 0; k < K_COUNT; k++)
			tot[k] += th->n_calls[k];
		refused += th->n_refused;
		cpl += th->n_cpl;
		cerr += th->n_cpl_err;
		blocks += th->n_blocks_checked;
		faults += th->n_faults;
		precise += th->n_precise;
		fb += th->n_free_busy;
		nest += th->n_nested;
		tmo += th->n_timeouts;
	}
	printf("calls:");
	for (int k = 0; k < K_COUNT; k++)
		if (tot[k])
			printf(" %s %" PRIu64, t_kind_name(k), tot[k]);
	printf("\ncompletions %" PRIu64 " (%" PRIu64 " with an error status, %" PRIu64
	       " timeouts), refusals %" PRIu64 ", blocks verified %" PRIu64 ", faults armed %"
	       PRIu64 " (%" PRIu64 " precise), qpairs freed busy %" PRIu64 ", callback "
	       "submissions %" PRIu64 "\n", cpl, cerr, tmo, refused, blocks, faults, precise, fb,
	       nest);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t wd;
	int rc;

	t_start = t_now_ns();
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("nvpoll-torture seed %" PRIu64 "\n", cfg.seed);
	nvp_set_log(log_sink, NULL, cfg.verbose ? NVP_LOG_INFO : NVP_LOG_WARN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);

	if (!cfg.user_ctrls)
		default_specs();
	for (int i = 0; i < cfg.nspec; i++) {
		attach(&ctrls[i], &cfg.spec[i], i);
		printf("controller %d: %s: %u queues, max_xfer %u, sgl %s, shadow doorbells %d, "
		       "io_timeout %u ms, %s\n", i, ctrls[i].addr, ctrls[i].info->num_io_queues,
		       ctrls[i].info->max_xfer_bytes, !ctrls[i].info->sgl_supported ? "no" :
		       ctrls[i].byte_sgl ? "byte" : "dword", ctrls[i].info->shadow_doorbells,
		       ctrls[i].timeout_ms, ctrls[i].is_emu ? "emu" : "PCI");
	}
	nctrls = nmain = cfg.nspec;
	/* two more emulated controllers to kill: CSTS.CFS, then surprise removal */
	if (cfg.fatal_phase && ctrls[0].is_emu) {
		for (int k = 0; k < 2 && nctrls < T_MAX_CTRLS; k++) {
			struct t_spec *sp = add_spec(fatal_addr);

			sp->opts.io_timeout_ms = 200;
			sp->opts.admin_timeout_ms = 2000;
			attach(&ctrls[nctrls], sp, nctrls);
			fatal_ctrl[k] = nctrls++;
		}
	}
	pthread_barrier_init(&bar, NULL, (unsigned int)cfg.threads + 1);
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_detach(wd);
	for (int i = 0; i < cfg.threads; i++) {
		threads[i] = calloc(1, sizeof(*threads[i]));
		if (!threads[i])
			t_fatal_setup("out of memory");
		threads[i]->idx = i;
		threads[i]->rng = t_mix(cfg.seed * 1000003ull + (uint64_t)i);
		if (pthread_create(&threads[i]->tid, NULL, thread_main, threads[i]))
			t_fatal_setup("pthread_create failed");
	}
	pthread_barrier_wait(&bar);		/* 1 */
	printf("running %d threads for %.0f s\n", cfg.threads, cfg.seconds);
	{
		double main_s = cfg.seconds * 0.85 - (fatal_ctrl[0] >= 0 ? 2.0 : 0.0);
		uint64_t end = t_now_ns() + (uint64_t)((main_s > 1 ? main_s : 1) * 1e9);
		uint64_t next_epoch = t_now_ns() + 1000000000ull, asked = 0;

		while (t_now_ns() < end) {
			usleep(20000);
			admin_poll();
			/* fault epochs: clear every fault once all threads have acknowledged */
			if (!asked && t_now_ns() > next_epoch) {
				atomic_fetch_add(&fepoch_req, 1);
				asked = t_now_ns();
			}
			if (asked) {
				uint32_t req = atomic_load(&fepoch_req);
				int acked = 0;

				for (int i = 0; i < cfg.threads; i++)
					acked += atomic_load(&threads[i]->fack) == req;
				if (acked == cfg.threads) {
					for (int i = 0; i < nmain; i++)
						if (ctrls[i].is_emu)
							nvp_emu_clear_faults(ctrls[i].ctrl);
					atomic_store(&fepoch_done, req);
					asked = 0;
					next_epoch = t_now_ns() + 1000000000ull;
				}
			}
		}
	}
	atomic_store(&t_stop, true);
	pthread_barrier_wait(&bar);		/* 2: everyone drained */
	for (int i = 0; i < nctrls; i++)
		if (ctrls[i].is_emu && (rc = nvp_emu_clear_faults(ctrls[i].ctrl)))
			t_violation(NULL, "nvp_emu_clear_faults(): %d", rc);
	pthread_barrier_wait(&bar);		/* 3 */
	printf("main phase done at %" PRIu64 " ms; verifying every region\n", t_ms());
	pthread_barrier_wait(&bar);		/* 4 */
	for (int k = 0; k < 2; k++) {
		struct t_ctrl *c;
		uint64_t t0;

		if (fatal_ctrl[k] < 0)
			continue;
		c = &ctrls[fatal_ctrl[k]];
		c->removal_expected = k == 1;
		printf("failure phase: %s controller %d at %" PRIu64 " ms\n",
		       k ? "surprise removal of" : "CSTS.CFS on", c->idx, t_ms());
		/* step 1: every thread has commands in flight */
		atomic_store(&go_step, 4 * k + 1);
		main_wait_arrivals(4 * k + 1);
		rc = k ? nvp_emu_remove(c->ctrl) : nvp_emu_fatal(c->ctrl);
		if (rc)
			t_violation(NULL, "nvp_emu_%s(): %d", k ? "remove" : "fatal", rc);
		c->dead = true;
		atomic_store(&go_step, 4 * k + 2);
		/* step 3: the threads are done with it; the admin poller keeps going,
		 * it is what notices CSTS.CFS and the removal */
		main_wait_arrivals(4 * k + 3);
		t0 = t_now_ns();
		rc = nvp_ctrl_detach(c->ctrl);
		if (rc)
			t_violation(NULL, "nvp_ctrl_detach() of the %s controller: %d (%s)",
				    k ? "removed" : "reset", rc, t_errname(rc));
		if (t_now_ns() - t0 > 10000000000ull)
			t_violation(NULL, "nvp_ctrl_detach() of a dead controller took %" PRIu64 " ms",
				    (t_now_ns() - t0) / 1000000);
		forget_ctrl(c);
		atomic_store(&go_step, 4 * k + 3);
	}
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(threads[i]->tid, NULL);

	/* detach: refused while a qpair exists, then clean */
	for (int i = 0; i < nmain; i++) {
		struct nvp_qpair *qp = NULL;

		rc = nvp_qpair_alloc(ctrls[i].ctrl, NULL, &qp);
		if (rc == 0) {
			rc = nvp_ctrl_detach(ctrls[i].ctrl);
			if (rc != -EBUSY)
				t_violation(NULL, "nvp_ctrl_detach() with a qpair allocated: %d (%s), "
					    "expected EBUSY", rc, t_errname(rc));
			nvp_qpair_free(qp);
		} else if (rc != -EBUSY) {
			t_violation(NULL, "nvp_qpair_alloc() at the end: %d (%s): %s", rc,
				    t_errname(rc), nvp_last_error());
		}
		rc = nvp_ctrl_detach(ctrls[i].ctrl);
		if (rc)
			t_violation(NULL, "nvp_ctrl_detach(%s): %d (%s)", ctrls[i].addr, rc,
				    t_errname(rc));
		forget_ctrl(&ctrls[i]);
	}
	summary();
	for (int i = 0; i < cfg.threads; i++) {
		t_thread_teardown(threads[i]);
		free(threads[i]);
		threads[i] = NULL;
	}
	printf("PASS seed %" PRIu64 " (%" PRIu64 " ms)\n", cfg.seed, t_ms());
	return 0;
}
