/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu.c - the emulated controller as a device: register
 * handshakes, admin commands, data movement through PRPs and SGLs, error
 * statuses, CQ-full behaviour and shadow doorbells.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "test_emu_host.h"

#define DNR NVP_STATUS_DNR_BIT
#define GEN(sc) NVP_STATUS(NVP_SCT_GENERIC, sc)
#define CS(sc) NVP_STATUS(NVP_SCT_CMD_SPECIFIC, sc)

static void fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t *p = buf;

	for (size_t i = 0; i < len / 4; i++)
		p[i] = seed * 2654435761u + (uint32_t)i;
}

/* ---- address options: every field at its edges --------------------------- */

static void test_option_edges(void **state)
{
	static const struct {
		const char *spec;
		const char *msg;	/* NULL: must parse */
	} rows[] = {
		/* Sizes: no sign, no white space, no overflow; the message
		 * names the part that is wrong. */
		{ "emu:ns= -4096", "SIZE \" -4096\" is not a byte count" },
		{ "emu:ns=\t4096", "SIZE \"\t4096\" is not a byte count" },
		{ "emu:ns=-4096", "SIZE \"-4096\"" },
		{ "emu:ns=+4096", "SIZE \"+4096\"" },
		{ "emu:ns=4096 ", "SIZE \"4096 \"" },
		{ "emu:ns=1.5G", "SIZE \"1.5G\"" },
		{ "emu:ns=1Gx", "SIZE \"1Gx\"" },
		{ "emu:ns=0x1000", "SIZE \"0x1000\"" },
		{ "emu:ns=16777216T", "SIZE \"16777216T\"" },	/* 2^64: overflows */
		{ "emu:ns=18446744073709551616", "SIZE \"18446744073709551616\"" },
		{ "emu:ns=65537T:65536", "above 2^56 bytes" },
		{ "emu:ns=65536T:65536", NULL },		/* 2^56 exactly */
		{ "emu:ns=0:512", "SIZE is 0" },
		{ "emu:ns=0K", "SIZE is 0" },
		{ "emu:ns=1000:512", "SIZE 1000 is not a multiple of BLOCK 512; round it, e.g. ns=1K:512" },
		{ "emu:ns=512:512", NULL },			/* one block */
		{ "emu:ns=", "SIZE may be empty only when PATH" },
		{ "emu:ns=:4096", "SIZE may be empty only when PATH" },
		{ "emu:ns=:4096:", "SIZE may be empty only when PATH" },
		/* Block sizes: powers of two, 512..64 KiB. */
		{ "emu:ns=1G:3000", "BLOCK \"3000\" is not a power of two from 512 to 65536" },
		{ "emu:ns=1G:256", "BLOCK \"256\"" },
		{ "emu:ns=1G:131072", "BLOCK \"131072\"" },
		{ "emu:ns=1G:0", "BLOCK \"0\"" },
		{ "emu:ns=1G: 4096", "BLOCK \" 4096\"" },
		{ "emu:ns=1G:-512", "BLOCK \"-512\"" },
		{ "emu:ns=1G:4096x", "BLOCK \"4096x\"" },
		{ "emu:ns=1G:4K", NULL },
		{ "emu:ns=1G:65536", NULL },
		{ "emu:ns=1G:", NULL },				/* default block */
		{ "emu:ns=1G:4096:", NULL },			/* RAM */
		/* Numbers: decimal digits in range, nothing else. */
		{ "emu:mdts=", "bad mdts=" },
		{ "emu:mdts= 5", "bad mdts= 5" },
		{ "emu:mdts=+5", "bad mdts=+5" },
		{ "emu:mdts=-0", "bad mdts=-0" },
		{ "emu:mdts=0x5", "bad mdts=0x5" },
		{ "emu:mdts=5x", "bad mdts=5x" },
		{ "emu:mdts=16", "bad mdts=16" },
		{ "emu:mdts=99999999999999999999", "bad mdts=" },
		{ "emu:mdts=0", NULL },
		{ "emu:mdts=15", NULL },
		{ "emu:mdts=010", NULL },			/* decimal ten, not octal */
		{ "emu:qpairs=0", "bad qpairs=0" },
		{ "emu:qpairs=512", "bad qpairs=512" },
		{ "emu:qpairs= 8", "bad qpairs= 8" },
		{ "emu:qpairs=1", NULL },
		{ "emu:qpairs=511", NULL },
		{ "emu:mqes=1", "bad mqes=1" },
		{ "emu:mqes=65537", "bad mqes=65537" },
		{ "emu:mqes=2 ", "bad mqes=2 " },
		{ "emu:mqes=2", NULL },
		{ "emu:mqes=65536", NULL },
		{ "emu:lat_us= -5", "bad lat_us= -5" },
		{ "emu:lat_us=60000001", "bad lat_us=60000001" },
		{ "emu:lat_us=0", NULL },
		{ "emu:lat_us=60000000", NULL },
		{ "emu:cpu= -1", "bad cpu= -1" },
		{ "emu:cpu=1024", "bad cpu=1024" },
		{ "emu:cpu=0", NULL },
		{ "emu:cpu=1023", NULL },
		{ "emu:serial=", "bad serial=" },
		{ "emu:serial=01234567890123456789", NULL },	/* 20 characters */
		{ "emu:serial=012345678901234567890", "bad serial=" },
		{ "emu:serial=a\tb", "bad serial=" },
		{ "emu:sgl=", "bad sgl=" },
		{ "emu:sgl=2", "bad sgl=2" },
		{ "emu:sgl= 1", "bad sgl= 1" },
		/* Keys: each once (ns= repeats), no empty or unknown ones. */
		{ "emu:mdts=5,mdts=6", "mdts= is given twice" },
		{ "emu:sgl=1,vwc=1,sgl=1", "sgl= is given twice" },
		{ "emu:serial=A,serial=B", "serial= is given twice" },
		{ "emu:=5", "unknown option \"\"" },
		{ "emu:ns=1G,bogus", "option \"bogus\" has no value" },
		{ "emu:NS=1G", "unknown option \"NS\"" },
		{ "emu:,,ns=1G,,", NULL },			/* empty options are skipped */
		/* file= backs the namespace before it, once. */
		{ "emu:file=", "bad file=" },
		{ "emu:file=/tmp/a,ns=1G", "file= comes before the first ns=" },
		{ "emu:ns=1G:4096:/tmp/a,file=/tmp/b", "namespace 1 already has a backing file" },
		{ "emu:ns=1G,file=/tmp/a,file=/tmp/b", "namespace 1 already has a backing file" },
		{ "emu:ns=1G,file=/tmp/a,ns=2G,file=/tmp/b", NULL },
		/* At most 16 namespaces. */
		{ "emu:ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,"
		  "ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M", NULL },
		{ "emu:ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,"
		  "ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M,ns=1M", "more than 16 namespaces" },
	};
	/* Long user text is clipped in the message, never the advice. */
	static const char *const long_bad[] = {
		"emu:ns=1G:%s", "emu:ns=%s", "emu:ns=%s:%s", "emu:%s", "emu:%s=1", "emu:mdts=%s",
		"emu:serial=%s", "emu:sgl=%s", "emu:ns=1G,file=/%s,file=/b",
		"emu:ns=1G:4096:/%s,file=/b", "emu:ns=1000:512:/%s",
	};
	char junk[301], spec[1024];
	struct emu_opts o;

	(void)state;
	memset(junk, 'T', 300);
	junk[300] = '\0';
	for (size_t i = 0; i < sizeof(long_bad) / sizeof(long_bad[0]); i++) {
		snprintf(spec, sizeof(spec), long_bad[i], junk, junk);
		assert_int_equal(nvp_emu_parse_opts(spec, &o), -EINVAL);
		print_message("%s\n", nvp_last_error());
		assert_non_null(strstr(nvp_last_error(), "TTT..."));
		assert_non_null(strstr(nvp_last_error(), "e.g. emu:ns=1G:4096,ns=64M:512,qpairs=8"));
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = nvp_emu_parse_opts(rows[i].spec, &o);

		print_message("\"%s\": %d %s\n", rows[i].spec, rc, rc ? nvp_last_error() : "");
		if (!rows[i].msg) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(nvp_last_error(), rows[i].msg));
		assert_non_null(strstr(nvp_last_error(), "valid options"));
	}
	/* The values that parse are the ones given. */
	assert_int_equal(nvp_emu_parse_opts("emu:ns=65536T:65536,mdts=010,cpu=1023", &o), 0);
	assert_int_equal(o.ns[0].size, 1ull << 56);
	assert_int_equal(o.ns[0].block_size, 65536);
	assert_int_equal(o.mdts, 10);
	assert_int_equal(o.cpu, 1023);
	assert_int_equal(nvp_emu_parse_opts("emu:ns=1G:,ns=2M:4K:/tmp/a:b,file=/x", &o), -EINVAL);
	assert_int_equal(nvp_emu_parse_opts("emu:ns=1G:,ns=2M:4K:/tmp/a:b", &o), 0);
	assert_int_equal(o.nr_ns, 2);
	assert_int_equal(o.ns[0].block_size, 4096);
	assert_int_equal(o.ns[1].size, 2u << 20);
	assert_string_equal(o.ns[1].path, "/tmp/a:b");
	/* A negative size never reaches the device as a huge one. */
	{
		struct nvp_device *dev = (struct nvp_device *)1;

		assert_int_equal(nvp_emu_open("emu:ns= -4096", &dev), -EINVAL);
		assert_null(dev);
	}
}

