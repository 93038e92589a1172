/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu/emu_zns.c - zoned namespaces (emu:ns=...,zoned=ZSIZE/ZCAP): a
 * write pointer and a state per zone, the open and active limits, Zone
 * Management Send/Receive, Zone Append and the ZNS Identify structures.
 *
 * It behaves as QEMU 7.2's hw/nvme does, the controller the rig runs:
 *  - zoned commands only with CC.CSS = 110b; with CC.CSS = NVM a zoned
 *    namespace takes the NVM commands, with the zone rules still applied;
 *  - a write opens its zone implicitly; when that would pass the open
 *    limit the oldest implicitly open zone is closed first (QEMU's
 *    auto_transition), and an explicit open does the same;
 *  - reads may go past the zone capacity up to the zone size (those
 *    blocks read as zeroes), not across a zone boundary;
 *  - a full, reset or finished zone frees its open and active resources.
 * The state is the device thread's; a mutex per namespace lets
 * nvp_emu_set_zone_state() (another thread) change a zone between commands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "util/log.h"

struct emu_zone {
	uint64_t zslba;
	uint64_t wp;
	uint64_t seq;		/* when it became implicitly open: oldest closes first */
	uint8_t state;		/* enum nvp_zone_state */
};

struct emu_zns {
	pthread_mutex_t lock;
	uint64_t zone_size;	/* blocks */
	uint64_t zone_cap;	/* blocks */
	uint32_t nr_zones;
	uint32_t max_open;	/* 0 = no limit */
	uint32_t max_active;
	uint32_t nr_open;	/* implicitly + explicitly open */
	uint32_t nr_active;	/* open + closed */
	uint64_t seq;
	struct emu_zone *zones;
};

#define ZS_DNR(sc) EMU_CS_DNR(sc)

bool nvp_emu_zns_any(const struct emu_opts *o)
{
	for (unsigned int i = 0; i < o->nr_ns; i++)
		if (o->ns[i].zone_size)
			return true;
	return false;
}

int nvp_emu_zns_open(struct emu_ns *ns, const struct emu_ns_opts *o)
{
	struct emu_zns *z;

	if (!o->zone_size)
		return 0;
	z = calloc(1, sizeof(*z));
	if (z)
		z->zone_size = o->zone_size / ns->block_size;
	if (z)
		z->nr_zones = (uint32_t)(ns->nblocks / z->zone_size);
	if (z)
		z->zones = calloc(z->nr_zones ? z->nr_zones : 1, sizeof(*z->zones));
	if (!z || !z->zones) {
		free(z);
		return nvp_error(-ENOMEM, "emu: out of memory for the zones of namespace %u",
				 ns->nsid);
	}
	pthread_mutex_init(&z->lock, NULL);
	z->zone_cap = o->zone_cap / ns->block_size;
	z->max_open = o->max_open;
	z->max_active = o->max_active;
	for (uint32_t i = 0; i < z->nr_zones; i++) {
		z->zones[i].zslba = i * z->zone_size;
		z->zones[i].wp = z->zones[i].zslba;
		z->zones[i].state = NVP_ZS_EMPTY;
	}
	/* The namespace is whole zones. */
	ns->nblocks = (uint64_t)z->nr_zones * z->zone_size;
	ns->zns = z;
	return 0;
}

void nvp_emu_zns_close(struct emu_ns *ns)
{
	if (!ns->zns)
		return;
	pthread_mutex_destroy(&ns->zns->lock);
	free(ns->zns->zones);
	free(ns->zns);
	ns->zns = NULL;
}

/* ---- Identify ------------------------------------------------------------- */

uint16_t nvp_emu_zns_identify(struct nvp_emu *emu, const struct nvp_sqe *sqe, uint8_t *buf)
{
	uint8_t cns = sqe->cdw10 & 0xff, csi = (uint8_t)(sqe->cdw11 >> NVP_IDENTIFY_CSI_SHIFT);
	struct emu_ns *ns = NULL;

	if (cns == NVP_CNS_CSI_NS) {
		if (sqe->nsid == 0 || sqe->nsid > emu->nr_ns)
			return EMU_SC_DNR(NVP_SC_INVALID_NS);
		ns = &emu->ns[sqe->nsid - 1];
	}
	if (csi == NVP_CSI_NVM)
		return 0;	/* the NVM command set's: all zero here */
	if (csi != NVP_CSI_ZNS || (cns == NVP_CNS_CSI_NS && !ns->zns))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (cns == NVP_CNS_CSI_CTRL) {
		((struct nvp_zns_id_ctrl *)buf)->zasl = emu->opts.zasl;
	} else {
		struct nvp_zns_id_ns *id = (struct nvp_zns_id_ns *)buf;
		struct emu_zns *z = ns->zns;

		/* MAR/MOR 0's based; all-ones for no limit. */
		id->mar = nvp_cpu_to_le32(z->max_active ? z->max_active - 1 : NVP_ZNS_NO_LIMIT);
		id->mor = nvp_cpu_to_le32(z->max_open ? z->max_open - 1 : NVP_ZNS_NO_LIMIT);
		id->lbafe[0].zsze = nvp_cpu_to_le64(z->zone_size);
	}
	return 0;
}

