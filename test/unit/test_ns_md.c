/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_ns_md.c - how ns.c reads a namespace's metadata and PI
 * format: FLBAS extended bit, LBAF.MS, DPS type and location, the guard
 * from the NVM command set Identify Namespace (CNS 05h ELBAF.PIF), and
 * max_io_blocks counting interleaved metadata against MDTS. The emulated
 * controller serves the pages; emu:raw= replaces CNS 00h/05h where a case
 * needs what emu does not implement (the 64-bit and 32-bit guards, a PI
 * type above 3). Also: plain I/O refuses a metadata namespace, *_ext
 * refuses an unsupported one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

#include "emu_raw_file.h"

static void on_done(void *arg, const struct nvp_cqe *cpl)
{
	(void)arg;
	(void)cpl;
}

static int attach(const char *addr, const struct raw_file *f, struct nvp_ctrl **ctrl)
{
	char path[64], full[256];
	int rc;

	if (!f)
		return nvp_ctrl_attach(addr, NULL, ctrl);
	assert_int_equal(raw_write(f, path), 0);
	snprintf(full, sizeof(full), "%s,raw=%s", addr, path);
	rc = nvp_ctrl_attach(full, NULL, ctrl);
	unlink(path);
	return rc;
}

/* The formats emu itself reports (16-bit guard), from CNS 00h alone. */
static void test_formats_from_emu(void **state)
{
	static const struct {
		const char *addr;
		uint32_t bs, ms;
		bool ext;
		uint8_t type;
		bool first;
	} t[] = {
		{ "emu:ns=16M:512", 512, 0, false, 0, false },
		{ "emu:ns=16M:512+8:ext", 512, 8, true, 0, false },
		{ "emu:ns=16M:4096+8:sep:pi1", 4096, 8, false, 1, false },
		{ "emu:ns=16M:512+16:ext:pi2:first", 512, 16, true, 2, true },
		{ "emu:ns=16M:4096+64:pi3:last", 4096, 64, false, 3, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nvp_ctrl *ctrl = NULL;
		const struct nvp_ns_info *ni;
		uint32_t max_xfer;

		print_message("%s\n", t[i].addr);
		assert_int_equal(attach(t[i].addr, NULL, &ctrl), 0);
		ni = nvp_ns_get_info(nvp_ctrl_get_ns(ctrl, 1));
		max_xfer = nvp_ctrl_get_info(ctrl)->max_xfer_bytes;
		assert_int_equal(ni->block_size, t[i].bs);
		assert_int_equal(ni->md_size, t[i].ms);
		assert_int_equal(ni->md_extended, t[i].ext);
		assert_int_equal(ni->pi_type, t[i].type);
		assert_int_equal(ni->pi_first, t[i].first);
		assert_int_equal(ni->pi_guard_bits, t[i].type ? 16 : 0);
		assert_int_equal(ni->pi_size, t[i].type ? 8 : 0);
		/* Interleaved metadata counts against the transfer limit. */
		assert_int_equal(ni->max_io_blocks,
				 max_xfer / (t[i].bs + (t[i].ext ? t[i].ms : 0)) > 65536 ? 65536 :
				 max_xfer / (t[i].bs + (t[i].ext ? t[i].ms : 0)));
		assert_int_equal(nvp_ctrl_detach(ctrl), 0);
	}
}

/* The page emu reports for namespace 1 of @addr, and its format index. */
static void emu_page(const char *addr, struct nvp_id_ns *id, unsigned int *fmt)
{
	struct nvp_ctrl *ctrl = NULL;

	assert_int_equal(attach(addr, NULL, &ctrl), 0);
	memcpy(id, nvp_ns_identify(nvp_ctrl_get_ns(ctrl, 1)), sizeof(*id));
	*fmt = NVP_ID_NS_FLBAS_INDEX(id->flbas);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

static void test_guard_from_cns05(void **state)
{
	static const struct {
		uint8_t pif;
		int ext_rc;		/* nvp_read_ext() with PRACT */
		uint8_t bits, size;
	} t[] = {
		{ NVP_PIF_16B, 0, 16, 8 },
		{ NVP_PIF_64B, 0, 64, 16 },
		{ NVP_PIF_32B, -ENOTSUP, 16, 8 },	/* not supported: refused */
	};
	const char *addr = "emu:ns=16M:4096+16:pi2";
	struct nvp_id_ns id;
	unsigned int fmt;

	(void)state;
	emu_page(addr, &id, &fmt);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		static struct nvp_id_ns_nvm nvm;
		struct nvp_ctrl *ctrl = NULL;
		struct nvp_qpair *qp = NULL;
		struct nvp_io_opts o;
		const struct nvp_ns_info *ni;
		struct nvp_ns *ns;
		struct raw_file f;
		void *buf;

		memset(&nvm, 0, sizeof(nvm));
		nvm.elbaf[fmt] = nvp_cpu_to_le32((uint32_t)t[i].pif << 7);
		assert_int_equal(raw_init(&f), 0);
		assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_CSI_NS, 0, 1, &nvm,
					 sizeof(nvm)), 0);
		assert_int_equal(attach(addr, &f, &ctrl), 0);
		raw_free(&f);
		ns = nvp_ctrl_get_ns(ctrl, 1);
		ni = nvp_ns_get_info(ns);
		assert_int_equal(ni->pi_type, 2);
		assert_int_equal(ni->pi_guard_bits, t[i].bits);
		assert_int_equal(ni->pi_size, t[i].size);
		/* Submission only: the queue pair is freed before anything runs. */
		assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
		buf = nvp_dma_alloc(4096 + 16, 4096, NVP_NUMA_ANY);
		assert_non_null(buf);
		nvp_io_opts_init(&o, sizeof(o));
		o.md = (char *)buf + 4096;
		assert_int_equal(nvp_read(qp, ns, buf, 0, 1, 0, on_done, NULL), -ENOTSUP);
		/* Plain reads point to *_ext, unless no call can use the format. */
		assert_non_null(strstr(nvp_last_error(), t[i].ext_rc ? "does not support" :
								      "nvp_read_ext"));
		assert_int_equal(nvp_read_ext(qp, ns, buf, 0, 1, &o, on_done, NULL), t[i].ext_rc);
		nvp_qpair_free(qp);
		nvp_dma_free(buf);
		assert_int_equal(nvp_ctrl_detach(ctrl), 0);
	}
}

