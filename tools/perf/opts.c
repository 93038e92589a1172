// SPDX-License-Identifier: BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "opts.h"

enum {
	OPT_SEED = 256,
	OPT_ZIPF,
	OPT_VERIFY,
	OPT_JSON,
	OPT_IO_QUEUE_SIZE,
	OPT_MAX_COMPLETIONS,
	OPT_NO_SHADOW_DB,
	OPT_QPAIR_STATS,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_RESET_EVERY,
	OPT_IO_RETRIES,
	OPT_VERIFY_FINAL,
	OPT_TEST_REMOVE,
	OPT_TEST_FAIL,
	OPT_CMB_SQS,
};

static const struct option long_opts[] = {
	{ "address", required_argument, NULL, 'a' },
	{ "nsid", required_argument, NULL, 'n' },
	{ "queue-depth", required_argument, NULL, 'q' },
	{ "io-size", required_argument, NULL, 'o' },
	{ "workload", required_argument, NULL, 'w' },
	{ "read-percent", required_argument, NULL, 'M' },
	{ "time", required_argument, NULL, 't' },
	{ "warmup", required_argument, NULL, 'W' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "latency", no_argument, NULL, 'L' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "zipf", required_argument, NULL, OPT_ZIPF },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "io-queue-size", required_argument, NULL, OPT_IO_QUEUE_SIZE },
	{ "max-completions", required_argument, NULL, OPT_MAX_COMPLETIONS },
	{ "no-shadow-doorbell", no_argument, NULL, OPT_NO_SHADOW_DB },
	{ "cmb-sqs", required_argument, NULL, OPT_CMB_SQS },
	{ "qpair-stats", no_argument, NULL, OPT_QPAIR_STATS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "reset-every", required_argument, NULL, OPT_RESET_EVERY },
	{ "io-retries", required_argument, NULL, OPT_IO_RETRIES },
	{ "verify-final", no_argument, NULL, OPT_VERIFY_FINAL },
	{ "test-remove-after", required_argument, NULL, OPT_TEST_REMOVE },
	{ "test-fail-after", required_argument, NULL, OPT_TEST_FAIL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *const workload_names[] = {
	[WL_READ] = "read",
	[WL_WRITE] = "write",
	[WL_RANDREAD] = "randread",
	[WL_RANDWRITE] = "randwrite",
	[WL_RW] = "rw",
	[WL_RANDRW] = "randrw",
	[WL_ZONE_APPEND] = "zoneappend",
};

const char *perf_workload_name(enum perf_workload w)
{
	return workload_names[w];
}

void perf_usage(FILE *out)
{
	const char *prog = "nvpoll-perf";	/* the bare name, however it was run */

	fprintf(out,
"Usage: %s -a ADDRESS [-a ADDRESS ...] [options]\n"
"\n"
"Measure IOPS, bandwidth and latency of NVMe namespaces through nvpoll.\n"
"One pinned thread per CPU (-c); each has its own queue pair on every\n"
"namespace and keeps -q commands outstanding on each.\n"
"\n"
"Target:\n"
"  -a, --address ADDR       controller: PCI address (0000:00:04.0, 00:04.0),\n"
"                           emulated (emu:...) or NVMe/TCP\n"
"                           (tcp://HOST[:PORT]/SUBNQN); repeat for several\n"
"                           controllers\n"
"  -n, --nsid NSID          only this namespace (default: every active one)\n"
"\n"
"Workload:\n"
"  -q, --queue-depth N      commands outstanding per queue pair (default 32);\n"
"                           at most the I/O queue size - 1\n"
"  -o, --io-size BYTES      bytes per command, a multiple of the block size;\n"
"                           k/m/g (KiB/MiB/GiB) suffixes allowed (default 4096)\n"
"  -w, --workload PATTERN   read, write, randread, randwrite, rw or randrw\n"
"                           (default randread); zoneappend: Zone Append to\n"
"                           the zoned namespaces, each thread filling its own\n"
"                           zones in turn and resetting each once full\n"
"  -M, --read-percent PCT   share of reads for rw/randrw (default 50)\n"
"  -t, --time SECONDS       measured run time (default 10)\n"
"  -W, --warmup SECONDS     run this long before measuring (default 0)\n"
"  -c, --cpus LIST          CPUs to run on, one pinned thread each: 0,1 or\n"
"                           0-3 or a hex mask 0x3 (default: the first CPU\n"
"                           this process may use)\n"
"      --seed N             seed for random offsets and verify patterns\n"
"                           (default 1; runs with equal seeds repeat)\n"
"      --zipf THETA         zipf-distributed random offsets with exponent\n"
"                           THETA > 0 (e.g. 0.99), hottest at offset 0\n"
"      --verify             write a pattern (LBA, seed, generation and a\n"
"                           checksum in every block) and check every read\n"
"                           against it; reads only target blocks this thread\n"
"                           wrote, write-only workloads read each write back.\n"
"                           Any mismatch fails the run (exit 1)\n"
"      --verify-final       with --verify: after the run, read back every\n"
"                           unit written during it and check it (not part\n"
"                           of the figures)\n"
"\n"
"Recovery:\n"
"      --reset-every SECONDS\n"
"                           reset each controller (nvp_ctrl_reset()) at this\n"
"                           interval while the workers keep going (fractions\n"
"                           allowed). In every run, a command that ends with\n"
"                           a retryable status (SCT Path, DNR clear, as after\n"
"                           a reset) is submitted again, up to 8 times, and\n"
"                           counted rather than failed\n"
"      --io-retries N       times the driver posts a command interrupted by a\n"
"                           reset again itself (nvp_ctrl_opts.io_retries;\n"
"                           default: the library's, 3); 0 hands every one\n"
"                           back to perf\n"
"      --test-remove-after SECONDS, --test-fail-after SECONDS\n"
"                           testing, emu: controllers only: simulate surprise\n"
"                           removal, or a controller that fails for good,\n"
"                           this long into the run\n"
"\n"
"Output:\n"
"  -L, --latency            add latency percentiles (p50 p90 p99 p99.9\n"
"                           p99.99 max); -LL also prints the full histogram\n"
"      --json               print everything as one JSON object instead, in\n"
"                           fio's layout (read and write objects, latency in\n"
"                           ns with fio's percentile keys) plus nvpoll's own\n"
"      --progress           force the once-a-second progress line (IOPS,\n"
"                           MiB/s, time left), always on stderr\n"
"      --no-progress        never show it (default: when stderr is a terminal)\n"
"\n"
"Driver:\n"
"      --io-queue-size N    I/O queue entries (default: the larger of the\n"
"                           library default and depth + 1)\n"
"      --max-completions N  completions reaped per poll (default: library's)\n"
"      --no-shadow-doorbell do not use Doorbell Buffer Config\n"
"                           (NVP_DRIVER=vfio|noiommu|uio picks the PCI mode)\n"
"      --cmb-sqs MODE       I/O submission queues in the Controller Memory\n"
"                           Buffer: off (default), prefer (host memory if\n"
"                           the controller has no usable CMB) or require;\n"
"                           the configuration line says \"CMB SQs on|off\"\n"
"      --qpair-stats        print each queue pair's counters at the end:\n"
"                           polls (empty ones), doorbell updates and how\n"
"                           many were MMIO writes (to stderr)\n"
"\n"
"  -h, --help               display this help and exit\n"
"  -V, --version            output version information and exit\n"
"\n"
"Output: the configuration first, then, after the run, one row per\n"
"(namespace, CPU) with IOPS, MiB/s and average, min and max latency in\n"
"microseconds, then a Total row; in a run with both reads and writes each\n"
"row is followed by its reads and its writes alone. Latency runs from just\n"
"before submission to the completion callback, timed with the TSC. With\n"
"emu: controllers, a warning says when the device thread has no CPU of its\n"
"own (every CPU it may use runs a worker). A namespace whose metadata is only\n"
"its protection information is driven with PRACT (the controller inserts and\n"
"strips the PI; with --verify it also checks guard, application tag and, for\n"
"types 1 and 2, the reference tag); other namespaces with metadata are refused.\n"
"Exit status: 0 success; 1 a failure during the run: I/O errors, verify\n"
"mismatches, no command completed, a controller removed or failed for good,\n"
"or one the address names that cannot be attached (no access method,\n"
"permissions, in use); 2 a usage or address error: bad options, or an\n"
"address that is malformed, names no PCI function or one that is not NVMe,\n"
"or has bad emu: options or a namespace file that cannot be created.\n"
"\n"
"Examples:\n"
"  %s -a 0000:00:04.0 -q 32 -o 4096 -w randread -t 10 -L\n"
"  %s -a emu:cpu=1 -c 0 -w randrw -M 70 --verify -t 5\n",
		prog, prog, prog);
}

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int perf_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		/* accept k, kb, kib (all binary) */
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out, uint32_t min, uint32_t max)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_seconds(const char *s, double *out, bool zero_ok)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || (!zero_ok && v == 0) ||
	    v > 1e7)
		return -1;
	*out = v;
	return 0;
}

