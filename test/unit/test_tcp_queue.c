/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the polled NVMe/TCP queue (lib/tcp/queue.c) against a
 * small target in a thread, over a socketpair. The target answers writes
 * with in-capsule data or with R2Ts for odd-sized pieces, and reads with
 * C2HData in odd-sized PDUs, sometimes ending with SUCCESS instead of a
 * CapsuleResp; it keeps the data, so everything written is read back and
 * compared. Run with and without digests, with and without in-capsule
 * data, with many commands in flight and scattered buffers. Then hostile
 * targets: the queue must fail cleanly, never write outside a buffer.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcp/queue.h"
#include "util/crc32c.h"

#include "tcp_wire.h"

#define STORE_SIZE (1u << 20)
#define DEPTH 32

struct target {
	struct tcp_wire w;	/* first: the socket, digests, what the host did wrong */
	uint32_t r2t_chunk;	/* bytes asked per R2T */
	uint32_t c2h_chunk;	/* bytes per C2HData */
	uint8_t store[STORE_SIZE];
	uint32_t commands;
};

static void t_resp(struct target *t, uint16_t cid, uint16_t status)
{
	uint8_t pdu[24] __attribute__((aligned(8))) = { NVP_TCP_CAPSULE_RESP };
	struct nvp_cqe cqe = { .cid = nvp_cpu_to_le16(cid), .status = nvp_cpu_to_le16(status) };

	memcpy(pdu + 8, &cqe, sizeof(cqe));
	tw_send(&t->w, pdu, 24, NULL, 0);
}

/*
 * Capsules that arrived while the target waited for a write's H2CData (the
 * host keeps sending commands meanwhile, as it may): kept for later.
 */
#define STASH 64
static struct {
	uint8_t hdr[80] __attribute__((aligned(8)));
	uint8_t *data;
	uint32_t dlen;
} stash[STASH];
static unsigned int stash_head, stash_tail;

static uint32_t next_capsule(struct target *t, uint8_t *hdr, uint8_t *data, uint32_t cap)
{
	if (stash_head != stash_tail) {
		unsigned int i = stash_head++ % STASH;
		uint32_t n = stash[i].dlen;

		memcpy(hdr, stash[i].hdr, sizeof(stash[i].hdr));
		memcpy(data, stash[i].data, n);
		free(stash[i].data);
		return n;
	}
	return tw_recv(&t->w, hdr, data, cap);
}

/* The next H2CData; capsules that come first go to the stash. */
static uint32_t next_h2c(struct target *t, uint8_t *hdr, uint8_t *data, uint32_t cap)
{
	for (;;) {
		uint32_t n = tw_recv(&t->w, hdr, data, cap);
		unsigned int i;

		if (hdr[0] != NVP_TCP_CAPSULE_CMD)
			return n;
		if (stash_tail - stash_head == STASH) {
			t->w.error = -9;
			pthread_exit(NULL);
		}
		i = stash_tail++ % STASH;
		memcpy(stash[i].hdr, hdr, sizeof(stash[i].hdr));
		stash[i].data = malloc(n ? n : 1);
		memcpy(stash[i].data, data, n);
		stash[i].dlen = n;
	}
}

