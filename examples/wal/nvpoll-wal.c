/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-wal - drive the example write-ahead log (wal.h) from the shell.
 *
 *   nvpoll-wal -a ADDR [-n NSID] format
 *   nvpoll-wal -a ADDR [-n NSID] append [--threads N] [--records N]
 *              [--size BYTES|MIN:MAX] [--batch K] [--commit fua|flush]
 *              [--ack-file PATH]
 *   nvpoll-wal -a ADDR [-n NSID] recover [--expect-at-least LSN]
 *   nvpoll-wal selftest
 *
 * Every payload is a pure function of its LSN (payload_fill()), so recover
 * can check each record's contents, not only its checksum: a record that
 * is intact but was written to the wrong place or with another record's
 * data is caught too.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wal.h"

#define EXIT_USAGE 2

/* ------------------------------------------------------------------------ */
/* Deterministic payloads                                                   */
/* ------------------------------------------------------------------------ */

/* splitmix64: a small, good mixing function; the state is just a counter. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The payload of the record at @lsn: depends on the LSN and length only. */
static void payload_fill(uint8_t *p, uint32_t len, uint64_t lsn)
{
	uint64_t state = lsn ^ ((uint64_t)len << 48);

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t word = splitmix64(&state);
		uint32_t n = len - i < 8 ? len - i : 8;

		memcpy(p + i, &word, n);
	}
}

static bool payload_matches(const uint8_t *p, uint32_t len, uint64_t lsn)
{
	uint64_t state = lsn ^ ((uint64_t)len << 48);

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t word = splitmix64(&state);
		uint32_t n = len - i < 8 ? len - i : 8;

		if (memcmp(p + i, &word, n))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nvpoll-wal -a ADDR [-n NSID] COMMAND [OPTIONS]\n"
		"  -a ADDR   controller: PCI address (0000:00:04.0) or emu:... (docs/emu.md)\n"
		"  -n NSID   namespace holding the log (default 1)\n"
		"commands:\n"
		"  format                      create an empty log on the whole namespace\n"
		"  append                      recover, then append from several threads\n"
		"    --threads N               appending threads, one writer/qpair each (4)\n"
		"    --records N               records per thread; 0 = until the log is full (1000)\n"
		"    --size BYTES | MIN:MAX    payload size, or a range picked at random (512)\n"
		"    --batch K                 records per group commit (16)\n"
		"    --commit fua|flush        FUA writes, or writes plus one Flush (fua)\n"
		"    --ack-file PATH           keep the acknowledged LSN in PATH (atomic\n"
		"                              replace + fsync each time it grows)\n"
		"  recover                     scan, verify every record's payload, print the end\n"
		"    --expect-at-least LSN     fail unless the recovered end is >= LSN\n"
		"  selftest                    check CRC32C test vectors (no device)\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* append                                                                   */
/* ------------------------------------------------------------------------ */

struct append_config {
	uint32_t threads;
	uint64_t records_per_thread;	/* 0 = until the log is full */
	uint32_t min_size;
	uint32_t max_size;
	uint32_t batch;
	const char *ack_file;
};

struct appender {
	pthread_t thread;
	struct wal *wal;
	const struct append_config *cfg;
	uint32_t index;
	uint64_t appended;
	uint64_t commits;
	bool log_full;
	int rc;
	atomic_bool *done;
};

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	const struct append_config *cfg = a->cfg;
	struct wal_writer *writer;
	uint64_t size_rng = 0x5eed0000ull + a->index;
	uint32_t in_batch = 0;
	int rc;

	rc = wal_writer_create(a->wal, &writer);
	if (rc) {
		fprintf(stderr, "thread %u: writer: %s (%s)\n", a->index, strerror(-rc),
			nvp_last_error());
		goto out;
	}
	while (cfg->records_per_thread == 0 || a->appended < cfg->records_per_thread) {
		uint32_t span = cfg->max_size - cfg->min_size + 1;
		uint32_t len = cfg->min_size + (uint32_t)(splitmix64(&size_rng) % span);
		uint64_t lsn;
		void *payload;

		rc = wal_reserve(writer, len, &lsn, &payload);
		if (rc == -ENOSPC) {
			a->log_full = true;
			rc = 0;
			break;
		}
		if (rc)
			break;
		payload_fill(payload, len, lsn);
		a->appended++;
		if (++in_batch == cfg->batch) {
			rc = wal_commit(writer);
			if (rc)
				break;
			a->commits++;
			in_batch = 0;
		}
	}
	if (rc == 0 && in_batch) {
		rc = wal_commit(writer);
		a->commits++;
	}
	if (rc)
		fprintf(stderr, "thread %u: append/commit: %s\n", a->index, strerror(-rc));
	wal_writer_destroy(writer);
out:
	a->rc = rc;
	atomic_store(a->done, true);
	return NULL;
}

