/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/reset.c - controller reset under a running application, and the
 * escalation that leads to it.
 *
 * The order is Linux's (nvme_timeout() → nvme_reset_ctrl() →
 * nvme_reset_work()): a timed-out I/O is aborted first (qpair.c); if that
 * does not resolve it, or an admin command times out, or CSTS.CFS is seen,
 * or queue creation/deletion leaves the controller in doubt, the controller
 * is reset; a reset that fails marks it failed (ctrl.c).
 *
 * A reset and the queue pairs meet without a lock on the I/O path:
 *
 *   reset thread                              each queue pair's owner
 *   ------------                              -----------------------
 *   state = RESETTING
 *   CC.EN = 0, wait CSTS.RDY = 0  (no more DMA)
 *   gen++ (release) ───────────────────────▶  next poll: gen differs →
 *   fail admin commands (retryable)            post interrupted commands
 *   init sequence again, AER                   again (or complete them,
 *   state = LIVE ──────────────────────────▶   retryable), reset rings;
 *                                              once LIVE: Create CQ/SQ,
 *                                              ring what waits.
 *
 * Since the generation moves only after the controller stopped, a queue
 * pair that sees it may hand buffers back at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/init.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"
#include "util/log.h"
#include "util/tsc.h"

/*
 * The controller this thread is bringing up, resetting or rescanning, if
 * any: its admin commands pass during a reset, and a failure inside it
 * fails the step instead of starting another reset.
 */
static __thread const struct nvp_ctrl *resetting;

bool nvp_ctrl_resetting_here(const struct nvp_ctrl *ctrl)
{
	return resetting == ctrl;
}

const struct nvp_ctrl *nvp_ctrl_reconfiguring(const struct nvp_ctrl *ctrl)
{
	const struct nvp_ctrl *prev = resetting;

	resetting = ctrl;
	return prev;
}

/*
 * Linux's nvme_dev_disable(): a controller that still answers has its I/O
 * queues deleted before it is disabled, so it ends in-flight commands
 * itself (completed, or aborted for the SQ deletion) rather than having
 * them cut off by CC.EN=0 (QEMU 7.2 can crash when disabled under I/O).
 * Nothing here is final: the queue pairs learn of the reset only at the
 * generation bump, and post again what the deletion aborted (qpair.c does
 * not report those aborts). Failures are ignored: the disable follows.
 */
static void delete_io_queues(struct nvp_ctrl *ctrl)
{
	uint32_t csts = nvp_ctrl_read32(ctrl, NVP_REG_CSTS);
	uint32_t n = 0, *qids;

	if (csts == NVP_REG_GONE || (csts & NVP_CSTS_CFS) || !(csts & NVP_CSTS_RDY) ||
	    !ctrl->qid_used)
		return;
	qids = calloc(ctrl->num_io_queues + 1, sizeof(*qids));
	if (!qids)
		return;
	nvp_admin_lock(ctrl);
	for (uint32_t qid = 1; qid <= ctrl->num_io_queues; qid++)
		if (ctrl->qid_used[qid])
			qids[n++] = qid;
	nvp_admin_unlock(ctrl);
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			/* SQs first: a CQ can only go once its SQs are gone. */
			struct nvp_sqe cmd = { .opc = pass ? NVP_ADMIN_DELETE_CQ : NVP_ADMIN_DELETE_SQ,
					       .cdw10 = qids[i] };

			if (nvp_admin_sync_timeout(ctrl, &cmd, NULL, 0, NULL,
						   ctrl->opts.admin_timeout_ms) == -ETIMEDOUT)
				goto out;	/* not answering: just disable it */
		}
	}
out:
	free(qids);
}

