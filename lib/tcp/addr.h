/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/addr.h - NVMe/TCP addresses and the host's identity.
 *
 * Two spellings name the same target: nvpoll's URL, "tcp://HOST[:PORT]
 * [/SUBNQN]" (IPv6 hosts in brackets), and SPDK's transport ID string,
 * "trtype:TCP adrfam:IPv4 traddr:HOST trsvcid:PORT subnqn:NQN", so SPDK
 * users can paste what they have. Without a subsystem NQN the address
 * names the discovery controller.
 */
#ifndef NVP_LIB_TCP_ADDR_H
#define NVP_LIB_TCP_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include <nvpoll/spec.h>

/**
 * struct nvp_tcp_addr - a parsed NVMe/TCP address.
 * @host: host name or IP address (IPv6 without brackets).
 * @port: TCP port as text ("4420" unless given).
 * @subnqn: the subsystem NQN (NVP_DISCOVERY_NQN unless given).
 * @family: 4 or 6 when the address says (adrfam, brackets), else 0.
 */
struct nvp_tcp_addr {
	char host[256];
	char port[8];
	char subnqn[NVP_NQN_MAX + 1];
	int family;
};

/**
 * nvp_tcp_addr_parse() - parse either spelling.
 * @text: the address.
 * @out: the result.
 *
 * Return: 0; -ENOENT when @text is not a TCP address at all (neither
 * "tcp://" nor a transport ID with trtype:TCP), so the caller can try other
 * kinds; -EINVAL with a message for a TCP address that is malformed (empty
 * host, bad port, NQN too long or without "nqn.", unknown or repeated
 * transport ID key, adrfam that contradicts traddr).
 */
int nvp_tcp_addr_parse(const char *text, struct nvp_tcp_addr *out);

/**
 * nvp_tcp_host_identity() - the host NQN and host ID to connect with.
 * @hostnqn: out (NVP_NQN_MAX + 1 bytes): /etc/nvme/hostnqn when it holds an
 *           NQN, else "nqn.2014-08.org.nvmexpress:uuid:<uuid>".
 * @hostid: out: /etc/nvme/hostid when it holds a UUID, else <uuid>.
 * @etc_dir: where to look ("/etc/nvme"; tests pass their own).
 *
 * <uuid> is derived from /etc/machine-id, so it is stable across runs and
 * the same for every program on the machine (a target's host ACLs keep
 * working); a random one when there is no machine-id either.
 *
 * Return: 0 or -EINVAL (a file there is malformed: the message names it).
 */
int nvp_tcp_host_identity(char *hostnqn, uint8_t hostid[16], const char *etc_dir);

#endif /* NVP_LIB_TCP_ADDR_H */
