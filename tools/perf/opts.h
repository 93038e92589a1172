/* SPDX-License-Identifier: BSD-3-Clause */
/* nvpoll-perf command line. */
#ifndef NVPOLL_PERF_OPTS_H
#define NVPOLL_PERF_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PERF_MAX_CTRLS	16
#define PERF_MAX_CPUS	1024

enum perf_workload {
	WL_READ,
	WL_WRITE,
	WL_RANDREAD,
	WL_RANDWRITE,
	WL_RW,
	WL_RANDRW,
	WL_ZONE_APPEND,		/* Zone Append on zoned namespaces, zones reset as they fill */
};

struct perf_opts {
	const char *addrs[PERF_MAX_CTRLS];
	unsigned int naddrs;
	uint32_t nsid;			/* 0: every active namespace */
	uint32_t depth;
	uint64_t io_size;		/* bytes */
	enum perf_workload workload;
	bool random;
	int read_pct;			/* 0..100 */
	double seconds;
	double warmup;
	int cpus[PERF_MAX_CPUS];
	unsigned int ncpus;		/* 0: the first CPU we may run on */
	uint64_t seed;
	double zipf_theta;		/* 0: uniform */
	bool verify;
	int latency_level;		/* 0, 1 (-L) or 2 (-LL) */
	bool json;
	int progress;			/* -1 auto (TTY), 0 off, 1 on */
	uint32_t io_queue_size;		/* 0: library default */
	uint32_t max_completions;	/* 0: library default */
	bool no_shadow_doorbell;
	int cmb_sqs;			/* --cmb-sqs: enum nvp_cmb_sqs */
	bool qpair_stats;	/* print nvp_qpair_get_stats() per queue pair */
	double reset_every;		/* 0: never call nvp_ctrl_reset() */
	int io_retries;			/* -1: library default */
	bool verify_final;		/* --verify: read back every written unit at the end */
	double test_remove_after;	/* emu: only, 0: never nvp_emu_remove() */
	double test_fail_after;		/* emu: only, 0: never break the controller */
};

enum perf_parse_result {
	PERF_PARSE_OK = 0,
	PERF_PARSE_EXIT = 1,		/* --help or --version printed */
	PERF_PARSE_ERROR = -1,		/* message in the error buffer */
};

/*
 * Parse @argv into @o (defaults first). On PERF_PARSE_ERROR @err holds one
 * line saying what is wrong and how to fix it.
 */
enum perf_parse_result perf_parse_args(int argc, char **argv, struct perf_opts *o,
				       char *err, size_t errlen);

/* The --help text; it names the program nvpoll-perf, however it was run. */
void perf_usage(FILE *out);

const char *perf_workload_name(enum perf_workload w);

/* "0,2-3", "[0-1]" or a hex mask "0x5". Returns 0, or -1 with @err set. */
int perf_parse_cpus(const char *s, int *cpus, unsigned int max, unsigned int *n,
		    char *err, size_t errlen);

/* "4096", "4k", "4KiB", "1M", "1MiB", "1g": bytes. Returns 0 or -1. */
int perf_parse_size(const char *s, uint64_t *out);

#endif /* NVPOLL_PERF_OPTS_H */
