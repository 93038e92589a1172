/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wal.h - a small write-ahead log on an NVMe namespace, built on nvpoll.
 *
 * The log is meant to be embedded in a database: several threads append
 * records, each through its own writer (and so its own NVMe queue pair),
 * and group-commit them with FUA writes or a write plus Flush. After a
 * crash, wal_open() or wal_recover() finds the end of the log by checksum.
 * See README.md in this directory for the design and on-disk format.
 *
 * LSNs. A record's LSN is its byte offset in the log area (as in PostgreSQL
 * and InnoDB), so reserving space and numbering a record are one atomic
 * step. LSNs grow with append order; the next record's LSN is this
 * record's LSN plus its size on disk (wal_record_disk_bytes()).
 *
 * The commit rule. wal_durable_lsn() returns D such that every record with
 * LSN < D is on stable media, and D is the end of a record. A record (say a
 * transaction's commit record) at LSN L is acknowledged once D > L. D only
 * moves past a record when all records before it are durable too, because
 * recovery keeps only a gap-free prefix of the log (see wal_recover()).
 *
 * Threads: wal_open(), wal_format(), wal_recover() and wal_close() from one
 * thread; each wal_writer is used by exactly one thread (it owns a queue
 * pair); wal_durable_lsn() from any thread.
 */
#ifndef NVPOLL_EXAMPLE_WAL_H
#define NVPOLL_EXAMPLE_WAL_H

#include <stdint.h>

#include <nvpoll/nvpoll.h>

struct wal;
struct wal_writer;

/* Bytes of record header in front of every payload on disk. */
#define WAL_RECORD_HEADER_BYTES 32u

/** enum wal_commit_mode - how wal_commit() makes a batch durable. */
enum wal_commit_mode {
	WAL_COMMIT_FUA = 0,	/* every write of the batch has Force Unit Access */
	WAL_COMMIT_FLUSH = 1,	/* plain writes, then one Flush per batch */
};

/**
 * struct wal_options - how to open a log.
 * @commit_mode: see enum wal_commit_mode.
 * @batch_bytes: staging buffer per writer; the largest group commit and the
 *               largest record (header and padding included). Default 1 MiB.
 * @max_writers: writers that may exist at once (1..64, default 64).
 */
struct wal_options {
	enum wal_commit_mode commit_mode;
	uint32_t batch_bytes;
	uint32_t max_writers;
};

/** wal_options_init() - defaults: FUA commits, 1 MiB batches, 64 writers. */
void wal_options_init(struct wal_options *opts);

/**
 * struct wal_recovery - what a scan of the log found.
 * @end_lsn: end of the recovered log: the first byte past the last record
 *           of the gap-free prefix. New records are appended here.
 * @records: records in that prefix.
 * @epoch: the epoch of the superblock the scan used.
 * @epoch_start_lsn: where that epoch's records begin; every record below
 *           it was already recovered by an earlier wal_open().
 * @log_bytes: capacity of the log area.
 * @stop_reason: why the scan stopped at @end_lsn (for people, not code).
 */
struct wal_recovery {
	uint64_t end_lsn;
	uint64_t records;
	uint64_t epoch;
	uint64_t epoch_start_lsn;
	uint64_t log_bytes;
	char stop_reason[96];
};

/**
 * typedef wal_record_fn - called for each recovered record, in LSN order.
 * @arg: the pointer given to wal_recover().
 * @lsn: the record's LSN.
 * @payload: its payload; valid only during the call.
 * @len: payload bytes.
 *
 * Return: 0 to continue, anything else stops the scan and is returned.
 */
typedef int (*wal_record_fn)(void *arg, uint64_t lsn, const void *payload, uint32_t len);

/**
 * wal_format() - create an empty log on @ns (the whole namespace).
 * @ctrl: attached controller.
 * @ns: namespace; its old contents need not be erased (see README.md).
 *
 * Return: 0 or a negative errno.
 */
int wal_format(struct nvp_ctrl *ctrl, struct nvp_ns *ns);

/**
 * wal_recover() - read-only scan: find the end of the log, call @fn per record.
 * @ctrl: attached controller.
 * @ns: namespace holding the log.
 * @fn: callback, or NULL.
 * @arg: passed to @fn.
 * @result: out: what the scan found.
 *
 * Recovery keeps the longest prefix of records in which each record is
 * valid (magic, CRC32C over header and payload, LSN equal to its position,
 * epoch allowed at that position) and starts exactly where the previous
 * one ends. The first record that fails any check is the end of the log:
 * it and everything after it were never acknowledged.
 *
 * Return: 0; -ENOENT if @ns holds no log (run wal_format()); -EUCLEAN if a
 * record below @result->epoch_start_lsn is damaged (data that an earlier
 * session had recovered, hence possibly acknowledged, is lost); the
 * callback's value; or an I/O error.
 */
int wal_recover(struct nvp_ctrl *ctrl, struct nvp_ns *ns, wal_record_fn fn, void *arg,
		struct wal_recovery *result);

/**
 * wal_open() - recover the log and start a new epoch for appending.
 * @ctrl: attached controller.
 * @ns: namespace holding the log.
 * @opts: options, or NULL for defaults.
 * @wal: out: the open log.
 * @recovered: out, optional: what recovery found.
 *
 * Writes a new superblock (FUA) whose epoch is one higher and whose
 * epoch_start_lsn is the recovered end, so records an earlier session
 * wrote beyond that end can never be mistaken for new ones.
 *
 * Return: 0 or a negative errno (as wal_recover()).
 */
int wal_open(struct nvp_ctrl *ctrl, struct nvp_ns *ns, const struct wal_options *opts,
	     struct wal **wal, struct wal_recovery *recovered);

/**
 * wal_close() - free the log; every writer must have been destroyed.
 * @wal: the log, or NULL.
 */
void wal_close(struct wal *wal);

/**
 * wal_writer_create() - a writer for the calling thread.
 * @wal: the open log.
 * @writer: out: the writer; it owns a queue pair and a staging buffer.
 *
 * Return: 0; -EBUSY when max_writers or the controller's queues are used up.
 */
int wal_writer_create(struct wal *wal, struct wal_writer **writer);

/**
 * wal_writer_destroy() - commit what is staged, then free the writer.
 * @writer: the writer, or NULL.
 *
 * If that last commit fails the log is failed (see wal_commit()).
 */
void wal_writer_destroy(struct wal_writer *writer);

/**
 * wal_reserve() - reserve the next record and get its LSN and payload space.
 * @writer: the calling thread's writer.
 * @len: payload bytes (0 is allowed: an empty record still takes a block).
 * @lsn: out: the record's LSN.
 * @payload: out: where to write the @len payload bytes, before wal_commit().
 *
 * Lock-free: one compare-and-swap on the log tail. If the staging buffer is
 * full, the staged batch is committed first (blocking). Until the writer
 * commits, the durable LSN cannot pass this record, so commit promptly.
 *
 * Return: 0; -EMSGSIZE if the record exceeds batch_bytes; -ENOSPC when the
 * log is full; -EIO if the log failed (an earlier commit failed).
 */
int wal_reserve(struct wal_writer *writer, uint32_t len, uint64_t *lsn, void **payload);

/**
 * wal_append() - wal_reserve() and copy @len bytes from @data.
 * @writer: the calling thread's writer.
 * @data: the payload.
 * @len: payload bytes.
 * @lsn: out: the record's LSN.
 */
int wal_append(struct wal_writer *writer, const void *data, uint32_t len, uint64_t *lsn);

/**
 * wal_commit() - write the staged records and wait until they are durable.
 * @writer: the calling thread's writer.
 *
 * One group commit: checksums every staged record, writes runs of adjacent
 * records with one command each (all submitted before waiting), then waits
 * for them and, in FLUSH mode, for one Flush. When it returns 0 this
 * writer's records are durable; they are acknowledged once
 * wal_durable_lsn() passes them, i.e. when lower LSNs of other writers are
 * durable too.
 *
 * Return: 0; or a negative errno, after which the log is failed: the
 * durable LSN stops before the failed records and every later reserve or
 * commit returns -EIO. Reopen the log (wal_open()) to recover.
 */
int wal_commit(struct wal_writer *writer);

/**
 * wal_durable_lsn() - the acknowledged end of the log.
 * @wal: the open log.
 *
 * Return: D: all records with LSN < D are durable and D is a record
 * boundary. Never decreases. Lock-free; any thread.
 */
uint64_t wal_durable_lsn(struct wal *wal);

/** wal_record_disk_bytes() - on-disk size of a record with @len payload bytes. */
uint64_t wal_record_disk_bytes(uint32_t len, uint32_t block_size);

/**
 * wal_crc32c() - CRC32C (Castagnoli), continuing from @crc (0 to start).
 *
 * With SSE4.2's crc32 instruction when the CPU has it (x86-64), else
 * wal_crc32c_portable(); both give the same result.
 */
uint32_t wal_crc32c(uint32_t crc, const void *data, size_t len);

/** wal_crc32c_portable() - the same, in plain C (slicing-by-8 tables). */
uint32_t wal_crc32c_portable(uint32_t crc, const void *data, size_t len);

/** wal_crc32c_impl() - which one wal_crc32c() uses: "sse4.2" or "portable (...)". */
const char *wal_crc32c_impl(void);

#endif /* NVPOLL_EXAMPLE_WAL_H */