/* ---- zone resources and transitions ----------------------------------------- */

static struct emu_zone *zone_of(struct emu_zns *z, uint64_t lba)
{
	return &z->zones[lba / z->zone_size];
}

static uint16_t aor_check(struct emu_zns *z, uint32_t act, uint32_t opn)
{
	if (z->max_active && z->nr_active + act > z->max_active)
		return ZS_DNR(NVP_SC_ZONE_TOO_MANY_ACTIVE);
	if (z->max_open && z->nr_open + opn > z->max_open)
		return ZS_DNR(NVP_SC_ZONE_TOO_MANY_OPEN);
	return 0;
}

static bool is_open(uint8_t st)
{
	return st == NVP_ZS_IMPLICIT_OPEN || st == NVP_ZS_EXPLICIT_OPEN;
}

static uint16_t zone_close(struct emu_zns *z, struct emu_zone *zn)
{
	if (is_open(zn->state)) {
		z->nr_open--;
		zn->state = NVP_ZS_CLOSED;
		return 0;
	}
	return zn->state == NVP_ZS_CLOSED ? 0 : ZS_DNR(NVP_SC_ZONE_INVALID_TRANSITION);
}

/* At the open limit, close the oldest implicitly open zone (QEMU's
 * auto_transition) so that another may open. */
static void auto_close(struct emu_zns *z)
{
	struct emu_zone *oldest = NULL;

	if (!z->max_open || z->nr_open < z->max_open)
		return;
	for (uint32_t i = 0; i < z->nr_zones; i++)
		if (z->zones[i].state == NVP_ZS_IMPLICIT_OPEN &&
		    (!oldest || z->zones[i].seq < oldest->seq))
			oldest = &z->zones[i];
	if (oldest)
		zone_close(z, oldest);
}

/* Open @zn: implicitly (a write) or explicitly (Zone Management Send). */
static uint16_t zone_open(struct emu_zns *z, struct emu_zone *zn, bool implicit)
{
	uint32_t act = 0;
	uint16_t st;

	switch (zn->state) {
	case NVP_ZS_EMPTY:
		act = 1;
		/* fallthrough */
	case NVP_ZS_CLOSED:
		auto_close(z);
		st = aor_check(z, act, 1);
		if (st)
			return st;
		z->nr_active += act;
		z->nr_open++;
		zn->state = implicit ? NVP_ZS_IMPLICIT_OPEN : NVP_ZS_EXPLICIT_OPEN;
		zn->seq = ++z->seq;
		return 0;
	case NVP_ZS_IMPLICIT_OPEN:
		if (!implicit)
			zn->state = NVP_ZS_EXPLICIT_OPEN;
		return 0;
	case NVP_ZS_EXPLICIT_OPEN:
		return 0;
	default:
		return ZS_DNR(NVP_SC_ZONE_INVALID_TRANSITION);
	}
}

static uint16_t zone_finish(struct emu_zns *z, struct emu_zone *zn)
{
	switch (zn->state) {
	case NVP_ZS_IMPLICIT_OPEN:
	case NVP_ZS_EXPLICIT_OPEN:
		z->nr_open--;
		/* fallthrough */
	case NVP_ZS_CLOSED:
		z->nr_active--;
		/* fallthrough */
	case NVP_ZS_EMPTY:
		zn->wp = zn->zslba + z->zone_cap;
		zn->state = NVP_ZS_FULL;
		/* fallthrough */
	case NVP_ZS_FULL:
		return 0;
	default:
		return ZS_DNR(NVP_SC_ZONE_INVALID_TRANSITION);
	}
}

