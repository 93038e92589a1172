// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_zns.c - zoned namespaces: zone report, state transitions and their
 * errors, sequential writes to capacity, Zone Append from several threads,
 * the limits (open/active zones, ZASL, zone boundaries). Each test takes
 * the first zoned namespace of the controllers given and skips, saying
 * so, when there is none. Tests use the last zones, leaving the first to
 * whoever else runs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/emu.h>

#include "itest.h"

struct zcpl {
	atomic_int calls;
	uint16_t status;
	uint64_t lba;
};

static void zcpl_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct zcpl *c = arg;

	c->status = cpl->status & (uint16_t)~1u;
	c->lba = nvp_zone_append_lba(cpl);
	atomic_fetch_add(&c->calls, 1);
}

/* Wait for a submitted command; the completion's errno (or the refusal). */
static int zwait(struct nvp_qpair *qp, int rc, struct zcpl *c)
{
	if (rc) {
		if (atomic_load(&c->calls))
			itest_failf(__FILE__, __LINE__, "refused command (%d) called back", rc);
		return rc;
	}
	rc = poll_until(qp, &c->calls, 1);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "no completion: %d (%s)", rc, itest_errname(rc));
		return rc;
	}
	if (atomic_load(&c->calls) != 1)
		itest_failf(__FILE__, __LINE__, "callback ran %d times", atomic_load(&c->calls));
	return nvp_status_to_errno(c->status);
}

static int zmgmt(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t zslba,
		 enum nvp_zone_action a, uint32_t flags)
{
	struct zcpl c = { 0 };

	return zwait(qp, nvp_zone_mgmt(qp, ns, zslba, a, flags, zcpl_cb, &c), &c);
}

static int zappend(struct nvp_qpair *qp, struct nvp_ns *ns, const void *buf, uint64_t zslba,
		   uint32_t nlb, uint64_t *lba)
{
	struct zcpl c = { 0 };
	int rc = zwait(qp, nvp_zone_append(qp, ns, buf, zslba, nlb, NULL, zcpl_cb, &c), &c);

	*lba = c.lba;
	return rc;
}

/* One zone's descriptor (partial report of one zone from @zslba). */
static int zone_get(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t zslba, struct nvp_zone *z)
{
	void *buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	struct zcpl c = { 0 };
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = zwait(qp, nvp_zone_report(qp, ns, zslba, NVP_ZONE_FILTER_ALL, NVP_ZONE_REPORT_PARTIAL,
				       buf, 128, zcpl_cb, &c), &c);
	if (!rc && nvp_zone_report_parse(buf, 128, z, 1, NULL) != 1)
		rc = -EIO;
	nvp_dma_free(buf);
	return rc;
}

/* The first zoned namespace of the controllers given, or NULL (skipped). */
static struct nvp_ns *zoned_ns(struct itest_dev **dev)
{
	for (int j = 0; j < itest_cfg.num_addrs; j++) {
		struct itest_dev *d = itest_dev(j);

		if (!d)
			return NULL;
		for (struct nvp_ns *ns = nvp_ctrl_first_ns(d->ctrl); ns;
		     ns = nvp_ctrl_next_ns(d->ctrl, ns)) {
			if (nvp_ns_get_info(ns)->zoned && nvp_ns_zns_info(ns)) {
				*dev = d;
				return ns;
			}
		}
	}
	itest_skipf("no zoned namespace on the controllers given (emu: ns=...,zoned=ZSIZE)");
	return NULL;
}

/* The tests use the last 6 zones, one each (zns_limits the first ones). */
#define ZNS_MIN_ZONES 7

/* The first zoned namespace with enough zones for these tests, or NULL. */
static struct nvp_ns *zoned_ns_for_tests(struct itest_dev **dev)
{
	struct nvp_ns *ns = zoned_ns(dev);

	if (ns && nvp_ns_zns_info(ns)->num_zones < ZNS_MIN_ZONES) {
		itest_skipf("zoned namespace %u has %llu zones; these tests need %d",
			    nvp_ns_get_info(ns)->nsid,
			    (unsigned long long)nvp_ns_zns_info(ns)->num_zones, ZNS_MIN_ZONES);
		return NULL;
	}
	return ns;
}

