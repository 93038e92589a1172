/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_pi.c - the host PI helpers (include/nvpoll/pi.h): the two
 * guard CRCs against the NVM Command Set's test patterns and a bitwise
 * reference, and nvp_pi_generate()/nvp_pi_verify() over a table of formats
 * (types 1-3, first/last, 16/64-bit guard, both layouts), each check
 * caught on a corrupted block, the escapes, and reference tag wraparound
 * at 32 and 48 bits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/pi.h>

/* ---- CRCs ----------------------------------------------------------------- */

enum pattern { ZEROES, ONES, INCREMENTING, DECREMENTING };

static void fill(uint8_t *buf, size_t len, enum pattern p)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = p == ZEROES ? 0 : p == ONES ? 0xff :
			 p == INCREMENTING ? (uint8_t)i : (uint8_t)(0xff - (i & 0xff));
}

/* NVM Command Set 1.0, 5.2.1.3.4 (16b CRC) and 5.2.1.3.5 (64b CRC) test cases. */
static const struct {
	enum pattern p;
	size_t len;
	uint16_t crc16;
	uint64_t crc64;
	bool has16, has64;
} spec_vectors[] = {
	{ ZEROES, 32, 0x0000, 0, true, false },
	{ ONES, 32, 0xa293, 0, true, false },
	{ INCREMENTING, 32, 0x0224, 0, true, false },
	{ ZEROES, 4096, 0, 0x6482d367eb22b64eull, false, true },
	{ ONES, 4096, 0, 0xc0ddba7302eca3acull, false, true },
	{ INCREMENTING, 4096, 0, 0x3e729f5f6750449cull, false, true },
	{ DECREMENTING, 4096, 0, 0x9a2df64b8e9e517eull, false, true },
};

static void test_crc_spec_vectors(void **state)
{
	static uint8_t buf[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(spec_vectors) / sizeof(spec_vectors[0]); i++) {
		fill(buf, spec_vectors[i].len, spec_vectors[i].p);
		if (spec_vectors[i].has16)
			assert_int_equal(nvp_crc16_t10dif(0, buf, spec_vectors[i].len),
					 spec_vectors[i].crc16);
		if (spec_vectors[i].has64)
			assert_true(nvp_crc64_nvme(0, buf, spec_vectors[i].len) ==
				    spec_vectors[i].crc64);
	}
	/* The catalogue's check values ("123456789"). */
	assert_int_equal(nvp_crc16_t10dif(0, "123456789", 9), 0xd0db);
	assert_true(nvp_crc64_nvme(0, "123456789", 9) == 0xae8b14860a799888ull);
	/* Nothing in, nothing changes. */
	assert_int_equal(nvp_crc16_t10dif(0x1234, buf, 0), 0x1234);
	assert_true(nvp_crc64_nvme(0x1234, buf, 0) == 0x1234);
}

static uint16_t ref16(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;

	while (len--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (int i = 0; i < 8; i++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1);
	}
	return crc;
}

static uint64_t ref64(const uint8_t *p, size_t len)
{
	uint64_t crc = ~0ull;

	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = crc & 1 ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
	}
	return ~crc;
}

/* Every length and alignment the 8-byte steps can meet, and continuation. */
static void test_crc_against_reference(void **state)
{
	uint8_t buf[200];

	(void)state;
	srand(13);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= sizeof(buf); len++) {
			size_t cut = len / 3;

			assert_int_equal(nvp_crc16_t10dif(0, buf + off, len), ref16(buf + off, len));
			assert_true(nvp_crc64_nvme(0, buf + off, len) == ref64(buf + off, len));
			assert_int_equal(nvp_crc16_t10dif(nvp_crc16_t10dif(0, buf + off, cut),
							  buf + off + cut, len - cut),
					 ref16(buf + off, len));
			assert_true(nvp_crc64_nvme(nvp_crc64_nvme(0, buf + off, cut),
						   buf + off + cut, len - cut) ==
				    ref64(buf + off, len));
		}
	}
}

/* ---- generate and verify -------------------------------------------------- */

struct fmt_case {
	const char *name;
	struct nvp_pi_format fmt;
};

static const struct fmt_case formats[] = {
	{ "512+8 type1 last separate", { 512, 8, false, 1, false, 16 } },
	{ "512+8 type3 last extended", { 512, 8, true, 3, false, 16 } },
	{ "4096+8 type1 first separate", { 4096, 8, false, 1, true, 16 } },
	{ "512+16 type2 last extended (8 bytes before the PI)", { 512, 16, true, 2, false, 16 } },
	{ "512+16 type2 first separate", { 512, 16, false, 2, true, 16 } },
	{ "4096+16 type2 last separate 64-bit guard", { 4096, 16, false, 2, false, 64 } },
	{ "512+16 type1 first extended 64-bit guard", { 512, 16, true, 1, true, 64 } },
	{ "512+24 type3 last extended 64-bit guard", { 512, 24, true, 3, false, 64 } },
	{ "512+64 type1 last separate 64-bit guard", { 512, 64, false, 1, false, 64 } },
};

#define NLB 5
#define ALL_CHECKS (NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG | NVP_PI_CHECK_REFTAG)

