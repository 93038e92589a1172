/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_core.c - the emulated controller's register file and device
 * thread: CC/CSTS handshakes, doorbells (and shadow doorbells), command
 * fetch with round-robin arbitration, held commands, completion posting.
 *
 * The host sees the register file as MMIO: it writes with a volatile
 * 32-bit store after the DMA barrier that orders its queue entries before
 * it, and reads with volatile loads (lib/util/barrier.h). This side is a
 * CPU thread, so it orders with acquire/release atomics, which pair with
 * those barriers: it reads registers and doorbells with acquire loads (so
 * queue entries the host wrote before ringing are visible) and publishes a
 * completion's status word, phase bit included, with a release store after
 * the rest of the entry, as a device's posted writes arrive in order.
 *
 * Byte order: what the host sees is little-endian (registers, shadow
 * doorbells, queue entries). An SQE is converted to CPU order once, as it
 * is fetched; everything after works in CPU order; a CQE is converted
 * field by field as it is posted.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "util/log.h"
#include "util/wire.h"

/* Commands fetched from one SQ before moving to the next (arbitration burst). */
#define EMU_BURST		16
/* Idle passes spent spinning, then yielding, before sleeping. */
#define EMU_IDLE_SPIN		4096
#define EMU_IDLE_YIELD		(EMU_IDLE_SPIN + 64)
#define EMU_IDLE_SLEEP_NS	50000
/* After this many sleeps in a row (~0.25 s idle), sleep longer: idle cost. */
#define EMU_IDLE_DEEP		(EMU_IDLE_YIELD + 5000)
#define EMU_IDLE_DEEP_NS	500000

static inline void emu_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

uint64_t nvp_emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Acquire: what the host stored before this register (queues) is visible. */
static inline uint32_t emu_reg(struct nvp_emu *emu, uint32_t off)
{
	return nvp_le32_to_cpu(__atomic_load_n(&emu->regs[off / 4], __ATOMIC_ACQUIRE));
}

/* Release: the device's earlier stores are visible to a host that sees this. */
static inline void emu_reg_set(struct nvp_emu *emu, uint32_t off, uint32_t v)
{
	__atomic_store_n(&emu->regs[off / 4], nvp_cpu_to_le32(v), __ATOMIC_RELEASE);
}

static inline uint64_t emu_reg64(struct nvp_emu *emu, uint32_t off)
{
	return emu_reg(emu, off) | ((uint64_t)emu_reg(emu, off + 4) << 32);
}

/* ------------------------------------------------------------------------ */
/* Doorbells                                                                */
/* ------------------------------------------------------------------------ */

void nvp_emu_db_reset(struct nvp_emu *emu, uint32_t idx, struct emu_db *db)
{
	/*
	 * A new queue starts at 0 whatever the last one left in the register.
	 * The shadow doorbell and event index entries are host memory and are
	 * left as they are, as QEMU does: a host that reuses a queue ID must
	 * clear them itself (a driver bug this once hid from the host tests).
	 */
	emu_reg_set(emu, NVP_REG_DBS + idx * emu->db_stride, 0);
	db->last_mmio = 0;
	db->last_shadow = 0;
}

/*
 * Read doorbell @idx; true if it changed since last time.
 *
 * Without shadow doorbells the register is the value. With them, an I/O
 * queue's shadow entry is the value and a register write is only a
 * wake-up (as in QEMU and the Doorbell Buffer Config rules): the host
 * stores the shadow first and rings the register only when EventIdx asks,
 * so the register may be any number of rings behind, and taking whichever
 * of the two changed can move a tail backwards. The admin queue stays on
 * its register: Linux and SPDK never shadow queue 0, nvpoll writes both,
 * and QEMU takes queue 0's register as the truth too.
 */
static bool emu_db_read(struct nvp_emu *emu, uint32_t idx, struct emu_db *db, uint32_t *val)
{
	uint32_t v;

	uint32_t slot = idx * (emu->db_stride / 4);

	/* A doorbell whose slot lies past the shadow page has no shadow. */
	if (emu->shadow_db && idx >= 2 && slot < emu->shadow_slots) {
		/* Acquire: the entries the host wrote before this value are visible. */
		v = nvp_le32_to_cpu(__atomic_load_n(&emu->shadow_db[slot], __ATOMIC_ACQUIRE));
		if (v == db->last_shadow)
			return false;
		db->last_shadow = v;
		/* EventIdx = what we have seen: ring again for anything newer. */
		__atomic_store_n(&emu->eventidx[slot], nvp_cpu_to_le32(v), __ATOMIC_RELEASE);
	} else {
		v = emu_reg(emu, NVP_REG_DBS + idx * emu->db_stride);
		if (v == db->last_mmio)
			return false;
		db->last_mmio = v;
	}
	*val = v;
	return true;
}

/* Entries from @from up to (not including) @to on a ring of @size. */
static inline uint32_t emu_ring_dist(uint32_t to, uint32_t from, uint32_t size)
{
	return to >= from ? to - from : to + size - from;
}

/*
 * An Invalid Doorbell Write Value: the value is ignored (never acted on, so
 * nothing runs twice and nothing is lost), counted, and reported through
 * an Error asynchronous event, as the spec has it.
 */
