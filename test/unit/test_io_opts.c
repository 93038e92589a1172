/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_io_opts.c - nvp_io_apply_opts(): struct nvp_io_opts into
 * command fields, against a table of namespace formats and options: PRINFO
 * bits in CDW12, the reference tag in CDW14 (and CDW3 15:0 for the 48-bit
 * tag), application tag and mask in CDW15, MPTR; the refusals (-EINVAL,
 * -EFAULT) at their edges; nvp_io_opts_normalise() for short and
 * uninitialised structs; nvp_io_xfer_block() for both layouts and PRACT.
 * The SQE is compared on the wire (through nvp_cpu_to_le32()), so the
 * byte-swapped build checks the conversions too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>

#include "mem/mem.h"
#include "nvme/io_opts.h"

enum { NONE = 0, EXT, SEP };

struct fmt {
	uint32_t bs, ms;
	int layout;
	uint8_t type, guard;
	bool first;
};

static void make_ns(struct nvp_ns *ns, const struct fmt *f)
{
	memset(ns, 0, sizeof(*ns));
	ns->nsid = 7;
	ns->info.nsid = 7;
	ns->info.block_size = f->bs;
	ns->info.md_size = f->ms;
	ns->info.md_extended = f->layout == EXT;
	ns->info.pi_type = f->type;
	ns->info.pi_first = f->first;
	ns->info.pi_guard_bits = f->type ? f->guard : 0;
	ns->info.pi_size = !f->type ? 0 : f->guard == 64 ? 16 : 8;
}

#define MD_DMA ((void *)1)	/* the case wants the DMA metadata buffer */
#define MD_STACK ((void *)2)	/* ... a buffer that is not DMA memory */
#define MD_ODD ((void *)3)	/* ... DMA memory, 2 bytes in: not dword aligned */

struct apply_case {
	const char *name;
	struct fmt f;
	uint32_t pi;
	void *md;
	uint64_t reftag;
	uint16_t apptag, mask;
	int rc;
	uint32_t cdw12_bits, cdw3, cdw14, cdw15;
};

#define CHK (NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG | NVP_PI_CHECK_REFTAG)
#define RW_CHK (NVP_RW_PRCHK_GUARD | NVP_RW_PRCHK_APPTAG | NVP_RW_PRCHK_REFTAG)

