/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/discovery.c - the discovery controller over NVMe/TCP
 * (discovery.h).
 *
 * The target is untrusted: NUMREC is capped before anything is allocated
 * from it, each Get Log Page must bring exactly the bytes asked for (the
 * connection counts them), and an entry's strings are cut at their field's
 * size. A log that changed while it was read (GENCTR moved, or the target
 * answered Discovery Restart) is read again from the start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvpoll/nvpoll.h>

#include "tcp/discovery.h"
#include "util/log.h"
#include "util/wire.h"

/* Admin queue entries asked for in Connect (nvmet's and Linux's depth). */
#define DISC_AQ_SIZE 32
/* Get Log Page commands carry at most this much each. */
#define DISC_CHUNK (64u * 1024)
#define DISC_CID 0x2000

/* Get Log Page 70h, @len bytes from @offset, into @buf. 1: Discovery Restart. */
static int get_log(struct nvp_tcp_conn *c, uint64_t offset, void *buf, uint32_t len,
		   int timeout_ms)
{
	struct nvp_sqe cmd;
	struct nvp_cqe cpl;
	uint32_t numd = len / 4 - 1;	/* 0's based dwords */
	uint16_t sf;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_GET_LOG_PAGE;
	cmd.cid = DISC_CID;
	cmd.cdw10 = NVP_LOG_DISCOVERY | (numd & 0xffff) << 16;
	cmd.cdw11 = numd >> 16;
	cmd.cdw12 = (uint32_t)offset;
	cmd.cdw13 = (uint32_t)(offset >> 32);
	memset(buf, 0, len);
	rc = nvp_tcp_exec(c, &cmd, NULL, 0, buf, len, &cpl, timeout_ms);
	if (rc)
		return rc;
	sf = cpl.status >> 1;
	if ((sf & 0x7ff) == NVP_SC_DISCOVERY_RESTART)
		return 1;
	if (sf)
		return nvp_error(nvp_status_to_errno(sf), "NVMe/TCP %s: Get Log Page (Discovery, "
				 "%u bytes at %llu) failed: %s (status 0x%x)", c->peer, len,
				 (unsigned long long)offset, nvp_status_str(sf), sf);
	if (c->in_bytes != len) {
		nvp_tcp_conn_close(c);
		return nvp_error(-EPROTO, "NVMe/TCP %s: the discovery controller sent %u bytes of "
				 "the %u of the Discovery Log Page asked for at offset %llu; the "
				 "target is broken, the connection is closed", c->peer,
				 c->in_bytes, len, (unsigned long long)offset);
	}
	return 0;
}

