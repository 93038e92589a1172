/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_emu_doorbell.c - how the emulated controller reads
 * doorbells, step by step and without its device thread: the register
 * file, the shadow doorbell page and EventIdx page are plain memory the
 * test writes, and nvp_emu_sq_doorbell() / nvp_emu_cq_doorbell() are the
 * device's reads.
 *
 * The race that once made the device re-execute a whole lap of stale
 * entries needs the host to write between two loads inside one device
 * read. The test makes that deterministic: the shadow page is made
 * inaccessible, so the device's first touch of it faults, and the SIGSEGV
 * handler plays the host's writes there before letting the load go on.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

#include "emu/emu.h"

#define PAGE 4096

struct rig {
	struct nvp_emu *emu;
	uint32_t *shadow;
	uint32_t *ei;
};

/* Doorbell @idx: 2*qid for an SQ tail, 2*qid+1 for a CQ head. */
static void reg_write(struct rig *r, uint32_t idx, uint32_t v)
{
	/* Registers, shadow doorbells and event indexes are little-endian. */
	__atomic_store_n(&r->emu->regs[(NVP_REG_DBS + 4 * idx) / 4], nvp_cpu_to_le32(v),
			 __ATOMIC_RELEASE);
}

static void rig_open(struct rig *r, bool shadow)
{
	memset(r, 0, sizeof(*r));
	r->emu = calloc(1, sizeof(*r->emu));
	assert_non_null(r->emu);
	r->emu->regs_size = 2 * PAGE;
	r->emu->regs = mmap(NULL, r->emu->regs_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r->emu->regs != MAP_FAILED);
	r->shadow = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->ei = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r->shadow != MAP_FAILED && r->ei != MAP_FAILED);
	r->emu->db_stride = 4;	/* CAP.DSTRD 0 */
	if (shadow) {
		r->emu->shadow_db = r->shadow;
		r->emu->eventidx = r->ei;
		r->emu->shadow_slots = PAGE / 4;
	}
}

static void rig_close(struct rig *r)
{
	munmap(r->emu->regs, r->emu->regs_size);
	munmap(r->shadow, PAGE);
	munmap(r->ei, PAGE);
	free(r->emu);
}

/* An SQ (and CQ) @qid of @size entries whose device state and doorbells,
 * register and shadow alike, all say @pos. */
static void sq_at(struct rig *r, struct emu_sq *sq, uint16_t qid, uint32_t size, uint32_t pos)
{
	memset(sq, 0, sizeof(*sq));
	sq->valid = true;
	sq->qid = qid;
	sq->cqid = qid;
	sq->size = size;
	sq->head = sq->tail = pos;
	sq->db.last_mmio = sq->db.last_shadow = pos;
	reg_write(r, 2 * qid, pos);
	r->shadow[2 * qid] = nvp_cpu_to_le32(pos);
	r->ei[2 * qid] = nvp_cpu_to_le32(pos);
}

static uint64_t bad_doorbells(struct rig *r)
{
	return __atomic_load_n(&r->emu->cnt.invalid_doorbells, __ATOMIC_RELAXED);
}

/* The host's EventIdx test (NVMe Doorbell Buffer Config, as in queue.h). */
static bool need_event(uint16_t ei, uint16_t new_val, uint16_t old_val)
{
	return (uint16_t)(new_val - ei - 1) < (uint16_t)(new_val - old_val);
}

/* ---- the SIGSEGV trap: host writes between two device loads ------------- */

static struct rig *trap_rig;
static uint16_t trap_qid;
static volatile int trap_hits;

/*
 * What nvpoll's I/O path does for two rings of SQ @trap_qid, 3 -> 5 -> 7,
 * while the device still publishes EventIdx 3: store the shadow, ring the
 * register only when EventIdx asks for it (5: yes, 7: no).
 */
static void trap_host_rings(void)
{
	struct rig *r = trap_rig;
	uint32_t idx = 2 * trap_qid, old = 3;

	for (uint32_t v = 5; v <= 7; v += 2) {
		__atomic_store_n(&r->shadow[idx], nvp_cpu_to_le32(v), __ATOMIC_RELEASE);
		if (need_event((uint16_t)nvp_le32_to_cpu(r->ei[idx]), (uint16_t)v, (uint16_t)old))
			reg_write(r, idx, v);
		old = v;
	}
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr, *page = (uint8_t *)trap_rig->shadow;

	(void)uc;
	if (a < page || a >= page + PAGE) {
		signal(sig, SIG_DFL);	/* a real crash: let it happen */
		return;
	}
	mprotect(page, PAGE, PROT_READ | PROT_WRITE);
	trap_hits++;
	trap_host_rings();
}

static void trap_arm(struct rig *r, uint16_t qid)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
	trap_rig = r;
	trap_qid = qid;
	trap_hits = 0;
	assert_int_equal(mprotect(r->shadow, PAGE, PROT_NONE), 0);
}

static void trap_disarm(struct rig *r)
{
	mprotect(r->shadow, PAGE, PROT_READ | PROT_WRITE);
	signal(SIGSEGV, SIG_DFL);
}

