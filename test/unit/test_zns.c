/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_zns.c - zoned namespaces: the wire decoders (zone
 * descriptors, reports, the CSI descriptor), the emu's zoned= options, and
 * the emulated zone state machine, every action from every state, through
 * the library's calls.
 */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nvpoll/emu.h>
#include <nvpoll/nvpoll.h>

#include "emu/emu.h"
#include "nvme/nvme.h"
#include "util/wire.h"

/* ---- decoders ------------------------------------------------------------------ */

static void test_desc_decode(void **state)
{
	static const struct {
		uint8_t zt, zs, za;
		uint64_t zcap, zslba, wp;
		uint8_t type, st;
	} rows[] = {
		{ 0x02, 0x10, 0x00, 1, 0, 0, 2, NVP_ZS_EMPTY },
		{ 0xf2, 0x2f, 0x80, 768, 1024, 1030, 2, NVP_ZS_IMPLICIT_OPEN },	/* reserved bits */
		{ 0x02, 0xe0, 0x01, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, 2, NVP_ZS_FULL },
		{ 0x02, 0xf0, 0x00, 0, 0x0123456789abcdefull, 0, 2, NVP_ZS_OFFLINE },
		{ 0x00, 0x00, 0x00, 0, 0, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nvp_zone_desc d = { .zt = rows[i].zt, .zs = rows[i].zs, .za = rows[i].za };
		struct nvp_zone z;

		d.zcap = nvp_cpu_to_le64(rows[i].zcap);
		d.zslba = nvp_cpu_to_le64(rows[i].zslba);
		d.wp = nvp_cpu_to_le64(rows[i].wp);
		nvp_zone_desc_decode(&d, &z);
		assert_int_equal(z.type, rows[i].type);
		assert_int_equal(z.state, rows[i].st);
		assert_int_equal(z.attrs, rows[i].za);
		assert_true(z.capacity == rows[i].zcap);
		assert_true(z.zslba == rows[i].zslba);
		assert_true(z.wp == rows[i].wp);
	}
	assert_string_equal(nvp_zone_state_name(NVP_ZS_READ_ONLY), "read only");
	assert_string_equal(nvp_zone_state_name(0), "unknown");
}

static void test_report_parse(void **state)
{
	/* header + 3 descriptors; the count says 5 (a full report). */
	uint8_t buf[64 * 4];
	struct nvp_zone_report_hdr *h = (void *)buf;
	struct nvp_zone_desc *d = (void *)(buf + 64);
	struct nvp_zone z[8];
	uint64_t nr = 0;
	static const struct {
		size_t len;
		uint32_t max;
		uint64_t count;
		int want;
	} rows[] = {
		{ 256, 8, 5, 3 },	/* the buffer holds 3 */
		{ 256, 2, 5, 2 },	/* room for 2 */
		{ 256, 8, 1, 1 },	/* the count says 1 */
		{ 256, 8, 0, 0 },
		{ 64, 8, 5, 0 },	/* header only */
		{ 127, 8, 5, 0 },	/* a partial descriptor does not count */
		{ 128, 0, 5, 0 },
		{ 63, 8, 5, -EINVAL },	/* no header */
		{ 0, 8, 5, -EINVAL },
	};

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 3; i++) {
		d[i].zs = NVP_ZS_CLOSED << 4;
		d[i].zslba = nvp_cpu_to_le64(100u * (unsigned)i);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		h->nr_zones = nvp_cpu_to_le64(rows[i].count);
		nr = 99;
		assert_int_equal(nvp_zone_report_parse(buf, rows[i].len, rows[i].max ? z : NULL,
						       rows[i].max, &nr), rows[i].want);
		if (rows[i].want >= 0)
			assert_true(nr == rows[i].count);
		if (rows[i].want > 1)
			assert_true(z[1].zslba == 100 && z[1].state == NVP_ZS_CLOSED);
	}
	assert_int_equal(nvp_zone_report_parse(NULL, 256, z, 8, NULL), -EINVAL);
	assert_int_equal(nvp_zone_report_parse(buf, 256, NULL, 8, NULL), -EINVAL);
}

