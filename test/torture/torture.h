/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture.h - nvpoll-torture: a model-based torture test of the public API.
 *
 * Several threads, each with its own queue pairs on shared controllers and
 * its own LBA regions, issue random sequences of valid and invalid calls.
 * Every call is checked against a model of what must happen: the exact
 * return code, exactly one callback per accepted command (none for refused
 * ones), the completion status (success unless an injected fault or a
 * timeout explains the error), nvp_qpair_outstanding(), and every block read
 * back against the set of contents the model allows. See README.md.
 *
 * Only <nvpoll/nvpoll.h> and <nvpoll/emu.h> are used.
 */
#ifndef NVP_TORTURE_H
#define NVP_TORTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#define T_MAX_CTRLS	8
#define T_MAX_NS	4	/* namespaces used per controller */
#define T_MAX_THREADS	16
#define T_QP_PER_CTRL	2	/* queue pairs a thread may hold per controller */
#define T_MAX_OPS	2048	/* commands in flight per thread */
#define T_RING		256	/* remembered operations per thread */
#define T_MAX_IOV	16
#define T_MAX_FAULTS	24	/* faults a thread remembers as armed */
#define T_MAX_CAND	4	/* contents a block may have before it is "any" */
#define T_MAX_DSM	256
#define T_NOLIMIT	UINT64_MAX

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/* Operation classes, for --ops (narrowing a reproducer). */
enum t_opclass {
	OC_RW,		/* read, write */
	OC_VEC,		/* readv, writev */
	OC_RAW,		/* nvp_io_raw: read, write, compare, bad commands */
	OC_FLUSH,
	OC_WZ,		/* write zeroes */
	OC_DSM,		/* deallocate */
	OC_INVALID,	/* refused variants of every submission call */
	OC_QPAIR,	/* qpair alloc/free (also with commands outstanding), bad opts */
	OC_ADMIN,	/* admin commands, sync and async, log pages */
	OC_MEM,		/* nvp_mem_register/unregister, nvp_dma_alloc/free */
	OC_FAULT,	/* nvp_emu_inject() (emu only) */
	OC_NEST,	/* submissions from callbacks */
	OC_COUNT
};

/* Fault types, for --faults. */
#define TF_STATUS	(1u << 0)
#define TF_DROP		(1u << 1)
#define TF_DELAY	(1u << 2)
#define TF_UNKNOWN	(1u << 3)
#define TF_DUP		(1u << 4)
#define TF_CQE		(1u << 5)	/* NVP_EMU_FAULT_CQE: chosen completion fields */
#define TF_ALL		0x3fu

struct t_spec {
	char addr[512];
	struct nvp_ctrl_opts opts;
	bool fatal_ok;		/* may be killed in the fatal phase */
};

struct t_cfg {
	uint64_t seed;
	double seconds;
	int threads;
	int nspec;
	struct t_spec spec[T_MAX_CTRLS];
	bool user_ctrls;	/* -a given: exactly those controllers */
	uint32_t ops_mask;	/* 1 << enum t_opclass */
	uint32_t fault_mask;	/* TF_* */
	bool fatal_phase;
	bool verbose;
	uint32_t hang_ms;	/* a command without callback this long is a violation */
};

extern struct t_cfg cfg;

/* ------------------------------------------------------------------------ */
/* Controllers, namespaces, regions                                         */
/* ------------------------------------------------------------------------ */

struct t_ctrl;

struct t_ns {
	struct nvp_ns *ns;
	const struct nvp_ns_info *info;
	struct t_ctrl *c;
	int idx;		/* in c->ns[] */
	uint32_t bs;
	uint64_t nblocks;
	uint32_t max_io;	/* max_io_blocks as the library reports it */
	uint64_t max_op_blocks;	/* largest I/O the test issues here */
	uint64_t rbase[T_MAX_THREADS];	/* each thread's region */
	uint64_t rlen[T_MAX_THREADS];
};

struct t_ctrl {
	int idx;
	const char *addr;
	struct nvp_ctrl_opts opts;
	struct nvp_ctrl *ctrl;
	const struct nvp_ctrl_info *info;
	bool is_emu;
	bool byte_sgl;		/* SGLS 01b: byte-aligned SGL data */
	uint32_t timeout_ms;	/* io_timeout_ms in effect, 0 = none */
	int nns;
	struct t_ns ns[T_MAX_NS];
	/* Model of the controller's queue pairs (under qp_lock). */
	pthread_mutex_t qp_lock;
	uint32_t qpairs_in_use;
	bool qid_used[1024];
	bool dead;		/* fatal phase: killed */
	bool removal_expected;	/* the removal phase: failure is the contract */
	/* events (nvp_ctrl_set_event_cb), counted on whichever thread */
	atomic_uint ev_started, ev_done, ev_done_err, ev_failed, ev_removed;
};

