/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the controller init state machine (lib/nvme/init.c),
 * driven against a fake register file. The test plays the device, its
 * registers and, when asked, its admin queue, in the init's poll hook (or
 * between nvp_init_process() calls) and advances a fake clock, so every
 * timeout is checked without waiting for it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "mem/mem.h"
#include "nvme/init.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"

#define BAR_SIZE 0x4000
#define POLL_MS 10		/* fake time per device step */
#define CAP_TO 3		/* 1500 ms for the register waits */
#define READY_MS (CAP_TO * 500)
#define ADMIN_MS 70		/* the admin states' timeout, unlike CAP.TO */

/* What the fake admin queue tells apart. */
enum kind {
	K_ID_CTRL,
	K_NUM_Q,
	K_DBBUF,
	K_ID_LIST,
	K_ID_NS,
	K_AEC,
	K_AER,
	K_ID_DESC,	/* CNS 03h: with CC.CSS = 110b, after each Identify Namespace */
	K_ID_CSI_NS,	/* CNS 05h CSI 02h */
	K_ID_CSI_CTRL,	/* CNS 06h CSI 02h */
	K_OTHER,
	K_NUM,
};

struct pending {
	struct nvp_sqe sqe;	/* as fetched (wire order) */
	unsigned int due;	/* answered at this device step */
};

/* How the fake device behaves. */
struct fake_dev {
	uint32_t *bar;
	/* registers */
	bool follow_en;		/* RDY follows CC.EN */
	bool stuck_ready;	/* RDY stays 1 after EN=0 */
	bool never_ready;	/* RDY never rises */
	bool set_cfs_on_enable;	/* CFS appears once EN=1 */
	bool vanish_on_enable;	/* registers read all-ones once EN=1 */
	unsigned int ready_delay; /* device steps before RDY follows EN */
	unsigned int polls;
	uint32_t cc_at_enable;	/* CC as the host wrote it */
	/* admin queue */
	bool admin;		/* answer admin commands */
	unsigned int answer_delay; /* device steps before an answer */
	unsigned int never_from[K_NUM];	/* the n-th (1-based) and later: no answer */
	uint16_t status[K_NUM];	/* answer with this status instead */
	bool cfs_on[K_NUM];	/* CFS when it is fetched */
	bool vanish_on[K_NUM];	/* all-ones when it is fetched */
	uint32_t num_active;	/* NSIDs 1..num_active are listed */
	uint32_t num_real;	/* of those, 1..num_real have a size */
	uint32_t refuse_nsid;	/* Identify Namespace of this one fails */
	uint32_t grant;		/* I/O queues granted */
	bool dbbuf;		/* OACS offers Doorbell Buffer Config */
	bool csi;		/* CAP.CSS offers I/O command sets */
	uint32_t zoned_nsid;	/* its descriptor list says CSI 02h */
	uint32_t other_csi_nsid; /* says CSI 01h (key value): not run by nvpoll */
	bool zns_custom;	/* the ZNS Identify fields below, else 6 open, 100 blocks */
	uint32_t zns_mor, zns_mar;
	uint64_t zns_zsze;
	uint8_t zns_zasl;
	unsigned int seen[K_NUM];
	uint64_t fetched_ms;	/* when the last command was fetched */
	uint64_t dbbuf_prp1, dbbuf_prp2;
	/* device state */
	bool en;
	unsigned int en_age;
	uint16_t sq_head, cq_tail, phase;
	struct pending pend[64];
	unsigned int npend;
	/* the run being driven, to note when its states are entered */
	struct nvp_init *ini;
	enum nvp_init_state seen_state;
	uint64_t entered_ms;
};

static uint64_t fake_now;
static uint64_t step_start_ms;	/* the clock when the device step began */
static struct fake_dev *dev;
static struct nvp_dma_domain test_domain = { .name = "unit-test" };

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* The fake register file is little-endian, as a controller's is. */
static uint32_t reg(uint32_t off)
{
	return nvp_le32_to_cpu(dev->bar[off / 4]);
}

static void set_reg(uint32_t off, uint32_t v)
{
	dev->bar[off / 4] = nvp_cpu_to_le32(v);
}

static uint64_t reg64(uint32_t off)
{
	return reg(off) | ((uint64_t)reg(off + 4) << 32);
}

static void *bus_va(uint64_t iova, size_t len)
{
	size_t contig = 0;
	void *va = nvp_mem_iova_to_va(iova, len, &contig);

	assert_non_null(va);
	assert_true(contig >= len);
	return va;
}

static enum kind classify(const struct nvp_sqe *sqe)
{
	uint32_t cdw10 = nvp_le32_to_cpu(sqe->cdw10);

	switch (sqe->opc) {
	case NVP_ADMIN_IDENTIFY:
		return (cdw10 & 0xff) == NVP_CNS_CTRL ? K_ID_CTRL :
		       (cdw10 & 0xff) == NVP_CNS_ACTIVE_NS_LIST ? K_ID_LIST :
		       (cdw10 & 0xff) == NVP_CNS_NS ? K_ID_NS :
		       (cdw10 & 0xff) == NVP_CNS_NS_DESC_LIST ? K_ID_DESC :
		       (cdw10 & 0xff) == NVP_CNS_CSI_NS ? K_ID_CSI_NS :
		       (cdw10 & 0xff) == NVP_CNS_CSI_CTRL ? K_ID_CSI_CTRL : K_OTHER;
	case NVP_ADMIN_SET_FEATURES:
		return (cdw10 & 0xff) == NVP_FEAT_NUM_QUEUES ? K_NUM_Q :
		       (cdw10 & 0xff) == NVP_FEAT_ASYNC_EVENT ? K_AEC : K_OTHER;
	case NVP_ADMIN_DOORBELL_BUF_CFG:
		return K_DBBUF;
	case NVP_ADMIN_ASYNC_EVENT:
		return K_AER;
	default:
		return K_OTHER;
	}
}

/* Execute one admin command and post its completion. */
static void answer(const struct nvp_sqe *sqe, uint32_t entries)
{
	struct nvp_cqe *cq = bus_va(reg64(NVP_REG_ACQ), entries * sizeof(*cq));
	enum kind k = classify(sqe);
	uint16_t status = dev->status[k];
	uint32_t nsid = nvp_le32_to_cpu(sqe->nsid), dw0 = 0;
	uint64_t prp1 = nvp_le64_to_cpu(sqe->dptr.prp.prp1);
	struct nvp_cqe *cqe = &cq[dev->cq_tail];

	if (k == K_ID_NS && nsid == dev->refuse_nsid)
		status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_NS);
	if (!status) {
		switch (k) {
		case K_ID_CTRL: {
			struct nvp_id_ctrl *id = bus_va(prp1, sizeof(*id));

			memset(id, 0, sizeof(*id));
			memcpy(id->sn, "FAKESN0001          ", sizeof(id->sn));
			memcpy(id->mn, "fake controller", 15);
			id->mdts = 5;
			id->nn = nvp_cpu_to_le32(dev->num_active + 5);
			id->oacs = nvp_cpu_to_le16(dev->dbbuf ? NVP_OACS_DBBUF : 0);
			break;
		}
		case K_NUM_Q:
			dw0 = ((dev->grant - 1) << 16) | (dev->grant - 1);
			break;
		case K_DBBUF:
			dev->dbbuf_prp1 = prp1;
			dev->dbbuf_prp2 = nvp_le64_to_cpu(sqe->dptr.prp.prp2);
			break;
		case K_ID_LIST: {
			uint32_t *list = bus_va(prp1, 4096), n = 0;

			memset(list, 0, 4096);
			for (uint32_t id = nsid + 1; id <= dev->num_active && n < 1024; id++)
				list[n++] = nvp_cpu_to_le32(id);
			break;
		}
		case K_ID_NS: {
			struct nvp_id_ns *id = bus_va(prp1, sizeof(*id));

			memset(id, 0, sizeof(*id));
			if (nsid <= dev->num_real) {
				id->nsze = nvp_cpu_to_le64(1000 + nsid);
				id->ncap = id->nsze;
				id->lbaf[0].lbads = 9;
			}
			break;
		}
		case K_ID_DESC: {
			uint8_t *p = bus_va(prp1, 4096);

			memset(p, 0, 4096);
			p[0] = NVP_NIDT_EUI64;
			p[1] = 8;
			p[12] = NVP_NIDT_CSI;
			p[13] = 1;
			p[16] = nsid == dev->zoned_nsid ? NVP_CSI_ZNS :
				nsid == dev->other_csi_nsid ? 0x01 : NVP_CSI_NVM;
			break;
		}
		case K_ID_CSI_NS: {
			struct nvp_zns_id_ns *z = bus_va(prp1, sizeof(*z));

			memset(z, 0, sizeof(*z));
			assert_int_equal(nvp_le32_to_cpu(sqe->cdw11) >> 24, NVP_CSI_ZNS);
			z->mor = nvp_cpu_to_le32(dev->zns_custom ? dev->zns_mor : 5);	/* 6 open */
			z->mar = nvp_cpu_to_le32(dev->zns_custom ? dev->zns_mar :
						 NVP_ZNS_NO_LIMIT);	/* active: no limit */
			z->ozcs = nvp_cpu_to_le16(NVP_ZNS_OZCS_RAZB);
			z->lbafe[0].zsze = nvp_cpu_to_le64(dev->zns_custom ? dev->zns_zsze : 100);
			break;
		}
		case K_ID_CSI_CTRL: {
			struct nvp_zns_id_ctrl *z = bus_va(prp1, sizeof(*z));

			memset(z, 0, sizeof(*z));
			z->zasl = dev->zns_custom ? dev->zns_zasl : 1;	/* 8 KiB */
			break;
		}
		default:
			break;
		}
	}
	cqe->dw0 = nvp_cpu_to_le32(dw0);
	cqe->dw1 = 0;
	cqe->sqhd = nvp_cpu_to_le16(dev->sq_head);
	cqe->sqid = 0;
	cqe->cid = sqe->cid;	/* both wire order */
	cqe->status = nvp_cpu_to_le16((uint16_t)(status | dev->phase));
	if (++dev->cq_tail == entries) {
		dev->cq_tail = 0;
		dev->phase ^= 1;
	}
}

