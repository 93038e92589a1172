/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu.h - the emulated NVMe controller's internals.
 *
 * One device thread owns all controller state (queues, namespaces, logs);
 * the only state shared with other threads is the register file (the
 * host's view, accessed with atomics on this side), the fault list (under
 * a mutex, checked only when a fault is armed), one-shot requests (an
 * atomic bit mask) and the counters (single writer, relaxed atomics).
 */
#ifndef NVP_LIB_EMU_EMU_H
#define NVP_LIB_EMU_EMU_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvpoll/emu.h>
#include <nvpoll/spec.h>

#include "dev/device.h"
#include "mem/mem.h"

#define EMU_MAX_NS		16
#define EMU_MAX_QPAIRS		511	/* shadow doorbells fit one 4 KiB page */
#define EMU_MAX_FAULTS		32
#define EMU_MAX_EVENTS		16
#define EMU_AERL		3	/* 0's based: 4 outstanding AERs */
#define EMU_ACL			3	/* 0's based: 4 outstanding Aborts */
#define EMU_ERRLOG_ENTRIES	64
#define EMU_MPSMAX		4	/* 64 KiB pages */
#define EMU_CAP_TO		20	/* 10 s, in 500 ms units */
#define EMU_MAX_MS		256	/* metadata bytes per block (ns=SIZE:BLOCK+MS) */

/* Per-namespace options as parsed. */
struct emu_ns_opts {
	uint64_t size;		/* bytes; 0 = size of the existing file */
	uint32_t block_size;
	uint16_t ms;		/* metadata bytes per block (LBAF MS), 0 = none */
	bool ext;		/* extended LBAs (FLBAS bit 4), else separate (MPTR) */
	uint8_t pi;		/* protection information type 0..3 (DPS) */
	bool pi_first;		/* PI in the first metadata bytes (DPS bit 3) */
	uint8_t pif;		/* PI format (ELBAF PIF): 0 16-bit guard, 2 64-bit guard */
	char path[PATH_MAX];	/* backing file, or "" for RAM */
	/* zoned=ZSIZE[/ZCAP], zone_open=N, zone_active=N (emu_zns.c) */
	uint64_t zone_size;	/* bytes; 0 = not zoned */
	uint64_t zone_cap;	/* bytes */
	uint32_t max_open;	/* 0 = no limit */
	uint32_t max_active;	/* 0 = no limit */
};

/**
 * struct emu_opts - a parsed address spec.
 * @nr_ns: number of namespaces (NSIDs 1..@nr_ns).
 * @ns: their options.
 * @mdts: Identify MDTS (2^n 4 KiB pages; 0 = no limit).
 * @qpairs: most I/O queue pairs Number of Queues grants.
 * @mqes: most entries per queue (CAP.MQES + 1).
 * @lat_us: latency added to every I/O command.
 * @serial: Identify serial number.
 * @sgl: advertise and accept SGLs.
 * @dbbuf: advertise Doorbell Buffer Config.
 * @vwc: advertise a volatile write cache.
 * @cpu: CPU to pin the device thread to, or -1 for any.
 * @raw: test-only file of raw device data (see lib/emu/emu_raw.c), or "".
 * @cmb_bytes: Controller Memory Buffer size (cmb=SIZE, whole MiB), 0 = none.
 */
struct emu_opts {
	unsigned int nr_ns;
	struct emu_ns_opts ns[EMU_MAX_NS];
	uint8_t mdts;
	uint32_t qpairs;
	uint32_t mqes;
	uint32_t lat_us;
	char serial[21];
	bool sgl;
	bool dbbuf;
	bool vwc;
	int cpu;
	char raw[PATH_MAX];
	uint8_t msrc;		/* Copy: source ranges, 0's based */
	uint16_t mssrl;		/* Copy: blocks per source range */
	uint32_t mcl;		/* Copy: blocks in all */
	uint16_t acwu;		/* compare-and-write unit, 0's based */
	bool cmds;		/* Verify, Copy, Write Uncorrectable, fused pairs */
	uint8_t zasl;		/* ZNS append limit, 2^n 4 KiB pages, 0 = MDTS */
	uint64_t cmb_bytes;
};

/**
 * nvp_emu_parse_opts() - parse an emulated controller address.
 * @spec: "emu:" followed by options, or just the options (see docs/emu.md).
 * @opts: out: the options, defaults filled in.
 *
 * Return: 0, or -EINVAL with a message listing the valid options.
 */
