/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io_cmds.c - the NVM commands beyond read and write: Compare,
 * fused Compare and Write, Verify, Copy, Write Uncorrectable and Dataset
 * Management. None of them is on the read/write hot path; they share its
 * checks (io_check.h), request pool and posting (request.h).
 *
 * A fused Compare and Write is three request objects: a parent that is
 * never posted and holds the pair's one callback, and one per half. Both
 * halves are built and posted here, back to back, before this function
 * returns: the doorbell is only written by nvp_qpair_poll()/flush() on the
 * same (owning) thread, so it can never fall between them, and the pool
 * (never more requests than SQ entries - 1) guarantees both slots.
 */
#include <errno.h>
#include <string.h>

#include "nvme/io_check.h"
#include "nvme/io_cmds.h"
#include "nvme/io_opts.h"
#include "nvme/nvme.h"
#include "nvme/payload.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "util/log.h"
#include "util/wire.h"

/* ---- encoding ----------------------------------------------------------- */

/* SLBA in CDW10-11, NLB (0's based) in CDW12; the ring slot is little-endian. */
static void build_lba_cmd(struct nvp_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba,
			  uint32_t nlb)
{
	*sqe = (struct nvp_sqe){
		.opc = opc,
		.nsid = nvp_cpu_to_le32(nsid),
		.cdw10 = nvp_cpu_to_le32((uint32_t)lba),
		.cdw11 = nvp_cpu_to_le32((uint32_t)(lba >> 32)),
		.cdw12 = nvp_cpu_to_le32(nlb - 1),
	};
}

void nvp_copy_ranges_encode(struct nvp_copy_range_fmt0 *out, const struct nvp_copy_range *in,
			    uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].slba = nvp_cpu_to_le64(in[i].slba);
		out[i].nlb = nvp_cpu_to_le16((uint16_t)(in[i].nlb - 1));
	}
}

void nvp_dsm_ranges_encode(struct nvp_dsm_range *out, const struct nvp_dsm_range *in,
			   uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		out[i].cattr = nvp_cpu_to_le32(in[i].cattr);
		out[i].nlb = nvp_cpu_to_le32(in[i].nlb);
		out[i].slba = nvp_cpu_to_le64(in[i].slba);
	}
}

/* ---- commands on one LBA range (split into parts of @step blocks) ------ */

/* Build one command on [@lba, @lba + @nlb) with its data (if any). */
static int build_part(struct nvp_qpair *qp, struct nvp_ns *ns, struct nvp_req *req,
		      struct nvp_sqe *sqe, uint8_t opc, const uint8_t *buf, uint64_t lba,
		      uint32_t nlb, const struct nvp_io_opts *opts)
{
	int rc;

	build_lba_cmd(sqe, opc, ns->nsid, lba, nlb);
	if (buf) {
		rc = nvp_payload_map(qp, req, sqe, buf, nlb << ns->lba_shift, true);
		if (rc)
			return rc;
	}
	return nvp_io_apply_opts(qp, ns, req, sqe, opts, lba, nlb);
}

/*
 * @buf (NULL for commands without data) holds @nlb blocks. Ranges above
 * @step blocks become parts of a parent, which completes once: with the
 * first failing part's status (a miscompare anywhere fails the whole).
 */
static int lba_cmd(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t opc, const void *buf,
		   uint64_t lba, uint32_t nlb, uint32_t step, const struct nvp_io_opts *opts,
		   nvp_cmd_cb cb, void *arg)
{
	uint16_t tail0 = qp->sq.tail;
	uint64_t submitted0 = qp->submitted, parts;
	struct nvp_req *parent, *req;
	int rc;

	if (nlb <= step) {
		req = nvp_req_get(qp);
		if (!req)
			return no_request();
		rc = build_part(qp, ns, req, nvp_sq_slot(&qp->sq), opc, buf, lba, nlb, opts);
		if (rc) {
			nvp_req_put(qp, req);
			return rc;
		}
		nvp_req_post(qp, req, nvp_sq_slot(&qp->sq), cb, arg);
		return 0;
	}
	parts = split_parts(nlb, step);
	rc = nvp_req_admit(qp, parts + 1);
	if (rc)
		return rc;
	parent = start_parent(qp, opc, (uint32_t)parts, cb, arg);
	/* done + n <= nlb: the cursor never wraps. */
	for (uint32_t done = 0, n; done < nlb; done += n) {
		struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);

		n = nlb - done < step ? nlb - done : step;
		req = nvp_req_get(qp);
		rc = build_part(qp, ns, req, sqe, opc,
				buf ? (const uint8_t *)buf + ((size_t)done << ns->lba_shift) : NULL,
				lba + done, n, opts);
		if (rc) {
			nvp_req_put(qp, req);
			split_undo(qp, parent, tail0, submitted0);
			return rc;
		}
		post_part(qp, parent, req, sqe);
	}
	return 0;
}

