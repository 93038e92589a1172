/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_driver_raw.c - the driver against device data that is
 * hostile or merely unusual, served by the emulated controller's raw data
 * files (emu:raw=PATH). Each case is a finding of the fuzzers (test/fuzz):
 * an MDTS too large to shift, a namespace list that repeats itself, shadow
 * doorbells with a wide doorbell stride, a memory page nvpoll cannot align
 * to, and a namespace whose Identify fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "emu_raw_file.h"

/* CAP: MQES 255, CQR, TO 2 (1 s), CSS NVM, MPSMIN, MPSMAX 4, DSTRD. */
static uint64_t make_cap(unsigned int mpsmin, unsigned int dstrd)
{
	return 255 | (1ull << 16) | (2ull << 24) | ((uint64_t)dstrd << 32) | (1ull << 37) |
	       ((uint64_t)mpsmin << 48) | (4ull << 52);
}

static void base_ctrl(struct nvp_id_ctrl *idc)
{
	memset(idc, 0, sizeof(*idc));
	memset(idc->sn, ' ', sizeof(idc->sn));
	memset(idc->mn, ' ', sizeof(idc->mn));
	memset(idc->fr, ' ', sizeof(idc->fr));
	idc->nn = nvp_cpu_to_le32(1);	/* device data: little-endian */
	idc->mdts = 5;
}

static void base_ns(struct nvp_id_ns *idn, uint64_t blocks)
{
	memset(idn, 0, sizeof(*idn));
	idn->nsze = idn->ncap = nvp_cpu_to_le64(blocks);
	idn->lbaf[0].lbads = 12;
}

static int attach(struct raw_file *f, const char *opts, uint32_t num_io_queues,
		  struct nvp_ctrl **ctrl)
{
	struct nvp_ctrl_opts o;
	char path[64], addr[256];
	int rc;

	assert_int_equal(raw_write(f, path), 0);
	raw_free(f);
	snprintf(addr, sizeof(addr), "emu:%s,raw=%s", opts, path);
	nvp_ctrl_opts_init(&o, sizeof(o));
	o.admin_timeout_ms = 2000;
	o.io_timeout_ms = 2000;
	if (num_io_queues)
		o.num_io_queues = num_io_queues;
	rc = nvp_ctrl_attach(addr, &o, ctrl);
	unlink(path);
	return rc;
}

static int done_calls;
static uint16_t done_status;

static void on_done(void *arg, const struct nvp_cqe *cpl)
{
	(void)arg;
	done_calls++;
	if (cpl->status & 0xfffe)
		done_status = cpl->status & 0xfffe;
}

/* @n verified-by-status reads on @qp, all at once; returns how many ended well. */
static int reads(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t *buf, int n)
{
	done_calls = 0;
	done_status = 0;
	for (int i = 0; i < n; i++)
		assert_int_equal(nvp_read(qp, ns, buf, (uint64_t)i, 1, 0, on_done, NULL), 0);
	for (long spin = 0; spin < 200000000 && done_calls < n; spin++)
		nvp_qpair_poll(qp, 0);
	return done_status ? 0 : done_calls;
}

/* K1: MDTS 200 would shift a 64-bit value by 212 (UB): it means no limit. */
static void test_mdts_beyond_64_bits(void **state)
{
	struct nvp_id_ctrl idc;
	struct raw_file f;
	struct nvp_ctrl *ctrl;

	(void)state;
	base_ctrl(&idc);
	for (unsigned int mdts = 52; mdts <= 255; mdts += 203) {
		idc.mdts = (uint8_t)mdts;
		assert_int_equal(raw_init(&f), 0);
		assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
		assert_int_equal(attach(&f, "ns=1M:4096", 0, &ctrl), 0);
		/* No limit from MDTS: the default cap applies. */
		assert_int_equal(nvp_ctrl_get_info(ctrl)->max_xfer_bytes, 1u << 20);
		assert_int_equal(nvp_ctrl_detach(ctrl), 0);
	}
}

/* K2: a controller that answers every namespace-list request with the same
 * full page of IDs must not keep attach asking for ever. */
