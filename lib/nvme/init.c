/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/init.c - controller bring-up as a re-entrant state machine, and
 * shutdown and disable. See init.h for the states and why they are in this
 * order.
 *
 * Each call of nvp_init_process() runs the current state's handler once.
 * A handler either finishes its state and enters the next (enter(), which
 * sets that state's deadline), or returns -EAGAIN to be called again, or
 * fails through fail(), which names the state. Register waits read CSTS
 * once per call; admin states submit their command on one call and reap
 * the admin queue on the following ones, each command getting the whole
 * admin timeout. Nothing here sleeps: nvp_init_run() naps between calls.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem/mem.h"
#include "nvme/dbbuf.h"
#include "nvme/init.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"
#include "util/log.h"
#include "util/tsc.h"

/* NVP_QUIRK_DELAY_BEFORE_CHK_RDY: CSTS is not read this long after CC.EN=0. */
#define QUIRK_READY_DELAY_MS 2

static const char *const state_names[NVP_INIT_NUM_STATES] = {
	[NVP_INIT_READ_CAP] = "read CAP and CSTS",
	[NVP_INIT_WAIT_READY_BEFORE_DISABLE] = "wait for CSTS.RDY=1 before disabling",
	[NVP_INIT_DISABLE] = "disable (CC.EN=0)",
	[NVP_INIT_WAIT_NOT_READY] = "wait for CSTS.RDY=0 after disable",
	[NVP_INIT_CONFIGURE_ADMIN] = "configure admin queue (AQA/ASQ/ACQ)",
	[NVP_INIT_ENABLE] = "enable (write CC)",
	[NVP_INIT_WAIT_READY] = "wait for CSTS.RDY=1 after enable",
	[NVP_INIT_CMB] = "Controller Memory Buffer (CMBLOC/CMBSZ/CMBMSC)",
	[NVP_INIT_IDENTIFY_CTRL] = "Identify Controller",
	[NVP_INIT_SET_NUM_QUEUES] = "Set Features Number of Queues",
	[NVP_INIT_DOORBELL_BUFFER] = "Doorbell Buffer Config",
	[NVP_INIT_IDENTIFY_NS] = "Identify namespaces (active list, then each)",
	[NVP_INIT_ASYNC_EVENTS] = "Asynchronous Event Requests",
	[NVP_INIT_DONE] = "ready",
};

const char *nvp_init_state_name(enum nvp_init_state state)
{
	return state < NVP_INIT_NUM_STATES ? state_names[state] : "unknown state";
}

static bool is_register_wait(enum nvp_init_state state)
{
	return state == NVP_INIT_WAIT_READY_BEFORE_DISABLE || state == NVP_INIT_WAIT_NOT_READY ||
	       state == NVP_INIT_WAIT_READY;
}

static bool is_admin_state(enum nvp_init_state state)
{
	return state >= NVP_INIT_IDENTIFY_CTRL && state < NVP_INIT_DONE;
}

static uint32_t csts(struct nvp_ctrl *ctrl)
{
	return nvp_ctrl_read32(ctrl, NVP_REG_CSTS);
}

/*
 * Each state's own deadline, from when it is entered: CAP.TO for the
 * register waits; the admin timeout for admin states (restarted for each
 * command they submit); none for states that finish in one call.
 */
static void enter(struct nvp_init *ini, enum nvp_init_state state)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t timeout_ms = is_register_wait(state) ? ctrl->ready_timeout_ms :
			      is_admin_state(state) ? ctrl->opts.admin_timeout_ms : 0;

	ini->state = state;
	ini->step = 0;
	ini->state_deadline_ms = timeout_ms ? ini->now_ms() + timeout_ms : 0;
	nvp_debug("%s: init state '%s' (timeout %u ms)", ctrl->info.addr, state_names[state],
		  timeout_ms);
}

static int fail(struct nvp_init *ini, int err, const char *why)
{
	/* -EAGAIN means "in progress" to nvp_init_process()'s callers. */
	if (err == -EAGAIN || err >= 0)
		err = -EBUSY;
	return nvp_error(err, "init of %s failed in state '%s': %s", ini->ctrl->info.addr,
			 state_names[ini->state], why);
}

static int fail_gone(struct nvp_init *ini)
{
	/* While waiting on it the device stopped; before, it never answered. */
	if (is_register_wait(ini->state) || is_admin_state(ini->state))
		return fail(ini, -ENODEV, "registers read all-ones: the device was removed or "
			    "stopped responding; check dmesg and lspci");
	return fail(ini, -ENODEV, "registers read all-ones: the device was removed or is "
		    "not responding; check dmesg and lspci");
}