static void emu_bad_doorbell(struct nvp_emu *emu, uint32_t idx, uint32_t val, const char *why,
			     uint32_t head, uint32_t tail, uint32_t size)
{
	EMU_INC(emu, invalid_doorbells, 1);
	nvp_warn("emu: %s %u %s doorbell written with %u, which %s (head %u, tail %u, %u entries); value ignored, Invalid Doorbell Write Value event raised. The host's doorbell code is wrong: a tail may only add commands and a head only consume posted completions",
		 idx & 1 ? "CQ" : "SQ", idx / 2, idx & 1 ? "head" : "tail", val, why, head, tail,
		 size);
	nvp_emu_queue_event(emu, NVP_AER_TYPE_ERROR, 0x01, NVP_LOG_ERROR);
}

/* A new CQ head may only consume entries the device has posted. */
void nvp_emu_cq_doorbell(struct nvp_emu *emu, struct emu_cq *cq)
{
	uint32_t idx = 2 * cq->qid + 1, v;

	if (!emu_db_read(emu, idx, &cq->db, &v))
		return;
	if (v >= cq->size)
		emu_bad_doorbell(emu, idx, v, "is past the end of the queue", cq->head, cq->tail,
				 cq->size);
	else if (emu_ring_dist(v, cq->head, cq->size) > emu_ring_dist(cq->tail, cq->head, cq->size))
		emu_bad_doorbell(emu, idx, v, "moves past completions not yet posted, or backwards",
				 cq->head, cq->tail, cq->size);
	else
		cq->head = v;
}

/*
 * A new SQ tail may only add commands: it must not shrink the number the
 * device still has to fetch, or the device would later take the ring's
 * old entries for new ones and run them again.
 */
void nvp_emu_sq_doorbell(struct nvp_emu *emu, struct emu_sq *sq)
{
	uint32_t idx = 2 * sq->qid, v;

	if (!emu_db_read(emu, idx, &sq->db, &v))
		return;
	if (v >= sq->size)
		emu_bad_doorbell(emu, idx, v, "is past the end of the queue", sq->head, sq->tail,
				 sq->size);
	else if (emu_ring_dist(v, sq->head, sq->size) < emu_ring_dist(sq->tail, sq->head, sq->size))
		emu_bad_doorbell(emu, idx, v, "takes back commands not yet fetched", sq->head,
				 sq->tail, sq->size);
	else
		sq->tail = v;
}

/* ------------------------------------------------------------------------ */
/* Completions                                                              */
/* ------------------------------------------------------------------------ */

static bool emu_cq_full(struct nvp_emu *emu, struct emu_cq *cq)
{
	uint32_t next = cq->tail + 1 == cq->size ? 0 : cq->tail + 1;

	if (next != cq->head)
		return false;
	nvp_emu_cq_doorbell(emu, cq);
	return next == cq->head;
}

static void emu_cq_write(struct nvp_emu *emu, struct emu_cq *cq, const struct nvp_cqe *cqe)
{
	struct nvp_cqe *e = &cq->ring[cq->tail];

	/* Payload first, little-endian; the status word with the new phase
	 * publishes it (release: the payload before the phase bit). */
	__atomic_store_n(&e->dw0, nvp_cpu_to_le32(cqe->dw0), __ATOMIC_RELAXED);
	__atomic_store_n(&e->dw1, nvp_cpu_to_le32(cqe->dw1), __ATOMIC_RELAXED);
	__atomic_store_n(&e->sqhd, nvp_cpu_to_le16(cqe->sqhd), __ATOMIC_RELAXED);
	__atomic_store_n(&e->sqid, nvp_cpu_to_le16(cqe->sqid), __ATOMIC_RELAXED);
	__atomic_store_n(&e->cid, nvp_cpu_to_le16(cqe->cid), __ATOMIC_RELAXED);
	__atomic_store_n(&e->status,
			 nvp_cpu_to_le16((uint16_t)((cqe->status & ~1u) | cq->phase)),
			 __ATOMIC_RELEASE);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	EMU_INC(emu, cqes_posted, 1);
}

/* Post @cqe, or hold it until the host frees a slot (never overwrite). */
static void emu_cq_post(struct nvp_emu *emu, struct emu_cq *cq, const struct nvp_cqe *cqe)
{
	struct emu_cpl *c;

	if (!cq->backlog && !emu_cq_full(emu, cq)) {
		emu_cq_write(emu, cq, cqe);
		return;
	}
	EMU_INC(emu, cq_full_waits, 1);
	c = malloc(sizeof(*c));
	if (!c) {
		nvp_warn("emu: out of memory holding a completion for full CQ %u; it is lost",
			 cq->qid);
		return;
	}
	c->next = NULL;
	c->cqe = *cqe;
	if (cq->backlog)
		cq->backlog_tail->next = c;
	else
		cq->backlog = c;
	cq->backlog_tail = c;
}

static int emu_cq_drain_backlog(struct nvp_emu *emu, struct emu_cq *cq)
{
	int n = 0;

	while (cq->backlog && !emu_cq_full(emu, cq)) {
		struct emu_cpl *c = cq->backlog;

		emu_cq_write(emu, cq, &c->cqe);
		cq->backlog = c->next;
		free(c);
		n++;
	}
	return n;
}

void nvp_emu_log_error(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
		       uint16_t status)
{
	struct nvp_error_log *e = &emu->errlog[emu->error_count % EMU_ERRLOG_ENTRIES];
	uint32_t nlb;

	uint64_t lba;

	/* Kept as the Error Information log page holds it: little-endian. */
	memset(e, 0, sizeof(*e));
	e->error_count = nvp_cpu_to_le64(++emu->error_count);
	e->sqid = nvp_cpu_to_le16(sqid);
	e->cmdid = nvp_cpu_to_le16(sqe->cid);
	e->status_field = nvp_cpu_to_le16((uint16_t)(status & ~1u));
	e->param_error_location = 0xffff;
	e->nsid = nvp_cpu_to_le32(sqe->nsid);
	if (sqid == 0 || !nvp_emu_cmd_lba_range(sqe, &lba, &nlb))
		lba = 0;
	e->lba = nvp_cpu_to_le64(lba);
	EMU_INC(emu, errors_logged, 1);
}

