/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/payload.h - describing a data buffer to the controller: PRP
 * entries and lists, or SGL descriptors.
 *
 * Translation and description are separate steps. The caller first turns a
 * buffer or iovec into bus-contiguous segments (nvp_payload_segments(), one
 * nvp_mem_lookup() per segment); the builders then fill the SQE's data
 * pointer and, when needed, the request's list memory. The builders are pure
 * functions of their inputs, which is what lets the unit tests check them
 * against exhaustive tables.
 */
#ifndef NVP_LIB_NVME_PAYLOAD_H
#define NVP_LIB_NVME_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <nvpoll/spec.h>

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
 * Return: number of segments, -EFAULT if any byte is not DMA memory (the
 * message names the address), -E2BIG if more than @max_segs are needed,
 * -EINVAL for a zero-length element.
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
 * Used to split an I/O larger than the transfer limit.
 *
 * Return: number of segments in @out, or -E2BIG / -EINVAL.
 */
int nvp_payload_slice(const struct nvp_dma_seg *segs, unsigned int nsegs,
		      uint64_t off, uint64_t len, struct nvp_dma_seg *out,
		      unsigned int max_out);

/**
 * struct nvp_payload_list - per-request memory for PRP lists or SGL segments.
 * @va: virtual address (page aligned, contiguous in bus space).
 * @iova: its bus address.
 * @bytes: size; a multiple of @page_size.
 */
struct nvp_payload_list {
	void *va;
	uint64_t iova;
	size_t bytes;
};

/**
 * nvp_payload_prp() - build PRP1/PRP2 (and PRP lists) for segments.
 * @sqe: command whose DPTR is filled (PSDT set to PRP).
 * @segs: segments of the payload, in order.
 * @nsegs: number of segments (>= 1).
 * @page_size: controller memory page size (CC.MPS), a power of two.
 * @list: list memory for this request. A list page holds page_size/8
 *        entries; when more are needed the last entry of a page points to
 *        the next page (chaining).
 *
 * PRP rules: the first segment may start at any dword-aligned offset; every
 * other segment must start on a page boundary, and every segment but the
 * last must end on one.
 *
 * Return: 0; -EINVAL if the segments break the PRP rules or an address is
 * not dword aligned; -E2BIG if @list is too small.
 */
int nvp_payload_prp(struct nvp_sqe *sqe, const struct nvp_dma_seg *segs,
		    unsigned int nsegs, uint32_t page_size,
		    const struct nvp_payload_list *list);

/**
 * nvp_payload_sgl() - build an SGL for segments.
 * @sqe: command whose DPTR is filled (PSDT set to SGL).
 * @segs: segments of the payload, in order.
 * @nsegs: number of segments (>= 1).
 * @list: descriptor memory for this request (16 bytes per descriptor).
 *
 * One segment: a Data Block descriptor in the SQE. More: the SQE holds a
 * Last Segment descriptor pointing at the data blocks in @list; if they do
 * not fit one page of @list, each full page ends with a Segment descriptor
 * pointing to the next.
 *
 * Return: 0; -E2BIG if @list is too small.
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
 * a worst-case (unaligned) @max_xfer payload or an SGL of @max_segs
 * descriptors, whichever is larger, including chain entries.
 */
size_t nvp_payload_list_bytes(uint32_t max_xfer, uint32_t page_size,
			      unsigned int max_segs);

#endif /* NVP_LIB_NVME_PAYLOAD_H */
