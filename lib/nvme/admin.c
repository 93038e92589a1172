/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/admin.c - the admin queue: submission under the admin lock,
 * synchronous waits with a timeout, the admin poller (completions, health,
 * admin timeouts, events), and the admin commands the driver itself needs
 * (Identify, queue create/delete, Abort, Get Log Page).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/device.h"
#include "nvme/nvme.h"
#include "nvme/payload.h"
#include "nvme/queue.h"
#include "nvme/regs.h"
#include "nvme/request.h"
#include "util/log.h"
#include "util/tsc.h"

/* The controller whose admin lock this thread holds (admin callbacks run
 * under it), so a reset asked for from there is refused, not deadlocked. */
static __thread const struct nvp_ctrl *admin_held;

void nvp_admin_lock(struct nvp_ctrl *ctrl)
{
	pthread_mutex_lock(&ctrl->admin_lock);
	admin_held = ctrl;
}

void nvp_admin_unlock(struct nvp_ctrl *ctrl)
{
	admin_held = NULL;
	pthread_mutex_unlock(&ctrl->admin_lock);
}

bool nvp_admin_held(const struct nvp_ctrl *ctrl)
{
	return admin_held == ctrl;
}

static const char *admin_opc_name(uint8_t opc)
{
	switch (opc) {
	case NVP_ADMIN_DELETE_SQ: return "Delete I/O SQ";
	case NVP_ADMIN_CREATE_SQ: return "Create I/O SQ";
	case NVP_ADMIN_GET_LOG_PAGE: return "Get Log Page";
	case NVP_ADMIN_DELETE_CQ: return "Delete I/O CQ";
	case NVP_ADMIN_CREATE_CQ: return "Create I/O CQ";
	case NVP_ADMIN_IDENTIFY: return "Identify";
	case NVP_ADMIN_ABORT: return "Abort";
	case NVP_ADMIN_SET_FEATURES: return "Set Features";
	case NVP_ADMIN_GET_FEATURES: return "Get Features";
	case NVP_ADMIN_ASYNC_EVENT: return "Asynchronous Event Request";
	case NVP_ADMIN_DOORBELL_BUF_CFG: return "Doorbell Buffer Config";
	case NVP_ADMIN_KEEP_ALIVE: return "Keep Alive";
	case NVP_FABRICS_OPC: return "Fabrics command";
	default: return "admin command";
	}
}

/* Admin lock held. */
static int submit_locked(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf,
			 size_t len, nvp_cmd_cb cb, void *arg, struct nvp_req **out)
{
	struct nvp_qpair *qp = ctrl->admin;
	struct nvp_req *req;
	int rc;

	if ((rc = atomic_load(&ctrl->failed)) != 0)
		return nvp_error(rc, "controller %s has %s; free its queue pairs and detach it",
				 ctrl->info.addr, rc == -ENODEV ? "been removed" : "failed");
	/* During a reset only the reset's own commands go out. */
	if (atomic_load(&ctrl->state) != NVP_CTRL_LIVE && !nvp_ctrl_resetting_here(ctrl))
		return nvp_error(-EAGAIN, "controller %s is being reset; retry once it is back "
				 "(nvp_ctrl_process_admin() returns, or NVP_EVENT_RESET_DONE)",
				 ctrl->info.addr);
	if (len > ctrl->max_xfer || len > qp->max_xfer)
		return nvp_error(-EINVAL, "admin data length %zu exceeds the transfer limit of "
				 "%u bytes; transfer it in pieces (log pages take an offset)",
				 len, ctrl->max_xfer < qp->max_xfer ? ctrl->max_xfer : qp->max_xfer);
	req = nvp_req_get(qp);
	if (!req)
		return nvp_error(-EAGAIN, "admin queue of %s is full; process admin "
				 "completions and retry", ctrl->info.addr);
	/* Without a buffer (queue creation, Doorbell Buffer Config) the
	 * caller's PRPs are passed through; admin commands use PRPs on PCIe. */
	rc = nvp_req_post_cmd(qp, req, cmd, buf, len, false, cb, arg);
	if (rc)
		return rc;
	req->posted_ms = (uint32_t)nvp_monotonic_ms();
	/* Admin commands are rare: ring at once rather than batching. */
	nvp_sq_ring(&qp->sq);
	if (out)
		*out = req;
	return 0;
}

