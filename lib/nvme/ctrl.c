/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/ctrl.c - attach and detach, controller facts, health and failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"
#include "nvme/nvme.h"
#include "nvme/regs.h"
#include "util/log.h"
#include "util/opts.h"

void nvp_ctrl_opts_init(struct nvp_ctrl_opts *opts, size_t opts_size)
{
	struct nvp_ctrl_opts def = {
		.opts_size = opts_size,
		.driver = NVP_DRIVER_AUTO,
		.num_io_queues = 64,
		.admin_queue_size = 64,
		.admin_timeout_ms = 0,
		.io_timeout_ms = 30000,
		.max_xfer_bytes = NVP_DEFAULT_MAX_XFER,
		.numa_node = NVP_NUMA_ANY,
		.health_check_ms = 100,
		.io_retries = 3,
		.keep_alive_ms = 10000,
		.tcp_reconnect_delay_ms = 1000,
		.tcp_ctrl_loss_timeout_ms = 60000,
	};

	if (opts)
		memcpy(opts, &def, opts_size < sizeof(def) ? opts_size : sizeof(def));
}

/* NVP_CMB_SQS=off|prefer|require, when the options leave CMB SQs off. */
static int cmb_sqs_from_env(struct nvp_ctrl_opts *o)
{
	const char *v = getenv("NVP_CMB_SQS");

	if ((unsigned int)o->cmb_sqs > NVP_CMB_SQS_REQUIRE)
		return nvp_error(-EINVAL, "nvp_ctrl_opts.cmb_sqs is %d: use NVP_CMB_SQS_OFF, _PREFER or _REQUIRE",
				 (int)o->cmb_sqs);
	if (o->cmb_sqs != NVP_CMB_SQS_OFF || !v || !*v || !strcmp(v, "off"))
		return 0;
	if (!strcmp(v, "prefer"))
		o->cmb_sqs = NVP_CMB_SQS_PREFER;
	else if (!strcmp(v, "require"))
		o->cmb_sqs = NVP_CMB_SQS_REQUIRE;
	else
		return nvp_error(-EINVAL, "NVP_CMB_SQS=%.32s: use off, prefer or require", v);
	return 0;
}

/* Defaults, overlaid with however much of the struct the caller knows. */
static int merge_opts(const struct nvp_ctrl_opts *in, struct nvp_ctrl_opts *out)
{
	int n;

	nvp_ctrl_opts_init(out, sizeof(*out));
	if (in) {
		n = nvp_opts_overlay(out, sizeof(*out), in, "nvp_ctrl_opts", "nvp_ctrl_opts_init");
		if (n < 0)
			return n;
	}
	return cmb_sqs_from_env(out);
}

/*
 * Registers: MMIO in BAR0, or for NVMe/TCP properties on the admin queue.
 * A property access that fails reads as all-ones, which every caller already
 * takes for a controller that is gone; the reset path reconnects first.
 */
uint32_t nvp_ctrl_read32(struct nvp_ctrl *ctrl, uint32_t off)
{
	uint64_t v;

	if (!ctrl->tcp)
		return nvp_reg_read32(ctrl->bar, off);
	return nvp_tcp_prop(ctrl, false, off, 4, &v) ? NVP_REG_GONE : (uint32_t)v;
}

uint64_t nvp_ctrl_read64(struct nvp_ctrl *ctrl, uint32_t off)
{
	uint64_t v;

	if (!ctrl->tcp)
		return nvp_reg_read64(ctrl->bar, off);
	return nvp_tcp_prop(ctrl, false, off, 8, &v) ? UINT64_MAX : v;
}

void nvp_ctrl_write32(struct nvp_ctrl *ctrl, uint32_t off, uint32_t val)
{
	uint64_t v = val;

	if (!ctrl->tcp)
		nvp_reg_write32(ctrl->bar, off, val);
	else
		(void)nvp_tcp_prop(ctrl, true, off, 4, &v);	/* a lost connection shows in the next read */
}

