/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * itest.h - the nvpoll integration suite: a tiny harness and the helpers the
 * tests share. Everything here uses the public API only, so the suite runs
 * unchanged against the emulated controller and a real (QEMU) controller.
 */
#ifndef NVP_ITEST_H
#define NVP_ITEST_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nvpoll/nvpoll.h>

/* ------------------------------------------------------------------------ */
/* Harness                                                                  */
/* ------------------------------------------------------------------------ */

#define ITEST_MAX_DEVS 2
#define ITEST_MAX_NS 16

/* What the command line asked for; read-only once tests run. */
struct itest_config {
	const char *addr[ITEST_MAX_DEVS];
	int num_addrs;
	bool quick;
	bool verbose;
	const char *only;
	const char *skip;
	uint64_t seed;
	/* Milliseconds to wait for one completion before declaring a hang. */
	unsigned int wait_ms;
	/* io_timeout_ms of the fault tests' controllers (0: their default). */
	unsigned int fault_timeout_ms;
	/* --cmb-sqs: nvp_ctrl_opts.cmb_sqs of the -a controllers. */
	enum nvp_cmb_sqs cmb_sqs;
};

extern struct itest_config itest_cfg;

/*
 * Record a failure of the running test (the first message is the one shown
 * on the result line; later ones go to stderr). Thread-safe.
 */
void itest_failf(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Mark the running test as skipped, with a reason. */
void itest_skipf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An informational note appended to the test's result line. */
void itest_notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True once the running test has recorded a failure. */
bool itest_failed(void);
/* Library log lines at WARN or above seen during the running test. */
unsigned int itest_log_count(void);
/* True if a library message logged during this test contains @needle. */
bool itest_log_contains(const char *needle);
/* Name of an errno value ("EINVAL"), for messages. */
const char *itest_errname(int err);

/*
 * Assertions. Each test function keeps its cleanup after a label named
 * "out"; a failed check records the failure and jumps there, so DMA memory
 * and qpairs are always released.
 */
#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			itest_failf(__FILE__, __LINE__, "%s", #cond);        \
			goto out;                                            \
		}                                                            \
	} while (0)

#define CHECKF(cond, ...)                                                    \
	do {                                                                 \
		if (!(cond)) {                                               \
			itest_failf(__FILE__, __LINE__, __VA_ARGS__);        \
			goto out;                                            \
		}                                                            \
	} while (0)

/* @expr must return @want (a negative errno or 0). */
#define CHECK_RC(expr, want)                                                 \
	do {                                                                 \
		int rc_ = (expr);                                            \
		int want_ = (want);                                          \
		if (rc_ != want_) {                                          \
			itest_failf(__FILE__, __LINE__,                      \
				    "%s returned %d (%s), expected %d (%s)", \
				    #expr, rc_, itest_errname(rc_), want_,   \
				    itest_errname(want_));                   \
			goto out;                                            \
		}                                                            \
	} while (0)

/* ------------------------------------------------------------------------ */
/* Controllers shared by the tests                                          */
/* ------------------------------------------------------------------------ */

/*
 * A controller attached once and reused by most tests, because attach and
 * detach of a PCI device (driver rebinding, kernel re-probe) takes seconds
 * under TCG.
 */
struct itest_dev {
	const char *addr;
	bool is_emu;
	bool is_tcp;	/* NVMe/TCP: no PCI function, no kernel driver to give back */
	struct nvp_ctrl *ctrl;
	const struct nvp_ctrl_info *info;
	struct nvp_ns *ns[ITEST_MAX_NS];
	int num_ns;
	/* Options of the current attach (no_sgl forces the PRP path). */
	struct nvp_ctrl_opts opts;
};

/* Controller @idx (0 = main), attached with default options if needed. */
struct itest_dev *itest_dev(int idx);
/* Detach @idx (if attached) and attach it again with @opts (NULL = defaults). */
struct itest_dev *itest_dev_reattach(int idx, const struct nvp_ctrl_opts *opts);
/* Detach @idx if attached; returns nvp_ctrl_detach()'s result. */
int itest_dev_detach(int idx);
bool itest_addr_is_emu(const char *addr);
/* Canonical PCI address ("0000:00:04.0") of @addr into @out. */
void itest_pci_canon(const char *addr, char *out, size_t len);

/* The driver bound to PCI function @bdf ("" if none). */
void itest_pci_driver(const char *bdf, char *out, size_t len);
/* The first namespace block device ("nvme0n1") of @bdf, if there is one. */
bool itest_pci_blockdev(const char *bdf, char *out, size_t len);
/*
 * Wait until the kernel's nvme driver has @addr, its controller is "live"
 * and a namespace block device exists; false (and why) after @timeout_ms.
 */
bool itest_pci_kernel_ready(const char *addr, unsigned int timeout_ms, char *why, size_t len);
void itest_sleep_ms(unsigned int ms);

/* True if the controller takes byte-aligned SGL data (NVMe SGLS 01b). */
bool itest_byte_sgl(const struct itest_dev *d);

