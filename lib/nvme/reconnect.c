/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/reconnect.c - what a queue pair does when its controller was
 * reset or failed, on its owner's thread, at its next poll (see the diagram
 * in reset.c). Nothing here runs on the I/O fast path: nvp_qpair_poll()
 * comes here only when the controller's generation moved.
 *
 * After a reset the queue pair's SQ and CQ no longer exist on the
 * controller, which has stopped (the generation moves only after CC.EN=0
 * and CSTS.RDY=0). Commands that were in flight are posted again on the
 * re-created queue, oldest first, when their SQE is still intact in the
 * ring and they have retries left; the others complete with Host Aborted
 * Command, DNR clear (retryable). Commands submitted meanwhile wait in the
 * ring and go out with the first doorbell after the queues exist again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/nvme.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "util/log.h"

void nvp_qpair_reset_rings(struct nvp_qpair *qp)
{
	qp->sq.tail = 0;
	qp->sq.rung_tail = 0;
	qp->cq.head = 0;
	qp->cq.rung_head = 0;
	qp->cq.phase = 1;
	/* Old entries carry either phase; a new queue must see none as new. */
	memset(qp->cq.ring, 0, (size_t)qp->cq.entries * sizeof(*qp->cq.ring));
	qp->cq_unreported = 0;
	if (qp->tcp)
		nvp_tcp_qpair_reset(qp);
	nvp_qpair_init_doorbells(qp);
}

struct nvp_retry {
	uint32_t age;	/* how many slots before the old tail: larger = older */
	uint32_t idx;	/* request index */
};

/* Scratch for disconnect(), allocated with the queue pair: a reset must
 * not depend on malloc. */
struct nvp_reset_scratch {
	struct nvp_retry *keep;
	struct nvp_sqe *saved;
	uint32_t *end;
};

struct nvp_reset_scratch *nvp_reset_scratch_new(uint32_t num_reqs)
{
	struct nvp_reset_scratch *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->keep = calloc(num_reqs, sizeof(*sc->keep));
	sc->saved = calloc(num_reqs, sizeof(*sc->saved));
	sc->end = calloc(num_reqs, sizeof(*sc->end));
	if (!sc->keep || !sc->saved || !sc->end) {
		nvp_reset_scratch_free(sc);
		return NULL;
	}
	return sc;
}

void nvp_reset_scratch_free(struct nvp_reset_scratch *sc)
{
	if (!sc)
		return;
	free(sc->keep);
	free(sc->saved);
	free(sc->end);
	free(sc);
}

static int older_first(const void *a, const void *b)
{
	const struct nvp_retry *x = a, *y = b;

	return x->age < y->age ? 1 : x->age > y->age ? -1 : 0;
}

/* Its SQE is still in the ring (a slot is only overwritten by a later
 * command, whose CID differs), and it may go out again. */
static bool can_repost(const struct nvp_qpair *qp, const struct nvp_req *req)
{
	return !req->no_retry && req->retries < qp->max_retries &&
	       nvp_le16_to_cpu(qp->sq.ring[req->slot].cid) == req->cid;
}

/*
 * A half of a fused Compare and Write goes out again only with its partner:
 * both still in flight and both re-postable. Their slots are adjacent, so
 * the oldest-first order below keeps them adjacent (and the first first).
 * Otherwise both are ended: one half alone would wait on the controller
 * for a partner that never comes, or run unguarded.
 */
static bool fused_partner_ok(const struct nvp_qpair *qp, const struct nvp_req *req)
{
	for (uint32_t i = 0; i < qp->num_reqs; i++) {
		const struct nvp_req *o = &qp->reqs[i];

		if (o != req && o->state == NVP_REQ_INFLIGHT && o->parent == req->parent &&
		    o->fused && o->fused != req->fused)
			return can_repost(qp, o);
	}
	return false;
}