int nvp_emu_parse_opts(const char *spec, struct emu_opts *opts);

struct emu_ns {
	uint32_t nsid;
	uint32_t block_size;
	uint8_t lbads;
	bool unusable;		/* raw Identify data gave a format emu cannot run */
	uint64_t nblocks;
	uint64_t bytes;		/* the whole mapping: data, then metadata */
	int fd;			/* backing file, or -1 for RAM */
	uint8_t *data;		/* the whole namespace, mmapped */
	/* Blocks made uncorrectable (Write Uncorrectable), as sorted,
	 * disjoint extents; a write of them repairs them (emu_cmds.c). */
	struct emu_extent *uncor;
	uint32_t nr_uncor;
	uint32_t cap_uncor;
	struct emu_zns *zns;	/* zoned namespace state, or NULL (emu_zns.c) */
	/* Metadata (lib/emu/emu_md.c): @ms bytes per block at @md + lba * @ms,
	 * after the data in the same mapping (and file), as QEMU keeps it. */
	uint16_t ms;
	bool ext;
	uint8_t pi;
	bool pi_first;
	uint8_t pif;		/* 0: 16-bit guard (8-byte tuple); 2: 64-bit guard (16) */
	uint8_t pi_size;	/* bytes in a PI tuple */
	uint16_t pi_off;	/* offset of the PI tuple in a block's metadata */
	uint64_t md_off;	/* offset of @md in the mapping */
	uint8_t *md;
};

struct emu_extent {
	uint64_t slba;
	uint64_t nlb;
};

/*
 * Raw device data (emu:raw=PATH, test-only): pages served as they are in
 * place of the device's own, and register values. See emu_raw.c.
 */
enum emu_raw_type {
	EMU_RAW_IDENTIFY = 1,	/* @id = CNS */
	EMU_RAW_LOG = 2,	/* @id = log page identifier */
	EMU_RAW_REG = 3,	/* @nsid = register offset (CAP, VS) */
};

#define EMU_RAW_ANY_NSID	(1u << 0)	/* record flag: matches every NSID */

struct emu_raw_rec {
	uint8_t type;
	uint8_t id;
	uint16_t flags;
	uint32_t nsid;
	uint32_t len;
	const uint8_t *data;
};

/**
 * nvp_emu_raw_load() - read and check the raw data file of emu:raw=PATH.
 * @emu: the controller (opts.raw names the file).
 *
 * Return: 0 (also when there is no file), or a negative errno with a
 * message naming the file and the offset of the bad record.
 */
int nvp_emu_raw_load(struct nvp_emu *emu);

/**
 * nvp_emu_raw_find() - the raw record for a request, if any.
 * @emu: the controller.
 * @type: enum emu_raw_type.
 * @id: CNS or log page identifier (0 for registers).
 * @nsid: the request's NSID (or register offset).
 *
 * Return: the last record with exactly this NSID, else the last one that
 * matches any NSID, else NULL.
 */
const struct emu_raw_rec *nvp_emu_raw_find(const struct nvp_emu *emu, uint8_t type, uint8_t id,
					   uint32_t nsid);

/**
 * nvp_emu_raw_apply() - make the device behave as its raw data says.
 * @emu: the controller, namespaces open.
 *
 * Takes MDTS/OACS/SGLS/VWC from a raw Identify Controller, and each
 * namespace's block size and size from its raw Identify Namespace (a
 * format emu cannot run makes the namespace refuse I/O). A raw CAP is
 * applied by nvp_emu_open() itself, as it sizes the register file.
 */
void nvp_emu_raw_apply(struct nvp_emu *emu);

/* Doorbell as last observed through the register and the shadow entry. */
struct emu_db {
	uint32_t last_mmio;
	uint32_t last_shadow;
};

struct emu_cpl {
	struct emu_cpl *next;
	struct nvp_cqe cqe;
};

struct emu_cq {
	bool valid;
	uint16_t qid;
	uint32_t size;
	uint64_t iova;
	struct nvp_cqe *ring;
	uint32_t tail;
	uint32_t head;
	uint16_t phase;
	uint32_t sq_refs;
	struct emu_db db;
	/* Completions waiting for the host to free a slot, in order. */
	struct emu_cpl *backlog;
	struct emu_cpl *backlog_tail;
};