static int add_cpu(int cpu, int *cpus, unsigned int max, unsigned int *n,
		   char *err, size_t errlen)
{
	if (cpu < 0 || cpu >= PERF_MAX_CPUS) {
		set_err(err, errlen, "CPU %d is out of range (0..%d)", cpu,
			PERF_MAX_CPUS - 1);
		return -1;
	}
	for (unsigned int i = 0; i < *n; i++) {
		if (cpus[i] == cpu) {
			set_err(err, errlen, "CPU %d is listed twice", cpu);
			return -1;
		}
	}
	if (*n >= max) {
		set_err(err, errlen, "too many CPUs (at most %u)", max);
		return -1;
	}
	cpus[(*n)++] = cpu;
	return 0;
}

static int parse_cpu_mask(const char *hex, int *cpus, unsigned int max,
			  unsigned int *n, char *err, size_t errlen)
{
	size_t len = strlen(hex);
	int bit = 0;

	if (!len) {
		set_err(err, errlen, "empty CPU mask");
		return -1;
	}
	/* the last digit holds CPUs 0-3 */
	for (size_t i = len; i-- > 0; bit += 4) {
		int d;

		if (!isxdigit((unsigned char)hex[i])) {
			set_err(err, errlen, "bad hex digit '%c' in CPU mask", hex[i]);
			return -1;
		}
		d = isdigit((unsigned char)hex[i]) ? hex[i] - '0' :
		    tolower((unsigned char)hex[i]) - 'a' + 10;
		for (int b = 0; b < 4; b++)
			if ((d >> b) & 1 && add_cpu(bit + b, cpus, max, n, err, errlen))
				return -1;
	}
	if (!*n) {
		set_err(err, errlen, "CPU mask 0x%s selects no CPU", hex);
		return -1;
	}
	return 0;
}

