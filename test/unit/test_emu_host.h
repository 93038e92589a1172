/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_host.h - a minimal NVMe host for driving the emulated
 * controller directly through its registers, for the emu unit tests.
 *
 * It is deliberately independent of lib/nvme: the emulator is tested as a
 * device, so a bug in the driver cannot hide one in the device model.
 */
#ifndef NVP_TEST_EMU_HOST_H
#define NVP_TEST_EMU_HOST_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <nvpoll/emu.h>
#include <stdlib.h>

#include <nvpoll/nvpoll.h>

#include "dev/device.h"
#include "emu/emu.h"
#include "mem/mem.h"
#include "util/wire.h"

/*
 * How long the test host waits for the device. NVP_TEST_TIME_SCALE
 * stretches it for slow runs (valgrind serialises the device thread and
 * the host onto one core and runs both ~50x slower).
 */
static inline uint64_t host_timeout_ms(void)
{
	const char *scale = getenv("NVP_TEST_TIME_SCALE");
	long n = scale ? strtol(scale, NULL, 10) : 1;

	return 2000ull * (uint64_t)(n > 0 ? n : 1);
}

#define HOST_TIMEOUT_MS host_timeout_ms()

struct host_q {
	uint16_t qid;
	uint32_t size;
	struct nvp_sqe *sq;
	struct nvp_cqe *cq;
	uint32_t sq_tail;
	uint32_t cq_head;
	uint16_t phase;
	uint16_t next_cid;
	/* Shadow doorbells: write these instead of (or as well as) the register. */
	volatile uint32_t *sq_shadow;
	volatile uint32_t *cq_shadow;
	bool shadow_only;
};

struct host {
	struct nvp_device *dev;
	struct nvp_emu *emu;
	volatile uint8_t *bar;
	struct host_q aq;
	struct host_q io[8];
	void *data;		/* 2 MiB of DMA memory for tests to use */
	void *shadow;		/* dbbuf pages when configured */
	void *eventidx;
};

/*
 * MMIO as a driver does it, but spelled as atomics: on x86 and arm64 these
 * compile to the same single load/store as a volatile access, and
 * ThreadSanitizer can see the ordering with the device thread.
 */
static inline uint32_t host_rd(struct host *h, uint32_t off)
{
	/* Registers are little-endian. */
	return nvp_le32_to_cpu(__atomic_load_n((volatile uint32_t *)(h->bar + off),
					       __ATOMIC_ACQUIRE));
}

static inline void host_wr(struct host *h, uint32_t off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(h->bar + off), nvp_cpu_to_le32(v),
			 __ATOMIC_RELEASE);
}