struct emu_sq {
	bool valid;
	uint16_t qid;
	uint16_t cqid;
	uint32_t size;
	uint64_t iova;
	struct nvp_sqe *ring;
	uint32_t head;
	uint32_t tail;
	struct emu_db db;
	bool in_cmb;		/* @ring is in the CMB (emu_cmb.c) */
};

/* What the armed faults decided for one command. */
struct emu_cmd_fault {
	bool hit;
	bool status_set;
	bool drop;
	bool dup;
	bool extra;
	uint16_t status;
	uint16_t extra_cid;
	uint64_t delay_us;
	/* NVP_EMU_FAULT_PI: NVP_EMU_PI_* fields to corrupt in the blocks of
	 * [pi_slba, pi_slba + pi_nlb) the command touches. */
	uint32_t pi_fields;
	uint64_t pi_slba;
	uint64_t pi_nlb;
	/* NVP_EMU_FAULT_CQE: NVP_EMU_CQE_* bits and the values they select. */
	uint32_t cqe_fields;
	struct nvp_cqe cqe;
};

/* A command held in the device until @due_ns. */
struct emu_pending {
	struct emu_pending *next;
	uint64_t due_ns;
	uint16_t sqid;
	struct nvp_sqe sqe;
	struct emu_cmd_fault fault;
};

struct emu_armed_fault {
	struct nvp_emu_fault f;
	uint32_t left;
};

struct emu_event {
	uint8_t type;
	uint8_t info;
	uint8_t lid;
};

/* One-shot requests from other threads to the device thread. */
#define EMU_REQ_FATAL		(1u << 0)
#define EMU_REQ_REMOVE		(1u << 1)
#define EMU_REQ_EVENT		(1u << 2)

/* Counters: written by the device thread only, read by anyone. */
struct emu_counters {
	uint64_t admin_cmds[256];
	uint64_t io_cmds[256];
	uint64_t cqes_posted;
	uint64_t cqes_dropped;
	uint64_t faults_hit;
	uint64_t dma_faults;
	uint64_t cq_full_waits;
	uint64_t invalid_doorbells;
	uint64_t aborted;
	uint64_t errors_logged;
	uint64_t resets;
	uint64_t deep_sleeps;
	uint32_t io_sqs;
	uint32_t io_cqs;
	uint32_t pending;
	uint32_t aers;
	uint32_t dbbuf;
	uint32_t enabled;
	uint32_t fatal;
	uint32_t removed;
	uint32_t cmb_sqs;
	uint64_t cmb_cmds;
};

/* Single-writer counter update: a plain load and store, no lock prefix. */
#define EMU_INC(emu, field, n)                                                     \
	__atomic_store_n(&(emu)->cnt.field,                                        \
			 __atomic_load_n(&(emu)->cnt.field, __ATOMIC_RELAXED) + (n), \
			 __ATOMIC_RELAXED)
#define EMU_SET(emu, field, v) __atomic_store_n(&(emu)->cnt.field, (v), __ATOMIC_RELAXED)

/* One used PRP list position; @gen tells the current command's apart. */
struct emu_prp_seen {
	uint64_t addr;
	uint32_t gen;
};

/* A host memory range of one transfer, already translated. */
struct emu_sg {
	uint8_t *va;		/* NULL for an SGL bit bucket */
	uint32_t len;
};

/**
 * struct nvp_emu - one emulated controller; @dev is what nvp_emu_open()
 * hands out (dev->emu points back here).
 */
/**
 * struct emu_cmb - the Controller Memory Buffer (emu_cmb.c; device thread).
 * @mem: its bytes (NULL: no CMB). @size: their number (cmb=SIZE).
 * @msc: CMBMSC as last acted on. @cba: CMBMSC.CBA. @cmse: CMBMSC.CMSE
 *       accepted: addresses in [@cba, @cba + @size) are the CMB's.
 */
struct emu_cmb {
	uint8_t *mem;
	uint64_t size;
	uint64_t msc;
	uint64_t cba;
	bool cmse;
};