static int fail_cfs(struct nvp_init *ini)
{
	return fail(ini, -EIO, "the controller reports a fatal status (CSTS.CFS=1); "
		    "power-cycle or reset the device");
}

/* ---- register states ----------------------------------------------------- */

/*
 * One look at CSTS for a wait until (CSTS & mask) == want: 0 when there,
 * -EAGAIN before the state's deadline, else the failure. CFS while waiting
 * for RDY=0 is fine: disabling clears it.
 */
static int wait_csts(struct nvp_init *ini, uint32_t v, uint32_t mask, uint32_t want)
{
	struct nvp_ctrl *ctrl = ini->ctrl;

	if ((v & NVP_CSTS_CFS) && want)
		return fail_cfs(ini);
	if ((v & mask) == want)
		return 0;
	if (ini->now_ms() >= ini->state_deadline_ms) {
		char why[160];

		snprintf(why, sizeof(why), "timed out after %u ms (CAP.TO=%u, CSTS=0x%08x)",
			 ctrl->ready_timeout_ms, NVP_CAP_TO(ctrl->cap), v);
		return fail(ini, -ETIMEDOUT, why);
	}
	return -EAGAIN;
}

static int read_cap(struct nvp_init *ini, uint32_t v)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t to;

	ctrl->cap = nvp_ctrl_read64(ctrl, NVP_REG_CAP);
	if ((uint32_t)ctrl->cap == NVP_REG_GONE)
		return fail_gone(ini);
	if (!(NVP_CAP_CSS(ctrl->cap) & (NVP_CAP_CSS_NVM | NVP_CAP_CSS_CSI)))
		return fail(ini, -ENOTSUP, "the controller supports no I/O command set nvpoll "
			    "knows (CAP.CSS has neither NVM nor CSI); it may be admin-only");
	/* Rings and lists are aligned to the memory page, which nvpoll's DMA
	 * memory gives up to a hugepage (Linux refuses what its pages cannot
	 * hold, too). */
	if (NVP_CAP_MPSMIN(ctrl->cap) > 9)
		return fail(ini, -ENOTSUP, "the controller's smallest memory page (CAP.MPSMIN) is "
			    "larger than the 2 MiB nvpoll can align queues to; this controller "
			    "cannot be used");
	ctrl->db_stride = 4u << NVP_CAP_DSTRD(ctrl->cap);
	ctrl->page_size = 1u << (12 + NVP_CAP_MPSMIN(ctrl->cap));
	/* Until Identify tells MDTS, one page is all an admin command moves.
	 * A reset keeps the limit it had: queue pairs allocated meanwhile
	 * copy it. */
	if (!ini->reinit)
		ctrl->max_xfer = ctrl->page_size;
	to = NVP_CAP_TO(ctrl->cap);
	ctrl->ready_timeout_ms = (to ? to : 1) * 500;
	if (!ctrl->opts.admin_timeout_ms)
		ctrl->opts.admin_timeout_ms = ctrl->ready_timeout_ms < 5000 ? 5000 :
					      ctrl->ready_timeout_ms;
	ctrl->info.cap = ctrl->cap;
	ctrl->info.version = nvp_ctrl_read32(ctrl, NVP_REG_VS);
	ctrl->info.page_size = ctrl->page_size;
	ctrl->info.max_queue_entries = NVP_CAP_MQES(ctrl->cap) + 1;
	if (ctrl->info.max_queue_entries < 2)
		return fail(ini, -ENOTSUP, "CAP.MQES is 0: the controller allows no usable queue");

	/* Firmware or a previous user may have left it enabled. */
	if (v & NVP_CSTS_NSSRO)
		nvp_ctrl_write32(ctrl, NVP_REG_CSTS, NVP_CSTS_NSSRO); /* write 1 to clear */
	/* Clearing EN mid-enable is undefined: wait for RDY=1 first. */
	if ((nvp_ctrl_read32(ctrl, NVP_REG_CC) & NVP_CC_EN) && !(v & NVP_CSTS_RDY))
		enter(ini, NVP_INIT_WAIT_READY_BEFORE_DISABLE);
	else
		enter(ini, NVP_INIT_DISABLE);
	return -EAGAIN;
}

