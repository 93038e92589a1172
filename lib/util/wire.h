/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/util/wire.h - whole queue entries between CPU and wire byte order.
 *
 * The scalar helpers (nvp_cpu_to_le32() and friends) are public, in
 * nvpoll/spec.h. These convert a whole SQE or CQE as it is copied, for the
 * places where an entry crosses between the two orders in one piece: a
 * caller's command into the SQ (admin and raw passthrough), a CQE out of
 * the CQ (the driver), and the emulated controller's fetch and post. On a
 * little-endian CPU each is a plain copy.
 */
#ifndef NVP_LIB_UTIL_WIRE_H
#define NVP_LIB_UTIL_WIRE_H

#include <nvpoll/spec.h>

/* @dst (wire) = @src (CPU order); the reserved bytes of an SGL are copied. */
static inline void nvp_sqe_to_wire(struct nvp_sqe *dst, const struct nvp_sqe *src)
{
#ifdef NVP_WIRE_SWAP
	struct nvp_sqe t = *src;

	t.cid = nvp_cpu_to_le16(src->cid);
	t.nsid = nvp_cpu_to_le32(src->nsid);
	t.cdw2 = nvp_cpu_to_le32(src->cdw2);
	t.cdw3 = nvp_cpu_to_le32(src->cdw3);
	t.mptr = nvp_cpu_to_le64(src->mptr);
	/* PRP1/PRP2 and an SGL descriptor's address share the first 8 bytes;
	 * as PRPs the second 8 are one 64-bit field, as an SGL a 32-bit
	 * length and four bytes: by PSDT. */
	t.dptr.prp.prp1 = nvp_cpu_to_le64(src->dptr.prp.prp1);
	if ((src->flags & NVP_SQE_PSDT_MASK) == NVP_SQE_PSDT_PRP)
		t.dptr.prp.prp2 = nvp_cpu_to_le64(src->dptr.prp.prp2);
	else
		t.dptr.sgl1.length = nvp_cpu_to_le32(src->dptr.sgl1.length);
	t.cdw10 = nvp_cpu_to_le32(src->cdw10);
	t.cdw11 = nvp_cpu_to_le32(src->cdw11);
	t.cdw12 = nvp_cpu_to_le32(src->cdw12);
	t.cdw13 = nvp_cpu_to_le32(src->cdw13);
	t.cdw14 = nvp_cpu_to_le32(src->cdw14);
	t.cdw15 = nvp_cpu_to_le32(src->cdw15);
	*dst = t;
#else
	*dst = *src;
#endif
}

/* @dst (CPU order) = @src (wire): the same swaps, by the same PSDT. */
static inline void nvp_sqe_from_wire(struct nvp_sqe *dst, const struct nvp_sqe *src)
{
	nvp_sqe_to_wire(dst, src);
}

/* @dst (CPU order) = @src (wire). */
static inline void nvp_cqe_from_wire(struct nvp_cqe *dst, const struct nvp_cqe *src)
{
#ifdef NVP_WIRE_SWAP
	dst->dw0 = nvp_le32_to_cpu(src->dw0);
	dst->dw1 = nvp_le32_to_cpu(src->dw1);
	dst->sqhd = nvp_le16_to_cpu(src->sqhd);
	dst->sqid = nvp_le16_to_cpu(src->sqid);
	dst->cid = nvp_le16_to_cpu(src->cid);
	dst->status = nvp_le16_to_cpu(src->status);
#else
	*dst = *src;
#endif
}

/* @dst (wire) = @src (CPU order). */
static inline void nvp_cqe_to_wire(struct nvp_cqe *dst, const struct nvp_cqe *src)
{
	nvp_cqe_from_wire(dst, src);
}

#endif /* NVP_LIB_UTIL_WIRE_H */
