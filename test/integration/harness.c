// SPDX-License-Identifier: BSD-3-Clause
/*
 * harness.c - nvpoll-itest's runner: argument parsing, the test table, one
 * result line per test, library log capture, a per-test watchdog and the
 * controllers the tests share.
 *
 * Output contract (the VM rig and CTest rely on it): one line per test
 * starting with PASS, FAIL or SKIP, and a last line "N passed, N failed".
 * The exit status is 0 only when nothing failed.
 */
#include <fnmatch.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

struct itest_config itest_cfg = {
	.wait_ms = 10000,
};

static const struct itest_case itest_cases[] = {
	{ "attach_identify_detach", test_attach_identify_detach, 0,
	  "info and namespace fields, first/next, detach gives the device back" },
	{ "reattach_buffer_survives", test_reattach_buffer_survives, T_SLOW,
	  "DMA memory allocated before a detach still works after re-attach" },
	{ "data_sizes", test_data_sizes, 0,
	  "1 block to > 4x max transfer, odd counts, every namespace" },
	{ "data_random_lbas", test_data_random_lbas, 0,
	  "random LBAs and lengths from a printed seed" },
	{ "data_buffer_offsets", test_data_buffer_offsets, 0,
	  "buffers at dword offsets inside a page; byte offsets per SGL support" },
	{ "data_page_crossing", test_data_page_crossing, 0,
	  "buffers that cross 4 KiB pages at unaligned starts" },
	{ "data_hugepage_crossing", test_data_hugepage_crossing, 0,
	  "buffers that cross a 2 MiB boundary" },
	{ "data_iovec", test_data_iovec, 0,
	  "readv/writev, PRP-compatible and SGL-only layouts" },
	{ "data_prp_only", test_data_prp_only, T_SLOW,
	  "re-attach with no_sgl: PRP lists, offsets, iovecs, byte offsets refused" },
	{ "cmd_flush", test_cmd_flush, 0, "flush completes, data stays" },
	{ "cmd_write_zeroes", test_cmd_write_zeroes, 0,
	  "zeroed range reads zero, neighbours intact" },
	{ "cmd_deallocate", test_cmd_deallocate, 0,
	  "DSM deallocate, read-back per DLFEAT" },
	{ "cmd_fua", test_cmd_fua, 0, "FUA writes read back" },
	{ "queue_wrap", test_queue_wrap, 0, ">= 10 x queue size verified I/Os" },
	{ "queue_stats", test_queue_stats, 0, "qpair counters match the I/O done" },
	{ "queue_deep", test_queue_deep, 0, "queue size - 1 outstanding at once" },
	{ "queue_exhaustion", test_queue_exhaustion, 0,
	  "out of requests gives -EAGAIN, nothing lost" },
	{ "threads_disjoint", test_threads_disjoint, 0,
	  "4 threads, own qpairs, disjoint ranges, all verified" },
	{ "cmb_sqs", test_cmb_sqs, 0,
	  "SQs in the Controller Memory Buffer: verified I/O, batches, wrap, reset" },
	{ "cmb_fallback", test_cmb_fallback, T_EMU_ONLY,
	  "no CMB (prefer/require), a full CMB (-ENOSPC or host memory)" },
	{ "admin_smart_log", test_admin_smart_log, 0,
	  "SMART log via nvp_get_log_page and raw Get Log Page" },
	{ "admin_async_identify", test_admin_async_identify, 0,
	  "async admin passthrough matches the attach-time Identify" },
	{ "bad_lba_range", test_bad_lba_range, 0, "past the end: -ERANGE / LBA Out of Range" },
	{ "bad_namespace", test_bad_namespace, 0, "NULL / absent namespaces, raw NSID 999" },
	{ "bad_zero_length", test_bad_zero_length, 0, "zero blocks: -EINVAL" },
	{ "bad_buffer", test_bad_buffer, 0, "non-DMA memory: -EFAULT; registered: works" },
	{ "bad_too_many_qpairs", test_bad_too_many_qpairs, 0,
	  "more qpairs than granted: -EBUSY" },
	{ "bad_queue_size", test_bad_queue_size, 0, "queue/request counts out of range: -EINVAL" },
	{ "bad_wrong_thread", test_bad_wrong_thread, 0,
	  "qpair used from another thread: -EXDEV (debug builds)" },
	{ "bad_detach_busy", test_bad_detach_busy, 0, "detach with a qpair: -EBUSY" },
	{ "two_controllers", test_two_controllers, T_TWO_CTRLS,
	  "concurrent verified I/O on two controllers" },
	{ "reattach_immediate", test_reattach_immediate, 0,
	  "detach and attach again at once (kernel still re-probing), I/O works" },
	{ "fault_status", test_fault_status, T_EMU_ONLY,
	  "injected status reaches the callback and is named" },
	{ "fault_drop_timeout", test_fault_drop_timeout, T_EMU_ONLY,
	  "dropped completion: timeout, Abort, reset, posted again; others unaffected" },
	{ "fault_delay", test_fault_delay, T_EMU_ONLY, "delayed completions complete" },
	{ "fault_abort_lost", test_fault_abort_lost, T_EMU_ONLY,
	  "timeout, lost Abort: reset, the write is posted again and succeeds once" },
	{ "fault_cfs", test_fault_cfs, T_EMU_ONLY,
	  "CSTS.CFS, I/O timeouts off: reset within 1 s, held writes posted again" },
	{ "fault_surprise_removal", test_fault_surprise_removal, T_EMU_ONLY,
	  "all-ones registers, I/O timeouts off: -ENODEV within 1 s; detach works" },
	{ "fault_removal_by_timeout", test_fault_removal_by_timeout, T_EMU_ONLY,
	  "no admin poller: the I/O timeout finds the removal" },
	{ "fault_bogus_cid", test_fault_bogus_cid, T_EMU_ONLY,
	  "unknown and duplicate CIDs ignored, real request completes once" },
	{ "recovery_reset_idle", test_recovery_reset_idle, 0,
	  "nvp_ctrl_reset(): events, same handles, the qpair reconnects at its poll" },
	{ "recovery_reset_under_load", test_recovery_reset_under_load, 0,
	  "resets while 2 threads do verified I/O: nothing lost, callbacks once" },
	{ "recovery_admin_timeout", test_recovery_admin_timeout, T_EMU_ONLY,
	  "sync admin timeouts (more than admin slots): reset reclaims each slot" },
	{ "recovery_async_admin_timeout", test_recovery_async_admin_timeout, T_EMU_ONLY,
	  "async admin timeout: the admin poller resets, one retryable callback" },
	{ "recovery_queue_create_fail", test_recovery_queue_create_fail, T_EMU_ONLY,
	  "Create CQ/SQ refused or lost: clear error, queue IDs stay usable" },
	{ "recovery_queue_delete_fail", test_recovery_queue_delete_fail, T_EMU_ONLY,
	  "Delete SQ refused or lost: reset, the queue ID is usable again" },
	{ "recovery_lost_commands", test_recovery_lost_commands, T_EMU_ONLY,
	  "completions the device never posts: Abort, reset, posted again, verified" },
	{ "recovery_async_events", test_recovery_async_events, T_EMU_ONLY,
	  "SMART / error events reported, AER posted again, also after a reset" },
	{ "recovery_no_late_dma", test_recovery_no_late_dma, T_EMU_ONLY | T_SLOW,
	  "reads timing out in the SQ: no DMA into a buffer after its callback" },
	{ "recovery_admin_poller_race", test_recovery_admin_poller_race, T_EMU_ONLY,
	  "sync admin commands beside an admin poller: no spurious timeout" },
	{ "recovery_alloc_during_resets", test_recovery_alloc_during_resets, T_EMU_ONLY,
	  "qpairs allocated during resets: real transfer limit, one callback each" },
	{ "recovery_free_during_reset", test_recovery_free_during_reset, T_EMU_ONLY,
	  "qpair freed while another thread resets: no DMA after the callbacks" },
	{ "recovery_rescan_late_identify", test_recovery_rescan_late_identify, T_EMU_ONLY,
	  "a rescan's Identify answered after its timeout: no DMA into reused memory" },
	{ "trust_nlb_limit", test_trust_nlb_limit, T_EMU_ONLY,
	  "MDTS 0 + 256 MiB max_xfer: 100,000 blocks go as 65536 + 34464, verified" },
	{ "trust_block_above_mdts", test_trust_block_above_mdts, T_EMU_ONLY,
	  "64 KiB blocks, 8 KiB MDTS: -ENOTSUP with a message, no SIGFPE" },
	{ "trust_huge_nlb", test_trust_huge_nlb, T_EMU_ONLY,
	  "nlb >= 0xFFFF0001 on a 2^32-block namespace: -EINVAL, no silent 0" },
	{ "trust_split_cpl_stable", test_trust_split_cpl_stable, T_EMU_ONLY,
	  "a split I/O's completion does not change inside its own callback" },
	{ "trust_submit_during_free", test_trust_submit_during_free, 0,
	  "callbacks run by nvp_qpair_free() cannot submit: -ENXIO" },
	{ "trust_null_args", test_trust_null_args, 0,
	  "NULL callbacks and handles: -EINVAL or a neutral value, no crash" },
	{ "trust_split_admission", test_trust_split_admission, 0,
	  "busy one-request qpair: -EAGAIN; a split that never fits: -EINVAL" },
	{ "trust_numa_node", test_trust_numa_node, 0,
	  "numa_node 4000: -EINVAL naming the nodes, not -ENOMEM" },
	{ "trust_register_rw", test_trust_register_rw, 0,
	  "registering read-only or unmapped memory: -EFAULT" },
	{ "trust_flags_and_raw", test_trust_flags_and_raw, 0,
	  "unknown I/O flags, raw buffer/length mismatch, fused raw: -EINVAL, nothing sent" },
	{ "ns_attach", test_ns_attach, 0,
	  "attach a detached namespace: NS_ADDED, verified I/O; detach: NS_REMOVED, -ENODEV" },
	{ "cmd_compare", test_cmd_compare, 0,
	  "compare equal, unequal (Compare Failure), split: a miscompare in any part fails" },
	{ "cmd_compare_write", test_cmd_compare_write, 0,
	  "fused compare-and-write: equal writes, unequal leaves data; one callback" },
	{ "cmd_compare_write_wrap", test_cmd_compare_write_wrap, 0,
	  "fused pairs at every SQ position, slot entries-1 and 0 included" },
	{ "cmd_compare_write_reset", test_cmd_compare_write_reset, 0,
	  "reset: a fused pair re-posted as a pair, or ended once; a lone half never re-posted (own emu)" },
	{ "cmd_verify", test_cmd_verify, 0,
	  "verify written blocks; an uncorrectable block fails it; split" },
	{ "cmd_copy", test_cmd_copy, 0, "copy of several ranges, destination read back" },
	{ "cmd_copy_limits", test_cmd_copy_limits, 0,
	  "MSRC (0's based), MSSRL, MCL at their edges; 0 ranges, NULL; device statuses" },
	{ "cmd_write_uncorrectable", test_cmd_write_uncorrectable, 0,
	  "reads of uncorrectable blocks fail until written" },
	{ "cmd_dsm_attributes", test_cmd_dsm_attributes, 0,
	  "DSM IDR/IDW/context attributes keep data; deallocate still works; 256 ranges" },
	{ "cmd_cmds_bad_args", test_cmd_cmds_bad_args, 0,
	  "unsupported, NULL, zero, out of range, opts: errors, nothing sent" },
	{ "zns_report", test_zns_report, 0,
	  "zoned: info, full and partial zone reports, bad report arguments" },
	{ "zns_fill_zone", test_zns_fill_zone, 0,
	  "zoned: sequential writes to capacity, then Zone Is Full; reset reads zeroes" },
	{ "zns_write_errors", test_zns_write_errors, 0,
	  "zoned: write off the write pointer, across a zone, above one command" },
	{ "zns_transitions", test_zns_transitions, 0,
	  "zoned: open, close, finish, reset and the invalid transitions" },
	{ "zns_limits", test_zns_limits, 0,
	  "zoned: too many open zones, too many active zones" },
	{ "zns_append_threads", test_zns_append_threads, 0,
	  "zoned: appends from 4 threads into one zone land apart and read back" },
	{ "zns_append_limits", test_zns_append_limits, 0,
	  "zoned: ZASL edge, append to a full zone, refused arguments" },
	{ "zns_fault_zone", test_zns_fault_zone, T_EMU_ONLY,
	  "zoned: an injected read-only zone, then offline" },
	{ "md_info", test_md_info, 0,
	  "metadata/PI fields of every namespace; plain I/O refused with a pointer to *_ext" },
	{ "md_roundtrip", test_md_roundtrip, 0,
	  "data, metadata and PI written and read back, 1 block to splits, every layout" },
	{ "md_split_iovec", test_md_split_iovec, 0,
	  "page-crossing buffers and iovecs above MDTS: data, metadata, reftags in step" },
	{ "md_threads", test_md_threads, 0,
	  "four threads, own qpairs, disjoint ranges, verified metadata and PI" },
	{ "md_bad_opts", test_md_bad_opts, 0,
	  "options a namespace does not take: -EINVAL with a message, no callback" },
	{ "md_ext_plain", test_md_ext_plain, 0,
	  "*_ext calls on a namespace without metadata: as nvp_read/nvp_write, splits too" },
	{ "pi_pract", test_pi_pract, 0,
	  "PRACT on write (controller PI, checked on the host) and on read (stripped)" },
	{ "pi_checks", test_pi_checks, 0,
	  "bad guard/apptag/reftag written unchecked: each PRCHK catches its own, -EBADMSG" },
	{ "md_device_format", test_md_device_format, 0,
	  "metadata namespaces: the format in use is in MC/DPC, info agrees (raw)" },
	{ "md_device_roundtrip", test_md_device_roundtrip, 0,
	  "data + metadata in the ns layout, PRACT tuples, checked reads, WZ (raw)" },
	{ "md_device_pi_checks", test_md_device_pi_checks, 0,
	  "each PRCHK check fails with its status on writes and reads (raw)" },
	{ "md_device_fault_pi", test_md_device_fault_pi, T_EMU_ONLY,
	  "NVP_EMU_FAULT_PI: corrupted stored PI fails checked reads of that block" },
};

