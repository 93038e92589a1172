// SPDX-License-Identifier: BSD-3-Clause
/*
 * nvpoll-perf helpers that need no controller: option parsing, the
 * log-linear histogram, zipf draws, verify patterns, TSC calibration and
 * the report formats.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hist.h"
#include "opts.h"
#include "pattern.h"
#include "report.h"
#include "rng.h"
#include "tsc.h"
#include "zipf.h"

/* ---- histogram ------------------------------------------------------------ */

static void test_hist_index_exact_below_64(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 64; v++) {
		assert_int_equal(hist_index(v), v);
		assert_int_equal(hist_bucket_low((unsigned int)v), v);
		assert_int_equal(hist_bucket_high((unsigned int)v), v);
	}
}

/* Every value lies inside its bucket, buckets tile the number line. */
static void test_hist_buckets_tile(void **state)
{
	struct rng r;

	(void)state;
	for (unsigned int i = 0; i + 1 < HIST_BUCKETS; i++)
		assert_int_equal(hist_bucket_high(i) + 1, hist_bucket_low(i + 1));
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
	rng_seed(&r, 7);
	for (int n = 0; n < 100000; n++) {
		uint64_t v = rng_next(&r) >> (rng_next(&r) % 64);
		unsigned int i = hist_index(v);

		assert_true(i < HIST_BUCKETS);
		assert_true(v >= hist_bucket_low(i));
		assert_true(v <= hist_bucket_high(i));
		/* relative width: at most 1/32 of the bucket's low bound */
		if (v >= 64)
			assert_true(hist_bucket_high(i) - hist_bucket_low(i) + 1 <=
				    hist_bucket_low(i) / 32);
	}
}

static void test_hist_percentiles(void **state)
{
	static struct hist h;

	(void)state;
	hist_reset(&h);
	assert_int_equal(hist_percentile(&h, 0.5), 0);
	/* 1..1000, one each */
	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(&h, v);
	assert_int_equal(hist_total(&h), 1000);
	/* the bucket bound is within 1/32 above the true rank value */
	assert_in_range(hist_percentile(&h, 0.5), 500, 500 + 500 / 32 + 1);
	assert_in_range(hist_percentile(&h, 0.99), 990, 990 + 990 / 32 + 1);
	assert_in_range(hist_percentile(&h, 1.0), 1000, 1000 + 1000 / 32 + 1);
	assert_int_equal(hist_percentile(&h, 0.0), 1);
	/* a single outlier shows only at the top */
	hist_reset(&h);
	for (int n = 0; n < 9999; n++)
		hist_record(&h, 100);
	hist_record(&h, 1000000);
	assert_in_range(hist_percentile(&h, 0.9999), 100, 101);
	assert_true(hist_percentile(&h, 1.0) >= 1000000);
}

static void test_hist_merge(void **state)
{
	static struct hist a, b;

	(void)state;
	hist_reset(&a);
	hist_reset(&b);
	hist_record(&a, 5);
	hist_record(&b, 5);
	hist_record(&b, 5000);
	hist_merge(&a, &b);
	assert_int_equal(hist_total(&a), 3);
	assert_int_equal(a.count[hist_index(5)], 2);
}

/* ---- options -------------------------------------------------------------- */

#define ARGV(...) ((char *[]){ "nvpoll-perf", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "nvpoll-perf", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) \
	perf_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_opts_defaults(void **state)
{
	static struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", "emu:"), PERF_PARSE_OK);
	assert_int_equal(o.naddrs, 1);
	assert_string_equal(o.addrs[0], "emu:");
	assert_int_equal(o.depth, 32);
	assert_int_equal(o.io_size, 4096);
	assert_int_equal(o.workload, WL_RANDREAD);
	assert_int_equal(o.read_pct, 100);
	assert_true(o.random);
	assert_int_equal(o.latency_level, 0);
	assert_int_equal(o.ncpus, 0);
	assert_true(o.reset_every == 0);
	assert_int_equal(o.io_retries, -1);	/* the library's default */
	assert_false(o.verify_final);
}