void nvp_ctrl_write64(struct nvp_ctrl *ctrl, uint32_t off, uint64_t val)
{
	if (!ctrl->tcp)
		nvp_reg_write64(ctrl->bar, off, val);
	else
		(void)nvp_tcp_prop(ctrl, true, off, 8, &val);
}

volatile uint32_t *nvp_ctrl_doorbell(struct nvp_ctrl *ctrl, uint32_t idx)
{
	return (volatile uint32_t *)((volatile uint8_t *)ctrl->bar + NVP_REG_DBS +
				     (size_t)idx * ctrl->db_stride);
}

struct nvp_device *nvp_ctrl_device(struct nvp_ctrl *ctrl)
{
	return ctrl ? ctrl->dev : NULL;
}

struct nvp_ctrl *nvp_ctrl_new(void)
{
	struct nvp_ctrl *ctrl = calloc(1, sizeof(*ctrl));

	if (!ctrl)
		return NULL;
	pthread_mutex_init(&ctrl->admin_lock, NULL);
	pthread_mutex_init(&ctrl->ns_lock, NULL);
	pthread_mutex_init(&ctrl->reset_lock, NULL);
	pthread_mutex_init(&ctrl->cmb.lock, NULL);
	return ctrl;
}

void nvp_ctrl_park_dma(struct nvp_ctrl *ctrl, void *buf)
{
	void **p = realloc(ctrl->parked, (ctrl->num_parked + 1) * sizeof(*p));

	if (!p) {
		nvp_warn("%s: out of memory keeping a DMA buffer the device may still "
			 "write; it is leaked rather than reused", ctrl->info.addr);
		return;
	}
	p[ctrl->num_parked++] = buf;
	ctrl->parked = p;
}

void nvp_ctrl_free(struct nvp_ctrl *ctrl)
{
	nvp_ns_free_all(ctrl);
	nvp_dma_free(ctrl->id);
	nvp_dma_free(ctrl->ns_page);
	for (uint32_t i = 0; i < ctrl->num_parked; i++)
		nvp_dma_free(ctrl->parked[i]);
	free(ctrl->parked);
	nvp_dbbuf_free(ctrl);
	nvp_qpair_teardown(ctrl->admin);
	nvp_tcp_ctrl_close(ctrl);
	free(ctrl->qid_used);
	nvp_cmb_release(ctrl);
	nvp_device_close(ctrl->dev);
	pthread_mutex_destroy(&ctrl->cmb.lock);
	pthread_mutex_destroy(&ctrl->admin_lock);
	pthread_mutex_destroy(&ctrl->ns_lock);
	pthread_mutex_destroy(&ctrl->reset_lock);
	free(ctrl);
}

int nvp_ctrl_attach(const char *addr, const struct nvp_ctrl_opts *opts,
		    struct nvp_ctrl **out)
{
	struct nvp_ctrl *ctrl;
	int rc;

	if (!addr || !out)
		return nvp_error(-EINVAL, "nvp_ctrl_attach: addr and ctrl must not be NULL");
	ctrl = nvp_ctrl_new();
	if (!ctrl)
		return nvp_error(-ENOMEM, "out of memory");
	rc = merge_opts(opts, &ctrl->opts);
	if (rc)
		goto err;
	snprintf(ctrl->info.addr, sizeof(ctrl->info.addr), "%s", addr);
	if (ctrl->opts.numa_node != NVP_NUMA_ANY &&
	    (rc = nvp_mem_numa_node_valid(ctrl->opts.numa_node)) < NVP_NUMA_ANY) {
		rc = nvp_error(rc, "controller option numa_node: %s", nvp_last_error());
		goto err;
	}