static int disable(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t cc = nvp_ctrl_read32(ctrl, NVP_REG_CC);

	if (cc == NVP_REG_GONE)
		return fail_gone(ini);
	nvp_ctrl_write32(ctrl, NVP_REG_CC, cc & ~(NVP_CC_EN | NVP_CC_SHN_MASK));
	enter(ini, NVP_INIT_WAIT_NOT_READY);
	/* Some controllers misbehave when CSTS is read right after CC.EN=0. */
	ini->ready_check_ms = (ctrl->quirks & NVP_QUIRK_DELAY_BEFORE_CHK_RDY) ?
			      ini->now_ms() + QUIRK_READY_DELAY_MS : 0;
	return -EAGAIN;
}

static int configure_admin(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t entries = ctrl->opts.admin_queue_size;
	int rc;

	if (entries > ctrl->info.max_queue_entries)
		entries = ctrl->info.max_queue_entries;
	if (entries > NVP_ADMIN_QUEUE_MAX)
		entries = NVP_ADMIN_QUEUE_MAX;
	if (entries < 2)
		entries = 2;
	/* A reset keeps the admin queue pair (its rings were reset). */
	if (!ctrl->admin) {
		rc = nvp_qpair_setup(ctrl, 0, entries, entries, entries - 1, ctrl->info.numa_node,
				     &ctrl->admin);
		if (rc)
			return fail(ini, rc, nvp_last_error());
	}
	/* Over NVMe/TCP the admin queue is the connection (Connect set its size). */
	if (!ctrl->tcp) {
		entries = ctrl->admin->sq.entries;
		nvp_ctrl_write32(ctrl, NVP_REG_AQA, NVP_AQA(entries, entries));
		nvp_ctrl_write64(ctrl, NVP_REG_ASQ, ctrl->admin->sq.iova);
		nvp_ctrl_write64(ctrl, NVP_REG_ACQ, ctrl->admin->cq.iova);
		nvp_cmb_before_enable(ctrl);
	}
	enter(ini, NVP_INIT_ENABLE);
	return -EAGAIN;
}

static int enable(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t cc = NVP_CC_AMS_RR | (6u << NVP_CC_IOSQES_SHIFT) | (4u << NVP_CC_IOCQES_SHIFT) |
		      (NVP_CAP_MPSMIN(ctrl->cap) << NVP_CC_MPS_SHIFT) | NVP_CC_EN;

	/* Like Linux: all I/O command sets when CAP.CSS offers CSI, else NVM. */
	cc |= (NVP_CAP_CSS(ctrl->cap) & NVP_CAP_CSS_CSI) ? NVP_CC_CSS_CSI : NVP_CC_CSS_NVM;
	/* Then each namespace's command set is read too (zoned ones, zns.c). */
	ctrl->css_csi = (NVP_CAP_CSS(ctrl->cap) & NVP_CAP_CSS_CSI) != 0;
	nvp_ctrl_write32(ctrl, NVP_REG_CC, cc);
	enter(ini, NVP_INIT_WAIT_READY);
	return -EAGAIN;
}

/* A register wait's one look at CSTS; there, go on to @next. */
static int wait_then(struct nvp_init *ini, uint32_t v, uint32_t mask, uint32_t want,
		     enum nvp_init_state next)
{
	int rc = wait_csts(ini, v, mask, want);

	if (rc)
		return rc;
	enter(ini, next);
	return -EAGAIN;
}

/* The CMB, once ready; nothing unless CMB SQs are asked for. */
static int cmb(struct nvp_init *ini)
{
	int rc = nvp_cmb_setup(ini->ctrl, ini->reinit);

	if (rc)
		return fail(ini, rc, nvp_last_error());
	enter(ini, NVP_INIT_IDENTIFY_CTRL);
	return -EAGAIN;
}

/* ---- admin states ---------------------------------------------------------- */

/* Admin completion callback (admin lock held): just record it. */
static void cmd_done(void *arg, const struct nvp_cqe *cpl)
{
	struct nvp_init *ini = arg;

	ini->cpl = *cpl;
	ini->cmd_done = true;
}

static const char *cmd_name(uint8_t opc)
{
	switch (opc) {
	case NVP_ADMIN_IDENTIFY: return "Identify";
	case NVP_ADMIN_SET_FEATURES: return "Set Features";
	case NVP_ADMIN_DOORBELL_BUF_CFG: return "Doorbell Buffer Config";
	default: return "admin command";
	}
}

/*
 * Submit this state's next command, with the whole admin timeout for it.
 * Return: -EAGAIN (check it on the next calls), or the failure.
 */
