/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/nvpoll.h - the nvpoll API: a userspace, polled-mode NVMe driver.
 *
 * Conventions:
 *  - Every function that can fail returns 0 (or a count) on success and a
 *    negative errno on failure. The library never calls exit() or abort().
 *    Each failure also produces one log message (see nvp_set_log()) that
 *    says what went wrong and what to do about it.
 *  - Options structs start with @opts_size. Initialise them with the
 *    matching *_opts_init() function, which fills in the defaults for the
 *    fields your build knows about, so old binaries keep working when new
 *    fields are appended. An opts_size of 0 (a struct never initialised)
 *    is refused with -EINVAL, for every options struct alike.
 *  - Threads: a controller may be used from any thread; its admin queue is
 *    serialised internally. A queue pair belongs to exactly one thread at a
 *    time (the one that allocated it, or the last to call
 *    nvp_qpair_set_owner()); debug builds return -EXDEV when another thread
 *    uses it. See docs/threading.md.
 *  - Data buffers must be DMA memory: from nvp_dma_alloc(), or registered
 *    with nvp_mem_register().
 */
#ifndef NVPOLL_NVPOLL_H
#define NVPOLL_NVPOLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <nvpoll/spec.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVP_VERSION_MAJOR 0
#define NVP_VERSION_MINOR 1
#define NVP_VERSION_PATCH 0

/* Marks the exported API; everything else in the library is hidden. */
#ifndef NVP_API
#define NVP_API __attribute__((visibility("default")))
#endif

struct nvp_ctrl;
struct nvp_ns;
struct nvp_qpair;

/* ------------------------------------------------------------------------ */
/* Logging and errors                                                       */
/* ------------------------------------------------------------------------ */

/** enum nvp_log_level - severity of a library message. */
enum nvp_log_level {
	NVP_LOG_ERR = 0,
	NVP_LOG_WARN = 1,
	NVP_LOG_INFO = 2,
	NVP_LOG_DEBUG = 3,
};

/**
 * typedef nvp_log_fn - application log sink.
 * @level: severity of the message.
 * @msg: the message, one line without a trailing newline.
 * @arg: the pointer given to nvp_set_log().
 *
 * Called from whichever thread produced the message; keep it thread-safe.
 */
typedef void (*nvp_log_fn)(enum nvp_log_level level, const char *msg, void *arg);

/**
 * nvp_set_log() - route library messages to the application.
 * @fn: sink, or NULL to restore the default.
 * @arg: passed to @fn unchanged.
 * @max_level: messages above this level are dropped before formatting.
 *
 * By default the library is quiet: nothing is printed. Setting the
 * environment variable NVP_LOG=err|warn|info|debug makes the default sink
 * print to stderr at that level.
 */
NVP_API void nvp_set_log(nvp_log_fn fn, void *arg, enum nvp_log_level max_level);

/**
 * nvp_last_error() - the last error message produced on this thread.
 *
 * Return: a thread-local string (empty if none) that stays valid until the
 * next failing call on the same thread. Lets tools print the reason for a
 * failure even when no log sink is installed.
 */
NVP_API const char *nvp_last_error(void);

/**
 * nvp_status_str() - the spec name of an NVMe status.
 * @status: the 16-bit status word of a CQE (the phase bit is ignored).
 *
 * Return: a static string such as "LBA Out of Range" or "Invalid Field in
 * Command"; never NULL. Unknown codes give "Unknown status".
 */
NVP_API const char *nvp_status_str(uint16_t status);

/**
 * nvp_status_to_errno() - map an NVMe status to a negative errno.
 * @status: the 16-bit status word of a CQE.
 *
 * The phase, CRD, More and DNR bits are ignored.
 *
 * Return: 0 for success. Otherwise, by meaning:
 *  - -EINVAL: the command was malformed: Invalid Field, Invalid Namespace
 *    or Format (a bad argument; -ENODEV is never returned here), PRP/SGL
 *    layout errors, Command Sequence Error, and the queue, log page,
 *    feature, format and firmware-slot errors of command-specific codes.
 *  - -EOPNOTSUPP: Invalid Command Opcode, Thin Provisioning Not Supported,
 *    Command Not Supported for Queue in CMB.
 *  - -ERANGE: LBA Out of Range. -ENOSPC: Capacity Exceeded, Namespace
 *    Insufficient Capacity, Namespace Identifier Unavailable.
 *  - -EROFS: Namespace is Write Protected, Attempted Write to Read Only Range.
 *  - -EACCES: Access Denied. -EPERM: Operation Denied, lockdown, Boot
 *    Partition Write Prohibited.
 *  - -ECANCELED: aborted on request: Command Abort Requested, SQ Deletion,
 *    Failed Fused Command, Preempt and Abort, and Host Aborted Command
 *    (SCT 3h/71h: the library ended the command itself, in a reset, in
 *    nvp_qpair_free() or detach; a sync wrapper's wait timeout is -ETIMEDOUT).
 *  - -ENXIO: path lost: Host Pathing Error (SCT 3h/70h, posted by the
 *    library when the controller failed or is gone), Controller Pathing
 *    Error, ANA Persistent Loss / Inaccessible.
 *  - -EAGAIN: retry later: Namespace Not Ready, Command Interrupted,
 *    Transient Transport Error, Admin Command Media Not Ready, ANA
 *    Transition.
 *  - -EBUSY: Reservation Conflict, Format/Sanitize/Self-test In Progress,
 *    Abort or AER Limit Exceeded, Firmware Activation Prohibited.
 *  - -EEXIST: Namespace Already Attached.
 *  - -EILSEQ: Compare Failure. -ENODATA: Deallocated or Unwritten Block.
 *  - -EBADMSG: end-to-end protection information check failed (SCT 2h:
 *    82h Guard, 83h Application Tag, 84h Reference Tag, 88h Storage Tag):
 *    the data or its PI does not match. The command's LBA range is the
 *    caller's; nvp_pi_verify() on the host names the block and the check.
 *  - -EIO: media errors (write fault, unrecovered read), Internal Error,
 *    Data Transfer Error, and every unknown or vendor-specific code.
 */
NVP_API int nvp_status_to_errno(uint16_t status);

/* ------------------------------------------------------------------------ */
/* DMA memory                                                               */
/* ------------------------------------------------------------------------ */

/** NVP_NUMA_ANY - place memory wherever the kernel likes. */
#define NVP_NUMA_ANY (-1)

/**
 * nvp_dma_alloc() - allocate zeroed memory a controller can DMA to and from.
 * @size: bytes; must not be 0.
 * @align: power of two, or 0 for the default (4096). Alignments above the
 *         hugepage size are refused with -EINVAL.
 * @numa_node: NUMA node for the pages, or NVP_NUMA_ANY. Use
 *             nvp_ctrl_numa_node() to place buffers next to a controller.
 *
 * Memory comes from hugetlbfs (2 MiB, or 1 GiB pages when reserved and the
 * size warrants it). An allocation no larger than a hugepage never crosses a
 * hugepage boundary, so it is contiguous in bus-address space in every mode.
 * When no hugepages are reserved and the process uses an IOMMU (or only the
 * emulated controller), ordinary pinned memory is used instead; in
 * physical-address modes (no-IOMMU, uio) hugepages are required and the
 * error message gives the command that reserves them.
 *
 * Thread-safe. Not for the I/O hot path.
 *
 * Return: the buffer, or NULL with errno set (ENOMEM, EINVAL).
 */
NVP_API void *nvp_dma_alloc(size_t size, size_t align, int numa_node);

/**
 * nvp_dma_free() - free memory from nvp_dma_alloc().
 * @buf: the buffer, or NULL (ignored).
 *
 * No command may still be using @buf.
 */
NVP_API void nvp_dma_free(void *buf);

/**
 * nvp_mem_register() - make an application buffer a DMA target, without copy.
 * @buf: start of the buffer; page aligned.
 * @len: length; a multiple of the page size.
 *
 * With an IOMMU (VFIO type1) or the emulated controller any anonymous or
 * file-backed memory may be registered; it is pinned and mapped. In
 * physical-address modes only hugetlbfs memory can be registered (other
 * pages may move), and other memory is refused with -ENOTSUP.
 *
 * Every byte must be mapped readable and writable (the controller writes
 * into it on reads).
 *
 * Return: 0, -EINVAL (alignment), -EFAULT (not mapped, or not mapped
 * read-write), -EEXIST (overlaps a registration), -ENOMEM (pinning failed:
 * check `ulimit -l`), -ENOTSUP.
 */
