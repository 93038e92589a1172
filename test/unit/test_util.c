/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for lib/util: size parsing and the error/log plumbing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/log.h"
#include "util/size.h"

static void test_parse_size(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t bytes;
	} rows[] = {
		{ "4096", 0, 4096 },
		{ "0", 0, 0 },
		{ "512k", 0, 512ull << 10 },
		{ "64M", 0, 64ull << 20 },
		{ "1G", 0, 1ull << 30 },
		{ "1GiB", 0, 1ull << 30 },
		{ "2MB", 0, 2ull << 20 },
		{ "3T", 0, 3ull << 40 },
		{ "010", 0, 10 },		/* decimal, not octal */
		{ "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "12Q", -EINVAL, 0 },
		{ "1Gx", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "99999999999T", -EINVAL, 0 },	/* overflows 64 bits */
		{ "18446744073709551616", -EINVAL, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "16777215T", 0, 16777215ull << 40 },
		{ "16777216T", -EINVAL, 0 },		/* 2^64 */
		{ "17592186044416M", -EINVAL, 0 },	/* 2^64 */
		{ "17179869183G", 0, 17179869183ull << 30 },
		{ "18014398509481984K", -EINVAL, 0 },	/* 2^64 */
		/* No white space or sign anywhere: strtoull() would take
		 * " -4096" as 2^64 - 4096. */
		{ " -4096", -EINVAL, 0 },
		{ "\t-4096", -EINVAL, 0 },
		{ "\n4096", -EINVAL, 0 },
		{ " 4096", -EINVAL, 0 },
		{ "+4096", -EINVAL, 0 },
		{ "-0", -EINVAL, 0 },
		{ "4096 ", -EINVAL, 0 },
		{ "4 K", -EINVAL, 0 },
		{ "4K ", -EINVAL, 0 },
		{ "4KiBx", -EINVAL, 0 },
		{ "4iB", -EINVAL, 0 },
		{ "4KK", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 0xdead;

		assert_int_equal(nvp_parse_size(rows[i].text, &v), rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(v, rows[i].bytes);
	}
	assert_int_equal(nvp_parse_size(NULL, NULL), -EINVAL);
}

struct captured {
	int calls;
	enum nvp_log_level level;
	char msg[256];
};

static void capture(enum nvp_log_level level, const char *msg, void *arg)
{
	struct captured *c = arg;

	c->calls++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static void test_errors_and_log(void **state)
{
	struct captured c = { 0 };

	(void)state;
	nvp_set_log(capture, &c, NVP_LOG_WARN);
	assert_int_equal(nvp_error(-EBUSY, "device %s is busy", "x"), -EBUSY);
	assert_string_equal(nvp_last_error(), "device x is busy");
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, NVP_LOG_ERR);
	/* The message may quote the previous one (it is formatted aside). */
	nvp_error(-EIO, "outer: %s", nvp_last_error());
	assert_string_equal(nvp_last_error(), "outer: device x is busy");
	/* Filtered levels never reach the sink. */
	nvp_log(NVP_LOG_DEBUG, "hidden");
	assert_int_equal(c.calls, 2);
	nvp_log(NVP_LOG_WARN, "shown %d", 7);
	assert_int_equal(c.calls, 3);
	assert_string_equal(c.msg, "shown 7");
	/* The hot-path variant records a literal and logs nothing. */
	assert_int_equal(nvp_error_fast(-EAGAIN, "pool empty"), -EAGAIN);
	assert_string_equal(nvp_last_error(), "pool empty");
	assert_int_equal(c.calls, 3);
	nvp_set_log(NULL, NULL, NVP_LOG_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_errors_and_log),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