extern struct t_ctrl ctrls[T_MAX_CTRLS];
extern int nctrls;
extern int nmain;		/* ctrls[0..nmain) are used in the main phase */

/* A block's possible contents: write generations, or 0 for zeroes. */
#define CAND_ZERO	0ull
struct t_blk {
	uint64_t c[T_MAX_CAND];
	uint8_t n;		/* 0xff: anything (unknown) */
};
#define BLK_ANY 0xff

struct t_region {
	struct t_ns *ns;
	uint64_t base, len;	/* blocks */
	uint64_t tag;		/* pattern tag: seed, thread, controller, namespace */
	struct t_blk *blk;
	uint8_t *busy;		/* a command in flight covers the block */
};

/* ------------------------------------------------------------------------ */
/* Threads, queue pairs, commands                                           */
/* ------------------------------------------------------------------------ */

enum t_kind {
	K_READ, K_WRITE, K_READV, K_WRITEV, K_RAW_READ, K_RAW_WRITE, K_COMPARE,
	K_FLUSH, K_WZ, K_DSM, K_RAW_BAD, K_RAW_FLUSH_ALL,
	/* calls that are not commands (ring entries only) */
	K_QP_ALLOC, K_QP_FREE, K_POLL, K_ADMIN, K_MEM, K_FAULT, K_QUIESCE, K_CHECK,
	K_COUNT
};

struct t_qp {
	struct nvp_qpair *qp;	/* NULL: slot empty */
	struct t_ctrl *c;
	uint16_t qid;
	uint32_t queue_size, num_reqs;
	uint32_t target_depth;
	uint32_t nops;		/* commands in flight (model) */
	uint32_t lo, hi;	/* request objects they hold, bounds */
	uint32_t carriers;	/* precise-fault carriers in flight */
	uint32_t flushes, dsms;	/* in flight, for fault matching */
	bool freeing;		/* inside nvp_qpair_free() */
	uint64_t alloc_seq;
	/* requests that may be retired (quarantined) until the next reset */
	uint32_t maybe_retired;
	uint32_t seen_done;	/* unused */
	uint32_t synced;	/* resets started that this qpair has certainly seen */
	bool poll_failed;	/* a poll returned -ENXIO/-ENODEV */
};

/* Where a buffer came from (what nvp_mem_translate() should say). */
enum t_mem { MEM_ARENA, MEM_REG, MEM_POOL };

struct t_op {
	bool used;
	uint16_t slot;
	uint8_t kind;
	uint8_t cb_action;
	uint64_t seq;
	struct t_qp *tq;
	struct t_region *rg;
	uint64_t lba;
	uint32_t nlb;
	uint32_t needed;	/* request objects (parts + parent) */
	bool split;
	uint64_t t0;		/* ns, before the submission call */
	uint32_t rs0;		/* the controller's resets started, at submission */
	uint64_t gen;		/* write generation (= seq) */
	/* buffer */
	size_t ar_off, ar_len;	/* arena range reserved, ar_len 0 = none */
	bool uses_reg;
	struct iovec iov[T_MAX_IOV];
	int iovcnt;
	/* expectations */
	bool exact;		/* precise fault: want_status exactly */
	uint16_t want_status;	/* for exact and K_RAW_BAD (phase bit 0) */
	bool want_drop;		/* precise DROP: Host Aborted after the timeout */
	uint32_t want_delay_us;	/* precise DELAY: not before this */
	bool carrier;
	bool sqid_fault;	/* the device may report another SQID for it */
	bool cmp_corrupt;	/* compare buffer altered: Compare Failure */
	uint8_t raw_opc;	/* K_RAW_BAD: the command as sent */
	uint32_t raw_nsid;
	uint32_t ndsm;
	struct nvp_dsm_range *dsm;
};

/* One remembered operation. */
struct t_rec {
	uint64_t seq;
	uint64_t t;		/* ms since start */
	uint8_t kind;
	int8_t ctrl, ns;
	uint16_t qid;
	uint64_t lba;
	uint64_t nlb;
	int rc;			/* 1 = in progress */
	int32_t status;		/* completion status, -1 none yet */
	char note[48];
};

struct t_fault {
	bool used;
	int ctrl;
	struct nvp_emu_fault f;
	uint64_t seq;
};