static uint16_t zone_reset(struct emu_zns *z, struct emu_ns *ns, struct emu_zone *zn)
{
	switch (zn->state) {
	case NVP_ZS_IMPLICIT_OPEN:
	case NVP_ZS_EXPLICIT_OPEN:
		z->nr_open--;
		/* fallthrough */
	case NVP_ZS_CLOSED:
		z->nr_active--;
		/* fallthrough */
	case NVP_ZS_FULL:
		/* Written blocks read as zeroes again (deallocated). */
		nvp_emu_ns_zero_range(ns, zn->zslba << ns->lbads,
				      (zn->wp - zn->zslba) << ns->lbads);
		zn->wp = zn->zslba;
		zn->state = NVP_ZS_EMPTY;
		/* fallthrough */
	case NVP_ZS_EMPTY:
		return 0;
	default:
		return ZS_DNR(NVP_SC_ZONE_INVALID_TRANSITION);
	}
}

static uint16_t zone_offline(struct emu_zone *zn)
{
	if (zn->state == NVP_ZS_READ_ONLY)
		zn->state = NVP_ZS_OFFLINE;
	return zn->state == NVP_ZS_OFFLINE ? 0 : ZS_DNR(NVP_SC_ZONE_INVALID_TRANSITION);
}

/* ---- I/O -------------------------------------------------------------------- */

static uint16_t check_read(struct emu_zns *z, uint64_t slba, uint32_t nlb)
{
	struct emu_zone *zn = zone_of(z, slba);

	if (zn->state == NVP_ZS_OFFLINE)
		return ZS_DNR(NVP_SC_ZONE_OFFLINE);
	if (slba + nlb > zn->zslba + z->zone_size)
		return ZS_DNR(NVP_SC_ZONE_BOUNDARY_ERROR);
	return 0;
}

static uint16_t check_write(struct emu_zns *z, struct emu_zone *zn, uint64_t slba, uint32_t nlb)
{
	switch (zn->state) {
	case NVP_ZS_FULL:
		return ZS_DNR(NVP_SC_ZONE_FULL);
	case NVP_ZS_READ_ONLY:
		return ZS_DNR(NVP_SC_ZONE_READ_ONLY);
	case NVP_ZS_OFFLINE:
		return ZS_DNR(NVP_SC_ZONE_OFFLINE);
	default:
		break;
	}
	if (slba != zn->wp)
		return ZS_DNR(NVP_SC_ZONE_INVALID_WRITE);
	if (slba + nlb > zn->zslba + z->zone_cap)
		return ZS_DNR(NVP_SC_ZONE_BOUNDARY_ERROR);
	return 0;
}

static uint16_t zone_append(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe **sqe,
			    struct nvp_sqe *scratch)
{
	struct emu_zns *z = ns->zns;
	uint64_t zslba = (*sqe)->cdw10 | ((uint64_t)(*sqe)->cdw11 << 32);
	uint32_t nlb = ((*sqe)->cdw12 & 0xffff) + 1;
	uint64_t limit = emu->opts.zasl ? 4096ull << emu->opts.zasl : emu->max_xfer;
	struct emu_zone *zn;
	uint16_t st;

	if (zslba >= ns->nblocks)
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	zn = zone_of(z, zslba);
	if (zslba != zn->zslba)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (limit && ((uint64_t)nlb << ns->lbads) > limit)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	st = check_write(z, zn, zn->wp, nlb);
	if (!st)
		st = zone_open(z, zn, true);
	if (st)
		return st;
	/* The data goes in as a Write at the write pointer; DW0/DW1 tell it. */
	*scratch = **sqe;
	scratch->opc = NVP_NVM_WRITE;
	scratch->cdw10 = (uint32_t)zn->wp;
	scratch->cdw11 = (uint32_t)(zn->wp >> 32);
	emu->io_result = zn->wp;
	*sqe = scratch;
	return 0;
}

