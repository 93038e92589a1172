/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/init.c - controller bring-up, shutdown and disable.
 * See init.h for the states and why they are in this order.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem/mem.h"
#include "nvme/init.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"
#include "util/log.h"
#include "util/tsc.h"

static const char *const state_names[NVP_INIT_NUM_STATES] = {
	[NVP_INIT_READ_CAP] = "read CAP and CSTS",
	[NVP_INIT_WAIT_READY_BEFORE_DISABLE] = "wait for CSTS.RDY=1 before disabling",
	[NVP_INIT_DISABLE] = "disable (CC.EN=0)",
	[NVP_INIT_WAIT_NOT_READY] = "wait for CSTS.RDY=0 after disable",
	[NVP_INIT_CONFIGURE_ADMIN] = "configure admin queue (AQA/ASQ/ACQ)",
	[NVP_INIT_ENABLE] = "enable (write CC)",
	[NVP_INIT_WAIT_READY] = "wait for CSTS.RDY=1 after enable",
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

static uint32_t csts(struct nvp_ctrl *ctrl)
{
	return nvp_reg_read32(ctrl->bar, NVP_REG_CSTS);
}

static void enter(struct nvp_init *ini, enum nvp_init_state state, uint32_t timeout_ms)
{
	ini->state = state;
	ini->state_deadline_ms = ini->now_ms() + timeout_ms;
	nvp_debug("%s: init state '%s' (timeout %u ms)", ini->ctrl->info.addr,
		  state_names[state], timeout_ms);
}

static int fail(struct nvp_init *ini, int err, const char *why)
{
	return nvp_error(err, "init of %s failed in state '%s': %s", ini->ctrl->info.addr,
			 state_names[ini->state], why);
}

/*
 * Poll CSTS until (CSTS & mask) == want, the state's deadline passes, or the
 * controller reports a fatal status or vanishes (all-ones): never hang.
 */
static int wait_csts(struct nvp_init *ini, uint32_t mask, uint32_t want)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = 100 * 1000 };

	for (;;) {
		uint32_t v = csts(ctrl);

		if (v == NVP_REG_GONE)
			return fail(ini, -ENODEV, "registers read all-ones: the device was "
				    "removed or stopped responding; check dmesg and lspci");
		/* CFS while waiting for RDY=0 is fine: disabling clears it. */
		if ((v & NVP_CSTS_CFS) && !(mask == NVP_CSTS_RDY && want == 0))
			return fail(ini, -EIO, "the controller reports a fatal status "
				    "(CSTS.CFS=1); power-cycle or reset the device");
		if ((v & mask) == want)
			return 0;
		if (ini->now_ms() >= ini->state_deadline_ms) {
			char why[160];

			snprintf(why, sizeof(why), "timed out after %u ms (CAP.TO=%u, CSTS=0x%08x)",
				 ctrl->ready_timeout_ms, NVP_CAP_TO(ctrl->cap), v);
			return fail(ini, -ETIMEDOUT, why);
		}
		if (ini->on_poll)
			ini->on_poll(ini->poll_arg);
		else
			nanosleep(&nap, NULL);
	}
}

static int read_cap(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t to;

	ctrl->cap = nvp_reg_read64(ctrl->bar, NVP_REG_CAP);
	if ((uint32_t)ctrl->cap == NVP_REG_GONE || csts(ctrl) == NVP_REG_GONE)
		return fail(ini, -ENODEV, "registers read all-ones: the device was removed or "
			    "is not responding; check dmesg and lspci");
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
	ctrl->info.version = nvp_reg_read32(ctrl->bar, NVP_REG_VS);
	ctrl->info.page_size = ctrl->page_size;
	ctrl->info.max_queue_entries = NVP_CAP_MQES(ctrl->cap) + 1;
	if (ctrl->info.max_queue_entries < 2)
		return fail(ini, -ENOTSUP, "CAP.MQES is 0: the controller allows no usable queue");
	return 0;
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
	entries = ctrl->admin->sq.entries;
	nvp_reg_write32(ctrl->bar, NVP_REG_AQA, NVP_AQA(entries, entries));
	nvp_reg_write64(ctrl->bar, NVP_REG_ASQ, ctrl->admin->sq.iova);
	nvp_reg_write64(ctrl->bar, NVP_REG_ACQ, ctrl->admin->cq.iova);
	return 0;
}

