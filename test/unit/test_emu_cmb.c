/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_cmb.c - the emulated Controller Memory Buffer as a
 * device (QEMU 7.2's register semantics), driven through its registers by
 * the minimal host of test_emu_host.h; and the IOVA allocator's reserved
 * bus ranges that keep host memory off a CMB's addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "mem/internal.h"
#include "test_emu_host.h"
#include "util/log.h"

#define DNR NVP_STATUS_DNR_BIT
#define GEN(sc) NVP_STATUS(NVP_SCT_GENERIC, sc)

/* The emulated CMB's BAR (lib/emu/emu_cmb.c). */
#define CMB_BUS 0x8000000000ull
#define CMB_BIR 2u

/* ---- cmb= at its edges --------------------------------------------------- */

static void test_option_edges(void **state)
{
	static const struct {
		const char *spec;
		uint64_t bytes;		/* when it parses */
		const char *msg;	/* NULL: must parse */
	} rows[] = {
		{ "emu:cmb=0", 0, NULL },			/* 0 = none */
		{ "emu:cmb=1M", 1ull << 20, NULL },		/* smallest */
		{ "emu:cmb=16M", 16ull << 20, NULL },
		{ "emu:cmb=1G", 1ull << 30, NULL },		/* largest */
		{ "emu:cmb=1025M", 0, "bad cmb=1025M" },
		{ "emu:cmb=2G", 0, "bad cmb=2G" },
		{ "emu:cmb=1536K", 0, "whole MiB" },		/* not whole MiB */
		{ "emu:cmb=4096", 0, "bad cmb=4096" },
		{ "emu:cmb=-1M", 0, "bad cmb=-1M" },
		{ "emu:cmb=", 0, "bad cmb=" },
		{ "emu:cmb=16M,cmb=16M", 0, "cmb= is given twice" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct emu_opts o;
		int rc = nvp_emu_parse_opts(rows[i].spec, &o);

		if (!rows[i].msg) {
			if (rc)
				fail_msg("%s: %s", rows[i].spec, nvp_last_error());
			assert_int_equal(o.cmb_bytes, rows[i].bytes);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		if (!strstr(nvp_last_error(), rows[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", rows[i].spec, nvp_last_error(),
				 rows[i].msg);
	}
}

/* ---- registers --------------------------------------------------------------- */

static void wr64_hi_lo(struct host *h, uint32_t off, uint64_t v)
{
	host_wr(h, off + 4, (uint32_t)(v >> 32));
	host_wr(h, off, (uint32_t)v);
}

/* The device acts on CMBMSC in its loop: wait until it shows in @reg. */
static uint32_t wait_reg_ne(struct host *h, uint32_t off, uint32_t old)
{
	uint64_t end = host_now_ms() + HOST_TIMEOUT_MS;
	uint32_t v;

	while ((v = host_rd(h, off)) == old && host_now_ms() < end)
		host_sleep_us(100);
	return v;
}

static void test_registers(void **state)
{
	struct host h;
	uint64_t cap;
	uint32_t sz;
	(void)state;

	/* No CMB: CAP.CMBS clear, CMBSZ stays 0 whatever CMBMSC says. */
	assert_int_equal(host_open(&h, "emu:"), 0);
	cap = host_rd(&h, NVP_REG_CAP) | ((uint64_t)host_rd(&h, NVP_REG_CAP + 4) << 32);
	assert_int_equal(NVP_CAP_CMBS(cap), 0);
	host_wr(&h, NVP_REG_CMBMSC, (uint32_t)NVP_CMBMSC_CRE);
	host_sleep_us(20000);
	assert_int_equal(host_rd(&h, NVP_REG_CMBSZ), 0);
	host_close(&h);

	assert_int_equal(host_open(&h, "emu:cmb=16M"), 0);
	cap = host_rd(&h, NVP_REG_CAP) | ((uint64_t)host_rd(&h, NVP_REG_CAP + 4) << 32);
	assert_int_equal(NVP_CAP_CMBS(cap), 1);
	/* QEMU 7.2: CMBLOC/CMBSZ read 0 until CMBMSC.CRE. */
	assert_int_equal(host_rd(&h, NVP_REG_CMBSZ), 0);
	assert_int_equal(host_rd(&h, NVP_REG_CMBLOC), 0);
	host_wr(&h, NVP_REG_CMBMSC, (uint32_t)NVP_CMBMSC_CRE);
	sz = wait_reg_ne(&h, NVP_REG_CMBSZ, 0);
	assert_true(sz & NVP_CMBSZ_SQS);
	assert_int_equal(sz & (NVP_CMBSZ_CQS | NVP_CMBSZ_LISTS | NVP_CMBSZ_RDS | NVP_CMBSZ_WDS), 0);
	assert_int_equal(NVP_CMBSZ_SZU(sz), 2);			/* 1 MiB units */
	assert_int_equal(NVP_CMBSZ_SZ(sz), 16);
	assert_int_equal(NVP_CMBLOC_BIR(host_rd(&h, NVP_REG_CMBLOC)), CMB_BIR);
	assert_int_equal(NVP_CMBLOC_OFST(host_rd(&h, NVP_REG_CMBLOC)), 0);
	/* A CBA whose CMB would wrap past 2^64: CBAI, CMSE not taken. */
	wr64_hi_lo(&h, NVP_REG_CMBMSC, 0xffffffffff000000ull | NVP_CMBMSC_CMSE | NVP_CMBMSC_CRE);
	assert_int_equal(wait_reg_ne(&h, NVP_REG_CMBSTS, 0) & NVP_CMBSTS_CBAI, NVP_CMBSTS_CBAI);
	/* A valid CBA clears it. */
	wr64_hi_lo(&h, NVP_REG_CMBMSC, CMB_BUS | NVP_CMBMSC_CMSE | NVP_CMBMSC_CRE);
	assert_int_equal(wait_reg_ne(&h, NVP_REG_CMBSTS, NVP_CMBSTS_CBAI), 0);
	/* Clearing CRE hides the registers again. */
	wr64_hi_lo(&h, NVP_REG_CMBMSC, 0);
	assert_int_equal(wait_reg_ne(&h, NVP_REG_CMBSZ, sz), 0);
	assert_int_equal(host_rd(&h, NVP_REG_CMBLOC), 0);
	host_close(&h);
}

/* ---- submission queues in the CMB -------------------------------------------- */

static void fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t *p = buf;

	for (size_t i = 0; i < len / 4; i++)
		p[i] = seed * 2654435761u + (uint32_t)i;
}

/* Create CQ 1 in host memory and SQ 1 at bus address @sq_bus. */
static uint16_t create_pair_at(struct host *h, uint64_t sq_bus, uint32_t size)
{
	struct host_q *q = &h->io[1];
	struct nvp_sqe sqe = { .opc = NVP_ADMIN_CREATE_SQ, .cdw10 = ((size - 1) << 16) | 1,
			       .cdw11 = (1u << 16) | NVP_QUEUE_PHYS_CONTIG };

	assert_int_equal(host_alloc_q(q, 1, size), 0);
	assert_int_equal(host_create_cq(h, 1, size, q->cq, NVP_QUEUE_PHYS_CONTIG), 0);
	sqe.dptr.prp.prp1 = sq_bus;
	return host_admin(h, &sqe, NULL);
}

static void test_sq_in_cmb(void **state)
{
	struct nvp_bar_map map;
	struct nvp_emu_stats st;
	struct host h;
	struct host_q *q;
	uint8_t *buf;
	uint32_t size = 8;
	(void)state;

	assert_int_equal(host_open(&h, "emu:cmb=1M,ns=1M:4096"), 0);
	assert_int_equal(h.dev->ops->map_bar(h.dev, CMB_BIR, &map), 0);
	assert_int_equal(map.len, 1u << 20);
	assert_true(map.bus_addr == CMB_BUS);
	/* BAR0 and the other BARs hold no CMB. */
	assert_int_equal(h.dev->ops->map_bar(h.dev, 0, &map), -ENODEV);
	assert_int_equal(h.dev->ops->map_bar(h.dev, CMB_BIR, &map), 0);

	/* CMSE clear: the CMB's address is no host memory; refused. */
	host_wr(&h, NVP_REG_CMBMSC, (uint32_t)NVP_CMBMSC_CRE);
	assert_int_equal(create_pair_at(&h, CMB_BUS, size), GEN(NVP_SC_DATA_XFER_ERROR));
	st = host_stats(&h);
	assert_int_equal(st.cmb_sqs, 0);

	/* CMSE on: the SQ lives 8 KiB into the CMB; the last page fits. */
	wr64_hi_lo(&h, NVP_REG_CMBMSC, CMB_BUS | NVP_CMBMSC_CMSE | NVP_CMBMSC_CRE);
	/* Past the end of the CMB: a ring that would run over it. */
	{
		struct nvp_sqe sqe = { .opc = NVP_ADMIN_CREATE_SQ, .cdw10 = ((64u - 1) << 16) | 1,
				       .cdw11 = (1u << 16) | NVP_QUEUE_PHYS_CONTIG };

		sqe.dptr.prp.prp1 = CMB_BUS + (1u << 20) - 4096;
		assert_int_equal(host_admin(&h, &sqe, NULL), 0);	/* 64 x 64 B: fits exactly */
		assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_SQ, 1), 0);
		sqe.cdw10 = ((65u - 1) << 16) | 1;			/* one entry too many */
		assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_DATA_XFER_ERROR));
	}
	{
		struct nvp_sqe sqe = { .opc = NVP_ADMIN_CREATE_SQ, .cdw10 = ((size - 1) << 16) | 1,
				       .cdw11 = (1u << 16) | NVP_QUEUE_PHYS_CONTIG };

		sqe.dptr.prp.prp1 = CMB_BUS + 8192;
		assert_int_equal(host_admin(&h, &sqe, NULL), 0);
	}
	st = host_stats(&h);
	assert_int_equal(st.cmb_sqs, 1);

	/* The host writes commands into the CMB; the device runs them. Enough
	 * of them to wrap the 8-entry ring twice. */
	q = &h.io[1];
	nvp_dma_free(q->sq);	/* create_pair_at's, never used */
	q->sq = (struct nvp_sqe *)((uint8_t *)(uintptr_t)map.va + 8192);
	buf = h.data;
	for (uint32_t i = 0; i < 3 * size; i++) {
		fill(buf, 4096, i + 1);
		assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, i % 256, 1, buf, 4096), 0);
		memset(buf, 0, 4096);
		assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, i % 256, 1, buf, 4096), 0);
		{
			uint8_t want[4096];

			fill(want, sizeof(want), i + 1);
			assert_memory_equal(buf, want, sizeof(want));
		}
	}
	st = host_stats(&h);
	assert_true(st.cmb_cmds >= 6 * size);

	/* Deleting the queue, then a reset: nothing in the CMB is left. */
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_SQ, 1), 0);
	st = host_stats(&h);
	assert_int_equal(st.cmb_sqs, 0);
	q->sq = NULL;	/* not DMA memory: host_close must not free it */
	host_close(&h);
}

