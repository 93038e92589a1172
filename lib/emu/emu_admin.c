/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_admin.c - the emulated controller's admin command set.
 *
 * Commands arrive in CPU byte order (emu_core.c converts each SQE as it
 * fetches it); the data this file builds for the host (Identify, log
 * pages) is written little-endian, field by field, as a device would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "util/log.h"

#define EMU_MODEL	"nvpoll emulated controller"
#define EMU_FIRMWARE	"0.1"
#define EMU_TEMP_K	313	/* 40 °C */

/* Identify strings are space padded, not NUL terminated. */
static void emu_pad(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, len < n ? len : n);
}

/* A 128-bit little-endian counter whose upper half is zero. */
static void emu_put128(uint8_t *dst, uint64_t v)
{
	uint64_t le = nvp_cpu_to_le64(v);

	memset(dst, 0, 16);
	memcpy(dst, &le, sizeof(le));
}

static void emu_id_ctrl(struct nvp_emu *emu, struct nvp_id_ctrl *id)
{
	char nqn[96];

	memset(id, 0, sizeof(*id));
	emu_pad(id->sn, sizeof(id->sn), emu->opts.serial);
	emu_pad(id->mn, sizeof(id->mn), EMU_MODEL);
	emu_pad(id->fr, sizeof(id->fr), EMU_FIRMWARE);
	id->rab = 6;
	id->mdts = emu->opts.mdts;
	id->cntlid = nvp_cpu_to_le16(1);
	id->ver = nvp_cpu_to_le32(0x00010400);
	id->oaes = nvp_cpu_to_le32(1u << 8);	/* namespace attribute notices */
	id->cntrltype = 1;		/* I/O controller */
	/* Extended LBA formats (CNS 05h ELBAF), as QEMU 7.2 reports. */
	id->ctratt = nvp_cpu_to_le32(1u << 15);
	id->oacs = nvp_cpu_to_le16(emu->opts.dbbuf ? NVP_OACS_DBBUF : 0);
	id->acl = EMU_ACL;
	id->aerl = EMU_AERL;
	id->frmw = 1u << 1;		/* one firmware slot */
	id->lpa = (1u << 1) | (1u << 2);	/* effects log, extended Get Log Page */
	id->elpe = EMU_ERRLOG_ENTRIES - 1;
	id->wctemp = nvp_cpu_to_le16(343);
	id->cctemp = nvp_cpu_to_le16(373);
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->nn = nvp_cpu_to_le32(emu->nr_ns);
	id->oncs = nvp_cpu_to_le16(NVP_ONCS_COMPARE | NVP_ONCS_DSM | NVP_ONCS_WRITE_ZEROES);
	if (emu->opts.cmds) {
		id->oncs |= nvp_cpu_to_le16(NVP_ONCS_WRITE_UNCOR | NVP_ONCS_VERIFY |
					    NVP_ONCS_COPY);
		/* Fused Compare and Write (emu_cmds.c), atomic up to ACWU + 1 blocks. */
		id->fuses = nvp_cpu_to_le16(NVP_FUSES_COMPARE_WRITE);
		id->acwu = nvp_cpu_to_le16(emu->opts.acwu);
		id->ocfs = nvp_cpu_to_le16(1);	/* Copy descriptor format 0 */
	}
	/* Present, and Flush with NSID FFFFFFFFh flushes all namespaces. */
	id->vwc = emu->opts.vwc ? 0x07 : 0;
	id->sgls = nvp_cpu_to_le32(emu->opts.sgl ? (NVP_SGLS_SUPPORTED | (1u << 16)) : 0); /* + bit bucket */
	snprintf(nqn, sizeof(nqn), "nqn.2024-01.io.nvpoll:emu:%s", emu->opts.serial);
	memcpy(id->subnqn, nqn, strlen(nqn));
	id->psd[0].mp = nvp_cpu_to_le16(2500);	/* 25 W */
}