static uint64_t zstart(const struct nvp_zns_info *zi, uint64_t from_end)
{
	return (zi->num_zones - from_end) * zi->zone_size;
}

void test_zns_report(void)
{
	struct nvp_qpair *qp = NULL;
	struct nvp_zone *zones = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint64_t nr = 0;
	size_t len;
	void *buf = NULL;
	struct zcpl c = { 0 };
	int n;

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	CHECK(zi->zone_size > 0 && zi->num_zones > 0);
	CHECK(zi->num_zones * zi->zone_size <= nvp_ns_get_info(ns)->num_blocks);
	CHECK(zi->max_append_blocks > 0);
	itest_notef("%llu zones of %llu blocks, open %u active %u (0 = no limit), append %u B",
		    (unsigned long long)zi->num_zones, (unsigned long long)zi->zone_size,
		    zi->max_open, zi->max_active, zi->max_append_bytes);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	/* A full report of up to 63 zones in one page; the count covers all. */
	len = 4096;
	buf = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	zones = calloc(64, sizeof(*zones));
	CHECK(buf && zones);
	CHECK_RC(zwait(qp, nvp_zone_report(qp, ns, 0, NVP_ZONE_FILTER_ALL, 0, buf, len, zcpl_cb,
					   &c), &c), 0);
	n = nvp_zone_report_parse(buf, len, zones, 64, &nr);
	CHECKF(nr == zi->num_zones, "full report counts %llu zones, info says %llu",
	       (unsigned long long)nr, (unsigned long long)zi->num_zones);
	CHECK(n == (int)(nr < 63 ? nr : 63));
	for (int i = 0; i < n; i++) {
		CHECKF(zones[i].zslba == i * zi->zone_size, "zone %d starts at %llu", i,
		       (unsigned long long)zones[i].zslba);
		CHECK(zones[i].capacity > 0 && zones[i].capacity <= zi->zone_size);
		CHECK(zones[i].type == NVP_ZONE_TYPE_SEQ_WRITE);
	}
	/* Partial: two descriptors' room, the count is what came back. */
	atomic_store(&c.calls, 0);
	CHECK_RC(zwait(qp, nvp_zone_report(qp, ns, zi->zone_size, NVP_ZONE_FILTER_ALL,
					   NVP_ZONE_REPORT_PARTIAL, buf, 64 + 2 * 64, zcpl_cb, &c),
		       &c), 0);
	n = nvp_zone_report_parse(buf, 64 + 2 * 64, zones, 64, &nr);
	CHECK(nr == (zi->num_zones > 2 ? 2 : zi->num_zones - 1) && n == (int)nr);
	CHECK(zones[0].zslba == zi->zone_size);
	/* Bad arguments are refused without a callback. */
	CHECK_RC(nvp_zone_report(qp, ns, 0, (enum nvp_zone_filter)8, 0, buf, len, zcpl_cb, &c),
		 -EINVAL);
	CHECK_RC(nvp_zone_report(qp, ns, 0, NVP_ZONE_FILTER_ALL, 0, buf, 32, zcpl_cb, &c), -EINVAL);
	CHECK_RC(nvp_zone_report(qp, ns, nvp_ns_get_info(ns)->num_blocks, NVP_ZONE_FILTER_ALL, 0,
				 buf, len, zcpl_cb, &c), -ERANGE);
	CHECK_RC(nvp_zone_report_parse(buf, 63, zones, 1, NULL), -EINVAL);
out:
	free(zones);
	nvp_dma_free(buf);
	nvp_qpair_free(qp);
}