#define NUM_CASES (sizeof(itest_cases) / sizeof(itest_cases[0]))

/* ------------------------------------------------------------------------ */
/* Result state of the running test                                         */
/* ------------------------------------------------------------------------ */

enum result { R_PASS, R_FAIL, R_SKIP };

static pthread_mutex_t result_lock = PTHREAD_MUTEX_INITIALIZER;
static enum result cur_result;
static char cur_msg[512];
static char cur_note[256];
static atomic_bool cur_failed;

#define LOG_KEEP 32
#define LOG_LINE 240
static char log_ring[LOG_KEEP][LOG_LINE];
static unsigned int log_count;	/* messages at WARN or above this test */
static unsigned int log_total;	/* lines stored in the ring this test */

const char *itest_errname(int err)
{
	const char *name;

	if (err == 0)
		return "OK";
	name = strerrorname_np(err < 0 ? -err : err);
	return name ? name : "?";
}

void itest_failf(const char *file, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&result_lock);
	if (cur_result != R_FAIL) {
		cur_result = R_FAIL;
		snprintf(cur_msg, sizeof(cur_msg), "%s (%s:%d)", msg,
			 strrchr(file, '/') ? strrchr(file, '/') + 1 : file, line);
	} else {
		fprintf(stderr, "    also: %s (%s:%d)\n", msg, file, line);
	}
	atomic_store(&cur_failed, true);
	pthread_mutex_unlock(&result_lock);
}

