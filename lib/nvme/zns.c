/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/zns.c - zoned namespaces: what the scan learns of them (CSI,
 * ZNS Identify), the checks nvp_write() makes on them, and the Zone
 * Management Send/Receive and Zone Append commands.
 *
 * Ordering: nvp_write() splits a command above the transfer limit into
 * parts the controller may run in any order; on a zone that moves the
 * write pointer out of order and fails (Zone Invalid Write) or, worse,
 * interleaves. Chaining the parts would hide a serialisation behind one
 * call; instead such a write is refused, pointing to smaller writes or to
 * Zone Append. Appends are never split either.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "nvme/nvme.h"
#include "nvme/request.h"
#include "util/log.h"

/* ---- what the scan learns ------------------------------------------------ */

uint8_t nvp_zns_desc_csi(const void *page)
{
	const uint8_t *p = page;
	uint32_t off = 0;

	/* Descriptors: type, length, 2 reserved, value; a zero type ends them. */
	while (off + 4 <= 4096 && p[off] != 0) {
		uint8_t type = p[off], len = p[off + 1];

		if (off + 4u + len > 4096)
			break;
		if (type == NVP_NIDT_CSI && len >= 1)
			return p[off + 4];
		off += 4u + len;
	}
	return NVP_CSI_NVM;
}

void nvp_zns_identify_cmd(struct nvp_sqe *cmd, uint8_t cns, uint8_t csi, uint32_t nsid)
{
	*cmd = (struct nvp_sqe){
		.opc = NVP_ADMIN_IDENTIFY,
		.nsid = nsid,
		.cdw10 = cns,
		.cdw11 = (uint32_t)csi << NVP_IDENTIFY_CSI_SHIFT,
	};
}

void nvp_zns_set_ctrl(struct nvp_ctrl *ctrl, const struct nvp_zns_id_ctrl *id)
{
	ctrl->zasl = id ? id->zasl : 0;
}

static struct nvp_ns *find_ns(struct nvp_ctrl *ctrl, uint32_t nsid)
{
	struct nvp_ns *ns = NULL;

	pthread_mutex_lock(&ctrl->ns_lock);
	for (uint32_t i = 0; i < ctrl->num_ns; i++)
		if (ctrl->ns[i]->nsid == nsid)
			ns = ctrl->ns[i];
	pthread_mutex_unlock(&ctrl->ns_lock);
	return ns;
}

/* MAR/MOR are 0's based, all-ones meaning no limit: 0 says that here. */
static uint32_t zns_limit(uint32_t v)
{
	return v == NVP_ZNS_NO_LIMIT ? 0 : v + 1;
}

static void zns_apply(struct nvp_ctrl *ctrl, struct nvp_ns *ns, const struct nvp_zns_id_ns *zid)
{
	struct nvp_zns_info *z = &ns->zns;
	uint64_t zsze = nvp_le64_to_cpu(zid->lbafe[ns->lbaf < 64 ? ns->lbaf : 0].zsze);
	uint64_t append = ctrl->max_xfer;

	memset(z, 0, sizeof(*z));
	z->zoc = nvp_le16_to_cpu(zid->zoc);
	z->ozcs = nvp_le16_to_cpu(zid->ozcs);
	z->max_active = zns_limit(nvp_le32_to_cpu(zid->mar));
	z->max_open = zns_limit(nvp_le32_to_cpu(zid->mor));
	z->cross_zone_read = z->ozcs & NVP_ZNS_OZCS_RAZB;
	z->zasl = ctrl->zasl;
	/* ZASL: 2^n minimum memory pages; 0, or more than we move, is MDTS. */
	if (ctrl->zasl && ctrl->zasl < 32 &&
	    ((uint64_t)ctrl->page_size << ctrl->zasl) < append)
		append = (uint64_t)ctrl->page_size << ctrl->zasl;
	z->max_append_bytes = (uint32_t)append;
	z->max_append_blocks = (uint32_t)(append >> ns->lba_shift);
	if (z->max_append_blocks > NVP_MAX_NLB)
		z->max_append_blocks = NVP_MAX_NLB;
	z->zone_size = zsze;
	z->num_zones = zsze ? ns->info.num_blocks / zsze : 0;
}

