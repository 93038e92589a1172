/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/tcp.c - the NVMe layer over NVMe/TCP: the same controller, queue
 * pairs and I/O path as PCIe, with lib/tcp underneath.
 *
 * What changes, and where it is hooked:
 *   registers      Property Get/Set on the admin connection (nvp_tcp_prop(),
 *                  behind ctrl.c's nvp_ctrl_read32() and friends);
 *   admin queue    a connection made at attach (nvp_tcp_ctrl_open()), and
 *                  again at every reset (nvp_tcp_ctrl_reconnect()): a new
 *                  association, as a PCIe reset is a new controller state;
 *   I/O queues     a connection and Connect each, in place of Create I/O
 *                  CQ/SQ (nvp_tcp_qpair_connect());
 *   data pointer   the request keeps its buffer's pieces (nvp_tcp_map());
 *                  nothing is translated, any memory will do;
 *   SQ doorbell    the new commands are posted to the TCP queue and sent
 *                  (nvp_tcp_sq_ring(), the SQ's ring_fn);
 *   CQ             the poll first takes in what the socket holds; each
 *                  completion is written into the CQ ring with the phase
 *                  bit (nvp_tcp_qpair_pump()), so completion handling,
 *                  timeouts, retries and callbacks are PCIe's own;
 *   health         Keep Alive from nvp_ctrl_process_admin(), and CSTS read
 *                  with an asynchronous Property Get (nvp_tcp_csts()), so
 *                  that a silent target never blocks the caller; a lost
 *                  connection or an unanswered command is a reset, which
 *                  reconnects.
 *
 * An I/O queue pair's connection is used by its owner thread alone. The
 * admin connection is shared by the admin queue pair and property accesses
 * from any thread: its own lock covers it (taken inside the admin lock when
 * both are held, never the other way round).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/spec_fabrics.h>

#include "nvme/nvme.h"
#include "nvme/queue.h"
#include "nvme/request.h"
#include "tcp/addr.h"
#include "tcp/conn.h"
#include "tcp/fabrics.h"
#include "tcp/queue.h"
#include "util/log.h"
#include "util/tsc.h"

/* Admin queue entries over NVMe/TCP at most (Linux's target: NVME_AQ_DEPTH). */
#define TCP_ADMIN_ENTRIES_MAX 32u
/* Connecting, before CAP.TO and the admin timeout are known. */
#define TCP_CONNECT_TIMEOUT_MS 10000

/* A command's data, kept from nvp_tcp_map() until the doorbell posts it. */
struct nvp_tcp_payload {
	uint32_t n;
	struct iovec iov[NVP_TCP_MAX_SEGS];
};

struct nvp_tcp_qp {
	struct nvp_tcp_conn conn;
	struct nvp_tcp_queue q;
	bool open;		/* @conn is connected and @q set up on it */
	int failed;		/* the connection's failure, until reconnected */
	uint16_t cq_tail;	/* where the next completion goes in the CQ ring */
	uint16_t cq_phase;	/* and the phase bit it gets */
	uint32_t db_sink;	/* the doorbells' "register": nothing reads it */
	struct nvp_tcp_payload *payloads;	/* one per request */
	/* admin only */
	bool locked;		/* @lock initialised */
	pthread_mutex_t lock;
	uint16_t prop_cid;	/* a CID no request has: property accesses */
	bool prop_done;
	struct nvp_cqe prop_cpl;
};

struct nvp_tcp_ctrl {
	struct nvp_tcp_addr addr;
	struct nvp_tcp_host host;
	uint16_t cntlid;
	uint64_t next_keep_alive_ms;
	bool keep_alive_outstanding;
	/* The health check's Property Get of CSTS (nvp_tcp_csts()): read and
	 * written by whichever threads check health and reap admin. */
	atomic_bool csts_outstanding;
	_Atomic uint32_t csts;		/* its last answer; 0 after a connect */
	bool sqfc_refused;		/* the target refused SQ flow control off */
	bool reconnecting;		/* a reset waits for the target */
	uint64_t lost_since_ms;		/* when the first attempt failed */
	uint64_t next_reconnect_ms;
};

static struct nvp_qpair *qpair_of(struct nvp_sq *sq)
{
	return (struct nvp_qpair *)((char *)sq - offsetof(struct nvp_qpair, sq));
}

static uint32_t connect_timeout(const struct nvp_ctrl *ctrl)
{
	return ctrl->opts.admin_timeout_ms ? ctrl->opts.admin_timeout_ms : TCP_CONNECT_TIMEOUT_MS;
}

static void lock(struct nvp_tcp_qp *t)
{
	if (t->locked)
		pthread_mutex_lock(&t->lock);
}

static void unlock(struct nvp_tcp_qp *t)
{
	if (t->locked)
		pthread_mutex_unlock(&t->lock);
}

bool nvp_tcp_is_addr(const char *addr)
{
	struct nvp_tcp_addr a;

	/* -ENOENT: not TCP at all; anything else is TCP, well formed or not. */
	return addr && nvp_tcp_addr_parse(addr, &a) != -ENOENT;
}

/* ---- connections ----------------------------------------------------------- */

static void close_conn(struct nvp_tcp_qp *t)
{
	if (t->open) {
		nvp_tcp_queue_fini(&t->q);
		nvp_tcp_conn_close(&t->conn);
		t->open = false;
	}
}

static int conn_failed(struct nvp_qpair *qp, int rc)
{
	struct nvp_tcp_qp *t = qp->tcp;

	if (!t->failed) {
		t->failed = rc < 0 ? rc : -ECONNRESET;
		nvp_warn("%s: the connection of %s queue %u was lost (%s); the controller is "
			 "reconnected", qp->ctrl->info.addr, qp->is_admin ? "the admin" : "I/O",
			 qp->sq.qid, nvp_last_error());
	}
	return t->failed;
}

/*
 * Open @t's connection to the controller's subsystem and Connect queue @qid
 * of @entries entries; @cntlid is NVP_CNTLID_DYNAMIC for the admin queue
 * (the target picks), the admin queue's for I/O queues.
 */
static int open_conn(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, uint16_t cntlid,
		     uint32_t kato_ms, uint32_t depth)
{
	struct nvp_tcp_ctrl *c = ctrl->tcp;
	struct nvp_tcp_qp *t = qp->tcp;
	uint16_t got = 0;
	int rc;

	close_conn(t);
	rc = nvp_tcp_conn_open(&t->conn, &c->addr, ctrl->opts.tcp_header_digest,
			       ctrl->opts.tcp_data_digest, (int)connect_timeout(ctrl));
	if (rc)
		return rc;
	if (qp->is_admin) {
		t->conn.incapsule_max = NVP_TCP_ADMIN_INCAPSULE;
	} else {
		/* IOCCSZ: the capsule in 16-byte units, the SQE's 64 bytes included. */
		uint32_t ioccsz = nvp_le32_to_cpu(*(const uint32_t *)ctrl->id->nvmeof) * 16u;

		t->conn.incapsule_max = ioccsz > 64 ? ioccsz - 64 : 0;
		/* nvpoll never reads a CQE's SQHD: ask for SQ flow control off,
		 * which lets the target end a read with its data PDU alone. */
		t->conn.sqfc_disable = !c->sqfc_refused;
	}
	rc = nvp_tcp_connect_queue(&t->conn, &c->host, c->addr.subnqn, qp->sq.qid, qp->sq.entries,
				   cntlid, kato_ms, &got, (int)connect_timeout(ctrl));
	if (rc && t->conn.sqfc_disable) {
		/* A target may refuse it (Invalid Field): once more without. */
		nvp_tcp_conn_close(&t->conn);
		c->sqfc_refused = true;
		rc = open_conn(ctrl, qp, cntlid, kato_ms, depth);
		if (rc)
			c->sqfc_refused = false;	/* not the reason */
		else
			nvp_info("%s: the target keeps SQ flow control on", ctrl->info.addr);
		return rc;
	}
	if (!rc)
		rc = nvp_tcp_queue_init(&t->q, &t->conn, depth);
	if (rc) {
		nvp_tcp_conn_close(&t->conn);
		return rc;
	}
	if (qp->is_admin)
		c->cntlid = got;
	t->open = true;
	t->failed = 0;
	return 0;
}

static int connect_admin(struct nvp_ctrl *ctrl)
{
	struct nvp_qpair *qp = ctrl->admin;
	struct nvp_tcp_qp *t = qp->tcp;
	int rc;

	lock(t);
	/*
	 * The TCP queue's slot is the CID's request index (its low bits; the
	 * rest is the request's generation). nvp_tcp_ctrl_open() left one index
	 * no request has: property accesses use it.
	 */
	t->prop_cid = (uint16_t)qp->num_reqs;
	rc = open_conn(ctrl, qp, NVP_CNTLID_DYNAMIC, ctrl->opts.keep_alive_ms,
		       qp->cid_index_mask + 1u);
	unlock(t);
	if (rc)
		return nvp_error(rc, "%s: connecting the admin queue failed: %s", ctrl->info.addr,
				 nvp_last_error());
	ctrl->tcp->keep_alive_outstanding = false;
	ctrl->tcp->next_keep_alive_ms = nvp_monotonic_ms() + ctrl->opts.keep_alive_ms / 2;
	atomic_store(&ctrl->tcp->csts, 0);
	nvp_info("%s: admin queue connected to %s, controller %u%s", ctrl->info.addr,
		 t->conn.peer, ctrl->tcp->cntlid,
		 t->conn.p.hdgst || t->conn.p.ddgst ? ", digests on" : "");
	return 0;
}

int nvp_tcp_ctrl_open(struct nvp_ctrl *ctrl, const char *addr)
{
	struct nvp_tcp_ctrl *c;
	uint32_t entries = ctrl->opts.admin_queue_size, reqs;
	static const uint8_t no_id[16];
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c)
		return nvp_error(-ENOMEM, "out of memory");
	ctrl->tcp = c;
	rc = nvp_tcp_addr_parse(addr, &c->addr);
	if (rc)
		return rc;
	if (!strcmp(c->addr.subnqn, NVP_DISCOVERY_NQN))
		return nvp_error(-EINVAL, "%s names the discovery controller, which has no "
				 "namespaces: add the subsystem NQN (tcp://HOST[:PORT]/SUBNQN); "
				 "nvpoll-identify --discover lists them", addr);
	rc = nvp_tcp_host_identity(c->host.hostnqn, c->host.hostid, "/etc/nvme");
	if (rc)
		return rc;
	if (ctrl->opts.hostnqn[0]) {
		if (!memchr(ctrl->opts.hostnqn, '\0', sizeof(ctrl->opts.hostnqn)) ||
		    strncmp(ctrl->opts.hostnqn, "nqn.", 4))
			return nvp_error(-EINVAL, "nvp_ctrl_opts.hostnqn must be an NQN "
					 "(\"nqn.\"..., at most %d bytes, NUL-terminated)",
					 NVP_NQN_MAX);
		snprintf(c->host.hostnqn, sizeof(c->host.hostnqn), "%s", ctrl->opts.hostnqn);
	}
	if (memcmp(ctrl->opts.hostid, no_id, sizeof(no_id)))
		memcpy(c->host.hostid, ctrl->opts.hostid, sizeof(c->host.hostid));
	/* The address as messages name it, cut to what nvp_ctrl_info holds. */
	{
		char full[sizeof(c->addr.host) + sizeof(c->addr.port) + sizeof(c->addr.subnqn) + 16];
		size_t n;

		snprintf(full, sizeof(full), "tcp://%s%s%s:%s/%s",
			 strchr(c->addr.host, ':') ? "[" : "", c->addr.host,
			 strchr(c->addr.host, ':') ? "]" : "", c->addr.port, c->addr.subnqn);
		n = strnlen(full, sizeof(ctrl->info.addr) - 1);
		memcpy(ctrl->info.addr, full, n);
		ctrl->info.addr[n] = '\0';
	}
	/* NVP_TCP_DIGESTS=header|data|both (or 1) adds to what the options ask. */
	{
		const char *d = getenv("NVP_TCP_DIGESTS");

		if (d && *d && strcmp(d, "0") && strcmp(d, "off")) {
			bool both = !strcmp(d, "1") || !strcmp(d, "both") || !strcmp(d, "on");

			if (!both && strcmp(d, "header") && strcmp(d, "data"))
				return nvp_error(-EINVAL, "NVP_TCP_DIGESTS='%s': use header, data, "
						 "both (or 1), or off", d);
			ctrl->opts.tcp_header_digest |= both || !strcmp(d, "header");
			ctrl->opts.tcp_data_digest |= both || !strcmp(d, "data");
		}
	}
	/* Neither exists over a fabric. */
	ctrl->opts.no_shadow_doorbells = true;
	ctrl->opts.cmb_sqs = NVP_CMB_SQS_OFF;

	if (entries > TCP_ADMIN_ENTRIES_MAX)
		entries = TCP_ADMIN_ENTRIES_MAX;
	if (entries < 4)
		entries = 4;
	/* One request index spare (see connect_admin()): never a power of two. */
	reqs = entries - 1;
	if (!(reqs & (reqs - 1)))
		reqs--;
	rc = nvp_qpair_setup(ctrl, 0, entries, entries, reqs, ctrl->info.numa_node, &ctrl->admin);
	if (rc)
		return rc;
	return connect_admin(ctrl);
}

void nvp_tcp_ctrl_close(struct nvp_ctrl *ctrl)
{
	free(ctrl->tcp);
	ctrl->tcp = NULL;
}

int nvp_tcp_ctrl_reconnect(struct nvp_ctrl *ctrl)
{
	return connect_admin(ctrl);
}

/* ---- queue pairs ----------------------------------------------------------- */

int nvp_tcp_qpair_init(struct nvp_qpair *qp)
{
	struct nvp_tcp_qp *t = calloc(1, sizeof(*t));

	if (!t)
		return nvp_error(-ENOMEM, "out of memory");
	qp->tcp = t;
	t->cq_phase = 1;
	t->payloads = calloc(qp->num_reqs, sizeof(*t->payloads));
	if (!t->payloads)
		return nvp_error(-ENOMEM, "out of memory for %u requests", qp->num_reqs);
	qp->sq.ring_fn = nvp_tcp_sq_ring;
	if (qp->is_admin) {
		pthread_mutex_init(&t->lock, NULL);
		t->locked = true;
	}
	return 0;
}

void nvp_tcp_qpair_fini(struct nvp_qpair *qp)
{
	struct nvp_tcp_qp *t = qp->tcp;

	if (!t)
		return;
	close_conn(t);
	if (t->locked)
		pthread_mutex_destroy(&t->lock);
	free(t->payloads);
	free(t);
	qp->tcp = NULL;
}

void nvp_tcp_qpair_doorbells(struct nvp_qpair *qp)
{
	struct nvp_doorbell *dbs[2] = { &qp->sq.db, &qp->cq.db };

	for (int i = 0; i < 2; i++) {
		dbs[i]->mmio = &qp->tcp->db_sink;
		dbs[i]->shadow = NULL;
		dbs[i]->eventidx = NULL;
		dbs[i]->always_mmio = true;
	}
}

int nvp_tcp_qpair_connect(struct nvp_ctrl *ctrl, struct nvp_qpair *qp)
{
	/* The TCP queue's slot is the CID's request index (at least 2 slots). */
	int rc = open_conn(ctrl, qp, ctrl->tcp->cntlid, 0,
			   qp->cid_index_mask ? qp->cid_index_mask + 1u : 2u);

	if (rc)
		return nvp_error(rc, "connecting I/O queue %u (%u entries) failed: %s", qp->sq.qid,
				 qp->sq.entries, nvp_last_error());
	return 0;
}

void nvp_tcp_qpair_disconnect(struct nvp_qpair *qp)
{
	close_conn(qp->tcp);
}

void nvp_tcp_qpair_reset(struct nvp_qpair *qp)
{
	struct nvp_tcp_qp *t = qp->tcp;

	lock(t);
	t->cq_tail = 0;
	t->cq_phase = 1;
	unlock(t);
}

int nvp_tcp_map(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
		const struct iovec *iov, int iovcnt)
{
	struct nvp_tcp_payload *pl = &qp->tcp->payloads[req - qp->reqs];
	uint32_t n = 0;

	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len)
			continue;
		/* Adjacent pieces are one. */
		if (n && (uint8_t *)pl->iov[n - 1].iov_base + pl->iov[n - 1].iov_len ==
			 (uint8_t *)iov[i].iov_base) {
			pl->iov[n - 1].iov_len += iov[i].iov_len;
			continue;
		}
		if (n == NVP_TCP_MAX_SEGS)
			return nvp_error(-E2BIG, "an NVMe/TCP command takes at most %d separate "
					 "buffer pieces; use fewer, larger ones", NVP_TCP_MAX_SEGS);
		pl->iov[n++] = iov[i];
	}
	if (!n)
		return nvp_error(-EINVAL, "a command's data is empty");
	pl->n = n;
	/* The SQE is ours until the doorbell: its data pointer names the pieces. */
	sqe->dptr.prp.prp1 = nvp_cpu_to_le64((uint64_t)(uintptr_t)pl);
	sqe->dptr.prp.prp2 = 0;
	return 0;
}

