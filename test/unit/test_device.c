/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_device.c - the device layer's helpers shared by the access methods
 * (lib/dev/device.c): the close paths' "is the device gone" test and the
 * open paths' register line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dev/device.h"

static int warnings;
static char last_warning[512];

static void sink(enum nvp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == NVP_LOG_WARN) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", msg);
	}
}

/* A register file as BAR0: little-endian, as a controller presents it. */
static void set_reg(uint32_t *regs, size_t off, uint32_t v)
{
	regs[off / 4] = nvp_cpu_to_le32(v);
}

static void test_gone(void **state)
{
	uint32_t regs[16] = { 0 };
	struct nvp_device dev = { .bar0 = regs, .bar0_size = sizeof(regs) };

	(void)state;
	snprintf(dev.addr, sizeof(dev.addr), "0000:00:04.0");
	nvp_set_log(sink, NULL, NVP_LOG_DEBUG);
	warnings = 0;

	/* A live controller: not gone, nothing said. */
	set_reg(regs, NVP_REG_CSTS, 0x1);
	assert_false(nvp_device_gone(&dev, false));
	assert_int_equal(warnings, 0);
	/* The access method already knows: gone, without reading BAR0. */
	assert_true(nvp_device_gone(&dev, true));
	assert_int_equal(warnings, 0);
	/* All-ones: gone, and a warning names the device. */
	set_reg(regs, NVP_REG_CSTS, 0xffffffffu);
	assert_true(nvp_device_gone(&dev, false));
	assert_int_equal(warnings, 1);
	assert_non_null(strstr(last_warning, "0000:00:04.0: registers read all-ones"));
	/* BAR0 never mapped (an open that failed early): only @removed counts. */
	dev.bar0 = NULL;
	assert_false(nvp_device_gone(&dev, false));
	assert_true(nvp_device_gone(&dev, true));
	assert_int_equal(warnings, 1);
	nvp_set_log(NULL, NULL, NVP_LOG_ERR);
}

static void test_regs_str(void **state)
{
	uint32_t regs[16] = { 0 };
	struct nvp_device dev = { .bar0 = regs, .bar0_size = sizeof(regs) };
	char buf[64];

	(void)state;
	set_reg(regs, NVP_REG_VS, 0x00010400);
	set_reg(regs, NVP_REG_CC, 0x00460001);
	set_reg(regs, NVP_REG_CSTS, 0x1);
	assert_string_equal(nvp_device_regs_str(&dev, buf, sizeof(buf)),
			    "VS 0x00010400 CC 0x00460001 CSTS 0x00000001");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_regs_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