/* Reset lock held; @why says what led here. */
static int reset_locked(struct nvp_ctrl *ctrl, const char *why)
{
	struct nvp_event ev = { .size = sizeof(ev), .reason = why };
	uint64_t t0 = nvp_monotonic_us();
	char msg[512];
	int rc;

	atomic_fetch_add(&ctrl->resets_started, 1);
	atomic_store(&ctrl->state, NVP_CTRL_RESETTING);
	resetting = ctrl;
	/* A reset waiting for an NVMe/TCP target tries again: started once. */
	if (!nvp_tcp_reconnecting(ctrl)) {
		nvp_warn("%s: resetting the controller: %s", ctrl->info.addr, why);
		ev.type = NVP_EVENT_RESET_STARTED;
		nvp_ctrl_emit_event(ctrl, &ev);
	}

	/* 1. Stop it: once CSTS.RDY is 0 the controller does no more DMA. Over
	 * NVMe/TCP: a new association instead; the old one goes with its
	 * connections, and nothing arrives on them once they stop being polled. */
	if (ctrl->tcp) {
		rc = nvp_tcp_ctrl_reconnect(ctrl);
		if (rc && nvp_tcp_reconnect_later(ctrl)) {
			/* The target is away: the queue pairs let go of what they
			 * hold (posted again once back, or ended retryable) and
			 * the next attempt comes from nvp_ctrl_process_admin(). */
			atomic_fetch_add_explicit(&ctrl->gen, NVP_GEN_STEP, memory_order_release);
			nvp_admin_lock(ctrl);
			nvp_qpair_fail_all(ctrl->admin, NVP_STATUS_RESET_ABORTED);
			nvp_qpair_reset_rings(ctrl->admin);
			ctrl->aer.posted = false;
			nvp_admin_unlock(ctrl);
			resetting = NULL;
			return 0;
		}
		if (rc) {
			snprintf(msg, sizeof(msg), "reset: the target stayed unreachable for %u ms "
				 "(tcp_ctrl_loss_timeout_ms): %s", ctrl->opts.tcp_ctrl_loss_timeout_ms,
				 nvp_last_error());
			nvp_ctrl_fail(ctrl, -ENOTCONN, msg);
			rc = -ENOTCONN;
			goto out;
		}
		nvp_tcp_reconnected(ctrl);
	} else {
		delete_io_queues(ctrl);
	}
	rc = nvp_ctrl_disable(ctrl);
	if (rc == -ENODEV) {
		nvp_ctrl_fail(ctrl, -ENODEV, "registers read all-ones during a reset: the "
			      "device was removed");
		goto out;
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "reset: the controller did not stop (CSTS.RDY stayed "
			 "1 for %u ms after CC.EN=0)", ctrl->ready_timeout_ms);
		nvp_ctrl_fail(ctrl, -ENXIO, msg);
		rc = -ENXIO;
		goto out;
	}
	/* 2. Queue pairs may now end or re-post what they hold. */
	atomic_fetch_add_explicit(&ctrl->gen, NVP_GEN_STEP, memory_order_release);
	/* 3. The admin queue's commands die with the controller's state. */
	nvp_admin_lock(ctrl);
	nvp_qpair_fail_all(ctrl->admin, NVP_STATUS_RESET_ABORTED);
	nvp_qpair_reset_rings(ctrl->admin);
	ctrl->aer.posted = false;
	nvp_admin_unlock(ctrl);
	/* 4. The init sequence again, keeping every allocation and handle. */
	rc = nvp_ctrl_reinit(ctrl);
	if (rc) {
		snprintf(msg, sizeof(msg), "the reset could not bring it back: %s",
			 nvp_last_error());
		nvp_ctrl_fail(ctrl, atomic_load(&ctrl->failed) == -ENODEV ? -ENODEV : -ENXIO, msg);
		rc = atomic_load(&ctrl->failed);
		goto out;
	}
	ctrl->last_reset_us = nvp_monotonic_us() - t0;
	atomic_fetch_add(&ctrl->resets, 1);
	atomic_store(&ctrl->state, NVP_CTRL_LIVE);
	nvp_warn("%s: reset done in %llu us", ctrl->info.addr,
		 (unsigned long long)ctrl->last_reset_us);
out:
	resetting = NULL;
	ev.type = NVP_EVENT_RESET_DONE;
	ev.err = rc;
	ev.duration_us = nvp_monotonic_us() - t0;
	ev.reason = rc ? nvp_last_error() : why;
	nvp_ctrl_emit_event(ctrl, &ev);
	return rc;
}

