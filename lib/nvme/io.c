/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io.c - the I/O commands: argument checks, command encoding,
 * payload mapping, and transparent splitting of I/O larger than the
 * controller's transfer limit.
 *
 * The path of one read: nvp_read() -> rw() checks the namespace and range,
 * takes a request from the qpair's pool (request.h), builds the SQE in
 * place in the SQ slot, maps the buffer (PRP1/PRP2 inline, or payload.c for
 * lists), and advances the tail (queue.h). The doorbell is written by the
 * next nvp_qpair_poll() or nvp_qpair_flush(), once per batch.
 */
#include <errno.h>
#include <string.h>

#include "nvme/nvme.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "util/log.h"
#include "util/tsc.h"

/* Write Zeroes' NLB field is 16 bits, 0's based. */
#define NVP_WRITE_ZEROES_MAX_BLOCKS 65536u
#define NVP_DSM_MAX_RANGES 256u

/* ---- argument checks (the error branches are out of line) --------------- */

static int __attribute__((noinline, cold)) bad_qpair(struct nvp_qpair *qp)
{
	int failed;

	if (!qp)
		return nvp_error(-EINVAL, "queue pair is NULL");
#ifdef NVP_DEBUG
	if (!pthread_equal(qp->owner, pthread_self()))
		return nvp_error(-EXDEV, "queue pair %u used from a thread that does not own "
				 "it; use one qpair per thread, or hand it over with "
				 "nvp_qpair_set_owner()", qp->sq.qid);
#endif
	failed = atomic_load(&qp->ctrl->failed);
	return nvp_error(failed, "controller %s has %s; detach and attach it again",
			 qp->ctrl->info.addr, failed == -ENODEV ? "been removed" : "failed");
}

static inline int check_qpair(struct nvp_qpair *qp)
{
	if (__builtin_expect(!qp, 0))
		return bad_qpair(qp);
#ifdef NVP_DEBUG
	if (__builtin_expect(!pthread_equal(qp->owner, pthread_self()), 0))
		return bad_qpair(qp);
#endif
	if (__builtin_expect(atomic_load_explicit(&qp->ctrl->failed, memory_order_relaxed), 0))
		return bad_qpair(qp);
	return 0;
}

static int __attribute__((noinline, cold)) bad_range(struct nvp_qpair *qp, struct nvp_ns *ns,
						      uint64_t lba, uint32_t nlb)
{
	if (!ns)
		return nvp_error(-EINVAL, "namespace is NULL (nvp_ctrl_get_ns() returns NULL "
				 "for an inactive NSID)");
	if (ns->ctrl != qp->ctrl)
		return nvp_error(-EINVAL, "namespace %u belongs to controller %s, not to the "
				 "queue pair's controller %s", ns->nsid, ns->ctrl->info.addr,
				 qp->ctrl->info.addr);
	if (ns->has_metadata)
		return nvp_error(-ENOTSUP, "namespace %u is formatted with %u bytes of metadata "
				 "per block, which nvpoll does not transfer; reformat it without "
				 "metadata", ns->nsid, ns->info.md_size);
	if (nlb == 0)
		return nvp_error(-EINVAL, "zero-length I/O (nlb = 0) on namespace %u", ns->nsid);
	return nvp_error(-ERANGE, "LBAs %llu..%llu are past the end of namespace %u "
			 "(%llu blocks)", (unsigned long long)lba,
			 (unsigned long long)(lba + nlb - 1), ns->nsid,
			 (unsigned long long)ns->num_blocks);
}

static inline int check_range(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba,
			      uint32_t nlb)
{
	if (__builtin_expect(!ns || ns->ctrl != qp->ctrl || ns->has_metadata || nlb == 0 ||
			     lba >= ns->num_blocks || nlb > ns->num_blocks - lba, 0))
		return bad_range(qp, ns, lba, nlb);
	return 0;
}

