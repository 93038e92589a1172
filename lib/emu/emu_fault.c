/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_fault.c - fault injection and counters, by emulated device.
 *
 * The device thread looks at the fault list only when faults_armed is
 * non-zero, so an emulator without faults pays one relaxed load per
 * command for all of this.
 */
#include <errno.h>
#include <string.h>

#include "emu/emu.h"
#include "util/log.h"

int nvp_emu_dev_inject(struct nvp_emu *emu, const struct nvp_emu_fault *fault, size_t size)
{
	struct nvp_emu_fault f = { 0 };
	int ret = -ENOSPC;

	if (!fault || size < offsetof(struct nvp_emu_fault, status))
		return nvp_error(-EINVAL, "emu: fault struct is missing or too small; pass sizeof(struct nvp_emu_fault)");
	memcpy(&f, fault, size < sizeof(f) ? size : sizeof(f));
	if (f.type < NVP_EMU_FAULT_STATUS || f.type > NVP_EMU_FAULT_PI)
		return nvp_error(-EINVAL, "emu: unknown fault type %d; use enum nvp_emu_fault_type",
				 (int)f.type);
	if (f.type == NVP_EMU_FAULT_CQE && size < offsetof(struct nvp_emu_fault, cqe_dw1) + 4)
		return nvp_error(-EINVAL, "emu: an NVP_EMU_FAULT_CQE fault needs the cqe_* fields, but size %zu does not cover them; rebuild against this nvpoll/emu.h and pass sizeof(struct nvp_emu_fault)",
				 size);
	if (f.type == NVP_EMU_FAULT_CQE &&
	    !(f.cqe_fields & (NVP_EMU_CQE_CID | NVP_EMU_CQE_SQID | NVP_EMU_CQE_SQHD |
			      NVP_EMU_CQE_STATUS | NVP_EMU_CQE_DW0 | NVP_EMU_CQE_DW1)))
		return nvp_error(-EINVAL, "emu: an NVP_EMU_FAULT_CQE fault sets no completion field; set cqe_fields to NVP_EMU_CQE_* bits");
	if (f.type == NVP_EMU_FAULT_PI &&
	    (size < offsetof(struct nvp_emu_fault, pi_fields) + 4 ||
	     !(f.pi_fields & (NVP_EMU_PI_GUARD | NVP_EMU_PI_APPTAG | NVP_EMU_PI_REFTAG))))
		return nvp_error(-EINVAL, "emu: an NVP_EMU_FAULT_PI fault corrupts no field; set pi_fields to NVP_EMU_PI_* bits and pass sizeof(struct nvp_emu_fault)");
	if (f.type == NVP_EMU_FAULT_STATUS && !(f.status & 0xfffe))
		return nvp_error(-EINVAL, "emu: a STATUS fault needs a non-success status, e.g. NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR)");
	if (!f.count)
		f.count = 1;
	if (!f.nlb)
		f.nlb = 1;
	if (f.type == NVP_EMU_FAULT_UNKNOWN_CID && !f.cid)
		f.cid = 0xfffe;
	f.status &= (uint16_t)~1u;

	pthread_mutex_lock(&emu->lock);
	for (int i = 0; i < EMU_MAX_FAULTS; i++) {
		if (emu->faults[i].left)
			continue;
		emu->faults[i].f = f;
		emu->faults[i].left = f.count;
		atomic_fetch_add_explicit(&emu->faults_armed, 1, memory_order_release);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&emu->lock);
	if (ret)
		return nvp_error(ret, "emu: %d faults are already armed; call nvp_emu_clear_faults()",
				 EMU_MAX_FAULTS);
	return 0;
}

int nvp_emu_dev_clear_faults(struct nvp_emu *emu)
{
	pthread_mutex_lock(&emu->lock);
	for (int i = 0; i < EMU_MAX_FAULTS; i++)
		emu->faults[i].left = 0;
	atomic_store_explicit(&emu->faults_armed, 0, memory_order_release);
	pthread_mutex_unlock(&emu->lock);
	return 0;
}

static bool emu_fault_matches(const struct nvp_emu_fault *f, uint16_t sqid,
			      const struct nvp_sqe *sqe)
{
	if ((f->match & NVP_EMU_MATCH_IO) && sqid == 0)
		return false;
	if ((f->match & NVP_EMU_MATCH_OPCODE) && sqe->opc != f->opcode)
		return false;
	if ((f->match & NVP_EMU_MATCH_QID) && sqid != f->qid)
		return false;
	if ((f->match & NVP_EMU_MATCH_NSID) && sqe->nsid != f->nsid)
		return false;
	if (f->match & NVP_EMU_MATCH_LBA) {
		uint64_t slba;
		uint32_t nlb;

		if (sqid == 0 || !nvp_emu_cmd_lba_range(sqe, &slba, &nlb))
			return false;
		if (slba >= f->slba + f->nlb || f->slba >= slba + nlb)
			return false;
	}
	return true;
}

