/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_md.c - metadata and end-to-end protection in the
 * emulated controller, driven as a device with raw SQEs: the namespace
 * options, Identify, both metadata layouts, PI types 1-3 with PRACT and
 * each PRCHK check, PI fault injection, Write Zeroes, Deallocate, Compare.
 *
 * The expected PI is computed here with a bitwise CRC, independent of the
 * emulator's table, and the emulator's storage is inspected directly, so a
 * tuple or metadata stored at the wrong offset fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_emu_host.h"

#define DNR NVP_STATUS_DNR_BIT
#define GEN(sc) NVP_STATUS(NVP_SCT_GENERIC, sc)
#define CS(sc) NVP_STATUS(NVP_SCT_CMD_SPECIFIC, sc)
#define MEDIA(sc) NVP_STATUS(NVP_SCT_MEDIA, sc)

/* PRINFO bits as they sit in CDW12 (29:26). */
#define PRACT		(1u << 29)
#define CHK_GUARD	(1u << 28)
#define CHK_APP		(1u << 27)
#define CHK_REF		(1u << 26)

static void fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 2654435761u + i * 7 + (i >> 9)) >> 3);
}

/* CRC-16 T10-DIF, bit by bit (the emulator uses a table). */
static uint16_t ref_crc16(uint16_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1);
	}
	return crc;
}

/* CRC-64/NVME, bit by bit, reflected, without the final inversion. */
static uint64_t ref_crc64(uint64_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = crc & 1 ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
	}
	return crc;
}

static void test_crc_vectors(void **state)
{
	/* The NVMe spec's 16-bit guard examples (32 bytes each), the CRC
	 * catalogue's check value, and nothing. */
	static const struct {
		int kind;	/* 0: all 00h, 1: all FFh, 2: 00h..1Fh, 3: "123456789" */
		size_t len;
		uint16_t crc;
	} rows[] = {
		{ 0, 32, 0x0000 }, { 1, 32, 0xa293 }, { 2, 32, 0x0224 }, { 3, 9, 0xd0db },
		{ 0, 0, 0x0000 },
	};
	uint8_t blk[4096], in[32];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int b = 0; b < 32; b++)
			in[b] = rows[i].kind == 0 ? 0 : rows[i].kind == 1 ? 0xff : (uint8_t)b;
		if (rows[i].kind == 3)
			memcpy(in, "123456789", 9);
		assert_int_equal(nvp_emu_crc16_t10dif(0, in, rows[i].len), rows[i].crc);
		assert_int_equal(ref_crc16(0, in, rows[i].len), rows[i].crc);
	}
	/* CRC-64/NVME: its catalogue check value and 4 KiB of zeroes. */
	assert_int_equal(~nvp_emu_crc64_nvme(~0ull, (const uint8_t *)"123456789", 9),
			 0xae8b14860a799888ull);
	memset(blk, 0, sizeof(blk));
	assert_int_equal(~nvp_emu_crc64_nvme(~0ull, blk, sizeof(blk)), 0x6482d367eb22b64eull);
	fill(blk, sizeof(blk), 9);
	assert_int_equal(nvp_emu_crc64_nvme(~0ull, blk, sizeof(blk)),
			 ref_crc64(~0ull, blk, sizeof(blk)));
	assert_int_equal(nvp_emu_crc16_t10dif(0, blk, sizeof(blk)), ref_crc16(0, blk, sizeof(blk)));
	/* Incremental equals one pass. */
	assert_int_equal(nvp_emu_crc16_t10dif(nvp_emu_crc16_t10dif(0, blk, 1000), blk + 1000, 3096),
			 ref_crc16(0, blk, sizeof(blk)));
}

/* ---- options ------------------------------------------------------------ */

static void test_md_options(void **state)
{
	static const struct {
		const char *spec;
		const char *msg;	/* NULL: parses to the values below */
		uint32_t bs;
		uint16_t ms;
		bool ext;
		uint8_t pi;
		bool first;
		const char *path;
	} rows[] = {
		{ "emu:ns=64M:4096+8:pi1", NULL, 4096, 8, false, 1, false, "" },
		{ "emu:ns=16M:512+8:ext:pi3:first", NULL, 512, 8, true, 3, true, "" },
		{ "emu:ns=16M:512+8:sep:pi2:last", NULL, 512, 8, false, 2, false, "" },
		{ "emu:ns=16M:512+0", NULL, 512, 0, false, 0, false, "" },	/* MS 0: none */
		{ "emu:ns=16M:512+256:ext", NULL, 512, 256, true, 0, false, "" },
		{ "emu:ns=16M:4096+16:pi0", NULL, 4096, 16, false, 0, false, "" },
		{ "emu:ns=16M:4096+8:pi1:/tmp/a:b", NULL, 4096, 8, false, 1, false, "/tmp/a:b" },
		{ "emu:ns=16M:4096+16:pi2:pif2:first", NULL, 4096, 16, false, 2, true, "" },
		{ "emu:ns=16M:4096+16:pi2:pif0", NULL, 4096, 16, false, 2, false, "" },
		{ "emu:ns=16M:4096+8:ext:./pi1", NULL, 4096, 8, true, 0, false, "./pi1" },
		{ "emu:ns=16M:4096:/tmp/x", NULL, 4096, 0, false, 0, false, "/tmp/x" },
		{ "emu:ns=16M:+8:pi1", NULL, 4096, 8, false, 1, false, "" },	/* default BLOCK */
		{ "emu:ns=16M:4096+8:pi1:", NULL, 4096, 8, false, 1, false, "" },
		{ "emu:ns=16M:4096+257", "MS \"257\" is not a metadata size from 0 to 256" },
		{ "emu:ns=16M:4096+", "MS \"\" is not a metadata size" },
		{ "emu:ns=16M:4096+-8", "MS \"-8\"" },
		{ "emu:ns=16M:4096+8x", "MS \"8x\"" },
		{ "emu:ns=16M:4096+ 8", "MS \" 8\"" },
		{ "emu:ns=16M:4096+7:pi1", "pi1 needs at least 8 bytes of metadata" },
		{ "emu:ns=16M:4096:pi2", "pi2 needs at least 8 bytes of metadata" },
		{ "emu:ns=16M:4096+8:pi4", "\"pi4\" is not a protection information type" },
		{ "emu:ns=16M:4096+8:pi12", "\"pi12\" is not a protection information type" },
		{ "emu:ns=16M:4096+8:pi1:pi2", "the PI type is given twice" },
		{ "emu:ns=16M:4096+8:ext:sep", "the layout (ext|sep) is given twice" },
		{ "emu:ns=16M:4096+8:pi1:first:last", "the PI location (first|last) is given twice" },
		{ "emu:ns=16M:4096:ext", "ext|sep chooses where metadata goes, but there is none" },
		{ "emu:ns=16M:4096+0:sep", "but there is none" },
		{ "emu:ns=16M:4096+8:first", "first|last places protection information" },
		{ "emu:ns=16M:4096+8:pi0:last", "first|last places protection information" },
		{ "emu:ns=16M:4096+8:pi1:pif2", "pif2 (the 64-bit guard) needs at least 16 bytes" },
		{ "emu:ns=16M:4096+16:pif2", "pif0|pif2 chooses the PI format, but the namespace has no PI" },
		{ "emu:ns=16M:4096+16:pi1:pif2:pif0", "the PI format (pif0|pif2) is given twice" },
		{ "emu:ns=16M:4096+16:pi1:pif1", "\"pif1\" is not a PI format emu implements" },
		{ "emu:ns=16M:3000+8", "BLOCK \"3000\" is not a power of two" },
		{ "emu:ns=1000:512+8", "SIZE 1000 is not a multiple of BLOCK 512" },
	};
	struct emu_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = nvp_emu_parse_opts(rows[i].spec, &o);

		print_message("\"%s\": %d %s\n", rows[i].spec, rc, rc ? nvp_last_error() : "");
		if (!rows[i].msg) {
			assert_int_equal(rc, 0);
			assert_int_equal(o.ns[0].block_size, rows[i].bs);
			assert_int_equal(o.ns[0].ms, rows[i].ms);
			assert_int_equal(o.ns[0].ext, rows[i].ext);
			assert_int_equal(o.ns[0].pi, rows[i].pi);
			assert_int_equal(o.ns[0].pi_first, rows[i].first);
			assert_string_equal(o.ns[0].path, rows[i].path);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(nvp_last_error(), rows[i].msg));
		assert_non_null(strstr(nvp_last_error(), "valid options"));
	}
}