NVP_API int nvp_mem_register(void *buf, size_t len);

/**
 * nvp_mem_unregister() - undo nvp_mem_register().
 * @buf: the address passed to nvp_mem_register().
 *
 * No command may still be using the buffer.
 *
 * Return: 0, or -ENOENT if @buf was not registered.
 */
NVP_API int nvp_mem_unregister(void *buf);

/**
 * nvp_mem_translate() - the bus (IO virtual or physical) address of a buffer.
 * @buf: an address inside DMA memory.
 * @iova: out: the bus address.
 * @contig: out, optional: bytes from @buf that are contiguous in bus space.
 *
 * Valid once a controller is attached (bus addresses depend on the mode).
 *
 * Return: 0, or -EFAULT if @buf is not DMA memory.
 */
NVP_API int nvp_mem_translate(const void *buf, uint64_t *iova, size_t *contig);

/* ------------------------------------------------------------------------ */
/* Controllers                                                              */
/* ------------------------------------------------------------------------ */

/** enum nvp_driver - how a PCI controller is taken from the kernel. */
enum nvp_driver {
	NVP_DRIVER_AUTO = 0,	/* vfio type1 if an IOMMU, else no-IOMMU, else uio */
	NVP_DRIVER_VFIO = 1,	/* vfio-pci with an IOMMU (type1) */
	NVP_DRIVER_VFIO_NOIOMMU = 2, /* vfio-pci in unsafe no-IOMMU mode */
	NVP_DRIVER_UIO = 3,	/* uio_pci_generic, BAR0 through sysfs */
	NVP_DRIVER_EMU = 4,	/* the built-in emulated controller ("emu:") */
	NVP_DRIVER_TCP = 5,	/* NVMe/TCP ("tcp://"): reported, never chosen */
};

/**
 * nvp_driver_name() - the name of an access method, as NVP_DRIVER takes it
 * and the tools print it.
 * @driver: the method.
 *
 * Return: "auto", "vfio", "noiommu", "uio", "emu" or "tcp"; "unknown" for
 * a value outside enum nvp_driver. A static string.
 */
NVP_API const char *nvp_driver_name(enum nvp_driver driver);

/**
 * enum nvp_cmb_sqs - where I/O submission queues go (nvp_ctrl_opts.cmb_sqs).
 * @NVP_CMB_SQS_OFF: host memory (the default).
 * @NVP_CMB_SQS_PREFER: in the Controller Memory Buffer when the controller
 *          has one that holds submission queues (CMBSZ.SQS) and its BAR can
 *          be mapped; otherwise in host memory, with a notice saying why.
 * @NVP_CMB_SQS_REQUIRE: as PREFER, but attach fails with -ENOTSUP when the
 *          CMB cannot be used, and nvp_qpair_alloc() fails with -ENOSPC
 *          when the CMB has no room for another queue.
 */
enum nvp_cmb_sqs {
	NVP_CMB_SQS_OFF = 0,
	NVP_CMB_SQS_PREFER = 1,
	NVP_CMB_SQS_REQUIRE = 2,
};

/**
 * struct nvp_ctrl_opts - controller attach options.
 * @opts_size: sizeof(struct nvp_ctrl_opts) as the caller knows it.
 * @driver: see enum nvp_driver; NVP_DRIVER_AUTO by default. The environment
 *          variable NVP_DRIVER=vfio|noiommu|uio overrides AUTO.
 * @num_io_queues: I/O queue pairs to request with Set Features Number of
 *          Queues (default 64). The controller may grant fewer; see
 *          nvp_ctrl_get_info().
 * @admin_queue_size: admin SQ/CQ entries (default 64).
 * @admin_timeout_ms: admin command timeout; 0 = derive from CAP.TO.
 * @io_timeout_ms: I/O command timeout before the driver aborts it
 *          (default 30000; 0 disables timeouts). Noticed while polling:
 *          never early, at most about a quarter of it late.
 * @max_xfer_bytes: cap on a single command's transfer (default 1 MiB); the
 *          effective limit is the lower of this and MDTS. Larger I/O is split.
 * @no_shadow_doorbells: do not use Doorbell Buffer Config even if offered.
 * @no_sgl: use PRPs even when the controller supports SGLs.
 * @keep_kernel_driver: on detach, leave the controller bound to vfio/uio
 *          instead of handing it back to the driver it had before attach.
 * @numa_node: NUMA node for queue memory; NVP_NUMA_ANY = the device's node.
 * @health_check_ms: how often nvp_ctrl_process_admin() reads CSTS for a
 *          fatal status (which starts a reset) or a removed device
 *          (all-ones); default 100, 0 = never. Failure detection does not
 *          depend on I/O timeouts, so call nvp_ctrl_process_admin() at
 *          least this often from one thread. Over NVMe/TCP the read is an
 *          asynchronous Property Get: the call never waits for the target.
 * @io_retries: how many times a command interrupted by a controller reset
 *          is posted again on the re-created queue (default 3). Beyond it,
 *          or with 0, the command completes with Host Aborted Command and
 *          DNR clear: the application may retry it. Raw passthrough
 *          commands (nvp_io_raw()) are never posted again.
 * @cmb_sqs: put I/O submission queues in the Controller Memory Buffer
 *          (enum nvp_cmb_sqs; default NVP_CMB_SQS_OFF). The commands are
 *          then copied, 64 bytes at a time, into device memory when the
 *          doorbell is written; the controller fetches them without a DMA
 *          read. The environment variable NVP_CMB_SQS=off|prefer|require
 *          overrides OFF. See docs/architecture.md.
 * @hostnqn: NVMe/TCP: the host NQN to connect with; empty (the default) =
 *          the first line of /etc/nvme/hostnqn, else one derived from
 *          /etc/machine-id (docs/tcp.md).
 * @hostid: NVMe/TCP: the host identifier; all zero (the default) =
 *          /etc/nvme/hostid, else derived as @hostnqn is.
 * @tcp_header_digest: NVMe/TCP: ask for CRC32C header digests.
 * @tcp_data_digest: NVMe/TCP: ask for CRC32C data digests.
 * @keep_alive_ms: NVMe/TCP: the Keep Alive Timeout asked for at Connect
 *          (default 10000; 0 = none). nvp_ctrl_process_admin() sends Keep
 *          Alive at half of it, and an unanswered one resets (reconnects)
 *          the controller; call it at least that often from one thread.
 *          Other TCP options are the PCIe ones: @num_io_queues,
 *          @admin_queue_size (at most 32 over TCP), the timeouts.
 * @tcp_reconnect_delay_ms: NVMe/TCP: when a reset cannot reach the target,
 *          try again this often (default 1000), from
 *          nvp_ctrl_process_admin(). Meanwhile the controller is
 *          NVP_CTRL_RESETTING: queue pairs take commands, which wait (or end
 *          with a retryable status once past @io_retries).
 * @tcp_ctrl_loss_timeout_ms: NVMe/TCP: give up after this long without the
 *          target (default 60000): the controller fails and every command
 *          ends with a path error. 0 = at the first failed attempt.
 */
struct nvp_ctrl_opts {
	size_t opts_size;
	enum nvp_driver driver;
	uint32_t num_io_queues;
	uint32_t admin_queue_size;
	uint32_t admin_timeout_ms;
	uint32_t io_timeout_ms;
	uint32_t max_xfer_bytes;
	bool no_shadow_doorbells;
	bool no_sgl;
	bool keep_kernel_driver;
	int numa_node;
	uint32_t health_check_ms;
	uint32_t io_retries;
	enum nvp_cmb_sqs cmb_sqs;
	char hostnqn[224];
	uint8_t hostid[16];
	bool tcp_header_digest;
	bool tcp_data_digest;
	uint32_t keep_alive_ms;
	uint32_t tcp_reconnect_delay_ms;
	uint32_t tcp_ctrl_loss_timeout_ms;
};

/**
 * nvp_ctrl_opts_init() - fill @opts with defaults.
 * @opts: the options to initialise.
 * @opts_size: sizeof(*opts) as compiled into the caller.
 */
NVP_API void nvp_ctrl_opts_init(struct nvp_ctrl_opts *opts, size_t opts_size);

