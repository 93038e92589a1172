/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/dbbuf.c - shadow doorbells (Doorbell Buffer Config): the pages,
 * the admin command, attaching a queue's doorbells to their slots, and
 * what a reset changes. The ring itself is inline in dbbuf.h.
 *
 * Life of the pages:
 *   attach   init's Doorbell Buffer Config state: nvp_dbbuf_prepare()
 *            allocates them, the command hands them over, and
 *            nvp_dbbuf_configured() turns shadows on and attaches the
 *            admin queue; each I/O queue attaches when it is created.
 *   reset    the disabled controller forgets the pages; the init runs
 *            again and hands the same ones over (sized at attach, and the
 *            queue count never grows). The admin queue attaches again
 *            then, each I/O queue when it is re-created (reconnect.c),
 *            seeding its slots with what the controller was last told.
 *   refused  (or not offered, or turned off): MMIO doorbells only. Pages
 *            already allocated stay: queues that were attached before a
 *            reset still point at them until they reconnect.
 *   no answer  the init fails; the pages stay with the controller, which
 *            may still write them until it is disabled.
 *   detach   nvp_dbbuf_free(), from nvp_ctrl_free(), after the disable.
 */
#include <string.h>

#include "mem/mem.h"
#include "nvme/dbbuf.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"
#include "util/log.h"

/* A page's worth of DMA memory is bus-contiguous only within a hugepage. */
#define DBBUF_MAX_BYTES (2u << 20)

/* Entries sit CAP.DSTRD apart like the doorbells: a tail and a head per
 * queue, admin included (Linux's nvme_dbbuf_size()), at least a page. */
static size_t dbbuf_bytes(const struct nvp_ctrl *ctrl)
{
	size_t bytes = (size_t)(ctrl->num_io_queues + 1) * 2 * ctrl->db_stride;

	return bytes < ctrl->page_size ? ctrl->page_size : bytes;
}

int nvp_dbbuf_prepare(struct nvp_ctrl *ctrl, struct nvp_sqe *cmd)
{
	struct nvp_dbbuf *d = &ctrl->dbbuf;
	size_t bytes = dbbuf_bytes(ctrl), contig, contig_ei;
	uint64_t shadow_iova, ei_iova;

	/* Off until the controller accepts the pages (after a reset too: the
	 * disabled controller forgot them). */
	ctrl->info.shadow_doorbells = false;
	nvp_qpair_init_doorbells(ctrl->admin);
	if (!(nvp_le16_to_cpu(ctrl->id->oacs) & NVP_OACS_DBBUF) || ctrl->opts.no_shadow_doorbells)
		return 0;
	if (bytes > DBBUF_MAX_BYTES) {
		nvp_warn("%s: shadow doorbells would need %zu bytes (CAP.DSTRD %u, %u queues); "
			 "using MMIO doorbells only", ctrl->info.addr, bytes,
			 (unsigned)NVP_CAP_DSTRD(ctrl->cap), ctrl->num_io_queues);
		return 0;
	}
	if (!d->shadow) {
		d->shadow = nvp_dma_alloc(bytes, ctrl->page_size, ctrl->info.numa_node);
		d->eventidx = nvp_dma_alloc(bytes, ctrl->page_size, ctrl->info.numa_node);
		d->bytes = bytes;
		if (!d->shadow || !d->eventidx) {
			nvp_debug("%s: no memory for shadow doorbells (%s); using MMIO doorbells "
				  "only", ctrl->info.addr, nvp_last_error());
			nvp_dbbuf_free(ctrl);
			return 0;
		}
	}
	if (bytes > d->bytes || nvp_mem_lookup(d->shadow, &shadow_iova, &contig) ||
	    nvp_mem_lookup(d->eventidx, &ei_iova, &contig_ei) || contig < d->bytes ||
	    contig_ei < d->bytes)
		return 0;
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = NVP_ADMIN_DOORBELL_BUF_CFG;
	cmd->dptr.prp.prp1 = shadow_iova;	/* CPU order: converted as it is posted */
	cmd->dptr.prp.prp2 = ei_iova;
	return 1;
}

void nvp_dbbuf_configured(struct nvp_ctrl *ctrl, const struct nvp_cqe *cpl)
{
	if (NVP_CPL_IS_ERROR(cpl)) {
		nvp_warn("%s: Doorbell Buffer Config failed (%s); using MMIO doorbells only",
			 ctrl->info.addr, nvp_status_str(cpl->status));
		return;
	}
	ctrl->info.shadow_doorbells = true;
	nvp_qpair_init_doorbells(ctrl->admin);
}

void nvp_dbbuf_attach(struct nvp_ctrl *ctrl, struct nvp_doorbell *db, uint32_t idx,
		      bool is_admin, uint16_t value)
{
	uint32_t slot = idx * (ctrl->db_stride / 4);

	db->mmio = nvp_ctrl_doorbell(ctrl, idx);
	db->always_mmio = is_admin;
	db->shadow = NULL;
	db->eventidx = NULL;
	/* A slot past the pages (never, as sized) would mean MMIO only. */
	if (!ctrl->info.shadow_doorbells || (size_t)(slot + 1) * 4 > ctrl->dbbuf.bytes)
		return;
	db->shadow = &ctrl->dbbuf.shadow[slot];
	db->eventidx = &ctrl->dbbuf.eventidx[slot];
	*db->shadow = nvp_cpu_to_le32(value);
	/*
	 * A queue ID used before keeps its old tail and event index in the
	 * shadow pages, and the controller does not clear them when the queue
	 * is created again: a stale event index would make nvp_db_need_event()
	 * skip the first MMIO write, and the new queue's first command would
	 * never be seen. (The admin queue always writes the register too.)
	 */
	if (!is_admin)
		*db->eventidx = nvp_cpu_to_le32(value);
}

void nvp_dbbuf_free(struct nvp_ctrl *ctrl)
{
	nvp_dma_free(ctrl->dbbuf.shadow);
	nvp_dma_free(ctrl->dbbuf.eventidx);
	memset(&ctrl->dbbuf, 0, sizeof(ctrl->dbbuf));
}
