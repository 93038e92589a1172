/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/fuzz/fuzz_cqe.c - libFuzzer target: completions whose fields the
 * device corrupts (NVP_EMU_FAULT_CQE). The input arms up to eight faults
 * (which commands they hit, which CQE fields they set to what, replace or
 * extra, plus drops and duplicates), then runs a script of I/O and admin
 * commands on an emulated controller.
 *
 * The driver must not crash, must ignore CQEs it cannot match, and must
 * call every accepted command back exactly once: the tracker abort()s on a
 * second callback, and after nvp_qpair_free() every command must have had
 * its one callback (a lost completion times out: io_timeout_ms 20).
 *
 * Input layout (little-endian, bytes past the end read as 0):
 *   u8 nfaults (% 9), then per fault 26 bytes:
 *     u8 kind (% 4: CQE, CQE extra, DROP, DUP), u8 match (bit 0: admin
 *     queue instead of I/O queues, bit 1: match the opcode), u8 opcode,
 *     u8 count (% 4 + 1), u32 cqe_fields (the six field bits), u16 cid,
 *     u16 sqid, u16 sqhd, u16 status, u32 dw0, u32 dw1, u16 spare
 *   then up to 48 script bytes, each one command or poll (see run_script).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "fuzz_common.h"

/* FUZZ_TRACE=1: print each fault and step, to read a reproducer. */
static int trace = -1;

#define TRACE(...)                                                                  \
	do {                                                                        \
		if (trace < 0) {                                                    \
			const char *e = getenv("FUZZ_TRACE");                       \
			trace = e && *e == '1';                                     \
		}                                                                   \
		if (trace)                                                          \
			fprintf(stderr, "fuzz_cqe: " __VA_ARGS__);                  \
	} while (0)

/*
 * A synchronous admin command that timed out resets the controller; start
 * the next input on a fresh controller anyway, so inputs stay independent.
 */
static bool stale_admin;

static void arm_faults(struct nvp_ctrl *ctrl, struct fuzz_in *in)
{
	unsigned int n = fuzz_u8(in) % 9;

	for (unsigned int i = 0; i < n; i++) {
		struct nvp_emu_fault f;
		uint8_t kind = fuzz_u8(in) % 4, match = fuzz_u8(in);

		memset(&f, 0, sizeof(f));
		f.opcode = fuzz_u8(in);
		f.count = fuzz_u8(in) % 4 + 1;
		f.cqe_fields = fuzz_u32(in) & 0x3f;
		f.cqe_cid = fuzz_u16(in);
		f.cqe_sqid = fuzz_u16(in);
		f.cqe_sqhd = fuzz_u16(in);
		f.cqe_status = fuzz_u16(in);
		f.cqe_dw0 = fuzz_u32(in);
		f.cqe_dw1 = fuzz_u32(in);
		fuzz_u16(in);
		if (match & 1) {
			f.match = NVP_EMU_MATCH_QID;	/* admin queue */
			f.qid = 0;
		} else {
			f.match = NVP_EMU_MATCH_IO;
		}
		if (match & 2)
			f.match |= NVP_EMU_MATCH_OPCODE;
		switch (kind) {
		case 0:
		case 1:
			f.type = NVP_EMU_FAULT_CQE;
			if (!f.cqe_fields)
				f.cqe_fields = NVP_EMU_CQE_CID;
			if (kind == 1)
				f.cqe_fields |= NVP_EMU_CQE_EXTRA;
			break;
		case 2:
			f.type = NVP_EMU_FAULT_DROP;
			break;
		default:
			f.type = NVP_EMU_FAULT_DUP_CID;
			break;
		}
		TRACE("fault %u: type %d match 0x%x opcode 0x%02x count %u fields 0x%x cid 0x%x sqid 0x%x sqhd 0x%x status 0x%x dw0 0x%x\n",
		      i, f.type, f.match, f.opcode, f.count, f.cqe_fields, f.cqe_cid, f.cqe_sqid,
		      f.cqe_sqhd, f.cqe_status, f.cqe_dw0);
		FUZZ_CHECK(nvp_emu_inject(ctrl, &f, sizeof(f)) == 0);
	}
}

static void admin_done(void *arg, const struct nvp_cqe *cpl)
{
	fuzz_on_done(arg, cpl);
}

/* Each script byte: low 3 bits the command, the rest its LBA / length. */
static void run_script(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, struct nvp_ns *ns,
		       uint8_t *buf, struct fuzz_in *in, struct fuzz_cmds *io,
		       struct fuzz_cmds *adm)
{
	uint64_t nblocks = nvp_ns_get_info(ns)->num_blocks;

