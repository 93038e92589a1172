/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io.c - the I/O commands: argument checks, command encoding,
 * and transparent splitting of I/O larger than the controller's transfer
 * limit.
 *
 * The path of one read, one file per step:
 *   io.c       nvp_read() -> rw(): check_qpair(), check_range(), the flags;
 *              a range above ns->max_io_blocks goes to rw_split()
 *   request.h  nvp_req_get(): take a request from the queue pair's pool
 *   queue.h    nvp_sq_slot(): the SQE is built in place in the SQ ring
 *   io.c       build_rw(): opcode, NSID, LBA, block count, FUA/LR
 *   payload.h  nvp_payload_map(): PRP1/PRP2 inline for one buffer within
 *              two pages, else payload.c (PRP list or SGL)
 *   request.h  nvp_req_post(): CID and bookkeeping; nvp_sq_advance()
 *              (queue.h) moves the tail
 *   queue.h    nvp_sq_ring(): the doorbell, written by the next
 *              nvp_qpair_poll() or nvp_qpair_flush(), once per batch
 *   qpair.c    nvp_qpair_process(): the completion, then the callback
 * docs/architecture.md ("The path of one read") has the whole route.
 */
#include <errno.h>
#include <string.h>

#include "nvme/io_opts.h"
#include "nvme/nvme.h"
#include "nvme/payload.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "nvme/io_check.h"
#include "util/log.h"
#include "util/tsc.h"

/* ---- command encoding --------------------------------------------------- */

static inline uint32_t rw_cdw12(uint32_t nlb, uint32_t flags)
{
	return (nlb - 1) | ((flags & NVP_IO_FUA) ? NVP_RW_FUA : 0) |
	       ((flags & NVP_IO_LIMITED_RETRY) ? NVP_RW_LR : 0);
}

/*
 * @nlb is 1..NVP_MAX_NLB: every caller splits larger ranges first. @sqe is
 * the ring slot: every field goes in little-endian.
 */
static inline void build_rw(struct nvp_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba,
			    uint32_t nlb, uint32_t flags)
{
	*sqe = (struct nvp_sqe){
		.opc = opc,
		.nsid = nvp_cpu_to_le32(nsid),
		.cdw10 = nvp_cpu_to_le32((uint32_t)lba),
		.cdw11 = nvp_cpu_to_le32((uint32_t)(lba >> 32)),
		.cdw12 = nvp_cpu_to_le32(rw_cdw12(nlb, flags)),
	};
}

/* The options of part @done (blocks into the command): metadata and tag. */
static void part_opts(const struct nvp_ns *ns, const struct nvp_io_opts *opts, uint32_t done,
		      struct nvp_io_opts *part)
{
	*part = *opts;
	if (opts->md)
		part->md = (uint8_t *)opts->md + (size_t)done * ns->info.md_size;
	/* Types 1 and 2 count the tag per block, modulo its width; type 3 keeps it. */
	if (ns->info.pi_type == 1 || ns->info.pi_type == 2)
		part->reftag = (opts->reftag + done) &
			       (ns->info.pi_guard_bits == 64 ? (1ull << 48) - 1 : 0xffffffffull);
}

/*
 * Every part is built before any is made visible, so a failure leaves the
 * queue exactly as it was. @xfer is the buffer bytes per block (the block,
 * plus its metadata with extended LBAs); @opts, for the *_ext calls, gives
 * each part its metadata pointer and reference tag (NULL for plain
 * reads and writes); no part crosses block @cut (0: none), where type 1/2
 * reference tags wrap.
 */