/* Fetch what the SQ0 tail doorbell offers; answer what is due. */
static void admin_step(void)
{
	uint32_t entries = (reg(NVP_REG_AQA) & 0xfff) + 1;
	struct nvp_sqe *sq = bus_va(reg64(NVP_REG_ASQ), entries * sizeof(*sq));
	uint32_t tail = reg(NVP_REG_DBS);
	unsigned int i;

	while (dev->sq_head != tail) {
		struct nvp_sqe sqe = sq[dev->sq_head];
		enum kind k = classify(&sqe);

		dev->sq_head = (uint16_t)((dev->sq_head + 1) % entries);
		dev->seen[k]++;
		dev->fetched_ms = step_start_ms;	/* it was submitted then */
		if (dev->vanish_on[k]) {
			memset(dev->bar, 0xff, BAR_SIZE);
			return;
		}
		if (dev->cfs_on[k]) {
			set_reg(NVP_REG_CSTS, reg(NVP_REG_CSTS) | NVP_CSTS_CFS);
			continue;
		}
		/* An AER is answered only when there is news: never here. */
		if (k == K_AER || (dev->never_from[k] && dev->seen[k] >= dev->never_from[k]))
			continue;
		assert_true(dev->npend < 64);
		dev->pend[dev->npend].sqe = sqe;
		dev->pend[dev->npend++].due = dev->polls + dev->answer_delay;
	}
	for (i = 0; i < dev->npend;) {
		if (dev->pend[i].due > dev->polls) {
			i++;
			continue;
		}
		answer(&dev->pend[i].sqe, entries);
		memmove(&dev->pend[i], &dev->pend[i + 1], (dev->npend - i - 1) * sizeof(dev->pend[0]));
		dev->npend--;
	}
}

/* One device step, between polls: react to CC like a controller would. */
static void device_step(void *arg)
{
	uint32_t cc = reg(NVP_REG_CC), csts = reg(NVP_REG_CSTS);
	bool en = (cc & NVP_CC_EN) != 0;

	(void)arg;
	step_start_ms = fake_now;
	/* The clock has not moved since the state the run is in was entered. */
	if (dev->ini && dev->ini->state != dev->seen_state) {
		dev->seen_state = dev->ini->state;
		dev->entered_ms = fake_now;
	}
	if (cc == NVP_REG_GONE)
		return;
	fake_now += POLL_MS;
	dev->polls++;
	if (en != dev->en) {
		dev->en = en;
		dev->en_age = 0;
		if (!en) {
			/* A disabled controller forgets its admin queue, and its
			 * doorbells read 0 again. */
			set_reg(NVP_REG_DBS, 0);
			set_reg(NVP_REG_DBS + 4, 0);
			dev->sq_head = dev->cq_tail = 0;
			dev->phase = 1;
			dev->npend = 0;
		}
	}
	dev->en_age++;
	if (en) {
		dev->cc_at_enable = cc;
		if (dev->vanish_on_enable) {
			memset(dev->bar, 0xff, BAR_SIZE);
			return;
		}
		if (dev->set_cfs_on_enable)
			csts |= NVP_CSTS_CFS;
		else if (dev->follow_en && !dev->never_ready && dev->en_age > dev->ready_delay)
			csts |= NVP_CSTS_RDY;
	} else if (dev->follow_en && !dev->stuck_ready && dev->en_age > dev->ready_delay) {
		csts &= ~(NVP_CSTS_RDY | NVP_CSTS_CFS);
	}
	set_reg(NVP_REG_CSTS, csts);
	if (dev->admin && en && (csts & NVP_CSTS_RDY) && !(csts & NVP_CSTS_CFS) &&
	    reg64(NVP_REG_ASQ))
		admin_step();
}

/* CAP: MQES, TO (500 ms units), CSS, MPSMIN. */
static uint64_t make_cap(uint32_t mqes, uint32_t to, uint32_t css, uint32_t mpsmin)
{
	return (uint64_t)mqes | ((uint64_t)to << 24) | ((uint64_t)css << 37) |
	       ((uint64_t)mpsmin << 48);
}

static struct nvp_ctrl *new_ctrl(struct fake_dev *d, uint64_t cap)
{
	struct nvp_ctrl *ctrl = nvp_ctrl_new();

	assert_non_null(ctrl);
	d->bar = aligned_alloc(4096, BAR_SIZE);
	assert_non_null(d->bar);
	memset(d->bar, 0, BAR_SIZE);
	d->phase = 1;
	d->seen_state = NVP_INIT_NUM_STATES;
	dev = d;
	set_reg(NVP_REG_CAP, (uint32_t)cap);
	set_reg(NVP_REG_CAP + 4, (uint32_t)(cap >> 32));
	set_reg(NVP_REG_VS, 0x00010400);
	ctrl->bar = d->bar;
	nvp_ctrl_opts_init(&ctrl->opts, sizeof(ctrl->opts));
	/* Nobody answers admin commands unless asked: don't wait long. */
	ctrl->opts.admin_timeout_ms = 50;
	snprintf(ctrl->info.addr, sizeof(ctrl->info.addr), "fake");
	ctrl->info.numa_node = NVP_NUMA_ANY;
	fake_now = 1000;
	return ctrl;
}

/* A device that answers everything: 3 namespaces, 8 queues, shadow doorbells. */
static struct nvp_ctrl *new_answering_ctrl(struct fake_dev *d)
{
	struct nvp_ctrl *ctrl;

	d->follow_en = true;
	d->admin = true;
	d->num_active = d->num_active ? d->num_active : 3;
	d->num_real = d->num_real ? d->num_real : 3;
	d->grant = 8;
	d->dbbuf = true;
	ctrl = new_ctrl(d, make_cap(1023, CAP_TO,
				    NVP_CAP_CSS_NVM | (d->csi ? NVP_CAP_CSS_CSI : 0), 0));
	ctrl->opts.admin_timeout_ms = ADMIN_MS;
	return ctrl;
}

static void free_ctrl(struct nvp_ctrl *ctrl)
{
	free(dev->bar);
	nvp_ctrl_free(ctrl);
}