void test_zns_fill_zone(void)
{
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint8_t *w = NULL, *r = NULL;
	struct nvp_zone z;
	uint64_t zs, seed = itest_cfg.seed ^ 0x2f11;
	uint32_t bs, step;
	char why[160];

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	bs = nvp_ns_get_info(ns)->block_size;
	zs = zstart(zi, 1);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	step = nvp_ns_get_info(ns)->max_io_blocks;
	if (step > 64)
		step = 64;
	w = nvp_dma_alloc((size_t)step * bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)step * bs, 0, NVP_NUMA_ANY);
	CHECK(w && r);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	CHECK_RC(zone_get(qp, ns, zs, &z), 0);
	CHECKF(z.state == NVP_ZS_EMPTY && z.wp == zs, "after reset: %s wp %llu",
	       nvp_zone_state_name(z.state), (unsigned long long)z.wp);
	/* Sequential writes to capacity, each at the write pointer. */
	for (uint64_t lba = zs, n; lba < zs + z.capacity; lba += n) {
		n = zs + z.capacity - lba < step ? zs + z.capacity - lba : step;
		pattern_fill(w, lba, (uint32_t)n, bs, seed);
		CHECK_RC(io_sync(qp, ns, IO_WRITE, w, lba, (uint32_t)n, 0, NULL), 0);
		if (lba == zs) {
			struct nvp_zone o;

			CHECK_RC(zone_get(qp, ns, zs, &o), 0);
			CHECKF(o.state == NVP_ZS_IMPLICIT_OPEN && o.wp == zs + n,
			       "after the first write: %s wp %llu", nvp_zone_state_name(o.state),
			       (unsigned long long)o.wp);
		}
	}
	CHECK_RC(zone_get(qp, ns, zs, &z), 0);
	CHECKF(z.state == NVP_ZS_FULL, "written to capacity: %s", nvp_zone_state_name(z.state));
	/* One more block: Zone Is Full. */
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs + z.capacity - 1, 1, 0, NULL), -ENOSPC);
	/* The data reads back; blocks past capacity (within the zone) read too. */
	CHECK_RC(io_sync(qp, ns, IO_READ, r, zs, step, 0, NULL), 0);
	pattern_fill(w, zs, step, bs, seed);
	CHECKF(pattern_check(r, zs, step, bs, seed, why, sizeof(why)) < 0, "read back: %s", why);
	if (z.capacity < zi->zone_size)
		CHECK_RC(io_sync(qp, ns, IO_READ, r, zs + z.capacity, 1, 0, NULL), 0);
	/* Reset: empty again, the data gone. */
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	CHECK_RC(zone_get(qp, ns, zs, &z), 0);
	CHECK(z.state == NVP_ZS_EMPTY && z.wp == zs);
	CHECK_RC(io_sync(qp, ns, IO_READ, r, zs, step, 0, NULL), 0);
	if (nvp_ns_get_info(ns)->deallocated_reads_zeroes)
		CHECKF(buf_is_zero(r, (size_t)step * bs), "a reset zone does not read as zeroes");
	else
		CHECK(pattern_check(r, zs, step, bs, seed, why, sizeof(why)) >= 0);
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
	nvp_qpair_free(qp);
}

void test_zns_write_errors(void)
{
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint8_t *w = NULL;
	uint64_t zs;
	uint32_t bs, big;

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	bs = nvp_ns_get_info(ns)->block_size;
	zs = zstart(zi, 2);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	big = nvp_ns_get_info(ns)->max_io_blocks + 1;
	w = nvp_dma_alloc((size_t)big * bs, 0, NVP_NUMA_ANY);
	CHECK(w);
	memset(w, 0x5a, (size_t)big * bs);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	/* Not at the write pointer: Zone Invalid Write, from the device. */
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs + 1, 1, 0, NULL), -ESPIPE);
	/* Across the zone's end: refused before it reaches the device. */
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs + zi->zone_size - 1, 2, 0, NULL), -EINVAL);
	CHECK(itest_log_contains("crosses the end of zone"));
	/* Larger than one command: its parts could land out of order. */
	if (big <= zi->zone_size) {
		CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs, big, 0, NULL), -E2BIG);
		CHECK(itest_log_contains("nvp_zone_append"));
	}
	/* Write Zeroes: across a zone refused too (when the controller has it). */
	if (nvp_ns_get_info(ns)->supports_write_zeroes)
		CHECK_RC(io_sync(qp, ns, IO_WRITE_ZEROES, NULL, zs + zi->zone_size - 1, 2, 0, NULL),
			 -EINVAL);
	/* Nothing of that was written: the zone is still empty. */
	{
		struct nvp_zone z;

		CHECK_RC(zone_get(qp, ns, zs, &z), 0);
		CHECKF(z.state == NVP_ZS_EMPTY && z.wp == zs, "after refused writes: %s wp %llu",
		       nvp_zone_state_name(z.state), (unsigned long long)z.wp);
	}
out:
	nvp_dma_free(w);
	nvp_qpair_free(qp);
}

