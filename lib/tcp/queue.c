/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/queue.c - a polled NVMe/TCP queue (queue.h).
 *
 * Sending: each command's slot holds the PDU it is sending now (its
 * CapsuleCmd, or one H2CData answering an R2T) and how much of it went
 * out; slots wait their turn in a ring, and send() gathers the PDUs of as
 * many as it can into one sendmsg(), resuming mid-PDU when the socket took
 * only part.
 *
 * Receiving: a small state machine over the byte stream: header (checked
 * as it completes), padding, data (into the command's buffer), data
 * digest. Bytes come through a staging buffer, except a large C2HData
 * payload arriving while the buffer is empty: that is read straight into
 * the command's buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp/queue.h"
#include "util/crc32c.h"
#include "util/log.h"

#define STAGING_SIZE (64u * 1024)
/* C2HData payloads at least this large skip the staging buffer. */
#define DIRECT_MIN 4096u
/* PDUs gathered into one sendmsg() at most (each is up to 5 + segments iovecs). */
#define SEND_BATCH 32
#define SEND_IOV_MAX 256

enum { RX_HDR, RX_SKIP, RX_DATA, RX_DDGST, RX_TERM };

enum { TX_CAPSULE, TX_H2C };

struct nvp_tcp_slot {
	uint16_t cid;
	bool busy;
	bool to_ctrl;
	bool incapsule;
	bool queued;
	bool cqe_pending;	/* completed while its H2CData was still going out */
	int iovcnt;
	uint32_t len;
	/* the PDU being sent */
	int tx;
	uint8_t hdr[NVP_TCP_CAPSULE_CMD_HLEN + NVP_TCP_DIGEST_LEN];
	uint32_t hlen;		/* header bytes in @hdr, digest included */
	uint32_t pad;		/* zero bytes between header and data */
	uint32_t data_off;	/* where in the command's data this PDU's starts */
	uint32_t data_len;
	uint8_t ddgst[NVP_TCP_DIGEST_LEN];
	uint32_t pdu_len;
	uint32_t sent;
	/* the R2T being answered */
	uint16_t ttag;
	uint32_t r2t_end;	/* offset just past what the R2T asked for */
	/* C2HData: where the current PDU's data starts in the command's */
	uint32_t c2h_base;
	struct nvp_cqe cqe;	/* the completion, while @cqe_pending */
	/* last, so that post() clears everything before it in one go */
	struct iovec iov[NVP_TCP_MAX_SEGS];
};

static const uint8_t zeros[128];

static int fail(struct nvp_tcp_queue *q, int rc)
{
	if (!q->failed)
		q->failed = rc;
	return q->failed;
}

int nvp_tcp_queue_init(struct nvp_tcp_queue *q, struct nvp_tcp_conn *c, uint32_t depth)
{
	memset(q, 0, sizeof(*q));
	if (depth < 2 || depth > 65536 || (depth & (depth - 1)))
		return nvp_error(-EINVAL, "NVMe/TCP queue depth %u: a power of two, 2..65536",
				 depth);
	q->c = c;
	q->cid_mask = depth - 1;
	q->slots = calloc(depth, sizeof(*q->slots));
	q->sendq = calloc(depth, sizeof(*q->sendq));
	q->staging = malloc(STAGING_SIZE);
	if (!q->slots || !q->sendq || !q->staging) {
		nvp_tcp_queue_fini(q);
		return nvp_error(-ENOMEM, "NVMe/TCP queue of %u commands: out of memory", depth);
	}
	return 0;
}

void nvp_tcp_queue_fini(struct nvp_tcp_queue *q)
{
	free(q->slots);
	free(q->sendq);
	free(q->staging);
	q->slots = NULL;
	q->sendq = NULL;
	q->staging = NULL;
}

uint32_t nvp_tcp_queue_outstanding(const struct nvp_tcp_queue *q)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= q->cid_mask; i++)
		n += q->slots[i].busy;
	return n;
}

/* ---- the command's data ---------------------------------------------------- */