static void emu_id_ns(struct nvp_emu *emu, const struct emu_ns *ns, struct nvp_id_ns *id)
{
	uint32_t nsid = nvp_cpu_to_le32(ns->nsid);

	memset(id, 0, sizeof(*id));
	id->nsze = nvp_cpu_to_le64(ns->nblocks);
	id->ncap = nvp_cpu_to_le64(ns->nblocks);
	id->nuse = nvp_cpu_to_le64(ns->nblocks);
	id->nlbaf = 0;
	/* Metadata, as QEMU 7.2 reports it: both layouts and every PI type
	 * and location offered (MC, DPC); the format in use in FLBAS and DPS. */
	id->flbas = ns->ms && ns->ext ? 0x10 : 0;
	id->mc = 0x03;
	id->dpc = 0x1f;
	id->dps = (uint8_t)(ns->pi | (ns->pi && ns->pi_first ? 0x08 : 0));
	id->lbaf[0].ms = nvp_cpu_to_le16(ns->ms);
	/* Deallocated blocks read as zeroes; Write Zeroes may deallocate. */
	id->dlfeat = 0x01 | (1u << 3);
	id->lbaf[0].lbads = ns->lbads;
	/* Copy limits (emu options msrc, mssrl, mcl). */
	id->mssrl = nvp_cpu_to_le16(emu->opts.mssrl);
	id->mcl = nvp_cpu_to_le32(emu->opts.mcl);
	id->msrc = emu->opts.msrc;
	memcpy(id->nguid, emu->opts.serial, strnlen(emu->opts.serial, 12));
	memcpy(id->nguid + 12, &nsid, 4);
	id->eui64[0] = 0x02;		/* locally administered */
	memcpy(id->eui64 + 4, &nsid, 4);
}

static uint16_t emu_identify(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint8_t cns = sqe->cdw10 & 0xff;
	uint8_t *buf = emu->bounce;
	const struct emu_raw_rec *raw = nvp_emu_raw_find(emu, EMU_RAW_IDENTIFY, cns, sqe->nsid);

	memset(buf, 0, 4096);
	if (raw) {
		/* Raw test data is served as it is, whatever it says. */
		memcpy(buf, raw->data, raw->len);
		return nvp_emu_to_host(emu, sqe, buf, 4096, 4096);
	}
	switch (cns) {
	case NVP_CNS_CTRL:
		emu_id_ctrl(emu, (struct nvp_id_ctrl *)buf);
		break;
	case NVP_CNS_NS:
		if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns)
			return EMU_SC_DNR(NVP_SC_INVALID_NS);
		emu_id_ns(emu, &emu->ns[sqe->nsid - 1], (struct nvp_id_ns *)buf);
		break;
	case NVP_CNS_ACTIVE_NS_LIST: {
		uint32_t *list = (uint32_t *)buf, n = 0;

		if (sqe->nsid >= 0xfffffffeu)
			return EMU_SC_DNR(NVP_SC_INVALID_NS);
		for (uint32_t id = sqe->nsid + 1; id <= emu->nr_ns && n < 1024; id++)
			list[n++] = nvp_cpu_to_le32(id);
		break;
	}
	case NVP_CNS_NS_DESC_LIST: {
		struct nvp_id_ns tmp;

		if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns)
			return EMU_SC_DNR(NVP_SC_INVALID_NS);
		emu_id_ns(emu, &emu->ns[sqe->nsid - 1], &tmp);
		buf[0] = 1;	/* EUI64 */
		buf[1] = 8;
		memcpy(buf + 4, tmp.eui64, 8);
		buf[12] = 2;	/* NGUID */
		buf[13] = 16;
		memcpy(buf + 16, tmp.nguid, 16);
		if (NVP_CAP_CSS(emu->cap) & NVP_CAP_CSS_CSI) {
			buf[32] = NVP_NIDT_CSI;	/* command set: emu_zns.c */
			buf[33] = 1;
			buf[36] = emu->ns[sqe->nsid - 1].zns ? NVP_CSI_ZNS : NVP_CSI_NVM;
		}
		break;
	}
	case NVP_CNS_CSI_NS:
	case NVP_CNS_CSI_CTRL: {
		uint16_t st;

		if (cns == NVP_CNS_CSI_NS && (sqe->cdw11 >> 24) == NVP_CSI_NVM) {
			/* NVM (CSI 00h): LBSTM and PIC zero; ELBAF of format 0 (at
			 * byte 12): no storage tag (STS 0), the guard format in PIF
			 * (bits 8:7). */
			uint32_t elbaf;

			if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns)
				return EMU_SC_DNR(NVP_SC_INVALID_NS);
			elbaf = nvp_cpu_to_le32((uint32_t)emu->ns[sqe->nsid - 1].pif << 7);
			memcpy(buf + 12, &elbaf, 4);
			break;
		}
		if (!(NVP_CAP_CSS(emu->cap) & NVP_CAP_CSS_CSI))
			return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
		st = nvp_emu_zns_identify(emu, sqe, buf);
		if (st)
			return st;
		break;
	}
	default:
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	}
	return nvp_emu_to_host(emu, sqe, buf, 4096, 4096);
}

