// SPDX-License-Identifier: BSD-3-Clause
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "report.h"
#include "tsc.h"

static const double percentiles[] = { 0.50, 0.90, 0.99, 0.999, 0.9999 };
static const char *const percentile_names[] = { "p50", "p90", "p99", "p99.9", "p99.99" };
#define NPCT (sizeof(percentiles) / sizeof(percentiles[0]))

void perf_stats_init(struct perf_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->lat_min = UINT64_MAX;
}

void perf_stats_merge(struct perf_stats *dst, const struct perf_stats *src)
{
	dst->reads += src->reads;
	dst->writes += src->writes;
	dst->errors += src->errors;
	dst->mismatches += src->mismatches;
	dst->checks += src->checks;
	dst->check_ticks += src->check_ticks;
	dst->retries += src->retries;
	dst->final_checks += src->final_checks;
	dst->final_mismatches += src->final_mismatches;
	dst->lat_sum += src->lat_sum;
	if (src->lat_min < dst->lat_min)
		dst->lat_min = src->lat_min;
	if (src->lat_max > dst->lat_max)
		dst->lat_max = src->lat_max;
	hist_merge(&dst->hist, &src->hist);
}

static bool ctrl_lost(const struct perf_ctrl_desc *c)
{
	return c->state && strcmp(c->state, "live") != 0;
}

bool perf_report_failed(const struct perf_report *r)
{
	if (r->first_error && *r->first_error)
		return true;
	for (unsigned int i = 0; i < r->nctrls; i++)
		if (ctrl_lost(&r->ctrls[i]))
			return true;
	for (unsigned int i = 0; i < r->njobs; i++)
		if (r->jobs[i].stats.errors || r->jobs[i].stats.mismatches)
			return true;
	return false;
}

bool perf_ctrl_has_recovery(const struct perf_report *r, const struct perf_ctrl_desc *c)
{
	return r->opts->reset_every > 0 || c->resets || c->reset_failures ||
	       c->driver_retried || c->reset_aborted || c->retries || ctrl_lost(c);
}

/* Derived figures of one row. */
struct row {
	uint64_t ios;
	double iops, mib_s, avg_us, min_us, max_us;
};

static struct row row_of(const struct perf_report *r, const struct perf_stats *s)
{
	struct row w = { 0 };

	w.ios = s->reads + s->writes;
	if (r->seconds > 0) {
		w.iops = (double)w.ios / r->seconds;
		w.mib_s = w.iops * (double)r->opts->io_size / (1024.0 * 1024.0);
	}
	if (w.ios) {
		w.avg_us = tsc_to_us(s->lat_sum, r->tsc_hz) / (double)w.ios;
		w.min_us = tsc_to_us(s->lat_min, r->tsc_hz);
		w.max_us = tsc_to_us(s->lat_max, r->tsc_hz);
	}
	return w;
}

/* A percentile never reads above the largest sample seen. */
static double pct_us(const struct perf_report *r, const struct perf_stats *s, double f)
{
	uint64_t v = hist_percentile(&s->hist, f);

	if (v > s->lat_max)
		v = s->lat_max;
	return tsc_to_us(v, r->tsc_hz);
}

static void job_name(const struct perf_job *j, char *buf, size_t len)
{
	snprintf(buf, len, "%s ns%" PRIu32, j->ctrl, j->nsid);
}

static void total_stats(const struct perf_report *r, struct perf_stats *t)
{
	perf_stats_init(t);
	for (unsigned int i = 0; i < r->njobs; i++)
		perf_stats_merge(t, &r->jobs[i].stats);
}

static void print_histogram(FILE *out, const struct perf_report *r,
			    const struct perf_stats *s, const char *title)
{
	uint64_t total = hist_total(&s->hist), seen = 0;

	fprintf(out, "\nLatency histogram, %s (%" PRIu64 " I/Os):\n", title, total);
	fprintf(out, "%14s %14s %12s %12s\n", "from us", "to us", "cumulative", "count");
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		uint64_t n = s->hist.count[i];

		if (!n)
			continue;
		seen += n;
		fprintf(out, "%14.3f %14.3f %11.5f%% %12" PRIu64 "\n",
			tsc_to_us(hist_bucket_low(i), r->tsc_hz),
			tsc_to_us(hist_bucket_high(i) + 1, r->tsc_hz),
			100.0 * (double)seen / (double)total, n);
	}
}