/*
 * The iovecs covering [@off, @off + @len) of @s's data, at most @max of them.
 * Return: how many, or -1 if they do not fit in @max.
 */
static int data_iov(const struct nvp_tcp_slot *s, uint32_t off, uint32_t len,
		    struct iovec *out, int max)
{
	int n = 0;

	for (int i = 0; i < s->iovcnt && len; i++) {
		size_t seg = s->iov[i].iov_len;

		if (off >= seg) {
			off -= (uint32_t)seg;
			continue;
		}
		if (n == max)
			return -1;
		out[n].iov_base = (uint8_t *)s->iov[i].iov_base + off;
		out[n].iov_len = seg - off < len ? seg - off : len;
		len -= (uint32_t)out[n].iov_len;
		off = 0;
		n++;
	}
	return n;
}

static uint32_t data_crc(const struct nvp_tcp_slot *s, uint32_t off, uint32_t len)
{
	struct iovec iov[NVP_TCP_MAX_SEGS];
	int n = data_iov(s, off, len, iov, NVP_TCP_MAX_SEGS);
	uint32_t crc = NVP_CRC32C_INIT;

	for (int i = 0; i < n; i++)
		crc = nvp_crc32c_update(crc, iov[i].iov_base, iov[i].iov_len);
	return nvp_crc32c_final(crc);
}

/* ---- sending ------------------------------------------------------------- */

static void enqueue(struct nvp_tcp_queue *q, struct nvp_tcp_slot *s)
{
	s->queued = true;
	s->sent = 0;
	q->sendq[q->sendq_tail++ & q->cid_mask] = (uint32_t)(s - q->slots);
}

/* Lay out @s's next H2CData PDU: the R2T's data from @s->data_off on. */
static void prepare_h2c(struct nvp_tcp_queue *q, struct nvp_tcp_slot *s)
{
	const struct nvp_tcp_conn_params *p = &q->c->p;
	uint32_t left = s->r2t_end - s->data_off;
	uint32_t n = left < p->maxh2cdata ? left : p->maxh2cdata;
	struct nvp_tcp_data_hdr h;
	uint32_t pdo = nvp_tcp_build_h2c_data(&h, p, s->cid, s->ttag, s->data_off, n, n == left);

	s->tx = TX_H2C;
	memcpy(s->hdr, &h, sizeof(h));
	s->hlen = sizeof(h);
	if (p->hdgst) {
		nvp_tcp_put_digest(s->hdr + s->hlen, nvp_crc32c(&h, sizeof(h)));
		s->hlen += NVP_TCP_DIGEST_LEN;
	}
	s->pad = pdo - s->hlen;
	s->data_len = n;
	if (p->ddgst)
		nvp_tcp_put_digest(s->ddgst, data_crc(s, s->data_off, n));
	s->pdu_len = pdo + n + (p->ddgst ? NVP_TCP_DIGEST_LEN : 0);
}

