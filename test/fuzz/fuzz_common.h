/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/fuzz/fuzz_common.h - what the device-data fuzz targets share: a
 * command tracker that enforces "every accepted command calls back
 * exactly once", and a bounded poll loop.
 *
 * A breach abort()s, so libFuzzer reports it as a crash with the input.
 */
#ifndef NVP_TEST_FUZZ_COMMON_H
#define NVP_TEST_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvpoll/nvpoll.h>

#define FUZZ_CHECK(cond)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz: %s:%d: invariant broken: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

#define FUZZ_MAX_CMDS 64

struct fuzz_cmd {
	int calls;
	uint16_t status;
};

struct fuzz_cmds {
	struct fuzz_cmd cmd[FUZZ_MAX_CMDS];
	unsigned int n;		/* accepted (submitted with rc 0) */
};

static inline void fuzz_on_done(void *arg, const struct nvp_cqe *cpl)
{
	struct fuzz_cmd *c = arg;

	/* A second callback for one command: report it where it happens. */
	FUZZ_CHECK(c->calls == 0);
	c->calls++;
	c->status = cpl->status;
}

/* A slot for the next command, or NULL when the table is full. */
static inline struct fuzz_cmd *fuzz_next(struct fuzz_cmds *t)
{
	return t->n < FUZZ_MAX_CMDS ? &t->cmd[t->n] : NULL;
}

/* Record the submit's result: only accepted commands must call back. */
static inline void fuzz_submitted(struct fuzz_cmds *t, int rc)
{
	if (rc == 0)
		t->n++;
	else
		memset(&t->cmd[t->n], 0, sizeof(t->cmd[t->n]));
}

static inline unsigned int fuzz_pending(const struct fuzz_cmds *t)
{
	unsigned int left = 0;

	for (unsigned int i = 0; i < t->n; i++)
		left += t->cmd[i].calls == 0;
	return left;
}

static inline uint64_t fuzz_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll until every accepted command called back, the qpair fails, or @ms pass. */
static inline void fuzz_drain(struct nvp_ctrl *ctrl, struct nvp_qpair *qp,
			      const struct fuzz_cmds *t, unsigned int ms)
{
	uint64_t end = fuzz_now_ms() + ms;

	while (fuzz_pending(t) && fuzz_now_ms() < end) {
		if (nvp_qpair_poll(qp, 0) < 0)
			break;
		nvp_ctrl_process_admin(ctrl);
	}
}

/* After nvp_qpair_free(): every accepted command has called back once. */
static inline void fuzz_all_called_once(const struct fuzz_cmds *t)
{
	for (unsigned int i = 0; i < t->n; i++) {
		if (t->cmd[i].calls != 1)
			fprintf(stderr, "fuzz: accepted command %u of %u called back %d times\n", i,
				t->n, t->cmd[i].calls);
		FUZZ_CHECK(t->cmd[i].calls == 1);
	}
}

/* Input reader: bytes past the end read as 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* Little-endian; each byte read in its own statement (order matters). */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

#endif /* NVP_TEST_FUZZ_COMMON_H */
