/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_faults.c - the emulated controller's options, file
 * backing, fault injection, Abort, asynchronous events, added latency, and
 * a throughput measurement of the device thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_emu_host.h"

#define DNR NVP_STATUS_DNR_BIT
#define GEN(sc) NVP_STATUS(NVP_SCT_GENERIC, sc)

/* ---- options ------------------------------------------------------------ */

static void test_options(void **state)
{
	struct emu_opts o;
	static const char *const bad[] = {
		"emu:bogus=1", "emu:ns", "emu:ns=", "emu:ns=1G:1000", "emu:ns=1G:256",
		"emu:ns=1000:512", "emu:ns=xyz", "emu:ns=-1G", "emu:mdts=16", "emu:qpairs=0",
		"emu:qpairs=512", "emu:mqes=1", "emu:mqes=65537", "emu:lat_us=-5",
		"emu:serial=", "emu:serial=012345678901234567890", "emu:sgl=maybe",
		"emu:ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G,ns=1G",
		"emu:ns=:4096", "emu:cpu=-1", "emu:cpu=99999",
	};
	struct nvp_device *dev = (struct nvp_device *)1;

	(void)state;
	assert_int_equal(nvp_emu_parse_opts("emu:", &o), 0);
	assert_int_equal(o.nr_ns, 1);
	assert_int_equal(o.ns[0].size, 1ull << 30);
	assert_int_equal(o.ns[0].block_size, 4096);
	assert_int_equal(o.mdts, 7);
	assert_string_equal(o.serial, "NVPEMU0001");
	assert_int_equal(nvp_emu_parse_opts(
				 "emu:ns=64M:512,ns=2GiB:4096:/tmp/a:b.img,mdts=0,qpairs=8,mqes=256,lat_us=50,serial=X Y,dbbuf=0,vwc=off,cpu=1",
				 &o),
			 0);
	assert_int_equal(o.nr_ns, 2);
	assert_int_equal(o.ns[0].size, 64ull << 20);
	assert_int_equal(o.ns[0].block_size, 512);
	assert_int_equal(o.ns[1].size, 2ull << 30);
	assert_string_equal(o.ns[1].path, "/tmp/a:b.img");
	assert_int_equal(o.mdts, 0);
	assert_int_equal(o.qpairs, 8);
	assert_int_equal(o.mqes, 256);
	assert_int_equal(o.lat_us, 50);
	assert_string_equal(o.serial, "X Y");
	assert_false(o.dbbuf);
	assert_false(o.vwc);
	assert_true(o.sgl);
	assert_int_equal(o.cpu, 1);
	/* The prefix is optional; file= applies to the last namespace. */
	assert_int_equal(nvp_emu_parse_opts("ns=1M,file=/tmp/x", &o), 0);
	assert_string_equal(o.ns[0].path, "/tmp/x");
	assert_int_equal(nvp_emu_parse_opts("emu:file=/tmp/y", &o), 0);
	assert_string_equal(o.ns[0].path, "/tmp/y");
	assert_int_equal(o.ns[0].size, 1ull << 30);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nvp_emu_parse_opts(bad[i], &o), -EINVAL);
		/* The message lists what is valid. */
		assert_non_null(strstr(nvp_last_error(), "valid options"));
	}
	assert_int_equal(nvp_emu_open("emu:nope=1", &dev), -EINVAL);
	assert_null(dev);
}

/* ---- file backing --------------------------------------------------------- */