int nvp_tcp_queue_post(struct nvp_tcp_queue *q, const struct nvp_sqe *sqe,
		       const struct iovec *iov, int iovcnt, bool to_ctrl)
{
	const struct nvp_tcp_conn_params *p = &q->c->p;
	uint16_t cid = nvp_le16_to_cpu(sqe->cid);
	struct nvp_tcp_slot *s = &q->slots[cid & q->cid_mask];
	struct nvp_tcp_hdr hdr;
	struct nvp_sqe wire;
	uint64_t len = 0;
	uint32_t pdo;

	if (q->failed)
		return q->failed;
	if (s->busy)
		return nvp_error(-EBUSY, "NVMe/TCP: command %u posted while command %u holds its "
				 "slot", cid, s->cid);
	if (iovcnt < 0 || iovcnt > NVP_TCP_MAX_SEGS || (iovcnt && !iov))
		return nvp_error(-EINVAL, "NVMe/TCP: %d data segments; at most %d", iovcnt,
				 NVP_TCP_MAX_SEGS);
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > UINT32_MAX)
		return nvp_error(-EINVAL, "NVMe/TCP: a command moves at most 4 GiB");

	memset(s, 0, offsetof(struct nvp_tcp_slot, iov));
	s->cid = cid;
	s->busy = true;
	s->to_ctrl = to_ctrl && len;
	s->len = (uint32_t)len;
	s->iovcnt = iovcnt;
	/* Not memcpy(dst, NULL, 0): undefined, and UBSan stops there. */
	if (iovcnt)
		memcpy(s->iov, iov, (size_t)iovcnt * sizeof(*iov));
	s->incapsule = s->to_ctrl && len <= q->c->incapsule_max;

	pdo = nvp_tcp_build_capsule_hdr(&hdr, p, s->incapsule ? s->len : 0);
	memcpy(s->hdr, &hdr, sizeof(hdr));
	/* Built aligned, then copied: in @s->hdr the SQE sits at byte 8. */
	wire = *sqe;
	/* One SGL descriptor: the data in this capsule, or moved by the transport. */
	wire.flags = (uint8_t)((wire.flags & ~NVP_SQE_PSDT_MASK) | NVP_SQE_PSDT_SGL_MPTR);
	memset(&wire.dptr, 0, sizeof(wire.dptr));
	wire.dptr.sgl1.length = nvp_cpu_to_le32(s->len);
	wire.dptr.sgl1.type = s->len ? (s->incapsule ? NVP_SGL_TCP_INCAPSULE :
				       NVP_SGL_TCP_TRANSPORT) : 0;
	memcpy(s->hdr + sizeof(hdr), &wire, sizeof(wire));
	s->tx = TX_CAPSULE;
	s->hlen = NVP_TCP_CAPSULE_CMD_HLEN;
	if (p->hdgst) {
		nvp_tcp_put_digest(s->hdr + s->hlen, nvp_crc32c(s->hdr, s->hlen));
		s->hlen += NVP_TCP_DIGEST_LEN;
	}
	if (s->incapsule) {
		s->pad = pdo - s->hlen;
		s->data_len = s->len;
		if (p->ddgst)
			nvp_tcp_put_digest(s->ddgst, data_crc(s, 0, s->len));
		s->pdu_len = nvp_le32_to_cpu(hdr.plen);
	} else {
		s->pdu_len = s->hlen;
	}
	enqueue(q, s);
	return 0;
}

/* The iovecs of @s's current PDU from byte @skip on; -1 if they do not fit. */
static int pdu_iov(const struct nvp_tcp_queue *q, const struct nvp_tcp_slot *s, uint32_t skip,
		   struct iovec *out, int max)
{
	struct iovec parts[4 + NVP_TCP_MAX_SEGS];
	int n = 0, k = 0;

	parts[n++] = (struct iovec){ .iov_base = (void *)s->hdr, .iov_len = s->hlen };
	if (s->data_len) {
		int d;

		if (s->pad)
			parts[n++] = (struct iovec){ .iov_base = (void *)zeros, .iov_len = s->pad };
		d = data_iov(s, s->data_off, s->data_len, parts + n, NVP_TCP_MAX_SEGS);
		n += d;
		if (q->c->p.ddgst)
			parts[n++] = (struct iovec){ .iov_base = (void *)s->ddgst,
						     .iov_len = NVP_TCP_DIGEST_LEN };
	}
	for (int i = 0; i < n; i++) {
		if (skip >= parts[i].iov_len) {
			skip -= (uint32_t)parts[i].iov_len;
			continue;
		}
		if (k == max)
			return -1;
		out[k].iov_base = (uint8_t *)parts[i].iov_base + skip;
		out[k].iov_len = parts[i].iov_len - skip;
		skip = 0;
		k++;
	}
	return k;
}