/* emu_cmb.c */
int nvp_emu_cmb_open(struct nvp_emu *emu);
void nvp_emu_cmb_close(struct nvp_emu *emu);
/* Act on a changed CMBMSC (QEMU 7.2's semantics). Device thread. */
void nvp_emu_cmb_check(struct nvp_emu *emu);
/* @addr..+@len inside the enabled CMB: where it is, else NULL. */
void *nvp_emu_cmb_va(struct nvp_emu *emu, uint64_t addr, size_t len);
int nvp_emu_cmb_map_bar(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map);
void nvp_emu_cmb_unmap_bar(struct nvp_device *dev, struct nvp_bar_map *map);

struct nvp_emu {
	struct nvp_device dev;
	struct emu_opts opts;
	struct nvp_dma_domain domain;
	bool domain_attached;

	/* Register file: BAR0 as the host sees it. */
	uint32_t *regs;
	size_t regs_size;

	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_uint requests;

	/* Faults and queued events, shared with API callers. */
	pthread_mutex_t lock;
	atomic_uint faults_armed;
	struct emu_armed_fault faults[EMU_MAX_FAULTS];
	struct emu_event events_in[EMU_MAX_EVENTS];
	unsigned int nr_events_in;

	struct emu_counters cnt;

	/* ---- everything below belongs to the device thread ---- */
	uint32_t nr_ns;
	struct emu_ns ns[EMU_MAX_NS];

	uint32_t cc;		/* CC as last acted on */
	bool ready;
	bool fatal;
	bool removed;
	bool shutdown;
	uint32_t page_size;	/* CC.MPS */
	uint64_t max_xfer;	/* MDTS in bytes, 0 = no limit */
	uint32_t db_stride;	/* bytes between doorbells: 4 << CAP.DSTRD */
	uint64_t cap;		/* CAP as shown at open */

	struct emu_sq *sqs;	/* [0..qpairs] */
	struct emu_cq *cqs;
	uint16_t *active_sqs;	/* IDs of existing SQs, admin first */
	uint32_t nr_active_sqs;
	uint32_t rr_next;
	uint32_t nsq_granted;	/* Number of Queues, not 0's based */
	uint32_t ncq_granted;
	bool io_queues_created;	/* since the last reset */

	/* Doorbell Buffer Config. */
	uint32_t *shadow_db;
	uint32_t *eventidx;
	uint32_t shadow_slots;	/* 32-bit entries in each of the two pages */

	struct emu_pending *pending;	/* FIFO */
	struct emu_pending *pending_tail;
	struct emu_pending *pending_free;
	uint64_t pending_next_due;

	uint16_t aer_cids[EMU_AERL + 1];
	uint32_t nr_aers;
	struct emu_event events[EMU_MAX_EVENTS];
	uint32_t nr_events;
	uint16_t aer_masked_lid[8];	/* per event type: log ID + 1, 0 = not masked */

	uint32_t features[32];

	struct nvp_error_log errlog[EMU_ERRLOG_ENTRIES];
	uint64_t error_count;

	/* SMART counters. */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t host_reads;
	uint64_t host_writes;
	uint64_t start_ns;

	/* Scratch: translated ranges of the current command. */
	struct emu_sg *sg;
	uint32_t sg_cap;
	uint8_t *bounce;	/* one page for admin data and compare */
	size_t bounce_size;
	uint8_t *md_blk;	/* one block and its metadata (emu_md.c), lazily */
	size_t md_blk_size;
	/* Raw device data (emu:raw=), read once at open. */
	uint8_t *raw_file;
	struct emu_raw_rec *raw;
	uint32_t nr_raw;

	struct emu_cmb cmb;

	/* PRP list positions the current command's walk has used (a set). */
	struct emu_prp_seen *prp_seen;
	uint32_t prp_seen_cap;	/* a power of two, or 0 */
	uint32_t prp_seen_n;
	uint32_t prp_gen;	/* entries of other commands are stale */

	/* Zoned namespaces (emu_zns.c). */
	bool css_csi;		/* CC.CSS = 110b: zoned commands accepted */
	uint64_t io_result;	/* the I/O command's CQE DW0/DW1 (Zone Append) */
};

/* Status word helpers (phase bit clear). */
#define EMU_SC(sc)		NVP_STATUS(NVP_SCT_GENERIC, sc)
#define EMU_SC_DNR(sc)		(NVP_STATUS(NVP_SCT_GENERIC, sc) | NVP_STATUS_DNR_BIT)
#define EMU_CS_DNR(sc)		(NVP_STATUS(NVP_SCT_CMD_SPECIFIC, sc) | NVP_STATUS_DNR_BIT)
/* Returned by a handler that keeps the command (AER): no completion now. */
#define EMU_HOLD		0xffffu

