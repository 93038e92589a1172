// SPDX-License-Identifier: BSD-3-Clause
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvpoll/nvpoll.h>

#include "report.h"
#include "tsc.h"

static const double percentiles[] = { 0.50, 0.90, 0.99, 0.999, 0.9999 };
static const char *const percentile_names[] = { "p50", "p90", "p99", "p99.9", "p99.99" };
#define NPCT (sizeof(percentiles) / sizeof(percentiles[0]))

/* The percentiles fio writes by default, with its keys ("%f" of the value). */
static const double fio_percentiles[] = {
	1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0,
	95.0, 99.0, 99.5, 99.9, 99.95, 99.99,
};
#define NFIOPCT (sizeof(fio_percentiles) / sizeof(fio_percentiles[0]))

static const char *const dir_names[PERF_NDIRS] = { "read", "write" };

static void dir_init(struct perf_dir_stats *d)
{
	memset(d, 0, sizeof(*d));
	d->lat_min = UINT64_MAX;
}

static void dir_merge(struct perf_dir_stats *dst, const struct perf_dir_stats *src)
{
	dst->ios += src->ios;
	dst->lat_sum += src->lat_sum;
	if (src->lat_min < dst->lat_min)
		dst->lat_min = src->lat_min;
	if (src->lat_max > dst->lat_max)
		dst->lat_max = src->lat_max;
	hist_merge(&dst->hist, &src->hist);
}

void perf_stats_init(struct perf_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (int d = 0; d < PERF_NDIRS; d++)
		dir_init(&s->dir[d]);
}

void perf_stats_merge(struct perf_stats *dst, const struct perf_stats *src)
{
	for (int d = 0; d < PERF_NDIRS; d++)
		dir_merge(&dst->dir[d], &src->dir[d]);
	dst->errors += src->errors;
	dst->mismatches += src->mismatches;
	dst->checks += src->checks;
	dst->check_ticks += src->check_ticks;
	dst->retries += src->retries;
	dst->final_checks += src->final_checks;
	dst->final_mismatches += src->final_mismatches;
	dst->zone_resets += src->zone_resets;
}

void perf_stats_all(const struct perf_stats *s, struct perf_dir_stats *out)
{
	dir_init(out);
	for (int d = 0; d < PERF_NDIRS; d++)
		dir_merge(out, &s->dir[d]);
}

static bool ctrl_lost(const struct perf_ctrl_desc *c)
{
	return c->state && strcmp(c->state, "live") != 0;
}

static void total_stats(const struct perf_report *r, struct perf_stats *t)
{
	perf_stats_init(t);
	for (unsigned int i = 0; i < r->njobs; i++)
		perf_stats_merge(t, &r->jobs[i].stats);
}

static bool has_error(const struct perf_report *r)
{
	return r->first_error && *r->first_error;
}

const char *perf_report_no_io(const struct perf_report *r)
{
	struct perf_stats t;

	total_stats(r, &t);
	if (t.dir[PERF_READ].ios || t.dir[PERF_WRITE].ios)
		return NULL;
	return "no command completed in the measured window; the device did not "
	       "answer in time (a longer -t, or see the device's health)";
}

bool perf_report_failed(const struct perf_report *r)
{
	if (has_error(r))
		return true;
	for (unsigned int i = 0; i < r->nctrls; i++)
		if (ctrl_lost(&r->ctrls[i]))
			return true;
	for (unsigned int i = 0; i < r->njobs; i++)
		if (r->jobs[i].stats.errors || r->jobs[i].stats.mismatches)
			return true;
	return perf_report_no_io(r) != NULL;
}

bool perf_ctrl_has_recovery(const struct perf_report *r, const struct perf_ctrl_desc *c)
{
	return r->opts->reset_every > 0 || c->resets || c->reset_failures ||
	       c->driver_retried || c->reset_aborted || c->retries || ctrl_lost(c);
}

/* Derived figures of one direction (or both merged). */
struct row {
	uint64_t ios;
	double iops, mib_s, avg_us, min_us, max_us;
};

static struct row row_of(const struct perf_report *r, const struct perf_dir_stats *d)
{
	struct row w = { 0 };

