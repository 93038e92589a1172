/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/io_cmds.h - the range list encoders of io_cmds.c (Copy and
 * Dataset Management), exposed for the unit tests.
 */
#ifndef NVP_LIB_NVME_IO_CMDS_H
#define NVP_LIB_NVME_IO_CMDS_H

#include <stdint.h>

#include <nvpoll/nvpoll.h>

/**
 * nvp_copy_ranges_encode() - Copy Source Range Entries, descriptor format 0.
 * @out: @n entries, on the wire (little-endian, NLB 0's based, reserved
 *       bytes and tags zero).
 * @in: the caller's ranges, CPU order, NLB not 0's based (1..65536).
 * @n: number of ranges.
 */
void nvp_copy_ranges_encode(struct nvp_copy_range_fmt0 *out, const struct nvp_copy_range *in,
			    uint32_t n);

/**
 * nvp_dsm_ranges_encode() - Dataset Management ranges on the wire.
 * @out: @n ranges, little-endian. @in: the caller's, CPU order. @n: count.
 */
void nvp_dsm_ranges_encode(struct nvp_dsm_range *out, const struct nvp_dsm_range *in,
			   uint32_t n);

#endif /* NVP_LIB_NVME_IO_CMDS_H */