static void test_opts_full(void **state)
{
	static struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", "0000:00:04.0", "-a", "emu:", "-n", "2",
			       "-q", "128", "-o", "128k", "-w", "randrw", "-M", "70",
			       "-t", "2.5", "-W", "1", "-c", "0x5", "-LL", "--seed", "42",
			       "--zipf", "0.99", "--verify", "--json", "--io-queue-size", "1024",
			       "--max-completions", "16", "--no-shadow-doorbell",
			       "--reset-every", "0.25", "--io-retries", "0", "--verify-final"),
			 PERF_PARSE_OK);
	assert_int_equal(o.naddrs, 2);
	assert_int_equal(o.nsid, 2);
	assert_int_equal(o.depth, 128);
	assert_int_equal(o.io_size, 131072);
	assert_int_equal(o.workload, WL_RANDRW);
	assert_int_equal(o.read_pct, 70);
	assert_true(o.seconds == 2.5);
	assert_true(o.warmup == 1);
	assert_int_equal(o.ncpus, 2);
	assert_int_equal(o.cpus[0], 0);
	assert_int_equal(o.cpus[1], 2);
	assert_int_equal(o.latency_level, 2);
	assert_int_equal(o.seed, 42);
	assert_true(o.zipf_theta == 0.99);
	assert_true(o.verify);
	assert_true(o.json);
	assert_int_equal(o.io_queue_size, 1024);
	assert_int_equal(o.max_completions, 16);
	assert_true(o.no_shadow_doorbell);
	assert_true(o.reset_every == 0.25);
	assert_int_equal(o.io_retries, 0);
	assert_true(o.verify_final);
}

static void expect_error(int rc, const char *err, const char *fragment)
{
	assert_int_equal(rc, PERF_PARSE_ERROR);
	if (!strstr(err, fragment))
		fail_msg("error '%s' lacks '%s'", err, fragment);
}