/* ---- lib/emu/emu_zns.c: zoned namespaces ---- */

/** nvp_emu_zns_open() - zone state for a namespace with zoned= options. */
int nvp_emu_zns_open(struct emu_ns *ns, const struct emu_ns_opts *o);

/** nvp_emu_zns_close() - free it. */
void nvp_emu_zns_close(struct emu_ns *ns);

/** nvp_emu_zns_any() - some namespace is zoned (CAP.CSS offers CSI). */
bool nvp_emu_zns_any(const struct emu_opts *o);

/**
 * nvp_emu_zns_identify() - Identify CNS 05h/06h and the CSI descriptor.
 * @emu: controller. @sqe: the Identify. @buf: the 4096-byte page to fill.
 *
 * Return: 0 (filled), or the status.
 */
uint16_t nvp_emu_zns_identify(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint8_t *buf);

/**
 * nvp_emu_zns_before() - a command on a zoned namespace, before the NVM
 * handler: zone checks and transitions, or the whole ZNS command.
 * @emu: controller. @ns: a zoned namespace.
 * @sqe: in/out: a Zone Append is replaced by a Write at the write pointer
 *       (in @scratch).
 * @scratch: room for that Write.
 * @st: out: the status when it returns true.
 *
 * Return: true when the command is finished (@st), false to go on.
 */
bool nvp_emu_zns_before(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe **sqe,
			struct nvp_sqe *scratch, uint16_t *st);

/** nvp_emu_zns_after() - advance the write pointer of a write that passed. */
void nvp_emu_zns_after(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
		       uint16_t st);

/** nvp_emu_ns_zero_range() - make a byte range of @ns read as zeroes. */
void nvp_emu_ns_zero_range(struct emu_ns *ns, uint64_t off, uint64_t len);

/** nvp_emu_dev_set_zone() - nvp_emu_set_zone_state() on the device. */
int nvp_emu_dev_set_zone(struct nvp_emu *emu, uint32_t nsid, uint64_t zslba, uint8_t state);

/* ---- lib/emu/emu_core.c: device thread, queues, completions ---- */

/** nvp_emu_now_ns() - CLOCK_MONOTONIC in nanoseconds. */
uint64_t nvp_emu_now_ns(void);

/**
 * nvp_emu_post() - complete a command that has no SQE at hand.
 * @emu: the controller.
 * @sqid: its submission queue.
 * @cid: its command ID.
 * @status: CQE status word without the phase bit.
 * @dw0: command-specific result.
 *
 * Error statuses are added to the error log; the CQE waits if its CQ is full.
 */
void nvp_emu_post(struct nvp_emu *emu, uint16_t sqid, uint16_t cid, uint16_t status,
		  uint32_t dw0);

/**
 * nvp_emu_log_error() - add an Error Information log entry.
 * @emu: the controller.
 * @sqid: queue the command came from.
 * @sqe: the command.
 * @status: its completion status.
 */
void nvp_emu_log_error(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
		       uint16_t status);

/**
 * nvp_emu_queue_event() - queue an asynchronous event for the next AER.
 * @emu: the controller.
 * @type: event type (enum nvp_aer_type).
 * @info: event information.
 * @lid: log page that clears it.
 */
void nvp_emu_queue_event(struct nvp_emu *emu, uint8_t type, uint8_t info, uint8_t lid);

/**
 * nvp_emu_post_events() - complete outstanding AERs with queued, unmasked events.
 * @emu: the controller.
 */
void nvp_emu_post_events(struct nvp_emu *emu);

/**
 * nvp_emu_abort_pending() - abort a command held in the device.
 * @emu: the controller.
 * @sqid: its submission queue.
 * @cid: its command ID.
 *
 * Return: true if it was held and has been completed with Abort Requested.
 */
bool nvp_emu_abort_pending(struct nvp_emu *emu, uint16_t sqid, uint16_t cid);

/**
 * nvp_emu_flush_sq_pending() - complete every held command of an SQ being
 * deleted, with Command Abort due to SQ Deletion.
 * @emu: the controller.
 * @sqid: the queue.
 */
void nvp_emu_flush_sq_pending(struct nvp_emu *emu, uint16_t sqid);

