/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_dma.c - the emulator's DMA engine: walk a command's PRPs or
 * SGL, translate every bus address through the memory layer (an unmapped
 * address is an IOMMU fault), and copy data to or from host memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "util/log.h"

void *nvp_emu_dma_va(struct nvp_emu *emu, uint64_t iova, size_t len)
{
	size_t contig = 0;
	void *va = nvp_mem_iova_to_va(iova, len, &contig);

	if (!va || contig < len) {
		EMU_INC(emu, dma_faults, 1);
		nvp_warn("emu: DMA fault: bus address 0x%llx (+%zu bytes) is not mapped; the command fails with Data Transfer Error",
			 (unsigned long long)iova, len);
		return NULL;
	}
	return va;
}

static int emu_sg_push(struct nvp_emu *emu, uint32_t *nr, uint8_t *va, uint32_t len)
{
	if (*nr && emu->sg[*nr - 1].va && va && emu->sg[*nr - 1].va + emu->sg[*nr - 1].len == va &&
	    emu->sg[*nr - 1].len <= UINT32_MAX - len) {
		emu->sg[*nr - 1].len += len;	/* merge: fewer memcpy calls */
		return 0;
	}
	if (*nr == emu->sg_cap) {
		uint32_t cap = emu->sg_cap ? emu->sg_cap * 2 : 256;
		struct emu_sg *sg = realloc(emu->sg, cap * sizeof(*sg));

		if (!sg)
			return -ENOMEM;
		emu->sg = sg;
		emu->sg_cap = cap;
	}
	emu->sg[*nr].va = va;
	emu->sg[*nr].len = len;
	(*nr)++;
	return 0;
}

/* Translate [iova, iova+len), splitting where virtual memory is not contiguous. */
static uint16_t emu_sg_range(struct nvp_emu *emu, uint32_t *nr, uint64_t iova, uint64_t len,
			     bool bucket)
{
	while (len) {
		uint32_t chunk = len > (1u << 30) ? (1u << 30) : (uint32_t)len;
		size_t contig = 0;
		uint8_t *va = NULL;

		if (!bucket) {
			va = nvp_mem_iova_to_va(iova, chunk, &contig);
			if (!va || !contig) {
				EMU_INC(emu, dma_faults, 1);
				nvp_warn("emu: DMA fault: bus address 0x%llx (+%u bytes) is not mapped; the command fails with Data Transfer Error",
					 (unsigned long long)iova, chunk);
				return EMU_SC(NVP_SC_DATA_XFER_ERROR);
			}
			if (contig < chunk)
				chunk = (uint32_t)contig;
		}
		if (emu_sg_push(emu, nr, va, chunk))
			return EMU_SC(NVP_SC_INTERNAL);
		iova += chunk;
		len -= chunk;
	}
	return 0;
}