static int __attribute__((cold)) no_cmd(struct nvp_qpair *qp, const char *what,
					const char *bit)
{
	return nvp_error(-ENOTSUP, "controller %s does not support %s (%s); check "
			 "nvp_ns_get_info() before submitting it", qp->ctrl->info.addr, what, bit);
}

int nvp_compare(struct nvp_qpair *qp, struct nvp_ns *ns, const void *buf, uint64_t lba,
		uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg)
{
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (!ns->info.supports_compare)
		return no_cmd(qp, "Compare", "ONCS bit 0");
	if (!buf)
		return nvp_error(-EINVAL, "compare: buf is NULL; pass the expected data, %u "
				 "blocks of DMA memory", nlb);
	return lba_cmd(qp, ns, NVP_NVM_COMPARE, buf, lba, nlb, ns->max_io_blocks, opts, cb, arg);
}

int nvp_verify(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba, uint32_t nlb,
	       const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg)
{
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (!ns->info.supports_verify)
		return no_cmd(qp, "Verify", "ONCS bit 7");
	/*
	 * No data moves, but a controller may bound Verify by its Verify Size
	 * Limit (QEMU: vsl, default equal to MDTS); MDTS's split stays within
	 * it without an I/O command set Identify.
	 */
	return lba_cmd(qp, ns, NVP_NVM_VERIFY, NULL, lba, nlb, ns->max_io_blocks, opts, cb, arg);
}

int nvp_write_uncorrectable(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba,
			    uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb,
			    void *arg)
{
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (!ns->info.supports_write_uncorrectable)
		return no_cmd(qp, "Write Uncorrectable", "ONCS bit 1");
	/* The command has neither FUA nor LR: a flag would be silently lost. */
	if (opts && opts->opts_size >= offsetof(struct nvp_io_opts, flags) + sizeof(uint32_t) &&
	    opts->flags)
		return nvp_error(-EINVAL, "write uncorrectable takes no I/O flags (got 0x%x); "
				 "pass 0", opts->flags);
	/* No data moves: only NLB's width limits a command. */
	return lba_cmd(qp, ns, NVP_NVM_WRITE_UNCORRECTABLE, NULL, lba, nlb, NVP_MAX_NLB, opts,
		       cb, arg);
}

/* ---- fused Compare and Write -------------------------------------------- */

int nvp_compare_and_write(struct nvp_qpair *qp, struct nvp_ns *ns, const void *cmp_buf,
			  const void *write_buf, uint64_t lba, uint32_t nlb,
			  const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg)
{
	static const uint8_t opc[2] = { NVP_NVM_COMPARE, NVP_NVM_WRITE };
	static const uint8_t fuse[2] = { NVP_SQE_FUSE_FIRST, NVP_SQE_FUSE_SECOND };
	const void *bufs[2] = { cmp_buf, write_buf };
	uint16_t tail0 = qp ? qp->sq.tail : 0;
	uint64_t submitted0 = qp ? qp->submitted : 0;
	struct nvp_req *parent;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, lba, nlb)))
		return rc;
	if (!ns->info.supports_fused_compare_write)
		return no_cmd(qp, "fused Compare and Write", "FUSES bit 0, with ONCS bit 0");
	if (!cmp_buf || !write_buf)
		return nvp_error(-EINVAL, "compare and write: %s is NULL; pass %u blocks of DMA "
				 "memory for each half", cmp_buf ? "write_buf" : "cmp_buf", nlb);
	if (nlb > ns->info.compare_write_max_blocks)
		return nvp_error(-EINVAL, "compare and write of %u blocks on namespace %u: at "
				 "most %u (the atomic compare and write unit, ACWU/NACWU, and "
				 "the transfer limit); a fused pair is never split, so submit "
				 "smaller ones", nlb, ns->nsid, ns->info.compare_write_max_blocks);
	/* Both halves and the pair, or nothing: both SQ slots come with them. */
	rc = nvp_req_admit(qp, 3);
	if (rc)
		return rc;
	parent = start_parent(qp, NVP_NVM_COMPARE, 2, cb, arg);
	for (int i = 0; i < 2; i++) {
		struct nvp_req *req = nvp_req_get(qp);
		struct nvp_sqe *sqe = nvp_sq_slot(&qp->sq);

		rc = build_part(qp, ns, req, sqe, opc[i], bufs[i], lba, nlb, opts);
		if (rc) {
			nvp_req_put(qp, req);
			split_undo(qp, parent, tail0, submitted0);
			return rc;
		}
		sqe->flags |= fuse[i];
		req->fused = fuse[i];
		post_part(qp, parent, req, sqe);
	}
	return 0;
}

