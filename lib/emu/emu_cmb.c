/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_cmb.c - the emulated Controller Memory Buffer (emu:cmb=SIZE),
 * with QEMU 7.2's register semantics (hw/nvme/ctrl.c, not legacy-cmb):
 *
 *   CAP.CMBS = 1; CMBLOC and CMBSZ read 0 until the host sets CMBMSC.CRE,
 *   then BIR 2 and SZU 1 MiB, SZ = SIZE in MiB. Clearing CRE zeroes them.
 *   CMBMSC.CMSE with CBA tells the device which bus addresses are its
 *   CMB; CBA + SIZE wrapping sets CMBSTS.CBAI and leaves CMSE off.
 *   A queue whose base address lies in [CBA, CBA + SIZE) while CMSE is on
 *   is read from the CMB; otherwise the address is a host IOVA, and the
 *   CMB's own bus addresses are not host memory, so Create I/O SQ fails
 *   (Data Transfer Error). QEMU accepts such a queue and, under an IOMMU,
 *   goes fatal (CSTS.CFS) at its first fetch: emu refuses it earlier.
 *
 * Only submission queues come from the CMB (CMBSZ.SQS; QEMU also offers
 * LISTS, RDS and WDS, which emu does not model). The whole 64-bit CMBMSC
 * is acted on when the device sees it change (each pass of its loop, at
 * enable and before Create I/O SQ); QEMU acts on each 32-bit write. A host
 * that writes the high half first, as Linux and nvpoll do, sees no
 * difference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "util/log.h"

/* The BAR's bus address: above 4 GiB like a 64-bit prefetchable BAR, in
 * the IOVA range, so nvpoll's reservation of it is exercised. */
#define EMU_CMB_BUS	0x8000000000ull
#define EMU_CMB_BIR	2u

static uint32_t reg(struct nvp_emu *emu, uint32_t off)
{
	return nvp_le32_to_cpu(__atomic_load_n(&emu->regs[off / 4], __ATOMIC_ACQUIRE));
}

static void reg_set(struct nvp_emu *emu, uint32_t off, uint32_t v)
{
	__atomic_store_n(&emu->regs[off / 4], nvp_cpu_to_le32(v), __ATOMIC_RELEASE);
}

int nvp_emu_cmb_open(struct nvp_emu *emu)
{
	uint64_t size = emu->opts.cmb_bytes;

	if (!size)
		return 0;
	emu->cmb.mem = aligned_alloc(4096, size);
	if (!emu->cmb.mem)
		return nvp_error(-ENOMEM, "emu: cannot allocate the %llu MiB CMB; give a smaller cmb=",
				 (unsigned long long)(size >> 20));
	memset(emu->cmb.mem, 0, size);
	emu->cmb.size = size;
	return 0;
}

void nvp_emu_cmb_close(struct nvp_emu *emu)
{
	free(emu->cmb.mem);
	emu->cmb.mem = NULL;
}

void nvp_emu_cmb_check(struct nvp_emu *emu)
{
	struct emu_cmb *cmb = &emu->cmb;
	uint64_t msc, cba;

	if (!cmb->mem)
		return;
	msc = reg(emu, NVP_REG_CMBMSC) | ((uint64_t)reg(emu, NVP_REG_CMBMSC + 4) << 32);
	if (msc == cmb->msc)
		return;
	cmb->msc = msc;
	cmb->cmse = false;
	if (!(msc & NVP_CMBMSC_CRE)) {
		reg_set(emu, NVP_REG_CMBLOC, 0);
		reg_set(emu, NVP_REG_CMBSZ, 0);
		return;
	}
	reg_set(emu, NVP_REG_CMBLOC, EMU_CMB_BIR);
	reg_set(emu, NVP_REG_CMBSZ, NVP_CMBSZ_SQS | (2u << NVP_CMBSZ_SZU_SHIFT) |
				    (uint32_t)(cmb->size >> 20) << NVP_CMBSZ_SZ_SHIFT);
	if (!(msc & NVP_CMBMSC_CMSE))
		return;
	cba = msc & NVP_CMBMSC_CBA_MASK;
	if (cba + cmb->size < cba) {
		reg_set(emu, NVP_REG_CMBSTS, reg(emu, NVP_REG_CMBSTS) | NVP_CMBSTS_CBAI);
		return;
	}
	reg_set(emu, NVP_REG_CMBSTS, reg(emu, NVP_REG_CMBSTS) & ~NVP_CMBSTS_CBAI);
	cmb->cba = cba;
	cmb->cmse = true;
}

void *nvp_emu_cmb_va(struct nvp_emu *emu, uint64_t addr, size_t len)
{
	struct emu_cmb *cmb = &emu->cmb;

	if (!cmb->cmse || addr < cmb->cba || addr - cmb->cba >= cmb->size ||
	    len > cmb->size - (addr - cmb->cba))
		return NULL;
	return cmb->mem + (addr - cmb->cba);
}

/* The host's view: the BAR that holds the CMB (lib/dev's map_bar). */
int nvp_emu_cmb_map_bar(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map)
{
	struct nvp_emu *emu = dev->emu;

	if (!emu->cmb.mem || bar != EMU_CMB_BIR)
		return nvp_error(-ENODEV, "%s: BAR%u of the emulated controller holds no memory (give cmb=SIZE for a CMB in BAR%u)",
				 dev->addr, bar, EMU_CMB_BIR);
	map->va = emu->cmb.mem;
	map->len = emu->cmb.size;
	map->bus_addr = EMU_CMB_BUS;
	map->wc = false;
	map->prefetchable = true;
	return 0;
}

void nvp_emu_cmb_unmap_bar(struct nvp_device *dev, struct nvp_bar_map *map)
{
	(void)dev;
	(void)map;	/* the memory is the device's; freed when it closes */
}
