/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hello_world - attach a controller, write a string to LBA 0 of namespace 1,
 * read it back, print it, detach.
 *
 *   hello_world 0000:00:04.0     (a PCI NVMe controller; needs root)
 *   hello_world emu:             (the built-in emulated controller)
 */
#include <stdio.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

static void io_done(void *arg, const struct nvp_cqe *cpl)
{
	int *status = arg;

	*status = NVP_CPL_IS_ERROR(cpl) ? cpl->status : 0;
}

/* Submit nothing new; poll until the callback has stored a status. */
static int wait_for(struct nvp_qpair *qp, int *status)
{
	while (*status == -1) {
		int rc = nvp_qpair_poll(qp, 0);

		if (rc < 0)
			return rc;
	}
	return *status;
}

int main(int argc, char **argv)
{
	const char *msg = "Hello from nvpoll!";
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qp = NULL;
	struct nvp_ns *ns;
	int status, rc, ret = 1;
	char *buf = NULL;
	uint32_t bs;

	if (argc != 2) {
		fprintf(stderr, "usage: %s ADDRESS   (e.g. 0000:00:04.0 or emu:)\n", argv[0]);
		return 2;
	}
	rc = nvp_ctrl_attach(argv[1], NULL, &ctrl);
	if (rc) {
		fprintf(stderr, "attach %s: %s\n", argv[1], nvp_last_error());
		return 1;
	}
	printf("attached %s: %s (serial %s)\n", argv[1], nvp_ctrl_get_info(ctrl)->model,
	       nvp_ctrl_get_info(ctrl)->serial);
	ns = nvp_ctrl_get_ns(ctrl, 1);
	if (!ns) {
		fprintf(stderr, "namespace 1 is not active on %s\n", argv[1]);
		goto out;
	}
	bs = nvp_ns_get_info(ns)->block_size;
	buf = nvp_dma_alloc(bs, 4096, nvp_ctrl_numa_node(ctrl));
	if (!buf || nvp_qpair_alloc(ctrl, NULL, &qp)) {
		fprintf(stderr, "setup: %s\n", nvp_last_error());
		goto out;
	}

	snprintf(buf, bs, "%s", msg);
	status = -1;
	rc = nvp_write(qp, ns, buf, 0, 1, NVP_IO_FUA, io_done, &status);
	if (rc || (rc = wait_for(qp, &status)) != 0) {
		fprintf(stderr, "write: %s\n", rc > 0 ? nvp_status_str((uint16_t)rc) :
			nvp_last_error());
		goto out;
	}
	memset(buf, 0, bs);
	status = -1;
	rc = nvp_read(qp, ns, buf, 0, 1, 0, io_done, &status);
	if (rc || (rc = wait_for(qp, &status)) != 0) {
		fprintf(stderr, "read: %s\n", rc > 0 ? nvp_status_str((uint16_t)rc) :
			nvp_last_error());
		goto out;
	}
	printf("read back from LBA 0: \"%s\"\n", buf);
	ret = strcmp(buf, msg) ? 1 : 0;
	if (ret)
		fprintf(stderr, "data mismatch\n");
out:
	nvp_qpair_free(qp);
	nvp_dma_free(buf);
	if (nvp_ctrl_detach(ctrl))
		ret = 1;
	return ret;
}
