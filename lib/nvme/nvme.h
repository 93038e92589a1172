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
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <nvpoll/nvpoll.h>

#include "dev/device.h"
#include "nvme/dbbuf.h"

/*
 * The completions the library makes up for commands it ends itself, with
 * no answer from the controller: SCT 3h (Path Related), codes the spec
 * reserves for the host. They reach the command's callback like any other
 * completion, DNR clear, and only once the controller can no longer run
 * the command (stopped, its queue deleted, or gone).
 *
 * NVP_STATUS_HOST_ABORTED (71h, Host Aborted Command; -ECANCELED): the
 * library gave up on the command:
 *  - a controller reset ended it (NVP_STATUS_RESET_ABORTED): every admin
 *    command (reset.c), and an I/O command not posted again: retries used
 *    up, raw passthrough, or its SQE overwritten in the ring
 *    (reconnect.c). A command that timed out and was not ended by its
 *    Abort ends in such a reset;
 *  - nvp_qpair_free() ended what its queue pair still held (qpair.c);
 *  - nvp_ctrl_detach() ended the admin commands still outstanding, such as
 *    the Asynchronous Event Request (ctrl.c).
 * NVP_STATUS_HOST_PATH_ERROR (70h, Host Pathing Error; -ENXIO): the
 * controller failed or was removed (admin.c, reconnect.c).
 */
#define NVP_STATUS_HOST_ABORTED NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_ABORTED_CMD)
#define NVP_STATUS_HOST_PATH_ERROR NVP_STATUS(NVP_SCT_PATH, NVP_SC_HOST_PATH_ERROR)
/* Ended by a controller reset; DNR clear: the application may retry it. */
#define NVP_STATUS_RESET_ABORTED NVP_STATUS_HOST_ABORTED

struct nvp_abort;
struct nvp_reset_scratch;
struct nvp_tcp_qp;
struct nvp_tcp_ctrl;

/* The driver's own caps. */
#define NVP_ADMIN_QUEUE_MAX 4096
#define NVP_ADMIN_MAX_XFER (64u << 10)	/* log pages and the like, per command */
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
};

/** enum nvp_abort_state - timeout escalation of one request. */
enum nvp_abort_state {
	NVP_ABORT_NONE = 0,
	NVP_ABORT_SENT,		/* Abort submitted, waiting for its result */
	NVP_ABORT_DONE,		/* controller says it aborted the command */
	NVP_ABORT_NOT_DONE,	/* controller did not abort it (it may still run) */
	NVP_ABORT_FAILED,	/* Abort itself failed */
};

/**
 * struct nvp_payload_list - per-request memory for PRP lists or SGL segments
 * (filled by the builders in payload.h).
 * @va: virtual address (page aligned, contiguous in bus space).
 * @iova: its bus address.
 * @bytes: size; a multiple of the controller page size.
 */
struct nvp_payload_list {
	void *va;
	uint64_t iova;
	size_t bytes;
};

/**
 * struct nvp_req - one command (or the whole of a split I/O). What every
 * submission and completion touches comes first, within 56 bytes; 96 in all.
 * @cb: completion callback.
 * @arg: its argument.
 * @parent: for a part of a split I/O, the whole; NULL otherwise.
 * @posted_scan: the queue pair's @timeout_scans when posted (a coarse clock
 *               for timeouts that costs no TSC read per command).
 * @slot: the SQ slot it was posted in: after a reset its SQE is still
 *        there, and can be posted again, if the slot's CID is still its own.
 * @retries: times it was posted again after a controller reset.
 * @no_retry: never post it again (raw passthrough: not known idempotent).
 * @posted_ms: admin commands, in place of @posted_scan: when posted, in
 *             milliseconds (for the admin timeout).
 * @cid: command ID: the index in the pool in the low bits and a generation
 *       count above them, bumped on every reuse (as Linux's genctr), so a
 *       duplicate or late completion cannot complete the CID's next user.
 * @state: enum nvp_req_state.
 * @opc: opcode, for messages.
 * @abort: enum nvp_abort_state; written by the admin completion path,
 *         possibly on another thread, hence atomic.
 * @epoch: bumped on every reuse, so a late Abort result for an earlier
 *         command cannot land on this one.
 * @fused: for one half of a fused Compare and Write (a part of its
 *         parent): NVP_SQE_FUSE_FIRST or _SECOND, else 0. Set and cleared
 *         only by the fused path (io_cmds.c, nvp_fused_note()), so the hot
 *         path never touches it.
 * @parts_left: for a parent: parts not yet completed.
 * @cpl: for a parent: the completion it will report.
 * @list: PRP list / SGL memory reserved for this command.
 * @next_free: free-list link.
 */
