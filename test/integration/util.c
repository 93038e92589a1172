// SPDX-License-Identifier: BSD-3-Clause
/*
 * util.c - data patterns and synchronous I/O helpers for the integration
 * suite. Buffers may start at any byte offset, so nothing here assumes
 * alignment: all multi-byte accesses go through memcpy.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

/* ------------------------------------------------------------------------ */
/* PRNG and patterns                                                        */
/* ------------------------------------------------------------------------ */

uint64_t itest_rand(uint64_t *state)
{
	uint64_t x = *state;

	/* xorshift64* cannot leave the all-zero state; never enter it. */
	if (x == 0)
		x = 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t itest_rand_below(uint64_t *state, uint64_t bound)
{
	return bound ? itest_rand(state) % bound : 0;
}

#define PATTERN_MAGIC 0x54506c6c6f70766eull	/* "nvpollPT" little-endian */
#define PATTERN_HDR 24				/* magic, LBA, seed */

/* splitmix64 finaliser: a well-spread PRNG start for each (seed, LBA). */
static uint64_t block_state(uint64_t seed, uint64_t lba)
{
	uint64_t z = seed + (lba + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void block_fill(uint8_t *b, uint64_t lba, uint32_t bs, uint64_t seed)
{
	uint64_t st = block_state(seed, lba), v, sum;
	uint64_t hdr[3] = { PATTERN_MAGIC, lba, seed };
	uint32_t off;

	memcpy(b, hdr, sizeof(hdr));
	for (off = PATTERN_HDR; off < bs - 8; off += 8) {
		v = itest_rand(&st);
		memcpy(b + off, &v, bs - 8 - off < 8 ? bs - 8 - off : 8);
	}
	sum = fnv1a(b, bs - 8);
	memcpy(b + bs - 8, &sum, 8);
}

void pattern_fill(void *buf, uint64_t lba, uint32_t nlb, uint32_t bs, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i < nlb; i++)
		block_fill((uint8_t *)buf + (size_t)i * bs, lba + i, bs, seed);
}

bool buf_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--)
		if (*p++)
			return false;
	return true;
}

/* Explain how block @b (expected: @lba, @seed) differs from the pattern. */
static bool block_check(const uint8_t *b, uint64_t lba, uint32_t bs, uint64_t seed,
			char *why, size_t why_len)
{
	uint64_t hdr[3], st, v, sum;
	uint32_t off, n;

	memcpy(hdr, b, sizeof(hdr));
	if (hdr[0] != PATTERN_MAGIC) {
		if (buf_is_zero(b, bs))
			snprintf(why, why_len, "LBA %llu reads as zeroes",
				 (unsigned long long)lba);
		else
			snprintf(why, why_len, "LBA %llu: no pattern header (first bytes %016llx)",
				 (unsigned long long)lba, (unsigned long long)hdr[0]);
		return false;
	}
	if (hdr[1] != lba) {
		snprintf(why, why_len, "LBA %llu holds the block written to LBA %llu",
			 (unsigned long long)lba, (unsigned long long)hdr[1]);
		return false;
	}
	if (hdr[2] != seed) {
		snprintf(why, why_len, "LBA %llu holds stale data (seed %llx, expected %llx)",
			 (unsigned long long)lba, (unsigned long long)hdr[2],
			 (unsigned long long)seed);
		return false;
	}
	memcpy(&sum, b + bs - 8, 8);
	if (sum != fnv1a(b, bs - 8)) {
		snprintf(why, why_len, "LBA %llu: checksum mismatch (payload corrupted)",
			 (unsigned long long)lba);
		/* Fall through to say where. */
	}
	st = block_state(seed, lba);
	for (off = PATTERN_HDR; off < bs - 8; off += 8) {
		v = itest_rand(&st);
		n = bs - 8 - off < 8 ? bs - 8 - off : 8;
		if (memcmp(b + off, &v, n)) {
			snprintf(why, why_len, "LBA %llu: payload differs at byte %u of %u",
				 (unsigned long long)lba, off, bs);
			return false;
		}
	}
	return sum == fnv1a(b, bs - 8);
}

