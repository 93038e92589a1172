/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/ns.c - namespaces: enumeration (at attach and again after a
 * Namespace Attribute Changed event or a reset), what Identify Namespace
 * says, and lookups.
 *
 * Handles must outlive a rescan, so every namespace is its own allocation
 * and is never freed before detach: the controller keeps a sorted array of
 * pointers (under ns_lock) that only grows. A namespace that goes away is
 * marked NVP_NS_REMOVED; its I/O is refused, its handle stays safe.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"
#include "nvme/nvme.h"
#include "util/log.h"

/*
 * The metadata and PI format of @ns (@ms bytes of metadata per block):
 * the layout, the PI type and place, and the guard (from @ns->pif, which
 * nvp_ns_identify_pi() reads). With extended LBAs every block carries its
 * metadata through the data pointer, so MDTS counts both. Returns the
 * namespace's usability: NVP_NS_HAS_METADATA (plain nvp_read()/nvp_write()
 * refuse it, the *_ext calls take it) or NVP_NS_MD_UNSUPPORTED.
 */
static uint8_t ns_apply_md(struct nvp_ctrl *ctrl, struct nvp_ns *ns, const struct nvp_id_ns *id,
			   uint16_t ms, uint32_t lbads)
{
	struct nvp_ns_info *info = &ns->info;
	uint8_t type = NVP_ID_NS_DPS_TYPE(id->dps);
	/* A type above 3 is reported as none (and refused below). */
	uint8_t pi = type <= 3 ? type : 0;

	info->md_extended = id->flbas & NVP_ID_NS_FLBAS_EXTENDED;
	info->pi_first = pi && (id->dps & NVP_ID_NS_DPS_FIRST);
	info->pi_type = pi;
	info->pi_guard_bits = !pi ? 0 : ns->pif == NVP_PIF_64B ? 64 : 16;
	info->pi_size = !pi ? 0 : ns->pif == NVP_PIF_64B ? 16 : 8;
	if (info->md_extended) {
		uint64_t blocks = ctrl->max_xfer / ((1ull << lbads) + ms);

		ns->max_io_blocks = blocks > NVP_MAX_NLB ? NVP_MAX_NLB : (uint32_t)blocks;
	}
	/* Device data: a format we cannot drive is refused, not guessed at. */
	if (type > 3 || (type && ns->pif != NVP_PIF_16B && ns->pif != NVP_PIF_64B) ||
	    ms < info->pi_size) {
		nvp_warn("%s: NSID %u has %u bytes of metadata with protection type %u and "
			 "guard format %u, which nvpoll does not support; its I/O is refused",
			 ctrl->info.addr, ns->nsid, ms, type, ns->pif);
		return NVP_NS_MD_UNSUPPORTED;
	}
	return NVP_NS_HAS_METADATA;
}

/*
 * Fill the derived fields of @ns from @id (its Identify Namespace data, as
 * the controller wrote it: little-endian).
 */
/*
 * What io_cmds.c needs to know: Verify, Copy and its limits, Write
 * Uncorrectable, and fused Compare and Write with its atomic unit.
 */
static void ns_cmds_info(const struct nvp_ctrl *ctrl, const struct nvp_id_ns *id,
			 const struct nvp_ns *ns, struct nvp_ns_info *info)
{
	uint16_t oncs = ctrl->info.oncs, acwu;

	info->supports_verify = oncs & NVP_ONCS_VERIFY;
	/* The library builds format 0 entries: a controller that lists its
	 * copy formats (OCFS, NVMe 2.0) must list that one. */
	info->supports_copy = (oncs & NVP_ONCS_COPY) &&
			      (!ctrl->id->ocfs || (nvp_le16_to_cpu(ctrl->id->ocfs) & 1));
	info->copy_max_ranges = info->supports_copy ? id->msrc + 1u : 0;
	info->copy_max_range_blocks = info->supports_copy ? nvp_le16_to_cpu(id->mssrl) : 0;
	info->copy_max_blocks = info->supports_copy ? nvp_le32_to_cpu(id->mcl) : 0;
	info->supports_write_uncorrectable = oncs & NVP_ONCS_WRITE_UNCOR;
	info->supports_fused_compare_write =
		(oncs & NVP_ONCS_COMPARE) &&
		(nvp_le16_to_cpu(ctrl->id->fuses) & NVP_FUSES_COMPARE_WRITE);
	/* NSFEAT bit 1: the namespace's own atomic units (NACWU) apply. */
	acwu = (id->nsfeat & 2) && id->nacwu ? nvp_le16_to_cpu(id->nacwu) :
					       nvp_le16_to_cpu(ctrl->id->acwu);
	info->compare_write_max_blocks = !info->supports_fused_compare_write ? 0 :
		acwu + 1u < ns->max_io_blocks ? acwu + 1u : ns->max_io_blocks;
}

