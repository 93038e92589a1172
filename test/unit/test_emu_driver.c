/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_driver.c - the driver (lib/nvme) against the emulated
 * controller through the public API, one test per fault primitive: the
 * caller gets a clear error, nothing crashes or hangs, and no other request
 * is lost.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

struct done {
	int calls;
	uint16_t status;
	uint16_t cid;
};

static void on_done(void *arg, const struct nvp_cqe *cpl)
{
	struct done *d = arg;

	d->calls++;
	d->status = cpl->status & 0xfffe;
	d->cid = cpl->cid;
}

struct rig {
	struct nvp_ctrl *ctrl;
	struct nvp_ns *ns;
	struct nvp_qpair *qp;
	uint8_t *buf;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void rig_open(struct rig *r, const char *addr, uint32_t io_timeout_ms)
{
	struct nvp_ctrl_opts o;

	memset(r, 0, sizeof(*r));
	nvp_ctrl_opts_init(&o, sizeof(o));
	o.io_timeout_ms = io_timeout_ms;
	o.admin_timeout_ms = 2000;
	assert_int_equal(nvp_ctrl_attach(addr, &o, &r->ctrl), 0);
	r->ns = nvp_ctrl_first_ns(r->ctrl);
	assert_non_null(r->ns);
	assert_int_equal(nvp_qpair_alloc(r->ctrl, NULL, &r->qp), 0);
	r->buf = nvp_dma_alloc(1u << 20, 4096, NVP_NUMA_ANY);
	assert_non_null(r->buf);
}

static void rig_close(struct rig *r)
{
	nvp_qpair_free(r->qp);
	nvp_dma_free(r->buf);
	assert_int_equal(nvp_ctrl_detach(r->ctrl), 0);
}

/* Poll until every @n done records a call or @ms pass; returns the last poll rc. */
static int wait_all(struct rig *r, struct done *d, int n, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	int rc = 0;

	for (;;) {
		int left = 0;

		for (int i = 0; i < n; i++)
			left += d[i].calls == 0;
		if (!left || now_ms() > end)
			return rc;
		rc = nvp_qpair_poll(r->qp, 0);
		nvp_ctrl_process_admin(r->ctrl);
	}
}

static struct nvp_emu_fault io_fault(enum nvp_emu_fault_type type)
{
	struct nvp_emu_fault f;