	w.ios = d->ios;
	if (r->seconds > 0) {
		w.iops = (double)w.ios / r->seconds;
		w.mib_s = w.iops * (double)r->opts->io_size / (1024.0 * 1024.0);
	}
	if (w.ios) {
		w.avg_us = tsc_to_us(d->lat_sum, r->tsc_hz) / (double)w.ios;
		w.min_us = tsc_to_us(d->lat_min, r->tsc_hz);
		w.max_us = tsc_to_us(d->lat_max, r->tsc_hz);
	}
	return w;
}

/* A percentile in ticks; never above the largest sample seen. */
static uint64_t pct_ticks(const struct perf_dir_stats *d, double f)
{
	uint64_t v = hist_percentile(&d->hist, f);

	return v > d->lat_max ? d->lat_max : v;
}

static double pct_us(const struct perf_report *r, const struct perf_dir_stats *d, double f)
{
	return tsc_to_us(pct_ticks(d, f), r->tsc_hz);
}

static void job_name(const struct perf_job *j, char *buf, size_t len)
{
	snprintf(buf, len, "%s ns%" PRIu32, j->ctrl, j->nsid);
}

static bool run_is_mixed(const struct perf_stats *total)
{
	return total->dir[PERF_READ].ios && total->dir[PERF_WRITE].ios;
}

static void print_histogram(FILE *out, const struct perf_report *r,
			    const struct perf_dir_stats *d, const char *title)
{
	uint64_t total = hist_total(&d->hist), seen = 0;

	fprintf(out, "\nLatency histogram, %s (%" PRIu64 " I/Os):\n", title, total);
	fprintf(out, "%14s %14s %12s %12s\n", "from us", "to us", "cumulative", "count");
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		uint64_t n = d->hist.count[i];

		if (!n)
			continue;
		seen += n;
		fprintf(out, "%14.3f %14.3f %11.5f%% %12" PRIu64 "\n",
			tsc_to_us(hist_bucket_low(i), r->tsc_hz),
			tsc_to_us(hist_bucket_high(i) + 1, r->tsc_hz),
			100.0 * (double)seen / (double)total, n);
	}
}

void perf_report_header(FILE *out, const struct perf_opts *o,
			const struct perf_ctrl_desc *ctrls, unsigned int nctrls)
{
	fprintf(out, "nvpoll-perf: %s", perf_workload_name(o->workload));
	if (o->workload == WL_RW || o->workload == WL_RANDRW)
		fprintf(out, " (%d%% reads)", o->read_pct);
	fprintf(out, ", %" PRIu64 " B, QD %u, %.3g s", o->io_size, o->depth, o->seconds);
	if (o->warmup > 0)
		fprintf(out, " after %.3g s warm-up", o->warmup);
	fprintf(out, ", %u CPU%s, seed %" PRIu64 "%s", o->ncpus, o->ncpus == 1 ? "" : "s",
		o->seed, o->verify ? ", verify" : "");
	if (o->zipf_theta > 0)
		fprintf(out, ", zipf %g", o->zipf_theta);
	fprintf(out, "\n");
	for (unsigned int i = 0; i < nctrls; i++) {
		const struct perf_ctrl_desc *c = &ctrls[i];

		fprintf(out, "  -a %s is \"%s\", SN %s, driver %s, %u-entry I/O queues, "
			"shadow doorbells %s, CMB SQs %s\n", c->addr, c->model, c->serial, c->driver,
			c->queue_size, c->shadow_doorbells ? "on" : "off", c->cmb_sqs ? "on" : "off");
	}
}

/* One table row: "name CPU IOPS MiB/s avg min max". */
static void text_row(FILE *out, const struct perf_report *r, int width, const char *name,
		     const char *cpu, const struct perf_dir_stats *d)
{
	struct row w = row_of(r, d);

	fprintf(out, "%-*s %4s %12.2f %10.2f %10.2f %10.2f %10.2f\n", width, name, cpu,
		w.iops, w.mib_s, w.avg_us, w.min_us, w.max_us);
}

static void text_pct_row(FILE *out, const struct perf_report *r, int width, const char *name,
			 const char *cpu, const struct perf_dir_stats *d)
{
	fprintf(out, "%-*s %4s", width, name, cpu);
	for (unsigned int p = 0; p < NPCT; p++)
		fprintf(out, " %9.2f", pct_us(r, d, percentiles[p]));
	fprintf(out, " %9.2f\n", d->lat_max ? tsc_to_us(d->lat_max, r->tsc_hz) : 0);
}