static void test_file_backing(void **state)
{
	char path[64], spec[128];
	struct host h;
	uint8_t *buf;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/nvp-emu-test-%d.img", (int)getpid());
	unlink(path);
	snprintf(spec, sizeof(spec), "emu:ns=8M:4096:%s", path);
	assert_int_equal(host_open(&h, spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	buf = h.data;
	for (int i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(i * 7);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, 5, 1, buf, 4096), 0);
	/* FUA and Flush go through to the file. */
	{
		struct nvp_sqe sqe;

		host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 6, 1);
		sqe.cdw12 |= NVP_RW_FUA;
		host_prp(&sqe, buf, NULL);
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
		sqe = (struct nvp_sqe){ .opc = NVP_NVM_FLUSH, .nsid = 1 };
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	}
	host_close(&h);

	/* The file holds the data at the right offset... */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	{
		uint8_t b[4096];

		assert_int_equal(pread(fd, b, sizeof(b), 5 * 4096), 4096);
		for (int i = 0; i < 4096; i++)
			assert_int_equal(b[i], (uint8_t)(i * 7));
	}
	close(fd);

	/* ...and a new emulator on the same file (size from the file) reads it. */
	snprintf(spec, sizeof(spec), "emu:ns=:4096:%s", path);
	assert_int_equal(host_open(&h, spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	buf = h.data;
	memset(buf, 0, 8192);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 5, 2, buf, 8192), 0);
	for (int i = 0; i < 4096; i++) {
		assert_int_equal(buf[i], (uint8_t)(i * 7));
		assert_int_equal(buf[4096 + i], (uint8_t)(i * 7));
	}
	/* Deallocate punches a hole: reads as zeroes. */
	{
		struct nvp_sqe sqe;

		host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, 5, 1);
		sqe.cdw12 |= NVP_WZ_DEAC;
		assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
		assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 5, 1, buf, 4096), 0);
		for (int i = 0; i < 4096; i++)
			assert_int_equal(buf[i], 0);
	}
	host_close(&h);
	unlink(path);

	/* A file that cannot be created is a clear error. */
	assert_int_equal(host_open_raw(&h, "emu:ns=1M:4096:/nonexistent-dir/x.img"), -ENOENT);
	host_close(&h);
}

/* ---- fault injection ------------------------------------------------------ */

static struct nvp_emu_fault fault(enum nvp_emu_fault_type type)
{
	struct nvp_emu_fault f;

	memset(&f, 0, sizeof(f));
	f.type = type;
	return f;
}

static void test_fault_status(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_STATUS);
	uint16_t media = NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR) | DNR;
	struct nvp_sqe sqe;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	/* Reads touching LBA 100..109 fail twice; other LBAs and writes are fine. */
	f.count = 2;
	f.match = NVP_EMU_MATCH_OPCODE | NVP_EMU_MATCH_IO | NVP_EMU_MATCH_LBA;
	f.opcode = NVP_NVM_READ;
	f.slba = 100;
	f.nlb = 10;
	f.status = media;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 0, 1, h.data, 4096), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 110, 1, h.data, 4096), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, 100, 1, h.data, 4096), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 98, 2, h.data, 8192), 0);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 99, 2, h.data, 8192), media);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 109, 1, h.data, 4096), media);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 105, 1, h.data, 4096), 0); /* used up */
	assert_int_equal(host_stats(&h).faults_hit, 2);

	/* Match by queue ID: admin commands only, forever, until cleared. */
	f = fault(NVP_EMU_FAULT_STATUS);
	f.count = NVP_EMU_FOREVER;
	f.match = NVP_EMU_MATCH_QID;
	f.qid = 0;
	f.status = GEN(NVP_SC_INTERNAL);
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, h.data), GEN(NVP_SC_INTERNAL));
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 0, 1, h.data, 4096), 0);
	assert_int_equal(nvp_emu_dev_clear_faults(h.emu), 0);
	assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, h.data), 0);
	/* Match everything, once: whatever comes next fails. */
	f = fault(NVP_EMU_FAULT_STATUS);
	f.status = GEN(NVP_SC_NS_NOT_READY);
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	host_rw_sqe(&sqe, NVP_NVM_FLUSH, 1, 0, 1);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_NS_NOT_READY));
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	/* Bad requests. */
	f = fault(NVP_EMU_FAULT_STATUS);
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), -EINVAL);	/* success status */
	f.type = 99;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), -EINVAL);
	assert_int_equal(nvp_emu_dev_inject(h.emu, NULL, sizeof(f)), -EINVAL);
	f = fault(NVP_EMU_FAULT_DELAY);
	f.match = NVP_EMU_MATCH_OPCODE | NVP_EMU_MATCH_IO;
	f.opcode = 0x55;
	for (int i = 0; i < 32; i++)
		assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), -ENOSPC);
	host_close(&h);
}