static void init_run_struct(struct nvp_ctrl *ctrl, struct nvp_init *ini, bool reinit)
{
	memset(ini, 0, sizeof(*ini));
	ini->ctrl = ctrl;
	ini->now_ms = fake_clock;
	ini->on_poll = device_step;
	ini->reinit = reinit;
	dev->ini = ini;
	dev->seen_state = NVP_INIT_NUM_STATES;
}

static int run(struct nvp_ctrl *ctrl, struct nvp_init *ini)
{
	init_run_struct(ctrl, ini, false);
	return nvp_init_run(ini);
}

/*
 * Drive the run with nvp_init_process() as a caller stepping it would:
 * the device moves only when a call made no progress. Each call enters at
 * most one new state; @hook runs before every call. Returns the result
 * and the number of calls in @calls.
 */
static int drive(struct nvp_init *ini, void (*hook)(struct nvp_init *), unsigned int *calls)
{
	unsigned int n = 0;
	int rc;

	for (;;) {
		enum nvp_init_state before = ini->state;

		if (hook)
			hook(ini);
		rc = nvp_init_process(ini);
		n++;
		assert_true(n < 100000);
		assert_true(ini->state >= before && ini->state <= before + 1);
		if (rc != -EAGAIN)
			break;
		if (ini->state == before)
			device_step(NULL);
	}
	if (calls)
		*calls = n;
	return rc;
}

static unsigned int time_scale(void)
{
	const char *s = getenv("NVP_TEST_TIME_SCALE");
	unsigned int v = s ? (unsigned int)strtoul(s, NULL, 10) : 1;

	return v ? v : 1;
}

static int setup(void **state)
{
	(void)state;
	return nvp_mem_domain_attach(&test_domain, NVP_IOVA_VIRT);
}

static int teardown(void **state)
{
	(void)state;
	nvp_mem_domain_detach(&test_domain);
	return 0;
}

/* Firmware left it enabled: the sequence disables, programs, re-enables. */
static void test_already_enabled(void **state)
{
	struct fake_dev d = { .follow_en = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(1023, 20, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;
	uint64_t iova = 0;
	size_t contig = 0;
	int rc;

	(void)state;
	set_reg(NVP_REG_CC, NVP_CC_EN | (6u << 16) | (4u << 20));
	set_reg(NVP_REG_CSTS, NVP_CSTS_RDY);
	rc = run(ctrl, &ini);
	/* Register states all pass; Identify then times out (no admin device). */
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(ini.state, NVP_INIT_IDENTIFY_CTRL);
	assert_non_null(strstr(nvp_last_error(), "Identify Controller"));
	assert_int_equal(reg(NVP_REG_AQA), (63u << 16) | 63u);
	assert_int_equal(nvp_mem_lookup(ctrl->admin->sq.ring, &iova, &contig), 0);
	assert_int_equal(reg(NVP_REG_ASQ), (uint32_t)iova);
	assert_int_equal(reg(NVP_REG_ASQ + 4), (uint32_t)(iova >> 32));
	assert_int_equal(nvp_mem_lookup(ctrl->admin->cq.ring, &iova, &contig), 0);
	assert_int_equal(reg(NVP_REG_ACQ), (uint32_t)iova);
	assert_int_equal(iova & 4095, 0);
	/* CC: EN, NVM command set, MPS 4 KiB, round robin, SQE 64 B, CQE 16 B. */
	assert_int_equal(d.cc_at_enable, NVP_CC_EN | (6u << 16) | (4u << 20));
	/* The Identify command sits in the admin SQ with its CNS. */
	assert_int_equal(ctrl->admin->sq.ring[0].opc, NVP_ADMIN_IDENTIFY);
	assert_int_equal(nvp_le32_to_cpu(ctrl->admin->sq.ring[0].cdw10), NVP_CNS_CTRL);
	assert_int_equal(reg(NVP_REG_DBS), 1); /* SQ0 tail doorbell rung once */
	free_ctrl(ctrl);
}

/* EN=1 but RDY=0: wait for RDY=1 before clearing EN (undefined otherwise). */
static void test_enabling_at_entry_waits_for_ready(void **state)
{
	struct fake_dev d = { .follow_en = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 2, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;

	(void)state;
	set_reg(NVP_REG_CC, NVP_CC_EN);
	set_reg(NVP_REG_CSTS, 0);
	assert_int_equal(run(ctrl, &ini), -ETIMEDOUT);
	/* It got past the early wait (device raised RDY) and the register states. */
	assert_int_equal(ini.state, NVP_INIT_IDENTIFY_CTRL);
	free_ctrl(ctrl);
}

/* RDY never rises after enable: timeout after CAP.TO, state named. */
static void test_ready_never_rises(void **state)
{
	struct fake_dev d = { .follow_en = false };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 4, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;
	uint64_t start = fake_now;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -ETIMEDOUT);
	assert_int_equal(ini.state, NVP_INIT_WAIT_READY);
	assert_non_null(strstr(nvp_last_error(), "wait for CSTS.RDY=1 after enable"));
	assert_non_null(strstr(nvp_last_error(), "CAP.TO=4"));
	/* CAP.TO = 4 means 2000 ms; the fake clock moves 10 ms per poll. */
	assert_true(fake_now - start >= 2000);
	assert_true(fake_now - start <= 2100);
	free_ctrl(ctrl);
}

/* RDY stays 1 after EN=0: timeout in the disable wait. */
static void test_ready_never_falls(void **state)
{
	struct fake_dev d = { .follow_en = true, .stuck_ready = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 2, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;

	(void)state;
	set_reg(NVP_REG_CC, NVP_CC_EN);
	set_reg(NVP_REG_CSTS, NVP_CSTS_RDY);
	assert_int_equal(run(ctrl, &ini), -ETIMEDOUT);
	assert_int_equal(ini.state, NVP_INIT_WAIT_NOT_READY);
	assert_non_null(strstr(nvp_last_error(), "wait for CSTS.RDY=0"));
	free_ctrl(ctrl);
}

/* CSTS.CFS during the enable wait ends the sequence at once. */
static void test_fatal_status_on_enable(void **state)
{
	struct fake_dev d = { .follow_en = true, .set_cfs_on_enable = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 20, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -EIO);
	assert_int_equal(ini.state, NVP_INIT_WAIT_READY);
	assert_non_null(strstr(nvp_last_error(), "CSTS.CFS"));
	assert_true(d.polls < 5); /* no waiting out the timeout */
	free_ctrl(ctrl);
}

/* A device that is gone reads all-ones: -ENODEV right away. */
static void test_all_ones_at_entry(void **state)
{
	struct fake_dev d = { 0 };
	struct nvp_ctrl *ctrl = new_ctrl(&d, 0);
	struct nvp_init ini;

	(void)state;
	memset(d.bar, 0xff, BAR_SIZE);
	assert_int_equal(run(ctrl, &ini), -ENODEV);
	assert_int_equal(ini.state, NVP_INIT_READ_CAP);
	assert_non_null(strstr(nvp_last_error(), "all-ones"));
	assert_null(ctrl->admin);
	free_ctrl(ctrl);
}

/* Surprise removal in the middle of the enable wait. */
static void test_all_ones_during_enable(void **state)
{
	struct fake_dev d = { .follow_en = true, .vanish_on_enable = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 20, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -ENODEV);
	assert_int_equal(ini.state, NVP_INIT_WAIT_READY);
	assert_true(d.polls < 5);
	free_ctrl(ctrl);
}

/* CC follows CAP: MPSMIN gives MPS, CSS bit 6 gives CC.CSS=110b. */
static void test_cc_follows_cap(void **state)
{
	struct fake_dev d = { .follow_en = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(3, 2, NVP_CAP_CSS_NVM | NVP_CAP_CSS_CSI, 1));
	struct nvp_init ini;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -ETIMEDOUT);
	assert_int_equal(ini.state, NVP_INIT_IDENTIFY_CTRL);
	assert_int_equal(d.cc_at_enable, NVP_CC_EN | NVP_CC_CSS_CSI | (1u << NVP_CC_MPS_SHIFT) |
					 (6u << 16) | (4u << 20));
	assert_int_equal(ctrl->page_size, 8192);
	/* MQES = 3: the admin queue is clamped to 4 entries. */
	assert_int_equal(reg(NVP_REG_AQA), (3u << 16) | 3u);
	free_ctrl(ctrl);
}

/* An admin-only controller (CAP.CSS bit 7 only) is refused with a reason. */
static void test_admin_only_controller(void **state)
{
	struct fake_dev d = { .follow_en = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 2, NVP_CAP_CSS_ADMIN_ONLY, 0));
	struct nvp_init ini;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -ENOTSUP);
	assert_int_equal(ini.state, NVP_INIT_READ_CAP);
	free_ctrl(ctrl);
}

