/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for discovery over NVMe/TCP (lib/tcp/discovery.c and
 * nvp_discover()) against a fake discovery controller in a thread: over a
 * socketpair, and once over a real TCP socket on 127.0.0.1 through the
 * public nvp_discover(). The target answers Connect (checking the NQNs),
 * Property Get/Set (CSTS.RDY only after CC.EN) and Get Log Page 70h at
 * any offset from a log it builds, with 0, 1 and 3 entries; the log may
 * change between reads (GENCTR moves) or answer Discovery Restart. Then
 * hostile targets: NUMREC absurd, short data, a log that never settles,
 * errors. Every field returned is checked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

#include <nvpoll/fabrics.h>

#include "tcp/discovery.h"
#include "util/crc32c.h"

#include "tcp_wire.h"

struct target {
	struct tcp_wire w;	/* first: the socket, digests, PDU errors */
	bool ic;		/* accept on @listen_fd and answer ICReq first (real TCP) */
	int listen_fd;
	/* The log. */
	uint32_t numrec;
	uint64_t genctr;
	uint64_t numrec_claim;	/* != 0: NUMREC in the header says this */
	int changes;		/* times the log changes (a record added) after an entries read */
	int restarts;		/* Get Log Page of entries answers Discovery Restart this often */
	uint32_t short_by;	/* entries reads send this many bytes fewer */
	uint16_t log_status;	/* != 0: every Get Log Page fails with it */
	uint16_t connect_status;
	bool never_ready;	/* CSTS.RDY stays 0 */
	/* What the host did. */
	uint32_t cc;
	int connects;
	int log_reads;
	int hdr_reads;
	int errors;		/* host broke the protocol */
	char hostnqn[257];
};

static void t_resp(struct target *t, uint16_t cid, uint16_t sf, uint32_t dw0, uint32_t dw1)
{
	uint8_t pdu[24] __attribute__((aligned(8))) = { NVP_TCP_CAPSULE_RESP };
	struct nvp_cqe cqe = { .dw0 = nvp_cpu_to_le32(dw0), .dw1 = nvp_cpu_to_le32(dw1),
			       .cid = nvp_cpu_to_le16(cid),
			       .status = nvp_cpu_to_le16((uint16_t)(sf << 1)) };

	memcpy(pdu + 8, &cqe, sizeof(cqe));
	tw_send(&t->w, pdu, 24, NULL, 0);
}

/* What entry @i of a log with @numrec entries holds (also the test's expectation). */
static void expect_entry(uint32_t i, uint64_t genctr, struct nvp_discovery_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->trtype = NVP_TRTYPE_TCP;
	e->adrfam = i == 2 ? NVP_ADRFAM_IPV6 : NVP_ADRFAM_IPV4;
	e->subtype = i == 0 ? NVP_SUBTYPE_DISCOVERY_CURRENT : NVP_SUBTYPE_NVM;
	e->treq = (uint8_t)(i == 1 ? NVP_TREQ_SECURE_NOT_REQUIRED | NVP_TREQ_SQFLOW_DISABLE : 0);
	e->portid = (uint16_t)(0x100 + i);
	e->cntlid = i == 1 ? 0xfffe : 0xffff;
	e->asqsz = (uint16_t)(32 + i);
	e->eflags = (uint16_t)(0x8000 | i);
	snprintf(e->trsvcid, sizeof(e->trsvcid), "%u", 4420 + i);
	if (i == 2)
		snprintf(e->traddr, sizeof(e->traddr), "fe80::%u", i);
	else
		snprintf(e->traddr, sizeof(e->traddr), "10.0.%u.%u", (unsigned int)genctr, i);
	snprintf(e->subnqn, sizeof(e->subnqn), i == 0 ? NVP_DISCOVERY_NQN :
		 "nqn.2026-12.io.nvpoll:gen%llu-sub%u", (unsigned long long)genctr, i);
}