/* @n more bytes of the head slot's PDUs went out: move on. */
static void sent_bytes(struct nvp_tcp_queue *q, size_t n)
{
	while (n && q->sendq_head != q->sendq_tail) {
		struct nvp_tcp_slot *s = &q->slots[q->sendq[q->sendq_head & q->cid_mask]];
		uint32_t left = s->pdu_len - s->sent;

		if (n < left) {
			s->sent += (uint32_t)n;
			return;
		}
		n -= left;
		q->sendq_head++;
		q->c->pdus_out++;
		if (s->tx == TX_H2C && s->data_off + s->data_len < s->r2t_end) {
			/*
			 * More of this R2T: its next H2CData goes to the back of
			 * the queue. Not to the front: the bytes still in @n
			 * belong to the PDUs that send() gathered after this one.
			 */
			s->data_off += s->data_len;
			prepare_h2c(q, s);
			enqueue(q, s);
			continue;
		}
		s->queued = false;
	}
}

int nvp_tcp_queue_send(struct nvp_tcp_queue *q)
{
	struct iovec iov[SEND_IOV_MAX];

	if (q->failed)
		return q->failed;
	while (q->sendq_head != q->sendq_tail) {
		struct msghdr msg = { .msg_iov = iov };
		int niov = 0, pdus = 0;
		ssize_t n;

		/* Gather whole PDUs (the head's from where it stopped). */
		for (uint32_t i = q->sendq_head; i != q->sendq_tail && pdus < SEND_BATCH; i++) {
			const struct nvp_tcp_slot *s = &q->slots[q->sendq[i & q->cid_mask]];
			int k = pdu_iov(q, s, i == q->sendq_head ? s->sent : 0, iov + niov,
					SEND_IOV_MAX - niov);

			if (k < 0)
				break;
			niov += k;
			pdus++;
		}
		msg.msg_iovlen = (size_t)niov;
		n = sendmsg(q->c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;	/* the socket is full: the rest goes next time */
			return fail(q, nvp_error(-ECONNRESET, "NVMe/TCP %s: send failed: %s; the "
						 "connection is lost", q->c->peer,
						 strerror(errno)));
		}
		q->sendmsgs++;
		sent_bytes(q, (size_t)n);
	}
	return 0;
}

/* ---- receiving ----------------------------------------------------------- */

/* Header bytes of a received PDU, its digest included. */
static inline uint32_t hdr_total(const struct nvp_tcp_pdu_layout *lay)
{
	return (uint32_t)lay->hlen + (lay->hdgst ? (uint32_t)NVP_TCP_DIGEST_LEN : 0u);
}

static void rx_reset(struct nvp_tcp_queue *q)
{
	q->rx.state = RX_HDR;
	q->rx.hdr_got = 0;
}

static struct nvp_tcp_slot *busy_slot(struct nvp_tcp_queue *q, uint16_t cid)
{
	struct nvp_tcp_slot *s = &q->slots[cid & q->cid_mask];

	return s->busy && s->cid == cid ? s : NULL;
}

static void complete(struct nvp_tcp_queue *q, struct nvp_tcp_slot *s, const struct nvp_cqe *cqe,
		     nvp_tcp_cqe_fn fn, void *ctx)
{
	s->busy = false;
	q->completions++;
	fn(ctx, cqe);
}

