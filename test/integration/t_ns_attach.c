// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_ns_attach.c - a namespace that comes and goes under a running
 * application: Namespace Attachment (admin 15h) attaches an allocated but
 * inactive namespace to this controller, the Namespace Attribute Changed
 * event reaches the application as NVP_EVENT_NS_ADDED and the namespace
 * takes verified I/O; detaching it gives NVP_EVENT_NS_REMOVED, and the
 * handle, still valid, refuses I/O with -ENODEV.
 *
 * Needs a controller in an NVM subsystem with a detached namespace (the VM
 * rig's NVPOLL2: QEMU's nvme-subsys, nvme-ns detached=true); skips
 * elsewhere. The namespace is left detached, as it was found.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

/* Identify CNS 10h (NVMe 1.4; not in spec.h): NSIDs allocated, active or not. */
#define CNS_ALLOCATED_NS_LIST	0x10
#define NS_ATTACH_SEL_ATTACH	0x0
#define NS_ATTACH_SEL_DETACH	0x1

/* How long the Namespace Attribute Changed event may take (TCG is slow). */
#define EVENT_WAIT_MS 10000

struct ns_events {
	pthread_mutex_t lock;
	uint32_t nsid;		/* the namespace watched */
	int added, removed, changed, other;
};

static void on_event(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg)
{
	struct ns_events *e = arg;

	(void)ctrl;
	pthread_mutex_lock(&e->lock);
	if (ev->nsid == e->nsid && ev->type == NVP_EVENT_NS_ADDED)
		e->added++;
	else if (ev->nsid == e->nsid && ev->type == NVP_EVENT_NS_REMOVED)
		e->removed++;
	else if (ev->nsid == e->nsid && ev->type == NVP_EVENT_NS_CHANGED)
		e->changed++;
	else
		e->other++;
	pthread_mutex_unlock(&e->lock);
}

static int ev_get(struct ns_events *e, const int *field)
{
	int n;

	pthread_mutex_lock(&e->lock);
	n = *field;
	pthread_mutex_unlock(&e->lock);
	return n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the admin poller until *@field is non-zero; the milliseconds it took, or -1. */
static long wait_event(struct nvp_ctrl *ctrl, struct ns_events *e, const int *field)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < EVENT_WAIT_MS) {
		if (nvp_ctrl_process_admin(ctrl) < 0)
			return -1;
		if (ev_get(e, field))
			return (long)(now_ms() - t0);
		itest_sleep_ms(5);
	}
	return -1;
}

/* An allocated NSID that is not active on this controller, or 0. */
static uint32_t find_detached(struct itest_dev *d, uint32_t *page)
{
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .cdw10 = CNS_ALLOCATED_NS_LIST };
	int rc;

	memset(page, 0, 4096);
	rc = nvp_admin_cmd_sync(d->ctrl, &cmd, page, 4096, NULL);
	if (rc)
		return 0;
	for (int i = 0; i < 1024 && page[i]; i++) {
		uint32_t nsid = nvp_le32_to_cpu(page[i]);	/* device data */

		if (!nvp_ctrl_get_ns(d->ctrl, nsid))
			return nsid;
	}
	return 0;
}

/* Namespace Attachment of @nsid to (SEL 0) or from (SEL 1) this controller. */
static int ns_attachment(struct itest_dev *d, uint32_t nsid, uint32_t sel, uint16_t *list,
			 struct nvp_cqe *cpl)
{
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_NS_ATTACH, .nsid = nsid, .cdw10 = sel };

	/* Controller list: a count, then controller IDs (little-endian, as
	 * CNTLID already is in the Identify data). */
	memset(list, 0, 4096);
	list[0] = nvp_cpu_to_le16(1);
	list[1] = nvp_ctrl_identify(d->ctrl)->cntlid;
	return nvp_admin_cmd_sync(d->ctrl, &cmd, list, 4096, cpl);
}