/* CSTS.CFS with an admin command outstanding ends the wait at once. */
static void test_fatal_status_during_identify(void **state)
{
	struct fake_dev d = { .cfs_on[K_ID_CTRL] = true };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;

	(void)state;
	ctrl->opts.admin_timeout_ms = 10000; /* CFS must end it long before this */
	assert_int_equal(run(ctrl, &ini), -EIO);
	/* Bring-up has nothing to reset: the step fails, naming the cause. */
	assert_int_equal(ini.state, NVP_INIT_IDENTIFY_CTRL);
	assert_non_null(strstr(nvp_last_error(), "Identify Controller"));
	assert_non_null(strstr(nvp_last_error(), "CSTS.CFS"));
	assert_int_equal(atomic_load(&ctrl->resets_started), 0);
	assert_true(d.polls < 10);
	free_ctrl(ctrl);
}

/* The whole sequence against a device that answers. */
static void test_full_bring_up(void **state)
{
	struct fake_dev d = { 0 };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;
	uint64_t iova;
	size_t contig;

	(void)state;
	assert_int_equal(run(ctrl, &ini), 0);
	assert_int_equal(ini.state, NVP_INIT_DONE);
	assert_string_equal(ctrl->info.serial, "FAKESN0001");
	assert_string_equal(ctrl->info.model, "fake controller");
	assert_int_equal(ctrl->num_io_queues, 8);	/* 64 asked, 8 granted */
	assert_int_equal(ctrl->max_xfer, 4096u << 5);	/* MDTS 5 */
	assert_int_equal(ctrl->info.num_ns, 3);
	assert_non_null(nvp_ctrl_get_ns(ctrl, 3));
	/* Without command sets in CAP.CSS: no CSI Identify, nothing zoned. */
	assert_int_equal(d.seen[K_ID_DESC] + d.seen[K_ID_CSI_NS] + d.seen[K_ID_CSI_CTRL], 0);
	assert_false(nvp_ns_get_info(nvp_ctrl_get_ns(ctrl, 1))->zoned);
	/* Shadow doorbells: the pages went to the device, the admin queue uses them. */
	assert_true(ctrl->info.shadow_doorbells);
	assert_int_equal(nvp_mem_lookup(ctrl->dbbuf.shadow, &iova, &contig), 0);
	assert_int_equal(d.dbbuf_prp1, iova);
	assert_int_equal(nvp_mem_lookup(ctrl->dbbuf.eventidx, &iova, &contig), 0);
	assert_int_equal(d.dbbuf_prp2, iova);
	assert_non_null(ctrl->admin->sq.db.shadow);
	assert_true(ctrl->admin->sq.db.always_mmio);
	/* One AER stays outstanding, by design; nothing else does. */
	device_step(NULL);
	assert_int_equal(d.seen[K_AER], 1);
	assert_int_equal(d.seen[K_AEC], 1);
	assert_int_equal(ctrl->admin->outstanding, 1);
	/* Done is done. */
	assert_int_equal(nvp_init_process(&ini), 0);
	assert_int_equal(ctrl->admin->outstanding, 1);
	free_ctrl(ctrl);
}

/* What a reset does to the admin queue before it runs the sequence again. */
static void reset_admin_queue(struct nvp_ctrl *ctrl)
{
	set_reg(NVP_REG_CC, reg(NVP_REG_CC) & ~NVP_CC_EN);
	for (int i = 0; i < 100 && (reg(NVP_REG_CSTS) & NVP_CSTS_RDY); i++)
		device_step(NULL);
	assert_int_equal(reg(NVP_REG_CSTS) & NVP_CSTS_RDY, 0);
	nvp_admin_lock(ctrl);
	nvp_qpair_fail_all(ctrl->admin, NVP_STATUS_RESET_ABORTED);
	nvp_qpair_reset_rings(ctrl->admin);
	ctrl->aer.posted = false;
	nvp_admin_unlock(ctrl);
}

/* A second run (a reset) keeps the namespace handles and the pages. */
static void test_reinit_keeps_handles(void **state)
{
	struct fake_dev d = { 0 };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;
	struct nvp_ns *ns1;
	uint32_t *shadow;
	void *id;

	(void)state;
	assert_int_equal(run(ctrl, &ini), 0);
	ns1 = nvp_ctrl_get_ns(ctrl, 1);
	shadow = ctrl->dbbuf.shadow;
	id = ctrl->id;
	reset_admin_queue(ctrl);
	d.num_active = d.num_real = 2;	/* NSID 3 went away meanwhile */
	init_run_struct(ctrl, &ini, true);
	assert_int_equal(nvp_init_run(&ini), 0);
	assert_ptr_equal(nvp_ctrl_get_ns(ctrl, 1), ns1);
	assert_null(nvp_ctrl_get_ns(ctrl, 3));
	assert_int_equal(ctrl->info.num_ns, 2);
	assert_ptr_equal(ctrl->dbbuf.shadow, shadow);
	assert_ptr_equal(ctrl->id, id);
	assert_true(ctrl->info.shadow_doorbells);
	assert_int_equal(d.seen[K_DBBUF], 2);
	assert_int_equal(ctrl->admin->outstanding, 1);
	free_ctrl(ctrl);
}

/*
 * Re-entrancy: against a slow device every call returns -EAGAIN without
 * blocking, enters at most one new state (drive() checks), and a call the
 * device gave nothing new to resumes from the same state, which is then
 * still the same.
 */
static unsigned int same_state_calls;

static void call_twice(struct nvp_init *ini)
{
	enum nvp_init_state s = ini->state;
	uint64_t deadline = ini->state_deadline_ms;

	/* Only where the device owes us something (RDY, or the answer to
	 * the command in flight), so a call cannot make progress of its own. */
	if ((ini->state == NVP_INIT_WAIT_READY && !(reg(NVP_REG_CSTS) & NVP_CSTS_RDY)) ||
	    (ini->cmd_busy && dev->npend)) {
		assert_int_equal(nvp_init_process(ini), -EAGAIN);
		assert_int_equal(ini->state, s);
		assert_int_equal(ini->state_deadline_ms, deadline);
		same_state_calls++;
	}
}

static void test_reentrant_slow_device(void **state)
{
	struct fake_dev d = { .ready_delay = 4, .answer_delay = 3 };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;
	unsigned int calls = 0;

	(void)state;
	set_reg(NVP_REG_CC, NVP_CC_EN);	/* enabling: every state is visited */
	init_run_struct(ctrl, &ini, false);
	same_state_calls = 0;
	assert_int_equal(drive(&ini, call_twice, &calls), 0);
	assert_int_equal(ini.state, NVP_INIT_DONE);
	assert_true(calls > 2 * NVP_INIT_DONE);
	assert_true(same_state_calls > 10);
	assert_int_equal(ctrl->info.num_ns, 3);
	assert_int_equal(ctrl->admin->outstanding, 1);
	free_ctrl(ctrl);
}

/* A failed run stays failed: later calls return its error, touch nothing. */
static void test_failure_is_sticky(void **state)
{
	struct fake_dev d = { .never_from[K_NUM_Q] = 1 };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;
	unsigned int seen;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -ETIMEDOUT);
	seen = d.seen[K_NUM_Q];
	set_reg(NVP_REG_CSTS, 0);
	assert_int_equal(nvp_init_process(&ini), -ETIMEDOUT);
	assert_int_equal(nvp_init_process(&ini), -ETIMEDOUT);
	device_step(NULL);
	assert_int_equal(d.seen[K_NUM_Q], seen);
	assert_int_equal(ini.state, NVP_INIT_SET_NUM_QUEUES);
	free_ctrl(ctrl);
}

