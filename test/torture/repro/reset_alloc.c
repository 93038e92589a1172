/* SPDX-License-Identifier: BSD-3-Clause */
/* Reproducer found with nvpoll-torture; see test/torture/README.md (Reproducers).
 * Build: gcc -O1 -g -Iinclude test/torture/repro/reset_alloc.c -Lbuild/lib -lnvpoll -lpthread -Wl,-rpath,$PWD/build/lib -o /tmp/reset_alloc */
/* One thread resets the controller in a loop; another allocates qpairs and
 * submits an 8 KiB raw read on each: a qpair created while the reset runs
 * keeps the temporary one-page transfer limit. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <nvpoll/nvpoll.h>
static atomic_int stop;
static void *resetter(void *arg) { while (!atomic_load(&stop)) { nvp_ctrl_reset(arg); usleep(2000); } return NULL; }
static void cb(void *a, const struct nvp_cqe *c) { (void)c; *(int *)a = 1; }
int main(void)
{
	struct nvp_ctrl *c; pthread_t t; int bad = 0, allocs = 0;
	if (nvp_ctrl_attach("emu:ns=16M:512", NULL, &c)) return 1;
	void *buf = nvp_dma_alloc(8192, 0, -1);
	pthread_create(&t, NULL, resetter, c);
	for (int i = 0; i < 3000 && !bad; i++) {
		struct nvp_qpair *qp;
		if (nvp_qpair_alloc(c, NULL, &qp)) continue;
		allocs++;
		struct nvp_sqe cmd = { .opc = 2, .nsid = 1, .cdw12 = 15 };
		int done = 0, rc = nvp_io_raw(qp, &cmd, buf, 8192, cb, &done);
		if (rc == -EINVAL) { bad++; printf("after %d allocations: %s\n", allocs, nvp_last_error()); }
		{
			time_t t0 = time(NULL);
			while (!rc && !done) {
				int prc = nvp_qpair_poll(qp, 0);
				if (time(NULL) - t0 > 5) {
					fprintf(stderr, "HANG: raw read accepted %ld s ago has no callback: outstanding %u, conn_state %d, last poll %d, failed %d\n",
						(long)(time(NULL) - t0), nvp_qpair_outstanding(qp), nvp_qpair_conn_state(qp), prc, nvp_ctrl_is_failed(c));
					atomic_store(&stop, 1); pthread_join(t, NULL);
					return 2;
				}
			}
		}
		nvp_qpair_free(qp);
	}
	atomic_store(&stop, 1); pthread_join(t, NULL);
	printf("%d qpairs, %d refused an 8 KiB raw read\n", allocs, bad);
	nvp_ctrl_detach(c); return bad ? 1 : 0;
}
