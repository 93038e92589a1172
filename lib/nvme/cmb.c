/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/cmb.c - I/O submission queues in the Controller Memory Buffer,
 * as Linux's use_cmb_sqes (drivers/nvme/host/pci.c nvme_map_cmb(),
 * nvme_alloc_sq_cmds(), nvme_sq_copy_cmd()).
 *
 *   before enable   CMBMSC.CRE: an NVMe 1.4 controller (CAP.CMBS) reports
 *                   CMBLOC/CMBSZ only then; QEMU 7.2 reads 0 until it.
 *   after ready     read CMBSZ (SQS, SZU, SZ) and CMBLOC (BIR, OFST), map
 *                   the BAR through lib/dev, keep its bus addresses out of
 *                   the IOVA allocator, and tell the controller where its
 *                   CMB lives: CMBMSC = CBA | CMSE | CRE, CBA being the BAR's
 *                   bus address plus OFST, as Linux does. After a reset the
 *                   same again (the mapping stays).
 *   queues          an I/O SQ's ring is a page run of the CMB; the commands
 *                   are still built in a host ring (nvp_sq_slot()), and
 *                   nvp_sq_ring() copies the new ones, 64 bytes each with
 *                   16-byte stores, then fences, then writes the doorbell.
 *                   Device memory is never written field by field.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "mem/mem.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"
#include "util/log.h"

static const char *mode_name(enum nvp_cmb_sqs mode)
{
	return mode == NVP_CMB_SQS_REQUIRE ? "require" : "prefer";
}

void nvp_cmb_before_enable(struct nvp_ctrl *ctrl)
{
	if (ctrl->opts.cmb_sqs != NVP_CMB_SQS_OFF && NVP_CAP_CMBS(ctrl->cap))
		nvp_reg_write32(ctrl->bar, NVP_REG_CMBMSC, (uint32_t)NVP_CMBMSC_CRE);
}

/*
 * CMBMSC = CBA | CMSE | CRE, high half first: QEMU 7.2 acts on the write
 * of the low half, taking CBA's high bits from what is already there
 * (Linux writes it hi_lo too).
 */
static int enable_space(struct nvp_ctrl *ctrl, const char **why)
{
	struct nvp_cmb *cmb = &ctrl->cmb;
	uint64_t v = (cmb->bus & NVP_CMBMSC_CBA_MASK) | NVP_CMBMSC_CMSE | NVP_CMBMSC_CRE;

	if (!NVP_CAP_CMBS(ctrl->cap))
		return 0;	/* pre-1.4: the CMB decodes at its BAR address */
	nvp_reg_write32(ctrl->bar, NVP_REG_CMBMSC + 4, (uint32_t)(v >> 32));
	nvp_reg_write32(ctrl->bar, NVP_REG_CMBMSC, (uint32_t)v);
	if (nvp_reg_read32(ctrl->bar, NVP_REG_CMBSTS) & NVP_CMBSTS_CBAI) {
		*why = "the controller refused the CMB's bus address (CMBSTS.CBAI)";
		return -EINVAL;
	}
	return 0;
}

static void unmap(struct nvp_ctrl *ctrl)
{
	struct nvp_cmb *cmb = &ctrl->cmb;

	if (cmb->reserved)
		nvp_mem_release_bus_range(cmb->bus, cmb->size);
	cmb->reserved = false;
	nvp_device_unmap_bar(ctrl->dev, &cmb->bar);
	free(cmb->used);
	cmb->used = NULL;
	cmb->base = NULL;
	cmb->use_sqs = false;
	ctrl->info.cmb_bytes = 0;
	ctrl->info.cmb_sqs = false;
}

/* Host-memory SQs from here on: fine when preferred, an error if required. */
static int give_up(struct nvp_ctrl *ctrl, const char *why)
{
	if (ctrl->opts.cmb_sqs == NVP_CMB_SQS_REQUIRE)
		return nvp_error(-ENOTSUP, "CMB submission queues are required (cmb_sqs=require) but %s; "
				 "use cmb_sqs=prefer to fall back to host memory", why);
	nvp_warn("%s: submission queues stay in host memory (cmb_sqs=%s): %s", ctrl->info.addr,
		 mode_name(ctrl->opts.cmb_sqs), why);
	return 0;
}