void nvp_zns_set_csi(struct nvp_ctrl *ctrl, uint32_t nsid, uint8_t csi,
		     const struct nvp_zns_id_ns *zid)
{
	struct nvp_ns *ns = find_ns(ctrl, nsid);
	uint64_t zsze;

	if (!ns || !ns->info.active)
		return;
	ns->info.csi = csi;
	if (csi == NVP_CSI_NVM) {
		__atomic_store_n(&ns->zoned, false, __ATOMIC_RELEASE);
		ns->info.zoned = false;
		return;
	}
	zsze = zid ? nvp_le64_to_cpu(zid->lbafe[ns->lbaf].zsze) : 0;
	/* Device data: a zone of 0 blocks, or larger than the namespace, is none. */
	if (csi == NVP_CSI_ZNS && zsze && zsze <= ns->info.num_blocks) {
		zns_apply(ctrl, ns, zid);
		ns->info.zoned = true;
		/* Release: a thread that sees it zoned sees its info. */
		__atomic_store_n(&ns->zoned, true, __ATOMIC_RELEASE);
		nvp_debug("%s: namespace %u is zoned: %llu zones of %llu blocks", ctrl->info.addr,
			  nsid, (unsigned long long)ns->zns.num_zones,
			  (unsigned long long)ns->zns.zone_size);
		return;
	}
	if (csi == NVP_CSI_ZNS && zid)
		nvp_warn("%s: namespace %u is zoned but reports a zone size of %llu blocks "
			 "(the namespace has %llu); its I/O is refused", ctrl->info.addr, nsid,
			 (unsigned long long)zsze, (unsigned long long)ns->info.num_blocks);
	else if (csi != NVP_CSI_ZNS)
		nvp_warn("%s: namespace %u uses I/O command set %u, which nvpoll does not run; "
			 "its I/O is refused", ctrl->info.addr, nsid, csi);
	ns->info.zoned = csi == NVP_CSI_ZNS;
	__atomic_store_n(&ns->zoned, false, __ATOMIC_RELEASE);	/* no zone info to use */
	atomic_store_explicit(&ns->unusable, NVP_NS_CSI_UNUSABLE, memory_order_release);
}

/* ---- checks -------------------------------------------------------------- */

int nvp_zns_check_write(struct nvp_ns *ns, uint64_t lba, uint32_t nlb, uint32_t max)
{
	uint64_t zsze = ns->zns.zone_size, end_of_zone;

	/* Empty or out-of-range requests: the common checks word those. */
	if (nlb == 0 || lba >= atomic_load_explicit(&ns->num_blocks, memory_order_relaxed))
		return 0;
	end_of_zone = (lba / zsze + 1) * zsze;
	if (nlb > end_of_zone - lba)
		return nvp_error(-EINVAL, "write of LBAs %llu..%llu on zoned namespace %u crosses "
				 "the end of zone %llu (LBA %llu); split it at the zone boundary",
				 (unsigned long long)lba, (unsigned long long)lba + nlb - 1,
				 ns->nsid, (unsigned long long)(lba / zsze),
				 (unsigned long long)end_of_zone);
	if (nlb > max)
		return nvp_error(-E2BIG, "write of %u blocks on zoned namespace %u is more than "
				 "one command moves (%u blocks), and the parts of a split write may "
				 "reach the zone out of order; write at most %u blocks at a time, "
				 "each after the last completed, or use nvp_zone_append()", nlb,
				 ns->nsid, max, max);
	return 0;
}

/* A zoned namespace of @qp's controller, and a valid zone start. */
static int check_zoned(struct nvp_qpair *qp, nvp_cmd_cb cb, struct nvp_ns *ns, uint64_t slba,
		       bool zone_start, const char *what)
{
	int rc = nvp_io_check(qp, cb, ns, slba, 1);

	if (rc)
		return rc;
	if (!__atomic_load_n(&ns->zoned, __ATOMIC_ACQUIRE))
		return nvp_error(-ENOTSUP, "%s: namespace %u of %s is not zoned (nvp_ns_info.zoned "
				 "is false); use it with nvp_write()", what, ns->nsid,
				 ns->ctrl->info.addr);
	if (zone_start && slba % ns->zns.zone_size)
		return nvp_error(-EINVAL, "%s: LBA %llu is not the start of a zone on namespace %u "
				 "(zones are %llu blocks); pass the zone's start LBA", what,
				 (unsigned long long)slba, ns->nsid,
				 (unsigned long long)ns->zns.zone_size);
	return 0;
}

/* ---- public API ------------------------------------------------------------ */

const struct nvp_zns_info *nvp_ns_zns_info(const struct nvp_ns *ns)
{
	if (!ns) {
		errno = EINVAL;
		return NULL;
	}
	if (!__atomic_load_n(&ns->zoned, __ATOMIC_ACQUIRE)) {
		errno = ENOTSUP;
		return NULL;
	}
	return &ns->zns;
}