/* Zone Management Receive: a report of the zones from SLBA's on. */
static uint16_t zone_recv(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	struct emu_zns *z = ns->zns;
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint64_t len = ((uint64_t)sqe->cdw12 + 1) * 4, max, nr = 0;
	uint8_t zra = sqe->cdw13 & 0xff, zrasf = (sqe->cdw13 >> 8) & 0xff;
	bool partial = sqe->cdw13 & NVP_ZRECV_PARTIAL;
	struct nvp_zone_report_hdr *hdr;
	struct nvp_zone_desc *d;
	uint8_t *buf;
	uint16_t st;

	if (slba >= ns->nblocks)
		return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
	if (zra != NVP_ZRA_REPORT || zrasf > 7 || len < sizeof(*hdr))
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (emu->max_xfer && len > emu->max_xfer)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	buf = calloc(1, len);
	if (!buf)
		return EMU_SC_DNR(NVP_SC_INTERNAL);
	hdr = (struct nvp_zone_report_hdr *)buf;
	d = (struct nvp_zone_desc *)(hdr + 1);
	max = (len - sizeof(*hdr)) / sizeof(*d);
	for (uint32_t i = (uint32_t)(slba / z->zone_size); i < z->nr_zones; i++) {
		static const uint8_t filter_state[8] = {
			0, NVP_ZS_EMPTY, NVP_ZS_IMPLICIT_OPEN, NVP_ZS_EXPLICIT_OPEN,
			NVP_ZS_CLOSED, NVP_ZS_FULL, NVP_ZS_READ_ONLY, NVP_ZS_OFFLINE,
		};
		struct emu_zone *zn = &z->zones[i];

		if (zrasf && zn->state != filter_state[zrasf])
			continue;
		if (nr < max) {
			d[nr].zt = NVP_ZONE_TYPE_SEQ_WRITE;
			d[nr].zs = (uint8_t)(zn->state << 4);
			d[nr].zcap = nvp_cpu_to_le64(z->zone_cap);
			d[nr].zslba = nvp_cpu_to_le64(zn->zslba);
			/* A full, read-only or offline zone has no valid write
			 * pointer: all-ones, as QEMU reports it. */
			d[nr].wp = nvp_cpu_to_le64(zn->state == NVP_ZS_FULL ||
						   zn->state == NVP_ZS_READ_ONLY ||
						   zn->state == NVP_ZS_OFFLINE ? ~0ull : zn->wp);
		} else if (partial) {
			break;
		}
		nr++;
	}
	hdr->nr_zones = nvp_cpu_to_le64(nr);
	st = nvp_emu_to_host(emu, sqe, buf, (size_t)len, (size_t)len);
	free(buf);
	return st;
}

/* Which zones a Select All action takes, as QEMU 7.2 picks them. */
static bool select_all_takes(uint8_t zsa, uint8_t state)
{
	switch (zsa) {
	case NVP_ZSA_CLOSE:
		return is_open(state);
	case NVP_ZSA_FINISH:
		return is_open(state) || state == NVP_ZS_CLOSED;
	case NVP_ZSA_OPEN:
		return state == NVP_ZS_CLOSED;
	case NVP_ZSA_RESET:
		return is_open(state) || state == NVP_ZS_CLOSED || state == NVP_ZS_FULL;
	default:
		return state == NVP_ZS_READ_ONLY;	/* offline */
	}
}

static uint16_t zone_action(struct emu_zns *z, struct emu_ns *ns, struct emu_zone *zn,
			    uint8_t zsa)
{
	switch (zsa) {
	case NVP_ZSA_CLOSE:
		return zone_close(z, zn);
	case NVP_ZSA_FINISH:
		return zone_finish(z, zn);
	case NVP_ZSA_OPEN:
		return zone_open(z, zn, false);
	case NVP_ZSA_RESET:
		return zone_reset(z, ns, zn);
	default:
		return zone_offline(zn);
	}
}

/* Zone Management Send: one zone, or every zone the action takes. */
static uint16_t zone_send(struct emu_ns *ns, const struct nvp_sqe *sqe)
{
	struct emu_zns *z = ns->zns;
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint8_t zsa = sqe->cdw13 & 0xff;
	bool all = sqe->cdw13 & NVP_ZSEND_SELECT_ALL;
	struct emu_zone *zn;
	uint16_t st = 0;

	if (zsa < NVP_ZSA_CLOSE || zsa > NVP_ZSA_OFFLINE)
		return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
	if (!all) {
		if (slba >= ns->nblocks)
			return EMU_SC_DNR(NVP_SC_LBA_OUT_OF_RANGE);
		zn = zone_of(z, slba);
		if (slba != zn->zslba)
			return EMU_SC_DNR(NVP_SC_INVALID_FIELD);
		return zone_action(z, ns, zn, zsa);
	}
	/* In zone order, stopping at the first refusal (an open past the
	 * limit): what was done stays done, as in QEMU. */
	for (uint32_t i = 0; i < z->nr_zones && !st; i++)
		if (select_all_takes(zsa, z->zones[i].state))
			st = zone_action(z, ns, &z->zones[i], zsa);
	return st;
}