/* ---- Copy ----------------------------------------------------------------- */

static int bad_copy_ranges(struct nvp_qpair *qp, struct nvp_ns *ns,
			   const struct nvp_copy_range *ranges, uint32_t n, uint64_t sdlba)
{
	const struct nvp_ns_info *ni = &ns->info;
	uint64_t total = 0;
	int rc;

	if (!ranges)
		return nvp_error(-EINVAL, "copy: ranges is NULL; pass an array of num_ranges "
				 "struct nvp_copy_range");
	if (n == 0 || n > ni->copy_max_ranges)
		return nvp_error(-EINVAL, "copy takes 1..%u source ranges on namespace %u (MSRC "
				 "%u, 0's based) but got %u; submit several copies",
				 ni->copy_max_ranges, ns->nsid, ni->copy_max_ranges - 1, n);
	for (uint32_t i = 0; i < n; i++) {
		rc = check_range(qp, ns, ranges[i].slba, ranges[i].nlb);
		if (rc)
			return nvp_error(rc, "copy source range %u: %s", i, nvp_last_error());
		if (ranges[i].nlb > ni->copy_max_range_blocks)
			return nvp_error(-EINVAL, "copy source range %u holds %u blocks; namespace "
					 "%u takes at most %u per range (MSSRL): split it", i,
					 ranges[i].nlb, ns->nsid, ni->copy_max_range_blocks);
		total += ranges[i].nlb;	/* 256 ranges of < 2^32: no wrap */
	}
	if (total > ni->copy_max_blocks)
		return nvp_error(-EINVAL, "copy of %llu blocks in all; namespace %u takes at most "
				 "%u per command (MCL): submit several copies",
				 (unsigned long long)total, ns->nsid, ni->copy_max_blocks);
	/* total <= MCL < 2^32: the destination is an ordinary range. */
	rc = check_range(qp, ns, sdlba, (uint32_t)total);
	if (rc)
		return nvp_error(rc, "copy destination: %s", nvp_last_error());
	return 0;
}

int nvp_copy(struct nvp_qpair *qp, struct nvp_ns *ns, const struct nvp_copy_range *ranges,
	     uint32_t num_ranges, uint64_t sdlba, const struct nvp_io_opts *opts, nvp_cmd_cb cb,
	     void *arg)
{
	uint32_t bytes = num_ranges * (uint32_t)sizeof(struct nvp_copy_range_fmt0);
	struct nvp_req *req, *holder = NULL;
	struct nvp_sqe *sqe;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, 0, 1)))
		return rc;
	if (!ns->info.supports_copy)
		return no_cmd(qp, "Copy", "ONCS bit 8");
	rc = bad_copy_ranges(qp, ns, ranges, num_ranges, sdlba);
	if (rc)
		return rc;
	/*
	 * The entries must be DMA memory: the request's list memory, at least
	 * a page. 256 entries (8 KiB) may need a second page: then the list
	 * memory of a second request, a parent that is never posted and holds
	 * the callback, as a split command's does; PRP2 points at it.
	 */
	if (bytes <= qp->reqs[0].list.bytes) {
		req = nvp_req_get(qp);
		if (!req)
			return no_request();
	} else {
		rc = nvp_req_admit(qp, 2);
		if (rc)
			return rc;
		holder = start_parent(qp, NVP_NVM_COPY, 1, cb, arg);
		req = nvp_req_get(qp);
	}
	sqe = nvp_sq_slot(&qp->sq);
	*sqe = (struct nvp_sqe){
		.opc = NVP_NVM_COPY,
		.nsid = nvp_cpu_to_le32(ns->nsid),
		.cdw10 = nvp_cpu_to_le32((uint32_t)sdlba),
		.cdw11 = nvp_cpu_to_le32((uint32_t)(sdlba >> 32)),
		/* NR, 0's based; descriptor format 0 */
		.cdw12 = nvp_cpu_to_le32(num_ranges - 1),
	};
	if (qp->tcp) {
		/* Over TCP the entries are the command's data, as they are. */
		uint32_t first = holder ? qp->page_size / (uint32_t)sizeof(struct nvp_copy_range_fmt0) :
				 num_ranges;
		struct iovec iov[2] = {
			{ .iov_base = req->list.va,
			  .iov_len = first * sizeof(struct nvp_copy_range_fmt0) },
			{ .iov_base = holder ? holder->list.va : NULL,
			  .iov_len = (num_ranges - first) * sizeof(struct nvp_copy_range_fmt0) },
		};

		nvp_copy_ranges_encode(req->list.va, ranges, first);
		if (holder)
			nvp_copy_ranges_encode(holder->list.va, ranges + first, num_ranges - first);
		rc = nvp_tcp_map(qp, req, sqe, iov, holder ? 2 : 1);
		if (rc) {
			nvp_req_put(qp, req);
			if (holder)
				nvp_req_put(qp, holder);
			return rc;
		}
	} else if (!holder) {
		nvp_copy_ranges_encode(req->list.va, ranges, num_ranges);
		sqe->dptr.prp.prp1 = nvp_cpu_to_le64(req->list.iova);
		/* Bus-contiguous and page aligned: PRP2 is the next page. */
		if (bytes > qp->page_size)
			sqe->dptr.prp.prp2 = nvp_cpu_to_le64(req->list.iova + qp->page_size);
	} else {
		uint32_t first = qp->page_size / (uint32_t)sizeof(struct nvp_copy_range_fmt0);

		nvp_copy_ranges_encode(req->list.va, ranges, first);
		nvp_copy_ranges_encode(holder->list.va, ranges + first, num_ranges - first);
		sqe->dptr.prp.prp1 = nvp_cpu_to_le64(req->list.iova);
		sqe->dptr.prp.prp2 = nvp_cpu_to_le64(holder->list.iova);
	}
	rc = nvp_io_apply_opts(qp, ns, req, sqe, opts, sdlba, 0);
	if (rc) {
		nvp_req_put(qp, req);
		if (holder)
			nvp_req_put(qp, holder);
		return rc;
	}
	if (holder)
		post_part(qp, holder, req, sqe);
	else
		nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}

