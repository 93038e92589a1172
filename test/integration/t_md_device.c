// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_md_device.c - metadata and end-to-end protection as the controller
 * implements them, through raw passthrough (nvp_io_raw) only: so the same
 * checks run against QEMU's controller in the VM rig and the emulated one,
 * and tell whether emu behaves as QEMU 7.2 does. The library's own metadata
 * I/O calls are tested elsewhere.
 *
 * Each test looks for namespaces formatted with metadata (and PI with the
 * 16-bit or 64-bit guard) on the controllers it is given, and skips when
 * there are none.
 */
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define MD_MAX_NS	16
#define MD_NLB		4
#define MD_LBA		2048	/* each test uses its own window from here */

/* PRINFO in CDW12 bits 29:26. */
#define PRACT		(1u << 29)
#define CHK_GUARD	(1u << 28)
#define CHK_APP		(1u << 27)
#define CHK_REF		(1u << 26)

struct md_fmt {
	struct itest_dev *d;
	uint32_t nsid;
	uint32_t bs;
	uint16_t ms;
	bool ext;
	uint8_t pi;		/* DPS type, 0 = none */
	bool first;		/* PI in the first 8 bytes */
	uint8_t pif;		/* ELBAF PIF: 0 = 16-bit guard */
	uint64_t nblocks;
};

/* Every namespace with metadata on the controllers given; 0 if none. */
static int md_find(struct md_fmt *out, int max)
{
	struct nvp_sqe cmd;
	uint8_t *id = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	int n = 0;

	if (!id)
		return 0;
	for (int j = 0; j < itest_cfg.num_addrs; j++) {
		struct itest_dev *d = itest_dev(j);

		if (!d)
			continue;
		for (struct nvp_ns *ns = nvp_ctrl_first_ns(d->ctrl); ns && n < max;
		     ns = nvp_ctrl_next_ns(d->ctrl, ns)) {
			const struct nvp_id_ns *in = (const struct nvp_id_ns *)id;
			struct md_fmt *f = &out[n];
			uint8_t idx;

			memset(&cmd, 0, sizeof(cmd));
			cmd.opc = NVP_ADMIN_IDENTIFY;
			cmd.nsid = nvp_ns_get_info(ns)->nsid;
			cmd.cdw10 = NVP_CNS_NS;
			if (nvp_admin_cmd_sync(d->ctrl, &cmd, id, 4096, NULL))
				continue;
			idx = NVP_ID_NS_FLBAS_INDEX(in->flbas);
			if (!nvp_le16_to_cpu(in->lbaf[idx].ms))
				continue;
			memset(f, 0, sizeof(*f));
			f->d = d;
			f->nsid = cmd.nsid;
			f->bs = 1u << in->lbaf[idx].lbads;
			f->ms = nvp_le16_to_cpu(in->lbaf[idx].ms);
			f->ext = in->flbas & 0x10;
			f->pi = in->dps & 7;
			f->first = in->dps & 8;
			f->nblocks = nvp_le64_to_cpu(in->nsze);
			if (f->pi) {
				/* NVM command set Identify Namespace: ELBAF[idx] bits 8:7. */
				uint32_t elbaf;

				cmd.cdw10 = 0x05;	/* CNS 05h, CSI 00h */
				if (nvp_admin_cmd_sync(d->ctrl, &cmd, id, 4096, NULL) == 0) {
					memcpy(&elbaf, id + 12 + 4 * idx, 4);
					f->pif = (nvp_le32_to_cpu(elbaf) >> 7) & 3;
				}
			}
			n++;
		}
	}
	nvp_dma_free(id);
	return n;
}

/* Tuple size and the offsets of the application tag and the last reftag byte. */
static int md_pi_size(const struct md_fmt *f)
{
	return f->pif ? 16 : 8;
}

static int md_app_at(const struct md_fmt *f)
{
	return f->pif ? 8 : 2;
}

static int md_ref_last(const struct md_fmt *f)
{
	return f->pif ? 15 : 7;
}

static uint16_t md_pi_off(const struct md_fmt *f)
{
	return f->first ? 0 : (uint16_t)(f->ms - md_pi_size(f));
}