static inline int no_request(void)
{
	return nvp_error_fast(-EAGAIN, "no free request object on this queue pair: call "
			      "nvp_qpair_poll() to complete some, then retry");
}

/* ---- posting ------------------------------------------------------------ */

static inline void post(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
			nvp_cmd_cb cb, void *arg)
{
	req->cb = cb;
	req->arg = arg;
	req->opc = sqe->opc;
	req->posted_scan = qp->timeout_scans;
	req->state = NVP_REQ_INFLIGHT;
	sqe->cid = req->cid;
	nvp_sq_advance(&qp->sq);
	qp->submitted++;
}

static inline uint32_t rw_cdw12(uint32_t nlb, uint32_t flags)
{
	return (nlb - 1) | ((flags & NVP_IO_FUA) ? NVP_RW_FUA : 0) |
	       ((flags & NVP_IO_LIMITED_RETRY) ? NVP_RW_LR : 0);
}

static inline void build_rw(struct nvp_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba,
			    uint32_t nlb, uint32_t flags)
{
	*sqe = (struct nvp_sqe){
		.opc = opc,
		.nsid = nsid,
		.cdw10 = (uint32_t)lba,
		.cdw11 = (uint32_t)(lba >> 32),
		.cdw12 = rw_cdw12(nlb, flags),
	};
}

/* The whole of a split command; the caller checked a request is free. */
static struct nvp_req *start_parent(struct nvp_qpair *qp, uint8_t opc, uint32_t parts,
				    nvp_cmd_cb cb, void *arg)
{
	struct nvp_req *parent = nvp_req_get(qp);

	parent->state = NVP_REQ_PARENT;
	parent->cb = cb;
	parent->arg = arg;
	parent->opc = opc;
	parent->parts_left = parts;
	memset(&parent->cpl, 0, sizeof(parent->cpl));
	return parent;
}

/*
 * An I/O larger than one command: a parent request that is never posted,
 * and one part per max_io_blocks. Every part is built before any is made
 * visible, so a failure leaves the queue exactly as it was.
 */
static int __attribute__((noinline)) rw_split(struct nvp_qpair *qp, struct nvp_ns *ns,
					      uint8_t opc, const struct iovec *iov, int iovcnt,
					      uint64_t lba, uint32_t nlb, uint32_t flags,
					      nvp_cmd_cb cb, void *arg)
{
	struct nvp_dma_seg segs[NVP_PAYLOAD_MAX_SEGS], part_segs[NVP_PAYLOAD_MAX_SEGS];
	uint32_t step = ns->max_io_blocks;
	uint32_t parts = (nlb + step - 1) / step;
	uint16_t tail0 = qp->sq.tail;
	struct nvp_req *parent;
	int nsegs, rc = 0;
	uint32_t i;

	if (parts + 1 > qp->num_reqs)
		return nvp_error(-EINVAL, "an I/O of %u blocks is split into %u commands of at "
				 "most %u blocks and needs %u request objects, but the queue "
				 "pair has %u; raise num_requests/queue_size or submit smaller "
				 "I/O", nlb, parts, step, parts + 1, qp->num_reqs);
	if (parts + 1 > qp->num_reqs - qp->outstanding)
		return no_request();
	nsegs = nvp_payload_segments(iov, iovcnt, segs, NVP_PAYLOAD_MAX_SEGS);
	if (nsegs < 0)
		return nsegs;

	parent = start_parent(qp, opc, parts, cb, arg);
	for (i = 0; i < parts; i++) {
		uint64_t off = (uint64_t)i * step << ns->lba_shift;
		uint32_t n = nlb - i * step < step ? nlb - i * step : step;
		struct nvp_req *req = nvp_req_get(qp);
		struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);
		int nparts;

		build_rw(sqe, opc, ns->nsid, lba + (uint64_t)i * step, n, flags);
		nparts = nvp_payload_slice(segs, (unsigned int)nsegs, off,
					   (uint64_t)n << ns->lba_shift, part_segs,
					   NVP_PAYLOAD_MAX_SEGS);
		rc = nparts < 0 ? nparts :
		     nvp_req_map_segs(qp, req, sqe, part_segs, (unsigned int)nparts, true);
		if (rc) {
			nvp_req_put(qp, req);
			goto undo;
		}
		post(qp, req, sqe, cb, arg);
		req->parent = parent;
	}
	return 0;
