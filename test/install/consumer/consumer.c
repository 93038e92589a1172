/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An outside program built against the *installed* nvpoll (find_package or
 * pkg-config): attach a controller, write a pattern to a few blocks, read
 * them back and compare. Exit 0 only if the data came back intact.
 *
 *   nvpoll-consumer emu:ns=16M:512
 */
#include <stdio.h>
#include <string.h>

#include <nvpoll/nvpoll.h>

/* Away from LBA 0 and spanning several blocks, so an offset or length
 * mistake in the command cannot read back the right bytes by accident. */
#define TEST_LBA 37
#define TEST_BLOCKS 3

static void on_complete(void *arg, const struct nvp_cqe *cpl)
{
	int *status = arg;

	*status = NVP_CPL_IS_ERROR(cpl) ? cpl->status : 0;
}

/* Poll until the callback stores a status: >0 NVMe status, <0 errno. */
static int wait_for(struct nvp_qpair *qpair, int *status)
{
	while (*status == -1) {
		int rc = nvp_qpair_poll(qpair, 0);

		if (rc < 0)
			return rc;
	}
	return *status;
}

static int run_io(struct nvp_qpair *qpair, struct nvp_ns *ns, char *buf, int write)
{
	int status = -1;
	int rc = write ? nvp_write(qpair, ns, buf, TEST_LBA, TEST_BLOCKS, NVP_IO_FUA,
				   on_complete, &status)
		       : nvp_read(qpair, ns, buf, TEST_LBA, TEST_BLOCKS, 0,
				  on_complete, &status);

	if (rc == 0)
		rc = wait_for(qpair, &status);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", write ? "write" : "read",
			rc > 0 ? nvp_status_str((uint16_t)rc) : nvp_last_error());
	return rc;
}

int main(int argc, char **argv)
{
	struct nvp_ctrl *ctrl = NULL;
	struct nvp_qpair *qpair = NULL;
	char *buf = NULL, *expected = NULL;
	struct nvp_ns *ns;
	size_t len, i;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
		return 2;
	}
	if (nvp_ctrl_attach(argv[1], NULL, &ctrl)) {
		fprintf(stderr, "attach %s: %s\n", argv[1], nvp_last_error());
		return 1;
	}
	ns = nvp_ctrl_first_ns(ctrl);
	if (!ns) {
		fprintf(stderr, "%s has no active namespace\n", argv[1]);
		goto out;
	}
	len = (size_t)nvp_ns_get_info(ns)->block_size * TEST_BLOCKS;
	buf = nvp_dma_alloc(len, 0, nvp_ctrl_numa_node(ctrl));
	expected = nvp_dma_alloc(len, 0, NVP_NUMA_ANY);
	if (!buf || !expected || nvp_qpair_alloc(ctrl, NULL, &qpair)) {
		fprintf(stderr, "setup: %s\n", nvp_last_error());
		goto out;
	}
	for (i = 0; i < len; i++)
		expected[i] = (char)(i * 7 + 3);
	memcpy(buf, expected, len);
	if (run_io(qpair, ns, buf, 1))
		goto out;
	memset(buf, 0, len);
	if (run_io(qpair, ns, buf, 0))
		goto out;
	if (memcmp(buf, expected, len) != 0) {
		fprintf(stderr, "data read back differs from data written\n");
		goto out;
	}
	printf("ok: %zu bytes at LBA %d written and read back on %s (%s)\n", len,
	       TEST_LBA, argv[1], nvp_ctrl_get_info(ctrl)->model);
	ret = 0;
out:
	nvp_qpair_free(qpair);
	nvp_dma_free(buf);
	nvp_dma_free(expected);
	if (nvp_ctrl_detach(ctrl)) {
		fprintf(stderr, "detach: %s\n", nvp_last_error());
		ret = 1;
	}
	return ret;
}
