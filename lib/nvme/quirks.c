/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/quirks.c - devices that need special handling, by PCI ID.
 *
 * Keep entries small and explained: each quirk names the behaviour it works
 * around, so it can be dropped when the firmware is fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nvme/nvme.h"

#define ANY_DEVICE 0xffff

struct quirk_entry {
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t quirks;
	const char *why;
};

static const struct quirk_entry quirk_table[] = {
	/* As Linux: these report CSTS.RDY=0 too early right after CC.EN=0. */
	{ 0x1c58, 0x0003, NVP_QUIRK_DELAY_BEFORE_CHK_RDY, "HGST SN100: early RDY=0" },
	{ 0x1c58, 0x0023, NVP_QUIRK_DELAY_BEFORE_CHK_RDY, "HGST SN200: early RDY=0" },
	{ 0x144d, 0xa821, NVP_QUIRK_DELAY_BEFORE_CHK_RDY, "Samsung PM1725: early RDY=0" },
	{ 0x144d, 0xa822, NVP_QUIRK_DELAY_BEFORE_CHK_RDY, "Samsung PM1725a: early RDY=0" },
};

uint32_t nvp_quirks_lookup(uint16_t vendor_id, uint16_t device_id)
{
	uint32_t quirks = 0;

	for (size_t i = 0; i < sizeof(quirk_table) / sizeof(quirk_table[0]); i++) {
		const struct quirk_entry *q = &quirk_table[i];

		if (q->vendor_id == vendor_id &&
		    (q->device_id == ANY_DEVICE || q->device_id == device_id))
			quirks |= q->quirks;
	}
	return quirks;
}

const char *nvp_quirk_names(uint32_t quirks)
{
	static const char *const names[] = { "delay-before-chk-rdy" };
	static __thread char buf[128];
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int bit = 0; bit < sizeof(names) / sizeof(names[0]); bit++) {
		if (quirks & (1u << bit))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
						off ? "," : "", names[bit]);
	}
	return off ? buf : "none";
}