/* CRC-16 T10-DIF (polynomial 8BB7h), bit by bit. */
static uint16_t md_crc16(uint16_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1);
	}
	return crc;
}

/* CRC-64/NVME, bit by bit, reflected, without the final inversion. */
static uint64_t md_crc64(uint64_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = crc & 1 ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
	}
	return crc;
}

static void md_put_be(uint8_t *p, int n, uint64_t v)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * The tuple a device makes for one block (PI last: over the bytes before it
 * too; for the 64-bit guard continuing from the finished CRC, as QEMU 7.2).
 */
static void md_tuple(const struct md_fmt *f, const uint8_t *data, uint8_t *md, uint16_t apptag,
		     uint32_t reftag)
{
	uint8_t *t = md + md_pi_off(f);

	if (f->pif) {
		uint64_t g = ~md_crc64(~0ull, data, f->bs);

		if (md_pi_off(f))
			g = ~md_crc64(g, md, md_pi_off(f));
		md_put_be(t, 8, g);
		md_put_be(t + 8, 2, apptag);
		md_put_be(t + 10, 6, reftag);
	} else {
		uint16_t g = md_crc16(0, data, f->bs);

		if (md_pi_off(f))
			g = md_crc16(g, md, md_pi_off(f));
		md_put_be(t, 2, g);
		md_put_be(t + 2, 2, apptag);
		md_put_be(t + 4, 4, reftag);
	}
}

static void md_tuples(const struct md_fmt *f, const uint8_t *data, uint8_t *md, uint32_t nlb,
		      uint16_t apptag, uint32_t reftag)
{
	for (uint32_t b = 0; b < nlb; b++)
		md_tuple(f, data + (size_t)b * f->bs, md + (size_t)b * f->ms, apptag,
			 f->pi == 3 ? reftag : reftag + b);
}

/* DMA buffers for one namespace's commands. */
struct md_bufs {
	uint8_t *wire;	/* the transfer: data, or data and metadata interleaved */
	uint8_t *mptr;	/* separate metadata */
	uint8_t *data;	/* the blocks' data, contiguous */
	uint8_t *md;	/* their metadata, contiguous */
};

static bool md_bufs_alloc(struct md_bufs *b, const struct md_fmt *f)
{
	size_t dl = (size_t)MD_NLB * f->bs, ml = (size_t)MD_NLB * f->ms;

	b->wire = nvp_dma_alloc(dl + ml, 4096, NVP_NUMA_ANY);
	b->mptr = nvp_dma_alloc(ml, 4096, NVP_NUMA_ANY);
	b->data = nvp_dma_alloc(dl, 4096, NVP_NUMA_ANY);
	b->md = nvp_dma_alloc(ml, 4096, NVP_NUMA_ANY);
	return b->wire && b->mptr && b->data && b->md;
}

static void md_bufs_free(struct md_bufs *b)
{
	nvp_dma_free(b->wire);
	nvp_dma_free(b->mptr);
	nvp_dma_free(b->data);
	nvp_dma_free(b->md);
	memset(b, 0, sizeof(*b));
}

/*
 * One raw command on @nlb blocks: writes and compares send b->data and
 * b->md (in the namespace's layout), reads fill them. Metadata does not
 * cross the bus when PRACT strips or inserts an 8-byte tuple that is all of
 * it. Returns the completion status (phase bit cleared) or 0xffff when the
 * command was not accepted.
 */
