/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the controller init sequence (lib/nvme/init.c), driven
 * against a fake register file. The test plays the device in the init
 * sequence's poll hook and advances a fake clock, so timeouts are checked
 * without waiting for them.
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

#include "mem/mem.h"
#include "nvme/init.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"

#define BAR_SIZE 0x4000

/* How the fake device behaves when the host changes CC. */
struct fake_dev {
	uint32_t *bar;
	bool follow_en;		/* RDY follows CC.EN */
	bool stuck_ready;	/* RDY stays 1 after EN=0 */
	bool set_cfs_on_enable;	/* CFS appears once EN=1 */
	bool vanish_on_enable;	/* registers read all-ones once EN=1 */
	unsigned int polls;
	uint32_t cc_at_enable;	/* CC as the host wrote it */
};

static uint64_t fake_now;
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

/* Called by every register poll: react to CC like a controller would. */
static void device_step(void *arg)
{
	uint32_t cc = reg(NVP_REG_CC), csts = reg(NVP_REG_CSTS);

	(void)arg;
	fake_now += 10;
	dev->polls++;
	if (cc & NVP_CC_EN) {
		dev->cc_at_enable = cc;
		if (dev->vanish_on_enable) {
			memset(dev->bar, 0xff, BAR_SIZE);
			return;
		}
		if (dev->set_cfs_on_enable)
			csts |= NVP_CSTS_CFS;
		else if (dev->follow_en)
			csts |= NVP_CSTS_RDY;
	} else if (dev->follow_en && !dev->stuck_ready) {
		csts &= ~(NVP_CSTS_RDY | NVP_CSTS_CFS);
	}
	set_reg(NVP_REG_CSTS, csts);
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
	dev = d;
	set_reg(NVP_REG_CAP, (uint32_t)cap);
	set_reg(NVP_REG_CAP + 4, (uint32_t)(cap >> 32));
	set_reg(NVP_REG_VS, 0x00010400);
	ctrl->bar = d->bar;
	nvp_ctrl_opts_init(&ctrl->opts, sizeof(ctrl->opts));
	/* Nobody answers admin commands here: don't wait long for them. */
	ctrl->opts.admin_timeout_ms = 50;
	snprintf(ctrl->info.addr, sizeof(ctrl->info.addr), "fake");
	ctrl->info.numa_node = NVP_NUMA_ANY;
	fake_now = 1000;
	return ctrl;
}

static void free_ctrl(struct nvp_ctrl *ctrl)
{
	free(dev->bar);
	nvp_ctrl_free(ctrl);
}

static int run(struct nvp_ctrl *ctrl, struct nvp_init *ini)
{
	int rc;

	memset(ini, 0, sizeof(*ini));
	ini->ctrl = ctrl;
	ini->now_ms = fake_clock;
	ini->on_poll = device_step;
	rc = nvp_init_run(ini);
	return rc;
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

/*
 * A fatal status while an admin command is outstanding ends the wait. CFS
 * rises once the Identify command has been rung (the SQ0 tail doorbell
 * moved), not after a fixed delay: under emulation (qemu-user) bring-up
 * can take longer than any delay would allow.
 */
static void *raise_cfs_later(void *arg)
{
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = 100 * 1000 };
	uint32_t *bar = arg;

	for (int i = 0; i < 100000 && !__atomic_load_n(&bar[NVP_REG_DBS / 4], __ATOMIC_ACQUIRE); i++)
		nanosleep(&nap, NULL);
	__atomic_or_fetch(&bar[NVP_REG_CSTS / 4], nvp_cpu_to_le32(NVP_CSTS_CFS), __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_fatal_status_during_identify(void **state)
{
	struct fake_dev d = { .follow_en = true };
	struct nvp_ctrl *ctrl = new_ctrl(&d, make_cap(63, 2, NVP_CAP_CSS_NVM, 0));
	struct nvp_init ini;
	pthread_t t;
	int rc;

	(void)state;
	ctrl->opts.admin_timeout_ms = 10000; /* CFS must end it long before this */
	assert_int_equal(pthread_create(&t, NULL, raise_cfs_later, d.bar), 0);
	rc = run(ctrl, &ini);
	pthread_join(t, NULL);
	/* Bring-up has nothing to reset: the step fails, naming the cause. */
	assert_int_equal(rc, -EIO);
	assert_int_equal(ini.state, NVP_INIT_IDENTIFY_CTRL);
	assert_non_null(strstr(nvp_last_error(), "Identify Controller"));
	assert_non_null(strstr(nvp_last_error(), "CSTS.CFS"));
	assert_int_equal(atomic_load(&ctrl->resets_started), 0);
	free_ctrl(ctrl);
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
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests_name("init", tests, setup, teardown);
}