void nvp_emu_features_reset(struct nvp_emu *emu)
{
	uint32_t q = emu->opts.qpairs - 1;

	memset(emu->features, 0, sizeof(emu->features));
	emu->features[NVP_FEAT_TEMP_THRESH] = 343;
	emu->features[NVP_FEAT_VOLATILE_WC] = emu->opts.vwc ? 1 : 0;
	emu->features[NVP_FEAT_NUM_QUEUES] = (q << 16) | q;
	emu->nsq_granted = emu->opts.qpairs;
	emu->ncq_granted = emu->opts.qpairs;
}

static bool emu_feature_known(uint8_t fid)
{
	switch (fid) {
	case NVP_FEAT_ARBITRATION:
	case NVP_FEAT_POWER_MGMT:
	case NVP_FEAT_TEMP_THRESH:
	case NVP_FEAT_ERROR_RECOVERY:
	case NVP_FEAT_VOLATILE_WC:
	case NVP_FEAT_NUM_QUEUES:
	case NVP_FEAT_IRQ_COALESCE:
	case NVP_FEAT_IRQ_CONFIG:
	case NVP_FEAT_WRITE_ATOMIC:
	case NVP_FEAT_ASYNC_EVENT:
		return true;
	default:
		return false;
	}
}

static uint16_t emu_set_features(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint32_t *dw0)
{
	uint8_t fid = sqe->cdw10 & 0xff;
	uint32_t v = sqe->cdw11;

	if (!emu_feature_known(fid))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (sqe->cdw10 & (1u << 31))	/* SV: nothing is saveable */
		return EMU_CS_DNR(NVP_SC_FEATURE_ID_NOT_SAVEABLE);
	switch (fid) {
	case NVP_FEAT_NUM_QUEUES: {
		uint32_t nsq = (v & 0xffff) + 1, ncq = (v >> 16) + 1;

		if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff)
			return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
		/* Only before the first I/O queue exists (NVMe 2.0, 5.27.1.7). */
		if (emu->io_queues_created)
			return EMU_SC_DNR(NVP_SC_CMD_SEQ_ERROR);
		emu->nsq_granted = nsq < emu->opts.qpairs ? nsq : emu->opts.qpairs;
		emu->ncq_granted = ncq < emu->opts.qpairs ? ncq : emu->opts.qpairs;
		v = ((emu->ncq_granted - 1) << 16) | (emu->nsq_granted - 1);
		*dw0 = v;
		break;
	}
	case NVP_FEAT_VOLATILE_WC:
		if (!emu->opts.vwc)
			return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
		v &= 1;
		break;
	case NVP_FEAT_POWER_MGMT:
		if ((v & 0x1f) != 0)	/* one power state */
			return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
		break;
	default:
		break;
	}
	emu->features[fid] = v;
	return 0;
}