static uint16_t md_cmd(struct nvp_qpair *qp, const struct md_fmt *f, struct md_bufs *b,
		       uint8_t opc, uint64_t lba, uint32_t nlb, uint32_t prinfo, uint16_t apptag,
		       uint16_t appmask, uint32_t reftag)
{
	bool md_xfer = !(f->pi && (prinfo & PRACT) && f->ms == md_pi_size(f));
	size_t len = (size_t)nlb * f->bs + (f->ext && md_xfer ? (size_t)nlb * f->ms : 0);
	bool out = opc != NVP_NVM_READ;
	struct nvp_sqe cmd;
	struct io_cpl c;
	uint64_t iova = 0;
	int rc;

	memset(b->wire, 0xa5, len);
	memset(b->mptr, 0xa5, (size_t)nlb * f->ms);
	for (uint32_t i = 0; out && i < nlb; i++) {
		const uint8_t *d = b->data + (size_t)i * f->bs, *m = b->md + (size_t)i * f->ms;

		if (f->ext && md_xfer) {
			memcpy(b->wire + (size_t)i * (f->bs + f->ms), d, f->bs);
			memcpy(b->wire + (size_t)i * (f->bs + f->ms) + f->bs, m, f->ms);
		} else {
			memcpy(b->wire + (size_t)i * f->bs, d, f->bs);
			if (md_xfer)
				memcpy(b->mptr + (size_t)i * f->ms, m, f->ms);
		}
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = opc;
	cmd.nsid = f->nsid;
	cmd.cdw10 = (uint32_t)lba;
	cmd.cdw11 = (uint32_t)(lba >> 32);
	cmd.cdw12 = (nlb - 1) | prinfo;
	cmd.cdw14 = reftag;
	cmd.cdw15 = ((uint32_t)appmask << 16) | apptag;
	if (!f->ext && md_xfer && nvp_mem_translate(b->mptr, &iova, NULL) == 0)
		cmd.mptr = iova;
	rc = raw_sync(qp, &cmd, b->wire, len, &c);
	if (atomic_load(&c.calls) != 1)
		return 0xffff;
	(void)rc;
	if (out || c.status)
		return c.status;
	for (uint32_t i = 0; i < nlb; i++) {
		uint8_t *d = b->data + (size_t)i * f->bs, *m = b->md + (size_t)i * f->ms;

		if (f->ext && md_xfer) {
			memcpy(d, b->wire + (size_t)i * (f->bs + f->ms), f->bs);
			memcpy(m, b->wire + (size_t)i * (f->bs + f->ms) + f->bs, f->ms);
		} else {
			memcpy(d, b->wire + (size_t)i * f->bs, f->bs);
			if (md_xfer)
				memcpy(m, b->mptr + (size_t)i * f->ms, f->ms);
		}
	}
	return 0;
}

/* Names for messages: "nsid 2 (512+8 ext pi3 last)". */
static const char *md_name(const struct md_fmt *f, char *buf, size_t len)
{
	snprintf(buf, len, "nsid %u (%u+%u %s pi%u %s%s)", f->nsid, f->bs, f->ms,
		 f->ext ? "ext" : "sep", f->pi, f->first ? "first" : "last",
		 f->pif == 2 ? " pif2" : f->pif ? " pif?" : "");
	return buf;
}

/* The reference tag block @lba's tuple carries in these tests (type 1: the LBA). */
static uint32_t md_reftag(const struct md_fmt *f, uint64_t lba)
{
	return f->pi == 1 ? (uint32_t)lba : 0x5e000000u ^ (uint32_t)lba;
}

static uint32_t md_checks(const struct md_fmt *f)
{
	return CHK_GUARD | CHK_APP | (f->pi == 3 ? 0 : CHK_REF);
}

static bool md_usable(const struct md_fmt *f, uint64_t lba)
{
	return (f->pif == 0 || f->pif == 2) && f->nblocks > lba + 64;
}

/*
 * Identify: the format in use is one the controller says it supports
 * (MC has its layout, DPC its type and location), and the library's
 * namespace info agrees on the metadata size.
 */
void test_md_device_format(void)
{
	struct md_fmt fmts[MD_MAX_NS];
	uint8_t *id = NULL;
	int n = md_find(fmts, MD_MAX_NS);
	char name[64];

	if (!n) {
		itest_skipf("no namespace formatted with metadata");
		return;
	}
	id = nvp_dma_alloc(4096, 4096, NVP_NUMA_ANY);
	CHECK(id);
	for (int i = 0; i < n; i++) {
		const struct md_fmt *f = &fmts[i];
		const struct nvp_id_ns *in = (const struct nvp_id_ns *)id;
		struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .nsid = f->nsid,
				       .cdw10 = NVP_CNS_NS };
		struct nvp_ns *ns = nvp_ctrl_get_ns(f->d->ctrl, f->nsid);

		md_name(f, name, sizeof(name));
		CHECK_RC(nvp_admin_cmd_sync(f->d->ctrl, &cmd, id, 4096, NULL), 0);
		CHECKF(in->mc & (f->ext ? 1 : 2), "%s: MC %#x lacks its layout", name, in->mc);
		if (f->pi) {
			CHECKF(f->ms >= 8, "%s: PI with %u bytes of metadata", name, f->ms);
			CHECKF(in->dpc & (1u << (f->pi - 1)), "%s: DPC %#x lacks type %u", name,
			       in->dpc, f->pi);
			CHECKF(in->dpc & (f->first ? 8 : 16), "%s: DPC %#x lacks its location",
			       name, in->dpc);
		}
		CHECK(ns);
		CHECKF(nvp_ns_get_info(ns)->md_size == f->ms, "%s: info md_size %u", name,
		       nvp_ns_get_info(ns)->md_size);
		CHECKF(nvp_ns_get_info(ns)->block_size == f->bs, "%s: info block_size %u", name,
		       nvp_ns_get_info(ns)->block_size);
		itest_notef("%s", name);
	}
out:
	nvp_dma_free(id);
}