/* ---- registers and handshakes ------------------------------------------ */

static void test_registers_and_enable(void **state)
{
	struct host h;
	uint64_t cap;

	(void)state;
	assert_int_equal(host_open_raw(&h, "emu:mqes=256"), 0);
	cap = host_rd(&h, NVP_REG_CAP) | ((uint64_t)host_rd(&h, NVP_REG_CAP + 4) << 32);
	assert_int_equal(NVP_CAP_MQES(cap), 255);
	assert_int_equal(NVP_CAP_CQR(cap), 1);
	assert_int_equal(NVP_CAP_TO(cap), 20);
	assert_int_equal(NVP_CAP_DSTRD(cap), 0);
	assert_true(NVP_CAP_CSS(cap) & NVP_CAP_CSS_NVM);
	assert_int_equal(NVP_CAP_MPSMIN(cap), 0);
	assert_int_equal(NVP_CAP_MPSMAX(cap), 4);
	assert_int_equal(host_rd(&h, NVP_REG_VS), 0x00010400);
	assert_int_equal(host_rd(&h, NVP_REG_CSTS), 0);
	assert_true(h.dev->bar0_size >= 0x1000 + 8 * 65);
	assert_int_equal(h.dev->driver, NVP_DRIVER_EMU);

	assert_true(host_enable(&h, HOST_CC_DEFAULT));
	assert_true(host_stats(&h).enabled);
	/* Disable: RDY clears; enable again works (admin queue reset). */
	assert_true(host_disable(&h));
	assert_int_equal(host_stats(&h).resets, 1);
	assert_true(host_enable(&h, HOST_CC_DEFAULT));
	/* Normal shutdown: SHST reports complete. */
	host_wr(&h, NVP_REG_CC, HOST_CC_DEFAULT | NVP_CC_SHN_NORMAL);
	assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_SHST_MASK, NVP_CSTS_SHST_CMPLT));
	assert_true(host_disable(&h));
	assert_int_equal(host_rd(&h, NVP_REG_CSTS) & NVP_CSTS_SHST_MASK, 0);
	host_close(&h);
}

static void test_cc_validation(void **state)
{
	struct host h;
	uint32_t bad[] = {
		(5u << NVP_CC_IOSQES_SHIFT) | (4u << NVP_CC_IOCQES_SHIFT) | NVP_CC_EN,
		(6u << NVP_CC_IOSQES_SHIFT) | (3u << NVP_CC_IOCQES_SHIFT) | NVP_CC_EN,
		HOST_CC_DEFAULT | (5u << NVP_CC_MPS_SHIFT),	/* above MPSMAX */
		HOST_CC_DEFAULT | (1u << NVP_CC_CSS_SHIFT),
	};

	(void)state;
	assert_int_equal(host_open_raw(&h, "emu:"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		host_enable(&h, bad[i]);
		assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_CFS | NVP_CSTS_RDY,
					  NVP_CSTS_CFS));
		/* A reset clears CFS. */
		assert_true(host_disable(&h));
		assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_CFS, 0));
	}
	/* Admin queue in memory no DMA region covers: CFS and a DMA fault. */
	host_wr(&h, NVP_REG_ASQ, 0x1000);
	host_wr(&h, NVP_REG_ASQ + 4, 0);
	host_wr(&h, NVP_REG_CC, HOST_CC_DEFAULT);
	assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_CFS, NVP_CSTS_CFS));
	assert_true(host_stats(&h).dma_faults >= 1);
	/* RDY never came up, so wait for CFS to clear: that shows the device
	 * saw EN=0 (it samples CC; see docs/emu.md). */
	assert_true(host_disable(&h));
	assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_CFS, 0));
	/* After all that, a valid configuration comes up. */
	assert_true(host_enable(&h, HOST_CC_DEFAULT));
	host_close(&h);
}

/* ---- identify and features --------------------------------------------- */