static int state_of(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t zs)
{
	struct nvp_zone z;
	int rc = zone_get(qp, ns, zs, &z);

	return rc ? rc : z.state;
}

void test_zns_transitions(void)
{
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint64_t zs;

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	zs = zstart(zi, 3);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	/* Empty: close and offline are invalid transitions. */
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_CLOSE, 0), -EINVAL);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_OFFLINE, 0), -EINVAL);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_OPEN, 0), 0);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_EXPLICIT_OPEN);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_CLOSE, 0), 0);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_CLOSED);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_OPEN, 0), 0);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_EXPLICIT_OPEN);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_FINISH, 0), 0);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_FULL);
	/* Full: open and close are invalid; reset empties it. */
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_OPEN, 0), -EINVAL);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_CLOSE, 0), -EINVAL);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_EMPTY);
	/* Not a zone start, an unknown action: refused, no callback. */
	{
		struct zcpl c = { 0 };

		CHECK_RC(nvp_zone_mgmt(qp, ns, zs + 1, NVP_ZONE_OPEN, 0, zcpl_cb, &c), -EINVAL);
		CHECK_RC(nvp_zone_mgmt(qp, ns, zs, (enum nvp_zone_action)9, 0, zcpl_cb, &c),
			 -EINVAL);
		CHECK(atomic_load(&c.calls) == 0);
	}
out:
	nvp_qpair_free(qp);
}

void test_zns_limits(void)
{
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint8_t *w = NULL;
	uint32_t i;

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	if (!zi->max_open || zi->max_open >= zi->num_zones) {
		itest_skipf("no open-zone limit below the zone count (max_open %u, %llu zones)",
			    zi->max_open, (unsigned long long)zi->num_zones);
		return;
	}
	qp = qpair_alloc_default(d);
	CHECK(qp);
	w = nvp_dma_alloc(nvp_ns_get_info(ns)->block_size, 0, NVP_NUMA_ANY);
	CHECK(w);
	memset(w, 0x3c, nvp_ns_get_info(ns)->block_size);
	CHECK_RC(zmgmt(qp, ns, 0, NVP_ZONE_RESET, NVP_ZONE_SELECT_ALL), 0);
	/* max_open explicit opens; one more is too many (none to auto-close). */
	for (i = 0; i < zi->max_open; i++)
		CHECK_RC(zmgmt(qp, ns, i * zi->zone_size, NVP_ZONE_OPEN, 0), 0);
	CHECK_RC(zmgmt(qp, ns, i * zi->zone_size, NVP_ZONE_OPEN, 0), -ETOOMANYREFS);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, i * zi->zone_size, 1, 0, NULL), -ETOOMANYREFS);
	/* Close them all: they stay active; writes open zones implicitly. */
	CHECK_RC(zmgmt(qp, ns, 0, NVP_ZONE_CLOSE, NVP_ZONE_SELECT_ALL), 0);
	CHECK(state_of(qp, ns, 0) == NVP_ZS_CLOSED);
	if (zi->max_active && zi->max_active < zi->num_zones) {
		/* Fill the active limit with written (implicitly open) zones. */
		for (; i < zi->max_active; i++)
			CHECK_RC(io_sync(qp, ns, IO_WRITE, w, i * zi->zone_size, 1, 0, NULL), 0);
		CHECK_RC(io_sync(qp, ns, IO_WRITE, w, i * zi->zone_size, 1, 0, NULL), -EOVERFLOW);
		CHECK_RC(zmgmt(qp, ns, i * zi->zone_size, NVP_ZONE_OPEN, 0), -EOVERFLOW);
		/* Finishing one frees an active resource. */
		CHECK_RC(zmgmt(qp, ns, 0, NVP_ZONE_FINISH, 0), 0);
		CHECK_RC(io_sync(qp, ns, IO_WRITE, w, i * zi->zone_size, 1, 0, NULL), 0);
	}
	CHECK_RC(zmgmt(qp, ns, 0, NVP_ZONE_RESET, NVP_ZONE_SELECT_ALL), 0);
	CHECK(state_of(qp, ns, 0) == NVP_ZS_EMPTY);