void perf_report_text(FILE *out, const struct perf_report *r)
{
	const struct perf_opts *o = r->opts;
	struct perf_stats total;
	struct row w;
	char name[160];
	int width = (int)strlen("Namespace");

	for (unsigned int i = 0; i < r->njobs; i++) {
		job_name(&r->jobs[i], name, sizeof(name));
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	}

	fprintf(out, "nvpoll-perf: %s", perf_workload_name(o->workload));
	if (o->workload == WL_RW || o->workload == WL_RANDRW)
		fprintf(out, " (%d%% reads)", o->read_pct);
	fprintf(out, ", %" PRIu64 " B, QD %u, %.3g s", o->io_size, o->depth, r->seconds);
	if (o->warmup > 0)
		fprintf(out, " after %.3g s warm-up", o->warmup);
	fprintf(out, ", %u CPU%s, seed %" PRIu64 "%s", o->ncpus, o->ncpus == 1 ? "" : "s",
		o->seed, o->verify ? ", verify" : "");
	if (o->zipf_theta > 0)
		fprintf(out, ", zipf %g", o->zipf_theta);
	fprintf(out, "\n");
	for (unsigned int i = 0; i < r->nctrls; i++) {
		const struct perf_ctrl_desc *c = &r->ctrls[i];

		fprintf(out, "  -a %s is \"%s\", SN %s, driver %s, %u-entry I/O queues, "
			"shadow doorbells %s\n", c->addr, c->model, c->serial, c->driver,
			c->queue_size, c->shadow_doorbells ? "on" : "off");
	}
	fprintf(out, "\n%-*s %4s %12s %10s %30s\n", width, "", "", "", "",
		"Latency (us)");
	fprintf(out, "%-*s %4s %12s %10s %10s %10s %10s\n", width, "Namespace", "CPU",
		"IOPS", "MiB/s", "Average", "min", "max");
	for (unsigned int i = 0; i < r->njobs; i++) {
		const struct perf_job *j = &r->jobs[i];

		job_name(j, name, sizeof(name));
		w = row_of(r, &j->stats);
		fprintf(out, "%-*s %4d %12.2f %10.2f %10.2f %10.2f %10.2f\n", width, name,
			j->cpu, w.iops, w.mib_s, w.avg_us, w.min_us, w.max_us);
	}
	total_stats(r, &total);
	w = row_of(r, &total);
	fprintf(out, "%-*s %4s %12.2f %10.2f %10.2f %10.2f %10.2f\n", width, "Total", "",
		w.iops, w.mib_s, w.avg_us, w.min_us, w.max_us);

	if (o->latency_level >= 1) {
		fprintf(out, "\n%-*s %4s", width, "Latency percentiles (us)", "CPU");
		for (unsigned int p = 0; p < NPCT; p++)
			fprintf(out, " %9s", percentile_names[p]);
		fprintf(out, " %9s\n", "max");
		for (unsigned int i = 0; i <= r->njobs; i++) {
			const struct perf_stats *s = i < r->njobs ? &r->jobs[i].stats : &total;

			if (i < r->njobs) {
				job_name(&r->jobs[i], name, sizeof(name));
				fprintf(out, "%-*s %4d", width, name, r->jobs[i].cpu);
			} else {
				fprintf(out, "%-*s %4s", width, "Total", "");
			}
			for (unsigned int p = 0; p < NPCT; p++)
				fprintf(out, " %9.2f", pct_us(r, s, percentiles[p]));
			fprintf(out, " %9.2f\n", s->lat_max ? tsc_to_us(s->lat_max, r->tsc_hz) : 0);
		}
	}
	if (o->latency_level >= 2) {
		for (unsigned int i = 0; i < r->njobs; i++) {
			char title[200];

			job_name(&r->jobs[i], name, sizeof(name));
			snprintf(title, sizeof(title), "%s, CPU %d", name, r->jobs[i].cpu);
			print_histogram(out, r, &r->jobs[i].stats, title);
		}
		if (r->njobs > 1)
			print_histogram(out, r, &total, "Total");
	}

	if (total.writes && total.reads)
		fprintf(out, "\nreads %" PRIu64 ", writes %" PRIu64 "\n", total.reads,
			total.writes);
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
	if (r->first_error && *r->first_error)
		fprintf(out, "first failure: %s\n", r->first_error);
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

static void json_stats(FILE *out, const struct perf_report *r,
		       const struct perf_stats *s, const char *indent)
{
	struct row w = row_of(r, s);
	bool first = true;

	fprintf(out, "%s\"ios\": %" PRIu64 ", \"reads\": %" PRIu64 ", \"writes\": %" PRIu64
		", \"errors\": %" PRIu64 ", \"verify_mismatches\": %" PRIu64 ",\n",
		indent, w.ios, s->reads, s->writes, s->errors, s->mismatches);
	fprintf(out, "%s\"retries\": %" PRIu64 ",\n", indent, s->retries);
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
			pct_us(r, s, percentiles[p]));
	fprintf(out, "},\n%s\"histogram_us\": [", indent);
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		if (!s->hist.count[i])
			continue;
		fprintf(out, "%s[%.4f, %.4f, %" PRIu64 "]", first ? "" : ", ",
			tsc_to_us(hist_bucket_low(i), r->tsc_hz),
			tsc_to_us(hist_bucket_high(i) + 1, r->tsc_hz), s->hist.count[i]);
		first = false;
	}
	fprintf(out, "]\n");
}