/* The wire log: header and @numrec entries, strings padded as targets do. */
static uint8_t *build_log(const struct target *t, size_t *size)
{
	size_t total = NVP_DISC_HDR_SIZE + (size_t)t->numrec * NVP_DISC_ENTRY_SIZE;
	uint8_t *log = calloc(1, total);
	struct nvp_disc_log_hdr *h = (void *)log;

	h->genctr = nvp_cpu_to_le64(t->genctr);
	h->numrec = nvp_cpu_to_le64(t->numrec_claim ? t->numrec_claim : t->numrec);
	for (uint32_t i = 0; i < t->numrec; i++) {
		struct nvp_disc_log_entry *w = (void *)(log + NVP_DISC_HDR_SIZE +
							(size_t)i * NVP_DISC_ENTRY_SIZE);
		struct nvp_discovery_entry e;

		expect_entry(i, t->genctr, &e);
		w->trtype = e.trtype;
		w->adrfam = e.adrfam;
		w->subtype = e.subtype;
		w->treq = e.treq;
		w->portid = nvp_cpu_to_le16(e.portid);
		w->cntlid = nvp_cpu_to_le16(e.cntlid);
		w->asqsz = nvp_cpu_to_le16(e.asqsz);
		w->eflags = nvp_cpu_to_le16(e.eflags);
		/* Entry 1: space padded (as the spec's ASCII fields may be). */
		memset(w->trsvcid, i == 1 ? ' ' : 0, sizeof(w->trsvcid));
		memset(w->traddr, i == 1 ? ' ' : 0, sizeof(w->traddr));
		memcpy(w->trsvcid, e.trsvcid, strlen(e.trsvcid));
		memcpy(w->traddr, e.traddr, strlen(e.traddr));
		strcpy(w->subnqn, e.subnqn);
		w->tsas[0] = 0x5a;	/* must not leak anywhere */
	}
	*size = total;
	return log;
}

static void get_log_page(struct target *t, const struct nvp_sqe *sqe)
{
	uint32_t cdw10 = nvp_le32_to_cpu(sqe->cdw10), cdw11 = nvp_le32_to_cpu(sqe->cdw11);
	uint64_t off = nvp_le32_to_cpu(sqe->cdw12) | (uint64_t)nvp_le32_to_cpu(sqe->cdw13) << 32;
	uint32_t len = (((cdw10 >> 16) | (cdw11 & 0xffff) << 16) + 1) * 4;
	uint16_t cid = nvp_le16_to_cpu(sqe->cid);
	size_t size;
	uint8_t *log, *data;
	uint32_t send;

	if ((cdw10 & 0xff) != NVP_LOG_DISCOVERY || nvp_le32_to_cpu(sqe->dptr.sgl1.length) != len ||
	    !(t->cc & NVP_CC_EN) || (off & 3)) {
		t->errors++;
		t_resp(t, cid, 0x2, 0, 0);	/* Invalid Field */
		return;
	}
	if (t->log_status) {
		t_resp(t, cid, t->log_status, 0, 0);
		return;
	}
	if (off == 0) {
		t->hdr_reads++;
	} else {
		t->log_reads++;
		if (t->restarts > 0) {
			t->restarts--;
			t_resp(t, cid, NVP_SC_DISCOVERY_RESTART, 0, 0);
			return;
		}
	}
	log = build_log(t, &size);
	/* Past the log's end reads as zeroes. */
	data = calloc(1, len);
	if (off < size)
		memcpy(data, log + off, size - off < len ? size - off : len);
	send = off && t->short_by < len ? len - t->short_by : len;
	{
		struct nvp_tcp_data_hdr d __attribute__((aligned(8))) = {
			.hdr = { .type = NVP_TCP_C2H_DATA, .flags = NVP_TCP_F_LAST_PDU },
			.cccid = nvp_cpu_to_le16(cid),
			.length = nvp_cpu_to_le32(send),
		};

		tw_send(&t->w, &d, sizeof(d), data, send);
	}
	t_resp(t, cid, 0, 0, 0);
	free(data);
	free(log);
	/* The log changes after the entries were read: the header read next differs. */
	if (off && t->changes > 0) {
		t->changes--;
		t->genctr++;
		t->numrec++;
	}
}