static int cmd_submit(struct nvp_init *ini, const struct nvp_sqe *cmd, void *buf, size_t len)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	int rc;

	ini->cmd_done = false;
	ini->cmd_opc = cmd->opc;
	rc = nvp_admin_submit(ctrl, cmd, buf, len, cmd_done, ini);
	if (rc)
		return fail(ini, rc, nvp_last_error());
	ini->cmd_busy = true;
	ini->step++;
	ini->state_deadline_ms = ini->now_ms() + ctrl->opts.admin_timeout_ms;
	return -EAGAIN;
}

/*
 * Give up on the command in flight: take its admin slot back. The device
 * may still answer; that completion carries the slot's old CID generation
 * and is ignored (qpair.c). What it may still write is the controller's
 * memory, freed with it once disabled; and every caller of a failed init
 * disables the controller (attach's error path; a reset's failure).
 */
static void cmd_abandon(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	struct nvp_qpair *qp = ctrl->admin;
	struct nvp_cqe cpl = { .status = NVP_STATUS_HOST_ABORTED };

	if (!ini->cmd_busy)
		return;
	ini->cmd_busy = false;
	nvp_admin_lock(ctrl);
	for (uint32_t i = 0; i < qp->num_reqs; i++) {
		struct nvp_req *req = &qp->reqs[i];

		if (req->state == NVP_REQ_INFLIGHT && req->cb == cmd_done && req->arg == ini) {
			cpl.cid = req->cid;
			nvp_qpair_complete(qp, req, &cpl);
			break;
		}
	}
	nvp_admin_unlock(ctrl);
}

/*
 * Check on the command in flight: reap the admin queue, then look at the
 * device (all-ones, CFS; once a millisecond) and at the deadline.
 * Return: 0 when it completed (@ini->cpl), -EAGAIN, or the failure.
 */
static int cmd_poll(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint64_t now;
	bool done;
	uint32_t v;
	int rc;

	if ((rc = atomic_load(&ctrl->failed)) != 0)
		return fail(ini, rc, "the controller failed meanwhile");
	/* During a reset the application's admin poller may reap it instead:
	 * the callback runs under the admin lock, so look under it too. */
	nvp_admin_lock(ctrl);
	/* Over NVMe/TCP the answer is in the socket until taken in. */
	if (!ctrl->tcp || !nvp_tcp_qpair_pump(ctrl->admin))
		nvp_qpair_process(ctrl->admin, ctrl->admin->sq.entries);
	done = ini->cmd_done;
	nvp_admin_unlock(ctrl);
	if (done) {
		ini->cmd_busy = false;
		return 0;
	}
	now = ini->now_ms();
	if (now != ini->csts_checked_ms) {
		/* A fatal or vanished controller never answers: don't wait it out. */
		ini->csts_checked_ms = now;
		v = csts(ctrl);
		if (v == NVP_REG_GONE)
			return fail_gone(ini);
		if (v & NVP_CSTS_CFS)
			return fail_cfs(ini);
	}
	if (now >= ini->state_deadline_ms) {
		char why[160];

		snprintf(why, sizeof(why), "%s (opcode 0x%02x) got no completion within %u ms "
			 "(admin timeout; CSTS=0x%08x)", cmd_name(ini->cmd_opc), ini->cmd_opc,
			 ctrl->opts.admin_timeout_ms, csts(ctrl));
		return fail(ini, -ETIMEDOUT, why);
	}
	return -EAGAIN;
}

/* A command the state cannot do without failed with @ini->cpl's status. */
static int fail_status(struct nvp_init *ini)
{
	char why[160];

	snprintf(why, sizeof(why), "%s failed: %s (SCT 0x%x SC 0x%02x)",
		 cmd_name(ini->cmd_opc), nvp_status_str(ini->cpl.status),
		 NVP_STATUS_SCT(ini->cpl.status), NVP_STATUS_SC(ini->cpl.status));
	return fail(ini, nvp_status_to_errno(ini->cpl.status), why);
}

static void copy_trimmed(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
		dst[--n] = '\0';
}