/* ---- the doorbell and the poll --------------------------------------------- */

void nvp_tcp_sq_ring(struct nvp_sq *sq)
{
	struct nvp_qpair *qp = qpair_of(sq);
	struct nvp_tcp_qp *t = qp->tcp;
	int rc = 0;

	lock(t);
	for (uint16_t i = sq->rung_tail; i != sq->tail && t->open && !t->failed;
	     i = (uint16_t)(i + 1 == sq->entries ? 0 : i + 1)) {
		const struct nvp_sqe *sqe = &sq->ring[i];
		const struct nvp_tcp_payload *pl =
			(const void *)(uintptr_t)nvp_le64_to_cpu(sqe->dptr.prp.prp1);

		/* Opcode bits 1:0 give the direction: 01b host to controller. */
		rc = nvp_tcp_queue_post(&t->q, sqe, pl ? pl->iov : NULL, pl ? (int)pl->n : 0,
					(sqe->opc & 3) == 1);
		if (rc)
			conn_failed(qp, rc);
	}
	/* Not connected (a reset is under way): the commands wait in the ring
	 * and are posted again once it is. */
	if (t->open && !t->failed) {
		sq->rung_tail = sq->tail;
		/* Counted as a doorbell write to the device: one batch sent. */
		sq->db.writes++;
		sq->db.mmio_writes++;
		rc = nvp_tcp_queue_send(&t->q);
		if (rc)
			conn_failed(qp, rc);
	}
	unlock(t);
}