static void emu_complete(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
			 uint16_t status, uint32_t dw0, const struct emu_cmd_fault *f)
{
	struct emu_sq *sq = &emu->sqs[sqid];
	struct emu_cq *cq = &emu->cqs[sq->cqid];
	struct nvp_cqe cqe = {
		/* An I/O result (Zone Append's LBA) fills DW0 and DW1. */
		.dw0 = sqid && emu->io_result ? (uint32_t)emu->io_result : dw0,
		.dw1 = sqid ? (uint32_t)(emu->io_result >> 32) : 0,
		.sqhd = (uint16_t)sq->head,
		.sqid = sqid,
		.cid = sqe->cid,
		.status = status,
	};
	uint8_t sc = NVP_STATUS_SC(status), sct = NVP_STATUS_SCT(status);

	if (NVP_CPL_IS_ERROR(&cqe) &&
	    !(sct == NVP_SCT_GENERIC &&
	      (sc == NVP_SC_ABORT_REQUESTED || sc == NVP_SC_ABORT_SQ_DELETED)))
		nvp_emu_log_error(emu, sqid, sqe, status);
	if (f && f->extra) {
		struct nvp_cqe bogus = cqe;

		bogus.cid = f->extra_cid;
		emu_cq_post(emu, cq, &bogus);
	}
	if (f && f->cqe_fields) {
		/* NVP_EMU_FAULT_CQE: the test's fields, in an extra CQE or this one. */
		struct nvp_cqe bad = cqe;
		uint32_t fl = f->cqe_fields;

		if (fl & NVP_EMU_CQE_CID)
			bad.cid = f->cqe.cid;
		if (fl & NVP_EMU_CQE_SQID)
			bad.sqid = f->cqe.sqid;
		if (fl & NVP_EMU_CQE_SQHD)
			bad.sqhd = f->cqe.sqhd;
		if (fl & NVP_EMU_CQE_STATUS)
			bad.status = f->cqe.status;
		if (fl & NVP_EMU_CQE_DW0)
			bad.dw0 = f->cqe.dw0;
		if (fl & NVP_EMU_CQE_DW1)
			bad.dw1 = f->cqe.dw1;
		if (fl & NVP_EMU_CQE_EXTRA)
			emu_cq_post(emu, cq, &bad);
		else
			cqe = bad;
	}
	if (f && f->drop) {
		EMU_INC(emu, cqes_dropped, 1);
		return;
	}
	emu_cq_post(emu, cq, &cqe);
	if (f && f->dup)
		emu_cq_post(emu, cq, &cqe);
}

void nvp_emu_post(struct nvp_emu *emu, uint16_t sqid, uint16_t cid, uint16_t status,
		  uint32_t dw0)
{
	struct nvp_sqe sqe = { .cid = cid };

	emu_complete(emu, sqid, &sqe, status, dw0, NULL);
}

/* ------------------------------------------------------------------------ */
/* Asynchronous events                                                      */
/* ------------------------------------------------------------------------ */

void nvp_emu_queue_event(struct nvp_emu *emu, uint8_t type, uint8_t info, uint8_t lid)
{
	if (emu->nr_events == EMU_MAX_EVENTS)
		return;	/* the same condition is already queued many times */
	emu->events[emu->nr_events].type = type & 7;
	emu->events[emu->nr_events].info = info;
	emu->events[emu->nr_events].lid = lid;
	emu->nr_events++;
}

void nvp_emu_post_events(struct nvp_emu *emu)
{
	uint32_t i = 0;

	while (i < emu->nr_events && emu->nr_aers) {
		struct emu_event ev = emu->events[i];
		uint16_t cid;

		/* One event per type until the host reads its log page. */
		if (emu->aer_masked_lid[ev.type]) {
			i++;
			continue;
		}
		cid = emu->aer_cids[0];
		memmove(emu->aer_cids, emu->aer_cids + 1, --emu->nr_aers * sizeof(cid));
		EMU_SET(emu, aers, emu->nr_aers);
		memmove(&emu->events[i], &emu->events[i + 1],
			(--emu->nr_events - i) * sizeof(ev));
		emu->aer_masked_lid[ev.type] = (uint16_t)(ev.lid + 1);
		nvp_emu_post(emu, 0, cid, 0,
			     ev.type | ((uint32_t)ev.info << 8) | ((uint32_t)ev.lid << 16));
	}
}

/* ------------------------------------------------------------------------ */
/* Commands held in the device                                              */
/* ------------------------------------------------------------------------ */

static void emu_pending_free(struct nvp_emu *emu, struct emu_pending *p)
{
	p->next = emu->pending_free;
	emu->pending_free = p;
	EMU_INC(emu, pending, -1);
}

