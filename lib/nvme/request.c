/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/request.c - the general payload path: any buffer or iovec,
 * described with PRPs when their rules allow, else with an SGL when the
 * controller takes them. The common single-buffer case never gets here
 * (see nvp_req_map_buf() in request.h).
 */
#include <errno.h>

#include "nvme/nvme.h"
#include "nvme/payload.h"
#include "nvme/request.h"
#include "util/log.h"

/* Bytes that must be 4-aligned for PRP; SGL "dword aligned" support too. */
static bool segs_dword_aligned(const struct nvp_dma_seg *segs, unsigned int nsegs)
{
	for (unsigned int i = 0; i < nsegs; i++)
		if ((segs[i].iova | segs[i].len) & 3)
			return false;
	return true;
}

int nvp_req_map_segs(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
		     const struct nvp_dma_seg *segs, unsigned int nsegs, bool allow_sgl)
{
	const struct nvp_ctrl *ctrl = qp->ctrl;
	bool sgl_ok = allow_sgl && qp->sgl_supported &&
		      ((nvp_le32_to_cpu(ctrl->id->sgls) & NVP_SGLS_SUPPORT_MASK) ==
		       NVP_SGLS_SUPPORTED ||
		       segs_dword_aligned(segs, nsegs));
	int rc = -EINVAL;

	/* PRPs first: every controller takes them; SGLs where PRPs cannot. */
	rc = nvp_payload_prp(sqe, segs, nsegs, qp->page_size, &req->list);
	if (rc != -EINVAL)
		return rc;
	if (sgl_ok)
		return nvp_payload_sgl(sqe, segs, nsegs, qp->page_size, &req->list);
	return nvp_error(rc, "the buffer layout cannot be described with PRPs (every "
			 "element but the first must start on a %u-byte page boundary, every "
			 "element but the last must end on one, and addresses must be 4-byte "
			 "aligned)%s", qp->page_size, qp->sgl_supported ? "" :
			 ", and this controller does not support SGLs");
}

int nvp_req_map_slow(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
		     const struct iovec *iov, int iovcnt, bool allow_sgl)
{
	struct nvp_dma_seg segs[NVP_PAYLOAD_MAX_SEGS];
	int nsegs = nvp_payload_segments(iov, iovcnt, segs, NVP_PAYLOAD_MAX_SEGS);

	if (nsegs < 0)
		return nsegs;
	return nvp_req_map_segs(qp, req, sqe, segs, (unsigned int)nsegs, allow_sgl);
}

int nvp_req_admit_fail(struct nvp_qpair *qp, uint64_t n)
{
	if (n > qp->num_reqs)
		return nvp_error(-EINVAL, "this command is split into parts and needs %llu request "
				 "objects (one per part and one for the whole), but queue pair "
				 "%u has %u; raise num_requests/queue_size in nvp_qpair_opts, or "
				 "submit less per call", (unsigned long long)n, qp->sq.qid,
				 qp->num_reqs);
	return nvp_error_fast(-EAGAIN, "not enough free request objects on this queue pair "
			      "for a split command: call nvp_qpair_poll() to complete some, "
			      "then retry");
}
