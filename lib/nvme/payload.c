/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/payload.c - describing a data buffer to the controller, out of
 * line: PRP and SGL construction, the choice between them, iovec
 * translation and slicing of payloads. The inline fast path for one
 * buffer within two pages is nvp_payload_map() in payload.h; see there for
 * how the pieces fit.
 *
 * Everything here runs on the I/O submission path: no allocation, no locks,
 * no syscalls. Inputs are validated completely before the SQE or the list
 * memory is touched, so a rejected payload leaves the command as it was.
 * Only the failure paths log (nvp_error()), once, where the cause is known.
 */
#include <errno.h>
#include <stdbool.h>

#include "mem/mem.h"
#include "nvme/payload.h"
#include "util/log.h"

/* CC.MPS encodes 2^(12 + n) for n in 0..15. */
#define PAYLOAD_MIN_PAGE_SIZE	(1u << 12)
#define PAYLOAD_MAX_PAGE_SIZE	(1u << 27)

#define PRP_ENTRY_BYTES		8u
#define SGL_DESC_BYTES		((uint32_t)sizeof(struct nvp_sgl_desc))

/* PRP entries and data pointers must have bits 1:0 clear. */
#define DWORD_MASK		3u

/* Bits 7:6 of CDW0 byte 1; FUSE (1:0) and the reserved bits are kept. */

static bool page_size_valid(uint32_t page_size)
{
	return page_size >= PAYLOAD_MIN_PAGE_SIZE &&
	       page_size <= PAYLOAD_MAX_PAGE_SIZE &&
	       (page_size & (page_size - 1)) == 0;
}

/*
 * List pages needed for @n items when a page holds @per_page and the last
 * slot of every page but the final one is a pointer to the next page. One
 * item (or none) lives in the SQE itself and needs no list. A page whose
 * last slot would hold the final item keeps it there rather than chaining
 * to a page holding only that item: (n - 2) / (per_page - 1) + 1 counts
 * exactly that layout.
 */
static uint64_t chained_list_pages(uint64_t n, uint64_t per_page)
{
	if (n < 2)
		return 0;
	return (n - 2) / (per_page - 1) + 1;
}

/* Pages of @page_size touched by [@iova, @iova + @len), @len > 0. */
static uint64_t pages_spanned(uint64_t iova, uint64_t len, uint32_t page_size)
{
	uint64_t offset = iova & (page_size - 1);

	/* offset + len cannot wrap: the caller rejected iova + len wrapping. */
	return (offset + len - 1) / page_size + 1;
}

static size_t list_capacity_pages(const struct nvp_payload_list *list,
				  uint32_t page_size)
{
	if (!list || !list->va)
		return 0;
	return list->bytes / page_size;
}

static int check_list_memory(const struct nvp_payload_list *list,
			     uint32_t page_size, uint64_t pages_needed,
			     const char *what)
{
	size_t have = list_capacity_pages(list, page_size);

	if (have < pages_needed)
		return nvp_error(-E2BIG,
				 "%s needs %llu list pages of %u bytes but the request has %zu; size the list with nvp_payload_list_bytes() or split the I/O",
				 what, (unsigned long long)pages_needed,
				 page_size, have);
	/* Chaining addresses page k as iova + k * page_size. */
	if ((list->iova & (page_size - 1)) || ((uintptr_t)list->va & 7))
		return nvp_error(-EINVAL,
				 "%s list memory at IOVA 0x%llx (VA %p) is not aligned to the %u-byte controller page; allocate it page aligned",
				 what, (unsigned long long)list->iova, list->va,
				 page_size);
	return 0;
}

static void set_psdt(struct nvp_sqe *sqe, uint8_t psdt)
{
	sqe->flags = (uint8_t)((sqe->flags & ~NVP_SQE_PSDT_MASK) | psdt);
}

/*
 * Checks every PRP rule and counts the entries after PRP1 (the page
 * addresses that go into PRP2 or the list).
 *
 * A layout PRPs cannot describe is not necessarily a failure:
 * nvp_payload_prp_or_sgl() falls back to an SGL when it gets -EINVAL, and
 * reports the error itself when it cannot. So the layout rejections only log at debug level
 * (filtered cheaply, no formatting) and leave nvp_last_error() alone.
 */