/* First sight of a reset: keep or end what was in flight, reset the rings. */
static void disconnect(struct nvp_qpair *qp)
{
	struct nvp_reset_scratch *sc = qp->reset_scratch;
	uint32_t nkeep = 0, nend = 0;
	uint16_t old_tail = qp->sq.tail;
	struct nvp_cqe cpl = { .sqid = qp->sq.qid, .status = NVP_STATUS_RESET_ABORTED };

	for (uint32_t i = 0; i < qp->num_reqs; i++) {
		struct nvp_req *req = &qp->reqs[i];

		if (req->state != NVP_REQ_INFLIGHT)
			continue;
		if (can_repost(qp, req) && (!req->fused || fused_partner_ok(qp, req))) {
			sc->keep[nkeep].age = (uint32_t)((old_tail + qp->sq.entries - req->slot - 1) %
							 qp->sq.entries);
			sc->keep[nkeep++].idx = i;
		} else {
			sc->end[nend++] = i;
		}
	}
	qsort(sc->keep, nkeep, sizeof(*sc->keep), older_first);
	for (uint32_t k = 0; k < nkeep; k++)
		sc->saved[k] = qp->sq.ring[qp->reqs[sc->keep[k].idx].slot];
	nvp_qpair_reset_rings(qp);
	for (uint32_t k = 0; k < nkeep; k++) {
		struct nvp_req *req = &qp->reqs[sc->keep[k].idx];

		*nvp_sq_slot(&qp->sq) = sc->saved[k];
		nvp_req_enqueue(qp, req);
		req->retries++;
		atomic_store_explicit(&req->abort, NVP_ABORT_NONE, memory_order_relaxed);
		qp->retried++;
	}
	/* Callbacks below may submit: into the ring, rung once reconnected. */
	qp->state = NVP_QP_DISCONNECTED;
	for (uint32_t k = 0; k < nend; k++) {
		struct nvp_req *req = &qp->reqs[sc->end[k]];

		cpl.cid = req->cid;
		qp->reset_aborted++;
		nvp_qpair_complete(qp, req, &cpl);
	}
	if (nkeep || nend)
		nvp_info("queue %u: controller reset: %u command(s) posted again, %u ended with a "
			 "retryable status", qp->sq.qid, nkeep, nend);
}

int nvp_qpair_connect(struct nvp_qpair *qp)
{
	struct nvp_ctrl *ctrl = qp->ctrl;
	uint32_t gen = atomic_load_explicit(&ctrl->gen, memory_order_acquire);
	int rc;

	/* Until connected, an odd value keeps every poll on the slow path. */
	qp->gen = gen | NVP_GEN_BEHIND;
	if (atomic_load(&ctrl->state) != NVP_CTRL_LIVE) {
		qp->state = NVP_QP_DISCONNECTED;
		return 0;
	}
	nvp_qpair_init_doorbells(qp);
	rc = nvp_admin_create_io_queues(ctrl, qp);
	if (atomic_load_explicit(&ctrl->gen, memory_order_acquire) != gen ||
	    atomic_load(&ctrl->state) != NVP_CTRL_LIVE) {
		/* A reset came in between: whatever was created is gone again. */
		qp->state = NVP_QP_DISCONNECTED;
		return 0;
	}
	if (rc)
		return rc;
	qp->state = NVP_QP_ENABLED;
	qp->gen = gen;
	/* What was submitted while disconnected goes out now. */
	nvp_sq_ring(&qp->sq);
	return 0;
}

int nvp_qpair_resync(struct nvp_qpair *qp)
{
	struct nvp_ctrl *ctrl = qp->ctrl;
	int rc = atomic_load(&ctrl->failed);

	if (rc || qp->state == NVP_QP_FAILED) {
		/* Final: refuse new commands, end the accepted ones. Polls keep
		 * coming here (the generation is not caught up), so BAR0 is
		 * never touched again. */
		if (qp->state != NVP_QP_CLOSING)
			qp->state = NVP_QP_FAILED;
		qp->gen |= NVP_GEN_BEHIND;
		nvp_qpair_fail_all(qp, NVP_STATUS_HOST_PATH_ERROR);
		return rc ? rc : -ENXIO;
	}
	if (qp->state == NVP_QP_ENABLED)
		disconnect(qp);
	if (atomic_load(&ctrl->state) != NVP_CTRL_LIVE)
		return 0;
	rc = nvp_qpair_connect(qp);
	if (rc) {
		rc = nvp_error(rc, "queue pair %u could not be re-created after a reset of %s: "
			       "%s; free it and allocate another", qp->sq.qid, ctrl->info.addr,
			       nvp_last_error());
		qp->state = NVP_QP_FAILED;
		qp->gen |= NVP_GEN_BEHIND;
		nvp_qpair_fail_all(qp, NVP_STATUS_HOST_PATH_ERROR);
		return rc;
	}
	if (qp->state == NVP_QP_ENABLED)
		qp->reconnects++;
	return 0;
}

int nvp_qpair_lost(struct nvp_qpair *qp)
{
	char why[128];

	snprintf(why, sizeof(why), "the connection of I/O queue %u was lost", qp->sq.qid);
	/*
	 * A reset under way (or done since this poll looked) is already
	 * replacing the association this connection belonged to, and a target
	 * may close an association's I/O connections as soon as its admin
	 * connection goes: that loss is the reset's doing, not cause for
	 * another. Otherwise the reset reconnects the admin queue; the
	 * resync, this one.
	 */
	if (atomic_load(&qp->ctrl->state) != NVP_CTRL_RESETTING &&
	    atomic_load_explicit(&qp->ctrl->gen, memory_order_acquire) == qp->gen)
		(void)nvp_ctrl_escalate(qp->ctrl, why);
	return nvp_qpair_resync(qp);
}