static int identify_ctrl(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t old_max_xfer = ctrl->info.max_xfer_bytes;
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .cdw10 = NVP_CNS_CTRL };
	struct nvp_id_ctrl *id;
	uint64_t mdts_bytes;
	int rc;

	if (!ini->cmd_busy) {
		if (!ctrl->id)
			ctrl->id = nvp_dma_alloc(sizeof(*ctrl->id), 4096, ctrl->info.numa_node);
		if (!ctrl->id)
			return fail(ini, -ENOMEM, nvp_last_error());
		return cmd_submit(ini, &cmd, ctrl->id, sizeof(*ctrl->id));
	}
	if ((rc = cmd_poll(ini)) != 0)
		return rc;
	if (NVP_CPL_IS_ERROR(&ini->cpl))
		return fail_status(ini);
	id = ctrl->id;
	copy_trimmed(ctrl->info.serial, id->sn, sizeof(id->sn));
	copy_trimmed(ctrl->info.model, id->mn, sizeof(id->mn));
	copy_trimmed(ctrl->info.firmware, id->fr, sizeof(id->fr));
	/* Identify data is as the controller wrote it: little-endian. */
	ctrl->info.vid = nvp_le16_to_cpu(id->vid);
	ctrl->info.oncs = nvp_le16_to_cpu(id->oncs);
	ctrl->info.vwc = id->vwc & NVP_VWC_PRESENT;

	ctrl->max_xfer = ctrl->opts.max_xfer_bytes ? ctrl->opts.max_xfer_bytes :
			 NVP_DEFAULT_MAX_XFER;
	/* MDTS is a power of two in CAP.MPSMIN pages; 0 means no limit, and a
	 * shift that leaves 32 bits is no limit either. */
	if (id->mdts && id->mdts < 32) {
		mdts_bytes = (uint64_t)ctrl->page_size << id->mdts;
		if (mdts_bytes < ctrl->max_xfer)
			ctrl->max_xfer = (uint32_t)mdts_bytes;
	}
	if (ctrl->max_xfer < ctrl->page_size)
		ctrl->max_xfer = ctrl->page_size;
	/* After a reset: never above what the queue pairs' lists were sized for. */
	if (old_max_xfer && ctrl->max_xfer > old_max_xfer)
		ctrl->max_xfer = old_max_xfer;
	ctrl->info.max_xfer_bytes = ctrl->max_xfer;
	ctrl->info.sgl_supported = (nvp_le32_to_cpu(id->sgls) & NVP_SGLS_SUPPORT_MASK) != 0 &&
				   !ctrl->opts.no_sgl;
	enter(ini, NVP_INIT_SET_NUM_QUEUES);
	return -EAGAIN;
}

static uint32_t queues_wanted(const struct nvp_ctrl *ctrl)
{
	uint32_t want = ctrl->opts.num_io_queues;

	if (want == 0)
		want = 1;
	return want > NVP_MAX_IO_QUEUES ? NVP_MAX_IO_QUEUES : want;
}

static int set_num_queues(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t want = queues_wanted(ctrl), nsqa, ncqa;
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = NVP_FEAT_NUM_QUEUES };
	int rc;

	if (!ini->cmd_busy) {
		cmd.cdw11 = ((want - 1) << 16) | (want - 1);
		return cmd_submit(ini, &cmd, NULL, 0);
	}
	if ((rc = cmd_poll(ini)) != 0)
		return rc;
	if (NVP_CPL_IS_ERROR(&ini->cpl))
		return fail_status(ini);
	/* The controller may grant fewer (or, per spec, more) than asked. */
	nsqa = (ini->cpl.dw0 & 0xffff) + 1;
	ncqa = (ini->cpl.dw0 >> 16) + 1;
	/* After a reset the queue-ID table stays; it never grows. */
	if (ctrl->qid_used && want > ctrl->num_io_queues)
		want = ctrl->num_io_queues;
	ctrl->num_io_queues = want;
	if (nsqa < ctrl->num_io_queues)
		ctrl->num_io_queues = nsqa;
	if (ncqa < ctrl->num_io_queues)
		ctrl->num_io_queues = ncqa;
	ctrl->info.num_io_queues = ctrl->num_io_queues;
	if (!ctrl->qid_used)
		ctrl->qid_used = calloc(ctrl->num_io_queues + 1, sizeof(bool));
	if (!ctrl->qid_used)
		return fail(ini, -ENOMEM, "out of memory");
	enter(ini, NVP_INIT_DOORBELL_BUFFER);
	return -EAGAIN;
}

/* Shadow doorbells (dbbuf.c) save an MMIO write, a VM exit under
 * emulation, per ring; a controller that refuses them still works with
 * MMIO ones. One that does not answer fails the state like any other. */