/* ---- Identify ----------------------------------------------------------- */

static void test_md_identify(void **state)
{
	static const struct {
		const char *spec;
		uint8_t flbas, dps, lbads;
		uint16_t ms;
		uint32_t elbaf0;	/* ELBAF of format 0: PIF in bits 8:7 */
	} rows[] = {
		{ "emu:ns=4M:512", 0x00, 0x00, 9, 0, 0 },
		{ "emu:ns=4M:4096+8:pi1", 0x00, 0x01, 12, 8, 0 },
		{ "emu:ns=4M:512+8:ext:pi3", 0x10, 0x03, 9, 8, 0 },
		{ "emu:ns=4M:4096+16:pi2:first", 0x00, 0x0a, 12, 16, 0 },
		{ "emu:ns=4M:512+64:ext", 0x10, 0x00, 9, 64, 0 },
		{ "emu:ns=4M:4096+16:pi2:first:pif2", 0x00, 0x0a, 12, 16, 2u << 7 },
	};
	struct host h;
	uint8_t *buf;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nvp_id_ns *id;
		struct nvp_sqe sqe;

		assert_int_equal(host_open(&h, rows[i].spec), 0);
		buf = h.data;
		id = (struct nvp_id_ns *)buf;
		assert_int_equal(host_identify(&h, NVP_CNS_NS, 1, buf), 0);
		assert_int_equal(id->flbas, rows[i].flbas);
		assert_int_equal(NVP_ID_NS_FLBAS_INDEX(id->flbas), 0);
		assert_int_equal(id->lbaf[0].lbads, rows[i].lbads);
		assert_int_equal(nvp_le16_to_cpu(id->lbaf[0].ms), rows[i].ms);
		assert_int_equal(id->dps, rows[i].dps);
		assert_int_equal(id->mc, 0x03);	/* QEMU: both layouts, always */
		assert_int_equal(id->dpc, 0x1f);
		/* NVM command set Identify Namespace: ELBAF[0] has the guard
		 * format, STS 0; everything else is zero. */
		memset(buf, 0x5a, 4096);
		assert_int_equal(host_identify(&h, 0x05, 1, buf), 0);
		{
			uint32_t e;

			memcpy(&e, buf + 12, 4);
			assert_int_equal(nvp_le32_to_cpu(e), rows[i].elbaf0);
			memset(buf + 12, 0, 4);
		}
		for (int b = 0; b < 4096; b++)
			assert_int_equal(buf[b], 0);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = NVP_ADMIN_IDENTIFY;
		sqe.nsid = 1;
		sqe.cdw10 = 0x05;
		sqe.cdw11 = 2u << 24;	/* CSI 02h: not this namespace's set */
		host_prp(&sqe, buf, NULL);
		assert_int_equal(host_admin(&h, &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
		assert_int_equal(host_identify(&h, 0x05, 2, buf), GEN(NVP_SC_INVALID_NS) | DNR);
		assert_int_equal(host_identify(&h, NVP_CNS_CTRL, 0, buf), 0);
		assert_true(nvp_le32_to_cpu(((struct nvp_id_ctrl *)buf)->ctratt) & (1u << 15));
		host_close(&h);
	}
}

/* ---- the host side of a metadata transfer --------------------------------- */

struct cfg {
	const char *spec;
	uint32_t bs;
	uint16_t ms;
	bool ext;
	uint8_t pi;
	bool first;
	uint8_t pif;	/* 0: 16-bit guard, 8-byte tuple; 2: 64-bit guard, 16 bytes */
};

/* Tuple size and field offsets: guard, apptag, the last reftag byte. */
static int pi_size(const struct cfg *c)
{
	return c->pif ? 16 : 8;
}

static int app_at(const struct cfg *c)
{
	return c->pif ? 8 : 2;
}

static int ref_last(const struct cfg *c)
{
	return c->pif ? 15 : 7;
}


/*
 * Buffers in the test's 2 MiB of DMA memory: the transfer (data, or data
 * and metadata interleaved) at 0, a PRP list page at 1 MiB, the separate
 * metadata (MPTR) at 1.5 MiB.
 */
struct xfer {
	struct host *h;
	const struct cfg *c;
	uint8_t *wire;
	uint64_t *prp_list;
	uint8_t *mptr;
};

static void xfer_init(struct xfer *x, struct host *h, const struct cfg *c)
{
	x->h = h;
	x->c = c;
	x->wire = h->data;
	x->prp_list = (uint64_t *)((uint8_t *)h->data + (1u << 20));
	x->mptr = (uint8_t *)h->data + (3u << 19);
}

static void set_prps(struct xfer *x, struct nvp_sqe *sqe, size_t len)
{
	uint8_t *p = x->wire + 4096;
	size_t n = 0;

	sqe->dptr.prp.prp1 = host_iova(x->wire);
	sqe->dptr.prp.prp2 = 0;
	if (len <= 4096)
		return;
	if (len <= 8192) {
		sqe->dptr.prp.prp2 = host_iova(p);
		return;
	}
	for (size_t left = len - 4096; left; p += 4096, left -= left < 4096 ? left : 4096)
		x->prp_list[n++] = nvp_cpu_to_le64(host_iova(p));
	sqe->dptr.prp.prp2 = host_iova(x->prp_list);
}

/*
 * One command. @data and @md are the blocks' data and metadata, one after
 * the other (nlb * bs, nlb * ms): sent on writes and compares, filled on
 * reads. Metadata crosses the bus unless PRACT strips an 8-byte tuple.
 */
static uint16_t md_io(struct xfer *x, uint8_t opc, uint64_t slba, uint32_t nlb, uint32_t prinfo,
		      uint16_t apptag, uint16_t appmask, uint32_t reftag, uint8_t *data, uint8_t *md)
{
	const struct cfg *c = x->c;
	bool md_xfer = !(c->pi && (prinfo & PRACT) && c->ms == pi_size(c));
	size_t len = (size_t)nlb * c->bs + (c->ext && md_xfer ? (size_t)nlb * c->ms : 0);
	bool out = opc != NVP_NVM_READ;
	struct nvp_sqe sqe;
	uint16_t st;

	memset(x->wire, 0xa5, len + 64);	/* a read must overwrite all of it, no more */
	memset(x->mptr, 0xa5, (size_t)nlb * c->ms + 64);
	for (uint32_t b = 0; out && b < nlb; b++) {
		if (c->ext && md_xfer) {
			memcpy(x->wire + (size_t)b * (c->bs + c->ms), data + (size_t)b * c->bs, c->bs);
			memcpy(x->wire + (size_t)b * (c->bs + c->ms) + c->bs, md + (size_t)b * c->ms,
			       c->ms);
		} else {
			memcpy(x->wire + (size_t)b * c->bs, data + (size_t)b * c->bs, c->bs);
			if (md_xfer)
				memcpy(x->mptr + (size_t)b * c->ms, md + (size_t)b * c->ms, c->ms);
		}
	}
	host_rw_sqe(&sqe, opc, 1, slba, nlb);
	sqe.cdw12 |= prinfo;
	sqe.cdw14 = reftag;
	sqe.cdw15 = ((uint32_t)appmask << 16) | apptag;
	sqe.mptr = host_iova(x->mptr);
	set_prps(x, &sqe, len);
	st = host_cmd(x->h, &x->h->io[1], &sqe, NULL);
	if (out || st)
		return st;
	/* Nothing past the transfer, nothing through MPTR unless it is used. */
	for (int i = 0; i < 64; i++)
		assert_int_equal(x->wire[len + i], 0xa5);
	for (size_t i = 0; i < (size_t)nlb * c->ms + 64; i++)
		if (c->ext || !md_xfer || i >= (size_t)nlb * c->ms)
			assert_int_equal(x->mptr[i], 0xa5);
	for (uint32_t b = 0; b < nlb; b++) {
		if (c->ext && md_xfer) {
			memcpy(data + (size_t)b * c->bs, x->wire + (size_t)b * (c->bs + c->ms), c->bs);
			memcpy(md + (size_t)b * c->ms, x->wire + (size_t)b * (c->bs + c->ms) + c->bs,
			       c->ms);
		} else {
			memcpy(data + (size_t)b * c->bs, x->wire + (size_t)b * c->bs, c->bs);
			if (md_xfer)
				memcpy(md + (size_t)b * c->ms, x->mptr + (size_t)b * c->ms, c->ms);
		}
	}
	return 0;
}

static uint16_t pi_off(const struct cfg *c)
{
	return c->first ? 0 : (uint16_t)(c->ms - pi_size(c));
}

static void put_be(uint8_t *p, int n, uint64_t v)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * The tuple a device writes for a block on a PRACT write. The 64-bit guard
 * over the metadata before the tuple continues from the finished CRC of the
 * data, as QEMU 7.2 computes it.
 */
static void ref_tuple(const struct cfg *c, const uint8_t *data, uint8_t *md, uint16_t apptag,
		      uint32_t reftag)
{
	uint8_t *t = md + pi_off(c);

	if (c->pif) {
		uint64_t g = ~ref_crc64(~0ull, data, c->bs);

		if (pi_off(c))
			g = ~ref_crc64(g, md, pi_off(c));
		put_be(t, 8, g);
		put_be(t + 8, 2, apptag);
		put_be(t + 10, 6, reftag);
		return;
	}
	{
		uint16_t g = ref_crc16(0, data, c->bs);

		if (pi_off(c))
			g = ref_crc16(g, md, pi_off(c));
		put_be(t, 2, g);
		put_be(t + 2, 2, apptag);
		put_be(t + 4, 4, reftag);
	}
}

static void ref_tuples(const struct cfg *c, const uint8_t *data, uint8_t *md, uint32_t nlb,
		       uint16_t apptag, uint32_t reftag)
{
	for (uint32_t b = 0; b < nlb; b++)
		ref_tuple(c, data + (size_t)b * c->bs, md + (size_t)b * c->ms, apptag,
			  c->pi == 3 ? reftag : reftag + b);
}

/* What the emulator stored for @lba, straight from its storage. */
static void stored(struct host *h, const struct cfg *c, uint64_t lba, uint8_t *data, uint8_t *md)
{
	const struct emu_ns *ns = &h->emu->ns[0];

	memcpy(data, ns->data + lba * c->bs, c->bs);
	memcpy(md, ns->md + lba * c->ms, c->ms);
	/* The tuple is kept inverted: unwritten storage reads as all ones. */
	for (int i = 0; c->pi && i < pi_size(c); i++)
		md[pi_off(c) + i] ^= 0xff;
}

static const struct cfg pi_cfgs[] = {
	{ "emu:ns=4M:512+8:pi1", 512, 8, false, 1, false },
	{ "emu:ns=4M:512+8:ext:pi3", 512, 8, true, 3, false },
	{ "emu:ns=4M:4096+16:pi2", 4096, 16, false, 2, false },
	{ "emu:ns=4M:4096+16:ext:pi1:first", 4096, 16, true, 1, true },
	{ "emu:ns=4M:512+16:ext:pi2", 512, 16, true, 2, false },
	{ "emu:ns=4M:4096+8:ext:pi2:first", 4096, 8, true, 2, true },
	{ "emu:ns=4M:512+64:pi3:first", 512, 64, false, 3, true },
	{ "emu:ns=4M:4096+16:pi1:pif2", 4096, 16, false, 1, false, 2 },
	{ "emu:ns=4M:4096+16:ext:pi3:pif2", 4096, 16, true, 3, false, 2 },
	{ "emu:ns=4M:4096+32:pi2:pif2", 4096, 32, false, 2, false, 2 },
	{ "emu:ns=4M:512+24:ext:pi1:first:pif2", 512, 24, true, 1, true, 2 },
};

/* Blocks per command: enough for extended LBAs to cross several pages. */
static uint32_t cfg_nlb(const struct cfg *c)
{
	return c->bs == 512 ? 20 : 3;
}

/* The reference tag the first block must carry: the LBA for type 1. */
static uint32_t cfg_reftag(const struct cfg *c, uint64_t slba)
{
	return c->pi == 1 ? (uint32_t)slba : 0xabc00000u + (uint32_t)slba;
}

static uint32_t cfg_checks(const struct cfg *c)
{
	/* Type 3 has no reference tag to check (QEMU: Invalid PI). */
	return CHK_GUARD | CHK_APP | (c->pi == 3 ? 0 : CHK_REF);
}

/* ---- PRACT, round trips, storage offsets ----------------------------------- */

static void pi_roundtrip(const struct cfg *c)
{
	uint32_t nlb = cfg_nlb(c), rt;
	uint64_t slba = 40;
	size_t dl = (size_t)nlb * c->bs, ml = (size_t)nlb * c->ms;
	uint8_t *data = malloc(dl), *md = malloc(ml), *rdata = malloc(dl), *rmd = malloc(ml);
	uint8_t *sdata = malloc(c->bs), *smd = malloc(c->ms);
	struct host h;
	struct xfer x;

	print_message("%s\n", c->spec);
	assert_int_equal(host_open(&h, c->spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, c);
	rt = cfg_reftag(c, slba);

	/* PRACT write: the device makes the tuples; with MS > 8 the host's
	 * other metadata bytes are kept. */
	fill(data, dl, 1);
	fill(md, ml, 2);
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, slba, nlb, PRACT, 0x1234, 0, rt, data, md), 0);
	if (c->ms == pi_size(c))
		memset(md, 0, ml);
	ref_tuples(c, data, md, nlb, 0x1234, rt);
	for (uint32_t b = 0; b < nlb; b++) {
		stored(&h, c, slba + b, sdata, smd);
		assert_memory_equal(sdata, data + (size_t)b * c->bs, c->bs);
		assert_memory_equal(smd, md + (size_t)b * c->ms, c->ms);
	}
	/* Read back with every check this type allows. */
	memset(rdata, 0, dl);
	memset(rmd, 0, ml);
	assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, cfg_checks(c), 0x1234, 0xffff, rt, rdata,
			       rmd), 0);
	assert_memory_equal(rdata, data, dl);
	assert_memory_equal(rmd, md, ml);
	/* PRACT read: checks, and strips a tuple that is all the metadata
	 * (md_io checks that nothing reached MPTR or past the data). */
	memset(rdata, 0, dl);
	memset(rmd, 0, ml);
	assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, PRACT | cfg_checks(c), 0x1234, 0xffff,
			       rt, rdata, rmd), 0);
	assert_memory_equal(rdata, data, dl);
	if (c->ms > pi_size(c))
		assert_memory_equal(rmd, md, ml);
	/* One block from the middle: its own metadata, not its neighbour's. */
	assert_int_equal(md_io(&x, NVP_NVM_READ, slba + 2, 1, cfg_checks(c), 0x1234, 0xffff,
			       c->pi == 3 ? rt : rt + 2, rdata, rmd), 0);
	assert_memory_equal(rdata, data + 2 * c->bs, c->bs);
	assert_memory_equal(rmd, md + 2 * c->ms, c->ms);
	/* Host-made PI without PRACT, checked on the way in. */
	fill(data, dl, 3);
	fill(md, ml, 4);
	ref_tuples(c, data, md, nlb, 0x4321, cfg_reftag(c, 500));
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 500, nlb, cfg_checks(c), 0x4321, 0xffff,
			       cfg_reftag(c, 500), data, md), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 500, nlb, 0, 0, 0, 0, rdata, rmd), 0);
	assert_memory_equal(rdata, data, dl);
	assert_memory_equal(rmd, md, ml);
	/* Never written: zeroes, and a tuple of ones that disables the checks. */
	assert_int_equal(md_io(&x, NVP_NVM_READ, 900, nlb, cfg_checks(c), 0x1234, 0xffff,
			       cfg_reftag(c, 900), rdata, rmd), 0);
	for (size_t i = 0; i < dl; i++)
		assert_int_equal(rdata[i], 0);
	for (uint32_t b = 0; b < nlb; b++)
		for (uint16_t i = 0; i < c->ms; i++)
			assert_int_equal(rmd[(size_t)b * c->ms + i],
					 i >= pi_off(c) && i < pi_off(c) + pi_size(c) ? 0xff : 0);
	host_close(&h);
	free(data);
	free(md);
	free(rdata);
	free(rmd);
	free(sdata);
	free(smd);
}

