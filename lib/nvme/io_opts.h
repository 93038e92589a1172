/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io_opts.h - the per-command options of the *_ext I/O calls
 * (struct nvp_io_opts) turned into command fields: the metadata pointer,
 * PRINFO (PRACT and the PRCHK checks, CDW12 bits 29:26), the initial
 * reference tag (CDW14, and CDW3 bits 15:0 for the 64-bit guard's 48-bit
 * tag, where QEMU 7.2 reads them) and the application tag and mask
 * (CDW15). One function for every command that takes them, so reads,
 * writes, Compare and Verify encode them alike.
 *
 * Not on the path of nvp_read()/nvp_write(): only the *_ext calls, and
 * only for namespaces or options that need it, come here.
 */
#ifndef NVP_LIB_NVME_IO_OPTS_H
#define NVP_LIB_NVME_IO_OPTS_H

#include <stdint.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

#include "nvme/nvme.h"

/* Every NVP_IO_* flag the options may carry (as io.c's NVP_IO_KNOWN_FLAGS). */
#define NVP_IO_OPTS_FLAGS (NVP_IO_FUA | NVP_IO_LIMITED_RETRY)

/* Every NVP_PI_* bit this library knows; others are refused. */
#define NVP_PI_KNOWN (NVP_PI_PRACT | NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG | \
		      NVP_PI_CHECK_REFTAG)

/**
 * nvp_io_md_moves() - whether a command with @opts moves metadata at all.
 * @ns: the namespace. @opts: the options (normalised, not NULL).
 *
 * No metadata, nothing moves. With PRACT and metadata that is exactly the
 * PI, the controller inserts it on writes and strips it on reads: none is
 * transferred, and plain data buffers do.
 */
static inline bool nvp_io_md_moves(const struct nvp_ns *ns, const struct nvp_io_opts *opts)
{
	return ns->info.md_size &&
	       !((opts->pi & NVP_PI_PRACT) && ns->info.md_size == ns->info.pi_size);
}

/**
 * nvp_io_xfer_block() - bytes one block takes in the data buffer of a
 * command with @opts: the block, plus its metadata with extended LBAs
 * when metadata moves.
 * @ns: the namespace. @opts: the options (normalised, not NULL).
 */
static inline uint32_t nvp_io_xfer_block(const struct nvp_ns *ns,
					 const struct nvp_io_opts *opts)
{
	return ns->info.block_size +
	       (ns->info.md_extended && nvp_io_md_moves(ns, opts) ? ns->info.md_size : 0);
}

/**
 * nvp_io_apply_opts() - encode @opts into a command that @sqe holds.
 * @qp: the queue pair (for the metadata buffer's translation).
 * @ns: the namespace.
 * @req: the command's request (its list memory; unused for now: the
 *       metadata buffer must be one bus-contiguous run).
 * @sqe: the command, opcode, NSID, LBA and NLB already built; the flags
 *       (FUA, LR) and PRINFO are ORed into CDW12, CDW3/14/15 and MPTR are
 *       written (little-endian).
 * @opts: the caller's options: NULL for the defaults, or a struct of any
 *        opts_size (0 refused) whose missing fields read as zero;
 *        @opts->md for this command's blocks, @opts->reftag for its first.
 * @lba: the command's first block (for messages).
 * @nlb: its block count (0..NVP_MAX_NLB): the metadata length.
 *
 * Checks what the namespace allows: known flags, PI bits only with PI (and known
 * ones), no reference tag check with type 3, a reference tag within 32
 * bits (16-bit guard) or 48 bits (64-bit guard), a metadata buffer exactly when metadata travels separately, and
 * that buffer as DMA memory, dword aligned and bus-contiguous.
 *
 * Return: 0; -EINVAL or -EFAULT with a message saying what to change (the
 * command is then to be given back, nothing was posted).
 */
int nvp_io_apply_opts(struct nvp_qpair *qp, struct nvp_ns *ns, struct nvp_req *req,
		      struct nvp_sqe *sqe, const struct nvp_io_opts *opts, uint64_t lba,
		      uint32_t nlb);

/**
 * nvp_io_opts_normalise() - the caller's options as this library's struct.
 * @out: filled: the fields the caller's @opts_size covers, zeroes after.
 * @opts: the caller's options, or NULL for the defaults.
 *
 * Return: 0, or -EINVAL for an options struct with @opts_size 0 (never
 * initialised with nvp_io_opts_init()).
 */
int nvp_io_opts_normalise(struct nvp_io_opts *out, const struct nvp_io_opts *opts);

#endif /* NVP_LIB_NVME_IO_OPTS_H */