/* A completion from the wire into the CQ ring, as a controller writes it. */
static void put_cqe(void *arg, const struct nvp_cqe *wire)
{
	struct nvp_qpair *qp = arg;
	struct nvp_tcp_qp *t = qp->tcp;
	volatile struct nvp_cqe *slot;
	uint16_t next;

	if (qp->is_admin && nvp_le16_to_cpu(wire->cid) == t->prop_cid) {
		t->prop_cpl = *wire;
		t->prop_done = true;
		return;
	}
	next = (uint16_t)(t->cq_tail + 1 == qp->cq.entries ? 0 : t->cq_tail + 1);
	if (next == qp->cq.head) {
		/* Never with a well-behaved target: no more are owed than the ring holds. */
		nvp_error(-EPROTO, "the target sent more completions than commands were "
			  "outstanding");
		conn_failed(qp, -EPROTO);
		return;
	}
	slot = &qp->cq.ring[t->cq_tail];
	slot->dw0 = wire->dw0;
	slot->dw1 = wire->dw1;
	slot->sqhd = wire->sqhd;
	slot->sqid = wire->sqid;
	slot->cid = wire->cid;
	/* The entry before the phase bit that makes it visible (the admin ring
	 * may be read by another thread). */
	nvp_dma_wmb();
	slot->status = (uint16_t)((wire->status & nvp_cpu_to_le16(0xfffe)) |
				  nvp_cpu_to_le16(t->cq_phase));
	t->cq_tail = next;
	if (next == 0)
		t->cq_phase ^= 1;
}