static uint16_t emu_get_features(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint32_t *dw0)
{
	uint8_t fid = sqe->cdw10 & 0xff;
	uint8_t sel = (sqe->cdw10 >> 8) & 0x7;

	if (!emu_feature_known(fid))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	switch (sel) {
	case 0:			/* current */
		*dw0 = emu->features[fid];
		return 0;
	case 1:			/* default */
	case 2: {		/* saved: nothing is saved, so the default */
		uint32_t cur[32], nsq = emu->nsq_granted, ncq = emu->ncq_granted;

		memcpy(cur, emu->features, sizeof(cur));
		nvp_emu_features_reset(emu);
		*dw0 = emu->features[fid];
		memcpy(emu->features, cur, sizeof(cur));
		emu->nsq_granted = nsq;
		emu->ncq_granted = ncq;
		return 0;
	}
	case 3:			/* capabilities: changeable, not saveable */
		*dw0 = 1u << 2;
		return 0;
	default:
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	}
}

static uint16_t emu_create_cq(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint16_t qid = sqe->cdw10 & 0xffff;
	uint32_t size = (sqe->cdw10 >> 16) + 1;
	uint64_t prp1 = sqe->dptr.prp.prp1;
	struct emu_cq *cq;
	void *ring;

	if (qid == 0 || qid > emu->ncq_granted || emu->cqs[qid].valid)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_ID);
	if (size < 2 || size > emu->opts.mqes)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_SIZE);
	if (!(sqe->cdw11 & NVP_QUEUE_PHYS_CONTIG))	/* CAP.CQR = 1 */
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if ((sqe->cdw11 & NVP_CQ_IRQ_ENABLED) && (sqe->cdw11 >> 16) != 0)
		return EMU_CS_DNR(NVP_SC_INVALID_INTERRUPT_VECTOR);	/* one vector */
	if (!prp1 || (prp1 & (emu->page_size - 1)))
		return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
	ring = nvp_emu_dma_va(emu, prp1, (size_t)size * sizeof(struct nvp_cqe));
	if (!ring)
		return EMU_SC(NVP_SC_DATA_XFER_ERROR);
	cq = &emu->cqs[qid];
	memset(cq, 0, sizeof(*cq));
	cq->valid = true;
	cq->qid = qid;
	cq->size = size;
	cq->iova = prp1;
	cq->ring = ring;
	cq->phase = 1;
	nvp_emu_db_reset(emu, 2 * qid + 1, &cq->db);
	emu->io_queues_created = true;
	EMU_INC(emu, io_cqs, 1);
	return 0;
}

static uint16_t emu_create_sq(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint16_t qid = sqe->cdw10 & 0xffff;
	uint32_t size = (sqe->cdw10 >> 16) + 1;
	uint16_t cqid = sqe->cdw11 >> 16;
	uint64_t prp1 = sqe->dptr.prp.prp1;
	struct emu_sq *sq;
	bool in_cmb;
	void *ring;

	if (qid == 0 || qid > emu->nsq_granted || emu->sqs[qid].valid)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_ID);
	if (cqid == 0 || cqid > emu->opts.qpairs || !emu->cqs[cqid].valid)
		return EMU_CS_DNR(NVP_SC_COMPLETION_QUEUE_INVALID);
	if (size < 2 || size > emu->opts.mqes)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_SIZE);
	if (!(sqe->cdw11 & NVP_QUEUE_PHYS_CONTIG))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (!prp1 || (prp1 & (emu->page_size - 1)))
		return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
	/* In the CMB (as CMBMSC says now), else host memory. */
	nvp_emu_cmb_check(emu);
	ring = nvp_emu_cmb_va(emu, prp1, (size_t)size * sizeof(struct nvp_sqe));
	in_cmb = ring != NULL;
	if (!ring)
		ring = nvp_emu_dma_va(emu, prp1, (size_t)size * sizeof(struct nvp_sqe));
	if (!ring)
		return EMU_SC(NVP_SC_DATA_XFER_ERROR);
	sq = &emu->sqs[qid];
	memset(sq, 0, sizeof(*sq));
	sq->in_cmb = in_cmb;
	if (in_cmb)
		EMU_INC(emu, cmb_sqs, 1);
	sq->valid = true;
	sq->qid = qid;
	sq->cqid = cqid;
	sq->size = size;
	sq->iova = prp1;
	sq->ring = ring;
	nvp_emu_db_reset(emu, 2 * qid, &sq->db);
	emu->cqs[cqid].sq_refs++;
	emu->io_queues_created = true;
	nvp_emu_rebuild_active(emu);
	EMU_INC(emu, io_sqs, 1);
	return 0;
}

