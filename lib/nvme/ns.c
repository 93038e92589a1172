/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/nvme/ns.c - namespaces: what Identify Namespace says, and lookups. */
#include <errno.h>
#include <stddef.h>

#include "nvme/nvme.h"
#include "util/log.h"

void nvp_ns_setup(struct nvp_ctrl *ctrl, struct nvp_ns *ns)
{
	const struct nvp_id_ns *id = ns->id;
	uint8_t fmt = NVP_ID_NS_FLBAS_INDEX(id->flbas);
	struct nvp_ns_info *info = &ns->info;
	uint32_t lbads;

	/* Device data: an out-of-range format index or size falls back to 512 B. */
	if (fmt > id->nlbaf || fmt >= 64) {
		nvp_warn("%s: NSID %u reports LBA format %u of %u; assuming 512-byte blocks",
			 ctrl->info.addr, ns->nsid, fmt, id->nlbaf + 1);
		fmt = 0;
	}
	lbads = id->lbaf[fmt].lbads;
	if (lbads < 9 || lbads > 16) {
		nvp_warn("%s: NSID %u reports a block size of 2^%u; assuming 512 bytes",
			 ctrl->info.addr, ns->nsid, lbads);
		lbads = 9;
	}
	ns->ctrl = ctrl;
	ns->lba_shift = lbads;
	ns->num_blocks = id->nsze;
	/* The transfer limit and NLB's 16-bit width both bound one command. */
	ns->max_io_blocks = ctrl->max_xfer >> lbads;
	if (ns->max_io_blocks > NVP_MAX_NLB)
		ns->max_io_blocks = NVP_MAX_NLB;
	ns->unusable = NVP_NS_USABLE;
	if (id->lbaf[fmt].ms) {
		ns->unusable = NVP_NS_HAS_METADATA;
	} else if (ns->max_io_blocks == 0) {
		/* A hostile or tiny MDTS: not one block fits a command. */
		ns->unusable = NVP_NS_BLOCK_TOO_BIG;
		nvp_warn("%s: NSID %u has %u-byte blocks but a command moves at most %u bytes "
			 "(MDTS and max_xfer_bytes); its I/O is refused. Reformat it with "
			 "smaller blocks or raise max_xfer_bytes", ctrl->info.addr, ns->nsid,
			 1u << lbads, ctrl->max_xfer);
	}

	info->nsid = ns->nsid;
	info->block_size = 1u << lbads;
	info->md_size = id->lbaf[fmt].ms;
	info->num_blocks = id->nsze;
	info->capacity_blocks = id->ncap;
	info->size_bytes = id->nsze << lbads;
	info->max_io_blocks = ns->max_io_blocks;
	info->supports_write_zeroes = ctrl->info.oncs & NVP_ONCS_WRITE_ZEROES;
	info->supports_dsm = ctrl->info.oncs & NVP_ONCS_DSM;
	info->supports_compare = ctrl->info.oncs & NVP_ONCS_COMPARE;
	info->supports_flush = ctrl->info.vwc;
	/* DLFEAT bits 2:0 = 001b: deallocated blocks read as all zeroes. */
	info->deallocated_reads_zeroes = (id->dlfeat & 0x7) == 1;
}

struct nvp_ns *nvp_ctrl_get_ns(struct nvp_ctrl *ctrl, uint32_t nsid)
{
	uint32_t lo = 0, hi;

	if (!ctrl) {
		errno = EINVAL;
		return NULL;
	}
	hi = ctrl->num_ns;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (ctrl->ns[mid].nsid == nsid)
			return &ctrl->ns[mid];
		if (ctrl->ns[mid].nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	errno = ENOENT;
	return NULL;
}

struct nvp_ns *nvp_ctrl_first_ns(struct nvp_ctrl *ctrl)
{
	return ctrl && ctrl->num_ns ? &ctrl->ns[0] : NULL;
}

struct nvp_ns *nvp_ctrl_next_ns(struct nvp_ctrl *ctrl, struct nvp_ns *ns)
{
	if (!ctrl || !ns || ns < ctrl->ns || ns >= ctrl->ns + ctrl->num_ns - 1)
		return NULL;
	return ns + 1;
}

const struct nvp_ns_info *nvp_ns_get_info(const struct nvp_ns *ns)
{
	return ns ? &ns->info : NULL;
}

const struct nvp_id_ns *nvp_ns_identify(const struct nvp_ns *ns)
{
	return ns ? ns->id : NULL;
}