static int doorbell_buffer(struct nvp_init *ini)
{
	struct nvp_sqe cmd;
	int rc;

	if (!ini->cmd_busy) {
		if (nvp_dbbuf_prepare(ini->ctrl, &cmd))
			return cmd_submit(ini, &cmd, NULL, 0);
		enter(ini, NVP_INIT_IDENTIFY_NS);
		return -EAGAIN;
	}
	if ((rc = cmd_poll(ini)) != 0)
		return rc;
	nvp_dbbuf_configured(ini->ctrl, &ini->cpl);
	enter(ini, NVP_INIT_IDENTIFY_NS);
	return -EAGAIN;
}

/*
 * With CC.CSS = 110b, after each Identify Namespace: its descriptor list
 * (CNS 03h) for its CSI; for a zoned one, the ZNS Identify Controller once
 * per run (CNS 06h: ZASL) and its ZNS Identify Namespace (CNS 05h).
 */
static int ns_csi_submit(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t nsid = ini->scan.ids[ini->ns_idx - 1];
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .nsid = nsid,
			       .cdw10 = NVP_CNS_NS_DESC_LIST };

	if (ini->ns_csi_step == 2)
		nvp_zns_identify_cmd(&cmd, NVP_CNS_CSI_CTRL, NVP_CSI_ZNS, 0);
	else if (ini->ns_csi_step == 3)
		nvp_zns_identify_cmd(&cmd, NVP_CNS_CSI_NS, NVP_CSI_ZNS, nsid);
	return cmd_submit(ini, &cmd, ctrl->ns_page, 4096);
}

static int ns_csi_done(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t nsid = ini->scan.ids[ini->ns_idx - 1];
	int rc = NVP_CPL_IS_ERROR(&ini->cpl) ? nvp_status_to_errno(ini->cpl.status) : 0;

	if (rc && nvp_ns_identify_fatal(rc))
		return fail_status(ini);
	if (rc)
		nvp_warn("%s: Identify CNS %02xh for namespace %u failed (%s)%s", ctrl->info.addr,
			 ini->ns_csi_step == 1 ? 3 : ini->ns_csi_step == 2 ? 6 : 5, nsid,
			 nvp_status_str(ini->cpl.status),
			 ini->ns_csi_step == 1 ? "; taking it for an NVM namespace" :
			 ini->ns_csi_step == 2 ? "; assuming ZASL 0 (the transfer limit)" :
			 "; its I/O is refused");
	switch (ini->ns_csi_step) {
	case 1:
		ini->ns_csi = rc ? NVP_CSI_NVM : nvp_zns_desc_csi(ctrl->ns_page);
		if (ini->ns_csi == NVP_CSI_ZNS) {
			ini->ns_csi_step = ini->zns_ctrl_read ? 3 : 2;
			return -EAGAIN;
		}
		nvp_zns_set_csi(ctrl, nsid, ini->ns_csi, NULL);
		break;
	case 2:
		nvp_zns_set_ctrl(ctrl, rc ? NULL : ctrl->ns_page);
		ini->zns_ctrl_read = true;
		ini->ns_csi_step = 3;
		return -EAGAIN;
	default:
		nvp_zns_set_csi(ctrl, nsid, NVP_CSI_ZNS, rc ? NULL : ctrl->ns_page);
		break;
	}
	ini->ns_csi_step = 0;
	return -EAGAIN;
}

/*
 * The namespace scan (ns.c) one command at a time: active list pages
 * (CNS 02h) while the list says there are more, then Identify Namespace
 * for each listed NSID. The page is the controller's (see cmd_abandon()).
 */
