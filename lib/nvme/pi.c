/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/pi.c - end-to-end protection information on the host: the two
 * guard CRCs (table driven, eight bytes per step) and generating and
 * verifying the PI of a buffer of blocks in either metadata layout.
 *
 * The PI tuple is big-endian on the medium and the wire, whatever the
 * CPU: its fields are packed byte by byte (pi_put(), pi_get()).
 */
#include <errno.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "util/log.h"

#define CRC16_T10DIF_POLY	0x8bb7u
/* 0xAD93D23594C93659 bit-reversed: the table is for the reflected form. */
#define CRC64_NVME_POLY_REFLECTED 0x9a6c9329ac4bc9b5ull

/*
 * Slice-by-8 tables: [k][b] is byte b's contribution followed by k zero
 * bytes, so eight input bytes fold into the CRC with eight lookups.
 */
static uint16_t crc16_table[8][256];
static uint64_t crc64_table[8][256];

__attribute__((constructor)) static void pi_tables_init(void)
{
	for (unsigned int b = 0; b < 256; b++) {
		uint16_t c16 = (uint16_t)(b << 8);
		uint64_t c64 = b;

		for (int i = 0; i < 8; i++) {
			c16 = (uint16_t)((c16 << 1) ^ ((c16 & 0x8000) ? CRC16_T10DIF_POLY : 0));
			c64 = (c64 >> 1) ^ ((c64 & 1) ? CRC64_NVME_POLY_REFLECTED : 0);
		}
		crc16_table[0][b] = c16;
		crc64_table[0][b] = c64;
	}
	for (unsigned int k = 1; k < 8; k++) {
		for (unsigned int b = 0; b < 256; b++) {
			uint16_t p16 = crc16_table[k - 1][b];
			uint64_t p64 = crc64_table[k - 1][b];

			crc16_table[k][b] = (uint16_t)((p16 << 8) ^ crc16_table[0][p16 >> 8]);
			crc64_table[k][b] = (p64 >> 8) ^ crc64_table[0][p64 & 0xff];
		}
	}
}

uint16_t nvp_crc16_t10dif(uint16_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Not reflected: the CRC's high byte meets the next input byte. */
	for (; len >= 8; len -= 8, p += 8) {
		crc = (uint16_t)(crc16_table[7][p[0] ^ (crc >> 8)] ^
				 crc16_table[6][p[1] ^ (crc & 0xff)] ^
				 crc16_table[5][p[2]] ^ crc16_table[4][p[3]] ^
				 crc16_table[3][p[4]] ^ crc16_table[2][p[5]] ^
				 crc16_table[1][p[6]] ^ crc16_table[0][p[7]]);
	}
	for (; len; len--, p++)
		crc = (uint16_t)((crc << 8) ^ crc16_table[0][(crc >> 8) ^ *p]);
	return crc;
}

uint64_t nvp_crc64_nvme(uint64_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Initial value and final XOR all ones: continuing undoes the XOR. */
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		/* Reflected: the CRC's low byte meets the first input byte. */
		uint64_t x = crc ^ ((uint64_t)p[0] | (uint64_t)p[1] << 8 |
				    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
				    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
				    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);

		crc = crc64_table[7][x & 0xff] ^ crc64_table[6][(x >> 8) & 0xff] ^
		      crc64_table[5][(x >> 16) & 0xff] ^ crc64_table[4][(x >> 24) & 0xff] ^
		      crc64_table[3][(x >> 32) & 0xff] ^ crc64_table[2][(x >> 40) & 0xff] ^
		      crc64_table[1][(x >> 48) & 0xff] ^ crc64_table[0][x >> 56];
	}
	for (; len; len--, p++)
		crc = crc64_table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- the PI tuple ---------------------------------------------------------- */

/*
 * Big-endian, byte by byte: the same bytes on any CPU, so no swap helper
 * applies (NVP_WIRE_SWAP flips little-endian fields only).
 */