static void test_pi_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pi_cfgs) / sizeof(pi_cfgs[0]); i++)
		pi_roundtrip(&pi_cfgs[i]);
}

/* ---- each check, on writes (host PI) and reads (injected faults) --------- */

enum mutate { M_NONE, M_GUARD, M_APP, M_REF, M_ILBRT, M_APP_FFFF };

static const struct check_row {
	const char *name;
	uint32_t prinfo;
	enum mutate m;
	uint16_t appmask;
	uint16_t st[4];	/* expected, by PI type (index 1..3) */
} check_rows[] = {
	{ "good", CHK_GUARD | CHK_APP, M_NONE, 0xffff, { 0, 0, 0, 0 } },
	{ "good+ref", CHK_GUARD | CHK_APP | CHK_REF, M_NONE, 0xffff,
	  { 0, 0, 0, CS(NVP_SC_INVALID_PROTECTION_INFO) } },
	{ "guard", CHK_GUARD, M_GUARD, 0xffff,
	  { 0, MEDIA(NVP_SC_GUARD_CHECK_ERROR), MEDIA(NVP_SC_GUARD_CHECK_ERROR),
	    MEDIA(NVP_SC_GUARD_CHECK_ERROR) } },
	{ "guard unchecked", CHK_APP, M_GUARD, 0xffff, { 0, 0, 0, 0 } },
	{ "apptag", CHK_GUARD | CHK_APP, M_APP, 0xffff,
	  { 0, MEDIA(NVP_SC_APPTAG_CHECK_ERROR), MEDIA(NVP_SC_APPTAG_CHECK_ERROR),
	    MEDIA(NVP_SC_APPTAG_CHECK_ERROR) } },
	{ "apptag masked off", CHK_APP, M_APP, 0xfffe, { 0, 0, 0, 0 } },	/* bit 0 differs */
	{ "apptag mask 0", CHK_APP, M_APP, 0x0000, { 0, 0, 0, 0 } },
	{ "reftag", CHK_REF, M_REF, 0xffff,
	  { 0, MEDIA(NVP_SC_REFTAG_CHECK_ERROR), MEDIA(NVP_SC_REFTAG_CHECK_ERROR),
	    CS(NVP_SC_INVALID_PROTECTION_INFO) } },
	{ "reftag unchecked", CHK_GUARD | CHK_APP, M_REF, 0xffff, { 0, 0, 0, 0 } },
	/* ILBRT is not the LBA: type 1 refuses the command itself. */
	{ "ilbrt", CHK_REF, M_ILBRT, 0xffff,
	  { 0, CS(NVP_SC_INVALID_PROTECTION_INFO) | DNR, 0, CS(NVP_SC_INVALID_PROTECTION_INFO) } },
	{ "ilbrt unchecked", CHK_GUARD, M_ILBRT, 0xffff, { 0, 0, 0, 0 } },
	/* Application tag FFFFh turns the checks off (type 3: with reftag FFFFFFFFh
	 * too, which this row does not set, so the bad guard is caught). */
	{ "apptag ffff", CHK_GUARD | CHK_APP, M_APP_FFFF, 0xffff,
	  { 0, 0, 0, MEDIA(NVP_SC_GUARD_CHECK_ERROR) } },
};

