/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_md.c - metadata and end-to-end protection information (PI)
 * in the emulated controller, behaving as QEMU 7.2's hw/nvme does, so the
 * same tests pass against both.
 *
 * Storage: each block's metadata sits after the data in the namespace's
 * mapping (and file), @ns->ms bytes per block. The 8-byte PI tuple of a PI
 * namespace is stored inverted, so storage that was never written (or was
 * deallocated, or zeroed) reads back a tuple of all ones: QEMU reports such
 * blocks that way, and an all-ones tuple disables the checks.
 *
 * PI (16-bit guard, NVM Command Set 1.0 5.2): a tuple is the guard (CRC16
 * T10-DIF over the block's data and, with PI last, the metadata bytes
 * before the tuple), the application tag and the reference tag, all
 * big-endian. PRACT on a write makes the device generate it (the host sends
 * no metadata when the tuple is all of it, ms == 8); PRACT on a read strips
 * it then. PRCHK selects the checks on writes without PRACT and on reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu/emu.h"
#include "util/log.h"

#define EMU_PI_SIZE	8	/* the 16-bit guard format's tuple */

/* Generated from the polynomial 8BB7h, MSB first. */
static const uint16_t emu_crc16_table[256] = {
	0x0000, 0x8bb7, 0x9cd9, 0x176e, 0xb205, 0x39b2, 0x2edc, 0xa56b,
	0xefbd, 0x640a, 0x7364, 0xf8d3, 0x5db8, 0xd60f, 0xc161, 0x4ad6,
	0x54cd, 0xdf7a, 0xc814, 0x43a3, 0xe6c8, 0x6d7f, 0x7a11, 0xf1a6,
	0xbb70, 0x30c7, 0x27a9, 0xac1e, 0x0975, 0x82c2, 0x95ac, 0x1e1b,
	0xa99a, 0x222d, 0x3543, 0xbef4, 0x1b9f, 0x9028, 0x8746, 0x0cf1,
	0x4627, 0xcd90, 0xdafe, 0x5149, 0xf422, 0x7f95, 0x68fb, 0xe34c,
	0xfd57, 0x76e0, 0x618e, 0xea39, 0x4f52, 0xc4e5, 0xd38b, 0x583c,
	0x12ea, 0x995d, 0x8e33, 0x0584, 0xa0ef, 0x2b58, 0x3c36, 0xb781,
	0xd883, 0x5334, 0x445a, 0xcfed, 0x6a86, 0xe131, 0xf65f, 0x7de8,
	0x373e, 0xbc89, 0xabe7, 0x2050, 0x853b, 0x0e8c, 0x19e2, 0x9255,
	0x8c4e, 0x07f9, 0x1097, 0x9b20, 0x3e4b, 0xb5fc, 0xa292, 0x2925,
	0x63f3, 0xe844, 0xff2a, 0x749d, 0xd1f6, 0x5a41, 0x4d2f, 0xc698,
	0x7119, 0xfaae, 0xedc0, 0x6677, 0xc31c, 0x48ab, 0x5fc5, 0xd472,
	0x9ea4, 0x1513, 0x027d, 0x89ca, 0x2ca1, 0xa716, 0xb078, 0x3bcf,
	0x25d4, 0xae63, 0xb90d, 0x32ba, 0x97d1, 0x1c66, 0x0b08, 0x80bf,
	0xca69, 0x41de, 0x56b0, 0xdd07, 0x786c, 0xf3db, 0xe4b5, 0x6f02,
	0x3ab1, 0xb106, 0xa668, 0x2ddf, 0x88b4, 0x0303, 0x146d, 0x9fda,
	0xd50c, 0x5ebb, 0x49d5, 0xc262, 0x6709, 0xecbe, 0xfbd0, 0x7067,
	0x6e7c, 0xe5cb, 0xf2a5, 0x7912, 0xdc79, 0x57ce, 0x40a0, 0xcb17,
	0x81c1, 0x0a76, 0x1d18, 0x96af, 0x33c4, 0xb873, 0xaf1d, 0x24aa,
	0x932b, 0x189c, 0x0ff2, 0x8445, 0x212e, 0xaa99, 0xbdf7, 0x3640,
	0x7c96, 0xf721, 0xe04f, 0x6bf8, 0xce93, 0x4524, 0x524a, 0xd9fd,
	0xc7e6, 0x4c51, 0x5b3f, 0xd088, 0x75e3, 0xfe54, 0xe93a, 0x628d,
	0x285b, 0xa3ec, 0xb482, 0x3f35, 0x9a5e, 0x11e9, 0x0687, 0x8d30,
	0xe232, 0x6985, 0x7eeb, 0xf55c, 0x5037, 0xdb80, 0xccee, 0x4759,
	0x0d8f, 0x8638, 0x9156, 0x1ae1, 0xbf8a, 0x343d, 0x2353, 0xa8e4,
	0xb6ff, 0x3d48, 0x2a26, 0xa191, 0x04fa, 0x8f4d, 0x9823, 0x1394,
	0x5942, 0xd2f5, 0xc59b, 0x4e2c, 0xeb47, 0x60f0, 0x779e, 0xfc29,
	0x4ba8, 0xc01f, 0xd771, 0x5cc6, 0xf9ad, 0x721a, 0x6574, 0xeec3,
	0xa415, 0x2fa2, 0x38cc, 0xb37b, 0x1610, 0x9da7, 0x8ac9, 0x017e,
	0x1f65, 0x94d2, 0x83bc, 0x080b, 0xad60, 0x26d7, 0x31b9, 0xba0e,
	0xf0d8, 0x7b6f, 0x6c01, 0xe7b6, 0x42dd, 0xc96a, 0xde04, 0x55b3
};

