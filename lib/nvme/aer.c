/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/aer.c - Asynchronous Event Requests: one is kept outstanding on
 * the admin queue, as Linux does. Its completion only records the event
 * (admin callbacks run under the admin lock); nvp_ctrl_process_admin() then
 * reads the log page that clears it, rescans namespaces on Namespace
 * Attribute Changed, reports the event, and posts the next request.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mem/mem.h"
#include "nvme/nvme.h"
#include "util/log.h"

#define AEC_SMART_WARNINGS	0xffu		/* every critical warning bit */
#define OAES_NS_ATTR		(1u << 8)	/* Namespace Attribute Notices */
#define OAES_FW_ACTIVATION	(1u << 9)	/* Firmware Activation Notices */
#define AER_INFO_NS_CHANGED	0x00		/* Notice: Namespace Attribute Changed */

static void aer_done(void *arg, const struct nvp_cqe *cpl)
{
	struct nvp_ctrl *ctrl = arg;
	uint8_t sct = NVP_STATUS_SCT(cpl->status), sc = NVP_STATUS_SC(cpl->status);

	ctrl->aer.posted = false;
	if (!NVP_CPL_IS_ERROR(cpl)) {
		ctrl->aer.events++;
		if (ctrl->aer.pending < NVP_AER_PENDING_MAX)
			ctrl->aer.dw0[ctrl->aer.pending++] = cpl->dw0;
		return;
	}
	/* Ended by a reset (re-posted after it) or refused for good. */
	if ((sct == NVP_SCT_GENERIC && sc == NVP_SC_INVALID_OPCODE) ||
	    (sct == NVP_SCT_CMD_SPECIFIC && sc == NVP_SC_ASYNC_EVENT_LIMIT_EXCEEDED)) {
		nvp_warn("%s: the controller refuses Asynchronous Event Requests (%s); "
			 "namespace changes and health warnings will not be reported",
			 ctrl->info.addr, nvp_status_str(cpl->status));
		ctrl->aer.supported = false;
	}
}

/* Post the AER if none is outstanding; admin lock not held. */
static void aer_post(struct nvp_ctrl *ctrl)
{
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_ASYNC_EVENT };
	bool need;

	nvp_admin_lock(ctrl);
	need = ctrl->aer.supported && !ctrl->aer.posted;
	if (need)
		ctrl->aer.posted = true;	/* claimed before the unlock below */
	nvp_admin_unlock(ctrl);
	if (need && nvp_admin_submit(ctrl, &cmd, NULL, 0, aer_done, ctrl)) {
		nvp_debug("%s: posting an Asynchronous Event Request failed: %s",
			  ctrl->info.addr, nvp_last_error());
		nvp_admin_lock(ctrl);
		ctrl->aer.posted = false;
		nvp_admin_unlock(ctrl);
	}
}

void nvp_aer_config_cmd(const struct nvp_ctrl *ctrl, struct nvp_sqe *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = NVP_ADMIN_SET_FEATURES;
	cmd->cdw10 = NVP_FEAT_ASYNC_EVENT;
	/* Ask for what the controller can tell (Linux's nvme_enable_aen()). */
	cmd->cdw11 = AEC_SMART_WARNINGS |
		     (nvp_le32_to_cpu(ctrl->id->oaes) & (OAES_NS_ATTR | OAES_FW_ACTIVATION));
}

void nvp_aer_enable(struct nvp_ctrl *ctrl)
{
	nvp_admin_lock(ctrl);
	ctrl->aer.supported = true;
	nvp_admin_unlock(ctrl);
	aer_post(ctrl);
}

/* Bytes of a log page read to clear an event: enough to hold its news. */
static size_t log_bytes(uint8_t lid)
{
	switch (lid) {
	case NVP_LOG_ERROR: return 64;		/* the newest entry */
	case NVP_LOG_CHANGED_NS: return 4096;
	default: return 512;			/* SMART / health and the rest */
	}
}

/* Returns the log page read's result: a timed-out read may still write @page. */
static int handle_event(struct nvp_ctrl *ctrl, uint32_t dw0, void *page)
{
	struct nvp_event ev = { .size = sizeof(ev), .type = NVP_EVENT_ASYNC };
	char why[160];
	int rc;

	ev.aer_type = dw0 & 7;
	ev.aer_info = (uint8_t)(dw0 >> 8);
	ev.log_page = (uint8_t)(dw0 >> 16);
	/* Reading the page (RAE clear) clears the event and unmasks its type. */
	memset(page, 0, 4096);
	rc = nvp_get_log_page(ctrl, NVP_NSID_ALL, ev.log_page, page, log_bytes(ev.log_page));
	if (rc)
		nvp_warn("%s: reading log page 0x%02x for an asynchronous event failed: %s",
			 ctrl->info.addr, ev.log_page, nvp_last_error());
	if (ev.aer_type == NVP_AER_TYPE_NOTICE && ev.aer_info == AER_INFO_NS_CHANGED) {
		/* The scan reports each added, changed or removed namespace. */
		if (nvp_ctrl_rescan_ns(ctrl))
			nvp_warn("%s: namespace rescan after a Namespace Attribute Changed "
				 "event failed: %s", ctrl->info.addr, nvp_last_error());
		return rc;
	}
	snprintf(why, sizeof(why), "asynchronous event: type %u, information 0x%02x, log "
		 "page 0x%02x", ev.aer_type, ev.aer_info, ev.log_page);
	ev.reason = why;
	nvp_warn("%s: %s", ctrl->info.addr, why);
	nvp_ctrl_emit_event(ctrl, &ev);
	return rc;
}

void nvp_aer_process(struct nvp_ctrl *ctrl)
{
	uint32_t dw0[NVP_AER_PENDING_MAX], n;
	void *page;

	nvp_admin_lock(ctrl);
	n = ctrl->aer.pending;
	memcpy(dw0, ctrl->aer.dw0, n * sizeof(dw0[0]));
	ctrl->aer.pending = 0;
	nvp_admin_unlock(ctrl);
	if (n) {
		bool in_flight = false;

		page = nvp_dma_alloc(4096, 4096, ctrl->info.numa_node);
		for (uint32_t i = 0; i < n && page; i++) {
			int rc = handle_event(ctrl, dw0[i], page);

			/* Unanswered: the device may still write it (see ns.c). */
			if (rc == -ETIMEDOUT)
				in_flight = true;
		}
		if (in_flight)
			nvp_ctrl_park_dma(ctrl, page);
		else
			nvp_dma_free(page);
	}
	if (atomic_load(&ctrl->state) == NVP_CTRL_LIVE)
		aer_post(ctrl);
}