/* Post a read of LBA @lba without waiting; returns the CID. */
static uint16_t post_read(struct host *h, uint16_t qid, uint64_t lba)
{
	struct nvp_sqe sqe;
	uint16_t cid;

	host_rw_sqe(&sqe, NVP_NVM_READ, 1, lba, 1);
	host_prp(&sqe, (uint8_t *)h->data + 4096 * (lba % 64), NULL);
	cid = host_post(&h->io[qid], &sqe, false);
	host_ring_sq(h, &h->io[qid]);
	return cid;
}

static void test_fault_drop_and_abort(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_DROP);
	struct nvp_cqe cqe = { 0 };
	struct nvp_sqe sqe;
	uint16_t cid, cid2;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	f.match = NVP_EMU_MATCH_IO;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	cid = post_read(&h, 1, 1);
	assert_int_equal(host_wait_ms(&h, &h.io[1], &cqe, 50), -ETIMEDOUT);
	assert_int_equal(host_stats(&h).cqes_dropped, 1);
	/* Abort finds nothing in the device: DW0 bit 0 set (not aborted). */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_ABORT, .cdw10 = ((uint32_t)cid << 16) | 1 };
	assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
	assert_int_equal(cqe.dw0 & 1, 1);
	/* Abort naming an SQ that does not exist. */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_ABORT, .cdw10 = ((uint32_t)cid << 16) | 9 };
	assert_int_equal(host_admin(&h, &sqe, &cqe), GEN(NVP_SC_INVALID_FIELD) | DNR);
	/* The queue still works; no other command is lost. */
	cid2 = post_read(&h, 1, 2);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid2);

	/* A delayed command is in the device: Abort completes it with Abort
	 * Requested first, then itself with DW0 bit 0 clear. */
	f = fault(NVP_EMU_FAULT_DELAY);
	f.match = NVP_EMU_MATCH_IO;
	f.delay_us = 5000000;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	cid = post_read(&h, 1, 3);
	while (host_stats(&h).pending == 0)
		host_sleep_us(100);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_ABORT, .cdw10 = ((uint32_t)cid << 16) | 1 };
	assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
	assert_int_equal(cqe.dw0 & 1, 0);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(HOST_ST(cqe), GEN(NVP_SC_ABORT_REQUESTED));
	assert_int_equal(host_stats(&h).aborted, 1);
	assert_int_equal(host_stats(&h).pending, 0);
	host_close(&h);
}

/* Wait until the device holds @n commands (they all reached it). */
static bool host_wait_pending(struct host *h, uint32_t n)
{
	uint64_t end = host_now_ms() + HOST_TIMEOUT_MS;

	while (host_stats(h).pending < n)
		if (host_now_ms() > end)
			return false;
	return true;
}

/*
 * Abort of the oldest of several held commands, then more held commands:
 * every one still held must complete (the held list must keep its tail
 * when its head is taken out).
 */