/**
 * nvp_ctrl_attach() - take a controller from the kernel and bring it up.
 * @addr: a PCI address ("0000:00:04.0" or "00:04.0"), an emulated
 *        controller ("emu:" with options, see docs/emu.md), or an NVMe/TCP
 *        subsystem: "tcp://HOST[:PORT]/SUBNQN" (port 4420 by default; IPv6
 *        in brackets) or SPDK's "trtype:TCP adrfam:IPv4 traddr:HOST
 *        trsvcid:PORT subnqn:NQN" (docs/tcp.md).
 * @opts: options, or NULL for defaults.
 * @ctrl: out: the controller.
 *
 * For PCI: finds the function with libpciaccess, checks it is an NVMe
 * controller, remembers and unbinds its driver, binds vfio-pci (or
 * uio_pci_generic), maps BAR0, and runs the init sequence (disable, admin
 * queues, enable, Identify, Number of Queues, namespaces). Blocks until the
 * controller is ready or an init state times out; the error names the state.
 *
 * For NVMe/TCP: connects the admin queue (ICReq, Connect with the host NQN
 * and ID of @opts), brings the controller up over Property Get/Set, then as
 * above from Identify on; each queue pair is a connection of its own.
 *
 * Return: 0; -ENODEV (no such device, not NVMe, or it vanished), -EBUSY
 * (in use by another process or mounted), -EACCES (permissions on
 * /dev/vfio), -ENOMEM (memlock limit or hugepages), -ETIMEDOUT (init state
 * timed out), -EIO (controller fatal status); over TCP also -ECONNREFUSED,
 * -EHOSTUNREACH and other network errors, and -EIO for a Connect the
 * target refused (the message names the reason, e.g. the host NQN).
 */
NVP_API int nvp_ctrl_attach(const char *addr, const struct nvp_ctrl_opts *opts,
		    struct nvp_ctrl **ctrl);

/**
 * nvp_check_address() - check that @addr names a controller, touching no
 * driver and no device.
 * @addr: as for nvp_ctrl_attach().
 *
 * A PCI address must be well formed, the function must exist (found with
 * libpciaccess) and be an NVMe controller; an "emu:" address's options must
 * parse (namespace files are not opened); an NVMe/TCP address must parse
 * (the target is not contacted). What nvp_ctrl_attach() checks
 * before it changes anything, for programs that want to refuse a bad
 * address before they start (a usage error, not a failure).
 *
 * Return: 0; -EINVAL (malformed address or emu: options); -ENODEV (no such
 * PCI function, or not an NVMe controller: the message gives its class
 * and driver); another negative errno if the PCI bus cannot be read.
 */
NVP_API int nvp_check_address(const char *addr);

/**
 * nvp_ctrl_detach() - shut the controller down and give it back.
 * @ctrl: the controller; all its queue pairs must have been freed.
 *
 * Deletes remaining I/O queues, shuts down with CC.SHN and waits for
 * CSTS.SHST complete, unmaps BAR0, rebinds the driver the device had before
 * attach (so /dev/nvmeXnY reappears) and frees everything. Safe to call on a
 * failed or removed controller.
 *
 * Return: 0, or -EBUSY if queue pairs are still allocated (nothing is done).
 */
NVP_API int nvp_ctrl_detach(struct nvp_ctrl *ctrl);

/**
 * struct nvp_ctrl_info - facts about an attached controller.
 * @addr: the address it was attached with.
 * @driver: how it is driven (vfio, noiommu, uio, emu).
 * @numa_node: the device's NUMA node, or NVP_NUMA_ANY if unknown.
 * @vid: PCI vendor ID.
 * @serial: serial number, NUL-terminated and trimmed.
 * @model: model number, NUL-terminated and trimmed.
 * @firmware: firmware revision, NUL-terminated and trimmed.
 * @version: NVMe version (VS register).
 * @cap: the CAP register.
 * @page_size: memory page size in use (CC.MPS).
 * @max_xfer_bytes: largest single command transfer (MDTS and opts).
 * @max_queue_entries: CAP.MQES + 1.
 * @num_io_queues: I/O queue pairs the controller granted.
 * @num_ns: active namespaces.
 * @sgl_supported: the controller accepts SGLs for I/O.
 * @shadow_doorbells: Doorbell Buffer Config is in use.
 * @oncs: Optional NVM Command Support bits (NVP_ONCS_*).
 * @vwc: volatile write cache present.
 * @cmb_bytes: size of the Controller Memory Buffer nvpoll found and mapped
 *          (0: none, or CMB use was not asked for).
 * @cmb_sqs: new I/O submission queues are placed in the CMB.
 */
struct nvp_ctrl_info {
	char addr[64];
	enum nvp_driver driver;
	int numa_node;
	uint16_t vid;
	char serial[21];
	char model[41];
	char firmware[9];
	uint32_t version;
	uint64_t cap;
	uint32_t page_size;
	uint32_t max_xfer_bytes;
	uint32_t max_queue_entries;
	uint32_t num_io_queues;
	uint32_t num_ns;
	bool sgl_supported;
	bool shadow_doorbells;
	uint16_t oncs;
	bool vwc;
	uint64_t cmb_bytes;
	bool cmb_sqs;
};

/**
 * nvp_ctrl_get_info() - describe a controller.
 * @ctrl: the controller.
 *
 * Return: a pointer valid until nvp_ctrl_detach().
 */