static int prp_validate(const struct nvp_dma_seg *segs, unsigned int nsegs,
			uint32_t page_size, uint64_t *entries)
{
	uint64_t page_mask = page_size - 1;
	uint64_t pages = 0;

	for (unsigned int i = 0; i < nsegs; i++) {
		uint64_t iova = segs[i].iova;
		uint64_t len = segs[i].len;
		uint64_t end = iova + len;

		if (!len || end < iova)
			return nvp_error(-EINVAL,
					 "PRP segment %u (IOVA 0x%llx, %llu bytes) is empty or wraps the address space; pass only non-empty buffers",
					 i, (unsigned long long)iova,
					 (unsigned long long)len);
		if (iova & DWORD_MASK) {
			nvp_debug("PRP segment %u starts at IOVA 0x%llx, not 4-byte aligned",
				  i, (unsigned long long)iova);
			return -EINVAL;
		}
		if (i > 0 && (iova & page_mask)) {
			nvp_debug("PRP segment %u starts at IOVA 0x%llx, not on a %u-byte page boundary",
				  i, (unsigned long long)iova, page_size);
			return -EINVAL;
		}
		if (i + 1 < nsegs && (end & page_mask)) {
			nvp_debug("PRP segment %u ends at IOVA 0x%llx, not on a %u-byte page boundary",
				  i, (unsigned long long)end, page_size);
			return -EINVAL;
		}
		pages += pages_spanned(iova, len, page_size);
	}
	*entries = pages - 1;
	return 0;
}

int nvp_payload_prp(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
		    unsigned int nsegs, uint32_t page_size,
		    const struct nvp_payload_list *list)
{
	uint64_t page_mask = page_size - 1;
	uint64_t entries = 0, list_pages, left, next_list_page;
	uint64_t per_page = page_size / PRP_ENTRY_BYTES;
	uint64_t *slot;
	unsigned int idx;
	int ret;

	if (!page_size_valid(page_size))
		return nvp_error(-EINVAL,
				 "controller page size %u is not a power of two between 4 KiB and 128 MiB; pass the CC.MPS page size",
				 page_size);
	if (!sqe || !segs || !nsegs)
		return nvp_error(-EINVAL, "PRP mapping of an empty payload; pass at least one segment");
	ret = prp_validate(segs, nsegs, page_size, &entries);
	if (ret)
		return ret;

	list_pages = chained_list_pages(entries, per_page);
	if (list_pages) {
		ret = check_list_memory(list, page_size, list_pages, "PRP list");
		if (ret)
			return ret;
	}

	set_psdt(sqe, NVP_SQE_PSDT_PRP);
	sqe->dptr.prp.prp1 = nvp_cpu_to_le64(segs[0].iova);
	if (entries == 0) {
		sqe->dptr.prp.prp2 = 0;
		return 0;
	}
	if (entries == 1) {
		/*
		 * Either one segment crossing into a second page, or a first
		 * segment ending on its page boundary plus a one-page second.
		 */
		uint64_t second = nsegs == 1 ?
			(segs[0].iova & ~page_mask) + page_size : segs[1].iova;

		sqe->dptr.prp.prp2 = nvp_cpu_to_le64(second);
		return 0;
	}

	sqe->dptr.prp.prp2 = nvp_cpu_to_le64(list->iova);
	slot = list->va;
	idx = 0;
	left = entries;
	next_list_page = list->iova + page_size;
	for (unsigned int i = 0; i < nsegs; i++) {
		uint64_t addr = segs[i].iova & ~page_mask;
		uint64_t n = pages_spanned(segs[i].iova, segs[i].len, page_size);

		if (i == 0) {
			/* PRP1 already covers the first page. */
			addr += page_size;
			n--;
		}
		for (; n; n--, addr += page_size) {
			/* Chain only if more than this slot's worth is left. */
			if (idx == per_page - 1 && left > 1) {
				slot[idx] = nvp_cpu_to_le64(next_list_page);
				slot = (uint64_t *)((char *)slot + page_size);
				next_list_page += page_size;
				idx = 0;
			}
			slot[idx++] = nvp_cpu_to_le64(addr);
			left--;
		}
	}
	return 0;
}