bool nvp_emu_zns_before(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe **sqe,
			struct nvp_sqe *scratch, uint16_t *st)
{
	const struct nvp_sqe *c = *sqe;
	struct emu_zns *z = ns->zns;
	bool zns_cmd = c->opc == NVP_ZNS_MGMT_SEND || c->opc == NVP_ZNS_MGMT_RECV ||
		       c->opc == NVP_ZNS_APPEND;
	uint64_t slba;
	uint32_t nlb;

	/* CC.CSS = NVM: the NVM command set only (QEMU's nvme_select_iocs_ns). */
	if (zns_cmd && !emu->css_csi) {
		*st = EMU_SC_DNR(NVP_SC_INVALID_OPCODE);
		return true;
	}
	pthread_mutex_lock(&z->lock);
	*st = 0;
	switch (c->opc) {
	case NVP_ZNS_MGMT_SEND:
		*st = zone_send(ns, c);
		break;
	case NVP_ZNS_MGMT_RECV:
		*st = zone_recv(emu, ns, c);
		break;
	case NVP_ZNS_APPEND:
		*st = zone_append(emu, ns, sqe, scratch);
		zns_cmd = *st != 0;	/* on success the Write follows */
		break;
	case NVP_NVM_READ:
	case NVP_NVM_COMPARE:
		slba = c->cdw10 | ((uint64_t)c->cdw11 << 32);
		nlb = (c->cdw12 & 0xffff) + 1;
		if (slba < ns->nblocks && nlb <= ns->nblocks - slba)
			*st = check_read(z, slba, nlb);
		zns_cmd = *st != 0;
		break;
	case NVP_NVM_WRITE:
	case NVP_NVM_WRITE_ZEROES:
		slba = c->cdw10 | ((uint64_t)c->cdw11 << 32);
		nlb = (c->cdw12 & 0xffff) + 1;
		if (slba < ns->nblocks && nlb <= ns->nblocks - slba) {
			struct emu_zone *zn = zone_of(z, slba);

			*st = check_write(z, zn, slba, nlb);
			if (!*st)
				*st = zone_open(z, zn, true);
		}
		zns_cmd = *st != 0;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&z->lock);
	return zns_cmd;
}

void nvp_emu_zns_after(struct nvp_emu *emu, struct emu_ns *ns, const struct nvp_sqe *sqe,
		       uint16_t st)
{
	struct emu_zns *z = ns->zns;
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	struct emu_zone *zn;

	(void)emu;
	if (st || (sqe->opc != NVP_NVM_WRITE && sqe->opc != NVP_NVM_WRITE_ZEROES))
		return;
	pthread_mutex_lock(&z->lock);
	zn = zone_of(z, slba);
	/* A zone changed meanwhile by nvp_emu_set_zone_state() stays as set. */
	if (is_open(zn->state) && zn->wp == slba) {
		zn->wp += nlb;
		if (zn->wp == zn->zslba + z->zone_cap)
			zone_finish(z, zn);
	}
	pthread_mutex_unlock(&z->lock);
}

/* ---- fault injection ------------------------------------------------------ */

int nvp_emu_dev_set_zone(struct nvp_emu *emu, uint32_t nsid, uint64_t zslba, uint8_t state)
{
	struct emu_zns *z;
	struct emu_zone *zn;

	if (nsid == 0 || nsid > emu->nr_ns || !emu->ns[nsid - 1].zns)
		return nvp_error(-EINVAL, "emu: namespace %u is not a zoned namespace of this "
				 "controller; give a zoned one (ns=...,zoned=ZSIZE)", nsid);
	if (state != NVP_ZS_READ_ONLY && state != NVP_ZS_OFFLINE)
		return nvp_error(-EINVAL, "emu: zone state %u cannot be injected; use "
				 "NVP_ZS_READ_ONLY or NVP_ZS_OFFLINE (the others follow from "
				 "commands)", state);
	z = emu->ns[nsid - 1].zns;
	if (zslba >= emu->ns[nsid - 1].nblocks || zslba % z->zone_size)
		return nvp_error(-EINVAL, "emu: LBA %llu is not the start of a zone of namespace "
				 "%u (zones of %llu blocks)", (unsigned long long)zslba, nsid,
				 (unsigned long long)z->zone_size);
	pthread_mutex_lock(&z->lock);
	zn = zone_of(z, zslba);
	/* The zone leaves the open/active accounting, as a device's media
	 * failure would take it. */
	if (is_open(zn->state))
		z->nr_open--;
	if (is_open(zn->state) || zn->state == NVP_ZS_CLOSED)
		z->nr_active--;
	zn->state = state;
	pthread_mutex_unlock(&z->lock);
	return 0;
}
