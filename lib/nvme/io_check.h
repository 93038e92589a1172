/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io_check.h - what every I/O submitter shares: the argument
 * checks (their error branches out of line) and the helpers of commands
 * split into parts. Used by io.c (reads, writes) and io_cmds.c (Compare,
 * Verify, Copy and the others); moved here from io.c unchanged.
 */
#ifndef NVP_LIB_NVME_IO_CHECK_H
#define NVP_LIB_NVME_IO_CHECK_H

#include <errno.h>
#include <string.h>

#include "nvme/nvme.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "util/log.h"

/* ---- argument checks (the error branches are out of line) --------------- */

static int __attribute__((noinline, cold, unused)) bad_qpair(struct nvp_qpair *qp)
{
	if (!qp)
		return nvp_error(-EINVAL, "queue pair is NULL");
#ifdef NVP_DEBUG
	if (!pthread_equal(qp->owner, pthread_self()))
		return nvp_error(-EXDEV, "queue pair %u used from a thread that does not own "
				 "it; use one qpair per thread, or hand it over with "
				 "nvp_qpair_set_owner()", qp->sq.qid);
#endif
	if (qp->state == NVP_QP_CLOSING)
		return nvp_error(-ENXIO, "queue pair %u is being freed (nvp_qpair_free() is "
				 "running its callbacks); submit on another queue pair",
				 qp->sq.qid);
	if (qp->state == NVP_QP_FAILED) {
		int failed = atomic_load(&qp->ctrl->failed);

		return nvp_error(failed ? failed : -ENXIO, "controller %s has %s; detach and "
				 "attach it again", qp->ctrl->info.addr,
				 failed == -ENODEV ? "been removed" : "failed");
	}
	return nvp_error(-EINVAL, "completion callback is NULL: every command reports its "
			 "result through one; pass a function");
}

/*
 * The submission-side checks read only the queue pair: the controller's
 * failure reaches it at its next poll (which completes whatever was
 * accepted meanwhile), so no shared cache line is touched per command.
 */
static inline int check_qpair(struct nvp_qpair *qp, nvp_cmd_cb cb)
{
	if (__builtin_expect(!qp, 0))
		return bad_qpair(qp);
#ifdef NVP_DEBUG
	if (__builtin_expect(!pthread_equal(qp->owner, pthread_self()), 0))
		return bad_qpair(qp);
#endif
	/* Connected or reconnecting (commands wait in the ring) both accept. */
	if (__builtin_expect(qp->state >= NVP_QP_FAILED || !cb, 0))
		return bad_qpair(qp);
	return 0;
}

static int __attribute__((noinline, cold, unused)) unusable_ns(struct nvp_ns *ns)
{
	uint8_t why = atomic_load(&ns->unusable);

	if (why == NVP_NS_REMOVED)
		return nvp_error(-ENODEV, "namespace %u of %s is no longer active (detached or "
				 "deleted); its handle stays valid but takes no I/O",
				 ns->nsid, ns->ctrl->info.addr);
	if (why == NVP_NS_FORMAT_CHANGED)
		return nvp_error(-ESTALE, "namespace %u of %s was reformatted while attached; "
				 "detach and attach the controller again to use it", ns->nsid,
				 ns->ctrl->info.addr);
	if (why == NVP_NS_CSI_UNUSABLE)
		return nvp_error(-ENOTSUP, "namespace %u of %s uses an I/O command set (CSI %u) "
				 "nvpoll cannot run, or its ZNS Identify data could not be "
				 "read (see the warning at attach); use another namespace",
				 ns->nsid, ns->ctrl->info.addr, ns->info.csi);
	if (why == NVP_NS_HAS_METADATA)
		return nvp_error(-ENOTSUP, "namespace %u is formatted with %u bytes of metadata "
				 "per block (%s%s), which plain reads and writes do not move; use "
				 "nvp_read_ext()/nvp_write_ext()%s", ns->nsid, ns->info.md_size,
				 ns->info.md_extended ? "extended LBAs" : "separate buffer",
				 ns->info.pi_type ? ", with protection information" : "",
				 ns->info.pi_type && ns->info.md_size == ns->info.pi_size ?
				 " with NVP_PI_PRACT, which takes plain data buffers" :
				 " with a metadata buffer or extended-LBA buffers");
	if (why == NVP_NS_MD_UNSUPPORTED)
		return nvp_error(-ENOTSUP, "namespace %u has a metadata or protection format "
				 "nvpoll does not support (%u bytes of metadata, PI type %u); "
				 "reformat it (nvme format --ms/--pi) to one without PI or with "
				 "16- or 64-bit guard PI", ns->nsid, ns->info.md_size,
				 NVP_ID_NS_DPS_TYPE(ns->id->dps));
	return nvp_error(-ENOTSUP, "namespace %u has %u-byte blocks but controller %s moves "
			 "at most %u bytes per command (MDTS and max_xfer_bytes), less than "
			 "one block; reformat it with smaller blocks or raise max_xfer_bytes",
			 ns->nsid, ns->info.block_size, ns->ctrl->info.addr,
			 ns->ctrl->max_xfer);
}