/* Unlink every held command for which @pred is true, in order. */
static struct emu_pending *emu_pending_take(struct nvp_emu *emu,
					    bool (*pred)(const struct emu_pending *, const void *),
					    const void *arg, bool first_only)
{
	struct emu_pending **pp = &emu->pending, *prev = NULL, *out = NULL, **outp = &out;

	while (*pp) {
		struct emu_pending *p = *pp;

		if (pred(p, arg)) {
			*pp = p->next;
			p->next = NULL;
			*outp = p;
			outp = &p->next;
			if (first_only)
				break;
		} else {
			prev = p;
			pp = &p->next;
		}
	}
	/*
	 * Recompute the tail: the unlinked entry may have been it. Walk on from
	 * the last entry kept before the cut, or from the head when the cut
	 * took the head (a first_only match stops early, so prev is not
	 * necessarily the tail, and NULL does not mean the list is empty).
	 */
	emu->pending_tail = prev ? prev : emu->pending;
	while (emu->pending_tail && emu->pending_tail->next)
		emu->pending_tail = emu->pending_tail->next;
	return out;
}

struct emu_abort_key {
	uint16_t sqid;
	uint16_t cid;
};

static bool emu_pending_match_cmd(const struct emu_pending *p, const void *arg)
{
	const struct emu_abort_key *k = arg;

	return p->sqid == k->sqid && p->sqe.cid == k->cid;
}

static bool emu_pending_match_sq(const struct emu_pending *p, const void *arg)
{
	return p->sqid == *(const uint16_t *)arg;
}

static bool emu_pending_is_due(const struct emu_pending *p, const void *arg)
{
	return p->due_ns <= *(const uint64_t *)arg;
}

bool nvp_emu_abort_pending(struct nvp_emu *emu, uint16_t sqid, uint16_t cid)
{
	struct emu_abort_key k = { sqid, cid };
	struct emu_pending *p = emu_pending_take(emu, emu_pending_match_cmd, &k, true);

	if (!p)
		return false;
	nvp_emu_post(emu, sqid, cid, NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_ABORT_REQUESTED), 0);
	EMU_INC(emu, aborted, 1);
	emu_pending_free(emu, p);
	return true;
}

void nvp_emu_flush_sq_pending(struct nvp_emu *emu, uint16_t sqid)
{
	struct emu_pending *p = emu_pending_take(emu, emu_pending_match_sq, &sqid, false);

	while (p) {
		struct emu_pending *next = p->next;

		nvp_emu_post(emu, sqid, p->sqe.cid,
			     NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_ABORT_SQ_DELETED), 0);
		emu_pending_free(emu, p);
		p = next;
	}
}

static void emu_execute(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
			const struct emu_cmd_fault *f)
{
	uint32_t dw0 = 0;
	uint16_t st;

	if (!emu->sqs[sqid].valid)
		return;	/* its queue was deleted while the command was held */
	if (f->status_set)
		st = f->status;
	else if (sqid == 0)
		st = nvp_emu_admin(emu, sqe, &dw0);
	else if (sqe->flags & 3)	/* fused operations are not supported */
		st = EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	else {
		if (__builtin_expect(f->pi_fields != 0, 0))
			nvp_emu_md_corrupt(emu, sqe, f);
		st = nvp_emu_nvm(emu, sqe);
	}
	if (st == EMU_HOLD)
		return;
	emu_complete(emu, sqid, sqe, st, dw0, f);
	emu->io_result = 0;
}

static void emu_hold(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
		     const struct emu_cmd_fault *f, uint64_t delay_us)
{
	struct emu_pending *p = emu->pending_free;

	if (p) {
		emu->pending_free = p->next;
	} else {
		p = malloc(sizeof(*p));
		if (!p) {
			emu_execute(emu, sqid, sqe, f);	/* no memory: no delay */
			return;
		}
	}
	p->next = NULL;
	p->due_ns = nvp_emu_now_ns() + delay_us * 1000;
	p->sqid = sqid;
	p->sqe = *sqe;
	p->fault = *f;
	if (emu->pending_tail)
		emu->pending_tail->next = p;
	else
		emu->pending = p;
	emu->pending_tail = p;
	if (p->due_ns < emu->pending_next_due)
		emu->pending_next_due = p->due_ns;
	EMU_INC(emu, pending, 1);
}

static int emu_run_due(struct nvp_emu *emu)
{
	uint64_t now = nvp_emu_now_ns(), next = UINT64_MAX;
	struct emu_pending *due, *p;
	int n = 0;

	if (now < emu->pending_next_due)
		return 0;
	due = emu_pending_take(emu, emu_pending_is_due, &now, false);
	for (p = emu->pending; p; p = p->next)
		if (p->due_ns < next)
			next = p->due_ns;
	emu->pending_next_due = next;
	/* Execute after unlinking: a held Abort or Delete SQ edits the list. */
	while (due) {
		struct emu_pending *nx = due->next;

		emu_execute(emu, due->sqid, &due->sqe, &due->fault);
		emu_pending_free(emu, due);
		due = nx;
		n++;
	}
	return n;
}

static void emu_pending_drop_all(struct nvp_emu *emu)
{
	while (emu->pending) {
		struct emu_pending *p = emu->pending;

		emu->pending = p->next;
		emu_pending_free(emu, p);
	}
	emu->pending_tail = NULL;
	emu->pending_next_due = UINT64_MAX;
}

/* ------------------------------------------------------------------------ */
/* Fetch and arbitration                                                    */
/* ------------------------------------------------------------------------ */