int nvp_admin_submit(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf, size_t len,
		     nvp_cmd_cb cb, void *arg)
{
	int rc;

	nvp_admin_lock(ctrl);
	rc = submit_locked(ctrl, cmd, buf, len, cb, arg, NULL);
	nvp_admin_unlock(ctrl);
	return rc;
}

int nvp_admin_cmd(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf, size_t len,
		  nvp_cmd_cb cb, void *arg)
{
	if (!ctrl || !cmd || !cb)
		return nvp_error(-EINVAL, "nvp_admin_cmd: ctrl, cmd and cb must not be NULL");
	return nvp_admin_submit(ctrl, cmd, buf, len, cb, arg);
}

/* Reap admin completions (callbacks run under the lock). */
static int admin_reap(struct nvp_ctrl *ctrl)
{
	int rc;

	nvp_admin_lock(ctrl);
	rc = atomic_load(&ctrl->failed);
	if (rc)
		nvp_qpair_fail_all(ctrl->admin, NVP_STATUS_HOST_PATH_ERROR);
	else if (ctrl->tcp && (rc = nvp_tcp_qpair_pump(ctrl->admin)) != 0)
		;	/* the admin connection is lost: the caller resets */
	else
		rc = nvp_qpair_process(ctrl->admin, ctrl->admin->sq.entries);
	nvp_admin_unlock(ctrl);
	return rc;
}

/*
 * Admin commands get no Abort: one that outlives the admin timeout means
 * the controller is stuck, and Linux resets it (nvme_timeout() for qid 0).
 * AERs stay outstanding by design and are not timed.
 */
static void check_admin_timeouts(struct nvp_ctrl *ctrl)
{
	struct nvp_qpair *qp = ctrl->admin;
	uint8_t opc = 0;
	bool late = false;
	uint32_t now;

	nvp_admin_lock(ctrl);
	/* Read under the lock: a command posted after it must not look late
	 * (32-bit milliseconds, compared by wrap-around difference). */
	now = (uint32_t)nvp_monotonic_ms();
	for (uint32_t i = 0; i < qp->num_reqs && !late; i++) {
		struct nvp_req *req = &qp->reqs[i];

		if (req->state == NVP_REQ_INFLIGHT && req->opc != NVP_ADMIN_ASYNC_EVENT &&
		    (uint32_t)(now - req->posted_ms) > ctrl->opts.admin_timeout_ms) {
			late = true;
			opc = req->opc;
		}
	}
	nvp_admin_unlock(ctrl);
	if (late) {
		char why[128];

		snprintf(why, sizeof(why), "%s (opcode 0x%02x) got no answer within %u ms",
			 admin_opc_name(opc), opc, ctrl->opts.admin_timeout_ms);
		nvp_ctrl_escalate(ctrl, why);
	}
}

int nvp_ctrl_process_admin(struct nvp_ctrl *ctrl)
{
	uint64_t now;
	int n, rc;

	if (!ctrl)
		return nvp_error(-EINVAL, "nvp_ctrl_process_admin: controller is NULL");
	n = admin_reap(ctrl);
	if (n < 0 && ctrl->tcp && !atomic_load(&ctrl->failed) &&
	    atomic_load(&ctrl->state) == NVP_CTRL_LIVE) {
		/* NVMe/TCP: the admin connection was lost; a reset reconnects. */
		n = nvp_ctrl_escalate(ctrl, "the admin connection was lost");
		if (n == 0)
			n = admin_reap(ctrl);
	}
	if (n < 0)
		return n;
	/* NVMe/TCP: a reset waiting for the target tries again when due. */
	if (ctrl->tcp && (rc = nvp_ctrl_reconnect(ctrl)) < 0)
		return rc;
	if (atomic_load(&ctrl->state) != NVP_CTRL_LIVE)
		return n;
	/* Not the hot path: a clock read per call is fine here. */
	now = nvp_monotonic_ms();
	if (ctrl->opts.health_check_ms && now >= ctrl->next_health_ms) {
		ctrl->next_health_ms = now + ctrl->opts.health_check_ms;
		if (nvp_device_removal_requested(ctrl->dev))
			nvp_ctrl_fail(ctrl, -ENODEV, "the kernel asked for the device back "
				      "(hot removal or unbind)");
		rc = nvp_ctrl_check_health(ctrl);
		if (rc && atomic_load(&ctrl->failed))
			return atomic_load(&ctrl->failed);
	}
	if (atomic_load(&ctrl->state) == NVP_CTRL_LIVE)
		check_admin_timeouts(ctrl);
	if (ctrl->tcp && atomic_load(&ctrl->state) == NVP_CTRL_LIVE)
		nvp_tcp_keep_alive(ctrl);
	nvp_aer_process(ctrl);
	rc = atomic_load(&ctrl->failed);
	return rc ? rc : n;
}

