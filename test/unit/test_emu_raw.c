/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_raw.c - raw device data (emu:raw=PATH, test-only):
 * the driver attaches through its real init path to a controller whose
 * registers, Identify pages and log pages are whatever the test says, and
 * the device keeps running by them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "emu_raw_file.h"
#include "test_emu_host.h"

struct done {
	int calls;
	uint16_t status;
};

static void on_done(void *arg, const struct nvp_cqe *cpl)
{
	struct done *d = arg;

	d->calls++;
	d->status = cpl->status & 0xfffe;
}

static int wait_done(struct nvp_qpair *qp, struct done *d)
{
	for (long i = 0; i < 100000000 && !d->calls; i++)
		nvp_qpair_poll(qp, 0);
	return d->calls;
}

/* Attach "emu:@opts,raw=<file of @f>"; the file is removed again. */
static int attach_raw(const struct raw_file *f, const char *opts, struct nvp_ctrl **ctrl)
{
	struct nvp_ctrl_opts o;
	char path[64], addr[256];
	int rc;

	assert_int_equal(raw_write(f, path), 0);
	snprintf(addr, sizeof(addr), "emu:%s%sraw=%s", opts, *opts ? "," : "", path);
	nvp_ctrl_opts_init(&o, sizeof(o));
	o.admin_timeout_ms = 2000;
	o.io_timeout_ms = 2000;
	rc = nvp_ctrl_attach(addr, &o, ctrl);
	unlink(path);
	return rc;
}

static void pad(char *dst, size_t n, const char *s)
{
	memset(dst, ' ', n);
	memcpy(dst, s, strlen(s));
}

/* Identify Controller, Identify Namespace and the namespace list the
 * driver reads at attach come from the file; so do MDTS, OACS and SGLS. */
static void test_raw_identify(void **state)
{
	struct raw_file f;
	struct nvp_id_ctrl idc;
	struct nvp_id_ns idn;
	uint32_t list[3] = { nvp_cpu_to_le32(1), 0, 0 };	/* device data: little-endian */
	struct nvp_ctrl *ctrl;
	const struct nvp_ctrl_info *info;
	const struct nvp_ns_info *ni;
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	struct done d = { 0 };
	uint8_t *buf;

	(void)state;
	memset(&idc, 0, sizeof(idc));
	pad(idc.sn, sizeof(idc.sn), "RAW-SERIAL");
	pad(idc.mn, sizeof(idc.mn), "raw model");
	pad(idc.fr, sizeof(idc.fr), "9.9");
	idc.mdts = 2;		/* 16 KiB */
	idc.nn = nvp_cpu_to_le32(1);
	idc.oncs = nvp_cpu_to_le16(NVP_ONCS_WRITE_ZEROES);
	memset(&idn, 0, sizeof(idn));
	idn.nsze = idn.ncap = nvp_cpu_to_le64(100);	/* of a 1 MiB store */
	idn.nlbaf = 1;
	idn.flbas = 1;
	idn.lbaf[0].lbads = 12;
	idn.lbaf[1].lbads = 9;		/* the format in use: 512 B */
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_NS, 0, 1, &idn, sizeof(idn)), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_ACTIVE_NS_LIST, 0, 0, list, 4), 0);
	assert_int_equal(attach_raw(&f, "ns=1M:4096", &ctrl), 0);
	raw_free(&f);

	info = nvp_ctrl_get_info(ctrl);
	assert_string_equal(info->serial, "RAW-SERIAL");
	assert_string_equal(info->model, "raw model");
	assert_int_equal(info->max_xfer_bytes, 16384);
	assert_false(info->shadow_doorbells);	/* OACS has no DBBUF */
	assert_false(info->sgl_supported);
	assert_int_equal(info->num_ns, 1);
	ns = nvp_ctrl_first_ns(ctrl);
	ni = nvp_ns_get_info(ns);
	assert_int_equal(ni->block_size, 512);
	assert_int_equal(ni->num_blocks, 100);

	/* The device runs by the same format: 512-byte blocks, 100 of them. */
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(65536, 4096, NVP_NUMA_ANY);
	assert_non_null(buf);
	for (int i = 0; i < 16384; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(nvp_write(qp, ns, buf, 68, 32, 0, on_done, &d), 0);
	assert_int_equal(wait_done(qp, &d), 1);
	assert_int_equal(d.status, 0);
	memset(buf + 32768, 0, 16384);
	d.calls = 0;
	assert_int_equal(nvp_read(qp, ns, buf + 32768, 68, 32, 0, on_done, &d), 0);
	assert_int_equal(wait_done(qp, &d), 1);
	assert_int_equal(d.status, 0);
	assert_memory_equal(buf, buf + 32768, 16384);
	/* Past what the raw NSZE says, the device refuses even though its
	 * store is larger: no block the host does not know of is reachable. */
	{
		struct nvp_sqe cmd = { .opc = NVP_NVM_READ, .nsid = 1, .cdw10 = 100 };

		d.calls = 0;
		assert_int_equal(nvp_io_raw(qp, &cmd, buf, 512, on_done, &d), 0);
		assert_int_equal(wait_done(qp, &d), 1);
		assert_int_equal(d.status, NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_LBA_OUT_OF_RANGE) |
						   NVP_STATUS_DNR_BIT);
	}
	nvp_dma_free(buf);
	nvp_qpair_free(qp);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

