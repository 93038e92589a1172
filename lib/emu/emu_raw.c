/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_raw.c - raw device data for tests (emu:raw=PATH).
 *
 * Fuzzers and robustness tests need a controller that hands the driver
 * arbitrary Identify data, log pages and register values through the real
 * attach path. The file is a magic and a list of records:
 *
 *   "NVPEMUR1"
 *   { u8 type; u8 id; u16 flags; u32 nsid; u32 len; u8 data[len]; } ...
 *
 * little-endian, packed, no padding between records:
 *   type 1 Identify: id = CNS, nsid = the NSID it answers, len <= 4096
 *          (zero padded to 4096);
 *   type 2 log page: id = LID, nsid, 4 <= len <= 1 MiB, a multiple of 4
 *          (the log's size for offset and length checks);
 *   type 3 register: nsid = offset, 0x00 CAP (len 8) or 0x08 VS (len 4);
 *   flags bit 0: the record answers every NSID.
 *
 * The device serves a matching record instead of its own data and, so the
 * host never sees one device and talks to another, runs by it where that
 * matters (nvp_emu_raw_apply()). Absurd values are clamped there, never
 * trusted for memory access.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/emu.h"
#include "util/log.h"

#define EMU_RAW_MAGIC		"NVPEMUR1"
#define EMU_RAW_HDR		12
#define EMU_RAW_MAX_FILE	(64u << 20)
#define EMU_RAW_MAX_LOG		(1u << 20)
#define EMU_RAW_HELP		"see \"Raw device data\" in docs/emu.md"

static int emu_raw_bad(const struct nvp_emu *emu, size_t off, const char *why)
{
	return nvp_error(-EINVAL, "emu: raw=%s: record at byte %zu %s; fix the file (%s)",
			 emu->opts.raw, off, why, EMU_RAW_HELP);
}

static int emu_raw_check(const struct nvp_emu *emu, const struct emu_raw_rec *r, size_t off)
{
	switch (r->type) {
	case EMU_RAW_IDENTIFY:
		if (r->len > 4096)
			return emu_raw_bad(emu, off, "is an Identify page longer than 4096 bytes");
		return 0;
	case EMU_RAW_LOG:
		if (r->len < 4 || r->len > EMU_RAW_MAX_LOG || (r->len & 3))
			return emu_raw_bad(emu, off, "is a log page whose length is not a multiple of 4 from 4 to 1 MiB");
		return 0;
	case EMU_RAW_REG:
		if ((r->nsid == NVP_REG_CAP && r->len == 8) || (r->nsid == NVP_REG_VS && r->len == 4))
			return 0;
		return emu_raw_bad(emu, off, "is a register other than CAP (offset 0, 8 bytes) or VS (offset 8, 4 bytes)");
	default:
		return emu_raw_bad(emu, off, "has an unknown type (1 Identify, 2 log page, 3 register)");
	}
}

int nvp_emu_raw_load(struct nvp_emu *emu)
{
	struct stat st;
	size_t off, size, n = 0;
	uint8_t *buf;
	int fd, err;

	if (!emu->opts.raw[0])
		return 0;
	fd = open(emu->opts.raw, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return nvp_error(-err, "emu: cannot read raw=%s: %s; check the path", emu->opts.raw,
				 strerror(err));
	}
	if (st.st_size < 8 || (uint64_t)st.st_size > EMU_RAW_MAX_FILE) {
		close(fd);
		return nvp_error(-EINVAL, "emu: raw=%s is %lld bytes; a raw data file is 8 bytes (\"NVPEMUR1\") to 64 MiB (%s)",
				 emu->opts.raw, (long long)st.st_size, EMU_RAW_HELP);
	}
	size = (size_t)st.st_size;
	buf = malloc(size);
	if (!buf) {
		close(fd);
		return nvp_error(-ENOMEM, "emu: out of memory reading raw=%s", emu->opts.raw);
	}
	for (off = 0; off < size;) {
		ssize_t got = read(fd, buf + off, size - off);

		if (got <= 0) {
			err = got < 0 ? errno : EIO;
			close(fd);
			free(buf);
			return nvp_error(-err, "emu: cannot read raw=%s: %s; check the file", emu->opts.raw,
					 got < 0 ? strerror(err) : "it shrank while being read");
		}
		off += (size_t)got;
	}
	close(fd);
	emu->raw_file = buf;
	if (memcmp(buf, EMU_RAW_MAGIC, 8))
		return nvp_error(-EINVAL, "emu: raw=%s does not start with \"NVPEMUR1\"; is it a raw data file? (%s)",
				 emu->opts.raw, EMU_RAW_HELP);
	/* Count, then fill: every record is checked before any is used. */
	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		for (off = 8; off < size; n++) {
			struct emu_raw_rec r;
			int ret;

			if (size - off < EMU_RAW_HDR)
				return emu_raw_bad(emu, off, "is cut short: its 12-byte header runs past the end of the file");
			r.type = buf[off];
			r.id = buf[off + 1];
			memcpy(&r.flags, buf + off + 2, 2);
			memcpy(&r.nsid, buf + off + 4, 4);
			memcpy(&r.len, buf + off + 8, 4);
			/* The file is little-endian. */
			r.flags = nvp_le16_to_cpu(r.flags);
			r.nsid = nvp_le32_to_cpu(r.nsid);
			r.len = nvp_le32_to_cpu(r.len);
			if (r.len > size - off - EMU_RAW_HDR)
				return emu_raw_bad(emu, off, "is cut short: its data runs past the end of the file");
			r.data = buf + off + EMU_RAW_HDR;
			ret = emu_raw_check(emu, &r, off);
			if (ret)
				return ret;
			if (pass)
				emu->raw[n] = r;
			off += EMU_RAW_HDR + r.len;
		}
		if (!pass) {
			emu->raw = calloc(n ? n : 1, sizeof(*emu->raw));
			if (!emu->raw)
				return nvp_error(-ENOMEM, "emu: out of memory reading raw=%s", emu->opts.raw);
		}
	}
	emu->nr_raw = (uint32_t)n;
	return 0;
}