static int __attribute__((noinline)) rw_split(struct nvp_qpair *qp, struct nvp_ns *ns,
					      uint8_t opc, const struct iovec *iov, int iovcnt,
					      uint64_t lba, uint32_t nlb, uint32_t flags,
					      const struct nvp_io_opts *opts, uint32_t xfer,
					      uint32_t cut, nvp_cmd_cb cb, void *arg)
{
	struct nvp_dma_seg segs[NVP_PAYLOAD_MAX_SEGS], part_segs[NVP_PAYLOAD_MAX_SEGS];
	uint32_t step = ns->max_io_blocks;
	uint64_t parts = cut ? split_parts(cut, step) + split_parts(nlb - cut, step) :
			       split_parts(nlb, step);
	uint16_t tail0 = qp->sq.tail;
	uint64_t submitted0 = qp->submitted;
	struct nvp_req *parent;
	int nsegs, rc;

	rc = nvp_req_admit(qp, parts + 1);
	if (rc)
		return rc;
	nsegs = nvp_payload_segments_qp(qp, iov, iovcnt, segs, NVP_PAYLOAD_MAX_SEGS);
	if (nsegs < 0)
		return nsegs;

	parent = start_parent(qp, opc, (uint32_t)parts, cb, arg);
	/* done + n <= nlb: the cursor never wraps, whatever nlb is. */
	for (uint32_t done = 0, n; done < nlb; done += n) {
		struct nvp_req *req = nvp_req_get(qp);
		struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);
		int nparts;

		n = nlb - done < step ? nlb - done : step;
		if (done < cut && n > cut - done)
			n = cut - done;
		build_rw(sqe, opc, ns->nsid, lba + done, n, flags);
		if (opts) {
			struct nvp_io_opts part;

			part_opts(ns, opts, done, &part);
			rc = nvp_io_apply_opts(qp, ns, req, sqe, &part, lba + done, n);
			if (rc) {
				nvp_req_put(qp, req);
				goto undo;
			}
		}
		nparts = nvp_payload_slice(segs, (unsigned int)nsegs, (uint64_t)done * xfer,
					   (uint64_t)n * xfer, part_segs, NVP_PAYLOAD_MAX_SEGS);
		rc = nparts < 0 ? nparts :
		     nvp_payload_map_segs(qp, req, sqe, part_segs, (unsigned int)nparts, true);
		if (rc) {
			nvp_req_put(qp, req);
			goto undo;
		}
		post_part(qp, parent, req, sqe);
	}
	return 0;
undo:
	split_undo(qp, parent, tail0, submitted0);
	return rc;
}

/* ---- reads and writes --------------------------------------------------- */

static inline int rw(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t opc, void *buf,
		     uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (__builtin_expect(flags & ~NVP_IO_KNOWN_FLAGS, 0))
		return bad_flags(flags);
	if (__builtin_expect(nlb > ns->max_io_blocks, 0)) {
		struct iovec iov = { .iov_base = buf, .iov_len = (size_t)nlb << ns->lba_shift };

		return rw_split(qp, ns, opc, &iov, 1, lba, nlb, flags, NULL,
				1u << ns->lba_shift, 0, cb, arg);
	}
	req = nvp_req_get(qp);
	if (__builtin_expect(!req, 0))
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	build_rw(sqe, opc, ns->nsid, lba, nlb, flags);
	/* nlb <= max_io_blocks = max_xfer >> lba_shift: the length fits 32 bits. */
	rc = nvp_payload_map(qp, req, sqe, buf, nlb << ns->lba_shift, true);
	if (__builtin_expect(rc != 0, 0)) {
		nvp_req_put(qp, req);
		return rc;
	}
	nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_read(struct nvp_qpair *qp, struct nvp_ns *ns, void *buf, uint64_t lba, uint32_t nlb,
	     uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	return rw(qp, ns, NVP_NVM_READ, buf, lba, nlb, flags, cb, arg);
}

int nvp_write(struct nvp_qpair *qp, struct nvp_ns *ns, const void *buf, uint64_t lba,
	      uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	int rc;

	/* Zoned: one command within one zone (zns.c); others never look. */
	if (__builtin_expect(ns && ns->zoned, 0) &&
	    (rc = nvp_zns_check_write(ns, lba, nlb, ns->max_io_blocks)))
		return rc;
	return rw(qp, ns, NVP_NVM_WRITE, (void *)buf, lba, nlb, flags, cb, arg);
}

static int rwv(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t opc, const struct iovec *iov,
	       int iovcnt, uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	uint64_t total = 0;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (flags & ~NVP_IO_KNOWN_FLAGS)
		return bad_flags(flags);
	if (!iov || iovcnt <= 0)
		return nvp_error(-EINVAL, "iovec is empty");
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - total)
			return nvp_error(-EINVAL, "iovec lengths add up to more than 2^64 bytes");
		total += iov[i].iov_len;
	}
	if (total != (uint64_t)nlb << ns->lba_shift)
		return nvp_error(-EINVAL, "iovec holds %llu bytes but %u blocks of %u bytes "
				 "need %llu", (unsigned long long)total, nlb,
				 ns->info.block_size,
				 (unsigned long long)nlb << ns->lba_shift);
	if (nlb > ns->max_io_blocks)
		return rw_split(qp, ns, opc, iov, iovcnt, lba, nlb, flags, NULL,
				1u << ns->lba_shift, 0, cb, arg);
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	build_rw(sqe, opc, ns->nsid, lba, nlb, flags);
	rc = nvp_payload_map_iov(qp, req, sqe, iov, iovcnt, true);
	if (rc) {
		nvp_req_put(qp, req);
		return rc;
	}
	nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_readv(struct nvp_qpair *qp, struct nvp_ns *ns, const struct iovec *iov, int iovcnt,
	      uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	return rwv(qp, ns, NVP_NVM_READ, iov, iovcnt, lba, nlb, flags, cb, arg);
}

