/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/emu.h - fault injection and introspection for the built-in
 * emulated controller ("emu:" addresses, see docs/emu.md).
 *
 * The emulated controller is a device model: a register file in ordinary
 * memory and a device thread that fetches commands, moves data and posts
 * completions exactly as a PCIe controller does. These calls let tests make
 * it misbehave in ways real devices rarely do, and look at what it saw.
 * They fail with -ENOTSUP on a controller that is not emulated.
 */
#ifndef NVPOLL_EMU_H
#define NVPOLL_EMU_H

#include <stddef.h>
#include <stdint.h>

#include <nvpoll/nvpoll.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum nvp_emu_fault_type - what an armed fault does to a matching command.
 * @NVP_EMU_FAULT_STATUS: do not execute it; complete it with @status.
 * @NVP_EMU_FAULT_DROP: execute it but post no completion (the host must
 *                      time it out; Abort finds nothing to abort).
 * @NVP_EMU_FAULT_DELAY: hold it in the device for @delay_us before
 *                       executing it (Abort can abort it meanwhile).
 * @NVP_EMU_FAULT_UNKNOWN_CID: post an extra completion carrying CID @cid
 *                       before the command's own, correct completion.
 * @NVP_EMU_FAULT_DUP_CID: post the command's completion twice.
 * @NVP_EMU_FAULT_CQE: execute it, then post a completion whose fields
 *                     @cqe_fields selects are the fault's @cqe_cid,
 *                     @cqe_sqid, @cqe_sqhd, @cqe_status, @cqe_dw0 and
 *                     @cqe_dw1, instead of the real ones; with
 *                     NVP_EMU_CQE_EXTRA, as an extra completion just
 *                     before the real, correct one.
 * @NVP_EMU_FAULT_PI: before executing it, corrupt the stored protection
 *                    information of the blocks it touches (those also in
 *                    @slba/@nlb with NVP_EMU_MATCH_LBA): flip bit 0 of each
 *                    field @pi_fields names, as media corruption would. The
 *                    damage stays; the command then runs normally, so a
 *                    Read with the matching PRCHK bit fails with the
 *                    guard, application or reference tag check error. No
 *                    effect on namespaces without PI.
 *
 * Several armed faults may match one command; all of them apply (so DROP
 * plus UNKNOWN_CID models a completion whose CID was corrupted).
 */
enum nvp_emu_fault_type {
	NVP_EMU_FAULT_STATUS = 1,
	NVP_EMU_FAULT_DROP = 2,
	NVP_EMU_FAULT_DELAY = 3,
	NVP_EMU_FAULT_UNKNOWN_CID = 4,
	NVP_EMU_FAULT_DUP_CID = 5,
	NVP_EMU_FAULT_CQE = 6,
	NVP_EMU_FAULT_PI = 7,
};

/* Which PI tuple fields an NVP_EMU_FAULT_PI fault corrupts (@pi_fields). */
#define NVP_EMU_PI_GUARD	(1u << 0)	/* the guard (CRC) */
#define NVP_EMU_PI_APPTAG	(1u << 1)	/* the application tag */
#define NVP_EMU_PI_REFTAG	(1u << 2)	/* the reference tag */

/* Which fields of struct nvp_emu_fault restrict the commands it hits. */
#define NVP_EMU_MATCH_OPCODE	(1u << 0)	/* @opcode */
#define NVP_EMU_MATCH_QID	(1u << 1)	/* @qid (0 = admin queue) */
#define NVP_EMU_MATCH_NSID	(1u << 2)	/* @nsid */
#define NVP_EMU_MATCH_LBA	(1u << 3)	/* LBA range overlaps @slba/@nlb */
#define NVP_EMU_MATCH_IO	(1u << 4)	/* I/O queues only (not admin) */

/* Which completion fields an NVP_EMU_FAULT_CQE fault sets (@cqe_fields). */
#define NVP_EMU_CQE_CID		(1u << 0)	/* @cqe_cid */
#define NVP_EMU_CQE_SQID	(1u << 1)	/* @cqe_sqid */
#define NVP_EMU_CQE_SQHD	(1u << 2)	/* @cqe_sqhd */
#define NVP_EMU_CQE_STATUS	(1u << 3)	/* @cqe_status, all but the phase bit */
#define NVP_EMU_CQE_DW0		(1u << 4)	/* @cqe_dw0 */
#define NVP_EMU_CQE_DW1		(1u << 5)	/* @cqe_dw1 */
/* Post the corrupted completion in addition to, just before, the real one. */
#define NVP_EMU_CQE_EXTRA	(1u << 31)

/* @count value: stay armed until nvp_emu_clear_faults(). */
#define NVP_EMU_FOREVER		UINT32_MAX