static void test_identify(void **state)
{
	struct host h;
	struct nvp_id_ctrl *id;
	struct nvp_id_ns *ns;
	uint32_t *list;

	(void)state;
	assert_int_equal(host_open(&h, "emu:ns=64M:4096,ns=8M:512,mdts=5,serial=ABC123"), 0);
	id = h.data;
	assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, id), 0);
	assert_memory_equal(id->sn, "ABC123              ", 20);
	assert_memory_equal(id->mn, "nvpoll emulated controller", 26);
	assert_int_equal(id->mn[26], ' ');
	assert_memory_equal(id->fr, "0.1     ", 8);
	assert_int_equal(id->mdts, 5);
	assert_int_equal(id->sqes, 0x66);
	assert_int_equal(id->cqes, 0x44);
	/* Identify data is little-endian. */
	assert_int_equal(nvp_le32_to_cpu(id->nn), 2);
	assert_true(nvp_le16_to_cpu(id->oacs) & NVP_OACS_DBBUF);
	assert_int_equal(nvp_le16_to_cpu(id->oncs) & (NVP_ONCS_DSM | NVP_ONCS_WRITE_ZEROES | NVP_ONCS_COMPARE),
			 NVP_ONCS_DSM | NVP_ONCS_WRITE_ZEROES | NVP_ONCS_COMPARE);
	assert_int_equal(nvp_le32_to_cpu(id->sgls) & NVP_SGLS_SUPPORT_MASK, NVP_SGLS_SUPPORTED);
	assert_true(id->vwc & NVP_VWC_PRESENT);
	assert_int_equal(nvp_le32_to_cpu(id->ver), 0x00010400);
	assert_int_equal(id->aerl, 3);
	assert_int_equal(id->acl, 3);

	ns = h.data;
	assert_int_equal(host_identify(&h, NVP_CNS_NS, 2, ns), 0);
	assert_int_equal(nvp_le64_to_cpu(ns->nsze), (8u << 20) / 512);
	assert_int_equal(ns->lbaf[NVP_ID_NS_FLBAS_INDEX(ns->flbas)].lbads, 9);
	assert_int_equal(ns->dlfeat & 7, 1);
	assert_int_equal(host_identify(&h, NVP_CNS_NS, 1, ns), 0);
	assert_int_equal(nvp_le64_to_cpu(ns->nsze), (64u << 20) / 4096);
	assert_int_equal(ns->lbaf[0].lbads, 12);

	list = h.data;
	assert_int_equal(host_identify(&h, NVP_CNS_ACTIVE_NS_LIST, 0, list), 0);
	assert_int_equal(nvp_le32_to_cpu(list[0]), 1);
	assert_int_equal(nvp_le32_to_cpu(list[1]), 2);
	assert_int_equal(list[2], 0);
	assert_int_equal(host_identify(&h, NVP_CNS_ACTIVE_NS_LIST, 1, list), 0);
	assert_int_equal(nvp_le32_to_cpu(list[0]), 2);
	assert_int_equal(list[1], 0);

	assert_int_equal(host_identify(&h, NVP_CNS_NS, 3, ns), GEN(NVP_SC_INVALID_NS) | DNR);
	assert_int_equal(host_identify(&h, NVP_CNS_NS, 0, ns), GEN(NVP_SC_INVALID_NS) | DNR);
	assert_int_equal(host_identify(&h, 0x55, 0, ns), GEN(NVP_SC_INVALID_FIELD) | DNR);
	host_close(&h);
}

static void test_features(void **state)
{
	struct host h;
	struct nvp_sqe sqe;
	struct nvp_cqe cqe;
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(host_open(&h, "emu:qpairs=4"), 0);
	assert_int_equal(host_set_num_queues(&h, 64, 2, &dw0), 0);
	assert_int_equal(dw0 & 0xffff, 3);	/* 4 SQs granted, 0's based */
	assert_int_equal(dw0 >> 16, 1);		/* 2 CQs */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_GET_FEATURES, .cdw10 = NVP_FEAT_NUM_QUEUES };
	assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
	assert_int_equal(cqe.dw0, dw0);
	/* Volatile write cache: on by default, can be turned off. */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = NVP_FEAT_VOLATILE_WC };
	assert_int_equal(host_admin(&h, &sqe, NULL), 0);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_GET_FEATURES, .cdw10 = NVP_FEAT_VOLATILE_WC };
	assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
	assert_int_equal(cqe.dw0, 0);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_GET_FEATURES,
				.cdw10 = NVP_FEAT_VOLATILE_WC | (1u << 8) };
	assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
	assert_int_equal(cqe.dw0, 1);	/* default */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = NVP_FEAT_ARBITRATION,
				.cdw11 = 3 };
	assert_int_equal(host_admin(&h, &sqe, NULL), 0);
	/* Unknown feature, saving. */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = 0x7e };
	assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_SET_FEATURES,
				.cdw10 = NVP_FEAT_ARBITRATION | (1u << 31) };
	assert_int_equal(host_admin(&h, &sqe, NULL), CS(NVP_SC_FEATURE_ID_NOT_SAVEABLE) | DNR);
	/* 65536 queues is not a valid request. */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_SET_FEATURES, .cdw10 = NVP_FEAT_NUM_QUEUES,
				.cdw11 = 0xffffffff };
	assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	/* After an I/O queue exists, Number of Queues is a sequence error. */
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	assert_int_equal(host_set_num_queues(&h, 2, 2, NULL), GEN(NVP_SC_CMD_SEQ_ERROR) | DNR);
	/* Keep Alive and an unknown admin opcode. */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_KEEP_ALIVE };
	assert_int_equal(host_admin(&h, &sqe, NULL), 0);
	sqe = (struct nvp_sqe){ .opc = 0xc3 };
	assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_OPCODE) | DNR);
	host_close(&h);
}

/* ---- queue management -------------------------------------------------- */