/* ---- table: every waiting state times out on its own deadline ------------- */

struct timeout_case {
	enum nvp_init_state state;
	const char *what;	/* in the message besides the state's name */
	bool enabling;		/* CC.EN=1, CSTS.RDY=0 at entry */
	bool stuck_ready;
	bool never_ready;
	enum kind never;	/* K_NUM: none */
	unsigned int nth;	/* the nth command of that kind is not answered */
	bool csi;		/* command sets: zoned namespace 2 */
};

static const struct timeout_case timeout_cases[] = {
	{ NVP_INIT_WAIT_READY_BEFORE_DISABLE, "CAP.TO=3", .enabling = true, .never_ready = true,
	  .never = K_NUM },
	{ NVP_INIT_WAIT_NOT_READY, "CAP.TO=3", .enabling = true, .stuck_ready = true,
	  .never = K_NUM },
	{ NVP_INIT_WAIT_READY, "CAP.TO=3", .never_ready = true, .never = K_NUM },
	{ NVP_INIT_IDENTIFY_CTRL, "admin timeout", .never = K_ID_CTRL, .nth = 1 },
	{ NVP_INIT_SET_NUM_QUEUES, "admin timeout", .never = K_NUM_Q, .nth = 1 },
	{ NVP_INIT_DOORBELL_BUFFER, "admin timeout", .never = K_DBBUF, .nth = 1 },
	{ NVP_INIT_IDENTIFY_NS, "admin timeout", .never = K_ID_LIST, .nth = 1 },
	/* The third namespace: the state is older than the admin timeout by
	 * then, each command has a timeout of its own. */
	{ NVP_INIT_IDENTIFY_NS, "admin timeout", .never = K_ID_NS, .nth = 3 },
	{ NVP_INIT_ASYNC_EVENTS, "admin timeout", .never = K_AEC, .nth = 1 },
	/* With command sets: the CSI Identify commands after each namespace. */
	{ NVP_INIT_IDENTIFY_NS, "admin timeout", .never = K_ID_DESC, .nth = 2, .csi = true },
	{ NVP_INIT_IDENTIFY_NS, "admin timeout", .never = K_ID_CSI_CTRL, .nth = 1, .csi = true },
	{ NVP_INIT_IDENTIFY_NS, "admin timeout", .never = K_ID_CSI_NS, .nth = 1, .csi = true },
};

static void run_timeout_case(const struct timeout_case *c, bool reinit)
{
	/* Every step of a slow device takes 40-50 ms: several admin states
	 * together outlast one admin timeout, and the disable wait the
	 * enable wait's. */
	struct fake_dev d = { .ready_delay = 4, .answer_delay = 4,
			      .stuck_ready = c->stuck_ready, .csi = c->csi,
			      .zoned_nsid = c->csi ? 2 : 0 };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	uint32_t timeout = c->state <= NVP_INIT_WAIT_READY ? READY_MS : ADMIN_MS;
	struct nvp_init ini;
	uint64_t start, elapsed;
	char msg[512];
	int rc;

	if (reinit) {
		/* A reset's run: the first one went through. */
		assert_int_equal(run(ctrl, &ini), 0);
		reset_admin_queue(ctrl);
	} else if (c->enabling) {
		set_reg(NVP_REG_CC, NVP_CC_EN);
	}
	d.never_ready = c->never_ready;
	if (c->never != K_NUM) {
		d.seen[c->never] = 0;
		d.never_from[c->never] = c->nth;
	}
	init_run_struct(ctrl, &ini, reinit);
	start = fake_now;
	rc = nvp_init_run(&ini);
	snprintf(msg, sizeof(msg), "%s", nvp_last_error());
	print_message("%s%s: %d after %llu ms: %s\n", reinit ? "reinit: " : "",
		      nvp_init_state_name(c->state), rc, (unsigned long long)(fake_now - start), msg);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(ini.state, c->state);
	assert_non_null(strstr(msg, nvp_init_state_name(c->state)));
	assert_non_null(strstr(msg, c->what));
	assert_non_null(strstr(msg, "CSTS=0x"));
	/* Its own deadline: from entering the state (register waits), from
	 * submitting the command (admin states), within one device step. */
	elapsed = fake_now - (c->never == K_NUM ? d.entered_ms : d.fetched_ms);
	assert_true(elapsed >= timeout);
	assert_true(elapsed <= timeout + POLL_MS);
	if (c->never != K_NUM)
		assert_int_equal(d.seen[c->never], c->nth);
	/* By then the state is older than one admin timeout: the deadline
	 * restarted with each command. */
	if (c->nth > 1)
		assert_true(fake_now - d.entered_ms > 2 * timeout);
	/* The timed-out command's admin slot is back: nothing is outstanding. */
	if (ctrl->admin)
		assert_int_equal(ctrl->admin->outstanding, 0);
	free_ctrl(ctrl);
}

static void test_timeout_each_state(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(timeout_cases) / sizeof(timeout_cases[0]); i++)
		run_timeout_case(&timeout_cases[i], false);
}

/* The same during a reset's run: the admin queue pair and pages exist.
 * (The reset disabled the controller already: the waits before the
 * enable find it disabled.) */
static void test_timeout_each_state_reinit(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(timeout_cases) / sizeof(timeout_cases[0]); i++)
		if (!timeout_cases[i].enabling)
			run_timeout_case(&timeout_cases[i], true);
}

/* ---- table: the device vanishes (all-ones) in each register state --------- */

static enum nvp_init_state vanish_state;

static void vanish_in_state(struct nvp_init *ini)
{
	if (ini->state == vanish_state)
		memset(dev->bar, 0xff, BAR_SIZE);
}

static void test_gone_in_each_register_state(void **state)
{
	(void)state;
	for (int s = NVP_INIT_READ_CAP; s <= NVP_INIT_WAIT_READY; s++) {
		struct fake_dev d = { .ready_delay = 2 };
		struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
		struct nvp_init ini;
		unsigned int calls;

		set_reg(NVP_REG_CC, NVP_CC_EN);	/* enabling: every state is visited */
		init_run_struct(ctrl, &ini, false);
		vanish_state = (enum nvp_init_state)s;
		assert_int_equal(drive(&ini, vanish_in_state, &calls), -ENODEV);
		print_message("%s: %s\n", nvp_init_state_name(s), nvp_last_error());
		assert_int_equal(ini.state, s);
		assert_non_null(strstr(nvp_last_error(), nvp_init_state_name(s)));
		assert_non_null(strstr(nvp_last_error(), "all-ones"));
		free_ctrl(ctrl);
	}
}

/* ---- table: CFS, and the device vanishing, in each admin state ------------- */

static const struct {
	enum nvp_init_state state;
	enum kind kind;
} admin_cases[] = {
	{ NVP_INIT_IDENTIFY_CTRL, K_ID_CTRL },
	{ NVP_INIT_SET_NUM_QUEUES, K_NUM_Q },
	{ NVP_INIT_DOORBELL_BUFFER, K_DBBUF },
	{ NVP_INIT_IDENTIFY_NS, K_ID_LIST },
	{ NVP_INIT_IDENTIFY_NS, K_ID_NS },
	{ NVP_INIT_ASYNC_EVENTS, K_AEC },
	/* With command sets (every case runs with them; namespace 1 zoned). */
	{ NVP_INIT_IDENTIFY_NS, K_ID_DESC },
	{ NVP_INIT_IDENTIFY_NS, K_ID_CSI_CTRL },
	{ NVP_INIT_IDENTIFY_NS, K_ID_CSI_NS },
};

