/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/conn.c - one NVMe/TCP connection: connect, ICReq/ICResp, and
 * one command at a time to completion (conn.h).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tcp/conn.h"
#include "util/crc32c.h"
#include "util/log.h"
#include "util/wire.h"

/* ---- time and the socket ------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events until @deadline; 0, or -ETIMEDOUT/-ECONNRESET. */
static int wait_fd(struct nvp_tcp_conn *c, short events, int64_t deadline, const char *what)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return nvp_error(-ETIMEDOUT, "NVMe/TCP %s: no progress %s within the timeout; "
					 "is the target alive and reachable?", c->peer, what);
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nvp_error(-errno, "NVMe/TCP %s: poll: %s", c->peer, strerror(errno));
		if (n > 0 && (pfd.revents & (POLLERR | POLLNVAL)) && !(pfd.revents & events))
			return nvp_error(-ECONNRESET, "NVMe/TCP %s: the connection failed %s",
					 c->peer, what);
		if (n > 0)
			return 0;
	}
}

/* Send every byte of @iov (modified as it goes). */
static int send_all(struct nvp_tcp_conn *c, struct iovec *iov, int iovcnt, int64_t deadline)
{
	while (iovcnt > 0) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			int rc;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return nvp_error(-ECONNRESET, "NVMe/TCP %s: send failed: %s; the "
						 "connection is lost", c->peer, strerror(errno));
			rc = wait_fd(c, POLLOUT, deadline, "sending");
			if (rc)
				return rc;
			continue;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	c->pdus_out++;
	return 0;
}

/* Receive exactly @len bytes into @buf (NULL: discard them). */
static int recv_exact(struct nvp_tcp_conn *c, void *buf, size_t len, int64_t deadline)
{
	uint8_t sink[256];

	while (len > 0) {
		void *dst = buf ? buf : sink;
		size_t want = buf ? len : (len < sizeof(sink) ? len : sizeof(sink));
		ssize_t n = recv(c->fd, dst, want, 0);

		if (n == 0)
			return nvp_error(-ECONNRESET, "NVMe/TCP %s: the target closed the connection",
					 c->peer);
		if (n < 0) {
			int rc;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return nvp_error(-ECONNRESET, "NVMe/TCP %s: receive failed: %s",
						 c->peer, strerror(errno));
			rc = wait_fd(c, POLLIN, deadline, "receiving");
			if (rc)
				return rc;
			continue;
		}
		if (buf)
			buf = (uint8_t *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- connect and initialise --------------------------------------------- */

static int tcp_connect(struct nvp_tcp_conn *c, const struct nvp_tcp_addr *a, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP };
	struct addrinfo *res = NULL, *ai;
	int rc, last = -ECONNREFUSED;

	hints.ai_family = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : AF_UNSPEC;
	rc = getaddrinfo(a->host, a->port, &hints, &res);
	if (rc)
		return nvp_error(-EHOSTUNREACH, "NVMe/TCP: cannot resolve '%s': %s", a->host,
				 gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1, err = 0;
		socklen_t len = sizeof(err);

		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (c->fd < 0) {
			last = -errno;
			continue;
		}
		/* Capsules are small and latency is the point: no Nagle delay. */
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(c, POLLOUT, deadline, "connecting") == 0 &&
		     getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)) {
			freeaddrinfo(res);
			return 0;
		}
		last = err ? -err : errno ? -errno : -ETIMEDOUT;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	return nvp_error(last, "NVMe/TCP: cannot connect to %s: %s; check the address and "
			 "port and that the target listens there (nvmet: a port linked to the "
			 "subsystem)", c->peer, strerror(-last));
}

int nvp_tcp_conn_open(struct nvp_tcp_conn *c, const struct nvp_tcp_addr *a, bool hdgst,
		      bool ddgst, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct nvp_tcp_icreq req;
	struct nvp_tcp_icresp resp;
	struct nvp_tcp_pdu_layout lay;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->peer, sizeof(c->peer), a->family == 6 ? "[%s]:%s" : "%s:%s", a->host, a->port);
	rc = tcp_connect(c, a, deadline);
	if (rc)
		return rc;
	nvp_tcp_build_icreq(&req, hdgst, ddgst, 0);
	rc = send_all(c, &iov, 1, deadline);
	if (rc)
		goto fail;
	rc = recv_exact(c, &resp.hdr, sizeof(resp.hdr), deadline);
	if (rc)
		goto fail;
	rc = nvp_tcp_pdu_check(&resp.hdr, NULL, &lay);
	if (rc)
		goto fail;
	if (lay.type != NVP_TCP_ICRESP) {
		rc = nvp_error(-ECONNREFUSED, "NVMe/TCP %s: the target refused the connection "
			       "with a Terminate Request instead of ICResp", c->peer);
		goto fail;
	}
	rc = recv_exact(c, (uint8_t *)&resp + sizeof(resp.hdr), sizeof(resp) - sizeof(resp.hdr),
			deadline);
	if (rc)
		goto fail;
	c->pdus_in++;
	rc = nvp_tcp_icresp_check(&resp, hdgst, ddgst, &c->p);
	if (rc)
		goto fail;
	if ((hdgst && !c->p.hdgst) || (ddgst && !c->p.ddgst)) {
		rc = nvp_error(-EPROTO, "NVMe/TCP %s: %s digests were asked for and the target "
			       "turned them down", c->peer, hdgst && !c->p.hdgst ? "header" : "data");
		goto fail;
	}
	c->p.max_data = UINT32_MAX;
	c->incapsule_max = NVP_TCP_ADMIN_INCAPSULE;
	return 0;
fail:
	nvp_tcp_conn_close(c);
	return rc;
}