/*
 * Rows of one (namespace, CPU) or of the Total: both directions together,
 * then, in a mixed run, each on its own indented line.
 */
static void text_rows(FILE *out, const struct perf_report *r, int width, const char *name,
		      const char *cpu, const struct perf_stats *s, bool mixed, bool pct)
{
	struct perf_dir_stats all;

	perf_stats_all(s, &all);
	(pct ? text_pct_row : text_row)(out, r, width, name, cpu, &all);
	if (!mixed)
		return;
	(pct ? text_pct_row : text_row)(out, r, width, "  reads", "", &s->dir[PERF_READ]);
	(pct ? text_pct_row : text_row)(out, r, width, "  writes", "", &s->dir[PERF_WRITE]);
}

void perf_report_text(FILE *out, const struct perf_report *r)
{
	const struct perf_opts *o = r->opts;
	struct perf_stats total;
	struct perf_dir_stats all;
	char name[160], cpu[16];
	int width = (int)strlen("Namespace");
	bool mixed;

	for (unsigned int i = 0; i < r->njobs; i++) {
		job_name(&r->jobs[i], name, sizeof(name));
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	}
	total_stats(r, &total);
	mixed = run_is_mixed(&total);

	fprintf(out, "\n%-*s %4s %12s %10s %30s\n", width, "", "", "", "", "Latency (us)");
	fprintf(out, "%-*s %4s %12s %10s %10s %10s %10s\n", width, "Namespace", "CPU",
		"IOPS", "MiB/s", "Average", "min", "max");
	for (unsigned int i = 0; i < r->njobs; i++) {
		job_name(&r->jobs[i], name, sizeof(name));
		snprintf(cpu, sizeof(cpu), "%d", r->jobs[i].cpu);
		text_rows(out, r, width, name, cpu, &r->jobs[i].stats, mixed, false);
	}
	text_rows(out, r, width, "Total", "", &total, mixed, false);

	if (o->latency_level >= 1) {
		fprintf(out, "\n%-*s %4s", width, "Latency percentiles (us)", "CPU");
		for (unsigned int p = 0; p < NPCT; p++)
			fprintf(out, " %9s", percentile_names[p]);
		fprintf(out, " %9s\n", "max");
		for (unsigned int i = 0; i < r->njobs; i++) {
			job_name(&r->jobs[i], name, sizeof(name));
			snprintf(cpu, sizeof(cpu), "%d", r->jobs[i].cpu);
			text_rows(out, r, width, name, cpu, &r->jobs[i].stats, mixed, true);
		}
		text_rows(out, r, width, "Total", "", &total, mixed, true);
	}
	if (o->latency_level >= 2) {
		for (unsigned int i = 0; i <= r->njobs; i++) {
			const struct perf_stats *s = i < r->njobs ? &r->jobs[i].stats : &total;
			char title[200];

			if (i == r->njobs && r->njobs < 2)
				break;
			if (i < r->njobs) {
				job_name(&r->jobs[i], name, sizeof(name));
				snprintf(title, sizeof(title), "%s, CPU %d", name, r->jobs[i].cpu);
			} else {
				snprintf(title, sizeof(title), "Total");
			}
			perf_stats_all(s, &all);
			print_histogram(out, r, &all, title);
			for (int d = 0; mixed && d < PERF_NDIRS; d++) {
				char sub[240];

				snprintf(sub, sizeof(sub), "%s, %ss", title, dir_names[d]);
				print_histogram(out, r, &s->dir[d], sub);
			}
		}
	}

	if (mixed)
		fprintf(out, "\nreads %" PRIu64 ", writes %" PRIu64 "\n",
			total.dir[PERF_READ].ios, total.dir[PERF_WRITE].ios);
	for (unsigned int i = 0; i < r->nctrls; i++) {
		const struct perf_ctrl_desc *c = &r->ctrls[i];

		if (!perf_ctrl_has_recovery(r, c))
			continue;
		fprintf(out, "\nrecovery (-a %s): %" PRIu64 " resets", c->addr, c->resets);
		if (c->resets_requested)
			fprintf(out, " (%" PRIu64 " by --reset-every)", c->resets_requested);
		if (c->resets)
			fprintf(out, ", each %.3f / %.3f / %.3f ms (min / avg / max)",
				(double)c->reset_us_min / 1e3,
				(double)c->reset_us_sum / 1e3 / (double)c->resets,
				(double)c->reset_us_max / 1e3);
		if (c->reset_failures)
			fprintf(out, ", %" PRIu64 " failed", c->reset_failures);
		fprintf(out, "\n  commands posted again by the driver %" PRIu64 ", ended by a "
			"reset with a retryable status %" PRIu64 ", submitted again by perf %"
			PRIu64 ", failed %" PRIu64 "; queue pairs reconnected %" PRIu64 " times\n",
			c->driver_retried, c->reset_aborted, c->retries, c->errors,
			c->reconnects);
		if (ctrl_lost(c))
			fprintf(out, "  controller %s: %s\n", c->state,
				c->state_reason ? c->state_reason : "");
	}
	if (o->verify) {
		fprintf(out, "\nverify: %" PRIu64 " mismatches", total.mismatches);
		if (total.checks)
			fprintf(out, "; %" PRIu64 " reads compared, %.2f us of CPU each",
				total.checks, (double)total.check_ticks * 1e6 /
				(double)r->tsc_hz / (double)total.checks);
		fprintf(out, "\n");
		if (o->verify_final)
			fprintf(out, "verify, final read-back: %" PRIu64 " units checked, %" PRIu64
				" mismatches\n", total.final_checks, total.final_mismatches);
	}
	if (total.errors)
		fprintf(out, "\nI/O errors: %" PRIu64 "\n", total.errors);
	if (has_error(r))
		fprintf(out, "first failure: %s\n", r->first_error);
	else if (perf_report_no_io(r))
		fprintf(out, "\nfailure: %s\n", perf_report_no_io(r));
	if (r->interrupted)
		fprintf(out, "\ninterrupted: the figures cover the %.3f s measured\n", r->seconds);
	fprintf(out, "\nresult: %s\n", perf_report_failed(r) ? "FAIL" : "PASS");
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* A string, or null for NULL or "". */
static void json_str_or_null(FILE *out, const char *s)
{
	if (s && *s)
		json_str(out, s);
	else
		fputs("null", out);
}

static double ticks_ns(const struct perf_report *r, uint64_t ticks)
{
	return tsc_to_ns((double)ticks, r->tsc_hz);
}

/*
 * Standard deviation in ns, from the histogram: each sample taken at the
 * middle of its bucket (at most 1/32 of its value wide), the mean exact.
 */
static double stddev_ns(const struct perf_report *r, const struct perf_dir_stats *d)
{
	double mean, var = 0;

	if (d->ios < 2)
		return 0;
	mean = (double)d->lat_sum / (double)d->ios;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo, hi;
		double mid;

		if (!d->hist.count[i])
			continue;
		lo = hist_bucket_low(i) < d->lat_min ? d->lat_min : hist_bucket_low(i);
		hi = hist_bucket_high(i) > d->lat_max ? d->lat_max : hist_bucket_high(i);
		mid = ((double)lo + (double)hi) / 2 - mean;
		var += (double)d->hist.count[i] * mid * mid;
	}
	return tsc_to_ns(sqrt(var / (double)(d->ios - 1)), r->tsc_hz);
}

