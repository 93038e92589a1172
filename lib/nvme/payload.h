/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/payload.h - describing a command's data buffer to the
 * controller: PRP entries and lists or SGL descriptors, which of the two,
 * and the inline fast path for the common case.
 *
 * From the caller's side, three levels:
 *
 *  - nvp_payload_map() (static inline, below): one buffer. If it is
 *    bus-contiguous, dword aligned and spans at most two controller pages,
 *    PRP1/PRP2 are written right there: no list, no call. Anything else
 *    goes to nvp_payload_map_iov().
 *  - nvp_payload_map_iov() and nvp_payload_map_segs() (payload.c): the
 *    general path for a queue pair's command. An iovec is translated into
 *    bus-contiguous segments (nvp_payload_segments(), one nvp_mem_lookup()
 *    per segment); the segments are described by nvp_payload_prp_or_sgl()
 *    with the queue pair's SGL support and the request's list memory.
 *  - the builders (payload.c), functions of their arguments alone, which
 *    is what lets the unit tests (test/unit/test_payload.c) check them
 *    against tables and a controller's replay: nvp_payload_prp_or_sgl()
 *    (the policy: PRPs whenever their rules allow, since every controller
 *    takes them; an SGL when they cannot and the command may use one),
 *    nvp_payload_prp(), nvp_payload_sgl(), nvp_payload_slice() and
 *    nvp_payload_list_bytes(). nvp_payload_segments() reads only the
 *    published memory map.
 *
 * Nothing here allocates, locks or makes a syscall.
 */
#ifndef NVP_LIB_NVME_PAYLOAD_H
#define NVP_LIB_NVME_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <nvpoll/spec.h>

#include "mem/mem.h"
#include "nvme/nvme.h"

/** struct nvp_dma_seg - a run of bytes contiguous in bus-address space. */
struct nvp_dma_seg {
	uint64_t iova;
	uint64_t len;
};

/* Most segments one I/O may have (bounds the caller's stack array). */
#define NVP_PAYLOAD_MAX_SEGS 512

/**
 * nvp_payload_segments() - translate an iovec into bus-contiguous segments.
 * @iov: buffers.
 * @iovcnt: number of buffers.
 * @segs: out: segments; adjacent runs that are contiguous in bus space are
 *        merged.
 * @max_segs: capacity of @segs.
 *
 * Lock-free and syscall-free (one nvp_mem_lookup() per bus-contiguous run).
 *
 * Return: number of segments, -EFAULT if any byte is not DMA memory or no
 * memory map is published yet (the message names the address), -E2BIG if
 * more than @max_segs are needed, -EINVAL for an empty iovec or a
 * zero-length element.
 */
int nvp_payload_segments(const struct iovec *iov, int iovcnt,
			 struct nvp_dma_seg *segs, unsigned int max_segs);

/**
 * nvp_payload_slice() - the segments for bytes [@off, @off+@len) of a list.
 * @segs: segments of the whole payload.
 * @nsegs: their number.
 * @off: byte offset of the slice.
 * @len: byte length of the slice.
 * @out: out: the slice's segments (first and last trimmed).
 * @max_out: capacity of @out.
 *
 * Used to split an I/O larger than the transfer limit. Zero-length input
 * segments are skipped; no output segment is empty.
 *
 * Return: number of segments in @out; -E2BIG if more than @max_out are
 * needed; -EINVAL if @len is 0 or the slice runs past the payload's end.
 */
int nvp_payload_slice(const struct nvp_dma_seg *segs, unsigned int nsegs,
		      uint64_t off, uint64_t len, struct nvp_dma_seg *out,
		      unsigned int max_out);

