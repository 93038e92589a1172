/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wal.c - a write-ahead log on an NVMe namespace (see wal.h and README.md).
 *
 * Layout of the namespace, in logical blocks of size BS:
 *
 *   LBA 0, 1    superblock slots; the valid one with the highest epoch
 *               wins, and a new superblock goes to slot epoch % 2, so a
 *               torn superblock write leaves the previous one intact
 *   LBA 2 ...   the log area; LSN = byte offset into it
 *
 * Every integer on disk is little-endian and written through the put_le*()
 * helpers, so the format does not depend on the host.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "wal.h"

/* ------------------------------------------------------------------------ */
/* On-disk format                                                           */
/* ------------------------------------------------------------------------ */

#define WAL_SUPERBLOCK_SLOTS	2
#define WAL_LOG_START_LBA	WAL_SUPERBLOCK_SLOTS
#define WAL_SUPERBLOCK_VERSION	1
#define WAL_SUPERBLOCK_MAGIC	0x42534c415750564eull /* "NVPWALSB" read as LE */
#define WAL_RECORD_MAGIC	0x524c4157u		/* "WALR" read as LE */

/*
 * Superblock, at the start of its block:
 *    0  u64 magic            "NVPWALSB"
 *    8  u32 version          1
 *   12  u32 block_size       must equal the namespace's LBA size
 *   16  u64 epoch            bumped by every wal_format() and wal_open()
 *   24  u64 format_epoch     epoch of the last wal_format()
 *   32  u64 epoch_start_lsn  records at or above this LSN must carry @epoch
 *   40  u64 log_start_lba    first block of the log area
 *   48  u64 log_bytes        size of the log area
 *   56  u32 crc32c           over bytes 0..63 with this field zero
 *   60  u32 reserved         0
 */
#define WAL_SUPERBLOCK_BYTES	64u

/*
 * Record header, at the start of the record's first block:
 *    0  u32 magic            "WALR"
 *    4  u32 crc32c           over the header (this field zero) and payload
 *    8  u64 lsn              byte offset of this record in the log area
 *   16  u64 epoch            the epoch of the session that wrote it
 *   24  u32 payload_len      bytes of payload that follow the header
 *   28  u32 reserved         0
 * The payload follows; the record is zero-padded to whole blocks, and the
 * padding is not checksummed.
 */
#define WAL_RECORD_CRC_OFFSET	4u

/* Largest record recovery will believe; wal_open() caps batch_bytes to it. */
#define WAL_MAX_RECORD_BYTES	(16u << 20)
#define WAL_MAX_WRITERS		64u
#define WAL_SCAN_WINDOW_BYTES	(1u << 20)

struct wal_superblock {
	uint32_t block_size;
	uint64_t epoch;
	uint64_t format_epoch;
	uint64_t epoch_start_lsn;
	uint64_t log_start_lba;
	uint64_t log_bytes;
};

struct wal_record_header {
	uint64_t lsn;
	uint64_t epoch;
	uint32_t payload_len;
	uint32_t crc;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ------------------------------------------------------------------------ */
/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78)                      */
/* ------------------------------------------------------------------------ */

/*
 * Portable: slicing-by-8, eight bytes per step through eight 256-entry
 * tables (table[0] is the classic byte-at-a-time table).
 */
static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_table_once = PTHREAD_ONCE_INIT;

static void crc32c_build_table(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int t = 1; t < 8; t++)
			crc32c_table[t][n] = (crc32c_table[t - 1][n] >> 8) ^
					     crc32c_table[0][crc32c_table[t - 1][n] & 0xff];
}

uint32_t wal_crc32c_portable(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&crc32c_table_once, crc32c_build_table);
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v = get_le64(p) ^ crc;

		crc = crc32c_table[7][v & 0xff] ^ crc32c_table[6][(v >> 8) & 0xff] ^
		      crc32c_table[5][(v >> 16) & 0xff] ^ crc32c_table[4][(v >> 24) & 0xff] ^
		      crc32c_table[3][(v >> 32) & 0xff] ^ crc32c_table[2][(v >> 40) & 0xff] ^
		      crc32c_table[1][(v >> 48) & 0xff] ^ crc32c_table[0][v >> 56];
	}
	while (len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
/*
 * SSE4.2's crc32 instruction computes exactly CRC32C, eight bytes per
 * instruction. Compiled for SSE4.2 on its own and used only when the CPU
 * says it has it (__builtin_cpu_supports), so the example still runs
 * anywhere.
 */
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t c = ~crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c = __builtin_ia32_crc32di(c, v);
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

typedef uint32_t (*crc32c_fn)(uint32_t, const void *, size_t);

static crc32c_fn crc32c_pick(const char **name)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2")) {
		*name = "sse4.2";
		return crc32c_sse42;
	}
