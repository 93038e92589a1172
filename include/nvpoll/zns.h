/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/zns.h - zoned namespaces (the NVMe Zoned Namespace command set).
 *
 * A zoned namespace is split into zones of equal size. Each zone is written
 * only sequentially, at its write pointer, up to its capacity (which may be
 * less than its size: the blocks between read as zeroes), then reset as a
 * whole. Zone Append writes at the write pointer too, but lets the
 * controller pick the LBA and tells it in the completion, so several
 * threads can append to one zone at once.
 *
 * nvp_write() on a zoned namespace is refused when it crosses a zone's end
 * or is larger than one command (the parts of a split write may run in any
 * order, which a write pointer does not allow): write at most
 * nvp_ns_info.max_io_blocks at a time, waiting for each, or use
 * nvp_zone_append(). Included from nvpoll.h; see docs/architecture.md
 * ("Zoned namespaces").
 */
#ifndef NVPOLL_ZNS_H
#define NVPOLL_ZNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct nvp_zns_info - what a zoned namespace is made of.
 * @zone_size: blocks per zone (the stride between zone start LBAs).
 * @num_zones: zones in the namespace.
 * @max_open: most zones open at once, 0 = no limit (Identify MOR + 1).
 * @max_active: most zones open or closed at once, 0 = no limit (MAR + 1).
 * @max_append_bytes: largest Zone Append (ZASL, or the transfer limit when
 *                    ZASL is 0 or larger than it).
 * @max_append_blocks: the same in blocks.
 * @cross_zone_read: reads may cross zone boundaries (OZCS bit 0).
 * @zoc: Zone Operation Characteristics, as reported.
 * @ozcs: Optional Zoned Command Support, as reported.
 * @zasl: ZASL as reported (2^n minimum memory pages, 0 = MDTS).
 */
struct nvp_zns_info {
	uint64_t zone_size;
	uint64_t num_zones;
	uint32_t max_open;
	uint32_t max_active;
	uint32_t max_append_bytes;
	uint32_t max_append_blocks;
	bool cross_zone_read;
	uint16_t zoc;
	uint16_t ozcs;
	uint8_t zasl;
};

/**
 * nvp_ns_zns_info() - the zoned properties of a namespace.
 * @ns: the namespace.
 *
 * A namespace is zoned when its Namespace Identification Descriptors name
 * the Zoned Namespace command set (nvp_ns_info.zoned); the controller must
 * offer the I/O command sets (CAP.CSS bit 6), which nvpoll then selects.
 *
 * Return: the info (valid as long as the namespace handle), or NULL with
 * errno ENOTSUP when @ns is not zoned (EINVAL when it is NULL).
 */
NVP_API const struct nvp_zns_info *nvp_ns_zns_info(const struct nvp_ns *ns);

/**
 * struct nvp_zone - one zone, in CPU byte order.
 * @zslba: its first LBA.
 * @wp: its write pointer (an LBA); devices report all-ones (UINT64_MAX)
 *      for a full, read-only or offline zone, which has none.
 * @capacity: writable blocks from @zslba.
 * @type: NVP_ZONE_TYPE_SEQ_WRITE.
 * @state: enum nvp_zone_state.
 * @attrs: zone attributes (ZA).
 */
struct nvp_zone {
	uint64_t zslba;
	uint64_t wp;
	uint64_t capacity;
	uint8_t type;
	uint8_t state;
	uint8_t attrs;
};

/**
 * nvp_zone_state_name() - a zone state's name.
 * @state: enum nvp_zone_state.
 *
 * Return: "empty", "implicitly open", ..., or "unknown".
 */
NVP_API const char *nvp_zone_state_name(uint8_t state);

/**
 * nvp_zone_desc_decode() - one wire zone descriptor into CPU order.
 * @desc: the descriptor as the controller wrote it (little-endian).
 * @zone: out: the zone.
 */
NVP_API void nvp_zone_desc_decode(const struct nvp_zone_desc *desc, struct nvp_zone *zone);

/**
 * nvp_zone_report_parse() - decode a Zone Management Receive buffer.
 * @buf: the buffer nvp_zone_report() filled.
 * @len: its length in bytes.
 * @zones: out: up to @max zones.
 * @max: room in @zones.
 * @nr_zones: out (may be NULL): the header's zone count (with a partial
 *            report the descriptors returned; without, every matching zone
 *            from the start LBA on, which may be more than fit).
 *
 * Return: zones decoded (the smallest of the header's count, what @len
 * holds and @max), or -EINVAL for a buffer shorter than the 64-byte header.
 */
NVP_API int nvp_zone_report_parse(const void *buf, size_t len, struct nvp_zone *zones,
				  uint32_t max, uint64_t *nr_zones);

/* nvp_zone_report() flags */
#define NVP_ZONE_REPORT_PARTIAL	(1u << 0)	/* count only the descriptors returned */

