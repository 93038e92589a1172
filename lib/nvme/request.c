/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/request.c - the out-of-line parts of request.h: why a command
 * cannot be admitted.
 */
#include <errno.h>

#include "nvme/nvme.h"
#include "nvme/request.h"
#include "util/log.h"

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