/**
 * struct nvp_emu_fault - one fault to arm.
 * @type: see enum nvp_emu_fault_type.
 * @count: how many matching commands to hit (0 is taken as 1), or
 *         NVP_EMU_FOREVER.
 * @match: NVP_EMU_MATCH_* bits; 0 matches every command, admin included.
 * @opcode: opcode to match. Admin and NVM opcodes overlap (02h is Get Log
 *          Page and Read), so combine with NVP_EMU_MATCH_IO or _QID.
 * @qid: submission queue ID to match.
 * @nsid: namespace ID to match.
 * @slba: first LBA of the range to match (Read, Write, Write Zeroes,
 *        Compare; commands without an LBA never match).
 * @nlb: number of blocks in that range (0 is taken as 1).
 * @status: for NVP_EMU_FAULT_STATUS: the CQE status word without the
 *          phase bit, e.g. NVP_STATUS(NVP_SCT_MEDIA,
 *          NVP_SC_UNRECOVERED_READ_ERROR) | NVP_STATUS_DNR_BIT.
 * @delay_us: for NVP_EMU_FAULT_DELAY.
 * @cid: for NVP_EMU_FAULT_UNKNOWN_CID (0 is taken as 0xfffe).
 * @cqe_fields: for NVP_EMU_FAULT_CQE: NVP_EMU_CQE_* bits naming the
 *              completion fields to set, plus NVP_EMU_CQE_EXTRA.
 * @cqe_cid: the completion's command identifier.
 * @cqe_sqid: its SQ identifier. The completion still goes to the CQ of
 *            the command's own SQ.
 * @cqe_sqhd: its SQ head pointer.
 * @cqe_status: its status field, bits 15:1: SC, SCT, CRD, More and DNR,
 *              any value. Bit 0, the phase tag, is always the device's.
 * @cqe_dw0: its command-specific dword 0.
 * @cqe_dw1: its dword 1 (reserved in NVMe; a device may still set it).
 * @pi_fields: for NVP_EMU_FAULT_PI: NVP_EMU_PI_* bits (added after the
 *             cqe_* fields; a smaller @size cannot use NVP_EMU_FAULT_PI).
 *
 * The cqe_* fields were added after the rest; a caller compiled before
 * them passes a smaller @size to nvp_emu_inject() and cannot use
 * NVP_EMU_FAULT_CQE. New fields are only ever appended.
 */
struct nvp_emu_fault {
	enum nvp_emu_fault_type type;
	uint32_t count;
	uint32_t match;
	uint8_t opcode;
	uint16_t qid;
	uint32_t nsid;
	uint64_t slba;
	uint32_t nlb;
	uint16_t status;
	uint32_t delay_us;
	uint16_t cid;
	uint32_t cqe_fields;
	uint16_t cqe_cid;
	uint16_t cqe_sqid;
	uint16_t cqe_sqhd;
	uint16_t cqe_status;
	uint32_t cqe_dw0;
	uint32_t cqe_dw1;
	uint32_t pi_fields;
};

/**
 * nvp_emu_inject() - arm a fault for future commands.
 * @ctrl: an emulated controller.
 * @fault: the fault; copied.
 * @size: sizeof(*@fault) as compiled into the caller.
 *
 * Takes effect for commands the device fetches from now on. Up to 32
 * faults may be armed at once. Thread-safe.
 *
 * Return: 0; -ENOTSUP if @ctrl is not emulated; -EINVAL for a bad type or
 * size (NVP_EMU_FAULT_CQE needs a @size that covers its fields); -ENOSPC
 * if 32 faults are already armed.
 */
NVP_API int nvp_emu_inject(struct nvp_ctrl *ctrl, const struct nvp_emu_fault *fault,
			   size_t size);

/**
 * nvp_emu_set_zone_state() - make a zone of an emulated zoned namespace
 * read only or offline, as a media failure would.
 * @ctrl: an emulated controller.
 * @nsid: a zoned namespace (emu:ns=...,zoned=ZSIZE).
 * @zslba: the zone's start LBA.
 * @state: NVP_ZS_READ_ONLY or NVP_ZS_OFFLINE (enum nvp_zone_state).
 *
 * Takes effect between commands; the zone leaves the open and active
 * counts. Thread-safe.
 *
 * Return: 0; -ENOTSUP if @ctrl is not emulated; -EINVAL for a namespace
 * that is not zoned, an LBA that is no zone start, or another state.
 */
NVP_API int nvp_emu_set_zone_state(struct nvp_ctrl *ctrl, uint32_t nsid, uint64_t zslba,
				   uint8_t state);

/**
 * nvp_emu_clear_faults() - disarm every fault armed with nvp_emu_inject().
 * @ctrl: an emulated controller.
 *
 * Commands already held by a DELAY fault still complete when due.
 *
 * Return: 0 or -ENOTSUP.
 */
