// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_bad.c - bad input: each case gets the documented error, no callback, and
 * the qpair keeps working (proved by a verified write and read after it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "itest.h"

#define LBA_SCRATCH 800

static void raw_rw(struct nvp_sqe *cmd, uint8_t opc, uint32_t nsid, uint64_t lba, uint32_t nlb)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = opc;
	cmd->nsid = nsid;
	cmd->cdw10 = (uint32_t)lba;
	cmd->cdw11 = (uint32_t)(lba >> 32);
	cmd->cdw12 = nlb - 1;	/* 0's based */
}

static void lba_range_on_ns(struct nvp_qpair *qp, struct nvp_ns *ns)
{
	const struct nvp_ns_info *ni = nvp_ns_get_info(ns);
	uint64_t end = ni->num_blocks;
	struct {
		uint64_t lba;
		uint32_t nlb;
	} cases[] = {
		{ end - 1, 2 },			/* one block too many */
		{ end, 1 },			/* starts at the end */
		{ end + 1000, 8 },
		{ UINT64_MAX, 1 },
		{ UINT64_MAX - 1, 4 },		/* wraps around to LBA 2 */
		{ 0, UINT32_MAX },
		{ end - ni->max_io_blocks, ni->max_io_blocks + 1 },	/* split, last part out */
	};
	uint8_t *buf = NULL;
	struct nvp_sqe cmd;
	struct io_cpl c;
	size_t i;
	int rc;

	/* Big enough for the split case, should the library wrongly post it. */
	buf = nvp_dma_alloc(((size_t)ni->max_io_blocks + 1) * ni->block_size, 0, NVP_NUMA_ANY);
	CHECK(buf);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The buffer is small: nothing may be transferred anyway. */
		rc = io_sync(qp, ns, IO_READ, buf, cases[i].lba, cases[i].nlb, 0, NULL);
		CHECKF(rc == -ERANGE, "read nsid %u LBA %llu +%u (of %llu): %d (%s), expected -ERANGE",
		       ni->nsid, (unsigned long long)cases[i].lba, cases[i].nlb,
		       (unsigned long long)end, rc, itest_errname(rc));
		rc = io_sync(qp, ns, IO_WRITE, buf, cases[i].lba, cases[i].nlb, 0, NULL);
		CHECKF(rc == -ERANGE, "write nsid %u LBA %llu +%u: %d (%s), expected -ERANGE",
		       ni->nsid, (unsigned long long)cases[i].lba, cases[i].nlb, rc,
		       itest_errname(rc));
		CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
	}
	/* The last block itself is fine. */
	CHECK(qpair_still_works(qp, ns, end - 2));

	/* Past the end through passthrough: the controller says so. */
	raw_rw(&cmd, NVP_NVM_READ, ni->nsid, end, 1);
	rc = raw_sync(qp, &cmd, buf, ni->block_size, &c);
	CHECKF(atomic_load(&c.calls) == 1, "raw read past the end: submission %d (%s)", rc,
	       itest_errname(rc));
	CHECKF(NVP_STATUS_SCT(c.status) == NVP_SCT_GENERIC &&
	       NVP_STATUS_SC(c.status) == NVP_SC_LBA_OUT_OF_RANGE,
	       "raw read past the end: status %#x (%s), expected LBA Out of Range", c.status,
	       nvp_status_str(c.status));
	CHECKF(rc == -ERANGE, "nvp_status_to_errno(LBA Out of Range) = %d", rc);
	CHECKF(strstr(nvp_status_str(c.status), "Range") != NULL, "status named '%s'",
	       nvp_status_str(c.status));
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
out:
	nvp_dma_free(buf);
}

void test_bad_lba_range(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	int i;

	CHECK(d);
	qp = qpair_alloc_default(d);
	CHECK(qp);
	for (i = 0; i < d->num_ns && !itest_failed(); i++)
		lba_range_on_ns(qp, d->ns[i]);
out:
	nvp_qpair_free(qp);
}