int nvp_writev(struct nvp_qpair *qp, struct nvp_ns *ns, const struct iovec *iov, int iovcnt,
	       uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	int rc;

	if (ns && ns->zoned && (rc = nvp_zns_check_write(ns, lba, nlb, ns->max_io_blocks)))
		return rc;
	return rwv(qp, ns, NVP_NVM_WRITE, iov, iovcnt, lba, nlb, flags, cb, arg);
}

/* ---- commands without data ---------------------------------------------- */

int nvp_flush(struct nvp_qpair *qp, struct nvp_ns *ns, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, 0, 1)))
		return rc;
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	*sqe = (struct nvp_sqe){ .opc = NVP_NVM_FLUSH, .nsid = nvp_cpu_to_le32(ns->nsid) };
	nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_write_zeroes(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba, uint32_t nlb,
		     uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	uint64_t parts;
	struct nvp_req *parent;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (flags & ~NVP_IO_KNOWN_FLAGS)
		return bad_flags(flags);
	/* Zoned: no split either (zns.c). */
	if (ns->zoned && (rc = nvp_zns_check_write(ns, lba, nlb, NVP_MAX_NLB)))
		return rc;
	if (!ns->info.supports_write_zeroes)
		return nvp_error(-ENOTSUP, "controller %s does not support Write Zeroes "
				 "(ONCS bit 3); write a zeroed buffer instead", qp->ctrl->info.addr);
	/* No data moves, so only NLB's width limits a command, not MDTS. */
	parts = split_parts(nlb, NVP_MAX_NLB);
	if (parts == 1) {
		struct nvp_req *req = nvp_req_get(qp);
		struct nvp_sqe *sqe;

		if (!req)
			return no_request();
		sqe = nvp_sq_slot(&qp->sq);
		build_rw(sqe, NVP_NVM_WRITE_ZEROES, ns->nsid, lba, nlb, flags);
		nvp_req_post(qp, req, sqe, cb, arg);
		return 0;
	}
	rc = nvp_req_admit(qp, parts + 1);
	if (rc)
		return rc;
	parent = start_parent(qp, NVP_NVM_WRITE_ZEROES, (uint32_t)parts, cb, arg);
	for (uint32_t done = 0, n; done < nlb; done += n) {
		struct nvp_req *req = nvp_req_get(qp);
		struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);

		n = nlb - done < NVP_MAX_NLB ? nlb - done : NVP_MAX_NLB;
		build_rw(sqe, NVP_NVM_WRITE_ZEROES, ns->nsid, lba + done, n, flags);
		post_part(qp, parent, req, sqe);
	}
	return 0;
}

int nvp_deallocate(struct nvp_qpair *qp, struct nvp_ns *ns, const struct nvp_dsm_range *ranges,
		   uint32_t num_ranges, nvp_cmd_cb cb, void *arg)
{
	/* Dataset Management with the deallocate attribute: io_cmds.c. */
	return nvp_dsm(qp, ns, ranges, num_ranges, NVP_DSM_ATTR_DEALLOCATE, cb, arg);
}

