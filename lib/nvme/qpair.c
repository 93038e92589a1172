/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/qpair.c - queue pairs: rings and request pools, the completion
 * loop, command timeouts, and the public qpair calls.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"
#include "nvme/nvme.h"
#include "nvme/payload.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "nvme/regs.h"
#include "util/log.h"
#include "util/opts.h"
#include "util/tsc.h"
#include "util/wire.h"

/* Rings above 2 MiB would not be bus-contiguous in physical-address modes. */
#define NVP_QUEUE_MAX_ENTRIES 32768u

/*
 * Read the clock for the timeout scan once per this many polls. A poll
 * costs tens of nanoseconds, so a timeout is noticed microseconds late at
 * worst, unless the application polls rarely, and then it is late by
 * that many of its polls.
 */
#define NVP_POLLS_PER_CLOCK 64u

/* Scans a command must outlive to have been outstanding a whole timeout. */
#define NVP_TIMEOUT_SCANS 4u

static uint32_t round_up_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/*
 * Seeded with what the controller was last told, not with the ring's
 * current tail: after a reset, re-posted commands wait beyond rung_tail,
 * and an event index already at the tail would spare the MMIO write that
 * makes the controller fetch them.
 */
void nvp_qpair_init_doorbells(struct nvp_qpair *qp)
{
	if (qp->tcp) {
		nvp_tcp_qpair_doorbells(qp);
		return;
	}
	nvp_dbbuf_attach(qp->ctrl, &qp->sq.db, 2u * qp->sq.qid, qp->is_admin, qp->sq.rung_tail);
	nvp_dbbuf_attach(qp->ctrl, &qp->cq.db, 2u * qp->sq.qid + 1, qp->is_admin,
			 qp->cq.rung_head);
}

static int setup_request_lists(struct nvp_qpair *qp, int numa_node)
{
	uint32_t max_segs = qp->page_size / sizeof(struct nvp_sgl_desc);
	size_t bytes = nvp_payload_list_bytes(qp->max_xfer, qp->page_size, max_segs);
	size_t stride = round_up_pow2((uint32_t)bytes);
	uint8_t *mem;

	/* A power-of-two stride no larger than a hugepage keeps every list
	 * inside one hugepage, hence bus-contiguous in every mode. */
	if (stride < qp->page_size)
		stride = qp->page_size;
	mem = nvp_dma_alloc(stride * qp->num_reqs, stride, numa_node);
	if (!mem)
		return nvp_error(-ENOMEM, "cannot allocate %zu bytes of PRP/SGL list memory for "
				 "queue %u; reserve more hugepages or lower num_requests",
				 stride * qp->num_reqs, qp->sq.qid);
	qp->list_mem = mem;
	for (uint32_t i = 0; i < qp->num_reqs; i++) {
		struct nvp_req *req = &qp->reqs[i];
		size_t contig;

		req->list.va = mem + i * stride;
		req->list.bytes = bytes;
		/* Over TCP nothing is translated: the list is sent from its VA. */
		if (qp->tcp)
			continue;
		if (nvp_mem_lookup(req->list.va, &req->list.iova, &contig) || contig < bytes)
			return nvp_error(-EFAULT, "PRP list memory of queue %u is not "
					 "bus-contiguous; this is a bug in nvpoll's "
					 "allocator", qp->sq.qid);
	}
	return 0;
}

/*
 * DMA memory for one ring: at most 2 MiB, so bus-contiguous in every mode.
 * Over TCP nothing but this process touches the rings: ordinary memory.
 */
static void *alloc_ring(struct nvp_ctrl *ctrl, uint16_t qid, size_t bytes, int numa_node,
			uint64_t *iova, int *rc)
{
	void *mem;
	size_t contig;

	if (ctrl->tcp) {
		mem = NULL;
		if (posix_memalign(&mem, 4096, bytes) || !mem) {
			*rc = nvp_error(-ENOMEM, "out of memory for queue %u's rings", qid);
			return NULL;
		}
		memset(mem, 0, bytes);
		*iova = 0;
		return mem;
	}
	mem = nvp_dma_alloc(bytes, ctrl->page_size, numa_node);

	if (!mem) {
		*rc = nvp_error(-ENOMEM, "cannot allocate %zu bytes of queue memory for queue %u; "
				"reserve more hugepages (%s)", bytes, qid, nvp_mem_hugepage_hint());
		return NULL;
	}
	if (nvp_mem_lookup(mem, iova, &contig) || contig < bytes) {
		nvp_dma_free(mem);
		*rc = nvp_error(-EFAULT, "queue memory for queue %u is not bus-contiguous", qid);
		return NULL;
	}
	return mem;
}