static void test_fault_abort_first_of_many(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_DELAY);
	struct nvp_cqe cqe = { 0 };
	struct nvp_sqe sqe;
	uint16_t cids[4];
	bool seen[4] = { false };

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	f.match = NVP_EMU_MATCH_IO;
	f.count = NVP_EMU_FOREVER;
	f.delay_us = 200000;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	for (int i = 0; i < 3; i++)
		cids[i] = post_read(&h, 1, (uint64_t)i);
	assert_true(host_wait_pending(&h, 3));
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_ABORT, .cdw10 = ((uint32_t)cids[0] << 16) | 1 };
	assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
	assert_int_equal(cqe.dw0 & 1, 0);
	assert_int_equal(host_stats(&h).pending, 2);
	cids[3] = post_read(&h, 1, 3);
	assert_true(host_wait_pending(&h, 3));
	/* The aborted one, then the three still held, each exactly once. */
	for (int n = 0; n < 4; n++) {
		int k = -1;

		assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
		for (int i = 0; i < 4; i++)
			if (cqe.cid == cids[i])
				k = i;
		assert_true(k >= 0);
		assert_false(seen[k]);
		seen[k] = true;
		assert_int_equal(HOST_ST(cqe), k == 0 ? GEN(NVP_SC_ABORT_REQUESTED) : 0);
	}
	assert_int_equal(host_stats(&h).pending, 0);
	host_close(&h);
}

static void test_fault_delay_and_latency(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_DELAY);
	struct nvp_cqe cqe = { 0 };
	uint64_t t0;
	uint16_t slow, fast;

	(void)state;
	assert_int_equal(host_open(&h, "emu:qpairs=2"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	assert_int_equal(host_create_qpair(&h, 2, 16), 0);
	/* Delay queue 1 by 300 ms: queue 2 is not blocked meanwhile. */
	f.match = NVP_EMU_MATCH_QID;
	f.qid = 1;
	f.delay_us = 300000;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	t0 = host_now_ms();
	slow = post_read(&h, 1, 1);
	assert_true(host_wait_pending(&h, 1)); /* the device holds it */
	fast = post_read(&h, 2, 2);
	assert_int_equal(host_wait(&h, &h.io[2], &cqe), 0);
	assert_int_equal(cqe.cid, fast);
	/* Ordering, not a stopwatch: the slow one is still held. */
	assert_int_equal(host_stats(&h).pending, 1);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, slow);
	assert_true(host_now_ms() - t0 >= 300);
	host_close(&h);

	/* lat_us: every I/O command takes at least that long; admin does not. */
	assert_int_equal(host_open(&h, "emu:lat_us=500000"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	post_read(&h, 1, 0);
	/* The device has fetched the read (else the race below is with the fetch) */
	assert_true(host_wait_pending(&h, 1));
	assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, h.data), 0);
	assert_int_equal(host_stats(&h).pending, 1); /* Identify overtook the read */
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	t0 = host_now_ms();
	for (int i = 0; i < 8; i++)
		post_read(&h, 1, (uint64_t)i);
	/* Held concurrently: all 8 are pending at once, none waits for another. */
	assert_true(host_wait_pending(&h, 8));
	for (int i = 0; i < 8; i++)
		assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_true(host_now_ms() - t0 >= 500);
	host_close(&h);
}

static void test_fault_bad_cids(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_UNKNOWN_CID);
	struct nvp_cqe cqe = { 0 };
	uint16_t cid;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	/* Unknown CID: an extra completion first, then the real one. */
	f.match = NVP_EMU_MATCH_IO;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	cid = post_read(&h, 1, 1);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, 0xfffe);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	/* Duplicate: the same completion twice. */
	f = fault(NVP_EMU_FAULT_DUP_CID);
	f.match = NVP_EMU_MATCH_IO;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	cid = post_read(&h, 1, 2);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	/* Corrupted CID = drop + unknown CID on the same command. */
	f = fault(NVP_EMU_FAULT_DROP);
	f.match = NVP_EMU_MATCH_IO;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	f = fault(NVP_EMU_FAULT_UNKNOWN_CID);
	f.match = NVP_EMU_MATCH_IO;
	f.cid = 0x1234;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	post_read(&h, 1, 3);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, 0x1234);
	assert_int_equal(host_wait_ms(&h, &h.io[1], &cqe, 50), -ETIMEDOUT);
	/* And the queue carries on. */
	assert_int_equal(host_rw(&h, 1, NVP_NVM_READ, 1, 4, 1, h.data, 4096), 0);
	host_close(&h);
}