static uint16_t emu_delete_sq(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint16_t qid = sqe->cdw10 & 0xffff;
	struct emu_sq *sq;

	if (qid == 0 || qid > emu->opts.qpairs || !emu->sqs[qid].valid)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_ID);
	sq = &emu->sqs[qid];
	/* Commands still in the device complete first, as aborted. */
	nvp_emu_flush_sq_pending(emu, qid);
	emu->cqs[sq->cqid].sq_refs--;
	if (sq->in_cmb)
		EMU_INC(emu, cmb_sqs, -1);
	sq->valid = false;
	nvp_emu_rebuild_active(emu);
	EMU_INC(emu, io_sqs, -1);
	return 0;
}

static uint16_t emu_delete_cq(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint16_t qid = sqe->cdw10 & 0xffff;
	struct emu_cq *cq;

	if (qid == 0 || qid > emu->opts.qpairs || !emu->cqs[qid].valid)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_ID);
	cq = &emu->cqs[qid];
	if (cq->sq_refs)
		return EMU_CS_DNR(NVP_SC_INVALID_QUEUE_DELETION);
	while (cq->backlog) {
		struct emu_cpl *c = cq->backlog;

		cq->backlog = c->next;
		free(c);
	}
	cq->valid = false;
	EMU_INC(emu, io_cqs, -1);
	return 0;
}

static uint16_t emu_dbbuf_config(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint64_t dbs = sqe->dptr.prp.prp1, eis = sqe->dptr.prp.prp2;
	uint32_t *db, *ei, slots;

	if (!emu->opts.dbbuf)
		return EMU_SC_DNR(NVP_SC_INVALID_OPCODE);
	if (!dbs || !eis || (dbs & (emu->page_size - 1)) || (eis & (emu->page_size - 1)))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	/* One memory page each (CC.MPS); doorbells past it keep their registers. */
	db = nvp_emu_dma_va(emu, dbs, emu->page_size);
	ei = nvp_emu_dma_va(emu, eis, emu->page_size);
	if (!db || !ei)
		return EMU_SC(NVP_SC_DATA_XFER_ERROR);
	/*
	 * Take the registers' last word first, then seed both pages with the
	 * doorbells' current values (as QEMU does) so the switch from
	 * registers to shadows loses no update.
	 */
	for (uint32_t q = 1; q <= emu->opts.qpairs; q++) {
		if (emu->cqs[q].valid)
			nvp_emu_cq_doorbell(emu, &emu->cqs[q]);
		if (emu->sqs[q].valid)
			nvp_emu_sq_doorbell(emu, &emu->sqs[q]);
	}
	slots = emu->page_size / 4;
	for (uint32_t q = 0; q <= emu->opts.qpairs; q++) {
		uint32_t sq_slot = 2 * q * (emu->db_stride / 4);
		uint32_t cq_slot = (2 * q + 1) * (emu->db_stride / 4);

		if (emu->sqs[q].valid && sq_slot < slots) {
			uint32_t v = nvp_cpu_to_le32(emu->sqs[q].tail);

			__atomic_store_n(&db[sq_slot], v, __ATOMIC_RELAXED);
			__atomic_store_n(&ei[sq_slot], v, __ATOMIC_RELAXED);
			emu->sqs[q].db.last_shadow = emu->sqs[q].tail;
		}
		if (emu->cqs[q].valid && cq_slot < slots) {
			uint32_t v = nvp_cpu_to_le32(emu->cqs[q].head);

			__atomic_store_n(&db[cq_slot], v, __ATOMIC_RELAXED);
			__atomic_store_n(&ei[cq_slot], v, __ATOMIC_RELAXED);
			emu->cqs[q].db.last_shadow = emu->cqs[q].head;
		}
	}
	/* The host sees the seeded values once this command's CQE is posted
	 * (a release store), before it can use the shadows. */
	emu->shadow_db = db;
	emu->eventidx = ei;
	emu->shadow_slots = slots;
	EMU_SET(emu, dbbuf, 1);
	return 0;
}