/* ------------------------------------------------------------------------ */
/* Data patterns                                                            */
/* ------------------------------------------------------------------------ */

/* xorshift64*: a small, seedable PRNG; never returns the same stream twice. */
uint64_t itest_rand(uint64_t *state);
/* A value in [0, bound). */
uint64_t itest_rand_below(uint64_t *state, uint64_t bound);

/*
 * Fill @nlb blocks of @bs bytes with a pattern unique to (LBA, seed): a
 * header (magic, LBA, seed), PRNG bytes, and a checksum in the last 8 bytes.
 */
void pattern_fill(void *buf, uint64_t lba, uint32_t nlb, uint32_t bs, uint64_t seed);
/*
 * Check what pattern_fill() wrote. Returns -1 if all blocks match, else the
 * index of the first bad block, and describes the problem in @why.
 */
long pattern_check(const void *buf, uint64_t lba, uint32_t nlb, uint32_t bs,
		   uint64_t seed, char *why, size_t why_len);
/* Returns true if every byte of @buf is zero. */
bool buf_is_zero(const void *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* I/O helpers                                                              */
/* ------------------------------------------------------------------------ */

/* Per-command completion record; the callback counts calls. */
struct io_cpl {
	atomic_int calls;
	uint16_t status;	/* phase bit cleared */
	uint32_t dw0;
	uint32_t dw1;		/* fused pairs: which half (NVP_FUSED_HALF_*) */
};

void io_cpl_init(struct io_cpl *c);
/* nvp_cmd_cb that fills a struct io_cpl. */
void io_cpl_cb(void *arg, const struct nvp_cqe *cpl);

/*
 * Poll @qp until @counter reaches @target or itest_cfg.wait_ms passes.
 * Returns 0, -ETIMEDOUT, or nvp_qpair_poll()'s negative errno.
 */
int poll_until(struct nvp_qpair *qp, atomic_int *counter, int target);
/* The same for the admin queue. */
int admin_poll_until(struct nvp_ctrl *ctrl, atomic_int *counter, int target);

enum io_op {
	IO_READ,
	IO_WRITE,
	IO_FLUSH,
	IO_WRITE_ZEROES,
};

/*
 * Submit one command and wait for it. Returns the submission error if it was
 * refused (after checking that no callback ran), otherwise the completion's
 * errno (0 on success). @cpl, if not NULL, receives the completion. Records
 * a test failure if the callback runs more or less than exactly once.
 */
int io_sync(struct nvp_qpair *qp, struct nvp_ns *ns, enum io_op op, void *buf,
	    uint64_t lba, uint32_t nlb, uint32_t flags, struct io_cpl *cpl);
int iov_sync(struct nvp_qpair *qp, struct nvp_ns *ns, bool write,
	     const struct iovec *iov, int iovcnt, uint64_t lba, uint32_t nlb,
	     struct io_cpl *cpl);
int raw_sync(struct nvp_qpair *qp, const struct nvp_sqe *cmd, void *buf, size_t len,
	     struct io_cpl *cpl);
/* nvp_read_ext()/nvp_write_ext() and the iovec forms, as io_sync(). */
int ext_sync(struct nvp_qpair *qp, struct nvp_ns *ns, bool write, void *buf, uint64_t lba,
	     uint32_t nlb, const struct nvp_io_opts *opts, struct io_cpl *cpl);
int extv_sync(struct nvp_qpair *qp, struct nvp_ns *ns, bool write, const struct iovec *iov,
	      int iovcnt, uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
	      struct io_cpl *cpl);

/*
 * Any other command, synchronously, with io_sync()'s checks: @c from
 * io_cpl_new() is the callback argument of the submission whose result is
 * @rc; io_cpl_finish() waits, frees @c and returns as io_sync() does.
 */
struct io_cpl *io_cpl_new(void);
int io_cpl_finish(struct nvp_qpair *qp, int rc, struct io_cpl *c, struct io_cpl *out,
		  const char *what);
/* CALL is a submission that takes io_cpl_cb, c_ as its last arguments. */
#define CMD_SYNC(qp, out, what, CALL)                                          \
	({                                                                     \
		struct io_cpl *c_ = io_cpl_new();                              \
		c_ ? io_cpl_finish((qp), (CALL), c_, (out), (what)) : -ENOMEM; \
	})

/*
 * Write a fresh pattern to @nlb blocks at @lba and read it back through
 * @qp: proves the qpair still works after a test provoked an error.
 * Returns true if it does (and records a failure otherwise).
 */
bool qpair_still_works(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t lba);

/* Write a pattern and read it back, comparing; records failures. */
bool write_read_verify(struct nvp_qpair *qp, struct nvp_ns *ns, void *wbuf,
		       void *rbuf, uint64_t lba, uint32_t nlb, uint64_t seed,
		       uint32_t flags);

/* Allocate a qpair with default options; records a failure on error. */
struct nvp_qpair *qpair_alloc_default(struct itest_dev *d);

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

/* Test needs: */
#define T_TWO_CTRLS	(1u << 0)	/* a second -a */
#define T_EMU_ONLY	(1u << 1)	/* the fault-injection API */
#define T_SLOW		(1u << 2)	/* left out by --quick */

struct itest_case {
	const char *name;
	void (*fn)(void);
	unsigned int needs;
	const char *what;
};

#define ITEST_DECL(name) void test_##name(void)

ITEST_DECL(attach_identify_detach);
ITEST_DECL(cmb_sqs);
ITEST_DECL(cmb_fallback);
ITEST_DECL(reattach_buffer_survives);
ITEST_DECL(data_sizes);
ITEST_DECL(data_random_lbas);
ITEST_DECL(data_buffer_offsets);
ITEST_DECL(data_page_crossing);
ITEST_DECL(data_hugepage_crossing);
ITEST_DECL(data_iovec);
ITEST_DECL(data_prp_only);
ITEST_DECL(cmd_flush);
ITEST_DECL(cmd_write_zeroes);
ITEST_DECL(cmd_deallocate);
ITEST_DECL(cmd_fua);
ITEST_DECL(queue_wrap);
ITEST_DECL(queue_stats);
ITEST_DECL(queue_deep);
ITEST_DECL(queue_exhaustion);
ITEST_DECL(threads_disjoint);
ITEST_DECL(admin_smart_log);
ITEST_DECL(admin_async_identify);
ITEST_DECL(bad_lba_range);
ITEST_DECL(bad_namespace);
ITEST_DECL(bad_zero_length);
ITEST_DECL(bad_buffer);
ITEST_DECL(bad_too_many_qpairs);
ITEST_DECL(bad_queue_size);
ITEST_DECL(bad_wrong_thread);
ITEST_DECL(bad_detach_busy);
ITEST_DECL(two_controllers);
ITEST_DECL(reattach_immediate);
ITEST_DECL(fault_status);
ITEST_DECL(fault_drop_timeout);
ITEST_DECL(fault_delay);
ITEST_DECL(fault_abort_lost);
ITEST_DECL(fault_cfs);
ITEST_DECL(fault_surprise_removal);
ITEST_DECL(fault_bogus_cid);
ITEST_DECL(fault_removal_by_timeout);
ITEST_DECL(recovery_reset_idle);
ITEST_DECL(recovery_reset_under_load);
ITEST_DECL(recovery_admin_timeout);
ITEST_DECL(recovery_async_admin_timeout);
ITEST_DECL(recovery_queue_create_fail);
ITEST_DECL(recovery_queue_delete_fail);
ITEST_DECL(recovery_lost_commands);
ITEST_DECL(recovery_async_events);
ITEST_DECL(recovery_no_late_dma);
ITEST_DECL(recovery_admin_poller_race);
ITEST_DECL(recovery_alloc_during_resets);
ITEST_DECL(recovery_free_during_reset);
ITEST_DECL(recovery_rescan_late_identify);
ITEST_DECL(trust_nlb_limit);
ITEST_DECL(trust_block_above_mdts);
ITEST_DECL(trust_huge_nlb);
ITEST_DECL(trust_split_cpl_stable);
ITEST_DECL(trust_submit_during_free);
ITEST_DECL(trust_null_args);
ITEST_DECL(trust_split_admission);
ITEST_DECL(trust_numa_node);
ITEST_DECL(trust_register_rw);
ITEST_DECL(md_device_format);
ITEST_DECL(md_device_roundtrip);
ITEST_DECL(md_device_pi_checks);
ITEST_DECL(md_device_fault_pi);
ITEST_DECL(trust_flags_and_raw);
ITEST_DECL(ns_attach);
ITEST_DECL(cmd_compare);
ITEST_DECL(cmd_compare_write);
ITEST_DECL(cmd_compare_write_wrap);
ITEST_DECL(cmd_compare_write_reset);
ITEST_DECL(cmd_verify);
ITEST_DECL(cmd_copy);
ITEST_DECL(cmd_copy_limits);
ITEST_DECL(cmd_write_uncorrectable);
ITEST_DECL(cmd_dsm_attributes);
ITEST_DECL(cmd_cmds_bad_args);
ITEST_DECL(zns_report);
ITEST_DECL(zns_fill_zone);
ITEST_DECL(zns_write_errors);
ITEST_DECL(zns_transitions);
ITEST_DECL(zns_limits);
ITEST_DECL(zns_append_threads);
ITEST_DECL(zns_append_limits);
ITEST_DECL(zns_fault_zone);
ITEST_DECL(md_info);
ITEST_DECL(md_roundtrip);
ITEST_DECL(md_split_iovec);
ITEST_DECL(md_threads);
ITEST_DECL(md_bad_opts);
ITEST_DECL(md_ext_plain);
ITEST_DECL(pi_pract);
ITEST_DECL(pi_checks);

#endif /* NVP_ITEST_H */