static void pi_checks(const struct cfg *c)
{
	uint32_t nlb = 4;
	size_t dl = (size_t)nlb * c->bs, ml = (size_t)nlb * c->ms;
	uint8_t *data = malloc(dl), *md = malloc(ml), *rdata = malloc(dl), *rmd = malloc(ml);
	struct host h;
	struct xfer x;

	print_message("%s\n", c->spec);
	assert_int_equal(host_open(&h, c->spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, c);
	for (size_t r = 0; r < sizeof(check_rows) / sizeof(check_rows[0]); r++) {
		const struct check_row *row = &check_rows[r];
		uint64_t slba = 64 + 16 * r;
		uint32_t rt = cfg_reftag(c, slba), cmd_rt = rt;
		uint16_t want = row->st[c->pi];
		uint8_t *t = md + 2 * c->ms + pi_off(c);	/* block 2's tuple */

		fill(data, dl, (uint32_t)r);
		fill(md, ml, (uint32_t)r + 100);
		ref_tuples(c, data, md, nlb, 0x0a0b, rt);
		switch (row->m) {
		case M_GUARD:
			t[1] ^= 0x10;
			break;
		case M_APP:
			t[app_at(c) + 1] ^= 0x01;
			break;
		case M_REF:
			t[ref_last(c)] ^= 0x01;
			break;
		case M_ILBRT:
			/* Consistent tuples from another start: only type 1 cares. */
			cmd_rt = rt + 7;
			ref_tuples(c, data, md, nlb, 0x0a0b, cmd_rt);
			break;
		case M_APP_FFFF:
			t[1] ^= 0x10;
			t[app_at(c)] = t[app_at(c) + 1] = 0xff;
			break;
		default:
			break;
		}
		print_message("  %s: want %#x\n", row->name, want);
		assert_int_equal(md_io(&x, NVP_NVM_WRITE, slba, nlb, row->prinfo, 0x0a0b,
				       row->appmask, cmd_rt, data, md), want);
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, 0, 0, 0, 0, rdata, rmd), 0);
		if (want) {
			/* Refused: nothing of it was stored. */
			for (size_t i = 0; i < dl; i++)
				assert_int_equal(rdata[i], 0);
			continue;
		}
		assert_memory_equal(rdata, data, dl);
		assert_memory_equal(rmd, md, ml);
		/* The same checks on the way out find the same tuples. */
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, row->prinfo, 0x0a0b,
				       row->appmask, cmd_rt, rdata, rmd), 0);
	}
	host_close(&h);
	free(data);
	free(md);
	free(rdata);
	free(rmd);
}