static void test_opts_errors(void **state)
{
	static struct perf_opts o;
	char err[256];

	(void)state;
	expect_error(PARSE(&o, err, "-q", "4"), err, "-a ADDRESS");
	expect_error(PARSE(&o, err, "-a", "emu:", "-q", "0"), err, "queue depth");
	expect_error(PARSE(&o, err, "-a", "emu:", "-q", "x"), err, "queue depth");
	expect_error(PARSE(&o, err, "-a", "emu:", "-o", "4q"), err, "I/O size");
	expect_error(PARSE(&o, err, "-a", "emu:", "-w", "trim"), err, "randrw");
	expect_error(PARSE(&o, err, "-a", "emu:", "-M", "101", "-w", "rw"), err, "0..100");
	expect_error(PARSE(&o, err, "-a", "emu:", "-M", "50"), err, "rw and -w randrw");
	expect_error(PARSE(&o, err, "-a", "emu:", "-t", "0"), err, "-t");
	expect_error(PARSE(&o, err, "-a", "emu:", "-c", "3-1"), err, "backwards");
	expect_error(PARSE(&o, err, "-a", "emu:", "-c", "0,0"), err, "twice");
	expect_error(PARSE(&o, err, "-a", "emu:", "--zipf", "0"), err, "THETA");
	expect_error(PARSE(&o, err, "-a", "emu:", "-w", "read", "--zipf", "1.1"), err,
		     "random workload");
	expect_error(PARSE(&o, err, "-a", "emu:", "-q", "64", "--io-queue-size", "64"),
		     err, "N - 1");
	expect_error(PARSE(&o, err, "-a", "emu:", "--bogus"), err, "unknown option");
	expect_error(PARSE(&o, err, "-a", "emu:", "-x"), err, "unknown option -x");
	expect_error(PARSE(&o, err, "-a", "emu:", "-q"), err, "needs a value");
	expect_error(PARSE(&o, err, "-a", "emu:", "stray"), err, "unexpected argument");
	expect_error(PARSE(&o, err, "-a", "emu:", "--reset-every", "0"), err, "at least 0.001");
	expect_error(PARSE(&o, err, "-a", "emu:", "--io-retries", "x"), err, "0..1000");
	expect_error(PARSE(&o, err, "-a", "emu:", "--verify-final"), err, "add --verify");
	expect_error(PARSE(&o, err, "-a", "00:04.0", "--test-remove-after", "1"), err,
		     "only work on emulated controllers");
	assert_int_equal(PARSE(&o, err, "-a", "emu:", "--test-fail-after", "0.5"), PERF_PARSE_OK);
	assert_true(o.test_fail_after == 0.5);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(perf_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(perf_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(perf_parse_size("4KiB", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(perf_parse_size("1M", &v), 0);
	assert_int_equal(v, 1 << 20);
	assert_int_equal(perf_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(perf_parse_size("", &v), -1);
	assert_int_equal(perf_parse_size("-1", &v), -1);
	assert_int_equal(perf_parse_size("4kx", &v), -1);
	assert_int_equal(perf_parse_size("99999999999999999999", &v), -1);
}

static void test_parse_cpus(void **state)
{
	int cpus[64];
	unsigned int n;
	char err[256];

	(void)state;
	assert_int_equal(perf_parse_cpus("0,1", cpus, 64, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cpus[1], 1);
	assert_int_equal(perf_parse_cpus("0-3,8", cpus, 64, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 5);
	assert_int_equal(cpus[4], 8);
	assert_int_equal(perf_parse_cpus("[2-3]", cpus, 64, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cpus[0], 2);
	assert_int_equal(perf_parse_cpus("0x3", cpus, 64, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(perf_parse_cpus("0x110", cpus, 64, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cpus[0], 4);
	assert_int_equal(cpus[1], 8);
	assert_int_equal(perf_parse_cpus("0x0", cpus, 64, &n, err, sizeof(err)), -1);
	assert_int_equal(perf_parse_cpus("0xg", cpus, 64, &n, err, sizeof(err)), -1);
	assert_int_equal(perf_parse_cpus("a", cpus, 64, &n, err, sizeof(err)), -1);
	assert_int_equal(perf_parse_cpus("1,", cpus, 64, &n, err, sizeof(err)), 0);
	assert_int_equal(perf_parse_cpus("[1", cpus, 64, &n, err, sizeof(err)), -1);
	assert_int_equal(perf_parse_cpus("5000", cpus, 64, &n, err, sizeof(err)), -1);
	assert_int_equal(perf_parse_cpus("0-100", cpus, 64, &n, err, sizeof(err)), -1);
}

/* ---- zipf ----------------------------------------------------------------- */

static void check_zipf(uint64_t n, double theta)
{
	enum { DRAWS = 400000 };
	struct zipf z;
	struct rng r;
	double norm = 0, chi2 = 0;
	uint64_t *hits = calloc(n + 1, sizeof(*hits));

	assert_non_null(hits);
	assert_int_equal(zipf_init(&z, n, theta), 0);
	rng_seed(&r, 99);
	for (int i = 0; i < DRAWS; i++) {
		uint64_t k = zipf_next(&z, &r);

		assert_in_range(k, 1, n);
		hits[k]++;
	}
	for (uint64_t k = 1; k <= n; k++)
		norm += pow((double)k, -theta);
	for (uint64_t k = 1; k <= n; k++) {
		double expect = DRAWS * pow((double)k, -theta) / norm;

		chi2 += (hits[k] - expect) * (hits[k] - expect) / expect;
	}
	/* n - 1 degrees of freedom; mean n - 1, sd sqrt(2(n - 1)): 6 sd slack */
	if (chi2 > (double)(n - 1) + 6 * sqrt(2.0 * (double)(n - 1)))
		fail_msg("zipf n=%" PRIu64 " theta=%g: chi2 %.1f too large", n, theta, chi2);
	free(hits);
}

static void test_zipf_distribution(void **state)
{
	(void)state;
	check_zipf(100, 0.99);
	check_zipf(100, 1.0);
	check_zipf(50, 1.5);
	check_zipf(1000, 0.5);
	check_zipf(1, 1.2);
}

static void test_zipf_huge_n(void **state)
{
	struct zipf z;
	struct rng r;
	uint64_t n = 1ull << 40, first = 0;

	(void)state;
	assert_int_equal(zipf_init(&z, n, 0.99), 0);
	assert_int_equal(zipf_init(&z, 0, 0.99), -1);
	assert_int_equal(zipf_init(&z, 10, 0), -1);
	assert_int_equal(zipf_init(&z, n, 0.99), 0);
	rng_seed(&r, 3);
	for (int i = 0; i < 100000; i++) {
		uint64_t k = zipf_next(&z, &r);

		assert_true(k >= 1 && k <= n);
		first += k == 1;
	}
	/* rank 1 holds about 1/H(2^40, 0.99) ~ 3.5% of draws */
	assert_in_range(first, 2000, 6000);
}

/* ---- verify patterns ------------------------------------------------------ */

static void test_pattern_roundtrip(void **state)
{
	uint32_t bs = 4096;
	uint8_t *buf = aligned_alloc(64, 4 * bs);
	struct pattern_mismatch mm;
	char line[256];

	(void)state;
	pattern_fill(buf, 4, bs, 100, 7, 3);
	assert_true(pattern_check(buf, 4, bs, 100, 7, 3, &mm));
	/* stale: another generation */
	assert_false(pattern_check(buf, 4, bs, 100, 7, 4, &mm));
	assert_true(mm.magic_ok && mm.intact);
	assert_int_equal(mm.found_gen, 3);
	pattern_describe(&mm, 7, 4, line, sizeof(line));
	assert_non_null(strstr(line, "stale"));
	/* misdirected: a block of LBA 100 read at 101 */
	assert_false(pattern_check(buf, 1, bs, 101, 7, 3, &mm));
	assert_int_equal(mm.found_lba, 100);
	pattern_describe(&mm, 7, 3, line, sizeof(line));
	assert_non_null(strstr(line, "misdirected"));
	/* another run's seed */
	assert_false(pattern_check(buf, 4, bs, 100, 8, 3, &mm));
	pattern_describe(&mm, 8, 3, line, sizeof(line));
	assert_non_null(strstr(line, "another run"));
	/* one flipped bit in the third block's body */
	buf[2 * bs + 1000] ^= 0x10;
	assert_false(pattern_check(buf, 4, bs, 100, 7, 3, &mm));
	assert_int_equal(mm.lba, 102);
	assert_int_equal(mm.offset, 1000);
	assert_false(mm.intact);
	pattern_describe(&mm, 7, 3, line, sizeof(line));
	assert_non_null(strstr(line, "corrupted"));
	buf[2 * bs + 1000] ^= 0x10;
	/* a corrupted header checksum alone is caught, and called corruption */
	buf[bs + offsetof(struct pattern_hdr, hsum)] ^= 1;
	assert_false(pattern_check(buf, 4, bs, 100, 7, 3, &mm));
	assert_int_equal(mm.lba, 101);
	assert_int_equal(mm.offset, offsetof(struct pattern_hdr, hsum));
	assert_false(mm.intact);
	buf[bs + offsetof(struct pattern_hdr, hsum)] ^= 1;
	/* a header rewritten to name another LBA, body untouched: corrupted,
	 * not misdirected (the body is not what that header names) */
	((struct pattern_hdr *)(buf + bs))->lba = 500;
	assert_false(pattern_check(buf, 4, bs, 100, 7, 3, &mm));
	assert_false(mm.intact);
	pattern_describe(&mm, 7, 3, line, sizeof(line));
	assert_non_null(strstr(line, "corrupted"));
	((struct pattern_hdr *)(buf + bs))->lba = 101;
	assert_true(pattern_check(buf, 4, bs, 100, 7, 3, &mm));
	/* zeroes, as a null device returns */
	memset(buf, 0, 4 * bs);
	assert_false(pattern_check(buf, 4, bs, 100, 7, 3, &mm));
	assert_false(mm.magic_ok);
	free(buf);
}

static void test_pattern_512(void **state)
{
	uint8_t buf[2 * 512] __attribute__((aligned(8)));

	(void)state;
	pattern_fill(buf, 2, 512, 0, 1, 1);
	assert_true(pattern_check(buf, 2, 512, 0, 1, 1, NULL));
	buf[511] ^= 1;
	assert_false(pattern_check(buf, 2, 512, 0, 1, 1, NULL));
}

/* ---- TSC ------------------------------------------------------------------ */

/* A later interval measured both ways agrees within 5%. */
static bool tsc_agrees_once(uint64_t hz)
{
	struct timespec a, b, nap = { 0, 100 * 1000 * 1000 };
	uint64_t t0, t1, ns;
	double tsc_ns;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = tsc_now();
	nanosleep(&nap, NULL);
	t1 = tsc_now();
	clock_gettime(CLOCK_MONOTONIC, &b);
	tsc_ns = tsc_to_ns((double)(t1 - t0), hz);
	ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)b.tv_nsec -
	     (uint64_t)a.tv_nsec;
	return tsc_ns > 0.95 * (double)ns && tsc_ns < 1.01 * (double)ns;
}

static void test_tsc_calibration(void **state)
{
	uint64_t hz = tsc_calibrate(50);
	bool ok = false;

	(void)state;
#if defined(__aarch64__)
	assert_true(hz > 1000000ull);		/* the generic timer: 1 MHz and up */
#else
	assert_true(hz > 100000000ull);		/* > 100 MHz */
#endif
	/* preemption between the clock and TSC reads can spoil one attempt */
	for (int i = 0; i < 5 && !ok; i++)
		ok = tsc_agrees_once(hz);
	assert_true(ok);
	assert_true(tsc_to_us(hz, hz) == 1e6);
}

/* ---- report --------------------------------------------------------------- */

static char *render(const struct perf_report *r, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	if (json)
		perf_report_json(f, r);
	else
		perf_report_text(f, r);
	fclose(f);
	return text;
}

static void test_report(void **state)
{
	static struct perf_opts o;
	static struct perf_job jobs[2];
	struct perf_ctrl_desc ctrl = { .addr = "emu:", .model = "nvpoll \"emu\"",
				       .serial = "S1", .driver = "emu", .queue_size = 256 };
	struct perf_report r = { 0 };
	char err[128], *text;

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", "emu:", "-L", "-c", "0-1"), PERF_PARSE_OK);
	for (int j = 0; j < 2; j++) {
		perf_stats_init(&jobs[j].stats);
		jobs[j].ctrl = "emu:";
		jobs[j].nsid = 1;
		jobs[j].cpu = j;
		/* 1000 reads of 10 us at 1 GHz, plus one of 100 us */
		for (int n = 0; n < 1000; n++)
			perf_dir_record(&jobs[j].stats.dir[PERF_READ], 10000);
		perf_dir_record(&jobs[j].stats.dir[PERF_READ], 100000);
	}
	r.opts = &o;
	r.tsc_hz = 1000000000ull;
	r.seconds = 1.0;
	r.jobs = jobs;
	r.njobs = 2;
	r.ctrls = &ctrl;
	r.nctrls = 1;
	r.first_error = "";
	assert_false(perf_report_failed(&r));

	/* The header is printed on its own, before the run. */
	{
		FILE *f;
		size_t len = 0;

		text = NULL;
		f = open_memstream(&text, &len);
		perf_report_header(f, &o, &ctrl, 1);
		fclose(f);
		assert_non_null(strstr(text, "nvpoll-perf: randread, 4096 B, QD 32, 10 s, 2 CPUs"));
		assert_non_null(strstr(text, "256-entry I/O queues"));
		free(text);
	}

	text = render(&r, false);
	/* 1001 I/Os per job in 1 s; total 2002 */
	assert_non_null(strstr(text, "emu: ns1"));
	assert_non_null(strstr(text, "1001.00"));
	assert_non_null(strstr(text, "Total"));
	assert_non_null(strstr(text, "2002.00"));
	assert_non_null(strstr(text, "p99.99"));
	assert_non_null(strstr(text, "result: PASS"));
	/* average (1000 * 10 + 100) / 1001 us */
	assert_non_null(strstr(text, "10.09"));
	/* reads only: no per-direction rows */
	assert_null(strstr(text, "  reads"));
	free(text);

	text = render(&r, true);
	assert_non_null(strstr(text, "\"iops\": 2002.000"));
	assert_non_null(strstr(text, "\"model\": \"nvpoll \\\"emu\\\"\""));
	assert_non_null(strstr(text, "\"histogram_us\": [["));
	assert_non_null(strstr(text, "\"result\": \"pass\""));
	assert_non_null(strstr(text, "\"first_error\": null"));
	assert_non_null(strstr(text, "\"interrupted\": false"));
	/* fio's layout: per direction, latency in ns with fio's percentile keys */
	assert_non_null(strstr(text, "\"fio version\": \"nvpoll-perf-"));
	assert_non_null(strstr(text, "\"read\": {\"io_bytes\": 4100096, \"io_kbytes\": 4004, "
				     "\"bw_bytes\": 4100096, \"bw\": 4004, \"iops\": 1001.000000, "
				     "\"runtime\": 1000, \"total_ios\": 1001"));
	assert_non_null(strstr(text, "\"lat_ns\": {\"min\": 10000, \"max\": 100000, "
				     "\"mean\": 10089.910090"));
	assert_non_null(strstr(text, "\"percentile\": {\"1.000000\": "));
	assert_non_null(strstr(text, "\"99.990000\": 100000}"));
	assert_non_null(strstr(text, "\"write\": {\"io_bytes\": 0,"));
	assert_non_null(strstr(text, "\"io_queue_size\": 256,"));
	free(text);

	/* A mixed run: each direction on its own rows and in its own object. */
	for (int n = 0; n < 500; n++)
		perf_dir_record(&jobs[0].stats.dir[PERF_WRITE], 20000);
	text = render(&r, false);
	assert_non_null(strstr(text, "  reads"));
	assert_non_null(strstr(text, "  writes"));
	assert_non_null(strstr(text, "reads 2002, writes 500"));
	free(text);
	text = render(&r, true);
	assert_non_null(strstr(text, "\"write\": {\"io_bytes\": 2048000, \"io_kbytes\": 2000, "
				     "\"bw_bytes\": 2048000, \"bw\": 2000, \"iops\": 500.000000"));
	assert_non_null(strstr(text, "\"mixed\": true"));
	free(text);
	perf_stats_init(&jobs[0].stats);
	for (int n = 0; n < 1000; n++)
		perf_dir_record(&jobs[0].stats.dir[PERF_READ], 10000);
	perf_dir_record(&jobs[0].stats.dir[PERF_READ], 100000);

	/* no resets, no retries, nothing lost: no recovery section */
	text = render(&r, false);
	assert_null(strstr(text, "recovery"));
	free(text);

	/* 4 resets of 1, 2, 3 and 6 ms */
	ctrl.resets = 4;
	ctrl.resets_requested = 4;
	ctrl.reset_us_min = 1000;
	ctrl.reset_us_max = 6000;
	ctrl.reset_us_sum = 12000;
	ctrl.driver_retried = 30;
	ctrl.reset_aborted = 2;
	ctrl.retries = 2;
	ctrl.reconnects = 8;
	ctrl.state = "live";
	text = render(&r, false);
	assert_non_null(strstr(text, "recovery (-a emu:): 4 resets (4 by --reset-every), each "
				     "1.000 / 3.000 / 6.000 ms"));
	assert_non_null(strstr(text, "posted again by the driver 30"));
	assert_non_null(strstr(text, "submitted again by perf 2, failed 0"));
	assert_non_null(strstr(text, "result: PASS"));
	free(text);
	text = render(&r, true);
	assert_non_null(strstr(text, "\"resets\": 4,"));
	assert_non_null(strstr(text, "\"reset_ms\": {\"min\": 1.000, \"avg\": 3.000, "
				     "\"max\": 6.000}"));
	assert_non_null(strstr(text, "\"perf_retried\": 2"));
	assert_non_null(strstr(text, "\"state\": \"live\""));
	free(text);

	/* a removed controller fails the run even without a failed command */
	ctrl.state = "removed";
	ctrl.state_reason = "registers read all-ones";
	assert_true(perf_report_failed(&r));
	text = render(&r, false);
	assert_non_null(strstr(text, "controller removed: registers read all-ones"));
	assert_non_null(strstr(text, "result: FAIL"));
	free(text);
	ctrl.state = "live";
	assert_false(perf_report_failed(&r));

	/* Cut short: said so, in text and JSON. */
	r.interrupted = true;
	text = render(&r, false);
	assert_non_null(strstr(text, "interrupted: the figures cover the 1.000 s measured"));
	free(text);
	text = render(&r, true);
	assert_non_null(strstr(text, "\"interrupted\": true"));
	free(text);
	r.interrupted = false;

	jobs[1].stats.mismatches = 1;
	r.first_error = "emu: ns1 CPU 1: verify mismatch";
	assert_true(perf_report_failed(&r));
	text = render(&r, false);
	assert_non_null(strstr(text, "result: FAIL"));
	assert_non_null(strstr(text, "verify mismatch"));
	free(text);

	/* No command completed at all: a failure, never a PASS. */
	r.first_error = NULL;
	for (int j = 0; j < 2; j++)
		perf_stats_init(&jobs[j].stats);
	assert_true(perf_report_failed(&r));
	text = render(&r, false);
	assert_non_null(strstr(text, "no command completed in the measured window"));
	assert_non_null(strstr(text, "result: FAIL"));
	free(text);
	text = render(&r, true);
	assert_non_null(strstr(text, "\"first_error\": \"no command completed"));
	assert_non_null(strstr(text, "\"result\": \"fail\""));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_index_exact_below_64),
		cmocka_unit_test(test_hist_buckets_tile),
		cmocka_unit_test(test_hist_percentiles),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_opts_defaults),
		cmocka_unit_test(test_opts_full),
		cmocka_unit_test(test_opts_errors),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_cpus),
		cmocka_unit_test(test_zipf_distribution),
		cmocka_unit_test(test_zipf_huge_n),
		cmocka_unit_test(test_pattern_roundtrip),
		cmocka_unit_test(test_pattern_512),
		cmocka_unit_test(test_tsc_calibration),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