long pattern_check(const void *buf, uint64_t lba, uint32_t nlb, uint32_t bs,
		   uint64_t seed, char *why, size_t why_len)
{
	uint32_t i;

	for (i = 0; i < nlb; i++)
		if (!block_check((const uint8_t *)buf + (size_t)i * bs, lba + i, bs, seed,
				 why, why_len))
			return i;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Completion helpers                                                       */
/* ------------------------------------------------------------------------ */

void io_cpl_init(struct io_cpl *c)
{
	atomic_init(&c->calls, 0);
	c->status = 0;
	c->dw0 = 0;
	c->dw1 = 0;
}

void io_cpl_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct io_cpl *c = arg;

	c->status = cpl->status & (uint16_t)~1u;
	c->dw0 = cpl->dw0;
	c->dw1 = cpl->dw1;
	atomic_fetch_add(&c->calls, 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int poll_until(struct nvp_qpair *qp, atomic_int *counter, int target)
{
	uint64_t deadline = now_ms() + itest_cfg.wait_ms;
	unsigned int spins = 0;
	int rc;

	while (atomic_load(counter) < target) {
		rc = nvp_qpair_poll(qp, 0);
		if (rc < 0)
			return rc;
		/* Reading the clock every poll would dominate on the emulator. */
		if (++spins % 256 == 0 && now_ms() > deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

int admin_poll_until(struct nvp_ctrl *ctrl, atomic_int *counter, int target)
{
	uint64_t deadline = now_ms() + itest_cfg.wait_ms;
	int rc;

	while (atomic_load(counter) < target) {
		rc = nvp_ctrl_process_admin(ctrl);
		if (rc < 0)
			return rc;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

/*
 * After a submission was refused, or after the one callback ran, poll a few
 * more times: a callback for a refused command, or a second callback for a
 * completed one, shows up here.
 */
static void check_calls(struct nvp_qpair *qp, struct io_cpl *c, int want, const char *what)
{
	int i, calls;

	for (i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	calls = atomic_load(&c->calls);
	if (calls != want)
		itest_failf(__FILE__, __LINE__, "%s: callback ran %d times, expected %d",
			    what, calls, want);
}

/*
 * Wait for the command behind @c (heap memory) and hand its result to @out.
 * If the command never completes, @c is deliberately leaked: a late
 * completion (or the abort when the qpair is freed) still writes to it.
 */
static int finish(struct nvp_qpair *qp, int rc, struct io_cpl *c, struct io_cpl *out,
		  const char *what)
{
	if (rc) {
		check_calls(qp, c, 0, what);
		goto done;
	}
	rc = poll_until(qp, &c->calls, 1);
	if (rc == -ETIMEDOUT) {
		itest_failf(__FILE__, __LINE__, "%s: no completion after %u ms", what,
			    itest_cfg.wait_ms);
		return -ETIMEDOUT;
	}
	if (rc && atomic_load(&c->calls) == 0) {
		itest_failf(__FILE__, __LINE__, "%s: polling failed: %d (%s)", what, rc,
			    itest_errname(rc));
		return rc;
	}
	check_calls(qp, c, 1, what);
	rc = nvp_status_to_errno(c->status);
done:
	if (out) {
		atomic_store(&out->calls, atomic_load(&c->calls));
		out->status = c->status;
		out->dw0 = c->dw0;
		out->dw1 = c->dw1;
	}
	free(c);
	return rc;
}

static struct io_cpl *cpl_new(void)
{
	struct io_cpl *c = malloc(sizeof(*c));

	if (c)
		io_cpl_init(c);
	return c;
}

static const char *op_name(enum io_op op)
{
	switch (op) {
	case IO_READ: return "read";
	case IO_WRITE: return "write";
	case IO_FLUSH: return "flush";
	case IO_WRITE_ZEROES: return "write zeroes";
	}
	return "?";
}

int io_sync(struct nvp_qpair *qp, struct nvp_ns *ns, enum io_op op, void *buf,
	    uint64_t lba, uint32_t nlb, uint32_t flags, struct io_cpl *out)
{
	struct io_cpl *c = cpl_new();
	int rc = -EINVAL;

	if (!c)
		return -ENOMEM;
	switch (op) {
	case IO_READ:
		rc = nvp_read(qp, ns, buf, lba, nlb, flags, io_cpl_cb, c);
		break;
	case IO_WRITE:
		rc = nvp_write(qp, ns, buf, lba, nlb, flags, io_cpl_cb, c);
		break;
	case IO_FLUSH:
		rc = nvp_flush(qp, ns, io_cpl_cb, c);
		break;
	case IO_WRITE_ZEROES:
		rc = nvp_write_zeroes(qp, ns, lba, nlb, flags, io_cpl_cb, c);
		break;
	}
	return finish(qp, rc, c, out, op_name(op));
}

int iov_sync(struct nvp_qpair *qp, struct nvp_ns *ns, bool write,
	     const struct iovec *iov, int iovcnt, uint64_t lba, uint32_t nlb,
	     struct io_cpl *out)
{
	struct io_cpl *c = cpl_new();
	int rc;

	if (!c)
		return -ENOMEM;
	if (write)
		rc = nvp_writev(qp, ns, iov, iovcnt, lba, nlb, 0, io_cpl_cb, c);
	else
		rc = nvp_readv(qp, ns, iov, iovcnt, lba, nlb, 0, io_cpl_cb, c);
	return finish(qp, rc, c, out, write ? "writev" : "readv");
}

int ext_sync(struct nvp_qpair *qp, struct nvp_ns *ns, bool write, void *buf, uint64_t lba,
	     uint32_t nlb, const struct nvp_io_opts *opts, struct io_cpl *out)
{
	struct io_cpl *c = cpl_new();
	int rc;

	if (!c)
		return -ENOMEM;
	if (write)
		rc = nvp_write_ext(qp, ns, buf, lba, nlb, opts, io_cpl_cb, c);
	else
		rc = nvp_read_ext(qp, ns, buf, lba, nlb, opts, io_cpl_cb, c);
	return finish(qp, rc, c, out, write ? "write_ext" : "read_ext");
}

int extv_sync(struct nvp_qpair *qp, struct nvp_ns *ns, bool write, const struct iovec *iov,
	      int iovcnt, uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
	      struct io_cpl *out)
{
	struct io_cpl *c = cpl_new();
	int rc;

	if (!c)
		return -ENOMEM;
	if (write)
		rc = nvp_writev_ext(qp, ns, iov, iovcnt, lba, nlb, opts, io_cpl_cb, c);
	else
		rc = nvp_readv_ext(qp, ns, iov, iovcnt, lba, nlb, opts, io_cpl_cb, c);
	return finish(qp, rc, c, out, write ? "writev_ext" : "readv_ext");
}

int raw_sync(struct nvp_qpair *qp, const struct nvp_sqe *cmd, void *buf, size_t len,
	     struct io_cpl *out)
{
	struct io_cpl *c = cpl_new();
	int rc;

	if (!c)
		return -ENOMEM;
	rc = nvp_io_raw(qp, cmd, buf, len, io_cpl_cb, c);
	return finish(qp, rc, c, out, "raw command");
}

bool write_read_verify(struct nvp_qpair *qp, struct nvp_ns *ns, void *wbuf,
		       void *rbuf, uint64_t lba, uint32_t nlb, uint64_t seed,
		       uint32_t flags)
{
	uint32_t bs = nvp_ns_get_info(ns)->block_size;
	struct io_cpl c;
	char why[160];
	long bad;
	int rc;

	pattern_fill(wbuf, lba, nlb, bs, seed);
	memset(rbuf, 0xa5, (size_t)nlb * bs);
	rc = io_sync(qp, ns, IO_WRITE, wbuf, lba, nlb, flags, &c);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "write nsid %u LBA %llu +%u: %d (%s) status %#x %s",
			    nvp_ns_get_info(ns)->nsid, (unsigned long long)lba, nlb, rc,
			    itest_errname(rc), c.status, nvp_status_str(c.status));
		return false;
	}
	rc = io_sync(qp, ns, IO_READ, rbuf, lba, nlb, 0, &c);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "read nsid %u LBA %llu +%u: %d (%s) status %#x %s",
			    nvp_ns_get_info(ns)->nsid, (unsigned long long)lba, nlb, rc,
			    itest_errname(rc), c.status, nvp_status_str(c.status));
		return false;
	}
	bad = pattern_check(rbuf, lba, nlb, bs, seed, why, sizeof(why));
	if (bad >= 0) {
		itest_failf(__FILE__, __LINE__, "nsid %u, %u blocks at LBA %llu: %s",
			    nvp_ns_get_info(ns)->nsid, nlb, (unsigned long long)lba, why);
		return false;
	}
	return true;
}

bool qpair_still_works(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba)
{
	static atomic_uint round;
	uint32_t bs = nvp_ns_get_info(ns)->block_size;
	void *w = nvp_dma_alloc(2 * (size_t)bs, 0, NVP_NUMA_ANY);
	void *r = nvp_dma_alloc(2 * (size_t)bs, 0, NVP_NUMA_ANY);
	bool ok = false;

	if (!w || !r) {
		itest_failf(__FILE__, __LINE__, "nvp_dma_alloc(%u) failed", 2 * bs);
		goto out;
	}
	ok = write_read_verify(qp, ns, w, r, lba, 2,
			       itest_cfg.seed ^ (0x5157ull << 32) ^ atomic_fetch_add(&round, 1),
			       0);
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
	return ok;
}

struct nvp_qpair *qpair_alloc_default(struct itest_dev *d)
{
	struct nvp_qpair *qp = NULL;
	int rc;

	rc = nvp_qpair_alloc(d->ctrl, NULL, &qp);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "nvp_qpair_alloc on %s: %d (%s): %s", d->addr,
			    rc, itest_errname(rc), nvp_last_error());
		return NULL;
	}
	return qp;
}

/* For commands without an io_sync() op (t_cmds2.c): the same checks. */
struct io_cpl *io_cpl_new(void)
{
	return cpl_new();
}

int io_cpl_finish(struct nvp_qpair *qp, int rc, struct io_cpl *c, struct io_cpl *out,
		  const char *what)
{
	return finish(qp, rc, c, out, what);
}