static void test_queue_errors(void **state)
{
	struct host h;
	void *ring;

	(void)state;
	assert_int_equal(host_open(&h, "emu:qpairs=4,mqes=64"), 0);
	assert_int_equal(host_set_num_queues(&h, 2, 2, NULL), 0);
	ring = host_dma(65536);
	/* CQ: QID 0, beyond the grant, too big, too small, PC=0, unaligned. */
	assert_int_equal(host_create_cq(&h, 0, 16, ring, 1), CS(NVP_SC_INVALID_QUEUE_ID) | DNR);
	assert_int_equal(host_create_cq(&h, 3, 16, ring, 1), CS(NVP_SC_INVALID_QUEUE_ID) | DNR);
	assert_int_equal(host_create_cq(&h, 1, 65, ring, 1), CS(NVP_SC_INVALID_QUEUE_SIZE) | DNR);
	assert_int_equal(host_create_cq(&h, 1, 1, ring, 1), CS(NVP_SC_INVALID_QUEUE_SIZE) | DNR);
	assert_int_equal(host_create_cq(&h, 1, 16, ring, 0), GEN(NVP_SC_INVALID_FIELD) | DNR);
	assert_int_equal(host_create_cq(&h, 1, 16, (uint8_t *)ring + 512, 1),
			 GEN(NVP_SC_INVALID_PRP_OFFSET) | DNR);
	assert_int_equal(host_create_cq(&h, 1, 16, ring, 1 | 2 | (5u << 16)),
			 CS(NVP_SC_INVALID_INTERRUPT_VECTOR) | DNR);
	/* SQ referencing a missing CQ. */
	assert_int_equal(host_create_sq(&h, 1, 16, ring, 1, 1),
			 CS(NVP_SC_COMPLETION_QUEUE_INVALID) | DNR);
	assert_int_equal(host_create_cq(&h, 1, 16, ring, 1), 0);
	assert_int_equal(host_stats(&h).io_cqs, 1);
	assert_int_equal(host_create_cq(&h, 1, 16, ring, 1), CS(NVP_SC_INVALID_QUEUE_ID) | DNR);
	assert_int_equal(host_create_sq(&h, 1, 16, (uint8_t *)ring + 4096, 0, 1),
			 CS(NVP_SC_COMPLETION_QUEUE_INVALID) | DNR);
	assert_int_equal(host_create_sq(&h, 1, 16, (uint8_t *)ring + 4096, 1, 0),
			 GEN(NVP_SC_INVALID_FIELD) | DNR);
	assert_int_equal(host_create_sq(&h, 1, 100, (uint8_t *)ring + 4096, 1, 1),
			 CS(NVP_SC_INVALID_QUEUE_SIZE) | DNR);
	assert_int_equal(host_create_sq(&h, 1, 16, (uint8_t *)ring + 4096, 1, 1), 0);
	assert_int_equal(host_stats(&h).io_sqs, 1);
	/* Deleting a CQ an SQ still uses; bad IDs. */
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_CQ, 1),
			 CS(NVP_SC_INVALID_QUEUE_DELETION) | DNR);
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_SQ, 0), CS(NVP_SC_INVALID_QUEUE_ID) | DNR);
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_SQ, 2), CS(NVP_SC_INVALID_QUEUE_ID) | DNR);
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_CQ, 0), CS(NVP_SC_INVALID_QUEUE_ID) | DNR);
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_SQ, 1), 0);
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_CQ, 1), 0);
	assert_int_equal(host_stats(&h).io_sqs, 0);
	assert_int_equal(host_stats(&h).io_cqs, 0);
	/* Unmapped queue memory: Data Transfer Error and a DMA fault. */
	{
		struct nvp_sqe sqe = { .opc = NVP_ADMIN_CREATE_CQ, .cdw10 = (15u << 16) | 1,
				       .cdw11 = 1 };
		uint64_t faults = host_stats(&h).dma_faults;

		sqe.dptr.prp.prp1 = 0x10000;
		assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_DATA_XFER_ERROR));
		assert_int_equal(host_stats(&h).dma_faults, faults + 1);
	}
	nvp_dma_free(ring);
	host_close(&h);
}

/* ---- data movement ------------------------------------------------------ */

static void test_read_write_prp(void **state)
{
	struct host h;
	uint8_t *wbuf, *rbuf;

	(void)state;
	assert_int_equal(host_open(&h, "emu:ns=16M:512"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 64), 0);
	wbuf = h.data;
	rbuf = (uint8_t *)h.data + (1u << 20);
	/* One block; then 8 KiB across PRP1 and PRP2. */
	fill(wbuf, 8192, 1);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, 10, 1, wbuf, 512), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 10, 1, rbuf, 512), 0);
	assert_memory_equal(wbuf, rbuf, 512);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, 100, 16, wbuf, 8192), 0);
	memset(rbuf, 0, 8192);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 100, 16, rbuf, 8192), 0);
	assert_memory_equal(wbuf, rbuf, 8192);

	/* PRP1 with an offset: 1 KiB into the page, 4 KiB long, spills into PRP2. */
	{
		struct nvp_sqe sqe;

		fill(wbuf, 4096, 2);
		memcpy(rbuf + 8192 + 1024, wbuf, 4096);
		host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 200, 8);
		sqe.dptr.prp.prp1 = host_iova(rbuf + 8192 + 1024);
		sqe.dptr.prp.prp2 = host_iova(rbuf + 8192 + 4096);
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
		memset(rbuf, 0, 4096);
		assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 200, 8, rbuf, 4096), 0);
		assert_memory_equal(wbuf, rbuf, 4096);
		/* PRP2 not page aligned for a two-page transfer. */
		host_rw_sqe(&sqe, NVP_NVM_READ, 1, 200, 16);
		sqe.dptr.prp.prp1 = host_iova(rbuf);
		sqe.dptr.prp.prp2 = host_iova(rbuf + 4096 + 8);
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL),
				 GEN(NVP_SC_INVALID_PRP_OFFSET) | DNR);
	}
	assert_int_equal(host_stats(&h).io_cmds[NVP_NVM_WRITE], 3);
	host_close(&h);
}

/* A PRP list, and a chained one: the list starts 16 bytes before the end
 * of its page, so its second entry must point to the next list page. */
static void test_prp_lists(void **state)
{
	struct host h;
	uint8_t *wbuf, *rbuf, *lists;
	uint64_t *l1, *l2, *l3;
	struct nvp_sqe sqe;
	const uint32_t pages = 8;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	wbuf = h.data;
	rbuf = (uint8_t *)h.data + (1u << 20);
	lists = host_dma(3 * 4096);
	fill(wbuf, pages * 4096, 3);

	/* Plain list: PRP1 page 0, list holds pages 1..7. Pages scattered
	 * in reverse order to prove each entry is honoured. */
	l1 = (uint64_t *)lists;
	for (uint32_t i = 1; i < pages; i++) {
		memcpy(rbuf + (pages - i) * 4096 + 65536, wbuf + i * 4096, 4096);
		l1[i - 1] = nvp_cpu_to_le64(host_iova(rbuf + (pages - i) * 4096 + 65536));
	}
	memcpy(rbuf + 65536, wbuf, 4096);
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 0, pages);
	sqe.dptr.prp.prp1 = host_iova(rbuf + 65536);
	sqe.dptr.prp.prp2 = host_iova(l1);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	memset(rbuf, 0, pages * 4096);
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, pages);
	sqe.dptr.prp.prp1 = host_iova(rbuf);
	sqe.dptr.prp.prp2 = host_iova(l1);
	for (uint32_t i = 1; i < pages; i++)
		l1[i - 1] = nvp_cpu_to_le64(host_iova(rbuf + i * 4096));
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_memory_equal(wbuf, rbuf, pages * 4096);

	/* Chained: list page A has 2 slots (data, chain), B has 2 slots
	 * (data, chain), C holds the rest. */
	memset(rbuf, 0, pages * 4096);
	l2 = (uint64_t *)(lists + 4096 - 16);
	l3 = (uint64_t *)(lists + 8192 - 16);
	/* List entries are little-endian, as the device reads them. */
	l2[0] = nvp_cpu_to_le64(host_iova(rbuf + 4096));
	l2[1] = nvp_cpu_to_le64(host_iova(l3));
	l3[0] = nvp_cpu_to_le64(host_iova(rbuf + 2 * 4096));
	l3[1] = nvp_cpu_to_le64(host_iova(lists + 8192));
	for (uint32_t i = 3; i < pages; i++)
		((uint64_t *)(lists + 8192))[i - 3] = nvp_cpu_to_le64(host_iova(rbuf + i * 4096));
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, pages);
	sqe.dptr.prp.prp1 = host_iova(rbuf);
	sqe.dptr.prp.prp2 = host_iova(l2);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_memory_equal(wbuf, rbuf, pages * 4096);

	/* A list that chains to itself fails instead of hanging. */
	l2[1] = nvp_cpu_to_le64(host_iova(l2));
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_PRP_OFFSET) | DNR);
	/* A list entry in unmapped memory: Data Transfer Error. */
	l2[0] = 0x2000;
	l2[1] = host_iova(l3);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_DATA_XFER_ERROR));
	nvp_dma_free(lists);
	host_close(&h);
}