/*
 * Reset unless one ran since @seen resets had started (the waiter's cause
 * was then most likely dealt with by it).
 */
static int reset_once(struct nvp_ctrl *ctrl, const char *why, uint64_t seen)
{
	int rc;

	pthread_mutex_lock(&ctrl->reset_lock);
	if ((rc = atomic_load(&ctrl->failed)) != 0) {
		pthread_mutex_unlock(&ctrl->reset_lock);
		return rc;
	}
	if (atomic_load(&ctrl->resets_started) != seen) {
		pthread_mutex_unlock(&ctrl->reset_lock);
		return 0;
	}
	rc = reset_locked(ctrl, why);
	pthread_mutex_unlock(&ctrl->reset_lock);
	return rc;
}

int nvp_ctrl_escalate(struct nvp_ctrl *ctrl, const char *why)
{
	int rc = atomic_load(&ctrl->failed);

	if (rc)
		return rc;
	/* Inside a reset or rescan: the step fails, and with it the reset. */
	if (nvp_ctrl_resetting_here(ctrl))
		return nvp_error(-EIO, "%s: %s while it was being brought up, reset or "
				 "rescanned", ctrl->info.addr, why);
	if (nvp_admin_held(ctrl))
		return nvp_error(-EDEADLK, "%s: %s, but a reset cannot run from an admin "
				 "completion callback", ctrl->info.addr, why);
	return reset_once(ctrl, why, atomic_load(&ctrl->resets_started));
}

int nvp_ctrl_reconnect(struct nvp_ctrl *ctrl)
{
	int rc;

	if (!nvp_tcp_reconnect_due(ctrl) || nvp_admin_held(ctrl) || nvp_ctrl_resetting_here(ctrl))
		return 0;
	/* Another thread's reset is the attempt. */
	if (pthread_mutex_trylock(&ctrl->reset_lock))
		return 0;
	rc = atomic_load(&ctrl->failed);
	if (!rc && atomic_load(&ctrl->state) == NVP_CTRL_RESETTING && nvp_tcp_reconnect_due(ctrl))
		rc = reset_locked(ctrl, "reconnecting to the NVMe/TCP target");
	pthread_mutex_unlock(&ctrl->reset_lock);
	return rc;
}

int nvp_ctrl_reset(struct nvp_ctrl *ctrl)
{
	int rc;

	if (!ctrl)
		return nvp_error(-EINVAL, "nvp_ctrl_reset: controller is NULL");
	if (nvp_admin_held(ctrl) || nvp_ctrl_resetting_here(ctrl))
		return nvp_error(-EDEADLK, "nvp_ctrl_reset() called from an admin completion or "
				 "event callback of %s; call it from the application's own "
				 "context", ctrl->info.addr);
	pthread_mutex_lock(&ctrl->reset_lock);
	rc = atomic_load(&ctrl->failed);
	if (rc)
		rc = nvp_error(rc, "nvp_ctrl_reset: controller %s has %s; free its queue pairs "
			       "and detach it", ctrl->info.addr,
			       rc == -ENODEV ? "been removed" : "failed");
	else
		rc = reset_locked(ctrl, "requested by the application (nvp_ctrl_reset)");
	pthread_mutex_unlock(&ctrl->reset_lock);
	return rc;
}

int nvp_ctrl_rescan_ns(struct nvp_ctrl *ctrl)
{
	int rc;

	pthread_mutex_lock(&ctrl->reset_lock);
	if (atomic_load(&ctrl->state) != NVP_CTRL_LIVE) {
		/* A reset rescans anyway; a failed controller has nothing to scan. */
		pthread_mutex_unlock(&ctrl->reset_lock);
		return 0;
	}
	resetting = ctrl;
	rc = nvp_ns_scan(ctrl, true);
	resetting = NULL;
	ctrl->aer.rescans++;
	pthread_mutex_unlock(&ctrl->reset_lock);
	return rc;
}
