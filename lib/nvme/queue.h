/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/queue.h - the hot path: ring arithmetic and doorbells.
 * Everything is static inline so nvp_read() -> doorbell -> callback
 * compiles into straight-line code with no calls into other files.
 */
#ifndef NVP_LIB_NVME_QUEUE_H
#define NVP_LIB_NVME_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvme/nvme.h"

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

static inline void nvp_db_write(struct nvp_doorbell *db, uint16_t new_val,
				uint16_t old_val)
{
	db->writes++;
	if (db->shadow) {
		/* Queue entries must be visible before the shadow value. */
		atomic_thread_fence(memory_order_release);
		*db->shadow = new_val;
		/* The shadow store must be visible before we read eventidx. */
		atomic_thread_fence(memory_order_seq_cst);
		if (!db->always_mmio &&
		    !nvp_db_need_event((uint16_t)*db->eventidx, new_val, old_val))
			return;
	}
	/* Queue entries (DMA memory) must be visible before the doorbell. */
	atomic_thread_fence(memory_order_release);
	*db->mmio = new_val;
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
	if (sq->tail != sq->rung_tail) {
		nvp_db_write(&sq->db, sq->tail, sq->rung_tail);
		sq->rung_tail = sq->tail;
	}
}

/* ---- Completion queue --------------------------------------------------- */

/* The entry at the head if the device has written it, else NULL. */
static inline volatile struct nvp_cqe *nvp_cq_peek(struct nvp_cq *cq)
{
	volatile struct nvp_cqe *cqe = &cq->ring[cq->head];

	if ((cqe->status & 1) != cq->phase)
		return NULL;
	/* Read the rest of the entry only after seeing its phase bit. */
	atomic_thread_fence(memory_order_acquire);
	return cqe;
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