/* fio's {"min", "max", "mean", "stddev", "N"[, "percentile"]} in ns. */
static void json_lat_ns(FILE *out, const struct perf_report *r, const struct perf_dir_stats *d,
			bool with_pct)
{
	if (!d->ios) {
		fputs("{\"min\": 0, \"max\": 0, \"mean\": 0.000000, \"stddev\": 0.000000, \"N\": 0}",
		      out);
		return;
	}
	fprintf(out, "{\"min\": %.0f, \"max\": %.0f, \"mean\": %.6f, \"stddev\": %.6f, "
		"\"N\": %" PRIu64, ticks_ns(r, d->lat_min), ticks_ns(r, d->lat_max),
		tsc_to_ns((double)d->lat_sum / (double)d->ios, r->tsc_hz), stddev_ns(r, d),
		d->ios);
	if (with_pct) {
		fputs(", \"percentile\": {", out);
		for (unsigned int p = 0; p < NFIOPCT; p++)
			fprintf(out, "%s\"%f\": %.0f", p ? ", " : "", fio_percentiles[p],
				ticks_ns(r, pct_ticks(d, fio_percentiles[p] / 100.0)));
		fputc('}', out);
	}
	fputc('}', out);
}

/*
 * One direction as fio writes it: bytes, bandwidth (bw in KiB/s), IOPS,
 * runtime in ms, counts, and latency in ns. nvpoll-perf times each command
 * from just before submission to its completion callback: that is fio's
 * lat_ns, and clat_ns carries the same figures (submission is not timed on
 * its own, so slat_ns is all zero, as fio writes it for an engine that
 * does not measure it).
 */