int perf_parse_cpus(const char *s, int *cpus, unsigned int max, unsigned int *n,
		    char *err, size_t errlen)
{
	char buf[4096], *p, *tok, *save = NULL;
	size_t len;

	*n = 0;
	if (!s || !*s) {
		set_err(err, errlen, "empty CPU list");
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_cpu_mask(s + 2, cpus, max, n, err, errlen);
	len = strlen(s);
	if (len >= sizeof(buf)) {
		set_err(err, errlen, "CPU list too long");
		return -1;
	}
	memcpy(buf, s, len + 1);
	p = buf;
	/* spdk style "[0,1]" */
	if (*p == '[') {
		if (p[len - 1] != ']') {
			set_err(err, errlen, "CPU list '%s' lacks the closing ']'", s);
			return -1;
		}
		p[len - 1] = '\0';
		p++;
	}
	for (tok = strtok_r(p, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long lo, hi;

		if (!isdigit((unsigned char)*tok))
			goto bad;
		lo = strtol(tok, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			hi = strtol(end + 1, &end, 10);
		}
		if (*end)
			goto bad;
		if (hi < lo) {
			set_err(err, errlen, "CPU range %s runs backwards", tok);
			return -1;
		}
		if (hi >= PERF_MAX_CPUS) {
			set_err(err, errlen, "CPU %ld is out of range (0..%d)", hi,
				PERF_MAX_CPUS - 1);
			return -1;
		}
		for (long c = lo; c <= hi; c++)
			if (add_cpu((int)c, cpus, max, n, err, errlen))
				return -1;
	}
	if (!*n)
		goto bad;
	return 0;
bad:
	set_err(err, errlen,
		"bad CPU list '%s': use a list like 0,2-3 or a hex mask like 0x3", s);
	return -1;
}

static int parse_workload(const char *s, struct perf_opts *o)
{
	for (unsigned int i = 0; i < sizeof(workload_names) / sizeof(workload_names[0]); i++) {
		if (!strcmp(s, workload_names[i])) {
			o->workload = (enum perf_workload)i;
			return 0;
		}
	}
	return -1;
}

static void set_defaults(struct perf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->depth = 32;
	o->io_size = 4096;
	o->workload = WL_RANDREAD;
	o->read_pct = -1;
	o->seconds = 10;
	o->seed = 1;
	o->progress = -1;
	o->io_retries = -1;
}

enum perf_parse_result perf_parse_args(int argc, char **argv, struct perf_opts *o,
				       char *err, size_t errlen)
{
	uint32_t v32;
	uint64_t v64;
	int c;

	set_defaults(o);
	err[0] = '\0';
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":a:n:q:o:w:M:t:W:c:LhV", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'a':
			if (o->naddrs >= PERF_MAX_CTRLS) {
				set_err(err, errlen, "at most %d -a addresses", PERF_MAX_CTRLS);
				return PERF_PARSE_ERROR;
			}
			if (!*optarg) {
				set_err(err, errlen, "-a needs an address");
				return PERF_PARSE_ERROR;
			}
			o->addrs[o->naddrs++] = optarg;
			break;
		case 'n':
			if (parse_u32(optarg, &o->nsid, 1, 0xfffffffe)) {
				set_err(err, errlen, "-n '%s': NSID must be 1..4294967294", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case 'q':
			if (parse_u32(optarg, &o->depth, 1, 65535)) {
				set_err(err, errlen, "-q '%s': queue depth must be 1..65535", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case 'o':
			if (perf_parse_size(optarg, &v64) || !v64 || v64 > (1ull << 30)) {
				set_err(err, errlen,
					"-o '%s': I/O size must be 1 byte..1 GiB, e.g. 4096 or 128k",
					optarg);
				return PERF_PARSE_ERROR;
			}
			o->io_size = v64;
			break;
		case 'w':
			if (parse_workload(optarg, o)) {
				set_err(err, errlen,
					"-w '%s': use read, write, randread, randwrite, rw, randrw or zoneappend",
					optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case 'M':
			if (parse_u32(optarg, &v32, 0, 100)) {
				set_err(err, errlen, "-M '%s': read percentage must be 0..100",
					optarg);
				return PERF_PARSE_ERROR;
			}
			o->read_pct = (int)v32;
			break;
		case 't':
			if (parse_seconds(optarg, &o->seconds, false)) {
				set_err(err, errlen, "-t '%s': run time must be seconds > 0", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case 'W':
			if (parse_seconds(optarg, &o->warmup, true)) {
				set_err(err, errlen, "-W '%s': warm-up must be seconds >= 0", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case 'c':
			if (perf_parse_cpus(optarg, o->cpus, PERF_MAX_CPUS, &o->ncpus, err,
					    errlen))
				return PERF_PARSE_ERROR;
			break;
		case 'L':
			if (o->latency_level < 2)
				o->latency_level++;
			break;
		case OPT_SEED:
			if (perf_parse_size(optarg, &o->seed)) {
				set_err(err, errlen, "--seed '%s': need a non-negative integer",
					optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case OPT_ZIPF: {
			char *end;

			errno = 0;
			o->zipf_theta = strtod(optarg, &end);
			if (errno || *end || end == optarg || !isfinite(o->zipf_theta) ||
			    o->zipf_theta <= 0 || o->zipf_theta > 100) {
				set_err(err, errlen, "--zipf '%s': THETA must be a number > 0 "
					"(0.99 is typical)", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		}
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_IO_QUEUE_SIZE:
			if (parse_u32(optarg, &o->io_queue_size, 2, 65536)) {
				set_err(err, errlen, "--io-queue-size '%s': must be 2..65536",
					optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case OPT_MAX_COMPLETIONS:
			if (parse_u32(optarg, &o->max_completions, 1, 65535)) {
				set_err(err, errlen, "--max-completions '%s': must be 1..65535",
					optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case OPT_NO_SHADOW_DB:
			o->no_shadow_doorbell = true;
			break;
		case OPT_CMB_SQS:
			if (!strcmp(optarg, "off")) {
				o->cmb_sqs = NVP_CMB_SQS_OFF;
			} else if (!strcmp(optarg, "prefer")) {
				o->cmb_sqs = NVP_CMB_SQS_PREFER;
			} else if (!strcmp(optarg, "require")) {
				o->cmb_sqs = NVP_CMB_SQS_REQUIRE;
			} else {
				set_err(err, errlen, "--cmb-sqs '%s': use off, prefer or require",
					optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case OPT_QPAIR_STATS:
			o->qpair_stats = true;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		case OPT_RESET_EVERY:
			if (parse_seconds(optarg, &o->reset_every, false) || o->reset_every < 0.001) {
				set_err(err, errlen, "--reset-every '%s': give the interval in "
					"seconds, at least 0.001 (e.g. 0.5)", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case OPT_IO_RETRIES:
			if (parse_u32(optarg, &v32, 0, 1000)) {
				set_err(err, errlen, "--io-retries '%s': must be 0..1000", optarg);
				return PERF_PARSE_ERROR;
			}
			o->io_retries = (int)v32;
			break;
		case OPT_VERIFY_FINAL:
			o->verify_final = true;
			break;
		case OPT_TEST_REMOVE:
		case OPT_TEST_FAIL:
			if (parse_seconds(optarg, c == OPT_TEST_REMOVE ? &o->test_remove_after :
					  &o->test_fail_after, false)) {
				set_err(err, errlen, "%s '%s': give seconds > 0 into the run",
					c == OPT_TEST_REMOVE ? "--test-remove-after" :
					"--test-fail-after", optarg);
				return PERF_PARSE_ERROR;
			}
			break;
		case 'h':
			perf_usage(stdout);
			return PERF_PARSE_EXIT;
		case 'V':
			printf("nvpoll-perf %d.%d.%d\n", NVP_VERSION_MAJOR, NVP_VERSION_MINOR,
			       NVP_VERSION_PATCH);
			return PERF_PARSE_EXIT;
		case ':':
			if (optopt)
				set_err(err, errlen, "option -%c needs a value", optopt);
			else
				set_err(err, errlen, "option %s needs a value", argv[optind - 1]);
			return PERF_PARSE_ERROR;
		default:
			if (optopt)
				set_err(err, errlen, "unknown option -%c (see --help)", optopt);
			else
				set_err(err, errlen, "unknown option %s (see --help)",
					argv[optind - 1]);
			return PERF_PARSE_ERROR;
		}
	}
	if (optind < argc) {
		set_err(err, errlen, "unexpected argument '%s' (addresses go after -a)",
			argv[optind]);
		return PERF_PARSE_ERROR;
	}
	if (!o->naddrs) {
		set_err(err, errlen,
			"no controller given: add -a ADDRESS (a PCI address such as "
			"0000:00:04.0, or emu: for the emulated controller)");
		return PERF_PARSE_ERROR;
	}
	o->random = o->workload == WL_RANDREAD || o->workload == WL_RANDWRITE ||
		    o->workload == WL_RANDRW;
	switch (o->workload) {
	case WL_READ:
	case WL_RANDREAD:
	case WL_WRITE:
	case WL_RANDWRITE:
	case WL_ZONE_APPEND:
		if (o->read_pct >= 0) {
			set_err(err, errlen, "-M only applies to -w rw and -w randrw");
			return PERF_PARSE_ERROR;
		}
		o->read_pct = (o->workload == WL_READ || o->workload == WL_RANDREAD) ?
			      100 : 0;
		break;
	case WL_RW:
	case WL_RANDRW:
		if (o->read_pct < 0)
			o->read_pct = 50;
		break;
	}
	if (o->zipf_theta > 0 && !o->random) {
		set_err(err, errlen, "--zipf needs a random workload (randread, "
			"randwrite or randrw)");
		return PERF_PARSE_ERROR;
	}
	if (o->workload == WL_ZONE_APPEND && o->verify) {
		set_err(err, errlen, "--verify does not apply to -w zoneappend: the device "
			"picks where each append lands; use nvpoll-itest's zns tests to check data");
		return PERF_PARSE_ERROR;
	}
	if (o->verify_final && !o->verify) {
		set_err(err, errlen, "--verify-final reads back what --verify wrote: add --verify");
		return PERF_PARSE_ERROR;
	}
	if (o->test_remove_after > 0 || o->test_fail_after > 0) {
		for (unsigned int i = 0; i < o->naddrs; i++) {
			if (strncmp(o->addrs[i], "emu:", 4) && strcmp(o->addrs[i], "emu")) {
				set_err(err, errlen, "--test-remove-after and --test-fail-after "
					"only work on emulated controllers; -a %s is not one "
					"(use emu:...)", o->addrs[i]);
				return PERF_PARSE_ERROR;
			}
		}
	}
	if (o->io_queue_size && o->depth > o->io_queue_size - 1) {
		set_err(err, errlen,
			"-q %u does not fit --io-queue-size %u: a queue of N entries "
			"holds N - 1 commands", o->depth, o->io_queue_size);
		return PERF_PARSE_ERROR;
	}
	return PERF_PARSE_OK;
}
