/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/queue.h - the hot path: ring arithmetic and doorbells.
 * Everything is static inline so nvp_read() -> doorbell -> callback
 * compiles into straight-line code with no calls into other files. The
 * doorbell write itself (register, or shadow and event index) is
 * nvp_db_write() in dbbuf.h.
 */
#ifndef NVP_LIB_NVME_QUEUE_H
#define NVP_LIB_NVME_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme/dbbuf.h"
#include "nvme/nvme.h"
#include "util/barrier.h"

/* ---- Submission queue --------------------------------------------------- */

/* The slot the next command goes into; built in place, no copy (for a CMB
 * queue, in the host ring that nvp_sq_ring() copies from). */
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
		/* A CMB or NVMe/TCP queue (not taken for host memory): all of it
		 * out of line, as a tail call, so the host path keeps its prologue. */
		if (__builtin_expect(sq->ring_fn != NULL, 0)) {
			sq->ring_fn(sq);
			return;
		}
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