const char *nvp_zone_state_name(uint8_t state)
{
	switch (state) {
	case NVP_ZS_EMPTY: return "empty";
	case NVP_ZS_IMPLICIT_OPEN: return "implicitly open";
	case NVP_ZS_EXPLICIT_OPEN: return "explicitly open";
	case NVP_ZS_CLOSED: return "closed";
	case NVP_ZS_READ_ONLY: return "read only";
	case NVP_ZS_FULL: return "full";
	case NVP_ZS_OFFLINE: return "offline";
	default: return "unknown";
	}
}

void nvp_zone_desc_decode(const struct nvp_zone_desc *desc, struct nvp_zone *zone)
{
	zone->type = desc->zt & 0xf;
	zone->state = desc->zs >> 4;
	zone->attrs = desc->za;
	zone->capacity = nvp_le64_to_cpu(desc->zcap);
	zone->zslba = nvp_le64_to_cpu(desc->zslba);
	zone->wp = nvp_le64_to_cpu(desc->wp);
}

int nvp_zone_report_parse(const void *buf, size_t len, struct nvp_zone *zones, uint32_t max,
			  uint64_t *nr_zones)
{
	const struct nvp_zone_report_hdr *hdr = buf;
	const struct nvp_zone_desc *d;
	uint64_t n, room;

	if (!buf || len < sizeof(*hdr))
		return nvp_error(-EINVAL, "zone report: a buffer of %zu bytes holds no header "
				 "(64 bytes); pass the buffer nvp_zone_report() filled", len);
	if (max && !zones)
		return nvp_error(-EINVAL, "zone report: zones is NULL but max is %u", max);
	n = nvp_le64_to_cpu(hdr->nr_zones);
	if (nr_zones)
		*nr_zones = n;
	room = (len - sizeof(*hdr)) / sizeof(*d);
	if (n > room)
		n = room;
	if (n > max)
		n = max;
	if (n > INT_MAX)	/* the count is returned as an int */
		n = INT_MAX;
	d = (const struct nvp_zone_desc *)(hdr + 1);
	for (uint64_t i = 0; i < n; i++)
		nvp_zone_desc_decode(&d[i], &zones[i]);
	return (int)n;
}

int nvp_zone_report(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t slba,
		    enum nvp_zone_filter filter, uint32_t flags, void *buf, size_t len,
		    nvp_cmd_cb cb, void *arg)
{
	struct nvp_sqe cmd;
	struct nvp_req *req;
	int rc = check_zoned(qp, cb, ns, slba, false, "zone report");

	if (rc)
		return rc;
	if ((unsigned int)filter > NVP_ZONE_FILTER_OFFLINE)
		return nvp_error(-EINVAL, "zone report: filter %u is not an enum nvp_zone_filter "
				 "value (0..7)", (unsigned int)filter);
	if (flags & ~NVP_ZONE_REPORT_PARTIAL)
		return nvp_error(-EINVAL, "zone report: flags 0x%x include unknown bits; use "
				 "NVP_ZONE_REPORT_PARTIAL or 0", flags);
	if (!buf || len < sizeof(struct nvp_zone_report_hdr) || len % 4 || len > qp->max_xfer)
		return nvp_error(-EINVAL, "zone report: the buffer must be DMA memory of 64 bytes "
				 "(the header) or more, a multiple of 4, and at most %u bytes (the "
				 "transfer limit); got %zu bytes%s", qp->max_xfer, len,
				 buf ? "" : " at NULL");
	cmd = (struct nvp_sqe){
		.opc = NVP_ZNS_MGMT_RECV,
		.nsid = ns->nsid,
		.cdw10 = (uint32_t)slba,
		.cdw11 = (uint32_t)(slba >> 32),
		.cdw12 = (uint32_t)(len / 4 - 1),	/* dwords, 0's based */
		.cdw13 = NVP_ZRA_REPORT | ((uint32_t)filter << NVP_ZRECV_FILTER_SHIFT) |
			 ((flags & NVP_ZONE_REPORT_PARTIAL) ? NVP_ZRECV_PARTIAL : 0),
	};
	req = nvp_req_get(qp);
	if (!req)
		return nvp_error_fast(-EAGAIN, "no free request object on this queue pair: call "
				      "nvp_qpair_poll() to complete some, then retry");
	return nvp_req_post_cmd(qp, req, &cmd, buf, len, true, cb, arg);
}

int nvp_zone_mgmt(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t zslba,
		  enum nvp_zone_action action, uint32_t flags, nvp_cmd_cb cb, void *arg)
{
	bool all = flags & NVP_ZONE_SELECT_ALL;
	struct nvp_sqe cmd;
	struct nvp_req *req;
	int rc = check_zoned(qp, cb, ns, all ? 0 : zslba, !all, "zone management");