static void test_desc_csi(void **state)
{
	uint8_t page[4096];

	(void)state;
	memset(page, 0, sizeof(page));
	assert_int_equal(nvp_zns_desc_csi(page), NVP_CSI_NVM);		/* empty list */
	/* EUI64, NGUID, then CSI 02h. */
	page[0] = 1, page[1] = 8;
	page[12] = 2, page[13] = 16;
	page[32] = NVP_NIDT_CSI, page[33] = 1, page[36] = NVP_CSI_ZNS;
	assert_int_equal(nvp_zns_desc_csi(page), NVP_CSI_ZNS);
	page[36] = NVP_CSI_NVM;
	assert_int_equal(nvp_zns_desc_csi(page), NVP_CSI_NVM);
	/* A CSI descriptor of length 0 says nothing. */
	page[33] = 0;
	assert_int_equal(nvp_zns_desc_csi(page), NVP_CSI_NVM);
	/* A length running off the page ends the walk. */
	memset(page, 0, sizeof(page));
	page[0] = 3, page[1] = 255;
	page[4092] = NVP_NIDT_CSI;
	assert_int_equal(nvp_zns_desc_csi(page), NVP_CSI_NVM);
	memset(page, 0, sizeof(page));
	page[4088] = 0;
	page[0] = NVP_NIDT_CSI, page[1] = 1, page[4] = 0x7;	/* first, an unknown set */
	assert_int_equal(nvp_zns_desc_csi(page), 0x7);
}

/* ---- emu options ----------------------------------------------------------------- */

static void test_zoned_options(void **state)
{
	static const struct {
		const char *spec;
		const char *msg;	/* NULL: must parse */
	} rows[] = {
		{ "emu:ns=64M:4096,zoned=4M/3M,zone_open=6,zone_active=8", NULL },
		{ "emu:ns=64M:4096,zoned=4M", NULL },			/* ZCAP = ZSIZE */
		{ "emu:ns=64M:4096,zoned=64M/4K", NULL },		/* one zone, one block */
		{ "emu:ns=64M:4096,zoned=4M/4M,zone_open=0,zone_active=0", NULL },
		{ "emu:ns=64M:4096,zoned=4M,zasl=7", NULL },
		{ "emu:ns=64M:4096,zoned=4M,zasl=8", "zasl=8 is above mdts=7" },
		{ "emu:ns=64M:4096,zoned=4M,mdts=0,zasl=15", NULL },
		{ "emu:ns=64M:4096,zoned=4M,zasl=16", "bad zasl=16" },
		{ "emu:zoned=4M", "zoned= must follow the ns=" },
		{ "emu:ns=64M:4096,zoned=4M,zoned=4M", "zoned= must follow the ns=" },
		{ "emu:ns=64M:4096,zoned=0", "ZSIZE must be a byte count" },
		{ "emu:ns=64M:4096,zoned=6K", "ZSIZE must be a byte count" },
		{ "emu:ns=64M:4096,zoned=-4M", "ZSIZE must be a byte count" },
		{ "emu:ns=64M:4096,zoned=4M/5M", "ZCAP must be whole" },
		{ "emu:ns=64M:4096,zoned=4M/0", "ZCAP must be whole" },
		{ "emu:ns=64M:4096,zoned=4M/", "ZCAP must be whole" },
		{ "emu:ns=64M:4096,zoned=4M/2K", "ZCAP must be whole" },
		{ "emu:ns=64M:4096,zoned=3M", "is not a whole number of" },
		{ "emu:ns=64M:4096,zoned=128M", "is not a whole number of" },
		{ "emu:ns=1G:512,zoned=8K", "is not a whole number of" },	/* 131072 zones */
		{ "emu:ns=64M:4096,zone_open=2", "must follow the zoned=" },
		{ "emu:ns=64M:4096,zoned=4M,zone_open=x", "bad zone_open=x" },
		{ "emu:ns=64M:4096,zoned=4M,zone_active=65537", "bad zone_active=65537" },
		{ "emu:ns=64M:4096,zoned=4M,zone_active=2,zone_open=3", "zone_open=3 is more" },
		{ "emu:ns=64M:4096,zoned=4M,ns=8M:512,zone_open=1", "must follow the zoned=" },
	};
	struct emu_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = nvp_emu_parse_opts(rows[i].spec, &o);

		if (!rows[i].msg) {
			if (rc)
				fail_msg("\"%s\": %s", rows[i].spec, nvp_last_error());
			assert_true(o.ns[0].zone_size > 0);
			continue;
		}
		if (rc != -EINVAL || !strstr(nvp_last_error(), rows[i].msg))
			fail_msg("\"%s\": rc %d \"%s\", want \"%s\"", rows[i].spec, rc,
				 nvp_last_error(), rows[i].msg);
	}
	assert_int_equal(nvp_emu_parse_opts("emu:ns=64M:4096,zoned=4M/3M,zone_open=6,zone_active=8",
					    &o), 0);
	assert_true(o.ns[0].zone_size == 4 << 20 && o.ns[0].zone_cap == 3 << 20);
	assert_int_equal(o.ns[0].max_open, 6);
	assert_int_equal(o.ns[0].max_active, 8);
}