uint16_t nvp_emu_crc16_t10dif(uint16_t crc, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		crc = (uint16_t)((crc << 8) ^ emu_crc16_table[((crc >> 8) ^ buf[i]) & 0xff]);
	return crc;
}

/* PI fields are big-endian on the wire and in storage: byte by byte. */
static uint16_t emu_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t emu_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void emu_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void emu_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A block's metadata as the host sees it (the tuple stored inverted). */
static void emu_md_load(const struct emu_ns *ns, uint64_t lba, uint8_t *dst)
{
	memcpy(dst, ns->md + lba * ns->ms, ns->ms);
	if (ns->pi)
		for (int i = 0; i < EMU_PI_SIZE; i++)
			dst[ns->pi_off + i] ^= 0xff;
}

static void emu_md_store(struct emu_ns *ns, uint64_t lba, const uint8_t *src)
{
	uint8_t *m = ns->md + lba * ns->ms;

	memcpy(m, src, ns->ms);
	if (ns->pi)
		for (int i = 0; i < EMU_PI_SIZE; i++)
			m[ns->pi_off + i] ^= 0xff;
}

/* The guard of a block: its data, then the metadata ahead of the tuple. */
static uint16_t emu_pi_guard(const struct emu_ns *ns, const uint8_t *data, const uint8_t *md)
{
	uint16_t crc = nvp_emu_crc16_t10dif(0, data, ns->block_size);

	if (ns->pi_off)
		crc = nvp_emu_crc16_t10dif(crc, md, ns->pi_off);
	return crc;
}

static void emu_pi_generate(const struct emu_ns *ns, const uint8_t *data, uint8_t *md,
			    uint16_t apptag, uint32_t reftag)
{
	uint8_t *t = md + ns->pi_off;

	emu_put_be16(t, emu_pi_guard(ns, data, md));
	emu_put_be16(t + 2, apptag);
	emu_put_be32(t + 4, reftag);
}

/*
 * The command-level check QEMU makes before any block: type 1 with the
 * reference tag check needs ILBRT to be the LBA's low 32 bits, and type 3
 * has no reference tag to check.
 */
static uint16_t emu_pi_check_prinfo(const struct emu_ns *ns, uint8_t prinfo, uint64_t slba,
				    uint32_t reftag)
{
	if (ns->pi == 1 && (prinfo & EMU_PRINFO_PRCHK_REF) && (uint32_t)slba != reftag)
		return EMU_CS_DNR(NVP_SC_INVALID_PROTECTION_INFO);
	if (ns->pi == 3 && (prinfo & EMU_PRINFO_PRCHK_REF))
		return NVP_STATUS(NVP_SCT_CMD_SPECIFIC, NVP_SC_INVALID_PROTECTION_INFO);
	return 0;
}

/* One block's checks; an application tag of FFFFh (types 1, 2), or with a
 * reference tag of FFFFFFFFh (type 3), turns them off. */