static int pump_locked(struct nvp_qpair *qp)
{
	struct nvp_tcp_qp *t = qp->tcp;
	int rc;

	/* Not connected (a reset waits for the target): nothing to take in. */
	if (!t->open)
		return 0;
	if (t->failed)
		return t->failed;
	rc = nvp_tcp_queue_send(&t->q);
	if (!rc)
		rc = nvp_tcp_queue_recv(&t->q, put_cqe, qp, 0);
	/* What the receive queued (H2CData for R2Ts) goes out at once. */
	if (rc >= 0)
		rc = nvp_tcp_queue_send(&t->q);
	if (rc < 0)
		return conn_failed(qp, rc);
	return t->failed;
}

int nvp_tcp_qpair_pump(struct nvp_qpair *qp)
{
	struct nvp_tcp_qp *t = qp->tcp;
	int rc;

	lock(t);
	rc = pump_locked(qp);
	unlock(t);
	return rc;
}

/* ---- registers as properties ----------------------------------------------- */

int nvp_tcp_prop(struct nvp_ctrl *ctrl, bool set, uint32_t off, unsigned int size,
		 uint64_t *val)
{
	struct nvp_qpair *qp = ctrl->admin;
	struct nvp_tcp_qp *t = qp ? qp->tcp : NULL;
	struct nvp_property_cmd cmd = {
		.opc = NVP_FABRICS_OPC,
		.fctype = set ? NVP_FCTYPE_PROPERTY_SET : NVP_FCTYPE_PROPERTY_GET,
		.attrib = size == 8 ? NVP_PROP_SIZE_8 : NVP_PROP_SIZE_4,
		.ofst = nvp_cpu_to_le32(off),
		.value = nvp_cpu_to_le64(set ? *val : 0),
	};
	uint64_t deadline = nvp_monotonic_ms() + connect_timeout(ctrl);
	uint16_t status;
	int rc;

	if (!t)
		return nvp_error(-ENOTCONN, "%s: no admin connection", ctrl->info.addr);
	lock(t);
	if (!t->open || t->failed) {
		unlock(t);
		return nvp_error(-ENOTCONN, "%s: the admin connection is down; a reset "
				 "reconnects it", ctrl->info.addr);
	}
	cmd.cid = nvp_cpu_to_le16(t->prop_cid);
	t->prop_done = false;
	rc = nvp_tcp_queue_post(&t->q, (const struct nvp_sqe *)&cmd, NULL, 0, false);
	if (rc)
		conn_failed(qp, rc);
	while (!rc && !t->prop_done) {
		struct pollfd pfd = { .fd = t->conn.fd, .events = POLLIN };

		rc = pump_locked(qp);
		if (rc || t->prop_done)
			break;
		if (nvp_monotonic_ms() >= deadline) {
			/* Its slot stays taken: only a new connection frees it. */
			rc = nvp_error(-ETIMEDOUT, "no answer within %u ms",
				       connect_timeout(ctrl));
			conn_failed(qp, rc);
			break;
		}
		(void)poll(&pfd, 1, 1);
	}
	unlock(t);
	if (rc)
		return nvp_error(rc, "%s: Property %s of 0x%x failed: %s", ctrl->info.addr,
				 set ? "Set" : "Get", off, nvp_last_error());
	status = nvp_le16_to_cpu(t->prop_cpl.status) >> 1;
	if (status)
		return nvp_error(-EIO, "%s: Property %s of 0x%x: status 0x%x (SCT %u SC 0x%02x)",
				 ctrl->info.addr, set ? "Set" : "Get", off, status,
				 (status >> 8) & 7, status & 0xff);
	if (!set)
		*val = size == 8 ? ((uint64_t)nvp_le32_to_cpu(t->prop_cpl.dw1) << 32 |
				    nvp_le32_to_cpu(t->prop_cpl.dw0)) :
				   nvp_le32_to_cpu(t->prop_cpl.dw0);
	return 0;
}

