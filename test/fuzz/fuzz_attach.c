/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/fuzz/fuzz_attach.c - libFuzzer target: everything a controller
 * hands the driver at and after attach. The input is the record list of
 * an emu:raw= file (docs/emu.md, "Raw device data") without its magic:
 * CAP and VS, Identify Controller / Namespace / active namespace list
 * (any CNS) and log pages. The target repairs the framing so every input
 * is a valid file, then goes through the real attach path
 * (nvp_ctrl_attach -> lib/nvme/init.c), reads every namespace, writes one
 * block, reads log pages with nvp_get_log_page(), and detaches.
 *
 * Checked beyond "no crash, no sanitizer report": what attach reports is
 * sane (block sizes, namespace walk), and every accepted command calls
 * back exactly once (a dropped completion times out: io_timeout_ms 20).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nvpoll/nvpoll.h>

#include "emu_raw_file.h"
#include "fuzz_common.h"

/* Framing repaired to what emu:raw= accepts; a cut last record is dropped. */
static void build_raw(const uint8_t *data, size_t size, struct raw_file *f)
{
	static uint8_t page[65536];
	size_t off = 0;

	raw_init(f);
	while (size - off >= 12) {
		uint8_t type = (uint8_t)(1 + (data[off] + 2) % 3);	/* 1, 2, 3 */
		uint8_t id = data[off + 1];
		uint16_t flags;
		uint32_t nsid, len;

		memcpy(&flags, data + off + 2, 2);
		memcpy(&nsid, data + off + 4, 4);
		memcpy(&len, data + off + 8, 4);
		off += 12;
		len = len > size - off ? (uint32_t)(size - off) : len;
		switch (type) {
		case RAW_IDENTIFY:
			if (len > 4096)
				len = 4096;
			break;
		case RAW_LOG:
			len &= ~3u;
			if (len > 65536)
				len = 65536;
			if (!len)
				continue;
			break;
		default:
			if (len < 4)
				continue;
			/* 8 bytes: CAP; 4 to 7: VS. */
			nsid = len >= 8 ? NVP_REG_CAP : NVP_REG_VS;
			len = len >= 8 ? 8 : 4;
			break;
		}
		memcpy(page, data + off, len);
		raw_add(f, type, id, flags & 1, nsid, page, len);
		off += len;
	}
}

static void exercise_ns(struct nvp_ctrl *ctrl, struct nvp_qpair *qp, struct nvp_ns *ns,
			uint8_t *buf, struct fuzz_cmds *t)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	struct fuzz_cmd *c;
	uint32_t nlb;

	FUZZ_CHECK(ni != NULL);
	FUZZ_CHECK(ni->block_size >= 512 && ni->block_size <= 65536 &&
		   !(ni->block_size & (ni->block_size - 1)));
	if (!ni->num_blocks)
		return;
	/* One block at each end, and up to 64 KiB from the start. */
	nlb = 65536 / ni->block_size;
	if (nlb > ni->num_blocks)
		nlb = (uint32_t)ni->num_blocks;
	if ((c = fuzz_next(t)))
		fuzz_submitted(t, nvp_read(qp, ns, buf, 0, nlb, 0, fuzz_on_done, c));
	if ((c = fuzz_next(t)))
		fuzz_submitted(t, nvp_read(qp, ns, buf + 65536, ni->num_blocks - 1, 1, 0,
					   fuzz_on_done, c));
	if ((c = fuzz_next(t)))
		fuzz_submitted(t, nvp_write(qp, ns, buf + 131072, 0, 1, NVP_IO_FUA, fuzz_on_done, c));
	if ((c = fuzz_next(t)))
		fuzz_submitted(t, nvp_flush(qp, ns, fuzz_on_done, c));
	if (ni->supports_write_zeroes && (c = fuzz_next(t)))
		fuzz_submitted(t, nvp_write_zeroes(qp, ns, 0, 1, 0, fuzz_on_done, c));
	fuzz_drain(ctrl, qp, t, 2000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvp_ctrl_opts o;
	struct nvp_ctrl *ctrl;
	struct nvp_qpair *qp = NULL;
	struct fuzz_cmds t;
	struct raw_file f;
	const struct nvp_ctrl_info *info;
	char addr[128];
	static uint8_t *buf;
	unsigned int walked = 0;
	int fd;

	if (size > 256 * 1024)
		return 0;
	build_raw(data, size, &f);
	fd = memfd_create("nvp-fuzz-raw", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, f.buf, f.len) == (ssize_t)f.len);
	raw_free(&f);
	snprintf(addr, sizeof(addr), "emu:ns=1M:512,ns=256K:4096,qpairs=2,mqes=64,raw=/proc/self/fd/%d",
		 fd);
	nvp_ctrl_opts_init(&o, sizeof(o));
	o.admin_timeout_ms = 500;
	o.io_timeout_ms = 20;
	o.num_io_queues = 2;
	if (nvp_ctrl_attach(addr, &o, &ctrl)) {
		close(fd);
		return 0;	/* refused: fine, as long as nothing broke */
	}
	close(fd);
	info = nvp_ctrl_get_info(ctrl);
	FUZZ_CHECK(info->max_xfer_bytes >= info->page_size);
	for (struct nvp_ns *ns = nvp_ctrl_first_ns(ctrl); ns; ns = nvp_ctrl_next_ns(ctrl, ns)) {
		FUZZ_CHECK(nvp_ctrl_get_ns(ctrl, nvp_ns_get_info(ns)->nsid) == ns);
		walked++;
	}
	FUZZ_CHECK(walked == info->num_ns);

	/* One DMA buffer for the whole run: allocating it costs more than an input. */
	if (!buf)
		buf = nvp_dma_alloc(1u << 20, 4096, NVP_NUMA_ANY);
	memset(&t, 0, sizeof(t));
	if (buf && !nvp_qpair_alloc(ctrl, NULL, &qp)) {
		unsigned int n = 0;

		memset(buf, 0x5a, 1u << 20);
		for (struct nvp_ns *ns = nvp_ctrl_first_ns(ctrl); ns && n < 4;
		     ns = nvp_ctrl_next_ns(ctrl, ns), n++)
			exercise_ns(ctrl, qp, ns, buf, &t);
		nvp_qpair_free(qp);
		fuzz_all_called_once(&t);
	}
	/* Log pages: the standard ones and whatever LIDs the input names. */
	if (buf) {
		static const uint8_t lids[] = { NVP_LOG_ERROR, NVP_LOG_SMART, NVP_LOG_FW_SLOT,
						NVP_LOG_CMD_EFFECTS };
		size_t len = 4 + (size ? data[0] % 64 : 0) * 64;

		for (size_t i = 0; i < sizeof(lids); i++)
			nvp_get_log_page(ctrl, 0xffffffff, lids[i], buf, len);
		for (size_t off = 0; off + 12 <= size && off < 8 * 12; off += 12)
			nvp_get_log_page(ctrl, 0xffffffff, data[off + 1], buf, len);
	}
	FUZZ_CHECK(nvp_ctrl_detach(ctrl) == 0);
	return 0;
}