/* ---- the zone state machine, every action from every state ------------------------- */

/* 64 zones of 16 blocks (capacity 12), no limits: one zone per row. */
#define ZSPEC "emu:ns=16M:4096,ns=4M:4096,zoned=64K/48K"
#define ZBLK 16
#define ZCAP 12

struct done {
	int calls;
	uint16_t status;
};

static void done_cb(void *arg, const struct nvp_cqe *cpl)
{
	struct done *d = arg;

	d->status = cpl->status & (uint16_t)~1u;
	d->calls++;
}

static int finish_cmd(struct nvp_qpair *qp, int rc, struct done *d)
{
	if (rc) {
		assert_int_equal(d->calls, 0);
		return rc;
	}
	for (int i = 0; i < 1000000 && !d->calls; i++)
		nvp_qpair_poll(qp, 0);
	assert_int_equal(d->calls, 1);
	return nvp_status_to_errno(d->status);
}

static int act(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t zs, int action)
{
	struct done d = { 0 };

	return finish_cmd(qp, nvp_zone_mgmt(qp, ns, zs, (enum nvp_zone_action)action, 0,
					    done_cb, &d), &d);
}

static int write1(struct nvp_qpair *qp, struct nvp_ns *ns, void *buf, uint64_t lba)
{
	struct done d = { 0 };

	return finish_cmd(qp, nvp_write(qp, ns, buf, lba, 1, 0, done_cb, &d), &d);
}

static struct nvp_zone zone(struct nvp_qpair *qp, struct nvp_ns *ns, uint64_t zs, void *buf)
{
	struct done d = { 0 };
	struct nvp_zone z = { 0 };

	assert_int_equal(finish_cmd(qp, nvp_zone_report(qp, ns, zs, NVP_ZONE_FILTER_ALL,
							NVP_ZONE_REPORT_PARTIAL, buf, 128,
							done_cb, &d), &d), 0);
	assert_int_equal(nvp_zone_report_parse(buf, 128, &z, 1, NULL), 1);
	return z;
}

#define ACT_WRITE 0x10	/* a one-block write at the write pointer */

