/* SPDX-License-Identifier: BSD-3-Clause */
/* Reproducer found with nvpoll-torture; see test/torture/README.md (Reproducers).
 * Build: gcc -O1 -g -Iinclude test/torture/repro/admin_race.c -Lbuild/lib -lnvpoll -lpthread -Wl,-rpath,$PWD/build/lib -o /tmp/admin_race */
/* One thread is the admin poller (nvp_ctrl_process_admin), another runs
 * synchronous admin commands: a command posted after the poller read its
 * clock looks "late" (now - posted_ms wraps) and the controller is reset. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <nvpoll/nvpoll.h>
static atomic_int resets, stop;
static void ev(struct nvp_ctrl *c, const struct nvp_event *e, void *a)
{ (void)c; (void)a; if (e->type == NVP_EVENT_RESET_STARTED) { atomic_fetch_add(&resets, 1); printf("reset: %s\n", e->reason); } }
static void *poller(void *arg) { while (!atomic_load(&stop)) nvp_ctrl_process_admin(arg); return NULL; }
int main(void)
{
	struct nvp_ctrl *c; pthread_t t; int n = 0;
	if (nvp_ctrl_attach("emu:", NULL, &c)) return 1;
	nvp_ctrl_set_event_cb(c, ev, NULL);
	void *buf = nvp_dma_alloc(4096, 0, -1);
	pthread_create(&t, NULL, poller, c);
	time_t t0 = time(NULL);
	while (time(NULL) - t0 < 5 && !atomic_load(&resets)) { nvp_get_log_page(c, 0xffffffff, 2, buf, 512); n++; }
	atomic_store(&stop, 1); pthread_join(t, NULL);
	printf("%d log page reads, %d resets\n", n, atomic_load(&resets));
	nvp_ctrl_detach(c); return atomic_load(&resets) ? 1 : 0;
}
