/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/init.h - the controller init sequence as named states.
 *
 * The order is Linux's (drivers/nvme/host/pci.c nvme_reset_work() and
 * core.c): disable, admin queue, enable, Identify Controller, Number of
 * Queues, then namespaces. Each state has a timeout and a name; an error
 * says which state failed and why. Register waits poll a clock that the
 * unit tests replace, so "RDY never rises" is tested without waiting.
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
 * @state_deadline_ms: when the current state times out.
 * @now_ms: clock in milliseconds (nvp_monotonic_ms, or a test's fake).
 * @on_poll: called once per register poll (tests play the device here).
 * @poll_arg: passed to @on_poll.
 * @reinit: a reset: keep what the first run allocated (admin queue pair,
 *          Identify page, queue-ID table, shadow doorbell pages) and the
 *          namespace handles; report namespace changes as events.
 */
struct nvp_init {
	struct nvp_ctrl *ctrl;
	enum nvp_init_state state;
	uint64_t state_deadline_ms;
	uint64_t (*now_ms)(void);
	void (*on_poll)(void *arg);
	void *poll_arg;
	bool reinit;
};

/** nvp_init_state_name() - the state's name, as it appears in errors. */
const char *nvp_init_state_name(enum nvp_init_state state);

/**
 * nvp_init_run() - run the sequence to the end or the first failure.
 * @ini: a run whose @ctrl (dev, bar, opts set), @now_ms and optional
 *       @on_poll are filled; everything else zero.
 *
 * Return: 0, or a negative errno with a message naming the failed state.
 * @ini->state is left at the failed state.
 */
int nvp_init_run(struct nvp_init *ini);


#endif /* NVP_LIB_NVME_INIT_H */