int nvp_io_raw(struct nvp_qpair *qp, const struct nvp_sqe *cmd, void *buf, size_t len,
	       nvp_cmd_cb cb, void *arg)
{
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp, cb)))
		return rc;
	if (!cmd)
		return nvp_error(-EINVAL, "nvp_io_raw: cmd must not be NULL");
	if (!buf != !len)
		return nvp_error(-EINVAL, "nvp_io_raw: %s; give both a buffer and its length, "
				 "or neither (then the command's own data pointer is used)",
				 buf ? "a buffer of length 0" : "a length without a buffer");
	/*
	 * A fused command waits on the controller for its partner in the next
	 * SQ slot, which the library cannot promise here: a lone one can stall
	 * the whole queue.
	 */
	if (cmd->flags & NVP_SQE_FUSE_MASK)
		return nvp_error(-EINVAL, "nvp_io_raw: fused commands (FUSE 0x%x) are not "
				 "supported; submit the pair unfused", cmd->flags & NVP_SQE_FUSE_MASK);
	if (len > qp->max_xfer)
		return nvp_error(-EINVAL, "raw I/O of %zu bytes exceeds the transfer limit of "
				 "%u bytes; raw commands are not split", len, qp->max_xfer);
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	rc = nvp_req_post_cmd(qp, req, cmd, buf, len, true, cb, arg);
	if (rc)
		return rc;
	/* Not known to be idempotent: a reset ends it rather than re-posting. */
	req->no_retry = true;
	return 0;
}

int nvp_io_check(struct nvp_qpair *qp, nvp_cmd_cb cb, struct nvp_ns *ns, uint64_t lba,
		 uint32_t nlb)
{
	int rc = check_qpair(qp, cb);

	return rc ? rc : check_range(qp, ns, lba, nlb);
}

void nvp_io_opts_init(struct nvp_io_opts *opts, size_t opts_size)
{
	if (!opts || opts_size < sizeof(size_t))
		return;
	memset(opts, 0, opts_size);
	opts->opts_size = opts_size;
}

/* ---- reads and writes with options: metadata and protection ------------- */

/*
 * The *_ext calls: off the path of nvp_read()/nvp_write(), which stay as
 * they are. A namespace with metadata (NVP_NS_HAS_METADATA, refused by the
 * plain calls) is accepted here; each block takes nvp_io_xfer_block()
 * bytes of the data buffer, and nvp_io_apply_opts() encodes the rest.
 */
static int check_range_ext(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba, uint32_t nlb)
{
	uint64_t blocks;
	uint8_t why;

	if (!ns || ns->ctrl != qp->ctrl)
		return bad_range(qp, ns, lba, nlb);
	blocks = atomic_load_explicit(&ns->num_blocks, memory_order_relaxed);
	why = atomic_load_explicit(&ns->unusable, memory_order_relaxed);
	if (why && why != NVP_NS_HAS_METADATA)
		return unusable_ns(ns);
	if (nlb == 0 || lba >= blocks || nlb > blocks - lba) {
		if (nlb == 0)
			return nvp_error(-EINVAL, "zero-length I/O (nlb = 0) on namespace %u",
					 ns->nsid);
		return nvp_error(-ERANGE, "LBAs %llu..%llu are past the end of namespace %u "
				 "(%llu blocks)", (unsigned long long)lba,
				 (unsigned long long)lba + nlb - 1, ns->nsid,
				 (unsigned long long)blocks);
	}
	return 0;
}


/*
 * Where the reference tags of a type 1 or 2 command wrap (past 2^32 - 1, or
 * 2^48 - 1 with the 64-bit guard): the blocks before it, or 0 if they do
 * not wrap. The spec counts modulo the width, but QEMU 7.2 compares the
 * unwrapped count and fails such a command; two commands split at the
 * wrap check alike everywhere.
 */
static uint32_t reftag_cut(const struct nvp_ns *ns, const struct nvp_io_opts *opts,
			   uint32_t nlb)
{
	uint64_t mask = ns->info.pi_guard_bits == 64 ? (1ull << 48) - 1 : 0xffffffffull;
	uint64_t left;

	if (ns->info.pi_type != 1 && ns->info.pi_type != 2)
		return 0;
	left = mask - (opts->reftag & mask) + 1;	/* blocks up to the wrap */
	return left < nlb ? (uint32_t)left : 0;
}