static const struct apply_case cases[] = {
	{ "no metadata, no options", { 512, 0, NONE, 0, 0, false }, 0, NULL, 0, 0, 0, 0, 0, 0,
	  0, 0 },
	{ "no metadata, PI bits", { 512, 0, NONE, 0, 0, false }, NVP_PI_CHECK_GUARD, NULL, 0, 0,
	  0, -EINVAL, 0, 0, 0, 0 },
	{ "no metadata, md buffer", { 512, 0, NONE, 0, 0, false }, 0, MD_DMA, 0, 0, 0, -EINVAL,
	  0, 0, 0, 0 },
	{ "metadata without PI, PI bits", { 512, 8, EXT, 0, 0, false }, NVP_PI_PRACT, NULL, 0,
	  0, 0, -EINVAL, 0, 0, 0, 0 },
	{ "metadata without PI, separate, md", { 512, 8, SEP, 0, 0, false }, 0, MD_DMA, 0, 0, 0,
	  0, 0, 0, 0, 0 },
	{ "separate metadata, none given", { 512, 8, SEP, 0, 0, false }, 0, NULL, 0, 0, 0,
	  -EINVAL, 0, 0, 0, 0 },
	{ "extended, md given", { 512, 8, EXT, 1, 16, false }, 0, MD_DMA, 0, 0, 0, -EINVAL, 0, 0,
	  0, 0 },
	{ "unknown PI bit", { 512, 8, EXT, 1, 16, false }, 1u << 4, NULL, 0, 0, 0, -EINVAL, 0,
	  0, 0, 0 },
	{ "type 1, every bit", { 512, 8, EXT, 1, 16, false }, NVP_PI_PRACT | CHK, NULL,
	  0x89abcdef, 0x1234, 0xff00, 0, NVP_RW_PRACT | RW_CHK, 0, 0x89abcdef, 0xff001234 },
	{ "type 1, guard only", { 512, 8, EXT, 1, 16, false }, NVP_PI_CHECK_GUARD, NULL, 5, 0,
	  0, 0, NVP_RW_PRCHK_GUARD, 0, 5, 0 },
	{ "type 1, apptag only", { 512, 8, EXT, 1, 16, false }, NVP_PI_CHECK_APPTAG, NULL, 0,
	  0xffff, 0xffff, 0, NVP_RW_PRCHK_APPTAG, 0, 0, 0xffffffff },
	{ "type 1, reftag only", { 512, 8, EXT, 1, 16, false }, NVP_PI_CHECK_REFTAG, NULL, 0,
	  0, 0, 0, NVP_RW_PRCHK_REFTAG, 0, 0, 0 },
	{ "16-bit guard: reftag 2^32 - 1", { 512, 8, EXT, 2, 16, false }, 0, NULL,
	  0xffffffffull, 0, 0, 0, 0, 0, 0xffffffff, 0 },
	{ "16-bit guard: reftag 2^32", { 512, 8, EXT, 2, 16, false }, 0, NULL, 1ull << 32, 0, 0,
	  -EINVAL, 0, 0, 0, 0 },
	{ "64-bit guard: 48-bit reftag split CDW14/CDW3", { 4096, 16, SEP, 2, 64, false }, CHK,
	  MD_DMA, 0xabcd12345678ull, 1, 2, 0, RW_CHK, 0xabcd, 0x12345678, 0x00020001 },
	{ "64-bit guard: reftag 2^48 - 1", { 4096, 16, SEP, 1, 64, true }, 0, MD_DMA,
	  (1ull << 48) - 1, 0, 0, 0, 0, 0xffff, 0xffffffff, 0 },
	{ "64-bit guard: reftag 2^48", { 4096, 16, SEP, 1, 64, true }, 0, MD_DMA, 1ull << 48, 0,
	  0, -EINVAL, 0, 0, 0, 0 },
	{ "type 3: reftag check refused", { 512, 8, EXT, 3, 16, false }, NVP_PI_CHECK_REFTAG,
	  NULL, 0, 0, 0, -EINVAL, 0, 0, 0, 0 },
	{ "type 3: guard and apptag", { 512, 8, EXT, 3, 16, false },
	  NVP_PI_CHECK_GUARD | NVP_PI_CHECK_APPTAG, NULL, 0x77, 0x5, 0xf, 0,
	  NVP_RW_PRCHK_GUARD | NVP_RW_PRCHK_APPTAG, 0, 0x77, 0x000f0005 },
	{ "PRACT, PI-only separate metadata: none moves", { 4096, 8, SEP, 1, 16, false },
	  NVP_PI_PRACT, NULL, 0, 0, 0, 0, NVP_RW_PRACT, 0, 0, 0 },
	{ "PRACT, PI-only separate metadata: md refused", { 4096, 8, SEP, 1, 16, false },
	  NVP_PI_PRACT, MD_DMA, 0, 0, 0, -EINVAL, 0, 0, 0, 0 },
	{ "PRACT, more metadata than PI: md needed", { 4096, 16, SEP, 1, 16, false },
	  NVP_PI_PRACT, NULL, 0, 0, 0, -EINVAL, 0, 0, 0, 0 },
	{ "PRACT, more metadata than PI: md given", { 4096, 16, SEP, 1, 16, false },
	  NVP_PI_PRACT, MD_DMA, 0, 0, 0, 0, NVP_RW_PRACT, 0, 0, 0 },
	{ "separate, md not DMA memory", { 4096, 8, SEP, 1, 16, false }, 0, MD_STACK, 0, 0, 0,
	  -EFAULT, 0, 0, 0, 0 },
	{ "separate, md not dword aligned", { 4096, 8, SEP, 1, 16, false }, 0, MD_ODD, 0, 0, 0,
	  -EINVAL, 0, 0, 0, 0 },
};