void perf_report_json(FILE *out, const struct perf_report *r)
{
	const struct perf_opts *o = r->opts;
	struct perf_stats total;

	fprintf(out, "{\n  \"tool\": \"nvpoll-perf\", \"version\": \"%d.%d.%d\",\n",
		NVP_VERSION_MAJOR, NVP_VERSION_MINOR, NVP_VERSION_PATCH);
	fprintf(out, "  \"config\": {\"workload\": \"%s\", \"read_percent\": %d, "
		"\"io_size\": %" PRIu64 ", \"queue_depth\": %u, \"seconds\": %.6g, "
		"\"warmup_seconds\": %.6g, \"cpus\": [",
		perf_workload_name(o->workload), o->read_pct, o->io_size, o->depth,
		o->seconds, o->warmup);
	for (unsigned int i = 0; i < o->ncpus; i++)
		fprintf(out, "%s%d", i ? ", " : "", o->cpus[i]);
	fprintf(out, "], \"seed\": %" PRIu64 ", \"zipf_theta\": %.6g, \"verify\": %s, "
		"\"io_queue_size\": %u, \"max_completions\": %u, "
		"\"shadow_doorbell\": %s, \"reset_every\": %.6g, \"verify_final\": %s},\n",
		o->seed, o->zipf_theta, o->verify ? "true" : "false", o->io_queue_size,
		o->max_completions, o->no_shadow_doorbell ? "false" : "true", o->reset_every,
		o->verify_final ? "true" : "false");
	fprintf(out, "  \"tsc_hz\": %" PRIu64 ", \"measured_seconds\": %.6f,\n",
		r->tsc_hz, r->seconds);
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
		fprintf(out, ", \"shadow_doorbells\": %s, \"max_queue_entries\": %u, "
			"\"queue_size\": %u, \"io_queues\": %u, \"numa_node\": %d,\n",
			c->shadow_doorbells ? "true" : "false", c->max_queue_entries,
			c->queue_size, c->num_io_queues, c->numa_node);
		fprintf(out, "     \"state\": ");
		json_str(out, c->state ? c->state : "live");
		fprintf(out, ", \"state_reason\": ");
		json_str(out, c->state_reason ? c->state_reason : "");
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

		fprintf(out, "%s\n    {\"controller\": ", i ? "," : "");
		json_str(out, j->ctrl);
		fprintf(out, ", \"nsid\": %" PRIu32 ", \"cpu\": %d,\n", j->nsid, j->cpu);
		json_stats(out, r, &j->stats, "     ");
		fprintf(out, "    }");
	}
	total_stats(r, &total);
	fprintf(out, "\n  ],\n  \"total\": {\n");
	json_stats(out, r, &total, "    ");
	fprintf(out, "  },\n  \"first_error\": ");
	json_str(out, r->first_error ? r->first_error : "");
	fprintf(out, ",\n  \"result\": \"%s\"\n}\n", perf_report_failed(r) ? "fail" : "pass");
}