static uint16_t emu_pi_check(const struct emu_ns *ns, const uint8_t *data, const uint8_t *md,
			     uint8_t prinfo, uint16_t apptag, uint16_t appmask, uint32_t reftag)
{
	const uint8_t *t = md + ns->pi_off;
	uint16_t at = emu_get_be16(t + 2);
	uint32_t rt = emu_get_be32(t + 4);

	if (at == 0xffff && (ns->pi != 3 || rt == 0xffffffffu))
		return 0;
	if ((prinfo & EMU_PRINFO_PRCHK_GUARD) && emu_get_be16(t) != emu_pi_guard(ns, data, md))
		return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_GUARD_CHECK_ERROR);
	if ((prinfo & EMU_PRINFO_PRCHK_APP) && (at & appmask) != (apptag & appmask))
		return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_APPTAG_CHECK_ERROR);
	if ((prinfo & EMU_PRINFO_PRCHK_REF) && rt != reftag)
		return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_REFTAG_CHECK_ERROR);
	return 0;
}

/* Position in the command's translated host ranges (emu->sg). */
struct emu_cur {
	uint32_t i;
	uint32_t off;
};

/* Move @n bytes between @buf and the host ranges at @c; a NULL @buf skips. */
static void emu_cur_xfer(struct nvp_emu *emu, struct emu_cur *c, uint8_t *buf, size_t n,
			 bool to_host)
{
	while (n) {
		struct emu_sg *g = &emu->sg[c->i];
		size_t k = g->len - c->off;

		if (k > n)
			k = n;
		if (g->va && buf) {	/* a NULL va is an SGL bit bucket */
			if (to_host)
				memcpy(g->va + c->off, buf, k);
			else
				memcpy(buf, g->va + c->off, k);
		}
		if (buf)
			buf += k;
		n -= k;
		c->off += (uint32_t)k;
		if (c->off == g->len) {
			c->i++;
			c->off = 0;
		}
	}
}

/* Scratch for one block and its metadata. */
static int emu_md_scratch(struct nvp_emu *emu, const struct emu_ns *ns)
{
	size_t need = (size_t)ns->block_size + ns->ms;
	uint8_t *p;

	if (emu->md_blk_size >= need)
		return 0;
	p = realloc(emu->md_blk, need);
	if (!p)
		return -ENOMEM;
	emu->md_blk = p;
	emu->md_blk_size = need;
	return 0;
}

/* Next block's metadata from the host: interleaved, or MPTR's buffer. */
static void emu_md_from_host(struct nvp_emu *emu, const struct emu_ns *ns, struct emu_cur *c,
			     const uint8_t *mhost, uint32_t b, uint8_t *md)
{
	if (ns->ext)
		emu_cur_xfer(emu, c, md, ns->ms, false);
	else
		memcpy(md, mhost + (size_t)b * ns->ms, ns->ms);
}

static uint16_t emu_md_write(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
			     const uint8_t *mhost, bool md_xfer)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff, appmask = sqe->cdw15 >> 16;
	uint32_t reftag = sqe->cdw14;
	uint8_t *blk = emu->md_blk, *md = emu->md_blk + ns->block_size;
	struct emu_cur c = { 0 };
	uint16_t st;

	if (ns->pi) {
		st = emu_pi_check_prinfo(ns, prinfo, slba, reftag);
		if (st)
			return st;
	}
	/* Check every block before storing any: a failed write changes nothing. */
	if (ns->pi && !(prinfo & EMU_PRINFO_PRACT) && (prinfo & EMU_PRINFO_PRCHK_MASK)) {
		uint32_t rt = reftag;

		for (uint32_t b = 0; b < nlb; b++) {
			emu_cur_xfer(emu, &c, blk, ns->block_size, false);
			emu_md_from_host(emu, ns, &c, mhost, b, md);
			st = emu_pi_check(ns, blk, md, prinfo, apptag, appmask, rt);
			if (st)
				return st;
			if (ns->pi != 3)
				rt++;
		}
		c = (struct emu_cur){ 0 };
	}
	for (uint32_t b = 0; b < nlb; b++) {
		uint8_t *data = ns->data + ((slba + b) << ns->lbads);

		emu_cur_xfer(emu, &c, data, ns->block_size, false);
		if (md_xfer)
			emu_md_from_host(emu, ns, &c, mhost, b, md);
		else
			memset(md, 0, ns->ms);	/* ms == 8: the tuple is all of it */
		if (prinfo & EMU_PRINFO_PRACT) {
			emu_pi_generate(ns, data, md, apptag, reftag);
			if (ns->pi != 3)
				reftag++;
		}
		emu_md_store(ns, slba + b, md);
	}
	emu->bytes_written += (uint64_t)nlb << ns->lbads;
	emu->host_writes++;
	/* FUA: a file-backed namespace writes data and metadata through. */
	if ((sqe->cdw12 & NVP_RW_FUA) && ns->fd >= 0)
		msync(ns->data, ns->bytes, MS_SYNC);
	return 0;
}