void test_bad_namespace(void)
{
	struct itest_dev *d = itest_dev(0), *d1;
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns;
	uint8_t *buf = NULL;
	struct nvp_sqe cmd;
	struct io_cpl c;
	int rc;

	CHECK(d);
	ns = d->ns[0];
	qp = qpair_alloc_default(d);
	buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(qp && buf);

	CHECK_RC(io_sync(qp, NULL, IO_READ, buf, 0, 1, 0, NULL), -EINVAL);
	CHECK_RC(io_sync(qp, NULL, IO_WRITE, buf, 0, 1, 0, NULL), -EINVAL);
	CHECK_RC(io_sync(qp, NULL, IO_FLUSH, NULL, 0, 0, 0, NULL), -EINVAL);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));

	errno = 0;
	CHECK(nvp_ctrl_get_ns(d->ctrl, 999) == NULL);
	CHECKF(errno == ENOENT, "errno %d (%s) after get_ns(999)", errno, itest_errname(errno));
	CHECK(nvp_ctrl_get_ns(d->ctrl, 0) == NULL);

	/* The library passes NSID 999 through; the controller must refuse it. */
	raw_rw(&cmd, NVP_NVM_READ, 999, 0, 1);
	rc = raw_sync(qp, &cmd, buf, nvp_ns_get_info(ns)->block_size, &c);
	CHECKF(atomic_load(&c.calls) == 1, "raw read NSID 999: submission %d (%s)", rc,
	       itest_errname(rc));
	CHECKF(NVP_STATUS_SCT(c.status) == NVP_SCT_GENERIC &&
	       NVP_STATUS_SC(c.status) == NVP_SC_INVALID_NS,
	       "raw read NSID 999: status %#x (%s), expected Invalid Namespace or Format",
	       c.status, nvp_status_str(c.status));
	CHECKF(strcasestr(nvp_status_str(c.status), "namespace") != NULL, "status named '%s'",
	       nvp_status_str(c.status));
	CHECK(rc < 0);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));

	/* A namespace of another controller is not one of this qpair's. */
	d1 = itest_cfg.num_addrs > 1 ? itest_dev(1) : NULL;
	if (d1) {
		rc = io_sync(qp, d1->ns[0], IO_READ, buf, 0, 1, 0, NULL);
		CHECKF(rc == -EINVAL, "read with another controller's namespace: %d (%s)", rc,
		       itest_errname(rc));
		CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
	}
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
}

void test_bad_zero_length(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	uint8_t *buf = NULL;
	struct iovec iov[2];
	struct nvp_ns *ns;

	CHECK(d);
	ns = d->ns[0];
	qp = qpair_alloc_default(d);
	buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(qp && buf);
	CHECK_RC(io_sync(qp, ns, IO_READ, buf, 0, 0, 0, NULL), -EINVAL);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, buf, 0, 0, 0, NULL), -EINVAL);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
	iov[0].iov_base = buf;
	iov[0].iov_len = 0;
	iov[1].iov_base = buf;
	iov[1].iov_len = 0;
	CHECK_RC(iov_sync(qp, ns, false, iov, 0, 0, 0, NULL), -EINVAL);
	CHECK_RC(iov_sync(qp, ns, true, iov, 2, 0, 0, NULL), -EINVAL);
	CHECK_RC(iov_sync(qp, ns, true, iov, 2, 0, 1, NULL), -EINVAL);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
}

