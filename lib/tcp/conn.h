/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/conn.h - one NVMe/TCP connection (one queue: admin or I/O).
 *
 * Opening it is the TCP connect and the ICReq/ICResp exchange. A command
 * then goes out as a CapsuleCmd, with its data in the capsule when it fits
 * (in-capsule data), or in H2CData PDUs when the controller asks for it
 * with R2Ts; a read's data comes back in C2HData PDUs, straight into the
 * caller's buffer at the offset each names (never past its end), and the
 * completion in a CapsuleResp, or implied by C2HData's SUCCESS flag.
 *
 * nvp_tcp_exec() runs one command to its completion: what the controller
 * set-up path (Connect, Property Get/Set, Identify) needs, and what the
 * polled queue pairs build on.
 */
#ifndef NVP_LIB_TCP_CONN_H
#define NVP_LIB_TCP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <nvpoll/spec.h>

#include "tcp/addr.h"
#include "tcp/pdu.h"

/* In-capsule data an admin queue always takes (NVMe/TCP: 8 KiB). */
#define NVP_TCP_ADMIN_INCAPSULE 8192u

/**
 * struct nvp_tcp_conn - a connection.
 * @fd: the socket (non-blocking), -1 when closed.
 * @p: what ICReq/ICResp negotiated.
 * @incapsule_max: data bytes a command may carry in its capsule (admin:
 *                 NVP_TCP_ADMIN_INCAPSULE; I/O: from IOCCSZ).
 * @peer: "HOST:PORT", for messages.
 * @pdus_in/@pdus_out: PDUs received and sent.
 * @r2ts: R2Ts answered.
 * @in_bytes: data bytes the last nvp_tcp_exec() received (the C2HData
 *            lengths summed), so a caller can tell a short read.
 */
struct nvp_tcp_conn {
	int fd;
	struct nvp_tcp_conn_params p;
	uint32_t incapsule_max;
	bool sqfc_disable;	/* I/O Connect asks for SQ flow control off */
	char peer[300];
	uint64_t pdus_in;
	uint64_t pdus_out;
	uint64_t r2ts;
	uint32_t in_bytes;
};

/**
 * nvp_tcp_conn_open() - connect and initialise the connection.
 * @c: out.
 * @a: the address.
 * @hdgst/@ddgst: ask for header/data digests.
 * @timeout_ms: for the TCP connect and the ICResp.
 *
 * Return: 0; -EHOSTUNREACH/-ECONNREFUSED/-ETIMEDOUT and others from the
 * network, each with a message naming the address; -EPROTO when the peer
 * does not answer as an NVMe/TCP controller.
 */
int nvp_tcp_conn_open(struct nvp_tcp_conn *c, const struct nvp_tcp_addr *a, bool hdgst,
		      bool ddgst, int timeout_ms);

/* Close the socket (idempotent). */
void nvp_tcp_conn_close(struct nvp_tcp_conn *c);

/**
 * nvp_tcp_exec() - run one command and wait for its completion.
 * @c: the connection.
 * @cmd: the command in CPU order; its data pointer is set here (an SGL).
 * @out/@out_len: data to the controller (a write), or NULL/0.
 * @in/@in_len: buffer for data from the controller (a read), or NULL/0.
 * @cpl: out: the completion, CPU order.
 * @timeout_ms: for the whole command.
 *
 * Return: 0 when a completion arrived (check @cpl's status); -ETIMEDOUT;
 * -ECONNRESET when the connection broke; -EPROTO when the controller broke
 * the protocol (data for another command, past the buffer, a bad digest,
 * a Terminate Request). The connection is unusable after any error.
 */
int nvp_tcp_exec(struct nvp_tcp_conn *c, const struct nvp_sqe *cmd, const void *out,
		 uint32_t out_len, void *in, uint32_t in_len, struct nvp_cqe *cpl,
		 int timeout_ms);

#endif /* NVP_LIB_TCP_CONN_H */