/* A whole header is in rx.hdr: act on it. Return 1 if a command completed. */
static int on_header(struct nvp_tcp_queue *q, nvp_tcp_cqe_fn fn, void *ctx)
{
	const struct nvp_tcp_pdu_layout *lay = &q->rx.lay;
	const struct nvp_tcp_data_hdr *d = (const void *)q->rx.hdr;
	uint32_t end = hdr_total(lay);
	struct nvp_tcp_slot *s;

	q->c->pdus_in++;
	if (lay->hdgst && !nvp_tcp_hdgst_ok(q->rx.hdr, lay->hlen))
		return fail(q, nvp_error(-EPROTO, "NVMe/TCP %s: header digest mismatch on a %s "
					 "PDU; the connection is corrupt", q->c->peer,
					 nvp_tcp_pdu_name(lay->type)));
	switch (lay->type) {
	case NVP_TCP_CAPSULE_RESP: {
		struct nvp_cqe cqe;

		memcpy(&cqe, q->rx.hdr + NVP_TCP_HDR_LEN, sizeof(cqe));
		s = busy_slot(q, nvp_le16_to_cpu(cqe.cid));
		if (!s || s->cqe_pending || (s->queued && s->tx == TX_CAPSULE))
			return fail(q, nvp_error(-EPROTO, "NVMe/TCP %s: a completion for command "
						 "%u, which is not outstanding%s", q->c->peer,
						 nvp_le16_to_cpu(cqe.cid),
						 s ? " (its capsule is not even sent)" : ""));
		rx_reset(q);
		if (s->queued) {
			/*
			 * The controller ended a write (with an error) while its
			 * data was going out: finish the PDU under way, which the
			 * stream's framing needs, send no more, and report the
			 * completion once the buffer is no longer being read.
			 */
			s->r2t_end = s->data_off + s->data_len;
			s->cqe = cqe;
			s->cqe_pending = true;
			q->cqes_pending++;
			return 0;
		}
		complete(q, s, &cqe, fn, ctx);
		return 1;
	}
	case NVP_TCP_R2T: {
		uint32_t off = nvp_le32_to_cpu(d->offset), len = nvp_le32_to_cpu(d->length);

		s = busy_slot(q, nvp_le16_to_cpu(d->cccid));
		if (!s || !s->to_ctrl || s->incapsule || s->queued || len == 0 || off > s->len ||
		    len > s->len - off)
			return fail(q, nvp_error(-EPROTO, "NVMe/TCP %s: R2T for command %u, bytes "
						 "%u+%u, which it cannot answer (%s)", q->c->peer,
						 nvp_le16_to_cpu(d->cccid), off, len,
						 !s ? "not outstanding" : !s->to_ctrl ? "not a write" :
						 s->incapsule ? "its data went in the capsule" :
						 s->queued ? "an R2T is already being answered" :
						 "outside its data"));
		s->ttag = nvp_le16_to_cpu(d->ttag);
		s->data_off = off;
		s->r2t_end = off + len;
		q->c->r2ts++;
		prepare_h2c(q, s);
		enqueue(q, s);
		rx_reset(q);
		return 0;
	}
	case NVP_TCP_C2H_DATA: {
		uint32_t off = nvp_le32_to_cpu(d->offset), len = nvp_le32_to_cpu(d->length);

		s = busy_slot(q, nvp_le16_to_cpu(d->cccid));
		if (!s || s->to_ctrl || s->queued || len != lay->data_len || off > s->len ||
		    len > s->len - off)
			return fail(q, nvp_error(-EPROTO, "NVMe/TCP %s: C2HData for command %u, "
						 "bytes %u+%u (the PDU holds %u), which it cannot "
						 "take (%s)", q->c->peer, nvp_le16_to_cpu(d->cccid),
						 off, len, lay->data_len,
						 !s ? "not outstanding" : s->to_ctrl ? "a write" :
						 "outside its buffer"));
		s->c2h_base = off;	/* where this PDU's data goes */
		q->rx.skip = lay->data_off - end;
		q->rx.data_got = 0;
		q->rx.crc = NVP_CRC32C_INIT;
		q->rx.ddgst_got = 0;
		q->rx.state = q->rx.skip ? RX_SKIP : RX_DATA;
		return 0;
	}
	default: /* C2HTermReq */
		q->rx.skip = lay->data_len;
		q->rx.state = RX_TERM;
		return 0;
	}
}

