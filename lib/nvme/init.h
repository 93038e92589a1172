/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/init.h - the controller init sequence as a re-entrant state
 * machine (as SPDK's nvme_ctrlr_process_init()).
 *
 * The order is Linux's (drivers/nvme/host/pci.c nvme_reset_work() and
 * core.c): disable, admin queue, enable, Identify Controller, Number of
 * Queues, then namespaces. nvp_init_process() does one step and returns:
 * it reads CSTS once in a register wait, or submits or checks one admin
 * command, and never sleeps. Each state has its own deadline, which every
 * call checks; an error says which state failed and why. The clock is a
 * hook the unit tests replace, so "RDY never rises" or "Identify is never
 * answered" are tested without waiting.
 */
#ifndef NVP_LIB_NVME_INIT_H
#define NVP_LIB_NVME_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme/nvme.h"

/** enum nvp_init_state - where the init sequence is. */
enum nvp_init_state {
	NVP_INIT_READ_CAP = 0,		/* CAP/VS/CSTS; all-ones means gone */
	NVP_INIT_WAIT_READY_BEFORE_DISABLE, /* EN=1, RDY=0: let it finish enabling */
	NVP_INIT_DISABLE,		/* CC.EN = 0 */
	NVP_INIT_WAIT_NOT_READY,	/* CSTS.RDY = 0 */
	NVP_INIT_CONFIGURE_ADMIN,	/* AQA, ASQ, ACQ */
	NVP_INIT_ENABLE,		/* CC = MPS|CSS|AMS|IOSQES|IOCQES|EN */
	NVP_INIT_WAIT_READY,		/* CSTS.RDY = 1 */
	NVP_INIT_CMB,			/* CMB for SQs if asked for (cmb.c) */
	NVP_INIT_IDENTIFY_CTRL,		/* Identify Controller */
	NVP_INIT_SET_NUM_QUEUES,	/* Set Features Number of Queues */
	NVP_INIT_DOORBELL_BUFFER,	/* Doorbell Buffer Config, if offered */
	NVP_INIT_IDENTIFY_NS,		/* active namespace list, Identify each */
	NVP_INIT_ASYNC_EVENTS,		/* Async Event Config, post an AER */
	NVP_INIT_DONE,
	NVP_INIT_NUM_STATES,
};

/**
 * struct nvp_init - one run of the sequence.
 * @ctrl: the controller being brought up.
 * @state: current state.
 * @state_deadline_ms: when the current state times out: CAP.TO after it
 *                     was entered (register waits), the admin timeout
 *                     after its current command was submitted (admin
 *                     states), or 0 (states that finish in one call).
 * @now_ms: clock in milliseconds (NULL: nvp_monotonic_ms; tests: a fake).
 * @on_poll: nvp_init_run() calls it instead of napping when a call made no
 *           progress (tests play the device here).
 * @poll_arg: passed to @on_poll.
 * @reinit: a reset: keep what the first run allocated (admin queue pair,
 *          Identify pages, queue-ID table, shadow doorbell pages) and the
 *          namespace handles; report namespace changes as events.
 *
 * The rest is nvp_init_process()'s own:
 * @result: the failure's errno once failed (every later call returns it).
 * @step: progress within the state (commands sent; 0 on entry).
 * @ready_check_ms: the register waits read CSTS from then on (a quirk's
 *                  delay after CC.EN=0).
 * @csts_checked_ms: when an admin state last read CSTS (once a millisecond).
 * @cmd_busy: an admin command of this run is on the device.
 * @cmd_done: it completed; @cpl holds its completion.
 * @cmd_opc: its opcode, for messages.
 * @cpl: the completion.
 * @scan: the namespace scan (NVP_INIT_IDENTIFY_NS).
 * @ns_listing: the scan still reads active namespace list pages.
 * @ns_idx: next entry of @scan's list to Identify.
 * @ns_csi_step: with CC.CSS = 110b, the command-set Identify commands of
 *               the namespace just identified (zns.c): 1 its descriptor
 *               list (CNS 03h), 2 ZNS Identify Controller (CNS 06h, once
 *               per run), 3 ZNS Identify Namespace (CNS 05h); 0 none.
 * @ns_csi: the CSI its descriptor list named.
 * @zns_ctrl_read: CNS 06h was read in this run.
 */
struct nvp_init {
	struct nvp_ctrl *ctrl;
	enum nvp_init_state state;
	uint64_t state_deadline_ms;
	uint64_t (*now_ms)(void);
	void (*on_poll)(void *arg);
	void *poll_arg;
	bool reinit;

	int result;
	uint32_t step;
	uint64_t ready_check_ms;
	uint64_t csts_checked_ms;
	bool cmd_busy;
	bool cmd_done;
	uint8_t cmd_opc;
	struct nvp_cqe cpl;
	struct nvp_ns_scan scan;
	bool ns_listing;
	uint32_t ns_idx;
	uint8_t ns_csi_step;
	uint8_t ns_csi;
	bool zns_ctrl_read;
};

/** nvp_init_state_name() - the state's name, as it appears in errors. */
const char *nvp_init_state_name(enum nvp_init_state state);

/**
 * nvp_init_process() - advance the sequence by one step, without blocking.
 * @ini: a run whose @ctrl (dev, bar, opts set), optional @now_ms and
 *       optional @on_poll are filled; everything else zero.
 *
 * One step is one state's work once: read CSTS and compare it (register
 * waits), write registers (disable, admin queue, enable), or submit or
 * check an admin command. A call enters at most one new state. Every call
 * checks the current state's deadline; admin commands are reaped here (the
 * admin poller need not run). Call again while it returns -EAGAIN: a run
 * holds an admin slot and memory until it ends. Marks the thread as
 * reconfiguring @ctrl for the call (its admin commands pass during a reset).
 *
 * A command that times out, or meets CSTS.CFS or a removed device, has its
 * admin slot taken back (a late completion carries an older CID generation
 * and is ignored); the memory it points to belongs to the controller (its
 * Identify pages, the shadow doorbell pages) and is freed with it, after
 * the controller has been disabled.
 *
 * Return: -EAGAIN while in progress, 0 once NVP_INIT_DONE, or a negative
 * errno with a message naming the failed state (@state is left there):
 * -ENODEV (registers read all-ones), -EIO (CSTS.CFS), -ETIMEDOUT (the
 * state's deadline passed), -ENOTSUP (unusable controller), or the error
 * of a refused command.
 */
int nvp_init_process(struct nvp_init *ini);

/**
 * nvp_init_run() - run the sequence to the end or the first failure:
 * nvp_init_process() in a loop, napping (or calling @on_poll) between
 * calls that made no progress.
 * @ini: as for nvp_init_process().
 *
 * Return: 0, or a negative errno with a message naming the failed state.
 * @ini->state is left at the failed state.
 */
int nvp_init_run(struct nvp_init *ini);

#endif /* NVP_LIB_NVME_INIT_H */