#endif
	*name = "portable (slicing-by-8)";
	return wal_crc32c_portable;
}

static crc32c_fn crc32c_impl;
static const char *crc32c_impl_name;
static pthread_once_t crc32c_impl_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
	crc32c_impl = crc32c_pick(&crc32c_impl_name);
}

uint32_t wal_crc32c(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc32c_impl_once, crc32c_init);
	return crc32c_impl(crc, data, len);
}

const char *wal_crc32c_impl(void)
{
	pthread_once(&crc32c_impl_once, crc32c_init);
	return crc32c_impl_name;
}

uint64_t wal_record_disk_bytes(uint32_t len, uint32_t block_size)
{
	uint64_t bytes = (uint64_t)WAL_RECORD_HEADER_BYTES + len;

	return (bytes + block_size - 1) / block_size * block_size;
}

static void superblock_encode(const struct wal_superblock *sb, uint8_t *block)
{
	memset(block, 0, WAL_SUPERBLOCK_BYTES);
	put_le64(block + 0, WAL_SUPERBLOCK_MAGIC);
	put_le32(block + 8, WAL_SUPERBLOCK_VERSION);
	put_le32(block + 12, sb->block_size);
	put_le64(block + 16, sb->epoch);
	put_le64(block + 24, sb->format_epoch);
	put_le64(block + 32, sb->epoch_start_lsn);
	put_le64(block + 40, sb->log_start_lba);
	put_le64(block + 48, sb->log_bytes);
	put_le32(block + 56, wal_crc32c(0, block, WAL_SUPERBLOCK_BYTES));
}

/* Return: true if @block holds an intact superblock, decoded into @sb. */
static bool superblock_decode(const uint8_t *block, struct wal_superblock *sb)
{
	uint8_t copy[WAL_SUPERBLOCK_BYTES];

	if (get_le64(block) != WAL_SUPERBLOCK_MAGIC || get_le32(block + 8) != WAL_SUPERBLOCK_VERSION)
		return false;
	memcpy(copy, block, sizeof(copy));
	put_le32(copy + 56, 0);
	if (wal_crc32c(0, copy, sizeof(copy)) != get_le32(block + 56))
		return false;
	sb->block_size = get_le32(block + 12);
	sb->epoch = get_le64(block + 16);
	sb->format_epoch = get_le64(block + 24);
	sb->epoch_start_lsn = get_le64(block + 32);
	sb->log_start_lba = get_le64(block + 40);
	sb->log_bytes = get_le64(block + 48);
	return true;
}

/* The header with a zero CRC field; the CRC is filled in at commit. */
static void record_header_encode(const struct wal_record_header *h, uint8_t *p)
{
	put_le32(p + 0, WAL_RECORD_MAGIC);
	put_le32(p + 4, 0);
	put_le64(p + 8, h->lsn);
	put_le64(p + 16, h->epoch);
	put_le32(p + 24, h->payload_len);
	put_le32(p + 28, 0);
}

/* CRC of a whole record whose header sits at @rec: header with a zero CRC
 * field, then the payload. */
static uint32_t record_crc(const uint8_t *rec, uint32_t payload_len)
{
	uint8_t header[WAL_RECORD_HEADER_BYTES];

	memcpy(header, rec, sizeof(header));
	put_le32(header + WAL_RECORD_CRC_OFFSET, 0);
	return wal_crc32c(wal_crc32c(0, header, sizeof(header)),
			  rec + WAL_RECORD_HEADER_BYTES, payload_len);
}

/* ------------------------------------------------------------------------ */
/* Polled I/O helpers                                                       */
/* ------------------------------------------------------------------------ */