static void sgl_set(struct nvp_sgl_desc *d, uint64_t addr, uint32_t len,
		    uint8_t type)
{
	d->addr = nvp_cpu_to_le64(addr);
	d->length = nvp_cpu_to_le32(len);
	d->rsvd[0] = 0;
	d->rsvd[1] = 0;
	d->rsvd[2] = 0;
	d->type = NVP_SGL_DESC_TYPE(type, NVP_SGL_SUBTYPE_ADDRESS);
}

int nvp_payload_sgl(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
		    unsigned int nsegs, uint32_t page_size,
		    const struct nvp_payload_list *list)
{
	uint64_t per_page = page_size / SGL_DESC_BYTES;
	uint64_t list_pages, left, next_list_page;
	struct nvp_sgl_desc *desc;
	unsigned int idx;
	uint32_t first;
	int ret;

	if (!page_size_valid(page_size))
		return nvp_error(-EINVAL,
				 "controller page size %u is not a power of two between 4 KiB and 128 MiB; pass the CC.MPS page size",
				 page_size);
	if (!sqe || !segs || !nsegs)
		return nvp_error(-EINVAL, "SGL mapping of an empty payload; pass at least one segment");
	for (unsigned int i = 0; i < nsegs; i++) {
		if (!segs[i].len || segs[i].len > UINT32_MAX)
			return nvp_error(-EINVAL,
					 "SGL segment %u (IOVA 0x%llx) has length %llu; a data block holds 1 byte to 4 GiB - 1, split the buffer",
					 i, (unsigned long long)segs[i].iova,
					 (unsigned long long)segs[i].len);
	}

	if (nsegs == 1) {
		set_psdt(sqe, NVP_SQE_PSDT_SGL_MPTR);
		sgl_set(&sqe->dptr.sgl1, segs[0].iova, (uint32_t)segs[0].len,
			NVP_SGL_TYPE_DATA_BLOCK);
		return 0;
	}

	list_pages = chained_list_pages(nsegs, per_page);
	ret = check_list_memory(list, page_size, list_pages, "SGL");
	if (ret)
		return ret;

	set_psdt(sqe, NVP_SQE_PSDT_SGL_MPTR);
	/*
	 * The SQE points at the first list page; it is the last segment only
	 * when everything fits it, otherwise it is full and ends in a chain
	 * descriptor.
	 */
	first = list_pages == 1 ? nsegs : (uint32_t)per_page;
	sgl_set(&sqe->dptr.sgl1, list->iova, first * SGL_DESC_BYTES,
		list_pages == 1 ? NVP_SGL_TYPE_LAST_SEGMENT :
				  NVP_SGL_TYPE_SEGMENT);

	desc = list->va;
	idx = 0;
	left = nsegs;
	next_list_page = list->iova + page_size;
	for (unsigned int i = 0; i < nsegs; i++) {
		if (idx == per_page - 1 && left > 1) {
			bool last = left <= per_page;
			uint64_t count = last ? left : per_page;

			sgl_set(&desc[idx], next_list_page,
				(uint32_t)(count * SGL_DESC_BYTES),
				last ? NVP_SGL_TYPE_LAST_SEGMENT :
				       NVP_SGL_TYPE_SEGMENT);
			desc = (struct nvp_sgl_desc *)((char *)desc + page_size);
			next_list_page += page_size;
			idx = 0;
		}
		sgl_set(&desc[idx++], segs[i].iova, (uint32_t)segs[i].len,
			NVP_SGL_TYPE_DATA_BLOCK);
		left--;
	}
	return 0;
}

size_t nvp_payload_list_bytes(uint32_t max_xfer, uint32_t page_size,
			      unsigned int max_segs)
{
	uint64_t prp_pages = 0, sgl_pages, pages;

	if (!page_size_valid(page_size))
		return 0;
	if (max_xfer) {
		/* Worst case: the first byte sits in the last dword of a page. */
		uint64_t spanned = pages_spanned(page_size - 4, max_xfer,
						 page_size);

		prp_pages = chained_list_pages(spanned - 1,
					       page_size / PRP_ENTRY_BYTES);
	}
	sgl_pages = chained_list_pages(max_segs, page_size / SGL_DESC_BYTES);
	pages = prp_pages > sgl_pages ? prp_pages : sgl_pages;
	return (size_t)(pages * page_size);
}

