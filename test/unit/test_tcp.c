/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the NVMe/TCP building blocks: CRC32C (known vectors, the
 * hardware path against the table), the received-PDU checks (a table of
 * good and hostile headers), the ICResp checks, the PDU builders, address
 * parsing in both spellings, and the host identity files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcp/addr.h"
#include "tcp/pdu.h"
#include "util/crc32c.h"

/* ---- CRC32C --------------------------------------------------------------- */

static void test_crc32c_vectors(void **state)
{
	/* RFC 3720 B.4 (iSCSI) and the usual check value. */
	uint8_t zeros[32], ones[32], inc[32], dec[32];

	(void)state;
	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++) {
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	assert_int_equal(nvp_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(nvp_crc32c(zeros, 32), 0x8a9136aau);
	assert_int_equal(nvp_crc32c(ones, 32), 0x62a8ab43u);
	assert_int_equal(nvp_crc32c(inc, 32), 0x46dd794eu);
	assert_int_equal(nvp_crc32c(dec, 32), 0x113fdb5cu);
	assert_int_equal(nvp_crc32c_final(nvp_crc32c_update_table(NVP_CRC32C_INIT, "123456789", 9)),
			 0xe3069283u);
	assert_int_equal(nvp_crc32c("", 0), 0);
	print_message("crc32c implementation: %s\n", nvp_crc32c_impl());
}

/* Every length and misalignment up to a few words, and streamed in pieces. */
static void test_crc32c_hw_matches_table(void **state)
{
	uint8_t buf[4096 + 16];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 3));
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 80; len++)
			assert_int_equal(nvp_crc32c_update(NVP_CRC32C_INIT, buf + off, len),
					 nvp_crc32c_update_table(NVP_CRC32C_INIT, buf + off, len));
	{
		uint32_t whole = nvp_crc32c(buf, 4096), s = NVP_CRC32C_INIT;

		for (size_t done = 0, n = 1; done < 4096; done += n, n = n * 3 % 97 + 1)
			s = nvp_crc32c_update(s, buf + done, done + n > 4096 ? 4096 - done : n);
		assert_int_equal(nvp_crc32c_final(s), whole);
	}
}

/* ---- received PDU headers ------------------------------------------------- */

struct hdr_row {
	const char *name;
	uint8_t type, flags, hlen, pdo;
	uint32_t plen;
	bool before_icresp;	/* check with no parameters yet */
	bool hdgst, ddgst;
	int rc;
	uint32_t data_off, data_len;
};