/* What a data command looked like, for failure reports (indexed by seq). */
#define T_HIST 8192
struct t_hist {
	uint64_t seq;
	uint8_t kind;
	int8_t ctrl, ns;
	uint16_t qid;
	uint64_t lba;
	uint32_t nlb;
	int iovcnt;
	void *addr0;
	size_t len0;
	const char *what;
	int32_t status;		/* -1: not completed */
	uint64_t t_sub, t_cpl;	/* ms */
};

/* The buffer of a read that completed by timeout: the device must not touch it. */
#define T_WATCH 64
struct t_watch {
	bool used;
	uint64_t seq;
	uint64_t t;		/* ns, when the callback ran */
	uint16_t status;
	struct iovec iov[T_MAX_IOV];
	int iovcnt;
	size_t ar_off, ar_len;
	bool uses_reg;
	int pool;
};

struct t_buf {			/* a buffer from nvp_dma_alloc() (mem ops) */
	uint8_t *p;
	size_t len;
	uint32_t users;
};

struct t_thread {
	int idx;
	pthread_t tid;
	uint64_t rng;
	uint64_t seq;
	struct t_qp qps[T_MAX_CTRLS][T_QP_PER_CTRL];
	struct t_region rg[T_MAX_CTRLS][T_MAX_NS];
	struct t_op ops[T_MAX_OPS];
	uint16_t free_slots[T_MAX_OPS];
	uint32_t nfree;
	uint32_t inflight;
	/* memory */
	uint8_t *arena;
	size_t arena_len;
	uint8_t *reg;		/* registered mapping; guard page after it */
	size_t reg_len;
	bool reg_registered;
	uint32_t reg_users;
	uint8_t *unreg;		/* mapped, never registered */
	uint8_t *heap;		/* malloc */
	struct t_buf pool[8];
	uint8_t *scratch;	/* one block, 64 KiB */
	/* faults */
	struct t_fault faults[T_MAX_FAULTS];
	struct t_fault retired[128];	/* cleared, but may explain older commands */
	uint64_t retired_before[128];
	uint32_t fepoch;		/* fault epoch this thread works in */
	atomic_uint fack;		/* epoch change acknowledged: no carriers */
	uint32_t fbudget;		/* faults this thread may still arm this epoch */
	struct t_watch watch[T_WATCH];
	/* callbacks */
	int cb_depth;
	struct t_qp *freeing;	/* the qpair being freed, if any */
	/* fatal phase */
	bool fatal;		/* relaxed expectations after the kill */
	/* record */
	struct t_rec ring[T_RING];
	struct t_hist hist[T_HIST];
	uint32_t ring_pos;
	uint64_t cur_seq;
	/* counters */
	uint64_t n_calls[K_COUNT];
	uint64_t n_refused, n_cpl, n_cpl_err, n_blocks_checked, n_faults, n_precise;
	uint64_t n_free_busy, n_nested, n_timeouts;
};

extern struct t_thread *threads[T_MAX_THREADS];
extern _Thread_local struct t_thread *tls;
extern atomic_bool t_stop;
/* Fault epochs: the main thread clears every fault once all threads agree. */
extern atomic_uint fepoch_req, fepoch_done;

/* ------------------------------------------------------------------------ */
/* main.c                                                                   */
/* ------------------------------------------------------------------------ */