static void enable(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t cc = NVP_CC_AMS_RR | (6u << NVP_CC_IOSQES_SHIFT) | (4u << NVP_CC_IOCQES_SHIFT) |
		      (NVP_CAP_MPSMIN(ctrl->cap) << NVP_CC_MPS_SHIFT) | NVP_CC_EN;

	/* Like Linux: all I/O command sets when CAP.CSS offers CSI, else NVM. */
	cc |= (NVP_CAP_CSS(ctrl->cap) & NVP_CAP_CSS_CSI) ? NVP_CC_CSS_CSI : NVP_CC_CSS_NVM;
	nvp_reg_write32(ctrl->bar, NVP_REG_CC, cc);
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
	struct nvp_id_ctrl *id;
	uint64_t mdts_bytes;
	int rc;

	if (!ctrl->id)
		ctrl->id = nvp_dma_alloc(sizeof(*ctrl->id), 4096, ctrl->info.numa_node);
	if (!ctrl->id)
		return fail(ini, -ENOMEM, nvp_last_error());
	rc = nvp_admin_identify(ctrl, NVP_CNS_CTRL, 0, ctrl->id);
	if (rc)
		return fail(ini, rc, nvp_last_error());
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
	return 0;
}

static int set_num_queues(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t want = ctrl->opts.num_io_queues;
	struct nvp_cqe cpl;
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = NVP_FEAT_NUM_QUEUES };
	uint32_t nsqa, ncqa;
	int rc;

	if (want == 0)
		want = 1;
	if (want > NVP_MAX_IO_QUEUES)
		want = NVP_MAX_IO_QUEUES;
	cmd.cdw11 = ((want - 1) << 16) | (want - 1);
	rc = nvp_admin_sync_timeout(ctrl, &cmd, NULL, 0, &cpl, ctrl->opts.admin_timeout_ms);
	if (rc)
		return fail(ini, rc, nvp_last_error());
	/* The controller may grant fewer (or, per spec, more) than asked. */
	nsqa = (cpl.dw0 & 0xffff) + 1;
	ncqa = (cpl.dw0 >> 16) + 1;
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
	return 0;
}

/* Shadow doorbells save an MMIO write (a VM exit under emulation) per ring
 * (dbbuf.c); a controller that refuses them still works with MMIO ones. */
static void doorbell_buffer(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	struct nvp_sqe cmd;
	struct nvp_cqe cpl = { .status = NVP_STATUS_HOST_ABORTED };

	if (!nvp_dbbuf_prepare(ctrl, &cmd))
		return;
	/* No answer leaves @cpl an error: MMIO only. */
	nvp_admin_sync_timeout(ctrl, &cmd, NULL, 0, &cpl, ctrl->opts.admin_timeout_ms);
	nvp_dbbuf_configured(ctrl, &cpl);
}

static int identify_namespaces(struct nvp_init *ini)
{
	int rc = nvp_ns_scan(ini->ctrl, ini->reinit);

	return rc ? fail(ini, rc, nvp_last_error()) : 0;
}

