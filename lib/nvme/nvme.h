/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/nvme.h - the NVMe layer's private types.
 *
 * A controller (struct nvp_ctrl) owns an admin queue pair, its namespaces
 * and a bitmap of the I/O queue IDs the controller granted. Every queue
 * pair (struct nvp_qpair; the admin one too) is an SQ ring, a CQ ring and a
 * pool of request objects whose index is the command ID. Only this layer
 * knows the NVMe specification; it reaches the device through
 * struct nvp_device (lib/dev/device.h) and DMA memory (lib/mem/mem.h).
 */
#ifndef NVP_LIB_NVME_NVME_H
#define NVP_LIB_NVME_NVME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvpoll/nvpoll.h>

#include "dev/device.h"
#include "nvme/payload.h"

/* Statuses of the completions the driver makes up itself (SCT Path). */
#define NVP_STATUS_HOST_ABORTED NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_ABORTED_CMD)
#define NVP_STATUS_HOST_PATH_ERROR NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_PATH_ERROR)

struct nvp_abort;

/* The driver's own caps. */
#define NVP_ADMIN_QUEUE_MAX 4096
#define NVP_DEFAULT_IO_QUEUE_SIZE 256
#define NVP_DEFAULT_MAX_XFER (1u << 20)
#define NVP_MAX_IO_QUEUES 1024
/* NLB is a 16-bit, 0's based field: no command moves more blocks. */
#define NVP_MAX_NLB 65536u

/** enum nvp_req_state - life of a request object. */
enum nvp_req_state {
	NVP_REQ_FREE = 0,
	NVP_REQ_INFLIGHT,	/* posted to the SQ, owned by the device */
	NVP_REQ_PARENT,		/* the whole of a split I/O; never posted */
	NVP_REQ_QUARANTINED,	/* given up on; its CID is not reused */
};

/** enum nvp_abort_state - timeout escalation of one request. */
enum nvp_abort_state {
	NVP_ABORT_NONE = 0,
	NVP_ABORT_SENT,		/* Abort submitted, waiting for its result */
	NVP_ABORT_DONE,		/* controller says it aborted the command */
	NVP_ABORT_NOT_FOUND,	/* controller no longer has the command */
	NVP_ABORT_FAILED,	/* Abort itself failed */
};

/**
 * struct nvp_req - one command (or the whole of a split I/O).
 * @cb: completion callback.
 * @arg: its argument.
 * @parent: for a part of a split I/O, the whole; NULL otherwise.
 * @posted_scan: the queue pair's @timeout_scans when posted (a coarse clock
 *               for timeouts that costs no TSC read per command).
 * @cid: command ID: the index in the pool in the low bits and a generation
 *       count above them, bumped on every reuse (as Linux's genctr), so a
 *       duplicate or late completion cannot complete the CID's next user.
 * @state: enum nvp_req_state.
 * @opc: opcode, for messages.
 * @abort: enum nvp_abort_state; written by the admin completion path,
 *         possibly on another thread, hence atomic.
 * @epoch: bumped on every reuse, so a late Abort result for an earlier
 *         command cannot land on this one.
 * @parts_left: for a parent: parts not yet completed.
 * @cpl: for a parent: the completion it will report.
 * @list: PRP list / SGL memory reserved for this command.
 * @next_free: free-list link.
 */
struct nvp_req {
	nvp_cmd_cb cb;
	void *arg;
	struct nvp_req *parent;
	uint32_t posted_scan;
	uint16_t cid;
	uint8_t state;
	uint8_t opc;
	_Atomic uint8_t abort;
	_Atomic uint32_t epoch;
	uint32_t parts_left;
	struct nvp_cqe cpl;
	struct nvp_payload_list list;
	struct nvp_req *next_free;
};

/**
 * enum nvp_qpair_state - whether a queue pair takes commands.
 *
 * Read on every submission, so it lives in the queue pair (no shared cache
 * line); only the owning thread changes it.
 */
enum nvp_qpair_state {
	NVP_QP_ENABLED = 0,	/* commands are accepted */
	NVP_QP_FAILED,		/* the controller failed: refuse new commands */
	NVP_QP_CLOSING,		/* nvp_qpair_free() runs: refuse new commands */
};

/**
 * struct nvp_doorbell - one doorbell, with its optional shadow.
 * @mmio: the register in BAR0.
 * @shadow: Doorbell Buffer Config shadow entry, or NULL.
 * @eventidx: the controller's event index for this doorbell, or NULL.
 * @always_mmio: write the register even when a shadow is in use (the
 *               admin queue: Linux never shadows it and some controllers
 *               only watch the register for queue 0).
 * @writes: updates of this doorbell.
 * @mmio_writes: of those, the ones written to the register.
 */
