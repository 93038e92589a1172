/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/barrier.h - the one barrier policy: how the driver orders its
 * accesses to DMA memory (queues, PRP/SGL lists, shadow doorbells) and to
 * BAR0 (registers, doorbells) as a device sees them.
 *
 * C11 fences are not enough: they order memory for other CPUs (on arm64
 * atomic_thread_fence() is "dmb ish", the inner shareable domain), while a
 * device doing DMA, and BAR0, sit in the outer shareable domain. So, as
 * Linux (dma_rmb, dma_wmb, mb, __iowmb) and libvfn (support/barrier.h) do:
 *
 *                      x86-64                     arm64
 *   nvp_dma_rmb()      compiler barrier (TSO)     dmb oshld
 *   nvp_dma_wmb()      compiler barrier (TSO)     dmb oshst
 *   nvp_dma_mb()       lock or (full barrier)     dmb osh
 *   nvp_mmio_wmb()     compiler barrier           dmb oshst
 *   nvp_mmio_rmb()     compiler barrier           dmb oshld
 *   nvp_wmb()          sfence                     dsb st
 *
 * - nvp_dma_rmb(): loads before it are done before the loads and stores
 *   after it (read a CQE's body only after its phase bit; read the CQEs
 *   before the CQ head that hands their slots back). arm64's "dmb ld"
 *   orders loads against both; x86 never moves a load after a later access.
 * - nvp_dma_wmb(): stores to DMA memory before it are seen by the device
 *   before stores after it (queue entries before a shadow doorbell).
 * - nvp_dma_mb(): all of the above, and a store before it is seen before a
 *   load after it (the shadow doorbell store, then the EventIdx load): the
 *   one reordering x86's TSO allows, hence a locked instruction there.
 * - nvp_mmio_wmb(): stores to DMA memory are seen before a following store
 *   to BAR0 (a register write after setting up the admin queue), as
 *   Linux's writel() orders. On x86-64 an uncached (UC) MMIO store is never
 *   reordered with older stores, and nvpoll maps BAR0 UC (VFIO and sysfs
 *   resource0), never write-combining. Doorbells take nvp_dma_wmb() or
 *   nvp_dma_rmb() instead, before the shadow entry and the register alike
 *   (lib/nvme/queue.h): the same instruction, said where it is needed.
 * - nvp_mmio_rmb(): a load from BAR0 completes before the loads after it
 *   (a register that says DMA has finished, then that DMA memory), as
 *   Linux's readl() orders.
 * - nvp_wmb(): stores complete, whatever the memory type: needed only for
 *   write-combining mappings (x86 WC buffers are not ordered with UC
 *   stores). Used after copying commands into a Controller Memory Buffer
 *   (lib/nvme/cmb.c), which uio maps WC (resourceN_wc) and arm64 maps as
 *   Device or Normal-NC memory: sfence, and dsb st as Linux's wmb().
 *
 * The emulated controller is a thread on another CPU, in the inner
 * shareable domain that the outer one contains: the same barriers order
 * the driver's accesses for it, and on arm64 they are exercised against a
 * weaker memory model than x86's. The emulator's own side is CPU code and
 * uses acquire/release atomics (lib/emu/emu_core.c).
 *
 * Every use has a one-line comment saying what it orders against what.
 */
#ifndef NVP_LIB_UTIL_BARRIER_H
#define NVP_LIB_UTIL_BARRIER_H

/* The compiler neither moves memory accesses across it nor caches them. */
#define nvp_compiler_barrier() __asm__ __volatile__("" ::: "memory")

#if defined(__x86_64__)

#define nvp_dma_rmb()	nvp_compiler_barrier()
#define nvp_dma_wmb()	nvp_compiler_barrier()
/* A locked no-op, as GCC's seq_cst fence and Linux's smp_mb(): a full
 * barrier for write-back memory (where the queues and shadow doorbells
 * live), cheaper than mfence, which also orders WC and non-temporal stores. */
#define nvp_dma_mb()	__asm__ __volatile__("lock; orq $0, (%%rsp)" ::: "memory", "cc")
#define nvp_mmio_wmb()	nvp_compiler_barrier()
#define nvp_mmio_rmb()	nvp_compiler_barrier()
#define nvp_wmb()	__asm__ __volatile__("sfence" ::: "memory")

#elif defined(__aarch64__)

#define nvp_dma_rmb()	__asm__ __volatile__("dmb oshld" ::: "memory")
#define nvp_dma_wmb()	__asm__ __volatile__("dmb oshst" ::: "memory")
#define nvp_dma_mb()	__asm__ __volatile__("dmb osh" ::: "memory")
#define nvp_mmio_wmb()	__asm__ __volatile__("dmb oshst" ::: "memory")
#define nvp_mmio_rmb()	__asm__ __volatile__("dmb oshld" ::: "memory")
#define nvp_wmb()	__asm__ __volatile__("dsb st" ::: "memory")

#else
#error "nvpoll supports x86-64 and arm64 (aarch64) only: lib/util/barrier.h has no DMA and MMIO barriers for this CPU. Port it by adding this architecture's barriers there (see Linux's asm/barrier.h), then its byte order is already handled by nvpoll/spec.h."
#endif

#endif /* NVP_LIB_UTIL_BARRIER_H */