	memset(&f, 0, sizeof(f));
	f.type = type;
	f.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_LBA;
	f.slba = 7;
	return f;
}

/* Reads of LBAs 0..7 with the fault aimed at LBA 7; the others must succeed. */
static void submit_eight(struct rig *r, struct done *d)
{
	uint32_t bs = nvp_ns_get_info(r->ns)->block_size;

	memset(d, 0, 8 * sizeof(*d));
	for (int i = 0; i < 8; i++)
		assert_int_equal(nvp_read(r->qp, r->ns, r->buf + (size_t)i * bs, (uint64_t)i, 1, 0,
					  on_done, &d[i]), 0);
}

static void test_attach_and_data(void **state)
{
	struct rig r;
	struct done d = { 0 };
	const struct nvp_ctrl_info *info;
	struct nvp_emu_stats st;

	(void)state;
	rig_open(&r, "emu:ns=64M:4096,serial=DRV1", 0);
	info = nvp_ctrl_get_info(r.ctrl);
	assert_int_equal(info->driver, NVP_DRIVER_EMU);
	assert_string_equal(info->serial, "DRV1");
	assert_true(info->sgl_supported);
	memset(r.buf, 0x5a, 8192);
	assert_int_equal(nvp_write(r.qp, r.ns, r.buf, 10, 2, 0, on_done, &d), 0);
	wait_all(&r, &d, 1, 2000);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	memset(r.buf, 0, 8192);
	d.calls = 0;
	assert_int_equal(nvp_read(r.qp, r.ns, r.buf, 10, 2, 0, on_done, &d), 0);
	wait_all(&r, &d, 1, 2000);
	assert_int_equal(d.status, 0);
	assert_int_equal(r.buf[0], 0x5a);
	assert_int_equal(r.buf[8191], 0x5a);
	assert_int_equal(nvp_emu_get_stats(r.ctrl, &st, sizeof(st)), 0);
	assert_true(st.io_cmds[NVP_NVM_WRITE] >= 1);
	assert_true(st.io_sqs >= 1);
	assert_int_equal(st.shadow_doorbells, info->shadow_doorbells);
	rig_close(&r);
	/* Not an emulated controller: the API says so. */
	assert_int_equal(nvp_emu_fatal(NULL), -ENOTSUP);
}

/* The driver's own chained PRP lists for single commands of 8..64 MiB
 * (the emulator once refused them with Invalid PRP Offset). */
static void test_driver_big_prp_chains(void **state)
{
	static const uint32_t mib[] = { 1, 5, 8, 16, 32, 64 };
	struct nvp_ctrl_opts o;
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	uint8_t *wbuf, *rbuf;
	struct nvp_emu_stats before, after;

	(void)state;
	nvp_ctrl_opts_init(&o, sizeof(o));
	o.max_xfer_bytes = 64u << 20;
	o.no_sgl = true;	/* PRPs, not SGLs */
	assert_int_equal(nvp_ctrl_attach("emu:ns=80M:4096,mdts=0", &o, &ctrl), 0);
	ns = nvp_ctrl_first_ns(ctrl);
	assert_int_equal(nvp_ctrl_get_info(ctrl)->max_xfer_bytes, 64u << 20);
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	wbuf = nvp_dma_alloc(64u << 20, 4096, NVP_NUMA_ANY);
	rbuf = nvp_dma_alloc((64u << 20) + 4096, 4096, NVP_NUMA_ANY);
	assert_non_null(wbuf);
	assert_non_null(rbuf);
	for (size_t i = 0; i < sizeof(mib) / sizeof(mib[0]); i++) {
		size_t len = (size_t)mib[i] << 20;
		uint8_t *r = rbuf + 512 * (i & 1);	/* odd PRP1 offsets too */
		struct done d = { 0 };

		for (size_t b = 0; b < len; b += 4)
			*(uint32_t *)(wbuf + b) = (uint32_t)(b * 2654435761u) ^ (uint32_t)i;
		assert_int_equal(nvp_emu_get_stats(ctrl, &before, sizeof(before)), 0);
		assert_int_equal(nvp_write(qp, ns, wbuf, 0, (uint32_t)(len / 4096), 0, on_done, &d), 0);
		while (!d.calls)
			nvp_qpair_poll(qp, 0);
		assert_int_equal(d.status, 0);
		memset(r, 0, len);
		d.calls = 0;
		assert_int_equal(nvp_read(qp, ns, r, 0, (uint32_t)(len / 4096), 0, on_done, &d), 0);
		while (!d.calls)
			nvp_qpair_poll(qp, 0);
		assert_int_equal(d.status, 0);
		assert_true(memcmp(wbuf, r, len) == 0);
		/* One command each way: not split. */
		assert_int_equal(nvp_emu_get_stats(ctrl, &after, sizeof(after)), 0);
		assert_int_equal(after.io_cmds[NVP_NVM_WRITE] - before.io_cmds[NVP_NVM_WRITE], 1);
		assert_int_equal(after.io_cmds[NVP_NVM_READ] - before.io_cmds[NVP_NVM_READ], 1);
	}
	nvp_dma_free(wbuf);
	nvp_dma_free(rbuf);
	nvp_qpair_free(qp);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

static void test_driver_status_fault(void **state)
{
	struct rig r;
	struct done d[8];
	struct nvp_emu_fault f = io_fault(NVP_EMU_FAULT_STATUS);

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 0);
	f.status = NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR) | NVP_STATUS_DNR_BIT;
	assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
	submit_eight(&r, d);
	wait_all(&r, d, 8, 2000);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].status, i == 7 ? f.status : 0);
	}
	assert_int_equal(nvp_status_to_errno(d[7].status), -EIO);
	rig_close(&r);
}

