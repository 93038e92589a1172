/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io_opts.c - struct nvp_io_opts into command fields: metadata
 * pointer, PRINFO, reference and application tags (see io_opts.h). Every
 * error says what to change; nothing here touches the ring beyond the
 * SQE the caller handed in.
 */
#include <errno.h>
#include <string.h>

#include "mem/mem.h"
#include "nvme/io_opts.h"
#include "util/log.h"

int nvp_io_opts_normalise(struct nvp_io_opts *out, const struct nvp_io_opts *opts)
{
	memset(out, 0, sizeof(*out));
	out->opts_size = sizeof(*out);
	if (!opts)
		return 0;
	if (opts->opts_size < sizeof(opts->opts_size))
		return nvp_error(-EINVAL, "struct nvp_io_opts has opts_size %zu; initialise it "
				 "with nvp_io_opts_init(&opts, sizeof(opts))", opts->opts_size);
	/* An older caller's struct is shorter: the rest stays zero (default). */
	memcpy(out, opts, opts->opts_size < sizeof(*out) ? opts->opts_size : sizeof(*out));
	out->opts_size = sizeof(*out);
	return 0;
}

static int __attribute__((cold)) bad_pi(struct nvp_ns *ns, const struct nvp_io_opts *opts)
{
	if (opts->pi & ~NVP_PI_KNOWN)
		return nvp_error(-EINVAL, "PI bits 0x%x include bits this library does not know "
				 "(0x%x); use NVP_PI_* only", opts->pi, opts->pi & ~NVP_PI_KNOWN);
	return nvp_error(-EINVAL, "PI bits 0x%x given for namespace %u, which is not formatted "
			 "with protection information; pass pi = 0", opts->pi, ns->nsid);
}

static int __attribute__((cold)) bad_md(struct nvp_ns *ns, const struct nvp_io_opts *opts,
					bool moves)
{
	const struct nvp_ns_info *info = &ns->info;

	if (opts->md && !info->md_size)
		return nvp_error(-EINVAL, "a metadata buffer was given for namespace %u, which "
				 "has no metadata; pass md = NULL", ns->nsid);
	if (opts->md && info->md_extended)
		return nvp_error(-EINVAL, "namespace %u has extended LBAs: its %u bytes of "
				 "metadata per block are in the data buffer (block_size + "
				 "md_size per block); pass md = NULL", ns->nsid, info->md_size);
	if (opts->md && !moves)
		return nvp_error(-EINVAL, "with NVP_PI_PRACT and metadata that is only the %u-byte "
				 "PI, namespace %u moves no metadata (the controller inserts and "
				 "strips it); pass md = NULL", info->pi_size, ns->nsid);
	return nvp_error(-EINVAL, "namespace %u keeps %u bytes of metadata per block in a "
			 "separate buffer: pass it as opts.md (nlb * %u bytes of DMA memory)%s",
			 ns->nsid, info->md_size, info->md_size, info->pi_type &&
			 info->md_size == info->pi_size ? ", or set NVP_PI_PRACT to have the "
			 "controller insert and strip the PI" : "");
}

static int __attribute__((cold)) bad_reftag(struct nvp_ns *ns, const struct nvp_io_opts *opts)
{
	return nvp_error(-EINVAL, "reference tag 0x%llx does not fit the %u bits of namespace "
			 "%u's PI (%u-bit guard)", (unsigned long long)opts->reftag,
			 ns->info.pi_guard_bits == 64 ? 48 : 32, ns->nsid,
			 ns->info.pi_guard_bits);
}

