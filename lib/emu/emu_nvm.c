/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_nvm.c - namespaces and the NVM command set.
 *
 * A namespace is one mapping: private anonymous memory (MAP_NORESERVE, so
 * untouched blocks cost nothing and read as zeroes) or a MAP_SHARED file,
 * whose contents survive close and reopen. Deallocation punches holes, so
 * deallocated blocks read as zeroes either way (DLFEAT 001b).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/emu.h"
#include "util/log.h"

int nvp_emu_ns_open(struct nvp_emu *emu, uint32_t nsid, const struct emu_ns_opts *o)
{
	struct emu_ns *ns = &emu->ns[nsid - 1];
	uint64_t bytes = o->size, total;
	void *p;

	ns->nsid = nsid;
	ns->fd = -1;
	ns->block_size = o->block_size;
	ns->lbads = (uint8_t)__builtin_ctz(o->block_size);
	ns->ms = o->ms;
	ns->ext = o->ext;
	ns->pi = o->pi;
	ns->pi_first = o->pi_first;
	ns->pif = o->pif;
	ns->pi_size = o->pif ? 16 : 8;
	ns->pi_off = (uint16_t)(o->pi && !o->pi_first ? o->ms - ns->pi_size : 0);
	if (o->path[0]) {
		struct stat st;

		ns->fd = open(o->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (ns->fd < 0)
			return nvp_error(-errno, "emu: cannot open backing file %s for namespace %u: %s; check the path and permissions",
					 o->path, nsid, strerror(errno));
		if (fstat(ns->fd, &st))
			return nvp_error(-errno, "emu: cannot stat %s: %s", o->path, strerror(errno));
		/* A file holds the data, then the metadata (as QEMU's image). */
		if (!bytes)
			bytes = (uint64_t)st.st_size / (o->block_size + o->ms) * o->block_size;
		if (!bytes)
			return nvp_error(-EINVAL, "emu: backing file %s is empty and ns= gave no size; give one, e.g. ns=1G:4096:%s",
					 o->path, o->path);
		total = bytes + bytes / o->block_size * o->ms;
		/* Grow (sparsely) a file that is too small; never shrink one. */
		if ((uint64_t)st.st_size < total && ftruncate(ns->fd, (off_t)total))
			return nvp_error(-errno, "emu: cannot size %s to %llu bytes: %s", o->path,
					 (unsigned long long)total, strerror(errno));
		p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, ns->fd, 0);
	} else {
		total = bytes + bytes / o->block_size * o->ms;
		p = mmap(NULL, total, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (p == MAP_FAILED)
		return nvp_error(-errno, "emu: cannot map %llu bytes for namespace %u: %s; use a smaller ns= size",
				 (unsigned long long)total, nsid, strerror(errno));
	ns->data = p;
	ns->bytes = total;
	ns->nblocks = bytes / o->block_size;
	ns->md_off = bytes;
	ns->md = ns->data + bytes;
	return 0;
}

void nvp_emu_ns_close(struct emu_ns *ns)
{
	if (ns->data) {
		if (ns->fd >= 0)
			msync(ns->data, ns->bytes, MS_SYNC);
		munmap(ns->data, ns->bytes);
		ns->data = NULL;
	}
	if (ns->fd >= 0) {
		close(ns->fd);
		ns->fd = -1;
	}
}

bool nvp_emu_cmd_lba_range(const struct nvp_sqe *sqe, uint64_t *slba, uint32_t *nlb)
{
	switch (sqe->opc) {
	case NVP_NVM_READ:
	case NVP_NVM_WRITE:
	case NVP_NVM_COMPARE:
	case NVP_NVM_WRITE_ZEROES:
	case NVP_NVM_WRITE_UNCORRECTABLE:
	case NVP_NVM_VERIFY:
		*slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
		*nlb = (sqe->cdw12 & 0xffff) + 1;
		return true;
	default:
		return false;
	}
}

/* Make [off, off+len) read as zeroes, freeing storage where possible. */
static void emu_ns_zero(struct emu_ns *ns, uint64_t off, uint64_t len)
{
	uint64_t pg = 4096, start, end;

	if (ns->fd >= 0 &&
	    !fallocate(ns->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return;
	start = (off + pg - 1) & ~(pg - 1);
	end = (off + len) & ~(pg - 1);
	if (ns->fd < 0 && end > start) {
		memset(ns->data + off, 0, start - off);
		if (madvise(ns->data + start, end - start, MADV_DONTNEED))
			memset(ns->data + start, 0, end - start);
		memset(ns->data + end, 0, off + len - end);
		return;
	}
	memset(ns->data + off, 0, len);
}

void nvp_emu_ns_zero_range(struct emu_ns *ns, uint64_t off, uint64_t len)
{
	emu_ns_zero(ns, off, len);
}

static uint16_t emu_rw(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint64_t bytes = (uint64_t)nlb << ns->lbads;
	bool to_device = sqe->opc != NVP_NVM_READ;
	uint8_t *media;
	uint32_t nr;
	uint16_t st;

	/* Metadata moves block by block (lib/emu/emu_md.c). */
	if (__builtin_expect(ns->ms != 0, 0))
		return nvp_emu_md_rw(emu, ns, sqe);
	if (slba >= ns->nblocks || nlb > ns->nblocks - slba)
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	if (emu->max_xfer && bytes > emu->max_xfer)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (nvp_emu_map_data(emu, sqe, bytes, to_device, &nr, &st))
		return st;
	media = ns->data + (slba << ns->lbads);
	for (uint32_t i = 0; i < nr; i++) {
		struct emu_sg *g = &emu->sg[i];

		if (sqe->opc == NVP_NVM_READ) {
			if (g->va)
				memcpy(g->va, media, g->len);
		} else if (sqe->opc == NVP_NVM_WRITE) {
			memcpy(media, g->va, g->len);
		} else if (memcmp(media, g->va, g->len)) {
			return NVP_STATUS(NVP_SCT_MEDIA, NVP_SC_COMPARE_FAILURE);
		}
		media += g->len;
	}
	if (sqe->opc == NVP_NVM_WRITE) {
		emu->bytes_written += bytes;
		emu->host_writes++;
		/* FUA: a file-backed namespace writes through to the file. */
		if ((sqe->cdw12 & NVP_RW_FUA) && ns->fd >= 0) {
			uint64_t off = (slba << ns->lbads) & ~4095ull;

			msync(ns->data + off, (slba << ns->lbads) + bytes - off, MS_SYNC);
		}
	} else {
		emu->bytes_read += bytes;
		emu->host_reads++;
	}
	return 0;
}

static uint16_t emu_write_zeroes(struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;

	if (slba >= ns->nblocks || nlb > ns->nblocks - slba)
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	if (ns->ms)
		return nvp_emu_md_write_zeroes(ns, sqe);
	emu_ns_zero(ns, slba << ns->lbads, (uint64_t)nlb << ns->lbads);
	return 0;
}

static uint16_t emu_dsm(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	uint32_t nr = (sqe->cdw10 & 0xff) + 1;
	struct nvp_dsm_range *r = (struct nvp_dsm_range *)emu->bounce;
	uint16_t st;

	st = nvp_emu_from_host(emu, sqe, r, nr * sizeof(*r));
	if (st)
		return st;
	for (uint32_t i = 0; i < nr; i++) {	/* host memory: little-endian */
		r[i].cattr = nvp_le32_to_cpu(r[i].cattr);
		r[i].nlb = nvp_le32_to_cpu(r[i].nlb);
		r[i].slba = nvp_le64_to_cpu(r[i].slba);
	}
	if (!(sqe->cdw11 & NVP_DSM_ATTR_DEALLOCATE))
		return 0;	/* access hints only: nothing to do */
	/* Check every range before changing anything. */
	for (uint32_t i = 0; i < nr; i++)
		if (r[i].nlb && (r[i].slba >= ns->nblocks || r[i].nlb > ns->nblocks - r[i].slba))
			return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	for (uint32_t i = 0; i < nr; i++)
		if (r[i].nlb) {
			emu_ns_zero(ns, r[i].slba << ns->lbads, (uint64_t)r[i].nlb << ns->lbads);
			nvp_emu_md_deallocate(ns, r[i].slba, r[i].nlb);
		}
	return 0;
}

static void emu_flush(struct emu_ns *ns)
{
	if (ns->fd >= 0) {
		msync(ns->data, ns->bytes, MS_SYNC);
		fdatasync(ns->fd);
	}
}

uint16_t nvp_emu_nvm(struct nvp_emu *emu, const struct nvp_sqe *sqe)
{
	struct emu_ns *ns;

	if (sqe->opc == NVP_NVM_FLUSH && sqe->nsid == 0xffffffffu && emu->opts.vwc) {
		for (uint32_t i = 0; i < emu->nr_ns; i++)
			emu_flush(&emu->ns[i]);
		return 0;
	}
	switch (sqe->opc) {
	case NVP_NVM_FLUSH:
	case NVP_NVM_WRITE:
	case NVP_NVM_READ:
	case NVP_NVM_COMPARE:
	case NVP_NVM_WRITE_ZEROES:
	case NVP_NVM_DSM:
		break;
	default:
		return EMU_SC_DNR(NVP_SC_INVALID_OPCODE);
	}
	if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns)
		return EMU_SC_DNR(NVP_SC_INVALID_NS);
	ns = &emu->ns[sqe->nsid - 1];
	/* Raw Identify data gave it a format emu does not implement. */
	if (ns->unusable)
		return EMU_SC_DNR(NVP_SC_INVALID_NS);

	switch (sqe->opc) {
	case NVP_NVM_FLUSH:
		emu_flush(ns);
		return 0;
	case NVP_NVM_WRITE:
	case NVP_NVM_READ:
	case NVP_NVM_COMPARE:
		return emu_rw(emu, ns, sqe);
	case NVP_NVM_WRITE_ZEROES:
		return emu_write_zeroes(ns, sqe);
	default:
		return emu_dsm(emu, ns, sqe);
	}
}
