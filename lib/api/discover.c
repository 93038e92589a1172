/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/api/discover.c - the public discovery API (nvpoll/fabrics.h): parse
 * the address, settle the host's identity, and hand over to
 * lib/tcp/discovery.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvpoll/fabrics.h>

#include "tcp/addr.h"
#include "tcp/discovery.h"
#include "util/log.h"

/* Each step's limit: the TCP connect, ICResp, and every command. */
#define DISCOVER_TIMEOUT_MS 10000

int nvp_discover(const char *addr, const char *hostnqn, struct nvp_discovery_entry **entries,
		 uint32_t *count)
{
	struct nvp_tcp_addr a;
	struct nvp_tcp_host host;
	char default_nqn[NVP_NQN_MAX + 1];
	int rc;

	if (!entries || !count)
		return nvp_error(-EINVAL, "nvp_discover: entries and count must not be NULL");
	*entries = NULL;
	*count = 0;
	if (!addr)
		return nvp_error(-EINVAL, "nvp_discover: no address; give tcp://HOST[:PORT]");
	rc = nvp_tcp_addr_parse(addr, &a);
	if (rc == -ENOENT)
		return nvp_error(-EINVAL, "nvp_discover: '%s' is not an NVMe/TCP address; "
				 "discovery needs tcp://HOST[:PORT] or an SPDK transport ID "
				 "with trtype:TCP", addr);
	if (rc)
		return rc;
	if (strcmp(a.subnqn, NVP_DISCOVERY_NQN) != 0)
		return nvp_error(-EINVAL, "nvp_discover: '%s' names subsystem '%s', not the "
				 "discovery controller; leave the NQN out (tcp://HOST[:PORT])",
				 addr, a.subnqn);
	rc = nvp_tcp_host_identity(default_nqn, host.hostid, "/etc/nvme");
	if (rc)
		return rc;
	if (hostnqn) {
		size_t len = strlen(hostnqn);

		if (len == 0 || len > NVP_NQN_MAX || strncmp(hostnqn, "nqn.", 4) != 0)
			return nvp_error(-EINVAL, "nvp_discover: host NQN '%.64s%s' is not an NQN "
					 "(\"nqn.\" and at most %d bytes); pass NULL for this "
					 "machine's", hostnqn, len > 64 ? "..." : "", NVP_NQN_MAX);
		memcpy(host.hostnqn, hostnqn, len + 1);
	} else {
		memcpy(host.hostnqn, default_nqn, sizeof(host.hostnqn));
	}
	return nvp_tcp_discover(&a, &host, entries, count, DISCOVER_TIMEOUT_MS);
}

void nvp_discovery_free(struct nvp_discovery_entry *entries)
{
	free(entries);
}

const char *nvp_trtype_str(uint8_t trtype)
{
	switch (trtype) {
	case NVP_TRTYPE_RDMA:
		return "rdma";
	case NVP_TRTYPE_FC:
		return "fc";
	case NVP_TRTYPE_TCP:
		return "tcp";
	case NVP_TRTYPE_LOOP:
		return "loop";
	default:
		return "unrecognized";
	}
}

const char *nvp_adrfam_str(uint8_t adrfam)
{
	switch (adrfam) {
	case NVP_ADRFAM_IPV4:
		return "ipv4";
	case NVP_ADRFAM_IPV6:
		return "ipv6";
	case NVP_ADRFAM_IB:
		return "infiniband";
	case NVP_ADRFAM_FC:
		return "fibre-channel";
	case NVP_ADRFAM_LOOP:
		return "loop";
	default:
		return "unrecognized";
	}
}

const char *nvp_subtype_str(uint8_t subtype)
{
	switch (subtype) {
	case NVP_SUBTYPE_DISCOVERY_REFERRAL:
		return "discovery subsystem referral";
	case NVP_SUBTYPE_NVM:
		return "nvme subsystem";
	case NVP_SUBTYPE_DISCOVERY_CURRENT:
		return "current discovery subsystem";
	default:
		return "unrecognized";
	}
}