static void emu_dispatch(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe)
{
	struct emu_cmd_fault f = { 0 };
	uint64_t delay_us;

	if (sqid)
		EMU_INC(emu, io_cmds[sqe->opc], 1);
	else
		EMU_INC(emu, admin_cmds[sqe->opc], 1);
	if (atomic_load_explicit(&emu->faults_armed, memory_order_relaxed))
		nvp_emu_match_faults(emu, sqid, sqe, &f);
	delay_us = f.delay_us + (sqid ? emu->opts.lat_us : 0);
	/* AERs are held anyway; latency would only reorder them. */
	if (delay_us && !(sqid == 0 && sqe->opc == NVP_ADMIN_ASYNC_EVENT))
		emu_hold(emu, sqid, sqe, &f, delay_us);
	else
		emu_execute(emu, sqid, sqe, &f);
}

static int emu_process_sq(struct nvp_emu *emu, struct emu_sq *sq)
{
	struct emu_cq *cq = &emu->cqs[sq->cqid];
	int n = 0;

	nvp_emu_sq_doorbell(emu, sq);
	while (sq->head != sq->tail && n < EMU_BURST) {
		struct nvp_sqe sqe;

		/* Stop fetching while completions wait for CQ space. */
		if (cq->backlog)
			break;
		/* The doorbell's acquire load made it visible; from here on the
		 * command is in CPU byte order. */
		nvp_sqe_from_wire(&sqe, &sq->ring[sq->head]);
		if (sq->in_cmb)
			EMU_INC(emu, cmb_cmds, 1);
		if (++sq->head == sq->size)
			sq->head = 0;
		if (__builtin_expect((sqe.flags & NVP_SQE_FUSE_MASK) && sq->qid, 0) &&
		    emu->opts.cmds) {
			/* Fused: its partner is fetched and run with it (emu_cmds.c). */
			n += nvp_emu_fused(emu, sq, &sqe);
			continue;
		}
		emu_dispatch(emu, sq->qid, &sqe);
		n++;
		if (!sq->valid || !emu->ready)
			break;	/* deleted or reset by its own command */
	}
	return n;
}

void nvp_emu_rebuild_active(struct nvp_emu *emu)
{
	uint32_t n = 0;

	for (uint32_t q = 0; q <= emu->opts.qpairs; q++)
		if (emu->sqs[q].valid)
			emu->active_sqs[n++] = (uint16_t)q;
	emu->nr_active_sqs = n;
	if (emu->rr_next >= n)
		emu->rr_next = 0;
}

/* ------------------------------------------------------------------------ */
/* Controller state: enable, reset, shutdown, faults                        */
/* ------------------------------------------------------------------------ */

static void emu_reset(struct nvp_emu *emu)
{
	emu_pending_drop_all(emu);
	for (uint32_t q = 0; q <= emu->opts.qpairs; q++) {
		struct emu_cq *cq = &emu->cqs[q];

		while (cq->backlog) {
			struct emu_cpl *c = cq->backlog;

			cq->backlog = c->next;
			free(c);
		}
		emu->sqs[q].valid = false;
		cq->valid = false;
		emu_reg_set(emu, NVP_REG_DBS + 2 * q * emu->db_stride, 0);
		emu_reg_set(emu, NVP_REG_DBS + (2 * q + 1) * emu->db_stride, 0);
	}
	nvp_emu_rebuild_active(emu);
	emu->shadow_db = NULL;
	emu->eventidx = NULL;
	emu->nr_aers = 0;
	emu->nr_events = 0;
	memset(emu->aer_masked_lid, 0, sizeof(emu->aer_masked_lid));
	emu->io_queues_created = false;
	nvp_emu_features_reset(emu);
	emu->ready = false;
	emu->fatal = false;
	emu->shutdown = false;
	EMU_SET(emu, dbbuf, 0);
	EMU_SET(emu, aers, 0);
	EMU_SET(emu, io_sqs, 0);
	EMU_SET(emu, cmb_sqs, 0);
	EMU_SET(emu, io_cqs, 0);
	EMU_SET(emu, enabled, 0);
	EMU_SET(emu, fatal, 0);
}

static void emu_fail(struct nvp_emu *emu, const char *why)
{
	nvp_warn("emu: controller fatal status: %s", why);
	emu->fatal = true;
	emu_pending_drop_all(emu);
	emu_reg_set(emu, NVP_REG_CSTS, emu_reg(emu, NVP_REG_CSTS) | NVP_CSTS_CFS);
	EMU_SET(emu, fatal, 1);
}

/* CC.CSS: NVM, or all I/O command sets (110b) when CAP.CSS offers them. */
static bool emu_css_ok(uint64_t cap, uint32_t cc)
{
	uint32_t css = (cc >> NVP_CC_CSS_SHIFT) & 7;

	return css == 0 || (css == 6 && (NVP_CAP_CSS(cap) & NVP_CAP_CSS_CSI));
}