static void json_fio_dir(FILE *out, const struct perf_report *r, const char *key,
			 const struct perf_dir_stats *d, const char *indent)
{
	uint64_t bytes = d->ios * r->opts->io_size;
	double bw = r->seconds > 0 ? (double)bytes / r->seconds : 0;
	double iops = r->seconds > 0 ? (double)d->ios / r->seconds : 0;

	fprintf(out, "%s\"%s\": {\"io_bytes\": %" PRIu64 ", \"io_kbytes\": %" PRIu64
		", \"bw_bytes\": %.0f, \"bw\": %.0f, \"iops\": %.6f, \"runtime\": %.0f, "
		"\"total_ios\": %" PRIu64 ", \"short_ios\": 0, \"drop_ios\": 0,\n",
		indent, key, bytes, bytes / 1024, floor(bw), floor(bw / 1024), iops,
		d->ios ? r->seconds * 1e3 : 0.0, d->ios);
	fprintf(out, "%s  \"slat_ns\": {\"min\": 0, \"max\": 0, \"mean\": 0.000000, "
		"\"stddev\": 0.000000, \"N\": 0},\n", indent);
	fprintf(out, "%s  \"clat_ns\": ", indent);
	json_lat_ns(out, r, d, true);
	fprintf(out, ",\n%s  \"lat_ns\": ", indent);
	json_lat_ns(out, r, d, true);
	fputc('}', out);
}

/* nvpoll's own figures of a job or the total: both directions together. */
static void json_nvpoll_stats(FILE *out, const struct perf_report *r,
			      const struct perf_stats *s, const char *indent)
{
	struct perf_dir_stats all;
	struct row w;
	bool first = true;

	perf_stats_all(s, &all);
	w = row_of(r, &all);
	fprintf(out, "%s\"ios\": %" PRIu64 ", \"reads\": %" PRIu64 ", \"writes\": %" PRIu64
		", \"errors\": %" PRIu64 ", \"verify_mismatches\": %" PRIu64 ",\n",
		indent, w.ios, s->dir[PERF_READ].ios, s->dir[PERF_WRITE].ios, s->errors,
		s->mismatches);
	fprintf(out, "%s\"retries\": %" PRIu64 ",\n", indent, s->retries);
	if (r->opts->workload == WL_ZONE_APPEND)
		fprintf(out, "%s\"zone_resets\": %" PRIu64 ",\n", indent, s->zone_resets);
	if (r->opts->verify_final)
		fprintf(out, "%s\"verify_final_checks\": %" PRIu64 ", "
			"\"verify_final_mismatches\": %" PRIu64 ",\n", indent, s->final_checks,
			s->final_mismatches);
	if (s->checks)
		fprintf(out, "%s\"verify_checks\": %" PRIu64 ", \"verify_us_per_check\": %.3f,\n",
			indent, s->checks, (double)s->check_ticks * 1e6 / (double)r->tsc_hz /
			(double)s->checks);
	fprintf(out, "%s\"iops\": %.3f, \"mib_per_s\": %.3f,\n", indent, w.iops, w.mib_s);
	fprintf(out, "%s\"latency_us\": {\"avg\": %.3f, \"min\": %.3f, \"max\": %.3f",
		indent, w.avg_us, w.min_us, w.max_us);
	for (unsigned int p = 0; p < NPCT; p++)
		fprintf(out, ", \"%s\": %.3f", percentile_names[p],
			pct_us(r, &all, percentiles[p]));
	fprintf(out, "},\n%s\"histogram_us\": [", indent);
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		if (!all.hist.count[i])
			continue;
		fprintf(out, "%s[%.4f, %.4f, %" PRIu64 "]", first ? "" : ", ",
			tsc_to_us(hist_bucket_low(i), r->tsc_hz),
			tsc_to_us(hist_bucket_high(i) + 1, r->tsc_hz), all.hist.count[i]);
		first = false;
	}
	fputc(']', out);
}