/* ---- CSTS for the health check ----------------------------------------------- */

static void csts_done(void *arg, const struct nvp_cqe *cpl)
{
	struct nvp_ctrl *ctrl = arg;

	if (!NVP_CPL_IS_ERROR(cpl))
		atomic_store(&ctrl->tcp->csts, cpl->dw0);
	else if (NVP_STATUS_SCT(cpl->status) != NVP_SCT_PATH)	/* a reset says why */
		nvp_warn("%s: Property Get of CSTS failed with status 0x%x", ctrl->info.addr,
			 cpl->status >> 1);
	atomic_store(&ctrl->tcp->csts_outstanding, false);
}

uint32_t nvp_tcp_csts(struct nvp_ctrl *ctrl)
{
	struct nvp_tcp_ctrl *c = ctrl->tcp;
	/* Built in CPU order like any admin command (nvp_sqe_to_wire() then
	 * writes it out): FCTYPE is NSID's low byte, ATTRIB CDW10's, OFST is
	 * CDW11 (struct nvp_property_cmd is the same 64 bytes on the wire). */
	struct nvp_sqe cmd = {
		.opc = NVP_FABRICS_OPC,
		.nsid = NVP_FCTYPE_PROPERTY_GET,
		.cdw10 = NVP_PROP_SIZE_4,
		.cdw11 = NVP_REG_CSTS,
	};
	bool idle = false;

	/* One at a time; a full admin queue or a reset just skips this turn. */
	if (atomic_compare_exchange_strong(&c->csts_outstanding, &idle, true) &&
	    nvp_admin_submit(ctrl, &cmd, NULL, 0, csts_done, ctrl) != 0)
		atomic_store(&c->csts_outstanding, false);
	return atomic_load(&c->csts);
}