/*
 * The same race, as the device sees it: a doorbell read is two loads, and
 * what matters is what each returns. The register load (3) came before the
 * host's rings and the shadow load (7) after them; then the register shows
 * the 5 the host wrote in between. No signals, so this one also runs under
 * valgrind, which does not restart a load that faulted.
 */
static void test_shadow_race_as_seen_by_device(void **state)
{
	struct rig r;
	struct emu_sq sq;

	(void)state;
	rig_open(&r, true);
	sq_at(&r, &sq, 1, 32, 3);
	r.shadow[2] = nvp_cpu_to_le32(7);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 7);
	reg_write(&r, 2, 5);
	for (int i = 0; i < 3; i++) {
		nvp_emu_sq_doorbell(r.emu, &sq);
		assert_int_equal(sq.tail, 7);
	}
	assert_int_equal(bad_doorbells(&r), 0);
	rig_close(&r);
}

/*
 * The interleaving from the bug report: the device read the register (3),
 * the host wrote shadow 5 + register 5, then shadow 7 with no register
 * write, and the device then read shadow 7. The old merge remembered the
 * stale register value, took the register's 5 on the next pass as news,
 * moved the tail from 7 back to 5 and fetched a whole lap of old entries.
 */
static void test_shadow_race_never_moves_tail_back(void **state)
{
	struct rig r;
	struct emu_sq sq;

	(void)state;
#ifdef RUNNING_ON_VALGRIND
	if (RUNNING_ON_VALGRIND)
		skip();	/* see test_shadow_race_as_seen_by_device() */
#endif
	rig_open(&r, true);
	sq_at(&r, &sq, 1, 32, 3);
	trap_arm(&r, 1);
	nvp_emu_sq_doorbell(r.emu, &sq);
	trap_disarm(&r);
	assert_int_equal(trap_hits, 1);	/* the host's writes did land mid-read */
	assert_int_equal(nvp_le32_to_cpu(r.shadow[2]), 7);
	assert_int_equal(sq.tail, 7);
	/* The device publishes what it saw, so the host rings again after 7. */
	assert_int_equal(nvp_le32_to_cpu(r.ei[2]), 7);
	/* The next passes see nothing new: the tail stays at 7. */
	for (int i = 0; i < 3; i++) {
		nvp_emu_sq_doorbell(r.emu, &sq);
		assert_int_equal(sq.tail, 7);
	}
	assert_int_equal(bad_doorbells(&r), 0);
	/* The host catches the register up later: still only a wake-up. */
	reg_write(&r, 2, 7);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 7);
	assert_int_equal(bad_doorbells(&r), 0);
	rig_close(&r);
}

/* With shadow doorbells an I/O queue's shadow is the value; the register is
 * only a wake-up, whatever it says. */
static void test_shadow_is_authoritative_for_io_queues(void **state)
{
	struct rig r;
	struct emu_sq sq;
	struct emu_cq cq;

	(void)state;
	rig_open(&r, true);
	sq_at(&r, &sq, 2, 16, 0);
	r.shadow[4] = nvp_cpu_to_le32(6);
	reg_write(&r, 4, 3);	/* an older ring, arriving late */
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 6);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 6);
	reg_write(&r, 4, 9);	/* a register ahead of the shadow: ignored too */
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 6);
	r.shadow[4] = nvp_cpu_to_le32(9);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 9);
	assert_int_equal(nvp_le32_to_cpu(r.ei[4]), 9);

	/* The CQ head likewise. */
	memset(&cq, 0, sizeof(cq));
	cq.valid = true;
	cq.qid = 2;
	cq.size = 16;
	cq.tail = 10;
	r.shadow[5] = nvp_cpu_to_le32(4);
	reg_write(&r, 5, 8);
	nvp_emu_cq_doorbell(r.emu, &cq);
	assert_int_equal(cq.head, 4);
	assert_int_equal(nvp_le32_to_cpu(r.ei[5]), 4);
	assert_int_equal(bad_doorbells(&r), 0);
	rig_close(&r);
}

/* The admin queue stays on its register (Linux never shadows queue 0;
 * nvpoll writes both, shadow first). */
static void test_admin_queue_uses_register(void **state)
{
	struct rig r;
	struct emu_sq sq;

	(void)state;
	rig_open(&r, true);
	sq_at(&r, &sq, 0, 32, 3);
	/* A host that never updates the admin shadow (Linux). */
	reg_write(&r, 0, 4);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 4);
	sq.head = 4;
	/* nvpoll: the shadow is written first; the device waits for the register. */
	r.shadow[0] = nvp_cpu_to_le32(6);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 4);
	reg_write(&r, 0, 6);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 6);
	/* nvpoll rings twice while the device is between passes. */
	r.shadow[0] = nvp_cpu_to_le32(7);
	reg_write(&r, 0, 7);
	r.shadow[0] = nvp_cpu_to_le32(9);
	nvp_emu_sq_doorbell(r.emu, &sq);
	reg_write(&r, 0, 9);
	nvp_emu_sq_doorbell(r.emu, &sq);
	assert_int_equal(sq.tail, 9);
	assert_int_equal(bad_doorbells(&r), 0);
	rig_close(&r);
}