/*
 * Long PRP chains, table driven: transfers of 1 to 64 MiB with PRP1 and the
 * first list page at various offsets, built as a host builds them (each
 * list page's last entry points to the next, page-aligned list page), must
 * be accepted and move the right data; chains that loop, chain through an
 * unaligned pointer, or through a list page that holds no data must be
 * refused with Invalid PRP Offset, without moving any data.
 */
enum chain_shape {
	CHAIN_OK,
	CHAIN_SELF_LOOP,	/* list page 2 chains to itself */
	CHAIN_BACK_TO_FIRST,	/* the last list page chains to the first */
	CHAIN_LATE_LOOP,	/* pages 2 -> 3 -> 4 -> 2 -> ... */
	CHAIN_UNALIGNED,	/* a chain pointer that is not qword aligned */
	CHAIN_EMPTY_PAGE,	/* a chained list page whose only slot chains on */
};

#define CHAIN_POOL 61	/* data pages, reused: entry k uses pool page k*37 % 61 */

static uint32_t chain_pool_page(uint64_t k)
{
	return (uint32_t)(k * 37 % CHAIN_POOL);
}

/* Build the PRP list for @n data pages into @lists; returns PRP2. */
static uint64_t chain_build(uint8_t *lists, uint32_t list_off, uint8_t *pool, uint64_t n,
			    enum chain_shape shape)
{
	uint64_t *slot = (uint64_t *)(lists + list_off);
	uint64_t room = (4096 - list_off) / 8;
	uint32_t page = 0;
	uint64_t *chain_of[64] = { 0 };	/* chain slot of list page i */

	for (uint64_t k = 0; k < n; k++) {
		if (room == 1 && n - k > 1) {
			page++;
			*slot = nvp_cpu_to_le64(host_iova(lists + (size_t)page * 4096));
			chain_of[page - 1] = slot;
			slot = (uint64_t *)(lists + (size_t)page * 4096);
			room = 512;
		}
		*slot++ = nvp_cpu_to_le64(host_iova(pool + (size_t)chain_pool_page(k) * 4096));
		room--;
	}
	assert_true(page >= 4 || shape == CHAIN_OK);
	switch (shape) {
	case CHAIN_OK:
		break;
	case CHAIN_SELF_LOOP:
		*chain_of[2] = nvp_cpu_to_le64(host_iova(lists + 2 * 4096));
		break;
	case CHAIN_BACK_TO_FIRST:
		*chain_of[page - 1] = nvp_cpu_to_le64(host_iova(lists + list_off));
		break;
	case CHAIN_LATE_LOOP:
		*chain_of[4] = nvp_cpu_to_le64(host_iova(lists + 2 * 4096));
		break;
	case CHAIN_UNALIGNED:
		*chain_of[1] = nvp_cpu_to_le64(nvp_le64_to_cpu(*chain_of[1]) + 4);
		break;
	case CHAIN_EMPTY_PAGE: {
		/* Page 1 chains to the last slot of a spare page, which
		 * chains on to page 2: no data in between. */
		uint64_t *spare = (uint64_t *)(lists + (size_t)(page + 1) * 4096 + 4088);

		*spare = *chain_of[1];
		*chain_of[1] = nvp_cpu_to_le64(host_iova(spare));
		break;
	}
	}
	return host_iova(lists + list_off);
}

static void test_prp_chains(void **state)
{
	static const struct {
		uint32_t bytes, prp1_off, list_off;
		enum chain_shape shape;
	} rows[] = {
		{ 1u << 20, 0, 0, CHAIN_OK },
		{ 4u << 20, 0, 0, CHAIN_OK },		/* 1023 pages: exactly two lists */
		{ (4u << 20) + 4096, 0, 0, CHAIN_OK },	/* one entry on a third list */
		{ 5u << 20, 0, 0, CHAIN_OK },
		{ 8u << 20, 0, 0, CHAIN_OK },
		{ 16u << 20, 0, 0, CHAIN_OK },
		{ 32u << 20, 0, 0, CHAIN_OK },
		{ 64u << 20, 0, 0, CHAIN_OK },
		{ 8u << 20, 512, 0, CHAIN_OK },		/* odd PRP1: a partial last page */
		{ 16u << 20, 4, 2048, CHAIN_OK },
		{ 32u << 20, 0, 4088, CHAIN_OK },	/* first list: one slot, a chain */
		{ 64u << 20, 3072, 8 * 300, CHAIN_OK },
		{ (64u << 20) - 4096, 1024, 8, CHAIN_OK },
		{ 8u << 20, 0, 0, CHAIN_SELF_LOOP },
		{ 8u << 20, 512, 64, CHAIN_BACK_TO_FIRST },
		{ 16u << 20, 0, 0, CHAIN_LATE_LOOP },
		{ 8u << 20, 0, 0, CHAIN_UNALIGNED },
		{ 8u << 20, 0, 0, CHAIN_EMPTY_PAGE },
	};
	struct host h;
	uint8_t *pool, *p1, *lists, *expect;
	uint8_t *ns_data;

	(void)state;
	assert_int_equal(host_open(&h, "emu:ns=80M:4096,mdts=0"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	ns_data = h.emu->ns[0].data;
	pool = host_dma(CHAIN_POOL * 4096);
	p1 = host_dma(4096);
	lists = host_dma(48 * 4096);
	expect = malloc(64u << 20);
	assert_non_null(pool);
	assert_non_null(p1);
	assert_non_null(lists);
	assert_non_null(expect);
	/* Under valgrind (a stretched time scale) moving 64 MiB takes minutes:
	 * keep to 16 MiB there, which still needs 5 chained list pages. */
	const char *scale = getenv("NVP_TEST_TIME_SCALE");
	uint32_t max_bytes = scale && atoi(scale) > 1 ? 16u << 20 : UINT32_MAX;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t bytes = rows[i].bytes, first = 4096 - rows[i].prp1_off;
		uint64_t n = (bytes - first + 4095) / 4096, off;
		uint16_t want = rows[i].shape == CHAIN_OK ? 0 : GEN(NVP_SC_INVALID_PRP_OFFSET) | DNR;
		struct nvp_sqe sqe;

		if (bytes > max_bytes)
			continue;
		print_message("PRP chain %zu: %u bytes, PRP1 offset %u, list offset %u, shape %d\n",
			      i, bytes, rows[i].prp1_off, rows[i].list_off, rows[i].shape);
		fill(pool, CHAIN_POOL * 4096, (uint32_t)i + 100);
		fill(p1, 4096, (uint32_t)i + 200);
		memset(lists, 0, 48 * 4096);
		memset(ns_data, 0, bytes);

		/* Write: the namespace gets PRP1's tail, then the pool pages in
		 * list order. */
		host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 0, bytes / 4096);
		sqe.dptr.prp.prp1 = host_iova(p1 + rows[i].prp1_off);
		sqe.dptr.prp.prp2 = chain_build(lists, rows[i].list_off, pool, n, rows[i].shape);
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), want);
		if (want) {
			/* Refused before any data moved. */
			memset(expect, 0, bytes);
			assert_memory_equal(ns_data, expect, bytes);
			continue;
		}
		memcpy(expect, p1 + rows[i].prp1_off, first);
		off = first;
		for (uint64_t k = 0; k < n; k++, off += 4096)
			memcpy(expect + off, pool + (size_t)chain_pool_page(k) * 4096,
			       bytes - off < 4096 ? bytes - off : 4096);
		assert_memory_equal(ns_data, expect, bytes);

		/* Read it back through the same chain: each pool page ends up
		 * with the last page mapped to it. */
		for (size_t b = 0; b < bytes; b += 4)
			((uint32_t *)ns_data)[b / 4] = (uint32_t)(b * 2654435761u) ^ (uint32_t)i;
		memset(pool, 0, CHAIN_POOL * 4096);
		memset(p1, 0, 4096);
		host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, bytes / 4096);
		sqe.dptr.prp.prp1 = host_iova(p1 + rows[i].prp1_off);
		sqe.dptr.prp.prp2 = host_iova(lists + rows[i].list_off);
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
		assert_memory_equal(p1 + rows[i].prp1_off, ns_data, first);
		for (uint64_t k = n > CHAIN_POOL ? n - CHAIN_POOL : 0; k < n; k++) {
			off = first + k * 4096;
			assert_memory_equal(pool + (size_t)chain_pool_page(k) * 4096, ns_data + off,
					    bytes - off < 4096 ? bytes - off : 4096);
		}
	}
	free(expect);
	nvp_dma_free(lists);
	nvp_dma_free(p1);
	nvp_dma_free(pool);
	host_close(&h);
}

