/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/fabrics.c - Connect and Property Get/Set (fabrics.h).
 *
 * The Fabrics commands' fields sit where struct nvp_sqe has others, so they
 * are laid out in their own wire structs (nvpoll/spec_fabrics.h) and turned
 * into a CPU-order SQE for nvp_tcp_exec(), which turns it back: the two
 * conversions are exact inverses, so the bytes arrive as laid out.
 */
#include <errno.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

#include "tcp/fabrics.h"
#include "util/log.h"
#include "util/wire.h"

/* The CID of set-up commands: one at a time on their connection. */
#define SETUP_CID 0x1000

static void wire_to_sqe(struct nvp_sqe *sqe, const void *wire_cmd)
{
	struct nvp_sqe w;

	memcpy(&w, wire_cmd, sizeof(w));
	/* nvp_tcp_exec() sets an SGL: convert by that layout. */
	w.flags = (uint8_t)((w.flags & ~NVP_SQE_PSDT_MASK) | NVP_SQE_PSDT_SGL_MPTR);
	nvp_sqe_from_wire(sqe, &w);
}

static int fabrics_status(struct nvp_tcp_conn *c, const char *what, const struct nvp_cqe *cpl)
{
	uint16_t sf = cpl->status >> 1;

	if (!sf)
		return 0;
	/* The status helpers take the CQE's status word, phase bit included. */
	return nvp_error(nvp_status_to_errno(cpl->status), "NVMe/TCP %s: %s failed: %s "
			 "(status 0x%x)%s", c->peer, what, nvp_status_str(cpl->status), sf,
			 (sf & 0x7ff) == 0x184 ? "; the target does not allow this host NQN: add "
			 "it to the subsystem's allowed_hosts, or set attr_allow_any_host" :
			 (sf & 0x7ff) == 0x182 ? "; no such subsystem on this port: check the NQN "
			 "and that the subsystem is linked to the port" : "");
}

int nvp_tcp_connect_queue(struct nvp_tcp_conn *c, const struct nvp_tcp_host *host,
			  const char *subnqn, uint16_t qid, uint32_t sqsize, uint16_t cntlid,
			  uint32_t kato_ms, uint16_t *cntlid_out, int timeout_ms)
{
	struct nvp_connect_cmd cmd;
	struct nvp_connect_data data;
	struct nvp_sqe sqe;
	struct nvp_cqe cpl;
	int rc;

	if (sqsize < 2 || sqsize > 65536)
		return nvp_error(-EINVAL, "NVMe/TCP Connect: SQ size %u is not 2..65536", sqsize);
	if (strlen(subnqn) > NVP_NQN_MAX || strlen(host->hostnqn) > NVP_NQN_MAX)
		return nvp_error(-EINVAL, "NVMe/TCP Connect: an NQN is longer than %d bytes",
				 NVP_NQN_MAX);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_FABRICS_OPC;
	cmd.cid = nvp_cpu_to_le16(SETUP_CID);
	cmd.fctype = NVP_FCTYPE_CONNECT;
	cmd.qid = nvp_cpu_to_le16(qid);
	cmd.sqsize = nvp_cpu_to_le16((uint16_t)(sqsize - 1));
	cmd.kato = nvp_cpu_to_le32(qid ? 0 : kato_ms);
	if (qid && c->sqfc_disable)
		cmd.cattr = NVP_CONNECT_SQFC_DISABLE;
	memset(&data, 0, sizeof(data));
	memcpy(data.hostid, host->hostid, sizeof(data.hostid));
	data.cntlid = nvp_cpu_to_le16(cntlid);
	strcpy(data.subnqn, subnqn);
	strcpy(data.hostnqn, host->hostnqn);
	wire_to_sqe(&sqe, &cmd);
	rc = nvp_tcp_exec(c, &sqe, &data, sizeof(data), NULL, 0, &cpl, timeout_ms);
	if (rc)
		return rc;
	rc = fabrics_status(c, qid ? "Connect (I/O queue)" : "Connect (admin queue)", &cpl);
	if (rc)
		return rc;
	if (cntlid_out)
		*cntlid_out = (uint16_t)cpl.dw0;
	return 0;
}

static int prop_cmd(struct nvp_tcp_conn *c, uint8_t fctype, uint32_t ofst, unsigned int size,
		    uint64_t value, struct nvp_cqe *cpl, int timeout_ms)
{
	struct nvp_property_cmd cmd;
	struct nvp_sqe sqe;

	if (size != 4 && size != 8)
		return nvp_error(-EINVAL, "NVMe/TCP property size %u: 4 or 8", size);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_FABRICS_OPC;
	cmd.cid = nvp_cpu_to_le16(SETUP_CID);
	cmd.fctype = fctype;
	cmd.attrib = size == 8 ? NVP_PROP_SIZE_8 : NVP_PROP_SIZE_4;
	cmd.ofst = nvp_cpu_to_le32(ofst);
	cmd.value = nvp_cpu_to_le64(value);
	wire_to_sqe(&sqe, &cmd);
	return nvp_tcp_exec(c, &sqe, NULL, 0, NULL, 0, cpl, timeout_ms);
}

int nvp_tcp_prop_get(struct nvp_tcp_conn *c, uint32_t ofst, unsigned int size, uint64_t *value,
		     int timeout_ms)
{
	struct nvp_cqe cpl;
	int rc = prop_cmd(c, NVP_FCTYPE_PROPERTY_GET, ofst, size, 0, &cpl, timeout_ms);

	if (rc || (rc = fabrics_status(c, "Property Get", &cpl)))
		return rc;
	*value = size == 8 ? ((uint64_t)cpl.dw1 << 32 | cpl.dw0) : cpl.dw0;
	return 0;
}

int nvp_tcp_prop_set(struct nvp_tcp_conn *c, uint32_t ofst, unsigned int size, uint64_t value,
		     int timeout_ms)
{
	struct nvp_cqe cpl;
	int rc = prop_cmd(c, NVP_FCTYPE_PROPERTY_SET, ofst, size, value, &cpl, timeout_ms);

	return rc ? rc : fabrics_status(c, "Property Set", &cpl);
}
