/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/fabrics.h - the Fabrics commands over one connection: Connect
 * (which makes a TCP connection an admin or I/O queue), and Property Get
 * and Set, which stand in for the register reads and writes of PCIe
 * (CAP, VS, CC, CSTS at their BAR0 offsets).
 */
#ifndef NVP_LIB_TCP_FABRICS_H
#define NVP_LIB_TCP_FABRICS_H

#include <stdint.h>

#include "tcp/conn.h"

/**
 * struct nvp_tcp_host - who the host says it is in Connect.
 * @hostnqn: NUL-terminated. @hostid: the host identifier.
 */
struct nvp_tcp_host {
	char hostnqn[NVP_NQN_MAX + 1];
	uint8_t hostid[16];
};

/**
 * nvp_tcp_connect_queue() - Connect: make @c queue @qid of a controller.
 * @c: an open connection.
 * @host: the host's identity.
 * @subnqn: the subsystem.
 * @qid: 0 for the admin queue.
 * @sqsize: SQ entries (not 0's based; 2..65536).
 * @cntlid: NVP_CNTLID_DYNAMIC for the admin queue; the admin Connect's
 *          controller ID for I/O queues.
 * @kato_ms: Keep Alive Timeout (admin queue; 0 = none).
 * @cntlid_out: out, optional: the controller ID (admin Connect).
 * @timeout_ms: how long to wait.
 *
 * Return: 0, a negative errno from the connection, or the errno of the
 * Connect status with a message that names it (e.g. the host is not
 * allowed, the subsystem does not exist).
 */
int nvp_tcp_connect_queue(struct nvp_tcp_conn *c, const struct nvp_tcp_host *host,
			  const char *subnqn, uint16_t qid, uint32_t sqsize, uint16_t cntlid,
			  uint32_t kato_ms, uint16_t *cntlid_out, int timeout_ms);

/* Property Get of a 4- or 8-byte property (@size 4 or 8) at @ofst. */
int nvp_tcp_prop_get(struct nvp_tcp_conn *c, uint32_t ofst, unsigned int size, uint64_t *value,
		     int timeout_ms);

/* Property Set. */
int nvp_tcp_prop_set(struct nvp_tcp_conn *c, uint32_t ofst, unsigned int size, uint64_t value,
		     int timeout_ms);

#endif /* NVP_LIB_TCP_FABRICS_H */
