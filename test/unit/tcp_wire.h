/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/tcp_wire.h - the target side of an NVMe/TCP byte stream, for
 * unit tests whose fake target runs in a thread on one end of a socket:
 * whole reads and writes (the thread ends when the host closes), one PDU
 * out with the digests the connection negotiated, one host PDU in with its
 * digests checked. Shared by test_tcp_queue.c and test_tcp_discovery.c.
 */
#ifndef NVP_TEST_UNIT_TCP_WIRE_H
#define NVP_TEST_UNIT_TCP_WIRE_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll/spec_fabrics.h>

#include "tcp/pdu.h"
#include "util/crc32c.h"

/* What the host did wrong, in struct tcp_wire.error (0: nothing). */
enum {
	TW_EOF = -1,		/* the host closed the connection */
	TW_BAD_HDGST = -2,
	TW_TOO_LONG = -3,	/* more data than the caller has room for */
	TW_BAD_DDGST = -4,
	TW_BAD_HLEN = -5,
};

/**
 * struct tcp_wire - one end of the connection.
 * @fd: the target's socket. @p: digests in use (set by the test).
 * @error: the first TW_* seen.
 */
struct tcp_wire {
	int fd;
	struct nvp_tcp_conn_params p;
	int error;
};

static inline void tw_fail(struct tcp_wire *w, int err, int fatal)
{
	if (!w->error)
		w->error = err;
	if (fatal)
		pthread_exit(NULL);
}

static inline void tw_read(struct tcp_wire *w, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(w->fd, p, len);

		if (n <= 0)
			tw_fail(w, TW_EOF, 1);
		p += n;
		len -= (size_t)n;
	}
}

static inline void tw_write(struct tcp_wire *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n <= 0)
			pthread_exit(NULL);
		p += n;
		len -= (size_t)n;
	}
}

/* Send one PDU: header (+ digest), data (+ digest). */
static inline void tw_send(struct tcp_wire *w, void *hdr, uint32_t hlen, const void *data,
			   uint32_t len)
{
	struct nvp_tcp_hdr *h = hdr;
	uint8_t dg[4];
	uint32_t plen = hlen + (w->p.hdgst ? 4 : 0);

	if (w->p.hdgst)
		h->flags |= NVP_TCP_F_HDGST;
	if (len) {
		h->pdo = (uint8_t)plen;
		plen += len + (w->p.ddgst ? 4 : 0);
		if (w->p.ddgst)
			h->flags |= NVP_TCP_F_DDGST;
	}
	h->hlen = (uint8_t)hlen;
	h->plen = nvp_cpu_to_le32(plen);
	tw_write(w, hdr, hlen);
	if (w->p.hdgst) {
		nvp_tcp_put_digest(dg, nvp_crc32c(hdr, hlen));
		tw_write(w, dg, 4);
	}
	if (len) {
		tw_write(w, data, len);
		if (w->p.ddgst) {
			nvp_tcp_put_digest(dg, nvp_crc32c(data, len));
			tw_write(w, dg, 4);
		}
	}
}

/* Receive one host PDU: header into @hdr (80 bytes room), data into @data. */
static inline uint32_t tw_recv(struct tcp_wire *w, uint8_t *hdr, uint8_t *data, uint32_t cap)
{
	struct nvp_tcp_hdr *h = (void *)hdr;
	uint32_t plen, end, dlen = 0;
	uint8_t pad[256];

	tw_read(w, hdr, 8);
	plen = nvp_le32_to_cpu(h->plen);
	if (h->hlen < 8 || h->hlen > 72)
		tw_fail(w, TW_BAD_HLEN, 1);
	tw_read(w, hdr + 8, h->hlen - 8u);
	end = h->hlen;
	if (h->flags & NVP_TCP_F_HDGST) {
		tw_read(w, hdr + h->hlen, 4);
		if (!nvp_tcp_hdgst_ok(hdr, h->hlen))
			tw_fail(w, TW_BAD_HDGST, 0);
		end += 4;
	}
	if (h->pdo) {
		tw_read(w, pad, h->pdo - end);
		dlen = plen - h->pdo - ((h->flags & NVP_TCP_F_DDGST) ? 4 : 0);
		if (dlen > cap)
			tw_fail(w, TW_TOO_LONG, 1);
		tw_read(w, data, dlen);
		if (h->flags & NVP_TCP_F_DDGST) {
			uint8_t want[4], dg[4];

			tw_read(w, dg, 4);
			nvp_tcp_put_digest(want, nvp_crc32c(data, dlen));
			if (memcmp(dg, want, 4))
				tw_fail(w, TW_BAD_DDGST, 0);
		}
	}
	return dlen;
}

#endif /* NVP_TEST_UNIT_TCP_WIRE_H */