void test_bad_buffer(void)
{
	struct itest_dev *d = itest_dev(0);
	const size_t reg_len = 64 * 1024;
	struct nvp_qpair *qp = NULL;
	uint8_t *heap = NULL, *dma = NULL, *anon = MAP_FAILED, *rbuf = NULL;
	uint8_t stack_buf[8192] __attribute__((aligned(4096)));
	struct iovec iov[2];
	struct nvp_sqe cmd;
	struct nvp_ns *ns;
	bool registered = false;
	uint64_t iova = 0;
	size_t contig = 0;
	uint32_t bs;
	int rc;

	CHECK(d);
	ns = d->ns[0];
	bs = nvp_ns_get_info(ns)->block_size;
	qp = qpair_alloc_default(d);
	CHECK(qp);
	/* Page aligned, so alignment is not what gets it refused. */
	CHECK(posix_memalign((void **)&heap, 4096, 4 * 4096) == 0);
	dma = nvp_dma_alloc(4 * 4096, 0, NVP_NUMA_ANY);
	rbuf = nvp_dma_alloc(reg_len, 0, NVP_NUMA_ANY);
	CHECK(dma && rbuf);

	CHECK_RC(io_sync(qp, ns, IO_WRITE, heap, LBA_SCRATCH, 1, 0, NULL), -EFAULT);
	CHECK_RC(io_sync(qp, ns, IO_READ, heap, LBA_SCRATCH, 1, 0, NULL), -EFAULT);
	CHECK_RC(io_sync(qp, ns, IO_READ, stack_buf, LBA_SCRATCH, 1, 0, NULL), -EFAULT);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));

	/* One bad element spoils a scatter list. */
	iov[0].iov_base = dma;
	iov[0].iov_len = 4096;
	iov[1].iov_base = heap;
	iov[1].iov_len = 4096;
	CHECK_RC(iov_sync(qp, ns, true, iov, 2, LBA_SCRATCH, 8192 / bs, NULL), -EFAULT);
	raw_rw(&cmd, NVP_NVM_READ, nvp_ns_get_info(ns)->nsid, LBA_SCRATCH, 1);
	CHECK_RC(raw_sync(qp, &cmd, heap, bs, NULL), -EFAULT);
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));

	CHECK_RC(nvp_mem_translate(heap, &iova, &contig), -EFAULT);
	CHECK_RC(nvp_mem_translate(dma + 100, &iova, &contig), 0);
	CHECKF(contig >= 4 * 4096 - 100, "DMA buffer contiguous for %zu bytes only", contig);

	/* Registered anonymous memory becomes DMA memory; unregistered, it is not. */
	anon = mmap(NULL, 2 * reg_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	CHECK(anon != MAP_FAILED);
	CHECK_RC(io_sync(qp, ns, IO_WRITE, anon, LBA_SCRATCH, 1, 0, NULL), -EFAULT);
	CHECK_RC(nvp_mem_register(anon + 1, reg_len), -EINVAL);
	CHECK_RC(nvp_mem_register(anon, reg_len - 100), -EINVAL);
	rc = nvp_mem_register(anon, reg_len);
	if (rc == -ENOTSUP) {
		itest_notef("nvp_mem_register refuses anonymous memory here (-ENOTSUP)");
	} else {
		CHECKF(rc == 0, "nvp_mem_register: %d (%s): %s", rc, itest_errname(rc),
		       nvp_last_error());
		registered = true;
		CHECK_RC(nvp_mem_register(anon, reg_len), -EEXIST);
		CHECK(write_read_verify(qp, ns, anon + 4, rbuf, LBA_SCRATCH,
					(uint32_t)((reg_len - 4096) / bs), itest_cfg.seed ^ 0xa11, 0));
		CHECK(write_read_verify(qp, ns, dma, anon + reg_len - 2 * 4096, LBA_SCRATCH,
					8192 / bs, itest_cfg.seed ^ 0xa12, 0));
		/* Starts inside the registration, ends past it. */
		CHECK_RC(io_sync(qp, ns, IO_READ, anon + reg_len - 4096, LBA_SCRATCH, 8192 / bs,
				 0, NULL), -EFAULT);
		CHECK_RC(nvp_mem_unregister(anon), 0);
		registered = false;
		CHECK_RC(nvp_mem_unregister(anon), -ENOENT);
		CHECK_RC(io_sync(qp, ns, IO_READ, anon, LBA_SCRATCH, 1, 0, NULL), -EFAULT);
	}
	CHECK(qpair_still_works(qp, ns, LBA_SCRATCH));

	/* Admin passthrough checks its buffer too. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVP_ADMIN_IDENTIFY;
	cmd.cdw10 = NVP_CNS_CTRL;
	CHECK_RC(nvp_admin_cmd_sync(d->ctrl, &cmd, heap, 4096, NULL), -EFAULT);
	CHECK_RC(nvp_admin_cmd_sync(d->ctrl, &cmd, dma, 4096, NULL), 0);
out:
	nvp_qpair_free(qp);
	if (registered)
		nvp_mem_unregister(anon);
	if (anon != MAP_FAILED)
		munmap(anon, 2 * reg_len);
	free(heap);
	nvp_dma_free(dma);
	nvp_dma_free(rbuf);
}

void test_bad_too_many_qpairs(void)
{
	int idx = itest_cfg.num_addrs > 1 ? 1 : 0;
	struct itest_dev *d = itest_dev(idx);
	struct nvp_qpair *qps[65] = { NULL };
	struct nvp_qpair_opts qo;
	uint32_t granted, n = 0, i;
	char count[16];
	int rc;

	CHECK(d);
	granted = d->info->num_io_queues;
	if (granted > 64) {
		itest_skipf("%s granted %u qpairs; give a controller with few (qpairs=2)",
			    d->addr, granted);
		return;
	}
	/* Small queues: this is about the count, not the size. */
	nvp_qpair_opts_init(d->ctrl, &qo, sizeof(qo));
	qo.queue_size = d->info->max_queue_entries < 8 ? d->info->max_queue_entries : 8;
	qo.num_requests = qo.queue_size - 1;
	for (n = 0; n <= granted; n++) {
		rc = nvp_qpair_alloc(d->ctrl, &qo, &qps[n]);
		if (rc) {
			qps[n] = NULL;
			break;
		}
	}
	CHECKF(n == granted, "allocated %u qpairs, the controller granted %u", n, granted);
	CHECKF(rc == -EBUSY, "qpair %u of %u: %d (%s), expected -EBUSY", n + 1, granted, rc,
	       itest_errname(rc));
	snprintf(count, sizeof(count), "%u", granted);
	CHECKF(strstr(nvp_last_error(), count) != NULL,
	       "the error should say how many were granted (%u): '%s'", granted, nvp_last_error());
	/* Refusing one more breaks none of those already there. */
	for (i = 0; i < n; i++)
		CHECK(qpair_still_works(qps[i], d->ns[0], LBA_SCRATCH + 4 * i));
	nvp_qpair_free(qps[0]);
	qps[0] = NULL;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qps[0]), 0);
	CHECK(qpair_still_works(qps[0], d->ns[0], LBA_SCRATCH));
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qps[granted]), -EBUSY);
	itest_notef("%s: %u granted, the next -EBUSY", d->addr, granted);