static int rwv_ext(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t opc, const struct iovec *iov,
		   int iovcnt, uint64_t lba, uint32_t nlb, const struct nvp_io_opts *user_opts,
		   nvp_cmd_cb cb, void *arg)
{
	struct nvp_io_opts opts;
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	uint64_t total = 0;
	uint32_t xfer, cut;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range_ext(qp, ns, lba, nlb)) ||
	    (rc = nvp_io_opts_normalise(&opts, user_opts)))
		return rc;
	if (opts.flags & ~NVP_IO_KNOWN_FLAGS)
		return bad_flags(opts.flags);
	if (!iov || iovcnt <= 0)
		return nvp_error(-EINVAL, "iovec is empty");
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - total)
			return nvp_error(-EINVAL, "iovec lengths add up to more than 2^64 bytes");
		total += iov[i].iov_len;
	}
	xfer = nvp_io_xfer_block(ns, &opts);
	if (total != (uint64_t)nlb * xfer)
		return nvp_error(-EINVAL, "the data buffer holds %llu bytes but %u blocks of "
				 "namespace %u need %llu (%u bytes each%s)",
				 (unsigned long long)total, nlb, ns->nsid,
				 (unsigned long long)nlb * xfer, xfer,
				 xfer > ns->info.block_size ? ": data and metadata, extended LBAs" :
				 ns->info.md_extended ? ": PRACT moves no metadata" : "");
	cut = reftag_cut(ns, &opts, nlb);
	if (nlb > ns->max_io_blocks || cut)
		return rw_split(qp, ns, opc, iov, iovcnt, lba, nlb, opts.flags, &opts, xfer, cut,
				cb, arg);
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	sqe = nvp_sq_slot(&qp->sq);
	build_rw(sqe, opc, ns->nsid, lba, nlb, opts.flags);
	rc = nvp_io_apply_opts(qp, ns, req, sqe, &opts, lba, nlb);
	if (!rc)
		rc = iovcnt == 1 ? nvp_payload_map(qp, req, sqe, iov[0].iov_base, (uint32_t)total,
						   true) :
				   nvp_payload_map_iov(qp, req, sqe, iov, iovcnt, true);
	if (rc) {
		nvp_req_put(qp, req);
		return rc;
	}
	nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}

int nvp_read_ext(struct nvp_qpair *qp, struct nvp_ns *ns, void *buf, uint64_t lba,
		 uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg)
{
	struct iovec iov = { .iov_base = buf, .iov_len = 0 };
	struct nvp_io_opts o;
	int rc;

	/* The length follows from the namespace and the options. */
	if (ns && (rc = nvp_io_opts_normalise(&o, opts)) == 0)
		iov.iov_len = (size_t)nlb * nvp_io_xfer_block(ns, &o);
	return rwv_ext(qp, ns, NVP_NVM_READ, &iov, 1, lba, nlb, opts, cb, arg);
}

int nvp_write_ext(struct nvp_qpair *qp, struct nvp_ns *ns, const void *buf, uint64_t lba,
		  uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = 0 };
	struct nvp_io_opts o;
	int rc;

	if (ns && (rc = nvp_io_opts_normalise(&o, opts)) == 0)
		iov.iov_len = (size_t)nlb * nvp_io_xfer_block(ns, &o);
	return rwv_ext(qp, ns, NVP_NVM_WRITE, &iov, 1, lba, nlb, opts, cb, arg);
}

int nvp_readv_ext(struct nvp_qpair *qp, struct nvp_ns *ns, const struct iovec *iov,
		  int iovcnt, uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
		  nvp_cmd_cb cb, void *arg)
{
	return rwv_ext(qp, ns, NVP_NVM_READ, iov, iovcnt, lba, nlb, opts, cb, arg);
}

int nvp_writev_ext(struct nvp_qpair *qp, struct nvp_ns *ns, const struct iovec *iov,
		   int iovcnt, uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
		   nvp_cmd_cb cb, void *arg)
{
	return rwv_ext(qp, ns, NVP_NVM_WRITE, iov, iovcnt, lba, nlb, opts, cb, arg);
}