static int identify_namespaces(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY };
	uint32_t nsid;
	int rc;

	if (!ini->cmd_busy) {
		if (!ctrl->ns_page)
			ctrl->ns_page = nvp_dma_alloc(4096, 4096, ctrl->info.numa_node);
		if (!ctrl->ns_page)
			return fail(ini, -ENOMEM, nvp_last_error());
		if (ini->step == 0) {
			/* No list at all when NN is 0. */
			ini->ns_listing = nvp_ns_scan_begin(ctrl, &ini->scan, ini->reinit);
			ini->ns_idx = 0;
		}
		memset(ctrl->ns_page, 0, 4096);
		if (ini->ns_listing) {
			cmd.cdw10 = NVP_CNS_ACTIVE_NS_LIST;
			cmd.nsid = ini->scan.after;
			return cmd_submit(ini, &cmd, ctrl->ns_page, 4096);
		}
		if (ini->ns_csi_step)
			return ns_csi_submit(ini);
		if (ini->ns_idx < ini->scan.count) {
			cmd.cdw10 = NVP_CNS_NS;
			cmd.nsid = ini->scan.ids[ini->ns_idx];
			return cmd_submit(ini, &cmd, ctrl->ns_page, 4096);
		}
		nvp_ns_scan_end(ctrl, &ini->scan, true);
		enter(ini, NVP_INIT_ASYNC_EVENTS);
		return -EAGAIN;
	}
	if ((rc = cmd_poll(ini)) != 0)
		return rc;
	if (ini->ns_listing) {
		if (NVP_CPL_IS_ERROR(&ini->cpl))
			return fail_status(ini);
		rc = nvp_ns_scan_list(ctrl, &ini->scan, ctrl->ns_page);
		if (rc < 0)
			return fail(ini, rc, nvp_last_error());
		ini->ns_listing = rc > 0;	/* another page, or the namespaces */
		return -EAGAIN;
	}
	if (ini->ns_csi_step)
		return ns_csi_done(ini);
	nsid = ini->scan.ids[ini->ns_idx++];
	rc = NVP_CPL_IS_ERROR(&ini->cpl) ? nvp_status_to_errno(ini->cpl.status) : 0;
	if (rc && nvp_ns_identify_fatal(rc))
		return fail_status(ini);
	if (rc) {
		/* The controller refused this one (as Linux does: skip it). */
		nvp_warn("%s: Identify Namespace %u failed (%s); leaving it out",
			 ctrl->info.addr, nsid, nvp_status_str(ini->cpl.status));
		return -EAGAIN;
	}
	rc = nvp_ns_scan_found(ctrl, &ini->scan, nsid, ctrl->ns_page);
	if (rc)
		return fail(ini, rc, nvp_last_error());
	/* With command sets selected, learn this one's (zoned or not). */
	ini->ns_csi_step = ctrl->css_csi ? 1 : 0;
	return -EAGAIN;
}

/* Ask for every event the controller can report, then keep an AER posted. */
static int async_events(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	struct nvp_sqe cmd;
	int rc;

	if (!ini->cmd_busy) {
		nvp_aer_config_cmd(ctrl, &cmd);
		return cmd_submit(ini, &cmd, NULL, 0);
	}
	if ((rc = cmd_poll(ini)) != 0)
		return rc;
	if (NVP_CPL_IS_ERROR(&ini->cpl))
		nvp_debug("%s: Set Features Asynchronous Event Configuration failed (%s); "
			  "posting the request anyway", ctrl->info.addr,
			  nvp_status_str(ini->cpl.status));
	/* The AER stays outstanding by design: no deadline, not this run's. */
	nvp_aer_enable(ctrl);
	enter(ini, NVP_INIT_DONE);
	return 0;
}

/* ---- the machine ------------------------------------------------------------ */

static int step(struct nvp_init *ini)
{
	uint32_t v = 0;

	/* Register states read CSTS once per call, and all-ones ends them;
	 * admin states look at it while they wait (cmd_poll()). */
	if (!is_admin_state(ini->state)) {
		/* The quirk's quiet time after CC.EN=0: no register read at all. */
		if (ini->state == NVP_INIT_WAIT_NOT_READY && ini->now_ms() < ini->ready_check_ms)
			return -EAGAIN;
		v = csts(ini->ctrl);
		if (v == NVP_REG_GONE)
			return fail_gone(ini);
	}
	switch (ini->state) {
	case NVP_INIT_READ_CAP:
		return read_cap(ini, v);
	case NVP_INIT_WAIT_READY_BEFORE_DISABLE:
		return wait_then(ini, v, NVP_CSTS_RDY, NVP_CSTS_RDY, NVP_INIT_DISABLE);
	case NVP_INIT_DISABLE:
		return disable(ini);
	case NVP_INIT_WAIT_NOT_READY:
		return wait_then(ini, v, NVP_CSTS_RDY, 0, NVP_INIT_CONFIGURE_ADMIN);
	case NVP_INIT_CONFIGURE_ADMIN:
		return configure_admin(ini);
	case NVP_INIT_ENABLE:
		return enable(ini);
	case NVP_INIT_WAIT_READY:
		return wait_then(ini, v, NVP_CSTS_RDY, NVP_CSTS_RDY, NVP_INIT_CMB);
	case NVP_INIT_CMB:
		return cmb(ini);
	case NVP_INIT_IDENTIFY_CTRL:
		return identify_ctrl(ini);
	case NVP_INIT_SET_NUM_QUEUES:
		return set_num_queues(ini);
	case NVP_INIT_DOORBELL_BUFFER:
		return doorbell_buffer(ini);
	case NVP_INIT_IDENTIFY_NS:
		return identify_namespaces(ini);
	case NVP_INIT_ASYNC_EVENTS:
		return async_events(ini);
	default:
		return 0;	/* NVP_INIT_DONE */
	}
}