static void *target_main(void *arg)
{
	struct target *t = arg;
	static uint8_t data[STORE_SIZE];
	uint8_t hdr[80] __attribute__((aligned(8)));

	stash_head = stash_tail = 0;
	for (;;) {
		struct nvp_sqe sqe;
		uint32_t dlen = next_capsule(t, hdr, data, sizeof(data)), len, off;
		uint16_t cid;

		if (hdr[0] != NVP_TCP_CAPSULE_CMD) {
			t->w.error = -5;
			return NULL;
		}
		memcpy(&sqe, hdr + 8, sizeof(sqe));
		cid = nvp_le16_to_cpu(sqe.cid);
		len = nvp_le32_to_cpu(sqe.dptr.sgl1.length);
		off = nvp_le32_to_cpu(sqe.cdw10) * 512u;
		t->commands++;
		if (off > STORE_SIZE || len > STORE_SIZE - off) {
			t_resp(t, cid, 0x80 << 1);	/* LBA out of range */
			continue;
		}
		if (sqe.opc == 0x01) {			/* write */
			if (sqe.dptr.sgl1.type == NVP_SGL_TCP_INCAPSULE) {
				if (dlen != len)
					t->w.error = -6;
				memcpy(t->store + off, data, len);
			} else {
				for (uint32_t done = 0; done < len;) {
					uint32_t n = len - done < t->r2t_chunk ? len - done : t->r2t_chunk;
					struct nvp_tcp_data_hdr r = { .hdr = { .type = NVP_TCP_R2T } };

					r.cccid = nvp_cpu_to_le16(cid);
					r.ttag = nvp_cpu_to_le16((uint16_t)(done + 1));
					r.offset = nvp_cpu_to_le32(done);
					r.length = nvp_cpu_to_le32(n);
					tw_send(&t->w, &r, 24, NULL, 0);
					for (uint32_t got = 0; got < n;) {
						struct nvp_tcp_data_hdr *d = (void *)hdr;
						uint32_t m = next_h2c(t, hdr, data, sizeof(data));

						if (d->hdr.type != NVP_TCP_H2C_DATA ||
						    nvp_le32_to_cpu(d->offset) != done + got ||
						    nvp_le16_to_cpu(d->ttag) != done + 1 || m == 0 ||
						    got + m > n) {
							t->w.error = -7;
							return NULL;
						}
						memcpy(t->store + off + done + got, data, m);
						got += m;
						if (got == n && !(d->hdr.flags & NVP_TCP_F_LAST_PDU))
							t->w.error = -8;
					}
					done += n;
				}
			}
			t_resp(t, cid, 0);
		} else if (sqe.opc == 0x02) {		/* read */
			bool success = t->commands % 2;

			for (uint32_t done = 0; done < len;) {
				uint32_t n = len - done < t->c2h_chunk ? len - done : t->c2h_chunk;
				struct nvp_tcp_data_hdr d = { .hdr = { .type = NVP_TCP_C2H_DATA } };

				d.cccid = nvp_cpu_to_le16(cid);
				d.offset = nvp_cpu_to_le32(done);
				d.length = nvp_cpu_to_le32(n);
				if (done + n == len)
					d.hdr.flags = NVP_TCP_F_LAST_PDU | (success ? NVP_TCP_F_SUCCESS : 0);
				tw_send(&t->w, &d, 24, t->store + off + done, n);
				done += n;
			}
			if (!success || !len)
				t_resp(t, cid, 0);
		} else {
			t_resp(t, cid, 0x01 << 1);	/* invalid opcode */
		}
	}
}

/* ---- the host side ------------------------------------------------------- */

struct host {
	struct nvp_tcp_conn c;
	struct nvp_tcp_queue q;
	uint32_t done[65536 / 32];	/* completions per CID, bitmap of "seen" */
	int completions;
	int errors;
};

static void on_cqe(void *ctx, const struct nvp_cqe *cqe)
{
	struct host *h = ctx;
	uint16_t cid = nvp_le16_to_cpu(cqe->cid);

	if (h->done[cid / 32] & (1u << (cid % 32)))
		fail_msg("CID %u completed twice", cid);
	h->done[cid / 32] |= 1u << (cid % 32);
	h->completions++;
	if (nvp_le16_to_cpu(cqe->status) >> 1)
		h->errors++;
}

static void drive(struct host *h, const struct target *t, int want)
{
	for (int spins = 0; h->completions < want; spins++) {
		if (t->w.error)
			fail_msg("the test target found the host's PDUs wrong (error %d), after "
				 "%d of %d completions", t->w.error, h->completions, want);
		struct pollfd pfd = { .fd = h->c.fd, .events = POLLIN };

		assert_int_equal(nvp_tcp_queue_send(&h->q), 0);
		assert_true(nvp_tcp_queue_recv(&h->q, on_cqe, h, 0) >= 0);
		/* What the receive queued (H2CData for R2Ts) goes out before waiting. */
		assert_int_equal(nvp_tcp_queue_send(&h->q), 0);
		if (h->completions < want)
			poll(&pfd, 1, 10);
		if (spins > 3000)
			fail_msg("no progress: %d of %d completions", h->completions, want);
	}
}

struct variant {
	bool hdgst, ddgst;
	uint32_t incapsule, maxh2c, r2t_chunk, c2h_chunk;
};