/*
 * An I/O SQ in the CMB: the controller fetches from there; the host ring
 * stays, commands are built in it and copied over at the doorbell.
 */
static int place_sq_in_cmb(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, uint32_t entries)
{
	size_t bytes = (size_t)entries * sizeof(struct nvp_sqe);

	if (!nvp_cmb_sq_alloc(ctrl, bytes, &qp->sq.cmb_ring, &qp->sq.iova)) {
		qp->sq.ring_fn = nvp_cmb_ring;
		return 0;
	}
	if (ctrl->opts.cmb_sqs == NVP_CMB_SQS_REQUIRE)
		return nvp_error(-ENOSPC, "%s: no room left in the %llu KiB CMB for queue %u's %zu-byte "
				 "submission queue (cmb_sqs=require); free queue pairs or ask for fewer entries",
				 ctrl->info.addr, (unsigned long long)(ctrl->cmb.size >> 10),
				 qp->sq.qid, bytes);
	nvp_debug("%s: the CMB is full: queue %u's SQ goes to host memory", ctrl->info.addr,
		  qp->sq.qid);
	return 0;
}

int nvp_qpair_setup(struct nvp_ctrl *ctrl, uint16_t qid, uint32_t sq_entries,
		    uint32_t cq_entries, uint32_t num_reqs, int numa_node,
		    struct nvp_qpair **qpair)
{
	struct nvp_qpair *qp;
	int rc = 0;

	/* Doorbells live in BAR0: a queue whose doorbells lie past it is unusable. */
	if (ctrl->dev && NVP_REG_DBS + (2u * qid + 2) * ctrl->db_stride > ctrl->dev->bar0_size)
		return nvp_error(-ENXIO, "queue %u's doorbells lie beyond BAR0 (%zu bytes, "
				 "doorbell stride %u)", qid, ctrl->dev->bar0_size, ctrl->db_stride);
	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return nvp_error(-ENOMEM, "out of memory allocating queue pair %u", qid);
	qp->ctrl = ctrl;
	qp->is_admin = qid == 0;
	qp->page_size = ctrl->page_size;
	/* The admin queue is set up before Identify tells MDTS: its lists are
	 * sized for what admin commands move (submission checks MDTS too). */
	qp->max_xfer = qid == 0 ? NVP_ADMIN_MAX_XFER : ctrl->max_xfer;
	qp->sgl_supported = ctrl->info.sgl_supported;
	qp->num_reqs = num_reqs;
	qp->owner = pthread_self();
	qp->polls_to_clock = NVP_POLLS_PER_CLOCK;	/* never 0: it counts down */
	/*
	 * At most num_reqs completions are ever owed, so a CQ with more
	 * entries than that can hold the difference in consumed entries the
	 * controller has not been told about: the head doorbell is written
	 * only when that slack runs out, and the CQ can never look full.
	 */
	qp->cq_db_slack = cq_entries - 1 - num_reqs;
	if (ctrl->tcp && (rc = nvp_tcp_qpair_init(qp)) != 0)
		goto err;

	qp->sq_mem = alloc_ring(ctrl, qid, (size_t)sq_entries * sizeof(struct nvp_sqe), numa_node,
			     &qp->sq.iova, &rc);
	if (!qp->sq_mem)
		goto err;
	qp->cq_mem = alloc_ring(ctrl, qid, (size_t)cq_entries * sizeof(struct nvp_cqe),
				numa_node, &qp->cq.iova, &rc);
	if (!qp->cq_mem)
		goto err;
	qp->sq.ring = qp->sq_mem;
	qp->cq.ring = qp->cq_mem;
	qp->sq.entries = (uint16_t)sq_entries;
	qp->cq.entries = (uint16_t)cq_entries;
	qp->sq.qid = qid;
	if (qid && ctrl->cmb.use_sqs) {
		rc = place_sq_in_cmb(ctrl, qp, sq_entries);
		if (rc)
			goto err;
	}
	qp->cq.phase = 1;
	nvp_qpair_init_doorbells(qp);