/* A descriptor in an SGL segment in host memory: little-endian. */
static void sgl_desc(struct nvp_sgl_desc *d, uint8_t type, const void *va, uint32_t len)
{
	memset(d, 0, sizeof(*d));
	d->addr = nvp_cpu_to_le64(va ? host_iova(va) : 0);
	d->length = nvp_cpu_to_le32(len);
	d->type = NVP_SGL_DESC_TYPE(type, 0);
}

/* The SQE's own descriptor: in CPU order, like the rest of the command
 * until host_post() puts it in the ring. */
static void sgl_sqe(struct nvp_sqe *sqe, uint8_t type, const void *va, uint32_t len)
{
	sgl_desc(&sqe->dptr.sgl1, type, va, len);
	sqe->dptr.sgl1.addr = nvp_le64_to_cpu(sqe->dptr.sgl1.addr);
	sqe->dptr.sgl1.length = nvp_le32_to_cpu(sqe->dptr.sgl1.length);
}

static void test_sgl(void **state)
{
	struct host h;
	uint8_t *wbuf, *rbuf;
	struct nvp_sgl_desc *seg1, *seg2;
	struct nvp_sqe sqe;

	(void)state;
	assert_int_equal(host_open(&h, "emu:ns=16M:512"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	wbuf = h.data;
	rbuf = (uint8_t *)h.data + (1u << 20);
	seg1 = (struct nvp_sgl_desc *)((uint8_t *)h.data + 512 * 1024);
	seg2 = seg1 + 64;
	fill(wbuf, 4096, 4);

	/* One data block in the SQE, at an odd byte offset. */
	memcpy(rbuf + 3, wbuf, 1024);
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 0, 2);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sgl_sqe(&sqe, NVP_SGL_TYPE_DATA_BLOCK, rbuf + 3, 1024);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);

	/* Segment (2 blocks + chain) -> last segment (2 blocks), 4 x 512 B
	 * pieces at odd places, read back with PRPs. */
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 2, 4);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	for (int i = 0; i < 4; i++)
		memcpy(rbuf + 100000 * (i + 1) + 7, wbuf + 1024 + 512 * i, 512);
	sgl_sqe(&sqe, NVP_SGL_TYPE_SEGMENT, seg1, 3 * 16);
	sgl_desc(&seg1[0], NVP_SGL_TYPE_DATA_BLOCK, rbuf + 100000 + 7, 512);
	sgl_desc(&seg1[1], NVP_SGL_TYPE_DATA_BLOCK, rbuf + 200000 + 7, 512);
	sgl_desc(&seg1[2], NVP_SGL_TYPE_LAST_SEGMENT, seg2, 2 * 16);
	sgl_desc(&seg2[0], NVP_SGL_TYPE_DATA_BLOCK, rbuf + 300000 + 7, 512);
	sgl_desc(&seg2[1], NVP_SGL_TYPE_DATA_BLOCK, rbuf + 400000 + 7, 512);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	memset(rbuf, 0, 4096);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 0, 6, rbuf, 3072), 0);
	assert_memory_equal(wbuf, rbuf, 3072);

	/* Read with a bit bucket: skip the first block. */
	memset(rbuf, 0, 4096);
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 2);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sgl_sqe(&sqe, NVP_SGL_TYPE_LAST_SEGMENT, seg1, 2 * 16);
	sgl_desc(&seg1[0], NVP_SGL_TYPE_BIT_BUCKET, NULL, 512);
	sgl_desc(&seg1[1], NVP_SGL_TYPE_DATA_BLOCK, rbuf, 512);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_memory_equal(wbuf + 512, rbuf, 512);

	/* Errors: too short, bit bucket on a write, chaining out of a last
	 * segment, a bad descriptor type. */
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 2);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sgl_sqe(&sqe, NVP_SGL_TYPE_DATA_BLOCK, rbuf, 512);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_DATA_SGL_LEN_INVALID) | DNR);
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 0, 2);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sgl_sqe(&sqe, NVP_SGL_TYPE_LAST_SEGMENT, seg1, 2 * 16);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_SGL_DESC_TYPE_INVALID) | DNR);
	sgl_desc(&seg1[0], NVP_SGL_TYPE_DATA_BLOCK, rbuf, 512);
	sgl_desc(&seg1[1], NVP_SGL_TYPE_SEGMENT, seg2, 16);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_SGL_SEG_DESC) | DNR);
	sgl_sqe(&sqe, 0x9, rbuf, 1024);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_SGL_DESC_TYPE_INVALID) | DNR);
	/* A segment that points at itself is cut off, not followed forever. */
	sgl_sqe(&sqe, NVP_SGL_TYPE_SEGMENT, seg1, 16);
	sgl_desc(&seg1[0], NVP_SGL_TYPE_SEGMENT, seg1, 16);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_NUM_SGL_DESC) | DNR);
	host_close(&h);

	/* With sgl=0 an SGL command is an invalid field. */
	assert_int_equal(host_open(&h, "emu:sgl=0"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 1);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sgl_sqe(&sqe, NVP_SGL_TYPE_DATA_BLOCK, h.data, 4096);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	host_close(&h);
}

