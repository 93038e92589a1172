/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll-tcp-probe - drive a real NVMe/TCP target with lib/tcp alone, and
 * check every byte: the proof that the transport's building blocks speak
 * the protocol as the Linux kernel's nvmet-tcp does, before they carry the
 * public API (issue 14).
 *
 *   nvpoll-tcp-probe [--digests] [--h2c-max BYTES] [--etc DIR] ADDRESS
 *
 * ADDRESS is tcp://HOST[:PORT]/SUBNQN or an SPDK transport ID. It connects
 * an admin queue, brings the controller up over Property Get/Set (CAP, VS,
 * CC.EN, CSTS.RDY), reads Identify Controller and every active namespace,
 * connects an I/O queue, and on every namespace writes patterns of one
 * block up to the transfer limit (in-capsule data, R2T and H2CData in
 * several PDUs), reads each back and compares; then the polled queue
 * (lib/tcp/queue.c) with 16 commands in flight. Exit status 0 only if
 * everything matched. The VM rig runs it against nvmet-tcp (step
 * tcp_target), with and without digests.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvpoll/nvpoll.h>

#include "tcp/addr.h"
#include "tcp/conn.h"
#include "tcp/fabrics.h"
#include "tcp/queue.h"
#include "util/crc32c.h"

#define TIMEOUT_MS 10000
#define QUEUE_SIZE 32
#define QD 16		/* commands in flight in the queued phase */

static int fail(const char *what, int rc)
{
	fprintf(stderr, "nvpoll-tcp-probe: %s: %s (%d)\n", what,
		nvp_last_error() && *nvp_last_error() ? nvp_last_error() : strerror(-rc), rc);
	return 1;
}

static int status_fail(const char *what, const struct nvp_cqe *cpl)
{
	uint16_t sf = cpl->status >> 1;

	fprintf(stderr, "nvpoll-tcp-probe: %s failed: %s (status 0x%x)\n", what,
		nvp_status_str(sf), sf);
	return 1;
}