/*
 * Data and metadata round trips in the namespace's layout: metadata as
 * written without PI; with PI, the tuples PRACT made (checked here with our
 * own CRC), every check passing on the way back, PRACT reads, and Write
 * Zeroes with PRACT.
 */
void test_md_device_roundtrip(void)
{
	struct md_fmt fmts[MD_MAX_NS];
	struct nvp_qpair *qp = NULL;
	struct itest_dev *qd = NULL;
	struct md_bufs b = { 0 };
	int n = md_find(fmts, MD_MAX_NS), done = 0;
	uint8_t *md = NULL;
	char name[64], why[160];

	for (int i = 0; i < n; i++) {
		const struct md_fmt *f = &fmts[i];
		uint64_t lba = MD_LBA, seed = itest_cfg.seed ^ (0x3d00u + (uint64_t)i);
		size_t ml = (size_t)MD_NLB * f->ms;
		uint32_t rt = md_reftag(f, lba);
		uint16_t st;

		if (!md_usable(f, lba))
			continue;
		md_name(f, name, sizeof(name));
		if (qd != f->d) {
			nvp_qpair_free(qp);
			qd = f->d;
			qp = qpair_alloc_default(qd);
			CHECK(qp);
		}
		md_bufs_free(&b);
		free(md);
		CHECK(md_bufs_alloc(&b, f));
		md = malloc(ml);
		CHECK(md);
		pattern_fill(b.data, lba, MD_NLB, f->bs, seed);
		for (size_t k = 0; k < ml; k++)
			b.md[k] = (uint8_t)(seed >> (k % 8 * 8)) ^ (uint8_t)k;
		memcpy(md, b.md, ml);
		st = md_cmd(qp, f, &b, NVP_NVM_WRITE, lba, MD_NLB, f->pi ? PRACT : 0, 0x5a5a, 0, rt);
		CHECKF(st == 0, "%s: write: status %#x %s", name, st, nvp_status_str(st));
		if (f->pi) {
			if (f->ms == md_pi_size(f))
				memset(md, 0, ml);
			md_tuples(f, b.data, md, MD_NLB, 0x5a5a, rt);
		}
		memset(b.data, 0, (size_t)MD_NLB * f->bs);
		memset(b.md, 0, ml);
		st = md_cmd(qp, f, &b, NVP_NVM_READ, lba, MD_NLB, f->pi ? md_checks(f) : 0, 0x5a5a,
			    0xffff, rt);
		CHECKF(st == 0, "%s: checked read: status %#x %s", name, st, nvp_status_str(st));
		CHECKF(pattern_check(b.data, lba, MD_NLB, f->bs, seed, why, sizeof(why)) < 0,
		       "%s: data: %s", name, why);
		for (size_t k = 0; k < ml; k++)
			CHECKF(b.md[k] == md[k], "%s: metadata byte %zu of block %zu: %#x, expected %#x",
			       name, k % f->ms, k / f->ms, b.md[k], md[k]);
		if (f->pi) {
			/* PRACT read: checked, and a tuple that is all the metadata
			 * stays in the device. */
			memset(b.data, 0, (size_t)MD_NLB * f->bs);
			st = md_cmd(qp, f, &b, NVP_NVM_READ, lba, MD_NLB, PRACT | md_checks(f),
				    0x5a5a, 0xffff, rt);
			CHECKF(st == 0, "%s: PRACT read: status %#x %s", name, st,
			       nvp_status_str(st));
			CHECKF(pattern_check(b.data, lba, MD_NLB, f->bs, seed, why, sizeof(why)) < 0,
			       "%s: PRACT read data: %s", name, why);
			/* Write Zeroes with PRACT: zeroes that pass the checks. */
			{
				struct nvp_sqe cmd = { .opc = NVP_NVM_WRITE_ZEROES, .nsid = f->nsid,
						       .cdw10 = (uint32_t)lba,
						       .cdw12 = (MD_NLB - 1) | PRACT,
						       .cdw14 = rt, .cdw15 = 0x0707 };
				struct io_cpl c;

				raw_sync(qp, &cmd, NULL, 0, &c);
				CHECKF(atomic_load(&c.calls) == 1 && c.status == 0,
				       "%s: Write Zeroes PRACT: status %#x %s", name, c.status,
				       nvp_status_str(c.status));
			}
			/* QEMU 7.2's 64-bit guard for Write Zeroes is the CRC of a
			 * 4 KiB zero block: right only for 4 KiB blocks with nothing
			 * before the tuple. */
			st = md_cmd(qp, f, &b, NVP_NVM_READ, lba, MD_NLB,
				    f->pif && (f->bs != 4096 || md_pi_off(f)) ?
				    md_checks(f) & ~CHK_GUARD : md_checks(f), 0x0707, 0xffff, rt);
			CHECKF(st == 0, "%s: checked read after Write Zeroes: status %#x %s", name,
			       st, nvp_status_str(st));
			CHECKF(buf_is_zero(b.data, (size_t)MD_NLB * f->bs),
			       "%s: Write Zeroes left data", name);
		}
		done++;
	}
	if (!done)
		itest_skipf("no namespace with metadata (and PI, if any, with the 16-bit or 64-bit guard)");
	else
		itest_notef("%d namespace(s)", done);
out:
	nvp_qpair_free(qp);
	md_bufs_free(&b);
	free(md);
}

