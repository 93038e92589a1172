/* SPDX-License-Identifier: BSD-3-Clause */
/* Reproducer found with nvpoll-torture; see test/torture/README.md (Reproducers).
 * Build: gcc -O1 -g -Iinclude test/torture/repro/late_dma.c -Lbuild/lib -lnvpoll -lpthread -Wl,-rpath,$PWD/build/lib -o /tmp/late_dma */
/* Commands still queued in the SQ when io_timeout passes: the Abort says
 * "not aborted", the library completes them with Host Aborted Command, and
 * the device then executes them anyway: DMA into a buffer the application
 * was told it owns again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nvpoll/nvpoll.h>
#define N 250
#define SZ (1u << 20)
static int calls[N]; static unsigned short st[N]; static char *bufs[N];
static void cb(void *a, const struct nvp_cqe *c)
{
	int i = (int)(long)a;
	calls[i]++;
	st[i] = c->status & 0xfffe;
	memset(bufs[i], 0xee, SZ);	/* the buffer is ours again: reuse it */
}
static long long ms(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1000LL+t.tv_nsec/1000000;}
static int run(uint32_t tmo)
{
	struct nvp_ctrl_opts o; struct nvp_ctrl *c; struct nvp_qpair *qp;
	memset(calls, 0, sizeof(calls)); memset(st, 0, sizeof(st));
	nvp_ctrl_opts_init(&o, sizeof(o)); o.io_timeout_ms = tmo; o.max_xfer_bytes = SZ;
	if (nvp_ctrl_attach("emu:ns=256M:4096,mdts=8,dbbuf=0", &o, &c)) return 1;
	struct nvp_ns *ns = nvp_ctrl_get_ns(c, 1);
	char *big = nvp_dma_alloc((size_t)N * SZ, 0, -1);
	for (int i = 0; i < N; i++) bufs[i] = big + (size_t)i * SZ;
	memset(big, 0x11, (size_t)N * SZ);
	nvp_qpair_alloc(c, NULL, &qp);
	/* make the device slow enough: every read copies 1 MiB; write the media first */
	for (int i = 0; i < N; i++) {	/* one at a time: no timeouts here */
		nvp_write(qp, ns, bufs[i], (uint64_t)i * 256, 256, 0, cb, (void *)(long)i);
		while (!calls[i]) nvp_qpair_poll(qp, 0);
	}
	memset(calls, 0, sizeof(calls));
	memset(big, 0x22, (size_t)N * SZ);
	long long t0 = ms();
	for (int i = 0; i < N; i++) nvp_read(qp, ns, bufs[i], (uint64_t)i * 256, 256, 0, cb, (void *)(long)i);
	int done = 0;
	while (done < N && ms() - t0 < 5000) {
		nvp_qpair_poll(qp, 0);
		done = 0;
		for (int i = 0; i < N; i++) done += calls[i];
	}
	long long t1 = ms();
	while (ms() - t1 < 500) nvp_qpair_poll(qp, 0);	/* let the device finish */
	int aborted = 0, late = 0, late_ha = 0, late_hp = 0, n_ha = 0, n_hp = 0;
	for (int i = 0; i < N; i++) {
		if (!st[i]) continue;
		aborted++;
		n_ha += st[i] == 0x06e2;
		n_hp += st[i] == 0x06e0;
		for (size_t k = 0; k < SZ; k++) if ((unsigned char)bufs[i][k] != 0xee) {
			late++; late_ha += st[i] == 0x06e2; late_hp += st[i] == 0x06e0; break; }
	}
	printf("io_timeout %u ms, %d reads: %d completed with an error (%d Host Aborted, %d Host Pathing Error); "
	       "%d buffers were overwritten by the device AFTER the callback (%d Host Aborted, "
	       "%d Host Pathing Error); controller failed: %d\n",
	       tmo, N, aborted, n_ha, n_hp, late, late_ha, late_hp, nvp_ctrl_is_failed(c));
	nvp_qpair_free(qp); nvp_dma_free(big); nvp_ctrl_detach(c); return late;
}

int main(void)
{
	static const uint32_t tmo[] = { 40, 30, 25, 20, 15, 12, 10 };
	int late = 0;

	for (unsigned int i = 0; i < sizeof(tmo) / sizeof(tmo[0]); i++)
		late += run(tmo[i]);
	return late ? 1 : 0;
}