static void *target_main(void *arg)
{
	struct target *t = arg;
	static uint8_t data[8192];
	uint8_t hdr[80] __attribute__((aligned(8)));

	if (t->ic) {
		struct nvp_tcp_icresp r;
		struct nvp_tcp_icreq q;

		t->w.fd = accept(t->listen_fd, NULL, NULL);
		if (t->w.fd < 0)
			return NULL;
		tw_read(&t->w, &q, sizeof(q));
		if (q.hdr.type != NVP_TCP_ICREQ)
			t->errors++;
		memset(&r, 0, sizeof(r));
		r.hdr = (struct nvp_tcp_hdr){ .type = NVP_TCP_ICRESP, .hlen = NVP_TCP_IC_HLEN,
					      .plen = nvp_cpu_to_le32(NVP_TCP_IC_HLEN) };
		r.maxh2cdata = nvp_cpu_to_le32(65536);
		tw_write(&t->w, &r, sizeof(r));
	}
	for (;;) {
		uint32_t dlen = tw_recv(&t->w, hdr, data, sizeof(data));
		struct nvp_sqe sqe;
		uint16_t cid;

		if (hdr[0] != NVP_TCP_CAPSULE_CMD) {
			t->errors++;
			return NULL;
		}
		memcpy(&sqe, hdr + 8, sizeof(sqe));
		cid = nvp_le16_to_cpu(sqe.cid);
		if (sqe.opc == NVP_FABRICS_OPC) {
			const struct nvp_property_cmd *pc = (const void *)&sqe;
			const struct nvp_connect_cmd *cc = (const void *)&sqe;
			uint32_t ofst = nvp_le32_to_cpu(pc->ofst);

			switch (pc->fctype) {
			case NVP_FCTYPE_CONNECT: {
				const struct nvp_connect_data *cd = (const void *)data;

				t->connects++;
				if (dlen != sizeof(*cd) || strcmp(cd->subnqn, NVP_DISCOVERY_NQN) ||
				    cc->qid != 0 || nvp_le16_to_cpu(cd->cntlid) != 0xffff)
					t->errors++;
				memcpy(t->hostnqn, cd->hostnqn, 256);
				t_resp(t, cid, t->connect_status, 7, 0);
				break;
			}
			case NVP_FCTYPE_PROPERTY_SET:
				if (ofst == NVP_REG_CC)
					t->cc = (uint32_t)nvp_le64_to_cpu(pc->value);
				t_resp(t, cid, 0, 0, 0);
				break;
			case NVP_FCTYPE_PROPERTY_GET:
				if (ofst == NVP_REG_CAP)
					t_resp(t, cid, 0, 31 | 1u << 24, 0x20);	/* TO 500 ms */
				else if (ofst == NVP_REG_CSTS)
					t_resp(t, cid, 0, (t->cc & NVP_CC_EN) && !t->never_ready ?
					       NVP_CSTS_RDY : 0, 0);
				else
					t_resp(t, cid, 0, 0x20000, 0);
				break;
			default:
				t->errors++;
				t_resp(t, cid, 0x1, 0, 0);
			}
		} else if (sqe.opc == NVP_ADMIN_GET_LOG_PAGE) {
			get_log_page(t, &sqe);
		} else {
			t->errors++;
			t_resp(t, cid, 0x1, 0, 0);	/* Invalid Opcode */
		}
	}
}

static struct nvp_tcp_host test_host(void)
{
	struct nvp_tcp_host h;

	memset(&h, 0, sizeof(h));
	strcpy(h.hostnqn, "nqn.2014-08.org.nvmexpress:uuid:00000000-1111-2222-3333-444444444444");
	memset(h.hostid, 0x42, sizeof(h.hostid));
	return h;
}