static uint32_t emu_log_size(uint8_t lid)
{
	switch (lid) {
	case NVP_LOG_ERROR:
		return EMU_ERRLOG_ENTRIES * sizeof(struct nvp_error_log);
	case NVP_LOG_SMART:
	case NVP_LOG_FW_SLOT:
		return 512;
	case NVP_LOG_CHANGED_NS:
	case NVP_LOG_CMD_EFFECTS:
		return 4096;
	default:
		return 0;
	}
}

static void emu_build_log(struct nvp_emu *emu, uint8_t lid, uint8_t *buf)
{
	memset(buf, 0, 4096);
	switch (lid) {
	case NVP_LOG_ERROR: {
		struct nvp_error_log *e = (struct nvp_error_log *)buf;
		uint64_t n = emu->error_count < EMU_ERRLOG_ENTRIES ? emu->error_count :
								     EMU_ERRLOG_ENTRIES;

		/* Newest first; the entries are kept little-endian (emu_core.c). */
		for (uint64_t i = 0; i < n; i++)
			e[i] = emu->errlog[(emu->error_count - 1 - i) % EMU_ERRLOG_ENTRIES];
		break;
	}
	case NVP_LOG_SMART: {
		struct nvp_smart_log *s = (struct nvp_smart_log *)buf;
		uint64_t secs = (nvp_emu_now_ns() - emu->start_ns) / 1000000000ull;
		uint16_t temp = nvp_cpu_to_le16(EMU_TEMP_K);

		memcpy(&s->temperature, &temp, sizeof(temp));
		s->avail_spare = 100;
		s->spare_thresh = 10;
		/* Data units are thousands of 512-byte units, rounded up. */
		emu_put128(s->data_units_read, (emu->bytes_read / 512 + 999) / 1000);
		emu_put128(s->data_units_written, (emu->bytes_written / 512 + 999) / 1000);
		emu_put128(s->host_reads, emu->host_reads);
		emu_put128(s->host_writes, emu->host_writes);
		emu_put128(s->power_cycles, 1);
		emu_put128(s->power_on_hours, secs / 3600);
		emu_put128(s->num_err_log_entries, emu->error_count);
		break;
	}
	case NVP_LOG_FW_SLOT:
		buf[0] = 1;	/* slot 1 active */
		emu_pad((char *)buf + 8, 8, EMU_FIRMWARE);
		break;
	case NVP_LOG_CMD_EFFECTS: {
		uint32_t *acs = (uint32_t *)buf, *iocs = acs + 256;
		static const uint8_t admin[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09,
						 0x0a, 0x0c, 0x18, 0x7c };
		static const uint8_t io[] = { 0x00, 0x01, 0x02, 0x05, 0x08, 0x09 };

		for (size_t i = 0; i < sizeof(admin); i++)
			acs[admin[i]] = nvp_cpu_to_le32(1);	/* CSUPP */
		for (size_t i = 0; i < sizeof(io); i++)	/* + LBCC */
			iocs[io[i]] = nvp_cpu_to_le32(1 | (io[i] == 0x01 || io[i] >= 0x08 ? 2 : 0));
		break;
	}
	default:
		break;
	}
}