static void emu_enable(struct nvp_emu *emu, uint32_t cc)
{
	uint32_t aqa = emu_reg(emu, NVP_REG_AQA);
	uint64_t asq = emu_reg64(emu, NVP_REG_ASQ), acq = emu_reg64(emu, NVP_REG_ACQ);
	uint32_t mps = (cc >> NVP_CC_MPS_SHIFT) & 0xf;
	uint64_t cap = emu->cap;	/* not the register: the host can write that */
	uint32_t mdts_shift = 12 + NVP_CAP_MPSMIN(cap) + emu->opts.mdts;
	uint32_t sqs = (aqa & 0xfff) + 1, cqs = ((aqa >> 16) & 0xfff) + 1;
	struct emu_sq *sq = &emu->sqs[0];
	struct emu_cq *cq = &emu->cqs[0];
	void *sring, *cring;

	if (((cc >> NVP_CC_IOSQES_SHIFT) & 0xf) != 6 || ((cc >> NVP_CC_IOCQES_SHIFT) & 0xf) != 4) {
		emu_fail(emu, "CC.IOSQES must be 6 and CC.IOCQES 4");
		return;
	}
	if (mps > EMU_MPSMAX || mps < NVP_CAP_MPSMIN(cap) || mps > NVP_CAP_MPSMAX(cap) ||
	    !emu_css_ok(cap, cc) || ((cc >> 11) & 7) != 0) {
		emu_fail(emu, "CC.MPS outside CAP.MPSMIN..MPSMAX, or CC.CSS/CC.AMS not supported");
		return;
	}
	emu->page_size = 4096u << mps;
	emu->css_csi = ((cc >> NVP_CC_CSS_SHIFT) & 7) == 6;
	if (sqs < 2 || cqs < 2 || sqs > emu->opts.mqes || cqs > emu->opts.mqes ||
	    !asq || !acq || (asq & (emu->page_size - 1)) || (acq & (emu->page_size - 1))) {
		emu_fail(emu, "invalid AQA, ASQ or ACQ");
		return;
	}
	sring = nvp_emu_dma_va(emu, asq, (size_t)sqs * sizeof(struct nvp_sqe));
	cring = nvp_emu_dma_va(emu, acq, (size_t)cqs * sizeof(struct nvp_cqe));
	if (!sring || !cring) {
		emu_fail(emu, "admin queue memory is not DMA memory");
		return;
	}
	memset(sq, 0, sizeof(*sq));
	sq->valid = true;
	sq->size = sqs;
	sq->iova = asq;
	sq->ring = sring;
	memset(cq, 0, sizeof(*cq));
	cq->valid = true;
	cq->size = cqs;
	cq->iova = acq;
	cq->ring = cring;
	cq->phase = 1;
	nvp_emu_db_reset(emu, 0, &sq->db);
	nvp_emu_db_reset(emu, 1, &cq->db);
	nvp_emu_rebuild_active(emu);
	/* MDTS is in CAP.MPSMIN pages; one beyond 64 bits is no limit. */
	emu->max_xfer = emu->opts.mdts && mdts_shift < 64 ? 1ull << mdts_shift : 0;
	emu->ready = true;
	/* A CMBMSC.CRE written before CC.EN shows in CMBSZ once RDY does. */
	nvp_emu_cmb_check(emu);
	emu_reg_set(emu, NVP_REG_CSTS, NVP_CSTS_RDY);
	EMU_SET(emu, enabled, 1);
}

static void emu_check_cc(struct nvp_emu *emu)
{
	uint32_t cc = emu_reg(emu, NVP_REG_CC), old = emu->cc;

	if (cc == old)
		return;
	emu->cc = cc;
	if ((old & NVP_CC_EN) && !(cc & NVP_CC_EN)) {
		emu_reset(emu);
		EMU_INC(emu, resets, 1);
		emu_reg_set(emu, NVP_REG_CSTS, 0);	/* RDY, CFS and SHST clear */
	} else if (!(old & NVP_CC_EN) && (cc & NVP_CC_EN) && !emu->fatal) {
		emu_enable(emu, cc);
	}
	if ((cc & NVP_CC_SHN_MASK) && !(old & NVP_CC_SHN_MASK)) {
		/* Nothing is cached beyond the page cache: flush and report done. */
		for (uint32_t i = 0; i < emu->nr_ns; i++)
			if (emu->ns[i].fd >= 0)
				msync(emu->ns[i].data, emu->ns[i].bytes, MS_SYNC);
		emu->shutdown = true;
		emu_reg_set(emu, NVP_REG_CSTS,
			    (emu_reg(emu, NVP_REG_CSTS) & ~NVP_CSTS_SHST_MASK) | NVP_CSTS_SHST_CMPLT);
	} else if (!(cc & NVP_CC_SHN_MASK) && (old & NVP_CC_SHN_MASK)) {
		emu->shutdown = false;
		emu_reg_set(emu, NVP_REG_CSTS, emu_reg(emu, NVP_REG_CSTS) & ~NVP_CSTS_SHST_MASK);
	}
}

/*
 * Surprise removal: every register reads all-ones. The mapping stays, so the
 * host never faults; CSTS goes last, so a host that sees it all-ones sees
 * every other register all-ones too. Host writes after removal are wiped
 * again on every idle pass (about every millisecond).
 */
static void emu_fill_ones(struct nvp_emu *emu)
{
	/* The registers and every doorbell, not the gaps a wide stride leaves. */
	for (size_t i = 0; i < NVP_REG_DBS / 4; i++)
		if (i != NVP_REG_CSTS / 4)
			__atomic_store_n(&emu->regs[i], 0xffffffffu, __ATOMIC_RELAXED);
	for (size_t i = 0; i < 2 * ((size_t)emu->opts.qpairs + 1); i++)
		__atomic_store_n(&emu->regs[(NVP_REG_DBS + i * emu->db_stride) / 4], 0xffffffffu,
				 __ATOMIC_RELAXED);
	__atomic_store_n(&emu->regs[NVP_REG_CSTS / 4], 0xffffffffu, __ATOMIC_RELEASE);
}