static void test_state_machine(void **state)
{
	static const uint8_t states[] = {
		NVP_ZS_EMPTY, NVP_ZS_IMPLICIT_OPEN, NVP_ZS_EXPLICIT_OPEN, NVP_ZS_CLOSED,
		NVP_ZS_FULL, NVP_ZS_READ_ONLY, NVP_ZS_OFFLINE,
	};
	static const int actions[] = {
		NVP_ZONE_OPEN, NVP_ZONE_CLOSE, NVP_ZONE_FINISH, NVP_ZONE_RESET,
		NVP_ZONE_OFFLINE, ACT_WRITE,
	};
	/* want[state][action]: the errno, and the state after. */
	static const struct {
		int err;
		uint8_t after;
	} want[7][6] = {
		/* EMPTY */
		{ { 0, NVP_ZS_EXPLICIT_OPEN }, { -EINVAL, NVP_ZS_EMPTY }, { 0, NVP_ZS_FULL },
		  { 0, NVP_ZS_EMPTY }, { -EINVAL, NVP_ZS_EMPTY }, { 0, NVP_ZS_IMPLICIT_OPEN } },
		/* IMPLICIT OPEN */
		{ { 0, NVP_ZS_EXPLICIT_OPEN }, { 0, NVP_ZS_CLOSED }, { 0, NVP_ZS_FULL },
		  { 0, NVP_ZS_EMPTY }, { -EINVAL, NVP_ZS_IMPLICIT_OPEN },
		  { 0, NVP_ZS_IMPLICIT_OPEN } },
		/* EXPLICIT OPEN */
		{ { 0, NVP_ZS_EXPLICIT_OPEN }, { 0, NVP_ZS_CLOSED }, { 0, NVP_ZS_FULL },
		  { 0, NVP_ZS_EMPTY }, { -EINVAL, NVP_ZS_EXPLICIT_OPEN },
		  { 0, NVP_ZS_EXPLICIT_OPEN } },
		/* CLOSED */
		{ { 0, NVP_ZS_EXPLICIT_OPEN }, { 0, NVP_ZS_CLOSED }, { 0, NVP_ZS_FULL },
		  { 0, NVP_ZS_EMPTY }, { -EINVAL, NVP_ZS_CLOSED }, { 0, NVP_ZS_IMPLICIT_OPEN } },
		/* FULL */
		{ { -EINVAL, NVP_ZS_FULL }, { -EINVAL, NVP_ZS_FULL }, { 0, NVP_ZS_FULL },
		  { 0, NVP_ZS_EMPTY }, { -EINVAL, NVP_ZS_FULL }, { -ENOSPC, NVP_ZS_FULL } },
		/* READ ONLY */
		{ { -EINVAL, NVP_ZS_READ_ONLY }, { -EINVAL, NVP_ZS_READ_ONLY },
		  { -EINVAL, NVP_ZS_READ_ONLY }, { -EINVAL, NVP_ZS_READ_ONLY },
		  { 0, NVP_ZS_OFFLINE }, { -EROFS, NVP_ZS_READ_ONLY } },
		/* OFFLINE */
		{ { -EINVAL, NVP_ZS_OFFLINE }, { -EINVAL, NVP_ZS_OFFLINE },
		  { -EINVAL, NVP_ZS_OFFLINE }, { -EINVAL, NVP_ZS_OFFLINE },
		  { 0, NVP_ZS_OFFLINE }, { -EIO, NVP_ZS_OFFLINE } },
	};
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns;
	uint8_t *buf;
	uint32_t zi = 0;

	(void)state;
	assert_int_equal(nvp_ctrl_attach(ZSPEC, NULL, &ctrl), 0);
	ns = nvp_ctrl_get_ns(ctrl, 2);
	assert_non_null(ns);
	assert_true(nvp_ns_get_info(ns)->zoned);
	assert_null(nvp_ns_zns_info(nvp_ctrl_get_ns(ctrl, 1)));
	assert_int_equal(nvp_ns_zns_info(ns)->num_zones, 64);
	assert_int_equal(nvp_ns_zns_info(ns)->max_open, 0);
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	assert_non_null(buf);
	memset(buf, 0x42, 4096);
	for (size_t s = 0; s < 7; s++) {
		for (size_t a = 0; a < 6; a++, zi++) {
			uint64_t zs = (uint64_t)zi * ZBLK;
			uint8_t st = states[s];
			struct nvp_zone z;
			int rc;

			/* Bring zone @zi to the row's state. */
			bool bad = st == NVP_ZS_READ_ONLY || st == NVP_ZS_OFFLINE;

			if (st == NVP_ZS_IMPLICIT_OPEN || st == NVP_ZS_CLOSED || bad)
				assert_int_equal(write1(qp, ns, buf, zs), 0);
			if (st == NVP_ZS_EXPLICIT_OPEN)
				assert_int_equal(act(qp, ns, zs, NVP_ZONE_OPEN), 0);
			if (st == NVP_ZS_CLOSED)
				assert_int_equal(act(qp, ns, zs, NVP_ZONE_CLOSE), 0);
			if (st == NVP_ZS_FULL)
				assert_int_equal(act(qp, ns, zs, NVP_ZONE_FINISH), 0);
			if (bad)
				assert_int_equal(nvp_emu_set_zone_state(ctrl, 2, zs,
									NVP_ZS_READ_ONLY), 0);
			if (st == NVP_ZS_OFFLINE)
				assert_int_equal(act(qp, ns, zs, NVP_ZONE_OFFLINE), 0);
			z = zone(qp, ns, zs, buf + 2048);
			assert_int_equal(z.state, st);
			/* No write pointer where writes cannot go. */
			assert_int_equal(z.wp == UINT64_MAX, st == NVP_ZS_FULL || bad);

			rc = actions[a] == ACT_WRITE ? write1(qp, ns, buf,
								 z.wp == UINT64_MAX ? zs : z.wp) :
			     act(qp, ns, zs, actions[a]);
			z = zone(qp, ns, zs, buf + 2048);
			if (rc != want[s][a].err || z.state != want[s][a].after)
				fail_msg("zone %u %s, action %d: %d -> %s; want %d -> %s", zi,
					 nvp_zone_state_name(st), actions[a], rc,
					 nvp_zone_state_name(z.state), want[s][a].err,
					 nvp_zone_state_name(want[s][a].after));
			if (z.state == NVP_ZS_EMPTY)
				assert_true(z.wp == zs);
			if (z.state == NVP_ZS_FULL)
				assert_true(z.capacity == ZCAP);
		}
	}
	/* Select all: reset takes open, closed and full zones, not offline. */
	assert_int_equal(act(qp, ns, 0, NVP_ZONE_RESET) , 0);
	{
		struct done d = { 0 };

		assert_int_equal(finish_cmd(qp, nvp_zone_mgmt(qp, ns, 0, NVP_ZONE_RESET,
							      NVP_ZONE_SELECT_ALL, done_cb, &d),
					    &d), 0);
	}
	for (uint32_t i = 0; i < zi; i++) {
		struct nvp_zone z = zone(qp, ns, (uint64_t)i * ZBLK, buf + 2048);

		assert_true(z.state == NVP_ZS_EMPTY || z.state == NVP_ZS_READ_ONLY ||
			    z.state == NVP_ZS_OFFLINE);
	}
	nvp_dma_free(buf);
	nvp_qpair_free(qp);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

/*
 * The open and active limits, as QEMU 7.2 keeps them: a write (implicit
 * open) or an explicit open at the open limit first closes the oldest
 * implicitly open zone; with none to close, Too Many Open Zones; an empty
 * zone past the active limit, Too Many Active Zones. Zone 0..5, 2 open,
 * 3 active; each row is a step and the states of zones 0..4 after it.
 */
static void test_limits(void **state)
{
	static const struct {
		int zone;
		int action;	/* ACT_WRITE or an NVP_ZONE_* action */
		int err;
		const char *after;	/* states of zones 0..4: E I X C F */
	} rows[] = {
		{ 0, ACT_WRITE, 0, "IEEEE" },
		{ 1, ACT_WRITE, 0, "IIEEE" },
		/* At the open limit: zone 0, the oldest implicit one, closes. */
		{ 2, ACT_WRITE, 0, "CIIEE" },
		/* 3 active: an empty zone is one too many. QEMU closes the oldest
		 * implicit zone (1) before it finds that out, and so does emu. */
		{ 3, ACT_WRITE, -EOVERFLOW, "CCIEE" },
		{ 3, NVP_ZONE_OPEN, -EOVERFLOW, "CCIEE" },
		/* Explicit opens of closed zones; the second closes zone 2. */
		{ 0, NVP_ZONE_OPEN, 0, "XCIEE" },
		{ 1, NVP_ZONE_OPEN, 0, "XXCEE" },
		/* Both open zones explicit: nothing to close, too many open. */
		{ 2, ACT_WRITE, -ETOOMANYREFS, "XXCEE" },
		{ 2, NVP_ZONE_OPEN, -ETOOMANYREFS, "XXCEE" },
		/* Finishing one frees an open and an active resource. */
		{ 0, NVP_ZONE_FINISH, 0, "FXCEE" },
		{ 2, ACT_WRITE, 0, "FXIEE" },
		/* An empty zone: zone 2 closes for it, and 3 active still fit. */
		{ 3, ACT_WRITE, 0, "FXCIE" },
		/* A reset frees an open and an active resource. */
		{ 1, NVP_ZONE_RESET, 0, "FECIE" },
		{ 4, ACT_WRITE, 0, "FECII" },
		/* Select All close: both open zones. */
		{ 0, NVP_ZONE_CLOSE | 0x100, 0, "FECCC" },
		/* Open all three closed zones: two open, then too many (QEMU too
		 * opens them in order and stops at the first refusal). */
		{ 0, NVP_ZONE_OPEN | 0x100, -ETOOMANYREFS, "FEXXC" },
		{ 1, ACT_WRITE, -EOVERFLOW, "FEXXC" },
		/* Finish all: open and closed; reset all: everything empty. */
		{ 0, NVP_ZONE_FINISH | 0x100, 0, "FEFFF" },
		{ 0, NVP_ZONE_RESET | 0x100, 0, "EEEEE" },
	};
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns;
	uint8_t *buf;

	(void)state;
	assert_int_equal(nvp_ctrl_attach("emu:ns=16M:4096,ns=384K:4096,zoned=64K/48K,"
					 "zone_open=2,zone_active=3", NULL, &ctrl), 0);
	ns = nvp_ctrl_get_ns(ctrl, 2);
	assert_non_null(ns);
	assert_int_equal(nvp_ns_zns_info(ns)->max_open, 2);
	assert_int_equal(nvp_ns_zns_info(ns)->max_active, 3);
	assert_int_equal(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t zs = (uint64_t)rows[i].zone * ZBLK;
		char got[6] = { 0 };
		int rc;

		if (rows[i].action == ACT_WRITE) {
			struct nvp_zone z = zone(qp, ns, zs, buf + 2048);

			rc = write1(qp, ns, buf, z.wp == UINT64_MAX ? zs : z.wp);
		} else if (rows[i].action & 0x100) {
			struct done d = { 0 };

			rc = finish_cmd(qp, nvp_zone_mgmt(qp, ns, 0,
							  (enum nvp_zone_action)(rows[i].action & 0xff),
							  NVP_ZONE_SELECT_ALL, done_cb, &d), &d);
		} else {
			rc = act(qp, ns, zs, rows[i].action);
		}
		for (int z = 0; z < 5; z++) {
			uint8_t st = zone(qp, ns, (uint64_t)z * ZBLK, buf + 2048).state;

			got[z] = st == NVP_ZS_EMPTY ? 'E' : st == NVP_ZS_IMPLICIT_OPEN ? 'I' :
				 st == NVP_ZS_EXPLICIT_OPEN ? 'X' : st == NVP_ZS_CLOSED ? 'C' :
				 st == NVP_ZS_FULL ? 'F' : '?';
		}
		if (rc != rows[i].err || strcmp(got, rows[i].after))
			fail_msg("step %zu (zone %d, action 0x%x): %d %s; want %d %s", i,
				 rows[i].zone, rows[i].action, rc, got, rows[i].err, rows[i].after);
	}
	nvp_dma_free(buf);
	nvp_qpair_free(qp);
	assert_int_equal(nvp_ctrl_detach(ctrl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desc_decode),
		cmocka_unit_test(test_report_parse),
		cmocka_unit_test(test_desc_csi),
		cmocka_unit_test(test_zoned_options),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