static void test_fatal_in_each_admin_state(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(admin_cases) / sizeof(admin_cases[0]); i++) {
		for (int vanish = 0; vanish < 2; vanish++) {
			struct fake_dev d = { .answer_delay = 2, .csi = true, .zoned_nsid = 1 };
			struct nvp_ctrl *ctrl;
			struct nvp_init ini;
			int rc;

			if (vanish)
				d.vanish_on[admin_cases[i].kind] = true;
			else
				d.cfs_on[admin_cases[i].kind] = true;
			ctrl = new_answering_ctrl(&d);
			ctrl->opts.admin_timeout_ms = 10000; /* seen long before this */
			rc = run(ctrl, &ini);
			print_message("%s: %s\n", vanish ? "all-ones" : "CFS", nvp_last_error());
			assert_int_equal(rc, vanish ? -ENODEV : -EIO);
			assert_int_equal(ini.state, admin_cases[i].state);
			assert_non_null(strstr(nvp_last_error(),
					       nvp_init_state_name(admin_cases[i].state)));
			assert_non_null(strstr(nvp_last_error(), vanish ? "all-ones" : "CSTS.CFS"));
			assert_true(d.polls < 50);
			assert_int_equal(ctrl->admin->outstanding, 0);
			free_ctrl(ctrl);
		}
	}
}

/* CFS in the register waits: fatal waiting for RDY=1, cleared by the disable. */
static void test_cfs_in_register_waits(void **state)
{
	struct fake_dev d = { .ready_delay = 2 };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;

	(void)state;
	set_reg(NVP_REG_CC, NVP_CC_EN);
	set_reg(NVP_REG_CSTS, NVP_CSTS_CFS);	/* while enabling */
	assert_int_equal(run(ctrl, &ini), -EIO);
	assert_int_equal(ini.state, NVP_INIT_WAIT_READY_BEFORE_DISABLE);
	assert_non_null(strstr(nvp_last_error(), "CSTS.CFS"));
	free_ctrl(ctrl);

	/* Enabled and fatal: the disable clears CFS, the rest goes through. */
	memset(&d, 0, sizeof(d));
	ctrl = new_answering_ctrl(&d);
	set_reg(NVP_REG_CC, NVP_CC_EN);
	set_reg(NVP_REG_CSTS, NVP_CSTS_RDY | NVP_CSTS_CFS);
	assert_int_equal(run(ctrl, &ini), 0);
	free_ctrl(ctrl);
}

/* Refusals that leave a working controller: shadow doorbells, a namespace. */
static void test_refusals_are_not_fatal(void **state)
{
	struct fake_dev d = { .num_active = 1030, .num_real = 3, .refuse_nsid = 2,
			      .status[K_DBBUF] = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_OPCODE),
			      .status[K_AEC] = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_INVALID_FIELD) };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;

	(void)state;
	assert_int_equal(run(ctrl, &ini), 0);
	assert_false(ctrl->info.shadow_doorbells);
	assert_null(ctrl->admin->sq.db.shadow);
	/* Two list pages (1024 + 6 IDs), then each NSID; 2 was refused. */
	assert_int_equal(d.seen[K_ID_LIST], 2);
	assert_int_equal(d.seen[K_ID_NS], 1030);
	assert_int_equal(ctrl->info.num_ns, 2);
	assert_non_null(nvp_ctrl_get_ns(ctrl, 1));
	assert_null(nvp_ctrl_get_ns(ctrl, 2));
	assert_non_null(nvp_ctrl_get_ns(ctrl, 3));
	device_step(NULL);
	assert_int_equal(d.seen[K_AER], 1);
	free_ctrl(ctrl);
}

/* A refused command the sequence needs fails its state with the status. */
static void test_needed_command_refused(void **state)
{
	struct fake_dev d = { .status[K_NUM_Q] = NVP_STATUS(NVP_SCT_GENERIC,
							    NVP_SC_INVALID_FIELD) };
	struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
	struct nvp_init ini;

	(void)state;
	assert_int_equal(run(ctrl, &ini), -EINVAL);
	assert_int_equal(ini.state, NVP_INIT_SET_NUM_QUEUES);
	assert_non_null(strstr(nvp_last_error(), "Invalid Field"));
	assert_int_equal(ctrl->admin->outstanding, 0);
	free_ctrl(ctrl);
}

/*
 * CAP.CSS bit 6: CC.CSS = 110b, and after each Identify Namespace its
 * descriptor list; a zoned one gets the ZNS Identify Controller (once)
 * and Namespace. Table: which command the device refuses, and what that
 * leaves (a refused descriptor list: NVM; a refused ZNS Identify
 * Namespace: the namespace refuses I/O; a refused ZNS Identify
 * Controller: ZASL 0, the transfer limit).
 */
static void test_command_sets(void **state)
{
	static const struct {
		enum kind refuse;	/* K_NUM: none */
		bool ns2_zoned;
		uint8_t ns2_unusable;
		uint32_t append_bytes;
	} rows[] = {
		{ K_NUM, true, NVP_NS_USABLE, 8192 },
		{ K_ID_DESC, false, NVP_NS_USABLE, 0 },
		{ K_ID_CSI_NS, true, NVP_NS_CSI_UNUSABLE, 0 },
		{ K_ID_CSI_CTRL, true, NVP_NS_USABLE, 4096u << 5 },	/* MDTS 5 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fake_dev d = { .csi = true, .num_active = 4, .num_real = 4,
				      .zoned_nsid = 2, .other_csi_nsid = 3 };
		struct nvp_ctrl *ctrl;
		struct nvp_init ini;
		struct nvp_ns *ns2, *ns3;
		const struct nvp_zns_info *zi;

		if (rows[i].refuse != K_NUM)
			d.status[rows[i].refuse] = NVP_STATUS(NVP_SCT_GENERIC,
							      NVP_SC_INVALID_FIELD);
		ctrl = new_answering_ctrl(&d);
		assert_int_equal(run(ctrl, &ini), 0);
		assert_int_equal(d.cc_at_enable & (7u << NVP_CC_CSS_SHIFT), NVP_CC_CSS_CSI);
		assert_int_equal(d.seen[K_ID_DESC], 4);
		assert_int_equal(d.seen[K_ID_CSI_CTRL], rows[i].refuse == K_ID_DESC ? 0 : 1);
		assert_int_equal(d.seen[K_ID_CSI_NS], rows[i].refuse == K_ID_DESC ? 0 : 1);
		ns2 = nvp_ctrl_get_ns(ctrl, 2);
		ns3 = nvp_ctrl_get_ns(ctrl, 3);
		assert_non_null(ns2);
		assert_non_null(ns3);
		assert_false(nvp_ns_get_info(nvp_ctrl_get_ns(ctrl, 1))->zoned);
		assert_int_equal(nvp_ns_get_info(ns2)->zoned, rows[i].ns2_zoned);
		assert_int_equal(atomic_load(&ns2->unusable), rows[i].ns2_unusable);
		/* CSI 01h (key value) is not nvpoll's: listed, its I/O refused. */
		assert_int_equal(nvp_ns_get_info(ns3)->csi, rows[i].refuse == K_ID_DESC ? 0 : 1);
		assert_int_equal(atomic_load(&ns3->unusable),
				 rows[i].refuse == K_ID_DESC ? NVP_NS_USABLE : NVP_NS_CSI_UNUSABLE);
		zi = nvp_ns_zns_info(ns2);
		if (rows[i].append_bytes) {
			assert_non_null(zi);
			assert_int_equal(zi->zone_size, 100);
			assert_int_equal(zi->num_zones, 10);	/* 1002 blocks: 10 whole zones */
			assert_int_equal(zi->max_open, 6);
			assert_int_equal(zi->max_active, 0);	/* no limit */
			assert_true(zi->cross_zone_read);
			assert_int_equal(zi->max_append_bytes, rows[i].append_bytes);
			assert_int_equal(zi->max_append_blocks, rows[i].append_bytes / 512);
		} else {
			assert_null(zi);
		}
		free_ctrl(ctrl);
	}
}

/* The ZNS Identify fields at their edges: MOR/MAR 0's based with all-ones
 * for no limit, ZSZE 0, ZASL of no use or past any shift. */