void nvp_tcp_conn_close(struct nvp_tcp_conn *c)
{
	if (c && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/* ---- one command --------------------------------------------------------- */

/* Pad between a header (and its digest) and the data: zero bytes. */
static const uint8_t zero_pad[128];

/* Send one PDU: header, its digest, padding up to @pdo, data, its digest. */
static int send_pdu(struct nvp_tcp_conn *c, const void *hdr, uint32_t hlen, uint32_t pdo,
		    const void *data, uint32_t len, int64_t deadline)
{
	uint8_t hd[NVP_TCP_DIGEST_LEN], dd[NVP_TCP_DIGEST_LEN];
	struct iovec iov[5];
	uint32_t end = hlen + (c->p.hdgst ? NVP_TCP_DIGEST_LEN : 0);
	int n = 0;

	iov[n++] = (struct iovec){ .iov_base = (void *)hdr, .iov_len = hlen };
	if (c->p.hdgst) {
		nvp_tcp_put_digest(hd, nvp_crc32c(hdr, hlen));
		iov[n++] = (struct iovec){ .iov_base = hd, .iov_len = sizeof(hd) };
	}
	if (len) {
		if (pdo > end)
			iov[n++] = (struct iovec){ .iov_base = (void *)zero_pad, .iov_len = pdo - end };
		iov[n++] = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
		if (c->p.ddgst) {
			nvp_tcp_put_digest(dd, nvp_crc32c(data, len));
			iov[n++] = (struct iovec){ .iov_base = dd, .iov_len = sizeof(dd) };
		}
	}
	return send_all(c, iov, n, deadline);
}

/*
 * Receive the rest of a PDU whose common header is in @pdu: its header
 * (checked, digest verified) into @pdu, then returns with the data still in
 * the socket, @lay saying where it lies.
 */
static int recv_header(struct nvp_tcp_conn *c, uint8_t *pdu, struct nvp_tcp_pdu_layout *lay,
		       int64_t deadline)
{
	int rc = recv_exact(c, pdu, NVP_TCP_HDR_LEN, deadline);

	if (rc)
		return rc;
	rc = nvp_tcp_pdu_check((const struct nvp_tcp_hdr *)pdu, &c->p, lay);
	if (rc)
		return rc;
	rc = recv_exact(c, pdu + NVP_TCP_HDR_LEN,
			lay->hlen + (lay->hdgst ? NVP_TCP_DIGEST_LEN : 0) - NVP_TCP_HDR_LEN, deadline);
	if (rc)
		return rc;
	c->pdus_in++;
	if (lay->hdgst && !nvp_tcp_hdgst_ok(pdu, lay->hlen))
		return nvp_error(-EPROTO, "NVMe/TCP %s: header digest mismatch on a %s PDU; the "
				 "connection is corrupt and is closed", c->peer,
				 nvp_tcp_pdu_name(lay->type));
	return 0;
}

/* Receive @len data bytes into @dst, with the padding before and digest after. */
static int recv_data(struct nvp_tcp_conn *c, const struct nvp_tcp_pdu_layout *lay, void *dst,
		     int64_t deadline)
{
	uint32_t end = lay->hlen + (lay->hdgst ? NVP_TCP_DIGEST_LEN : 0);
	uint8_t got[NVP_TCP_DIGEST_LEN], want[NVP_TCP_DIGEST_LEN];
	int rc = recv_exact(c, NULL, lay->data_off - end, deadline);

	if (rc || (rc = recv_exact(c, dst, lay->data_len, deadline)))
		return rc;
	if (!lay->ddgst)
		return 0;
	rc = recv_exact(c, got, sizeof(got), deadline);
	if (rc)
		return rc;
	nvp_tcp_put_digest(want, nvp_crc32c(dst, lay->data_len));
	if (memcmp(got, want, sizeof(want)))
		return nvp_error(-EPROTO, "NVMe/TCP %s: data digest mismatch on %s data (%u "
				 "bytes); the data is corrupt, the connection is closed",
				 c->peer, nvp_tcp_pdu_name(lay->type), lay->data_len);
	return 0;
}

static int term_req(struct nvp_tcp_conn *c, const uint8_t *pdu, const struct nvp_tcp_pdu_layout *lay,
		    int64_t deadline)
{
	const struct nvp_tcp_term_hdr *t = (const void *)pdu;
	uint8_t data[NVP_TCP_TERM_MAX_DATA];

	if (lay->data_len)
		recv_exact(c, data, lay->data_len, deadline);
	return nvp_error(-EPROTO, "NVMe/TCP %s: the target ended the connection (C2HTermReq, "
			 "fatal error status 0x%x, field info 0x%x): it found a PDU from the "
			 "host invalid", c->peer, nvp_le16_to_cpu(t->fes), nvp_le32_to_cpu(t->fei));
}

/* Answer an R2T: send [offset, offset + length) of @out in H2CData PDUs. */
static int answer_r2t(struct nvp_tcp_conn *c, const struct nvp_tcp_data_hdr *r2t, uint16_t cid,
		      const void *out, uint32_t out_len, int64_t deadline)
{
	uint32_t off = nvp_le32_to_cpu(r2t->offset), len = nvp_le32_to_cpu(r2t->length);
	uint16_t ttag = nvp_le16_to_cpu(r2t->ttag);

	if (nvp_le16_to_cpu(r2t->cccid) != cid || !out || len == 0 || off > out_len ||
	    len > out_len - off)
		return nvp_error(-EPROTO, "NVMe/TCP %s: R2T for command %u, bytes %u+%u, but "
				 "command %u has %u bytes to send; closing the connection",
				 c->peer, nvp_le16_to_cpu(r2t->cccid), off, len, cid, out_len);
	c->r2ts++;
	while (len) {
		uint32_t n = len < c->p.maxh2cdata ? len : c->p.maxh2cdata;
		struct nvp_tcp_data_hdr h;
		uint32_t pdo = nvp_tcp_build_h2c_data(&h, &c->p, cid, ttag, off, n, n == len);
		int rc = send_pdu(c, &h, sizeof(h), pdo, (const uint8_t *)out + off, n, deadline);

		if (rc)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

int nvp_tcp_exec(struct nvp_tcp_conn *c, const struct nvp_sqe *cmd, const void *out,
		 uint32_t out_len, void *in, uint32_t in_len, struct nvp_cqe *cpl, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint32_t len = out ? out_len : in_len;
	bool incapsule = out && out_len <= c->incapsule_max;
	struct {
		struct nvp_tcp_hdr hdr;
		struct nvp_sqe sqe;
	} capsule;
	uint8_t pdu[NVP_TCP_MAX_HDR] __attribute__((aligned(8)));
	struct nvp_sqe s = *cmd;
	uint32_t pdo;
	int rc;

	if (c->fd < 0)
		return nvp_error(-ECONNRESET, "NVMe/TCP %s: the connection is closed", c->peer);
	c->in_bytes = 0;
	/* TCP describes all data with one SGL descriptor: in the capsule, or
	 * moved by the transport (R2T/H2CData, C2HData). */
	s.flags = (uint8_t)((s.flags & ~NVP_SQE_PSDT_MASK) | NVP_SQE_PSDT_SGL_MPTR);
	memset(&s.dptr, 0, sizeof(s.dptr));
	s.dptr.sgl1.length = len;
	s.dptr.sgl1.type = len ? (incapsule ? NVP_SGL_TCP_INCAPSULE : NVP_SGL_TCP_TRANSPORT) : 0;
	nvp_sqe_to_wire(&capsule.sqe, &s);
	pdo = nvp_tcp_build_capsule_hdr(&capsule.hdr, &c->p, incapsule ? out_len : 0);
	rc = send_pdu(c, &capsule, sizeof(capsule), pdo, incapsule ? out : NULL,
		      incapsule ? out_len : 0, deadline);
	if (rc)
		goto broken;

	for (;;) {
		struct nvp_tcp_pdu_layout lay;

		rc = recv_header(c, pdu, &lay, deadline);
		if (rc)
			goto broken;
		switch (lay.type) {
		case NVP_TCP_CAPSULE_RESP: {
			struct nvp_cqe wire;

			memcpy(&wire, pdu + NVP_TCP_HDR_LEN, sizeof(wire));
			nvp_cqe_from_wire(cpl, &wire);
			if (cpl->cid != s.cid) {
				rc = nvp_error(-EPROTO, "NVMe/TCP %s: a completion for command %u "
					       "while only %u is outstanding", c->peer, cpl->cid,
					       s.cid);
				goto broken;
			}
			return 0;
		}
		case NVP_TCP_C2H_DATA: {
			const struct nvp_tcp_data_hdr *d = (const void *)pdu;
			uint32_t off = nvp_le32_to_cpu(d->offset), n = nvp_le32_to_cpu(d->length);

			if (nvp_le16_to_cpu(d->cccid) != s.cid || !in || n != lay.data_len ||
			    off > in_len || n > in_len - off) {
				rc = nvp_error(-EPROTO, "NVMe/TCP %s: C2HData for command %u, bytes "
					       "%u+%u (PDU holds %u), but command %u reads %u bytes; "
					       "closing the connection", c->peer,
					       nvp_le16_to_cpu(d->cccid), off, n, lay.data_len,
					       s.cid, in ? in_len : 0);
				goto broken;
			}
			rc = recv_data(c, &lay, (uint8_t *)in + off, deadline);
			if (rc)
				goto broken;
			c->in_bytes = n > UINT32_MAX - c->in_bytes ? UINT32_MAX : c->in_bytes + n;
			if (d->hdr.flags & NVP_TCP_F_SUCCESS) {
				/* The controller's shortcut: success, no CapsuleResp follows. */
				memset(cpl, 0, sizeof(*cpl));
				cpl->cid = s.cid;
				return 0;
			}
			break;
		}
		case NVP_TCP_R2T:
			rc = answer_r2t(c, (const void *)pdu, s.cid, incapsule ? NULL : out, out_len,
					deadline);
			if (rc)
				goto broken;
			break;
		default: /* C2HTermReq: nvp_tcp_pdu_check() lets nothing else through */
			rc = term_req(c, pdu, &lay, deadline);
			goto broken;
		}
	}
broken:
	nvp_tcp_conn_close(c);
	return rc;
}