/* Run discovery against @t over a socketpair; returns nvp_tcp_discover_conn()'s rc. */
static int run_pair(struct target *t, bool digests, struct nvp_discovery_entry **e, uint32_t *n)
{
	struct nvp_tcp_host host = test_host();
	struct nvp_tcp_conn c;
	pthread_t th;
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	t->w.fd = sv[1];
	t->w.p = (struct nvp_tcp_conn_params){ .hdgst = digests, .ddgst = digests };
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	strcpy(c.peer, "test target");
	c.p = (struct nvp_tcp_conn_params){ .hdgst = digests, .ddgst = digests,
					    .maxh2cdata = 65536, .max_data = UINT32_MAX };
	c.incapsule_max = NVP_TCP_ADMIN_INCAPSULE;
	assert_int_equal(pthread_create(&th, NULL, target_main, t), 0);
	rc = nvp_tcp_discover_conn(&c, &host, e, n, 5000);
	nvp_tcp_conn_close(&c);
	pthread_join(th, NULL);
	close(sv[1]);
	if (rc == 0)
		assert_string_equal(t->hostnqn, host.hostnqn);
	return rc;
}

static void check_entries(const struct nvp_discovery_entry *e, uint32_t n, uint64_t genctr)
{
	for (uint32_t i = 0; i < n; i++) {
		struct nvp_discovery_entry want;

		expect_entry(i, genctr, &want);
		assert_int_equal(e[i].trtype, want.trtype);
		assert_int_equal(e[i].adrfam, want.adrfam);
		assert_int_equal(e[i].subtype, want.subtype);
		assert_int_equal(e[i].treq, want.treq);
		assert_int_equal(e[i].portid, want.portid);
		assert_int_equal(e[i].cntlid, want.cntlid);
		assert_int_equal(e[i].asqsz, want.asqsz);
		assert_int_equal(e[i].eflags, want.eflags);
		assert_string_equal(e[i].trsvcid, want.trsvcid);
		assert_string_equal(e[i].traddr, want.traddr);
		assert_string_equal(e[i].subnqn, want.subnqn);
	}
}

static void test_discovery_entries(void **state)
{
	static const uint32_t counts[] = { 0, 1, 3 };

	(void)state;
	for (int digests = 0; digests < 2; digests++) {
		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			struct target t = { .numrec = counts[k], .genctr = 5 };
			struct nvp_discovery_entry *e = (void *)1;
			uint32_t n = 99;

			assert_int_equal(run_pair(&t, digests, &e, &n), 0);
			assert_int_equal(n, counts[k]);
			assert_true(counts[k] ? e != NULL : e == NULL);
			check_entries(e, n, 5);
			assert_int_equal(t.connects, 1);
			assert_int_equal(t.errors, 0);
	assert_true(t.w.error == 0 || t.w.error == TW_EOF);
			/* Digests and lengths as sent; the host closing is the end. */
			assert_true(t.w.error == 0 || t.w.error == TW_EOF);
			/* Header, entries, header again (just the header when empty). */
			assert_int_equal(t.hdr_reads, counts[k] ? 2 : 1);
			assert_int_equal(t.log_reads, counts[k] ? 1 : 0);
			/* Shut down at the end. */
			assert_int_equal(t.cc & NVP_CC_SHN_MASK, NVP_CC_SHN_NORMAL);
			nvp_discovery_free(e);
		}
	}
}

/* 70 entries: more than one Get Log Page (64 KiB each) for the entries. */
static void test_discovery_many(void **state)
{
	struct target t = { .numrec = 70, .genctr = 1 };
	struct nvp_discovery_entry *e;
	uint32_t n;

	(void)state;
	assert_int_equal(run_pair(&t, false, &e, &n), 0);
	assert_int_equal(n, 70);
	assert_int_equal(t.log_reads, 2);
	check_entries(e, n, 1);
	nvp_discovery_free(e);
}

