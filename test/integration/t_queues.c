// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_queues.c - queue wrap, deep queues, request exhaustion, one qpair per
 * thread, and two controllers at once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

/* ------------------------------------------------------------------------ */
/* A batch of I/Os kept in flight up to a depth                             */
/* ------------------------------------------------------------------------ */

struct batch;

struct bslot {
	struct io_cpl c;
	struct batch *b;
};

/*
 * @count I/Os of @nlb blocks: I/O i moves buffer slot i to LBA @lba + i*@nlb.
 * At most @depth are outstanding; -EAGAIN from the library means "poll and
 * retry" and is counted, never treated as an error.
 */
struct batch {
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	uint8_t *buf;
	uint64_t lba;
	uint32_t count;
	uint32_t nlb;
	uint32_t depth;
	uint32_t eagain;	/* out: refusals for lack of requests */
	uint32_t max_outstanding; /* out: deepest the queue got */
	atomic_int done;
	struct bslot *slots;
};

static void batch_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct bslot *s = arg;

	io_cpl_cb(&s->c, cpl);
	atomic_fetch_add(&s->b->done, 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns true if every I/O completed exactly once and successfully. */
static bool batch_run(struct batch *b, bool write)
{
	uint32_t bs = nvp_ns_get_info(b->ns)->block_size;
	uint32_t next = 0, i, outstanding;
	uint64_t last_progress = now_ms();
	int last_done = 0, rc;

	b->slots = calloc(b->count, sizeof(*b->slots));
	if (!b->slots) {
		itest_failf(__FILE__, __LINE__, "out of memory");
		return false;
	}
	atomic_init(&b->done, 0);
	b->eagain = 0;
	b->max_outstanding = 0;
	for (i = 0; i < b->count; i++) {
		io_cpl_init(&b->slots[i].c);
		b->slots[i].b = b;
	}
	while ((uint32_t)atomic_load(&b->done) < b->count) {
		while (next < b->count && next - (uint32_t)atomic_load(&b->done) < b->depth) {
			uint8_t *p = b->buf + (size_t)next * b->nlb * bs;
			uint64_t lba = b->lba + (uint64_t)next * b->nlb;

			if (write)
				rc = nvp_write(b->qp, b->ns, p, lba, b->nlb, 0, batch_cb,
					       &b->slots[next]);
			else
				rc = nvp_read(b->qp, b->ns, p, lba, b->nlb, 0, batch_cb,
					      &b->slots[next]);
			if (rc == -EAGAIN) {
				b->eagain++;
				break;
			}
			if (rc) {
				itest_failf(__FILE__, __LINE__, "%s %u of %u: %d (%s)",
					    write ? "write" : "read", next, b->count, rc,
					    itest_errname(rc));
				goto drain;
			}
			next++;
		}
		outstanding = nvp_qpair_outstanding(b->qp);
		if (outstanding > b->max_outstanding)
			b->max_outstanding = outstanding;
		rc = nvp_qpair_poll(b->qp, 0);
		if (rc < 0) {
			itest_failf(__FILE__, __LINE__, "nvp_qpair_poll: %d (%s)", rc,
				    itest_errname(rc));
			goto drain;
		}
		if (atomic_load(&b->done) != last_done) {
			last_done = atomic_load(&b->done);
			last_progress = now_ms();
		} else if (now_ms() - last_progress > itest_cfg.wait_ms) {
			itest_failf(__FILE__, __LINE__, "no completion for %u ms (%d of %u done)",
				    itest_cfg.wait_ms, last_done, b->count);
			/* Late completions still write to the slots: leak them. */
			b->slots = NULL;
			return false;
		}
	}
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(b->qp, 0);
	for (i = 0; i < b->count; i++) {
		struct io_cpl *c = &b->slots[i].c;

		if (atomic_load(&c->calls) != 1 || c->status) {
			itest_failf(__FILE__, __LINE__, "%s %u: %d callbacks, status %#x %s",
				    write ? "write" : "read", i, atomic_load(&c->calls), c->status,
				    nvp_status_str(c->status));
			break;
		}
	}
	free(b->slots);
	b->slots = NULL;
	return i == b->count;

drain:
	/* Wait for what was posted so nothing completes into freed memory. */
	while ((uint32_t)atomic_load(&b->done) < next &&
	       now_ms() - last_progress < itest_cfg.wait_ms)
		if (nvp_qpair_poll(b->qp, 0) < 0)
			break;
	if ((uint32_t)atomic_load(&b->done) >= next)
		free(b->slots);
	b->slots = NULL;
	return false;
}

/* Write @count I/Os of @nlb blocks with @depth, read them back, verify. */
static bool batch_write_verify(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba,
			       uint32_t count, uint32_t nlb, uint32_t depth, uint64_t seed,
			       struct batch *out)
{
	uint32_t bs = nvp_ns_get_info(ns)->block_size;
	size_t len = (size_t)count * nlb * bs;
	struct batch b = { .qp = qp, .ns = ns, .lba = lba, .count = count, .nlb = nlb,
			   .depth = depth };
	uint8_t *w = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	uint8_t *r = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	bool ok = false;
	char why[160];
	long bad;

	if (!w || !r) {
		itest_failf(__FILE__, __LINE__, "nvp_dma_alloc(%zu) failed", len);
		goto out;
	}
	pattern_fill(w, lba, count * nlb, bs, seed);
	b.buf = w;
	if (!batch_run(&b, true))
		goto out;
	if (out)
		*out = b;
	memset(r, 0, len);
	b.buf = r;
	if (!batch_run(&b, false))
		goto out;
	bad = pattern_check(r, lba, count * nlb, bs, seed, why, sizeof(why));
	if (bad >= 0) {
		itest_failf(__FILE__, __LINE__, "after %u I/Os of %u blocks: %s", count, nlb, why);
		goto out;
	}
	ok = true;
out:
	nvp_dma_free(w);
	nvp_dma_free(r);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Queue tests                                                              */
/* ------------------------------------------------------------------------ */

void test_queue_wrap(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	uint32_t qsize, count;
	struct batch b;

	CHECK(d);
	/* A small queue wraps often: phase flips and head/tail wrap many times. */
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	qsize = d->info->max_queue_entries < 32 ? d->info->max_queue_entries : 32;
	qo.queue_size = qsize;
	qo.num_requests = qsize - 1;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	count = (itest_cfg.quick ? 10 : 12) * qsize + 3;
	/* Depth between half and all of the queue moves the wrap point around. */
	CHECK(batch_write_verify(qp, d->ns[0], 2000, count, 1, qsize / 2 + 1,
				 itest_cfg.seed ^ 0x77, &b));
	CHECK(batch_write_verify(qp, d->ns[0], 2000 + count, count, 1, qsize - 1,
				 itest_cfg.seed ^ 0x78, &b));
	CHECK(nvp_qpair_outstanding(qp) == 0);
	itest_notef("queue size %u, 2 x %u writes + reads, max outstanding %u", qsize, count,
		    b.max_outstanding);
	CHECK(qpair_still_works(qp, d->ns[0], 2000));
out:
	nvp_qpair_free(qp);
}

/* Everything posted before any doorbell, then one flush, then one poll loop. */
void test_queue_deep(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	struct bslot *slots = NULL, extra;
	struct batch b = { 0 };
	uint8_t *w = NULL, *r = NULL;
	uint32_t q, n, bs, i;
	struct nvp_ns *ns;
	uint64_t lba = 3000, seed = itest_cfg.seed ^ 0xdee9;
	char why[160];
	int rc;

	CHECK(d);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	q = qo.queue_size;
	CHECKF(q >= 2 && q <= d->info->max_queue_entries, "default queue size %u (max %u)", q,
	       d->info->max_queue_entries);
	CHECKF(qo.num_requests == q - 1, "default num_requests %u, queue size %u",
	       qo.num_requests, q);
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	n = q - 1;
	w = nvp_dma_alloc((size_t)n * bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)n * bs, 0, NVP_NUMA_ANY);
	slots = calloc(n, sizeof(*slots));
	CHECK(w && r && slots);
	pattern_fill(w, lba, n, bs, seed);
	b.qp = qp;
	atomic_init(&b.done, 0);
	for (i = 0; i < n; i++) {
		io_cpl_init(&slots[i].c);
		slots[i].b = &b;
		rc = nvp_write(qp, ns, w + (size_t)i * bs, lba + i, 1, 0, batch_cb, &slots[i]);
		CHECKF(rc == 0, "write %u of %u with nothing reaped: %d (%s)", i, n, rc,
		       itest_errname(rc));
	}
	CHECKF(nvp_qpair_outstanding(qp) == n, "outstanding %u, expected %u",
	       nvp_qpair_outstanding(qp), n);
	/* The SQ holds q - 1 commands: it is full, and so is the request pool. */
	io_cpl_init(&extra.c);
	extra.b = &b;
	rc = nvp_write(qp, ns, w, lba, 1, 0, batch_cb, &extra);
	CHECKF(rc == -EAGAIN, "submission to a full queue: %d (%s), expected -EAGAIN", rc,
	       itest_errname(rc));
	CHECK(atomic_load(&b.done) == 0);
	nvp_qpair_flush(qp);
	rc = poll_until(qp, &b.done, (int)n);
	CHECKF(rc == 0, "completions for %u outstanding: %d (%s), %d done", n, rc,
	       itest_errname(rc), atomic_load(&b.done));
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	CHECKF(atomic_load(&b.done) == (int)n, "%d callbacks for %u writes",
	       atomic_load(&b.done), n);
	for (i = 0; i < n; i++)
		CHECKF(slots[i].c.status == 0, "write %u: %s", i, nvp_status_str(slots[i].c.status));

	/* The same depth for reads, every one into its own block of @r. */
	atomic_store(&b.done, 0);
	for (i = 0; i < n; i++) {
		io_cpl_init(&slots[i].c);
		rc = nvp_read(qp, ns, r + (size_t)i * bs, lba + i, 1, 0, batch_cb, &slots[i]);
		CHECKF(rc == 0, "read %u of %u: %d (%s)", i, n, rc, itest_errname(rc));
	}
	CHECK(nvp_qpair_outstanding(qp) == n);
	rc = poll_until(qp, &b.done, (int)n);
	CHECKF(rc == 0, "read completions: %d (%s)", rc, itest_errname(rc));
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	CHECK(atomic_load(&b.done) == (int)n);
	CHECKF(pattern_check(r, lba, n, bs, seed, why, sizeof(why)) < 0, "%s", why);
	CHECK(nvp_qpair_outstanding(qp) == 0);
	CHECK(atomic_load(&extra.c.calls) == 0);
	itest_notef("%u outstanding at once (queue size %u)", n, q);
out:
	/* Freeing aborts anything left, so @slots must outlive the qpair. */
	nvp_qpair_free(qp);
	free(slots);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

void test_queue_exhaustion(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo;
	struct bslot *slots = NULL;
	struct batch b = { 0 }, big;
	uint8_t *w = NULL;
	uint32_t nreq = 16, i, before, bs, m, split_nlb;
	struct nvp_ns *ns;
	struct io_cpl split;
	int rc;

	CHECK(d);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	m = nvp_ns_get_info(ns)->max_io_blocks;
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	qo.queue_size = d->info->max_queue_entries < 64 ? d->info->max_queue_entries : 64;
	qo.num_requests = nreq;
	CHECK(qo.queue_size > nreq);
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	split_nlb = 2 * m + 1;	/* three parts, four requests */
	w = nvp_dma_alloc((size_t)split_nlb * bs, 0, NVP_NUMA_ANY);
	slots = calloc(nreq + 1, sizeof(*slots));
	CHECK(w && slots);
	pattern_fill(w, 4000, split_nlb, bs, itest_cfg.seed);
	b.qp = qp;
	atomic_init(&b.done, 0);

	/* Fill the request pool without reaping anything. */
	for (i = 0; i <= nreq; i++) {
		io_cpl_init(&slots[i].c);
		slots[i].b = &b;
		rc = nvp_write(qp, ns, w + (size_t)i * bs % ((size_t)split_nlb * bs), 4000 + i, 1,
			       0, batch_cb, &slots[i]);
		if (rc)
			break;
	}
	CHECKF(rc == -EAGAIN, "submission %u with %u requests: %d (%s), expected -EAGAIN", i,
	       nreq, rc, itest_errname(rc));
	CHECKF(i == nreq, "-EAGAIN after %u submissions, the pool has %u", i, nreq);
	CHECK(nvp_qpair_outstanding(qp) == nreq);
	rc = poll_until(qp, &b.done, (int)nreq);
	CHECKF(rc == 0, "%d (%s)", rc, itest_errname(rc));
	for (i = 0; i < 16; i++)
		nvp_qpair_poll(qp, 0);
	CHECKF(atomic_load(&b.done) == (int)nreq, "%d callbacks for %u writes (the refused one must not call back)",
	       atomic_load(&b.done), nreq);
	for (i = 0; i < nreq; i++)
		CHECKF(atomic_load(&slots[i].c.calls) == 1 && slots[i].c.status == 0,
		       "write %u: %d callbacks, status %#x", i, atomic_load(&slots[i].c.calls),
		       slots[i].c.status);
	CHECK(atomic_load(&slots[nreq].c.calls) == 0);

	/* A split I/O needs all its requests up front, or it is not posted at all. */
	if (m > 0 && split_nlb > m) {
		atomic_store(&b.done, 0);
		for (i = 0; i < nreq - 2; i++) {
			io_cpl_init(&slots[i].c);
			CHECK_RC(nvp_read(qp, ns, w + (size_t)i * bs, 4000 + i, 1, 0, batch_cb,
					  &slots[i]), 0);
		}
		before = nvp_qpair_outstanding(qp);
		io_cpl_init(&split);
		rc = nvp_write(qp, ns, w, 4000, split_nlb, 0, io_cpl_cb, &split);
		CHECKF(rc == -EAGAIN, "split write needing 4 requests with 2 free: %d (%s)", rc,
		       itest_errname(rc));
		CHECK(nvp_qpair_outstanding(qp) == before);
		CHECK(poll_until(qp, &b.done, (int)nreq - 2) == 0);
		CHECK(atomic_load(&split.calls) == 0);
		pattern_fill(w, 4000, split_nlb, bs, itest_cfg.seed ^ 0x5);
		/* With the pool free again the same I/O goes through. */
		CHECK_RC(io_sync(qp, ns, IO_WRITE, w, 4000, split_nlb, 0, NULL), 0);
	}

	/* A long run with a depth above the pool: -EAGAIN is routine, nothing lost. */
	CHECK(batch_write_verify(qp, ns, 4000, itest_cfg.quick ? 100 : 400, 1, 4 * nreq,
				 itest_cfg.seed ^ 0xe4, &big));
	CHECKF(big.eagain > 0, "depth %u over %u requests never saw -EAGAIN", 4 * nreq, nreq);
	CHECKF(big.max_outstanding <= nreq, "%u outstanding with %u requests",
	       big.max_outstanding, nreq);
	itest_notef("%u x -EAGAIN in the long run", big.eagain);
out:
	nvp_qpair_free(qp);
	free(slots);
	nvp_dma_free(w);
}

/* ------------------------------------------------------------------------ */
/* Threads and controllers                                                  */
/* ------------------------------------------------------------------------ */

#define NTHREADS 4

struct worker {
	pthread_t tid;
	struct itest_dev *dev;
	struct nvp_ns *ns;
	uint64_t lba;
	uint32_t blocks;
	uint32_t nlb;
	uint64_t seed;
	pthread_barrier_t *start;
	bool ok;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct nvp_qpair *qp = NULL;
	int rc;

	/* Allocating from several threads at once goes through the admin lock. */
	rc = nvp_qpair_alloc(wk->dev->ctrl, NULL, &qp);
	if (rc)
		itest_failf(__FILE__, __LINE__, "qpair alloc in thread: %d (%s)", rc,
			    itest_errname(rc));
	pthread_barrier_wait(wk->start);
	if (qp)
		wk->ok = batch_write_verify(qp, wk->ns, wk->lba, wk->blocks / wk->nlb, wk->nlb,
					    16, wk->seed, NULL);
	nvp_qpair_free(qp);
	return NULL;
}

/* Run @n workers at once; returns true if all of them verified their data. */
static bool run_workers(struct worker *wk, int n)
{
	pthread_barrier_t start;
	bool ok = true;
	int i, started = 0;

	pthread_barrier_init(&start, NULL, (unsigned int)n);
	for (i = 0; i < n; i++) {
		wk[i].start = &start;
		wk[i].ok = false;
		if (pthread_create(&wk[i].tid, NULL, worker_main, &wk[i])) {
			itest_failf(__FILE__, __LINE__, "pthread_create failed");
			/* The barrier would never open: cannot continue safely. */
			abort();
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(wk[i].tid, NULL);
		ok = ok && wk[i].ok;
	}
	pthread_barrier_destroy(&start);
	return ok;
}

void test_threads_disjoint(void)
{
	struct itest_dev *d = itest_dev(0);
	struct worker wk[NTHREADS];
	struct nvp_qpair *qp = NULL;
	uint32_t blocks = itest_cfg.quick ? 64 : 512, bs, i;
	uint8_t *r = NULL;
	uint64_t base = 5000;
	char why[160];
	struct nvp_ns *ns;

	CHECK(d);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	CHECK(base + NTHREADS * (uint64_t)blocks <= nvp_ns_get_info(ns)->num_blocks);
	memset(wk, 0, sizeof(wk));
	for (i = 0; i < NTHREADS; i++) {
		wk[i].dev = d;
		wk[i].ns = ns;
		wk[i].lba = base + (uint64_t)i * blocks;
		wk[i].blocks = blocks;
		wk[i].nlb = 1 + i;	/* different sizes interleave differently */
		wk[i].blocks = blocks / wk[i].nlb * wk[i].nlb;
		wk[i].seed = itest_cfg.seed ^ (0x7417ull * (i + 1));
	}
	CHECK(run_workers(wk, NTHREADS));

	/* Every block again, from this thread: nobody overwrote a neighbour. */
	qp = qpair_alloc_default(d);
	CHECK(qp);
	r = nvp_dma_alloc((size_t)blocks * bs, 0, NVP_NUMA_ANY);
	CHECK(r);
	for (i = 0; i < NTHREADS; i++) {
		uint32_t done, n;

		for (done = 0; done < wk[i].blocks; done += n) {
			n = wk[i].blocks - done;
			if (n > nvp_ns_get_info(ns)->max_io_blocks)
				n = nvp_ns_get_info(ns)->max_io_blocks;
			CHECK_RC(io_sync(qp, ns, IO_READ, r, wk[i].lba + done, n, 0, NULL), 0);
			CHECKF(pattern_check(r, wk[i].lba + done, n, bs, wk[i].seed, why,
					     sizeof(why)) < 0, "thread %u's range: %s", i, why);
		}
	}
	itest_notef("%d threads x %u blocks", NTHREADS, blocks);
out:
	nvp_qpair_free(qp);
	nvp_dma_free(r);
}

void test_two_controllers(void)
{
	struct itest_dev *d0 = itest_dev(0), *d1 = itest_dev(1);
	struct worker wk[4];
	int i;

	CHECK(d0 && d1);
	memset(wk, 0, sizeof(wk));
	/* Two threads per controller, on different namespaces where there are. */
	for (i = 0; i < 4; i++) {
		struct itest_dev *d = i < 2 ? d0 : d1;

		wk[i].dev = d;
		wk[i].ns = d->ns[i % 2 < d->num_ns ? i % 2 : 0];
		wk[i].lba = 6000 + (uint64_t)(i % 2) * 1024;
		wk[i].nlb = 4;
		wk[i].blocks = itest_cfg.quick ? 128 : 1024;
		wk[i].seed = itest_cfg.seed ^ (0x2c0ull * (i + 1));
	}
	CHECK(run_workers(wk, 4));
	itest_notef("%s + %s", d0->info->addr, d1->info->addr);
out:
	return;
}

/* nvp_qpair_opts_init()'s queue size for this controller. */
static uint32_t default_queue_size(const struct itest_dev *d)
{
	struct nvp_qpair_opts qo;

	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	return qo.queue_size;
}

/* The qpair's counters follow what the test did, and never contradict. */
void test_queue_stats(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair_stats st, small;
	struct nvp_qpair *qp = NULL;
	const uint32_t n = 20;
	void *buf = NULL;
	uint32_t bs;

	CHECK(d);
	bs = nvp_ns_get_info(d->ns[0])->block_size;
	buf = nvp_dma_alloc(bs, 0, NVP_NUMA_ANY);
	CHECK(buf);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	for (uint32_t i = 0; i < n; i++)
		CHECK_RC(io_sync(qp, d->ns[0], IO_READ, buf, 4000 + i, 1, 0, NULL), 0);
	nvp_qpair_get_stats(qp, &st, sizeof(st));
	CHECK(st.stats_size == sizeof(st));
	CHECKF(st.submitted == n && st.completed == n, "submitted %llu completed %llu",
	       (unsigned long long)st.submitted, (unsigned long long)st.completed);
	/* One command at a time: one SQ doorbell update per command. */
	CHECK(st.sq_doorbell_writes == n);
	/*
	 * With room for a CQ twice the default queue size, the CQ has at least
	 * a queue's worth of slack: 20 completions need no head doorbell yet.
	 */
	if (d->info->max_queue_entries >= 2 * default_queue_size(d))
		CHECKF(st.cq_doorbell_writes == 0, "%llu CQ head doorbell writes",
		       (unsigned long long)st.cq_doorbell_writes);
	CHECK(st.cq_doorbell_writes <= n);
	CHECK(st.sq_doorbell_mmio <= st.sq_doorbell_writes);
	CHECK(st.cq_doorbell_mmio <= st.cq_doorbell_writes);
	/* Without shadow doorbells every update is an MMIO write. */
	if (!d->info->shadow_doorbells)
		CHECK(st.sq_doorbell_mmio == n && st.cq_doorbell_mmio == st.cq_doorbell_writes);
	CHECK(st.polls >= n && st.empty_polls <= st.polls);
	CHECK(st.bad_completions == 0 && st.timeouts == 0);
	/* An older, shorter struct gets only what it has room for. */
	memset(&small, 0xa5, sizeof(small));
	nvp_qpair_get_stats(qp, &small, offsetof(struct nvp_qpair_stats, completed));
	CHECK(small.submitted == n && small.completed == 0xa5a5a5a5a5a5a5a5ull);
	itest_notef("%llu polls (%llu empty); SQ doorbell %llu updates, %llu MMIO; "
		    "CQ doorbell %llu updates, %llu MMIO",
		    (unsigned long long)st.polls, (unsigned long long)st.empty_polls,
		    (unsigned long long)st.sq_doorbell_writes,
		    (unsigned long long)st.sq_doorbell_mmio,
		    (unsigned long long)st.cq_doorbell_writes,
		    (unsigned long long)st.cq_doorbell_mmio);
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
}