static void test_zns_identify_edges(void **state)
{
	static const struct {
		uint32_t mor, mar;
		uint64_t zsze;
		uint8_t zasl;
		bool usable;
		uint32_t max_open, max_active, append_bytes;
		uint64_t zones;
	} rows[] = {
		{ 0, 0, 1, 0, true, 1, 1, 4096u << 5, 1002 },	/* 0's based: 1 each */
		{ 0xfffffffeu, 0xfffffffeu, 1002, 0, true, 0xffffffffu, 0xffffffffu,
		  4096u << 5, 1 },
		{ NVP_ZNS_NO_LIMIT, NVP_ZNS_NO_LIMIT, 1001, 0, true, 0, 0, 4096u << 5, 1 },
		{ 5, 7, 0, 0, false, 0, 0, 0, 0 },			/* no zone size */
		{ 5, 7, 1003, 0, false, 0, 0, 0, 0 },		/* a zone past the end */
		{ 5, 7, UINT64_MAX, 0, false, 0, 0, 0, 0 },
		{ 5, 7, 100, 5, true, 6, 8, 4096u << 5, 10 },	/* ZASL = MDTS */
		{ 5, 7, 100, 6, true, 6, 8, 4096u << 5, 10 },	/* above MDTS: MDTS */
		{ 5, 7, 100, 31, true, 6, 8, 4096u << 5, 10 },
		{ 5, 7, 100, 32, true, 6, 8, 4096u << 5, 10 },	/* no 2^32 shift */
		{ 5, 7, 100, 255, true, 6, 8, 4096u << 5, 10 },
		{ 5, 7, 100, 4, true, 6, 8, 4096u << 4, 10 },	/* below MDTS */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fake_dev d = { .csi = true, .num_active = 2, .num_real = 2, .zoned_nsid = 2,
				      .zns_custom = true, .zns_mor = rows[i].mor,
				      .zns_mar = rows[i].mar, .zns_zsze = rows[i].zsze,
				      .zns_zasl = rows[i].zasl };
		struct nvp_ctrl *ctrl = new_answering_ctrl(&d);
		const struct nvp_zns_info *zi;
		struct nvp_init ini;
		struct nvp_ns *ns;

		assert_int_equal(run(ctrl, &ini), 0);
		ns = nvp_ctrl_get_ns(ctrl, 2);	/* 1002 blocks of 512 bytes */
		assert_non_null(ns);
		assert_true(nvp_ns_get_info(ns)->zoned);
		zi = nvp_ns_zns_info(ns);
		if (!rows[i].usable) {
			assert_null(zi);
			assert_int_equal(atomic_load(&ns->unusable), NVP_NS_CSI_UNUSABLE);
			free_ctrl(ctrl);
			continue;
		}
		assert_non_null(zi);
		assert_int_equal(zi->max_open, rows[i].max_open);
		assert_int_equal(zi->max_active, rows[i].max_active);
		assert_int_equal(zi->zasl, rows[i].zasl);
		assert_int_equal(zi->max_append_bytes, rows[i].append_bytes);
		assert_int_equal(zi->zone_size, rows[i].zsze);
		assert_true(zi->num_zones == rows[i].zones);
		free_ctrl(ctrl);
	}
}

/*
 * The same against the emulated controller, through a reset: the device
 * drops (executes, never answers) the reset's init command of each state.
 * The reset fails naming the state, and the dropped command's admin slot
 * is back (the reset had ended every other admin command).
 */
static void test_reset_admin_never_answers_emu(void **state)
{
	static const struct {
		enum nvp_init_state state;
		uint8_t opcode;
		uint32_t nsid;
		uint32_t match;
	} cases[] = {
		{ NVP_INIT_IDENTIFY_CTRL, NVP_ADMIN_IDENTIFY, 0, 0 },
		{ NVP_INIT_SET_NUM_QUEUES, NVP_ADMIN_SET_FEATURES, 0, 0 },
		{ NVP_INIT_DOORBELL_BUFFER, NVP_ADMIN_DOORBELL_BUF_CFG, 0, 0 },
		{ NVP_INIT_IDENTIFY_NS, NVP_ADMIN_IDENTIFY, 1, NVP_EMU_MATCH_NSID },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nvp_emu_fault f = {
			.type = NVP_EMU_FAULT_DROP,
			.count = 1,
			.match = NVP_EMU_MATCH_OPCODE | NVP_EMU_MATCH_QID | cases[i].match,
			.opcode = cases[i].opcode,
			.qid = 0,
			.nsid = cases[i].nsid,
		};
		struct nvp_ctrl_opts o;
		struct nvp_ctrl *ctrl;
		char msg[512];
		int rc;

		nvp_ctrl_opts_init(&o, sizeof(o));
		/* Long enough for the attach's own commands under valgrind
		 * (run-tests.sh scales waits by NVP_TEST_TIME_SCALE). */
		o.admin_timeout_ms = 500 * time_scale();
		assert_int_equal(nvp_ctrl_attach("emu:ns=16M:512", &o, &ctrl), 0);
		assert_true(nvp_ctrl_get_info(ctrl)->shadow_doorbells);
		assert_int_equal(nvp_emu_inject(ctrl, &f, sizeof(f)), 0);
		rc = nvp_ctrl_reset(ctrl);
		snprintf(msg, sizeof(msg), "%s", nvp_last_error());
		print_message("%s: %d: %s\n", nvp_init_state_name(cases[i].state), rc, msg);
		assert_true(rc < 0);
		assert_true(nvp_ctrl_is_failed(ctrl));
		assert_non_null(strstr(msg, nvp_init_state_name(cases[i].state)));
		assert_non_null(strstr(msg, "admin timeout"));
		assert_int_equal(ctrl->admin->outstanding, 0);
		assert_int_equal(nvp_ctrl_detach(ctrl), 0);
	}
}

/* ---- NVP_INIT_CMB: the Controller Memory Buffer for SQs ------------------ */

#define CMB_BAR_LEN (1u << 20)
#define CMB_BUS 0x8000000000ull

static uint8_t *cmb_mem;
static bool cmb_map_fails;

static void fake_close(struct nvp_device *d)
{
	(void)d;
}

static int fake_map_bar(struct nvp_device *d, unsigned int bar, struct nvp_bar_map *map)
{
	(void)d;
	if (cmb_map_fails || bar != 2)
		return -ENODEV;
	map->va = cmb_mem;
	map->len = CMB_BAR_LEN;
	map->bus_addr = CMB_BUS;
	return 0;
}

static void fake_unmap_bar(struct nvp_device *d, struct nvp_bar_map *map)
{
	(void)d;
	(void)map;
}

static const struct nvp_device_ops fake_ops = {
	.close = fake_close,
	.map_bar = fake_map_bar,
	.unmap_bar = fake_unmap_bar,
};

#define SZ(szu, sz, bits) ((bits) | ((uint32_t)(szu) << 8) | ((uint32_t)(sz) << 12))
#define LOC(bir, ofst) ((uint32_t)(bir) | ((uint32_t)(ofst) << 12))