/* Commands of one batch in flight on a queue pair. */
struct wal_io_batch {
	uint32_t outstanding;
	uint16_t first_error;	/* NVMe status of the first failed command, or 0 */
};

static void wal_io_done(void *arg, const struct nvp_cqe *cpl)
{
	struct wal_io_batch *io = arg;

	if (NVP_CPL_IS_ERROR(cpl) && !io->first_error)
		io->first_error = cpl->status;
	io->outstanding--;
}

/*
 * Poll until every command of @io has completed. Yields the CPU when a poll
 * finds nothing: the polling threads may outnumber the cores (the emulated
 * controller's device thread needs one too); with writers pinned to
 * dedicated cores the yield can go.
 */
static int wal_io_wait(struct nvp_qpair *qp, struct wal_io_batch *io)
{
	while (io->outstanding) {
		int rc = nvp_qpair_poll(qp, 0);

		if (rc < 0)
			return rc;
		if (rc == 0)
			sched_yield();
	}
	if (io->first_error) {
		fprintf(stderr, "wal: I/O failed: %s\n", nvp_status_str(io->first_error));
		return nvp_status_to_errno(io->first_error);
	}
	return 0;
}

enum wal_io_op { WAL_IO_READ, WAL_IO_WRITE, WAL_IO_FLUSH };

/* Submit one command, polling for a free request while the queue is full. */
static int wal_io_submit(struct nvp_qpair *qp, struct nvp_ns *ns, enum wal_io_op op,
			 void *buf, uint64_t lba, uint32_t nlb, uint32_t flags,
			 struct wal_io_batch *io)
{
	for (;;) {
		int rc;

		if (op == WAL_IO_READ)
			rc = nvp_read(qp, ns, buf, lba, nlb, flags, wal_io_done, io);
		else if (op == WAL_IO_WRITE)
			rc = nvp_write(qp, ns, buf, lba, nlb, flags, wal_io_done, io);
		else
			rc = nvp_flush(qp, ns, wal_io_done, io);
		if (rc == 0) {
			io->outstanding++;
			return 0;
		}
		if (rc != -EAGAIN) {
			fprintf(stderr, "wal: submit: %s\n", nvp_last_error());
			return rc;
		}
		rc = nvp_qpair_poll(qp, 0);
		if (rc < 0)
			return rc;
	}
}

static int wal_io_sync(struct nvp_qpair *qp, struct nvp_ns *ns, enum wal_io_op op,
		       void *buf, uint64_t lba, uint32_t nlb, uint32_t flags)
{
	struct wal_io_batch io = { 0 };
	int rc = wal_io_submit(qp, ns, op, buf, lba, nlb, flags, &io);

	return rc ? rc : wal_io_wait(qp, &io);
}

/* ------------------------------------------------------------------------ */
/* Superblocks                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Read both superblock slots.
 * Return: 0 with the newest valid one in @sb, -ENOENT if neither is valid,
 * or an I/O error.
 */
static int superblock_read(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t *block_buf,
			   struct wal_superblock *sb)
{
	uint32_t bs = nvp_ns_get_info(ns)->block_size;
	bool found = false;