undo:
	/* Nothing was rung: take the posted parts back out of the ring. */
	qp->sq.tail = tail0;
	for (uint32_t j = 0; j < qp->num_reqs; j++)
		if (qp->reqs[j].parent == parent && qp->reqs[j].state == NVP_REQ_INFLIGHT)
			nvp_req_put(qp, &qp->reqs[j]);
	nvp_req_put(qp, parent);
	return rc;
}

static inline int rw(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t opc, void *buf,
		     uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (__builtin_expect(nlb > ns->max_io_blocks, 0)) {
		struct iovec iov = { .iov_base = buf, .iov_len = (size_t)nlb << ns->lba_shift };

		return rw_split(qp, ns, opc, &iov, 1, lba, nlb, flags, cb, arg);
	}
	req = nvp_req_get(qp);
	if (__builtin_expect(!req, 0))
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	build_rw(sqe, opc, ns->nsid, lba, nlb, flags);
	rc = nvp_req_map_buf(qp, req, sqe, buf, nlb << ns->lba_shift, true);
	if (__builtin_expect(rc != 0, 0)) {
		nvp_req_put(qp, req);
		return rc;
	}
	post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_read(struct nvp_qpair *qp, struct nvp_ns *ns, void *buf, uint64_t lba, uint32_t nlb,
	     uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	return rw(qp, ns, NVP_NVM_READ, buf, lba, nlb, flags, cb, arg);
}

int nvp_write(struct nvp_qpair *qp, struct nvp_ns *ns, const void *buf, uint64_t lba,
	      uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	return rw(qp, ns, NVP_NVM_WRITE, (void *)buf, lba, nlb, flags, cb, arg);
}

static int rwv(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t opc, const struct iovec *iov,
	       int iovcnt, uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	uint64_t total = 0;
	int rc;

	if ((rc = check_qpair(qp)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (!iov || iovcnt <= 0)
		return nvp_error(-EINVAL, "iovec is empty");
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total != (uint64_t)nlb << ns->lba_shift)
		return nvp_error(-EINVAL, "iovec holds %llu bytes but %u blocks of %u bytes "
				 "need %llu", (unsigned long long)total, nlb,
				 ns->info.block_size,
				 (unsigned long long)nlb << ns->lba_shift);
	if (nlb > ns->max_io_blocks)
		return rw_split(qp, ns, opc, iov, iovcnt, lba, nlb, flags, cb, arg);
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	build_rw(sqe, opc, ns->nsid, lba, nlb, flags);
	rc = nvp_req_map_slow(qp, req, sqe, iov, iovcnt, true);
	if (rc) {
		nvp_req_put(qp, req);
		return rc;
	}
	post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_readv(struct nvp_qpair *qp, struct nvp_ns *ns, const struct iovec *iov, int iovcnt,
	      uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	return rwv(qp, ns, NVP_NVM_READ, iov, iovcnt, lba, nlb, flags, cb, arg);
}

int nvp_writev(struct nvp_qpair *qp, struct nvp_ns *ns, const struct iovec *iov, int iovcnt,
	       uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	return rwv(qp, ns, NVP_NVM_WRITE, iov, iovcnt, lba, nlb, flags, cb, arg);
}

int nvp_flush(struct nvp_qpair *qp, struct nvp_ns *ns, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp)) || (rc = check_range(qp, ns, 0, 1)))
		return rc;
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	*sqe = (struct nvp_sqe){ .opc = NVP_NVM_FLUSH, .nsid = ns->nsid };
	post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_write_zeroes(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba, uint32_t nlb,
		     uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	uint32_t parts;
	struct nvp_req *parent = NULL;
	int rc;

	if ((rc = check_qpair(qp)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (!ns->info.supports_write_zeroes)
		return nvp_error(-ENOTSUP, "controller %s does not support Write Zeroes "
				 "(ONCS bit 3); write a zeroed buffer instead", qp->ctrl->info.addr);
	parts = (nlb + NVP_WRITE_ZEROES_MAX_BLOCKS - 1) / NVP_WRITE_ZEROES_MAX_BLOCKS;
	if (parts + (parts > 1) > qp->num_reqs - qp->outstanding)
		return parts + 1 > qp->num_reqs ?
		       nvp_error(-EINVAL, "Write Zeroes of %u blocks needs %u request objects; "
				 "the queue pair has %u", nlb, parts + 1, qp->num_reqs) :
		       no_request();
	if (parts > 1)
		parent = start_parent(qp, NVP_NVM_WRITE_ZEROES, parts, cb, arg);
	for (uint32_t i = 0; i < parts; i++) {
		uint32_t done = i * NVP_WRITE_ZEROES_MAX_BLOCKS;
		uint32_t n = nlb - done < NVP_WRITE_ZEROES_MAX_BLOCKS ? nlb - done :
			     NVP_WRITE_ZEROES_MAX_BLOCKS;
		struct nvp_req *req = nvp_req_get(qp);
		struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);

		build_rw(sqe, NVP_NVM_WRITE_ZEROES, ns->nsid, lba + done, n, flags);
		post(qp, req, sqe, cb, arg);
		req->parent = parent;
	}
	return 0;
}

int nvp_deallocate(struct nvp_qpair *qp, struct nvp_ns *ns, const struct nvp_dsm_range *ranges,
		   uint32_t num_ranges, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp)) || (rc = check_range(qp, ns, 0, 1)))
		return rc;
	if (!ns->info.supports_dsm)
		return nvp_error(-ENOTSUP, "controller %s does not support Dataset Management "
				 "(ONCS bit 2)", qp->ctrl->info.addr);
	if (!ranges || num_ranges == 0 || num_ranges > NVP_DSM_MAX_RANGES)
		return nvp_error(-EINVAL, "deallocate takes 1..%u ranges (got %u)",
				 NVP_DSM_MAX_RANGES, num_ranges);
	for (uint32_t i = 0; i < num_ranges; i++) {
		rc = check_range(qp, ns, ranges[i].slba, ranges[i].nlb);
		if (rc)
			return rc;
	}
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	/* The range list must be DMA memory: use the request's list page. */
	memcpy(req->list.va, ranges, num_ranges * sizeof(*ranges));
	sqe = nvp_sq_slot(&qp->sq);
	*sqe = (struct nvp_sqe){
		.opc = NVP_NVM_DSM,
		.nsid = ns->nsid,
		.cdw10 = num_ranges - 1,
		.cdw11 = NVP_DSM_ATTR_DEALLOCATE,
	};
	sqe->dptr.prp.prp1 = req->list.iova;
	post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_io_raw(struct nvp_qpair *qp, const struct nvp_sqe *cmd, void *buf, size_t len,
	       nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp)))
		return rc;
	if (!cmd || !cb)
		return nvp_error(-EINVAL, "nvp_io_raw: cmd and cb must not be NULL");
	if (len > qp->max_xfer)
		return nvp_error(-EINVAL, "raw I/O of %zu bytes exceeds the transfer limit of "
				 "%u bytes; raw commands are not split", len, qp->max_xfer);
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	*sqe = *cmd;
	if (buf && len) {
		sqe->flags &= (uint8_t)~0xc0;
		rc = nvp_req_map_buf(qp, req, sqe, buf, (uint32_t)len, true);
		if (rc) {
			nvp_req_put(qp, req);
			return rc;
		}
	}
	post(qp, req, sqe, cb, arg);
	return 0;
}
