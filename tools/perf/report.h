/* SPDX-License-Identifier: BSD-3-Clause */
/* nvpoll-perf results and their text and JSON forms. */
#ifndef NVPOLL_PERF_REPORT_H
#define NVPOLL_PERF_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "opts.h"

/* The directions reported separately (fio's "read" and "write"). */
enum perf_dir {
	PERF_READ = 0,
	PERF_WRITE = 1,
	PERF_NDIRS = 2,
};

/* Commands of one direction completed in the measured window; TSC ticks. */
struct perf_dir_stats {
	uint64_t ios;
	uint64_t lat_sum;
	uint64_t lat_min;	/* UINT64_MAX while @ios is 0 */
	uint64_t lat_max;
	struct hist hist;
};

/* Counted by the worker for one (namespace, thread). */
struct perf_stats {
	struct perf_dir_stats dir[PERF_NDIRS];
	uint64_t errors;
	uint64_t mismatches;
	uint64_t checks;	/* --verify: blocks of reads compared */
	uint64_t check_ticks;	/* --verify: CPU time spent comparing */
	uint64_t retries;	/* retryable completions perf submitted again */
	uint64_t final_checks;	/* --verify-final: units read back and compared */
	uint64_t final_mismatches; /* of those, wrong (also in @mismatches) */
	uint64_t zone_resets;	/* -w zoneappend: zones reset as they filled */
};

/* One completion of @dir that took @lat ticks, in the measured window. */
static inline void perf_dir_record(struct perf_dir_stats *d, uint64_t lat)
{
	d->ios++;
	d->lat_sum += lat;
	if (lat < d->lat_min)
		d->lat_min = lat;
	if (lat > d->lat_max)
		d->lat_max = lat;
	hist_record(&d->hist, lat);
}

struct perf_job {
	const char *ctrl;	/* address as given with -a */
	uint32_t nsid;
	int cpu;
	struct perf_stats stats;
};

struct perf_ctrl_desc {
	const char *addr;
	const char *model;
	const char *serial;
	const char *driver;
	bool shadow_doorbells;
	bool cmb_sqs;			/* I/O SQs in the Controller Memory Buffer */
	uint64_t cmb_bytes;
	uint32_t max_queue_entries;
	uint32_t queue_size;		/* I/O queue entries this run uses */
	uint32_t max_completions;	/* completions reaped per poll, as used */
	uint32_t num_io_queues;
	int numa_node;
	/* Recovery during the run (events, controller and qpair counters). */
	uint64_t resets_requested;	/* nvp_ctrl_reset() calls of --reset-every */
	uint64_t resets;		/* completed resets, by perf or the library */
	uint64_t reset_failures;	/* resets that left the controller failed */
	uint64_t reset_us_min, reset_us_max, reset_us_sum; /* over @resets */
	uint64_t driver_retried;	/* nvp_qpair_stats.retried, all qpairs */
	uint64_t reset_aborted;		/* nvp_qpair_stats.reset_aborted */
	uint64_t reconnects;		/* nvp_qpair_stats.reconnects */
	uint64_t retries;		/* perf's own resubmissions */
	uint64_t errors;		/* commands that ended with an error */
	const char *state;		/* "live", "removed" or "failed" */
	const char *state_reason;	/* why, for removed and failed */
};

struct perf_report {
	const struct perf_opts *opts;
	uint64_t tsc_hz;
	double seconds;			/* measured window */
	struct perf_job *jobs;
	unsigned int njobs;
	const struct perf_ctrl_desc *ctrls;
	unsigned int nctrls;
	const char *first_error;	/* first I/O error or mismatch; NULL or "": none */
	bool interrupted;		/* SIGINT/SIGTERM cut the run short */
	int64_t timestamp_ms;		/* when the run ended (Unix time), for JSON */
};

void perf_stats_init(struct perf_stats *s);
void perf_stats_merge(struct perf_stats *dst, const struct perf_stats *src);
/* Both directions of @s merged into @out. */
void perf_stats_all(const struct perf_stats *s, struct perf_dir_stats *out);

/* Why the run failed, for a run with no other error: NULL if it did not. */
const char *perf_report_no_io(const struct perf_report *r);

/*
 * The configuration header, printed before the run starts: workload,
 * options, and each controller. @ctrls as far as known at that point.
 */
void perf_report_header(FILE *out, const struct perf_opts *o,
			const struct perf_ctrl_desc *ctrls, unsigned int nctrls);

/* Whether the report has a recovery section: resets, retries or a lost controller. */
bool perf_ctrl_has_recovery(const struct perf_report *r, const struct perf_ctrl_desc *c);

/* The run failed: I/O errors, verify mismatches, a controller lost, or no
 * command completed in the measured window. */
bool perf_report_failed(const struct perf_report *r);

/* The results (the header is perf_report_header()'s, printed before). */
void perf_report_text(FILE *out, const struct perf_report *r);
/* Everything as one JSON object, in fio's layout (see docs/performance.md). */
void perf_report_json(FILE *out, const struct perf_report *r);

#endif /* NVPOLL_PERF_REPORT_H */
