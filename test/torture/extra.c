/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * extra.c - the calls that are not I/O: admin commands (sync and async,
 * log pages), memory registration and DMA allocation, and loose fault
 * injection, each checked against what the API documents.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "torture.h"

/* ------------------------------------------------------------------------ */
/* Faults armed by a thread (only STATUS faults change what may complete)   */
/* ------------------------------------------------------------------------ */

static bool fault_hits(const struct nvp_emu_fault *f, uint16_t qid, uint32_t nsid, uint8_t opc,
		       bool has_lba, uint64_t lba, uint64_t nlb)
{
	if ((f->match & NVP_EMU_MATCH_QID) && f->qid != qid)
		return false;
	if ((f->match & NVP_EMU_MATCH_NSID) && f->nsid != nsid)
		return false;
	if ((f->match & NVP_EMU_MATCH_OPCODE) && f->opcode != opc)
		return false;
	if (f->match & NVP_EMU_MATCH_LBA) {
		uint64_t fn = f->nlb ? f->nlb : 1;

		if (!has_lba || lba >= f->slba + fn || f->slba >= lba + nlb)
			return false;
	}
	return true;
}

static uint8_t op_opcode(const struct t_op *op)
{
	switch (op->kind) {
	case K_READ: case K_READV: case K_RAW_READ: return NVP_NVM_READ;
	case K_WRITE: case K_WRITEV: case K_RAW_WRITE: return NVP_NVM_WRITE;
	case K_COMPARE: return NVP_NVM_COMPARE;
	case K_WZ: return NVP_NVM_WRITE_ZEROES;
	case K_DSM: return NVP_NVM_DSM;
	default: return NVP_NVM_FLUSH;
	}
}

bool t_fault_explains(struct t_thread *th, const struct t_op *op, uint16_t status)
{
	const struct t_ctrl *c = op->tq->c;
	bool has_lba = op->kind != K_FLUSH && op->kind != K_DSM && op->kind != K_RAW_FLUSH_ALL;
	uint32_t nsid = op->rg ? op->rg->ns->info->nsid : 0;
	uint8_t opc = op_opcode(op);

	if (op->kind == K_RAW_BAD) {
		nsid = op->raw_nsid;
		opc = op->raw_opc;
		has_lba = opc == NVP_NVM_READ || opc == NVP_NVM_WRITE;
	}

	for (int i = 0; i < T_MAX_FAULTS; i++) {
		struct t_fault *f = &th->faults[i];

		if (!f->used || f->ctrl != c->idx || f->f.type != NVP_EMU_FAULT_STATUS ||
		    f->f.status != status)
			continue;
		if (op->kind == K_RAW_FLUSH_ALL)
			nsid = 0xffffffffu;
		if (!fault_hits(&f->f, op->tq->qid, nsid, opc, has_lba, op->lba, op->nlb))
			continue;
		if (f->f.count != NVP_EMU_FOREVER && --f->f.count == 0)
			f->used = false;
		return true;
	}
	for (int i = 0; i < 128; i++) {	/* cleared since, but armed when this was sent */
		struct t_fault *f = &th->retired[i];

		if (!f->used || op->seq >= th->retired_before[i] || f->ctrl != c->idx ||
		    f->f.type != NVP_EMU_FAULT_STATUS || f->f.status != status)
			continue;
		if (!fault_hits(&f->f, op->tq->qid, nsid, opc, has_lba, op->lba, op->nlb))
			continue;
		if (f->f.count != NVP_EMU_FOREVER && --f->f.count == 0)
			f->used = false;
		return true;
	}
	return false;
}

bool t_fault_overlaps(struct t_thread *th, int ctrl, uint16_t qid, uint32_t nsid, uint64_t lba,
		      uint64_t nlb)
{
	for (int i = 0; i < T_MAX_FAULTS; i++) {
		const struct t_fault *f = &th->faults[i];

		if (!f->used || f->ctrl != ctrl || f->f.qid != qid || f->f.nsid != nsid)
			continue;
		if (!(f->f.match & NVP_EMU_MATCH_LBA))
			return true;
		if (nlb && lba < f->f.slba + f->f.nlb && f->f.slba < lba + nlb)
			return true;
	}
	return false;
}

void t_faults_forget(struct t_thread *th)
{
	memset(th->faults, 0, sizeof(th->faults));
	memset(th->retired, 0, sizeof(th->retired));
}