void itest_skipf(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&result_lock);
	if (cur_result == R_PASS) {
		cur_result = R_SKIP;
		va_start(ap, fmt);
		vsnprintf(cur_msg, sizeof(cur_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&result_lock);
}

void itest_notef(const char *fmt, ...)
{
	size_t used;
	va_list ap;

	pthread_mutex_lock(&result_lock);
	used = strlen(cur_note);
	if (used && used + 2 < sizeof(cur_note)) {
		strcat(cur_note, "; ");
		used += 2;
	}
	if (used < sizeof(cur_note)) {
		va_start(ap, fmt);
		vsnprintf(cur_note + used, sizeof(cur_note) - used, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&result_lock);
}

bool itest_failed(void)
{
	return atomic_load(&cur_failed);
}

static void log_sink(enum nvp_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (itest_cfg.verbose)
		fprintf(stderr, "    nvpoll[%d]: %s\n", (int)level, msg);
	pthread_mutex_lock(&result_lock);
	snprintf(log_ring[log_total % LOG_KEEP], LOG_LINE, "%s", msg);
	log_total++;
	if (level <= NVP_LOG_WARN)
		log_count++;
	pthread_mutex_unlock(&result_lock);
}

unsigned int itest_log_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&result_lock);
	n = log_count;
	pthread_mutex_unlock(&result_lock);
	return n;
}