	if (nvp_tcp_is_addr(addr)) {
		/* No device: the admin queue is a connection (tcp.c). */
		ctrl->info.driver = NVP_DRIVER_TCP;
		ctrl->info.numa_node = ctrl->opts.numa_node;
		rc = nvp_tcp_ctrl_open(ctrl, addr);
		if (rc) {
			/* Not connected: nothing to stop, and the message stays. */
			nvp_qpair_teardown(ctrl->admin);
			ctrl->admin = NULL;
			goto err;
		}
	} else {
		rc = nvp_device_open(addr, ctrl->opts.driver, ctrl->opts.keep_kernel_driver,
				     &ctrl->dev);
		if (rc)
			goto err;
		ctrl->bar = ctrl->dev->bar0;
		snprintf(ctrl->info.addr, sizeof(ctrl->info.addr), "%s", ctrl->dev->addr);
		ctrl->info.driver = ctrl->dev->driver;
		ctrl->info.numa_node = ctrl->opts.numa_node != NVP_NUMA_ANY ?
				       ctrl->opts.numa_node : ctrl->dev->numa_node;
		ctrl->quirks = nvp_quirks_lookup(ctrl->dev->vendor_id, ctrl->dev->device_id);
		if (ctrl->quirks)
			nvp_info("%s: quirks %s", ctrl->info.addr, nvp_quirk_names(ctrl->quirks));
	}

	rc = nvp_ctrl_init(ctrl);
	if (rc)
		goto err;
	/* The 64-bit PI guard is only in CNS 05h: read it now the queue is up. */
	nvp_ns_identify_pi(ctrl);
	nvp_info("%s: %s, %u namespace(s), %u I/O queues, max transfer %u bytes%s%s",
		 ctrl->info.addr, ctrl->info.model, ctrl->info.num_ns, ctrl->num_io_queues,
		 ctrl->max_xfer, ctrl->info.sgl_supported ? ", SGL" : "",
		 ctrl->info.shadow_doorbells ? ", shadow doorbells" : "");
	*out = ctrl;
	return 0;
err:
	/* Stop a half-initialised controller before freeing its queues. */
	if ((ctrl->dev || ctrl->tcp) && ctrl->admin && !atomic_load(&ctrl->failed))
		nvp_ctrl_disable(ctrl);
	nvp_ctrl_free(ctrl);
	return rc;
}

int nvp_ctrl_detach(struct nvp_ctrl *ctrl)
{
	if (!ctrl)
		return 0;
	if (ctrl->num_qpairs)
		return nvp_error(-EBUSY, "%s still has %u queue pair(s); free them with "
				 "nvp_qpair_free() before detaching", ctrl->info.addr,
				 ctrl->num_qpairs);
	if (!atomic_load(&ctrl->failed)) {
		/* Orderly shutdown lets the device flush its caches. */
		nvp_ctrl_shutdown(ctrl);
		nvp_ctrl_disable(ctrl);
	}
	nvp_admin_lock(ctrl);
	nvp_qpair_fail_all(ctrl->admin, NVP_STATUS_HOST_ABORTED);
	nvp_admin_unlock(ctrl);
	nvp_ctrl_free(ctrl);
	return 0;
}

int nvp_ctrl_check_health(struct nvp_ctrl *ctrl)
{
	int failed = atomic_load(&ctrl->failed);
	uint32_t csts;

	if (failed)
		return failed;
	/* Over NVMe/TCP a register read is a round trip that a silent target
	 * would stretch to the admin timeout, in an application's admin or I/O
	 * thread: use the last answer instead. A lost connection or an
	 * unanswered Property Get resets, which reconnects (admin.c). */
	csts = ctrl->tcp ? nvp_tcp_csts(ctrl) : nvp_ctrl_read32(ctrl, NVP_REG_CSTS);
	if (csts == NVP_REG_GONE && ctrl->tcp)	/* a target's answer, not a removal */
		return nvp_ctrl_escalate(ctrl, "the target answered all-ones for CSTS");
	if (csts == NVP_REG_GONE) {
		nvp_ctrl_fail(ctrl, -ENODEV, "registers read all-ones: the device was removed");
		return -ENODEV;
	}
	if (csts & NVP_CSTS_CFS) {
		/* Linux resets on CFS (nvme_should_reset()); so do we. */
		return nvp_ctrl_escalate(ctrl, "the controller reports a fatal status (CSTS.CFS)");
	}
	return 0;
}