NVP_API int nvp_emu_clear_faults(struct nvp_ctrl *ctrl);

/**
 * nvp_emu_fatal() - make the controller report Controller Fatal Status.
 * @ctrl: an emulated controller.
 *
 * Sets CSTS.CFS and stops all command processing, as a hung firmware
 * would: commands in the device are lost. A controller reset (CC.EN 1→0,
 * then enable again) clears it. Asynchronous: takes effect within one pass
 * of the device thread (microseconds).
 *
 * Return: 0 or -ENOTSUP.
 */
NVP_API int nvp_emu_fatal(struct nvp_ctrl *ctrl);

/**
 * nvp_emu_remove() - simulate surprise removal.
 * @ctrl: an emulated controller.
 *
 * Every register and doorbell reads all-ones from then on and nothing is
 * processed; the register file stays mapped, so the host never faults.
 * Permanent until the controller is detached. Asynchronous, like
 * nvp_emu_fatal().
 *
 * Return: 0 or -ENOTSUP.
 */
NVP_API int nvp_emu_remove(struct nvp_ctrl *ctrl);

/**
 * nvp_emu_async_event() - raise an asynchronous event.
 * @ctrl: an emulated controller.
 * @type: event type, CQE DW0 bits 2:0 (enum nvp_aer_type).
 * @info: event information, DW0 bits 15:8.
 * @log_page: log page to read to clear it, DW0 bits 23:16.
 *
 * Completes an outstanding Asynchronous Event Request, or waits for one.
 * As the spec says, further events of the same type stay queued until the
 * host reads @log_page with RAE cleared. Up to 16 events are queued.
 *
 * Return: 0; -ENOTSUP; -ENOSPC when the event queue is full.
 */
NVP_API int nvp_emu_async_event(struct nvp_ctrl *ctrl, uint8_t type, uint8_t info,
				uint8_t log_page);

/**
 * struct nvp_emu_stats - what the emulated controller has seen.
 * @admin_cmds: commands fetched from the admin queue, per opcode.
 * @io_cmds: commands fetched from I/O queues, per opcode.
 * @cqes_posted: completion entries written to completion queues.
 * @cqes_dropped: completions suppressed by NVP_EMU_FAULT_DROP.
 * @faults_hit: commands an armed fault applied to.
 * @dma_faults: DMA to or from a bus address no DMA region covers; each
 *              failed its command with Data Transfer Error.
 * @cq_full_waits: times a completion had to wait for the host to free a
 *                 completion queue slot.
 * @invalid_doorbells: doorbell writes that were ignored as Invalid
 *                     Doorbell Write Values: past the end of the queue, an
 *                     SQ tail that takes back unfetched commands, or a CQ
 *                     head that moves backwards or past the CQ tail.
 * @aborted: commands completed with Abort Requested by an Abort command.
 * @errors_logged: entries added to the Error Information log.
 * @resets: controller resets (CC.EN 1→0).
 * @io_sqs: I/O submission queues that exist now.
 * @io_cqs: I/O completion queues that exist now.
 * @pending: commands held in the device (latency, delay faults).
 * @aers_outstanding: Asynchronous Event Requests held by the device.
 * @enabled: CSTS.RDY is set.
 * @fatal: CSTS.CFS is set.
 * @removed: surprise removal was simulated.
 * @shadow_doorbells: Doorbell Buffer Config is active.
 * @deep_sleeps: idle passes on which the device thread slept its longest
 *               interval: it has had nothing to do for about 0.25 s and
 *               costs almost no CPU.
 * @cmb_sqs: I/O submission queues that exist now in the Controller Memory
 *           Buffer (emu:cmb=SIZE).
 * @cmb_cmds: commands fetched from submission queues in the CMB.
 */
struct nvp_emu_stats {
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
	uint32_t io_sqs;
	uint32_t io_cqs;
	uint32_t pending;
	uint32_t aers_outstanding;
	bool enabled;
	bool fatal;
	bool removed;
	bool shadow_doorbells;
	uint64_t deep_sleeps;
	uint32_t cmb_sqs;
	uint64_t cmb_cmds;
};

/**
 * nvp_emu_get_stats() - read the emulated controller's counters.
 * @ctrl: an emulated controller.
 * @stats: out: the counters.
 * @size: sizeof(*@stats) as compiled into the caller; fields beyond it are
 *        not written.
 *
 * Counters are read without stopping the device, so they may be a few
 * commands apart from each other.
 *
 * Return: 0, -EINVAL (NULL @stats) or -ENOTSUP.
 */
NVP_API int nvp_emu_get_stats(struct nvp_ctrl *ctrl, struct nvp_emu_stats *stats,
			      size_t size);

#ifdef __cplusplus
}
#endif

#endif /* NVPOLL_EMU_H */