/*
 * Replace the ack file atomically (write a temporary file, fsync, rename,
 * fsync the directory): a crash at any point leaves either the old or the
 * new value, never a torn one.
 */
static int ack_file_publish(const char *path, uint64_t lsn)
{
	char tmp[PATH_MAX], dir[PATH_MAX], line[32];
	const char *slash = strrchr(path, '/');
	int fd, len, rc = 0;

	len = snprintf(line, sizeof(line), "%" PRIu64 "\n", lsn);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)len) != len || fsync(fd))
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path))
		rc = -errno;
	if (rc == 0) {
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1,
			 slash ? path : ".");
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return rc;
}

static int cmd_append(struct nvp_ctrl *ctrl, struct nvp_ns *ns, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "records", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "commit", required_argument, NULL, 'c' },
		{ "ack-file", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct append_config cfg = {
		.threads = 4, .records_per_thread = 1000, .min_size = 512, .max_size = 512,
		.batch = 16,
	};
	struct wal_options opts;
	struct wal_recovery rec;
	struct appender *appenders;
	atomic_bool *done;
	struct wal *wal;
	uint64_t acked, total = 0, commits = 0;
	bool log_full = false;
	double start;
	int opt, rc, ret = 0;
	char *colon;

	wal_options_init(&opts);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_u32(optarg, 1, 63, &cfg.threads))
				goto bad;
			break;
		case 'r':
			if (parse_u64(optarg, &cfg.records_per_thread))
				goto bad;
			break;
		case 's':
			colon = strchr(optarg, ':');
			if (colon)
				*colon = '\0';
			if (parse_u32(optarg, 0, 1u << 20, &cfg.min_size))
				goto bad;
			cfg.max_size = cfg.min_size;
			if (colon && (parse_u32(colon + 1, cfg.min_size, 1u << 20, &cfg.max_size)))
				goto bad;
			break;
		case 'b':
			if (parse_u32(optarg, 1, 4096, &cfg.batch))
				goto bad;
			break;
		case 'c':
			if (!strcmp(optarg, "fua"))
				opts.commit_mode = WAL_COMMIT_FUA;
			else if (!strcmp(optarg, "flush"))
				opts.commit_mode = WAL_COMMIT_FLUSH;
			else
				goto bad;
			break;
		case 'k':
			cfg.ack_file = optarg;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	rc = wal_open(ctrl, ns, &opts, &wal, &rec);
	if (rc) {
		fprintf(stderr, "open: %s%s\n", strerror(-rc),
			rc == -ENOENT ? " (no log on this namespace: run format)" : "");
		return 1;
	}
	printf("recovered: records=%" PRIu64 " end_lsn=%" PRIu64 "; new epoch %" PRIu64
	       " starts at LSN %" PRIu64 "\n", rec.records, rec.end_lsn, rec.epoch,
	       rec.epoch_start_lsn);
	acked = rec.end_lsn;
	if (cfg.ack_file && (rc = ack_file_publish(cfg.ack_file, acked))) {
		fprintf(stderr, "ack file %s: %s\n", cfg.ack_file, strerror(-rc));
		wal_close(wal);
		return 1;
	}

	appenders = calloc(cfg.threads, sizeof(*appenders));
	done = calloc(cfg.threads, sizeof(*done));
	if (!appenders || !done) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	start = now_seconds();
	for (uint32_t i = 0; i < cfg.threads; i++) {
		appenders[i] = (struct appender){ .wal = wal, .cfg = &cfg, .index = i,
						  .done = &done[i] };
		atomic_init(&done[i], false);
		if (pthread_create(&appenders[i].thread, NULL, appender_main, &appenders[i])) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	/*
	 * The acknowledger: publish the durable LSN whenever it grows. In a
	 * database this is where waiting transactions would be released.
	 */
	for (bool running = true; running;) {
		uint64_t durable;

		running = false;
		for (uint32_t i = 0; i < cfg.threads; i++)
			running |= !atomic_load(&done[i]);
		durable = wal_durable_lsn(wal);
		if (durable > acked) {
			acked = durable;
			if (cfg.ack_file && (rc = ack_file_publish(cfg.ack_file, acked))) {
				fprintf(stderr, "ack file %s: %s\n", cfg.ack_file, strerror(-rc));
				ret = 1;
				cfg.ack_file = NULL;
			}
		}
		if (running)
			usleep(200);
	}
	for (uint32_t i = 0; i < cfg.threads; i++) {
		pthread_join(appenders[i].thread, NULL);
		total += appenders[i].appended;
		commits += appenders[i].commits;
		log_full |= appenders[i].log_full;
		if (appenders[i].rc)
			ret = 1;
	}
	printf("appended: records=%" PRIu64 " commits=%" PRIu64 " threads=%u in %.2f s%s\n",
	       total, commits, cfg.threads, now_seconds() - start, log_full ? " (log full)" : "");
	printf("acknowledged: durable_lsn=%" PRIu64 "\n", wal_durable_lsn(wal));
	wal_close(wal);
	free(appenders);
	free(done);
	return ret;
bad:
	fprintf(stderr, "append: bad option or value\n");
	usage(stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------------ */
/* recover, format, selftest                                                */
/* ------------------------------------------------------------------------ */

struct verify_state {
	uint64_t bad_payloads;
};

static int verify_record(void *arg, uint64_t lsn, const void *payload, uint32_t len)
{
	struct verify_state *v = arg;

	if (!payload_matches(payload, len, lsn)) {
		if (v->bad_payloads++ < 10)
			fprintf(stderr, "record at LSN %" PRIu64 " (%u bytes): payload differs from what was appended\n",
				lsn, len);
	}
	return 0;
}

static int cmd_recover(struct nvp_ctrl *ctrl, struct nvp_ns *ns, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "expect-at-least", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_state verify = { 0 };
	struct wal_recovery rec;
	uint64_t expect = 0;
	int opt, rc, ret = 0;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt != 'e' || parse_u64(optarg, &expect)) {
			fprintf(stderr, "recover: bad option or value\n");
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = wal_recover(ctrl, ns, verify_record, &verify, &rec);
	if (rc == -EUCLEAN) {
		fprintf(stderr, "FAIL: record at LSN %" PRIu64 " is damaged (%s), but it lies below the epoch start %" PRIu64 ": committed data was lost\n",
			rec.end_lsn, rec.stop_reason, rec.epoch_start_lsn);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "recover: %s%s\n", strerror(-rc),
			rc == -ENOENT ? " (no log on this namespace: run format)" : "");
		return 1;
	}
	printf("recovered: records=%" PRIu64 " end_lsn=%" PRIu64 " epoch=%" PRIu64
	       " epoch_start_lsn=%" PRIu64 " log_bytes=%" PRIu64 " stop=\"%s\"\n", rec.records,
	       rec.end_lsn, rec.epoch, rec.epoch_start_lsn, rec.log_bytes, rec.stop_reason);
	if (verify.bad_payloads) {
		fprintf(stderr, "FAIL: %" PRIu64 " records have the wrong payload\n",
			verify.bad_payloads);
		ret = 1;
	}
	if (rec.end_lsn < expect) {
		fprintf(stderr, "FAIL: acknowledged up to LSN %" PRIu64 " but recovered only up to %" PRIu64 "\n",
			expect, rec.end_lsn);
		ret = 1;
	}
	return ret;
}

static int cmd_format(struct nvp_ctrl *ctrl, struct nvp_ns *ns)
{
	int rc = wal_format(ctrl, ns);

	if (rc) {
		fprintf(stderr, "format: %s\n", strerror(-rc));
		return 1;
	}
	printf("formatted: namespace %u, %" PRIu64 " blocks of %u bytes\n",
	       nvp_ns_get_info(ns)->nsid, nvp_ns_get_info(ns)->num_blocks,
	       nvp_ns_get_info(ns)->block_size);
	return 0;
}

/* CRC32C check values from RFC 3720 (iSCSI), appendix B.4, through @crc. */
static int crc_vectors(const char *impl, uint32_t (*crc)(uint32_t, const void *, size_t))
{
	static const uint8_t digits[] = "123456789";
	uint8_t buf[32];
	int failures = 0;
	struct {
		const char *name;
		uint32_t got, want;
	} checks[5];

	checks[0].name = "\"123456789\"";
	checks[0].got = crc(0, digits, 9);
	checks[0].want = 0xe3069283u;
	memset(buf, 0, sizeof(buf));
	checks[1].name = "32 x 00h";
	checks[1].got = crc(0, buf, 32);
	checks[1].want = 0x8a9136aau;
	memset(buf, 0xff, sizeof(buf));
	checks[2].name = "32 x FFh";
	checks[2].got = crc(0, buf, 32);
	checks[2].want = 0x62a8ab43u;
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	checks[3].name = "00h..1Fh";
	checks[3].got = crc(0, buf, 32);
	checks[3].want = 0x46dd794eu;
	/* Checksumming in two pieces must give the same CRC as in one. */
	checks[4].name = "00h..1Fh in two parts";
	checks[4].got = crc(crc(0, buf, 13), buf + 13, 19);
	checks[4].want = 0x46dd794eu;
	for (int i = 0; i < 5; i++) {
		bool ok = checks[i].got == checks[i].want;

		printf("%s %s crc32c(%s) = %08x, expected %08x\n", ok ? "ok  " : "FAIL", impl,
		       checks[i].name, checks[i].got, checks[i].want);
		failures += !ok;
	}
	return failures;
}

static int cmd_selftest(void)
{
	static uint8_t data[4096 + 8];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int failures = 0, mismatches = 0;

	printf("crc32c: %s\n", wal_crc32c_impl());
	failures += crc_vectors("wal_crc32c", wal_crc32c);
	failures += crc_vectors("portable", wal_crc32c_portable);
	/* Both agree on every length and alignment, and when continued. */
	for (size_t i = 0; i < sizeof(data); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		data[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= sizeof(data); len += len < 64 ? 1 : 61) {
			uint32_t a = wal_crc32c(0, data + off, len);
			uint32_t b = wal_crc32c_portable(0, data + off, len);
			uint32_t c = wal_crc32c(wal_crc32c(0, data + off, len / 3),
						data + off + len / 3, len - len / 3);

			if (a != b || a != c) {
				if (!mismatches++)
					printf("FAIL crc32c of %zu bytes at offset %zu: %08x, portable "
					       "%08x, in two parts %08x\n", len, off, a, b, c);
			}
		}
	}
	if (mismatches)
		failures++;
	else
		printf("ok   wal_crc32c and portable agree on every length and alignment\n");
	if (wal_record_disk_bytes(0, 512) != 512 || wal_record_disk_bytes(480, 512) != 512 ||
	    wal_record_disk_bytes(481, 512) != 1024 || wal_record_disk_bytes(5000, 4096) != 8192) {
		printf("FAIL wal_record_disk_bytes\n");
		failures++;
	}
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	uint32_t nsid = 1;
	struct nvp_ctrl *ctrl;
	struct nvp_ns *ns;
	const char *cmd;
	int opt, rc, ret;

	/* "+": stop at the command; its options are parsed by the command. */
	while ((opt = getopt(argc, argv, "+a:n:h")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'n':
			if (parse_u32(optarg, 1, UINT32_MAX - 1, &nsid)) {
				usage(stderr);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "selftest"))
		return cmd_selftest();
	if (!addr || (strcmp(cmd, "format") && strcmp(cmd, "append") && strcmp(cmd, "recover"))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = nvp_ctrl_attach(addr, NULL, &ctrl);
	if (rc) {
		fprintf(stderr, "attach %s: %s\n", addr, nvp_last_error());
		return 1;
	}
	ns = nvp_ctrl_get_ns(ctrl, nsid);
	if (!ns) {
		fprintf(stderr, "namespace %u is not active on %s\n", nsid, addr);
		nvp_ctrl_detach(ctrl);
		return 1;
	}
	/* The command's options start after its name; getopt restarts at 1. */
	argc -= optind;
	argv += optind;
	optind = 1;
	if (!strcmp(cmd, "format"))
		ret = argc == 1 ? cmd_format(ctrl, ns) : EXIT_USAGE;
	else if (!strcmp(cmd, "append"))
		ret = cmd_append(ctrl, ns, argc, argv);
	else
		ret = cmd_recover(ctrl, ns, argc, argv);
	if (nvp_ctrl_detach(ctrl))
		ret = ret ? ret : 1;
	return ret;
}
