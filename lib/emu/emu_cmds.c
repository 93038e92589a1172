/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_cmds.c - the emulated controller's Verify, Copy, Write
 * Uncorrectable and fused Compare and Write (Compare itself and Dataset
 * Management are in emu_nvm.c).
 *
 * Limits and statuses follow QEMU 7.2 (hw/nvme/ctrl.c), the real device of
 * the VM rig: Copy checks MSRC, then MSSRL per range, then MCL, each with
 * Command Size Limit Exceeded (SCT 1h, SC 83h, DNR); Verify is bounded like
 * a transfer (QEMU's vsl defaults to MDTS). QEMU has neither fused
 * commands nor Write Uncorrectable; here a fused pair runs as the NVMe
 * specification describes, on the device thread, so nothing can come
 * between its halves.
 */
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "util/wire.h"

#define EMU_UNRECOVERED	(NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR) | \
			 NVP_STATUS_DNR_BIT)

/* ---- uncorrectable blocks --------------------------------------------- */

bool nvp_emu_uncor_hit(const struct emu_ns *ns, uint64_t slba, uint64_t nlb)
{
	for (uint32_t i = 0; i < ns->nr_uncor; i++) {
		const struct emu_extent *e = &ns->uncor[i];

		if (e->slba < slba + nlb && slba < e->slba + e->nlb)
			return true;
	}
	return false;
}

static bool emu_uncor_grow(struct emu_ns *ns)
{
	uint32_t cap = ns->cap_uncor ? 2 * ns->cap_uncor : 16;
	struct emu_extent *p;

	if (ns->nr_uncor < ns->cap_uncor)
		return true;
	p = realloc(ns->uncor, cap * sizeof(*p));
	if (!p)
		return false;
	ns->uncor = p;
	ns->cap_uncor = cap;
	return true;
}

uint16_t nvp_emu_uncor_clear(struct emu_ns *ns, uint64_t slba, uint64_t nlb)
{
	uint64_t end = slba + nlb;

	for (uint32_t i = 0; i < ns->nr_uncor;) {
		struct emu_extent *e = &ns->uncor[i];
		uint64_t e_end = e->slba + e->nlb;

		if (e_end <= slba || e->slba >= end) {
			i++;
			continue;
		}
		if (e->slba < slba && e_end > end) {
			/* The cleared range is inside: keep both sides. */
			if (!emu_uncor_grow(ns))
				return NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL);
			e = &ns->uncor[i];
			ns->uncor[ns->nr_uncor++] = (struct emu_extent){ end, e_end - end };
			e->nlb = slba - e->slba;
			i++;
		} else if (e->slba < slba) {
			e->nlb = slba - e->slba;
			i++;
		} else if (e_end > end) {
			e->nlb = e_end - end;
			e->slba = end;
			i++;
		} else {
			ns->uncor[i] = ns->uncor[--ns->nr_uncor];
		}
	}
	return 0;
}

void nvp_emu_uncor_free(struct emu_ns *ns)
{
	free(ns->uncor);
	ns->uncor = NULL;
	ns->nr_uncor = ns->cap_uncor = 0;
}

static uint16_t emu_write_uncor(struct emu_ns *ns, uint64_t slba, uint32_t nlb)
{
	uint16_t st = nvp_emu_uncor_clear(ns, slba, nlb);

	if (st)
		return st;
	if (!emu_uncor_grow(ns))
		return NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL);
	ns->uncor[ns->nr_uncor++] = (struct emu_extent){ slba, nlb };
	return 0;
}

/* ---- Verify, Copy, Write Uncorrectable ------------------------------------- */

static bool emu_in_range(const struct emu_ns *ns, uint64_t slba, uint64_t nlb)
{
	return slba < ns->nblocks && nlb <= ns->nblocks - slba;
}

static uint16_t emu_copy(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t sdlba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32), total = 0;
	uint32_t nr = (sqe->cdw12 & 0xff) + 1, fmt = (sqe->cdw12 >> NVP_COPY_DESC_FMT_SHIFT) & 0xf;
	struct nvp_copy_range_fmt0 r[NVP_COPY_MAX_RANGES];
	uint8_t *bounce, *p;
	uint16_t st;

	if (fmt != 0)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (nr > emu->opts.msrc + 1u)
		return EMU_CS_DNR(NVP_SC_CMD_SIZE_LIMIT);
	st = nvp_emu_from_host(emu, sqe, r, nr * sizeof(r[0]));
	if (st)
		return st;
	for (uint32_t i = 0; i < nr; i++) {	/* host memory: little-endian */
		uint32_t nlb = nvp_le16_to_cpu(r[i].nlb) + 1u;

		if (nlb > emu->opts.mssrl)
			return EMU_CS_DNR(NVP_SC_CMD_SIZE_LIMIT);
		total += nlb;
	}
	if (total > emu->opts.mcl)
		return EMU_CS_DNR(NVP_SC_CMD_SIZE_LIMIT);
	if (!emu_in_range(ns, sdlba, total))
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t slba = nvp_le64_to_cpu(r[i].slba);
		uint32_t nlb = nvp_le16_to_cpu(r[i].nlb) + 1u;

		if (!emu_in_range(ns, slba, nlb))
			return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
		if (ns->nr_uncor && nvp_emu_uncor_hit(ns, slba, nlb))
			return EMU_UNRECOVERED;
	}
	/* Read every source before writing: the destination may overlap them. */
	bounce = malloc(total << ns->lbads);
	if (!bounce)
		return NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL);
	p = bounce;
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t bytes = (uint64_t)(nvp_le16_to_cpu(r[i].nlb) + 1u) << ns->lbads;

		memcpy(p, ns->data + (nvp_le64_to_cpu(r[i].slba) << ns->lbads), bytes);
		p += bytes;
	}
	memcpy(ns->data + (sdlba << ns->lbads), bounce, total << ns->lbads);
	free(bounce);
	emu->bytes_written += total << ns->lbads;
	emu->host_writes++;
	return ns->nr_uncor ? nvp_emu_uncor_clear(ns, sdlba, total) : 0;
}