const struct emu_raw_rec *nvp_emu_raw_find(const struct nvp_emu *emu, uint8_t type, uint8_t id,
					   uint32_t nsid)
{
	const struct emu_raw_rec *any = NULL;

	for (uint32_t i = emu->nr_raw; i-- > 0;) {
		const struct emu_raw_rec *r = &emu->raw[i];

		if (r->type != type || (type != EMU_RAW_REG && r->id != id))
			continue;
		if (type == EMU_RAW_REG) {
			if (r->nsid == nsid)
				return r;	/* an offset: never a wildcard */
			continue;
		}
		if (r->nsid == nsid && !(r->flags & EMU_RAW_ANY_NSID))
			return r;
		if ((r->flags & EMU_RAW_ANY_NSID) && !any)
			any = r;
	}
	return any;
}

/* A record's bytes [off, off+n) into @dst; what the record lacks reads 0. */
static void emu_raw_get(const struct emu_raw_rec *r, uint32_t off, void *dst, uint32_t n)
{
	memset(dst, 0, n);
	if (off < r->len)
		memcpy(dst, r->data + off, r->len - off < n ? r->len - off : n);
}

void nvp_emu_raw_apply(struct nvp_emu *emu)
{
	const struct emu_raw_rec *r;

	r = nvp_emu_raw_find(emu, EMU_RAW_IDENTIFY, NVP_CNS_CTRL, 0);
	if (r) {
		struct nvp_id_ctrl id;

		emu_raw_get(r, 0, &id, sizeof(id));
		/* Clamped to what the device can run; MDTS beyond 64 bits = no limit. */
		emu->opts.mdts = id.mdts;
		emu->opts.dbbuf = nvp_le16_to_cpu(id.oacs) & NVP_OACS_DBBUF;
		emu->opts.sgl = (nvp_le32_to_cpu(id.sgls) & NVP_SGLS_SUPPORT_MASK) != 0;
		emu->opts.vwc = id.vwc & NVP_VWC_PRESENT;
	}
	for (uint32_t i = 0; i < emu->nr_ns; i++) {
		struct emu_ns *ns = &emu->ns[i];
		struct nvp_id_ns id;
		uint8_t fmt;

		r = nvp_emu_raw_find(emu, EMU_RAW_IDENTIFY, NVP_CNS_NS, ns->nsid);
		if (!r)
			continue;
		emu_raw_get(r, 0, &id, sizeof(id));
		fmt = NVP_ID_NS_FLBAS_INDEX(id.flbas);
		/* Only formats emu implements: 512 B to 64 KiB blocks. */
		if (fmt > id.nlbaf || fmt >= 64 || id.lbaf[fmt].lbads < 9 || id.lbaf[fmt].lbads > 16) {
			ns->unusable = true;
			ns->nblocks = 0;
			continue;
		}
		ns->lbads = id.lbaf[fmt].lbads;
		ns->block_size = 1u << ns->lbads;
		/* Never past the storage: the rest is LBA Out of Range. With
		 * metadata (ns=SIZE:BLOCK+MS), never past the blocks it was
		 * sized for either. */
		if (ns->ms) {
			uint64_t n = ns->md_off >> ns->lbads;

			ns->nblocks = n < ns->nblocks ? n : ns->nblocks;
		} else {
			ns->nblocks = ns->bytes >> ns->lbads;
		}
		if (nvp_le64_to_cpu(id.nsze) < ns->nblocks)
			ns->nblocks = nvp_le64_to_cpu(id.nsze);
	}
}