/**
 * nvp_emu_rebuild_active() - recompute the arbitration list of existing SQs.
 * @emu: the controller.
 */
void nvp_emu_rebuild_active(struct nvp_emu *emu);

/**
 * nvp_emu_db_reset() - zero a doorbell (register and shadow) for a new queue.
 * @emu: the controller.
 * @idx: doorbell index (2 * qid for SQ tail, 2 * qid + 1 for CQ head).
 * @db: the queue's view of it.
 */
void nvp_emu_db_reset(struct nvp_emu *emu, uint32_t idx, struct emu_db *db);

/**
 * nvp_emu_sq_doorbell() - read an SQ's tail doorbell and take a new tail.
 * @emu: the controller.
 * @sq: the queue.
 *
 * Called by the device thread on every pass; tests call it directly.
 */
void nvp_emu_sq_doorbell(struct nvp_emu *emu, struct emu_sq *sq);

/**
 * nvp_emu_cq_doorbell() - read a CQ's head doorbell and take a new head.
 * @emu: the controller.
 * @cq: the queue.
 */
void nvp_emu_cq_doorbell(struct nvp_emu *emu, struct emu_cq *cq);

/* ---- lib/emu/emu_dma.c: PRP/SGL walking and data copies ---- */

/**
 * nvp_emu_dma_va() - translate a bus range that must be contiguous.
 * @emu: the controller (counts DMA faults).
 * @iova: bus address.
 * @len: bytes.
 *
 * Return: the virtual address, or NULL (a DMA fault, counted and logged).
 */
void *nvp_emu_dma_va(struct nvp_emu *emu, uint64_t iova, size_t len);

/**
 * nvp_emu_map_data() - translate a command's PRPs or SGL into emu->sg.
 * @emu: the controller.
 * @sqe: the command.
 * @len: bytes the command transfers.
 * @to_device: data flows from the host (bit buckets are then invalid).
 * @nr_sg: out: entries in emu->sg (a NULL va is a bit bucket).
 * @status: out: the CQE status on failure.
 *
 * Return: 0, or -EIO with @status set.
 */
int nvp_emu_map_data(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint64_t len,
		     bool to_device, uint32_t *nr_sg, uint16_t *status);

/**
 * nvp_emu_to_host() - copy data to the command's host buffer.
 * @emu: the controller.
 * @sqe: the command (PRPs or SGL).
 * @src: the data.
 * @len: bytes of data at @src.
 * @xfer_len: bytes the host asked for; beyond @len the host gets zeroes.
 *
 * Return: 0 or a CQE status.
 */
uint16_t nvp_emu_to_host(struct nvp_emu *emu, const struct nvp_sqe *sqe, const void *src,
			 size_t len, size_t xfer_len);

/**
 * nvp_emu_from_host() - copy data from the command's host buffer.
 * @emu: the controller.
 * @sqe: the command.
 * @dst: where to put it.
 * @len: bytes.
 *
 * Return: 0 or a CQE status.
 */
uint16_t nvp_emu_from_host(struct nvp_emu *emu, const struct nvp_sqe *sqe, void *dst,
			   size_t len);

/* ---- lib/emu/emu_cmds.c: Compare, fused pairs, Verify, Copy, Write
 * Uncorrectable ---- */

/**
 * nvp_emu_uncor_hit() - whether any of [@slba, @slba + @nlb) is uncorrectable.
 * @ns: the namespace. @slba/@nlb: the blocks (already in range).
 */
bool nvp_emu_uncor_hit(const struct emu_ns *ns, uint64_t slba, uint64_t nlb);

/**
 * nvp_emu_uncor_clear() - blocks written (or deallocated): readable again.
 * @ns: the namespace. @slba/@nlb: the blocks.
 *
 * Return: 0, or a CQE status if the extent list could not be grown.
 */
uint16_t nvp_emu_uncor_clear(struct emu_ns *ns, uint64_t slba, uint64_t nlb);

/** nvp_emu_uncor_free() - drop a namespace's extent list. @ns: the namespace. */
void nvp_emu_uncor_free(struct emu_ns *ns);

/**
 * nvp_emu_cmds() - Verify, Copy and Write Uncorrectable on namespace @ns.
 * @emu: the controller. @ns: the namespace. @sqe: the command.
 *
 * Return: the CQE status.
 */