/*
 * A new SQ tail may add entries, never take back ones the device has yet
 * to fetch; such a write is an Invalid Doorbell Write Value: counted,
 * reported through the error event, and ignored.
 */
static void test_sq_tail_never_shrinks(void **state)
{
	static const struct {
		uint32_t head, tail, write;
		bool ok;
	} rows[] = {
		{ 3, 7, 10, true },	/* more entries */
		{ 3, 7, 7, true },	/* no change */
		{ 3, 7, 5, false },	/* would un-submit 5 and 6 */
		{ 3, 7, 3, false },	/* would un-submit all four */
		{ 3, 7, 2, true },	/* 31 entries: the ring is full, legal */
		{ 3, 7, 32, false },	/* past the end of the queue */
		{ 30, 2, 31, false },	/* across the wrap: would un-submit 31..1 */
		{ 30, 2, 5, true },
		{ 9, 9, 8, true },	/* all fetched: any value adds entries */
		{ 0, 0, 31, true },
	};

	(void)state;
	for (int shadow = 0; shadow < 2; shadow++) {
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct rig r;
			struct emu_sq sq;

			rig_open(&r, shadow);
			sq_at(&r, &sq, 1, 32, rows[i].tail);
			sq.head = rows[i].head;
			if (shadow)
				r.shadow[2] = nvp_cpu_to_le32(rows[i].write);
			else
				reg_write(&r, 2, rows[i].write);
			nvp_emu_sq_doorbell(r.emu, &sq);
			print_message("shadow %d: head %u tail %u write %u\n", shadow, rows[i].head,
				      rows[i].tail, rows[i].write);
			assert_int_equal(sq.tail, rows[i].ok ? rows[i].write : rows[i].tail);
			assert_int_equal(sq.head, rows[i].head);
			assert_int_equal(bad_doorbells(&r), rows[i].ok ? 0 : 1);
			assert_int_equal(r.emu->nr_events, rows[i].ok ? 0 : 1);
			if (!rows[i].ok) {
				assert_int_equal(r.emu->events[0].type, NVP_AER_TYPE_ERROR);
				assert_int_equal(r.emu->events[0].info, 0x01);
				assert_int_equal(r.emu->events[0].lid, NVP_LOG_ERROR);
				/* Counted once, not on every later pass. */
				nvp_emu_sq_doorbell(r.emu, &sq);
				assert_int_equal(bad_doorbells(&r), 1);
				assert_int_equal(sq.tail, rows[i].tail);
			}
			rig_close(&r);
		}
	}
}

/* A CQ head may only move over entries the device has posted. */
static void test_cq_head_never_passes_tail(void **state)
{
	static const struct {
		uint32_t head, tail, write;
		bool ok;
	} rows[] = {
		{ 2, 6, 4, true },
		{ 2, 6, 6, true },	/* everything consumed */
		{ 2, 6, 7, false },	/* an entry never posted */
		{ 2, 6, 1, false },	/* backwards */
		{ 2, 6, 16, false },	/* past the end of the queue */
		{ 14, 1, 0, true },	/* across the wrap */
		{ 14, 1, 2, false },
		{ 5, 5, 6, false },	/* nothing posted: only 5 is valid */
		{ 5, 4, 3, true },	/* full queue: 15 entries posted */
	};

	(void)state;
	for (int shadow = 0; shadow < 2; shadow++) {
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct rig r;
			struct emu_cq cq;

			rig_open(&r, shadow);
			memset(&cq, 0, sizeof(cq));
			cq.valid = true;
			cq.qid = 1;
			cq.size = 16;
			cq.head = cq.db.last_mmio = cq.db.last_shadow = rows[i].head;
			cq.tail = rows[i].tail;
			r.shadow[3] = nvp_cpu_to_le32(rows[i].head);
			reg_write(&r, 3, rows[i].head);
			if (shadow)
				r.shadow[3] = nvp_cpu_to_le32(rows[i].write);
			else
				reg_write(&r, 3, rows[i].write);
			nvp_emu_cq_doorbell(r.emu, &cq);
			print_message("shadow %d: head %u tail %u write %u\n", shadow, rows[i].head,
				      rows[i].tail, rows[i].write);
			assert_int_equal(cq.head, rows[i].ok ? rows[i].write : rows[i].head);
			assert_int_equal(bad_doorbells(&r), rows[i].ok ? 0 : 1);
			assert_int_equal(r.emu->nr_events, rows[i].ok ? 0 : 1);
			rig_close(&r);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_race_as_seen_by_device),
		cmocka_unit_test(test_shadow_race_never_moves_tail_back),
		cmocka_unit_test(test_shadow_is_authoritative_for_io_queues),
		cmocka_unit_test(test_admin_queue_uses_register),
		cmocka_unit_test(test_sq_tail_never_shrinks),
		cmocka_unit_test(test_cq_head_never_passes_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
