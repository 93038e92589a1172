/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_io_cmds.c - the range lists of Copy (Source Range
 * Entries, descriptor format 0) and Dataset Management as a controller
 * reads them: each field at its byte offset from the NVM Command Set
 * specification, on the wire's byte order, reserved bytes zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

#include "nvme/io_cmds.h"

/* A field of @width bytes at byte @off of @p, as a controller reads it. */
static uint64_t wire_field(const void *p, size_t off, unsigned int width)
{
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (width) {
	case 2:
		memcpy(&v16, (const uint8_t *)p + off, 2);
		return nvp_le16_to_cpu(v16);
	case 4:
		memcpy(&v32, (const uint8_t *)p + off, 4);
		return nvp_le32_to_cpu(v32);
	default:
		memcpy(&v64, (const uint8_t *)p + off, 8);
		return nvp_le64_to_cpu(v64);
	}
}

struct copy_case {
	uint64_t slba;
	uint32_t nlb;		/* as the caller gives it */
	uint16_t wire_nlb;	/* bytes 17:16, 0's based */
};

static const struct copy_case copy_cases[] = {
	{ 0, 1, 0x0000 },			/* the smallest: NLB 0 */
	{ 1, 2, 0x0001 },
	{ 0x0123456789abcdefull, 128, 0x007f },	/* QEMU's default MSSRL */
	{ 4096, 65535, 0xfffe },
	{ 0xfffffffffffffffeull, 65536, 0xffff },	/* the widest NLB */
	{ 0x00000000ffffffffull, 3, 0x0002 },	/* SLBA across the dword */
};

#define NCOPY (sizeof(copy_cases) / sizeof(copy_cases[0]))

static void test_copy_ranges(void **state)
{
	struct nvp_copy_range in[NCOPY];
	uint8_t out[NCOPY][32];

	(void)state;
	for (size_t i = 0; i < NCOPY; i++)
		in[i] = (struct nvp_copy_range){ copy_cases[i].slba, copy_cases[i].nlb };
	memset(out, 0xa5, sizeof(out));	/* stale list memory */
	nvp_copy_ranges_encode((struct nvp_copy_range_fmt0 *)out, in, NCOPY);
	for (size_t i = 0; i < NCOPY; i++) {
		/* Bytes 07:00 reserved, 15:08 SLBA, 17:16 NLB, 23:18 reserved,
		 * 27:24 EILBRT, 29:28 ELBAT, 31:30 ELBATM (no PI here: zero). */
		for (size_t b = 0; b < 8; b++)
			assert_int_equal(out[i][b], 0);
		assert_int_equal(wire_field(out[i], 8, 8), copy_cases[i].slba);
		assert_int_equal(wire_field(out[i], 16, 2), copy_cases[i].wire_nlb);
		for (size_t b = 18; b < 32; b++)
			assert_int_equal(out[i][b], 0);
	}
}

/* Only the entries asked for are written: the list page may hold more. */
static void test_copy_ranges_count(void **state)
{
	struct nvp_copy_range in[2] = { { 7, 1 }, { 9, 2 } };
	uint8_t out[3][32];

	(void)state;
	memset(out, 0xa5, sizeof(out));
	nvp_copy_ranges_encode((struct nvp_copy_range_fmt0 *)out, in, 2);
	assert_int_equal(wire_field(out[1], 8, 8), 9);
	for (size_t b = 0; b < 32; b++)
		assert_int_equal(out[2][b], 0xa5);
	nvp_copy_ranges_encode((struct nvp_copy_range_fmt0 *)out, in, 0);
	assert_int_equal(wire_field(out[0], 8, 8), 7);
}

struct dsm_case {
	uint32_t cattr;
	uint32_t nlb;		/* not 0's based on the wire either */
	uint64_t slba;
};

static const struct dsm_case dsm_cases[] = {
	{ 0, 1, 0 },
	{ 0x0000000f, 8, 100 },		/* access frequency, latency, ... */
	{ 0xff000000u, 0xffffffffu, 0x8000000000000001ull },	/* command access size */
	{ 0x00000400, 65536, 0xffffffffull },
};

#define NDSM (sizeof(dsm_cases) / sizeof(dsm_cases[0]))

static void test_dsm_ranges(void **state)
{
	struct nvp_dsm_range in[NDSM];
	uint8_t out[NDSM][16];

	(void)state;
	for (size_t i = 0; i < NDSM; i++)
		in[i] = (struct nvp_dsm_range){ dsm_cases[i].cattr, dsm_cases[i].nlb,
						dsm_cases[i].slba };
	memset(out, 0x5a, sizeof(out));
	nvp_dsm_ranges_encode((struct nvp_dsm_range *)out, in, NDSM);
	for (size_t i = 0; i < NDSM; i++) {
		/* Bytes 03:00 context attributes, 07:04 NLB, 15:08 SLBA. */
		assert_int_equal(wire_field(out[i], 0, 4), dsm_cases[i].cattr);
		assert_int_equal(wire_field(out[i], 4, 4), dsm_cases[i].nlb);
		assert_int_equal(wire_field(out[i], 8, 8), dsm_cases[i].slba);
	}
}

/* The layout constants the encoders and the emulated controller share. */
static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct nvp_copy_range_fmt0), 32);
	assert_int_equal(NVP_COPY_MAX_RANGES, 256);
	assert_int_equal(NVP_DSM_MAX_RANGES, 256);
	assert_int_equal(NVP_SQE_FUSE_FIRST, 1);
	assert_int_equal(NVP_SQE_FUSE_SECOND, 2);
	assert_int_equal(NVP_DSM_ATTR_IDR | NVP_DSM_ATTR_IDW | NVP_DSM_ATTR_DEALLOCATE, 7);
	assert_int_equal(NVP_STATUS(NVP_SCT_CMD_SPECIFIC, NVP_SC_CMD_SIZE_LIMIT) >> 1, 0x183);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_ranges),
		cmocka_unit_test(test_copy_ranges_count),
		cmocka_unit_test(test_dsm_ranges),
		cmocka_unit_test(test_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