int nvp_payload_segments(const struct iovec *iov, int iovcnt,
			 struct nvp_dma_seg *segs, unsigned int max_segs)
{
	unsigned int n = 0;

	if (!iov || iovcnt <= 0)
		return nvp_error(-EINVAL, "payload iovec is empty (%d elements); pass at least one buffer",
				 iovcnt);
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *va = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		if (!left)
			return nvp_error(-EINVAL,
					 "iovec element %d has length 0; leave empty elements out",
					 i);
		while (left) {
			uint64_t iova;
			size_t contig, chunk;

			if (nvp_mem_lookup(va, &iova, &contig) || !contig)
				return nvp_error(-EFAULT,
						 "buffer address %p (iovec element %d) is not DMA memory; allocate with nvp_dma_alloc() or register with nvp_mem_register()",
						 (const void *)va, i);
			chunk = contig < left ? contig : left;
			/* Neighbours adjacent in bus space become one segment. */
			if (n && segs[n - 1].iova + segs[n - 1].len == iova) {
				segs[n - 1].len += chunk;
			} else {
				if (n >= max_segs)
					return nvp_error(-E2BIG,
							 "payload needs more than %u bus-contiguous segments; use fewer or larger buffers, or hugepage memory",
							 max_segs);
				segs[n].iova = iova;
				segs[n].len = chunk;
				n++;
			}
			va += chunk;
			left -= chunk;
		}
	}
	return (int)n;
}

int nvp_payload_slice(const struct nvp_dma_seg *segs, unsigned int nsegs,
		      uint64_t off, uint64_t len, struct nvp_dma_seg *out,
		      unsigned int max_out)
{
	uint64_t want = len, start = off;
	unsigned int i = 0, n = 0;

	if (!segs || !len)
		return nvp_error(-EINVAL, "empty payload slice (offset %llu, length %llu); slices must hold at least one byte",
				 (unsigned long long)off, (unsigned long long)len);
	while (i < nsegs && off >= segs[i].len) {
		off -= segs[i].len;
		i++;
	}
	for (; i < nsegs && len; i++) {
		uint64_t take = segs[i].len - off;

		if (!take)
			continue;
		if (take > len)
			take = len;
		if (n >= max_out)
			return nvp_error(-E2BIG,
					 "payload slice at offset %llu (%llu bytes) needs more than %u segments; give the slice a larger segment array",
					 (unsigned long long)start,
					 (unsigned long long)want, max_out);
		out[n].iova = segs[i].iova + off;
		out[n].len = take;
		n++;
		len -= take;
		off = 0;
	}
	if (len)
		return nvp_error(-EINVAL,
				 "payload slice [%llu, +%llu) runs %llu bytes past the end of the payload; check the split arithmetic",
				 (unsigned long long)start,
				 (unsigned long long)want,
				 (unsigned long long)len);
	return (int)n;
}

/* ---- The policy: PRP or SGL ---------------------------------------------- */

/* Every address and length a multiple of 4 (SGLS 10b's requirement). */
static bool segs_dword_aligned(const struct nvp_dma_seg *segs, unsigned int nsegs)
{
	for (unsigned int i = 0; i < nsegs; i++)
		if ((segs[i].iova | segs[i].len) & DWORD_MASK)
			return false;
	return true;
}