uint16_t nvp_emu_cmds(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;

	if (sqe->opc == NVP_NVM_COPY)
		return emu_copy(emu, ns, sqe);
	if (!emu_in_range(ns, slba, nlb))
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	if (sqe->opc == NVP_NVM_WRITE_UNCORRECTABLE)
		return emu_write_uncor(ns, slba, nlb);
	/* Verify: bounded like a transfer (QEMU's Verify Size Limit). */
	if (emu->max_xfer && ((uint64_t)nlb << ns->lbads) > emu->max_xfer)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (ns->nr_uncor && nvp_emu_uncor_hit(ns, slba, nlb))
		return EMU_UNRECOVERED;
	return 0;
}

/* ---- fused Compare and Write ------------------------------------------------ */

/*
 * The faults armed for one half: a status (the half is not run), or a
 * dropped completion (it runs, its CQE is lost). Delays do not apply: they
 * would split the pair.
 */
static bool emu_fused_fault(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
			    uint16_t *st, bool *drop)
{
	struct emu_cmd_fault f = { 0 };

	if (!atomic_load_explicit(&emu->faults_armed, memory_order_relaxed))
		return false;
	nvp_emu_match_faults(emu, sqid, sqe, &f);
	*drop |= f.drop;
	if (f.status_set)
		*st = f.status;
	return f.status_set;
}

static void emu_fused_post(struct nvp_emu *emu, uint16_t sqid, uint16_t cid, uint16_t st,
			   bool drop)
{
	if (drop) {
		EMU_INC(emu, cqes_dropped, 1);
		return;
	}
	nvp_emu_post(emu, sqid, cid, st, 0);
}

int nvp_emu_fused(struct nvp_emu *emu, struct emu_sq *sq, const struct nvp_sqe *sqe)
{
	uint8_t fuse = sqe->flags & NVP_SQE_FUSE_MASK;
	uint16_t sqid = sq->qid, st1 = 0, st2 = 0;
	struct nvp_sqe w;
	uint32_t acwu_blocks = emu->opts.acwu + 1u;
	bool drop1 = false, drop2 = false;

	EMU_INC(emu, io_cmds[sqe->opc], 1);
	if (fuse != NVP_SQE_FUSE_FIRST) {
		/* A second half with no first before it, or FUSE 11b (reserved). */
		nvp_emu_post(emu, sqid, sqe->cid,
			     fuse == NVP_SQE_FUSE_SECOND ? EMU_SC(NVP_SC_ABORT_FUSE_MISSING) :
							   EMU_SC_DNR(NVP_SC_INVALID_FIELD), 0);
		return 1;
	}
	/*
	 * The partner must be the next entry, made visible by the same
	 * doorbell write: a tail that ends between the halves means the host
	 * rang in between, which the spec forbids.
	 */
	if (sq->head == sq->tail) {
		nvp_emu_post(emu, sqid, sqe->cid, EMU_SC(NVP_SC_ABORT_FUSE_MISSING), 0);
		return 1;
	}
	nvp_sqe_from_wire(&w, &sq->ring[sq->head]);
	if ((w.flags & NVP_SQE_FUSE_MASK) != NVP_SQE_FUSE_SECOND) {
		/* Not its partner: that one is fetched as an ordinary command. */
		nvp_emu_post(emu, sqid, sqe->cid, EMU_SC(NVP_SC_ABORT_FUSE_MISSING), 0);
		return 1;
	}
	if (++sq->head == sq->size)
		sq->head = 0;
	EMU_INC(emu, io_cmds[w.opc], 1);
	if (sqe->opc != NVP_NVM_COMPARE || w.opc != NVP_NVM_WRITE || sqe->nsid != w.nsid ||
	    sqe->cdw10 != w.cdw10 || sqe->cdw11 != w.cdw11 ||
	    (sqe->cdw12 & 0xffff) != (w.cdw12 & 0xffff)) {
		/* Only Compare then Write, on the same blocks, fuse. */
		st1 = EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	} else if ((sqe->cdw12 & 0xffff) + 1u > acwu_blocks) {
		st1 = EMU_SC_DNR(NVP_SC_ATOMIC_WU_EXCEEDED);
	} else if (!emu_fused_fault(emu, sqid, sqe, &st1, &drop1)) {
		st1 = nvp_emu_nvm(emu, sqe);
	}
	/* A failed compare (or a bad pair) aborts the write, unrun. */
	if (st1)
		st2 = EMU_SC(NVP_SC_ABORT_FUSE_FAIL);
	else if (!emu_fused_fault(emu, sqid, &w, &st2, &drop2))
		st2 = nvp_emu_nvm(emu, &w);
	emu_fused_post(emu, sqid, sqe->cid, st1, drop1);
	emu_fused_post(emu, sqid, w.cid, st2, drop2);
	return 2;
}