uint32_t t_fault_budget(void)
{
	uint32_t b = 28u / (uint32_t)cfg.threads;

	return b < 2 ? 2 : b;
}

static uint32_t carriers(const struct t_thread *th)
{
	uint32_t n = 0;

	for (int i = 0; i < nctrls; i++)
		for (int k = 0; k < T_QP_PER_CTRL; k++)
			n += th->qps[i][k].carriers;
	return n;
}

/*
 * The emulator holds 32 faults in all, and a fault nobody hits stays armed.
 * So every second the main thread asks for a new epoch; each thread stops
 * arming, waits until no command it armed a fault for is in flight, and
 * says so; the main thread clears all faults; each thread then retires what
 * it remembered (still explaining commands submitted before) and gets a new
 * budget.
 */
bool t_fault_may_arm(struct t_thread *th)
{
	uint32_t req = atomic_load(&fepoch_req);

	if (req == th->fepoch)
		return th->fbudget > 0;
	if (atomic_load(&th->fack) != req && !carriers(th))
		atomic_store(&th->fack, req);
	if (atomic_load(&th->fack) == req && atomic_load(&fepoch_done) == req) {
		uint64_t oldest = th->seq;

		for (uint32_t i = 0; i < T_MAX_OPS; i++)
			if (th->ops[i].used && th->ops[i].seq < oldest)
				oldest = th->ops[i].seq;
		for (int i = 0; i < 128; i++)
			if (th->retired[i].used && th->retired_before[i] <= oldest)
				th->retired[i].used = false;
		for (int i = 0; i < T_MAX_FAULTS; i++) {
			if (!th->faults[i].used)
				continue;
			for (int k = 0; k < 128; k++) {
				if (!th->retired[k].used) {
					th->retired[k] = th->faults[i];
					th->retired_before[k] = th->seq + 1;
					break;
				}
			}
			th->faults[i].used = false;
		}
		th->fepoch = req;
		th->fbudget = t_fault_budget();
		return true;
	}
	return false;
}

static int nfaults(const struct t_thread *th)
{
	int n = 0;

	for (int i = 0; i < T_MAX_FAULTS; i++)
		n += th->faults[i].used;
	return n;
}