struct bufs {
	uint8_t *buf, *md;
	size_t buf_len, md_len;
};

static struct bufs make(const struct nvp_pi_format *f, uint32_t nlb)
{
	struct bufs b = { 0 };

	b.buf_len = (size_t)nlb * (f->block_size + (f->extended ? f->md_size : 0));
	b.md_len = f->extended ? 0 : (size_t)nlb * f->md_size;
	b.buf = malloc(b.buf_len);
	b.md = b.md_len ? malloc(b.md_len) : NULL;
	assert_non_null(b.buf);
	for (size_t i = 0; i < b.buf_len; i++)
		b.buf[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < b.md_len; i++)
		b.md[i] = (uint8_t)(i * 3 + 5);
	return b;
}

/* The PI of block @i (for corrupting it). */
static uint8_t *pi_of(const struct nvp_pi_format *f, struct bufs *b, uint32_t i)
{
	uint8_t *meta = f->extended ? b->buf + (size_t)i * (f->block_size + f->md_size) +
					      f->block_size :
				      b->md + (size_t)i * f->md_size;
	unsigned int size = f->guard_bits == 64 ? 16 : 8;

	return meta + (f->pi_first ? 0 : f->md_size - size);
}

static void test_generate_verify_formats(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(formats) / sizeof(formats[0]); c++) {
		const struct nvp_pi_format *f = &formats[c].fmt;
		unsigned int g = f->guard_bits == 64 ? 8 : 2, r = f->guard_bits == 64 ? 6 : 4;
		uint64_t reftag = f->pi_type == 3 ? 0x77 : 1000;
		struct nvp_pi_error err;
		struct bufs b = make(f, NLB);

		print_message("format %s\n", formats[c].name);
		assert_int_equal(nvp_pi_generate(f, b.buf, b.md, NLB, 0x1234, reftag), 0);
		assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, ALL_CHECKS, 0x1234,
					       0xffff, reftag, &err), 0);
		/* Reference tags: type 1/2 count up, type 3 repeats; big-endian. */
		for (uint32_t i = 0; i < NLB; i++) {
			uint8_t *pi = pi_of(f, &b, i);
			uint64_t want = f->pi_type == 3 ? reftag : reftag + i, got = 0;

			for (unsigned int k = 0; k < r; k++)
				got = got << 8 | pi[g + 2 + k];
			assert_true(got == want);
			assert_int_equal(pi[g], 0x12);
			assert_int_equal(pi[g + 1], 0x34);
		}
		/* Wrong expectations are caught, named, with both values. */
		assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, NVP_PI_CHECK_APPTAG,
					       0x1235, 0xffff, reftag, &err), -EBADMSG);
		assert_int_equal(err.check, NVP_PI_CHECK_APPTAG);
		assert_int_equal(err.lba, 50);
		assert_int_equal(err.expected, 0x1235);
		assert_int_equal(err.actual, 0x1234);
		/* ... unless the mask hides the difference. */
		assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, NVP_PI_CHECK_APPTAG,
					       0x1235, 0xfff0, reftag, &err), 0);
		assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, NVP_PI_CHECK_REFTAG,
					       0x1234, 0xffff, reftag + 1, &err), -EBADMSG);
		assert_int_equal(err.check, NVP_PI_CHECK_REFTAG);
		assert_int_equal(err.index, 0);
		assert_true(err.expected == reftag + 1 && err.actual == reftag);

		/* A flipped data bit in block 3: only the guard sees it. */
		{
			uint8_t *data = b.buf + (size_t)3 * (f->block_size +
							     (f->extended ? f->md_size : 0));

			data[17] ^= 0x10;
			assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB,
						       NVP_PI_CHECK_APPTAG | NVP_PI_CHECK_REFTAG,
						       0x1234, 0xffff, reftag, &err), 0);
			assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, ALL_CHECKS,
						       0x1234, 0xffff, reftag, &err), -EBADMSG);
			assert_int_equal(err.check, NVP_PI_CHECK_GUARD);
			assert_int_equal(err.lba, 53);
			assert_int_equal(err.index, 3);
			assert_true(err.expected != err.actual);
			data[17] ^= 0x10;
		}
		/* Metadata before the PI is guarded; after... there is none. */
		if (!f->pi_first && f->md_size > (f->guard_bits == 64 ? 16u : 8u)) {
			uint8_t *pi = pi_of(f, &b, 1);

			pi[-1] ^= 1;
			assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, ALL_CHECKS,
						       0x1234, 0xffff, reftag, &err), -EBADMSG);
			assert_int_equal(err.check, NVP_PI_CHECK_GUARD);
			assert_int_equal(err.index, 1);
			pi[-1] ^= 1;
		}
		/* With the PI first, the metadata after it is not guarded. */
		if (f->pi_first && f->md_size > (f->guard_bits == 64 ? 16u : 8u)) {
			uint8_t *pi = pi_of(f, &b, 1);

			pi[f->md_size - 1] ^= 1;
			assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, ALL_CHECKS,
						       0x1234, 0xffff, reftag, &err), 0);
			pi[f->md_size - 1] ^= 1;
		}
		/* The escape: application tag FFFFh (and for type 3 reftag all ones). */
		{
			uint8_t *pi = pi_of(f, &b, 2);

			pi[0] ^= 0xff; /* a bad guard */
			pi[g] = pi[g + 1] = 0xff;
			if (f->pi_type == 3) {
				assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, ALL_CHECKS,
							       0x1234, 0xffff, reftag, &err),
						 -EBADMSG);
				memset(pi + g + 2, 0xff, r);
			}
			assert_int_equal(nvp_pi_verify(f, b.buf, b.md, 50, NLB, ALL_CHECKS,
						       0x1234, 0xffff, reftag, &err), 0);
		}
		free(b.buf);
		free(b.md);
	}
}