	qp->reqs = calloc(num_reqs, sizeof(*qp->reqs));
	if (!qp->reqs) {
		rc = nvp_error(-ENOMEM, "out of memory allocating %u requests", num_reqs);
		goto err;
	}
	/* TCP requests keep their data's pieces instead (tcp.c); an I/O queue's
	 * still need list memory for the range lists of DSM and Copy, which
	 * are built in the library and sent as the command's data. */
	rc = qp->tcp && qp->is_admin ? 0 : setup_request_lists(qp, numa_node);
	if (rc)
		goto err;
	if (!qp->is_admin) {
		qp->reset_scratch = nvp_reset_scratch_new(num_reqs);
		if (!qp->reset_scratch) {
			rc = nvp_error(-ENOMEM, "out of memory allocating %u requests", num_reqs);
			goto err;
		}
	}
	qp->cid_index_mask = (uint16_t)(round_up_pow2(num_reqs) - 1);
	/* Build the free list so that CID 0 comes out first. */
	for (uint32_t i = num_reqs; i-- > 0;) {
		qp->reqs[i].cid = (uint16_t)i;
		qp->reqs[i].next_free = qp->free_reqs;
		qp->free_reqs = &qp->reqs[i];
	}
	*qpair = qp;
	return 0;
err:
	nvp_qpair_teardown(qp);
	return rc;
}

void nvp_qpair_teardown(struct nvp_qpair *qp)
{
	if (!qp)
		return;
	nvp_dma_free(qp->list_mem);
	if (qp->tcp) {
		free(qp->cq_mem);
		free(qp->sq_mem);
		nvp_tcp_qpair_fini(qp);
	} else {
		nvp_dma_free(qp->cq_mem);
		nvp_dma_free(qp->sq_mem);
	}
	if (qp->sq.cmb_ring)
		nvp_cmb_sq_free(qp->ctrl, qp->sq.cmb_ring,
				(size_t)qp->sq.entries * sizeof(struct nvp_sqe));
	nvp_reset_scratch_free(qp->reset_scratch);
	free(qp->reqs);
	free(qp);
}

/*
 * One part of a split command is done. The whole completes with the first
 * failing part's completion, or else the last part's, copied to the stack
 * first: the parent goes back to the pool before the callback, which may
 * reuse it for its next command while still reading its @cpl.
 */
static void __attribute__((noinline)) complete_part(struct nvp_qpair *qp, struct nvp_req *req,
						     const struct nvp_cqe *cpl)
{
	struct nvp_req *parent = req->parent;
	struct nvp_cqe whole;
	nvp_cmd_cb cb;
	void *arg;

	if (__builtin_expect(req->fused != 0, 0))
		nvp_fused_note(parent, req, cpl);	/* a fused pair: request.h */
	else if (!NVP_CPL_IS_ERROR(&parent->cpl))
		parent->cpl = *cpl;
	nvp_req_put(qp, req);
	if (--parent->parts_left)
		return;
	whole = parent->cpl;
	cb = parent->cb;
	arg = parent->arg;
	nvp_req_put(qp, parent);
	cb(arg, &whole);
}

/* Deliver a completion for @req: a whole command, or one part of a split. */
static inline void complete_request(struct nvp_qpair *qp, struct nvp_req *req,
				    const struct nvp_cqe *cpl)
{
	struct nvp_req *parent = req->parent;
	nvp_cmd_cb cb;
	void *arg;

	if (__builtin_expect(parent != NULL, 0)) {
		complete_part(qp, req, cpl);
		return;
	}
	/* Free before the callback, so it can submit the next command. */
	cb = req->cb;
	arg = req->arg;
	nvp_req_put(qp, req);
	cb(arg, cpl);
}