out:
	for (i = 0; i <= 64; i++)
		nvp_qpair_free(qps[i]);
}

void test_bad_queue_size(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct nvp_qpair_opts qo, def;
	uint32_t max;

	CHECK(d);
	max = d->info->max_queue_entries;
	nvp_qpair_opts_init(d->ctrl, &def, sizeof(def));

	qo = def;
	qo.queue_size = max + 1;
	qo.num_requests = 1;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), -EINVAL);
	CHECK(qp == NULL);
	qo.queue_size = 1;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), -EINVAL);
	qo.queue_size = 16;
	qo.num_requests = 16;	/* one slot must stay empty: at most 15 */
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), -EINVAL);

	/* The limits themselves work. */
	qo = def;
	qo.queue_size = 2;
	qo.num_requests = 1;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
	nvp_qpair_free(qp);
	qp = NULL;
	qo = def;
	qo.queue_size = max;
	qo.num_requests = max - 1;
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
	nvp_qpair_free(qp);
	qp = NULL;

	/* An older caller's smaller struct gets defaults for the fields it lacks. */
	qo = def;
	qo.opts_size = offsetof(struct nvp_qpair_opts, num_requests);
	qo.queue_size = 16;
	qo.num_requests = 999;	/* beyond opts_size: must be ignored */
	CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
	nvp_qpair_free(qp);
	qp = NULL;

	/*
	 * A struct never initialised (opts_size 0, or smaller than opts_size
	 * itself, or absurd) is refused like the controller options, naming
	 * the init function; a newer caller's larger struct is fine.
	 */
	{
		static const size_t bad_sizes[] = { 0, 1, sizeof(size_t) - 1, 4097, SIZE_MAX };
		struct nvp_ctrl_opts co;
		struct nvp_ctrl *ctrl = NULL;

		for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
			qo = def;
			qo.opts_size = bad_sizes[i];
			CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), -EINVAL);
			CHECKF(strstr(nvp_last_error(), "nvp_qpair_opts_init") != NULL,
			       "opts_size %zu: '%s'", bad_sizes[i], nvp_last_error());
			nvp_ctrl_opts_init(&co, sizeof(co));
			co.opts_size = bad_sizes[i];
			CHECK_RC(nvp_ctrl_attach("emu:", &co, &ctrl), -EINVAL);
			CHECKF(strstr(nvp_last_error(), "nvp_ctrl_opts_init") != NULL,
			       "opts_size %zu: '%s'", bad_sizes[i], nvp_last_error());
		}
		qo = def;
		qo.opts_size = sizeof(qo) + 64;	/* a newer header's struct */
		CHECK_RC(nvp_qpair_alloc(d->ctrl, &qo, &qp), 0);
		CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
	}