out:
	if (qp)
		zmgmt(qp, ns, 0, NVP_ZONE_RESET, NVP_ZONE_SELECT_ALL);
	nvp_dma_free(w);
	nvp_qpair_free(qp);
}

#define APPEND_THREADS 4
#define APPENDS_EACH 16

struct append_arg {
	struct itest_dev *d;
	struct nvp_ns *ns;
	uint64_t zs;
	int id;
	uint64_t lba[APPENDS_EACH];
	int err;
};

static void *append_thread(void *p)
{
	struct append_arg *a = p;
	uint32_t bs = nvp_ns_get_info(a->ns)->block_size;
	struct nvp_qpair *qp = NULL;
	uint8_t *w = nvp_dma_alloc(bs, 0, NVP_NUMA_ANY);
	int rc = nvp_qpair_alloc(a->d->ctrl, NULL, &qp);

	if (rc || !w) {
		a->err = rc ? rc : -ENOMEM;
		goto out;
	}
	for (int i = 0; i < APPENDS_EACH; i++) {
		struct zcpl c = { 0 };

		/* Tag each block with (thread, index): checked where it landed. */
		pattern_fill(w, (uint64_t)a->id << 32 | (uint32_t)i, 1, bs, itest_cfg.seed);
		rc = nvp_zone_append(qp, a->ns, w, a->zs, 1, NULL, zcpl_cb, &c);
		if (!rc)
			rc = poll_until(qp, &c.calls, 1);
		if (!rc)
			rc = nvp_status_to_errno(c.status);
		if (rc) {
			a->err = rc;
			break;
		}
		a->lba[i] = c.lba;
	}
out:
	nvp_qpair_free(qp);
	nvp_dma_free(w);
	return NULL;
}

void test_zns_append_threads(void)
{
	struct append_arg args[APPEND_THREADS];
	pthread_t th[APPEND_THREADS];
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint8_t *r = NULL, *seen = NULL;
	uint32_t bs;
	uint64_t zs;
	struct nvp_zone z;
	char why[160];

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	bs = nvp_ns_get_info(ns)->block_size;
	zs = zstart(zi, 4);
	qp = qpair_alloc_default(d);
	r = nvp_dma_alloc(bs, 0, NVP_NUMA_ANY);
	seen = calloc(APPEND_THREADS * APPENDS_EACH, 1);
	CHECK(qp && r && seen);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	for (int t = 0; t < APPEND_THREADS; t++) {
		args[t] = (struct append_arg){ .d = d, .ns = ns, .zs = zs, .id = t };
		CHECK(pthread_create(&th[t], NULL, append_thread, &args[t]) == 0);
	}
	for (int t = 0; t < APPEND_THREADS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < APPEND_THREADS; t++) {
		CHECKF(args[t].err == 0, "thread %d: %d (%s)", t, args[t].err,
		       itest_errname(args[t].err));
		for (int i = 0; i < APPENDS_EACH; i++) {
			uint64_t lba = args[t].lba[i], k = lba - zs;

			CHECKF(lba >= zs && k < APPEND_THREADS * APPENDS_EACH,
			       "append landed at LBA %llu, outside the zone's written part",
			       (unsigned long long)lba);
			CHECKF(!seen[k], "two appends returned LBA %llu", (unsigned long long)lba);
			seen[k] = 1;
			CHECK_RC(io_sync(qp, ns, IO_READ, r, lba, 1, 0, NULL), 0);
			CHECKF(pattern_check(r, (uint64_t)t << 32 | (uint32_t)i, 1, bs,
					     itest_cfg.seed, why, sizeof(why)) < 0,
			       "thread %d append %d at LBA %llu: %s", t, i,
			       (unsigned long long)lba, why);
		}
	}
	CHECK_RC(zone_get(qp, ns, zs, &z), 0);
	CHECKF(z.wp == zs + APPEND_THREADS * APPENDS_EACH, "write pointer %llu after %d appends",
	       (unsigned long long)z.wp, APPEND_THREADS * APPENDS_EACH);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
out:
	free(seen);
	nvp_dma_free(r);
	nvp_qpair_free(qp);
}