	if (rc)
		return rc;
	if (action < NVP_ZONE_CLOSE || action > NVP_ZONE_OFFLINE)
		return nvp_error(-EINVAL, "zone management: action %d is not an enum "
				 "nvp_zone_action (NVP_ZONE_CLOSE..NVP_ZONE_OFFLINE)", (int)action);
	if (flags & ~NVP_ZONE_SELECT_ALL)
		return nvp_error(-EINVAL, "zone management: flags 0x%x include unknown bits; use "
				 "NVP_ZONE_SELECT_ALL or 0", flags);
	cmd = (struct nvp_sqe){
		.opc = NVP_ZNS_MGMT_SEND,
		.nsid = ns->nsid,
		.cdw10 = all ? 0 : (uint32_t)zslba,
		.cdw11 = all ? 0 : (uint32_t)(zslba >> 32),
		.cdw13 = (uint32_t)action | (all ? NVP_ZSEND_SELECT_ALL : 0),
	};
	req = nvp_req_get(qp);
	if (!req)
		return nvp_error_fast(-EAGAIN, "no free request object on this queue pair: call "
				      "nvp_qpair_poll() to complete some, then retry");
	rc = nvp_req_post_cmd(qp, req, &cmd, NULL, 0, false, cb, arg);
	/* A reset does not post it again: resetting twice is harmless, but
	 * an open or finish after the zone moved on is not the caller's. */
	if (!rc)
		req->no_retry = true;
	return rc;
}

int nvp_zone_append(struct nvp_qpair *qp, struct nvp_ns *ns, const void *buf, uint64_t zslba,
		    uint32_t nlb, const struct nvp_io_opts *opts, nvp_cmd_cb cb, void *arg)
{
	uint32_t flags = 0;
	struct nvp_sqe cmd;
	struct nvp_req *req;
	int rc = check_zoned(qp, cb, ns, zslba, true, "zone append");

	if (rc)
		return rc;
	if (opts) {
		if (opts->opts_size < offsetof(struct nvp_io_opts, pi))
			return nvp_error(-EINVAL, "zone append: opts->opts_size is %zu; initialise "
					 "the options with nvp_io_opts_init()", opts->opts_size);
		flags = opts->flags;
		if (opts->opts_size >= sizeof(*opts) && (opts->pi || opts->md))
			return nvp_error(-ENOTSUP, "zone append: metadata and protection "
					 "information are not supported with Zone Append yet; "
					 "pass opts with md NULL and pi 0");
	}
	if (flags & ~(NVP_IO_FUA | NVP_IO_LIMITED_RETRY))
		return nvp_error(-EINVAL, "zone append: flags 0x%x include bits other than "
				 "NVP_IO_FUA and NVP_IO_LIMITED_RETRY", flags);
	if (!buf)
		return nvp_error(-EINVAL, "zone append: buf is NULL; pass DMA memory of %u blocks",
				 nlb);
	if (nlb == 0)
		return nvp_error(-EINVAL, "zone append: zero-length append (nlb = 0)");
	if (nlb > ns->zns.zone_size)
		return nvp_error(-ERANGE, "zone append: %u blocks are more than a zone of "
				 "namespace %u holds (%llu blocks)", nlb, ns->nsid,
				 (unsigned long long)ns->zns.zone_size);
	if (nlb > ns->zns.max_append_blocks)
		return nvp_error(-E2BIG, "zone append: %u blocks are more than the controller's "
				 "append limit of %u blocks (ZASL, %u bytes); appends are never "
				 "split: append at most that much at a time", nlb,
				 ns->zns.max_append_blocks, ns->zns.max_append_bytes);
	cmd = (struct nvp_sqe){
		.opc = NVP_ZNS_APPEND,
		.nsid = ns->nsid,
		.cdw10 = (uint32_t)zslba,
		.cdw11 = (uint32_t)(zslba >> 32),
		.cdw12 = (nlb - 1) | ((flags & NVP_IO_FUA) ? NVP_RW_FUA : 0) |
			 ((flags & NVP_IO_LIMITED_RETRY) ? NVP_RW_LR : 0),
	};
	req = nvp_req_get(qp);
	if (!req)
		return nvp_error_fast(-EAGAIN, "no free request object on this queue pair: call "
				      "nvp_qpair_poll() to complete some, then retry");
	rc = nvp_req_post_cmd(qp, req, &cmd, (void *)buf, (size_t)nlb << ns->lba_shift, true,
			      cb, arg);
	/* Posted again after a reset it could land twice. */
	if (!rc)
		req->no_retry = true;
	return rc;
}

uint64_t nvp_zone_append_lba(const struct nvp_cqe *cpl)
{
	return cpl ? cpl->dw0 | ((uint64_t)cpl->dw1 << 32) : 0;
}