static inline uint64_t host_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void host_sleep_us(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait until (reg & mask) == val; false on timeout. */
static inline bool host_wait_reg(struct host *h, uint32_t off, uint32_t mask, uint32_t val)
{
	uint64_t end = host_now_ms() + HOST_TIMEOUT_MS;

	while ((host_rd(h, off) & mask) != val)
		if (host_now_ms() > end)
			return false;
	return true;
}

static inline uint64_t host_iova(const void *va)
{
	uint64_t iova = 0;
	size_t contig;

	if (nvp_mem_lookup(va, &iova, &contig))
		return 0;
	return iova;
}

static inline void *host_dma(size_t size)
{
	return nvp_dma_alloc(size, 4096, NVP_NUMA_ANY);
}

static inline int host_alloc_q(struct host_q *q, uint16_t qid, uint32_t size)
{
	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->size = size;
	q->phase = 1;
	/* 64 KiB aligned: valid queue bases for every CC.MPS up to MPSMAX. */
	q->sq = nvp_dma_alloc((size_t)size * sizeof(struct nvp_sqe), 65536, NVP_NUMA_ANY);
	q->cq = nvp_dma_alloc((size_t)size * sizeof(struct nvp_cqe), 65536, NVP_NUMA_ANY);
	return q->sq && q->cq ? 0 : -ENOMEM;
}

static inline void host_free_q(struct host_q *q)
{
	nvp_dma_free(q->sq);
	nvp_dma_free(q->cq);
	q->sq = NULL;
	q->cq = NULL;
}

#define HOST_CC_DEFAULT \
	((6u << NVP_CC_IOSQES_SHIFT) | (4u << NVP_CC_IOCQES_SHIFT) | NVP_CC_EN)

/* Program the admin queue and enable with @cc; true if RDY came up. */
static inline bool host_enable(struct host *h, uint32_t cc)
{
	memset(h->aq.sq, 0, h->aq.size * sizeof(struct nvp_sqe));
	memset(h->aq.cq, 0, h->aq.size * sizeof(struct nvp_cqe));
	h->aq.sq_tail = h->aq.cq_head = 0;
	h->aq.phase = 1;
	host_wr(h, NVP_REG_AQA, NVP_AQA(h->aq.size, h->aq.size));
	host_wr(h, NVP_REG_ASQ, (uint32_t)host_iova(h->aq.sq));
	host_wr(h, NVP_REG_ASQ + 4, (uint32_t)(host_iova(h->aq.sq) >> 32));
	host_wr(h, NVP_REG_ACQ, (uint32_t)host_iova(h->aq.cq));
	host_wr(h, NVP_REG_ACQ + 4, (uint32_t)(host_iova(h->aq.cq) >> 32));
	host_wr(h, NVP_REG_CC, cc);
	/* Done at RDY or CFS: a refused enable never sets RDY, so do not wait it out. */
	{
		uint64_t end = host_now_ms() + HOST_TIMEOUT_MS;
		uint32_t v;

		while (!((v = host_rd(h, NVP_REG_CSTS)) & (NVP_CSTS_RDY | NVP_CSTS_CFS)))
			if (host_now_ms() > end)
				return false;
		return (v & (NVP_CSTS_RDY | NVP_CSTS_CFS)) == NVP_CSTS_RDY;
	}
}

static inline bool host_disable(struct host *h)
{
	host_wr(h, NVP_REG_CC, 0);
	return host_wait_reg(h, NVP_REG_CSTS, NVP_CSTS_RDY, 0);
}

/* Open "emu:@spec" without enabling it. */
static inline int host_open_raw(struct host *h, const char *spec)
{
	int ret;

	memset(h, 0, sizeof(*h));
	ret = nvp_emu_open(spec, &h->dev);
	if (ret)
		return ret;
	h->emu = h->dev->emu;
	h->bar = (volatile uint8_t *)h->dev->bar0;
	if (host_alloc_q(&h->aq, 0, 32))
		return -ENOMEM;
	h->data = nvp_dma_alloc(2u << 20, 65536, NVP_NUMA_ANY);
	return h->data ? 0 : -ENOMEM;
}

static inline int host_open(struct host *h, const char *spec)
{
	int ret = host_open_raw(h, spec);

	if (ret)
		return ret;
	return host_enable(h, HOST_CC_DEFAULT) ? 0 : -ETIMEDOUT;
}

static inline void host_close(struct host *h)
{
	if (h->dev)
		h->dev->ops->close(h->dev);
	host_free_q(&h->aq);
	for (int i = 0; i < 8; i++)
		host_free_q(&h->io[i]);
	nvp_dma_free(h->data);
	nvp_dma_free(h->shadow);
	nvp_dma_free(h->eventidx);
	memset(h, 0, sizeof(*h));
}

/* Copy @sqe (CPU order) into @q, little-endian (CID assigned unless
 * @keep_cid), without ringing. */
static inline uint16_t host_post(struct host_q *q, struct nvp_sqe *sqe, bool keep_cid)
{
	if (!keep_cid)
		sqe->cid = q->next_cid++;
	nvp_sqe_to_wire(&q->sq[q->sq_tail], sqe);
	q->sq_tail = (q->sq_tail + 1) % q->size;
	return sqe->cid;
}

static inline void host_ring_sq(struct host *h, struct host_q *q)
{
	if (q->sq_shadow) {
		__atomic_store_n(q->sq_shadow, nvp_cpu_to_le32(q->sq_tail), __ATOMIC_RELEASE);
		if (q->shadow_only)
			return;
	}
	host_wr(h, NVP_REG_DBS + 8 * q->qid, q->sq_tail);
}

static inline void host_ring_cq(struct host *h, struct host_q *q)
{
	if (q->cq_shadow) {
		__atomic_store_n(q->cq_shadow, nvp_cpu_to_le32(q->cq_head), __ATOMIC_RELEASE);
		if (q->shadow_only)
			return;
	}
	host_wr(h, NVP_REG_DBS + 8 * q->qid + 4, q->cq_head);
}

/* Take the next completion if there is one (no doorbell write). */
static inline bool host_peek(struct host_q *q, struct nvp_cqe *out)
{
	volatile struct nvp_cqe *e = &q->cq[q->cq_head];

	uint16_t status = nvp_le16_to_cpu(__atomic_load_n(&e->status, __ATOMIC_ACQUIRE));

	if ((status & 1) != q->phase)
		return false;
	/* Little-endian in the ring; handed out in CPU order. */
	out->dw0 = nvp_le32_to_cpu(__atomic_load_n(&e->dw0, __ATOMIC_RELAXED));
	out->dw1 = nvp_le32_to_cpu(__atomic_load_n(&e->dw1, __ATOMIC_RELAXED));
	out->sqhd = nvp_le16_to_cpu(__atomic_load_n(&e->sqhd, __ATOMIC_RELAXED));
	out->sqid = nvp_le16_to_cpu(__atomic_load_n(&e->sqid, __ATOMIC_RELAXED));
	out->cid = nvp_le16_to_cpu(__atomic_load_n(&e->cid, __ATOMIC_RELAXED));
	out->status = status;
	if (++q->cq_head == q->size) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	return true;
}

/* Wait for the next completion; rings the CQ head doorbell. */
static inline int host_wait_ms(struct host *h, struct host_q *q, struct nvp_cqe *out,
			       unsigned int ms)
{
	uint64_t end = host_now_ms() + ms;

	while (!host_peek(q, out))
		if (host_now_ms() > end)
			return -ETIMEDOUT;
	host_ring_cq(h, q);
	return 0;
}

static inline int host_wait(struct host *h, struct host_q *q, struct nvp_cqe *out)
{
	return host_wait_ms(h, q, out, HOST_TIMEOUT_MS);
}

/* Status without phase: compare with NVP_STATUS(...) | NVP_STATUS_DNR_BIT. */
#define HOST_ST(cqe) ((uint16_t)((cqe).status & 0xfffe))
#define HOST_TIMEOUT 0xffffu

/* Submit one command and wait: the status word, or HOST_TIMEOUT. */
static inline uint16_t host_cmd(struct host *h, struct host_q *q, struct nvp_sqe *sqe,
				struct nvp_cqe *cqe_out)
{
	struct nvp_cqe cqe;
	uint16_t cid = host_post(q, sqe, false);

	host_ring_sq(h, q);
	if (host_wait(h, q, &cqe))
		return HOST_TIMEOUT;
	if (cqe.cid != cid || cqe.sqid != q->qid)
		return 0xfffd;	/* wrong completion: the test will say so */
	if (cqe_out)
		*cqe_out = cqe;
	return HOST_ST(cqe);
}

static inline uint16_t host_admin(struct host *h, struct nvp_sqe *sqe, struct nvp_cqe *cqe)
{
	return host_cmd(h, &h->aq, sqe, cqe);
}

static inline void host_prp(struct nvp_sqe *sqe, const void *buf, const void *buf2)
{
	sqe->dptr.prp.prp1 = host_iova(buf);
	sqe->dptr.prp.prp2 = buf2 ? host_iova(buf2) : 0;
}

static inline uint16_t host_identify(struct host *h, uint8_t cns, uint32_t nsid, void *buf)
{
	struct nvp_sqe sqe = { .opc = NVP_ADMIN_IDENTIFY, .nsid = nsid, .cdw10 = cns };

	host_prp(&sqe, buf, NULL);
	return host_admin(h, &sqe, NULL);
}

static inline uint16_t host_set_num_queues(struct host *h, uint32_t nsq, uint32_t ncq,
					   uint32_t *dw0)
{
	struct nvp_sqe sqe = { .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = NVP_FEAT_NUM_QUEUES,
			       .cdw11 = ((ncq - 1) << 16) | (nsq - 1) };
	struct nvp_cqe cqe = { 0 };
	uint16_t st = host_admin(h, &sqe, &cqe);

	if (dw0)
		*dw0 = cqe.dw0;
	return st;
}

static inline uint16_t host_create_cq(struct host *h, uint16_t qid, uint32_t size,
				      const void *ring, uint32_t flags)
{
	struct nvp_sqe sqe = { .opc = NVP_ADMIN_CREATE_CQ, .cdw10 = ((size - 1) << 16) | qid,
			       .cdw11 = flags };

	sqe.dptr.prp.prp1 = ring ? host_iova(ring) : 0;
	return host_admin(h, &sqe, NULL);
}

static inline uint16_t host_create_sq(struct host *h, uint16_t qid, uint32_t size,
				      const void *ring, uint16_t cqid, uint32_t flags)
{
	struct nvp_sqe sqe = { .opc = NVP_ADMIN_CREATE_SQ, .cdw10 = ((size - 1) << 16) | qid,
			       .cdw11 = ((uint32_t)cqid << 16) | flags };

	sqe.dptr.prp.prp1 = ring ? host_iova(ring) : 0;
	return host_admin(h, &sqe, NULL);
}

static inline uint16_t host_delete_q(struct host *h, uint8_t opc, uint16_t qid)
{
	struct nvp_sqe sqe = { .opc = opc, .cdw10 = qid };

	return host_admin(h, &sqe, NULL);
}

/* Create I/O queue pair @qid (CQ and SQ share the ID) with @size entries. */
static inline int host_create_qpair(struct host *h, uint16_t qid, uint32_t size)
{
	struct host_q *q = &h->io[qid];

	if (host_alloc_q(q, qid, size))
		return -ENOMEM;
	if (host_create_cq(h, qid, size, q->cq, NVP_QUEUE_PHYS_CONTIG))
		return -EIO;
	if (host_create_sq(h, qid, size, q->sq, qid, NVP_QUEUE_PHYS_CONTIG))
		return -EIO;
	return 0;
}

static inline void host_rw_sqe(struct nvp_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t slba,
			       uint32_t nlb)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	sqe->nsid = nsid;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = nlb - 1;
}

/* Read or write @nlb blocks at @slba through PRP1/PRP2 (at most two pages). */
static inline uint16_t host_rw(struct host *h, uint16_t qid, uint8_t opc, uint32_t nsid,
			       uint64_t slba, uint32_t nlb, void *buf, size_t len)
{
	struct nvp_sqe sqe;

	host_rw_sqe(&sqe, opc, nsid, slba, nlb);
	host_prp(&sqe, buf, len > 4096 ? (uint8_t *)buf + 4096 : NULL);
	return host_cmd(h, &h->io[qid], &sqe, NULL);
}

static inline struct nvp_emu_stats host_stats(struct host *h)
{
	struct nvp_emu_stats s;

	nvp_emu_dev_get_stats(h->emu, &s, sizeof(s));
	return s;
}

#endif /* NVP_TEST_EMU_HOST_H */