/* MPTR: one bus-contiguous, dword-aligned run of @len bytes. */
static int map_md(struct nvp_ns *ns, struct nvp_sqe *sqe, const void *md, uint64_t len,
		  uint64_t lba)
{
	uint64_t iova;
	size_t contig;

	if (nvp_mem_lookup(md, &iova, &contig) || !contig)
		return nvp_error(-EFAULT, "metadata buffer %p is not DMA memory; allocate it "
				 "with nvp_dma_alloc() or register it with nvp_mem_register()", md);
	if (iova & 3)
		return nvp_error(-EINVAL, "metadata buffer %p (IOVA 0x%llx) is not 4-byte "
				 "aligned, as the metadata pointer must be", md,
				 (unsigned long long)iova);
	if (contig < len)
		return nvp_error(-EINVAL, "metadata for LBAs %llu..%llu of namespace %u (%llu "
				 "bytes at %p) is not contiguous in bus addresses (%zu bytes "
				 "are); use one nvp_dma_alloc() buffer", (unsigned long long)lba,
				 (unsigned long long)lba + len / ns->info.md_size - 1, ns->nsid,
				 (unsigned long long)len, md, contig);
	sqe->mptr = nvp_cpu_to_le64(iova);
	return 0;
}

int nvp_io_apply_opts(struct nvp_qpair *qp, struct nvp_ns *ns, struct nvp_req *req,
		      struct nvp_sqe *sqe, const struct nvp_io_opts *user_opts, uint64_t lba,
		      uint32_t nlb)
{
	const struct nvp_ns_info *info = &ns->info;
	struct nvp_io_opts norm;
	const struct nvp_io_opts *opts = &norm;
	uint32_t prinfo = 0;
	bool moves;
	int rc;

	(void)qp;
	(void)req;
	/* NULL, a short (older) or a larger (newer) struct: ours, zero-filled. */
	rc = nvp_io_opts_normalise(&norm, user_opts);
	if (rc)
		return rc;
	if (opts->flags & ~NVP_IO_OPTS_FLAGS)
		return nvp_error(-EINVAL, "I/O flags 0x%x include bits this library does not "
				 "know (0x%x); use NVP_IO_* flags only, or a newer nvpoll",
				 opts->flags, opts->flags & ~NVP_IO_OPTS_FLAGS);
	/* The flags too, for callers whose command builder does not set them. */
	if (opts->flags & NVP_IO_FUA)
		prinfo |= NVP_RW_FUA;
	if (opts->flags & NVP_IO_LIMITED_RETRY)
		prinfo |= NVP_RW_LR;
	moves = nvp_io_md_moves(ns, opts);
	if ((opts->pi & ~NVP_PI_KNOWN) || (opts->pi && !info->pi_type))
		return bad_pi(ns, opts);
	if (moves && !info->md_extended ? !opts->md : opts->md != NULL)
		return bad_md(ns, opts, moves);
	if (opts->md) {
		rc = map_md(ns, sqe, opts->md, (uint64_t)nlb * info->md_size, lba);
		if (rc)
			return rc;
	}
	if (!info->pi_type) {
		sqe->cdw12 |= nvp_cpu_to_le32(prinfo);
		return 0;
	}
	if (opts->reftag >> (info->pi_guard_bits == 64 ? 48 : 32))
		return bad_reftag(ns, opts);
	/* Type 3 defines no reference tag; controllers refuse the check. */
	if (info->pi_type == 3 && (opts->pi & NVP_PI_CHECK_REFTAG))
		return nvp_error(-EINVAL, "namespace %u has type 3 protection, whose reference "
				 "tag is not checked; drop NVP_PI_CHECK_REFTAG", ns->nsid);
	if (opts->pi & NVP_PI_PRACT)
		prinfo |= NVP_RW_PRACT;
	if (opts->pi & NVP_PI_CHECK_GUARD)
		prinfo |= NVP_RW_PRCHK_GUARD;
	if (opts->pi & NVP_PI_CHECK_APPTAG)
		prinfo |= NVP_RW_PRCHK_APPTAG;
	if (opts->pi & NVP_PI_CHECK_REFTAG)
		prinfo |= NVP_RW_PRCHK_REFTAG;
	sqe->cdw12 |= nvp_cpu_to_le32(prinfo);
	/* ILBRT: bits 31:0 in CDW14; the 48-bit tag's 47:32 in CDW3 15:0. */
	sqe->cdw14 = nvp_cpu_to_le32((uint32_t)opts->reftag);
	sqe->cdw3 = nvp_cpu_to_le32((uint32_t)(opts->reftag >> 32));
	sqe->cdw15 = nvp_cpu_to_le32(NVP_RW_CDW15(opts->apptag, opts->apptag_mask));
	return 0;
}