static void test_zeroes_dsm_compare_flush(void **state)
{
	struct host h;
	uint8_t *buf, *zero;
	struct nvp_dsm_range *r;
	struct nvp_sqe sqe;

	(void)state;
	assert_int_equal(host_open(&h, "emu:ns=32M:4096"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	buf = h.data;
	zero = (uint8_t *)h.data + (1u << 20);
	memset(zero, 0, 65536);
	memset(buf, 0xa5, 65536);
	for (int i = 0; i < 16; i++)
		assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, i * 2, 2, buf, 8192), 0);
	/* Write Zeroes blocks 1..3. */
	host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, 1, 3);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 0, 2, buf, 8192), 0);
	assert_int_equal(buf[0], 0xa5);
	assert_memory_equal(buf + 4096, zero, 4096);
	/* DSM deallocate two ranges: blocks 10..11 and 20. */
	r = (struct nvp_dsm_range *)((uint8_t *)h.data + 512 * 1024);
	/* Ranges in host memory are little-endian. */
	r[0] = (struct nvp_dsm_range){ .nlb = nvp_cpu_to_le32(2), .slba = nvp_cpu_to_le64(10) };
	r[1] = (struct nvp_dsm_range){ .nlb = nvp_cpu_to_le32(1), .slba = nvp_cpu_to_le64(20) };
	sqe = (struct nvp_sqe){ .opc = NVP_NVM_DSM, .nsid = 1, .cdw10 = 1,
				.cdw11 = NVP_DSM_ATTR_DEALLOCATE };
	host_prp(&sqe, r, NULL);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 10, 2, buf, 8192), 0);
	assert_memory_equal(buf, zero, 8192);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 20, 2, buf, 8192), 0);
	assert_memory_equal(buf, zero, 4096);
	assert_int_equal(buf[4096], 0xa5);
	/* A range past the end fails the whole command. */
	r[1].slba = nvp_cpu_to_le64(1u << 30);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_LBA_OUT_OF_RANGE) | DNR);
	/* Compare: equal, then different. */
	memset(buf, 0xa5, 4096);
	host_rw_sqe(&sqe, NVP_NVM_COMPARE, 1, 0, 1);
	host_prp(&sqe, buf, NULL);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	buf[100] ^= 1;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL),
			 NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE));
	/* Flush one namespace, and all of them. */
	sqe = (struct nvp_sqe){ .opc = NVP_NVM_FLUSH, .nsid = 1 };
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	sqe = (struct nvp_sqe){ .opc = NVP_NVM_FLUSH, .nsid = 0xffffffff };
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	host_close(&h);
}

static void test_io_errors(void **state)
{
	struct host h;
	struct nvp_sqe sqe;
	uint64_t faults;

	(void)state;
	assert_int_equal(host_open(&h, "emu:ns=1M:4096,mdts=1"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	/* LBA out of range: start past the end, and a range crossing it. */
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 256, 1, h.data, 4096),
			 GEN(NVP_SC_LBA_OUT_OF_RANGE) | DNR);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 255, 2, h.data, 8192),
			 GEN(NVP_SC_LBA_OUT_OF_RANGE) | DNR);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 255, 1, h.data, 4096), 0);
	host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, 200, 100);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_LBA_OUT_OF_RANGE) | DNR);
	/* Above MDTS (2 pages = 8 KiB). */
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 3);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	/* Invalid namespace, invalid opcode, fused, reserved PSDT. */
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 2, 0, 1, h.data, 4096),
			 GEN(NVP_SC_INVALID_NS) | DNR);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 0, 0, 1, h.data, 4096),
			 GEN(NVP_SC_INVALID_NS) | DNR);
	sqe = (struct nvp_sqe){ .opc = 0x7f, .nsid = 1 };
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_OPCODE) | DNR);
	/* A first fused half with no second behind the same doorbell. */
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 1);
	sqe.flags = 1;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_ABORT_FUSE_MISSING));
	/* A second half alone; FUSE 11b (reserved). */
	sqe.flags = 2;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_ABORT_FUSE_MISSING));
	sqe.flags = 3;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 1);
	sqe.flags = 3u << 6;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	/* Unmapped data buffer: Data Transfer Error, counted as a DMA fault. */
	faults = host_stats(&h).dma_faults;
	host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, 1);
	sqe.dptr.prp.prp1 = 0x3000;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_DATA_XFER_ERROR));
	sqe.dptr.prp.prp1 = 1ull << 46;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_DATA_XFER_ERROR));
	assert_int_equal(host_stats(&h).dma_faults, faults + 2);
	/* Each failure is in the error log, newest first. */
	{
		struct nvp_error_log *log = h.data;

		sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_GET_LOG_PAGE, .nsid = 0xffffffff,
					.cdw10 = NVP_LOG_ERROR | ((4096 / 4 - 1) << 16) };
		host_prp(&sqe, log, NULL);
		assert_int_equal(host_admin(&h, &sqe, NULL), 0);
		assert_true(nvp_le64_to_cpu(log[0].error_count) >= 10);	/* little-endian */
		assert_int_equal(nvp_le64_to_cpu(log[0].error_count),
				 nvp_le64_to_cpu(log[1].error_count) + 1);
		assert_int_equal(nvp_le16_to_cpu(log[0].sqid), 1);
		assert_int_equal(nvp_le16_to_cpu(log[0].status_field), GEN(NVP_SC_DATA_XFER_ERROR));
	}
	host_close(&h);
}

static void test_log_pages(void **state)
{
	struct host h;
	struct nvp_smart_log *smart;
	struct nvp_sqe sqe;
	uint64_t v;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, i, 2, h.data, 8192), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 0, 1, h.data, 4096), 0);
	smart = (struct nvp_smart_log *)((uint8_t *)h.data + 65536);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_GET_LOG_PAGE, .nsid = 0xffffffff,
				.cdw10 = NVP_LOG_SMART | ((512 / 4 - 1) << 16) };
	host_prp(&sqe, smart, NULL);
	assert_int_equal(host_admin(&h, &sqe, NULL), 0);
	memcpy(&v, smart->host_writes, 8);	/* little-endian counters */
	assert_int_equal(nvp_le64_to_cpu(v), 3);
	memcpy(&v, smart->host_reads, 8);
	assert_int_equal(nvp_le64_to_cpu(v), 1);
	memcpy(&v, smart->data_units_written, 8);
	assert_int_equal(nvp_le64_to_cpu(v), 1);	/* 24 KiB = 48 units of 512 B, rounded up to 1 */
	assert_int_equal(smart->avail_spare, 100);
	/* Unknown log page; offset past the end. */
	sqe.cdw10 = 0x77 | (127u << 16);
	assert_int_equal(host_admin(&h, &sqe, NULL), CS(NVP_SC_INVALID_LOG_PAGE) | DNR);
	sqe.cdw10 = NVP_LOG_SMART | (127u << 16);
	sqe.cdw12 = 1024;
	assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	/* Admin commands take PRPs only. */
	sqe.cdw12 = 0;
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	host_close(&h);
}

