/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/queue.h - the hot path: ring arithmetic and doorbells.
 * Everything is static inline so nvp_read() -> doorbell -> callback
 * compiles into straight-line code with no calls into other files.
 */
#ifndef NVP_LIB_NVME_QUEUE_H
#define NVP_LIB_NVME_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme/nvme.h"
#include "util/barrier.h"

/* ---- Doorbells ---------------------------------------------------------- */

/*
 * With Doorbell Buffer Config the controller reads the shadow value and only
 * needs an MMIO write when the new value passes the event index it
 * published (NVMe 1.3 §5.8; the same test as virtio's vring_need_event).
 */
static inline bool nvp_db_need_event(uint16_t event_idx, uint16_t new_val,
				     uint16_t old_val)
{
	return (uint16_t)(new_val - event_idx - 1) < (uint16_t)(new_val - old_val);
}

/*
 * Tell the device a new SQ tail or CQ head. The caller has already ordered
 * its ring accesses before this: nvp_dma_wmb() after filling SQEs (SQ
 * tail), nvp_dma_rmb() after reading CQEs (CQ head), which order them
 * before the shadow store and the register store alike (lib/util/barrier.h).
 */
static inline void nvp_db_write(struct nvp_doorbell *db, uint16_t new_val,
				uint16_t old_val)
{
	db->writes++;
	if (db->shadow) {
		*db->shadow = nvp_cpu_to_le32(new_val);
		/* The shadow store (DMA memory) before the EventIdx load. */
		nvp_dma_mb();
		if (!db->always_mmio &&
		    !nvp_db_need_event((uint16_t)nvp_le32_to_cpu(*db->eventidx), new_val,
				       old_val))
			return;
	}
	*db->mmio = nvp_cpu_to_le32(new_val);
	db->mmio_writes++;
}

/* ---- Submission queue --------------------------------------------------- */

/* The slot the next command goes into; built in place, no copy. */
static inline struct nvp_sqe *nvp_sq_slot(struct nvp_sq *sq)
{
	return &sq->ring[sq->tail];
}

/* Publish the slot filled by the caller (the device sees it at the next ring). */
static inline void nvp_sq_advance(struct nvp_sq *sq)
{
	uint16_t next = (uint16_t)(sq->tail + 1);

	sq->tail = next == sq->entries ? 0 : next;
}

/* Write the tail doorbell if commands were posted since the last write. */
static inline void nvp_sq_ring(struct nvp_sq *sq)
{
	uint16_t tail = sq->tail, rung = sq->rung_tail;	/* loaded once */

	if (tail != rung) {
		/* SQEs and PRP/SGL lists (DMA memory) before the new tail. */
		nvp_dma_wmb();
		nvp_db_write(&sq->db, tail, rung);
		sq->rung_tail = tail;
	}
}

/* ---- Completion queue --------------------------------------------------- */

/* The entry at the head if the device has written it, else NULL. */
static inline volatile struct nvp_cqe *nvp_cq_peek(struct nvp_cq *cq)
{
	volatile struct nvp_cqe *cqe = &cq->ring[cq->head];

	if ((nvp_le16_to_cpu(cqe->status) & 1) != cq->phase)
		return NULL;
	/* The phase bit's load before the loads of the rest of the entry. */
	nvp_dma_rmb();
	return cqe;
}

/*
 * Whether the device has written the entry at the head: the phase check
 * alone, no barrier (nothing else of the entry is read). The idle poll.
 */
static inline bool nvp_cq_ready(const struct nvp_cq *cq)
{
	const volatile struct nvp_cqe *cqe = &cq->ring[cq->head];

	return (nvp_le16_to_cpu(cqe->status) & 1) == cq->phase;
}

/* Write the CQ head doorbell: the consumed slots go back to the device. */
static inline void nvp_cq_ring(struct nvp_cq *cq)
{
	uint16_t head = cq->head, rung = cq->rung_head;	/* loaded once */

	/* The loads of the consumed CQEs before the head that frees them. */
	nvp_dma_rmb();
	nvp_db_write(&cq->db, head, rung);
	cq->rung_head = head;
}

static inline void nvp_cq_advance(struct nvp_cq *cq)
{
	uint16_t next = (uint16_t)(cq->head + 1);

	if (next == cq->entries) {
		next = 0;
		cq->phase ^= 1;	/* the device flips the tag on each wrap */
	}
	cq->head = next;
}

#endif /* NVP_LIB_NVME_QUEUE_H */