/* Types 1 and 2 count the reference tag modulo 2^32 (16-bit guard) or 2^48. */
static void test_reftag_wraparound(void **state)
{
	static const struct {
		uint8_t guard_bits;
		uint64_t first;
		uint64_t third; /* the third block's tag */
	} cases[] = {
		{ 16, 0xfffffffeull, 0x0 },
		{ 16, 0x1fffffffeull, 0x0 },	/* bits above 32 are dropped */
		{ 64, 0xfffffffeull, 0x100000000ull },	/* no wrap at 32 bits */
		{ 64, 0xfffffffffffeull, 0x0 },
		{ 64, 0xffffffffffffull, 0x1 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct nvp_pi_format f = { 512, cases[c].guard_bits == 64 ? 16 : 8, true, 1,
					   false, cases[c].guard_bits };
		unsigned int g = f.guard_bits == 64 ? 8 : 2, r = f.guard_bits == 64 ? 6 : 4;
		struct bufs b = make(&f, 3);
		uint8_t *pi;
		uint64_t got = 0;

		assert_int_equal(nvp_pi_generate(&f, b.buf, NULL, 3, 0, cases[c].first), 0);
		pi = pi_of(&f, &b, 2);
		for (unsigned int k = 0; k < r; k++)
			got = got << 8 | pi[g + 2 + k];
		assert_true(got == cases[c].third);
		assert_int_equal(nvp_pi_verify(&f, b.buf, NULL, 0, 3, ALL_CHECKS, 0, 0xffff,
					       cases[c].first, NULL), 0);
		free(b.buf);
	}
}

static void test_bad_arguments(void **state)
{
	struct nvp_pi_format f = { 512, 8, false, 1, false, 16 };
	uint8_t buf[1024], md[16];

	(void)state;
	assert_int_equal(nvp_pi_generate(NULL, buf, md, 2, 0, 0), -EINVAL);
	assert_int_equal(nvp_pi_generate(&f, NULL, md, 2, 0, 0), -EINVAL);
	assert_int_equal(nvp_pi_generate(&f, buf, NULL, 2, 0, 0), -EINVAL);	/* md needed */
	assert_int_equal(nvp_pi_generate(&f, buf, md, 0, 0, 0), -EINVAL);
	f.extended = true;
	assert_int_equal(nvp_pi_generate(&f, buf, md, 1, 0, 0), -EINVAL);	/* md not wanted */
	f.extended = false;
	f.pi_type = 0;
	assert_int_equal(nvp_pi_verify(&f, buf, md, 0, 1, 0, 0, 0, 0, NULL), -EINVAL);
	f.pi_type = 4;
	assert_int_equal(nvp_pi_verify(&f, buf, md, 0, 1, 0, 0, 0, 0, NULL), -EINVAL);
	f.pi_type = 1;
	f.guard_bits = 32;
	assert_int_equal(nvp_pi_verify(&f, buf, md, 0, 1, 0, 0, 0, 0, NULL), -EINVAL);
	f.guard_bits = 64;	/* 8 bytes of metadata cannot hold 16 of PI */
	assert_int_equal(nvp_pi_verify(&f, buf, md, 0, 1, 0, 0, 0, 0, NULL), -EINVAL);
	assert_string_equal(nvp_pi_check_name(NVP_PI_CHECK_GUARD), "guard");
	assert_string_equal(nvp_pi_check_name(0), "unknown check");
}

static void test_format_from_ns(void **state)
{
	struct nvp_ns_info info = { .nsid = 3, .block_size = 4096, .md_size = 16,
				    .md_extended = false, .pi_type = 2, .pi_first = false,
				    .pi_guard_bits = 64, .pi_size = 16 };
	struct nvp_pi_format f;

	(void)state;
	assert_int_equal(nvp_pi_format_from_ns(&f, &info), 0);
	assert_int_equal(f.block_size, 4096);
	assert_int_equal(f.md_size, 16);
	assert_int_equal(f.pi_type, 2);
	assert_int_equal(f.guard_bits, 64);
	info.pi_type = 0;
	assert_int_equal(nvp_pi_format_from_ns(&f, &info), -ENOTSUP);
	assert_int_equal(nvp_pi_format_from_ns(NULL, &info), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_spec_vectors),
		cmocka_unit_test(test_crc_against_reference),
		cmocka_unit_test(test_generate_verify_formats),
		cmocka_unit_test(test_reftag_wraparound),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_format_from_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