void nvp_qpair_complete(struct nvp_qpair *qp, struct nvp_req *req, const struct nvp_cqe *cpl)
{
	complete_request(qp, req, cpl);
}

/*
 * A completion whose CID is out of range, free, or of an earlier use:
 * a broken or hostile device, or a late answer. Consume it, never act on
 * it, and keep the log readable if a device floods us with them.
 */
static void __attribute__((noinline, cold)) ignore_bad_cqe(struct nvp_qpair *qp,
							    const struct nvp_cqe *cpl)
{
	qp->bad_cqes++;
	if (qp->bad_cqes <= 8 || !(qp->bad_cqes & (qp->bad_cqes - 1)))
		nvp_warn("queue %u: ignoring completion for CID %u, which is not outstanding "
			 "(status 0x%04x; %llu such so far): the controller sent a bad, "
			 "duplicate or late completion", qp->sq.qid, cpl->cid, cpl->status,
			 (unsigned long long)qp->bad_cqes);
}

/*
 * An I/O command aborted because its SQ was deleted, while the queue pair
 * is not being freed: a reset deletes the queues before it disables the
 * controller (reset.c). Not an answer for the application: the request
 * stays in flight, and the queue pair posts it again after the reset.
 */
static bool __attribute__((noinline, cold)) deleted_under_us(const struct nvp_qpair *qp,
							     const struct nvp_cqe *cpl)
{
	return !qp->is_admin && qp->state != NVP_QP_CLOSING &&
	       NVP_STATUS_SCT(cpl->status) == NVP_SCT_GENERIC &&
	       NVP_STATUS_SC(cpl->status) == NVP_SC_ABORT_SQ_DELETED;
}

int nvp_qpair_process(struct nvp_qpair *qp, uint32_t max)
{
	struct nvp_cq *cq = &qp->cq;
	volatile struct nvp_cqe *cqe;
	uint32_t n = 0;

	while (n < max && (cqe = nvp_cq_peek(cq)) != NULL) {
		struct nvp_cqe cpl;
		struct nvp_req *req;
		uint32_t idx;

		nvp_cqe_from_wire(&cpl, (const struct nvp_cqe *)cqe);
		nvp_cq_advance(cq);
		__builtin_prefetch(&cq->ring[cq->head]);
		n++;
		/* The CID comes from the device: check it before trusting it. */
		idx = cpl.cid & qp->cid_index_mask;
		req = &qp->reqs[idx];
		if (__builtin_expect(idx >= qp->num_reqs, 0) ||
		    __builtin_expect(req->state != NVP_REQ_INFLIGHT, 0) ||
		    __builtin_expect(req->cid != cpl.cid, 0)) {
			ignore_bad_cqe(qp, &cpl);
			continue;
		}
		/* Status bits past the phase: an error, checked off the hot path. */
		if (__builtin_expect((cpl.status & ~1u) != 0, 0) && deleted_under_us(qp, &cpl))
			continue;
		complete_request(qp, req, &cpl);
	}
	qp->completed += n;
	qp->cq_unreported += n;
	if (qp->cq_unreported > qp->cq_db_slack) {
		nvp_cq_ring(cq);
		qp->cq_unreported = 0;
	}
	/* One SQ doorbell per poll, covering commands posted by callbacks too. */
	nvp_sq_ring(&qp->sq);
	return (int)n;
}

void nvp_qpair_fail_all(struct nvp_qpair *qp, uint16_t status)
{
	struct nvp_cqe cpl = { .sqid = qp->sq.qid, .status = status };

	for (uint32_t i = 0; i < qp->num_reqs; i++) {
		struct nvp_req *req = &qp->reqs[i];

		if (req->state != NVP_REQ_INFLIGHT)
			continue;
		cpl.cid = req->cid;
		complete_request(qp, req, &cpl);
	}
	/* The ring is dead: start clean if the queue is ever reused. */
	qp->sq.rung_tail = qp->sq.tail;
}

/*
 * Linux's policy (nvme_timeout()): a vanished controller ends everything
 * and a fatal one is reset; otherwise abort the command; if the abort does
 * not resolve it in another timeout period, reset the controller (reset.c),
 * the only way to be sure it will not DMA into a buffer we gave back.
 */