struct nvp_req {
	struct nvp_req *next_free;
	nvp_cmd_cb cb;
	void *arg;
	struct nvp_req *parent;
	union {
		uint32_t posted_scan;
		uint32_t posted_ms;
	};
	_Atomic uint32_t epoch;
	uint16_t slot;
	uint16_t cid;
	uint8_t state;
	uint8_t opc;
	uint8_t retries;
	bool no_retry;
	_Atomic uint8_t abort;
	uint8_t fused;
	uint32_t parts_left;
	struct nvp_payload_list list;
	struct nvp_cqe cpl;
};
_Static_assert(sizeof(struct nvp_req) == 96, "struct nvp_req grew: keep the hot fields "
	       "in its first cache line and the pool compact");

/**
 * enum nvp_qpair_state - whether a queue pair takes commands.
 *
 * Read on every submission, so it lives in the queue pair (no shared cache
 * line); only the owning thread changes it.
 */
enum nvp_qpair_state {
	NVP_QP_ENABLED = 0,	/* connected: commands go to the device */
	NVP_QP_DISCONNECTED,	/* the controller was reset: commands are
				 * accepted into the ring, rung once the
				 * queues exist again (next polls) */
	NVP_QP_FAILED,		/* the controller failed: refuse new commands */
	NVP_QP_CLOSING,		/* nvp_qpair_free() runs: refuse new commands */
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
 * @cmb_ring: NULL, or the ring the controller fetches from, in its CMB:
 *            then @ring is a host copy the commands are built in, copied
 *            to @cmb_ring by nvp_sq_ring() and @iova is the CMB address.
 * @ring_fn: NULL for a doorbell in BAR0; else what nvp_sq_ring() calls
 *           instead, out of line: nvp_cmb_ring() for a CMB queue,
 *           nvp_tcp_sq_ring() for NVMe/TCP (the commands go on the wire).
 */
struct nvp_sq {
	struct nvp_sqe *ring;
	uint64_t iova;
	struct nvp_doorbell db;
	uint16_t entries;
	uint16_t tail;
	uint16_t rung_tail;
	uint16_t qid;
	volatile struct nvp_sqe *cmb_ring;
	void (*ring_fn)(struct nvp_sq *sq);
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
 * @outstanding: requests not free (posted, and parents of split I/O).
 * @max_completions: default cap per poll.
 * @max_xfer: largest transfer of one command, bytes.
 * @page_size: controller memory page size.
 * @sgl_supported: SGLs may be used at all.
 * @state: enum nvp_qpair_state.
 * @gen: the controller's @gen this queue pair last caught up with; a
 *       different value at poll time means a reset or failure happened.
 *       NVP_GEN_BEHIND set: not connected, every poll takes the slow path.
 * @max_retries: how often a command may be posted again after resets.
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
 * @retried: commands posted again after a controller reset.
 * @reset_aborted: commands ended with a retryable status by a reset.
 * @reconnects: queue re-creations after resets.
 * @cq_db_slack: consumed CQ entries that may go unreported to the
 *               controller: CQ entries - 1 - @num_reqs (0 for the admin queue).
 * @cq_unreported: consumed entries since the last CQ head doorbell write.
 * @sq_mem: DMA memory of the SQ ring.
 * @cq_mem: DMA memory of the CQ ring.
 * @list_mem: DMA memory holding every request's list pages.
 * @reset_scratch: what a reset needs to re-post commands (I/O queue pairs).
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
	struct nvp_tcp_qp *tcp;	/* NVMe/TCP (tcp.c), else NULL: read beside page_size */
	bool sgl_supported;
	uint8_t state;
	uint8_t max_retries;
	uint32_t gen;
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
	uint64_t retried;
	uint64_t reset_aborted;
	uint64_t reconnects;
	uint32_t cq_db_slack;
	uint32_t cq_unreported;
	void *sq_mem;
	void *cq_mem;
	void *list_mem;
	struct nvp_reset_scratch *reset_scratch;
	bool is_admin;
};

/** enum nvp_ns_unusable - why a namespace refuses I/O (0: it does not). */
enum nvp_ns_unusable {
	NVP_NS_USABLE = 0,
	NVP_NS_HAS_METADATA,	/* metadata per block: only the *_ext calls move it */
	NVP_NS_BLOCK_TOO_BIG,	/* one block is more than a command may move */
	NVP_NS_REMOVED,		/* no longer active (detached or deleted) */
	NVP_NS_FORMAT_CHANGED,	/* reformatted while attached */
	NVP_NS_CSI_UNUSABLE,	/* a command set nvpoll does not run, or ZNS Identify failed */
	NVP_NS_MD_UNSUPPORTED,	/* a metadata/PI format nvpoll cannot drive */
};

/**
 * struct nvp_ns - an active namespace.
 * @ctrl: its controller.
 * @nsid: namespace ID.
 * @lba_shift: log2 of the block size.
 * @num_blocks: NSZE. Atomic: a rescan may resize the namespace while
 *              other threads submit (relaxed loads cost nothing).
 * @max_io_blocks: largest single command in blocks (never above NVP_MAX_NLB).
 * @unusable: enum nvp_ns_unusable: why I/O is refused, or 0. Atomic, as
 *            @num_blocks.
 * @lbaf: the LBA format in use (a rescan notices a reformat).
 * @info: what nvp_ns_get_info() reports.
 * @id: Identify Namespace data.
 * @pif: the guard format of the LBA format in use (NVP_PIF_*), from the NVM
 *       command set specific Identify Namespace when the controller has
 *       extended LBA formats (nvp_ns_identify_pi()); 0 (16-bit) otherwise.
 *       Kept across resets, which re-read only CNS 00h.
 */
struct nvp_ns {
	struct nvp_ctrl *ctrl;
	uint32_t nsid;
	uint32_t lba_shift;
	_Atomic uint64_t num_blocks;
	uint32_t max_io_blocks;
	_Atomic uint8_t unusable;
	uint8_t lbaf;
	bool zoned;		/* zns.c: beside the fields nvp_write() reads anyway */
	struct nvp_ns_info info;
	struct nvp_id_ns *id;
	struct nvp_zns_info zns;	/* zoned namespaces (zns.c) */
	uint8_t pif;
};

/* Controller generations move in steps of 2, so an odd queue pair value
 * (NVP_GEN_BEHIND set) never matches: such a queue pair is not connected. */
#define NVP_GEN_STEP 2u
#define NVP_GEN_BEHIND 1u

/** enum nvp_ctrl_state - where a controller is in its life. */
enum nvp_ctrl_state {
	NVP_CTRL_LIVE = 0,	/* commands flow */
	NVP_CTRL_RESETTING,	/* disabled and being brought up again */
	NVP_CTRL_FAILED,	/* final: a reset failed, or it was removed */
};

/**
 * struct nvp_aer - Asynchronous Event Requests kept on the admin queue.
 * @posted: an AER is outstanding on the device.
 * @pending: events received, not yet handled (admin lock).
 * @dw0: their completion DW0s.
 * @supported: the controller takes AERs (cleared if it refuses them).
 * @events: events received. @rescans: namespace rescans they caused.
 */
#define NVP_AER_PENDING_MAX 8
struct nvp_aer {
	bool posted;
	bool supported;
	uint32_t pending;
	uint32_t dw0[NVP_AER_PENDING_MAX];
	uint64_t events;
	uint64_t rescans;
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
 * @ns_page: DMA page for init's namespace Identify commands. Like @id and
 *           the shadow doorbell pages, freed only with the controller: a
 *           command that timed out may still write it until it is disabled.
 * @parked: DMA buffers of commands that ended without an answer (a rescan's
 *          timed-out Identify) while no reset disabled the controller: the
 *          device may still write them, so they are freed only with the
 *          controller, never reused. @num_parked of them.
 * @ns: every namespace seen since attach, sorted by NSID; each is its own
 *       allocation, so handles stay valid until detach (a removed one is
 *       kept, marked NVP_NS_REMOVED). Under @ns_lock.
 * @num_ns: entries in @ns. @ns_cap: its capacity.
 * @ns_lock: guards @ns, @num_ns and namespace lookups against rescans.
 * @admin_lock: serialises the admin queue and queue-ID allocation.

