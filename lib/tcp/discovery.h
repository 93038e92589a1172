/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/discovery.h - the discovery controller over NVMe/TCP: Connect to
 * NVP_DISCOVERY_NQN, enable it over Property Get/Set, read the Discovery
 * Log Page (log 70h) and digest its entries (nvpoll/fabrics.h).
 */
#ifndef NVP_LIB_TCP_DISCOVERY_H
#define NVP_LIB_TCP_DISCOVERY_H

#include <stdint.h>

#include <nvpoll/fabrics.h>

#include "tcp/conn.h"
#include "tcp/fabrics.h"

/* Times the log is read again when its generation counter moved meanwhile. */
#define NVP_DISCOVERY_ATTEMPTS 8

/**
 * nvp_tcp_discover_conn() - discovery over a connection already open.
 * @c: an open connection (ICReq/ICResp done), not yet connected as a queue.
 * @host: the host's identity for Connect.
 * @entries: out: malloc'ed array (NULL when empty).
 * @count: out: its length.
 * @timeout_ms: for each command.
 *
 * Connects @c as the discovery controller's admin queue, sets CC.EN and
 * waits for CSTS.RDY, reads the log (header, entries, header again; again
 * when GENCTR changed), then sets CC.SHN. Does not close @c.
 *
 * Return: 0 or a negative errno with a message (see nvp_discover()).
 */
int nvp_tcp_discover_conn(struct nvp_tcp_conn *c, const struct nvp_tcp_host *host,
			  struct nvp_discovery_entry **entries, uint32_t *count, int timeout_ms);

/**
 * nvp_tcp_discover() - open a connection to @a and run nvp_tcp_discover_conn().
 * @a: the address; its subnqn must be NVP_DISCOVERY_NQN.
 * @host: the host's identity.
 * @entries/@count: out, as above.
 * @timeout_ms: for the connection and each command.
 *
 * Return: 0 or a negative errno with a message.
 */
int nvp_tcp_discover(const struct nvp_tcp_addr *a, const struct nvp_tcp_host *host,
		     struct nvp_discovery_entry **entries, uint32_t *count, int timeout_ms);

/**
 * nvp_tcp_disc_entry_digest() - one wire entry to its host-order digest.
 * @out: the digest.
 * @in: the entry as received (little-endian, strings padded).
 *
 * Strings end at their first NUL or at the field's end; trailing spaces
 * are dropped, and bytes that are not printable ASCII become '?'.
 */
void nvp_tcp_disc_entry_digest(struct nvp_discovery_entry *out,
			       const struct nvp_disc_log_entry *in);

#endif /* NVP_LIB_TCP_DISCOVERY_H */