int nvp_qpair_check_timeouts(struct nvp_qpair *qp)
{
	struct nvp_ctrl *ctrl = qp->ctrl;
	uint64_t now = nvp_ticks();
	int rc;

	/*
	 * Scans are at least a quarter timeout apart, so a command posted
	 * before scan N + 1 and still here after scan N + 1 + 4 has been
	 * outstanding for at least a whole timeout: never early, at most a
	 * quarter late.
	 */
	qp->next_timeout_check = now + qp->timeout_ticks / NVP_TIMEOUT_SCANS;
	qp->timeout_scans++;
	for (uint32_t i = 0; i < qp->num_reqs; i++) {
		struct nvp_req *req = &qp->reqs[i];
		uint8_t abort_state;

		if (req->state != NVP_REQ_INFLIGHT ||
		    qp->timeout_scans - req->posted_scan <= NVP_TIMEOUT_SCANS)
			continue;
		/*
		 * Whatever the Abort answered, only the command's own completion
		 * or a reset ends it: "not aborted" does not mean "gone" (a
		 * command still waiting in the SQ runs later), so completing it
		 * here could let the device DMA into a buffer handed back.
		 */
		abort_state = atomic_load_explicit(&req->abort, memory_order_acquire);
		if (abort_state == NVP_ABORT_NONE) {
			/* A fatal controller is reset, a gone one failed: either way
			 * the next poll deals with what this queue pair holds. */
			rc = nvp_ctrl_check_health(ctrl);
			if (rc || atomic_load(&ctrl->gen) != qp->gen)
				return atomic_load(&ctrl->failed);
			nvp_warn("queue %u: command %u (opcode 0x%02x) timed out; aborting it",
				 qp->sq.qid, req->cid, req->opc);
			qp->timeouts++;
			atomic_store(&req->abort, NVP_ABORT_SENT);
			req->posted_scan = qp->timeout_scans;	/* the Abort gets a timeout too */
			if (nvp_admin_abort(ctrl, qp, req) < 0)
				atomic_store(&req->abort, NVP_ABORT_FAILED);
			continue;
		}
		/* Aborted but never completed, Abort lost or refused: reset. The
		 * next poll sees the reset and re-posts or ends what is here. */
		{
			char why[128];

			snprintf(why, sizeof(why), "command %u (opcode 0x%02x) on queue %u timed "
				 "out and aborting it did not resolve it", req->cid, req->opc,
				 qp->sq.qid);
			nvp_ctrl_escalate(ctrl, why);
		}
		rc = atomic_load(&ctrl->failed);
		return rc;
	}
	return 0;
}

/* ---- public API --------------------------------------------------------- */

void nvp_qpair_opts_init(const struct nvp_ctrl *ctrl, struct nvp_qpair_opts *opts,
			 size_t opts_size)
{
	struct nvp_qpair_opts def = { 0 };
	uint32_t mqes = ctrl ? ctrl->info.max_queue_entries : NVP_DEFAULT_IO_QUEUE_SIZE;

	def.opts_size = opts_size;
	def.queue_size = mqes < NVP_DEFAULT_IO_QUEUE_SIZE ? mqes : NVP_DEFAULT_IO_QUEUE_SIZE;
	def.num_requests = def.queue_size - 1;
	def.max_completions = def.queue_size / 2;
	def.numa_node = NVP_NUMA_ANY;
	if (!opts)
		return;
	memcpy(opts, &def, opts_size < sizeof(def) ? opts_size : sizeof(def));
}

/* Copy what the caller's (possibly older, smaller) struct holds over defaults. */
static int qpair_opts_merge(const struct nvp_ctrl *ctrl, const struct nvp_qpair_opts *in,
			    struct nvp_qpair_opts *out)
{
	int n;

