/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io_opts.h - applying struct nvp_io_opts to one command.
 *
 * The minimal version, for the commands of io_cmds.c: the flags only. The
 * metadata and protection information encoding (MPTR, PRINFO, the tags)
 * belongs to the metadata work of issue 13, whose nvp_io_apply_opts() of
 * the same signature replaces this one.
 */
#ifndef NVP_LIB_NVME_IO_OPTS_H
#define NVP_LIB_NVME_IO_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme/nvme.h"
#include "util/log.h"
#include "util/wire.h"

/* The part of the caller's struct that it actually has (older callers pass
 * a smaller one): a field past its opts_size reads as zero. */
#define NVP_IO_OPTS_HAS(o, field) \
	((o)->opts_size >= offsetof(struct nvp_io_opts, field) + sizeof((o)->field))

/**
 * nvp_io_apply_opts() - put @opts into @sqe, a command on @lba..@lba+@nlb-1.
 * @qp: queue pair. @ns: namespace. @req: the command's request.
 * @sqe: the command in the ring (little-endian); CDW12 already holds the
 *       block count.
 * @opts: the caller's options, or NULL (defaults).
 * @lba/@nlb: the blocks of this command (one part of a split one).
 *
 * Return: 0, -EINVAL for unknown flags or a bad @opts_size, -ENOTSUP when
 * metadata or PI options are set (not wired for these commands yet).
 */
static inline int nvp_io_apply_opts(struct nvp_qpair *qp, struct nvp_ns *ns,
				    struct nvp_req *req, struct nvp_sqe *sqe,
				    const struct nvp_io_opts *opts, uint64_t lba, uint32_t nlb)
{
	uint32_t flags, cdw12 = 0;

	(void)qp;
	(void)req;
	(void)lba;
	(void)nlb;
	if (!opts)
		return 0;
	if (opts->opts_size < sizeof(opts->opts_size))
		return nvp_error(-EINVAL, "struct nvp_io_opts has opts_size %zu; initialise it "
				 "with nvp_io_opts_init(&opts, sizeof(opts))", opts->opts_size);
	flags = NVP_IO_OPTS_HAS(opts, flags) ? opts->flags : 0;
	if ((NVP_IO_OPTS_HAS(opts, pi) && opts->pi) || (NVP_IO_OPTS_HAS(opts, md) && opts->md))
		return nvp_error(-ENOTSUP, "namespace %u formatted with metadata: not yet wired "
				 "for this command; leave nvp_io_opts.pi and .md unset", ns->nsid);
	if (flags & ~(uint32_t)(NVP_IO_FUA | NVP_IO_LIMITED_RETRY))
		return nvp_error(-EINVAL, "I/O flags 0x%x include bits this library does not "
				 "know (0x%x); use NVP_IO_* flags only, or a newer nvpoll", flags,
				 flags & ~(uint32_t)(NVP_IO_FUA | NVP_IO_LIMITED_RETRY));
	if (flags & NVP_IO_FUA)
		cdw12 |= NVP_RW_FUA;
	if (flags & NVP_IO_LIMITED_RETRY)
		cdw12 |= NVP_RW_LR;
	sqe->cdw12 |= nvp_cpu_to_le32(cdw12);
	return 0;
}

#endif /* NVP_LIB_NVME_IO_OPTS_H */
