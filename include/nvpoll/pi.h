/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/pi.h - end-to-end protection information (PI) on the host.
 *
 * The guard CRCs, and generating and verifying the PI of a buffer of
 * blocks in the layout a namespace uses (NVM Command Set 1.0, 5.2.1 and
 * 5.3), as a controller does with PRACT and the PRCHK checks.
 *
 * A PI tuple is big-endian, in the metadata of each block: its first
 * bytes (struct nvp_ns_info.pi_first) or its last bytes. The 16-bit guard
 * tuple (8 bytes) is guard, application tag, 32-bit reference tag; the
 * 64-bit guard tuple (16 bytes) is guard, application tag, 48-bit
 * reference tag. The guard covers the block's data, and when the PI is at
 * the end of the metadata, the metadata bytes before it too, as one CRC
 * (QEMU 7.2 chains the 64-bit guard differently there; see "Metadata and
 * protection information" in docs/architecture.md).
 *
 * Included by nvpoll/nvpoll.h; may also be included alone.
 */
#ifndef NVPOLL_PI_H
#define NVPOLL_PI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll/nvpoll.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * nvp_crc16_t10dif() - the 16-bit guard: CRC-16/T10-DIF.
 * @crc: 0 to start, or the previous result to continue.
 * @buf: the bytes.
 * @len: their number.
 *
 * Polynomial 0x8BB7, not reflected, initial value 0, no final XOR.
 *
 * Return: the CRC of everything so far.
 */
NVP_API uint16_t nvp_crc16_t10dif(uint16_t crc, const void *buf, size_t len);

/**
 * nvp_crc64_nvme() - the 64-bit guard: the NVM Command Set's CRC-64.
 * @crc: 0 to start, or the previous result to continue.
 * @buf: the bytes.
 * @len: their number.
 *
 * Polynomial 0xAD93D23594C93659, reflected, initial value and final XOR
 * all ones (CRC-64/NVME). 4 KiB of zeroes give 0x6482D367EB22B64E.
 *
 * Return: the CRC of everything so far.
 */
NVP_API uint64_t nvp_crc64_nvme(uint64_t crc, const void *buf, size_t len);

/**
 * struct nvp_pi_format - how a namespace lays out its blocks and their PI.
 * @block_size: data bytes per block.
 * @md_size: metadata bytes per block.
 * @extended: metadata follows each block's data in the data buffer
 *            (extended LBAs); false: it travels in a separate buffer.
 * @pi_type: 1, 2 or 3; 0 for no PI (generate and verify refuse it).
 * @pi_first: the PI is in the first bytes of the metadata, not the last.
 * @guard_bits: 16 (8-byte tuple) or 64 (16-byte tuple).
 */
struct nvp_pi_format {
	uint32_t block_size;
	uint32_t md_size;
	bool extended;
	uint8_t pi_type;
	bool pi_first;
	uint8_t guard_bits;
};

/**
 * nvp_pi_format_from_ns() - the PI format of a namespace.
 * @fmt: out.
 * @info: from nvp_ns_get_info().
 *
 * Return: 0; -EINVAL for NULL arguments; -ENOTSUP (message says so) if the
 * namespace is not formatted with protection information.
 */
NVP_API int nvp_pi_format_from_ns(struct nvp_pi_format *fmt, const struct nvp_ns_info *info);

/**
 * struct nvp_pi_error - the first PI mismatch nvp_pi_verify() found.
 * @lba: the block's LBA (the @lba given plus its index).
 * @index: the block's index in the buffer (0-based).
 * @check: NVP_PI_CHECK_GUARD, NVP_PI_CHECK_APPTAG or NVP_PI_CHECK_REFTAG.
 * @expected: what the check computed or was told (the apptag under its
 *            mask).
 * @actual: what the PI holds (the apptag under the same mask).
 */
struct nvp_pi_error {
	uint64_t lba;
	uint32_t index;
	uint32_t check;
	uint64_t expected;
	uint64_t actual;
};

/**
 * nvp_pi_generate() - fill in the PI of @nlb blocks, as PRACT would.
 * @fmt: the layout.
 * @buf: the data; with extended LBAs @nlb * (block_size + md_size) bytes
 *       whose PI is written in place, else @nlb * block_size bytes.
 * @md: the separate metadata (@nlb * md_size bytes) whose PI is written;
 *      NULL with extended LBAs.
 * @nlb: number of blocks.
 * @apptag: the application tag of every block.
 * @reftag: the first block's reference tag (types 1 and 2 add one per
 *          block, wrapping at 32 or 48 bits; type 3 repeats it). For type
 *          1 it must be the LBA's low 32 (48) bits for a device to accept
 *          it with reference tag checks.
 *
 * Metadata bytes outside the PI are left as they are (and are covered by
 * the guard when the PI is last).
 *
 * Return: 0; -EINVAL (with a message) for a bad format or buffer.
 */
NVP_API int nvp_pi_generate(const struct nvp_pi_format *fmt, void *buf, void *md,
			    uint32_t nlb, uint16_t apptag, uint64_t reftag);

/**
 * nvp_pi_verify() - check the PI of @nlb blocks as the controller would.
 * @fmt: the layout.
 * @buf: the data (with the PI, for extended LBAs).
 * @md: the separate metadata, or NULL with extended LBAs.
 * @lba: the first block's LBA (for the report only).
 * @nlb: number of blocks.
 * @checks: NVP_PI_CHECK_* bits to apply.
 * @apptag: expected application tag, compared under @apptag_mask.
 * @apptag_mask: the bits of the application tag that are checked.
 * @reftag: the first block's expected reference tag (types 1 and 2 add one
 *          per block; type 3 compares every block with it).
 * @err: out (may be NULL): the first mismatch.
 *
 * As the spec says, a block whose application tag is FFFFh (types 1, 2),
 * or whose application tag is FFFFh and reference tag all ones (type 3),
 * is not checked.
 *
 * Return: 0 when every check passes; -EBADMSG at the first mismatch, with
 * @err filled and a message naming the LBA, the check, expected and
 * actual values; -EINVAL for a bad format or buffer.
 */
NVP_API int nvp_pi_verify(const struct nvp_pi_format *fmt, const void *buf, const void *md,
			  uint64_t lba, uint32_t nlb, uint32_t checks, uint16_t apptag,
			  uint16_t apptag_mask, uint64_t reftag, struct nvp_pi_error *err);

/**
 * nvp_pi_check_name() - "guard", "application tag" or "reference tag".
 * @check: one NVP_PI_CHECK_* bit.
 *
 * Return: a static string; "unknown check" for anything else.
 */
NVP_API const char *nvp_pi_check_name(uint32_t check);

#ifdef __cplusplus
}
#endif

#endif /* NVPOLL_PI_H */