void nvp_ctrl_fail(struct nvp_ctrl *ctrl, int err, const char *why)
{
	struct nvp_event ev = { .size = sizeof(ev), .err = err, .reason = why };
	int expected = 0;

	if (!atomic_compare_exchange_strong(&ctrl->failed, &expected, err))
		return;
	atomic_store(&ctrl->state, NVP_CTRL_FAILED);
	nvp_error(err, "%s %s: %s. Outstanding commands complete with an error; free the "
		  "queue pairs and detach the controller", ctrl->info.addr,
		  err == -ENODEV ? "was removed" : "failed", why);
	/* A disabled controller does no more DMA: buffers can be given back. */
	if (err != -ENODEV) {
		uint32_t cc = nvp_ctrl_read32(ctrl, NVP_REG_CC);

		if (cc != NVP_REG_GONE)
			nvp_ctrl_write32(ctrl, NVP_REG_CC, cc & ~NVP_CC_EN);
	}
	/* Queue pairs see this at their next poll and end what they hold. */
	atomic_fetch_add_explicit(&ctrl->gen, NVP_GEN_STEP, memory_order_release);
	ev.type = err == -ENODEV ? NVP_EVENT_REMOVED : NVP_EVENT_FAILED;
	nvp_ctrl_emit_event(ctrl, &ev);
}

void nvp_ctrl_emit_event(struct nvp_ctrl *ctrl, const struct nvp_event *ev)
{
	nvp_event_cb cb = ctrl->event_cb;

	if (cb)
		cb(ctrl, ev, ctrl->event_arg);
}

int nvp_ctrl_set_event_cb(struct nvp_ctrl *ctrl, nvp_event_cb cb, void *arg)
{
	if (!ctrl)
		return nvp_error(-EINVAL, "nvp_ctrl_set_event_cb: controller is NULL");
	/* Under the admin lock: AER handling reads them there. */
	nvp_admin_lock(ctrl);
	ctrl->event_arg = arg;
	ctrl->event_cb = cb;
	nvp_admin_unlock(ctrl);
	return 0;
}

int nvp_ctrl_get_stats(const struct nvp_ctrl *ctrl, struct nvp_ctrl_stats *stats,
		       size_t stats_size)
{
	struct nvp_ctrl_stats st = { .stats_size = sizeof(st) };

	if (!ctrl || !stats)
		return nvp_error(-EINVAL, "nvp_ctrl_get_stats: controller and stats must not be NULL");
	st.resets = atomic_load(&((struct nvp_ctrl *)ctrl)->resets);
	st.last_reset_us = ctrl->last_reset_us;
	st.async_events = ctrl->aer.events;
	st.ns_rescans = ctrl->aer.rescans;
	memcpy(stats, &st, stats_size < sizeof(st) ? stats_size : sizeof(st));
	return 0;
}

const struct nvp_ctrl_info *nvp_ctrl_get_info(const struct nvp_ctrl *ctrl)
{
	return ctrl ? &ctrl->info : NULL;
}

const struct nvp_id_ctrl *nvp_ctrl_identify(const struct nvp_ctrl *ctrl)
{
	return ctrl ? ctrl->id : NULL;
}

int nvp_ctrl_numa_node(const struct nvp_ctrl *ctrl)
{
	return ctrl ? ctrl->info.numa_node : NVP_NUMA_ANY;
}

bool nvp_ctrl_is_failed(const struct nvp_ctrl *ctrl)
{
	return ctrl && atomic_load(&((struct nvp_ctrl *)ctrl)->failed) != 0;
}