	for (unsigned int step = 0; step < 48 && in->left; step++) {
		uint8_t b = fuzz_u8(in);
		uint64_t lba = (uint64_t)(b >> 3) * 7 % nblocks;
		uint32_t nlb = 1 + (b >> 3) % 8;
		struct fuzz_cmd *c;

		if (lba + nlb > nblocks)
			nlb = 1;
		TRACE("step %u: op %u lba %llu nlb %u (io %u, admin %u accepted)\n", step, b & 7,
		      (unsigned long long)lba, nlb, io->n, adm->n);
		switch (b & 7) {
		case 0:
			if ((c = fuzz_next(io)))
				fuzz_submitted(io, nvp_read(qp, ns, buf + 4096 * (b >> 3), lba, nlb, 0,
							    fuzz_on_done, c));
			break;
		case 1:
			if ((c = fuzz_next(io)))
				fuzz_submitted(io, nvp_write(qp, ns, buf + 4096 * (b >> 3), lba, nlb, 0,
							     fuzz_on_done, c));
			break;
		case 2:
			if ((c = fuzz_next(io)))
				fuzz_submitted(io, nvp_flush(qp, ns, fuzz_on_done, c));
			break;
		case 3:
			if ((c = fuzz_next(io)))
				fuzz_submitted(io, nvp_write_zeroes(qp, ns, lba, nlb, 0, fuzz_on_done, c));
			break;
		case 4: {
			/* An admin command the driver reaps itself (asynchronous). */
			struct nvp_sqe cmd = { .opc = NVP_ADMIN_GET_FEATURES,
					       .cdw10 = NVP_FEAT_NUM_QUEUES };

			if ((c = fuzz_next(adm)))
				fuzz_submitted(adm, nvp_admin_cmd(ctrl, &cmd, NULL, 0, admin_done, c));
			break;
		}
		case 5: {
			/* Synchronous admin: log page (times out if its CQE is lost). */
			int rc = nvp_get_log_page(ctrl, 0xffffffff, NVP_LOG_SMART, buf + (1u << 20), 512);

			TRACE("  log page: %d %s\n", rc, rc ? nvp_last_error() : "");
			if (rc == -ETIMEDOUT)
				stale_admin = true;
			break;
		}
		default:
			nvp_qpair_poll(qp, b >> 3);
			nvp_ctrl_process_admin(ctrl);
			break;
		}
	}
}

/*
 * One controller for many inputs: attaching costs more than an input. A
 * controller the driver gave up on (failed after a reset) is replaced.
 */
static struct nvp_ctrl *ctrl;
static uint8_t *buf;

static void get_ctrl(void)
{
	struct nvp_ctrl_opts o;

	if (ctrl && !nvp_ctrl_is_failed(ctrl))
		return;
	if (ctrl)
		FUZZ_CHECK(nvp_ctrl_detach(ctrl) == 0);
	nvp_ctrl_opts_init(&o, sizeof(o));
	o.admin_timeout_ms = 50;
	o.io_timeout_ms = 20;
	o.num_io_queues = 1;
	/*
	 * The short admin timeout (so lost admin completions end quickly) can
	 * also expire during attach when a busy machine starves the device
	 * thread: retry a timed-out attach a few times; any other failure, or
	 * timing out every time, is a finding.
	 */
	for (int tries = 1;; tries++) {
		int rc = nvp_ctrl_attach("emu:ns=1M:512,qpairs=1,mqes=32", &o, &ctrl);

		if (rc == 0)
			break;
		FUZZ_CHECK(rc == -ETIMEDOUT && tries < 5);
		ctrl = NULL;
	}
	if (!buf)
		buf = nvp_dma_alloc(2u << 20, 4096, NVP_NUMA_ANY);
	FUZZ_CHECK(buf != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct nvp_qpair *qp;
	struct fuzz_cmds io, adm;

	if (size > 4096)
		return 0;
	get_ctrl();
	memset(&io, 0, sizeof(io));
	memset(&adm, 0, sizeof(adm));
	if (nvp_qpair_alloc(ctrl, NULL, &qp) == 0) {
		arm_faults(ctrl, &in);
		run_script(ctrl, qp, nvp_ctrl_first_ns(ctrl), buf, &in, &io, &adm);
		fuzz_drain(ctrl, qp, &io, 1000);
		nvp_emu_clear_faults(ctrl);
		nvp_qpair_free(qp);
		fuzz_all_called_once(&io);
	}
	nvp_emu_clear_faults(ctrl);
	for (uint64_t end = fuzz_now_ms() + 100; fuzz_pending(&adm) && fuzz_now_ms() < end;)
		if (nvp_ctrl_process_admin(ctrl) < 0)
			break;
	/*
	 * An asynchronous admin command whose completion was lost is called
	 * back only after the admin timeout (a reset), longer than an input
	 * may take: detach, which calls it back (Host Aborted), so no callback
	 * outlives this input's tracker, and a failed controller is replaced.
	 */
	if (fuzz_pending(&adm) || nvp_ctrl_is_failed(ctrl) || stale_admin) {
		stale_admin = false;
		TRACE("detaching: %u admin command(s) pending, controller %s\n", fuzz_pending(&adm),
		      nvp_ctrl_is_failed(ctrl) ? "failed" : "healthy");
		FUZZ_CHECK(nvp_ctrl_detach(ctrl) == 0);
		ctrl = NULL;
	}
	fuzz_all_called_once(&adm);
	return 0;
}