/*
 * The device enforces the MDTS it shows, in units of the CAP.MPSMIN it
 * shows; an MDTS too large for 64 bits is no limit. Driven through the
 * register-level test host, since the driver never exceeds MDTS.
 */
static void test_raw_mdts_units(void **state)
{
	static const struct {
		uint8_t mpsmin, mdts;
		uint32_t ok_bytes, bad_bytes;	/* 0: nothing to refuse */
	} rows[] = {
		{ 0, 2, 16384, 20480 },
		{ 1, 2, 32768, 40960 },		/* 8 KiB pages */
		{ 0, 200, 1u << 20, 0 },	/* 2^212 bytes: no limit */
		{ 1, 51, 1u << 20, 0 },		/* 2^64 exactly: no limit */
		{ 0, 0, 1u << 20, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct raw_file f;
		struct nvp_id_ctrl idc;
		struct host h;
		char path[64], spec[128];
		uint64_t cap = 255 | (1ull << 16) | (2ull << 24) | (1ull << 37) |
			       ((uint64_t)rows[i].mpsmin << 48) | (4ull << 52);
		uint32_t ps = 4096u << rows[i].mpsmin;
		uint64_t *list;

		memset(&idc, 0, sizeof(idc));
		idc.mdts = rows[i].mdts;
		assert_int_equal(raw_init(&f), 0);
		cap = nvp_cpu_to_le64(cap);	/* as the register shows it */
		assert_int_equal(raw_add(&f, RAW_REG, 0, 0, NVP_REG_CAP, &cap, 8), 0);
		assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CTRL, 0, 0, &idc, sizeof(idc)), 0);
		assert_int_equal(raw_write(&f, path), 0);
		raw_free(&f);
		snprintf(spec, sizeof(spec), "emu:ns=4M:4096,raw=%s", path);
		assert_int_equal(host_open_raw(&h, spec), 0);
		unlink(path);
		assert_true(host_enable(&h, HOST_CC_DEFAULT | (rows[i].mpsmin << NVP_CC_MPS_SHIFT)));
		assert_int_equal(host_create_qpair(&h, 1, 16), 0);
		/* A PRP list over the 2 MiB data buffer, in the device's pages. */
		list = host_dma(4096);
		for (uint32_t k = 0; k < 512; k++)
			list[k] = nvp_cpu_to_le64(host_iova((uint8_t *)h.data + (size_t)(k + 1) * ps));
		for (int bad = 0; bad < 2; bad++) {
			uint32_t bytes = bad ? rows[i].bad_bytes : rows[i].ok_bytes;
			struct nvp_sqe sqe;

			if (!bytes)
				continue;
			host_rw_sqe(&sqe, NVP_NVM_READ, 1, 0, bytes / 4096);
			sqe.dptr.prp.prp1 = host_iova(h.data);
			sqe.dptr.prp.prp2 = bytes > 2 * ps ? host_iova(list) : nvp_le64_to_cpu(list[0]);
			print_message("MPSMIN %u MDTS %u: %u bytes\n", rows[i].mpsmin, rows[i].mdts, bytes);
			assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL),
					 bad ? (NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_FIELD) |
						NVP_STATUS_DNR_BIT) : 0);
		}
		nvp_dma_free(list);
		host_close(&h);
	}
}