	nvp_qpair_opts_init(ctrl, out, sizeof(*out));
	if (!in)
		return 0;
	n = nvp_opts_overlay(out, sizeof(*out), in, "nvp_qpair_opts", "nvp_qpair_opts_init");
	if (n < 0)
		return n;
	/* Defaults of fields the caller's struct lacks follow its queue size. */
	if ((size_t)n < offsetof(struct nvp_qpair_opts, num_requests) + sizeof(out->num_requests))
		out->num_requests = out->queue_size - 1;
	if ((size_t)n < offsetof(struct nvp_qpair_opts, max_completions) + sizeof(out->max_completions))
		out->max_completions = out->queue_size / 2;
	return 0;
}

static int alloc_qid(struct nvp_ctrl *ctrl)
{
	/*
	 * The lowest free ID; over NVMe/TCP the next free one after the last
	 * given out instead: a target tears a closed queue down in the
	 * background, and Linux's refuses a Connect to an ID it still holds.
	 */
	uint32_t start = ctrl->tcp ? ctrl->last_qid : 0;

	for (uint32_t i = 0; i < ctrl->num_io_queues; i++) {
		uint32_t qid = (start + i) % ctrl->num_io_queues + 1;

		if (!ctrl->qid_used[qid]) {
			ctrl->qid_used[qid] = true;
			ctrl->last_qid = qid;
			return (int)qid;
		}
	}
	return nvp_error(-EBUSY, "all %u I/O queues the controller %s granted are in use; "
			 "free a queue pair, or share one per thread (the controller "
			 "decides how many it grants: see Set Features Number of Queues)",
			 ctrl->num_io_queues, ctrl->info.addr);
}

int nvp_qpair_alloc(struct nvp_ctrl *ctrl, const struct nvp_qpair_opts *user_opts,
		    struct nvp_qpair **qpair)
{
	struct nvp_qpair_opts opts;
	struct nvp_qpair *qp = NULL;
	uint32_t max_entries, cq_entries;
	int qid, rc, node;

	if (!ctrl || !qpair)
		return nvp_error(-EINVAL, "nvp_qpair_alloc: ctrl and qpair must not be NULL");
	if ((rc = atomic_load(&ctrl->failed)) != 0)
		return nvp_error(rc, "controller %s has %s; free its queue pairs and detach it",
				 ctrl->info.addr, rc == -ENODEV ? "been removed" : "failed");
	if ((rc = qpair_opts_merge(ctrl, user_opts, &opts)) < 0)
		return rc;
	max_entries = ctrl->info.max_queue_entries;
	if (max_entries > NVP_QUEUE_MAX_ENTRIES)
		max_entries = NVP_QUEUE_MAX_ENTRIES;
	if (opts.queue_size < 2 || opts.queue_size > max_entries)
		return nvp_error(-EINVAL, "queue_size %u is out of range: this controller "
				 "allows 2..%u entries (CAP.MQES+1)", opts.queue_size,
				 max_entries);
	if (opts.num_requests == 0 || opts.num_requests > opts.queue_size - 1)
		return nvp_error(-EINVAL, "num_requests %u is out of range 1..%u (one less "
				 "than queue_size, so the SQ can never overflow)",
				 opts.num_requests, opts.queue_size - 1);
	if (opts.max_completions == 0)
		opts.max_completions = opts.queue_size / 2;
	node = opts.numa_node == NVP_NUMA_ANY ? ctrl->info.numa_node : opts.numa_node;
	if (node != NVP_NUMA_ANY && (rc = nvp_mem_numa_node_valid(node)) < NVP_NUMA_ANY)
		return nvp_error(rc, "queue pair option numa_node: %s", nvp_last_error());

	nvp_admin_lock(ctrl);
	qid = alloc_qid(ctrl);
	nvp_admin_unlock(ctrl);
	if (qid < 0)
		return qid;