uint64_t t_now_ns(void);
uint64_t t_ms(void);		/* since start */
void t_violation(struct t_thread *th, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void t_fatal_setup(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
const char *t_errname(int err);
const char *t_kind_name(int kind);
bool t_op_enabled(enum t_opclass oc);

/* ------------------------------------------------------------------------ */
/* data.c                                                                   */
/* ------------------------------------------------------------------------ */

uint64_t t_mix(uint64_t x);
uint64_t t_rand(struct t_thread *th);
uint64_t t_below(struct t_thread *th, uint64_t bound);	/* [0, bound) */
bool t_chance(struct t_thread *th, unsigned int pct);

void t_region_init(struct t_region *rg, struct t_ns *ns, uint64_t base, uint64_t len,
		   uint64_t tag, bool zeroed);
void t_region_free(struct t_region *rg);
bool t_range_free(const struct t_region *rg, uint64_t lba, uint64_t nlb);
void t_range_busy(struct t_region *rg, uint64_t lba, uint64_t nlb, bool busy);
void t_blk_set(struct t_blk *b, uint64_t v);
void t_blk_add(struct t_blk *b, uint64_t v);

/* Fill/check @nlb blocks through an iovec (byte stream). */
void t_fill(struct t_thread *th, const struct t_region *rg, uint64_t lba, uint32_t nlb,
	    uint64_t gen, const struct iovec *iov, int iovcnt);
void t_poison(const struct iovec *iov, int iovcnt, uint64_t seq);
/*
 * Check read data against the model. Returns true if every block holds one
 * of its allowed contents (and narrows the model to it); otherwise fills
 * @why and returns false.
 */
bool t_check_read(struct t_thread *th, struct t_region *rg, uint64_t lba, uint32_t nlb,
		  const struct iovec *iov, int iovcnt, uint64_t seq, char *why, size_t len);
/* "op #N (write of ... ) completed ..." from the history, for reports. */
void t_hist_str(uint64_t seq, int thread, char *out, size_t len);
uint64_t t_tag(int thread, int ctrl, int ns);
/* The expected content of a block if the model knows it (for Compare). */
bool t_blk_known(const struct t_region *rg, uint64_t lba, uint64_t *v);
void t_fill_value(struct t_thread *th, const struct t_region *rg, uint64_t lba, uint64_t v,
		  uint8_t *dst);

/* ------------------------------------------------------------------------ */
/* ops.c                                                                    */
/* ------------------------------------------------------------------------ */

void t_thread_setup(struct t_thread *th);
void t_thread_teardown(struct t_thread *th);
void t_main_phase(struct t_thread *th);
void t_drain(struct t_thread *th);
void t_verify_all(struct t_thread *th);
void t_free_all_qpairs(struct t_thread *th);
void t_fatal_phase(struct t_thread *th, struct t_ctrl *c, bool removal, int base);
void t_verify_ctrl(struct t_thread *th, struct t_ctrl *c);
/* Phase hand-over with the main thread, which keeps polling admin meanwhile. */
void t_arrive(struct t_thread *th, int step);
void t_await(int step);
bool t_ns_unusable(const struct t_ns *ns);
/* A reset started since @rs0, or is running: admin calls may be refused. */
bool t_reset_since(const struct t_ctrl *c, uint32_t rs0);
int t_poll(struct t_thread *th, struct t_qp *tq, uint32_t max);
struct t_qp *t_qp_get(struct t_thread *th, struct t_ctrl *c, bool alloc);
void t_qp_free(struct t_thread *th, struct t_qp *tq, bool with_outstanding);
void t_quiesce(struct t_thread *th, struct t_qp *tq);
struct t_rec *t_rec_begin(struct t_thread *th, int kind, const struct t_ctrl *c, int ns,
			  uint16_t qid, uint64_t lba, uint64_t nlb);
void t_rec_note(struct t_rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Check a call's return code against the set of acceptable ones. */
void t_expect_rc(struct t_thread *th, struct t_rec *r, int rc, uint32_t want, const char *what);

/* Acceptable return codes, as a bit set. */
#define RC_OK		(1u << 0)
#define RC_EINVAL	(1u << 1)
#define RC_ERANGE	(1u << 2)
#define RC_EFAULT	(1u << 3)
#define RC_EAGAIN	(1u << 4)
#define RC_ENXIO		(1u << 5)
#define RC_ENODEV	(1u << 6)
#define RC_EBUSY		(1u << 7)
#define RC_ENOENT	(1u << 8)
#define RC_EEXIST	(1u << 9)
#define RC_ENOTSUP	(1u << 10)
#define RC_ENOSPC	(1u << 11)
#define RC_ETIMEDOUT	(1u << 13)
#define RC_EIO		(1u << 14)
#define RC_ECANCELED	(1u << 15)
#define RC_EDEADLK	(1u << 16)
uint32_t t_rbit(int rc);
void t_rset_str(uint32_t set, char *out, size_t len);

/* ------------------------------------------------------------------------ */
/* extra.c: admin, memory, faults                                           */
/* ------------------------------------------------------------------------ */

void t_op_admin(struct t_thread *th);
void t_op_mem(struct t_thread *th);
void t_op_fault_loose(struct t_thread *th);
/* Permission: may a completion with @status come from an armed fault? */
bool t_fault_explains(struct t_thread *th, const struct t_op *op, uint16_t status);
void t_faults_forget(struct t_thread *th);
/* Keep up with fault epochs; true if the thread may arm a fault now. */
bool t_fault_may_arm(struct t_thread *th);
uint32_t t_fault_budget(void);
bool t_fault_overlaps(struct t_thread *th, int ctrl, uint16_t qid, uint32_t nsid,
		      uint64_t lba, uint64_t nlb);

#endif /* NVP_TORTURE_H */