/* Find and map the CMB; @why says what is wrong when it cannot hold SQs. */
static int map_cmb(struct nvp_ctrl *ctrl, uint32_t cmbsz, uint32_t cmbloc, const char **why)
{
	struct nvp_cmb *cmb = &ctrl->cmb;
	uint32_t szu = NVP_CMBSZ_SZU(cmbsz);
	uint64_t unit, size, offset;
	int rc;

	if (!cmbsz) {
		*why = NVP_CAP_CMBS(ctrl->cap) ? "CMBSZ reads 0 after CMBMSC.CRE: the controller has no CMB" :
		       "the controller has no CMB (CAP.CMBS and CMBSZ are 0)";
		return -ENOTSUP;
	}
	if (!(cmbsz & NVP_CMBSZ_SQS)) {
		*why = "its CMB cannot hold submission queues (CMBSZ.SQS=0)";
		return -ENOTSUP;
	}
	if (szu > 6) {
		*why = "CMBSZ.SZU holds a reserved size unit";
		return -ENOTSUP;
	}
	unit = 4096ull << (4 * szu);
	size = (uint64_t)NVP_CMBSZ_SZ(cmbsz) * unit;
	offset = (uint64_t)NVP_CMBLOC_OFST(cmbloc) * unit;
	rc = nvp_device_map_bar(ctrl->dev, NVP_CMBLOC_BIR(cmbloc), &cmb->bar);
	if (rc) {
		*why = nvp_last_error();
		return rc;
	}
	if (offset >= cmb->bar.len) {
		*why = "CMBLOC.OFST lies beyond the end of its BAR";
		return -ENOTSUP;
	}
	/* A CMB larger than its BAR (behind a bridge) is cut to it, as Linux. */
	if (size > cmb->bar.len - offset)
		size = cmb->bar.len - offset;
	cmb->base = (volatile uint8_t *)cmb->bar.va + offset;
	cmb->bus = cmb->bar.bus_addr + offset;
	cmb->size = size & ~((uint64_t)ctrl->page_size - 1);
	if (cmb->bus & (ctrl->page_size - 1)) {
		*why = "the CMB's bus address is not aligned to the controller's memory page";
		return -ENOTSUP;
	}
	if (cmb->size < 2ull * ctrl->page_size) {
		*why = "the CMB is smaller than two memory pages";
		return -ENOTSUP;
	}
	rc = nvp_mem_reserve_bus_range(cmb->bus, cmb->size);
	if (rc) {
		*why = rc == -EBUSY ? "host memory already has IOVAs inside the CMB's bus addresses" :
		       "too many bus address ranges are reserved";
		return rc;
	}
	cmb->reserved = true;
	cmb->pages = (uint32_t)(cmb->size / ctrl->page_size);
	cmb->used = calloc(cmb->pages, 1);
	if (!cmb->used) {
		*why = "out of memory";
		return -ENOMEM;
	}
	cmb->cmbsz = cmbsz;
	return 0;
}

int nvp_cmb_setup(struct nvp_ctrl *ctrl, bool reinit)
{
	struct nvp_cmb *cmb = &ctrl->cmb;
	const char *why = NULL;
	uint32_t cmbsz, cmbloc;
	int rc;

	if (ctrl->opts.cmb_sqs == NVP_CMB_SQS_OFF)
		return 0;
	cmbsz = nvp_reg_read32(ctrl->bar, NVP_REG_CMBSZ);
	cmbloc = nvp_reg_read32(ctrl->bar, NVP_REG_CMBLOC);
	if (reinit) {
		if (!cmb->use_sqs)
			return 0;
		/* Queues live at these addresses: the same CMB must come back. */
		if (cmbsz != cmb->cmbsz)
			return nvp_error(-EIO, "%s: the CMB changed across the reset (CMBSZ 0x%08x, was 0x%08x); detach and attach again",
					 ctrl->info.addr, cmbsz, cmb->cmbsz);
		rc = enable_space(ctrl, &why);
		if (rc)
			return nvp_error(-EIO, "%s: after the reset %s", ctrl->info.addr, why);
		return 0;
	}
	rc = map_cmb(ctrl, cmbsz, cmbloc, &why);
	if (!rc)
		rc = enable_space(ctrl, &why);
	if (rc) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", why);	/* why may be the error buffer */
		unmap(ctrl);
		return give_up(ctrl, msg);
	}
	cmb->use_sqs = true;
	ctrl->info.cmb_bytes = cmb->size;
	ctrl->info.cmb_sqs = true;
	nvp_info("%s: I/O submission queues in the CMB: %llu KiB in BAR%u at bus address 0x%llx, mapped %s",
		 ctrl->info.addr, (unsigned long long)(cmb->size >> 10), NVP_CMBLOC_BIR(cmbloc),
		 (unsigned long long)cmb->bus,
		 cmb->bar.wc ? "write-combined" : "uncached (or ordinary memory for emu)");
	return 0;
}