/* ---- completion queue full ---------------------------------------------- */

static void test_cq_full(void **state)
{
	struct host h;
	struct host_q *q;
	struct nvp_cqe cqe;
	uint16_t seen[16] = { 0 };
	int got = 0;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	q = &h.io[1];
	/* A 4-entry CQ (3 usable) behind a 16-entry SQ. */
	assert_int_equal(host_alloc_q(q, 1, 16), 0);
	assert_int_equal(host_create_cq(&h, 1, 4, q->cq, 1), 0);
	assert_int_equal(host_create_sq(&h, 1, 16, q->sq, 1, 1), 0);
	q->size = 16;
	for (int i = 0; i < 10; i++) {
		struct nvp_sqe sqe;

		host_rw_sqe(&sqe, NVP_NVM_READ, 1, (uint64_t)i, 1);
		host_prp(&sqe, (uint8_t *)h.data + 4096 * i, NULL);
		host_post(q, &sqe, false);
	}
	host_ring_sq(&h, q);
	host_sleep_us(20000);
	/* Exactly 3 entries are valid; the 4th slot was never written. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(nvp_le16_to_cpu(__atomic_load_n(&q->cq[i].status,
								 __ATOMIC_ACQUIRE)) & 1, 1);
	assert_int_equal(__atomic_load_n(&q->cq[3].status, __ATOMIC_ACQUIRE), 0);
	assert_true(host_stats(&h).cq_full_waits >= 1);
	/* Consume with a 4-entry view of the CQ, ringing the head each time. */
	q->size = 4;
	while (got < 10) {
		if (host_wait(&h, q, &cqe))
			break;
		assert_int_equal(HOST_ST(cqe), 0);
		assert_true(cqe.cid < 10);
		seen[cqe.cid]++;
		got++;
	}
	assert_int_equal(got, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(seen[i], 1);
	/* The SQ head in the last completion says every command was fetched. */
	assert_int_equal(cqe.sqhd, 10);
	q->size = 16;
	host_close(&h);
}

/* ---- shadow doorbells ---------------------------------------------------- */

static void test_shadow_doorbells(void **state)
{
	struct host h;
	struct nvp_sqe sqe = { .opc = NVP_ADMIN_DOORBELL_BUF_CFG };
	uint32_t *ei;
	uint8_t *buf;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	h.shadow = host_dma(4096);
	h.eventidx = host_dma(4096);
	/* Unaligned buffers are refused. */
	sqe.dptr.prp.prp1 = host_iova(h.shadow) + 64;
	sqe.dptr.prp.prp2 = host_iova(h.eventidx);
	assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	assert_false(host_stats(&h).shadow_doorbells);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_DOORBELL_BUF_CFG };
	host_prp(&sqe, h.shadow, h.eventidx);
	assert_int_equal(host_admin(&h, &sqe, NULL), 0);
	assert_true(host_stats(&h).shadow_doorbells);

	/* I/O queue 1 now rings through the shadow only. */
	h.io[1].sq_shadow = (uint32_t *)h.shadow + 2;
	h.io[1].cq_shadow = (uint32_t *)h.shadow + 3;
	h.io[1].shadow_only = true;
	buf = h.data;
	ei = h.eventidx;
	for (int i = 0; i < 20; i++) {
		fill(buf, 4096, (uint32_t)i);
		assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, (uint64_t)i, 1, buf, 4096), 0);
		/* The device publishes how far it has seen as the event index. */
		assert_int_equal(nvp_le32_to_cpu(ei[2]), h.io[1].sq_tail);
	}
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 19, 1, buf + 8192, 4096), 0);
	assert_memory_equal(buf, buf + 8192, 4096);
	/* The admin queue still works through its register (as Linux does). */
	assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, buf), 0);
	/* Shadow doorbells end with a reset. */
	assert_true(host_disable(&h));
	assert_false(host_stats(&h).shadow_doorbells);
	host_close(&h);
}

/* ---- round robin across queues ------------------------------------------ */

static void test_multi_queue(void **state)
{
	struct host h;
	uint8_t *buf;

	(void)state;
	assert_int_equal(host_open(&h, "emu:qpairs=4"), 0);
	for (uint16_t q = 1; q <= 4; q++)
		assert_int_equal(host_create_qpair(&h, q, 8), 0);
	buf = h.data;
	/* Fill every SQ, ring all, and collect all completions. */
	for (uint16_t q = 1; q <= 4; q++) {
		for (int i = 0; i < 7; i++) {
			struct nvp_sqe sqe;

			host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, q * 100u + (uint64_t)i, 1);
			fill(buf + (q * 8 + i) * 4096, 4096, q * 8u + (uint32_t)i);
			host_prp(&sqe, buf + (q * 8 + i) * 4096, NULL);
			host_post(&h.io[q], &sqe, false);
		}
	}
	for (uint16_t q = 1; q <= 4; q++)
		host_ring_sq(&h, &h.io[q]);
	for (uint16_t q = 1; q <= 4; q++) {
		for (int i = 0; i < 7; i++) {
			struct nvp_cqe cqe = { 0 };

			assert_int_equal(host_wait(&h, &h.io[q], &cqe), 0);
			assert_int_equal(cqe.sqid, q);
			assert_int_equal(HOST_ST(cqe), 0);
		}
	}
	for (uint16_t q = 1; q <= 4; q++) {
		uint8_t *r = buf + (1u << 20);

		assert_int_equal(host_rw(&h, q, NVP_NVM_READ, 1, q * 100u + 6, 1, r, 4096), 0);
		assert_memory_equal(r, buf + (q * 8 + 6) * 4096, 4096);
	}
	host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_edges),
		cmocka_unit_test(test_registers_and_enable),
		cmocka_unit_test(test_cc_validation),
		cmocka_unit_test(test_identify),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_queue_errors),
		cmocka_unit_test(test_read_write_prp),
		cmocka_unit_test(test_prp_lists),
		cmocka_unit_test(test_prp_chains),
		cmocka_unit_test(test_sgl),
		cmocka_unit_test(test_zeroes_dsm_compare_flush),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_log_pages),
		cmocka_unit_test(test_cq_full),
		cmocka_unit_test(test_shadow_doorbells),
		cmocka_unit_test(test_multi_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