bool itest_log_contains(const char *needle)
{
	bool found = false;
	unsigned int i, first;

	pthread_mutex_lock(&result_lock);
	first = log_total > LOG_KEEP ? log_total - LOG_KEEP : 0;
	for (i = first; i < log_total && !found; i++)
		found = strcasestr(log_ring[i % LOG_KEEP], needle) != NULL;
	pthread_mutex_unlock(&result_lock);
	return found;
}

/* ------------------------------------------------------------------------ */
/* Shared controllers                                                       */
/* ------------------------------------------------------------------------ */

static struct itest_dev devs[ITEST_MAX_DEVS];

bool itest_addr_is_emu(const char *addr)
{
	return strncmp(addr, "emu:", 4) == 0 || strcmp(addr, "emu") == 0;
}

void itest_pci_canon(const char *addr, char *out, size_t len)
{
	/* "00:04.0" has one colon; the sysfs name has a domain as well. */
	if (strchr(addr, ':') == strrchr(addr, ':'))
		snprintf(out, len, "0000:%s", addr);
	else
		snprintf(out, len, "%s", addr);
}

bool itest_byte_sgl(const struct itest_dev *d)
{
	const struct nvp_id_ctrl *id = nvp_ctrl_identify(d->ctrl);

	if (!d->info->sgl_supported || d->opts.no_sgl)
		return false;
	return (nvp_le32_to_cpu(id->sgls) & NVP_SGLS_SUPPORT_MASK) == NVP_SGLS_SUPPORTED;
}