static void ns_apply(struct nvp_ctrl *ctrl, struct nvp_ns *ns, const struct nvp_id_ns *id)
{
	uint8_t fmt = NVP_ID_NS_FLBAS_INDEX(id->flbas);
	struct nvp_ns_info *info = &ns->info;
	uint8_t unusable = NVP_NS_USABLE;
	uint64_t nsze = nvp_le64_to_cpu(id->nsze);
	uint16_t ms;
	uint32_t lbads;

	/* Device data: an out-of-range format index or size falls back to 512 B. */
	if (fmt > id->nlbaf || fmt >= 64) {
		nvp_warn("%s: NSID %u reports LBA format %u of %u; assuming 512-byte blocks",
			 ctrl->info.addr, ns->nsid, fmt, id->nlbaf + 1);
		fmt = 0;
	}
	lbads = id->lbaf[fmt].lbads;
	if (lbads < 9 || lbads > 16) {
		nvp_warn("%s: NSID %u reports a block size of 2^%u; assuming 512 bytes",
			 ctrl->info.addr, ns->nsid, lbads);
		lbads = 9;
	}
	ns->ctrl = ctrl;
	ns->lba_shift = lbads;
	ns->lbaf = fmt;
	/* The transfer limit and NLB's 16-bit width both bound one command. */
	ns->max_io_blocks = ctrl->max_xfer >> lbads;
	if (ns->max_io_blocks > NVP_MAX_NLB)
		ns->max_io_blocks = NVP_MAX_NLB;
	ms = nvp_le16_to_cpu(id->lbaf[fmt].ms);
	if (ms) {
		unusable = ns_apply_md(ctrl, ns, id, ms, lbads);
	} else {
		info->md_extended = false;
		info->pi_type = info->pi_size = info->pi_guard_bits = 0;
		info->pi_first = false;
	}
	if (unusable != NVP_NS_MD_UNSUPPORTED && ns->max_io_blocks == 0) {
		/* A hostile or tiny MDTS: not one block fits a command. */
		unusable = NVP_NS_BLOCK_TOO_BIG;
		nvp_warn("%s: NSID %u has %u-byte blocks but a command moves at most %u bytes "
			 "(MDTS and max_xfer_bytes); its I/O is refused. Reformat it with "
			 "smaller blocks or raise max_xfer_bytes", ctrl->info.addr, ns->nsid,
			 1u << lbads, ctrl->max_xfer);
	}
	atomic_store_explicit(&ns->num_blocks, nsze, memory_order_relaxed);
	atomic_store_explicit(&ns->unusable, unusable, memory_order_release);

	info->nsid = ns->nsid;
	info->block_size = 1u << lbads;
	info->md_size = ms;
	info->num_blocks = nsze;
	info->capacity_blocks = nvp_le64_to_cpu(id->ncap);
	info->size_bytes = nsze << lbads;
	info->max_io_blocks = ns->max_io_blocks;
	info->supports_write_zeroes = ctrl->info.oncs & NVP_ONCS_WRITE_ZEROES;
	info->supports_dsm = ctrl->info.oncs & NVP_ONCS_DSM;
	info->supports_compare = ctrl->info.oncs & NVP_ONCS_COMPARE;
	info->supports_flush = ctrl->info.vwc;
	/* DLFEAT bits 2:0 = 001b: deallocated blocks read as all zeroes. */
	info->deallocated_reads_zeroes = (id->dlfeat & 0x7) == 1;
	info->active = true;
	ns_cmds_info(ctrl, id, ns, info);
}