/* nvp_zone_report() filters (ZRASF) */
enum nvp_zone_filter {
	NVP_ZONE_FILTER_ALL = 0,
	NVP_ZONE_FILTER_EMPTY = 1,
	NVP_ZONE_FILTER_IMPLICIT_OPEN = 2,
	NVP_ZONE_FILTER_EXPLICIT_OPEN = 3,
	NVP_ZONE_FILTER_CLOSED = 4,
	NVP_ZONE_FILTER_FULL = 5,
	NVP_ZONE_FILTER_READ_ONLY = 6,
	NVP_ZONE_FILTER_OFFLINE = 7,
};

/**
 * nvp_zone_report() - Zone Management Receive: report zones.
 * @qpair: I/O queue pair.
 * @ns: a zoned namespace.
 * @slba: an LBA in the first zone to report.
 * @filter: enum nvp_zone_filter.
 * @flags: NVP_ZONE_REPORT_* flags.
 * @buf: DMA memory for the report: a 64-byte header, then 64 bytes per
 *       zone (decode it with nvp_zone_report_parse()).
 * @len: bytes in @buf: a multiple of 4, at least 64, at most the transfer
 *       limit.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP for a namespace that is not zoned,
 * -EINVAL for a bad filter, flag or length, -ERANGE for @slba past the end.
 */
NVP_API int nvp_zone_report(struct nvp_qpair *qpair, struct nvp_ns *ns, uint64_t slba,
			    enum nvp_zone_filter filter, uint32_t flags, void *buf, size_t len,
			    nvp_cmd_cb cb, void *arg);

/* nvp_zone_mgmt() actions (Zone Management Send ZSA) */
enum nvp_zone_action {
	NVP_ZONE_CLOSE = NVP_ZSA_CLOSE,
	NVP_ZONE_FINISH = NVP_ZSA_FINISH,
	NVP_ZONE_OPEN = NVP_ZSA_OPEN,
	NVP_ZONE_RESET = NVP_ZSA_RESET,
	NVP_ZONE_OFFLINE = NVP_ZSA_OFFLINE,
};

/* nvp_zone_mgmt() flags */
#define NVP_ZONE_SELECT_ALL	(1u << 0)	/* every zone the action applies to */

/**
 * nvp_zone_mgmt() - Zone Management Send: open, close, finish, reset or
 * take offline one zone, or all that the action applies to.
 * @qpair: I/O queue pair.
 * @ns: a zoned namespace.
 * @zslba: the zone's start LBA (ignored with NVP_ZONE_SELECT_ALL).
 * @action: enum nvp_zone_action.
 * @flags: NVP_ZONE_SELECT_ALL or 0. With it, open takes every closed zone,
 *         close every open one, finish every open or closed one, reset
 *         every open, closed or full one, offline every read-only one.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_read(); -ENOTSUP for a namespace that is not zoned,
 * -EINVAL for an unknown action or flag, or @zslba not a zone start.
 * The device reports state errors in the completion (SCT 1h B9h..BFh).
 */
NVP_API int nvp_zone_mgmt(struct nvp_qpair *qpair, struct nvp_ns *ns, uint64_t zslba,
			  enum nvp_zone_action action, uint32_t flags, nvp_cmd_cb cb, void *arg);

/**
 * nvp_zone_append() - Zone Append: write @nlb blocks at the zone's write
 * pointer; the completion says where (nvp_zone_append_lba()).
 * @qpair: I/O queue pair.
 * @ns: a zoned namespace.
 * @buf: data (DMA memory), @nlb blocks.
 * @zslba: the zone's start LBA.
 * @nlb: blocks, 1..nvp_zns_info.max_append_blocks: an append is never
 *       split (its parts could land apart).
 * @opts: NULL, or options: only @flags (NVP_IO_FUA, NVP_IO_LIMITED_RETRY)
 *        are taken; metadata and protection information are refused.
 * @cb: completion callback.
 * @arg: passed to @cb.
 *
 * Return: as for nvp_write(); -ENOTSUP for a namespace that is not zoned,
 * -EINVAL for @zslba not a zone start, -E2BIG for more than the append
 * limit, -ERANGE for more blocks than a zone holds.
 */
NVP_API int nvp_zone_append(struct nvp_qpair *qpair, struct nvp_ns *ns, const void *buf,
			    uint64_t zslba, uint32_t nlb, const struct nvp_io_opts *opts,
			    nvp_cmd_cb cb, void *arg);

/**
 * nvp_zone_append_lba() - the first LBA a Zone Append wrote.
 * @cpl: its successful completion (DW0 low, DW1 high 32 bits).
 *
 * Return: the LBA.
 */
NVP_API uint64_t nvp_zone_append_lba(const struct nvp_cqe *cpl);

#ifdef __cplusplus
}
#endif

#endif /* NVPOLL_ZNS_H */
