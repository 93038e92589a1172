/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/request.h - the hot path: request objects and describing a
 * request's data buffer to the controller. Static inline, like queue.h.
 *
 * The common case, one buffer that is bus-contiguous and spans at most two
 * pages, is handled here without leaving the inline path: PRP1 and PRP2
 * need no list. Everything else goes through lib/nvme/payload.c.
 */
#ifndef NVP_LIB_NVME_REQUEST_H
#define NVP_LIB_NVME_REQUEST_H

#include <errno.h>
#include <stdint.h>

#include "mem/mem.h"
#include "nvme/nvme.h"
#include "nvme/payload.h"
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
	req->posted_scan = qp->timeout_scans;
	req->state = NVP_REQ_INFLIGHT;
	req->slot = qp->sq.tail;
	sqe->cid = nvp_cpu_to_le16(req->cid);
	nvp_sq_advance(&qp->sq);
	qp->submitted++;
}

/* ---- Payload mapping ---------------------------------------------------- */

/**
 * nvp_req_map_segs() - describe translated segments with PRP or SGL.
 * @qp: queue pair. @req: request (its list memory is used). @sqe: command.
 * @segs/@nsegs: the payload. @allow_sgl: false for admin commands.
 *
 * Return: 0, -EINVAL (no usable description), -E2BIG (list too small).
 */
int nvp_req_map_segs(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
		     const struct nvp_dma_seg *segs, unsigned int nsegs, bool allow_sgl);

/**
 * nvp_req_map_slow() - describe any payload: segments, then PRP or SGL.
 * @qp: queue pair. @req: request (its list memory is used).
 * @sqe: command to fill. @iov/@iovcnt: payload. @allow_sgl: false for
 * admin commands, which must use PRPs on PCIe.
 *
 * Return: 0, -EFAULT (not DMA memory), -EINVAL (shape neither PRP nor the
 * controller's SGL support can describe), -E2BIG (too fragmented).
 */
int nvp_req_map_slow(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
		     const struct iovec *iov, int iovcnt, bool allow_sgl);

/* Map one buffer of @len bytes (> 0) into @sqe's data pointer (wire order). */
static inline int nvp_req_map_buf(struct nvp_qpair *qp, struct nvp_req *req,
				  struct nvp_sqe *sqe, const void *buf, uint32_t len,
				  bool allow_sgl)
{
	uint64_t iova;
	size_t contig;

	if (__builtin_expect(nvp_mem_lookup(buf, &iova, &contig) == 0, 1) &&
	    __builtin_expect(contig >= len && !(iova & 3), 1)) {
		uint32_t first = qp->page_size - (uint32_t)(iova & (qp->page_size - 1));

		if (len <= first + qp->page_size) {
			sqe->dptr.prp.prp1 = nvp_cpu_to_le64(iova);
			sqe->dptr.prp.prp2 = nvp_cpu_to_le64(len <= first ? 0 : iova + first);
			return 0;
		}
	}
	{
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

		return nvp_req_map_slow(qp, req, sqe, &iov, 1, allow_sgl);
	}
}

#endif /* NVP_LIB_NVME_REQUEST_H */