/* NVP_EMU_FAULT_CQE: every completion field as the test chooses. */
static void test_fault_cqe_fields(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_CQE);
	struct nvp_cqe cqe = { 0 };
	uint8_t *buf;
	uint16_t cid;
	/* Every status bit but the phase: SC, SCT, CRD, More and DNR. */
	static const uint16_t statuses[] = { 0xfffe, 0x8000, 0x4000, 0x2000 | 0x0002, 0x0000 };

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	buf = h.data;
	/* Put something on LBA 9 to see that the command still executes. */
	memset(buf + 32768, 0x3c, 4096);
	assert_int_equal(host_rw(&h, 1, NVP_NVM_WRITE, 1, 9, 1, buf + 32768, 4096), 0);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		f = fault(NVP_EMU_FAULT_CQE);
		f.match = NVP_EMU_MATCH_IO;
		f.cqe_fields = NVP_EMU_CQE_CID | NVP_EMU_CQE_SQID | NVP_EMU_CQE_SQHD |
			       NVP_EMU_CQE_STATUS | NVP_EMU_CQE_DW0 | NVP_EMU_CQE_DW1;
		f.cqe_cid = (uint16_t)(0xbe00 + i);
		f.cqe_sqid = 0x77;
		f.cqe_sqhd = 0xfff0;
		f.cqe_status = statuses[i];
		f.cqe_dw0 = 0xdeadbeef;
		f.cqe_dw1 = 0x12345678;
		assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
		memset(buf + 9 * 4096, 0, 4096);	/* where post_read() reads LBA 9 to */
		post_read(&h, 1, 9);
		assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
		assert_int_equal(cqe.cid, 0xbe00 + i);
		assert_int_equal(cqe.sqid, 0x77);
		assert_int_equal(cqe.sqhd, 0xfff0);
		assert_int_equal(cqe.status & 0xfffe, statuses[i] & 0xfffe);
		assert_int_equal(cqe.dw0, 0xdeadbeef);
		assert_int_equal(cqe.dw1, 0x12345678);
		/* It replaced the real completion, and the read did happen. */
		assert_int_equal(host_wait_ms(&h, &h.io[1], &cqe, 50), -ETIMEDOUT);
		assert_int_equal(buf[9 * 4096], 0x3c);
	}
	/* One field only, the rest real; the phase bit keeps flipping right
	 * across a CQ wrap (16 entries). */
	for (int i = 0; i < 20; i++) {
		f = fault(NVP_EMU_FAULT_CQE);
		f.match = NVP_EMU_MATCH_IO;
		f.cqe_fields = NVP_EMU_CQE_DW0;
		f.cqe_dw0 = (uint32_t)i;
		assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
		cid = post_read(&h, 1, 9);
		assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
		assert_int_equal(cqe.cid, cid);
		assert_int_equal(cqe.sqid, 1);
		assert_int_equal(HOST_ST(cqe), 0);
		assert_int_equal(cqe.dw0, i);
	}
	/* EXTRA: the corrupted completion first, then the real one. */
	f = fault(NVP_EMU_FAULT_CQE);
	f.match = NVP_EMU_MATCH_IO;
	f.cqe_fields = NVP_EMU_CQE_EXTRA | NVP_EMU_CQE_STATUS | NVP_EMU_CQE_SQID;
	f.cqe_status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL) | DNR;
	f.cqe_sqid = 3;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	cid = post_read(&h, 1, 9);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(cqe.sqid, 3);
	assert_int_equal(HOST_ST(cqe), GEN(NVP_SC_INTERNAL) | DNR);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(cqe.sqid, 1);
	assert_int_equal(HOST_ST(cqe), 0);
	/* On the admin queue too. */
	f = fault(NVP_EMU_FAULT_CQE);
	f.match = NVP_EMU_MATCH_QID;
	f.qid = 0;
	f.cqe_fields = NVP_EMU_CQE_DW0;
	f.cqe_dw0 = 0xa5a5a5a5;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	{
		struct nvp_sqe sqe = { .opc = NVP_ADMIN_GET_FEATURES, .cdw10 = NVP_FEAT_NUM_QUEUES };

		assert_int_equal(host_admin(&h, &sqe, &cqe), 0);
		assert_int_equal(cqe.dw0, 0xa5a5a5a5);
	}
	/* A caller built before the cqe_* fields cannot arm one; nothing to
	 * set is refused too. The older faults still work at the old size. */
	f = fault(NVP_EMU_FAULT_CQE);
	f.cqe_fields = NVP_EMU_CQE_CID;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, offsetof(struct nvp_emu_fault, cqe_fields)),
			 -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "rebuild against this nvpoll/emu.h"));
	f.cqe_fields = NVP_EMU_CQE_EXTRA;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), -EINVAL);
	f = fault(NVP_EMU_FAULT_DUP_CID);
	f.match = NVP_EMU_MATCH_IO;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, offsetof(struct nvp_emu_fault, cqe_fields)),
			 0);
	cid = post_read(&h, 1, 9);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	host_close(&h);
}