static void test_discovery_genctr_change(void **state)
{
	struct nvp_discovery_entry *e;
	uint32_t n;

	(void)state;
	/* The log gains an entry after the first read: read again, the new one wins. */
	{
		struct target t = { .numrec = 2, .genctr = 7, .changes = 1 };

		assert_int_equal(run_pair(&t, false, &e, &n), 0);
		assert_int_equal(n, 3);
		check_entries(e, n, 8);
		assert_int_equal(t.hdr_reads, 4);
		assert_int_equal(t.log_reads, 2);
		nvp_discovery_free(e);
	}
	/* Discovery Restart twice, then a clean read. */
	{
		struct target t = { .numrec = 3, .genctr = 1, .restarts = 2 };

		assert_int_equal(run_pair(&t, false, &e, &n), 0);
		assert_int_equal(n, 3);
		check_entries(e, n, 1);
		assert_int_equal(t.log_reads, 3);
		nvp_discovery_free(e);
	}
	/* A log that changes every time: -EAGAIN after NVP_DISCOVERY_ATTEMPTS. */
	{
		struct target t = { .numrec = 1, .genctr = 1, .changes = 1000 };

		e = (void *)1;
		assert_int_equal(run_pair(&t, false, &e, &n), -EAGAIN);
		assert_null(e);
		assert_int_equal(n, 0);
		assert_int_equal(t.log_reads, NVP_DISCOVERY_ATTEMPTS);
		assert_non_null(strstr(nvp_last_error(), "changed each of the 8 times"));
	}
}

static void test_discovery_hostile(void **state)
{
	struct nvp_discovery_entry *e;
	uint32_t n;

	(void)state;
	/* NUMREC absurd: refused before any allocation or read of entries. */
	{
		struct target t = { .numrec = 1, .genctr = 1, .numrec_claim = 1ull << 60 };

		e = (void *)1;
		assert_int_equal(run_pair(&t, false, &e, &n), -EPROTO);
		assert_null(e);
		assert_int_equal(n, 0);
		assert_int_equal(t.log_reads, 0);
		assert_non_null(strstr(nvp_last_error(), "1152921504606846976 entries"));
	}
	/* Just over the cap. */
	{
		struct target t = { .numrec = 1, .genctr = 1,
				    .numrec_claim = NVP_DISCOVERY_MAX_ENTRIES + 1 };

		assert_int_equal(run_pair(&t, false, &e, &n), -EPROTO);
		assert_int_equal(t.log_reads, 0);
	}
	/* Short data: fewer bytes than asked, then success. */
	{
		struct target t = { .numrec = 3, .genctr = 1, .short_by = 1024 };

		e = (void *)1;
		assert_int_equal(run_pair(&t, false, &e, &n), -EPROTO);
		assert_null(e);
		assert_non_null(strstr(nvp_last_error(), "sent 2048 bytes of the 3072"));
	}
	/* NUMREC says 3 and only 1 entry exists: the rest reads as zeroes, so
	 * the target is believed (the spec's "reads past the end are 0"). */
	{
		struct target t = { .numrec = 1, .genctr = 1, .numrec_claim = 3 };

		assert_int_equal(run_pair(&t, false, &e, &n), 0);
		assert_int_equal(n, 3);
		check_entries(e, 1, 1);
		assert_int_equal(e[2].trtype, 0);
		assert_string_equal(e[2].subnqn, "");
		nvp_discovery_free(e);
	}
	/* Get Log Page fails. */
	{
		struct target t = { .numrec = 1, .genctr = 1, .log_status = 0x109 };

		assert_true(run_pair(&t, false, &e, &n) < 0);
		assert_non_null(strstr(nvp_last_error(), "Get Log Page"));
	}
	/* Connect refused: the host is not allowed. */
	{
		struct target t = { .numrec = 1, .genctr = 1, .connect_status = 0x184 };

		assert_true(run_pair(&t, false, &e, &n) < 0);
		assert_non_null(strstr(nvp_last_error(), "allowed_hosts"));
	}
}