static void emu_handle_requests(struct nvp_emu *emu)
{
	unsigned int req = atomic_exchange_explicit(&emu->requests, 0, memory_order_acquire);

	if (req & EMU_REQ_REMOVE) {
		emu->removed = true;
		emu->ready = false;
		emu_pending_drop_all(emu);
		emu_fill_ones(emu);
		EMU_SET(emu, removed, 1);
		EMU_SET(emu, enabled, 0);
		return;
	}
	if ((req & EMU_REQ_FATAL) && !emu->fatal)
		emu_fail(emu, "injected by nvp_emu_fatal()");
	if (req & EMU_REQ_EVENT) {
		pthread_mutex_lock(&emu->lock);
		for (unsigned int i = 0; i < emu->nr_events_in; i++)
			nvp_emu_queue_event(emu, emu->events_in[i].type, emu->events_in[i].info,
					    emu->events_in[i].lid);
		emu->nr_events_in = 0;
		pthread_mutex_unlock(&emu->lock);
	}
}

static void emu_idle(struct nvp_emu *emu, uint32_t *idle)
{
	uint64_t ns = EMU_IDLE_SLEEP_NS;
	struct timespec ts;

	if (++*idle < EMU_IDLE_SPIN) {
		emu_cpu_relax();
		return;
	}
	if (*idle < EMU_IDLE_YIELD) {
		sched_yield();
		return;
	}
	if (emu->removed)
		ns = 1000000;
	else if (*idle > EMU_IDLE_DEEP) {
		ns = EMU_IDLE_DEEP_NS;
		EMU_INC(emu, deep_sleeps, 1);
	}
	if (emu->pending) {
		uint64_t now = nvp_emu_now_ns();

		if (emu->pending_next_due <= now)
			return;
		if (emu->pending_next_due - now < ns)
			ns = emu->pending_next_due - now;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ns;
	nanosleep(&ts, NULL);
}

/*
 * A thread inherits its creator's CPU mask, and tools pin their threads
 * before attaching: the device would then share the host's only CPU and
 * every command would wait for a time slice. Run on any CPU (the kernel
 * trims the mask to the cpuset), or on the one cpu= names.
 */
static void emu_set_affinity(struct nvp_emu *emu)
{
	cpu_set_t set;
	int ret;

	CPU_ZERO(&set);
	if (emu->opts.cpu >= 0) {
		CPU_SET(emu->opts.cpu, &set);
	} else {
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &set);
	}
	ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (ret)
		nvp_warn("emu: cannot move the device thread to %s%d: %s; it keeps the attaching thread's CPUs",
			 emu->opts.cpu >= 0 ? "CPU " : "all CPUs", emu->opts.cpu >= 0 ? emu->opts.cpu : 0,
			 strerror(ret));
}

