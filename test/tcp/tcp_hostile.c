/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-tcp-hostile - the library's NVMe/TCP controller path against a
 * target that misbehaves (test/tcp/fake_target.py's failure modes), through
 * the public API only.
 *
 *   nvpoll-tcp-hostile [--expect TEXT]... [--min-resets N] [--max-resets N]
 *                      [--may-fail] [--seconds S] [--idle-ms MS]
 *                      [--no-health-check] [--loss-ms MS] [--rounds N]
 *                      [--retry-status 0xTSS] [--max-admin-ms MS] ADDRESS
 *
 * It attaches with short timeouts (io_timeout_ms 1500, admin_timeout_ms
 * 3000, keep_alive_ms 2000, tcp_reconnect_delay_ms 200), allocates one
 * queue pair and runs rounds of verified I/O on the first namespace: 8
 * commands in flight, writes of 1, 8 and 32 blocks (in-capsule, R2T), each
 * round read back and compared. A command that ends with an error is
 * submitted again if its status is a retryable path status (SCT 3h, DNR
 * clear), and the run fails on any other status. nvp_ctrl_process_admin()
 * runs in the loop, as an application's admin poller would.
 *
 * Checked: every submitted command's callback runs exactly once; nothing
 * waits past the deadline (--seconds, default 40; an alarm ends a hung run
 * with a message); no round's data differs; the controller's resets are
 * within --min-resets..--max-resets; every --expect TEXT appears in the
 * library's messages (the reason a connection was dropped). After the
 * fault, every round must still complete and verify: the controller came
 * back by itself. --idle-ms MS: after the first round, no I/O for MS
 * milliseconds, only nvp_ctrl_process_admin() (Keep Alive's turn to find a
 * target that stopped answering; --no-health-check leaves it to Keep Alive
 * alone, with health_check_ms 0). --loss-ms MS: tcp_ctrl_loss_timeout_ms
 * (default 15000). --retry-status 0xTSS: a status (SCT << 8 | SC, DNR
 * clear) the target is expected to end some commands with; they are
 * submitted again, and at least one must have come. --rounds N: 2..16 rounds (default 16).
 * --max-admin-ms MS: no nvp_ctrl_process_admin() call may take longer (its
 * health check must not wait for a silent target; a reset on loopback
 * takes milliseconds). --may-fail accepts a controller that failed instead,
 * provided every command still completed once, with a path error (exit 3).
 *
 * Exit status: 0 pass, 1 a check failed, 2 usage, 3 failed cleanly (with
 * --may-fail).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvpoll/nvpoll.h>

#define QD 8
#define ROUNDS 16
#define MAX_NLB 32
#define MAX_SUBS (ROUNDS * QD * 2 * 64)
#define MAX_EXPECT 8

static const uint32_t nlbs[3] = { 1, 8, 32 };

struct slot;

/* One submission: its callback must run exactly once. */
struct sub {
	struct slot *slot;
	int calls;
};

struct slot {
	int idx;
	uint64_t lba;
	uint32_t nlb;
	bool reading;
	bool busy;		/* a submission is outstanding */
	bool done;		/* this phase's command succeeded */
	int app_retries;
	uint8_t *wbuf;
	uint8_t *rbuf;
};

static struct sub subs[MAX_SUBS];
static unsigned nsubs;
static unsigned errors_seen, bad_status, double_calls;
static char first_bad[256];
static char *logbuf;
static size_t loglen, logcap;
static uint64_t deadline_ms;
static bool ctrl_failed_seen;
static uint16_t retry_status;	/* SCT << 8 | SC the target may end a command with */
static unsigned target_errors;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The application's admin poller, timed: its longest call is what an
 * application's admin thread can be held up by. A health check must never
 * wait for a silent target, and a reset on loopback takes milliseconds
 * (--max-admin-ms).
 */
static uint64_t longest_admin_ms;

static void process_admin(struct nvp_ctrl *ctrl)
{
	uint64_t t = now_ms();

	(void)nvp_ctrl_process_admin(ctrl);
	t = now_ms() - t;
	if (t > longest_admin_ms)
		longest_admin_ms = t;
}

static void on_alarm(int sig)
{
	static const char msg[] = "nvpoll-tcp-hostile: FAIL: hung (the alarm went off)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static void log_cb(enum nvp_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(msg);

	(void)arg;
	fprintf(stderr, "  [lib %d] %s\n", (int)level, msg);
	if (loglen + n + 2 > logcap) {
		size_t cap = (logcap + n + 2) * 2;
		char *p = realloc(logbuf, cap);

		if (!p)
			return;
		logbuf = p;
		logcap = cap;
	}
	memcpy(logbuf + loglen, msg, n);
	loglen += n;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvpoll-tcp-hostile: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

/* The block's pattern for this round: distinct per LBA, byte and round. */
static void fill(uint8_t *buf, uint64_t lba, uint32_t nlb, uint32_t bs, int round)
{
	for (uint32_t b = 0; b < nlb; b++)
		for (uint32_t i = 0; i < bs; i += 8) {
			uint64_t v = (lba + b) * 0x9e3779b97f4a7c15ull ^ (uint64_t)i << 40 ^
				     (uint64_t)round << 56 ^ 0x5a5a;

			memcpy(buf + (size_t)b * bs + i, &v, 8);
		}
}

static void done_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct sub *s = arg;
	struct slot *sl = s->slot;

	if (++s->calls > 1) {
		double_calls++;
		return;
	}
	sl->busy = false;
	if (!NVP_CPL_IS_ERROR(cpl)) {
		sl->done = true;
		return;
	}
	errors_seen++;
	if (retry_status && (NVP_STATUS_SCT(cpl->status) << 8 | NVP_STATUS_SC(cpl->status)) ==
			    retry_status && !NVP_STATUS_DNR(cpl->status)) {
		target_errors++;	/* what the target was told to answer: again */
		return;
	}
	/* Retryable path statuses only: Host Aborted Command (the library ended
	 * it in a reset) or Host Pathing Error (the controller failed). */
	if (NVP_STATUS_SCT(cpl->status) != NVP_SCT_PATH ||
	    (NVP_STATUS_DNR(cpl->status) && NVP_STATUS_SC(cpl->status) != NVP_SC_HOST_PATH_ERROR)) {
		if (!bad_status++)
			snprintf(first_bad, sizeof(first_bad), "%s of LBA %" PRIu64 ": status 0x%x "
				 "(%s), SCT %u SC 0x%02x DNR %u", sl->reading ? "read" : "write",
				 sl->lba, cpl->status, nvp_status_str(cpl->status),
				 NVP_STATUS_SCT(cpl->status), NVP_STATUS_SC(cpl->status),
				 NVP_STATUS_DNR(cpl->status));
	}
	if (NVP_STATUS_SC(cpl->status) == NVP_SC_HOST_PATH_ERROR)
		ctrl_failed_seen = true;
}

static int submit(struct nvp_qpair *qp, struct nvp_ns *ns, struct slot *sl)
{
	struct sub *s;
	int rc;

	if (nsubs == MAX_SUBS)
		return fail("more than %d submissions: retrying forever?", MAX_SUBS);
	s = &subs[nsubs];
	s->slot = sl;
	s->calls = 0;
	rc = sl->reading ? nvp_read(qp, ns, sl->rbuf, sl->lba, sl->nlb, 0, done_cb, s) :
			   nvp_write(qp, ns, sl->wbuf, sl->lba, sl->nlb, 0, done_cb, s);
	if (rc == -EAGAIN || rc == -EBUSY)
		return 0;	/* full for now: the loop tries again */
	if (rc)
		return rc;
	nsubs++;
	sl->busy = true;
	return 0;
}

/* Run one phase (all writes or all reads) until each slot's command succeeded. */
static int phase(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, struct nvp_ns *ns,
		 struct slot *slots, bool reading)
{
	for (int i = 0; i < QD; i++) {
		slots[i].reading = reading;
		slots[i].done = false;
		slots[i].busy = false;
		slots[i].app_retries = 0;
	}
	for (;;) {
		bool all = true;

		for (int i = 0; i < QD; i++) {
			struct slot *sl = &slots[i];
			int rc;

			if (sl->done)
				continue;
			all = false;
			if (sl->busy)
				continue;
			if (nvp_ctrl_is_failed(ctrl))
				continue;
			if (sl->app_retries++ > 50)
				return fail("slot %d: 50 submissions and still no success", i);
			rc = submit(qp, ns, sl);
			if (rc == -ENXIO || rc == -ENODEV)
				continue;	/* failed: the check below ends it */
			if (rc)
				return fail("submission: %d (%s)", rc, nvp_last_error());
		}
		if (all)
			return 0;
		(void)nvp_qpair_poll(qp, 0);
		process_admin(ctrl);
		if (nvp_ctrl_is_failed(ctrl)) {
			bool any_busy = false;

			for (int i = 0; i < QD; i++)
				any_busy |= slots[i].busy;
			if (!any_busy)
				return -ENXIO;
		}
		if (now_ms() > deadline_ms) {
			int busy = 0;

			for (int i = 0; i < QD; i++)
				busy += slots[i].busy;
			return fail("deadline passed with %d command(s) outstanding", busy);
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: nvpoll-tcp-hostile [--expect TEXT]... [--min-resets N] "
		"[--max-resets N] [--may-fail] [--seconds S] [--idle-ms MS] [--no-health-check] [--loss-ms MS] [--rounds N] [--retry-status 0xTSS] [--max-admin-ms MS] ADDRESS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *expect[MAX_EXPECT], *addr = NULL;
	int nexpect = 0, seconds = 40, rounds = ROUNDS, idle_ms = 0, loss_ms = 15000, rc, ret = 0;
	long max_admin_ms = 0;
	long min_resets = 0, max_resets = 1000;
	bool may_fail = false, failed = false, no_health = false;
	struct nvp_ctrl_opts o;
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_ctrl_stats st = { .stats_size = sizeof(st) };
	struct slot slots[QD];
	struct nvp_ns *ns;
	uint32_t bs;
	int round = 0;
	uint64_t t0 = now_ms();

	memset(slots, 0, sizeof(slots));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc && nexpect < MAX_EXPECT)
			expect[nexpect++] = argv[++i];
		else if (!strcmp(argv[i], "--min-resets") && i + 1 < argc)
			min_resets = atol(argv[++i]);
		else if (!strcmp(argv[i], "--max-resets") && i + 1 < argc)
			max_resets = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--idle-ms") && i + 1 < argc)
			idle_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--loss-ms") && i + 1 < argc)
			loss_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--retry-status") && i + 1 < argc)
			retry_status = (uint16_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--max-admin-ms") && i + 1 < argc)
			max_admin_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--no-health-check"))
			no_health = true;
		else if (!strcmp(argv[i], "--may-fail"))
			may_fail = true;
		else if (argv[i][0] != '-' && !addr)
			addr = argv[i];
		else
			usage();
	}
	if (!addr || seconds <= 0 || rounds < 2 || rounds > ROUNDS)
		usage();
	signal(SIGALRM, on_alarm);
	alarm((unsigned)seconds + 30);
	deadline_ms = t0 + (uint64_t)seconds * 1000;
	nvp_set_log(log_cb, NULL, NVP_LOG_INFO);

	nvp_ctrl_opts_init(&o, sizeof(o));
	o.io_timeout_ms = 1500;
	o.admin_timeout_ms = 3000;
	o.keep_alive_ms = 2000;
	o.tcp_reconnect_delay_ms = 200;
	o.tcp_ctrl_loss_timeout_ms = (uint32_t)loss_ms;
	o.num_io_queues = 1;
	if (no_health)
		o.health_check_ms = 0;
	rc = nvp_ctrl_attach(addr, &o, &ctrl);
	if (rc)
		return fail("attach %s: %d (%s)", addr, rc, nvp_last_error());
	ns = nvp_ctrl_first_ns(ctrl);
	if (!ns) {
		ret = fail("no namespace");
		goto out;
	}
	bs = nvp_ns_get_info(ns)->block_size;
	rc = nvp_qpair_alloc(ctrl, NULL, &qp);
	if (rc) {
		ret = fail("qpair: %d (%s)", rc, nvp_last_error());
		goto out;
	}
	for (int i = 0; i < QD; i++) {
		slots[i].idx = i;
		slots[i].wbuf = nvp_dma_alloc((size_t)MAX_NLB * bs, 4096, NVP_NUMA_ANY);
		slots[i].rbuf = nvp_dma_alloc((size_t)MAX_NLB * bs, 4096, NVP_NUMA_ANY);
		if (!slots[i].wbuf || !slots[i].rbuf) {
			ret = fail("out of memory");
			goto out;
		}
	}

	for (round = 0; round < rounds; round++) {
		if (round == 1 && idle_ms > 0) {
			uint64_t end = now_ms() + (uint64_t)idle_ms;

			while (now_ms() < end) {
				(void)nvp_qpair_poll(qp, 0);
				process_admin(ctrl);
				usleep(1000);
			}
		}
		for (int i = 0; i < QD; i++) {
			struct slot *sl = &slots[i];

			sl->nlb = nlbs[(i + round) % 3];
			sl->lba = (uint64_t)i * MAX_NLB * 2 + (uint64_t)(round % 2) * MAX_NLB;
			fill(sl->wbuf, sl->lba, sl->nlb, bs, round);
			memset(sl->rbuf, 0xee, (size_t)sl->nlb * bs);
		}
		rc = phase(ctrl, qp, ns, slots, false);
		if (!rc)
			rc = phase(ctrl, qp, ns, slots, true);
		if (rc == -ENXIO) {
			failed = true;
			break;
		}
		if (rc) {
			ret = 1;
			goto out;
		}
		for (int i = 0; i < QD; i++)
			if (memcmp(slots[i].wbuf, slots[i].rbuf, (size_t)slots[i].nlb * bs)) {
				ret = fail("round %d: LBA %" PRIu64 "+%u read back differs from what "
					   "was written", round, slots[i].lba, slots[i].nlb);
				goto out;
			}
	}

out:
	/* Whatever happened: nothing may stay outstanding, nothing ran twice. */
	if (qp) {
		uint64_t end = now_ms() + 10000;

		while (nvp_qpair_outstanding(qp) && now_ms() < end) {
			(void)nvp_qpair_poll(qp, 0);
			process_admin(ctrl);
		}
		if (nvp_qpair_outstanding(qp))
			ret = fail("%u command(s) still outstanding at the end",
				   nvp_qpair_outstanding(qp));
	}
	for (unsigned i = 0; i < nsubs; i++)
		if (subs[i].calls != 1) {
			ret = fail("submission %u: its callback ran %d times", i, subs[i].calls);
			break;
		}
	if (double_calls)
		ret = fail("%u callbacks ran more than once", double_calls);
	if (retry_status && !target_errors && !failed)
		ret = fail("no command ended with status 0x%x", retry_status);
	if (bad_status)
		ret = fail("%u completion(s) with a status that is not a retryable path error; "
			   "first: %s", bad_status, first_bad);
	if (ctrl) {
		nvp_ctrl_get_stats(ctrl, &st, sizeof(st));
		if (!failed && !ret && ((long)st.resets < min_resets || (long)st.resets > max_resets))
			ret = fail("%" PRIu64 " controller reset(s), expected %ld..%ld", st.resets,
				   min_resets, max_resets);
	}
	if (max_admin_ms && (long)longest_admin_ms > max_admin_ms)
		ret = fail("an nvp_ctrl_process_admin() call took %" PRIu64 " ms (at most %ld): "
			   "the admin poller waited for the target", longest_admin_ms, max_admin_ms);
	for (int i = 0; i < nexpect; i++)
		if (!logbuf || !strstr(logbuf, expect[i]))
			ret = fail("no library message says '%s'", expect[i]);
	if (failed && !ret && !may_fail)
		ret = fail("the controller failed (%s) instead of recovering",
			   ctrl_failed_seen ? "commands ended with Host Pathing Error" : "no path error");
	if (qp)
		nvp_qpair_free(qp);
	for (int i = 0; i < QD; i++) {
		nvp_dma_free(slots[i].wbuf);
		nvp_dma_free(slots[i].rbuf);
	}
	if (ctrl && (rc = nvp_ctrl_detach(ctrl)) != 0)
		ret = fail("detach: %d (%s)", rc, nvp_last_error());
	free(logbuf);
	if (!ret)
		printf("nvpoll-tcp-hostile: %s after %d of %d rounds: %u commands, %u ended with a "
		       "retryable error, %" PRIu64 " reset(s), %.1f s, longest admin poll %" PRIu64
		       " ms\n", failed ? "controller failed cleanly" : "PASS", round, rounds, nsubs,
		       errors_seen, st.resets, (double)(now_ms() - t0) / 1000, longest_admin_ms);
	return ret ? 1 : failed ? 3 : 0;
}