	for (uint32_t slot = 0; slot < WAL_SUPERBLOCK_SLOTS; slot++) {
		struct wal_superblock candidate;
		int rc = wal_io_sync(qp, ns, WAL_IO_READ, block_buf, slot, 1, 0);

		if (rc)
			return rc;
		if (!superblock_decode(block_buf, &candidate) || candidate.block_size != bs)
			continue;
		if (!found || candidate.epoch > sb->epoch)
			*sb = candidate;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

/* Durably write @sb to the slot its epoch selects. */
static int superblock_write(struct nvp_qpair *qp, struct nvp_ns *ns, uint8_t *block_buf,
			    const struct wal_superblock *sb)
{
	memset(block_buf, 0, sb->block_size);
	superblock_encode(sb, block_buf);
	return wal_io_sync(qp, ns, WAL_IO_WRITE, block_buf, sb->epoch % WAL_SUPERBLOCK_SLOTS, 1,
			   NVP_IO_FUA);
}

int wal_format(struct nvp_ctrl *ctrl, struct nvp_ns *ns)
{
	const struct nvp_ns_info *info = nvp_ns_get_info(ns);
	struct nvp_qpair *qp = NULL;
	struct wal_superblock old, sb;
	uint8_t *block;
	int rc;

	if (info->num_blocks <= WAL_LOG_START_LBA + 1)
		return -ENOSPC;
	block = nvp_dma_alloc(info->block_size, 0, nvp_ctrl_numa_node(ctrl));
	if (!block)
		return -ENOMEM;
	rc = nvp_qpair_alloc(ctrl, NULL, &qp);
	if (rc)
		goto out;
	rc = superblock_read(qp, ns, block, &old);
	if (rc && rc != -ENOENT)
		goto out;
	/*
	 * The log area is not erased: records of earlier logs stay, and the
	 * epoch is what tells them apart. So the new epoch must be one no
	 * earlier record carries: one past the old log's, or, when there is no
	 * readable superblock (an unknown past), a random 40-bit number.
	 */
	if (rc == 0) {
		sb.epoch = old.epoch + 1;
	} else {
		uint64_t random_epoch = 0;

		if (getrandom(&random_epoch, sizeof(random_epoch), 0) != sizeof(random_epoch)) {
			rc = -errno;
			goto out;
		}
		sb.epoch = (random_epoch & ((1ull << 40) - 1)) + 1;
	}
	sb.block_size = info->block_size;
	sb.format_epoch = sb.epoch;
	sb.epoch_start_lsn = 0;
	sb.log_start_lba = WAL_LOG_START_LBA;
	sb.log_bytes = (info->num_blocks - WAL_LOG_START_LBA) * info->block_size;
	rc = superblock_write(qp, ns, block, &sb);
out:
	nvp_qpair_free(qp);
	nvp_dma_free(block);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Recovery                                                                 */
/* ------------------------------------------------------------------------ */

/* A read window over the log area, so records are not read one by one. */
struct wal_scan {
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	const struct wal_superblock *sb;
	uint8_t *buf;
	uint64_t buf_bytes;
	uint64_t win_lsn;
	uint64_t win_bytes;
};

/* Point *@out at log bytes [@lsn, @lsn + @bytes), reading if needed. */
static int scan_view(struct wal_scan *s, uint64_t lsn, uint64_t bytes, const uint8_t **out)
{
	uint32_t bs = s->sb->block_size;
	int rc;

	if (lsn >= s->win_lsn && lsn + bytes <= s->win_lsn + s->win_bytes) {
		*out = s->buf + (lsn - s->win_lsn);
		return 0;
	}
	if (bytes > s->buf_bytes) {
		nvp_dma_free(s->buf);
		s->buf_bytes = bytes;
		s->buf = nvp_dma_alloc(bytes, 0, nvp_ctrl_numa_node(s->ctrl));
		if (!s->buf)
			return -ENOMEM;
	}
	s->win_lsn = lsn;
	s->win_bytes = s->buf_bytes < s->sb->log_bytes - lsn ? s->buf_bytes :
							       s->sb->log_bytes - lsn;
	rc = wal_io_sync(s->qp, s->ns, WAL_IO_READ, s->buf, s->sb->log_start_lba + lsn / bs,
			 (uint32_t)(s->win_bytes / bs), 0);
	if (rc) {
		s->win_bytes = 0;
		return rc;
	}
	*out = s->buf;
	return 0;
}

/*
 * Check the record that should start at @lsn.
 * Return: NULL and the record in @h/@rec if it is valid, else why not.
 */
static const char *scan_check_record(struct wal_scan *s, uint64_t lsn, uint64_t prev_epoch,
				     struct wal_record_header *h, const uint8_t **rec, int *io_rc)
{
	const struct wal_superblock *sb = s->sb;
	const uint8_t *p;
	uint64_t disk_bytes;

	*io_rc = scan_view(s, lsn, sb->block_size, &p);
	if (*io_rc)
		return "read error";
	if (get_le32(p) != WAL_RECORD_MAGIC)
		return "no record magic";
	h->lsn = get_le64(p + 8);
	h->epoch = get_le64(p + 16);
	h->payload_len = get_le32(p + 24);
	h->crc = get_le32(p + WAL_RECORD_CRC_OFFSET);
	if (h->lsn != lsn)
		return "record LSN does not match its position";
	/*
	 * Below epoch_start_lsn lie records that earlier sessions recovered:
	 * their epochs lie between the format and this session and never
	 * decrease. From epoch_start_lsn on, only this epoch's records count;
	 * anything else is left over from before a crash or a format.
	 */
	if (lsn < sb->epoch_start_lsn) {
		if (h->epoch < sb->format_epoch || h->epoch >= sb->epoch || h->epoch < prev_epoch)
			return "record from another epoch";
	} else if (h->epoch != sb->epoch) {
		return "record from another epoch";
	}
	disk_bytes = wal_record_disk_bytes(h->payload_len, sb->block_size);
	if (disk_bytes > WAL_MAX_RECORD_BYTES || disk_bytes > sb->log_bytes - lsn)
		return "record length out of range";
	*io_rc = scan_view(s, lsn, disk_bytes, rec);
	if (*io_rc)
		return "read error";
	if (record_crc(*rec, h->payload_len) != h->crc)
		return "checksum mismatch (torn or damaged record)";
	return NULL;
}

/* Scan with an existing queue pair; @sb_out gets the superblock used. */
static int wal_scan_log(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, struct nvp_ns *ns,
			wal_record_fn fn, void *arg, struct wal_recovery *result,
			struct wal_superblock *sb_out)
{
	const struct nvp_ns_info *info = nvp_ns_get_info(ns);
	struct wal_superblock sb;
	struct wal_scan scan = { .ctrl = ctrl, .qp = qp, .ns = ns, .sb = &sb };
	uint64_t lsn = 0, prev_epoch;
	int rc;

	memset(result, 0, sizeof(*result));
	scan.buf_bytes = WAL_SCAN_WINDOW_BYTES;
	scan.buf = nvp_dma_alloc(scan.buf_bytes, 0, nvp_ctrl_numa_node(ctrl));
	if (!scan.buf)
		return -ENOMEM;
	rc = superblock_read(qp, ns, scan.buf, &sb);
	if (rc)
		goto out;
	if (sb.log_start_lba < WAL_LOG_START_LBA || sb.log_bytes % sb.block_size ||
	    sb.log_start_lba + sb.log_bytes / sb.block_size > info->num_blocks) {
		rc = -EINVAL;	/* made for a bigger namespace: not ours to trust */
		goto out;
	}
	result->epoch = sb.epoch;
	result->epoch_start_lsn = sb.epoch_start_lsn;
	result->log_bytes = sb.log_bytes;
	prev_epoch = sb.format_epoch;

	for (;;) {
		struct wal_record_header h;
		const uint8_t *rec;
		const char *invalid;

		if (sb.log_bytes - lsn < sb.block_size) {
			snprintf(result->stop_reason, sizeof(result->stop_reason), "log area full");
			break;
		}
		invalid = scan_check_record(&scan, lsn, prev_epoch, &h, &rec, &rc);
		if (rc)
			goto out;
		if (invalid) {
			snprintf(result->stop_reason, sizeof(result->stop_reason), "%s", invalid);
			/* Data an earlier session recovered is gone: not a torn tail. */
			if (lsn < sb.epoch_start_lsn)
				rc = -EUCLEAN;
			break;
		}
		if (fn) {
			rc = fn(arg, lsn, rec + WAL_RECORD_HEADER_BYTES, h.payload_len);
			if (rc)
				break;
		}
		prev_epoch = h.epoch;
		lsn += wal_record_disk_bytes(h.payload_len, sb.block_size);
		result->records++;
	}
	result->end_lsn = lsn;
	if (sb_out)
		*sb_out = sb;
out:
	nvp_dma_free(scan.buf);
	return rc;
}

int wal_recover(struct nvp_ctrl *ctrl, struct nvp_ns *ns, wal_record_fn fn, void *arg,
		struct wal_recovery *result)
{
	struct nvp_qpair *qp;
	int rc = nvp_qpair_alloc(ctrl, NULL, &qp);

	if (rc)
		return rc;
	rc = wal_scan_log(ctrl, qp, ns, fn, arg, result, NULL);
	nvp_qpair_free(qp);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The open log                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Per writer, the lowest LSN it may have reserved and not yet made durable,
 * or UINT64_MAX when it has nothing staged. See wal_durable_lsn().
 */
struct wal_writer_slot {
	_Atomic uint64_t oldest_pending_lsn;
	atomic_bool in_use;
};

struct wal {
	struct nvp_ctrl *ctrl;
	struct nvp_ns *ns;
	struct wal_options opts;
	uint32_t block_size;
	uint64_t log_start_lba;
	uint64_t log_bytes;
	uint64_t epoch;
	_Atomic uint64_t tail;		/* next LSN to reserve */
	_Atomic uint64_t durable_hwm;	/* highest value wal_durable_lsn() returned */
	atomic_bool failed;
	struct wal_writer_slot slots[WAL_MAX_WRITERS];
};

/* A reserved record waiting in a writer's staging buffer. */
struct wal_staged_record {
	uint64_t lsn;
	uint32_t buf_offset;
	uint32_t payload_len;
	uint32_t disk_bytes;
};

struct wal_writer {
	struct wal *wal;
	struct wal_writer_slot *slot;
	struct nvp_qpair *qp;
	uint8_t *buf;			/* staging buffer, DMA memory */
	uint32_t buf_used;
	struct wal_staged_record *staged;
	uint32_t num_staged;
	uint32_t max_staged;
};

void wal_options_init(struct wal_options *opts)
{
	opts->commit_mode = WAL_COMMIT_FUA;
	opts->batch_bytes = 1u << 20;
	opts->max_writers = WAL_MAX_WRITERS;
}

int wal_open(struct nvp_ctrl *ctrl, struct nvp_ns *ns, const struct wal_options *opts,
	     struct wal **wal_out, struct wal_recovery *recovered)
{
	struct wal_recovery scan_result;
	struct wal_superblock sb;
	struct nvp_qpair *qp = NULL;
	struct wal *wal;
	uint8_t *block = NULL;
	int rc;

	wal = calloc(1, sizeof(*wal));
	if (!wal)
		return -ENOMEM;
	if (opts)
		wal->opts = *opts;
	else
		wal_options_init(&wal->opts);
	if (wal->opts.max_writers == 0 || wal->opts.max_writers > WAL_MAX_WRITERS ||
	    wal->opts.batch_bytes > WAL_MAX_RECORD_BYTES) {
		rc = -EINVAL;
		goto fail;
	}
	wal->ctrl = ctrl;
	wal->ns = ns;
	wal->block_size = nvp_ns_get_info(ns)->block_size;
	if (wal->opts.batch_bytes < wal->block_size) {
		rc = -EINVAL;
		goto fail;
	}
	rc = nvp_qpair_alloc(ctrl, NULL, &qp);
	if (rc)
		goto fail;
	rc = wal_scan_log(ctrl, qp, ns, NULL, NULL, &scan_result, &sb);
	if (rc)
		goto fail;
	block = nvp_dma_alloc(wal->block_size, 0, nvp_ctrl_numa_node(ctrl));
	if (!block) {
		rc = -ENOMEM;
		goto fail;
	}
	/*
	 * The recovered records become the committed past of the new epoch.
	 * They were read back, but a crash between a write's completion and
	 * its Flush can leave them in the device's volatile cache only, so
	 * flush before declaring them committed in the superblock.
	 */
	rc = wal_io_sync(qp, ns, WAL_IO_FLUSH, NULL, 0, 0, 0);
	if (rc)
		goto fail;
	sb.epoch++;
	sb.epoch_start_lsn = scan_result.end_lsn;
	rc = superblock_write(qp, ns, block, &sb);
	if (rc)
		goto fail;
	scan_result.epoch = sb.epoch;
	scan_result.epoch_start_lsn = sb.epoch_start_lsn;

	wal->log_start_lba = sb.log_start_lba;
	wal->log_bytes = sb.log_bytes;
	wal->epoch = sb.epoch;
	atomic_init(&wal->tail, scan_result.end_lsn);
	atomic_init(&wal->durable_hwm, scan_result.end_lsn);
	atomic_init(&wal->failed, false);
	for (uint32_t i = 0; i < WAL_MAX_WRITERS; i++) {
		atomic_init(&wal->slots[i].oldest_pending_lsn, UINT64_MAX);
		atomic_init(&wal->slots[i].in_use, false);
	}
	nvp_dma_free(block);
	nvp_qpair_free(qp);
	if (recovered)
		*recovered = scan_result;
	*wal_out = wal;
	return 0;
fail:
	nvp_dma_free(block);
	nvp_qpair_free(qp);
	free(wal);
	return rc;
}

void wal_close(struct wal *wal)
{
	free(wal);
}

/*
 * The durable LSN without a lock. Each writer announces, before it
 * reserves the first record of a batch, a lower bound on that record's LSN
 * (oldest_pending_lsn), and withdraws it only once the whole batch is
 * durable. Reading the tail first and then every writer's bound gives
 * D = min(tail, bounds): any record below the tail was reserved before
 * the tail was read, so its writer's bound was already announced (sequential
 * consistency) and is still there unless the record is durable. D is a
 * record boundary because the tail and every bound are tail values.
 *
 * A writer may announce a stale tail, which can make D smaller than a value
 * returned earlier; still correct, so keep the maximum to stay monotonic.
 */
uint64_t wal_durable_lsn(struct wal *wal)
{
	uint64_t durable = atomic_load(&wal->tail);
	uint64_t hwm;

	for (uint32_t i = 0; i < wal->opts.max_writers; i++) {
		uint64_t pending = atomic_load(&wal->slots[i].oldest_pending_lsn);

		if (pending < durable)
			durable = pending;
	}
	hwm = atomic_load(&wal->durable_hwm);
	while (durable > hwm && !atomic_compare_exchange_weak(&wal->durable_hwm, &hwm, durable))
		;
	return durable > hwm ? durable : hwm;
}

int wal_writer_create(struct wal *wal, struct wal_writer **writer_out)
{
	struct wal_writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->wal = wal;
	for (uint32_t i = 0; i < wal->opts.max_writers && !w->slot; i++) {
		bool expected = false;

		if (atomic_compare_exchange_strong(&wal->slots[i].in_use, &expected, true))
			w->slot = &wal->slots[i];
	}
	if (!w->slot) {
		free(w);
		return -EBUSY;
	}
	w->max_staged = wal->opts.batch_bytes / wal->block_size;
	w->staged = calloc(w->max_staged, sizeof(*w->staged));
	w->buf = nvp_dma_alloc(wal->opts.batch_bytes, 0, nvp_ctrl_numa_node(wal->ctrl));
	if (!w->staged || !w->buf) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = nvp_qpair_alloc(wal->ctrl, NULL, &w->qp);
	if (rc)
		goto fail;
	*writer_out = w;
	return 0;
fail:
	nvp_dma_free(w->buf);
	free(w->staged);
	atomic_store(&w->slot->in_use, false);
	free(w);
	return rc;
}

void wal_writer_destroy(struct wal_writer *w)
{
	if (!w)
		return;
	wal_commit(w);
	nvp_qpair_free(w->qp);
	nvp_dma_free(w->buf);
	free(w->staged);
	/*
	 * A writer whose records never became durable keeps its slot, and with
	 * it its oldest_pending_lsn: the durable LSN must never pass the hole.
	 */
	if (w->num_staged == 0)
		atomic_store(&w->slot->in_use, false);
	free(w);
}

int wal_reserve(struct wal_writer *w, uint32_t len, uint64_t *lsn_out, void **payload)
{
	struct wal *wal = w->wal;
	uint64_t disk_bytes = wal_record_disk_bytes(len, wal->block_size);
	struct wal_record_header h;
	struct wal_staged_record *rec;
	uint64_t lsn;
	uint8_t *p;
	int rc;

	if (atomic_load(&wal->failed))
		return -EIO;
	if (disk_bytes > wal->opts.batch_bytes)
		return -EMSGSIZE;
	if (w->buf_used + disk_bytes > wal->opts.batch_bytes || w->num_staged == w->max_staged) {
		rc = wal_commit(w);
		if (rc)
			return rc;
	}
	/*
	 * Lock-free reservation: one CAS moves the tail past this record and so
	 * gives it both its LSN and its place on disk. A CAS and not a fetch-add,
	 * so that a full log refuses the record without moving the tail. The
	 * first record of a batch announces its writer's oldest pending LSN
	 * before the CAS (see wal_durable_lsn()).
	 */
	lsn = atomic_load(&wal->tail);
	do {
		if (disk_bytes > wal->log_bytes - lsn) {
			if (w->num_staged == 0)
				atomic_store(&w->slot->oldest_pending_lsn, UINT64_MAX);
			return -ENOSPC;
		}
		if (w->num_staged == 0)
			atomic_store(&w->slot->oldest_pending_lsn, lsn);
	} while (!atomic_compare_exchange_weak(&wal->tail, &lsn, lsn + disk_bytes));

	rec = &w->staged[w->num_staged++];
	rec->lsn = lsn;
	rec->buf_offset = w->buf_used;
	rec->payload_len = len;
	rec->disk_bytes = (uint32_t)disk_bytes;
	p = w->buf + w->buf_used;
	h.lsn = lsn;
	h.epoch = wal->epoch;
	h.payload_len = len;
	record_header_encode(&h, p);
	/* Zero the padding so old staging-buffer contents never reach disk. */
	memset(p + WAL_RECORD_HEADER_BYTES + len, 0, disk_bytes - WAL_RECORD_HEADER_BYTES - len);
	w->buf_used += (uint32_t)disk_bytes;
	*lsn_out = lsn;
	*payload = p + WAL_RECORD_HEADER_BYTES;
	return 0;
}

int wal_append(struct wal_writer *w, const void *data, uint32_t len, uint64_t *lsn)
{
	void *payload;
	int rc = wal_reserve(w, len, lsn, &payload);

	if (rc == 0)
		memcpy(payload, data, len);
	return rc;
}

int wal_commit(struct wal_writer *w)
{
	struct wal *wal = w->wal;
	uint32_t flags = wal->opts.commit_mode == WAL_COMMIT_FUA ? NVP_IO_FUA : 0;
	struct wal_io_batch io = { 0 };
	int rc = 0, wait_rc;

	if (atomic_load(&wal->failed))
		return -EIO;
	if (w->num_staged == 0)
		return 0;
	/* The payloads are final now: checksum every record. */
	for (uint32_t i = 0; i < w->num_staged; i++) {
		uint8_t *rec = w->buf + w->staged[i].buf_offset;

		put_le32(rec + WAL_RECORD_CRC_OFFSET, record_crc(rec, w->staged[i].payload_len));
	}
	/*
	 * Records this writer reserved back to back are adjacent on disk and in
	 * the staging buffer: one write per run. Submit every run, then wait,
	 * so the device works on the whole group at once.
	 */
	for (uint32_t first = 0, last; first < w->num_staged && rc == 0; first = last + 1) {
		const struct wal_staged_record *run = &w->staged[first];
		uint64_t run_bytes = run->disk_bytes;

		for (last = first; last + 1 < w->num_staged &&
		     w->staged[last].lsn + w->staged[last].disk_bytes == w->staged[last + 1].lsn;
		     last++)
			run_bytes += w->staged[last + 1].disk_bytes;
		rc = wal_io_submit(w->qp, wal->ns, WAL_IO_WRITE, w->buf + run->buf_offset,
				   wal->log_start_lba + run->lsn / wal->block_size,
				   (uint32_t)(run_bytes / wal->block_size), flags, &io);
	}
	/* Even after a submit error, wait: submitted writes still use the buffer. */
	wait_rc = wal_io_wait(w->qp, &io);
	if (!rc)
		rc = wait_rc;
	/* Flush after the writes completed: it covers exactly those writes. */
	if (!rc && wal->opts.commit_mode == WAL_COMMIT_FLUSH)
		rc = wal_io_sync(w->qp, wal->ns, WAL_IO_FLUSH, NULL, 0, 0, 0);
	if (rc) {
		/* The reserved LSNs are now a hole the durable LSN must never pass:
		 * keep oldest_pending_lsn and refuse all further work. */
		atomic_store(&wal->failed, true);
		return rc;
	}
	atomic_store(&w->slot->oldest_pending_lsn, UINT64_MAX);
	w->num_staged = 0;
	w->buf_used = 0;
	return 0;
}