static void test_pdu_check(void **state)
{
	static const struct hdr_row rows[] = {
		{ "ICResp", NVP_TCP_ICRESP, 0, 128, 0, 128, true, false, false, 0, 0, 0 },
		{ "ICResp short plen", NVP_TCP_ICRESP, 0, 128, 0, 127, true, false, false, -EPROTO, 0, 0 },
		{ "ICResp bad hlen", NVP_TCP_ICRESP, 0, 24, 0, 24, true, false, false, -EPROTO, 0, 0 },
		{ "ICResp twice", NVP_TCP_ICRESP, 0, 128, 0, 128, false, false, false, -EPROTO, 0, 0 },
		{ "CapsuleResp before ICResp", NVP_TCP_CAPSULE_RESP, 0, 24, 0, 24, true, false, false, -EPROTO, 0, 0 },
		{ "CapsuleResp", NVP_TCP_CAPSULE_RESP, 0, 24, 0, 24, false, false, false, 0, 0, 0 },
		{ "CapsuleResp hdgst", NVP_TCP_CAPSULE_RESP, NVP_TCP_F_HDGST, 24, 0, 28, false, true, false, 0, 0, 0 },
		{ "CapsuleResp hdgst flag without digest", NVP_TCP_CAPSULE_RESP, 0, 24, 0, 24, false, true, false, -EPROTO, 0, 0 },
		{ "CapsuleResp digest not negotiated", NVP_TCP_CAPSULE_RESP, NVP_TCP_F_HDGST, 24, 0, 28, false, false, false, -EPROTO, 0, 0 },
		{ "CapsuleResp with data", NVP_TCP_CAPSULE_RESP, 0, 24, 24, 4120, false, false, false, -EPROTO, 0, 0 },
		{ "CapsuleResp long plen", NVP_TCP_CAPSULE_RESP, 0, 24, 0, 25, false, false, false, -EPROTO, 0, 0 },
		{ "CapsuleResp DDGST flag", NVP_TCP_CAPSULE_RESP, NVP_TCP_F_DDGST, 24, 0, 24, false, false, true, -EPROTO, 0, 0 },
		{ "C2HData", NVP_TCP_C2H_DATA, NVP_TCP_F_LAST_PDU, 24, 24, 24 + 4096, false, false, false, 0, 24, 4096 },
		{ "C2HData success", NVP_TCP_C2H_DATA, NVP_TCP_F_LAST_PDU | NVP_TCP_F_SUCCESS, 24, 24, 25, false, false, false, 0, 24, 1 },
		{ "C2HData success not last", NVP_TCP_C2H_DATA, NVP_TCP_F_SUCCESS, 24, 24, 25, false, false, false, -EPROTO, 0, 0 },
		{ "C2HData digests, padded", NVP_TCP_C2H_DATA, NVP_TCP_F_HDGST | NVP_TCP_F_DDGST, 24, 32, 32 + 512 + 4, false, true, true, 0, 32, 512 },
		{ "C2HData data inside header", NVP_TCP_C2H_DATA, 0, 24, 20, 4120, false, false, false, -EPROTO, 0, 0 },
		{ "C2HData data inside header digest", NVP_TCP_C2H_DATA, NVP_TCP_F_HDGST, 24, 24, 4124, false, true, false, -EPROTO, 0, 0 },
		{ "C2HData no data", NVP_TCP_C2H_DATA, 0, 24, 24, 24, false, false, false, -EPROTO, 0, 0 },
		{ "C2HData only a digest", NVP_TCP_C2H_DATA, NVP_TCP_F_DDGST, 24, 24, 28, false, false, true, -EPROTO, 0, 0 },
		{ "C2HData plen below pdo", NVP_TCP_C2H_DATA, 0, 24, 200, 100, false, false, false, -EPROTO, 0, 0 },
		{ "C2HData plen 4 GiB", NVP_TCP_C2H_DATA, 0, 24, 24, 0xffffffffu, false, false, false, -EPROTO, 0, 0 },
		{ "C2HData data digest missing", NVP_TCP_C2H_DATA, 0, 24, 24, 1024, false, false, true, -EPROTO, 0, 0 },
		{ "R2T", NVP_TCP_R2T, 0, 24, 0, 24, false, false, false, 0, 0, 0 },
		{ "R2T with LAST_PDU", NVP_TCP_R2T, NVP_TCP_F_LAST_PDU, 24, 0, 24, false, false, false, -EPROTO, 0, 0 },
		{ "R2T with data", NVP_TCP_R2T, 0, 24, 24, 48, false, false, false, -EPROTO, 0, 0 },
		{ "C2HTermReq", NVP_TCP_C2H_TERM, 0, 24, 24, 24 + 72, false, false, false, 0, 24, 72 },
		{ "C2HTermReq before ICResp", NVP_TCP_C2H_TERM, 0, 24, 0, 24, true, false, false, 0, 0, 0 },
		{ "C2HTermReq too much data", NVP_TCP_C2H_TERM, 0, 24, 24, 24 + 153, false, false, false, -EPROTO, 0, 0 },
		{ "host type CapsuleCmd", NVP_TCP_CAPSULE_CMD, 0, 72, 0, 72, false, false, false, -EPROTO, 0, 0 },
		{ "host type H2CData", NVP_TCP_H2C_DATA, 0, 24, 24, 48, false, false, false, -EPROTO, 0, 0 },
		{ "host type ICReq", NVP_TCP_ICREQ, 0, 128, 0, 128, true, false, false, -EPROTO, 0, 0 },
		{ "unknown type 08h", 0x08, 0, 24, 0, 24, false, false, false, -EPROTO, 0, 0 },
		{ "unknown type ffh", 0xff, 0, 24, 0, 24, false, false, false, -EPROTO, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct hdr_row *r = &rows[i];
		struct nvp_tcp_conn_params p = { .hdgst = r->hdgst, .ddgst = r->ddgst,
						 .maxh2cdata = 65536, .max_data = 1u << 20 };
		struct nvp_tcp_hdr h = { .type = r->type, .flags = r->flags, .hlen = r->hlen,
					 .pdo = r->pdo, .plen = nvp_cpu_to_le32(r->plen) };
		struct nvp_tcp_pdu_layout lay;
		int rc = nvp_tcp_pdu_check(&h, r->before_icresp ? NULL : &p, &lay);

		if (rc != r->rc)
			fail_msg("%s: rc %d, expected %d", r->name, rc, r->rc);
		if (rc == 0 && (lay.data_off != r->data_off || lay.data_len != r->data_len))
			fail_msg("%s: data at %u+%u, expected %u+%u", r->name, lay.data_off,
				 lay.data_len, r->data_off, r->data_len);
	}
}

static void test_hdgst(void **state)
{
	uint8_t pdu[24 + 4] = { NVP_TCP_CAPSULE_RESP, NVP_TCP_F_HDGST, 24, 0, 28 };

	(void)state;
	for (int i = 8; i < 24; i++)
		pdu[i] = (uint8_t)(i * 7);
	nvp_tcp_put_digest(pdu + 24, nvp_crc32c(pdu, 24));
	assert_true(nvp_tcp_hdgst_ok(pdu, 24));
	pdu[10] ^= 1;
	assert_false(nvp_tcp_hdgst_ok(pdu, 24));
	pdu[10] ^= 1;
	pdu[27] ^= 0x80;
	assert_false(nvp_tcp_hdgst_ok(pdu, 24));
}

static void test_icresp(void **state)
{
	static const struct {
		const char *name;
		uint16_t pfv;
		uint8_t cpda, dgst;
		uint32_t maxh2c;
		bool ask_h, ask_d;
		int rc;
		uint32_t cpda_bytes;
	} rows[] = {
		{ "plain", 0, 0, 0, 131072, false, false, 0, 0 },
		{ "digests asked and given", 0, 0, 3, 4096, true, true, 0, 0 },
		{ "digest not asked for", 0, 0, NVP_TCP_DGST_DATA, 4096, true, false, -EPROTO, 0 },
		{ "version 1", 1, 0, 0, 4096, false, false, -EPROTO, 0 },
		{ "maxh2cdata 4092", 0, 0, 0, 4092, false, false, -EPROTO, 0 },
		{ "maxh2cdata 4098", 0, 0, 0, 4098, false, false, -EPROTO, 0 },
		{ "cpda 31 (128 bytes)", 0, 31, 0, 8192, false, false, 0, 128 },
		{ "cpda 32", 0, 32, 0, 8192, false, false, -EPROTO, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nvp_tcp_icresp r = { .hdr = { .type = NVP_TCP_ICRESP, .hlen = 128,
						     .plen = nvp_cpu_to_le32(128) } };
		struct nvp_tcp_conn_params p = { 0 };
		int rc;

		r.pfv = nvp_cpu_to_le16(rows[i].pfv);
		r.cpda = rows[i].cpda;
		r.dgst = rows[i].dgst;
		r.maxh2cdata = nvp_cpu_to_le32(rows[i].maxh2c);
		rc = nvp_tcp_icresp_check(&r, rows[i].ask_h, rows[i].ask_d, &p);
		if (rc != rows[i].rc)
			fail_msg("%s: rc %d, expected %d", rows[i].name, rc, rows[i].rc);
		if (!rc && p.cpda != rows[i].cpda_bytes)
			fail_msg("%s: cpda %u bytes, expected %u", rows[i].name, p.cpda,
				 rows[i].cpda_bytes);
	}
}

static void test_build(void **state)
{
	struct nvp_tcp_conn_params plain = { .maxh2cdata = 8192 };
	struct nvp_tcp_conn_params dg = { .hdgst = true, .ddgst = true, .cpda = 128,
					  .maxh2cdata = 8192 };
	struct nvp_tcp_icreq req;
	struct nvp_tcp_hdr h;
	struct nvp_tcp_data_hdr d;

	(void)state;
	nvp_tcp_build_icreq(&req, true, false, 0);
	assert_int_equal(req.hdr.type, NVP_TCP_ICREQ);
	assert_int_equal(req.hdr.hlen, 128);
	assert_int_equal(nvp_le32_to_cpu(req.hdr.plen), 128);
	assert_int_equal(req.dgst, NVP_TCP_DGST_HDR);

	/* No data: the PDU is its header. */
	assert_int_equal(nvp_tcp_build_capsule_hdr(&h, &plain, 0), 0);
	assert_int_equal(h.pdo, 0);
	assert_int_equal(nvp_le32_to_cpu(h.plen), 72);
	/* In-capsule data right after the SQE. */
	assert_int_equal(nvp_tcp_build_capsule_hdr(&h, &plain, 1024), 72);
	assert_int_equal(nvp_le32_to_cpu(h.plen), 72 + 1024);
	/* Digests and a 128-byte CPDA: data at 128, digest after it. */
	assert_int_equal(nvp_tcp_build_capsule_hdr(&h, &dg, 1024), 128);
	assert_int_equal(h.flags, NVP_TCP_F_HDGST | NVP_TCP_F_DDGST);
	assert_int_equal(nvp_le32_to_cpu(h.plen), 128 + 1024 + 4);
	assert_int_equal(nvp_tcp_build_capsule_hdr(&h, &dg, 0), 0);
	assert_int_equal(h.flags, NVP_TCP_F_HDGST);
	assert_int_equal(nvp_le32_to_cpu(h.plen), 76);

	assert_int_equal(nvp_tcp_build_h2c_data(&d, &plain, 7, 9, 8192, 4096, true), 24);
	assert_int_equal(d.hdr.flags, NVP_TCP_F_LAST_PDU);
	assert_int_equal(nvp_le32_to_cpu(d.hdr.plen), 24 + 4096);
	assert_int_equal(nvp_le16_to_cpu(d.cccid), 7);
	assert_int_equal(nvp_le16_to_cpu(d.ttag), 9);
	assert_int_equal(nvp_le32_to_cpu(d.offset), 8192);
	assert_int_equal(nvp_le32_to_cpu(d.length), 4096);
	assert_int_equal(nvp_tcp_build_h2c_data(&d, &dg, 7, 9, 0, 100, false), 128);
	assert_int_equal(nvp_le32_to_cpu(d.hdr.plen), 128 + 100 + 4);
	assert_int_equal(d.hdr.flags, NVP_TCP_F_HDGST | NVP_TCP_F_DDGST);
}

/* ---- addresses ----------------------------------------------------------- */

static void test_addr_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *host, *port, *nqn;
		int family;
	} rows[] = {
		{ "tcp://127.0.0.1/nqn.2026-12.io.nvpoll:t", 0, "127.0.0.1", "4420", "nqn.2026-12.io.nvpoll:t", 0 },
		{ "tcp://10.0.0.2:4421/nqn.a", 0, "10.0.0.2", "4421", "nqn.a", 0 },
		{ "TCP://host.example/nqn.a", 0, "host.example", "4420", "nqn.a", 0 },
		{ "tcp://[::1]:4420/nqn.a", 0, "::1", "4420", "nqn.a", 6 },
		{ "tcp://[fe80::1]/nqn.a", 0, "fe80::1", "4420", "nqn.a", 6 },
		{ "tcp://127.0.0.1", 0, "127.0.0.1", "4420", NVP_DISCOVERY_NQN, 0 },
		{ "tcp://127.0.0.1/", 0, "127.0.0.1", "4420", NVP_DISCOVERY_NQN, 0 },
		{ "tcp://127.0.0.1:65535", 0, "127.0.0.1", "65535", NVP_DISCOVERY_NQN, 0 },
		{ "tcp://127.0.0.1:65536/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://127.0.0.1:0/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://127.0.0.1:/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://127.0.0.1:44x/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://127.0.0.1:-1/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp:///nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://::1/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://[::1/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://[::1]x/nqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://127.0.0.1/iqn.a", -EINVAL, NULL, NULL, NULL, 0 },
		{ "tcp://127.0.0.1/nqn.a b", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP adrfam:IPv4 traddr:192.168.1.5 trsvcid:4420 subnqn:nqn.2016-06.io.spdk:cnode1",
		  0, "192.168.1.5", "4420", "nqn.2016-06.io.spdk:cnode1", 4 },
		{ "traddr:10.1.1.1 trtype:tcp", 0, "10.1.1.1", "4420", NVP_DISCOVERY_NQN, 0 },
		{ "  trtype:TCP   traddr:fe80::2  adrfam:ipv6 ", 0, "fe80::2", "4420", NVP_DISCOVERY_NQN, 6 },
		{ "trtype:TCP adrfam:IPv4 traddr:fe80::2", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP trsvcid:4420", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP traddr:1.2.3.4 traddr:1.2.3.5", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP traddr:1.2.3.4 hostnqn:nqn.x", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP traddr:1.2.3.4 adrfam:IB", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP traddr:1.2.3.4 junk", -EINVAL, NULL, NULL, NULL, 0 },
		{ "trtype:TCP traddr:", -EINVAL, NULL, NULL, NULL, 0 },
		/* Not TCP addresses at all: the caller tries the other kinds. */
		{ "trtype:RDMA traddr:1.2.3.4", -ENOENT, NULL, NULL, NULL, 0 },
		{ "trtype:PCIe traddr:0000:01:00.0", -ENOENT, NULL, NULL, NULL, 0 },
		{ "0000:01:00.0", -ENOENT, NULL, NULL, NULL, 0 },
		{ "emu:ns=64M", -ENOENT, NULL, NULL, NULL, 0 },
		{ "tcpx://1.2.3.4", -ENOENT, NULL, NULL, NULL, 0 },
		{ "", -ENOENT, NULL, NULL, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nvp_tcp_addr a;
		int rc = nvp_tcp_addr_parse(rows[i].text, &a);

		if (rc != rows[i].rc)
			fail_msg("'%s': rc %d, expected %d", rows[i].text, rc, rows[i].rc);
		if (rc)
			continue;
		assert_string_equal(a.host, rows[i].host);
		assert_string_equal(a.port, rows[i].port);
		assert_string_equal(a.subnqn, rows[i].nqn);
		assert_int_equal(a.family, rows[i].family);
	}
	{
		/* The longest NQN fits, one more byte does not. */
		char text[300], nqn[NVP_NQN_MAX + 2];
		struct nvp_tcp_addr a;

		memset(nqn, 'x', sizeof(nqn));
		memcpy(nqn, "nqn.", 4);
		nqn[NVP_NQN_MAX] = '\0';
		snprintf(text, sizeof(text), "tcp://h/%s", nqn);
		assert_int_equal(nvp_tcp_addr_parse(text, &a), 0);
		assert_int_equal(strlen(a.subnqn), NVP_NQN_MAX);
		nqn[NVP_NQN_MAX] = 'x';
		nqn[NVP_NQN_MAX + 1] = '\0';
		snprintf(text, sizeof(text), "tcp://h/%s", nqn);
		assert_int_equal(nvp_tcp_addr_parse(text, &a), -EINVAL);
	}
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_host_identity(void **state)
{
	char dir[] = "/tmp/nvp-tcp-id-XXXXXX", nqn[NVP_NQN_MAX + 1], nqn2[NVP_NQN_MAX + 1];
	uint8_t id[16], id2[16];
	char path[300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Nothing in the directory: derived, stable, and the NQN names the ID. */
	assert_int_equal(nvp_tcp_host_identity(nqn, id, dir), 0);
	assert_int_equal(nvp_tcp_host_identity(nqn2, id2, dir), 0);
	assert_string_equal(nqn, nqn2);
	assert_memory_equal(id, id2, 16);
	assert_int_equal(strncmp(nqn, "nqn.2014-08.org.nvmexpress:uuid:", 32), 0);
	assert_int_equal(strlen(nqn), 32 + 36);
	assert_int_equal(id[6] >> 4, 8);	/* version 8 */

	write_file(dir, "hostnqn", "nqn.2014-08.org.nvmexpress:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n");
	write_file(dir, "hostid", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n");
	assert_int_equal(nvp_tcp_host_identity(nqn, id, dir), 0);
	assert_string_equal(nqn, "nqn.2014-08.org.nvmexpress:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	assert_int_equal(id[0], 0x0f);
	assert_int_equal(id[15], 0xf0);

	write_file(dir, "hostid", "not-a-uuid\n");
	assert_int_equal(nvp_tcp_host_identity(nqn, id, dir), -EINVAL);
	write_file(dir, "hostid", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n");
	write_file(dir, "hostnqn", "iqn.2001-04.com.example\n");
	assert_int_equal(nvp_tcp_host_identity(nqn, id, dir), -EINVAL);

	snprintf(path, sizeof(path), "%s/hostnqn", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hostid", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_hw_matches_table),
		cmocka_unit_test(test_pdu_check),
		cmocka_unit_test(test_hdgst),
		cmocka_unit_test(test_icresp),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_host_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