/* A format emu cannot run (2^20-byte blocks): the driver copes, the
 * device refuses I/O to it instead of guessing a block size. */
static void test_raw_unusable_format(void **state)
{
	struct raw_file f;
	struct nvp_id_ns idn;
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	struct done d = { 0 };
	uint8_t *buf;

	(void)state;
	memset(&idn, 0, sizeof(idn));
	idn.nsze = idn.ncap = nvp_cpu_to_le64(1000);
	idn.lbaf[0].lbads = 20;
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_NS, RAW_ANY_NSID, 0, &idn, sizeof(idn)),
			 0);
	assert_int_equal(attach_raw(&f, "ns=1M:4096", &ctrl), 0);
	raw_free(&f);
	ns = nvp_ctrl_first_ns(ctrl);
	assert_non_null(ns);
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	assert_int_equal(nvp_read(qp, ns, buf, 0, 1, 0, on_done, &d), 0);
	assert_int_equal(wait_done(qp, &d), 1);
	assert_int_equal(d.status, NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_NS) | NVP_STATUS_DNR_BIT);
	nvp_dma_free(buf);
	nvp_qpair_free(qp);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

/* Log pages: a raw page replaces the device's own (SMART here) or adds
 * one it does not have (a vendor page), with its own size for LPO/NUMD. */
static void test_raw_log_pages(void **state)
{
	struct raw_file f;
	struct nvp_ctrl *ctrl;
	uint8_t smart[512], vendor[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t *buf;

	(void)state;
	memset(smart, 0xa5, sizeof(smart));
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_LOG, NVP_LOG_SMART, RAW_ANY_NSID, 0, smart, sizeof(smart)),
			 0);
	assert_int_equal(raw_add(&f, RAW_LOG, 0xc0, 0, 0xffffffff, vendor, sizeof(vendor)), 0);
	assert_int_equal(attach_raw(&f, "ns=1M", &ctrl), 0);
	raw_free(&f);
	buf = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	memset(buf, 0, 4096);
	assert_int_equal(nvp_get_log_page(ctrl, 0xffffffff, NVP_LOG_SMART, buf, 512), 0);
	assert_memory_equal(buf, smart, 512);
	memset(buf, 0xee, 4096);
	assert_int_equal(nvp_get_log_page(ctrl, 0xffffffff, 0xc0, buf, 16), 0);
	assert_memory_equal(buf, vendor, 12);
	assert_int_equal(buf[12] | buf[13] | buf[14] | buf[15], 0);	/* past its end: zeroes */
	/* Only for the NSID it was given. */
	assert_int_not_equal(nvp_get_log_page(ctrl, 1, 0xc0, buf, 16), 0);
	nvp_dma_free(buf);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

/* A raw CAP: the device takes its queue limit and doorbell stride from
 * it, so a driver that follows CAP keeps working; VS is shown as given. */