static void run_variant(const struct variant *v)
{
	static struct target t;
	static struct host h;
	static uint8_t wbuf[DEPTH][65536], rbuf[DEPTH][65536 + 64];
	pthread_t th;
	int sv[2];
	uint16_t cid = 0;
	uint64_t seed = 0x1234567;

	memset(&t, 0, sizeof(t));
	memset(&h, 0, sizeof(h));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t.w.fd = sv[1];
	t.w.p = (struct nvp_tcp_conn_params){ .hdgst = v->hdgst, .ddgst = v->ddgst };
	t.r2t_chunk = v->r2t_chunk;
	t.c2h_chunk = v->c2h_chunk;
	h.c.fd = sv[0];
	strcpy(h.c.peer, "test target");
	h.c.p = (struct nvp_tcp_conn_params){ .hdgst = v->hdgst, .ddgst = v->ddgst,
					      .maxh2cdata = v->maxh2c, .max_data = 1u << 20 };
	h.c.incapsule_max = v->incapsule;
	assert_int_equal(nvp_tcp_queue_init(&h.q, &h.c, DEPTH), 0);
	assert_int_equal(pthread_create(&th, NULL, target_main, &t), 0);

	/* Rounds of DEPTH writes in flight, then DEPTH reads of the same. */
	for (int round = 0; round < 6; round++) {
		uint32_t len[DEPTH], lba[DEPTH];

		for (int i = 0; i < DEPTH; i++) {
			struct nvp_sqe sqe = { .opc = 0x01 };
			struct iovec iov[4];
			int n = 1 + i % 4;
			uint32_t at = 0;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			len[i] = 512u * (1 + (uint32_t)(seed >> 33) % 64);
			lba[i] = (uint32_t)i * 64;	/* 32 KiB apart: the largest command */
			for (uint32_t b = 0; b < len[i]; b++)
				wbuf[i][b] = (uint8_t)(b * 7 + i + round * 31 + (b >> 9));
			/* Scattered: n pieces of uneven length. */
			for (int k = 0; k < n; k++) {
				uint32_t piece = k == n - 1 ? len[i] - at : len[i] / (uint32_t)(n + k);

				iov[k] = (struct iovec){ .iov_base = wbuf[i] + at, .iov_len = piece };
				at += piece;
			}
			sqe.cid = nvp_cpu_to_le16((uint16_t)(cid++ & (DEPTH - 1)) |
						  (uint16_t)(round << 8));
			sqe.cdw10 = nvp_cpu_to_le32(lba[i]);
			assert_int_equal(nvp_tcp_queue_post(&h.q, &sqe, iov, n, true), 0);
		}
		drive(&h, &t, (round * 2 + 1) * DEPTH);
		for (int i = 0; i < DEPTH; i++) {
			struct nvp_sqe sqe = { .opc = 0x02 };
			struct iovec iov[2] = {
				{ .iov_base = rbuf[i], .iov_len = len[i] / 3 },
				{ .iov_base = rbuf[i] + len[i] / 3, .iov_len = len[i] - len[i] / 3 },
			};

			memset(rbuf[i], 0xcd, sizeof(rbuf[i]));
			sqe.cid = nvp_cpu_to_le16((uint16_t)(cid++ & (DEPTH - 1)) |
						  (uint16_t)(round << 8 | 0x80));
			sqe.cdw10 = nvp_cpu_to_le32(lba[i]);
			assert_int_equal(nvp_tcp_queue_post(&h.q, &sqe, iov, 2, false), 0);
		}
		drive(&h, &t, (round * 2 + 2) * DEPTH);
		for (int i = 0; i < DEPTH; i++) {
			if (memcmp(rbuf[i], wbuf[i], len[i])) {
				uint32_t b = 0;

				while (rbuf[i][b] == wbuf[i][b])
					b++;
				fail_msg("round %d command %d: of %u bytes read back, byte %u is "
					 "0x%02x, written 0x%02x (store 0x%02x)", round, i, len[i], b,
					 rbuf[i][b], wbuf[i][b], t.store[lba[i] * 512 + b]);
			}
			for (size_t b = len[i]; b < sizeof(rbuf[i]); b++)
				if (rbuf[i][b] != 0xcd)
					fail_msg("round %d command %d: byte %zu past the buffer written",
						 round, i, b);
		}
	}
	assert_int_equal(h.errors, 0);
	assert_int_equal(t.w.error, 0);
	assert_int_equal(nvp_tcp_queue_outstanding(&h.q), 0);
	if (v->incapsule == 0)
		assert_true(h.c.r2ts > 0);
	print_message("  digests %d/%d in-capsule %u maxh2c %u: %llu sendmsg, %llu PDUs out, "
		      "%llu in, %llu R2Ts, C2H bytes %llu direct / %llu staged\n", v->hdgst,
		      v->ddgst, v->incapsule, v->maxh2c, (unsigned long long)h.q.sendmsgs,
		      (unsigned long long)h.c.pdus_out, (unsigned long long)h.c.pdus_in,
		      (unsigned long long)h.c.r2ts, (unsigned long long)h.q.c2h_direct,
		      (unsigned long long)h.q.c2h_copied);
	close(sv[0]);
	pthread_join(th, NULL);
	close(sv[1]);
	nvp_tcp_queue_fini(&h.q);
}