/* A job (or the total) in fio's layout, with nvpoll's figures beside. */
static void json_job(FILE *out, const struct perf_report *r, const char *jobname,
		     const char *filename, const char *cpus, const struct perf_stats *s,
		     const char *indent)
{
	const struct perf_opts *o = r->opts;
	struct perf_dir_stats none;
	int error = s->mismatches ? 84 /* EILSEQ, as fio's verify */ : s->errors ? 5 /* EIO */ : 0;

	dir_init(&none);
	fprintf(out, "%s\"jobname\": ", indent);
	json_str(out, jobname);
	fprintf(out, ", \"groupid\": 0, \"error\": %d, \"eta\": 0, \"elapsed\": %.0f, "
		"\"job_runtime\": %.0f,\n", error, ceil(o->warmup + r->seconds), r->seconds * 1e3);
	fprintf(out, "%s\"job options\": {\"filename\": ", indent);
	json_str(out, filename);
	fprintf(out, ", \"rw\": \"%s\", \"bs\": \"%" PRIu64 "\", \"iodepth\": \"%u\", "
		"\"rwmixread\": \"%d\", \"runtime\": \"%g\", \"ramp_time\": \"%g\", "
		"\"cpus_allowed\": ", perf_workload_name(o->workload), o->io_size, o->depth,
		o->read_pct, o->seconds, o->warmup);
	json_str(out, cpus);
	fprintf(out, "},\n");
	for (int d = 0; d < PERF_NDIRS; d++) {
		json_fio_dir(out, r, dir_names[d], &s->dir[d], indent);
		fprintf(out, ",\n");
	}
	json_fio_dir(out, r, "trim", &none, indent);
	fprintf(out, ",\n");
	json_nvpoll_stats(out, r, s, indent);
}

/* A value every controller shares, or null when they differ. */
static void json_common_u32(FILE *out, const struct perf_report *r, size_t offset)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < r->nctrls; i++) {
		uint32_t c;

		memcpy(&c, (const char *)&r->ctrls[i] + offset, sizeof(c));
		if (i && c != v) {
			fputs("null", out);
			return;
		}
		v = c;
	}
	if (r->nctrls)
		fprintf(out, "%u", v);
	else
		fputs("null", out);
}