/* ---- reserved bus ranges in the IOVA allocator -------------------------------- */

static void test_iova_reserve(void **state)
{
	static const struct {
		uint64_t start, len;
		int rc;
	} rows[] = {
		{ 0x8000000000ull, 16ull << 20, 0 },
		{ 0x8000000000ull, 0, -EINVAL },		/* empty */
		{ ~0ull - 4095, 8192, -EINVAL },		/* wraps */
		{ 0xfe000000ull, 1ull << 20, 0 },		/* below what is handed out */
		{ 1ull << 48, 1ull << 20, 0 },			/* above it */
	};
	uint64_t a, b;
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(nvp_iova_reserve(rows[i].start, rows[i].len), rows[i].rc);
	/* The allocator packs from 4 GiB: a hole there is stepped over. */
	assert_int_equal(nvp_iova_reserve(1ull << 32, 1ull << 20), 0);
	assert_int_equal(nvp_iova_alloc(8192, 0, &a), 0);
	assert_true(a >= (1ull << 32) + (1ull << 20));
	/* A range a live allocation holds cannot be reserved. */
	assert_int_equal(nvp_iova_reserve(a, 4096), -EBUSY);
	assert_int_equal(nvp_iova_alloc(1ull << 30, 0, &b), 0);
	assert_true(b + (1ull << 30) <= 0x8000000000ull || b >= 0x8000000000ull + (16ull << 20));
	nvp_iova_free(b, 1ull << 30);
	nvp_iova_free(a, 8192);
	nvp_iova_unreserve(1ull << 32, 1ull << 20);
	/* Unreserved: the first fit is 4 GiB again. */
	assert_int_equal(nvp_iova_alloc(8192, 0, &a), 0);
	assert_true(a == 1ull << 32);
	nvp_iova_free(a, 8192);
	nvp_iova_unreserve(0x8000000000ull, 16ull << 20);
	nvp_iova_unreserve(0xfe000000ull, 1ull << 20);
	nvp_iova_unreserve(1ull << 48, 1ull << 20);
	/* Too many holes. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(nvp_iova_reserve((uint64_t)(i + 1) << 40, 4096), 0);
	assert_int_equal(nvp_iova_reserve(9ull << 40, 4096), -ENOSPC);
	for (int i = 0; i < 8; i++)
		nvp_iova_unreserve((uint64_t)(i + 1) << 40, 4096);
	nvp_iova_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_edges),
		cmocka_unit_test(test_iova_reserve),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_sq_in_cmb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