static uint16_t emu_md_read(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
			    uint8_t *mhost, bool md_xfer)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff, appmask = sqe->cdw15 >> 16;
	uint32_t reftag = sqe->cdw14;
	uint8_t *md = emu->md_blk;
	struct emu_cur c = { 0 };
	uint16_t st;

	/* As QEMU: check all blocks first; a failed read transfers nothing. */
	if (ns->pi) {
		st = emu_pi_check_prinfo(ns, prinfo, slba, reftag);
		if (st)
			return st;
		for (uint32_t b = 0; (prinfo & EMU_PRINFO_PRCHK_MASK) && b < nlb; b++) {
			emu_md_load(ns, slba + b, md);
			st = emu_pi_check(ns, ns->data + ((slba + b) << ns->lbads), md, prinfo,
					  apptag, appmask, reftag);
			if (st)
				return st;
			if (ns->pi != 3)
				reftag++;
		}
	}
	for (uint32_t b = 0; b < nlb; b++) {
		emu_cur_xfer(emu, &c, ns->data + ((slba + b) << ns->lbads), ns->block_size, true);
		if (!md_xfer)
			continue;	/* PRACT strips an 8-byte tuple */
		emu_md_load(ns, slba + b, md);
		if (ns->ext)
			emu_cur_xfer(emu, &c, md, ns->ms, true);
		else
			memcpy(mhost + (size_t)b * ns->ms, md, ns->ms);
	}
	emu->bytes_read += (uint64_t)nlb << ns->lbads;
	emu->host_reads++;
	return 0;
}

/*
 * Compare, in QEMU 7.2's order: all data, then the stored PI under PRCHK,
 * then the metadata. On a PI namespace QEMU compares metadata from the
 * tuple's offset to the end: with PI last that is the tuple alone, with PI
 * first all of it. We do the same.
 */
static uint16_t emu_md_compare(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
			       const uint8_t *mhost)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff, appmask = sqe->cdw15 >> 16;
	uint32_t reftag = sqe->cdw14;
	uint8_t *blk = emu->md_blk, *md = emu->md_blk + ns->block_size;
	uint16_t from = ns->pi ? ns->pi_off : 0;
	struct emu_cur c = { 0 };
	uint16_t st;

	for (uint32_t b = 0; b < nlb; b++) {
		emu_cur_xfer(emu, &c, blk, ns->block_size, false);
		if (ns->ext)
			emu_cur_xfer(emu, &c, NULL, ns->ms, false);
		if (memcmp(blk, ns->data + ((slba + b) << ns->lbads), ns->block_size))
			return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE);
	}
	if (ns->pi) {
		st = emu_pi_check_prinfo(ns, prinfo, slba, reftag);
		if (st)
			return st;
		for (uint32_t b = 0; (prinfo & EMU_PRINFO_PRCHK_MASK) && b < nlb; b++) {
			emu_md_load(ns, slba + b, md);
			st = emu_pi_check(ns, ns->data + ((slba + b) << ns->lbads), md, prinfo,
					  apptag, appmask, reftag);
			if (st)
				return st;
			if (ns->pi != 3)
				reftag++;
		}
	}
	c = (struct emu_cur){ 0 };
	for (uint32_t b = 0; b < nlb; b++) {
		if (ns->ext)
			emu_cur_xfer(emu, &c, NULL, ns->block_size, false);
		emu_md_from_host(emu, ns, &c, mhost, b, blk);
		emu_md_load(ns, slba + b, md);
		if (memcmp(blk + from, md + from, ns->ms - from))
			return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE);
	}
	emu->bytes_read += (uint64_t)nlb << ns->lbads;	/* as emu_rw() counts it */
	emu->host_reads++;
	return 0;
}