/* A fake memory map, as test_payload.c: one region, bus address 4 GiB. */
static const uint64_t fake_iova[1] = { 0x100000000ull };
static struct nvp_mem_region fake_region;
static struct nvp_mem_snapshot fake_map;

static void test_apply_table(void **state)
{
	uint8_t *dma = aligned_alloc(4096, 1 << 16);
	const struct nvp_mem_snapshot *saved = atomic_load(&nvp_mem_current);
	uint8_t stack_md[64];

	(void)state;
	assert_non_null(dma);
	fake_region = (struct nvp_mem_region){ (uintptr_t)dma, 1 << 16, 63, fake_iova };
	fake_map = (struct nvp_mem_snapshot){ .count = 1, .by_va = &fake_region };
	atomic_store(&nvp_mem_current, &fake_map);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct apply_case *c = &cases[i];
		struct nvp_ns ns;
		struct nvp_sqe sqe, before;
		struct nvp_io_opts o;
		uint64_t iova = 0;
		size_t contig;
		int rc;

		print_message("case: %s\n", c->name);
		make_ns(&ns, &c->f);
		nvp_io_opts_init(&o, sizeof(o));
		o.pi = c->pi;
		o.md = c->md == MD_DMA ? (void *)dma : c->md == MD_STACK ? (void *)stack_md :
		       c->md == MD_ODD ? (void *)(dma + 2) : NULL;
		o.reftag = c->reftag;
		o.apptag = c->apptag;
		o.apptag_mask = c->mask;
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = NVP_NVM_WRITE;
		sqe.cdw12 = nvp_cpu_to_le32(3 | NVP_RW_FUA);
		before = sqe;
		rc = nvp_io_apply_opts(NULL, &ns, NULL, &sqe, &o, 100, 4);
		assert_int_equal(rc, c->rc);
		if (rc)
			continue;
		assert_int_equal(nvp_le32_to_cpu(sqe.cdw12), 3 | NVP_RW_FUA | c->cdw12_bits);
		assert_int_equal(sqe.cdw3, nvp_cpu_to_le32(c->cdw3));
		assert_int_equal(sqe.cdw14, nvp_cpu_to_le32(c->cdw14));
		assert_int_equal(sqe.cdw15, nvp_cpu_to_le32(c->cdw15));
		if (o.md) {
			assert_int_equal(nvp_mem_lookup(o.md, &iova, &contig), 0);
			assert_true(iova == fake_iova[0] + (uint64_t)((uint8_t *)o.md - dma));
		}
		assert_true(sqe.mptr == nvp_cpu_to_le64(iova));
		/* Nothing else moved. */
		sqe.cdw12 = before.cdw12;
		sqe.cdw3 = sqe.cdw14 = sqe.cdw15 = 0;
		sqe.mptr = 0;
		assert_memory_equal(&sqe, &before, sizeof(sqe));
	}
	atomic_store(&nvp_mem_current, saved);
	free(dma);
}

