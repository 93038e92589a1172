/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/request.h - the hot path: request objects. The queue pair's
 * pool, admission, and posting a command into the SQ ring. Static inline,
 * like queue.h.
 *
 * One command, as every submitter (io.c, admin.c) runs it:
 *  1. nvp_req_get() takes a request (for a command split into parts,
 *     nvp_req_admit() first checks that all of them can be had);
 *  2. the caller builds the SQE in place at the tail, nvp_sq_slot()
 *     (queue.h), and describes its data buffer (payload.h); if either
 *     fails, nvp_req_put() gives the request back;
 *  3. nvp_req_post() fills in the CID and the request's bookkeeping and
 *     advances the tail (nvp_req_post_cmd() does 2 and 3 for a command the
 *     caller built whole: admin commands, nvp_io_raw()). The device learns of it at the next doorbell
 *     write, nvp_sq_ring() (queue.h), from nvp_qpair_poll()/flush(); the
 *     completion comes back in nvp_qpair_process() (qpair.c).
 */
#ifndef NVP_LIB_NVME_REQUEST_H
#define NVP_LIB_NVME_REQUEST_H

#include <errno.h>
#include <stdint.h>

#include "nvme/nvme.h"
#include "nvme/queue.h"

/* ---- Request pool ------------------------------------------------------- */

/* Take a free request (LIFO: the last one freed is cache-hot). */
static inline struct nvp_req *nvp_req_get(struct nvp_qpair *qp)
{
	struct nvp_req *req = qp->free_reqs;

	if (__builtin_expect(!req, 0))
		return NULL;
	qp->free_reqs = req->next_free;
	qp->outstanding++;
	/* New generation in the CID bits above the index. */
	req->cid = (uint16_t)(req->cid + qp->cid_index_mask + 1u);
	req->parent = NULL;
	req->retries = 0;
	req->no_retry = false;
	atomic_store_explicit(&req->abort, NVP_ABORT_NONE, memory_order_relaxed);
	atomic_store_explicit(&req->epoch,
			      atomic_load_explicit(&req->epoch, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	return req;
}

static inline void nvp_req_put(struct nvp_qpair *qp, struct nvp_req *req)
{
	req->state = NVP_REQ_FREE;
	req->next_free = qp->free_reqs;
	qp->free_reqs = req;
	qp->outstanding--;
}

/**
 * nvp_req_admit_fail() - why @n request objects cannot be taken now.
 * @qp: queue pair. @n: request objects the command needs.
 *
 * Return: -EINVAL if @n exceeds the whole pool (the command can never fit;
 * the message says what to change), else -EAGAIN (poll and retry).
 */
int nvp_req_admit_fail(struct nvp_qpair *qp, uint64_t n);

/*
 * The one admission check for commands that need several request objects
 * (split I/O: one per part plus the parent). Single commands just try
 * nvp_req_get(). @n is 64-bit so a part count can never wrap.
 */
static inline int nvp_req_admit(struct nvp_qpair *qp, uint64_t n)
{
	if (__builtin_expect(n <= qp->num_reqs - qp->outstanding, 1))
		return 0;
	return nvp_req_admit_fail(qp, n);
}

/*
 * Put @req, whose SQE is at the SQ tail, into the ring: the slot it went
 * into (after a reset it may be posted again from there), the timeout scan
 * it was posted at, the tail. The second half of nvp_req_post(), and all of
 * a reset's re-post (reconnect.c), which keeps the request's callback, CID
 * and state.
 */
static inline void nvp_req_enqueue(struct nvp_qpair *qp, struct nvp_req *req)
{
	req->posted_scan = qp->timeout_scans;
	req->slot = qp->sq.tail;
	nvp_sq_advance(&qp->sq);
	qp->submitted++;
}

/*
 * Post @req with the SQE built in place at the SQ tail: the one posting
 * primitive of I/O and admin queues. The device sees it at the next
 * doorbell write (nvp_sq_ring()). The SQE is in the ring, so on the wire:
 * little-endian (only @sqe->opc, a byte, is read here).
 */
static inline void nvp_req_post(struct nvp_qpair *qp, struct nvp_req *req,
				struct nvp_sqe *sqe, nvp_cmd_cb cb, void *arg)
{
	req->cb = cb;
	req->arg = arg;
	req->opc = sqe->opc;
	req->state = NVP_REQ_INFLIGHT;
	sqe->cid = nvp_cpu_to_le16(req->cid);
	nvp_req_enqueue(qp, req);
}

/**
 * nvp_req_post_cmd() - post a whole command the caller built: admin
 * commands and nvp_io_raw().
 * @qp: queue pair. @req: a request taken with nvp_req_get().
 * @cmd: the command, in CPU order; copied into the SQ tail slot (its CID is
 *       replaced).
 * @buf/@len: its data: with a buffer the data pointer is built for it
 *            (payload.h: PRPs, or an SGL if @allow_sgl and they cannot);
 *            without one (@buf NULL or @len 0) @cmd's own goes out as is.
 * @allow_sgl: false for admin commands. @cb/@arg: completion.
 *
 * Return: 0 (posted), or the mapping's errno: @req is then back in the
 * pool and the ring as it was.
 */
int nvp_req_post_cmd(struct nvp_qpair *qp, struct nvp_req *req, const struct nvp_sqe *cmd,
		     void *buf, size_t len, bool allow_sgl, nvp_cmd_cb cb, void *arg);

/*
 * One half of a fused Compare and Write completed: keep, for the pair's one
 * callback, the status that explains the outcome. The cause (any error but
 * "Aborted due to Failed Fused Command", which only says the partner
 * failed) wins over that consequence, and either over success. DW1, which
 * Compare and Write leave reserved, says which half it came from.
 */
static inline void nvp_fused_note(struct nvp_req *parent, struct nvp_req *req,
				  const struct nvp_cqe *cpl)
{
	bool err = NVP_CPL_IS_ERROR(cpl);
	bool consequence = NVP_STATUS_SCT(cpl->status) == NVP_SCT_GENERIC &&
			   NVP_STATUS_SC(cpl->status) == NVP_SC_ABORT_FUSE_FAIL;
	bool have_err = NVP_CPL_IS_ERROR(&parent->cpl);
	bool have_consequence = have_err &&
				NVP_STATUS_SCT(parent->cpl.status) == NVP_SCT_GENERIC &&
				NVP_STATUS_SC(parent->cpl.status) == NVP_SC_ABORT_FUSE_FAIL;

	if (!have_err || (err && !consequence && have_consequence)) {
		parent->cpl = *cpl;
		parent->cpl.dw1 = req->fused == NVP_SQE_FUSE_FIRST ? NVP_FUSED_HALF_COMPARE :
								      NVP_FUSED_HALF_WRITE;
	}
	req->fused = 0;
}

#endif /* NVP_LIB_NVME_REQUEST_H */
