// SPDX-License-Identifier: BSD-3-Clause
/*
 * test/unit/test_mem_phys.c - the memory map in physical-address mode with
 * scattered segments, without root or hugepages: this file provides its own
 * nvp_mem_phys_segments() (lib/mem/pagemap.c's only function), so the
 * linker takes it instead of the one reading /proc/self/pagemap, and the
 * test decides where each segment lives in bus space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>

#include "fake_domain.h"
#include "mem/internal.h"
#include "mem/mem.h"

#define MiB (1ull << 20)

static const uint64_t *fake_segments;

/* Replaces lib/mem/pagemap.c: segment i of [va, va+len) is at fake_segments[i]. */
int nvp_mem_phys_segments(uintptr_t va, size_t len, unsigned int seg_shift, uint64_t *out)
{
	size_t n = (len + (1ull << seg_shift) - 1) >> seg_shift;

	(void)va;
	if (!fake_segments)
		return -EFAULT;
	memcpy(out, fake_segments, n * sizeof(*out));
	return 0;
}

/* A PHYS-like layout: 2 MiB segments scattered in bus space, the last one
 * partial. */
static void test_segments(void **state)
{
	struct fake_domain *f = fake_new("fake", true);
	const uint64_t seg[4] = { 0x7a00000, 0x1000000, 0x40000000, 0x1400000 };
	size_t len = 3 * 2 * MiB + MiB;
	/* an address range nobody uses: reserved, never touched */
	void *res = mmap(NULL, 8 * MiB + 2 * MiB, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t va;
	uint64_t iova = 0;
	size_t c = 0;

	(void)state;
	assert_true(res != MAP_FAILED);
	va = ((uintptr_t)res + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1);
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_PHYS), 0);
	/* Registered as hugepage memory, so PHYS mode asks pagemap (the fake
	 * below) for one address per 2 MiB segment. */
	fake_segments = seg;
	assert_int_equal(nvp_mem_map_add((void *)va, len, NVP_REGION_USER, NVP_BACKING_HUGE, 21), 0);
	/* the domain got one call per segment */
	assert_int_equal(fake_live(f), 4);
	assert_non_null(fake_find(f, (void *)(va + 6 * MiB + 5)));
	assert_int_equal(fake_find(f, (void *)(va + 6 * MiB + 5))->len, MiB);
	assert_int_equal(fake_find(f, (void *)(va + 6 * MiB + 5))->iova, seg[3]);

	for (int s = 0; s < 4; s++) {
		uintptr_t sva = va + (uintptr_t)s * 2 * MiB;
		size_t slen = s < 3 ? 2 * MiB : MiB;

		assert_int_equal(nvp_mem_lookup((void *)sva, &iova, &c), 0);
		assert_int_equal(iova, seg[s]);
		assert_int_equal(c, slen);
		assert_int_equal(nvp_mem_lookup((void *)(sva + slen - 1), &iova, &c), 0);
		assert_int_equal(iova, seg[s] + slen - 1);
		assert_int_equal(c, 1);
		assert_int_equal(nvp_mem_lookup((void *)(sva + 4096 + 3), &iova, &c), 0);
		assert_int_equal(iova, seg[s] + 4099);
		assert_int_equal(c, slen - 4099);

		assert_ptr_equal(nvp_mem_iova_to_va(seg[s] + 5, 1, &c), (void *)(sva + 5));
		assert_int_equal(c, 1);
		assert_ptr_equal(nvp_mem_iova_to_va(seg[s] + 5, 4 * MiB, &c), (void *)(sva + 5));
		assert_int_equal(c, slen - 5);
		assert_null(nvp_mem_iova_to_va(seg[s] + slen - 1, 2, NULL));
		assert_null(nvp_mem_iova_to_va(seg[s] - 1, 1, &c));
	}
	assert_int_equal(nvp_mem_lookup((void *)(va + len), &iova, &c), -EFAULT);
	/* between 0x1400000 + 1 MiB and 0x7a00000 nothing is mapped */
	assert_null(nvp_mem_iova_to_va(0x1500000, 1, &c));
	assert_null(nvp_mem_iova_to_va(0x1600000, 1, &c));

	assert_int_equal(nvp_mem_map_remove((void *)va, NVP_REGION_USER, NULL), 0);
	assert_int_equal(fake_live(f), 0);
	assert_int_equal(nvp_mem_lookup((void *)va, &iova, &c), -EFAULT);
	nvp_mem_domain_detach(&f->d);
	assert_int_equal(f->bad_unmaps, 0);
	munmap(res, 10 * MiB);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