static uint16_t emu_get_log_page(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	uint8_t lid = sqe->cdw10 & 0xff;
	bool rae = sqe->cdw10 & (1u << 15);
	uint64_t numd = ((sqe->cdw10 >> 16) | ((uint64_t)(sqe->cdw11 & 0xffff) << 16)) + 1;
	uint64_t len = numd * 4;
	uint64_t off = sqe->cdw12 | ((uint64_t)sqe->cdw13 << 32);
	const struct emu_raw_rec *raw = nvp_emu_raw_find(emu, EMU_RAW_LOG, lid, sqe->nsid);
	uint32_t size = raw ? raw->len : emu_log_size(lid);
	const uint8_t *log = emu->bounce;
	uint16_t st;

	if (!size)
		return EMU_CS_DNR(NVP_SC_INVALID_LOG_PAGE);
	if ((off & 3) || off >= size)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (emu->max_xfer && len > emu->max_xfer)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (raw)
		log = raw->data;
	else
		emu_build_log(emu, lid, emu->bounce);
	st = nvp_emu_to_host(emu, sqe, log + off, size - off, len);
	if (st)
		return st;
	/* Reading the log (RAE clear) re-arms events of the types it reports. */
	if (!rae)
		for (int t = 0; t < 8; t++)
			if (emu->aer_masked_lid[t] == lid + 1)
				emu->aer_masked_lid[t] = 0;
	return 0;
}

static uint16_t emu_aer(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	if (emu->nr_aers > EMU_AERL)
		return NVP_STATUS(NVP_SCT_CMD_SPECIFIC, NVP_SC_ASYNC_EVENT_LIMIT_EXCEEDED);
	emu->aer_cids[emu->nr_aers++] = sqe->cid;
	EMU_SET(emu, aers, emu->nr_aers);
	return EMU_HOLD;
}

uint16_t nvp_emu_admin(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint32_t *dw0)
{
	/* PRPs only on the admin queue; fused admin commands do not exist. */
	if ((sqe->flags >> 6) != 0 || (sqe->flags & 3))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	switch (sqe->opc) {
	case NVP_ADMIN_IDENTIFY:
		return emu_identify(emu, sqe);
	case NVP_ADMIN_SET_FEATURES:
		return emu_set_features(emu, sqe, dw0);
	case NVP_ADMIN_GET_FEATURES:
		return emu_get_features(emu, sqe, dw0);
	case NVP_ADMIN_CREATE_CQ:
		return emu_create_cq(emu, sqe);
	case NVP_ADMIN_CREATE_SQ:
		return emu_create_sq(emu, sqe);
	case NVP_ADMIN_DELETE_SQ:
		return emu_delete_sq(emu, sqe);
	case NVP_ADMIN_DELETE_CQ:
		return emu_delete_cq(emu, sqe);
	case NVP_ADMIN_GET_LOG_PAGE:
		return emu_get_log_page(emu, sqe);
	case NVP_ADMIN_ABORT: {
		uint16_t sqid = sqe->cdw10 & 0xffff;

		*dw0 = 1;	/* bit 0 set: not aborted */
		if (sqid > emu->opts.qpairs || !emu->sqs[sqid].valid)
			return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
		if (nvp_emu_abort_pending(emu, sqid, sqe->cdw10 >> 16))
			*dw0 = 0;
		return 0;
	}
	case NVP_ADMIN_ASYNC_EVENT:
		return emu_aer(emu, sqe);
	case NVP_ADMIN_KEEP_ALIVE:
		return 0;
	case NVP_ADMIN_DOORBELL_BUF_CFG:
		return emu_dbbuf_config(emu, sqe);
	default:
		return EMU_SC_DNR(NVP_SC_INVALID_OPCODE);
	}
}