struct nvp_doorbell {
	volatile uint32_t *mmio;
	volatile uint32_t *shadow;
	volatile uint32_t *eventidx;
	bool always_mmio;
	uint64_t writes;
	uint64_t mmio_writes;
};

/**
 * struct nvp_sq - a submission queue ring.
 * @ring: the entries (DMA memory).
 * @iova: bus address of @ring.
 * @db: tail doorbell.
 * @entries: ring size.
 * @tail: next slot to fill.
 * @rung_tail: the tail value last written to the doorbell.
 * @qid: queue ID.
 */
struct nvp_sq {
	struct nvp_sqe *ring;
	uint64_t iova;
	struct nvp_doorbell db;
	uint16_t entries;
	uint16_t tail;
	uint16_t rung_tail;
	uint16_t qid;
};

/**
 * struct nvp_cq - a completion queue ring.
 * @ring: the entries (DMA memory).
 * @iova: bus address of @ring.
 * @db: head doorbell.
 * @entries: ring size.
 * @head: next entry to look at.
 * @rung_head: the head value last written to the doorbell.
 * @phase: the phase tag that marks a new entry at @head.
 */
struct nvp_cq {
	struct nvp_cqe *ring;
	uint64_t iova;
	struct nvp_doorbell db;
	uint16_t entries;
	uint16_t head;
	uint16_t rung_head;
	uint16_t phase;
};

/**
 * struct nvp_qpair - a queue pair and its request pool.
 * @sq: submission ring.
 * @cq: completion ring.
 * @free_reqs: LIFO free list (a recently used request is cache-hot).
 * @outstanding: requests not free (posted, parents, quarantined).
 * @max_completions: default cap per poll.
 * @max_xfer: largest transfer of one command, bytes.
 * @page_size: controller memory page size.
 * @sgl_supported: SGLs may be used at all.
 * @state: enum nvp_qpair_state.
 * @ctrl: the controller.
 * @timeout_ticks: I/O timeout in ticks (0 = none).
 * @next_timeout_check: tick at which the poll loop next scans for timeouts.
 * @timeout_scans: timeout scans so far, at least a quarter of the timeout
 *                 apart: a command posted at scan N has been outstanding for
 *                 a whole timeout once the count passes N + 4.
 * @polls_to_clock: polls left before the next TSC read. The clock is read
 *                  every NVP_POLLS_PER_CLOCK polls, not on every one: under
 *                  emulation (QEMU TCG) a TSC read costs far more than a
 *                  poll, and a busy poll loop would spend its time there.
 * @owner: owning thread (checked in debug builds).
 * @reqs: the pool; index = CID & @cid_index_mask.
 * @num_reqs: pool size.
 * @cid_index_mask: low CID bits that index @reqs (a power of two minus 1).
 * @bad_cqes: completions ignored because their CID made no sense.
 * @submitted: commands posted. @completed: completions reaped.
 * @polls: nvp_qpair_poll() calls. @empty_polls: those that reaped nothing.
 * @timeouts: commands that timed out.
 * @cq_db_slack: consumed CQ entries that may go unreported to the
 *               controller: CQ entries - 1 - @num_reqs (0 for the admin queue).
 * @cq_unreported: consumed entries since the last CQ head doorbell write.
 * @sq_mem: DMA memory of the SQ ring.
 * @cq_mem: DMA memory of the CQ ring.
 * @list_mem: DMA memory holding every request's list pages.
 * @is_admin: the admin queue pair (qid 0).
 */
struct nvp_qpair {
	struct nvp_sq sq;
	struct nvp_cq cq;
	struct nvp_req *free_reqs;
	uint32_t outstanding;
	uint32_t max_completions;
	uint32_t max_xfer;
	uint32_t page_size;
	bool sgl_supported;
	uint8_t state;
	struct nvp_ctrl *ctrl;
	uint64_t timeout_ticks;
	uint64_t next_timeout_check;
	uint32_t timeout_scans;
	uint32_t polls_to_clock;
	pthread_t owner;
	struct nvp_req *reqs;
	uint32_t num_reqs;
	uint16_t cid_index_mask;
	uint64_t bad_cqes;
	uint64_t submitted;
	uint64_t completed;
	uint64_t polls;
	uint64_t empty_polls;
	uint64_t timeouts;
	uint32_t cq_db_slack;
	uint32_t cq_unreported;
	void *sq_mem;
	void *cq_mem;
	void *list_mem;
	bool is_admin;
};

/** enum nvp_ns_unusable - why a namespace refuses I/O (0: it does not). */
enum nvp_ns_unusable {
	NVP_NS_USABLE = 0,
	NVP_NS_HAS_METADATA,	/* metadata per block, which nvpoll does not move */
	NVP_NS_BLOCK_TOO_BIG,	/* one block is more than a command may move */
};