/* ---- Dataset Management --------------------------------------------------- */

#define NVP_DSM_KNOWN_ATTRS (NVP_DSM_ATTR_IDR | NVP_DSM_ATTR_IDW | NVP_DSM_ATTR_DEALLOCATE)

int nvp_dsm(struct nvp_qpair *qp, struct nvp_ns *ns, const struct nvp_dsm_range *ranges,
	    uint32_t num_ranges, uint32_t attributes, nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe *sqe;
	struct nvp_req *req;
	int rc;

	if ((rc = check_qpair(qp, cb)) || (rc = check_range(qp, ns, 0, 1)))
		return rc;
	if (!ns->info.supports_dsm)
		return nvp_error(-ENOTSUP, "controller %s does not support Dataset Management "
				 "(ONCS bit 2)", qp->ctrl->info.addr);
	if (attributes & ~NVP_DSM_KNOWN_ATTRS)
		return nvp_error(-EINVAL, "dataset management attributes 0x%x include unknown "
				 "bits 0x%x; use NVP_DSM_ATTR_IDR, _IDW and _DEALLOCATE",
				 attributes, attributes & ~NVP_DSM_KNOWN_ATTRS);
	if (!ranges)
		return nvp_error(-EINVAL, "dataset management: ranges is NULL; pass an array of "
				 "num_ranges struct nvp_dsm_range");
	if (num_ranges == 0 || num_ranges > NVP_DSM_MAX_RANGES)
		return nvp_error(-EINVAL, "dataset management takes 1..%u ranges (got %u)",
				 NVP_DSM_MAX_RANGES, num_ranges);
	for (uint32_t i = 0; i < num_ranges; i++) {
		rc = check_range(qp, ns, ranges[i].slba, ranges[i].nlb);
		if (rc)
			return rc;
	}
	req = nvp_req_get(qp);
	if (!req)
		return no_request();
	/* The range list must be DMA memory: the request's list page, on the
	 * wire (the caller's ranges are in CPU order). */
	nvp_dsm_ranges_encode(req->list.va, ranges, num_ranges);
	sqe = nvp_sq_slot(&qp->sq);
	*sqe = (struct nvp_sqe){
		.opc = NVP_NVM_DSM,
		.nsid = nvp_cpu_to_le32(ns->nsid),
		.cdw10 = nvp_cpu_to_le32(num_ranges - 1),
		.cdw11 = nvp_cpu_to_le32(attributes),
	};
	if (qp->tcp) {
		/* Over TCP the ranges are the command's data, as they are. */
		struct iovec iov = { .iov_base = req->list.va,
				     .iov_len = num_ranges * sizeof(struct nvp_dsm_range) };

		rc = nvp_tcp_map(qp, req, sqe, &iov, 1);
		if (rc) {
			nvp_req_put(qp, req);
			return rc;
		}
	} else {
		sqe->dptr.prp.prp1 = nvp_cpu_to_le64(req->list.iova);
	}
	nvp_req_post(qp, req, sqe, cb, arg);
	return 0;
}