static int dev_attach(struct itest_dev *d, const struct nvp_ctrl_opts *opts)
{
	struct nvp_ns *ns;
	int rc;

	if (opts)
		d->opts = *opts;
	else
		nvp_ctrl_opts_init(&d->opts, sizeof(d->opts));
	if (d->opts.cmb_sqs == NVP_CMB_SQS_OFF)
		d->opts.cmb_sqs = itest_cfg.cmb_sqs;	/* --cmb-sqs */
	rc = nvp_ctrl_attach(d->addr, &d->opts, &d->ctrl);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "attach %s: %d (%s): %s", d->addr, rc,
			    itest_errname(rc), nvp_last_error());
		d->ctrl = NULL;
		return rc;
	}
	d->info = nvp_ctrl_get_info(d->ctrl);
	d->num_ns = 0;
	for (ns = nvp_ctrl_first_ns(d->ctrl); ns && d->num_ns < ITEST_MAX_NS;
	     ns = nvp_ctrl_next_ns(d->ctrl, ns))
		/* Zoned namespaces take only sequential writes: t_zns.c's. */
		if (!nvp_ns_get_info(ns)->zoned)
			d->ns[d->num_ns++] = ns;
	if (d->num_ns == 0) {
		itest_failf(__FILE__, __LINE__, "%s has no active namespace", d->addr);
		return -ENODEV;
	}
	return 0;
}