/**
 * struct nvp_ns - an active namespace.
 * @ctrl: its controller.
 * @nsid: namespace ID.
 * @lba_shift: log2 of the block size.
 * @num_blocks: NSZE.
 * @max_io_blocks: largest single command in blocks (never above NVP_MAX_NLB).
 * @unusable: enum nvp_ns_unusable: why I/O is refused, or 0.
 * @info: what nvp_ns_get_info() reports.
 * @id: Identify Namespace data.
 */
struct nvp_ns {
	struct nvp_ctrl *ctrl;
	uint32_t nsid;
	uint32_t lba_shift;
	uint64_t num_blocks;
	uint32_t max_io_blocks;
	uint8_t unusable;
	struct nvp_ns_info info;
	struct nvp_id_ns *id;
};

/**
 * struct nvp_ctrl - an attached controller.
 * @dev: the device (BAR0 and DMA).
 * @bar: BAR0.
 * @cap: CAP register.
 * @db_stride: bytes between doorbells (4 << CAP.DSTRD).
 * @page_size: memory page size (CC.MPS).
 * @max_xfer: largest transfer of one command, bytes.
 * @ready_timeout_ms: CAP.TO in milliseconds.
 * @opts: attach options (completed with defaults).
 * @info: what nvp_ctrl_get_info() reports.
 * @id: Identify Controller data (DMA memory).
 * @ns: active namespaces, sorted by NSID.
 * @num_ns: their number.
 * @admin_lock: serialises the admin queue and queue-ID allocation.
 * @admin: the admin queue pair.
 * @qid_used: I/O queue IDs in use (index = qid).
 * @num_io_queues: I/O queues the controller granted.
 * @num_qpairs: I/O queue pairs currently allocated.
 * @failed: 0, -ENXIO (fatal status or reset), or -ENODEV (removed).
 * @dbbuf_shadow: Doorbell Buffer Config shadow page, or NULL.
 * @dbbuf_eventidx: Doorbell Buffer Config event index page, or NULL.
 * @quirks: NVP_QUIRK_* bits for this device.
 * @aborts: Abort commands in flight (admin lock).
 */
struct nvp_ctrl {
	struct nvp_device *dev;
	volatile void *bar;
	uint64_t cap;
	uint32_t db_stride;
	uint32_t page_size;
	uint32_t max_xfer;
	uint32_t ready_timeout_ms;
	struct nvp_ctrl_opts opts;
	struct nvp_ctrl_info info;
	struct nvp_id_ctrl *id;
	struct nvp_ns *ns;
	uint32_t num_ns;
	pthread_mutex_t admin_lock;
	struct nvp_qpair *admin;
	bool *qid_used;
	uint32_t num_io_queues;
	uint32_t num_qpairs;
	_Atomic int failed;
	uint32_t *dbbuf_shadow;
	uint32_t *dbbuf_eventidx;
	uint32_t quirks;
	struct nvp_abort *aborts;
};

/* ---- qpair.c ------------------------------------------------------------ */

/**
 * nvp_qpair_setup() - allocate rings and requests of a queue pair.
 * @ctrl: the controller.
 * @qid: queue ID (0 = admin).
 * @sq_entries: SQ ring entries.
 * @cq_entries: CQ ring entries (>= @sq_entries; more allows lazy head
 *              doorbell writes).
 * @num_reqs: request objects (< @sq_entries).
 * @numa_node: placement.
 * @qpair: out: the queue pair (not yet known to the controller).
 *
 * Return: 0 or a negative errno.
 */
int nvp_qpair_setup(struct nvp_ctrl *ctrl, uint16_t qid, uint32_t sq_entries,
		    uint32_t cq_entries, uint32_t num_reqs, int numa_node,
		    struct nvp_qpair **qpair);

/**
 * nvp_qpair_teardown() - free what nvp_qpair_setup() allocated.
 * @qpair: the queue pair, or NULL.
 */
void nvp_qpair_teardown(struct nvp_qpair *qpair);

/**
 * nvp_qpair_process() - reap completions (the body of nvp_qpair_poll()).
 * @qpair: the queue pair.
 * @max: most completions to reap.
 *
 * The admin queue calls this with the admin lock held.
 *
 * Return: completions processed.
 */
int nvp_qpair_process(struct nvp_qpair *qpair, uint32_t max);

/**
 * nvp_qpair_fail_all() - complete every outstanding request with @status.
 * @qpair: the queue pair.
 * @status: status word to report (e.g. NVP_STATUS_HOST_ABORTED).
 *
 * Only for queues the device no longer processes (deleted, failed, or a
 * disabled controller): their CIDs return to the pool.
 */
void nvp_qpair_fail_all(struct nvp_qpair *qpair, uint16_t status);

/**
 * nvp_qpair_check_timeouts() - the timeout → abort → reset escalation.
 * @qpair: an I/O queue pair.
 *
 * Called from the poll loop when the coarse clock moves. Return: 0 or the
 * controller's failure errno.
 */