/* As the commands of other files call it: NULL, short structs, flags. */
static void test_apply_callers(void **state)
{
	struct fmt f = { 512, 0, NONE, 0, 0, false };
	struct nvp_io_opts o;
	struct nvp_sqe sqe;
	struct nvp_ns ns;

	(void)state;
	make_ns(&ns, &f);
	memset(&sqe, 0, sizeof(sqe));
	sqe.cdw12 = nvp_cpu_to_le32(7);
	assert_int_equal(nvp_io_apply_opts(NULL, &ns, NULL, &sqe, NULL, 0, 8), 0);
	assert_int_equal(nvp_le32_to_cpu(sqe.cdw12), 7);
	nvp_io_opts_init(&o, sizeof(o));
	o.flags = NVP_IO_FUA | NVP_IO_LIMITED_RETRY;
	assert_int_equal(nvp_io_apply_opts(NULL, &ns, NULL, &sqe, &o, 0, 8), 0);
	assert_int_equal(nvp_le32_to_cpu(sqe.cdw12), 7 | NVP_RW_FUA | NVP_RW_LR);
	o.flags = 1u << 9;
	assert_int_equal(nvp_io_apply_opts(NULL, &ns, NULL, &sqe, &o, 0, 8), -EINVAL);
	o.opts_size = 0;
	assert_int_equal(nvp_io_apply_opts(NULL, &ns, NULL, &sqe, &o, 0, 8), -EINVAL);
	/* A caller that knows only opts_size and flags: pi and md read as unset. */
	memset(&o, 0xff, sizeof(o));
	o.opts_size = offsetof(struct nvp_io_opts, pi);
	o.flags = NVP_IO_FUA;
	memset(&sqe, 0, sizeof(sqe));
	assert_int_equal(nvp_io_apply_opts(NULL, &ns, NULL, &sqe, &o, 0, 8), 0);
	assert_int_equal(nvp_le32_to_cpu(sqe.cdw12), NVP_RW_FUA);
	assert_true(sqe.mptr == 0);
}

static void test_normalise(void **state)
{
	struct nvp_io_opts full, out;

	(void)state;
	assert_int_equal(nvp_io_opts_normalise(&out, NULL), 0);
	assert_int_equal(out.opts_size, sizeof(out));
	assert_int_equal(out.pi, 0);
	assert_null(out.md);
	memset(&full, 0, sizeof(full));
	assert_int_equal(nvp_io_opts_normalise(&out, &full), -EINVAL);	/* never initialised */
	/* An older caller's struct ends before md: md and the tags stay zero. */
	memset(&full, 0xff, sizeof(full));
	full.opts_size = offsetof(struct nvp_io_opts, md);
	assert_int_equal(nvp_io_opts_normalise(&out, &full), 0);
	assert_int_equal(out.flags, 0xffffffffu);
	assert_int_equal(out.pi, 0xffffffffu);
	assert_null(out.md);
	assert_int_equal(out.apptag, 0);
	assert_true(out.reftag == 0);
	assert_int_equal(out.opts_size, sizeof(out));
	/* A newer caller's larger struct: our fields, nothing past them. */
	nvp_io_opts_init(&full, sizeof(full));
	full.reftag = 42;
	full.opts_size = sizeof(full) + 64;
	assert_int_equal(nvp_io_opts_normalise(&out, &full), 0);
	assert_true(out.reftag == 42);
}

static void test_xfer_block(void **state)
{
	static const struct {
		struct fmt f;
		uint32_t pi;
		uint32_t xfer;
		bool moves;
	} t[] = {
		{ { 512, 0, NONE, 0, 0, false }, 0, 512, false },
		{ { 512, 8, EXT, 0, 0, false }, 0, 520, true },
		{ { 512, 8, SEP, 0, 0, false }, 0, 512, true },
		{ { 512, 8, EXT, 1, 16, false }, 0, 520, true },
		{ { 512, 8, EXT, 1, 16, false }, NVP_PI_PRACT, 512, false },
		{ { 512, 16, EXT, 1, 16, false }, NVP_PI_PRACT, 528, true },
		{ { 4096, 16, EXT, 2, 64, false }, NVP_PI_PRACT, 4096, false },
		{ { 4096, 16, SEP, 2, 64, false }, NVP_PI_PRACT, 4096, false },
		{ { 4096, 64, SEP, 2, 64, true }, NVP_PI_PRACT, 4096, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nvp_ns ns;
		struct nvp_io_opts o;

		make_ns(&ns, &t[i].f);
		nvp_io_opts_init(&o, sizeof(o));
		o.pi = t[i].pi;
		assert_int_equal(nvp_io_xfer_block(&ns, &o), t[i].xfer);
		assert_int_equal(nvp_io_md_moves(&ns, &o), t[i].moves);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_table),
		cmocka_unit_test(test_apply_callers),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_xfer_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