static void test_repeating_namespace_list(void **state)
{
	static uint32_t list[1024];
	struct nvp_id_ctrl idc;
	struct nvp_id_ns idn;
	struct raw_file f;
	struct nvp_ctrl *ctrl;
	struct timespec t0, t1;

	(void)state;
	base_ctrl(&idc);
	idc.nn = nvp_cpu_to_le32(5000);
	base_ns(&idn, 16);
	for (uint32_t i = 0; i < 1024; i++)
		list[i] = nvp_cpu_to_le32(i + 1);
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_NS, RAW_ANY_NSID, 0, &idn, sizeof(idn)),
			 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_ACTIVE_NS_LIST, RAW_ANY_NSID, 0, list,
				 sizeof(list)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(attach(&f, "ns=1M:4096", 0, &ctrl), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* The first page's 1024 namespaces; the repeat adds nothing and ends it. */
	assert_int_equal(nvp_ctrl_get_info(ctrl)->num_ns, 1024);
	assert_true(t1.tv_sec - t0.tv_sec < 60);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

/* F3: doorbells 2 KiB apart (CAP.DSTRD 9): the shadow doorbell buffer must
 * hold every queue's entries, or commands stall and memory is overwritten. */
static void test_shadow_doorbells_wide_stride(void **state)
{
	uint64_t cap = nvp_cpu_to_le64(make_cap(0, 9));
	struct nvp_id_ctrl idc;
	struct raw_file f;
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp[4];
	uint8_t *buf;

	(void)state;
	base_ctrl(&idc);
	idc.oacs = nvp_cpu_to_le16(NVP_OACS_DBBUF);
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_REG, 0, 0, NVP_REG_CAP, &cap, 8), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
	assert_int_equal(attach(&f, "ns=1M:4096", 4, &ctrl), 0);
	assert_true(nvp_ctrl_get_info(ctrl)->shadow_doorbells);
	buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	assert_non_null(buf);
	/* The last queue's entries are 16 KiB into the shadow buffer. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(reads(qp[i], nvp_ctrl_first_ns(ctrl), buf, 20), 20);
	for (int i = 0; i < 4; i++)
		nvp_qpair_free(qp[i]);
	nvp_dma_free(buf);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

/* F4: a smallest memory page of 4 MiB (CAP.MPSMIN 10): refused, clearly. */
static void test_memory_page_too_large(void **state)
{
	uint64_t cap = nvp_cpu_to_le64(make_cap(10, 0));
	struct nvp_id_ctrl idc;
	struct raw_file f;
	struct nvp_ctrl *ctrl = NULL;

	(void)state;
	base_ctrl(&idc);
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_REG, 0, 0, NVP_REG_CAP, &cap, 8), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
	assert_int_equal(attach(&f, "ns=1M:4096", 0, &ctrl), -ENOTSUP);
	assert_non_null(strstr(nvp_last_error(), "CAP.MPSMIN"));
}

/* A listed namespace whose Identify the controller refuses is left out;
 * the others work (Linux does the same). */
static void test_namespace_identify_refused(void **state)
{
	uint32_t list[3] = { nvp_cpu_to_le32(1), nvp_cpu_to_le32(2), 0 };
	struct nvp_id_ctrl idc;
	struct nvp_id_ns idn;
	struct raw_file f;
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp;
	uint8_t *buf;

	(void)state;
	base_ctrl(&idc);
	idc.nn = nvp_cpu_to_le32(2);
	base_ns(&idn, 16);
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_NS, 0, 1, &idn, sizeof(idn)), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_ACTIVE_NS_LIST, 0, 0, list,
				 sizeof(list)), 0);
	/* emu has one namespace: Identify of NSID 2 fails (Invalid Namespace). */
	assert_int_equal(attach(&f, "ns=1M:4096", 0, &ctrl), 0);
	assert_int_equal(nvp_ctrl_get_info(ctrl)->num_ns, 1);
	assert_non_null(nvp_ctrl_get_ns(ctrl, 1));
	assert_null(nvp_ctrl_get_ns(ctrl, 2));
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	assert_int_equal(reads(qp, nvp_ctrl_get_ns(ctrl, 1), buf, 4), 4);
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mdts_beyond_64_bits),
		cmocka_unit_test(test_repeating_namespace_list),
		cmocka_unit_test(test_shadow_doorbells_wide_stride),
		cmocka_unit_test(test_memory_page_too_large),
		cmocka_unit_test(test_namespace_identify_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