static void test_driver_dropped_completion(void **state)
{
	struct rig r;
	struct done d[8];
	struct nvp_emu_fault f = io_fault(NVP_EMU_FAULT_DROP);

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 200);
	assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
	submit_eight(&r, d);
	wait_all(&r, d, 8, 5000);
	for (int i = 0; i < 8; i++)
		assert_int_equal(d[i].calls, 1);
	for (int i = 0; i < 7; i++)
		assert_int_equal(d[i].status, 0);
	/*
	 * The dropped one times out; the Abort finds nothing to abort, which
	 * does not prove the device will not still run it, so a reset ends it
	 * and it is posted again: it succeeds, once.
	 */
	assert_int_equal(d[7].status, 0);
	{
		struct nvp_ctrl_stats cs;

		assert_int_equal(nvp_ctrl_get_stats(r.ctrl, &cs, sizeof(cs)), 0);
		assert_int_equal(cs.resets, 1);
	}
	rig_close(&r);
}

static void test_driver_delay_abort(void **state)
{
	struct rig r;
	struct done d[8];
	struct nvp_emu_fault f = io_fault(NVP_EMU_FAULT_DELAY);
	struct nvp_emu_stats st;

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 200);
	f.delay_us = 30000000;	/* 30 s: the driver must give up first */
	assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
	submit_eight(&r, d);
	wait_all(&r, d, 8, 5000);
	for (int i = 0; i < 8; i++)
		assert_int_equal(d[i].calls, 1);
	for (int i = 0; i < 7; i++)
		assert_int_equal(d[i].status, 0);
	assert_int_not_equal(d[7].status, 0);
	assert_int_equal(nvp_emu_get_stats(r.ctrl, &st, sizeof(st)), 0);
	assert_true(st.aborted == 1 || st.resets >= 1);	/* aborted, or reset */
	rig_close(&r);
}

static void test_driver_bad_cids(void **state)
{
	struct rig r;
	struct done d[8];
	enum nvp_emu_fault_type types[] = { NVP_EMU_FAULT_UNKNOWN_CID, NVP_EMU_FAULT_DUP_CID };

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 0);
	for (size_t t = 0; t < 2; t++) {
		struct nvp_emu_fault f = io_fault(types[t]);

		assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
		submit_eight(&r, d);
		wait_all(&r, d, 8, 2000);
		/* Let a late duplicate arrive, then make sure nothing ran twice. */
		for (int i = 0; i < 100; i++)
			nvp_qpair_poll(r.qp, 0);
		for (int i = 0; i < 8; i++) {
			assert_int_equal(d[i].calls, 1);
			assert_int_equal(d[i].status, 0);
		}
		assert_int_equal(nvp_qpair_outstanding(r.qp), 0);
	}
	rig_close(&r);
}

/*
 * Completions whose fields the device corrupts (NVP_EMU_FAULT_CQE): the
 * driver takes a believable status as the command's, ignores a CQE it
 * cannot match, times out a command whose real CQE never comes, and calls
 * every callback exactly once.
 */
static void test_driver_cqe_fault(void **state)
{
	static const struct {
		uint32_t fields;
		uint16_t cid, sqid, sqhd, status;
		bool lost;	/* the real completion never arrives */
	} rows[] = {
		/* An error with More and DNR, for the right command. */
		{ NVP_EMU_CQE_STATUS, 0, 0, 0, 0xc000 | NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL), false },
		/* Extra CQEs the driver must not act on. */
		{ NVP_EMU_CQE_EXTRA | NVP_EMU_CQE_CID, 0xffff, 0, 0, 0, false },
		{ NVP_EMU_CQE_EXTRA | NVP_EMU_CQE_CID | NVP_EMU_CQE_STATUS, 0x0100, 0, 0, 0x0004, false },
		{ NVP_EMU_CQE_EXTRA | NVP_EMU_CQE_SQHD, 0, 0, 0xffff, 0, false },
		{ NVP_EMU_CQE_EXTRA | NVP_EMU_CQE_SQID | NVP_EMU_CQE_SQHD, 0, 0x3ff, 0x1234, 0, false },
		/* The real completion replaced by one for another CID: time out. */
		{ NVP_EMU_CQE_CID, 0x7fff, 0, 0, 0, true },
	};
	struct rig r;

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 300);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nvp_emu_fault f = io_fault(NVP_EMU_FAULT_CQE);
		struct done d[8];

		f.cqe_fields = rows[i].fields;
		f.cqe_cid = rows[i].cid;
		f.cqe_sqid = rows[i].sqid;
		f.cqe_sqhd = rows[i].sqhd;
		f.cqe_status = rows[i].status;
		print_message("CQE fault %zu: fields 0x%x\n", i, rows[i].fields);
		assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
		submit_eight(&r, d);
		wait_all(&r, d, 8, 5000);
		for (int k = 0; k < 100; k++)
			nvp_qpair_poll(r.qp, 0);
		for (int k = 0; k < 8; k++)
			assert_int_equal(d[k].calls, 1);
		for (int k = 0; k < 7; k++)
			assert_int_equal(d[k].status, 0);
		/* Lost: timeout, Abort, reset, posted again: it succeeds. */
		if (!rows[i].lost && !(rows[i].fields & NVP_EMU_CQE_EXTRA))
			assert_int_not_equal(d[7].status, 0);
		else
			assert_int_equal(d[7].status, 0);
		if (rows[i].fields == NVP_EMU_CQE_STATUS)
			assert_int_equal(d[7].status, rows[i].status);
		assert_int_equal(nvp_qpair_outstanding(r.qp), 0);
		assert_int_equal(nvp_emu_clear_faults(r.ctrl), 0);
	}
	rig_close(&r);
}

