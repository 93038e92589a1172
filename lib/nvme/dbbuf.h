/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/dbbuf.h - doorbells and shadow doorbells (Doorbell Buffer
 * Config, NVMe 1.3 §5.8), in one place.
 *
 * With Doorbell Buffer Config the host writes each new SQ tail or CQ head
 * into a shadow page in its own memory, and writes the MMIO register only
 * when the value passes the event index the controller published in a
 * second page. Under virtualisation that spares most doorbell exits.
 *
 * The ring (nvp_db_write()) is on the I/O path and stays static inline
 * here, for queue.h. Setting the pages up, the admin command, attaching a
 * queue's doorbells to their shadow slots and what a reset changes are in
 * dbbuf.c.
 */
#ifndef NVP_LIB_NVME_DBBUF_H
#define NVP_LIB_NVME_DBBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll/spec.h>

#include "util/barrier.h"

struct nvp_ctrl;

/**
 * struct nvp_doorbell - one doorbell, with its optional shadow.
 * @mmio: the register in BAR0.
 * @shadow: Doorbell Buffer Config shadow entry, or NULL.
 * @eventidx: the controller's event index for this doorbell, or NULL.
 * @always_mmio: write the register even when a shadow is in use (the
 *               admin queue: Linux never shadows it and some controllers
 *               only watch the register for queue 0).
 * @writes: updates of this doorbell.
 * @mmio_writes: of those, the ones written to the register.
 */
struct nvp_doorbell {
	volatile uint32_t *mmio;
	volatile uint32_t *shadow;
	volatile uint32_t *eventidx;
	bool always_mmio;
	uint64_t writes;
	uint64_t mmio_writes;
};

/**
 * struct nvp_dbbuf - a controller's shadow doorbell pages.
 * @shadow: shadow doorbells (DMA memory), or NULL.
 * @eventidx: event indexes the controller writes (DMA memory), or NULL.
 * @bytes: size of each, a slot per doorbell, CAP.DSTRD apart.
 *
 * Allocated at the first Doorbell Buffer Config and kept until the
 * controller is freed: a reset hands the same pages over again, and the
 * controller may write @eventidx until it is disabled.
 */
struct nvp_dbbuf {
	uint32_t *shadow;
	uint32_t *eventidx;
	size_t bytes;
};

/*
 * Whether moving a doorbell from @old_val to @new_val passes @event_idx,
 * so the controller needs the MMIO write (NVMe 1.3 §5.8; the same test as
 * virtio's vring_need_event, modulo 2^16).
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

/**
 * nvp_dbbuf_prepare() - build the Doorbell Buffer Config command, if the
 * controller offers it and it is wanted.
 * @ctrl: controller (Identify data and the granted queue count known).
 * @cmd: out: the command (CPU order), when the return is 1.
 *
 * Shadow doorbells are off from here until nvp_dbbuf_configured() sees
 * the command succeed; the admin queue's doorbells are MMIO only meanwhile.
 * The pages are allocated on the first call and reused after a reset.
 *
 * Return: 1 if @cmd is to be submitted, 0 if MMIO doorbells are all there
 * is (not offered, turned off, or no memory for the pages).
 */
int nvp_dbbuf_prepare(struct nvp_ctrl *ctrl, struct nvp_sqe *cmd);

/**
 * nvp_dbbuf_configured() - the controller answered Doorbell Buffer Config.
 * @ctrl: controller.
 * @cpl: its completion.
 *
 * Success turns shadow doorbells on and attaches the admin queue's; I/O
 * queues attach theirs when they are created (again). A refusal leaves
 * MMIO doorbells only, which works on every controller.
 */
void nvp_dbbuf_configured(struct nvp_ctrl *ctrl, const struct nvp_cqe *cpl);

/**
 * nvp_dbbuf_attach() - point a doorbell at its register and, when shadow
 * doorbells are on, at its shadow and event index slots.
 * @ctrl: controller.
 * @db: the doorbell.
 * @idx: doorbell index: 2 * qid for the SQ tail, 2 * qid + 1 for the CQ head.
 * @is_admin: the admin queue's (written to MMIO every time too).
 * @value: what the controller was last told (seeds the slots).
 */
void nvp_dbbuf_attach(struct nvp_ctrl *ctrl, struct nvp_doorbell *db, uint32_t idx,
		      bool is_admin, uint16_t value);

/**
 * nvp_dbbuf_free() - free the pages (the controller is disabled or gone).
 * @ctrl: controller.
 */
void nvp_dbbuf_free(struct nvp_ctrl *ctrl);

#endif /* NVP_LIB_NVME_DBBUF_H */