static void test_pi_checks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pi_cfgs) / sizeof(pi_cfgs[0]); i++)
		pi_checks(&pi_cfgs[i]);
}

/* NVP_EMU_FAULT_PI: corrupt stored PI, then reads fail their checks. */
static void pi_faults(const struct cfg *c)
{
	static const struct {
		uint32_t field;
		uint32_t prinfo;
		uint16_t st;
	} rows[] = {
		{ NVP_EMU_PI_GUARD, CHK_GUARD, MEDIA(NVP_SC_GUARD_CHECK_ERROR) },
		{ NVP_EMU_PI_APPTAG, CHK_APP, MEDIA(NVP_SC_APPTAG_CHECK_ERROR) },
		{ NVP_EMU_PI_REFTAG, CHK_REF, MEDIA(NVP_SC_REFTAG_CHECK_ERROR) },
	};
	uint32_t nlb = 4;
	size_t dl = (size_t)nlb * c->bs, ml = (size_t)nlb * c->ms;
	uint8_t *data = malloc(dl), *md = malloc(ml), *rdata = malloc(dl), *rmd = malloc(ml);
	struct host h;
	struct xfer x;

	print_message("%s\n", c->spec);
	assert_int_equal(host_open(&h, c->spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, c);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		uint64_t slba = 8 + 8 * r;
		uint32_t rt = cfg_reftag(c, slba), all = cfg_checks(c);
		struct nvp_emu_fault f = { .type = NVP_EMU_FAULT_PI, .count = 1,
					   .match = NVP_EMU_MATCH_IO | NVP_EMU_MATCH_OPCODE |
						    NVP_EMU_MATCH_LBA,
					   .opcode = NVP_NVM_READ, .slba = slba + 3, .nlb = 1,
					   .pi_fields = rows[r].field };
		uint16_t want = rows[r].st;

		if (c->pi == 3 && rows[r].field == NVP_EMU_PI_REFTAG)
			continue;	/* no reference tag check on type 3 */
		fill(data, dl, (uint32_t)r);
		fill(md, ml, (uint32_t)r + 50);
		assert_int_equal(md_io(&x, NVP_NVM_WRITE, slba, nlb, PRACT, 0x0c0d, 0, rt, data, md),
				 0);
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, all, 0x0c0d, 0xffff, rt, rdata,
				       rmd), 0);
		assert_int_equal(nvp_emu_dev_inject(h.emu, &f, sizeof(f)), 0);
		/* The fault hits this read's block 3 (not block 0..2). */
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, rows[r].prinfo, 0x0c0d, 0xffff,
				       rt, rdata, rmd), want);
		/* Media damage persists after the one-shot fault... */
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba + 3, 1, rows[r].prinfo, 0x0c0d, 0xffff,
				       c->pi == 3 ? rt : rt + 3, rdata, rmd), want);
		/* ...and stays in its block; unchecked reads still work. */
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba, 3, all, 0x0c0d, 0xffff, rt, rdata,
				       rmd), 0);
		assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, 0, 0, 0, 0, rdata, rmd), 0);
		assert_memory_equal(rdata, data, dl);
	}
	{
		struct nvp_emu_fault bad = { .type = NVP_EMU_FAULT_PI };

		assert_int_equal(nvp_emu_dev_inject(h.emu, &bad, sizeof(bad)), -EINVAL);
		bad.pi_fields = NVP_EMU_PI_GUARD;
		assert_int_equal(nvp_emu_dev_inject(h.emu, &bad, offsetof(struct nvp_emu_fault,
									  pi_fields)), -EINVAL);
	}
	host_close(&h);
	free(data);
	free(md);
	free(rdata);
	free(rmd);
}