void test_zns_append_limits(void)
{
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint8_t *w = NULL;
	uint64_t zs, lba = 0;
	uint32_t bs, max;
	struct zcpl c = { 0 };
	struct nvp_io_opts o;

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	bs = nvp_ns_get_info(ns)->block_size;
	zs = zstart(zi, 5);
	max = zi->max_append_blocks;
	qp = qpair_alloc_default(d);
	w = nvp_dma_alloc(((size_t)max + 1) * bs, 0, NVP_NUMA_ANY);
	CHECK(qp && w);
	memset(w, 0x77, ((size_t)max + 1) * bs);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	/* One past ZASL: refused, never split. */
	CHECK_RC(nvp_zone_append(qp, ns, w, zs, max + 1, NULL, zcpl_cb, &c), -E2BIG);
	CHECK_RC(nvp_zone_append(qp, ns, w, zs + 1, 1, NULL, zcpl_cb, &c), -EINVAL);
	CHECK_RC(nvp_zone_append(qp, ns, w, zs, 0, NULL, zcpl_cb, &c), -EINVAL);
	nvp_io_opts_init(&o, sizeof(o));
	o.pi = NVP_PI_PRACT;
	CHECK_RC(nvp_zone_append(qp, ns, w, zs, 1, &o, zcpl_cb, &c), -ENOTSUP);
	CHECK(atomic_load(&c.calls) == 0);
	/* Exactly ZASL: lands at the write pointer (the zone start). */
	nvp_io_opts_init(&o, sizeof(o));
	o.flags = NVP_IO_FUA;
	{
		struct zcpl c2 = { 0 };

		CHECK_RC(zwait(qp, nvp_zone_append(qp, ns, w, zs, max, &o, zcpl_cb, &c2), &c2), 0);
		lba = c2.lba;
	}
	CHECKF(lba == zs, "first append at %llu, zone starts at %llu", (unsigned long long)lba,
	       (unsigned long long)zs);
	CHECK_RC(zappend(qp, ns, w, zs, 1, &lba), 0);
	CHECK(lba == zs + max);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_FINISH, 0), 0);
	/* Full: the device says so. */
	CHECK_RC(zappend(qp, ns, w, zs, 1, &lba), -ENOSPC);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
out:
	nvp_dma_free(w);
	nvp_qpair_free(qp);
}

void test_zns_fault_zone(void)
{
	struct nvp_qpair *qp = NULL;
	const struct nvp_zns_info *zi;
	struct itest_dev *d;
	struct nvp_ns *ns = zoned_ns_for_tests(&d);
	uint8_t *w = NULL;
	uint32_t nsid;
	uint64_t zs;

	if (!ns)
		return;
	zi = nvp_ns_zns_info(ns);
	nsid = nvp_ns_get_info(ns)->nsid;
	zs = zstart(zi, 6);
	qp = qpair_alloc_default(d);
	w = nvp_dma_alloc(nvp_ns_get_info(ns)->block_size, 0, NVP_NUMA_ANY);
	CHECK(qp && w);
	memset(w, 0x11, nvp_ns_get_info(ns)->block_size);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), 0);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs, 1, 0, NULL), 0);
	CHECK_RC(nvp_emu_set_zone_state(d->ctrl, nsid, zs, NVP_ZS_READ_ONLY), 0);
	CHECK_RC(nvp_emu_set_zone_state(d->ctrl, nsid, zs + 1, NVP_ZS_OFFLINE), -EINVAL);
	CHECK_RC(nvp_emu_set_zone_state(d->ctrl, nsid, zs, NVP_ZS_FULL), -EINVAL);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_READ_ONLY);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs + 1, 1, 0, NULL), -EROFS);
	CHECK_RC(io_sync(qp, ns, IO_READ, w, zs, 1, 0, NULL), 0);
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_RESET, 0), -EINVAL);
	/* Read only -> offline is the one transition left. */
	CHECK_RC(zmgmt(qp, ns, zs, NVP_ZONE_OFFLINE, 0), 0);
	CHECK(state_of(qp, ns, zs) == NVP_ZS_OFFLINE);
	CHECK_RC(io_sync(qp, ns, IO_READ, w, zs, 1, 0, NULL), -EIO);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, zs, 1, 0, NULL), -EIO);
	itest_notef("zone %llu is offline until the controller is attached again",
		    (unsigned long long)(zs / zi->zone_size));
out:
	nvp_dma_free(w);
	nvp_qpair_free(qp);
}