int nvp_qpair_check_timeouts(struct nvp_qpair *qpair);

/* ---- admin.c ------------------------------------------------------------ */

/**
 * nvp_admin_sync_timeout() - run an admin command and wait.
 * @ctrl: controller. @cmd: command. @buf/@len: payload.
 * @cpl: out, optional: completion.
 * @timeout_ms: how long to wait.
 *
 * Checks CSTS while waiting so a fatal controller ends the wait at once.
 *
 * Return: 0, the status's errno, -ETIMEDOUT, or the controller failure.
 */
int nvp_admin_sync_timeout(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd,
			   void *buf, size_t len, struct nvp_cqe *cpl,
			   uint32_t timeout_ms);

/** nvp_admin_identify() - Identify with @cns/@nsid into @buf (4 KiB DMA). */
int nvp_admin_identify(struct nvp_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf);

/** nvp_admin_create_io_queues() - Create I/O CQ then SQ for @qpair. */
int nvp_admin_create_io_queues(struct nvp_ctrl *ctrl, struct nvp_qpair *qpair);

/** nvp_admin_delete_io_queues() - Delete I/O SQ then CQ for @qpair. */
int nvp_admin_delete_io_queues(struct nvp_ctrl *ctrl, struct nvp_qpair *qpair);

/**
 * nvp_admin_abort() - ask the controller to abort a command (async).
 * @ctrl: controller. @qp: the request's queue pair. @req: the request.
 *
 * The outcome lands in @req->abort.
 */
int nvp_admin_abort(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, struct nvp_req *req);

/**
 * nvp_admin_forget_aborts() - detach pending Aborts from a qpair being freed.
 * @ctrl: controller. @qp: the queue pair.
 *
 * Their answers, if they ever come, then touch nothing.
 */
void nvp_admin_forget_aborts(struct nvp_ctrl *ctrl, struct nvp_qpair *qp);

/* ---- ctrl.c ------------------------------------------------------------- */

/**
 * nvp_ctrl_check_health() - read CSTS; fail the controller on CFS or all-ones.
 * @ctrl: controller.
 *
 * Return: 0 if healthy, else the failure errno (-ENXIO or -ENODEV).
 */
int nvp_ctrl_check_health(struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_fail() - mark the controller failed and stop its DMA.
 * @ctrl: controller. @err: -ENXIO or -ENODEV. @why: reason for the log.
 *
 * Disables the controller (CC.EN=0) unless it is gone, so no command can
 * DMA into a buffer after the driver has given the buffer back.
 */
void nvp_ctrl_fail(struct nvp_ctrl *ctrl, int err, const char *why);

/** nvp_ctrl_doorbell() - address of doorbell @idx (2*qid, or 2*qid+1 for CQ). */
volatile uint32_t *nvp_ctrl_doorbell(struct nvp_ctrl *ctrl, uint32_t idx);

/** nvp_ctrl_device() - the device under a controller (emu fault API). */
struct nvp_device *nvp_ctrl_device(struct nvp_ctrl *ctrl);

/* ---- init.c ------------------------------------------------------------- */

/**
 * nvp_ctrl_init() - run the init sequence (see init.c for the states).
 * @ctrl: a controller whose @dev, @bar and @opts are set.
 *
 * Return: 0 or a negative errno whose message names the failing state.
 */
int nvp_ctrl_init(struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_disable() - clear CC.EN and wait for CSTS.RDY=0.
 * @ctrl: controller. Return: 0 or -ETIMEDOUT / failure errno.
 */
int nvp_ctrl_disable(struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_shutdown() - CC.SHN normal shutdown, wait for SHST complete.
 * @ctrl: controller. Return: 0 or -ETIMEDOUT.
 */
int nvp_ctrl_shutdown(struct nvp_ctrl *ctrl);

/* ---- ns.c --------------------------------------------------------------- */

/**
 * nvp_ns_setup() - fill @ns from its Identify Namespace data.
 * @ctrl: controller. @ns: namespace with @nsid and @id set.
 */
void nvp_ns_setup(struct nvp_ctrl *ctrl, struct nvp_ns *ns);

/* ---- quirks.c ----------------------------------------------------------- */

#define NVP_QUIRK_DELAY_BEFORE_CHK_RDY	(1u << 0) /* wait 2 ms after CC.EN=0 */

/** nvp_quirks_lookup() - quirks for a PCI vendor/device ID. */
uint32_t nvp_quirks_lookup(uint16_t vendor_id, uint16_t device_id);

/** nvp_quirk_names() - printable list of quirk bits (static buffer per thread). */
const char *nvp_quirk_names(uint32_t quirks);

#endif /* NVP_LIB_NVME_NVME_H */