/* Every way a CMB can be unusable, and the ones that work, at their edges. */
static void test_cmb_cases(void **state)
{
	static const struct {
		const char *name;
		enum nvp_cmb_sqs mode;
		bool cmbs;		/* CAP.CMBS (NVMe 1.4: CMBMSC) */
		uint32_t cmbsz, cmbloc;
		bool map_fails;
		bool cbai;		/* the device refuses the CBA */
		int rc;
		uint64_t bytes;		/* info.cmb_bytes when it works */
		const char *msg;
	} rows[] = {
		{ "off: nothing read", NVP_CMB_SQS_OFF, true, SZ(2, 1, NVP_CMBSZ_SQS), LOC(2, 0),
		  false, false, 0, 0, NULL },
		{ "prefer, no CMB", NVP_CMB_SQS_PREFER, false, 0, 0, false, false, 0, 0, NULL },
		{ "require, no CMB", NVP_CMB_SQS_REQUIRE, false, 0, 0, false, false, -ENOTSUP, 0,
		  "no CMB" },
		{ "CRE set, CMBSZ 0", NVP_CMB_SQS_REQUIRE, true, 0, 0, false, false, -ENOTSUP, 0,
		  "CMBSZ reads 0" },
		{ "no SQS", NVP_CMB_SQS_REQUIRE, true, SZ(2, 1, NVP_CMBSZ_RDS | NVP_CMBSZ_WDS),
		  LOC(2, 0), false, false, -ENOTSUP, 0, "SQS=0" },
		{ "SZU 7 reserved", NVP_CMB_SQS_REQUIRE, true, SZ(7, 1, NVP_CMBSZ_SQS), LOC(2, 0),
		  false, false, -ENOTSUP, 0, "reserved size unit" },
		{ "SZ 0", NVP_CMB_SQS_REQUIRE, true, SZ(0, 0, NVP_CMBSZ_SQS), LOC(2, 0), false,
		  false, -ENOTSUP, 0, "smaller than two" },
		{ "one 4 KiB page", NVP_CMB_SQS_REQUIRE, true, SZ(0, 1, NVP_CMBSZ_SQS), LOC(2, 0),
		  false, false, -ENOTSUP, 0, "smaller than two" },
		{ "two 4 KiB pages", NVP_CMB_SQS_REQUIRE, true, SZ(0, 2, NVP_CMBSZ_SQS), LOC(2, 0),
		  false, false, 0, 8192, NULL },
		{ "OFST at the BAR's end", NVP_CMB_SQS_REQUIRE, true, SZ(2, 1, NVP_CMBSZ_SQS),
		  LOC(2, 1), false, false, -ENOTSUP, 0, "beyond the end" },
		{ "OFST one page before the end", NVP_CMB_SQS_REQUIRE, true, SZ(0, 1, NVP_CMBSZ_SQS),
		  LOC(2, 255), false, false, -ENOTSUP, 0, "smaller than two" },
		{ "map fails", NVP_CMB_SQS_REQUIRE, true, SZ(2, 1, NVP_CMBSZ_SQS), LOC(2, 0), true,
		  false, -ENOTSUP, 0, "required" },
		{ "map fails, prefer", NVP_CMB_SQS_PREFER, true, SZ(2, 1, NVP_CMBSZ_SQS), LOC(2, 0),
		  true, false, 0, 0, NULL },
		{ "larger than its BAR: cut", NVP_CMB_SQS_REQUIRE, true, SZ(2, 16, NVP_CMBSZ_SQS),
		  LOC(2, 0), false, false, 0, CMB_BAR_LEN, NULL },
		{ "offset into the BAR", NVP_CMB_SQS_REQUIRE, true, SZ(0, 16, NVP_CMBSZ_SQS),
		  LOC(2, 16), false, false, 0, 16 * 4096, NULL },
		{ "CBA refused", NVP_CMB_SQS_REQUIRE, true, SZ(2, 1, NVP_CMBSZ_SQS), LOC(2, 0), false,
		  true, -ENOTSUP, 0, "CBAI" },
		{ "pre-1.4, no CMBMSC", NVP_CMB_SQS_PREFER, false, SZ(2, 1, NVP_CMBSZ_SQS),
		  LOC(2, 0), false, false, 0, CMB_BAR_LEN, NULL },
	};
	struct nvp_device fdev = { .ops = &fake_ops, .driver = NVP_DRIVER_EMU,
				   .addr = "fake", .bar0_size = BAR_SIZE };
	(void)state;

	cmb_mem = aligned_alloc(4096, CMB_BAR_LEN);
	assert_non_null(cmb_mem);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fake_dev d = { 0 };
		struct nvp_ctrl *ctrl;
		struct nvp_init ini;
		uint64_t cap, msc;
		int rc;

		print_message("%s\n", rows[i].name);
		ctrl = new_answering_ctrl(&d);
		cap = make_cap(1023, CAP_TO, NVP_CAP_CSS_NVM, 0) | (rows[i].cmbs ? 1ull << 57 : 0);
		set_reg(NVP_REG_CAP, (uint32_t)cap);
		set_reg(NVP_REG_CAP + 4, (uint32_t)(cap >> 32));
		set_reg(NVP_REG_CMBSZ, rows[i].cmbsz);
		set_reg(NVP_REG_CMBLOC, rows[i].cmbloc);
		set_reg(NVP_REG_CMBSTS, rows[i].cbai ? NVP_CMBSTS_CBAI : 0);
		fdev.bar0 = d.bar;
		ctrl->dev = &fdev;
		ctrl->opts.cmb_sqs = rows[i].mode;
		cmb_map_fails = rows[i].map_fails;
		rc = run(ctrl, &ini);
		if (rc != rows[i].rc)
			fail_msg("%s: %d (%s)", rows[i].name, rc, nvp_last_error());
		/* (prefer only logs why; the error message is for failures) */
		if (rows[i].msg && !strstr(nvp_last_error(), rows[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", rows[i].name, nvp_last_error(),
				 rows[i].msg);
		msc = reg64(NVP_REG_CMBMSC);
		if (rc) {
			assert_int_equal(ini.state, NVP_INIT_CMB);
		} else {
			assert_int_equal(ini.state, NVP_INIT_DONE);
			assert_int_equal(ctrl->info.cmb_bytes, rows[i].bytes);
			assert_int_equal(ctrl->info.cmb_sqs, rows[i].bytes != 0);
		}
		if (rows[i].bytes && rows[i].cmbs) {
			/* CBA = the BAR's bus address + OFST, CMSE and CRE. */
			uint64_t ofst = (uint64_t)NVP_CMBLOC_OFST(rows[i].cmbloc) *
					(4096ull << (4 * NVP_CMBSZ_SZU(rows[i].cmbsz)));

			assert_true(msc == ((CMB_BUS + ofst) | NVP_CMBMSC_CMSE | NVP_CMBMSC_CRE));
		} else if (rows[i].cmbs && rows[i].mode != NVP_CMB_SQS_OFF) {
			assert_true(msc & NVP_CMBMSC_CRE);	/* set before enable */
		} else {
			assert_true(msc == 0);
		}
		if (rows[i].bytes) {
			/* A reset writes CMBMSC again; a changed CMB fails it. */
			set_reg(NVP_REG_CMBMSC, 0);
			set_reg(NVP_REG_CMBMSC + 4, 0);
			reset_admin_queue(ctrl);
			init_run_struct(ctrl, &ini, true);
			assert_int_equal(nvp_init_run(&ini), 0);
			assert_int_equal(reg64(NVP_REG_CMBMSC), msc);
			assert_true(ctrl->info.cmb_sqs);
			reset_admin_queue(ctrl);
			set_reg(NVP_REG_CMBSZ, rows[i].cmbsz ^ (1u << 12));
			init_run_struct(ctrl, &ini, true);
			assert_int_equal(nvp_init_run(&ini), -EIO);
			assert_non_null(strstr(nvp_last_error(), "changed across the reset"));
			assert_int_equal(ini.state, NVP_INIT_CMB);
		}
		free_ctrl(ctrl);
	}
	free(cmb_mem);
}

static void test_state_names(void **state)
{
	(void)state;
	for (int s = 0; s < NVP_INIT_NUM_STATES; s++) {
		assert_non_null(nvp_init_state_name(s));
		assert_true(strlen(nvp_init_state_name(s)) > 3);
	}
	assert_string_equal(nvp_init_state_name(NVP_INIT_NUM_STATES), "unknown state");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_already_enabled),
		cmocka_unit_test(test_enabling_at_entry_waits_for_ready),
		cmocka_unit_test(test_ready_never_rises),
		cmocka_unit_test(test_ready_never_falls),
		cmocka_unit_test(test_fatal_status_on_enable),
		cmocka_unit_test(test_all_ones_at_entry),
		cmocka_unit_test(test_all_ones_during_enable),
		cmocka_unit_test(test_cc_follows_cap),
		cmocka_unit_test(test_admin_only_controller),
		cmocka_unit_test(test_fatal_status_during_identify),
		cmocka_unit_test(test_full_bring_up),
		cmocka_unit_test(test_reinit_keeps_handles),
		cmocka_unit_test(test_reentrant_slow_device),
		cmocka_unit_test(test_failure_is_sticky),
		cmocka_unit_test(test_timeout_each_state),
		cmocka_unit_test(test_timeout_each_state_reinit),
		cmocka_unit_test(test_gone_in_each_register_state),
		cmocka_unit_test(test_fatal_in_each_admin_state),
		cmocka_unit_test(test_cfs_in_register_waits),
		cmocka_unit_test(test_refusals_are_not_fatal),
		cmocka_unit_test(test_needed_command_refused),
		cmocka_unit_test(test_command_sets),
		cmocka_unit_test(test_zns_identify_edges),
		cmocka_unit_test(test_reset_admin_never_answers_emu),
		cmocka_unit_test(test_cmb_cases),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests_name("init", tests, setup, teardown);
}