uint16_t nvp_emu_cmds(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe);

/**
 * nvp_emu_fused() - a fetched command with FUSE bits set: fetch its partner
 * from @sq (a first half), run the pair atomically, complete both.
 * @emu: the controller. @sq: the I/O submission queue, head past @sqe.
 * @sqe: the command, CPU order.
 *
 * Return: commands fetched (1 or 2).
 */
int nvp_emu_fused(struct nvp_emu *emu, struct emu_sq *sq, const struct nvp_sqe *sqe);

/* ---- lib/emu/emu_admin.c ---- */

/**
 * nvp_emu_admin() - execute an admin command.
 * @emu: the controller.
 * @sqe: the command.
 * @dw0: out: CQE DW0.
 *
 * Return: CQE status, or EMU_HOLD when the command stays outstanding (AER).
 */
uint16_t nvp_emu_admin(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint32_t *dw0);

/**
 * nvp_emu_features_reset() - feature values (and queue grant) after reset.
 * @emu: the controller.
 */
void nvp_emu_features_reset(struct nvp_emu *emu);

/* ---- lib/emu/emu_nvm.c ---- */

/**
 * nvp_emu_nvm() - execute an NVM command set command.
 * @emu: the controller.
 * @sqe: the command.
 *
 * Return: CQE status.
 */
uint16_t nvp_emu_nvm(struct nvp_emu *emu, const struct nvp_sqe *sqe);

/**
 * nvp_emu_ns_open() - create namespace @nsid's storage (RAM or file).
 * @emu: the controller.
 * @nsid: 1-based namespace ID.
 * @o: its options.
 *
 * Return: 0 or a negative errno with a message.
 */
int nvp_emu_ns_open(struct nvp_emu *emu, uint32_t nsid, const struct emu_ns_opts *o);

/**
 * nvp_emu_ns_close() - sync (files) and unmap a namespace.
 * @ns: the namespace; closing twice is harmless.
 */
void nvp_emu_ns_close(struct emu_ns *ns);

/**
 * nvp_emu_ns_zero_range() - make bytes of a namespace's mapping read as zeroes.
 * @ns: the namespace.
 * @off: offset in the mapping (data, or metadata at @ns->md_off).
 * @len: bytes.
 *
 * Frees the storage where it can (holes in a file, dropped pages in RAM).
 */
void nvp_emu_ns_zero_range(struct emu_ns *ns, uint64_t off, uint64_t len);

/**
 * nvp_emu_cmd_lba_range() - the LBA range of an I/O command, if it has one.
 * @sqe: the command.
 * @slba: out: first LBA.
 * @nlb: out: number of blocks.
 *
 * Return: true for Read, Write, Compare, Write Zeroes and the like.
 */
bool nvp_emu_cmd_lba_range(const struct nvp_sqe *sqe, uint64_t *slba, uint32_t *nlb);

/* ---- lib/emu/emu_md.c: metadata and end-to-end protection ---- */

/* PRINFO, CDW12 bits 29:26 of Read, Write, Compare, Write Zeroes. */
#define EMU_PRINFO(cdw12)	(((cdw12) >> 26) & 0xf)
#define EMU_PRINFO_PRACT	(1u << 3)
#define EMU_PRINFO_PRCHK_GUARD	(1u << 2)
#define EMU_PRINFO_PRCHK_APP	(1u << 1)
#define EMU_PRINFO_PRCHK_REF	(1u << 0)
#define EMU_PRINFO_PRCHK_MASK	0x7u

/**
 * nvp_emu_md_rw() - Read, Write or Compare on a namespace with metadata.
 * @emu: the controller.
 * @ns: the namespace (@ns->ms != 0).
 * @sqe: the command.
 *
 * Moves metadata in the namespace's layout and applies PRACT/PRCHK when it
 * is formatted with protection information, as QEMU 7.2 does.
 *
 * Return: CQE status.
 */
uint16_t nvp_emu_md_rw(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe);

/**
 * nvp_emu_md_write_zeroes() - Write Zeroes on a namespace with metadata.
 * @ns: the namespace (@ns->ms != 0).
 * @sqe: the command.
 *
 * Zeroes data and metadata; with PRACT on a PI namespace it writes PI
 * tuples (guard 0, the command's tags) instead.
 *
 * Return: CQE status.
 */
