/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/queue.h - a polled NVMe/TCP queue: many commands in flight on one
 * connection, driven only by the owning thread's calls. No threads, no
 * blocking, no allocation per command.
 *
 *   post()   a command (its SQE as it goes on the wire, its data buffer):
 *            queued as a CapsuleCmd, with the data inside when a write
 *            fits the in-capsule size;
 *   send()   as many queued PDUs as the socket takes, batched into one
 *            sendmsg(); the rest waits for the next send();
 *   recv()   whatever the socket holds: headers through a staging buffer
 *            (one recv() brings many small PDUs), C2HData straight into
 *            the command's buffer when it is large (zero-copy), R2Ts turned
 *            into H2CData PDUs, and each completion handed to the caller.
 *
 * The queue is what lib/nvme's queue pair sits on for TCP: post() at the
 * doorbell, recv() where PCIe reads the CQ.
 */
#ifndef NVP_LIB_TCP_QUEUE_H
#define NVP_LIB_TCP_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcp/conn.h"

/* Data segments one command may have (a longer iovec is refused). */
#define NVP_TCP_MAX_SEGS 16

struct nvp_tcp_slot;

/**
 * struct nvp_tcp_queue - see the file comment.
 * @c: the connection (owned by the caller; open and Connected).
 * @slots: per command, indexed by CID & @cid_mask.
 * @cid_mask: low CID bits that index @slots (a power of two minus 1).
 * @sendq: slots with PDUs to send, in order (a ring of @cid_mask + 1).
 * @sendq_head/@sendq_tail: ring positions (free-running).
 * @staging: received bytes not yet consumed. @staged/@consumed: its fill.
 * @rx: receive state (see queue.c).
 * @cqes_pending: completions waiting for their write data to finish going out.
 * @failed: a protocol or connection error ended the queue (negative errno).
 * @completions/@c2h_direct/@c2h_copied/@sendmsgs: counters.
 */
struct nvp_tcp_queue {
	struct nvp_tcp_conn *c;
	struct nvp_tcp_slot *slots;
	uint32_t cid_mask;
	uint32_t *sendq;
	uint32_t sendq_head;
	uint32_t sendq_tail;
	uint8_t *staging;
	uint32_t staged;
	uint32_t consumed;
	struct {
		uint8_t hdr[NVP_TCP_MAX_HDR] __attribute__((aligned(8)));
		uint32_t hdr_got;
		struct nvp_tcp_pdu_layout lay;
		uint32_t skip;		/* padding before the data still to drop */
		uint32_t data_got;	/* data bytes of this PDU placed so far */
		uint32_t crc;		/* running data digest */
		uint8_t ddgst[NVP_TCP_DIGEST_LEN];
		uint32_t ddgst_got;
		int state;
	} rx;
	uint32_t cqes_pending;
	int failed;
	uint64_t completions;
	uint64_t c2h_direct;
	uint64_t c2h_copied;
	uint64_t sendmsgs;
};

/**
 * typedef nvp_tcp_cqe_fn - a completion arrived.
 * @ctx: from nvp_tcp_queue_recv().
 * @cqe: the CQE as on the wire (little-endian); for a C2HData with the
 *       SUCCESS flag, one the queue made: status 0, the command's CID.
 */
typedef void (*nvp_tcp_cqe_fn)(void *ctx, const struct nvp_cqe *cqe);

/**
 * nvp_tcp_queue_init() - set up a queue on an open, Connected connection.
 * @q: out. @c: the connection.
 * @depth: commands in flight at most; a power of two (the CID's low bits
 *         index the slots).
 *
 * Return: 0 or -ENOMEM/-EINVAL.
 */
int nvp_tcp_queue_init(struct nvp_tcp_queue *q, struct nvp_tcp_conn *c, uint32_t depth);

void nvp_tcp_queue_fini(struct nvp_tcp_queue *q);

/**
 * nvp_tcp_queue_post() - queue one command.
 * @q: the queue.
 * @sqe: the command in wire order; its data pointer is replaced by the SGL
 *       descriptor TCP uses.
 * @iov/@iovcnt: its data (NULL/0 without data); valid until it completes.
 * @to_ctrl: the data goes to the controller (a write).
 *
 * Return: 0, -EBUSY (its slot is taken: a CID in use), -EINVAL (too many
 * segments, more than 4 GiB), or the queue's failure.
 */
int nvp_tcp_queue_post(struct nvp_tcp_queue *q, const struct nvp_sqe *sqe,
		       const struct iovec *iov, int iovcnt, bool to_ctrl);

/**
 * nvp_tcp_queue_send() - send what is queued, as far as the socket takes.
 * Return: 0 (maybe with PDUs left for later) or the queue's failure.
 */
int nvp_tcp_queue_send(struct nvp_tcp_queue *q);

/**
 * nvp_tcp_queue_recv() - take in what the socket holds.
 * @q: the queue. @fn/@ctx: called for each completion.
 * @max: completions to hand over at most (0: no limit).
 *
 * Return: completions handed over, or the queue's failure (-ECONNRESET,
 * -EPROTO) with a message; after a failure every later call returns it.
 */
int nvp_tcp_queue_recv(struct nvp_tcp_queue *q, nvp_tcp_cqe_fn fn, void *ctx, uint32_t max);

/* Commands posted and not completed. */
uint32_t nvp_tcp_queue_outstanding(const struct nvp_tcp_queue *q);

#endif /* NVP_LIB_TCP_QUEUE_H */
