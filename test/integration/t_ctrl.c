// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_ctrl.c - attach, identify, detach, and admin passthrough.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

/* Copy a space-padded Identify string and trim it, as the library should. */
static void trimmed(char *out, const char *in, size_t len)
{
	memcpy(out, in, len);
	out[len] = '\0';
	while (len && (out[len - 1] == ' ' || out[len - 1] == '\0'))
		out[--len] = '\0';
}

/*
 * After detach the kernel driver must own the controller again and its
 * namespace must be readable: that is what "give it back" means.
 */
static void check_kernel_has_it(const char *addr)
{
	char bdf[64], drv[64], blk[64], dev[80];
	void *buf = NULL;
	int i, fd = -1;
	ssize_t n;

	itest_pci_canon(addr, bdf, sizeof(bdf));
	/* The kernel probes asynchronously; give it up to 10 s. */
	for (i = 0; i < 100; i++) {
		itest_pci_driver(bdf, drv, sizeof(drv));
		if (strcmp(drv, "nvme") == 0 && itest_pci_blockdev(bdf, blk, sizeof(blk)))
			break;
		itest_sleep_ms(100);
	}
	CHECKF(strcmp(drv, "nvme") == 0, "%s is bound to '%s' after detach, not nvme", bdf,
	       drv[0] ? drv : "(none)");
	CHECKF(i < 100, "%s: no namespace block device 10 s after detach", bdf);
	snprintf(dev, sizeof(dev), "/dev/%s", blk);
	for (i = 0; i < 50 && access(dev, F_OK); i++)
		itest_sleep_ms(100);
	fd = open(dev, O_RDONLY | O_DIRECT);
	CHECKF(fd >= 0, "open %s: %s", dev, strerror(errno));
	CHECK(posix_memalign(&buf, 4096, 4096) == 0);
	n = pread(fd, buf, 4096, 0);
	CHECKF(n == 4096, "4 KiB read from %s returned %zd (%s)", dev, n,
	       n < 0 ? strerror(errno) : "short");
	itest_notef("%s back on nvme, %s readable", bdf, dev);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

static uint64_t expected_max_xfer(const struct nvp_ctrl_opts *opts,
				  const struct nvp_ctrl_info *info,
				  const struct nvp_id_ctrl *id)
{
	uint64_t mps_min = 1ull << (12 + NVP_CAP_MPSMIN(info->cap));
	uint64_t lim = opts->max_xfer_bytes;

	if (id->mdts && (mps_min << id->mdts) < lim)
		lim = mps_min << id->mdts;
	return lim;
}

void test_attach_identify_detach(void)
{
	const char *addr = itest_cfg.addr[0];
	bool emu = itest_addr_is_emu(addr);
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	const struct nvp_ctrl_info *info;
	const struct nvp_id_ctrl *id;
	struct nvp_ctrl_opts opts;
	struct nvp_ns *ns, *prev = NULL;
	char want[64], sn[21], mn[41];
	void *w = NULL, *r = NULL;
	uint32_t count = 0;
	int rc;

	/* This test owns the attach: nothing shared may hold the device. */
	CHECK_RC(itest_dev_detach(0), 0);
	nvp_ctrl_opts_init(&opts, sizeof(opts));
	rc = nvp_ctrl_attach(addr, &opts, &ctrl);
	CHECKF(rc == 0, "attach %s: %d (%s): %s", addr, rc, itest_errname(rc),
	       nvp_last_error());
	info = nvp_ctrl_get_info(ctrl);
	id = nvp_ctrl_identify(ctrl);
	CHECK(info && id);

	if (emu) {
		CHECK(info->driver == NVP_DRIVER_EMU);
		CHECKF(strncmp(info->addr, "emu", 3) == 0, "info addr '%s'", info->addr);
	} else {
		itest_pci_canon(addr, want, sizeof(want));
		CHECKF(strcmp(info->addr, want) == 0, "info addr '%s', expected '%s'",
		       info->addr, want);
		CHECKF(info->driver == NVP_DRIVER_VFIO || info->driver == NVP_DRIVER_VFIO_NOIOMMU ||
		       info->driver == NVP_DRIVER_UIO, "driver %d", info->driver);
		CHECK(info->vid != 0 && info->vid != 0xffff);
	}
	/* Identify data is little-endian; the info fields are in CPU order. */
	CHECKF(info->vid == nvp_le16_to_cpu(id->vid), "info vid %#x, identify %#x", info->vid,
	       nvp_le16_to_cpu(id->vid));
	trimmed(sn, id->sn, sizeof(id->sn));
	trimmed(mn, id->mn, sizeof(id->mn));
	CHECKF(strcmp(info->serial, sn) == 0, "serial '%s', identify '%s'", info->serial, sn);
	CHECKF(strcmp(info->model, mn) == 0, "model '%s', identify '%s'", info->model, mn);
	CHECK(info->serial[0] && info->model[0]);
	CHECKF(info->version >= 0x10000, "version %#x", info->version);

	CHECKF(info->page_size >= 4096 && (info->page_size & (info->page_size - 1)) == 0,
	       "page size %u", info->page_size);
	CHECKF(info->page_size >= (1u << (12 + NVP_CAP_MPSMIN(info->cap))) &&
	       info->page_size <= (1u << (12 + NVP_CAP_MPSMAX(info->cap))),
	       "page size %u outside CAP.MPSMIN..MPSMAX", info->page_size);
	CHECKF(info->max_xfer_bytes == expected_max_xfer(&opts, info, id),
	       "max_xfer_bytes %u, expected %llu (MDTS %u, opts %u)", info->max_xfer_bytes,
	       (unsigned long long)expected_max_xfer(&opts, info, id), id->mdts,
	       opts.max_xfer_bytes);
	CHECKF(info->max_queue_entries == NVP_CAP_MQES(info->cap) + 1,
	       "max_queue_entries %u, CAP.MQES+1 %u", info->max_queue_entries,
	       NVP_CAP_MQES(info->cap) + 1);
	CHECKF(info->num_io_queues >= 1 && info->num_io_queues <= opts.num_io_queues,
	       "granted %u I/O queues (asked %u)", info->num_io_queues, opts.num_io_queues);
	CHECKF(info->oncs == nvp_le16_to_cpu(id->oncs), "oncs %#x, identify %#x", info->oncs,
	       nvp_le16_to_cpu(id->oncs));
	CHECK(info->vwc == !!(id->vwc & NVP_VWC_PRESENT));
	CHECKF(info->sgl_supported == ((nvp_le32_to_cpu(id->sgls) & NVP_SGLS_SUPPORT_MASK) != 0),
	       "sgl_supported %d, SGLS %#x", info->sgl_supported, nvp_le32_to_cpu(id->sgls));
	CHECK(!nvp_ctrl_is_failed(ctrl));

	for (ns = nvp_ctrl_first_ns(ctrl); ns; ns = nvp_ctrl_next_ns(ctrl, ns)) {
		const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
		const struct nvp_id_ns *in = nvp_ns_identify(ns);
		uint32_t lbads = in->lbaf[NVP_ID_NS_FLBAS_INDEX(in->flbas)].lbads;

		CHECKF(count < 1024, "next_ns never returns NULL");
		if (prev)
			CHECKF(ni->nsid > nvp_ns_get_info(prev)->nsid, "nsid %u not ascending",
			       ni->nsid);
		CHECKF(nvp_ctrl_get_ns(ctrl, ni->nsid) == ns, "get_ns(%u) differs from first/next",
		       ni->nsid);
		CHECKF(ni->block_size == (1u << lbads) && ni->block_size >= 512,
		       "nsid %u block size %u, LBADS %u", ni->nsid, ni->block_size, lbads);
		CHECKF(ni->num_blocks == nvp_le64_to_cpu(in->nsze) && ni->num_blocks > 0,
		       "nsid %u num_blocks %llu, NSZE %llu", ni->nsid,
		       (unsigned long long)ni->num_blocks,
		       (unsigned long long)nvp_le64_to_cpu(in->nsze));
		CHECK(ni->capacity_blocks == nvp_le64_to_cpu(in->ncap) &&
		      ni->capacity_blocks <= ni->num_blocks);
		CHECK(ni->size_bytes == ni->num_blocks * ni->block_size);
		CHECKF(ni->max_io_blocks == info->max_xfer_bytes / ni->block_size,
		       "nsid %u max_io_blocks %u, max_xfer %u / %u", ni->nsid, ni->max_io_blocks,
		       info->max_xfer_bytes, ni->block_size);
		CHECK(ni->supports_write_zeroes == !!(info->oncs & NVP_ONCS_WRITE_ZEROES));
		CHECK(ni->supports_dsm == !!(info->oncs & NVP_ONCS_DSM));
		CHECK(ni->supports_compare == !!(info->oncs & NVP_ONCS_COMPARE));
		CHECK(ni->deallocated_reads_zeroes == ((in->dlfeat & 0x7) == 1));
		itest_notef("ns%u %llux%u", ni->nsid, (unsigned long long)ni->num_blocks,
			    ni->block_size);
		prev = ns;
		count++;
	}
	CHECKF(count == info->num_ns && count > 0, "first/next found %u namespaces, info %u",
	       count, info->num_ns);
	errno = 0;
	CHECK(nvp_ctrl_get_ns(ctrl, 0) == NULL);
	CHECK(nvp_ctrl_get_ns(ctrl, 999) == NULL && errno == ENOENT);
	CHECK(nvp_ctrl_get_ns(ctrl, 0xffffffff) == NULL);
	itest_notef("mdts %u -> max xfer %u, mqes+1 %u, %u qpairs, sgl %d", id->mdts,
		    info->max_xfer_bytes, info->max_queue_entries, info->num_io_queues,
		    info->sgl_supported);

	/* One verified I/O proves the attach is usable before we let go. */
	ns = nvp_ctrl_first_ns(ctrl);
	CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
	w = nvp_dma_alloc(nvp_ns_get_info(ns)->block_size, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc(nvp_ns_get_info(ns)->block_size, 0, NVP_NUMA_ANY);
	CHECK(w && r);
	CHECK(write_read_verify(qp, ns, w, r, 0, 1, itest_cfg.seed, 0));
	nvp_qpair_free(qp);
	qp = NULL;

	rc = nvp_ctrl_detach(ctrl);
	ctrl = NULL;
	CHECK_RC(rc, 0);
	if (!emu)
		check_kernel_has_it(addr);
out:
	nvp_qpair_free(qp);
	if (ctrl)
		nvp_ctrl_detach(ctrl);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

void test_reattach_buffer_survives(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns;
	uint32_t bs, nlb;
	void *w = NULL, *r = NULL;
	char why[160];
	uint64_t lba;

	CHECK(d);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	nlb = 8;
	lba = 64;
	w = nvp_dma_alloc((size_t)nlb * bs, 0, NVP_NUMA_ANY);
	r = nvp_dma_alloc((size_t)nlb * bs, 0, NVP_NUMA_ANY);
	CHECK(w && r);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	CHECK(write_read_verify(qp, ns, w, r, lba, nlb, itest_cfg.seed + 77, 0));
	nvp_qpair_free(qp);
	qp = NULL;

	/*
	 * Bus addresses depend on the attach (a new VFIO container, a new
	 * emulator): memory allocated before must be mapped into the new one.
	 */
	d = itest_dev_reattach(0, NULL);
	CHECK(d);
	ns = d->ns[0];
	qp = qpair_alloc_default(d);
	CHECK(qp);
	if (!d->is_emu) {
		/* A real disk keeps what was written before the detach. */
		memset(r, 0, (size_t)nlb * bs);
		CHECK_RC(io_sync(qp, ns, IO_READ, r, lba, nlb, 0, NULL), 0);
		CHECKF(pattern_check(r, lba, nlb, bs, itest_cfg.seed + 77, why, sizeof(why)) < 0,
		       "after re-attach: %s", why);
	}
	CHECK(write_read_verify(qp, ns, w, r, lba, nlb, itest_cfg.seed + 78, 0));
out:
	nvp_qpair_free(qp);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

/*
 * Detach and attach again at once, as an application restarting would: on
 * PCI the kernel's nvme driver is still probing the controller it was just
 * given back when the library takes it away again. The I/O after it must
 * still work. Runs last among the PCI tests (a broken device would spoil
 * the tests after it).
 */
void test_reattach_immediate(void)
{
	const char *addr = itest_cfg.addr[0];
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns;
	void *w = NULL, *r = NULL;
	int round, rc;

	CHECK_RC(itest_dev_detach(0), 0);
	for (round = 0; round < (itest_cfg.quick ? 2 : 3); round++) {
		rc = nvp_ctrl_attach(addr, NULL, &ctrl);
		CHECKF(rc == 0, "attach %d: %d (%s): %s", round, rc, itest_errname(rc),
		       nvp_last_error());
		ns = nvp_ctrl_first_ns(ctrl);
		w = nvp_dma_alloc(64 * 4096, 0, NVP_NUMA_ANY);
		r = nvp_dma_alloc(64 * 4096, 0, NVP_NUMA_ANY);
		CHECK(w && r);
		CHECK_RC(nvp_qpair_alloc(ctrl, NULL, &qp), 0);
		CHECKF(write_read_verify(qp, ns, w, r, 32, 64 * 4096 / nvp_ns_get_info(ns)->block_size,
					 itest_cfg.seed + round, 0), "round %d", round);
		nvp_qpair_free(qp);
		qp = NULL;
		nvp_dma_free(w);
		nvp_dma_free(r);
		w = r = NULL;
		rc = nvp_ctrl_detach(ctrl);
		ctrl = NULL;
		CHECK_RC(rc, 0);
	}
out:
	nvp_qpair_free(qp);
	if (ctrl)
		nvp_ctrl_detach(ctrl);
	nvp_dma_free(w);
	nvp_dma_free(r);
}

/* Low 64 bits of a 128-bit little-endian SMART counter. */
static uint64_t u128_lo(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return nvp_le64_to_cpu(v);
}

static uint16_t smart_temp(const struct nvp_smart_log *s)
{
	uint16_t t;

	memcpy(&t, (const uint8_t *)s + offsetof(struct nvp_smart_log, temperature), 2);
	return nvp_le16_to_cpu(t);
}

void test_admin_smart_log(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_smart_log *a = NULL, *b = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_sqe cmd;
	struct nvp_cqe cpl;
	struct nvp_ns *ns;
	uint64_t duw0, hw0, written = 0;
	uint32_t bs, chunk, writes = 0;
	void *buf = NULL;
	uint16_t temp;
	int i, rc;

	CHECK(d);
	a = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	b = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(a && b);
	memset(a, 0xee, 512);
	rc = nvp_get_log_page(d->ctrl, 0xffffffff, NVP_LOG_SMART, a, 512);
	CHECKF(rc == 0, "nvp_get_log_page(SMART): %d (%s): %s", rc, itest_errname(rc),
	       nvp_last_error());

	/* The same page through raw passthrough: NUMDL is 0's based dwords. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_GET_LOG_PAGE;
	cmd.nsid = 0xffffffff;
	cmd.cdw10 = NVP_LOG_SMART | ((512 / 4 - 1) << 16);
	memset(b, 0xee, 512);
	memset(&cpl, 0xff, sizeof(cpl));
	rc = nvp_admin_cmd_sync(d->ctrl, &cmd, b, 512, &cpl);
	CHECKF(rc == 0, "raw Get Log Page: %d (%s), status %#x %s", rc, itest_errname(rc),
	       cpl.status, nvp_status_str(cpl.status));
	CHECKF(!NVP_CPL_IS_ERROR(&cpl), "raw Get Log Page cpl status %#x", cpl.status);

	/* Nothing ran in between, so the counters must agree. */
	CHECK(a->critical_warning == b->critical_warning);
	CHECK(u128_lo(a->data_units_written) == u128_lo(b->data_units_written));
	CHECK(u128_lo(a->host_writes) == u128_lo(b->host_writes));
	CHECK(u128_lo(a->power_cycles) == u128_lo(b->power_cycles));
	CHECKF(a->avail_spare <= 100 && a->spare_thresh <= 100, "spare %u thresh %u",
	       a->avail_spare, a->spare_thresh);
	/* Reserved bytes are zero; our 0xee filler there means a short transfer. */
	CHECK(buf_is_zero(a->rsvd232, sizeof(a->rsvd232)));
	CHECK(buf_is_zero(b->rsvd232, sizeof(b->rsvd232)));
	temp = smart_temp(a);
	if (d->is_emu)
		CHECKF(temp == 0 || (temp > 250 && temp < 400), "temperature %u K", temp);
	else
		CHECKF(temp > 250 && temp < 400, "temperature %u K (expected a sane Kelvin value)",
		       temp);
	CHECKF(a->critical_warning == 0, "critical warning %#x", a->critical_warning);

	/* Data Units Written counts thousands of 512-byte units: write 2 MiB. */
	duw0 = u128_lo(a->data_units_written);
	hw0 = u128_lo(a->host_writes);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	chunk = d->info->max_xfer_bytes / bs;
	buf = nvp_dma_alloc((size_t)chunk * bs, 0, NVP_NUMA_ANY);
	CHECK(buf);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	pattern_fill(buf, 0, chunk, bs, itest_cfg.seed);
	for (i = 0; written < (2u << 20); i++) {
		CHECK_RC(io_sync(qp, ns, IO_WRITE, buf, 256 + (uint64_t)i * chunk, chunk, 0, NULL), 0);
		written += (uint64_t)chunk * bs;
		writes++;
	}
	CHECK_RC(nvp_get_log_page(d->ctrl, 0xffffffff, NVP_LOG_SMART, a, 512), 0);
	CHECKF(u128_lo(a->data_units_written) >= duw0 + written / 512000 - 1,
	       "data units written %llu -> %llu after writing %llu bytes",
	       (unsigned long long)duw0, (unsigned long long)u128_lo(a->data_units_written),
	       (unsigned long long)written);
	CHECKF(u128_lo(a->host_writes) >= hw0 + writes,
	       "host write commands %llu -> %llu after %u writes", (unsigned long long)hw0,
	       (unsigned long long)u128_lo(a->host_writes), writes);
	itest_notef("temp %u K, data units written %llu -> %llu", temp,
		    (unsigned long long)duw0, (unsigned long long)u128_lo(a->data_units_written));

	/* An odd length is not a dword count. */
	rc = nvp_get_log_page(d->ctrl, 0xffffffff, NVP_LOG_SMART, a, 510);
	CHECKF(rc < 0, "nvp_get_log_page with 510 bytes returned %d", rc);
	/* The admin queue still works after the refusal. */
	CHECK_RC(nvp_get_log_page(d->ctrl, 0xffffffff, NVP_LOG_SMART, a, 512), 0);
	CHECK(qpair_still_works(qp, ns, 8));
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
	nvp_dma_free(a);
	nvp_dma_free(b);
}

#define ASYNC_IDS 4

void test_admin_async_identify(void)
{
	struct itest_dev *d = itest_dev(0);
	struct io_cpl *cpl = NULL;
	struct nvp_id_ctrl *ic = NULL;
	struct nvp_id_ns *in[ASYNC_IDS] = { NULL };
	const struct nvp_id_ctrl *ref;
	struct nvp_sqe cmd;
	int i, nns, submitted = 0, rc;

	CHECK(d);
	cpl = calloc(ASYNC_IDS + 1, sizeof(*cpl));
	CHECK(cpl);
	ic = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(ic);
	nns = d->num_ns < ASYNC_IDS ? d->num_ns : ASYNC_IDS;

	/* Several admin commands in flight at once, reaped by process_admin. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_IDENTIFY;
	cmd.cdw10 = NVP_CNS_CTRL;
	io_cpl_init(&cpl[0]);
	CHECK_RC(nvp_admin_cmd(d->ctrl, &cmd, ic, 4096, io_cpl_cb, &cpl[0]), 0);
	submitted++;
	for (i = 0; i < nns; i++) {
		in[i] = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
		CHECK(in[i]);
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVP_ADMIN_IDENTIFY;
		cmd.nsid = nvp_ns_get_info(d->ns[i])->nsid;
		cmd.cdw10 = NVP_CNS_NS;
		io_cpl_init(&cpl[i + 1]);
		CHECK_RC(nvp_admin_cmd(d->ctrl, &cmd, in[i], 4096, io_cpl_cb, &cpl[i + 1]), 0);
		submitted++;
	}
	/* Each callback bumps its own counter; the last one tells us we are done. */
	for (i = 0; i < submitted; i++) {
		rc = admin_poll_until(d->ctrl, &cpl[i].calls, 1);
		CHECKF(rc == 0, "admin command %d: %d (%s)", i, rc, itest_errname(rc));
	}
	for (i = 0; i < 8; i++)
		nvp_ctrl_process_admin(d->ctrl);
	for (i = 0; i < submitted; i++) {
		CHECKF(atomic_load(&cpl[i].calls) == 1, "admin command %d: %d callbacks", i,
		       atomic_load(&cpl[i].calls));
		CHECKF(cpl[i].status == 0, "admin command %d: status %#x %s", i, cpl[i].status,
		       nvp_status_str(cpl[i].status));
	}

	ref = nvp_ctrl_identify(d->ctrl);
	CHECK(memcmp(ic->sn, ref->sn, sizeof(ic->sn)) == 0);
	CHECK(memcmp(ic->mn, ref->mn, sizeof(ic->mn)) == 0);
	CHECK(ic->vid == ref->vid && ic->nn == ref->nn && ic->mdts == ref->mdts);
	CHECK(ic->oncs == ref->oncs && ic->sgls == ref->sgls);
	for (i = 0; i < nns; i++) {
		const struct nvp_id_ns *r = nvp_ns_identify(d->ns[i]);

		CHECKF(in[i]->nsze == r->nsze && in[i]->flbas == r->flbas &&
		       memcmp(in[i]->lbaf, r->lbaf, sizeof(r->lbaf)) == 0,
		       "Identify Namespace %u differs from the attach-time copy",
		       nvp_ns_get_info(d->ns[i])->nsid);
	}
out:
	/* Nothing may still be writing into the buffers we free. */
	if (cpl)
		for (i = 0; i < 100; i++)
			nvp_ctrl_process_admin(d->ctrl);
	for (i = 0; i < ASYNC_IDS; i++)
		nvp_dma_free(in[i]);
	nvp_dma_free(ic);
	free(cpl);
}

void test_bad_detach_busy(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;

	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	CHECK_RC(nvp_ctrl_detach(d->ctrl), -EBUSY);
	/* "Nothing is done": the controller and the qpair still work. */
	CHECK(!nvp_ctrl_is_failed(d->ctrl));
	CHECK(qpair_still_works(qp, d->ns[0], 16));
out:
	nvp_qpair_free(qp);
}