static int __attribute__((noinline, cold, unused)) bad_range(struct nvp_qpair *qp, struct nvp_ns *ns,
						      uint64_t lba, uint32_t nlb)
{
	if (!ns)
		return nvp_error(-EINVAL, "namespace is NULL (nvp_ctrl_get_ns() returns NULL "
				 "for an inactive NSID)");
	if (ns->ctrl != qp->ctrl)
		return nvp_error(-EINVAL, "namespace %u belongs to controller %s, not to the "
				 "queue pair's controller %s", ns->nsid, ns->ctrl->info.addr,
				 qp->ctrl->info.addr);
	if (atomic_load(&ns->unusable))
		return unusable_ns(ns);
	if (nlb == 0)
		return nvp_error(-EINVAL, "zero-length I/O (nlb = 0) on namespace %u", ns->nsid);
	return nvp_error(-ERANGE, "LBAs %llu..%llu are past the end of namespace %u "
			 "(%llu blocks)", (unsigned long long)lba,
			 (unsigned long long)lba + nlb - 1, ns->nsid,
			 (unsigned long long)atomic_load(&ns->num_blocks));
}

/*
 * Written so that no sum can wrap: lba + nlb is never computed. Relaxed
 * loads: a rescan may resize or retire the namespace meanwhile.
 */
static inline int check_range(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba,
			      uint32_t nlb)
{
	uint64_t blocks;

	if (__builtin_expect(!ns || ns->ctrl != qp->ctrl, 0))
		return bad_range(qp, ns, lba, nlb);
	blocks = atomic_load_explicit(&ns->num_blocks, memory_order_relaxed);
	if (__builtin_expect(atomic_load_explicit(&ns->unusable, memory_order_relaxed) ||
			     nlb == 0 || lba >= blocks || nlb > blocks - lba, 0))
		return bad_range(qp, ns, lba, nlb);
	return 0;
}

/* Every NVP_IO_* flag this library knows; others are refused, not ignored. */
#define NVP_IO_KNOWN_FLAGS (NVP_IO_FUA | NVP_IO_LIMITED_RETRY)

static int __attribute__((noinline, cold, unused)) bad_flags(uint32_t flags)
{
	return nvp_error(-EINVAL, "I/O flags 0x%x include bits this library does not know "
			 "(0x%x); use NVP_IO_* flags only, or a newer nvpoll", flags,
			 flags & ~NVP_IO_KNOWN_FLAGS);
}

static inline int no_request(void)
{
	return nvp_error_fast(-EAGAIN, "no free request object on this queue pair: call "
			      "nvp_qpair_poll() to complete some, then retry");
}

/* ---- split commands ----------------------------------------------------- */

/*
 * A range larger than one command: a parent request that is never posted,
 * and one part per @step blocks. The part count is 64-bit and checked
 * against the pool before anything is taken (nvp_req_admit()).
 */
static inline uint64_t split_parts(uint32_t nlb, uint32_t step)
{
	return ((uint64_t)nlb + step - 1) / step;
}

/* The whole of a split command; the caller admitted parts + 1 requests. */
static inline struct nvp_req *start_parent(struct nvp_qpair *qp, uint8_t opc, uint32_t parts,
				    nvp_cmd_cb cb, void *arg)
{
	struct nvp_req *parent = nvp_req_get(qp);

	parent->state = NVP_REQ_PARENT;
	parent->cb = cb;
	parent->arg = arg;
	parent->opc = opc;
	parent->parts_left = parts;
	memset(&parent->cpl, 0, sizeof(parent->cpl));
	return parent;
}

/* Post one part of @parent (the part's completion goes to the parent). */
static inline void post_part(struct nvp_qpair *qp, struct nvp_req *parent, struct nvp_req *req,
			     struct nvp_sqe *sqe)
{
	nvp_req_post(qp, req, sqe, parent->cb, parent->arg);
	req->parent = parent;
}

/*
 * Take back what a failed submission put into the ring: nothing was rung,
 * so moving the tail back hides it from the device.
 */
static inline void split_undo(struct nvp_qpair *qp, struct nvp_req *parent, uint16_t tail0,
			      uint64_t submitted0)
{
	qp->sq.tail = tail0;
	qp->submitted = submitted0;
	for (uint32_t j = 0; j < qp->num_reqs; j++) {
		struct nvp_req *r = &qp->reqs[j];

		if (r->parent == parent && r->state == NVP_REQ_INFLIGHT) {
			r->fused = 0;
			nvp_req_put(qp, r);
		}
	}
	nvp_req_put(qp, parent);
}

#endif /* NVP_LIB_NVME_IO_CHECK_H */