int itest_dev_detach(int idx)
{
	struct itest_dev *d = &devs[idx];
	int rc;

	if (!d->ctrl)
		return 0;
	rc = nvp_ctrl_detach(d->ctrl);
	if (rc == 0) {
		d->ctrl = NULL;
		d->info = NULL;
		d->num_ns = 0;
	}
	return rc;
}

/*
 * After a PCI detach the kernel re-probes the controller asynchronously.
 * Taking it back before that finished upsets the kernel driver (see
 * test_reattach_immediate(), which does exactly that on purpose), so the
 * shared controllers wait for it.
 */
static void kernel_settle(const struct itest_dev *d)
{
	char why[160];

	/* No kernel driver to wait for: emulated, or a controller over TCP. */
	if (d->is_emu || d->is_tcp)
		return;
	if (!itest_pci_kernel_ready(d->addr, 10000, why, sizeof(why)))
		fprintf(stderr, "    note: kernel did not settle: %s\n", why);
}

struct itest_dev *itest_dev_reattach(int idx, const struct nvp_ctrl_opts *opts)
{
	struct itest_dev *d = &devs[idx];
	int rc;

	if (idx >= itest_cfg.num_addrs)
		return NULL;
	rc = itest_dev_detach(idx);
	if (rc) {
		itest_failf(__FILE__, __LINE__, "detach %s: %d (%s)", d->addr, rc,
			    itest_errname(rc));
		return NULL;
	}
	kernel_settle(d);
	return dev_attach(d, opts) ? NULL : d;
}

struct itest_dev *itest_dev(int idx)
{
	struct itest_dev *d = &devs[idx];

	if (idx >= itest_cfg.num_addrs)
		return NULL;
	/* A test that broke the controller must not break the ones after it. */
	if (d->ctrl && nvp_ctrl_is_failed(d->ctrl)) {
		fprintf(stderr, "    note: %s failed earlier; attaching again\n", d->addr);
		return itest_dev_reattach(idx, NULL);
	}
	/* Tests that changed the options (no_sgl) restore the defaults. */
	if (d->ctrl && d->opts.no_sgl)
		return itest_dev_reattach(idx, NULL);
	if (!d->ctrl && dev_attach(d, NULL))
		return NULL;
	return d;
}

/* ------------------------------------------------------------------------ */
/* Runner                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * A failed test may leave a shared controller in a bad state (a command
 * that never completed, a disabled controller): start the next test on a
 * fresh attach rather than let one failure cascade.
 */
static void recover(void)
{
	int j, rc;

	for (j = 0; j < itest_cfg.num_addrs; j++) {
		if (!devs[j].ctrl)
			continue;
		rc = itest_dev_detach(j);
		if (rc)
			printf("    note: detach of %s after the failure: %d (%s)\n",
			       devs[j].addr, rc, itest_errname(rc));
		else
			kernel_settle(&devs[j]);
	}
}

static char watchdog_msg[512];
static size_t watchdog_len;