struct sync_wait {
	volatile bool done;
	struct nvp_cqe cpl;
};

static void sync_done(void *arg, const struct nvp_cqe *cpl)
{
	struct sync_wait *w = arg;

	w->cpl = *cpl;
	w->done = true;
}

static void ignore_completion(void *arg, const struct nvp_cqe *cpl)
{
	(void)arg;
	(void)cpl;
}

int nvp_admin_sync_timeout(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf,
			   size_t len, struct nvp_cqe *cpl, uint32_t timeout_ms)
{
	struct sync_wait w = { .done = false };
	uint64_t deadline = nvp_monotonic_ms() + timeout_ms;
	uint32_t spins = 0;
	struct nvp_req *req;
	uint32_t epoch;
	int rc;

	nvp_admin_lock(ctrl);
	rc = submit_locked(ctrl, cmd, buf, len, sync_done, &w, &req);
	epoch = rc ? 0 : atomic_load(&req->epoch);
	nvp_admin_unlock(ctrl);
	if (rc)
		return rc;

	while (!w.done) {
		rc = admin_reap(ctrl);
		if (w.done)
			break;
		if (rc < 0)
			return nvp_error(rc, "%s failed: controller %s failed while it ran",
					 admin_opc_name(cmd->opc), ctrl->info.addr);
		/* A fatal controller never completes anything: check it now and then. */
		if ((++spins & 1023) == 0) {
			rc = nvp_ctrl_read32(ctrl, NVP_REG_CSTS);
			if (rc == (int)NVP_REG_GONE || (rc & NVP_CSTS_CFS))
				break;
			if (nvp_monotonic_ms() >= deadline)
				break;
			sched_yield();
		}
	}
	if (!w.done) {
		char why[160];
		uint32_t csts = nvp_ctrl_read32(ctrl, NVP_REG_CSTS);

		/* The wait is over but the command is not: make sure its late
		 * completion cannot write into this (dead) stack frame. */
		nvp_admin_lock(ctrl);
		if (req->state == NVP_REQ_INFLIGHT && atomic_load(&req->epoch) == epoch)
			req->cb = ignore_completion;
		nvp_admin_unlock(ctrl);
		if (w.done)
			goto done;
		/* Over NVMe/TCP: a failed Property Get, a lost connection (below). */
		if (csts == NVP_REG_GONE && !ctrl->tcp) {
			nvp_ctrl_fail(ctrl, -ENODEV, "registers read all-ones: the device was removed");
			return nvp_error(-ENODEV, "%s failed: controller %s was removed",
					 admin_opc_name(cmd->opc), ctrl->info.addr);
		}
		/* A reset reclaims the slot and brings the controller back. */
		snprintf(why, sizeof(why), "%s (opcode 0x%02x) %s", admin_opc_name(cmd->opc),
			 cmd->opc, (csts & NVP_CSTS_CFS) ? "ran into a fatal status (CSTS.CFS)" :
			 "timed out");
		rc = nvp_ctrl_escalate(ctrl, why);
		if (csts & NVP_CSTS_CFS)
			return nvp_error(-EIO, "%s failed: controller %s reports a fatal status "
					 "(CSTS.CFS)%s", admin_opc_name(cmd->opc), ctrl->info.addr,
					 rc ? "" : "; it has been reset, retry the command");
		return nvp_error(-ETIMEDOUT, "%s (opcode 0x%02x) timed out after %u ms on %s%s",
				 admin_opc_name(cmd->opc), cmd->opc, timeout_ms, ctrl->info.addr,
				 rc ? "" : "; the controller has been reset, retry the command");
	}
done:
	if (cpl)
		*cpl = w.cpl;
	if (NVP_CPL_IS_ERROR(&w.cpl))
		return nvp_error(nvp_status_to_errno(w.cpl.status), "%s failed on %s: %s "
				 "(SCT 0x%x SC 0x%02x)", admin_opc_name(cmd->opc),
				 ctrl->info.addr, nvp_status_str(w.cpl.status),
				 NVP_STATUS_SCT(w.cpl.status), NVP_STATUS_SC(w.cpl.status));
	return 0;
}

