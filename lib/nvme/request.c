/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/request.c - the out-of-line parts of request.h: why a command
 * cannot be admitted, and posting a command the caller built whole.
 */
#include <errno.h>
#include <string.h>

#include "nvme/nvme.h"
#include "nvme/payload.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "util/log.h"
#include "util/wire.h"

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

int nvp_req_post_cmd(struct nvp_qpair *qp, struct nvp_req *req, const struct nvp_sqe *cmd,
		     void *buf, size_t len, bool allow_sgl, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);
	int rc;

	nvp_sqe_to_wire(sqe, cmd);	/* @cmd is in CPU order */
	/* Over NVMe/TCP the data pointer is the transport's: never the caller's. */
	if (qp->tcp)
		memset(&sqe->dptr, 0, sizeof(sqe->dptr));
	if (buf && len) {
		/* The data pointer is ours: PRP unless nvp_payload_map() picks SGL. */
		sqe->flags &= (uint8_t)~NVP_SQE_PSDT_MASK;
		rc = nvp_payload_map(qp, req, sqe, buf, (uint32_t)len, allow_sgl);
		if (rc) {
			nvp_req_put(qp, req);
			return rc;
		}
	}
	nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}