/* This PDU's data is all in: the digest, then SUCCESS. Return 1 if completed. */
static int data_done(struct nvp_tcp_queue *q, nvp_tcp_cqe_fn fn, void *ctx)
{
	const struct nvp_tcp_data_hdr *d = (const void *)q->rx.hdr;
	struct nvp_tcp_slot *s = busy_slot(q, nvp_le16_to_cpu(d->cccid));
	uint8_t want[NVP_TCP_DIGEST_LEN];

	if (q->rx.lay.ddgst) {
		nvp_tcp_put_digest(want, nvp_crc32c_final(q->rx.crc));
		if (memcmp(want, q->rx.ddgst, sizeof(want)))
			return fail(q, nvp_error(-EPROTO, "NVMe/TCP %s: data digest mismatch in "
						 "C2HData for command %u (%u bytes): the data is "
						 "corrupt", q->c->peer, s->cid, q->rx.lay.data_len));
	}
	rx_reset(q);
	if (d->hdr.flags & NVP_TCP_F_SUCCESS) {
		struct nvp_cqe cqe = { .cid = nvp_cpu_to_le16(s->cid) };

		complete(q, s, &cqe, fn, ctx);
		return 1;
	}
	return 0;
}

/* Put @n received bytes at @src into the current C2HData's place. */
static void place(struct nvp_tcp_queue *q, const uint8_t *src, uint32_t n)
{
	const struct nvp_tcp_data_hdr *d = (const void *)q->rx.hdr;
	struct nvp_tcp_slot *s = busy_slot(q, nvp_le16_to_cpu(d->cccid));
	struct iovec dst[NVP_TCP_MAX_SEGS];
	int k = data_iov(s, s->c2h_base + q->rx.data_got, n, dst, NVP_TCP_MAX_SEGS);

	for (int i = 0; i < k; i++) {
		memcpy(dst[i].iov_base, src, dst[i].iov_len);
		src += dst[i].iov_len;
	}
}

/* Read a large data remainder straight into the command's buffer. */
static ssize_t recv_direct(struct nvp_tcp_queue *q)
{
	const struct nvp_tcp_data_hdr *d = (const void *)q->rx.hdr;
	struct nvp_tcp_slot *s = busy_slot(q, nvp_le16_to_cpu(d->cccid));
	uint32_t left = q->rx.lay.data_len - q->rx.data_got;
	struct iovec dst[NVP_TCP_MAX_SEGS];
	struct msghdr msg = { .msg_iov = dst };
	int k = data_iov(s, s->c2h_base + q->rx.data_got, left, dst, NVP_TCP_MAX_SEGS);
	ssize_t n;

	msg.msg_iovlen = (size_t)k;
	n = recvmsg(q->c->fd, &msg, MSG_DONTWAIT);
	if (n > 0 && q->rx.lay.ddgst)
		for (int i = 0, left_n = (int)n; i < k && left_n > 0; i++) {
			size_t m = dst[i].iov_len < (size_t)left_n ? dst[i].iov_len : (size_t)left_n;

			q->rx.crc = nvp_crc32c_update(q->rx.crc, dst[i].iov_base, m);
			left_n -= (int)m;
		}
	return n;
}

/* Completions that waited for their data to finish going out (rare). */
static int deliver_pending(struct nvp_tcp_queue *q, nvp_tcp_cqe_fn fn, void *ctx)
{
	int done = 0;

	for (uint32_t i = 0; i <= q->cid_mask && q->cqes_pending; i++) {
		struct nvp_tcp_slot *s = &q->slots[i];

		if (s->cqe_pending && !s->queued) {
			s->cqe_pending = false;
			q->cqes_pending--;
			complete(q, s, &s->cqe, fn, ctx);
			done++;
		}
	}
	return done;
}