int nvp_cmb_sq_alloc(struct nvp_ctrl *ctrl, size_t bytes, volatile struct nvp_sqe **ring,
		     uint64_t *bus)
{
	struct nvp_cmb *cmb = &ctrl->cmb;
	uint32_t need = (uint32_t)((bytes + ctrl->page_size - 1) / ctrl->page_size);
	int rc = -ENOSPC;

	if (!cmb->use_sqs || !need)
		return -ENOSPC;
	pthread_mutex_lock(&cmb->lock);
	for (uint32_t i = 0, run = 0; i < cmb->pages; i++) {
		run = cmb->used[i] ? 0 : run + 1;
		if (run == need) {
			uint32_t first = i + 1 - need;

			memset(cmb->used + first, 1, need);
			*ring = (volatile struct nvp_sqe *)(cmb->base +
							    (size_t)first * ctrl->page_size);
			*bus = cmb->bus + (uint64_t)first * ctrl->page_size;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&cmb->lock);
	return rc;
}

void nvp_cmb_sq_free(struct nvp_ctrl *ctrl, volatile struct nvp_sqe *ring, size_t bytes)
{
	struct nvp_cmb *cmb = &ctrl->cmb;
	uint32_t need = (uint32_t)((bytes + ctrl->page_size - 1) / ctrl->page_size);
	size_t first;

	if (!ring || !cmb->used)
		return;
	first = (size_t)((volatile uint8_t *)ring - cmb->base) / ctrl->page_size;
	pthread_mutex_lock(&cmb->lock);
	if (first + need <= cmb->pages)
		memset(cmb->used + first, 0, need);
	pthread_mutex_unlock(&cmb->lock);
}

/* One 64-byte command into device memory: four 16-byte stores, no reads. */
static inline void copy_sqe(volatile struct nvp_sqe *dst, const struct nvp_sqe *src)
{
#if defined(__x86_64__)
	const __m128i *s = (const __m128i *)src;
	__m128i *d = (__m128i *)(uintptr_t)dst;
	__m128i a = _mm_load_si128(s), b = _mm_load_si128(s + 1);
	__m128i c = _mm_load_si128(s + 2), e = _mm_load_si128(s + 3);

	_mm_store_si128(d, a);
	_mm_store_si128(d + 1, b);
	_mm_store_si128(d + 2, c);
	_mm_store_si128(d + 3, e);
#elif defined(__aarch64__)
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)(uintptr_t)dst;
	uint64x2_t a = vld1q_u64(s), b = vld1q_u64(s + 2);
	uint64x2_t c = vld1q_u64(s + 4), e = vld1q_u64(s + 6);

	vst1q_u64(d, a);
	vst1q_u64(d + 2, b);
	vst1q_u64(d + 4, c);
	vst1q_u64(d + 6, e);
#endif
}

void nvp_cmb_ring(struct nvp_sq *sq)
{
	uint16_t tail = sq->tail, rung = sq->rung_tail;	/* loaded once */

	for (uint16_t i = rung; i != tail; i = (uint16_t)(i + 1 == sq->entries ? 0 : i + 1))
		copy_sqe(&sq->cmb_ring[i], &sq->ring[i]);
	/* The command copies (WC or uncached device memory) and PRP/SGL lists
	 * (DMA memory) before the doorbell store. */
	nvp_wmb();
	nvp_db_write(&sq->db, tail, rung);
	sq->rung_tail = tail;
}

void nvp_cmb_release(struct nvp_ctrl *ctrl)
{
	if (ctrl->cmb.bar.va)
		unmap(ctrl);
}