int nvp_payload_prp_or_sgl(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
			   unsigned int nsegs, uint32_t page_size, enum nvp_payload_sgl sgl,
			   const struct nvp_payload_list *list)
{
	int rc;

	/* PRPs first: every controller takes them; SGLs where PRPs cannot. */
	rc = nvp_payload_prp(sqe, segs, nsegs, page_size, list);
	if (rc != -EINVAL)
		return rc;
	if (sgl == NVP_PAYLOAD_SGL_BYTE ||
	    (sgl == NVP_PAYLOAD_SGL_DWORD && segs_dword_aligned(segs, nsegs)))
		return nvp_payload_sgl(sqe, segs, nsegs, page_size, list);
	return nvp_error(rc, "the buffer layout cannot be described with PRPs (every "
			 "element but the first must start on a %u-byte page boundary, every "
			 "element but the last must end on one, and addresses must be 4-byte "
			 "aligned)%s", page_size, sgl == NVP_PAYLOAD_PRP_ONLY ?
			 ", and this command cannot use an SGL (admin commands never do; I/O "
			 "commands only when the controller supports SGLs and no_sgl is not "
			 "set)" : ", nor with this controller's SGLs, which need every "
			 "address and length to be a multiple of 4");
}

/* ---- A queue pair's command ---------------------------------------------- */

/* What the queue pair's controller allows this command (SGLS bits 1:0). */
static enum nvp_payload_sgl qpair_sgl(const struct nvp_qpair *qp, bool allow_sgl)
{
	if (!allow_sgl || !qp->sgl_supported)
		return NVP_PAYLOAD_PRP_ONLY;
	if ((nvp_le32_to_cpu(qp->ctrl->id->sgls) & NVP_SGLS_SUPPORT_MASK) == NVP_SGLS_SUPPORTED)
		return NVP_PAYLOAD_SGL_BYTE;
	return NVP_PAYLOAD_SGL_DWORD;
}

int nvp_payload_map_segs(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
			 const struct nvp_dma_seg *segs, unsigned int nsegs, bool allow_sgl)
{
	if (qp->tcp) {
		/* Over TCP the segments are the buffer's own addresses. */
		struct iovec iov[NVP_TCP_MAX_SEGS_IOV];

		if (nsegs > NVP_TCP_MAX_SEGS_IOV)
			return nvp_error(-E2BIG, "an NVMe/TCP command takes at most %d separate "
					 "buffer pieces; use fewer, larger ones",
					 NVP_TCP_MAX_SEGS_IOV);
		for (unsigned int i = 0; i < nsegs; i++)
			iov[i] = (struct iovec){ .iov_base = (void *)(uintptr_t)segs[i].iova,
						 .iov_len = segs[i].len };
		return nvp_tcp_map(qp, req, sqe, iov, (int)nsegs);
	}
	return nvp_payload_prp_or_sgl(sqe, segs, nsegs, qp->page_size,
				      qpair_sgl(qp, allow_sgl), &req->list);
}

int nvp_payload_segments_qp(const struct nvp_qpair *qp, const struct iovec *iov, int iovcnt,
			    struct nvp_dma_seg *segs, unsigned int max_segs)
{
	unsigned int n = 0;

	if (!qp->tcp)
		return nvp_payload_segments(iov, iovcnt, segs, max_segs);
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len || !iov[i].iov_base)
			return nvp_error(-EINVAL, "iovec element %d is empty or NULL", i);
		if (n && segs[n - 1].iova + segs[n - 1].len == (uintptr_t)iov[i].iov_base) {
			segs[n - 1].len += iov[i].iov_len;
			continue;
		}
		if (n == max_segs)
			return nvp_error(-E2BIG, "more than %u buffer pieces", max_segs);
		segs[n++] = (struct nvp_dma_seg){ .iova = (uintptr_t)iov[i].iov_base,
						  .len = iov[i].iov_len };
	}
	return n ? (int)n : nvp_error(-EINVAL, "an empty iovec");
}

int nvp_payload_map_iov(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
			const struct iovec *iov, int iovcnt, bool allow_sgl)
{
	struct nvp_dma_seg segs[NVP_PAYLOAD_MAX_SEGS];
	int nsegs;

	if (qp->tcp)
		return nvp_tcp_map(qp, req, sqe, iov, iovcnt);
	nsegs = nvp_payload_segments(iov, iovcnt, segs, NVP_PAYLOAD_MAX_SEGS);

	if (nsegs < 0)
		return nsegs;
	return nvp_payload_map_segs(qp, req, sqe, segs, (unsigned int)nsegs, allow_sgl);
}