 * @admin: the admin queue pair.
 * @qid_used: I/O queue IDs in use (index = qid).
 * @num_io_queues: I/O queues the controller granted.
 * @num_qpairs: I/O queue pairs currently allocated.
 * @failed: 0, -ENXIO (failed: a reset did not bring it back), or -ENODEV
 *          (removed). Final.
 * @state: enum nvp_ctrl_state.
 * @gen: moved by NVP_GEN_STEP (release) once the controller stopped
 *       processing commands for a reset, and when it fails; queue pairs
 *       compare it at each poll. Always even.
 * @reset_lock: one reconfiguration at a time: a reset, or a namespace
 *              rescan after an event.
 * @resets_started: resets begun (a thread waiting for @reset_lock sees
 *                  whether one ran meanwhile).
 * @resets: completed resets. @last_reset_us: how long the last one took.
 * @next_health_ms: when nvp_ctrl_process_admin() next reads CSTS.
 * @event_cb/@event_arg: nvp_ctrl_set_event_cb().
 * @aer: the Asynchronous Event Request state (aer.c).
 * @dbbuf: shadow doorbell pages (dbbuf.c).
 * @quirks: NVP_QUIRK_* bits for this device.
 * @aborts: Abort commands in flight (admin lock).
 */
/**
 * struct nvp_cmb - the Controller Memory Buffer (cmb.c).
 * @bar: the mapping of the BAR that holds it.
 * @base: the CMB's first byte in @bar.
 * @bus: its bus address (CMBMSC.CBA, or the BAR's for a pre-1.4 CMB).
 * @size: its usable size in bytes.
 * @cmbsz: CMBSZ as read at setup (a reset must find the same).
 * @reserved: @bus..@size is kept out of the IOVA allocator.
 * @use_sqs: new I/O SQs go into the CMB.
 * @lock: guards @used.
 * @used: one byte per controller page of the CMB: in use by an SQ.
 * @pages: entries of @used.
 */
struct nvp_cmb {
	struct nvp_bar_map bar;
	volatile uint8_t *base;
	uint64_t bus;
	uint64_t size;
	uint32_t cmbsz;
	bool reserved;
	bool use_sqs;
	pthread_mutex_t lock;
	uint8_t *used;
	uint32_t pages;
};

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
	void *ns_page;
	bool css_csi;		/* CC.CSS = 110b: namespaces' CSI are read (zns.c) */
	uint8_t zasl;		/* ZNS Identify Controller ZASL (0 = MDTS) */
	void **parked;
	uint32_t num_parked;
	struct nvp_ns **ns;
	uint32_t num_ns;
	uint32_t ns_cap;
	pthread_mutex_t ns_lock;
	pthread_mutex_t admin_lock;
	struct nvp_qpair *admin;
	bool *qid_used;
	uint32_t last_qid;	/* alloc_qid()'s last (NVMe/TCP round robin) */
	uint32_t num_io_queues;
	uint32_t num_qpairs;
	_Atomic int failed;
	_Atomic int state;
	_Atomic uint32_t gen;
	pthread_mutex_t reset_lock;
	_Atomic uint64_t resets_started;
	_Atomic uint64_t resets;
	uint64_t last_reset_us;
	uint64_t next_health_ms;
	nvp_event_cb event_cb;
	void *event_arg;
	struct nvp_aer aer;
	struct nvp_dbbuf dbbuf;
	uint32_t quirks;
	struct nvp_abort *aborts;
	struct nvp_cmb cmb;
	struct nvp_tcp_ctrl *tcp;	/* NVMe/TCP (tcp.c), else NULL */
};

/* ---- cmb.c -------------------------------------------------------------- */

/**
 * nvp_cmb_before_enable() - CMBMSC.CRE, so that CMBLOC and CMBSZ read their
 * values once the controller is enabled (NVMe 1.4; QEMU 7.2 reads 0 until
 * then). Only when CMB SQs are asked for and CAP.CMBS is set.
 * @ctrl: the controller, disabled.
 */
void nvp_cmb_before_enable(struct nvp_ctrl *ctrl);

/**
 * nvp_cmb_setup() - find, map and enable the CMB for submission queues
 * (init state NVP_INIT_CMB, at attach and after every reset).
 * @ctrl: the controller, enabled.
 * @reinit: after a reset: the mapping stays; CMBMSC is written again.
 *
 * When the CMB cannot hold SQs, logs why and leaves @ctrl->cmb.use_sqs
 * false; that is an error only with NVP_CMB_SQS_REQUIRE.
 *
 * Return: 0, or -ENOTSUP (required but unusable; a message says why).
 */
int nvp_cmb_setup(struct nvp_ctrl *ctrl, bool reinit);

/**
 * nvp_cmb_sq_alloc() - room for an SQ ring in the CMB.
 * @ctrl: the controller. @bytes: ring size.
 * @ring: out: where the host writes it. @bus: out: its address for Create SQ.
 *
 * Return: 0, or -ENOSPC (no CMB SQs, or no room left).
 */
int nvp_cmb_sq_alloc(struct nvp_ctrl *ctrl, size_t bytes, volatile struct nvp_sqe **ring,
		     uint64_t *bus);

/** nvp_cmb_sq_free() - give back a ring from nvp_cmb_sq_alloc(). */
void nvp_cmb_sq_free(struct nvp_ctrl *ctrl, volatile struct nvp_sqe *ring, size_t bytes);

/**
 * nvp_cmb_ring() - nvp_sq_ring() for an SQ in the CMB: copy the commands in
 * host slots [rung_tail, tail) (wrapping) into the CMB ring, 64 bytes at a
 * time with wide stores, order them before the doorbell, write it.
 * @sq: the queue, with new commands (tail != rung_tail).
 */
void nvp_cmb_ring(struct nvp_sq *sq);

/** nvp_cmb_release() - unmap the CMB (the controller is disabled). */
void nvp_cmb_release(struct nvp_ctrl *ctrl);

/* ---- tcp.c: the controller and its queue pairs over NVMe/TCP ---------------- */

/*
 * A TCP controller has no BAR: its registers are properties (Property
 * Get/Set on the admin queue), each queue pair is a connection, the SQ
 * doorbell sends the new commands and a poll first takes in what the socket
 * holds, writing completions into the CQ ring with the phase bit, so the
 * completion path, timeouts and callbacks are the ones PCIe uses.
 */

/** nvp_tcp_is_addr() - whether @addr names an NVMe/TCP controller. */
bool nvp_tcp_is_addr(const char *addr);

/**
 * nvp_tcp_ctrl_open() - parse @addr, connect the admin queue, make the
 * admin queue pair. For nvp_ctrl_attach(), before nvp_ctrl_init().
 * Return: 0 or a negative errno with a message.
 */
int nvp_tcp_ctrl_open(struct nvp_ctrl *ctrl, const char *addr);

/* Close the admin connection and free the transport's state. */
void nvp_tcp_ctrl_close(struct nvp_ctrl *ctrl);

/**
 * nvp_tcp_ctrl_reconnect() - a reset's first step: a new admin connection
 * and association (the target forgets the old one and its queues).
 * Return: 0, or a negative errno when the target cannot be reached.
 */
int nvp_tcp_ctrl_reconnect(struct nvp_ctrl *ctrl);

/**
 * nvp_tcp_prop() - a register access as Property Get (@set false, *@val
 * out) or Set (*@val in), @size 4 or 8, run to completion on the admin
 * connection beside whatever else it carries.
 * Return: 0 or a negative errno (connection lost, refused, timed out).
 */
int nvp_tcp_prop(struct nvp_ctrl *ctrl, bool set, uint32_t off, unsigned int size,
		 uint64_t *val);

/* nvp_qpair_setup()/teardown(): the queue pair's transport state. */
int nvp_tcp_qpair_init(struct nvp_qpair *qp);
void nvp_tcp_qpair_fini(struct nvp_qpair *qp);

/* Doorbells of a TCP queue pair: a word nothing reads. */
void nvp_tcp_qpair_doorbells(struct nvp_qpair *qp);

/**
 * nvp_tcp_qpair_connect() - an I/O queue's connection and Connect command
 * (in place of Create I/O CQ/SQ); any earlier connection is closed first.
 */
int nvp_tcp_qpair_connect(struct nvp_ctrl *ctrl, struct nvp_qpair *qp);

/* Close an I/O queue's connection (in place of Delete I/O SQ/CQ). */
void nvp_tcp_qpair_disconnect(struct nvp_qpair *qp);

/* nvp_qpair_reset_rings(): the producer side of the CQ starts over too. */
void nvp_tcp_qpair_reset(struct nvp_qpair *qp);

/* The SQ doorbell of a TCP queue pair (nvp_sq.ring_fn). */
void nvp_tcp_sq_ring(struct nvp_sq *sq);

/**
 * nvp_tcp_qpair_pump() - send what waits, take in what arrived: completions
 * go into the CQ ring. Before each look at the CQ.
 * Return: 0, or the connection's failure (the queue pair must reconnect).
 */
int nvp_tcp_qpair_pump(struct nvp_qpair *qp);

/**
 * nvp_tcp_map() - the data of a command on a TCP queue pair: kept with the
 * request (any memory will do; nothing is translated) until the doorbell
 * puts the command on the wire.
 * Return: 0, or -E2BIG (more pieces than one command may have).
 */
int nvp_tcp_map(struct nvp_qpair *qp, struct nvp_req *req, struct nvp_sqe *sqe,
		const struct iovec *iov, int iovcnt);

/* From nvp_ctrl_process_admin(): Keep Alive when due, and its deadline. */
void nvp_tcp_keep_alive(struct nvp_ctrl *ctrl);

/**
 * nvp_tcp_csts() - CSTS for the health check, without waiting: what the
 * last Property Get of it answered (0 until one has, after each connect),
 * and the next one sent if none is out. One the target leaves unanswered
 * is an admin command past its timeout, which resets (admin.c).
 */
uint32_t nvp_tcp_csts(struct nvp_ctrl *ctrl);

/**
 * nvp_tcp_reconnect_later() - a reset could not reach the target: whether
 * to try again later (within tcp_ctrl_loss_timeout_ms of the first failed
 * attempt; the next one is due tcp_reconnect_delay_ms from now) or give up.
 */
bool nvp_tcp_reconnect_later(struct nvp_ctrl *ctrl);

/* Whether a reset waits for the target; whether its next attempt is due. */
bool nvp_tcp_reconnecting(const struct nvp_ctrl *ctrl);
bool nvp_tcp_reconnect_due(const struct nvp_ctrl *ctrl);

/* The reset reached the target again. */
void nvp_tcp_reconnected(struct nvp_ctrl *ctrl);

/* ---- ctrl.c: registers, over MMIO or as properties ------------------------- */

uint32_t nvp_ctrl_read32(struct nvp_ctrl *ctrl, uint32_t off);
uint64_t nvp_ctrl_read64(struct nvp_ctrl *ctrl, uint32_t off);
void nvp_ctrl_write32(struct nvp_ctrl *ctrl, uint32_t off, uint32_t val);
void nvp_ctrl_write64(struct nvp_ctrl *ctrl, uint32_t off, uint64_t val);

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
 * nvp_qpair_init_doorbells() - point the doorbells at BAR0 and, when shadow
 * doorbells are in use, at their shadow entries (set to the values last rung).
 * @qpair: the queue pair.
 */
void nvp_qpair_init_doorbells(struct nvp_qpair *qpair);

/**
 * nvp_qpair_complete() - complete @req with @cpl (a part reports to its
 * parent), returning it to the pool first.
 * @qpair: its queue pair. @req: the request. @cpl: the completion.
 */
void nvp_qpair_complete(struct nvp_qpair *qpair, struct nvp_req *req, const struct nvp_cqe *cpl);


/* ---- reconnect.c -------------------------------------------------------- */

/** nvp_reset_scratch_new() - scratch for re-posting up to @num_reqs commands. */
struct nvp_reset_scratch *nvp_reset_scratch_new(uint32_t num_reqs);
/** nvp_reset_scratch_free() - free it (NULL is fine). */
void nvp_reset_scratch_free(struct nvp_reset_scratch *sc);

/**
 * nvp_qpair_reset_rings() - empty rings for a queue the controller forgot.
 * @qpair: the queue pair (its commands were dealt with).
 */
void nvp_qpair_reset_rings(struct nvp_qpair *qpair);

/**
 * nvp_qpair_connect() - create the I/O CQ and SQ of @qpair on the controller.
 * @qpair: the queue pair.
 *
 * When a reset is under way (or starts meanwhile) the queue pair is left
 * NVP_QP_DISCONNECTED and its next polls try again.
 *
 * Return: 0 (connected or left disconnected), or the creation's errno.
 */
int nvp_qpair_connect(struct nvp_qpair *qpair);

/**
 * nvp_qpair_resync() - nvp_qpair_poll()'s slow path: the controller's
 * generation moved (reset or failure), or the queue pair is not connected.
 * @qpair: the queue pair.
 *
 * Return: 0, or the failure's errno (the queue pair is then failed).
 */
int nvp_qpair_resync(struct nvp_qpair *qpair);

/**
 * nvp_qpair_lost() - nvp_qpair_poll() when an NVMe/TCP queue pair's
 * connection failed: reset (reconnect) the controller, then catch up.
 * @qpair: the queue pair.
 *
 * Return: as nvp_qpair_resync().
 */
int nvp_qpair_lost(struct nvp_qpair *qpair);

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

/** nvp_admin_lock() - take the admin lock (recording that this thread has it). */
void nvp_admin_lock(struct nvp_ctrl *ctrl);
/** nvp_admin_unlock() - release it. */
void nvp_admin_unlock(struct nvp_ctrl *ctrl);
/** nvp_admin_held() - whether this thread holds @ctrl's admin lock. */
bool nvp_admin_held(const struct nvp_ctrl *ctrl);

/**
 * nvp_admin_submit() - post an admin command (takes the admin lock).
 * @ctrl: controller. @cmd: command. @buf/@len: payload. @cb/@arg: completion.
 *
 * Return: 0, or -EAGAIN while the controller is reset (except for the
 * reset's own commands), or another negative errno.
 */
int nvp_admin_submit(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf, size_t len,
		     nvp_cmd_cb cb, void *arg);

/**
 * nvp_admin_sync_timeout() - run an admin command and wait.
 * @ctrl: controller. @cmd: command. @buf/@len: payload.
 * @cpl: out, optional: completion.
 * @timeout_ms: how long to wait.
 *
 * Checks CSTS while waiting so a fatal controller ends the wait at once.
 * A command that times out (or meets CSTS.CFS) escalates to a reset, which
 * reclaims its slot (reset.c), unless the caller is the reset itself.
 *
 * Return: 0, the status's errno, -ETIMEDOUT, -EIO, or the controller failure.
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

/* ---- aer.c -------------------------------------------------------------- */

/**
 * nvp_aer_config_cmd() - the Set Features Asynchronous Event Configuration
 * command init sends: every event type the controller can report.
 * @ctrl: controller (Identify Controller data read). @cmd: out (CPU order).
 */
void nvp_aer_config_cmd(const struct nvp_ctrl *ctrl, struct nvp_sqe *cmd);

/** nvp_aer_enable() - take events from now on and post an AER (end of init). */
void nvp_aer_enable(struct nvp_ctrl *ctrl);

/**
 * nvp_aer_process() - handle the events received (log pages, namespace
 * rescans, nvp_event reports) and post the next AER; no lock held.
 * @ctrl: controller.
 */
void nvp_aer_process(struct nvp_ctrl *ctrl);

/* ---- reset.c ------------------------------------------------------------ */

/**
 * nvp_ctrl_escalate() - something only a reset can fix: reset, unless a
 * reset ran meanwhile, the caller is the reset itself (its step fails), or
 * the caller holds the admin lock.
 * @ctrl: controller. @why: what happened, for the log and the event.
 *
 * Return: 0 once the controller is back; else a negative errno.
 */
int nvp_ctrl_escalate(struct nvp_ctrl *ctrl, const char *why);

/**
 * nvp_ctrl_reconnect() - from nvp_ctrl_process_admin(): the next attempt of
 * a reset that waits for an NVMe/TCP target, when due and no reset runs.
 * @ctrl: the controller.
 *
 * Return: 0 (done, still waiting, or not due), or the failure's errno once
 * tcp_ctrl_loss_timeout_ms has passed (the controller is then failed).
 */
int nvp_ctrl_reconnect(struct nvp_ctrl *ctrl);

/** nvp_ctrl_resetting_here() - whether this thread brings up, resets or
 * rescans @ctrl (its admin commands pass; failures do not escalate). */
bool nvp_ctrl_resetting_here(const struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_reconfiguring() - mark this thread as bringing up, resetting or
 * rescanning @ctrl (NULL: none).
 * @ctrl: the controller, or NULL.
 *
 * Return: the previous mark, to restore.
 */
const struct nvp_ctrl *nvp_ctrl_reconfiguring(const struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_rescan_ns() - rescan namespaces (after Namespace Attribute
 * Changed), serialised with resets; reports changes as events.
 * @ctrl: controller. Return: 0 or a negative errno.
 */
int nvp_ctrl_rescan_ns(struct nvp_ctrl *ctrl);

/* ---- ctrl.c ------------------------------------------------------------- */

/** nvp_ctrl_new() - a zeroed controller with its locks initialised. */
struct nvp_ctrl *nvp_ctrl_new(void);

/**
 * nvp_ctrl_park_dma() - keep DMA memory a command may still write.
 * @ctrl: controller. @buf: from nvp_dma_alloc().
 *
 * For a buffer whose command ended without an answer while the controller
 * stays enabled: freeing it would let the device write into whatever the
 * allocator hands out next. Freed by nvp_ctrl_free(), after the device
 * was disabled. Out of memory: the buffer is leaked (and logged), never
 * freed.
 */
void nvp_ctrl_park_dma(struct nvp_ctrl *ctrl, void *buf);

/** nvp_ctrl_free() - free a controller and what it owns (device closed). */
void nvp_ctrl_free(struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_check_health() - read CSTS: all-ones fails the controller
 * (removed), CSTS.CFS resets it. Over NVMe/TCP it never waits: it acts on
 * the last Property Get's answer and sends the next (nvp_tcp_csts()).
 * @ctrl: controller.
 *
 * Return: 0 if healthy (or brought back by the reset), else a negative errno.
 */
int nvp_ctrl_check_health(struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_fail() - mark the controller failed for good and stop its DMA.
 * @ctrl: controller. @err: -ENXIO or -ENODEV. @why: reason for the log.
 *
 * Disables the controller (CC.EN=0) unless it is gone, so no command can
 * DMA into a buffer after the driver has given the buffer back; moves the
 * generation so queue pairs end their commands; reports the event.
 */
void nvp_ctrl_fail(struct nvp_ctrl *ctrl, int err, const char *why);

/** nvp_ctrl_emit_event() - hand @ev to the application's event callback. */
void nvp_ctrl_emit_event(struct nvp_ctrl *ctrl, const struct nvp_event *ev);

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
 * nvp_ctrl_reinit() - the init sequence again after a reset's disable,
 * keeping allocations and handles.
 * @ctrl: a controller that was initialised once, now disabled.
 *
 * Return: 0 or a negative errno whose message names the failing state.
 */
int nvp_ctrl_reinit(struct nvp_ctrl *ctrl);

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
 * nvp_ns_scan() - enumerate active namespaces: new ones are added, gone
 * ones marked removed, resized ones updated (handles stay valid).
 * @ctrl: controller. @notify: report changes as events (not at attach).
 *
 * Return: 0 or a negative errno.
 */
int nvp_ns_scan(struct nvp_ctrl *ctrl, bool notify);

/**
 * nvp_ns_identify_pi() - read the guard format of every namespace with PI.
 * @ctrl: a live controller (admin commands are synchronous here).
 *
 * The 64-bit guard is known only from the NVM command set specific
 * Identify Namespace (CNS 05h), which a controller offers when CTRATT has
 * ELBAS. Without it, or when it fails, the 16-bit guard is assumed (with a
 * warning on failure). Called after attach and after every scan.
 */
void nvp_ns_identify_pi(struct nvp_ctrl *ctrl);

/**
 * nvp_ns_apply_nvm_id() - apply the NVM command set Identify Namespace.
 * @ctrl: the controller. @ns: the namespace. @nvm: its CNS 05h data
 * (little-endian, as the controller wrote it).
 */
void nvp_ns_apply_nvm_id(struct nvp_ctrl *ctrl, struct nvp_ns *ns,
			 const struct nvp_id_ns_nvm *nvm);

/**
 * struct nvp_ns_scan - a namespace scan taken in steps, so that the caller
 * submits the Identify commands (init.c does, asynchronously; nvp_ns_scan()
 * waits for each).
 * @ids: active NSIDs from the list pages. @count: entries. @cap: capacity.
 * @after: the NSID the next active list page starts after.
 * @next: index in ctrl->ns of the first namespace the list has not passed.
 * @notify: report changes as events.
 */
struct nvp_ns_scan {
	uint32_t *ids;
	uint32_t count;
	uint32_t cap;
	uint32_t after;
	uint32_t next;
	bool notify;
};

/**
 * nvp_ns_scan_begin() - start a scan.
 * @ctrl: controller (Identify Controller data read). @scan: the scan.
 * @notify: report changes as events (not at attach).
 *
 * Return: whether an active namespace list page is needed (NN is not 0):
 * Identify CNS 02h with NSID @scan->after.
 */
bool nvp_ns_scan_begin(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, bool notify);

/**
 * nvp_ns_scan_list() - take one active namespace list page.
 * @ctrl: controller. @scan: the scan. @page: the page (1024 NSIDs).
 *
 * Return: 1 if another page is needed (after @scan->after), 0 if the list
 * is whole, or -ENOMEM.
 */
int nvp_ns_scan_list(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, const uint32_t *page);

/**
 * nvp_ns_scan_found() - apply one listed namespace's Identify data: those
 * the list skipped are marked removed, this one added or updated.
 * @ctrl: controller. @scan: the scan. @nsid: the namespace.
 * @id: its Identify Namespace data (copied).
 *
 * Return: 0 or -ENOMEM.
 */
int nvp_ns_scan_found(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, uint32_t nsid,
		      const struct nvp_id_ns *id);

/**
 * nvp_ns_scan_end() - finish a scan and free what it holds.
 * @ctrl: controller. @scan: the scan.
 * @complete: every listed namespace was applied: those after the last one
 *            are marked removed. False (the scan failed): nothing more is.
 */
void nvp_ns_scan_end(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, bool complete);

/**
 * nvp_ns_identify_fatal() - whether Identify Namespace failing with @err
 * ends the scan (the controller failed, vanished, timed out or is being
 * reset), rather than leaving that one namespace out.
 * @err: negative errno (of the wait, or nvp_status_to_errno()).
 */
bool nvp_ns_identify_fatal(int err);

/** nvp_ns_free_all() - free every namespace (detach). */
void nvp_ns_free_all(struct nvp_ctrl *ctrl);

/* ---- zns.c: zoned namespaces ------------------------------------------- */

/**
 * nvp_zns_desc_csi() - the CSI a Namespace Identification Descriptor list
 * (CNS 03h, little-endian as the controller wrote it) names.
 * @page: the 4096-byte list.
 *
 * Return: the CSI, NVP_CSI_NVM when the list has no CSI descriptor.
 */
uint8_t nvp_zns_desc_csi(const void *page);

/**
 * nvp_zns_identify_cmd() - an Identify command with a CSI (CNS 05h/06h).
 * @cmd: out: the command, CPU order. @cns/@csi/@nsid: its fields.
 */
void nvp_zns_identify_cmd(struct nvp_sqe *cmd, uint8_t cns, uint8_t csi, uint32_t nsid);

/**
 * nvp_zns_set_ctrl() - take the ZNS Identify Controller data (NULL: it was
 * refused; ZASL 0 = MDTS is assumed).
 */
void nvp_zns_set_ctrl(struct nvp_ctrl *ctrl, const struct nvp_zns_id_ctrl *id);

/**
 * nvp_zns_set_csi() - apply what a scan learned of a namespace's command
 * set, after nvp_ns_scan_found().
 * @ctrl: controller. @nsid: the namespace.
 * @csi: its CSI (nvp_zns_desc_csi()).
 * @zid: its ZNS Identify Namespace when @csi is NVP_CSI_ZNS, or NULL when
 *       that was refused (the namespace then refuses I/O).
 */
void nvp_zns_set_csi(struct nvp_ctrl *ctrl, uint32_t nsid, uint8_t csi,
		     const struct nvp_zns_id_ns *zid);

/**
 * nvp_zns_check_write() - the extra checks of writes on a zoned namespace
 * (called only for those: no cost for others): within one zone, and in one
 * command of at most @max blocks (split parts may run in any order).
 *
 * Return: 0, or -EINVAL/-E2BIG with a message.
 */
int nvp_zns_check_write(struct nvp_ns *ns, uint64_t lba, uint32_t nlb, uint32_t max);

/**
 * nvp_io_check() - the submission checks of every I/O call, for calls
 * outside io.c: queue pair, callback, namespace and range.
 */
int nvp_io_check(struct nvp_qpair *qp, nvp_cmd_cb cb, struct nvp_ns *ns, uint64_t lba,
		 uint32_t nlb);

/* ---- quirks.c ----------------------------------------------------------- */

#define NVP_QUIRK_DELAY_BEFORE_CHK_RDY	(1u << 0) /* wait 2 ms after CC.EN=0 */

/** nvp_quirks_lookup() - quirks for a PCI vendor/device ID. */
uint32_t nvp_quirks_lookup(uint16_t vendor_id, uint16_t device_id);

/** nvp_quirk_names() - printable list of quirk bits (static buffer per thread). */
const char *nvp_quirk_names(uint32_t quirks);

#endif /* NVP_LIB_NVME_NVME_H */