int nvp_init_process(struct nvp_init *ini)
{
	const struct nvp_ctrl *prev;
	int rc;

	if (ini->state == NVP_INIT_DONE)
		return 0;
	if (ini->result)
		return ini->result;
	if (!ini->now_ms)
		ini->now_ms = nvp_monotonic_ms;
	/* Its admin commands pass during a reset; a failure in here fails the
	 * step rather than starting a reset. */
	prev = nvp_ctrl_reconfiguring(ini->ctrl);
	rc = step(ini);
	if (rc < 0 && rc != -EAGAIN) {
		/* Nothing of this run stays behind: its admin slot, its scan. */
		cmd_abandon(ini);
		if (ini->state == NVP_INIT_IDENTIFY_NS)
			nvp_ns_scan_end(ini->ctrl, &ini->scan, false);
		ini->result = rc;
	}
	nvp_ctrl_reconfiguring(prev);
	return rc;
}

int nvp_init_run(struct nvp_init *ini)
{
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = 100 * 1000 };

	for (;;) {
		enum nvp_init_state state = ini->state;
		int rc = nvp_init_process(ini);

		if (rc != -EAGAIN)
			return rc;
		if (ini->state != state)
			continue;	/* a new state: its first step at once */
		if (ini->on_poll)
			ini->on_poll(ini->poll_arg);
		else if (is_admin_state(ini->state))
			sched_yield();	/* admin answers take microseconds */
		else
			nanosleep(&nap, NULL);
	}
}

int nvp_ctrl_init(struct nvp_ctrl *ctrl)
{
	struct nvp_init ini = { .ctrl = ctrl, .now_ms = nvp_monotonic_ms };

	return nvp_init_run(&ini);
}

/* The reset (reset.c) runs the whole sequence under its reset lock, so it
 * blocks in nvp_init_run() rather than stepping from the admin poller. */
int nvp_ctrl_reinit(struct nvp_ctrl *ctrl)
{
	struct nvp_init ini = { .ctrl = ctrl, .now_ms = nvp_monotonic_ms, .reinit = true };

	return nvp_init_run(&ini);
}

/* Poll CSTS outside the init sequence (detach paths), bounded by CAP.TO. */
static int wait_csts_plain(struct nvp_ctrl *ctrl, uint32_t mask, uint32_t want, uint32_t ms)
{
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = 100 * 1000 };
	uint64_t deadline = nvp_monotonic_ms() + ms;

	for (;;) {
		uint32_t v = csts(ctrl);

		if (v == NVP_REG_GONE)
			return -ENODEV;
		if ((v & mask) == want)
			return 0;
		if (nvp_monotonic_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
}

int nvp_ctrl_disable(struct nvp_ctrl *ctrl)
{
	uint32_t cc = nvp_ctrl_read32(ctrl, NVP_REG_CC);

	if (cc == NVP_REG_GONE)
		return -ENODEV;
	nvp_ctrl_write32(ctrl, NVP_REG_CC, cc & ~NVP_CC_EN);
	return wait_csts_plain(ctrl, NVP_CSTS_RDY, 0, ctrl->ready_timeout_ms);
}

int nvp_ctrl_shutdown(struct nvp_ctrl *ctrl)
{
	uint32_t cc = nvp_ctrl_read32(ctrl, NVP_REG_CC);
	int rc;

	if (cc == NVP_REG_GONE)
		return -ENODEV;
	if (!(cc & NVP_CC_EN))
		return 0;
	nvp_ctrl_write32(ctrl, NVP_REG_CC, (cc & ~NVP_CC_SHN_MASK) | NVP_CC_SHN_NORMAL);
	rc = wait_csts_plain(ctrl, NVP_CSTS_SHST_MASK, NVP_CSTS_SHST_CMPLT,
			     ctrl->ready_timeout_ms);
	if (rc == -ETIMEDOUT)
		nvp_warn("%s: shutdown did not complete within %u ms (CAP.TO); continuing",
			 ctrl->info.addr, ctrl->ready_timeout_ms);
	return rc;
}