/* A PI type above 3, or metadata too small for its PI: refused, not guessed. */
static void test_unsupported_formats(void **state)
{
	const char *addr = "emu:ns=16M:4096+8:pi1";
	static struct nvp_id_ns id;
	unsigned int fmt;
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct raw_file f;
	void *buf;

	(void)state;
	emu_page(addr, &id, &fmt);
	id.dps = 5;	/* type 5 does not exist */
	assert_int_equal(raw_init(&f), 0);
	assert_int_equal(raw_add(&f, RAW_IDENTIFY, NVP_CNS_NS, 0, 1, &id, sizeof(id)), 0);
	assert_int_equal(attach(addr, &f, &ctrl), 0);
	raw_free(&f);
	/* Reported as no PI at all, not as a type with a guard. */
	assert_int_equal(nvp_ns_get_info(nvp_ctrl_get_ns(ctrl, 1))->pi_type, 0);
	assert_int_equal(nvp_ns_get_info(nvp_ctrl_get_ns(ctrl, 1))->pi_guard_bits, 0);
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(8192, 4096, NVP_NUMA_ANY);
	assert_non_null(buf);
	assert_int_equal(nvp_read_ext(qp, nvp_ctrl_get_ns(ctrl, 1), buf, 0, 1, NULL, on_done,
				      NULL), -ENOTSUP);
	assert_non_null(strstr(nvp_last_error(), "does not support"));
	nvp_qpair_free(qp);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
	nvp_dma_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_from_emu),
		cmocka_unit_test(test_guard_from_cns05),
		cmocka_unit_test(test_unsupported_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