int nvp_admin_cmd_sync(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf,
		       size_t len, struct nvp_cqe *cpl)
{
	if (!ctrl || !cmd)
		return nvp_error(-EINVAL, "nvp_admin_cmd_sync: ctrl and cmd must not be NULL");
	return nvp_admin_sync_timeout(ctrl, cmd, buf, len, cpl, ctrl->opts.admin_timeout_ms);
}

int nvp_admin_identify(struct nvp_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf)
{
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .nsid = nsid, .cdw10 = cns };

	return nvp_admin_sync_timeout(ctrl, &cmd, buf, 4096, NULL, ctrl->opts.admin_timeout_ms);
}

/* ---- I/O queue creation and deletion ------------------------------------ */

int nvp_admin_create_io_queues(struct nvp_ctrl *ctrl, struct nvp_qpair *qp)
{
	uint32_t qsize = (uint32_t)(qp->sq.entries - 1) << 16;
	struct nvp_sqe cq = {
		.opc = NVP_ADMIN_CREATE_CQ,
		.cdw10 = ((uint32_t)(qp->cq.entries - 1) << 16) | qp->sq.qid,
		.cdw11 = NVP_QUEUE_PHYS_CONTIG, /* polled: no interrupts */
	};
	struct nvp_sqe sq = {
		.opc = NVP_ADMIN_CREATE_SQ,
		.cdw10 = qsize | qp->sq.qid,
		.cdw11 = ((uint32_t)qp->sq.qid << 16) | NVP_QUEUE_PHYS_CONTIG,
	};
	struct nvp_sqe del = { .opc = NVP_ADMIN_DELETE_CQ, .cdw10 = qp->sq.qid };
	int rc;

	/* Over NVMe/TCP a queue is a connection and a Connect command. */
	if (ctrl->tcp)
		return nvp_tcp_qpair_connect(ctrl, qp);
	cq.dptr.prp.prp1 = qp->cq.iova;
	sq.dptr.prp.prp1 = qp->sq.iova;
	/* The CQ must exist before an SQ can point at it. */
	rc = nvp_admin_sync_timeout(ctrl, &cq, NULL, 0, NULL, ctrl->opts.admin_timeout_ms);
	if (rc)
		return nvp_error(rc, "creating I/O completion queue %u (%u entries) failed: %s",
				 qp->sq.qid, qp->cq.entries, nvp_last_error());
	rc = nvp_admin_sync_timeout(ctrl, &sq, NULL, 0, NULL, ctrl->opts.admin_timeout_ms);
	if (rc) {
		int err = rc;
		char why[512];

		snprintf(why, sizeof(why), "creating I/O submission queue %u failed: %s",
			 qp->sq.qid, nvp_last_error());
		/* A CQ left behind would make its ID unusable: a reset clears it. */
		if (nvp_admin_sync_timeout(ctrl, &del, NULL, 0, NULL,
					   ctrl->opts.admin_timeout_ms) &&
		    atomic_load(&ctrl->state) == NVP_CTRL_LIVE)
			nvp_ctrl_escalate(ctrl, "deleting an I/O completion queue left over "
					  "from a failed queue creation failed");
		return nvp_error(err, "%s", why);
	}
	return 0;
}

int nvp_admin_delete_io_queues(struct nvp_ctrl *ctrl, struct nvp_qpair *qp)
{
	struct nvp_sqe sq = { .opc = NVP_ADMIN_DELETE_SQ, .cdw10 = qp->sq.qid };
	struct nvp_sqe cq = { .opc = NVP_ADMIN_DELETE_CQ, .cdw10 = qp->sq.qid };
	int rc;

	if (ctrl->tcp) {
		nvp_tcp_qpair_disconnect(qp);
		return 0;
	}
	/* SQ first: deleting it aborts its commands and frees the CQ. */
	rc = nvp_admin_sync_timeout(ctrl, &sq, NULL, 0, NULL, ctrl->opts.admin_timeout_ms);
	if (!rc)
		rc = nvp_admin_sync_timeout(ctrl, &cq, NULL, 0, NULL,
					    ctrl->opts.admin_timeout_ms);
	return rc;
}