/* Strings: unterminated fields, control bytes, trailing spaces. */
static void test_discovery_digest(void **state)
{
	struct nvp_disc_log_entry w;
	struct nvp_discovery_entry e;

	(void)state;
	memset(&w, 'a', sizeof(w));
	w.trsvcid[0] = '\x1b';
	w.traddr[10] = '\n';
	memset(w.subnqn + 250, ' ', 6);
	w.portid = nvp_cpu_to_le16(0x1234);
	nvp_tcp_disc_entry_digest(&e, &w);
	assert_int_equal(strlen(e.trsvcid), 32);
	assert_int_equal(e.trsvcid[0], '?');
	assert_int_equal(strlen(e.traddr), 256);
	assert_int_equal(e.traddr[10], '?');
	assert_int_equal(strlen(e.subnqn), 250);
	assert_int_equal(e.portid, 0x1234);
	assert_int_equal(e.trtype, 'a');
}

/* nvp_discover() through a real TCP connection on 127.0.0.1, ICReq and all. */
static void test_discover_public(void **state)
{
	struct target t = { .numrec = 3, .genctr = 9, .ic = true };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct nvp_discovery_entry *e;
	char addr[64];
	pthread_t th;
	uint32_t n;
	int lfd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%u", ntohs(sa.sin_port));

	/* The address is checked before anything is sent. */
	assert_int_equal(nvp_discover("tcp://127.0.0.1/nqn.2026-12.io.nvpoll:x", NULL, &e, &n),
			 -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "not the discovery controller"));
	assert_int_equal(nvp_discover("0000:00:04.0", NULL, &e, &n), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "not an NVMe/TCP address"));
	assert_int_equal(nvp_discover("tcp://", NULL, &e, &n), -EINVAL);
	assert_int_equal(nvp_discover(addr, "host", &e, &n), -EINVAL);
	assert_int_equal(nvp_discover(NULL, NULL, &e, &n), -EINVAL);
	assert_int_equal(nvp_discover(addr, NULL, NULL, &n), -EINVAL);

	t.listen_fd = lfd;
	assert_int_equal(pthread_create(&th, NULL, target_main, &t), 0);
	assert_int_equal(nvp_discover(addr, NULL, &e, &n), 0);
	pthread_join(th, NULL);
	close(t.w.fd);
	assert_int_equal(n, 3);
	check_entries(e, n, 9);
	assert_int_equal(t.errors, 0);
	assert_int_equal(t.cc & NVP_CC_SHN_MASK, NVP_CC_SHN_NORMAL);
	/* The default host NQN went into Connect. */
	assert_int_equal(strncmp(t.hostnqn, "nqn.", 4), 0);
	nvp_discovery_free(e);
	nvp_discovery_free(NULL);
	/* And with a host NQN of the caller's. */
	memset(&t, 0, sizeof(t));
	t.numrec = 1;
	t.ic = true;
	t.listen_fd = lfd;
	assert_int_equal(pthread_create(&th, NULL, target_main, &t), 0);
	assert_int_equal(nvp_discover(addr, "nqn.2026-12.io.nvpoll:some-host", &e, &n), 0);
	pthread_join(th, NULL);
	close(t.w.fd);
	assert_int_equal(n, 1);
	check_entries(e, n, 0);
	assert_string_equal(t.hostnqn, "nqn.2026-12.io.nvpoll:some-host");
	nvp_discovery_free(e);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery_entries),
		cmocka_unit_test(test_discovery_many),
		cmocka_unit_test(test_discovery_genctr_change),
		cmocka_unit_test(test_discovery_hostile),
		cmocka_unit_test(test_discovery_digest),
		cmocka_unit_test(test_discover_public),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