NVP_API const struct nvp_ctrl_info *nvp_ctrl_get_info(const struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_identify() - the Identify Controller data read at attach.
 * @ctrl: the controller.
 *
 * As the controller wrote it: multi-byte fields are little-endian (read
 * them with nvp_le16_to_cpu() and friends, nvpoll/spec.h).
 */
NVP_API const struct nvp_id_ctrl *nvp_ctrl_identify(const struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_numa_node() - NUMA node of the controller.
 * @ctrl: the controller.
 *
 * Return: node number, or NVP_NUMA_ANY.
 */
NVP_API int nvp_ctrl_numa_node(const struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_is_failed() - whether the controller can no longer be used.
 * @ctrl: the controller.
 *
 * A controller fails for good when it is removed (registers read
 * all-ones, or the kernel asks for the device back) or when a reset does
 * not bring it back. Timeouts and a fatal status (CSTS.CFS) start a reset
 * first (see nvp_ctrl_reset()). Outstanding commands complete with Host
 * Pathing Error and new ones are refused with -ENXIO (-ENODEV after
 * removal). Free the queue pairs and detach.
 */
NVP_API bool nvp_ctrl_is_failed(const struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_reset() - reset the controller under a running application.
 * @ctrl: the controller.
 *
 * What Linux's nvme_reset_work() does: disables the controller (so it does
 * no more DMA), fails the admin commands in flight with a retryable status,
 * runs the init sequence again in the same order (admin queue, enable,
 * Identify, Number of Queues, Doorbell Buffer Config, namespaces) and
 * posts the Asynchronous Event Request again. Handles stay valid.
 *
 * Queue pairs belong to their threads and are never touched by another
 * thread, so each learns of the reset at its next nvp_qpair_poll(): it
 * posts its interrupted commands again (up to @io_retries times, see
 * struct nvp_ctrl_opts) or completes them with a retryable status,
 * re-creates its SQ/CQ on the controller and rings the doorbell for what
 * was submitted meanwhile. Submissions keep working during a reset.
 *
 * Also started by the library: when a command times out and aborting it
 * does not resolve it, when an admin command times out, when CSTS.CFS is
 * seen, and when deleting or creating an I/O queue fails.
 *
 * Blocks until the controller is back (bounded by CAP.TO and the admin
 * timeout). Must not be called from a completion or event callback.
 *
 * Return: 0; -ENXIO if the reset failed (the controller is then failed,
 * see nvp_ctrl_is_failed()); -ENODEV if it was removed; -EDEADLK from an
 * admin completion callback; -EINVAL for NULL.
 */
NVP_API int nvp_ctrl_reset(struct nvp_ctrl *ctrl);

/**
 * enum nvp_event_type - what struct nvp_event reports.
 * @NVP_EVENT_RESET_STARTED: a reset began (@reason says why).
 * @NVP_EVENT_RESET_DONE: it ended; @err is 0 or why it failed,
 *          @duration_us how long it took.
 * @NVP_EVENT_FAILED: the controller failed for good (@err, @reason).
 * @NVP_EVENT_REMOVED: the device was removed (hot unplug, or the kernel
 *          asked for it back): free the queue pairs and detach.
 * @NVP_EVENT_NS_ADDED: namespace @nsid became active; nvp_ctrl_get_ns()
 *          finds it.
 * @NVP_EVENT_NS_CHANGED: namespace @nsid changed (size, or format: then
 *          its I/O is refused).
 * @NVP_EVENT_NS_REMOVED: namespace @nsid is no longer active. Its handle
 *          stays valid; its I/O fails with -ENODEV.
 * @NVP_EVENT_ASYNC: any other Asynchronous Event (SMART / health critical
 *          warnings, error log entries, notices): @aer_type, @aer_info
 *          and @log_page are from the event; the library has read the log
 *          page (which clears the event).
 */
enum nvp_event_type {
	NVP_EVENT_RESET_STARTED = 1,
	NVP_EVENT_RESET_DONE = 2,
	NVP_EVENT_FAILED = 3,
	NVP_EVENT_REMOVED = 4,
	NVP_EVENT_NS_ADDED = 5,
	NVP_EVENT_NS_CHANGED = 6,
	NVP_EVENT_NS_REMOVED = 7,
	NVP_EVENT_ASYNC = 8,
};

/**
 * struct nvp_event - one controller event.
 * @size: sizeof(struct nvp_event) as the library knows it.
 * @type: enum nvp_event_type.
 * @err: for RESET_DONE, FAILED and REMOVED: 0 or a negative errno.
 * @nsid: for the NS_* events.
 * @duration_us: for RESET_DONE.
 * @aer_type: for ASYNC: the event type (enum nvp_aer_type).
 * @aer_info: for ASYNC: the event information.
 * @log_page: for ASYNC: the log page that described (and cleared) it.
 * @reason: a sentence for logs; valid during the callback.
 */
struct nvp_event {
	size_t size;
	enum nvp_event_type type;
	int err;
	uint32_t nsid;
	uint64_t duration_us;
	uint8_t aer_type;
	uint8_t aer_info;
	uint8_t log_page;
	const char *reason;
};

/**
 * typedef nvp_event_cb - controller event sink.
 * @ctrl: the controller.
 * @ev: the event, valid during the call.
 * @arg: the pointer given to nvp_ctrl_set_event_cb().
 *
 * Runs on the thread that noticed the event: one inside
 * nvp_ctrl_process_admin() or nvp_ctrl_reset(), or an I/O thread whose
 * poll escalated a timeout into a reset. Keep it short and thread-safe;
 * it must not call nvp_ctrl_reset() or nvp_ctrl_detach().
 */
typedef void (*nvp_event_cb)(struct nvp_ctrl *ctrl, const struct nvp_event *ev, void *arg);

/**
 * nvp_ctrl_set_event_cb() - receive controller events.
 * @ctrl: the controller.
 * @cb: the sink, or NULL to stop.
 * @arg: passed to @cb.
 *
 * Return: 0, or -EINVAL for a NULL controller.
 */
NVP_API int nvp_ctrl_set_event_cb(struct nvp_ctrl *ctrl, nvp_event_cb cb, void *arg);

/**
 * struct nvp_ctrl_stats - what a controller has been through.
 * @stats_size: sizeof(struct nvp_ctrl_stats) as the caller knows it.
 * @resets: completed resets (by nvp_ctrl_reset() or the library).
 * @last_reset_us: how long the last one took.
 * @async_events: Asynchronous Events received.
 * @ns_rescans: namespace rescans (after Namespace Attribute Changed).
 */
struct nvp_ctrl_stats {
	size_t stats_size;
	uint64_t resets;
	uint64_t last_reset_us;
	uint64_t async_events;
	uint64_t ns_rescans;
};

/**
 * nvp_ctrl_get_stats() - read a controller's counters.
 * @ctrl: the controller.
 * @stats: out: filled up to @stats_size bytes.
 * @stats_size: sizeof(*stats) as compiled into the caller.
 *
 * Return: 0, or -EINVAL for NULL arguments.
 */
NVP_API int nvp_ctrl_get_stats(const struct nvp_ctrl *ctrl, struct nvp_ctrl_stats *stats,
			       size_t stats_size);

/* ------------------------------------------------------------------------ */
/* Namespaces                                                               */
/* ------------------------------------------------------------------------ */

/**
 * struct nvp_ns_info - facts about a namespace.
 * @nsid: namespace ID.
 * @block_size: bytes per logical block (data only).
 * @md_size: metadata bytes per block (0 if none).
 * @num_blocks: namespace size (NSZE) in blocks.
 * @capacity_blocks: NCAP in blocks.
 * @size_bytes: @num_blocks * @block_size.
 * @max_io_blocks: largest single command in blocks (splitting beyond).
 * @supports_write_zeroes: Write Zeroes is supported (ONCS).
 * @supports_dsm: Dataset Management (deallocate) is supported (ONCS).
 * @supports_compare: Compare is supported (ONCS).
 * @supports_flush: the controller has a volatile write cache to flush.
 * @deallocated_reads_zeroes: DLFEAT says deallocated blocks read as zeroes.
 * @active: the namespace is active. A namespace that went away (detached,
 *          deleted) keeps its handle with @active false; its I/O fails
 *          with -ENODEV.
 * @supports_verify: Verify is supported (ONCS bit 7).
 * @supports_copy: Copy is supported (ONCS bit 8), with descriptor format 0
 *                 (OCFS bit 0, when the controller fills OCFS in).
 * @copy_max_ranges: source ranges one Copy may take (MSRC + 1: Identify
 *                   Namespace holds it 0's based); 0 without Copy.
 * @copy_max_range_blocks: blocks one source range may hold (MSSRL); 0
 *                         without Copy.
 * @copy_max_blocks: blocks one Copy may move in all (MCL); 0 without Copy.
 * @supports_write_uncorrectable: Write Uncorrectable is supported (ONCS
 *                                bit 1).
 * @supports_fused_compare_write: fused Compare and Write is supported
 *                                (FUSES bit 0) along with Compare.
 * @compare_write_max_blocks: blocks one fused Compare and Write may cover:
 *                            the atomic compare and write unit (NACWU if
 *                            the namespace has its own, else ACWU; both
 *                            0's based), at most @max_io_blocks.
 * @csi: its I/O command set (NVP_CSI_NVM, NVP_CSI_ZNS), from the Namespace
 *       Identification Descriptors (NVP_CSI_NVM when the controller does
 *       not offer command sets).
 * @zoned: it is a zoned namespace: see nvpoll/zns.h, nvp_ns_zns_info().
 * @md_extended: metadata is interleaved with the data, @md_size bytes
 *               after each block (extended LBAs, FLBAS bit 4): the *_ext
 *               calls take buffers of nlb * (@block_size + @md_size)
 *               bytes. False: metadata travels in its own buffer
 *               (struct nvp_io_opts.md). Meaningless when @md_size is 0.
 * @pi_type: end-to-end protection type 1, 2 or 3 (DPS); 0 for none.
 * @pi_first: the PI is in the first bytes of the metadata (DPS bit 3),
 *            else in its last bytes.
 * @pi_guard_bits: 16 (CRC-16 guard, 8-byte PI) or 64 (CRC-64 guard,
 *                 16-byte PI, 48-bit reference tag); 0 without PI.
 * @pi_size: bytes of PI in each block's metadata (8 or 16; 0 without PI).
 *           When @md_size equals it, reads and writes with NVP_PI_PRACT
 *           move no metadata at all: plain data buffers work.
 */
struct nvp_ns_info {
	uint32_t nsid;
	uint32_t block_size;
	uint32_t md_size;
	uint64_t num_blocks;
	uint64_t capacity_blocks;
	uint64_t size_bytes;
	uint32_t max_io_blocks;
	bool supports_write_zeroes;
	bool supports_dsm;
	bool supports_compare;
	bool supports_flush;
	bool deallocated_reads_zeroes;
	bool active;
	bool supports_verify;
	bool supports_copy;
	uint32_t copy_max_ranges;
	uint32_t copy_max_range_blocks;
	uint32_t copy_max_blocks;
	bool supports_write_uncorrectable;
	bool supports_fused_compare_write;
	uint32_t compare_write_max_blocks;
	uint8_t csi;
	bool zoned;
	/* Appended for metadata and protection information: keep at the end. */
	bool md_extended;
	uint8_t pi_type;
	bool pi_first;
	uint8_t pi_guard_bits;
	uint8_t pi_size;
};

/**
 * nvp_ctrl_get_ns() - look up an active namespace.
 * @ctrl: the controller.
 * @nsid: namespace ID.
 *
 * Return: the namespace, or NULL (errno ENOENT) if it is not active.
 */
NVP_API struct nvp_ns *nvp_ctrl_get_ns(struct nvp_ctrl *ctrl, uint32_t nsid);

/**
 * nvp_ctrl_first_ns() - first active namespace, in NSID order.
 * @ctrl: the controller.
 *
 * Return: a namespace or NULL if there are none.
 */
NVP_API struct nvp_ns *nvp_ctrl_first_ns(struct nvp_ctrl *ctrl);

/**
 * nvp_ctrl_next_ns() - the active namespace after @ns.
 * @ctrl: the controller.
 * @ns: a namespace of @ctrl.
 *
 * Return: the next namespace, or NULL after the last.
 */
NVP_API struct nvp_ns *nvp_ctrl_next_ns(struct nvp_ctrl *ctrl, struct nvp_ns *ns);

/**
 * nvp_ns_get_info() - describe a namespace.
 * @ns: the namespace.
 */
NVP_API const struct nvp_ns_info *nvp_ns_get_info(const struct nvp_ns *ns);

/**
 * nvp_ns_identify() - the Identify Namespace data read at attach.
 * @ns: the namespace.
 *
 * As the controller wrote it: multi-byte fields are little-endian.
 */
NVP_API const struct nvp_id_ns *nvp_ns_identify(const struct nvp_ns *ns);

/* ------------------------------------------------------------------------ */
/* Completions                                                              */
/* ------------------------------------------------------------------------ */

/**
 * typedef nvp_cmd_cb - completion callback.
 * @arg: the pointer given at submission.
 * @cpl: the completion. Check it with NVP_CPL_IS_ERROR() and decode it with
 *       nvp_status_str(). For a split I/O this is the first failing part, or
 *       the last part's completion if all succeeded. Commands the library
 *       ends itself get SCT 3h, DNR clear: Host Aborted Command (71h) from
 *       a reset, nvp_qpair_free() or detach, Host Pathing Error (70h) if
 *       the controller failed. @cpl is only valid during the callback, and
 *       in CPU byte order (the library converted it from little-endian).
 *
 * Runs inside nvp_qpair_poll() (or nvp_ctrl_process_admin() for admin
 * commands) on the polling thread, exactly once for every command whose
 * submission returned 0. It may submit new commands on the same queue pair
 * but must not free it; while nvp_qpair_free() runs, or after the
 * controller failed, such submissions are refused with -ENXIO (-ENODEV
 * after removal). @cb must not be NULL (-EINVAL).
 */
typedef void (*nvp_cmd_cb)(void *arg, const struct nvp_cqe *cpl);

/* ------------------------------------------------------------------------ */
/* Admin commands                                                           */
/* ------------------------------------------------------------------------ */

/**
 * nvp_admin_cmd() - submit an admin command (passthrough).
 * @ctrl: the controller.
 * @cmd: the command, in CPU byte order (the library converts it as it
 *       copies it into the queue); the library fills in CID, and the data
 *       pointer when @buf is given (otherwise the PRPs in @cmd are passed
 *       through).
 * @buf: data buffer (DMA memory) or NULL; what the controller writes there
 *       is little-endian.
 * @len: bytes in @buf.
 * @cb: completion callback (called from nvp_ctrl_process_admin()).
 * @arg: passed to @cb.
 *
 * Thread-safe; the admin queue is shared and serialised internally.
 *
 * Return: 0, -EAGAIN (admin queue full: process completions and retry),
 * -EFAULT (buffer is not DMA memory), -ENXIO (controller failed).
 */
NVP_API int nvp_admin_cmd(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd, void *buf,
		  size_t len, nvp_cmd_cb cb, void *arg);

/**
 * nvp_admin_cmd_sync() - run an admin command and wait for it.
 * @ctrl: the controller.
 * @cmd: the command, in CPU byte order.
 * @buf: data buffer (DMA memory) or NULL.
 * @len: bytes in @buf.
 * @cpl: out, optional: the completion, in CPU byte order.
 *
 * Waits up to the admin timeout.
 *
 * Return: 0 on success; the errno of the NVMe status on a command error
 * (see nvp_status_to_errno(); @cpl has the details); -ETIMEDOUT (the
 * controller has then been reset, which reclaims the command's slot);
 * -EAGAIN when the admin queue is full or the controller is being reset
 * (retry); -ENXIO/-ENODEV when it failed or was removed.
 */
NVP_API int nvp_admin_cmd_sync(struct nvp_ctrl *ctrl, const struct nvp_sqe *cmd,
		       void *buf, size_t len, struct nvp_cqe *cpl);

/**
 * nvp_ctrl_process_admin() - reap admin completions and run callbacks.
 * @ctrl: the controller.
 *
 * Also checks admin command timeouts and controller health.
 *
 * Return: completions processed, or a negative errno if the controller failed.
 */
NVP_API int nvp_ctrl_process_admin(struct nvp_ctrl *ctrl);

/**
 * nvp_get_log_page() - read a log page synchronously.
 * @ctrl: the controller.
 * @nsid: namespace ID, or 0xffffffff for the controller.
 * @lid: log page identifier (NVP_LOG_*).
 * @buf: destination (DMA memory); the page is little-endian, as the
 *       controller wrote it.
 * @len: bytes to read (a multiple of 4, at most 64 KiB and MDTS).
 *
 * Return: 0 or a negative errno, as nvp_admin_cmd_sync().
 */
NVP_API int nvp_get_log_page(struct nvp_ctrl *ctrl, uint32_t nsid, uint8_t lid,
		     void *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* I/O queue pairs                                                          */
/* ------------------------------------------------------------------------ */

/**
 * struct nvp_qpair_opts - I/O queue pair options.
 * @opts_size: sizeof(struct nvp_qpair_opts) as the caller knows it.
 * @queue_size: SQ entries, 2..CAP.MQES+1 (default min(256, MQES+1)). The
 *          CQ gets up to twice as many (within CAP.MQES+1): with more CQ
 *          entries than requests, the CQ head doorbell is written only when
 *          that slack runs out, saving an MMIO write on most polls.
 * @num_requests: request objects, 1..@queue_size-1 (default @queue_size-1).
 *          Each outstanding command, and each part of a split I/O plus one
 *          for the whole, takes one.
 * @max_completions: completions reaped per nvp_qpair_poll() call when its
 *          @max is 0 (default @queue_size/2), so the CQ head doorbell is
 *          never written late.
 * @numa_node: node for the rings and PRP lists; NVP_NUMA_ANY = the
 *          controller's node.
 */
struct nvp_qpair_opts {
	size_t opts_size;
	uint32_t queue_size;
	uint32_t num_requests;
	uint32_t max_completions;
	int numa_node;
};

/**
 * nvp_qpair_opts_init() - fill @opts with defaults for @ctrl.
 * @ctrl: the controller.
 * @opts: the options to initialise.
 * @opts_size: sizeof(*opts) as compiled into the caller.
 */
NVP_API void nvp_qpair_opts_init(const struct nvp_ctrl *ctrl,
			 struct nvp_qpair_opts *opts, size_t opts_size);

/**
 * nvp_qpair_alloc() - create an I/O queue pair owned by the calling thread.
 * @ctrl: the controller.
 * @opts: options, or NULL for defaults.
 * @qpair: out: the queue pair.
 *
 * Allocates the rings and the request pool in DMA memory, then creates the
 * I/O CQ and SQ on the controller (CQ first).
 *
 * Return: 0; -EBUSY when every queue the controller granted is in use (the
 * message says how many were granted); -EINVAL for bad options, including
 * an opts_size of 0 (not initialised with nvp_qpair_opts_init()).
 */
NVP_API int nvp_qpair_alloc(struct nvp_ctrl *ctrl, const struct nvp_qpair_opts *opts,
		    struct nvp_qpair **qpair);

/**
 * nvp_qpair_free() - delete the queues on the controller and free them.
 * @qpair: the queue pair, or NULL.
 *
 * Outstanding commands complete with Host Aborted Command first, once the
 * controller can no longer touch their buffers: if another thread is
 * resetting the controller, this waits until the reset has stopped it.
 */
NVP_API void nvp_qpair_free(struct nvp_qpair *qpair);

/**
 * nvp_qpair_set_owner() - hand a queue pair to the calling thread.
 * @qpair: the queue pair. The previous owner must no longer use it.
 */
NVP_API void nvp_qpair_set_owner(struct nvp_qpair *qpair);

/**
 * nvp_qpair_poll() - ring pending doorbells, reap completions, run callbacks.
 * @qpair: the queue pair.
 * @max: completions to reap at most; 0 = the qpair's max_completions.
 *
 * Walks the CQ while the phase bit matches, running callbacks, and writes
 * the CQ head doorbell once; then writes the SQ tail doorbell once if
 * commands were posted since the last write (before this call or by the
 * callbacks). Checks command timeouts now and then (no clock syscall).
 * No syscalls, locks or allocation.
 *
 * Return: completions processed (>= 0), or a negative errno: -ENXIO if the
 * controller failed, -ENODEV if it was removed, -EXDEV from the wrong thread
 * in debug builds.
 */
NVP_API int nvp_qpair_poll(struct nvp_qpair *qpair, uint32_t max);

/**
 * nvp_qpair_flush() - ring the SQ doorbell now for commands posted so far.
 * @qpair: the queue pair.
 *
 * Submission only posts commands; the doorbell is written once per
 * nvp_qpair_poll() or nvp_qpair_flush(), which batches MMIO writes.
 */
NVP_API void nvp_qpair_flush(struct nvp_qpair *qpair);

/**
 * nvp_qpair_outstanding() - commands submitted and not yet completed.
 * @qpair: the queue pair.
 */
NVP_API uint32_t nvp_qpair_outstanding(const struct nvp_qpair *qpair);

/**
 * nvp_qpair_id() - the queue ID on the controller.
 * @qpair: the queue pair.
 */
NVP_API uint16_t nvp_qpair_id(const struct nvp_qpair *qpair);

/** enum nvp_qpair_conn - a queue pair's connection to its controller. */
enum nvp_qpair_conn {
	NVP_QPAIR_CONNECTED = 0,	/* its SQ/CQ exist on the controller */
	NVP_QPAIR_RECONNECTING = 1,	/* the controller was reset; the next
					 * polls re-create them (commands are
					 * accepted meanwhile) */
	NVP_QPAIR_FAILED = 2,		/* the controller failed or was removed,
					 * or the queue could not be re-created */
};

/**
 * nvp_qpair_conn_state() - whether a queue pair is connected.
 * @qpair: the queue pair.
 *
 * As of its last nvp_qpair_poll(): a reset or failure reaches a queue pair
 * at its next poll.
 *
 * Return: enum nvp_qpair_conn (NVP_QPAIR_FAILED for NULL).
 */
NVP_API enum nvp_qpair_conn nvp_qpair_conn_state(const struct nvp_qpair *qpair);

/**
 * struct nvp_qpair_stats - what a queue pair has done, for tuning.
 * @stats_size: sizeof(struct nvp_qpair_stats) as the caller knows it.
 * @submitted: commands posted to the SQ (each part of a split counts).
 * @completed: completions reaped from the CQ.
 * @polls: nvp_qpair_poll() calls.
 * @empty_polls: polls that found no completion.
 * @sq_doorbell_writes: SQ tail doorbell updates (one per poll/flush with
 *          new commands).
 * @sq_doorbell_mmio: of those, the ones that needed an MMIO write (with
 *          shadow doorbells the controller's event index often spares it).
 * @cq_doorbell_writes: CQ head doorbell updates (one per poll that reaped).
 * @cq_doorbell_mmio: of those, the ones that needed an MMIO write.
 * @bad_completions: completions ignored because their CID was not
 *          outstanding (a broken device, or a late answer after a timeout).
 * @timeouts: commands that timed out and were aborted.
 * @retried: commands posted again after a controller reset.
 * @reset_aborted: commands a reset ended with a retryable status (out of
 *          retries, or raw passthrough).
 * @reconnects: times the queue pair re-created its queues after a reset.
 *
 * Counting costs a few increments of fields the qpair already touches.
 */
struct nvp_qpair_stats {
	size_t stats_size;
	uint64_t submitted;
	uint64_t completed;
	uint64_t polls;
	uint64_t empty_polls;
	uint64_t sq_doorbell_writes;
	uint64_t sq_doorbell_mmio;
	uint64_t cq_doorbell_writes;
	uint64_t cq_doorbell_mmio;
	uint64_t bad_completions;
	uint64_t timeouts;
	uint64_t retried;
	uint64_t reset_aborted;
	uint64_t reconnects;
};

/**
 * nvp_qpair_get_stats() - read a queue pair's counters.
 * @qpair: the queue pair (from its owning thread, or after it stopped).
 * @stats: out: filled up to @stats_size bytes.
 * @stats_size: sizeof(*stats) as compiled into the caller.
 */
NVP_API void nvp_qpair_get_stats(const struct nvp_qpair *qpair,
				 struct nvp_qpair_stats *stats, size_t stats_size);

/* ------------------------------------------------------------------------ */
/* I/O commands                                                             */
/* ------------------------------------------------------------------------ */

/* I/O flags for reads and writes; any other bit is refused with -EINVAL. */
#define NVP_IO_FUA		(1u << 0)	/* Force Unit Access */
#define NVP_IO_LIMITED_RETRY	(1u << 1)

/*
 * End-to-end protection per command (struct nvp_io_opts.pi). PRACT and the
 * three PRCHK checks of the command's PRINFO field.
 */
#define NVP_PI_PRACT		(1u << 0)	/* the controller inserts (write) or strips (read) PI */
#define NVP_PI_CHECK_GUARD	(1u << 1)	/* check the guard (CRC16 or CRC64) */
#define NVP_PI_CHECK_APPTAG	(1u << 2)	/* check the application tag under @apptag_mask */
#define NVP_PI_CHECK_REFTAG	(1u << 3)	/* check the reference tag */

/**
 * struct nvp_io_opts - per-command options of the *_ext I/O calls.
 * @opts_size: sizeof(struct nvp_io_opts) as the caller knows it; set by
 *             nvp_io_opts_init().
 * @flags: NVP_IO_* flags.
 * @md: the metadata buffer (DMA memory, @nlb * md_size bytes) for a
 *      namespace whose metadata travels separately; NULL when it has none
 *      or its metadata is interleaved with the data (extended LBAs).
 * @pi: NVP_PI_* bits (0: no checks, PI passes through as the buffers hold it).
 * @apptag: expected application tag (checked under @apptag_mask).
 * @apptag_mask: which bits of @apptag are checked.
 * @reftag: initial reference tag (types 1 and 2; 32 bits with the 16-bit
 *          guard, 48 bits with the 64-bit guard).
 *
 * Zero-initialised apart from @opts_size, the options mean "as nvp_read()".
 */
struct nvp_io_opts {
	size_t opts_size;
	uint32_t flags;
	uint32_t pi;
	void *md;
	uint16_t apptag;
	uint16_t apptag_mask;
	uint64_t reftag;
};

/**
 * nvp_io_opts_init() - zero @opts and set its size.
 * @opts: the options.
 * @opts_size: sizeof(*opts) as compiled into the caller.
 */
NVP_API void nvp_io_opts_init(struct nvp_io_opts *opts, size_t opts_size);

/*
 * Submission return values shared by every I/O call below:
 *   0        posted; @cb runs exactly once from nvp_qpair_poll().
 *   -EAGAIN  no free request object (or SQ slot): poll and retry. This is
 *            deliberately not -ENOMEM; nothing was posted.
 *            A command that needs several request objects (a split I/O
 *            takes one per part and one for the whole) gets -EAGAIN when
 *            too few are free, and -EINVAL when the queue pair has fewer
 *            in all: it could never be posted.
 *   -EINVAL  zero blocks, a NULL callback, a bad namespace, misaligned
 *            buffer (buffers must be 4-byte aligned unless the controller
 *            takes byte-aligned SGLs), or an iovec that neither PRP nor SGL
 *            can describe.
 *   -ERANGE  the LBA range runs past the end of the namespace.
 *   -EFAULT  the buffer is not DMA memory (see nvp_mem_register()).
 *   -ENOTSUP the namespace cannot be used: its block is larger than a
 *            command may move, its metadata/PI format is not supported, or
 *            (plain calls only) it has metadata, which only the *_ext calls
 *            move; the message says why.
 *   -ENXIO   the controller failed, or the queue pair is being freed;
 *            -ENODEV the controller was removed. A failure reaches a queue
 *            pair at its next nvp_qpair_poll(): commands accepted before
 *            that complete with Host Pathing Error.
 *   -EXDEV   wrong thread (debug builds).
 * On any error nothing is submitted and @cb is never called.
 */

/**
 * nvp_read() - read blocks into a buffer.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @buf: destination, DMA memory, @nlb * block size bytes.
 * @lba: first block.
 * @nlb: number of blocks (not 0's based). Larger than the command limit is
 *       split into several commands and completes once.
 * @flags: NVP_IO_* flags.
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_read(struct nvp_qpair *qpair, struct nvp_ns *ns, void *buf,
	     uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg);

/**
 * nvp_write() - write blocks from a buffer.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @buf: source, DMA memory, @nlb * block size bytes.
 * @lba: first block.
 * @nlb: number of blocks.
 * @flags: NVP_IO_* flags (NVP_IO_FUA for durable writes).
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * On a zoned namespace (nvp_ns_info.zoned) a write must start at its zone's
 * write pointer, and is refused before submission when it crosses the end
 * of a zone (-EINVAL) or is larger than one command (-E2BIG: the parts of a
 * split write may reach the zone in any order). See nvpoll/zns.h.
 */
NVP_API int nvp_write(struct nvp_qpair *qpair, struct nvp_ns *ns, const void *buf,
	      uint64_t lba, uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg);

/**
 * nvp_readv() - read blocks into a scatter list.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @iov: buffers (DMA memory); their lengths must add up to @nlb blocks.
 * @iovcnt: number of elements.
 * @lba: first block.
 * @nlb: number of blocks.
 * @flags: NVP_IO_* flags.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Uses an SGL when the controller supports SGLs; otherwise a PRP list, which
 * requires every element but the first to start on a page boundary and
 * every element but the last to end on one.
 */
NVP_API int nvp_readv(struct nvp_qpair *qpair, struct nvp_ns *ns,
	      const struct iovec *iov, int iovcnt, uint64_t lba, uint32_t nlb,
	      uint32_t flags, nvp_cmd_cb cb, void *arg);

/**
 * nvp_writev() - write blocks from a scatter list.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @iov: buffers (DMA memory); their lengths must add up to @nlb blocks.
 * @iovcnt: number of elements.
 * @lba: first block.
 * @nlb: number of blocks.
 * @flags: NVP_IO_* flags.
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_writev(struct nvp_qpair *qpair, struct nvp_ns *ns,
	       const struct iovec *iov, int iovcnt, uint64_t lba, uint32_t nlb,
	       uint32_t flags, nvp_cmd_cb cb, void *arg);

/*
 * Reads and writes with options (struct nvp_io_opts): metadata and
 * end-to-end protection information. nvp_read() and nvp_write() refuse a
 * namespace with metadata (-ENOTSUP): their buffers hold data only, and
 * the metadata would have nowhere to go. The *_ext calls take it:
 *  - extended LBAs (nvp_ns_info.md_extended): the data buffer holds
 *    nlb * (block_size + md_size) bytes, each block followed by its
 *    metadata; opts.md must be NULL;
 *  - separate metadata: the data buffer holds nlb * block_size bytes and
 *    opts.md nlb * md_size bytes (one bus-contiguous, 4-byte aligned run
 *    of DMA memory, e.g. from nvp_dma_alloc());
 *  - the easy path: NVP_PI_PRACT on a namespace whose metadata is only the
 *    PI (md_size == pi_size). The controller generates the PI on writes
 *    and checks and strips it on reads; no metadata moves, so the data
 *    buffer is nlb * block_size bytes in both layouts and opts.md is NULL.
 *    With more metadata than PI, PRACT still generates (writes) or checks
 *    (reads) the PI, but the metadata moves as above.
 * opts.pi asks the controller to check guard, application tag (under
 * opts.apptag_mask) and reference tag (from opts.reftag: types 1 and 2
 * count it up per block, so a type 1 namespace wants the LBA's low 32, or
 * with the 64-bit guard 48, bits). Larger ranges are split above the
 * command limit with data, metadata and reference tag kept in step. A
 * failed check completes the command with an End-to-end status, which
 * nvp_status_to_errno() maps to -EBADMSG; the controller names no block,
 * so the command's range is what is known (nvp_pi_verify() on the host
 * can name the block, the check and the values). Submission errors as
 * above, and -EINVAL (with a message) for options the namespace does not
 * take: PI bits without PI, NVP_PI_CHECK_REFTAG with type 3 (which has no
 * reference tag to check), a metadata buffer where none travels or none
 * where one does, a reference tag wider than the PI's, an opts_size of 0.
 * With opts NULL, the calls behave as the plain ones on namespaces without
 * metadata.
 */

/**
 * nvp_read_ext() - read blocks, and their metadata, with options.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @buf: destination, DMA memory: nlb * block_size bytes, or nlb *
 *       (block_size + md_size) with extended LBAs when metadata moves.
 * @lba: first block.
 * @nlb: number of blocks (split above the command limit).
 * @opts: NVP_IO_* flags, the metadata buffer, PRACT and checks, tags; NULL
 *        for the defaults.
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_read_ext(struct nvp_qpair *qpair, struct nvp_ns *ns, void *buf,
			 uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
			 nvp_cmd_cb cb, void *arg);

/**
 * nvp_write_ext() - write blocks, and their metadata, with options.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @buf: source, DMA memory, sized as for nvp_read_ext().
 * @lba: first block.
 * @nlb: number of blocks.
 * @opts: as for nvp_read_ext(); with NVP_PI_PRACT the controller generates
 *        the PI (from @opts->apptag and @opts->reftag).
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_write_ext(struct nvp_qpair *qpair, struct nvp_ns *ns, const void *buf,
			  uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
			  nvp_cmd_cb cb, void *arg);

/**
 * nvp_readv_ext() - nvp_read_ext() into a scatter list.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @iov: buffers (DMA memory) adding up to the length nvp_read_ext() wants.
 * @iovcnt: number of elements.
 * @lba: first block.
 * @nlb: number of blocks.
 * @opts: as for nvp_read_ext() (the metadata is one buffer, @opts->md).
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_readv_ext(struct nvp_qpair *qpair, struct nvp_ns *ns,
			  const struct iovec *iov, int iovcnt, uint64_t lba, uint32_t nlb,
			  const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg);

/**
 * nvp_writev_ext() - nvp_write_ext() from a scatter list.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @iov: buffers (DMA memory) adding up to the length nvp_read_ext() wants.
 * @iovcnt: number of elements.
 * @lba: first block.
 * @nlb: number of blocks.
 * @opts: as for nvp_write_ext().
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_writev_ext(struct nvp_qpair *qpair, struct nvp_ns *ns,
			   const struct iovec *iov, int iovcnt, uint64_t lba, uint32_t nlb,
			   const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg);

/**
 * nvp_flush() - commit the volatile write cache of a namespace.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @cb: completion callback.
 * @arg: passed to @cb.
 */
NVP_API int nvp_flush(struct nvp_qpair *qpair, struct nvp_ns *ns, nvp_cmd_cb cb,
	      void *arg);

/**
 * nvp_write_zeroes() - set blocks to zero without transferring data.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @lba: first block.
 * @nlb: number of blocks (split at 65536 blocks per command).
 * @flags: NVP_IO_FUA.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP if ONCS lacks Write Zeroes.
 */
NVP_API int nvp_write_zeroes(struct nvp_qpair *qpair, struct nvp_ns *ns, uint64_t lba,
		     uint32_t nlb, uint32_t flags, nvp_cmd_cb cb, void *arg);

/**
 * nvp_deallocate() - Dataset Management deallocate (trim) of LBA ranges.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @ranges: ranges, in CPU byte order (ordinary memory; copied into DMA
 *          memory, little-endian, by the library).
 * @num_ranges: 1..256.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP if ONCS lacks Dataset Management.
 */
NVP_API int nvp_deallocate(struct nvp_qpair *qpair, struct nvp_ns *ns,
		   const struct nvp_dsm_range *ranges, uint32_t num_ranges,
		   nvp_cmd_cb cb, void *arg);

/**
 * nvp_io_raw() - submit any I/O command (passthrough).
 * @qpair: queue pair of the calling thread.
 * @cmd: the command, in CPU byte order (converted as it is copied into
 *       the queue); the library fills in CID, and the data pointer when
 *       @buf is given (otherwise the PRPs in @cmd are passed through), and
 *       leaves every other field as given (NSID included).
 * @buf: data buffer (DMA memory) or NULL.
 * @len: bytes in @buf (no splitting: at most the command limit); 0 exactly
 *       when @buf is NULL.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -EINVAL for a buffer without a length or the
 * reverse, or a fused command (FUSE bits set: its partner could not be
 * guaranteed the next SQ slot).
 */
NVP_API int nvp_io_raw(struct nvp_qpair *qpair, const struct nvp_sqe *cmd, void *buf,
	       size_t len, nvp_cmd_cb cb, void *arg);

/* ------------------------------------------------------------------------ */
/* Compare, Verify, Copy, Write Uncorrectable, Dataset Management            */
/* ------------------------------------------------------------------------ */

/*
 * @opts of the calls below (NULL = defaults, see struct nvp_io_opts): only
 * @flags is used here, NVP_IO_FUA and NVP_IO_LIMITED_RETRY where the
 * command has them; @pi or @md set gives -ENOTSUP. Their return values are
 * those of nvp_read(), and -ENOTSUP when the controller lacks the command
 * (the message names the capability bit).
 */

/**
 * nvp_compare() - compare blocks on the media with a buffer.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @buf: the expected data, DMA memory, @nlb * block size bytes.
 * @lba: first block.
 * @nlb: number of blocks; more than one command takes is split, and a
 *       miscompare in any part fails the whole.
 * @opts: per-command options, or NULL.
 * @cb: completion callback: Compare Failure (SCT 2h, SC 85h) when the data
 *      differ.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP without Compare (ONCS bit 0).
 */
NVP_API int nvp_compare(struct nvp_qpair *qpair, struct nvp_ns *ns, const void *buf,
			uint64_t lba, uint32_t nlb, const struct nvp_io_opts *opts,
			nvp_cmd_cb cb, void *arg);

/* struct nvp_cqe.dw1 of a fused Compare and Write's one completion: which
 * half the status is from. */
#define NVP_FUSED_HALF_COMPARE	1u
#define NVP_FUSED_HALF_WRITE	2u

/**
 * nvp_compare_and_write() - fused Compare and Write: write @write_buf only
 * if the blocks hold @cmp_buf, atomically.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @cmp_buf: the expected data, DMA memory, @nlb blocks.
 * @write_buf: the data written if they match, DMA memory, @nlb blocks.
 * @lba: first block.
 * @nlb: number of blocks: 1..compare_write_max_blocks (struct
 *       nvp_ns_info); never split, since the pair must be one operation.
 * @opts: per-command options (both halves), or NULL.
 * @cb: completion callback, called once for the pair. Its completion is
 *      that of the half that failed, @cpl->dw1 saying which
 *      (NVP_FUSED_HALF_*): a miscompare is the compare's Compare Failure
 *      (SCT 2h, SC 85h), and then nothing was written.
 * @arg: passed to @cb.
 *
 * The two commands go into adjacent SQ slots behind one doorbell write. A
 * controller reset posts the pair again as a pair, or ends both halves
 * (Host Aborted Command), never one alone.
 *
 * Return: as for nvp_read(); -ENOTSUP without fused Compare and Write
 * (FUSES bit 0) or Compare (ONCS bit 0); -EINVAL when @nlb exceeds the
 * limit; -EAGAIN unless three request objects are free (one per half and
 * one for the pair).
 */
NVP_API int nvp_compare_and_write(struct nvp_qpair *qpair, struct nvp_ns *ns,
				  const void *cmp_buf, const void *write_buf, uint64_t lba,
				  uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb,
				  void *arg);

/**
 * nvp_verify() - have the controller read and check blocks, moving no data.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @lba: first block.
 * @nlb: number of blocks; split at the namespace's max_io_blocks (the
 *       transfer limit, which also keeps each part within a controller's
 *       Verify Size Limit when that equals MDTS, as QEMU's default does).
 * @opts: per-command options, or NULL.
 * @cb: completion callback: Unrecovered Read Error (SCT 2h, SC 81h) for an
 *      unreadable block.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP without Verify (ONCS bit 7).
 */
NVP_API int nvp_verify(struct nvp_qpair *qpair, struct nvp_ns *ns, uint64_t lba,
		       uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg);

/**
 * struct nvp_copy_range - one source range of nvp_copy().
 * @slba: first block.
 * @nlb: number of blocks (not 0's based), 1..copy_max_range_blocks.
 */
struct nvp_copy_range {
	uint64_t slba;
	uint32_t nlb;
};

/**
 * nvp_copy() - copy several source ranges, in order, to one destination.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace (source and destination).
 * @ranges: the source ranges, in CPU byte order (ordinary memory; the
 *          library writes them as format 0 Source Range Entries into DMA
 *          memory).
 * @num_ranges: 1..copy_max_ranges (MSRC + 1, at most 256).
 * @sdlba: first destination block; the ranges land one after another.
 * @opts: per-command options (FUA, LR), or NULL.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Never split. Every range must lie in the namespace and hold at most
 * copy_max_range_blocks (MSSRL), all of them at most copy_max_blocks (MCL),
 * checked before anything is posted (-EINVAL, -ERANGE).
 *
 * Return: as for nvp_read(); -ENOTSUP without Copy (ONCS bit 8). More
 * than 128 ranges may take two request objects (-EAGAIN until two are
 * free).
 */
NVP_API int nvp_copy(struct nvp_qpair *qpair, struct nvp_ns *ns,
		     const struct nvp_copy_range *ranges, uint32_t num_ranges, uint64_t sdlba,
		     const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg);

/**
 * nvp_write_uncorrectable() - mark blocks invalid: reads of them fail with
 * Unrecovered Read Error until they are written again.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @lba: first block.
 * @nlb: number of blocks (split at 65536 per command: no data moves).
 * @opts: per-command options, or NULL; the command has no flags (any
 *        gives -EINVAL).
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP without Write Uncorrectable (ONCS
 * bit 1).
 */
NVP_API int nvp_write_uncorrectable(struct nvp_qpair *qpair, struct nvp_ns *ns, uint64_t lba,
				    uint32_t nlb, const struct nvp_io_opts *opts,
				    nvp_cmd_cb cb, void *arg);

/**
 * nvp_dsm() - Dataset Management: attributes of LBA ranges.
 * @qpair: queue pair of the calling thread.
 * @ns: namespace.
 * @ranges: ranges, in CPU byte order, each with its context attributes in
 *          @cattr (ordinary memory; copied into DMA memory, little-endian).
 *          A range of 0 blocks is allowed and names no block.
 * @num_ranges: 1..256 (NVP_DSM_MAX_RANGES).
 * @attributes: NVP_DSM_ATTR_IDR (integral dataset for read),
 *              NVP_DSM_ATTR_IDW (for write), NVP_DSM_ATTR_DEALLOCATE; any
 *              other bit gives -EINVAL. Without DEALLOCATE the command is a
 *              hint and changes no data.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * nvp_deallocate() is nvp_dsm() with NVP_DSM_ATTR_DEALLOCATE.
 *
 * Return: as for nvp_read(); -ENOTSUP without Dataset Management (ONCS
 * bit 2).
 */
NVP_API int nvp_dsm(struct nvp_qpair *qpair, struct nvp_ns *ns,
		    const struct nvp_dsm_range *ranges, uint32_t num_ranges, uint32_t attributes,
		    nvp_cmd_cb cb, void *arg);

#ifdef __cplusplus
}
#endif

/* Zoned namespaces: last, as it uses what is declared above. */
#include <nvpoll/zns.h>
/* Host-side protection information helpers (CRCs, generate, verify). */
#include <nvpoll/pi.h>

#endif /* NVPOLL_NVPOLL_H */