/* Binary search in the sorted pointer array; ns_lock held. */
static uint32_t ns_lower_bound(const struct nvp_ctrl *ctrl, uint32_t nsid)
{
	uint32_t lo = 0, hi = ctrl->num_ns;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (ctrl->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct nvp_ns *ns_find_locked(const struct nvp_ctrl *ctrl, uint32_t nsid)
{
	uint32_t i = ns_lower_bound(ctrl, nsid);

	return i < ctrl->num_ns && ctrl->ns[i]->nsid == nsid ? ctrl->ns[i] : NULL;
}

/* A new namespace object with its Identify page, inserted in NSID order. */
static int ns_insert(struct nvp_ctrl *ctrl, uint32_t nsid, const struct nvp_id_ns *id,
		     struct nvp_ns **out)
{
	struct nvp_ns *ns = calloc(1, sizeof(*ns));
	uint32_t i;

	if (ns)
		ns->id = nvp_dma_alloc(sizeof(*ns->id), 4096, ctrl->info.numa_node);
	if (!ns || !ns->id) {
		free(ns);
		return nvp_error(-ENOMEM, "out of memory for namespace %u", nsid);
	}
	ns->nsid = nsid;
	memcpy(ns->id, id, sizeof(*id));
	ns_apply(ctrl, ns, ns->id);
	pthread_mutex_lock(&ctrl->ns_lock);
	if (ctrl->num_ns == ctrl->ns_cap) {
		uint32_t cap = ctrl->ns_cap ? 2 * ctrl->ns_cap : 16;
		struct nvp_ns **grown = realloc(ctrl->ns, cap * sizeof(*grown));

		if (!grown) {
			pthread_mutex_unlock(&ctrl->ns_lock);
			nvp_dma_free(ns->id);
			free(ns);
			return nvp_error(-ENOMEM, "out of memory for namespace %u", nsid);
		}
		ctrl->ns = grown;
		ctrl->ns_cap = cap;
	}
	i = ns_lower_bound(ctrl, nsid);
	memmove(&ctrl->ns[i + 1], &ctrl->ns[i], (ctrl->num_ns - i) * sizeof(*ctrl->ns));
	ctrl->ns[i] = ns;
	ctrl->num_ns++;
	pthread_mutex_unlock(&ctrl->ns_lock);
	*out = ns;
	return 0;
}

static void ns_event(struct nvp_ctrl *ctrl, enum nvp_event_type type, uint32_t nsid,
		     const char *reason, bool notify)
{
	struct nvp_event ev = { .size = sizeof(ev), .type = type, .nsid = nsid,
				.reason = reason };

	nvp_info("%s: namespace %u: %s", ctrl->info.addr, nsid, reason);
	if (notify)
		nvp_ctrl_emit_event(ctrl, &ev);
}

static void ns_mark_removed(struct nvp_ctrl *ctrl, struct nvp_ns *ns, bool notify)
{
	atomic_store_explicit(&ns->unusable, NVP_NS_REMOVED, memory_order_release);
	ns->info.active = false;
	ns_event(ctrl, NVP_EVENT_NS_REMOVED, ns->nsid, "no longer active; its I/O is refused",
		 notify);
}

/* What changed in a namespace the controller still lists. */
static void ns_update(struct nvp_ctrl *ctrl, struct nvp_ns *ns, const struct nvp_id_ns *id,
		      bool notify)
{
	bool was_active = ns->info.active;
	uint8_t fmt = NVP_ID_NS_FLBAS_INDEX(id->flbas);
	bool reformatted = was_active &&
			   (fmt != ns->lbaf || id->lbaf[fmt < 64 ? fmt : 0].lbads != ns->lba_shift ||
			    /* metadata layout or protection changed: buffers would not fit */
			    ((id->flbas ^ ns->id->flbas) & NVP_ID_NS_FLBAS_EXTENDED) ||
			    id->dps != ns->id->dps);
	uint64_t old_blocks = atomic_load(&ns->num_blocks);
	char why[128];

	if (reformatted) {
		/* Block size under running I/O cannot change: refuse it from now. */
		memcpy(ns->id, id, sizeof(*id));
		atomic_store_explicit(&ns->unusable, NVP_NS_FORMAT_CHANGED, memory_order_release);
		ns_event(ctrl, NVP_EVENT_NS_CHANGED, ns->nsid,
			 "reformatted; its I/O is refused until the controller is attached again",
			 notify);
		return;
	}
	memcpy(ns->id, id, sizeof(*id));
	ns_apply(ctrl, ns, ns->id);
	if (!was_active) {
		ns_event(ctrl, NVP_EVENT_NS_ADDED, ns->nsid, "active again", notify);
	} else if (old_blocks != nvp_le64_to_cpu(id->nsze)) {
		snprintf(why, sizeof(why), "resized from %llu to %llu blocks",
			 (unsigned long long)old_blocks,
			 (unsigned long long)nvp_le64_to_cpu(id->nsze));
		ns_event(ctrl, NVP_EVENT_NS_CHANGED, ns->nsid, why, notify);
	}
}

bool nvp_ns_scan_begin(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, bool notify)
{
	memset(scan, 0, sizeof(*scan));
	scan->notify = notify;
	return nvp_le32_to_cpu(ctrl->id->nn) != 0;
}

int nvp_ns_scan_list(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, const uint32_t *page)
{
	uint32_t nn = nvp_le32_to_cpu(ctrl->id->nn), before = scan->after, i;

	for (i = 0; i < 1024 && page[i]; i++) {
		uint32_t nsid = nvp_le32_to_cpu(page[i]);

		/* Device data: IDs must rise and stay within NN. */
		if (nsid <= scan->after || nsid > nn) {
			nvp_warn("%s: ignoring bad NSID %u in the active namespace list",
				 ctrl->info.addr, nsid);
			continue;
		}
		if (scan->count == scan->cap) {
			uint32_t cap = scan->cap ? scan->cap * 2 : 16;
			uint32_t *grown = realloc(scan->ids, cap * sizeof(*grown));

			if (!grown)
				return nvp_error(-ENOMEM, "out of memory");
			scan->ids = grown;
			scan->cap = cap;
		}
		scan->ids[scan->count++] = nsid;
		scan->after = nsid;
	}
	/* A full page asks for the next one, unless it brought nothing new
	 * (a device repeating itself would loop us forever). */
	return !(i < 1024 || scan->after == before || scan->after == nn);
}

int nvp_ns_scan_found(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, uint32_t nsid,
		      const struct nvp_id_ns *id)
{
	struct nvp_ns *ns;
	int rc;

	if (nvp_le64_to_cpu(id->nsze) == 0) /* listed but not really active */
		return 0;
	/* Namespaces the list skipped over are gone. */
	pthread_mutex_lock(&ctrl->ns_lock);
	while (scan->next < ctrl->num_ns && ctrl->ns[scan->next]->nsid < nsid) {
		struct nvp_ns *gone = ctrl->ns[scan->next++];

		pthread_mutex_unlock(&ctrl->ns_lock);
		if (gone->info.active)
			ns_mark_removed(ctrl, gone, scan->notify);
		pthread_mutex_lock(&ctrl->ns_lock);
	}
	ns = ns_find_locked(ctrl, nsid);
	pthread_mutex_unlock(&ctrl->ns_lock);
	if (ns) {
		ns_update(ctrl, ns, id, scan->notify);
	} else {
		rc = ns_insert(ctrl, nsid, id, &ns);
		if (rc)
			return rc;
		if (scan->notify)
			ns_event(ctrl, NVP_EVENT_NS_ADDED, nsid, "now active", true);
	}
	pthread_mutex_lock(&ctrl->ns_lock);
	scan->next = ns_lower_bound(ctrl, nsid) + 1;
	pthread_mutex_unlock(&ctrl->ns_lock);
	return 0;
}

void nvp_ns_scan_end(struct nvp_ctrl *ctrl, struct nvp_ns_scan *scan, bool complete)
{
	/* Those after the last one listed are gone too, if the list was whole. */
	while (complete) {
		struct nvp_ns *gone = NULL;

		pthread_mutex_lock(&ctrl->ns_lock);
		if (scan->next < ctrl->num_ns)
			gone = ctrl->ns[scan->next++];
		pthread_mutex_unlock(&ctrl->ns_lock);
		if (!gone)
			break;
		if (gone->info.active)
			ns_mark_removed(ctrl, gone, scan->notify);
	}
	pthread_mutex_lock(&ctrl->ns_lock);
	ctrl->info.num_ns = 0;
	for (uint32_t i = 0; i < ctrl->num_ns; i++)
		ctrl->info.num_ns += ctrl->ns[i]->info.active;
	pthread_mutex_unlock(&ctrl->ns_lock);
	free(scan->ids);
	scan->ids = NULL;
	scan->count = scan->cap = 0;
}

bool nvp_ns_identify_fatal(int rc)
{
	return rc == -ETIMEDOUT || rc == -ENXIO || rc == -ENODEV || rc == -EIO || rc == -EAGAIN;
}

/*
 * With CC.CSS = 110b, a namespace's command set: its descriptor list
 * (CNS 03h), and for a zoned one the ZNS Identify Controller (once per
 * scan) and Namespace (zns.c). As init.c does it, waiting for each.
 */
static int ns_scan_csi(struct nvp_ctrl *ctrl, uint32_t nsid, void *page, bool *zns_ctrl_read)
{
	struct nvp_sqe cmd = { .opc = NVP_ADMIN_IDENTIFY, .nsid = nsid,
			       .cdw10 = NVP_CNS_NS_DESC_LIST };
	uint32_t to = ctrl->opts.admin_timeout_ms;
	uint8_t csi;
	int rc;

	memset(page, 0, 4096);
	rc = nvp_admin_sync_timeout(ctrl, &cmd, page, 4096, NULL, to);
	if (rc && nvp_ns_identify_fatal(rc))
		return rc;
	csi = rc ? NVP_CSI_NVM : nvp_zns_desc_csi(page);
	if (csi != NVP_CSI_ZNS) {
		nvp_zns_set_csi(ctrl, nsid, csi, NULL);
		return 0;
	}
	if (!*zns_ctrl_read) {
		memset(page, 0, 4096);
		nvp_zns_identify_cmd(&cmd, NVP_CNS_CSI_CTRL, NVP_CSI_ZNS, 0);
		rc = nvp_admin_sync_timeout(ctrl, &cmd, page, 4096, NULL, to);
		if (rc && nvp_ns_identify_fatal(rc))
			return rc;
		nvp_zns_set_ctrl(ctrl, rc ? NULL : page);
		*zns_ctrl_read = true;
	}
	memset(page, 0, 4096);
	nvp_zns_identify_cmd(&cmd, NVP_CNS_CSI_NS, NVP_CSI_ZNS, nsid);
	rc = nvp_admin_sync_timeout(ctrl, &cmd, page, 4096, NULL, to);
	if (rc && nvp_ns_identify_fatal(rc))
		return rc;
	nvp_zns_set_csi(ctrl, nsid, NVP_CSI_ZNS, rc ? NULL : page);
	return 0;
}

int nvp_ns_scan(struct nvp_ctrl *ctrl, bool notify)
{
	struct nvp_ns_scan scan;
	bool zns_ctrl_read = false;
	uint32_t *page;
	int rc = 0, more;

	page = nvp_dma_alloc(4096, 4096, ctrl->info.numa_node);
	if (!page)
		return nvp_error(-ENOMEM, "%s", nvp_last_error());
	for (more = nvp_ns_scan_begin(ctrl, &scan, notify); more > 0;) {
		memset(page, 0, 4096);
		rc = nvp_admin_identify(ctrl, NVP_CNS_ACTIVE_NS_LIST, scan.after, page);
		if (rc)
			goto out;
		more = nvp_ns_scan_list(ctrl, &scan, page);
		if (more < 0) {
			rc = more;
			goto out;
		}
	}
	for (uint32_t i = 0; i < scan.count; i++) {
		uint32_t nsid = scan.ids[i];
		struct nvp_id_ns *id = (struct nvp_id_ns *)page; /* the list is copied out */

		memset(id, 0, sizeof(*id));
		rc = nvp_admin_identify(ctrl, NVP_CNS_NS, nsid, id);
		if (nvp_ns_identify_fatal(rc)) {
			rc = nvp_error(rc, "NSID %u: %s", nsid, nvp_last_error());
			goto out;
		}
		if (rc) {
			/* The controller refused this one (as Linux does: skip it). */
			nvp_warn("%s: Identify Namespace %u failed (%s); leaving it out",
				 ctrl->info.addr, nsid, nvp_last_error());
			rc = 0;
			continue;
		}
		rc = nvp_ns_scan_found(ctrl, &scan, nsid, id);
		if (!rc && ctrl->css_csi)
			rc = ns_scan_csi(ctrl, nsid, page, &zns_ctrl_read);
		if (rc)
			goto out;
	}
out:
	nvp_ns_scan_end(ctrl, &scan, rc == 0);
	/*
	 * An Identify that timed out (or met CFS) is still the device's to
	 * answer: a rescan is no reset, the controller stays enabled, and a
	 * late answer would land in whatever the allocator hands out next
	 * (an application's buffer). Keep the page until the controller goes.
	 */
	if (rc == -ETIMEDOUT || rc == -EIO)
		nvp_ctrl_park_dma(ctrl, page);
	else
		nvp_dma_free(page);
	if (rc == 0)
		nvp_ns_identify_pi(ctrl);
	return rc;
}

void nvp_ns_apply_nvm_id(struct nvp_ctrl *ctrl, struct nvp_ns *ns,
			 const struct nvp_id_ns_nvm *nvm)
{
	uint8_t pif = NVP_ELBAF_PIF(nvp_le32_to_cpu(nvm->elbaf[ns->lbaf < 64 ? ns->lbaf : 0]));

	if (pif == ns->pif)
		return;
	ns->pif = pif;
	/* Only the guard changes; one gone or reformatted stays refused. */
	if (atomic_load(&ns->unusable) != NVP_NS_REMOVED &&
	    atomic_load(&ns->unusable) != NVP_NS_FORMAT_CHANGED)
		ns_apply(ctrl, ns, ns->id);
}

void nvp_ns_identify_pi(struct nvp_ctrl *ctrl)
{
	struct nvp_id_ns_nvm *nvm;

	if (!(nvp_le32_to_cpu(ctrl->id->ctratt) & NVP_CTRATT_ELBAS))
		return;
	nvm = nvp_dma_alloc(sizeof(*nvm), 4096, ctrl->info.numa_node);
	if (!nvm) {
		nvp_warn("%s: out of memory for the NVM Identify Namespace; assuming 16-bit "
			 "PI guards", ctrl->info.addr);
		return;
	}
	for (struct nvp_ns *ns = nvp_ctrl_first_ns(ctrl); ns; ns = nvp_ctrl_next_ns(ctrl, ns)) {
		int rc;

		if (!NVP_ID_NS_DPS_TYPE(ns->id->dps))
			continue;
		memset(nvm, 0, sizeof(*nvm));
		/* CDW11 = 0: CSI 00h, the NVM command set. */
		rc = nvp_admin_identify(ctrl, NVP_CNS_CSI_NS, ns->nsid, nvm);
		if (rc) {
			nvp_warn("%s: NSID %u: NVM Identify Namespace failed (%s); assuming a "
				 "16-bit PI guard", ctrl->info.addr, ns->nsid, nvp_last_error());
			if (rc == -ETIMEDOUT || rc == -EIO) {
				/* The device may still write it: never reuse the page. */
				nvp_ctrl_park_dma(ctrl, nvm);
				return;
			}
			continue;
		}
		nvp_ns_apply_nvm_id(ctrl, ns, nvm);
	}
	nvp_dma_free(nvm);
}

void nvp_ns_free_all(struct nvp_ctrl *ctrl)
{
	for (uint32_t i = 0; i < ctrl->num_ns; i++) {
		nvp_dma_free(ctrl->ns[i]->id);
		free(ctrl->ns[i]);
	}
	free(ctrl->ns);
	ctrl->ns = NULL;
	ctrl->num_ns = ctrl->ns_cap = 0;
}

/* ---- public lookups: active namespaces only ------------------------------ */

struct nvp_ns *nvp_ctrl_get_ns(struct nvp_ctrl *ctrl, uint32_t nsid)
{
	struct nvp_ns *ns;

	if (!ctrl) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&ctrl->ns_lock);
	ns = ns_find_locked(ctrl, nsid);
	if (ns && !ns->info.active)
		ns = NULL;
	pthread_mutex_unlock(&ctrl->ns_lock);
	if (!ns)
		errno = ENOENT;
	return ns;
}

/* The first active namespace at index >= @i; ns_lock held. */
static struct nvp_ns *active_from(struct nvp_ctrl *ctrl, uint32_t i)
{
	for (; i < ctrl->num_ns; i++)
		if (ctrl->ns[i]->info.active)
			return ctrl->ns[i];
	return NULL;
}

struct nvp_ns *nvp_ctrl_first_ns(struct nvp_ctrl *ctrl)
{
	struct nvp_ns *ns;

	if (!ctrl)
		return NULL;
	pthread_mutex_lock(&ctrl->ns_lock);
	ns = active_from(ctrl, 0);
	pthread_mutex_unlock(&ctrl->ns_lock);
	return ns;
}

struct nvp_ns *nvp_ctrl_next_ns(struct nvp_ctrl *ctrl, struct nvp_ns *ns)
{
	struct nvp_ns *next;

	if (!ctrl || !ns || ns->ctrl != ctrl)
		return NULL;
	pthread_mutex_lock(&ctrl->ns_lock);
	next = active_from(ctrl, ns_lower_bound(ctrl, ns->nsid + 1));
	pthread_mutex_unlock(&ctrl->ns_lock);
	return ns->nsid == UINT32_MAX ? NULL : next;
}

const struct nvp_ns_info *nvp_ns_get_info(const struct nvp_ns *ns)
{
	return ns ? &ns->info : NULL;
}

const struct nvp_id_ns *nvp_ns_identify(const struct nvp_ns *ns)
{
	return ns ? ns->id : NULL;
}