/* CC.EN = 1 and wait for CSTS.RDY, at most CAP.TO (and @timeout_ms at least). */
static int enable(struct nvp_tcp_conn *c, int timeout_ms)
{
	uint64_t cap, csts = 0;
	int64_t limit_ms;
	int rc;

	rc = nvp_tcp_prop_get(c, NVP_REG_CAP, 8, &cap, timeout_ms);
	if (rc)
		return rc;
	rc = nvp_tcp_prop_set(c, NVP_REG_CC, 4, NVP_CC_EN | NVP_CC_CSS_NVM |
			      6u << NVP_CC_IOSQES_SHIFT | 4u << NVP_CC_IOCQES_SHIFT, timeout_ms);
	if (rc)
		return rc;
	limit_ms = (int64_t)NVP_CAP_TO(cap) * 500;
	if (limit_ms < timeout_ms)
		limit_ms = timeout_ms;
	for (int64_t waited = 0;; waited += 10) {
		rc = nvp_tcp_prop_get(c, NVP_REG_CSTS, 4, &csts, timeout_ms);
		if (rc)
			return rc;
		if (csts & NVP_CSTS_CFS)
			return nvp_error(-EIO, "NVMe/TCP %s: the discovery controller reports a "
					 "fatal status (CSTS.CFS) after CC.EN; check the target's "
					 "kernel log", c->peer);
		if (csts & NVP_CSTS_RDY)
			return 0;
		if (waited >= limit_ms)
			return nvp_error(-ETIMEDOUT, "NVMe/TCP %s: the discovery controller did "
					 "not become ready (CSTS.RDY) within %lld ms of CC.EN",
					 c->peer, (long long)limit_ms);
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
}

/* @dst (@size bytes) = the padded ASCII field @src (@len bytes), cleaned. */
static void field_str(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	while (n < len && n + 1 < size && src[n])
		n++;
	while (n > 0 && src[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[n] = '\0';
}

void nvp_tcp_disc_entry_digest(struct nvp_discovery_entry *out,
			       const struct nvp_disc_log_entry *in)
{
	memset(out, 0, sizeof(*out));
	out->trtype = in->trtype;
	out->adrfam = in->adrfam;
	out->subtype = in->subtype;
	out->treq = in->treq;
	out->portid = nvp_le16_to_cpu(in->portid);
	out->cntlid = nvp_le16_to_cpu(in->cntlid);
	out->asqsz = nvp_le16_to_cpu(in->asqsz);
	out->eflags = nvp_le16_to_cpu(in->eflags);
	field_str(out->trsvcid, sizeof(out->trsvcid), in->trsvcid, sizeof(in->trsvcid));
	field_str(out->traddr, sizeof(out->traddr), in->traddr, sizeof(in->traddr));
	field_str(out->subnqn, sizeof(out->subnqn), in->subnqn, sizeof(in->subnqn));
}

/*
 * One pass over the log: header, entries, header again. 0 with *@log
 * holding *@numrec entries; 1 when the log changed meanwhile (read again).
 */
static int read_log(struct nvp_tcp_conn *c, struct nvp_disc_log_entry **log, uint32_t *numrec,
		    int timeout_ms)
{
	struct nvp_disc_log_hdr hdr, again;
	uint64_t genctr, n;
	struct nvp_disc_log_entry *buf;
	size_t total;
	int rc;

	rc = get_log(c, 0, &hdr, sizeof(hdr), timeout_ms);
	if (rc)
		return rc;
	genctr = nvp_le64_to_cpu(hdr.genctr);
	n = nvp_le64_to_cpu(hdr.numrec);
	if (n > NVP_DISCOVERY_MAX_ENTRIES) {
		nvp_tcp_conn_close(c);
		return nvp_error(-EPROTO, "NVMe/TCP %s: the discovery controller says its log "
				 "has %llu entries, more than the %u nvpoll accepts; the target "
				 "is misbehaving (or very large: ask it for a subsystem by NQN "
				 "instead)", c->peer, (unsigned long long)n,
				 NVP_DISCOVERY_MAX_ENTRIES);
	}
	*numrec = (uint32_t)n;
	*log = NULL;
	if (n == 0)
		return 0;
	total = (size_t)n * NVP_DISC_ENTRY_SIZE;
	buf = malloc(total);
	if (!buf)
		return nvp_error(-ENOMEM, "NVMe/TCP %s: no memory for %llu discovery log entries",
				 c->peer, (unsigned long long)n);
	for (size_t off = 0; off < total; off += DISC_CHUNK) {
		uint32_t len = total - off < DISC_CHUNK ? (uint32_t)(total - off) : DISC_CHUNK;

		rc = get_log(c, NVP_DISC_HDR_SIZE + off, (uint8_t *)buf + off, len, timeout_ms);
		if (rc)
			goto out;
	}
	rc = get_log(c, 0, &again, sizeof(again), timeout_ms);
	if (rc)
		goto out;
	if (nvp_le64_to_cpu(again.genctr) != genctr || nvp_le64_to_cpu(again.numrec) != n) {
		nvp_debug("NVMe/TCP %s: the discovery log changed while read (GENCTR %llu -> "
			  "%llu): reading it again", c->peer, (unsigned long long)genctr,
			  (unsigned long long)nvp_le64_to_cpu(again.genctr));
		rc = 1;
		goto out;
	}
	*log = buf;
	return 0;
out:
	free(buf);
	return rc;
}

int nvp_tcp_discover_conn(struct nvp_tcp_conn *c, const struct nvp_tcp_host *host,
			  struct nvp_discovery_entry **entries, uint32_t *count, int timeout_ms)
{
	struct nvp_disc_log_entry *log = NULL;
	struct nvp_discovery_entry *out = NULL;
	uint32_t n = 0;
	int rc, attempt;

	*entries = NULL;
	*count = 0;
	rc = nvp_tcp_connect_queue(c, host, NVP_DISCOVERY_NQN, 0, DISC_AQ_SIZE,
				   NVP_CNTLID_DYNAMIC, 0, NULL, timeout_ms);
	if (rc)
		return rc;
	rc = enable(c, timeout_ms);
	if (rc)
		return rc;
	for (attempt = 0; attempt < NVP_DISCOVERY_ATTEMPTS; attempt++) {
		rc = read_log(c, &log, &n, timeout_ms);
		if (rc <= 0)
			break;
	}
	if (rc < 0)
		return rc;
	if (rc > 0)
		return nvp_error(-EAGAIN, "NVMe/TCP %s: the discovery log changed each of the %d "
				 "times it was read; try again when the target's configuration "
				 "settles", c->peer, NVP_DISCOVERY_ATTEMPTS);
	if (n) {
		out = calloc(n, sizeof(*out));
		if (!out) {
			free(log);
			return nvp_error(-ENOMEM, "NVMe/TCP %s: no memory for %u discovery "
					 "entries", c->peer, n);
		}
		for (uint32_t i = 0; i < n; i++)
			nvp_tcp_disc_entry_digest(&out[i], &log[i]);
		free(log);
	}
	/* Orderly: shut the controller down (the target cleans up either way). */
	nvp_tcp_prop_set(c, NVP_REG_CC, 4, NVP_CC_SHN_NORMAL | NVP_CC_EN | NVP_CC_CSS_NVM |
			 6u << NVP_CC_IOSQES_SHIFT | 4u << NVP_CC_IOCQES_SHIFT, timeout_ms);
	*entries = out;
	*count = n;
	return 0;
}

int nvp_tcp_discover(const struct nvp_tcp_addr *a, const struct nvp_tcp_host *host,
		     struct nvp_discovery_entry **entries, uint32_t *count, int timeout_ms)
{
	struct nvp_tcp_conn c;
	int rc;

	*entries = NULL;
	*count = 0;
	if (strcmp(a->subnqn, NVP_DISCOVERY_NQN) != 0)
		return nvp_error(-EINVAL, "NVMe/TCP discovery: the address names subsystem '%s'; "
				 "discovery asks the discovery controller: leave the NQN out "
				 "(tcp://HOST[:PORT]) or give %s", a->subnqn, NVP_DISCOVERY_NQN);
	rc = nvp_tcp_conn_open(&c, a, false, false, timeout_ms);
	if (rc)
		return rc;
	rc = nvp_tcp_discover_conn(&c, host, entries, count, timeout_ms);
	nvp_tcp_conn_close(&c);
	return rc;
}