/* ---- Keep Alive ------------------------------------------------------------ */

static void keep_alive_done(void *arg, const struct nvp_cqe *cpl)
{
	struct nvp_ctrl *ctrl = arg;

	if (ctrl->tcp)
		ctrl->tcp->keep_alive_outstanding = false;
	/* Ended by a reset or a lost connection (path status): the reset says so. */
	if (NVP_CPL_IS_ERROR(cpl) && NVP_STATUS_SCT(cpl->status) != NVP_SCT_PATH)
		nvp_warn("%s: Keep Alive failed with status 0x%x", ctrl->info.addr,
			 cpl->status >> 1);
}

/*
 * One Keep Alive at a time, every half KATO. One that is not answered is
 * an admin command past its timeout: check_admin_timeouts() resets, which
 * reconnects.
 */
void nvp_tcp_keep_alive(struct nvp_ctrl *ctrl)
{
	struct nvp_tcp_ctrl *c = ctrl->tcp;
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_KEEP_ALIVE };
	uint64_t now;

	if (!c || !ctrl->opts.keep_alive_ms || c->keep_alive_outstanding)
		return;
	now = nvp_monotonic_ms();
	if (now < c->next_keep_alive_ms)
		return;
	c->next_keep_alive_ms = now + ctrl->opts.keep_alive_ms / 2;
	if (nvp_admin_submit(ctrl, &cmd, NULL, 0, keep_alive_done, ctrl) == 0)
		c->keep_alive_outstanding = true;
}