/* ---- Abort -------------------------------------------------------------- */

/*
 * An Abort in flight points at the request it aborts, which lives in an I/O
 * queue pair. The queue pair may be freed before the Abort is answered, so
 * every pending Abort is on the controller's list (under the admin lock)
 * and nvp_admin_forget_aborts() detaches those aimed at a dying qpair.
 */
struct nvp_abort {
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp;	/* compared only: may be freed */
	struct nvp_req *req;	/* NULL once its qpair is gone */
	uint32_t epoch;
	struct nvp_abort *next;
};

/* Admin lock held (admin callbacks always run under it). */
static void unlink_abort(struct nvp_ctrl *ctrl, struct nvp_abort *ab)
{
	for (struct nvp_abort **pp = &ctrl->aborts; *pp; pp = &(*pp)->next) {
		if (*pp == ab) {
			*pp = ab->next;
			return;
		}
	}
}

static void abort_done(void *arg, const struct nvp_cqe *cpl)
{
	struct nvp_abort *ab = arg;
	uint8_t expected = NVP_ABORT_SENT;
	uint8_t result;

	if (NVP_CPL_IS_ERROR(cpl))
		result = NVP_ABORT_FAILED;
	else
		/* DW0 bit 0: not aborted. Not "gone": a command still waiting
		 * in the SQ runs later, so only a reset may end it. */
		result = (cpl->dw0 & 1) ? NVP_ABORT_NOT_DONE : NVP_ABORT_DONE;
	/* Only if the request is still the one we aborted. */
	if (ab->req && atomic_load(&ab->req->epoch) == ab->epoch)
		atomic_compare_exchange_strong(&ab->req->abort, &expected, result);
	unlink_abort(ab->ctrl, ab);
	free(ab);
}

int nvp_admin_abort(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, struct nvp_req *req)
{
	struct nvp_sqe cmd = {
		.opc = NVP_ADMIN_ABORT,
		.cdw10 = ((uint32_t)req->cid << 16) | qp->sq.qid,
	};
	struct nvp_abort *ab = malloc(sizeof(*ab));
	int rc;

	if (!ab)
		return -ENOMEM;
	ab->ctrl = ctrl;
	ab->qp = qp;
	ab->req = req;
	ab->epoch = atomic_load(&req->epoch);
	nvp_admin_lock(ctrl);
	rc = submit_locked(ctrl, &cmd, NULL, 0, abort_done, ab, NULL);
	if (!rc) {
		ab->next = ctrl->aborts;
		ctrl->aborts = ab;
		nvp_qpair_process(ctrl->admin, ctrl->admin->sq.entries);
	}
	nvp_admin_unlock(ctrl);
	if (rc)
		free(ab);
	return rc;
}

void nvp_admin_forget_aborts(struct nvp_ctrl *ctrl, struct nvp_qpair *qp)
{
	nvp_admin_lock(ctrl);
	for (struct nvp_abort *ab = ctrl->aborts; ab; ab = ab->next)
		if (ab->qp == qp)
			ab->req = NULL;
	nvp_admin_unlock(ctrl);
}

/* ---- Log pages ---------------------------------------------------------- */

int nvp_get_log_page(struct nvp_ctrl *ctrl, uint32_t nsid, uint8_t lid, void *buf, size_t len)
{
	uint32_t numd;
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_GET_LOG_PAGE, .nsid = nsid };

	if (!ctrl || !buf || !len || (len & 3))
		return nvp_error(-EINVAL, "nvp_get_log_page: need a buffer whose length is a "
				 "non-zero multiple of 4 (got %zu)", len);
	numd = (uint32_t)(len / 4) - 1; /* 0's based dword count, split in two halves */
	cmd.cdw10 = lid | ((numd & 0xffff) << 16);
	cmd.cdw11 = numd >> 16;
	return nvp_admin_sync_timeout(ctrl, &cmd, buf, len, NULL, ctrl->opts.admin_timeout_ms);
}