static void test_pi_faults(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pi_cfgs) / sizeof(pi_cfgs[0]); i++)
		pi_faults(&pi_cfgs[i]);
}

/* ---- Write Zeroes, Deallocate, Compare ------------------------------------ */

static void pi_zeroes_compare(const struct cfg *c)
{
	uint32_t nlb = 4;
	uint64_t slba = 16;
	size_t dl = (size_t)nlb * c->bs, ml = (size_t)nlb * c->ms;
	uint8_t *data = malloc(dl), *md = malloc(ml), *rdata = malloc(dl), *rmd = malloc(ml);
	uint32_t rt = cfg_reftag(c, slba);
	struct host h;
	struct xfer x;
	struct nvp_sqe sqe;

	print_message("%s\n", c->spec);
	assert_int_equal(host_open(&h, c->spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, c);
	fill(data, dl, 7);
	fill(md, ml, 8);
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, slba, nlb, PRACT, 0x0e0f, 0, rt, data, md), 0);
	if (c->ms == pi_size(c))
		memset(md, 0, ml);
	ref_tuples(c, data, md, nlb, 0x0e0f, rt);

	/* Compare: equal, then one data byte off, then one tuple byte off. */
	assert_int_equal(md_io(&x, NVP_NVM_COMPARE, slba, nlb, cfg_checks(c), 0x0e0f, 0xffff, rt,
			       data, md), 0);
	data[c->bs + 5] ^= 1;
	assert_int_equal(md_io(&x, NVP_NVM_COMPARE, slba, nlb, 0, 0, 0, 0, data, md),
			 MEDIA(NVP_SC_COMPARE_FAILURE));
	data[c->bs + 5] ^= 1;
	md[c->ms + pi_off(c) + app_at(c) + 1] ^= 1;
	assert_int_equal(md_io(&x, NVP_NVM_COMPARE, slba, nlb, 0, 0, 0, 0, data, md),
			 MEDIA(NVP_SC_COMPARE_FAILURE));
	md[c->ms + pi_off(c) + app_at(c) + 1] ^= 1;
	/* QEMU refuses PRACT on Compare. */
	assert_int_equal(md_io(&x, NVP_NVM_COMPARE, slba, nlb, PRACT, 0, 0, 0, data, md),
			 CS(NVP_SC_INVALID_PROTECTION_INFO) | DNR);

	/* Write Zeroes: no data to check; PRACT writes tuples with guard 0
	 * (16-bit), or (64-bit) the CRC of a 4 KiB zero block, as QEMU 7.2. */
	host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, slba, nlb);
	sqe.cdw12 |= CHK_GUARD;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL),
			 CS(NVP_SC_INVALID_PROTECTION_INFO) | DNR);
	host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, slba, nlb);
	sqe.cdw12 |= PRACT;
	sqe.cdw14 = rt;
	sqe.cdw15 = 0x0707;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	memset(data, 0, dl);
	memset(md, 0, ml);
	ref_tuples(c, data, md, nlb, 0x0707, rt);
	for (uint32_t b = 0; b < nlb; b++) {
		uint8_t *g = md + (size_t)b * c->ms + pi_off(c);

		if (c->pif)
			put_be(g, 8, 0x6482d367eb22b64eull);
		else
			assert_int_equal(g[0] | g[1], 0);	/* the CRC16 of zeroes is 0 */
	}
	/* That 64-bit guard is right only for 4 KiB blocks with nothing before
	 * the tuple: check it only then. */
	assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb,
			       c->pif && (c->bs != 4096 || pi_off(c)) ? cfg_checks(c) & ~CHK_GUARD :
									cfg_checks(c),
			       0x0707, 0xffff, rt, rdata, rmd), 0);
	assert_memory_equal(rdata, data, dl);
	assert_memory_equal(rmd, md, ml);
	/* Without PRACT: zeroes, and the all-ones tuple of unwritten blocks. */
	host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, slba + 1, 2);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, slba, nlb, 0, 0, 0, 0, rdata, rmd), 0);
	for (uint32_t b = 1; b < 3; b++)
		for (int i = 0; i < pi_size(c); i++)
			assert_int_equal(rmd[(size_t)b * c->ms + pi_off(c) + i], 0xff);
	assert_memory_equal(rmd, md, c->ms);	/* block 0 untouched */
	assert_memory_equal(rmd + 3 * c->ms, md + 3 * c->ms, c->ms);	/* block 3 too */
	host_close(&h);
	free(data);
	free(md);
	free(rdata);
	free(rmd);
}