static void *emu_thread(void *arg)
{
	struct nvp_emu *emu = arg;
	uint32_t idle = 0;

	/* Sleeps are short; do not let the default 50 us slack stretch them. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	emu_set_affinity(emu);
	while (!atomic_load_explicit(&emu->stop, memory_order_acquire)) {
		int work = 0;

		if (atomic_load_explicit(&emu->requests, memory_order_relaxed))
			emu_handle_requests(emu);
		if (emu->removed) {
			emu_fill_ones(emu);
			emu_idle(emu, &idle);
			continue;
		}
		nvp_emu_cmb_check(emu);
		emu_check_cc(emu);
		if (!emu->ready || emu->fatal || emu->shutdown) {
			emu_idle(emu, &idle);
			continue;
		}
		if (emu->pending)
			work += emu_run_due(emu);
		if (emu->nr_events && emu->nr_aers)
			nvp_emu_post_events(emu);
		for (uint32_t i = 0; i < emu->nr_active_sqs && emu->ready; i++) {
			uint32_t k = (emu->rr_next + i) % emu->nr_active_sqs;
			struct emu_sq *sq = &emu->sqs[emu->active_sqs[k]];
			struct emu_cq *cq = &emu->cqs[sq->cqid];

			if (cq->backlog)
				work += emu_cq_drain_backlog(emu, cq);
			work += emu_process_sq(emu, sq);
		}
		if (emu->nr_active_sqs)
			emu->rr_next = (emu->rr_next + 1) % emu->nr_active_sqs;
		if (work)
			idle = 0;
		else
			emu_idle(emu, &idle);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

static void emu_free(struct nvp_emu *emu)
{
	if (emu->thread_started) {
		atomic_store_explicit(&emu->stop, true, memory_order_release);
		pthread_join(emu->thread, NULL);
	}
	if (emu->domain_attached)
		nvp_mem_domain_detach(&emu->domain);
	if (emu->sqs && emu->cqs)
		emu_reset(emu);
	while (emu->pending_free) {
		struct emu_pending *p = emu->pending_free;

		emu->pending_free = p->next;
		free(p);
	}
	for (uint32_t i = 0; i < EMU_MAX_NS; i++)
		nvp_emu_ns_close(&emu->ns[i]);
	if (emu->regs)
		munmap(emu->regs, emu->regs_size);
	free(emu->sqs);
	free(emu->cqs);
	free(emu->active_sqs);
	free(emu->sg);
	free(emu->prp_seen);
	free(emu->raw);
	free(emu->raw_file);
	free(emu->bounce);
	free(emu->md_blk);
	nvp_emu_cmb_close(emu);
	pthread_mutex_destroy(&emu->lock);
	free(emu);
}

static void emu_close(struct nvp_device *dev)
{
	emu_free(dev->emu);
}

static const struct nvp_device_ops emu_ops = {
	.close = emu_close,
	.map_bar = nvp_emu_cmb_map_bar,
	.unmap_bar = nvp_emu_cmb_unmap_bar,
};

int nvp_emu_open(const char *spec, struct nvp_device **devp)
{
	struct nvp_emu *emu;
	const struct emu_raw_rec *raw;
	uint64_t cap;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int ret;

	*devp = NULL;
	emu = calloc(1, sizeof(*emu));
	if (!emu)
		return nvp_error(-ENOMEM, "emu: out of memory");
	pthread_mutex_init(&emu->lock, NULL);
	for (uint32_t i = 0; i < EMU_MAX_NS; i++)
		emu->ns[i].fd = -1;
	emu->pending_next_due = UINT64_MAX;
	ret = nvp_emu_parse_opts(spec, &emu->opts);
	if (ret)
		goto fail;
	ret = nvp_emu_raw_load(emu);
	if (ret)
		goto fail;

	cap = (uint64_t)(emu->opts.mqes - 1) |
	      (1ull << 16) |				/* CQR */
	      ((uint64_t)EMU_CAP_TO << 24) |
	      ((uint64_t)(NVP_CAP_CSS_NVM |
			  (nvp_emu_zns_any(&emu->opts) ? NVP_CAP_CSS_CSI : 0)) << 37) |
	      ((uint64_t)EMU_MPSMAX << 52);
	if (emu->opts.cmb_bytes)
		cap |= 1ull << 57;			/* CMBS */
	raw = nvp_emu_raw_find(emu, EMU_RAW_REG, 0, NVP_REG_CAP);
	if (raw) {
		/* The device runs by the CAP it shows: queue limit and stride. */
		memcpy(&cap, raw->data, 8);
		cap = nvp_le64_to_cpu(cap);	/* raw data is as on the wire */
		emu->opts.mqes = NVP_CAP_MQES(cap) + 1;
	}
	emu->db_stride = 4u << NVP_CAP_DSTRD(cap);
	emu->cap = cap;

	/* Registers, then one SQ tail and one CQ head doorbell per queue. */
	emu->regs_size = (NVP_REG_DBS + 2 * (size_t)(emu->opts.qpairs + 1) * emu->db_stride +
			  page - 1) & ~(page - 1);
	emu->regs = mmap(NULL, emu->regs_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (emu->regs == MAP_FAILED) {
		emu->regs = NULL;
		ret = nvp_error(-ENOMEM, "emu: cannot map the register file");
		goto fail;
	}
	/* The host sees registers little-endian; raw VS bytes already are. */
	emu->regs[NVP_REG_CAP / 4] = nvp_cpu_to_le32((uint32_t)cap);
	emu->regs[NVP_REG_CAP / 4 + 1] = nvp_cpu_to_le32((uint32_t)(cap >> 32));
	emu->regs[NVP_REG_VS / 4] = nvp_cpu_to_le32(0x00010400);
	raw = nvp_emu_raw_find(emu, EMU_RAW_REG, 0, NVP_REG_VS);
	if (raw)
		memcpy(&emu->regs[NVP_REG_VS / 4], raw->data, 4);
	ret = nvp_emu_cmb_open(emu);
	if (ret)
		goto fail;

	emu->sqs = calloc(emu->opts.qpairs + 1, sizeof(*emu->sqs));
	emu->cqs = calloc(emu->opts.qpairs + 1, sizeof(*emu->cqs));
	emu->active_sqs = calloc(emu->opts.qpairs + 1, sizeof(*emu->active_sqs));
	emu->bounce_size = 4096;
	emu->bounce = aligned_alloc(4096, emu->bounce_size);
	if (!emu->sqs || !emu->cqs || !emu->active_sqs || !emu->bounce) {
		ret = nvp_error(-ENOMEM, "emu: out of memory");
		goto fail;
	}
	emu->page_size = 4096;
	nvp_emu_features_reset(emu);
	emu->nr_ns = emu->opts.nr_ns;
	for (uint32_t i = 0; i < emu->nr_ns; i++) {
		ret = nvp_emu_ns_open(emu, i + 1, &emu->opts.ns[i]);
		if (ret)
			goto fail;
	}
	nvp_emu_raw_apply(emu);

	emu->domain.name = "emu";
	emu->domain.priv = emu;
	ret = nvp_mem_domain_attach(&emu->domain, NVP_IOVA_VIRT);
	if (ret) {
		ret = nvp_error(ret, "emu: cannot attach the emulated controller's DMA domain (%s); the emulator needs IOVA-as-virtual mode, so it cannot share a process with a controller in physical-address mode (no-IOMMU, uio)",
				strerror(-ret));
		goto fail;
	}
	emu->domain_attached = true;
	emu->start_ns = nvp_emu_now_ns();

	emu->dev.ops = &emu_ops;
	emu->dev.driver = NVP_DRIVER_EMU;
	snprintf(emu->dev.addr, sizeof(emu->dev.addr), "emu:%s",
		 spec && !strncmp(spec, "emu:", 4) ? spec + 4 : (spec ? spec : ""));
	emu->dev.numa_node = NVP_NUMA_ANY;
	emu->dev.bar0 = emu->regs;
	emu->dev.bar0_size = emu->regs_size;
	emu->dev.emu = emu;

	ret = -pthread_create(&emu->thread, NULL, emu_thread, emu);
	if (ret) {
		ret = nvp_error(ret, "emu: cannot start the device thread: %s", strerror(-ret));
		goto fail;
	}
	emu->thread_started = true;
	pthread_setname_np(emu->thread, "nvp-emu");
	*devp = &emu->dev;
	return 0;

fail:
	emu_free(emu);
	return ret;
}