void perf_report_json(FILE *out, const struct perf_report *r)
{
	const struct perf_opts *o = r->opts;
	struct perf_stats total;
	char cpus[4096], name[200], when[64];
	size_t off = 0;
	time_t t = (time_t)(r->timestamp_ms / 1000);
	struct tm tm;

	cpus[0] = '\0';
	for (unsigned int i = 0; i < o->ncpus && off < sizeof(cpus) - 16; i++)
		off += (size_t)snprintf(cpus + off, sizeof(cpus) - off, "%s%d", i ? "," : "",
					o->cpus[i]);
	when[0] = '\0';
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);

	/* "fio version" lets fio's parsers take the file; its value says who wrote it. */
	fprintf(out, "{\n  \"fio version\": \"nvpoll-perf-%d.%d.%d\",\n",
		NVP_VERSION_MAJOR, NVP_VERSION_MINOR, NVP_VERSION_PATCH);
	fprintf(out, "  \"timestamp\": %" PRId64 ", \"timestamp_ms\": %" PRId64 ", \"time\": ",
		r->timestamp_ms / 1000, r->timestamp_ms);
	json_str(out, when);
	fprintf(out, ",\n  \"tool\": \"nvpoll-perf\", \"version\": \"%d.%d.%d\",\n",
		NVP_VERSION_MAJOR, NVP_VERSION_MINOR, NVP_VERSION_PATCH);
	fprintf(out, "  \"config\": {\"workload\": \"%s\", \"read_percent\": %d, "
		"\"io_size\": %" PRIu64 ", \"queue_depth\": %u, \"seconds\": %.6g, "
		"\"warmup_seconds\": %.6g, \"cpus\": [",
		perf_workload_name(o->workload), o->read_pct, o->io_size, o->depth,
		o->seconds, o->warmup);
	for (unsigned int i = 0; i < o->ncpus; i++)
		fprintf(out, "%s%d", i ? ", " : "", o->cpus[i]);
	fprintf(out, "], \"seed\": %" PRIu64 ", \"zipf_theta\": %.6g, \"verify\": %s, "
		"\"io_queue_size\": ", o->seed, o->zipf_theta, o->verify ? "true" : "false");
	json_common_u32(out, r, offsetof(struct perf_ctrl_desc, queue_size));
	fprintf(out, ", \"max_completions\": ");
	json_common_u32(out, r, offsetof(struct perf_ctrl_desc, max_completions));
	fprintf(out, ", \"shadow_doorbell\": %s, \"reset_every\": %.6g, \"verify_final\": %s},\n",
		o->no_shadow_doorbell ? "false" : "true", o->reset_every,
		o->verify_final ? "true" : "false");
	fprintf(out, "  \"tsc_hz\": %" PRIu64 ", \"measured_seconds\": %.6f, \"interrupted\": %s,\n",
		r->tsc_hz, r->seconds, r->interrupted ? "true" : "false");
	fprintf(out, "  \"controllers\": [");
	for (unsigned int i = 0; i < r->nctrls; i++) {
		const struct perf_ctrl_desc *c = &r->ctrls[i];

		fprintf(out, "%s\n    {\"address\": ", i ? "," : "");
		json_str(out, c->addr);
		fprintf(out, ", \"model\": ");
		json_str(out, c->model);
		fprintf(out, ", \"serial\": ");
		json_str(out, c->serial);
		fprintf(out, ", \"driver\": ");
		json_str(out, c->driver);
		fprintf(out, ", \"shadow_doorbells\": %s, \"cmb_sqs\": %s, \"cmb_bytes\": %" PRIu64
			", \"max_queue_entries\": %u, "
			"\"queue_size\": %u, \"max_completions\": %u, \"io_queues\": %u, "
			"\"numa_node\": %d,\n", c->shadow_doorbells ? "true" : "false",
			c->cmb_sqs ? "true" : "false", c->cmb_bytes,
			c->max_queue_entries, c->queue_size, c->max_completions, c->num_io_queues,
			c->numa_node);
		fprintf(out, "     \"state\": ");
		json_str(out, c->state ? c->state : "live");
		fprintf(out, ", \"state_reason\": ");
		json_str_or_null(out, c->state_reason);
		fprintf(out, ",\n     \"recovery\": {\"resets\": %" PRIu64 ", \"resets_requested\": %"
			PRIu64 ", \"reset_failures\": %" PRIu64 ", \"reset_ms\": {\"min\": %.3f, "
			"\"avg\": %.3f, \"max\": %.3f}, \"driver_retried\": %" PRIu64
			", \"reset_aborted\": %" PRIu64 ", \"reconnects\": %" PRIu64
			", \"perf_retried\": %" PRIu64 ", \"failed_commands\": %" PRIu64 "}}",
			c->resets, c->resets_requested, c->reset_failures,
			c->resets ? (double)c->reset_us_min / 1e3 : 0.0,
			c->resets ? (double)c->reset_us_sum / 1e3 / (double)c->resets : 0.0,
			(double)c->reset_us_max / 1e3, c->driver_retried, c->reset_aborted,
			c->reconnects, c->retries, c->errors);
	}
	fprintf(out, "\n  ],\n  \"jobs\": [");
	for (unsigned int i = 0; i < r->njobs; i++) {
		const struct perf_job *j = &r->jobs[i];
		char cpu[16];

		job_name(j, name, sizeof(name));
		snprintf(name + strlen(name), sizeof(name) - strlen(name), " cpu%d", j->cpu);
		snprintf(cpu, sizeof(cpu), "%d", j->cpu);
		fprintf(out, "%s\n    {\"controller\": ", i ? "," : "");
		json_str(out, j->ctrl);
		fprintf(out, ", \"nsid\": %" PRIu32 ", \"cpu\": %d,\n", j->nsid, j->cpu);
		json_job(out, r, name, j->ctrl, cpu, &j->stats, "     ");
		fputc('}', out);
	}
	total_stats(r, &total);
	fprintf(out, "\n  ],\n  \"total\": {\n");
	json_job(out, r, "total", "", cpus, &total, "    ");
	fprintf(out, ",\n    \"mixed\": %s\n  },\n  \"first_error\": ",
		run_is_mixed(&total) ? "true" : "false");
	if (has_error(r))
		json_str(out, r->first_error);
	else
		json_str_or_null(out, perf_report_no_io(r));
	fprintf(out, ",\n  \"result\": \"%s\"\n}\n", perf_report_failed(r) ? "fail" : "pass");
}