static void test_pi_zeroes_compare(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pi_cfgs) / sizeof(pi_cfgs[0]); i++)
		pi_zeroes_compare(&pi_cfgs[i]);
}

/* ---- metadata without PI ----------------------------------------------------- */

static const struct cfg md_cfgs[] = {
	{ "emu:ns=4M:512+8:ext", 512, 8, true, 0, false },
	{ "emu:ns=4M:512+8", 512, 8, false, 0, false },
	{ "emu:ns=4M:4096+64", 4096, 64, false, 0, false },
	{ "emu:ns=4M:4096+64:ext", 4096, 64, true, 0, false },
	{ "emu:ns=4M:512+16:ext:pi0", 512, 16, true, 0, false },
};

static void md_plain(const struct cfg *c)
{
	uint32_t nlb = cfg_nlb(c);
	size_t dl = (size_t)nlb * c->bs, ml = (size_t)nlb * c->ms;
	uint8_t *data = malloc(dl), *md = malloc(ml), *rdata = malloc(dl), *rmd = malloc(ml);
	uint8_t *sdata = malloc(c->bs), *smd = malloc(c->ms);
	struct nvp_dsm_range *r;
	struct host h;
	struct xfer x;
	struct nvp_sqe sqe;

	print_message("%s\n", c->spec);
	assert_int_equal(host_open(&h, c->spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, c);
	fill(data, dl, 11);
	fill(md, ml, 12);
	/* PRINFO means nothing without PI: metadata still crosses with PRACT. */
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 7, nlb, PRACT | CHK_GUARD, 0, 0, 0, data, md), 0);
	for (uint32_t b = 0; b < nlb; b++) {
		stored(&h, c, 7 + b, sdata, smd);
		assert_memory_equal(sdata, data + (size_t)b * c->bs, c->bs);
		assert_memory_equal(smd, md + (size_t)b * c->ms, c->ms);
	}
	assert_int_equal(md_io(&x, NVP_NVM_READ, 7, nlb, 0, 0, 0, 0, rdata, rmd), 0);
	assert_memory_equal(rdata, data, dl);
	assert_memory_equal(rmd, md, ml);
	/* A neighbour write leaves these alone. */
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 7 + nlb, 1, 0, 0, 0, 0, data, md), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 7 + nlb - 1, 1, 0, 0, 0, 0, rdata, rmd), 0);
	assert_memory_equal(rdata, data + (size_t)(nlb - 1) * c->bs, c->bs);
	assert_memory_equal(rmd, md + (size_t)(nlb - 1) * c->ms, c->ms);
	/* Compare covers the metadata. */
	assert_int_equal(md_io(&x, NVP_NVM_COMPARE, 7, nlb, 0, 0, 0, 0, data, md), 0);
	md[ml - 1] ^= 1;
	assert_int_equal(md_io(&x, NVP_NVM_COMPARE, 7, nlb, 0, 0, 0, 0, data, md),
			 MEDIA(NVP_SC_COMPARE_FAILURE));
	md[ml - 1] ^= 1;
	/* Write Zeroes zeroes metadata too (block 8 only). */
	host_rw_sqe(&sqe, NVP_NVM_WRITE_ZEROES, 1, 8, 1);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 7, 3, 0, 0, 0, 0, rdata, rmd), 0);
	assert_memory_equal(rmd, md, c->ms);
	for (uint16_t i = 0; i < c->ms; i++)
		assert_int_equal(rmd[c->ms + i], 0);
	assert_memory_equal(rmd + 2 * c->ms, md + 2 * c->ms, c->ms);
	/* Deallocate forgets it (block 9). */
	r = (struct nvp_dsm_range *)((uint8_t *)h.data + (1u << 20) + 8192);
	memset(r, 0, sizeof(*r));
	r->nlb = nvp_cpu_to_le32(1);
	r->slba = nvp_cpu_to_le64(9);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = NVP_NVM_DSM;
	sqe.nsid = 1;
	sqe.cdw11 = NVP_DSM_ATTR_DEALLOCATE;
	host_prp(&sqe, r, NULL);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 9, 1, 0, 0, 0, 0, rdata, rmd), 0);
	for (uint16_t i = 0; i < c->ms; i++)
		assert_int_equal(rmd[i], 0);
	host_close(&h);
	free(data);
	free(md);
	free(rdata);
	free(rmd);
	free(sdata);
	free(smd);
}

static void test_md_plain(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(md_cfgs) / sizeof(md_cfgs[0]); i++)
		md_plain(&md_cfgs[i]);
}

/* ---- transfer edges: SGLs, MDTS, MPTR ------------------------------------ */

static void sgl_desc(struct nvp_sgl_desc *d, const void *va, uint32_t len)
{
	memset(d, 0, sizeof(*d));
	d->addr = nvp_cpu_to_le64(host_iova(va));
	d->length = nvp_cpu_to_le32(len);
	d->type = NVP_SGL_DESC_TYPE(NVP_SGL_TYPE_DATA_BLOCK, 0);
}