uint16_t nvp_emu_md_write_zeroes(struct emu_ns *ns, const struct nvp_sqe *sqe);

/**
 * nvp_emu_md_deallocate() - forget the metadata of deallocated blocks.
 * @ns: the namespace.
 * @slba: first block.
 * @nlb: blocks.
 *
 * Deallocated blocks read back zeroed metadata and, on a PI namespace, a
 * PI tuple of all ones (which disables the checks), as QEMU reports them.
 */
void nvp_emu_md_deallocate(struct emu_ns *ns, uint64_t slba, uint64_t nlb);

/**
 * nvp_emu_md_corrupt() - apply an NVP_EMU_FAULT_PI fault before a command.
 * @emu: the controller.
 * @sqe: the command the fault matched.
 * @f: what the faults decided (@f->pi_fields != 0).
 *
 * Flips bit 0 of the chosen fields of the stored PI tuples of the blocks
 * that are both in the command's LBA range and in the fault's, as media
 * corruption would; it persists. Does nothing on namespaces without PI.
 */
void nvp_emu_md_corrupt(struct nvp_emu *emu, const struct nvp_sqe *sqe,
			const struct emu_cmd_fault *f);

/**
 * nvp_emu_crc64_nvme() - the 64-bit guard (CRC-64/NVME, reflected polynomial
 * 9A6C9329AC4BC9B5h), without the final inversion.
 * @crc: ~0 to start, or the value so far.
 * @buf: bytes.
 * @len: their count.
 *
 * Return: the running CRC; invert it for the guard.
 */
uint64_t nvp_emu_crc64_nvme(uint64_t crc, const uint8_t *buf, size_t len);

/**
 * nvp_emu_crc16_t10dif() - the T10-DIF guard (CRC-16, polynomial 8BB7h).
 * @crc: 0 to start, or the value so far.
 * @buf: bytes.
 * @len: their count.
 *
 * The emulator's own copy: a device model does not use the host's helpers.
 *
 * Return: the CRC.
 */
uint16_t nvp_emu_crc16_t10dif(uint16_t crc, const uint8_t *buf, size_t len);

/*
 * ---- lib/emu/emu_fault.c: the public nvpoll/emu.h operations, by device ----
 * Same arguments, returns and semantics as nvp_emu_inject(),
 * nvp_emu_clear_faults(), nvp_emu_fatal(), nvp_emu_remove(),
 * nvp_emu_async_event() and nvp_emu_get_stats(); tests that drive the
 * device without lib/nvme call these directly.
 */

/** nvp_emu_dev_inject() - see nvp_emu_inject(). @emu: controller. @fault: fault. @size: its size. */
int nvp_emu_dev_inject(struct nvp_emu *emu, const struct nvp_emu_fault *fault, size_t size);
/** nvp_emu_dev_clear_faults() - see nvp_emu_clear_faults(). @emu: controller. */
int nvp_emu_dev_clear_faults(struct nvp_emu *emu);
/** nvp_emu_dev_fatal() - see nvp_emu_fatal(). @emu: controller. */
int nvp_emu_dev_fatal(struct nvp_emu *emu);
/** nvp_emu_dev_remove() - see nvp_emu_remove(). @emu: controller. */
int nvp_emu_dev_remove(struct nvp_emu *emu);
/**
 * nvp_emu_dev_async_event() - see nvp_emu_async_event().
 * @emu: controller. @type: event type. @info: event info. @lid: log page.
 */
int nvp_emu_dev_async_event(struct nvp_emu *emu, uint8_t type, uint8_t info, uint8_t lid);
/** nvp_emu_dev_get_stats() - see nvp_emu_get_stats(). @emu: controller. @stats: out. @size: its size. */
int nvp_emu_dev_get_stats(struct nvp_emu *emu, struct nvp_emu_stats *stats, size_t size);

/**
 * nvp_emu_match_faults() - apply armed faults to a fetched command.
 * @emu: the controller.
 * @sqid: its queue.
 * @sqe: the command.
 * @out: what the matching faults decided (accumulated).
 *
 * Called by the device thread only when a fault is armed.
 */
void nvp_emu_match_faults(struct nvp_emu *emu, uint16_t sqid, const struct nvp_sqe *sqe,
			  struct emu_cmd_fault *out);

#endif /* NVP_LIB_EMU_EMU_H */