static void test_raw_registers(void **state)
{
	static const uint32_t dstrd[] = { 0, 1, 2, 3 };

	(void)state;
	for (size_t i = 0; i < sizeof(dstrd) / sizeof(dstrd[0]); i++) {
		for (int dbbuf = 0; dbbuf < 2; dbbuf++) {
			struct raw_file f;
			struct nvp_ctrl *ctrl;
			struct nvp_qpair *qp[2];
			struct nvp_emu_stats st;
			uint64_t cap = 7 |			/* MQES: 8 entries */
				       (1ull << 16) |		/* CQR */
				       (2ull << 24) |		/* TO: 1 s */
				       ((uint64_t)dstrd[i] << 32) |
				       (1ull << 37) |		/* CSS: NVM */
				       (4ull << 52);		/* MPSMAX 64 KiB */
			uint32_t vs = 0x00020000, vs_le = nvp_cpu_to_le32(vs);
			uint64_t cap_le = nvp_cpu_to_le64(cap);
			uint8_t *buf;

			print_message("DSTRD %u, dbbuf %d\n", dstrd[i], dbbuf);
			assert_int_equal(raw_init(&f), 0);
			assert_int_equal(raw_add(&f, RAW_REG, 0, 0, NVP_REG_CAP, &cap_le, 8), 0);
			assert_int_equal(raw_add(&f, RAW_REG, 0, 0, NVP_REG_VS, &vs_le, 4), 0);
			assert_int_equal(attach_raw(&f, dbbuf ? "ns=1M,qpairs=4" : "ns=1M,qpairs=4,dbbuf=0",
						    &ctrl),
					 0);
			raw_free(&f);
			assert_int_equal(nvp_ctrl_get_info(ctrl)->max_queue_entries, 8);
			assert_int_equal(nvp_ctrl_get_info(ctrl)->version, vs);
			assert_int_equal(nvp_ctrl_get_info(ctrl)->shadow_doorbells, dbbuf);
			buf = nvp_dma_alloc(8192, 4096, NVP_NUMA_ANY);
			assert_non_null(buf);
			for (int q = 0; q < 2; q++)
				assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp[q]), 0);
			/* Several laps of the 8-entry rings, on two queues. */
			for (int n = 0; n < 40; n++) {
				for (int q = 0; q < 2; q++) {
					struct done d = { 0 };

					assert_int_equal(nvp_read(qp[q], nvp_ctrl_first_ns(ctrl),
								  buf + 4096 * q, (uint64_t)n, 1, 0,
								  on_done, &d),
							 0);
					assert_int_equal(wait_done(qp[q], &d), 1);
					assert_int_equal(d.status, 0);
				}
			}
			assert_int_equal(nvp_emu_get_stats(ctrl, &st, sizeof(st)), 0);
			assert_int_equal(st.io_cmds[NVP_NVM_READ], 80);
			assert_int_equal(st.invalid_doorbells, 0);
			for (int q = 0; q < 2; q++)
				nvp_qpair_free(qp[q]);
			nvp_dma_free(buf);
			assert_int_equal(nvp_ctrl_detach(ctrl), 0);
		}
	}
}

/* A malformed file fails the attach with a message naming what is wrong. */
static void test_raw_bad_files(void **state)
{
	static const struct {
		uint8_t type;
		uint32_t nsid;
		uint32_t len;
		const char *msg;
	} rows[] = {
		{ 9, 0, 4, "unknown type" },
		{ RAW_IDENTIFY, 0, 4097, "longer than 4096" },
		{ RAW_LOG, 0, 6, "multiple of 4" },
		{ RAW_LOG, 0, 0, "multiple of 4" },
		{ RAW_REG, NVP_REG_CAP, 4, "CAP (offset 0, 8 bytes)" },
		{ RAW_REG, 0x14, 4, "CAP (offset 0, 8 bytes)" },
	};
	static uint8_t zero[8192];
	struct nvp_ctrl *ctrl = NULL;
	struct raw_file f;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(raw_init(&f), 0);
		assert_int_equal(raw_add(&f, rows[i].type, 1, 0, rows[i].nsid, zero, rows[i].len), 0);
		assert_int_equal(attach_raw(&f, "", &ctrl), -EINVAL);
		assert_non_null(strstr(nvp_last_error(), rows[i].msg));
		assert_non_null(strstr(nvp_last_error(), "record at byte 8"));
		raw_free(&f);
	}
	/* Cut short: in the header, and in the data. */
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_LOG, 1, 0, 0, zero, 8), 0);
	f.len -= 1;
	assert_int_equal(attach_raw(&f, "", &ctrl), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "data runs past the end"));
	f.len = 8 + 5;
	assert_int_equal(attach_raw(&f, "", &ctrl), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "header runs past the end"));
	/* Not a raw file; no file at all. */
	memcpy(f.buf, "NVPEMUR0", 8);
	assert_int_equal(attach_raw(&f, "", &ctrl), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "does not start with"));
	raw_free(&f);
	assert_int_equal(nvp_ctrl_attach("emu:raw=/nonexistent/raw.bin", NULL, &ctrl), -ENOENT);
	assert_non_null(strstr(nvp_last_error(), "check the path"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_identify),
		cmocka_unit_test(test_raw_mdts_units),
		cmocka_unit_test(test_raw_unusable_format),
		cmocka_unit_test(test_raw_log_pages),
		cmocka_unit_test(test_raw_registers),
		cmocka_unit_test(test_raw_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
