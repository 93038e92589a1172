/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/fabrics.h - NVMe over Fabrics discovery.
 *
 * Which subsystems does a target offer, and where? A discovery controller
 * is what answers at a target's address under the
 * well-known NQN NVP_DISCOVERY_NQN. nvp_discover() connects to it over
 * NVMe/TCP, reads its Discovery Log Page and returns each entry as a
 * struct nvp_discovery_entry: plain C strings and host-order numbers, so a
 * caller never parses the wire format (nvpoll/spec_fabrics.h has that, as
 * struct nvp_disc_log_entry). Each NVM subsystem entry's traddr, trsvcid
 * and subnqn together are the address to attach:
 * "tcp://TRADDR:TRSVCID/SUBNQN" (IPv6 addresses in brackets). See
 * docs/tcp.md ("Discovery").
 *
 * The target is not trusted: every length in its answers is checked, and
 * strings are cut at their field's size and stripped of bytes that are not
 * printable ASCII.
 */
#ifndef NVPOLL_FABRICS_H
#define NVPOLL_FABRICS_H

#include <stdint.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec_fabrics.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most entries nvp_discover() accepts from one discovery controller. */
#define NVP_DISCOVERY_MAX_ENTRIES 4096

/**
 * struct nvp_discovery_entry - one Discovery Log Page entry, digested.
 * @trtype: transport, NVP_TRTYPE_* (3: TCP).
 * @adrfam: address family of @traddr, NVP_ADRFAM_* (1: IPv4, 2: IPv6).
 * @subtype: NVP_SUBTYPE_*: 2 an NVM subsystem, 1 a referral to another
 *           discovery controller, 3 this discovery controller itself.
 * @treq: transport requirements, NVP_TREQ_* (bits 1:0 the secure channel).
 * @portid: the subsystem port's ID.
 * @cntlid: the controller to connect to; 0xFFFF: any (dynamic).
 * @asqsz: the admin submission queue size the host must allow for.
 * @eflags: entry flags.
 * @trsvcid: transport service ID (TCP: the port, e.g. "4420").
 * @traddr: transport address (TCP: the IP address).
 * @subnqn: the subsystem's NQN.
 *
 * Every string is NUL-terminated, without the padding of the wire format.
 */
struct nvp_discovery_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	char trsvcid[33];
	char traddr[257];
	char subnqn[257];
};

/**
 * nvp_discover() - list what an NVMe/TCP discovery controller offers.
 * @addr: "tcp://HOST[:PORT]" (port 4420 unless given; IPv6 hosts in
 *        brackets), or SPDK's "trtype:TCP adrfam:IPv4 traddr:HOST
 *        trsvcid:PORT". A subsystem NQN, if the address names one, must be
 *        NVP_DISCOVERY_NQN.
 * @hostnqn: the host NQN to connect with; NULL: /etc/nvme/hostnqn, or one
 *           derived from /etc/machine-id (as docs/tcp.md describes).
 * @entries: out: an array of *@count entries, in the log's order, to free
 *           with nvp_discovery_free(); NULL when there are none.
 * @count: out: the number of entries.
 *
 * Connects an admin queue to the discovery controller, enables it (CC.EN,
 * then waits for CSTS.RDY), reads the Discovery Log Page, shuts the
 * controller down and closes the connection. The log is read header first,
 * then the entries, then the header again: if the target's generation
 * counter moved in between, the log changed while it was read, and it is
 * read again (up to 8 times). Each step waits at most 10 seconds. Needs no
 * privileges and no nvp_init().
 *
 * Return: 0; -EINVAL for a malformed address, an address that is not
 * NVMe/TCP, or one that names a subsystem other than the discovery
 * controller; -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT and others when the
 * target cannot be reached; -EPROTO when it breaks the protocol (a log page
 * shorter than it says, more than NVP_DISCOVERY_MAX_ENTRIES entries); -EAGAIN
 * when the log kept changing; the errno of an NVMe status the target
 * answered with (e.g. this host is not allowed). nvp_last_error() says which.
 */
NVP_API int nvp_discover(const char *addr, const char *hostnqn,
			 struct nvp_discovery_entry **entries, uint32_t *count);

/**
 * nvp_discovery_free() - free what nvp_discover() returned.
 * @entries: the array, or NULL.
 */
NVP_API void nvp_discovery_free(struct nvp_discovery_entry *entries);

/**
 * nvp_trtype_str() - the name of a transport type, as nvme-cli prints it.
 * @trtype: NVP_TRTYPE_*.
 *
 * Return: "tcp", "rdma", "fc", "loop", or "unrecognized".
 */
NVP_API const char *nvp_trtype_str(uint8_t trtype);

/**
 * nvp_adrfam_str() - the name of an address family, as nvme-cli prints it.
 * @adrfam: NVP_ADRFAM_*.
 *
 * Return: "ipv4", "ipv6", "infiniband", "fibre-channel", "loop", or
 * "unrecognized".
 */
NVP_API const char *nvp_adrfam_str(uint8_t adrfam);

/**
 * nvp_subtype_str() - the name of a discovery entry's subsystem type.
 * @subtype: NVP_SUBTYPE_*.
 *
 * Return: "nvme subsystem", "discovery subsystem referral", "current
 * discovery subsystem", or "unrecognized".
 */
NVP_API const char *nvp_subtype_str(uint8_t subtype);

#ifdef __cplusplus
}
#endif

#endif /* NVPOLL_FABRICS_H */