static void pi_put(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = bytes; i--; v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t pi_get(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* Field widths of the two tuples: guard, application tag, reference tag. */
struct pi_layout {
	unsigned int guard, reftag, size;
	uint64_t reftag_mask;
};

static struct pi_layout layout_of(const struct nvp_pi_format *fmt)
{
	if (fmt->guard_bits == 64)
		return (struct pi_layout){ 8, 6, 16, (1ull << 48) - 1 };
	return (struct pi_layout){ 2, 4, 8, 0xffffffffull };
}

static int check_format(const struct nvp_pi_format *fmt, const void *buf, const void *md,
			uint32_t nlb)
{
	unsigned int size;

	if (!fmt || !buf)
		return nvp_error(-EINVAL, "PI: format and data buffer must not be NULL");
	if (fmt->pi_type < 1 || fmt->pi_type > 3)
		return nvp_error(-EINVAL, "PI: type %u is not 1, 2 or 3; use "
				 "nvp_pi_format_from_ns() on a namespace formatted with PI",
				 fmt->pi_type);
	if (fmt->guard_bits != 16 && fmt->guard_bits != 64)
		return nvp_error(-EINVAL, "PI: a guard of %u bits; the NVM command set has "
				 "16- and 64-bit guards", fmt->guard_bits);
	size = fmt->guard_bits == 64 ? 16 : 8;
	if (fmt->md_size < size || !fmt->block_size)
		return nvp_error(-EINVAL, "PI: %u bytes of metadata cannot hold a %u-byte PI "
				 "tuple (block size %u)", fmt->md_size, size, fmt->block_size);
	if (fmt->extended == (md != NULL))
		return nvp_error(-EINVAL, "PI: %s", fmt->extended ?
				 "with extended LBAs the metadata is in the data buffer; pass "
				 "md = NULL" : "the metadata travels separately; pass its buffer "
				 "as md");
	if (!nlb)
		return nvp_error(-EINVAL, "PI: zero blocks");
	return 0;
}

/* Where block @i's data and metadata are. */
static void block_at(const struct nvp_pi_format *fmt, const uint8_t *buf, const uint8_t *md,
		     uint32_t i, const uint8_t **data, const uint8_t **meta)
{
	if (fmt->extended) {
		*data = buf + (size_t)i * (fmt->block_size + fmt->md_size);
		*meta = *data + fmt->block_size;
	} else {
		*data = buf + (size_t)i * fmt->block_size;
		*meta = md + (size_t)i * fmt->md_size;
	}
}

/* The guard covers the data and, with the PI last, the metadata before it. */
static uint64_t guard_of(const struct nvp_pi_format *fmt, const uint8_t *data,
			 const uint8_t *meta, uint32_t pi_off)
{
	if (fmt->guard_bits == 64) {
		uint64_t crc = nvp_crc64_nvme(0, data, fmt->block_size);

		return pi_off ? nvp_crc64_nvme(crc, meta, pi_off) : crc;
	}
	{
		uint16_t crc = nvp_crc16_t10dif(0, data, fmt->block_size);

		return pi_off ? nvp_crc16_t10dif(crc, meta, pi_off) : crc;
	}
}

int nvp_pi_generate(const struct nvp_pi_format *fmt, void *buf, void *md, uint32_t nlb,
		    uint16_t apptag, uint64_t reftag)
{
	struct pi_layout l;
	uint32_t pi_off;
	int rc = check_format(fmt, buf, md, nlb);

	if (rc)
		return rc;
	l = layout_of(fmt);
	pi_off = fmt->pi_first ? 0 : fmt->md_size - l.size;
	for (uint32_t i = 0; i < nlb; i++) {
		const uint8_t *data, *meta;
		uint8_t *pi;

		block_at(fmt, buf, md, i, &data, &meta);
		pi = (uint8_t *)meta + pi_off;
		pi_put(pi, guard_of(fmt, data, meta, pi_off), l.guard);
		pi_put(pi + l.guard, apptag, 2);
		pi_put(pi + l.guard + 2, reftag & l.reftag_mask, l.reftag);
		if (fmt->pi_type != 3)
			reftag = (reftag + 1) & l.reftag_mask;
	}
	return 0;
}

const char *nvp_pi_check_name(uint32_t check)
{
	switch (check) {
	case NVP_PI_CHECK_GUARD:
		return "guard";
	case NVP_PI_CHECK_APPTAG:
		return "application tag";
	case NVP_PI_CHECK_REFTAG:
		return "reference tag";
	}
	return "unknown check";
}

static int __attribute__((cold)) mismatch(struct nvp_pi_error *err, uint64_t lba, uint32_t i,
					  uint32_t check, uint64_t expected, uint64_t actual)
{
	if (err)
		*err = (struct nvp_pi_error){ .lba = lba + i, .index = i, .check = check,
					      .expected = expected, .actual = actual };
	return nvp_error(-EBADMSG, "PI %s check failed at LBA %llu (block %u of the "
			 "buffer): expected 0x%llx, found 0x%llx; the data or its PI was "
			 "changed after it was generated", nvp_pi_check_name(check),
			 (unsigned long long)(lba + i), i, (unsigned long long)expected,
			 (unsigned long long)actual);
}

int nvp_pi_verify(const struct nvp_pi_format *fmt, const void *buf, const void *md,
		  uint64_t lba, uint32_t nlb, uint32_t checks, uint16_t apptag,
		  uint16_t apptag_mask, uint64_t reftag, struct nvp_pi_error *err)
{
	struct pi_layout l;
	uint32_t pi_off;
	int rc = check_format(fmt, buf, md, nlb);

	if (rc)
		return rc;
	l = layout_of(fmt);
	pi_off = fmt->pi_first ? 0 : fmt->md_size - l.size;
	reftag &= l.reftag_mask;
	for (uint32_t i = 0; i < nlb; i++) {
		const uint8_t *data, *meta, *pi;
		uint64_t got_ref;
		uint16_t got_app;

		block_at(fmt, buf, md, i, &data, &meta);
		pi = meta + pi_off;
		got_app = (uint16_t)pi_get(pi + l.guard, 2);
		got_ref = pi_get(pi + l.guard + 2, l.reftag);
		/* The escapes: such a block is not checked at all. */
		if (got_app == 0xffff && (fmt->pi_type != 3 || got_ref == l.reftag_mask))
			goto next;
		if (checks & NVP_PI_CHECK_GUARD) {
			uint64_t want = guard_of(fmt, data, meta, pi_off);
			uint64_t got = pi_get(pi, l.guard);

			if (want != got)
				return mismatch(err, lba, i, NVP_PI_CHECK_GUARD, want, got);
		}
		if ((checks & NVP_PI_CHECK_APPTAG) &&
		    (got_app & apptag_mask) != (apptag & apptag_mask))
			return mismatch(err, lba, i, NVP_PI_CHECK_APPTAG, apptag & apptag_mask,
					got_app & apptag_mask);
		if ((checks & NVP_PI_CHECK_REFTAG) && got_ref != reftag)
			return mismatch(err, lba, i, NVP_PI_CHECK_REFTAG, reftag, got_ref);
next:
		if (fmt->pi_type != 3)
			reftag = (reftag + 1) & l.reftag_mask;
	}
	return 0;
}

int nvp_pi_format_from_ns(struct nvp_pi_format *fmt, const struct nvp_ns_info *info)
{
	if (!fmt || !info)
		return nvp_error(-EINVAL, "nvp_pi_format_from_ns: NULL argument");
	if (!info->pi_type)
		return nvp_error(-ENOTSUP, "namespace %u is not formatted with protection "
				 "information (%u bytes of metadata, no PI type)", info->nsid,
				 info->md_size);
	*fmt = (struct nvp_pi_format){
		.block_size = info->block_size,
		.md_size = info->md_size,
		.extended = info->md_extended,
		.pi_type = info->pi_type,
		.pi_first = info->pi_first,
		.guard_bits = info->pi_guard_bits,
	};
	return 0;
}