void test_ns_attach(void)
{
	struct itest_dev *d = itest_dev(0);
	struct ns_events ev = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns = NULL;
	const struct nvp_ns_info *ni;
	uint32_t *page = NULL;
	uint16_t *list = NULL;
	uint8_t *w = NULL, *r = NULL;
	struct nvp_cqe cpl;
	struct io_cpl c;
	bool attached = false, cb_set = false;
	long ms_add, ms_remove;
	uint32_t nsid, nlb;
	int rc;

	CHECK(d);
	if (!(nvp_le16_to_cpu(nvp_ctrl_identify(d->ctrl)->oacs) & NVP_OACS_NS_MGMT)) {
		itest_skipf("%s does not support Namespace Management/Attachment (OACS bit 3)",
			    d->addr);
		return;
	}
	page = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	list = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	CHECK(page && list);
	nsid = find_detached(d, page);
	if (!nsid) {
		itest_skipf("%s has no allocated namespace that is detached from it (the VM "
			    "rig's NVPOLL2 has one)", d->addr);
		goto out;
	}
	ev.nsid = nsid;
	CHECK_RC(nvp_ctrl_set_event_cb(d->ctrl, on_event, &ev), 0);
	cb_set = true;

	/* Attach: the event comes through the admin poller, not the command. */
	rc = ns_attachment(d, nsid, NS_ATTACH_SEL_ATTACH, list, &cpl);
	CHECKF(rc == 0, "Namespace Attachment (attach) of nsid %u to CNTLID %u: %d (%s), "
	       "status %#x %s", nsid, list[1], rc, itest_errname(rc), cpl.status,
	       nvp_status_str(cpl.status));
	attached = true;
	ms_add = wait_event(d->ctrl, &ev, &ev.added);
	CHECKF(ms_add >= 0, "no NVP_EVENT_NS_ADDED for nsid %u within %d ms (other events: "
	       "%d)", nsid, EVENT_WAIT_MS, ev_get(&ev, &ev.other));
	CHECK(ev_get(&ev, &ev.added) == 1);
	ns = nvp_ctrl_get_ns(d->ctrl, nsid);
	CHECKF(ns, "NVP_EVENT_NS_ADDED for nsid %u, but nvp_ctrl_get_ns() finds nothing", nsid);
	ni = nvp_ns_get_info(ns);
	CHECK(ni->active && ni->nsid == nsid && ni->num_blocks > 0 && ni->block_size >= 512);

	/* Verified I/O at its start, middle and end. */
	nlb = 8;
	w = nvp_dma_alloc((size_t)nlb * ni->block_size, 4096, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)nlb * ni->block_size, 4096, NVP_NUMA_ANY);
	CHECK(w && r);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	CHECK(write_read_verify(qp, ns, w, r, 0, nlb, itest_cfg.seed, 0));
	CHECK(write_read_verify(qp, ns, w, r, ni->num_blocks / 2, nlb, itest_cfg.seed, 0));
	CHECK(write_read_verify(qp, ns, w, r, ni->num_blocks - nlb, nlb, itest_cfg.seed, 0));

	/* Detach: the handle stays valid and refuses I/O. */
	rc = ns_attachment(d, nsid, NS_ATTACH_SEL_DETACH, list, &cpl);
	CHECKF(rc == 0, "Namespace Attachment (detach) of nsid %u: %d (%s), status %#x %s",
	       nsid, rc, itest_errname(rc), cpl.status, nvp_status_str(cpl.status));
	attached = false;
	ms_remove = wait_event(d->ctrl, &ev, &ev.removed);
	CHECKF(ms_remove >= 0, "no NVP_EVENT_NS_REMOVED for nsid %u within %d ms", nsid,
	       EVENT_WAIT_MS);
	CHECK(ev_get(&ev, &ev.removed) == 1 && ev_get(&ev, &ev.added) == 1);
	CHECK(!nvp_ns_get_info(ns)->active);
	CHECK(nvp_ctrl_get_ns(d->ctrl, nsid) == NULL);
	CHECK_RC(io_sync(qp, ns, IO_READ, r, 0, 1, 0, &c), -ENODEV);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, w, 0, 1, 0, &c), -ENODEV);
	/* The other namespaces are untouched. */
	CHECK(qpair_still_works(qp, d->ns[0], 64));
	itest_notef("nsid %u (%u-byte blocks): NS_ADDED %ld ms after attach, NS_REMOVED "
		    "%ld ms after detach", nsid, ni->block_size, ms_add, ms_remove);
out:
	if (attached)
		ns_attachment(d, nsid, NS_ATTACH_SEL_DETACH, list, &cpl);
	if (cb_set)
		nvp_ctrl_set_event_cb(d->ctrl, NULL, NULL);
	nvp_qpair_free(qp);
	nvp_dma_free(w);
	nvp_dma_free(r);
	nvp_dma_free(page);
	nvp_dma_free(list);
}