static void test_queue_data(void **state)
{
	static const struct variant rows[] = {
		{ false, false, 0, 65536, 65536, 65536 },
		{ false, false, 8192, 4096, 3000, 1500 },
		{ true, true, 0, 4096, 5000, 7000 },
		{ true, false, 16384, 65536, 512, 100000 },
		{ false, true, 0, 8192, 65536, 4096 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_variant(&rows[i]);
}

/* ---- hostile targets ------------------------------------------------------ */

/* Post one read of 4096 bytes, feed @bytes as the target's answer, expect @rc. */
static void hostile(const char *name, const uint8_t *bytes, size_t len, int rc)
{
	static uint8_t buf[4096 + 128];
	struct host h;
	struct nvp_sqe sqe = { .opc = 0x02, .cid = nvp_cpu_to_le16(5) };
	struct iovec iov = { .iov_base = buf + 64, .iov_len = 4096 };
	int sv[2], got = 0;

	memset(&h, 0, sizeof(h));
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h.c.fd = sv[0];
	strcpy(h.c.peer, name);
	h.c.p = (struct nvp_tcp_conn_params){ .maxh2cdata = 4096, .max_data = 1u << 20 };
	assert_int_equal(nvp_tcp_queue_init(&h.q, &h.c, 8), 0);
	assert_int_equal(nvp_tcp_queue_post(&h.q, &sqe, &iov, 1, false), 0);
	assert_int_equal(nvp_tcp_queue_send(&h.q), 0);
	assert_int_equal(write(sv[1], bytes, len), (ssize_t)len);
	close(sv[1]);
	for (int i = 0; i < 100 && got >= 0; i++)
		got = nvp_tcp_queue_recv(&h.q, on_cqe, &h, 0);
	if (got != rc)
		fail_msg("%s: recv returned %d, expected %d", name, got, rc);
	for (size_t b = 0; b < sizeof(buf); b++)
		if ((b < 64 || b >= 64 + 4096) && buf[b] != 0xee)
			fail_msg("%s: byte %zu outside the buffer was written", name, b);
	/* Failed for good: every later call says so. */
	assert_int_equal(nvp_tcp_queue_recv(&h.q, on_cqe, &h, 0), rc);
	assert_int_equal(nvp_tcp_queue_post(&h.q, &sqe, &iov, 1, false), rc);
	close(sv[0]);
	nvp_tcp_queue_fini(&h.q);
}

static void test_queue_hostile(void **state)
{
	uint8_t b[256] __attribute__((aligned(8)));
	struct nvp_tcp_data_hdr d = { .hdr = { .type = NVP_TCP_C2H_DATA, .hlen = 24, .pdo = 24 } };

	(void)state;
	/* Data past the end of the read's buffer. */
	d.cccid = nvp_cpu_to_le16(5);
	d.offset = nvp_cpu_to_le32(4000);
	d.length = nvp_cpu_to_le32(200);
	d.hdr.plen = nvp_cpu_to_le32(24 + 200);
	memcpy(b, &d, 24);
	memset(b + 24, 0x11, 200);
	hostile("C2HData past the buffer", b, 224, -EPROTO);
	/* Data for a command that is not outstanding. */
	d.cccid = nvp_cpu_to_le16(6);
	d.offset = 0;
	memcpy(b, &d, 24);
	hostile("C2HData for another CID", b, 224, -EPROTO);
	/* A length field that disagrees with the PDU. */
	d.cccid = nvp_cpu_to_le16(5);
	d.length = nvp_cpu_to_le32(100);
	memcpy(b, &d, 24);
	hostile("C2HData DATAL != PDU data", b, 224, -EPROTO);
	/* An R2T for a read (every field through the byte-order helpers, so
	 * the byte-swapped build sees the same PDU). */
	{
		struct nvp_tcp_data_hdr r = { .hdr = { .type = NVP_TCP_R2T, .hlen = 24 } };
		struct nvp_tcp_term_hdr t = { .hdr = { .type = NVP_TCP_C2H_TERM, .hlen = 24,
						       .pdo = 24 } };

		r.hdr.plen = nvp_cpu_to_le32(24);
		r.cccid = nvp_cpu_to_le16(5);
		r.ttag = nvp_cpu_to_le16(1);
		r.length = nvp_cpu_to_le32(4096);
		memcpy(b, &r, 24);
		hostile("R2T for a read", b, 24, -EPROTO);
		/* A header cut short (its length is right), then the connection closes. */
		hostile("truncated header", b, 10, -ECONNRESET);
		/* Terminate, with 16 bytes of the offending PDU. */
		t.hdr.plen = nvp_cpu_to_le32(40);
		t.fes = nvp_cpu_to_le16(NVP_TCP_FES_INVALID_HDR_FIELD);
		memset(b, 0, 40);
		memcpy(b, &t, 24);
		hostile("C2HTermReq", b, 40, -EPROTO);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_data),
		cmocka_unit_test(test_queue_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