/* The sequence; nvp_init_run() marks the thread as reconfiguring around it. */
static int init_steps(struct nvp_init *ini)
{
	struct nvp_ctrl *ctrl = ini->ctrl;
	uint32_t v;
	int rc;

	enter(ini, NVP_INIT_READ_CAP, 0);
	rc = read_cap(ini);
	if (rc)
		return rc;

	/* Firmware or a previous user may have left it enabled. */
	v = csts(ctrl);
	if (v & NVP_CSTS_NSSRO)
		nvp_reg_write32(ctrl->bar, NVP_REG_CSTS, NVP_CSTS_NSSRO); /* write 1 to clear */
	if ((nvp_reg_read32(ctrl->bar, NVP_REG_CC) & NVP_CC_EN) && !(v & NVP_CSTS_RDY)) {
		/* Clearing EN mid-enable is undefined: wait for RDY=1 first. */
		enter(ini, NVP_INIT_WAIT_READY_BEFORE_DISABLE, ctrl->ready_timeout_ms);
		rc = wait_csts(ini, NVP_CSTS_RDY, NVP_CSTS_RDY);
		if (rc)
			return rc;
	}

	enter(ini, NVP_INIT_DISABLE, 0);
	v = nvp_reg_read32(ctrl->bar, NVP_REG_CC);
	nvp_reg_write32(ctrl->bar, NVP_REG_CC, v & ~(NVP_CC_EN | NVP_CC_SHN_MASK));
	if (ctrl->quirks & NVP_QUIRK_DELAY_BEFORE_CHK_RDY) {
		const struct timespec delay = { .tv_sec = 0, .tv_nsec = 2 * 1000 * 1000 };

		nanosleep(&delay, NULL);
	}
	enter(ini, NVP_INIT_WAIT_NOT_READY, ctrl->ready_timeout_ms);
	rc = wait_csts(ini, NVP_CSTS_RDY, 0);
	if (rc)
		return rc;

	enter(ini, NVP_INIT_CONFIGURE_ADMIN, 0);
	rc = configure_admin(ini);
	if (rc)
		return rc;

	enter(ini, NVP_INIT_ENABLE, 0);
	enable(ini);
	enter(ini, NVP_INIT_WAIT_READY, ctrl->ready_timeout_ms);
	rc = wait_csts(ini, NVP_CSTS_RDY, NVP_CSTS_RDY);
	if (rc)
		return rc;

	enter(ini, NVP_INIT_IDENTIFY_CTRL, ctrl->opts.admin_timeout_ms);
	rc = identify_ctrl(ini);
	if (rc)
		return rc;
	enter(ini, NVP_INIT_SET_NUM_QUEUES, ctrl->opts.admin_timeout_ms);
	rc = set_num_queues(ini);
	if (rc)
		return rc;
	enter(ini, NVP_INIT_DOORBELL_BUFFER, ctrl->opts.admin_timeout_ms);
	doorbell_buffer(ini);
	enter(ini, NVP_INIT_IDENTIFY_NS, ctrl->opts.admin_timeout_ms);
	rc = identify_namespaces(ini);
	if (rc)
		return rc;
	enter(ini, NVP_INIT_ASYNC_EVENTS, ctrl->opts.admin_timeout_ms);
	nvp_aer_start(ctrl);
	enter(ini, NVP_INIT_DONE, 0);
	return 0;
}

int nvp_init_run(struct nvp_init *ini)
{
	/* A timeout or fatal status in here fails the step; nothing to reset. */
	const struct nvp_ctrl *prev = nvp_ctrl_reconfiguring(ini->ctrl);
	int rc = init_steps(ini);

	nvp_ctrl_reconfiguring(prev);
	return rc;
}

int nvp_ctrl_init(struct nvp_ctrl *ctrl)
{
	struct nvp_init ini = { .ctrl = ctrl, .now_ms = nvp_monotonic_ms };

	return nvp_init_run(&ini);
}

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
	uint32_t cc = nvp_reg_read32(ctrl->bar, NVP_REG_CC);

	if (cc == NVP_REG_GONE)
		return -ENODEV;
	nvp_reg_write32(ctrl->bar, NVP_REG_CC, cc & ~NVP_CC_EN);
	return wait_csts_plain(ctrl, NVP_CSTS_RDY, 0, ctrl->ready_timeout_ms);
}

int nvp_ctrl_shutdown(struct nvp_ctrl *ctrl)
{
	uint32_t cc = nvp_reg_read32(ctrl->bar, NVP_REG_CC);
	int rc;

	if (cc == NVP_REG_GONE)
		return -ENODEV;
	if (!(cc & NVP_CC_EN))
		return 0;
	nvp_reg_write32(ctrl->bar, NVP_REG_CC, (cc & ~NVP_CC_SHN_MASK) | NVP_CC_SHN_NORMAL);
	rc = wait_csts_plain(ctrl, NVP_CSTS_SHST_MASK, NVP_CSTS_SHST_CMPLT,
			     ctrl->ready_timeout_ms);
	if (rc == -ETIMEDOUT)
		nvp_warn("%s: shutdown did not complete within %u ms (CAP.TO); continuing",
			 ctrl->info.addr, ctrl->ready_timeout_ms);
	return rc;
}