static void test_driver_fatal(void **state)
{
	struct rig r;
	struct done d[8];
	struct nvp_emu_fault f = io_fault(NVP_EMU_FAULT_DELAY);
	int rc;

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 1000);
	f.delay_us = 30000000;	/* one command stays in flight */
	assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
	submit_eight(&r, d);
	wait_all(&r, d, 7, 2000);
	assert_int_equal(nvp_emu_fatal(r.ctrl), 0);
	/*
	 * The held command is lost with the firmware; its timeout finds
	 * CSTS.CFS and resets the controller (as Linux does), the queue pair
	 * reconnects and posts the command again: it completes once, fine.
	 */
	assert_int_equal(nvp_emu_clear_faults(r.ctrl), 0);
	rc = wait_all(&r, d, 8, 5000);
	assert_true(rc >= 0);
	assert_int_equal(d[7].calls, 1);
	assert_int_equal(d[7].status, 0);
	assert_false(nvp_ctrl_is_failed(r.ctrl));
	{
		struct nvp_qpair_stats qs;
		struct nvp_ctrl_stats cs;

		nvp_qpair_get_stats(r.qp, &qs, sizeof(qs));
		assert_int_equal(nvp_ctrl_get_stats(r.ctrl, &cs, sizeof(cs)), 0);
		assert_int_equal(cs.resets, 1);
		assert_int_equal(qs.retried, 1);
		assert_int_equal(qs.reconnects, 1);
	}
	assert_int_equal(nvp_qpair_conn_state(r.qp), NVP_QPAIR_CONNECTED);
	d[0].calls = 0;
	assert_int_equal(nvp_read(r.qp, r.ns, r.buf, 0, 1, 0, on_done, &d[0]), 0);
	while (!d[0].calls)
		assert_true(nvp_qpair_poll(r.qp, 0) >= 0);
	assert_int_equal(d[0].status, 0);
	rig_close(&r);
}

static void test_driver_removal(void **state)
{
	struct rig r;
	struct done d[8];
	struct nvp_emu_fault f = io_fault(NVP_EMU_FAULT_DELAY);

	(void)state;
	rig_open(&r, "emu:ns=64M:4096", 1000);
	f.delay_us = 30000000;
	assert_int_equal(nvp_emu_inject(r.ctrl, &f, sizeof(f)), 0);
	submit_eight(&r, d);
	wait_all(&r, d, 7, 2000);
	assert_int_equal(nvp_emu_remove(r.ctrl), 0);
	wait_all(&r, d, 8, 5000);
	assert_int_equal(d[7].calls, 1);
	assert_int_not_equal(d[7].status, 0);
	assert_true(nvp_ctrl_is_failed(r.ctrl));
	assert_int_equal(nvp_qpair_poll(r.qp, 0), -ENODEV);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_and_data),
		cmocka_unit_test(test_driver_big_prp_chains),
		cmocka_unit_test(test_driver_status_fault),
		cmocka_unit_test(test_driver_dropped_completion),
		cmocka_unit_test(test_driver_delay_abort),
		cmocka_unit_test(test_driver_bad_cids),
		cmocka_unit_test(test_driver_cqe_fault),
		cmocka_unit_test(test_driver_fatal),
		cmocka_unit_test(test_driver_removal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