	/* A CQ up to twice the SQ lets the head doorbell be written lazily. */
	cq_entries = 2 * opts.queue_size < max_entries ? 2 * opts.queue_size : max_entries;
	rc = nvp_qpair_setup(ctrl, (uint16_t)qid, opts.queue_size, cq_entries, opts.num_requests,
			     node, &qp);
	if (rc)
		goto err_qid;
	qp->max_completions = opts.max_completions;
	qp->max_retries = ctrl->opts.io_retries > 255 ? 255 : (uint8_t)ctrl->opts.io_retries;
	if (ctrl->opts.io_timeout_ms)
		qp->timeout_ticks = (uint64_t)ctrl->opts.io_timeout_ms * nvp_ticks_per_ms();
	qp->next_timeout_check = nvp_ticks() + qp->timeout_ticks / NVP_TIMEOUT_SCANS;
	rc = nvp_qpair_connect(qp);
	if (rc)
		goto err_setup;
	nvp_admin_lock(ctrl);
	ctrl->num_qpairs++;
	nvp_admin_unlock(ctrl);
	*qpair = qp;
	return 0;
err_setup:
	nvp_qpair_teardown(qp);
err_qid:
	nvp_admin_lock(ctrl);
	ctrl->qid_used[qid] = false;
	nvp_admin_unlock(ctrl);
	return rc;
}

/*
 * A reset that has started (RESETTING) but not yet disabled the controller
 * (the generation moves only after CSTS.RDY=0) leaves the device running
 * this queue pair's commands: reads still write their buffers, writes still
 * read theirs. Wait until it is past that point, as the reset lock is held
 * for the whole reset. Not from inside the reset itself, nor with the admin
 * lock held (the reset needs it): there the caller deletes or gives up.
 */
static void wait_for_running_reset(struct nvp_ctrl *ctrl, const struct nvp_qpair *qp)
{
	if (nvp_ctrl_resetting_here(ctrl) || nvp_admin_held(ctrl))
		return;
	while (qp->gen == atomic_load(&ctrl->gen) &&
	       atomic_load(&ctrl->state) == NVP_CTRL_RESETTING) {
		pthread_mutex_lock(&ctrl->reset_lock);
		pthread_mutex_unlock(&ctrl->reset_lock);
	}
}

void nvp_qpair_free(struct nvp_qpair *qp)
{
	struct nvp_ctrl *ctrl;
	int state;

	if (!qp)
		return;
	ctrl = qp->ctrl;
	/* From here on the callbacks below may not post: their commands could
	 * never complete. */
	qp->state = NVP_QP_CLOSING;
	wait_for_running_reset(ctrl, qp);
	/*
	 * Delete on the device first: after that it cannot touch our memory.
	 * If the controller was reset (stopped) since the queues were created
	 * they no longer exist; if deleting fails, a reset makes sure of it.
	 * Freed from inside a reset that has not stopped the controller yet
	 * (an event callback), the queues still run: delete them too (the
	 * resetting thread's admin commands pass).
	 */
	state = atomic_load(&ctrl->state);
	if (qp->gen == atomic_load(&ctrl->gen) &&
	    (state == NVP_CTRL_LIVE ||
	     (state == NVP_CTRL_RESETTING && nvp_ctrl_resetting_here(ctrl))) &&
	    nvp_admin_delete_io_queues(ctrl, qp) && qp->gen == atomic_load(&ctrl->gen)) {
		char why[600];

		snprintf(why, sizeof(why), "deleting I/O queue %u failed (%s); the controller "
			 "is reset so that it cannot use the queue's memory", qp->sq.qid,
			 nvp_last_error());
		nvp_ctrl_escalate(ctrl, why);
	}
	qp->gen |= NVP_GEN_BEHIND;	/* no doorbell for a deleted queue */
	nvp_qpair_fail_all(qp, NVP_STATUS_HOST_ABORTED);
	nvp_admin_forget_aborts(ctrl, qp);
	nvp_admin_lock(ctrl);
	ctrl->qid_used[qp->sq.qid] = false;
	ctrl->num_qpairs--;
	nvp_admin_unlock(ctrl);
	nvp_qpair_teardown(qp);
}

void nvp_qpair_set_owner(struct nvp_qpair *qp)
{
	if (qp)
		qp->owner = pthread_self();
}

static int __attribute__((noinline, cold)) poll_refused(struct nvp_qpair *qp)
{
	if (!qp)
		return nvp_error(-EINVAL, "nvp_qpair_poll: queue pair is NULL");
	return nvp_error(-EXDEV, "queue pair %u polled from a thread that does not own "
			 "it; use one qpair per thread, or hand it over with "
			 "nvp_qpair_set_owner()", qp->sq.qid);
}