/* A test that hangs must still produce a result line and a summary. */
static void watchdog(int sig)
{
	ssize_t unused;

	(void)sig;
	unused = write(STDOUT_FILENO, watchdog_msg, watchdog_len);
	(void)unused;
	_exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True if @name matches one of the comma-separated globs in @list. */
static bool in_list(const char *list, const char *name)
{
	char copy[512], *tok, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		if (fnmatch(tok, name, 0) == 0)
			return true;
	return false;
}

static bool selected(const struct itest_case *c)
{
	if (itest_cfg.only && !in_list(itest_cfg.only, c->name))
		return false;
	return !(itest_cfg.skip && in_list(itest_cfg.skip, c->name));
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-a ADDR [-a ADDR2]] [--quick] [--only LIST] [--skip LIST]\n"
		"          [--seed N] [--wait-ms MS] [--fault-timeout-ms MS]\n"
		"          [--cmb-sqs off|prefer|require] [--list] [-v]\n"
		"  -a ADDR       controller: PCI address (0000:00:04.0), emu:OPTIONS or\n"
		"                tcp://HOST[:PORT]/SUBNQN (NVMe/TCP);\n"
		"                the first is the main one, a second enables two-controller\n"
		"                tests (and is where qpair exhaustion is tried). Default: emu:\n"
		"  --quick       leave out the slow tests and use fewer iterations\n"
		"  --only LIST   run only these tests (comma-separated, shell globs;\n"
		"                default: $NVP_ITEST_ONLY)\n"
		"  --skip LIST   leave these out (default: $NVP_ITEST_SKIP)\n"
		"  --seed N      PRNG seed for patterns and random LBAs (default: time)\n"
		"  --wait-ms MS  longest wait for one completion (default 10000)\n"
		"  --fault-timeout-ms MS  io_timeout_ms in the fault tests (default 400;\n"
		"                raise it under valgrind)\n"
		"  --cmb-sqs MODE  put the -a controllers' I/O SQs in their Controller\n"
		"                Memory Buffer (nvp_ctrl_opts.cmb_sqs; default off)\n"
		"  --list        print the tests and exit\n"
		"  -v            print library messages as they happen\n",
		prog);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, 'o' },
		{ "skip", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 's' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "fault-timeout-ms", required_argument, NULL, 't' },
		{ "cmb-sqs", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool seeded = false;
	size_t i;
	int opt;

	while ((opt = getopt_long(argc, argv, "a:qo:x:s:w:t:lvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if (itest_cfg.num_addrs == ITEST_MAX_DEVS) {
				fprintf(stderr, "at most %d -a options\n", ITEST_MAX_DEVS);
				exit(2);
			}
			itest_cfg.addr[itest_cfg.num_addrs++] = optarg;
			break;
		case 'q':
			itest_cfg.quick = true;
			break;
		case 'o':
			itest_cfg.only = optarg;
			break;
		case 'x':
			itest_cfg.skip = optarg;
			break;
		case 's':
			itest_cfg.seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'w':
			itest_cfg.wait_ms = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			itest_cfg.fault_timeout_ms = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			if (!strcmp(optarg, "off"))
				itest_cfg.cmb_sqs = NVP_CMB_SQS_OFF;
			else if (!strcmp(optarg, "prefer"))
				itest_cfg.cmb_sqs = NVP_CMB_SQS_PREFER;
			else if (!strcmp(optarg, "require"))
				itest_cfg.cmb_sqs = NVP_CMB_SQS_REQUIRE;
			else {
				fprintf(stderr, "--cmb-sqs takes off, prefer or require\n");
				exit(2);
			}
			break;
		case 'l':
			for (i = 0; i < NUM_CASES; i++)
				printf("%-26s %s\n", itest_cases[i].name, itest_cases[i].what);
			exit(0);
		case 'v':
			itest_cfg.verbose = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0]);
		exit(2);
	}
	if (itest_cfg.num_addrs == 0)
		itest_cfg.addr[itest_cfg.num_addrs++] = "emu:";
	/*
	 * The VM rig runs a fixed command line; kernel parameters such as
	 * NVP_ITEST_SKIP=name reach the guest's programs as environment.
	 */
	if (!itest_cfg.only && getenv("NVP_ITEST_ONLY") && *getenv("NVP_ITEST_ONLY"))
		itest_cfg.only = getenv("NVP_ITEST_ONLY");
	if (!itest_cfg.skip && getenv("NVP_ITEST_SKIP") && *getenv("NVP_ITEST_SKIP"))
		itest_cfg.skip = getenv("NVP_ITEST_SKIP");
	if (!seeded)
		itest_cfg.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