/*
 * Each PRCHK check failing with its own status: on writes (host-made PI
 * that is wrong) and on reads (wrong PI stored by an unchecked write), and
 * the command-level rules for the reference tag.
 */
void test_md_device_pi_checks(void)
{
	static const struct {
		const char *name;
		int mutate;	/* 0 none, 1 guard, 2 apptag, 3 reftag, 4 ILBRT off by 5, 5 apptag FFFFh */
		uint32_t prinfo;
		uint8_t sct[4], sc[4];	/* expected, by PI type 1..3 */
	} rows[] = {
		{ "good", 0, CHK_GUARD | CHK_APP, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
		{ "guard", 1, CHK_GUARD, { 0, 2, 2, 2 }, { 0, 0x82, 0x82, 0x82 } },
		{ "apptag", 2, CHK_APP, { 0, 2, 2, 2 }, { 0, 0x83, 0x83, 0x83 } },
		{ "reftag", 3, CHK_REF, { 0, 2, 2, 1 }, { 0, 0x84, 0x84, 0x81 } },
		{ "ilbrt", 4, CHK_REF, { 0, 1, 0, 1 }, { 0, 0x81, 0, 0x81 } },
		{ "apptag ffff", 5, CHK_GUARD, { 0, 0, 0, 2 }, { 0, 0, 0, 0x82 } },
	};
	struct md_fmt fmts[MD_MAX_NS];
	struct nvp_qpair *qp = NULL;
	struct itest_dev *qd = NULL;
	struct md_bufs b = { 0 };
	int n = md_find(fmts, MD_MAX_NS), done = 0;
	char name[64];

	for (int i = 0; i < n; i++) {
		const struct md_fmt *f = &fmts[i];

		if (!f->pi || !md_usable(f, MD_LBA + 64 + 8 * 2 * 6))
			continue;
		md_name(f, name, sizeof(name));
		if (qd != f->d) {
			nvp_qpair_free(qp);
			qd = f->d;
			qp = qpair_alloc_default(qd);
			CHECK(qp);
		}
		md_bufs_free(&b);
		CHECK(md_bufs_alloc(&b, f));
		for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
			uint64_t lba = MD_LBA + 64 + 16 * r;
			uint32_t rt = md_reftag(f, lba), cmd_rt = rt;
			uint8_t *t = b.md + 2 * f->ms + md_pi_off(f);	/* block 2 */
			uint8_t sct = rows[r].sct[f->pi], sc = rows[r].sc[f->pi];
			uint16_t st;

			pattern_fill(b.data, lba, MD_NLB, f->bs, itest_cfg.seed ^ r);
			memset(b.md, 0x3c, (size_t)MD_NLB * f->ms);
			md_tuples(f, b.data, b.md, MD_NLB, 0x1234, rt);
			switch (rows[r].mutate) {
			case 1:
				t[1] ^= 0x40;
				break;
			case 2:
				t[md_app_at(f) + 1] ^= 0x01;
				break;
			case 3:
				t[md_ref_last(f)] ^= 0x01;
				break;
			case 4:
				cmd_rt = rt + 5;
				md_tuples(f, b.data, b.md, MD_NLB, 0x1234, cmd_rt);
				break;
			case 5:
				t[1] ^= 0x40;
				t[md_app_at(f)] = t[md_app_at(f) + 1] = 0xff;
				break;
			}
			/* Checked write: refused with the check's status, or stored. */
			st = md_cmd(qp, f, &b, NVP_NVM_WRITE, lba, MD_NLB, rows[r].prinfo, 0x1234,
				    0xffff, cmd_rt);
			CHECKF(NVP_STATUS_SCT(st) == sct && NVP_STATUS_SC(st) == sc,
			       "%s: %s: checked write: status %#x (%s), expected SCT %u SC %#x", name,
			       rows[r].name, st, nvp_status_str(st), sct, sc);
			/* Unchecked write stores it as it is; a checked read finds it. */
			st = md_cmd(qp, f, &b, NVP_NVM_WRITE, lba, MD_NLB, 0, 0, 0, 0);
			CHECKF(st == 0, "%s: %s: unchecked write: status %#x %s", name, rows[r].name,
			       st, nvp_status_str(st));
			st = md_cmd(qp, f, &b, NVP_NVM_READ, lba, MD_NLB, rows[r].prinfo, 0x1234,
				    0xffff, cmd_rt);
			CHECKF(NVP_STATUS_SCT(st) == sct && NVP_STATUS_SC(st) == sc,
			       "%s: %s: checked read: status %#x (%s), expected SCT %u SC %#x", name,
			       rows[r].name, st, nvp_status_str(st), sct, sc);
			/* Unchecked reads still work, and the bad tuple is where it was put. */
			st = md_cmd(qp, f, &b, NVP_NVM_READ, lba, MD_NLB, 0, 0, 0, 0);
			CHECKF(st == 0, "%s: %s: unchecked read: status %#x %s", name, rows[r].name,
			       st, nvp_status_str(st));
		}
		/* An application tag check under a mask that hides the difference. */
		{
			uint64_t lba = MD_LBA + 64 + 16 * 6;
			uint32_t rt = md_reftag(f, lba);
			uint16_t st;

			pattern_fill(b.data, lba, MD_NLB, f->bs, itest_cfg.seed);
			md_tuples(f, b.data, b.md, MD_NLB, 0x1235, rt);
			st = md_cmd(qp, f, &b, NVP_NVM_WRITE, lba, MD_NLB, CHK_APP, 0x1234, 0xfff0, rt);
			CHECKF(st == 0, "%s: masked apptag: status %#x %s", name, st, nvp_status_str(st));
		}
		done++;
	}
	if (!done)
		itest_skipf("no namespace with PI (16-bit or 64-bit guard)");
	else
		itest_notef("%d namespace(s)", done);
out:
	nvp_qpair_free(qp);
	md_bufs_free(&b);
}