int nvp_qpair_poll(struct nvp_qpair *qp, uint32_t max)
{
	int n;

	if (__builtin_expect(!qp, 0))
		return poll_refused(qp);
#ifdef NVP_DEBUG
	if (!pthread_equal(qp->owner, pthread_self()))
		return poll_refused(qp);
#endif
	/* A reset or failure since the last poll (reconnect.c). */
	if (__builtin_expect(atomic_load_explicit(&qp->ctrl->gen, memory_order_relaxed) !=
			     qp->gen, 0))
		return nvp_qpair_resync(qp);
	/* NVMe/TCP: take in what the socket holds first (tcp.c); a lost
	 * connection is a reset, which reconnects. */
	if (__builtin_expect(qp->tcp != NULL, 0) && nvp_tcp_qpair_pump(qp))
		return nvp_qpair_lost(qp);
	/*
	 * The idle poll, most polls at low queue depth: no new entry and no
	 * posted command waiting for its doorbell. Kept out of the reaping
	 * loop, whose register saves cost more than this whole check.
	 */
	if (!nvp_cq_ready(&qp->cq) && qp->sq.tail == qp->sq.rung_tail)
		n = 0;
	else
		n = nvp_qpair_process(qp, max ? max : qp->max_completions);
	/* A branch, not "+= n == 0": GCC paired that with polls++ into SSE
	 * shuffles, which QEMU's TCG runs as helper calls, on every poll. */
	qp->polls++;
	if (n == 0)
		qp->empty_polls++;
	if (__builtin_expect(qp->timeout_ticks != 0, 1) && qp->outstanding &&
	    __builtin_expect(--qp->polls_to_clock == 0, 0)) {
		qp->polls_to_clock = NVP_POLLS_PER_CLOCK;
		if (nvp_ticks() >= qp->next_timeout_check) {
			int rc = nvp_qpair_check_timeouts(qp);

			if (rc)
				return nvp_qpair_resync(qp);
		}
	}
	return n;
}

void nvp_qpair_flush(struct nvp_qpair *qp)
{
	/* Never a doorbell for queues a reset or removal took away: a queue
	 * pair that is not connected has NVP_GEN_BEHIND set, never equal. */
	if (qp && atomic_load_explicit(&qp->ctrl->gen, memory_order_relaxed) == qp->gen)
		nvp_sq_ring(&qp->sq);
}

enum nvp_qpair_conn nvp_qpair_conn_state(const struct nvp_qpair *qp)
{
	if (!qp)
		return NVP_QPAIR_FAILED;
	switch (qp->state) {
	case NVP_QP_ENABLED: return NVP_QPAIR_CONNECTED;
	case NVP_QP_DISCONNECTED: return NVP_QPAIR_RECONNECTING;
	default: return NVP_QPAIR_FAILED;
	}
}

uint32_t nvp_qpair_outstanding(const struct nvp_qpair *qp)
{
	return qp ? qp->outstanding : 0;
}

uint16_t nvp_qpair_id(const struct nvp_qpair *qp)
{
	return qp ? qp->sq.qid : 0;
}

void nvp_qpair_get_stats(const struct nvp_qpair *qp, struct nvp_qpair_stats *stats,
			 size_t stats_size)
{
	struct nvp_qpair_stats s = { .stats_size = sizeof(s) };

	if (!stats)
		return;
	if (qp) {
		s.submitted = qp->submitted;
		s.completed = qp->completed;
		s.polls = qp->polls;
		s.empty_polls = qp->empty_polls;
		s.sq_doorbell_writes = qp->sq.db.writes;
		s.sq_doorbell_mmio = qp->sq.db.mmio_writes;
		s.cq_doorbell_writes = qp->cq.db.writes;
		s.cq_doorbell_mmio = qp->cq.db.mmio_writes;
		s.bad_completions = qp->bad_cqes;
		s.timeouts = qp->timeouts;
		s.retried = qp->retried;
		s.reset_aborted = qp->reset_aborted;
		s.reconnects = qp->reconnects;
	}
	memcpy(stats, &s, stats_size < sizeof(s) ? stats_size : sizeof(s));
}