static void test_md_xfer_edges(void **state)
{
	static const struct cfg ext = { "emu:ns=4M:512+8:ext:pi1,mdts=1", 512, 8, true, 1, false };
	static const struct cfg sep = { "emu:ns=4M:512+8:pi1", 512, 8, false, 1, false };
	uint8_t data[16 * 512], md[16 * 8], rdata[16 * 512], rmd[16 * 8];
	struct nvp_sgl_desc *seg;
	uint8_t *pieces;
	struct host h;
	struct xfer x;
	struct nvp_sqe sqe;

	(void)state;
	/* MDTS (8 KiB) counts interleaved metadata: 16 x 520 bytes is over,
	 * 15 fit, and 16 fit when PRACT keeps the tuples off the bus. */
	assert_int_equal(host_open(&h, ext.spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, &ext);
	fill(data, sizeof(data), 21);
	fill(md, sizeof(md), 22);
	ref_tuples(&ext, data, md, 16, 0, 0);
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 0, 16, 0, 0, 0, 0, data, md),
			 GEN(NVP_SC_INVALID_FIELD) | DNR);
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 0, 15, CHK_GUARD | CHK_REF, 0, 0, 0, data, md), 0);
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 0, 16, PRACT, 0, 0, 0, data, md), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 0, 16, PRACT | CHK_GUARD | CHK_REF, 0, 0xffff, 0,
			       rdata, rmd), 0);
	assert_memory_equal(rdata, data, sizeof(data));

	/* An SGL that splits blocks and tuples at odd places: 3 blocks of
	 * 520 bytes in pieces of 100, 700 and 760 bytes. */
	seg = (struct nvp_sgl_desc *)((uint8_t *)h.data + (1u << 20) + 4096);
	pieces = (uint8_t *)h.data + (1u << 20) + 8192;
	for (uint32_t b = 0; b < 3; b++) {
		memcpy(x.wire + b * 520, data + b * 512, 512);
		memcpy(x.wire + b * 520 + 512, md + b * 8, 8);
	}
	memcpy(pieces + 1, x.wire, 100);
	memcpy(pieces + 2001, x.wire + 100, 700);
	memcpy(pieces + 5001, x.wire + 800, 760);
	sgl_desc(&seg[0], pieces + 1, 100);
	sgl_desc(&seg[1], pieces + 2001, 700);
	sgl_desc(&seg[2], pieces + 5001, 760);
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 100, 3);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sqe.cdw12 |= CHK_GUARD | CHK_REF;
	sqe.cdw14 = 100;
	sqe.dptr.sgl1.addr = host_iova(seg);
	sqe.dptr.sgl1.length = 3 * 16;
	sqe.dptr.sgl1.type = NVP_SGL_DESC_TYPE(NVP_SGL_TYPE_LAST_SEGMENT, 0);
	/* Tuples were made for reftag 0..2: the checked write fails, then
	 * passes once ILBRT matches what they hold (type 1 wants the LBA,
	 * so the reference tag check is dropped). */
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), MEDIA(NVP_SC_REFTAG_CHECK_ERROR));
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 100, 3);
	sqe.flags = NVP_SQE_PSDT_SGL_MPTR;
	sqe.cdw12 |= CHK_GUARD;
	sqe.dptr.sgl1.addr = host_iova(seg);
	sqe.dptr.sgl1.length = 3 * 16;
	sqe.dptr.sgl1.type = NVP_SGL_DESC_TYPE(NVP_SGL_TYPE_LAST_SEGMENT, 0);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 100, 3, CHK_GUARD, 0, 0, 0, rdata, rmd), 0);
	assert_memory_equal(rdata, data, 3 * 512);
	assert_memory_equal(rmd, md, 3 * 8);
	host_close(&h);

	/* Separate metadata: MPTR must be mapped; no SGL for metadata. */
	assert_int_equal(host_open(&h, sep.spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, &sep);
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 0, 1);
	host_prp(&sqe, x.wire, NULL);
	sqe.mptr = 0xdead0000ull << 12;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_DATA_XFER_ERROR));
	sqe.flags = 2u << 6;	/* PSDT 10b: MPTR would point to an SGL */
	sqe.mptr = host_iova(x.mptr);
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), GEN(NVP_SC_INVALID_FIELD) | DNR);
	/* PRACT with an 8-byte tuple never touches MPTR, whatever it holds. */
	host_rw_sqe(&sqe, NVP_NVM_WRITE, 1, 0, 1);
	host_prp(&sqe, x.wire, NULL);
	sqe.cdw12 |= PRACT;
	sqe.mptr = 0xdead0000ull << 12;
	assert_int_equal(host_cmd(&h, &h.io[1], &sqe, NULL), 0);
	/* Out of range, counted in blocks, not bytes of data plus metadata. */
	assert_int_equal(md_io(&x, NVP_NVM_READ, 8191, 1, 0, 0, 0, 0, rdata, rmd), 0);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 8191, 2, 0, 0, 0, 0, rdata, rmd),
			 GEN(NVP_SC_LBA_OUT_OF_RANGE) | DNR);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 8192, 1, 0, 0, 0, 0, rdata, rmd),
			 GEN(NVP_SC_LBA_OUT_OF_RANGE) | DNR);
	host_close(&h);
}

/* A file-backed namespace keeps metadata after the data, across reopen. */
static void test_md_file(void **state)
{
	static const struct cfg c = { NULL, 512, 16, true, 1, true };
	char path[] = "/tmp/nvp-emu-md-XXXXXX", spec[128];
	uint8_t data[4 * 512], md[4 * 16], rdata[4 * 512], rmd[4 * 16];
	struct cfg cf = c;
	struct host h;
	struct xfer x;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "emu:ns=64K:512+16:ext:pi1:first:%s", path);
	cf.spec = spec;
	assert_int_equal(host_open(&h, spec), 0);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, &cf);
	fill(data, sizeof(data), 31);
	fill(md, sizeof(md), 32);
	assert_int_equal(md_io(&x, NVP_NVM_WRITE, 124, 4, PRACT, 0x99, 0, 124, data, md), 0);
	host_close(&h);
	ref_tuples(&cf, data, md, 4, 0x99, 124);
	/* Size from the file: 128 blocks of 512 + 16 bytes. */
	snprintf(spec, sizeof(spec), "emu:ns=:512+16:ext:pi1:first:%s", path);
	assert_int_equal(host_open(&h, spec), 0);
	assert_int_equal(h.emu->ns[0].nblocks, 128);
	assert_int_equal(host_create_qpair(&h, 1, 16), 0);
	xfer_init(&x, &h, &cf);
	assert_int_equal(md_io(&x, NVP_NVM_READ, 124, 4, CHK_GUARD | CHK_APP | CHK_REF, 0x99, 0xffff,
			       124, rdata, rmd), 0);
	assert_memory_equal(rdata, data, sizeof(data));
	assert_memory_equal(rmd, md, sizeof(md));
	host_close(&h);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_md_options),
		cmocka_unit_test(test_md_identify),
		cmocka_unit_test(test_pi_roundtrip),
		cmocka_unit_test(test_pi_checks),
		cmocka_unit_test(test_pi_faults),
		cmocka_unit_test(test_pi_zeroes_compare),
		cmocka_unit_test(test_md_plain),
		cmocka_unit_test(test_md_xfer_edges),
		cmocka_unit_test(test_md_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