uint16_t nvp_emu_md_rw(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	/* PRACT with an 8-byte tuple as all the metadata: none crosses the bus. */
	bool md_xfer = !((prinfo & EMU_PRINFO_PRACT) && ns->ms == EMU_PI_SIZE);
	uint64_t mlen = (uint64_t)nlb * ns->ms;
	uint64_t mapped = ((uint64_t)nlb << ns->lbads) + (ns->ext && md_xfer ? mlen : 0);
	uint8_t *mhost = NULL;
	uint32_t nr;
	uint16_t st;

	/* MDTS counts interleaved metadata too (QEMU's mapped size), and is
	 * checked before the range, as QEMU does. */
	if (emu->max_xfer && mapped > emu->max_xfer)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (slba >= ns->nblocks || nlb > ns->nblocks - slba)
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	if (sqe->opc == NVP_NVM_COMPARE && (prinfo & EMU_PRINFO_PRACT))
		return EMU_CS_DNR(NVP_SC_INVALID_PROTECTION_INFO);
	if (emu_md_scratch(emu, ns))
		return EMU_SC(NVP_SC_INTERNAL);
	if (nvp_emu_map_data(emu, sqe, mapped, sqe->opc != NVP_NVM_READ, &nr, &st))
		return st;
	/* Separate metadata: MPTR is one contiguous buffer (no SGL for it). */
	if (!ns->ext && md_xfer) {
		mhost = nvp_emu_dma_va(emu, sqe->mptr, mlen);
		if (!mhost)
			return EMU_SC(NVP_SC_DATA_XFER_ERROR);
	}
	switch (sqe->opc) {
	case NVP_NVM_READ:
		return emu_md_read(emu, ns, sqe, mhost, md_xfer);
	case NVP_NVM_WRITE:
		return emu_md_write(emu, ns, sqe, mhost, md_xfer);
	default:
		return emu_md_compare(emu, ns, sqe, mhost);
	}
}

uint16_t nvp_emu_md_write_zeroes(struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint8_t prinfo = ns->pi ? EMU_PRINFO(sqe->cdw12) : 0;
	uint16_t apptag = sqe->cdw15 & 0xffff;
	uint32_t reftag = sqe->cdw14;
	uint8_t md[EMU_MAX_MS];

	/* There is no data to check. */
	if (prinfo & EMU_PRINFO_PRCHK_MASK)
		return EMU_CS_DNR(NVP_SC_INVALID_PROTECTION_INFO);
	nvp_emu_ns_zero_range(ns, slba << ns->lbads, (uint64_t)nlb << ns->lbads);
	nvp_emu_md_deallocate(ns, slba, nlb);
	if (!(prinfo & EMU_PRINFO_PRACT))
		return 0;
	/* PRACT: zeroed metadata with a tuple; the guard of zeroes is 0. */
	memset(md, 0, ns->ms);
	for (uint32_t b = 0; b < nlb; b++) {
		emu_put_be16(md + ns->pi_off + 2, apptag);
		emu_put_be32(md + ns->pi_off + 4, reftag);
		emu_md_store(ns, slba + b, md);
		if (ns->pi != 3)
			reftag++;
	}
	return 0;
}

void nvp_emu_md_deallocate(struct emu_ns *ns, uint64_t slba, uint64_t nlb)
{
	if (ns->ms)
		nvp_emu_ns_zero_range(ns, ns->md_off + slba * ns->ms, nlb * ns->ms);
}

void nvp_emu_md_corrupt(struct nvp_emu *emu, const struct nvp_sqe *sqe,
			const struct emu_cmd_fault *f)
{
	uint64_t slba, first, end;
	uint32_t nlb;
	struct emu_ns *ns;

	if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns || !nvp_emu_cmd_lba_range(sqe, &slba, &nlb))
		return;
	ns = &emu->ns[sqe->nsid - 1];
	if (!ns->pi || ns->unusable)
		return;
	first = slba > f->pi_slba ? slba : f->pi_slba;
	end = slba + nlb;
	if (f->pi_nlb < end - f->pi_slba && f->pi_slba < end)
		end = f->pi_slba + f->pi_nlb;
	if (end > ns->nblocks)
		end = ns->nblocks;
	for (uint64_t lba = first; lba < end; lba++) {
		/* Stored inverted: flipping a bit there flips it as read. */
		uint8_t *t = ns->md + lba * ns->ms + ns->pi_off;

		if (f->pi_fields & NVP_EMU_PI_GUARD)
			t[1] ^= 1;
		if (f->pi_fields & NVP_EMU_PI_APPTAG)
			t[3] ^= 1;
		if (f->pi_fields & NVP_EMU_PI_REFTAG)
			t[7] ^= 1;
	}
}