/* Arm a fault that random traffic in the thread's own region may hit. */
void t_op_fault_loose(struct t_thread *th)
{
	struct t_ctrl *c = &ctrls[t_below(th, (uint64_t)nmain)];
	struct t_qp *tq = NULL;
	struct t_ns *ns;
	struct t_region *rg;
	struct nvp_emu_fault f;
	struct t_rec *r;
	uint32_t types;
	int rc;

	if (!c->is_emu)
		return;
	for (int k = 0; k < T_QP_PER_CTRL && !tq; k++)
		if (th->qps[c->idx][k].qp)
			tq = &th->qps[c->idx][k];
	ns = &c->ns[t_below(th, (uint64_t)c->nns)];
	rg = &th->rg[c->idx][ns->idx];
	if (!rg->len)
		return;
	memset(&f, 0, sizeof(f));
	if (t_chance(th, 10) && t_op_enabled(OC_INVALID)) {
		size_t size = sizeof(f);

		switch (t_below(th, 4)) {
		case 0: f.type = 0; break;
		case 1: f.type = (enum nvp_emu_fault_type)99; break;
		case 2: f.type = NVP_EMU_FAULT_STATUS; f.status = 0; break;
		default: f.type = NVP_EMU_FAULT_DROP; size = 4; break;
		}
		f.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_NSID;
		f.nsid = 0xfffffff0u;	/* would never match anyway */
		r = t_rec_begin(th, K_FAULT, c, ns->idx, 0, 0, 0);
		t_rec_note(r, "bad fault type %d size %zu", (int)f.type, size);
		rc = nvp_emu_inject(c->ctrl, &f, size);
		t_expect_rc(th, r, rc, RC_EINVAL, "nvp_emu_inject() with a bad fault");
		return;
	}
	if (t_chance(th, 5)) {
		uint32_t rs0 = atomic_load(&c->ev_started);
		struct nvp_emu_stats s;

		r = t_rec_begin(th, K_FAULT, c, -1, 0, 0, 0);
		t_rec_note(r, "get_stats");
		memset(&s, 0xa5, sizeof(s));
		rc = nvp_emu_get_stats(c->ctrl, &s, sizeof(s));
		t_expect_rc(th, r, rc, RC_OK, "nvp_emu_get_stats()");
		if ((!s.enabled && !t_reset_since(c, rs0)) || s.fatal || s.removed)
			t_violation(th, "emu stats of controller %d: enabled %d fatal %d removed %d "
				    "during the main phase", c->idx, s.enabled, s.fatal, s.removed);
		if (s.io_sqs > c->info->num_io_queues || s.io_cqs > c->info->num_io_queues)
			t_violation(th, "emu stats: %u SQs / %u CQs exist, %u were granted",
				    s.io_sqs, s.io_cqs, c->info->num_io_queues);
		return;
	}
	if (!tq || nfaults(th) >= 6 || !t_fault_may_arm(th))
		return;
	types = cfg.fault_mask & (TF_STATUS | TF_DROP | TF_DELAY | TF_DUP);
	if (!types)
		return;
	do
		f.type = (enum nvp_emu_fault_type)(1 + t_below(th, 5));
	while (!(types & (1u << (f.type - 1))) || f.type == NVP_EMU_FAULT_UNKNOWN_CID);
	f.match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_QID | NVP_EMU_MATCH_NSID | NVP_EMU_MATCH_LBA;
	f.qid = tq->qid;
	f.nsid = ns->info->nsid;
	f.nlb = (uint32_t)(1 + t_below(th, rg->len < 4096 ? rg->len : 4096));
	f.slba = rg->base + t_below(th, rg->len - f.nlb + 1);
	f.count = 1 + (uint32_t)t_below(th, 3);
	if (t_chance(th, 30)) {
		static const uint8_t opc[] = { NVP_NVM_READ, NVP_NVM_WRITE, NVP_NVM_WRITE_ZEROES };

		f.match |= NVP_EMU_MATCH_OPCODE;
		f.opcode = opc[t_below(th, 3)];
	}
	switch (f.type) {
	case NVP_EMU_FAULT_STATUS: {
		static const uint16_t st[] = {
			NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_UNRECOVERED_READ_ERROR),
			NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_WRITE_FAULTS),
			NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INTERNAL),
			NVP_STATUS(NVP_SCT_VENDOR, 0x91),
		};

		f.status = st[t_below(th, 4)];
		if (t_chance(th, 50))
			f.status |= NVP_STATUS_DNR_BIT;
		break;
	}
	case NVP_EMU_FAULT_DROP:
		f.count = 1;
		break;
	case NVP_EMU_FAULT_DELAY:
		f.delay_us = (uint32_t)(t_chance(th, 85) ? 50 + t_below(th, 5000) :
				  c->timeout_ms * 1000u + t_below(th, c->timeout_ms * 1000u));
		break;
	default:
		break;
	}
	/*
	 * Not over a command that carries a precise fault: it may not have
	 * reached the device yet (the doorbell is written at the next poll),
	 * and this fault would then hit it too and change what it must return.
	 */
	for (uint32_t i = 0; i < T_MAX_OPS; i++) {
		const struct t_op *op = &th->ops[i];

		if (op->used && op->carrier && op->tq->c == c && op->tq->qid == f.qid &&
		    op->rg == rg && op->nlb &&
		    op->lba < f.slba + f.nlb && f.slba < op->lba + op->nlb)
			return;
	}
	r = t_rec_begin(th, K_FAULT, c, ns->idx, tq->qid, f.slba, f.nlb);
	t_rec_note(r, "loose type %d x%u st 0x%x d %u opc %s", f.type, f.count, f.status,
		   f.delay_us, f.match & NVP_EMU_MATCH_OPCODE ? "yes" : "any");
	rc = nvp_emu_inject(c->ctrl, &f, sizeof(f));
	t_expect_rc(th, r, rc, RC_OK | RC_ENOSPC, "nvp_emu_inject()");
	if (rc)
		return;
	th->n_faults++;
	th->fbudget--;
	/* every type is remembered: a fault for one command must not meet another */
	for (int i = 0; i < T_MAX_FAULTS; i++) {
		if (!th->faults[i].used) {
			th->faults[i].used = true;
			th->faults[i].ctrl = c->idx;
			th->faults[i].f = f;
			th->faults[i].seq = th->seq;
			return;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Admin                                                                    */
/* ------------------------------------------------------------------------ */

struct t_admin {
	atomic_int calls;
	_Atomic uint16_t status;
	_Atomic uint32_t dw0;
	struct nvp_ctrl *try_reset;	/* call nvp_ctrl_reset() from the callback */
	atomic_int reset_rc;
	struct t_admin *next;
};

static struct t_admin *admin_list[T_MAX_THREADS];

/* May run on any thread that processes the admin queue: atomics only. */
static void admin_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct t_admin *a = arg;

	atomic_store(&a->status, (uint16_t)(cpl->status & 0xfffe));
	atomic_store(&a->dw0, cpl->dw0);
	if (a->try_reset)	/* the admin lock is held: must be refused, not deadlock */
		atomic_store(&a->reset_rc, nvp_ctrl_reset(a->try_reset));
	atomic_fetch_add(&a->calls, 1);
}

static void admin_wait(struct t_thread *th, struct t_ctrl *c, struct t_admin **a, int n)
{
	uint64_t deadline = t_now_ns() + (uint64_t)(cfg.hang_ms + 10000) * 1000000ull;

	for (;;) {
		int done = 0, rc;

		for (int i = 0; i < n; i++)
			done += atomic_load(&a[i]->calls) > 0;
		if (done == n)
			break;
		rc = nvp_ctrl_process_admin(c->ctrl);
		if (rc < 0)
			t_violation(th, "nvp_ctrl_process_admin() returned %d (%s): %s", rc,
				    t_errname(rc), nvp_last_error());
		if (t_now_ns() > deadline)
			t_violation(th, "%d of %d async admin commands got no callback in %u ms",
				    n - done, n, cfg.hang_ms + 10000);
	}
	for (int i = 0; i < 3; i++)
		nvp_ctrl_process_admin(c->ctrl);
	for (int i = 0; i < n; i++) {
		if (atomic_load(&a[i]->calls) != 1)
			t_violation(th, "an async admin command's callback ran %d times",
				    atomic_load(&a[i]->calls));
		if (a[i]->try_reset && atomic_load(&a[i]->reset_rc) != -EDEADLK)
			t_violation(th, "nvp_ctrl_reset() from an admin completion callback returned "
				    "%d (%s), expected EDEADLK", atomic_load(&a[i]->reset_rc),
				    t_errname(atomic_load(&a[i]->reset_rc)));
	}
}

static struct t_admin *admin_rec(struct t_thread *th)
{
	struct t_admin *a = calloc(1, sizeof(*a));

	if (!a)
		t_fatal_setup("out of memory");
	/* never freed before the end: a late duplicate callback must not scribble */
	a->next = admin_list[th->idx];
	admin_list[th->idx] = a;
	return a;
}

void t_admin_check_all(int idx);
void t_admin_check_all(int idx)
{
	while (admin_list[idx]) {
		struct t_admin *a = admin_list[idx];

		if (atomic_load(&a->calls) != 1)
			t_violation(threads[idx], "an async admin command's callback ran %d times "
				    "(found at the end)", atomic_load(&a->calls));
		admin_list[idx] = a->next;
		free(a);
	}
}

void t_op_admin(struct t_thread *th)
{
	struct t_ctrl *c = &ctrls[t_below(th, (uint64_t)nmain)];
	uint8_t *buf = th->pool[7].p;	/* 64 KiB reserved for admin data (see setup) */
	struct nvp_sqe cmd;
	struct nvp_cqe cpl;
	struct t_rec *r;
	int rc, v = (int)t_below(th, 13);
	uint32_t rs0 = atomic_load(&c->ev_started);
	/* while a reset runs, admin commands are refused (-EAGAIN) or ended
	 * (Host Aborted Command: -ECANCELED) */
#define RZ (RC_EAGAIN | (t_reset_since(c, rs0) ? RC_ECANCELED : 0))
	/* -EAGAIN also when the admin queue is full (Aborts after timeouts
	 * fill it); documented for nvp_admin_cmd(), not for the sync calls */

	memset(&cmd, 0, sizeof(cmd));
	memset(&cpl, 0, sizeof(cpl));
	r = t_rec_begin(th, K_ADMIN, c, -1, 0, 0, (uint64_t)v);
	switch (v) {
	case 0:	/* Identify Controller = what attach read */
		cmd.opc = NVP_ADMIN_IDENTIFY;
		cmd.cdw10 = NVP_CNS_CTRL;
		memset(buf, 0x5a, 4096);
		rc = nvp_admin_cmd_sync(c->ctrl, &cmd, buf, 4096, &cpl);
		t_expect_rc(th, r, rc, RC_OK | RZ, "Identify Controller");
		if (!rc && memcmp(buf, nvp_ctrl_identify(c->ctrl), 4096))
			t_violation(th, "Identify Controller data differs from nvp_ctrl_identify()");
		break;
	case 1: {	/* Identify Namespace */
		struct t_ns *ns = &c->ns[t_below(th, (uint64_t)c->nns)];

		cmd.opc = NVP_ADMIN_IDENTIFY;
		cmd.cdw10 = NVP_CNS_NS;
		cmd.nsid = ns->info->nsid;
		memset(buf, 0x5a, 4096);
		rc = nvp_admin_cmd_sync(c->ctrl, &cmd, buf, 4096, &cpl);
		t_expect_rc(th, r, rc, RC_OK | RZ, "Identify Namespace");
		if (!rc && c->is_emu && memcmp(buf, nvp_ns_identify(ns->ns), 4096))
			t_violation(th, "Identify Namespace %u differs from nvp_ns_identify()",
				    ns->info->nsid);
		break;
	}
	case 2:	/* an inactive namespace: Invalid Namespace or Format -> -EINVAL */
		cmd.opc = NVP_ADMIN_IDENTIFY;
		cmd.cdw10 = NVP_CNS_NS;
		cmd.nsid = 999;
		rc = nvp_admin_cmd_sync(c->ctrl, &cmd, buf, 4096, &cpl);
		t_expect_rc(th, r, rc, RC_EINVAL | RZ, "Identify Namespace 999");
		if (rc == -EINVAL && NVP_STATUS_SC(cpl.status) != NVP_SC_INVALID_NS &&
		    NVP_STATUS_SC(cpl.status) != NVP_SC_INVALID_FIELD)
			t_violation(th, "Identify Namespace 999: status 0x%04x", cpl.status);
		break;
	case 3: {	/* log pages */
		static const struct { uint8_t lid; size_t len; } lp[] = {
			{ NVP_LOG_SMART, 512 }, { NVP_LOG_ERROR, 64 }, { NVP_LOG_ERROR, 4096 },
			{ NVP_LOG_FW_SLOT, 512 }, { NVP_LOG_SMART, 4 },
		};
		int k = (int)t_below(th, 5);

		t_rec_note(r, "log page %u len %zu", lp[k].lid, lp[k].len);
		rc = nvp_get_log_page(c->ctrl, 0xffffffffu, lp[k].lid, buf, lp[k].len);
		t_expect_rc(th, r, rc, RC_OK | RZ, "nvp_get_log_page()");
		break;
	}
	case 4: {	/* log pages the library must refuse */
		size_t len = (size_t[]){ 0, 6, 510, 3 }[t_below(th, 4)];
		int k = (int)t_below(th, 4);
		uint32_t want = RC_EINVAL;
		void *b = buf;

		if (k == 1) {
			b = NULL;
			len = 512;
		} else if (k == 2) {
			b = th->heap;
			len = 512;
			want = RC_EFAULT;
		} else if (k == 3) {
			len = (size_t)c->info->max_xfer_bytes + 4096;
			b = th->arena;
		}
		t_rec_note(r, "bad log page: buf %s len %zu", k == 1 ? "NULL" : k == 2 ? "malloc" : "dma",
			   len);
		rc = nvp_get_log_page(c->ctrl, 0xffffffffu, NVP_LOG_SMART, b, len);
		want |= RC_EAGAIN & RZ;	/* a reset may be reported first */
		t_expect_rc(th, r, rc, want, "nvp_get_log_page() with a bad buffer or length");
		break;
	}
	case 5:	/* an unknown log page: Invalid Log Page -> -EINVAL */
		if (!c->is_emu)
			break;
		rc = nvp_get_log_page(c->ctrl, 0xffffffffu, 0x7f, buf, 512);
		t_expect_rc(th, r, rc, RC_EINVAL | RZ, "nvp_get_log_page(LID 0x7f)");
		break;
	case 6: case 7: {	/* async Identify, several at once */
		struct t_admin *a[4];
		int n = 1 + (int)t_below(th, 4), ok = 0;

		for (int i = 0; i < n; i++) {
			a[ok] = admin_rec(th);
			if (t_chance(th, 20))
				a[ok]->try_reset = c->ctrl;
			cmd.opc = NVP_ADMIN_IDENTIFY;
			cmd.cdw10 = NVP_CNS_CTRL;
			memset(buf + 8192 * i, 0x5a, 4096);
			rc = nvp_admin_cmd(c->ctrl, &cmd, buf + 8192 * i, 4096, admin_cb, a[ok]);
			t_expect_rc(th, r, rc, RC_OK | RC_EAGAIN, "nvp_admin_cmd(Identify)");
			if (rc)
				atomic_store(&a[ok]->calls, 1);	/* refused: none may come */
			if (!rc)
				ok++;
		}
		admin_wait(th, c, a, ok);
		for (int i = 0; i < ok; i++) {
			uint16_t st = atomic_load(&a[i]->status);

			if (st == NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_ABORTED_CMD) &&
			    t_reset_since(c, rs0))
				continue;	/* a reset ended it */
			if (st)
				t_violation(th, "async Identify completed with 0x%04x", st);
			if (memcmp(buf + 8192 * i, nvp_ctrl_identify(c->ctrl), 4096))
				t_violation(th, "async Identify Controller data %d differs from "
					    "nvp_ctrl_identify()", i);
		}
		break;
	}
	case 8: {	/* async calls the library must refuse */
		int k = (int)t_below(th, 3);
		struct t_admin *a = admin_rec(th);

		atomic_store(&a->calls, 1);	/* none may come */
		cmd.opc = NVP_ADMIN_IDENTIFY;
		cmd.cdw10 = NVP_CNS_CTRL;
		t_rec_note(r, "bad async admin %d", k);
		if (k == 0)
			rc = nvp_admin_cmd(c->ctrl, &cmd, buf, 4096, NULL, a);
		else if (k == 1)
			rc = nvp_admin_cmd(c->ctrl, NULL, buf, 4096, admin_cb, a);
		else
			rc = nvp_admin_cmd(c->ctrl, &cmd, th->heap, 4096, admin_cb, a);
		t_expect_rc(th, r, rc, k == 2 ? RC_EFAULT | RC_EAGAIN : RC_EINVAL,
			    "nvp_admin_cmd() (bad)");
		break;
	}
	case 9:	/* Get Features Number of Queues: the grant */
		cmd.opc = NVP_ADMIN_GET_FEATURES;
		cmd.cdw10 = NVP_FEAT_NUM_QUEUES;
		rc = nvp_admin_cmd_sync(c->ctrl, &cmd, NULL, 0, &cpl);
		t_expect_rc(th, r, rc, RC_OK | RZ, "Get Features (Number of Queues)");
		if (!rc && c->is_emu && (cpl.dw0 & 0xffff) + 1 < c->info->num_io_queues)
			t_violation(th, "Get Features Number of Queues says %u SQs, the library "
				    "uses %u", (cpl.dw0 & 0xffff) + 1, c->info->num_io_queues);
		break;
	case 10:	/* an opcode the controller does not implement */
		if (!c->is_emu)
			break;
		cmd.opc = 0xc1;
		rc = nvp_admin_cmd_sync(c->ctrl, &cmd, NULL, 0, &cpl);
		/* Invalid Command Opcode: -EOPNOTSUPP, which is -ENOTSUP on Linux */
		t_expect_rc(th, r, rc, t_rbit(-EOPNOTSUPP) | RZ, "admin opcode 0xc1");
		break;
	case 11: {	/* nvp_ctrl_reset(): every thread's qpairs reconnect at their next poll */
		struct nvp_ctrl_stats cs = { .stats_size = sizeof(cs) };

		if (t_chance(th, 90) || !t_op_enabled(OC_QPAIR)) {
			rc = nvp_ctrl_reset(NULL);
			t_expect_rc(th, r, rc, RC_EINVAL, "nvp_ctrl_reset(NULL)");
			rc = nvp_ctrl_get_stats(c->ctrl, &cs, sizeof(cs));
			t_expect_rc(th, r, rc, RC_OK, "nvp_ctrl_get_stats()");
			if (cs.resets > atomic_load(&c->ev_started))
				t_violation(th, "nvp_ctrl_get_stats() counts %llu resets, but %u "
					    "RESET_STARTED events came", (unsigned long long)cs.resets,
					    atomic_load(&c->ev_started));
			break;
		}
		t_rec_note(r, "nvp_ctrl_reset");
		rc = nvp_ctrl_reset(c->ctrl);
		t_expect_rc(th, r, rc, RC_OK, "nvp_ctrl_reset()");
		if (atomic_load(&c->ev_started) == rs0)
			t_violation(th, "nvp_ctrl_reset() returned without a RESET_STARTED event");
		break;
	}
	default:
		rc = nvp_ctrl_process_admin(c->ctrl);
		r->rc = rc;
		if (nvp_ctrl_process_admin(NULL) != -EINVAL)
			t_violation(th, "nvp_ctrl_process_admin(NULL) did not return -EINVAL");
		if (rc < 0)
			t_violation(th, "nvp_ctrl_process_admin() returned %d: %s", rc,
				    nvp_last_error());
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* True if [p, p+len) is (still) entirely unmapped. */
static bool unmapped(void *p, size_t len)
{
	return msync(p, len, MS_ASYNC) && errno == ENOMEM;
}

void t_op_mem(struct t_thread *th)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct t_rec *r = t_rec_begin(th, K_MEM, NULL, -1, 0, 0, 0);
	int v = (int)t_below(th, 10), rc;

	switch (v) {
	case 0: {	/* nvp_dma_alloc: zeroed, aligned, bus-contiguous */
		static const size_t al[] = { 0, 64, 512, 4096, 65536, 2u << 20 };
		size_t size = (size_t)1 + t_below(th, 1u << (4 + t_below(th, 20)));
		size_t align = al[t_below(th, 6)], a2 = align ? align : 4096, contig = 0;
		int slot = (int)t_below(th, 7);
		struct t_buf *b = &th->pool[slot];
		uint64_t iova;
		uint8_t *p;

		if (b->users)
			break;
		nvp_dma_free(b->p);
		b->p = NULL;
		t_rec_note(r, "dma_alloc %zu align %zu", size, align);
		p = nvp_dma_alloc(size, align, NVP_NUMA_ANY);
		r->rc = p ? 0 : -errno;
		if (!p)
			t_violation(th, "nvp_dma_alloc(%zu, %zu) failed: %s", size, align,
				    nvp_last_error());
		if ((uintptr_t)p % a2)
			t_violation(th, "nvp_dma_alloc(%zu, %zu) = %p is not aligned", size, align,
				    (void *)p);
		if (!all_zero(p, size < 262144 ? size : 262144) || !all_zero(p + size - (size < 4096 ? size : 4096),
									    size < 4096 ? size : 4096))
			t_violation(th, "nvp_dma_alloc(%zu) returned memory that is not zeroed", size);
		if (nvp_mem_translate(p, &iova, &contig))
			t_violation(th, "nvp_mem_translate() of fresh DMA memory: %s", nvp_last_error());
		if (size <= (2u << 20) && contig < size)
			t_violation(th, "nvp_dma_alloc(%zu) is bus-contiguous for only %zu bytes", size,
				    contig);
		b->p = p;
		b->len = size;
		break;
	}
	case 1: {	/* nvp_dma_alloc refusals */
		int k = (int)t_below(th, 3);
		size_t size = k == 0 ? 0 : 4096, align = k == 1 ? 3000 : k == 2 ? (1ull << 31) : 0;
		void *p;

		t_rec_note(r, "bad dma_alloc %zu align %zu", size, align);
		errno = 0;
		p = nvp_dma_alloc(size, align, NVP_NUMA_ANY);
		r->rc = p ? 0 : -errno;
		if (p || errno != EINVAL)
			t_violation(th, "nvp_dma_alloc(%zu, %zu) = %p, errno %d; expected NULL with "
				    "EINVAL", size, align, p, errno);
		break;
	}
	case 2: {	/* free a pool buffer; NULL */
		int slot = (int)t_below(th, 7);

		if (th->pool[slot].users)
			break;
		t_rec_note(r, "dma_free");
		nvp_dma_free(th->pool[slot].p);
		nvp_dma_free(NULL);
		th->pool[slot].p = NULL;
		r->rc = 0;
		break;
	}
	case 3:	/* unregister / register the thread's mapping */
		if (th->reg_users)
			break;
		if (th->reg_registered) {
			t_rec_note(r, "unregister");
			rc = nvp_mem_unregister(th->reg);
			t_expect_rc(th, r, rc, RC_OK, "nvp_mem_unregister()");
			th->reg_registered = false;
			rc = nvp_mem_unregister(th->reg);
			t_expect_rc(th, r, rc, RC_ENOENT, "nvp_mem_unregister() twice");
		} else {
			t_rec_note(r, "register");
			rc = nvp_mem_register(th->reg, th->reg_len);
			t_expect_rc(th, r, rc, RC_OK, "nvp_mem_register()");
			th->reg_registered = true;
		}
		break;
	case 4: {	/* registration refusals */
		int k = (int)t_below(th, 7);
		uint32_t want = RC_EINVAL;
		void *p = th->reg;
		size_t len = th->reg_len;

		switch (k) {
		case 0: p = th->reg + 1; len = 4096; break;
		case 1: len = 0; break;
		case 2: len = 100; break;
		case 3: p = NULL; len = 4096; break;
		case 4:		/* overlaps the registration */
			if (!th->reg_registered)
				return;
			p = th->reg + 4096 * t_below(th, th->reg_len / 4096);
			len = 4096;
			want = RC_EEXIST;
			break;
		case 5:		/* the same, whole */
			if (!th->reg_registered)
				return;
			want = RC_EEXIST;
			break;
		default:	/* unregister of something never registered */
			t_rec_note(r, "unregister unknown");
			rc = nvp_mem_unregister(t_chance(th, 50) ? th->unreg : th->reg + 4096);
			t_expect_rc(th, r, rc, RC_ENOENT, "nvp_mem_unregister() of an unregistered "
				    "address");
			return;
		}
		t_rec_note(r, "bad register %d", k);
		rc = nvp_mem_register(p, len);
		t_expect_rc(th, r, rc, want, "nvp_mem_register() (bad)");
		break;
	}
	case 5: {	/* memory a device cannot write to, or nothing at all: -EFAULT */
		int k = (int)t_below(th, 4);
		size_t len = 4 * (size_t)ps;
		uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		const char *what;

		if (m == MAP_FAILED)
			break;
		memset(m, 1, len);
		switch (k) {
		case 0:
			mprotect(m, len, PROT_READ);
			what = "read-only memory";
			break;
		case 1:
			mprotect(m + 3 * ps, (size_t)ps, PROT_READ);
			what = "memory whose last page is read-only";
			break;
		case 2:
			mprotect(m, len, PROT_NONE);
			what = "PROT_NONE memory";
			break;
		default:
			munmap(m + ps, (size_t)ps);
			what = "a range with an unmapped page";
			break;
		}
		t_rec_note(r, "register %s", what);
		rc = nvp_mem_register(m, len);
		r->rc = rc;
		if (rc == 0)
			nvp_mem_unregister(m);
		if (k == 3 && !unmapped(m + ps, (size_t)ps)) {
			/* someone mapped the hole meanwhile: no verdict */
			munmap(m, len);
			break;
		}
		if (k == 3)
			munmap(m, len);
		else
			munmap(m, len);
		if (rc != -EFAULT)
			t_violation(th, "nvp_mem_register() of %s returned %d (%s); expected "
				    "-EFAULT (the device could not DMA into it)", what, rc, t_errname(rc));
		break;
	}
	case 6: {	/* nvp_mem_translate */
		uint64_t iova;
		size_t contig;

		t_rec_note(r, "translate");
		rc = nvp_mem_translate(th->heap, &iova, &contig);
		t_expect_rc(th, r, rc, RC_EFAULT, "nvp_mem_translate(malloc memory)");
		rc = nvp_mem_translate(th->arena + t_below(th, th->arena_len), &iova, &contig);
		t_expect_rc(th, r, rc, RC_OK, "nvp_mem_translate(DMA memory)");
		rc = nvp_mem_translate(th->arena, NULL, &contig);
		t_expect_rc(th, r, rc, RC_EINVAL, "nvp_mem_translate(NULL iova)");
		rc = nvp_mem_translate(th->reg + t_below(th, th->reg_len), &iova, &contig);
		t_expect_rc(th, r, rc, th->reg_registered ? RC_OK : RC_EFAULT,
			    "nvp_mem_translate(registered mapping)");
		break;
	}
	default:
		break;
	}
}