static void test_fault_fatal(void **state)
{
	struct host h;
	struct nvp_cqe cqe = { 0 };

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	assert_int_equal(nvp_emu_dev_fatal(h.emu), 0);
	assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_CFS, NVP_CSTS_CFS));
	assert_true(host_stats(&h).fatal);
	/* Nothing is processed any more. */
	post_read(&h, 1, 0);
	assert_int_equal(host_wait_ms(&h, &h.io[1], &cqe, 50), -ETIMEDOUT);
	/* A controller reset recovers it. */
	assert_true(host_disable(&h));
	assert_true(host_wait_reg(&h, NVP_REG_CSTS, NVP_CSTS_CFS, 0));
	assert_true(host_enable(&h, HOST_CC_DEFAULT));
	assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, h.data), 0);
	host_close(&h);
}

static void test_fault_removal(void **state)
{
	struct host h;
	struct nvp_cqe cqe = { 0 };

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	assert_int_equal(nvp_emu_dev_remove(h.emu), 0);
	assert_true(host_wait_reg(&h, NVP_REG_CSTS, 0xffffffffu, 0xffffffffu));
	assert_int_equal(host_rd(&h, NVP_REG_CAP), 0xffffffffu);
	assert_int_equal(host_rd(&h, NVP_REG_VS), 0xffffffffu);
	assert_int_equal(host_rd(&h, NVP_REG_DBS + 8), 0xffffffffu);
	assert_true(host_stats(&h).removed);
	/* Writes go nowhere, nothing completes, nothing crashes. */
	post_read(&h, 1, 0);
	host_wr(&h, NVP_REG_CC, 0);
	assert_int_equal(host_wait_ms(&h, &h.io[1], &cqe, 20), -ETIMEDOUT);
	host_sleep_us(5000);
	assert_int_equal(host_rd(&h, NVP_REG_CSTS), 0xffffffffu);
	host_close(&h);
}