static uint32_t emu_prp_hash(uint64_t addr, uint32_t cap)
{
	return (uint32_t)(((addr >> 3) * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

/* Forget the previous command's list positions (by generation, no clearing). */
static void emu_prp_seen_reset(struct nvp_emu *emu)
{
	emu->prp_seen_n = 0;
	if (++emu->prp_gen == 0) {
		if (emu->prp_seen)
			memset(emu->prp_seen, 0, emu->prp_seen_cap * sizeof(*emu->prp_seen));
		emu->prp_gen = 1;
	}
}

/* Record list position @addr; 1 if this command used it already, <0 on ENOMEM. */
static int emu_prp_seen_add(struct nvp_emu *emu, uint64_t addr)
{
	struct emu_prp_seen *t = emu->prp_seen;
	uint32_t cap = emu->prp_seen_cap, h;

	if (2 * (emu->prp_seen_n + 1) > cap) {
		uint32_t ncap = cap ? 2 * cap : 64;
		struct emu_prp_seen *nt = calloc(ncap, sizeof(*nt));

		if (!nt || ncap < cap) {
			free(nt);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < cap; i++) {
			if (t[i].gen != emu->prp_gen)
				continue;
			for (h = emu_prp_hash(t[i].addr, ncap); nt[h].gen; h = (h + 1) & (ncap - 1))
				;
			nt[h] = t[i];
		}
		free(t);
		emu->prp_seen = t = nt;
		emu->prp_seen_cap = cap = ncap;
	}
	for (h = emu_prp_hash(addr, cap); t[h].gen == emu->prp_gen; h = (h + 1) & (cap - 1))
		if (t[h].addr == addr)
			return 1;
	t[h].addr = addr;
	t[h].gen = emu->prp_gen;
	emu->prp_seen_n++;
	return 0;
}

/*
 * PRP1 is the first (maybe offset) page; PRP2 is the second page, or a
 * pointer to a PRP list whose pages chain through their last entry.
 *
 * Any chain a host can build for the transfer is accepted, however long.
 * A malformed one must neither hang nor spin the device, and is refused
 * with Invalid PRP Offset before any data moves (the walk only fills
 * emu->sg): a chain pointer back to a list position this command already
 * used (a loop), or a chained list page that holds no data entry before
 * it chains on (no progress; this bounds the walk by the page count).
 */
static uint16_t emu_map_prp(struct nvp_emu *emu, uint64_t prp1, uint64_t prp2, uint64_t len,
			    uint32_t *nr)
{
	uint64_t ps = emu->page_size;
	uint64_t first, list, pages_left;
	bool first_list = true;
	uint16_t st;

	if (prp1 & 3)
		return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
	first = ps - (prp1 & (ps - 1));
	if (first > len)
		first = len;
	st = emu_sg_range(emu, nr, prp1, first, false);
	if (st || !(len -= first))
		return st;
	if (len <= ps) {
		/* PRP2 is the second (and last) page. */
		if (prp2 & (ps - 1))
			return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
		return emu_sg_range(emu, nr, prp2, len, false);
	}

	/* PRP2 points into a PRP list; a list page's last entry chains on. */
	list = prp2;
	pages_left = (len + ps - 1) / ps;
	emu_prp_seen_reset(emu);
	for (;;) {
		uint64_t room = (ps - (list & (ps - 1))) / 8, i;
		const uint8_t *ents;
		int seen;

		if (list & 7)
			return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
		seen = emu_prp_seen_add(emu, list);
		if (seen < 0)
			return EMU_SC(NVP_SC_INTERNAL);
		if (seen)
			return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);	/* a loop */
		ents = nvp_emu_dma_va(emu, list, room * 8);
		if (!ents)
			return EMU_SC(NVP_SC_DATA_XFER_ERROR);
		for (i = 0; i < room; i++) {
			uint64_t e, chunk;

			memcpy(&e, ents + i * 8, 8);
			e = nvp_le64_to_cpu(e);	/* list entries are little-endian */
			if (i == room - 1 && pages_left > 1)
				break;	/* e points to the next list page */
			if (e & (ps - 1))
				return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
			chunk = len < ps ? len : ps;
			st = emu_sg_range(emu, nr, e, chunk, false);
			if (st)
				return st;
			len -= chunk;
			if (!--pages_left)
				return 0;
		}
		/* A chained list page with no data entry makes no progress. */
		if (i == 0 && !first_list)
			return EMU_SC_DNR(NVP_SC_INVALID_PRP_OFFSET);
		first_list = false;
		memcpy(&list, ents + i * 8, 8);
		list = nvp_le64_to_cpu(list);
	}
}

/* Most descriptors one command may use: bounds a malicious segment loop. */
#define EMU_SGL_MAX_DESCS 65536

static uint16_t emu_map_sgl(struct nvp_emu *emu, const struct nvp_sgl_desc *sqe_desc,
			    uint64_t len, bool to_device, uint32_t *nr)
{
	/* The SQE's descriptor (CPU order) goes back to wire order, so that it
	 * and the list descriptors read from host memory convert alike. */
	struct nvp_sgl_desc d = *sqe_desc;
	const struct nvp_sgl_desc *seg = &d;
	uint32_t nseg = 1, total = 0;
	bool last = true;	/* the SQE holds exactly one descriptor */

	d.addr = nvp_cpu_to_le64(d.addr);
	d.length = nvp_cpu_to_le32(d.length);

	for (;;) {
		bool chained = false;

		for (uint32_t i = 0; i < nseg && len; i++) {
			struct nvp_sgl_desc cur;
			uint8_t type, sub;
			uint16_t st;

			memcpy(&cur, &seg[i], sizeof(cur));
			cur.addr = nvp_le64_to_cpu(cur.addr);
			cur.length = nvp_le32_to_cpu(cur.length);
			type = cur.type >> 4;
			sub = cur.type & 0xf;
			if (++total > EMU_SGL_MAX_DESCS)
				return EMU_SC_DNR(NVP_SC_INVALID_NUM_SGL_DESC);
			if (sub != NVP_SGL_SUBTYPE_ADDRESS)
				return EMU_SC_DNR(NVP_SC_SGL_DESC_TYPE_INVALID);
			switch (type) {
			case NVP_SGL_TYPE_DATA_BLOCK:
			case NVP_SGL_TYPE_BIT_BUCKET: {
				uint64_t n = cur.length < len ? cur.length : len;

				/* A bit bucket discards read data; writes have none to skip. */
				if (type == NVP_SGL_TYPE_BIT_BUCKET && to_device)
					return EMU_SC_DNR(NVP_SC_SGL_DESC_TYPE_INVALID);
				st = emu_sg_range(emu, nr, cur.addr, n,
						  type == NVP_SGL_TYPE_BIT_BUCKET);
				if (st)
					return st;
				len -= n;
				break;
			}
			case NVP_SGL_TYPE_SEGMENT:
			case NVP_SGL_TYPE_LAST_SEGMENT:
				/* Only a segment's final descriptor may chain, and a
				 * Last Segment's list may not chain at all. */
				if (i != nseg - 1 || (last && seg != &d))
					return EMU_SC_DNR(NVP_SC_INVALID_SGL_SEG_DESC);
				if (!cur.length || cur.length % sizeof(struct nvp_sgl_desc))
					return EMU_SC_DNR(NVP_SC_INVALID_SGL_SEG_DESC);
				seg = nvp_emu_dma_va(emu, cur.addr, cur.length);
				if (!seg)
					return EMU_SC(NVP_SC_DATA_XFER_ERROR);
				nseg = cur.length / sizeof(struct nvp_sgl_desc);
				last = type == NVP_SGL_TYPE_LAST_SEGMENT;
				chained = true;
				break;
			default:
				return EMU_SC_DNR(NVP_SC_SGL_DESC_TYPE_INVALID);
			}
			if (chained)
				break;	/* it was the list's last descriptor */
		}
		if (!len)
			return 0;
		if (!chained)
			return EMU_SC_DNR(NVP_SC_DATA_SGL_LEN_INVALID);
	}
}

/**
 * nvp_emu_map_data() - translate a command's data pointer into emu->sg.
 *
 * Return: 0 with @nr_sg set; or a negative errno with @status the CQE
 * status to complete the command with.
 */
int nvp_emu_map_data(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint64_t len,
		     bool to_device, uint32_t *nr_sg, uint16_t *status)
{
	uint8_t psdt = sqe->flags >> 6;
	uint16_t st;

	*nr_sg = 0;
	if (!len) {
		*status = 0;
		return 0;
	}
	if (psdt == 0)
		st = emu_map_prp(emu, sqe->dptr.prp.prp1, sqe->dptr.prp.prp2, len, nr_sg);
	else if (psdt == 1 && emu->opts.sgl)
		st = emu_map_sgl(emu, &sqe->dptr.sgl1, len, to_device, nr_sg);
	else
		st = EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	*status = st;
	return st ? -EIO : 0;
}

uint16_t nvp_emu_to_host(struct nvp_emu *emu, const struct nvp_sqe *sqe, const void *src,
			 size_t len, size_t xfer_len)
{
	const uint8_t *s = src;
	uint32_t nr;
	uint16_t st;
	size_t off = 0;

	if (nvp_emu_map_data(emu, sqe, xfer_len, false, &nr, &st))
		return st;
	for (uint32_t i = 0; i < nr; i++) {
		struct emu_sg *g = &emu->sg[i];

		if (g->va) {
			size_t n = off < len ? len - off : 0;

			if (n > g->len)
				n = g->len;
			memcpy(g->va, s + off, n);
			memset(g->va + n, 0, g->len - n);	/* past the end of the data */
		}
		off += g->len;
	}
	return 0;
}

uint16_t nvp_emu_from_host(struct nvp_emu *emu, const struct nvp_sqe *sqe, void *dst,
			   size_t len)
{
	uint8_t *d = dst;
	uint32_t nr;
	uint16_t st;
	size_t off = 0;

	if (nvp_emu_map_data(emu, sqe, len, true, &nr, &st))
		return st;
	for (uint32_t i = 0; i < nr; i++) {
		memcpy(d + off, emu->sg[i].va, emu->sg[i].len);
		off += emu->sg[i].len;
	}
	return 0;
}