/* Run one admin/IO command; 0 only if it completed with success. */
static int run(struct nvp_tcp_conn *c, struct nvp_sqe *cmd, const void *out, uint32_t out_len,
	       void *in, uint32_t in_len, const char *what)
{
	struct nvp_cqe cpl;
	int rc = nvp_tcp_exec(c, cmd, out, out_len, in, in_len, &cpl, TIMEOUT_MS);

	if (rc)
		return fail(what, rc);
	if (cpl.status >> 1)
		return status_fail(what, &cpl);
	return 0;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A pattern no other (ns, lba, round) shares, so misplaced data shows. */
static void fill(uint8_t *buf, size_t len, uint32_t nsid, uint64_t lba, uint32_t round)
{
	uint64_t x = (uint64_t)nsid << 56 ^ lba * 0x9e3779b97f4a7c15ull ^ round;

	for (size_t i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
	}
}

struct queued {
	int completions;
	int errors;
};

static void on_cqe(void *ctx, const struct nvp_cqe *cqe)
{
	struct queued *qd = ctx;

	qd->completions++;
	if (nvp_le16_to_cpu(cqe->status) >> 1) {
		qd->errors++;
		fprintf(stderr, "nvpoll-tcp-probe: queued command %u failed: status 0x%x\n",
			nvp_le16_to_cpu(cqe->cid), nvp_le16_to_cpu(cqe->status) >> 1);
	}
}

/* Send and receive until @want completions arrived (10 s at most). */
static int drive(struct nvp_tcp_queue *q, struct queued *qd, int want)
{
	for (int64_t spins = 0; qd->completions < want; spins++) {
		struct pollfd pfd = { .fd = q->c->fd, .events = POLLIN };
		int rc = nvp_tcp_queue_send(q);

		/* Receive, then send what that queued (H2CData for R2Ts) before waiting. */
		if (rc || (rc = nvp_tcp_queue_recv(q, on_cqe, qd, 0)) < 0 ||
		    (rc = nvp_tcp_queue_send(q)))
			return fail("queued I/O", rc);
		if (qd->completions < want && poll(&pfd, 1, 10) == 0 && spins > 1000)
			return fail("queued I/O: no progress", -ETIMEDOUT);
	}
	return qd->errors ? 1 : 0;
}

/*
 * The polled queue (lib/tcp/queue.c) against the target: QD writes of
 * assorted sizes in flight at once, each from two scattered pieces, then
 * QD reads of the same into two pieces, compared.
 */
static int queued_phase(struct nvp_tcp_conn *io, uint32_t nsid, uint32_t bs, uint64_t lba0,
			uint32_t max_blocks, uint32_t *mismatches)
{
	static uint8_t w[QD][1 << 17], r[QD][1 << 17];
	struct nvp_tcp_queue q;
	struct queued qd = { 0 };
	uint32_t nlb[QD];
	uint64_t lba = lba0;
	int rc;

	if (max_blocks > (1u << 17) / bs)
		max_blocks = (1u << 17) / bs;
	rc = nvp_tcp_queue_init(&q, io, 64);
	if (rc)
		return fail("queue", rc);
	for (int dir = 0; dir < 2; dir++) {
		lba = lba0;
		for (int i = 0; i < QD; i++) {
			struct nvp_sqe cmd = { .opc = dir ? NVP_NVM_READ : NVP_NVM_WRITE };
			uint8_t *buf = dir ? r[i] : w[i];
			uint32_t len;
			struct iovec iov[2];

			if (!dir) {
				nlb[i] = 1 + (uint32_t)(i * 7) % max_blocks;
				fill(w[i], (size_t)nlb[i] * bs, nsid, lba, 7);
			} else {
				memset(r[i], 0x5a, sizeof(r[i]));
			}
			len = nlb[i] * bs;
			iov[0] = (struct iovec){ .iov_base = buf, .iov_len = len / 2 };
			iov[1] = (struct iovec){ .iov_base = buf + len / 2, .iov_len = len - len / 2 };
			cmd.cid = nvp_cpu_to_le16((uint16_t)(i + dir * QD));
			cmd.nsid = nvp_cpu_to_le32(nsid);
			cmd.cdw10 = nvp_cpu_to_le32((uint32_t)lba);
			cmd.cdw11 = nvp_cpu_to_le32((uint32_t)(lba >> 32));
			cmd.cdw12 = nvp_cpu_to_le32(nlb[i] - 1);
			rc = nvp_tcp_queue_post(&q, &cmd, iov, 2, !dir);
			if (rc)
				return fail("queued post", rc);
			lba += nlb[i];
		}
		rc = drive(&q, &qd, (dir + 1) * QD);
		if (rc)
			return rc;
	}
	for (int i = 0; i < QD; i++)
		if (memcmp(w[i], r[i], (size_t)nlb[i] * bs)) {
			(*mismatches)++;
			fprintf(stderr, "nvpoll-tcp-probe: nsid %u queued command %d (%u blocks): "
				"data read back differs\n", nsid, i, nlb[i]);
		}
	printf("nsid %u: %d queued writes and reads, %d in flight: %llu sendmsg calls, C2H "
	       "bytes %llu read directly, %llu through the staging buffer\n", nsid, QD, QD,
	       (unsigned long long)q.sendmsgs, (unsigned long long)q.c2h_direct,
	       (unsigned long long)q.c2h_copied);
	nvp_tcp_queue_fini(&q);
	return 0;
}

int main(int argc, char **argv)
{
	const char *etc = "/etc/nvme", *text = NULL;
	bool digests = false;
	uint32_t h2c_max = 0;
	struct nvp_tcp_addr addr;
	struct nvp_tcp_host host;
	struct nvp_tcp_conn admin, io;
	struct nvp_id_ctrl *id;
	uint32_t *nslist;
	uint8_t *wbuf, *rbuf;
	uint64_t cap, csts = 0;
	uint64_t vs;
	uint16_t cntlid;
	uint32_t max_xfer, ioccsz_bytes, checked = 0, mismatches = 0;
	struct nvp_sqe cmd;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--digests"))
			digests = true;
		else if (!strcmp(argv[i], "--etc") && i + 1 < argc)
			etc = argv[++i];
		else if (!strcmp(argv[i], "--h2c-max") && i + 1 < argc)
			h2c_max = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!text)
			text = argv[i];
		else
			text = NULL, i = argc;
	}
	if (!text) {
		fprintf(stderr, "usage: nvpoll-tcp-probe [--digests] [--h2c-max BYTES] [--etc DIR] "
			"ADDRESS\n");
		return 2;
	}
	rc = nvp_tcp_addr_parse(text, &addr);
	if (rc)
		return fail(rc == -ENOENT ? "not an NVMe/TCP address" : "address", rc == -ENOENT ? -EINVAL : rc);
	rc = nvp_tcp_host_identity(host.hostnqn, host.hostid, etc);
	if (rc)
		return fail("host identity", rc);

	id = calloc(1, sizeof(*id));
	nslist = calloc(1024, sizeof(*nslist));
	if (!id || !nslist)
		return fail("memory", -ENOMEM);

	/* The admin queue, and the controller brought up over properties. */
	rc = nvp_tcp_conn_open(&admin, &addr, digests, digests, TIMEOUT_MS);
	if (rc)
		return fail("connect (admin)", rc);
	rc = nvp_tcp_connect_queue(&admin, &host, addr.subnqn, 0, QUEUE_SIZE, NVP_CNTLID_DYNAMIC,
				   0, &cntlid, TIMEOUT_MS);
	if (rc)
		return fail("Connect (admin)", rc);
	if ((rc = nvp_tcp_prop_get(&admin, NVP_REG_CAP, 8, &cap, TIMEOUT_MS)) ||
	    (rc = nvp_tcp_prop_get(&admin, NVP_REG_VS, 4, &vs, TIMEOUT_MS)))
		return fail("Property Get", rc);
	rc = nvp_tcp_prop_set(&admin, NVP_REG_CC, 4,
			      NVP_CC_EN | NVP_CC_CSS_NVM | 6u << NVP_CC_IOSQES_SHIFT |
			      4u << NVP_CC_IOCQES_SHIFT, TIMEOUT_MS);
	if (rc)
		return fail("Property Set CC.EN", rc);
	for (int64_t waited = 0; waited <= (int64_t)((cap >> 24) & 0xff) * 500; waited += 10) {
		rc = nvp_tcp_prop_get(&admin, NVP_REG_CSTS, 4, &csts, TIMEOUT_MS);
		if (rc)
			return fail("Property Get CSTS", rc);
		if (csts & (NVP_CSTS_RDY | 2u))
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	if (!(csts & NVP_CSTS_RDY) || (csts & 2u))
		return fail(csts & 2u ? "controller fatal status (CSTS.CFS)" : "CSTS.RDY", -EIO);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_IDENTIFY;
	cmd.cdw10 = NVP_CNS_CTRL;
	if (run(&admin, &cmd, NULL, 0, id, sizeof(*id), "Identify Controller"))
		return 1;
	if (strncmp(id->subnqn, addr.subnqn, sizeof(id->subnqn)) != 0) {
		fprintf(stderr, "nvpoll-tcp-probe: Identify says subsystem '%.256s', connected "
			"to '%s'\n", id->subnqn, addr.subnqn);
		return 1;
	}
	ioccsz_bytes = le32_at(id->nvmeof) * 16 > 64 ? le32_at(id->nvmeof) * 16 - 64 : 0;
	max_xfer = id->mdts ? (4096u << id->mdts) : (1u << 20);
	if (max_xfer > (1u << 20))
		max_xfer = 1u << 20;
	printf("controller %u at %s: %.40s, NVMe %llu.%llu, MDTS %u, in-capsule %u bytes, "
	       "digests %s, crc32c %s\n", cntlid, admin.peer, id->mn,
	       (unsigned long long)(vs >> 16), (unsigned long long)((vs >> 8) & 0xff), id->mdts,
	       ioccsz_bytes, admin.p.hdgst ? "header+data" : "off", nvp_crc32c_impl());

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_IDENTIFY;
	cmd.cdw10 = NVP_CNS_ACTIVE_NS_LIST;
	if (run(&admin, &cmd, NULL, 0, nslist, 4096, "Identify active namespace list"))
		return 1;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_SET_FEATURES;
	cmd.cdw10 = NVP_FEAT_NUM_QUEUES;
	cmd.cdw11 = 0;	/* one I/O queue pair (0's based) */
	if (run(&admin, &cmd, NULL, 0, NULL, 0, "Set Features Number of Queues"))
		return 1;

	rc = nvp_tcp_conn_open(&io, &addr, digests, digests, TIMEOUT_MS);
	if (rc)
		return fail("connect (I/O)", rc);
	rc = nvp_tcp_connect_queue(&io, &host, addr.subnqn, 1, QUEUE_SIZE, cntlid, 0, NULL,
				   TIMEOUT_MS);
	if (rc)
		return fail("Connect (I/O queue 1)", rc);
	io.incapsule_max = ioccsz_bytes;
	/* Smaller H2CData PDUs than the target allows: an R2T is then answered
	 * in several, which the target must put back together. */
	if (h2c_max && h2c_max < io.p.maxh2cdata)
		io.p.maxh2cdata = h2c_max;

	wbuf = malloc(max_xfer);
	rbuf = malloc(max_xfer);
	if (!wbuf || !rbuf)
		return fail("memory", -ENOMEM);
	for (int n = 0; n < 1024 && nslist[n]; n++) {
		uint32_t nsid = nvp_le32_to_cpu(nslist[n]);
		struct nvp_id_ns *ns = (struct nvp_id_ns *)rbuf;
		uint32_t bs, blocks[] = { 1, 2, 8, 33, 0 };
		uint64_t nsze, lba = 0;

		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVP_ADMIN_IDENTIFY;
		cmd.nsid = nsid;
		cmd.cdw10 = NVP_CNS_NS;
		if (run(&admin, &cmd, NULL, 0, rbuf, 4096, "Identify Namespace"))
			return 1;
		nsze = nvp_le64_to_cpu(ns->nsze);
		bs = 1u << ns->lbaf[ns->flbas & 0xf].lbads;
		blocks[4] = max_xfer / bs;
		for (unsigned int round = 0; round < 2; round++) {
			for (size_t k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++) {
				uint32_t nlb = blocks[k], len = nlb * bs;

				if (lba + nlb > nsze)
					break;
				fill(wbuf, len, nsid, lba, round);
				memset(&cmd, 0, sizeof(cmd));
				cmd.opc = NVP_NVM_WRITE;
				cmd.nsid = nsid;
				cmd.cdw10 = (uint32_t)lba;
				cmd.cdw11 = (uint32_t)(lba >> 32);
				cmd.cdw12 = nlb - 1;
				if (run(&io, &cmd, wbuf, len, NULL, 0, "Write"))
					return 1;
				memset(rbuf, 0xa5, len);
				cmd.opc = NVP_NVM_READ;
				if (run(&io, &cmd, NULL, 0, rbuf, len, "Read"))
					return 1;
				checked++;
				if (memcmp(wbuf, rbuf, len)) {
					mismatches++;
					fprintf(stderr, "nvpoll-tcp-probe: nsid %u LBA %llu+%u: data "
						"read back differs from what was written\n", nsid,
						(unsigned long long)lba, nlb);
				}
				lba += nlb;
			}
		}
		printf("nsid %u: %llu blocks of %u bytes; writes of 1..%u blocks read back\n", nsid,
		       (unsigned long long)nsze, bs, blocks[4]);
		if (queued_phase(&io, nsid, bs, lba, blocks[4], &mismatches))
			return 1;
	}

	/* Orderly: shut the controller down, then close both connections. */
	rc = nvp_tcp_prop_set(&admin, NVP_REG_CC, 4, NVP_CC_SHN_NORMAL | NVP_CC_EN |
			      6u << NVP_CC_IOSQES_SHIFT | 4u << NVP_CC_IOCQES_SHIFT, TIMEOUT_MS);
	if (rc)
		return fail("Property Set CC.SHN", rc);
	printf("%u transfers checked, %u mismatches; admin %llu PDUs out / %llu in, I/O %llu "
	       "out / %llu in, %llu R2Ts answered (H2CData PDUs of at most %u bytes)\n",
	       checked, mismatches,
	       (unsigned long long)admin.pdus_out, (unsigned long long)admin.pdus_in,
	       (unsigned long long)io.pdus_out, (unsigned long long)io.pdus_in,
	       (unsigned long long)io.r2ts, io.p.maxh2cdata);
	nvp_tcp_conn_close(&io);
	nvp_tcp_conn_close(&admin);
	free(wbuf);
	free(rbuf);
	free(nslist);
	free(id);
	return mismatches || !checked ? 1 : 0;
}
