/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/regs.h - controller register access.
 *
 * BAR0 is device memory (or, for the emulated controller, memory a device
 * thread watches). Every access is a single volatile load or store of the
 * register's natural width, so the compiler neither merges nor tears it.
 * 64-bit registers are accessed as two 32-bit halves, low first, as Linux
 * does (lo_hi_readq/writeq): not every controller handles 64-bit MMIO.
 * Registers are little-endian; ordering is lib/util/barrier.h's, as
 * Linux's readl()/writel() order.
 */
#ifndef NVP_LIB_NVME_REGS_H
#define NVP_LIB_NVME_REGS_H

#include <stdint.h>

#include <nvpoll/spec.h>

#include "util/barrier.h"

/* A register read of all-ones means the device is gone (surprise removal). */
#define NVP_REG_GONE 0xffffffffu

static inline uint32_t nvp_reg_read32(volatile void *bar, uint32_t off)
{
	uint32_t v = *(volatile uint32_t *)((volatile uint8_t *)bar + off);

	/* This register load before any later load (DMA memory it reports on). */
	nvp_mmio_rmb();
	return nvp_le32_to_cpu(v);
}

static inline void nvp_reg_write32(volatile void *bar, uint32_t off, uint32_t val)
{
	/* Earlier stores to DMA memory (admin queues, pages) before this store. */
	nvp_mmio_wmb();
	*(volatile uint32_t *)((volatile uint8_t *)bar + off) = nvp_cpu_to_le32(val);
}

static inline uint64_t nvp_reg_read64(volatile void *bar, uint32_t off)
{
	uint64_t lo = nvp_reg_read32(bar, off);
	uint64_t hi = nvp_reg_read32(bar, off + 4);

	return lo | (hi << 32);
}

static inline void nvp_reg_write64(volatile void *bar, uint32_t off, uint64_t val)
{
	nvp_reg_write32(bar, off, (uint32_t)val);
	nvp_reg_write32(bar, off + 4, (uint32_t)(val >> 32));
}

#endif /* NVP_LIB_NVME_REGS_H */