out:
	nvp_qpair_free(qp);
}

struct intruder {
	struct nvp_qpair *qp;
	struct nvp_ns *ns;
	uint8_t *buf;
	int read_rc;
	int poll_rc;
	bool take_over;
	bool worked;
	struct io_cpl c;
};

static void *intruder_main(void *arg)
{
	struct intruder *in = arg;

	io_cpl_init(&in->c);
	if (!in->take_over) {
		in->read_rc = nvp_read(in->qp, in->ns, in->buf, LBA_SCRATCH, 1, 0, io_cpl_cb,
				       &in->c);
		in->poll_rc = nvp_qpair_poll(in->qp, 0);
		return NULL;
	}
	/* Handing over properly is allowed. */
	nvp_qpair_set_owner(in->qp);
	in->worked = qpair_still_works(in->qp, in->ns, LBA_SCRATCH + 8);
	return NULL;
}

void test_bad_wrong_thread(void)
{
	struct itest_dev *d = itest_dev(0);
	struct nvp_qpair *qp = NULL;
	struct intruder in = { 0 };
	pthread_t tid;

	CHECK(d);
	qp = qpair_alloc_default(d);
	in.buf = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	CHECK(qp && in.buf);
	in.qp = qp;
	in.ns = d->ns[0];
#ifdef NVP_DEBUG
	in.take_over = false;
	CHECK(pthread_create(&tid, NULL, intruder_main, &in) == 0);
	pthread_join(tid, NULL);
	CHECKF(in.read_rc == -EXDEV, "read from another thread: %d (%s), expected -EXDEV",
	       in.read_rc, itest_errname(in.read_rc));
	CHECKF(in.poll_rc == -EXDEV, "poll from another thread: %d (%s), expected -EXDEV",
	       in.poll_rc, itest_errname(in.poll_rc));
	CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
	CHECK(atomic_load(&in.c.calls) == 0);
#else
	itest_notef("release build: -EXDEV not checked");
#endif
	in.take_over = true;
	CHECK(pthread_create(&tid, NULL, intruder_main, &in) == 0);
	pthread_join(tid, NULL);
	CHECK(in.worked);
#ifdef NVP_DEBUG
	/* Now the other thread owns it, so this one is the intruder. */
	CHECK_RC(nvp_qpair_poll(qp, 0), -EXDEV);
#endif
	nvp_qpair_set_owner(qp);
	CHECK(qpair_still_works(qp, d->ns[0], LBA_SCRATCH));
out:
	nvp_qpair_free(qp);
	nvp_dma_free(in.buf);
}