/**
 * nvp_payload_prp() - build PRP1/PRP2 (and PRP lists) for segments.
 * @sqe: command whose DPTR is filled (PSDT set to PRP).
 * @segs: segments of the payload, in order.
 * @nsegs: number of segments (>= 1).
 * @page_size: controller memory page size (CC.MPS), a power of two from
 *             4 KiB to 128 MiB.
 * @list: list memory for this request (may be NULL when the payload spans
 *        at most two pages). A list page holds page_size/8 entries; when
 *        more are needed the last entry of a page points to the next page
 *        (chaining) - but only if more than one entry remains, so a last
 *        list page is never just a single entry.
 *
 * PRP1 is the first segment's address. PRP2 is 0 if the payload ends in the
 * first page, the second page's address if it ends in the second, else
 * @list's IOVA (page aligned) with every page after the first in the list.
 *
 * PRP rules: the first segment may start at any dword-aligned offset; every
 * other segment must start on a page boundary, and every segment but the
 * last must end on one. Inputs are checked before anything is written: on
 * error @sqe and @list are untouched. FUSE bits in @sqe->flags are kept.
 * A layout that breaks these rules returns -EINVAL quietly (debug log only,
 * nvp_last_error() untouched): the caller may fall back to an SGL and owns
 * the user-facing message. Every other error is reported with nvp_error().
 *
 * Return: 0; -EINVAL if the segments break the PRP rules, an address is not
 * dword aligned, a segment is empty or wraps, @page_size is invalid, or the
 * list memory is not page aligned; -E2BIG if @list is too small.
 */
int nvp_payload_prp(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
		    unsigned int nsegs, uint32_t page_size,
		    const struct nvp_payload_list *list);

/**
 * nvp_payload_sgl() - build an SGL for segments.
 * @sqe: command whose DPTR is filled (PSDT set to SGL).
 * @segs: segments of the payload, in order.
 * @nsegs: number of segments (>= 1).
 * @page_size: controller memory page size; sets descriptors per list page
 *             (page_size/16) and the chaining stride.
 * @list: descriptor memory for this request (16 bytes per descriptor; may
 *        be NULL for one segment; page aligned).
 *
 * One segment: a Data Block descriptor in the SQE. More: the SQE holds a
 * Last Segment descriptor (length 16 x count) pointing at the data blocks
 * in @list; if they do not fit one page of @list, the SQE holds a Segment
 * descriptor for the full first page and each full page ends with a
 * descriptor for the next one: Segment, or Last Segment for the final page.
 * Segments map 1:1 to Data Blocks (no merging, no alignment checks: whether
 * the controller takes byte-aligned SGLs is the caller's decision). On
 * error @sqe and @list are untouched.
 *
 * Return: 0; -E2BIG if @list is too small; -EINVAL for no segments, a
 * segment of length 0 or above 4 GiB - 1, an invalid @page_size, or list
 * memory that is not page aligned.
 */
int nvp_payload_sgl(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
		    unsigned int nsegs, uint32_t page_size,
		    const struct nvp_payload_list *list);

/**
 * nvp_payload_list_bytes() - list memory one request needs.
 * @max_xfer: largest transfer of one command, bytes.
 * @page_size: controller memory page size.
 * @max_segs: most segments one command may have (for SGL).
 *
 * Return: bytes, a multiple of @page_size, enough for either a PRP list of
 * a worst-case (first byte in the last dword of a page) @max_xfer payload or
 * an SGL of @max_segs descriptors, whichever is larger, including chain
 * entries. 0 when no list is ever needed (at most two pages, at most one
 * segment) or @page_size is invalid.
 */
size_t nvp_payload_list_bytes(uint32_t max_xfer, uint32_t page_size,
			      unsigned int max_segs);

/* ---- The policy: PRP or SGL ---------------------------------------------- */

/**
 * enum nvp_payload_sgl - whether a command may be described with an SGL.
 * @NVP_PAYLOAD_PRP_ONLY: no: an admin command (PCIe admin commands take
 *                        PRPs only), or a controller without SGL support or
 *                        attached with no_sgl.
 * @NVP_PAYLOAD_SGL_DWORD: yes, if every address and length is a multiple of
 *                         4 (SGLS 10b: dword alignment and granularity).
 * @NVP_PAYLOAD_SGL_BYTE: yes, any alignment (SGLS 01b).
 */
enum nvp_payload_sgl {
	NVP_PAYLOAD_PRP_ONLY = 0,
	NVP_PAYLOAD_SGL_DWORD,
	NVP_PAYLOAD_SGL_BYTE,
};

/**
 * nvp_payload_prp_or_sgl() - describe segments with PRPs, else with an SGL.
 * @sqe: command whose DPTR and PSDT are filled.
 * @segs: segments of the payload, in order.
 * @nsegs: number of segments (>= 1).
 * @page_size: controller memory page size.
 * @sgl: whether and how an SGL may be used.
 * @list: the request's list memory.
 *
 * PRPs whenever their rules allow (every controller takes them, and the
 * common shapes need no list), so an SGL is built only for a layout PRPs
 * cannot describe (an element but the first starting inside a page, one
 * but the last ending inside one, or an address not dword aligned), and
 * only if @sgl allows one for these segments. On error @sqe and @list are
 * untouched.
 *
 * Return: 0; -EINVAL if neither can describe the layout (the message says
 * why), or as nvp_payload_prp()/nvp_payload_sgl(); -E2BIG if @list is too
 * small.
 */