int nvp_tcp_queue_recv(struct nvp_tcp_queue *q, nvp_tcp_cqe_fn fn, void *ctx, uint32_t max)
{
	int done = 0, rc;

	if (q->failed)
		return q->failed;
	if (__builtin_expect(q->cqes_pending != 0, 0))
		done = deliver_pending(q, fn, ctx);
	for (;;) {
		uint32_t avail = q->staged - q->consumed;
		const uint8_t *in = q->staging + q->consumed;
		uint32_t take;

		if (max && (uint32_t)done >= max)
			return done;
		if (!avail) {
			ssize_t n;

			q->staged = q->consumed = 0;
			if (q->rx.state == RX_DATA &&
			    q->rx.lay.data_len - q->rx.data_got >= DIRECT_MIN) {
				n = recv_direct(q);
				if (n > 0) {
					q->rx.data_got += (uint32_t)n;
					q->c2h_direct += (uint64_t)n;
					if (q->rx.data_got == q->rx.lay.data_len)
						q->rx.state = q->rx.lay.ddgst ? RX_DDGST : RX_DATA;
					if (q->rx.data_got == q->rx.lay.data_len && !q->rx.lay.ddgst) {
						rc = data_done(q, fn, ctx);
						if (rc < 0)
							return rc;
						done += rc;
					}
					continue;
				}
			} else {
				n = recv(q->c->fd, q->staging, STAGING_SIZE, MSG_DONTWAIT);
				if (n > 0) {
					q->staged = (uint32_t)n;
					continue;
				}
			}
			if (n == 0)
				return fail(q, nvp_error(-ECONNRESET, "NVMe/TCP %s: the target closed "
							 "the connection", q->c->peer));
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return done;
			return fail(q, nvp_error(-ECONNRESET, "NVMe/TCP %s: receive failed: %s",
						 q->c->peer, strerror(errno)));
		}

		switch (q->rx.state) {
		case RX_HDR: {
			uint32_t need = q->rx.hdr_got < NVP_TCP_HDR_LEN ? NVP_TCP_HDR_LEN :
					hdr_total(&q->rx.lay);

			take = need - q->rx.hdr_got < avail ? need - q->rx.hdr_got : avail;
			memcpy(q->rx.hdr + q->rx.hdr_got, in, take);
			q->consumed += take;
			q->rx.hdr_got += take;
			if (q->rx.hdr_got < need)
				break;
			if (need == NVP_TCP_HDR_LEN) {
				rc = nvp_tcp_pdu_check((const struct nvp_tcp_hdr *)q->rx.hdr, &q->c->p,
						       &q->rx.lay);
				if (rc)
					return fail(q, rc);
				if (hdr_total(&q->rx.lay) > NVP_TCP_HDR_LEN)
					break;	/* the rest of the header next */
			}
			rc = on_header(q, fn, ctx);
			if (rc < 0)
				return rc;
			done += rc;
			break;
		}
		case RX_SKIP:
		case RX_TERM:
			take = q->rx.skip < avail ? q->rx.skip : avail;
			q->consumed += take;
			q->rx.skip -= take;
			if (q->rx.skip)
				break;
			if (q->rx.state == RX_TERM)
				return fail(q, nvp_error(-EPROTO, "NVMe/TCP %s: the target ended the "
							 "connection with a C2HTermReq (fatal error "
							 "status 0x%x)", q->c->peer,
							 nvp_le16_to_cpu(((const struct nvp_tcp_term_hdr *)
									  q->rx.hdr)->fes)));
			q->rx.state = RX_DATA;
			break;
		case RX_DATA: {
			uint32_t left = q->rx.lay.data_len - q->rx.data_got;

			take = left < avail ? left : avail;
			place(q, in, take);
			if (q->rx.lay.ddgst)
				q->rx.crc = nvp_crc32c_update(q->rx.crc, in, take);
			q->consumed += take;
			q->rx.data_got += take;
			q->c2h_copied += take;
			if (q->rx.data_got < q->rx.lay.data_len)
				break;
			if (q->rx.lay.ddgst) {
				q->rx.state = RX_DDGST;
				break;
			}
			rc = data_done(q, fn, ctx);
			if (rc < 0)
				return rc;
			done += rc;
			break;
		}
		default: /* RX_DDGST */
			take = NVP_TCP_DIGEST_LEN - q->rx.ddgst_got < avail ?
			       NVP_TCP_DIGEST_LEN - q->rx.ddgst_got : avail;
			memcpy(q->rx.ddgst + q->rx.ddgst_got, in, take);
			q->consumed += take;
			q->rx.ddgst_got += take;
			if (q->rx.ddgst_got < NVP_TCP_DIGEST_LEN)
				break;
			rc = data_done(q, fn, ctx);
			if (rc < 0)
				return rc;
			done += rc;
			break;
		}
	}
}