static void test_async_events(void **state)
{
	struct host h;
	struct nvp_sqe sqe;
	struct nvp_cqe cqe = { 0 };
	uint16_t cids[5];

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	/* Four AERs are held; the fifth exceeds AERL. */
	for (int i = 0; i < 5; i++) {
		sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_ASYNC_EVENT };
		cids[i] = host_post(&h.aq, &sqe, false);
	}
	host_ring_sq(&h, &h.aq);
	assert_int_equal(host_wait(&h, &h.aq, &cqe), 0);
	assert_int_equal(cqe.cid, cids[4]);
	assert_int_equal(HOST_ST(cqe),
			 NVP_STATUS(NVP_SCT_CMD_SPECIFIC, NVP_SC_ASYNC_EVENT_LIMIT_EXCEEDED));
	assert_int_equal(host_stats(&h).aers_outstanding, 4);
	assert_int_equal(host_wait_ms(&h, &h.aq, &cqe, 20), -ETIMEDOUT);

	/* A SMART event completes the oldest AER. */
	assert_int_equal(nvp_emu_dev_async_event(h.emu, NVP_AER_TYPE_SMART, 0x01, NVP_LOG_SMART), 0);
	assert_int_equal(host_wait(&h, &h.aq, &cqe), 0);
	assert_int_equal(cqe.cid, cids[0]);
	assert_int_equal(cqe.dw0, NVP_AER_TYPE_SMART | (0x01u << 8) | ((uint32_t)NVP_LOG_SMART << 16));
	/* A second SMART event waits until the host reads the SMART log... */
	assert_int_equal(nvp_emu_dev_async_event(h.emu, NVP_AER_TYPE_SMART, 0x02, NVP_LOG_SMART), 0);
	assert_int_equal(host_wait_ms(&h, &h.aq, &cqe, 30), -ETIMEDOUT);
	/* ...while a notice of another type goes straight through. */
	assert_int_equal(nvp_emu_dev_async_event(h.emu, NVP_AER_TYPE_NOTICE, 0x00, NVP_LOG_CHANGED_NS), 0);
	assert_int_equal(host_wait(&h, &h.aq, &cqe), 0);
	assert_int_equal(cqe.cid, cids[1]);
	assert_int_equal(cqe.dw0 & 7, NVP_AER_TYPE_NOTICE);
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_GET_LOG_PAGE, .nsid = 0xffffffff,
				.cdw10 = NVP_LOG_SMART | ((512 / 4 - 1) << 16) };
	host_prp(&sqe, h.data, NULL);
	cids[0] = host_post(&h.aq, &sqe, false);
	host_ring_sq(&h, &h.aq);
	/* Two completions, in either order: the log page and the AER. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(host_wait(&h, &h.aq, &cqe), 0);
		if (cqe.cid == cids[0]) {
			assert_int_equal(HOST_ST(cqe), 0);
		} else {
			assert_int_equal(cqe.cid, cids[2]);
			assert_int_equal((cqe.dw0 >> 8) & 0xff, 0x02);
		}
	}
	/* An out-of-range doorbell value raises an error event by itself. */
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	host_wr(&h, NVP_REG_DBS + 8, 100);
	assert_int_equal(host_wait(&h, &h.aq, &cqe), 0);
	assert_int_equal(cqe.cid, cids[3]);
	assert_int_equal(cqe.dw0 & 7, NVP_AER_TYPE_ERROR);
	assert_int_equal((cqe.dw0 >> 8) & 0xff, 0x01);	/* invalid doorbell write value */
	assert_int_equal(host_stats(&h).invalid_doorbells, 1);
	/* A reset drops outstanding AERs. */
	sqe = (struct nvp_sqe){ .opc = NVP_ADMIN_ASYNC_EVENT };
	host_post(&h.aq, &sqe, false);
	host_ring_sq(&h, &h.aq);
	while (host_stats(&h).aers_outstanding != 1)
		host_sleep_us(100);
	assert_true(host_disable(&h));
	assert_int_equal(host_stats(&h).aers_outstanding, 0);
	host_close(&h);
}