int nvp_payload_prp_or_sgl(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
			   unsigned int nsegs, uint32_t page_size, enum nvp_payload_sgl sgl,
			   const struct nvp_payload_list *list);

/* ---- A queue pair's command: the general path (payload.c) ---------------- */

/**
 * nvp_payload_map_segs() - describe translated segments for a command.
 * @qp: queue pair (page size, SGL support). @req: request (its list
 * memory is used). @sqe: command. @segs/@nsegs: the payload.
 * @allow_sgl: false for admin commands.
 *
 * Return: as nvp_payload_prp_or_sgl().
 */
int nvp_payload_map_segs(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
			 const struct nvp_dma_seg *segs, unsigned int nsegs, bool allow_sgl);

/**
 * nvp_payload_map_iov() - describe any payload: segments, then PRP or SGL.
 * @qp: queue pair. @req: request (its list memory is used).
 * @sqe: command to fill. @iov/@iovcnt: payload. @allow_sgl: false for
 * admin commands, which must use PRPs on PCIe.
 *
 * Return: 0, -EFAULT (not DMA memory), -EINVAL (shape neither PRP nor the
 * controller's SGL support can describe), -E2BIG (too fragmented).
 */
int nvp_payload_map_iov(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
			const struct iovec *iov, int iovcnt, bool allow_sgl);

/*
 * Pieces one NVMe/TCP command's data may have (lib/tcp's NVP_TCP_MAX_SEGS,
 * which lib/nvme's headers do not include).
 */
#define NVP_TCP_MAX_SEGS_IOV 16

/**
 * nvp_payload_segments_qp() - nvp_payload_segments() for a queue pair: over
 * NVMe/TCP the segments are the buffers' own addresses (nothing is
 * translated, any memory will do).
 * Return: as nvp_payload_segments().
 */
int nvp_payload_segments_qp(const struct nvp_qpair *qp, const struct iovec *iov, int iovcnt,
			    struct nvp_dma_seg *segs, unsigned int max_segs);

/* ---- The fast path (inline) ---------------------------------------------- */

/**
 * nvp_payload_map() - describe one buffer of @len bytes (> 0) in @sqe.
 * @qp: queue pair. @req: request (its list memory, if a list is needed).
 * @sqe: command, its PSDT already PRP (0): build_rw() zeroes the SQE, and
 *       callers that copy a whole command in clear it.
 * @buf: the buffer (DMA memory). @len: its length.
 * @allow_sgl: false for admin commands.
 *
 * The common case, one bus-contiguous, dword-aligned buffer within two
 * controller pages, is PRP1 (the buffer) and PRP2 (0, or the second page):
 * written here, without a call. Everything else goes to
 * nvp_payload_map_iov(), which the compiler keeps out of the caller's
 * straight line.
 *
 * Return: as nvp_payload_map_iov().
 */
static inline int nvp_payload_map(struct nvp_qpair *qp, struct nvp_req *req,
				  struct nvp_sqe *sqe, const void *buf, uint32_t len,
				  bool allow_sgl)
{
	uint64_t iova;
	size_t contig;

	/* NVMe/TCP keeps the buffer itself (tcp.c); read beside page_size. */
	if (__builtin_expect(qp->tcp != NULL, 0)) {
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

		return nvp_tcp_map(qp, req, sqe, &iov, 1);
	}
	if (__builtin_expect(nvp_mem_lookup(buf, &iova, &contig) == 0, 1) &&
	    __builtin_expect(contig >= len && !(iova & 3), 1)) {
		uint32_t first = qp->page_size - (uint32_t)(iova & (qp->page_size - 1));

		if (len <= first + qp->page_size) {
			sqe->dptr.prp.prp1 = nvp_cpu_to_le64(iova);
			sqe->dptr.prp.prp2 = nvp_cpu_to_le64(len <= first ? 0 : iova + first);
			return 0;
		}
	}
	{
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

		return nvp_payload_map_iov(qp, req, sqe, &iov, 1, allow_sgl);
	}
}

#endif /* NVP_LIB_NVME_PAYLOAD_H */