void nvp_emu_match_faults(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
			  struct emu_cmd_fault *out)
{
	pthread_mutex_lock(&emu->lock);
	for (int i = 0; i < EMU_MAX_FAULTS; i++) {
		struct emu_armed_fault *a = &emu->faults[i];

		if (!a->left || !emu_fault_matches(&a->f, sqid, sqe))
			continue;
		out->hit = true;
		switch (a->f.type) {
		case NVP_EMU_FAULT_STATUS:
			out->status_set = true;
			out->status = a->f.status;
			break;
		case NVP_EMU_FAULT_DROP:
			out->drop = true;
			break;
		case NVP_EMU_FAULT_DELAY:
			out->delay_us += a->f.delay_us;
			break;
		case NVP_EMU_FAULT_UNKNOWN_CID:
			out->extra = true;
			out->extra_cid = a->f.cid;
			break;
		case NVP_EMU_FAULT_DUP_CID:
			out->dup = true;
			break;
		case NVP_EMU_FAULT_PI: {
			/* Several PI faults: the span of their ranges. */
			uint64_t s = 0, n = UINT64_MAX;

			if (a->f.match & NVP_EMU_MATCH_LBA) {
				s = a->f.slba;
				n = a->f.nlb;
			}
			if (!out->pi_fields) {
				out->pi_slba = s;
				out->pi_nlb = n;
			} else {
				uint64_t lo = s < out->pi_slba ? s : out->pi_slba;
				uint64_t e1 = n > UINT64_MAX - s ? UINT64_MAX : s + n;
				uint64_t e2 = out->pi_nlb > UINT64_MAX - out->pi_slba ?
					      UINT64_MAX : out->pi_slba + out->pi_nlb;

				out->pi_slba = lo;
				out->pi_nlb = (e1 > e2 ? e1 : e2) - lo;
			}
			out->pi_fields |= a->f.pi_fields;
			break;
		}
		case NVP_EMU_FAULT_CQE: {
			/* Several CQE faults: later ones win, field by field. */
			uint32_t fl = a->f.cqe_fields;

			out->cqe_fields |= fl;
			if (fl & NVP_EMU_CQE_CID)
				out->cqe.cid = a->f.cqe_cid;
			if (fl & NVP_EMU_CQE_SQID)
				out->cqe.sqid = a->f.cqe_sqid;
			if (fl & NVP_EMU_CQE_SQHD)
				out->cqe.sqhd = a->f.cqe_sqhd;
			if (fl & NVP_EMU_CQE_STATUS)
				out->cqe.status = a->f.cqe_status;
			if (fl & NVP_EMU_CQE_DW0)
				out->cqe.dw0 = a->f.cqe_dw0;
			if (fl & NVP_EMU_CQE_DW1)
				out->cqe.dw1 = a->f.cqe_dw1;
			break;
		}
		}
		if (a->left != NVP_EMU_FOREVER && --a->left == 0)
			atomic_fetch_sub_explicit(&emu->faults_armed, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&emu->lock);
	if (out->hit)
		EMU_INC(emu, faults_hit, 1);
}

int nvp_emu_dev_fatal(struct nvp_emu *emu)
{
	atomic_fetch_or_explicit(&emu->requests, EMU_REQ_FATAL, memory_order_release);
	return 0;
}

int nvp_emu_dev_remove(struct nvp_emu *emu)
{
	atomic_fetch_or_explicit(&emu->requests, EMU_REQ_REMOVE, memory_order_release);
	return 0;
}

int nvp_emu_dev_async_event(struct nvp_emu *emu, uint8_t type, uint8_t info, uint8_t lid)
{
	int ret = 0;

	if (type > 7)
		return nvp_error(-EINVAL, "emu: event type %u is not 0..7 (enum nvp_aer_type)", type);
	pthread_mutex_lock(&emu->lock);
	if (emu->nr_events_in == EMU_MAX_EVENTS) {
		ret = -ENOSPC;
	} else {
		emu->events_in[emu->nr_events_in].type = type;
		emu->events_in[emu->nr_events_in].info = info;
		emu->events_in[emu->nr_events_in].lid = lid;
		emu->nr_events_in++;
	}
	pthread_mutex_unlock(&emu->lock);
	if (ret)
		return nvp_error(ret, "emu: %d events are already waiting for the device; let it post them first",
				 EMU_MAX_EVENTS);
	atomic_fetch_or_explicit(&emu->requests, EMU_REQ_EVENT, memory_order_release);
	return 0;
}

#define EMU_GET(emu, field) __atomic_load_n(&(emu)->cnt.field, __ATOMIC_RELAXED)

int nvp_emu_dev_get_stats(struct nvp_emu *emu, struct nvp_emu_stats *stats, size_t size)
{
	struct nvp_emu_stats s;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 256; i++) {
		s.admin_cmds[i] = EMU_GET(emu, admin_cmds[i]);
		s.io_cmds[i] = EMU_GET(emu, io_cmds[i]);
	}
	s.cqes_posted = EMU_GET(emu, cqes_posted);
	s.cqes_dropped = EMU_GET(emu, cqes_dropped);
	s.faults_hit = EMU_GET(emu, faults_hit);
	s.dma_faults = EMU_GET(emu, dma_faults);
	s.cq_full_waits = EMU_GET(emu, cq_full_waits);
	s.invalid_doorbells = EMU_GET(emu, invalid_doorbells);
	s.aborted = EMU_GET(emu, aborted);
	s.errors_logged = EMU_GET(emu, errors_logged);
	s.resets = EMU_GET(emu, resets);
	s.deep_sleeps = EMU_GET(emu, deep_sleeps);
	s.io_sqs = EMU_GET(emu, io_sqs);
	s.io_cqs = EMU_GET(emu, io_cqs);
	s.pending = EMU_GET(emu, pending);
	s.aers_outstanding = EMU_GET(emu, aers);
	s.enabled = EMU_GET(emu, enabled);
	s.fatal = EMU_GET(emu, fatal);
	s.removed = EMU_GET(emu, removed);
	s.shadow_doorbells = EMU_GET(emu, dbbuf);
	s.cmb_sqs = EMU_GET(emu, cmb_sqs);
	s.cmb_cmds = EMU_GET(emu, cmb_cmds);
	memcpy(stats, &s, size < sizeof(s) ? size : sizeof(s));
	return 0;
}