/* ---- a target that is gone for a while --------------------------------------- */

bool nvp_tcp_reconnect_later(struct nvp_ctrl *ctrl)
{
	struct nvp_tcp_ctrl *c = ctrl->tcp;
	uint64_t now = nvp_monotonic_ms();
	uint32_t loss = ctrl->opts.tcp_ctrl_loss_timeout_ms;

	if (!c->reconnecting) {
		c->reconnecting = true;
		c->lost_since_ms = now;
	}
	if (!loss || now - c->lost_since_ms >= loss) {
		c->reconnecting = false;
		return false;
	}
	c->next_reconnect_ms = now + ctrl->opts.tcp_reconnect_delay_ms;
	nvp_warn("%s: cannot reach the target (%s); trying again every %u ms, for %llu ms more",
		 ctrl->info.addr, nvp_last_error(), ctrl->opts.tcp_reconnect_delay_ms,
		 (unsigned long long)(loss - (now - c->lost_since_ms)));
	return true;
}

bool nvp_tcp_reconnecting(const struct nvp_ctrl *ctrl)
{
	return ctrl->tcp && ctrl->tcp->reconnecting;
}

bool nvp_tcp_reconnect_due(const struct nvp_ctrl *ctrl)
{
	return nvp_tcp_reconnecting(ctrl) && nvp_monotonic_ms() >= ctrl->tcp->next_reconnect_ms;
}

void nvp_tcp_reconnected(struct nvp_ctrl *ctrl)
{
	if (ctrl->tcp && ctrl->tcp->reconnecting) {
		nvp_info("%s: the target is back after %llu ms", ctrl->info.addr,
			 (unsigned long long)(nvp_monotonic_ms() - ctrl->tcp->lost_since_ms));
		ctrl->tcp->reconnecting = false;
	}
}