/* Why @c cannot run with this command line, or NULL if it can. */
static const char *cannot_run(const struct itest_case *c)
{
	if ((c->needs & T_TWO_CTRLS) && itest_cfg.num_addrs < 2)
		return "needs a second controller (-a ADDR2)";
	if ((c->needs & T_EMU_ONLY) && !itest_addr_is_emu(itest_cfg.addr[0]))
		return "fault injection needs the emulated controller";
	if ((c->needs & T_SLOW) && itest_cfg.quick)
		return "left out by --quick";
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0, skipped = 0, ran = 0;
	unsigned int limit_s;
	size_t i;
	int j, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	nvp_set_log(log_sink, NULL, itest_cfg.verbose ? NVP_LOG_DEBUG : NVP_LOG_INFO);
	for (j = 0; j < itest_cfg.num_addrs; j++) {
		devs[j].addr = itest_cfg.addr[j];
		devs[j].is_emu = itest_addr_is_emu(devs[j].addr);
		devs[j].is_tcp = !strncmp(devs[j].addr, "tcp://", 6) ||
				 !strncmp(devs[j].addr, "trtype:", 7);
	}
	/* TCG guests are slow; the emulated controller answers in microseconds. */
	limit_s = devs[0].is_emu ? 60 : 150;
	signal(SIGALRM, watchdog);

	printf("nvpoll-itest: seed=0x%llx controllers:", (unsigned long long)itest_cfg.seed);
	for (j = 0; j < itest_cfg.num_addrs; j++)
		printf(" %s", itest_cfg.addr[j]);
	printf("%s\n", itest_cfg.quick ? " (quick)" : "");

	for (i = 0; i < NUM_CASES; i++) {
		const struct itest_case *c = &itest_cases[i];
		const char *why;
		double t0;

		if (!selected(c))
			continue;
		ran++;
		why = cannot_run(c);
		if (why) {
			printf("SKIP %s: %s\n", c->name, why);
			skipped++;
			continue;
		}

		cur_result = R_PASS;
		cur_msg[0] = cur_note[0] = '\0';
		atomic_store(&cur_failed, false);
		pthread_mutex_lock(&result_lock);
		log_count = log_total = 0;
		pthread_mutex_unlock(&result_lock);
		watchdog_len = (size_t)snprintf(watchdog_msg, sizeof(watchdog_msg),
			"FAIL %s: no result after %u s (hang)\n%u passed, %u failed\n",
			c->name, limit_s, passed, failed + 1);
		alarm(limit_s);
		t0 = now_s();
		c->fn();
		alarm(0);

		switch (cur_result) {
		case R_PASS:
			printf("PASS %s (%.2f s)%s%s\n", c->name, now_s() - t0,
			       cur_note[0] ? ": " : "", cur_note);
			passed++;
			break;
		case R_SKIP:
			printf("SKIP %s: %s\n", c->name, cur_msg);
			skipped++;
			break;
		case R_FAIL:
			printf("FAIL %s: %s\n", c->name, cur_msg);
			if (cur_note[0])
				printf("    notes: %s\n", cur_note);
			if (log_total)
				printf("    last library messages:\n");
			for (unsigned int k = log_total > 8 ? log_total - 8 : 0; k < log_total; k++)
				printf("      %s\n", log_ring[k % LOG_KEEP]);
			failed++;
			recover();
			break;
		}
	}
	if (ran == 0) {
		fprintf(stderr, "no test selected by --only/--skip (see --list)\n");
		return 2;
	}

	/* Handing the controllers back is part of what is tested. */
	for (j = 0; j < itest_cfg.num_addrs; j++) {
		rc = itest_dev_detach(j);
		if (rc) {
			printf("FAIL teardown: detach %s returned %d (%s)\n",
			       itest_cfg.addr[j], rc, itest_errname(rc));
			failed++;
		}
	}
	if (skipped)
		printf("%u skipped\n", skipped);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