/* Delete an SQ while a command is held: it completes as aborted first. */
static void test_delete_sq_with_held_command(void **state)
{
	struct host h;
	struct nvp_emu_fault f = fault(NVP_EMU_FAULT_DELAY);
	struct nvp_cqe cqe = { 0 };
	uint16_t cid;

	(void)state;
	assert_int_equal(host_open(&h, "emu:"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	f.match = NVP_EMU_MATCH_IO;
	f.delay_us = 10000000;
	assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
	cid = post_read(&h, 1, 0);
	while (host_stats(&h).pending == 0)
		host_sleep_us(100);
	assert_int_equal(host_delete_q(&h, NVP_ADMIN_DELETE_SQ, 1), 0);
	assert_int_equal(host_wait(&h, &h.io[1], &cqe), 0);
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(HOST_ST(cqe), GEN(NVP_SC_ABORT_SQ_DELETED));
	assert_int_equal(host_stats(&h).pending, 0);
	host_close(&h);
}

/* ---- throughput ------------------------------------------------------------ */

/* User plus system CPU time of the whole process, in clock ticks. */
static uint64_t process_cpu_ticks(void)
{
	unsigned long ut = 0, st = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		ut = st = 0;
	fclose(f);
	return ut + st;
}

/* 4 KiB reads at queue depth 32 for ~0.5 s; prints commands per second. */
static void test_throughput(void **state)
{
	struct host h;
	struct host_q *q;
	struct nvp_cqe cqe = { 0 };
	uint64_t done = 0, t0, t1;
	const uint32_t depth = 32;

	(void)state;
	assert_int_equal(host_open(&h, "emu:qpairs=1,mqes=1024"), 0);
	assert_int_equal(host_create_qpair(&h, 1, 256), 0);
	q = &h.io[1];
	for (uint32_t i = 0; i < depth; i++) {
		struct nvp_sqe sqe;

		host_rw_sqe(&sqe, NVP_NVM_READ, 1, i, 1);
		host_prp(&sqe, (uint8_t *)h.data + 4096 * i, NULL);
		host_post(q, &sqe, false);
	}
	host_ring_sq(&h, q);
	t0 = host_now_ms();
	do {
		int n = 0;

		while (host_peek(q, &cqe)) {
			struct nvp_sqe sqe;

			assert_int_equal(HOST_ST(cqe), 0);
			host_rw_sqe(&sqe, NVP_NVM_READ, 1, (done + depth) % 4096, 1);
			host_prp(&sqe, (uint8_t *)h.data + 4096 * (cqe.cid % depth), NULL);
			sqe.cid = cqe.cid;
			host_post(q, &sqe, true);
			n++;
			done++;
		}
		if (n) {
			host_ring_cq(&h, q);
			host_ring_sq(&h, q);
		}
		t1 = host_now_ms();
	} while (done < 4096 && t1 - t0 < 120000);
	print_message("emu device thread: %.0f 4 KiB reads/s at QD%u (host and device on %ld CPUs)\n",
		      (double)done * 1000.0 / (double)(t1 - t0), depth, sysconf(_SC_NPROCESSORS_ONLN));
	/* Sixteen laps of the 256-entry queues, every command successful. */
	assert_true(done >= 4096);

	/*
	 * Idle: the device thread backs off until it sleeps its longest
	 * interval. Asserted on the device's own counter, not on CPU time,
	 * so a slow host (valgrind, a loaded CI machine) cannot fail it; the
	 * CPU share is printed for whoever reads the log.
	 */
	{
		uint64_t busy_deep = host_stats(&h).deep_sleeps, cpu0, cpu1;
		uint64_t deadline = host_now_ms() + 60000;

		while (host_stats(&h).deep_sleeps == busy_deep && host_now_ms() < deadline)
			host_sleep_us(10000);
		assert_true(host_stats(&h).deep_sleeps > busy_deep);
		cpu0 = process_cpu_ticks();
		host_sleep_us(500000);
		cpu1 = process_cpu_ticks();
		print_message("emu idle: %.0f%% of a CPU once asleep\n",
			      (double)(cpu1 - cpu0) * 100.0 / (0.5 * (double)sysconf(_SC_CLK_TCK)));
	}
	host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_file_backing),
		cmocka_unit_test(test_fault_status),
		cmocka_unit_test(test_fault_drop_and_abort),
		cmocka_unit_test(test_fault_abort_first_of_many),
		cmocka_unit_test(test_fault_delay_and_latency),
		cmocka_unit_test(test_fault_bad_cids),
		cmocka_unit_test(test_fault_cqe_fields),
		cmocka_unit_test(test_fault_fatal),
		cmocka_unit_test(test_fault_removal),
		cmocka_unit_test(test_async_events),
		cmocka_unit_test(test_delete_sq_with_held_command),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
