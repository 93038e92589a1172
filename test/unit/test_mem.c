// SPDX-License-Identifier: BSD-3-Clause
/*
 * test/unit/test_mem.c - the memory layer: DMA heap, map, lookups, domains,
 * registration. Runs without root and without hugepages; when run as root
 * it also reserves a few hugepages for the hugepage/physical-address test
 * and puts the count back afterwards (NVP_TEST_NO_HUGEPAGES=1 skips that).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>

#include "mem/internal.h"
#include "mem/mem.h"

#define MiB (1ull << 20)
#define PAGE 4096

#include "fake_domain.h"

/* Page-aligned ordinary memory for registrations. */
static void *pages(size_t n)
{
	void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static bool hugepages_free(void)
{
	size_t ps = nvp_hugepage_default_size();

	return ps && nvp_hugepage_available(ps, NVP_NUMA_ANY) > 0;
}

/* What the library itself decides about backing (lib/mem/register.c). */
static bool is_hugetlbfs(const void *va, size_t len)
{
	unsigned int shift = 0;

	return nvp_mem_probe_backing((uintptr_t)va, len, &shift) == NVP_BACKING_HUGE &&
	       shift >= 21;
}

static void assert_unset(void)
{
	assert_int_equal(nvp_mem_iova_mode(), NVP_IOVA_UNSET);
	assert_null(atomic_load(&nvp_mem_current));
}

/* ---- nvp_dma_alloc ----------------------------------------------------- */

static void test_alloc_args(void **state)
{
	(void)state;
	errno = 0;
	assert_null(nvp_dma_alloc(0, 0, NVP_NUMA_ANY));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(nvp_dma_alloc(4096, 3, NVP_NUMA_ANY));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(nvp_dma_alloc(4096, 4 * MiB, NVP_NUMA_ANY));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(nvp_dma_alloc(4096, 0, -7));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(nvp_dma_alloc(4096, 0, 100000));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(nvp_last_error(), "NUMA node"));
	/* node 0 always exists */
	void *p = nvp_dma_alloc(100, 0, 0);

	assert_non_null(p);
	nvp_dma_free(p);
	/* freeing junk is refused, not a crash */
	int x;

	nvp_dma_free(&x);
	assert_non_null(strstr(nvp_last_error(), "nvp_dma_free"));
	nvp_dma_free(NULL);
}

static void test_alloc_default_align_and_zero(void **state)
{
	unsigned char *p[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		p[i] = nvp_dma_alloc(1000 + i * 777, 0, NVP_NUMA_ANY);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 4096, 0);
		for (size_t b = 0; b < 1000 + (size_t)i * 777; b++)
			assert_int_equal(p[i][b], 0);
		memset(p[i], 0xa5, 1000 + i * 777);
	}
	for (int i = 0; i < 8; i++)
		nvp_dma_free(p[i]);
	/* The same sizes again come back zeroed even though reused. */
	for (int i = 0; i < 8; i++) {
		p[i] = nvp_dma_alloc(1000 + i * 777, 0, NVP_NUMA_ANY);
		assert_non_null(p[i]);
		for (size_t b = 0; b < 1000 + (size_t)i * 777; b++)
			assert_int_equal(p[i][b], 0);
	}
	for (int i = 0; i < 8; i++)
		nvp_dma_free(p[i]);
}

static void test_alloc_free_reuse(void **state)
{
	void *a, *b, *c;

	(void)state;
	a = nvp_dma_alloc(8192, 4096, NVP_NUMA_ANY);
	assert_non_null(a);
	nvp_dma_free(a);
	b = nvp_dma_alloc(8192, 4096, NVP_NUMA_ANY);
	assert_ptr_equal(a, b); /* first fit hands the hole back */
	c = nvp_dma_alloc(8192, 4096, NVP_NUMA_ANY);
	assert_non_null(c);
	assert_ptr_not_equal(b, c);
	nvp_dma_free(b);
	nvp_dma_free(c);
	/* With free hugepages, small allocations come from them (not under
	 * qemu-user, which cannot place hugetlbfs mappings: test_hugepages_phys). */
	a = nvp_dma_alloc(64, 64, NVP_NUMA_ANY);
	assert_non_null(a);
	if (hugepages_free() && !getenv("NVP_TEST_QEMU_USER"))
		assert_true(is_hugetlbfs(a, 64));
	nvp_dma_free(a);
}

struct live_alloc {
	uintptr_t va;
	size_t size;
	unsigned char tag;
};

static int cmp_live(const void *a, const void *b)
{
	const struct live_alloc *x = a, *y = b;

	return x->va < y->va ? -1 : x->va > y->va;
}

/* The property queues rely on: <= hugepage size never crosses a boundary. */
static void test_alloc_random_never_crosses(void **state)
{
	enum { N = 600 };
	static struct live_alloc live[N];
	size_t hp = nvp_hugepage_default_size() ? nvp_hugepage_default_size() : 2 * MiB;
	unsigned int seed = 12345;

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			size_t size, align;

			if (live[i].va)
				continue;
			switch (rand_r(&seed) % 4) {
			case 0: size = 1 + rand_r(&seed) % 512; break;
			case 1: size = 1 + rand_r(&seed) % 16384; break;
			case 2: size = 1 + rand_r(&seed) % (256 * 1024); break;
			default: size = 1 + rand_r(&seed) % hp; break;
			}
			align = (size_t)1 << (rand_r(&seed) % 22); /* 1 B .. 2 MiB */
			unsigned char *p = nvp_dma_alloc(size, align, NVP_NUMA_ANY);

			assert_non_null(p);
			assert_int_equal((uintptr_t)p % align, 0);
			assert_int_equal((uintptr_t)p / hp, ((uintptr_t)p + size - 1) / hp);
			assert_int_equal(p[0], 0);
			assert_int_equal(p[size - 1], 0);
			assert_int_equal(p[size / 2], 0);
			live[i] = (struct live_alloc){ (uintptr_t)p, size, (unsigned char)(i + 1) };
			p[0] = p[size - 1] = live[i].tag;
		}
		/* No two live blocks overlap and nobody overwrote anyone. */
		static struct live_alloc sorted[N];

		memcpy(sorted, live, sizeof(sorted));
		qsort(sorted, N, sizeof(sorted[0]), cmp_live);
		for (int i = 0; i < N; i++) {
			const unsigned char *p = (const unsigned char *)sorted[i].va;

			assert_int_equal(p[0], sorted[i].tag);
			assert_int_equal(p[sorted[i].size - 1], sorted[i].tag);
			if (i)
				assert_true(sorted[i - 1].va + sorted[i - 1].size <= sorted[i].va);
		}
		/* Free a random half. */
		for (int i = 0; i < N; i++) {
			if (rand_r(&seed) % 2) {
				nvp_dma_free((void *)live[i].va);
				live[i].va = 0;
			}
		}
	}
	for (int i = 0; i < N; i++) {
		nvp_dma_free((void *)live[i].va);
		live[i].va = 0;
	}
}

static void test_alloc_large(void **state)
{
	unsigned char *p;
	size_t size = 5 * MiB + 123;

	(void)state;
	p = nvp_dma_alloc(size, 0, NVP_NUMA_ANY);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (2 * MiB), 0);
	for (size_t off = 0; off < size; off += 4096)
		assert_int_equal(p[off], 0);
	assert_int_equal(p[size - 1], 0);
	memset(p, 1, size);
	nvp_dma_free(p);
}

/* ---- lookups ----------------------------------------------------------- */

static void test_lookup_before_attach(void **state)
{
	unsigned char *buf = pages(4);
	uint64_t iova = 0;
	size_t c = 0;

	(void)state;
	assert_unset();
	assert_int_equal(nvp_mem_register(buf, 4 * PAGE), 0);
	assert_int_equal(nvp_mem_lookup(buf, &iova, &c), -EFAULT);
	assert_int_equal(nvp_mem_translate(buf, &iova, NULL), -EFAULT);
	assert_non_null(strstr(nvp_last_error(), "attached"));
	assert_null(nvp_mem_iova_to_va(1ull << 32, 1, NULL));
	assert_int_equal(nvp_mem_unregister(buf), 0);
	munmap(buf, 4 * PAGE);
}

static void test_lookup_many_regions(void **state)
{
	enum { N = 97 }; /* odd, to exercise uneven binary-search halves */
	struct fake_domain *f = fake_new("fake-virt", true);
	unsigned char *area = pages(N * 3 + 1);
	uint64_t iova[N], iv;
	size_t c = 0;

	(void)state;
	/* Regions of 1 or 2 pages with one-page gaps between them. */
	for (int i = 0; i < N; i++)
		assert_int_equal(nvp_mem_register(area + (size_t)i * 3 * PAGE, (1 + i % 2) * PAGE), 0);
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), 0);
	assert_int_equal(nvp_mem_iova_mode(), NVP_IOVA_VIRT);

	for (int i = 0; i < N; i++) {
		unsigned char *r = area + (size_t)i * 3 * PAGE;
		size_t len = (1 + i % 2) * PAGE;
		const struct mapping *m = fake_find(f, r);

		assert_int_equal(nvp_mem_lookup(r, &iova[i], &c), 0);
		assert_int_equal(c, len);
		assert_true(iova[i] >= (1ull << 32));
		assert_true(iova[i] != (uintptr_t)r);
		assert_int_equal(iova[i] % PAGE, 0);
		/* the domain was told the same address */
		assert_non_null(m);
		assert_int_equal(m->va, (uintptr_t)r);
		assert_int_equal(m->iova, iova[i]);
		assert_int_equal(m->len, len);
		/* last byte */
		assert_int_equal(nvp_mem_lookup(r + len - 1, &iv, &c), 0);
		assert_int_equal(iv, iova[i] + len - 1);
		assert_int_equal(c, 1);
		/* a middle byte */
		assert_int_equal(nvp_mem_lookup(r + 100, &iv, &c), 0);
		assert_int_equal(iv, iova[i] + 100);
		assert_int_equal(c, len - 100);
		/* one past the end, and the gap */
		assert_int_equal(nvp_mem_lookup(r + len, &iv, &c), -EFAULT);
		assert_int_equal(nvp_mem_lookup(r + 3 * PAGE - 1, &iv, &c), -EFAULT);
		/* and back */
		assert_ptr_equal(nvp_mem_iova_to_va(iova[i] + 17, 8, NULL), r + 17);
	}
	/* IOVAs of distinct regions never overlap. */
	for (int i = 1; i < N; i++)
		for (int j = 0; j < i; j++)
			assert_true(iova[i] >= iova[j] + (1 + j % 2) * PAGE ||
				    iova[j] >= iova[i] + (1 + i % 2) * PAGE);
	assert_int_equal(nvp_mem_lookup(area - 1, &iv, &c), -EFAULT);
	assert_int_equal(nvp_mem_lookup(NULL, &iv, &c), -EFAULT);
	assert_int_equal(nvp_mem_lookup((void *)UINTPTR_MAX, &iv, &c), -EFAULT);

	/* nvp_mem_translate() agrees, and contig is optional */
	assert_int_equal(nvp_mem_translate(area + 5, &iv, NULL), 0);
	assert_int_equal(iv, iova[0] + 5);
	assert_int_equal(nvp_mem_translate(area + PAGE, &iv, &c), -EFAULT);

	for (int i = 0; i < N; i++)
		assert_int_equal(nvp_mem_unregister(area + (size_t)i * 3 * PAGE), 0);
	assert_int_equal(nvp_mem_lookup(area, &iv, &c), -EFAULT);
	assert_null(nvp_mem_iova_to_va(iova[0], 1, NULL));
	nvp_mem_domain_detach(&f->d);
	assert_unset();
	assert_int_equal(f->bad_unmaps, 0);
	assert_int_equal(fake_live(f), 0);
	assert_int_equal(f->map_calls, f->unmap_calls);
	munmap(area, (N * 3 + 1) * PAGE);
	free(f);
}

static void test_reverse_translation(void **state)
{
	struct fake_domain *f = fake_new("emu-like", false);
	unsigned char *buf = pages(16);
	uint64_t iova = 0;
	size_t c = 0;

	(void)state;
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), 0);
	assert_int_equal(nvp_mem_register(buf, 16 * PAGE), 0);
	assert_int_equal(nvp_mem_lookup(buf, &iova, &c), 0);

	assert_ptr_equal(nvp_mem_iova_to_va(iova, 16 * PAGE, &c), buf);
	assert_int_equal(c, 16 * PAGE);
	assert_ptr_equal(nvp_mem_iova_to_va(iova + 100, 10, &c), buf + 100);
	assert_int_equal(c, 10);
	/* asking past the end: the part that exists */
	assert_ptr_equal(nvp_mem_iova_to_va(iova + 16 * PAGE - 8, 64, &c), buf + 16 * PAGE - 8);
	assert_int_equal(c, 8);
	/* ... or nothing when the caller cannot take a partial answer */
	assert_null(nvp_mem_iova_to_va(iova + 16 * PAGE - 8, 64, NULL));
	/* unmapped bus addresses are DMA faults */
	assert_null(nvp_mem_iova_to_va(iova + 16 * PAGE, 1, &c));
	assert_null(nvp_mem_iova_to_va(iova - 1, 1, &c));
	assert_null(nvp_mem_iova_to_va(0, 1, &c));
	assert_null(nvp_mem_iova_to_va((uintptr_t)buf, 1, &c)); /* a VA is no IOVA */
	assert_null(nvp_mem_iova_to_va(UINT64_MAX, 1, &c));

	assert_int_equal(nvp_mem_unregister(buf), 0);
	assert_null(nvp_mem_iova_to_va(iova, 1, &c));
	nvp_mem_domain_detach(&f->d);
	assert_unset();
	munmap(buf, 16 * PAGE);
	free(f);
}

/* ---- registration ------------------------------------------------------ */

static void test_register_errors(void **state)
{
	unsigned char *buf = pages(8);
	void *dma;

	(void)state;
	assert_int_equal(nvp_mem_register(buf + 1, PAGE), -EINVAL);
	assert_int_equal(nvp_mem_register(buf, 0), -EINVAL);
	assert_int_equal(nvp_mem_register(buf, PAGE + 512), -EINVAL);
	assert_int_equal(nvp_mem_register(NULL, PAGE), -EINVAL);

	assert_int_equal(nvp_mem_register(buf + 2 * PAGE, 2 * PAGE), 0);
	assert_int_equal(nvp_mem_register(buf + 2 * PAGE, 2 * PAGE), -EEXIST);
	assert_int_equal(nvp_mem_register(buf + PAGE, 2 * PAGE), -EEXIST);	/* front */
	assert_int_equal(nvp_mem_register(buf + 3 * PAGE, 2 * PAGE), -EEXIST);	/* back */
	assert_int_equal(nvp_mem_register(buf, 8 * PAGE), -EEXIST);		/* around */
	assert_int_equal(nvp_mem_register(buf + 3 * PAGE, PAGE), -EEXIST);	/* inside */
	assert_non_null(strstr(nvp_last_error(), "overlaps"));
	/* neighbours touching but not overlapping are fine */
	assert_int_equal(nvp_mem_register(buf + PAGE, PAGE), 0);
	assert_int_equal(nvp_mem_register(buf + 4 * PAGE, PAGE), 0);

	assert_int_equal(nvp_mem_unregister(buf + 3 * PAGE), -ENOENT);		/* middle */
	assert_int_equal(nvp_mem_unregister(buf), -ENOENT);
	assert_int_equal(nvp_mem_unregister(buf + 2 * PAGE), 0);
	assert_int_equal(nvp_mem_unregister(buf + 2 * PAGE), -ENOENT);		/* twice */
	assert_int_equal(nvp_mem_unregister(buf + PAGE), 0);
	assert_int_equal(nvp_mem_unregister(buf + 4 * PAGE), 0);

	/* DMA memory is not a registration, and cannot be registered again */
	dma = nvp_dma_alloc(PAGE, 0, NVP_NUMA_ANY);
	assert_non_null(dma);
	assert_int_equal(nvp_mem_unregister(dma), -ENOENT);
	assert_int_equal(nvp_mem_register(dma, PAGE), -EEXIST);
	nvp_dma_free(dma);
	assert_false(is_hugetlbfs(buf, 8 * PAGE));
	munmap(buf, 8 * PAGE);
}

/* ---- domains ----------------------------------------------------------- */

static void test_domain_replay(void **state)
{
	struct fake_domain *f = fake_new("fake-vfio", true);
	unsigned char *reg = pages(4), *late = pages(2);
	void *dma[3];
	uint64_t iova = 0;
	size_t c = 0;
	int before;

	(void)state;
	assert_unset();
	/* Regions that exist before any domain get IOVAs at attach time. */
	dma[0] = nvp_dma_alloc(4096, 0, NVP_NUMA_ANY);
	dma[1] = nvp_dma_alloc(3 * MiB, 0, NVP_NUMA_ANY);
	assert_non_null(dma[0]);
	assert_non_null(dma[1]);
	assert_int_equal(nvp_mem_register(reg, 4 * PAGE), 0);
	assert_int_equal(nvp_mem_lookup(dma[0], &iova, &c), -EFAULT);

	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), 0);
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), -EINVAL); /* twice */
	for (int i = 0; i < 2; i++) {
		const struct mapping *m = fake_find(f, dma[i]);

		assert_non_null(m);
		assert_int_equal(nvp_mem_lookup(dma[i], &iova, &c), 0);
		assert_int_equal(iova, m->iova + ((uintptr_t)dma[i] - m->va));
		/* hugepage-sized regions get hugepage-aligned IOVAs */
		assert_int_equal(m->iova % (2 * MiB), 0);
	}
	assert_non_null(fake_find(f, reg));
	assert_int_equal(fake_find(f, reg)->len, 4 * PAGE);

	/* New regions are mapped as they appear, and unmapped as they go. */
	before = fake_live(f);
	assert_int_equal(nvp_mem_register(late, 2 * PAGE), 0);
	assert_int_equal(fake_live(f), before + 1);
	assert_int_equal(nvp_mem_lookup(late, &iova, &c), 0);
	assert_int_equal(fake_find(f, late)->iova, iova);
	assert_int_equal(nvp_mem_unregister(late), 0);
	assert_int_equal(fake_live(f), before);
	assert_null(fake_find(f, late));
	dma[2] = nvp_dma_alloc(6 * MiB, 0, NVP_NUMA_ANY);	/* own mapping */
	assert_non_null(dma[2]);
	assert_int_equal(fake_live(f), before + 1);
	nvp_dma_free(dma[2]);
	assert_int_equal(fake_live(f), before);

	/* Detach unmaps everything and forgets the mode. */
	nvp_mem_domain_detach(&f->d);
	assert_int_equal(fake_live(f), 0);
	assert_int_equal(f->bad_unmaps, 0);
	assert_unset();
	assert_int_equal(nvp_mem_lookup(dma[0], &iova, &c), -EFAULT);
	nvp_mem_domain_detach(&f->d); /* not attached: ignored */

	nvp_dma_free(dma[0]);
	nvp_dma_free(dma[1]);
	assert_int_equal(nvp_mem_unregister(reg), 0);
	munmap(reg, 4 * PAGE);
	munmap(late, 2 * PAGE);
	free(f);
}

static void test_domain_map_failure(void **state)
{
	struct fake_domain *f = fake_new("flaky", true);
	struct fake_domain *ok = fake_new("fine", true);
	unsigned char *a = pages(2), *b = pages(2), *c = pages(2);
	uint64_t iova = 0;
	size_t contig;

	(void)state;
	assert_int_equal(nvp_mem_register(a, PAGE), 0);
	assert_int_equal(nvp_mem_register(b, PAGE), 0);
	/* Attach fails on the second region: nothing stays mapped, no mode. */
	f->fail_at = 2;
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), -ENOSPC);
	assert_int_equal(fake_live(f), 0);
	assert_unset();

	/* A region that one domain refuses is not added at all. */
	assert_int_equal(nvp_mem_domain_attach(&ok->d, NVP_IOVA_VIRT), 0);
	f->fail_at = 0;
	f->map_calls = 0;
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), 0);
	f->fail_at = f->map_calls + 1;
	assert_int_equal(nvp_mem_register(c, PAGE), -ENOSPC);
	assert_int_equal(nvp_mem_lookup(c, &iova, &contig), -EFAULT);
	assert_null(fake_find(ok, c));
	assert_null(fake_find(f, c));
	assert_int_equal(nvp_mem_unregister(c), -ENOENT);

	nvp_mem_domain_detach(&f->d);
	assert_int_equal(nvp_mem_iova_mode(), NVP_IOVA_VIRT); /* ok still attached */
	assert_int_equal(nvp_mem_lookup(a, &iova, &contig), 0);
	nvp_mem_domain_detach(&ok->d);
	assert_unset();
	assert_int_equal(fake_live(f), 0);
	assert_int_equal(fake_live(ok), 0);
	assert_int_equal(ok->bad_unmaps + f->bad_unmaps, 0);
	assert_int_equal(nvp_mem_unregister(a), 0);
	assert_int_equal(nvp_mem_unregister(b), 0);
	munmap(a, 2 * PAGE);
	munmap(b, 2 * PAGE);
	munmap(c, 2 * PAGE);
	free(f);
	free(ok);
}

static void test_mode_conflict(void **state)
{
	struct fake_domain *v = fake_new("vfio container", true);
	struct fake_domain *p = fake_new("uio 0000:00:04.0", false);
	unsigned char *buf = pages(2);

	(void)state;
	assert_int_equal(nvp_mem_domain_attach(&v->d, NVP_IOVA_VIRT), 0);
	assert_int_equal(nvp_mem_domain_attach(&p->d, NVP_IOVA_PHYS), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "cannot be mixed"));
	assert_non_null(strstr(nvp_last_error(), "vfio container"));
	assert_int_equal(nvp_mem_iova_mode(), NVP_IOVA_VIRT);
	assert_int_equal(nvp_mem_domain_attach(&p->d, NVP_IOVA_UNSET), -EINVAL);
	nvp_mem_domain_detach(&v->d);
	assert_unset();

	/* PHYS refuses ordinary memory that is already in the map... */
	assert_int_equal(nvp_mem_register(buf, PAGE), 0);
	assert_int_equal(nvp_mem_domain_attach(&p->d, NVP_IOVA_PHYS), -ENOTSUP);
	assert_non_null(strstr(nvp_last_error(), "hugetlbfs"));
	assert_unset();
	assert_int_equal(nvp_mem_unregister(buf), 0);

	/* ...and memory registered later; with the mode fixed the other kind
	 * of domain is refused the other way round too. */
	assert_int_equal(nvp_mem_domain_attach(&p->d, NVP_IOVA_PHYS), 0);
	assert_int_equal(nvp_mem_iova_mode(), NVP_IOVA_PHYS);
	assert_int_equal(nvp_mem_register(buf, PAGE), -ENOTSUP);
	assert_int_equal(nvp_mem_domain_attach(&v->d, NVP_IOVA_VIRT), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "physical addresses for uio"));
	if (!hugepages_free()) {
		/* No fallback to ordinary memory in PHYS mode. */
		errno = 0;
		assert_null(nvp_dma_alloc(4096, 0, NVP_NUMA_ANY));
		assert_int_equal(errno, ENOMEM);
		assert_non_null(strstr(nvp_last_error(), "nr_hugepages"));
		errno = 0;
		assert_null(nvp_dma_alloc(8 * MiB, 0, 0));
		assert_int_equal(errno, ENOMEM);
		assert_non_null(strstr(nvp_last_error(), "nr_hugepages"));
	}
	nvp_mem_domain_detach(&p->d);
	assert_unset();
	munmap(buf, 2 * PAGE);
	free(v);
	free(p);
}

static void test_hint(void **state)
{
	const char *h = nvp_mem_hugepage_hint();

	(void)state;
	assert_non_null(strstr(h, "echo "));
	assert_non_null(strstr(h, "/sys/kernel/mm/hugepages/hugepages-"));
	assert_non_null(strstr(h, "kB/nr_hugepages"));
	h = nvp_mem_hugepage_hint_for(0, 4096ull * MiB);
	assert_non_null(strstr(h, "/sys/devices/system/node/node0/hugepages/"));
	if (nvp_hugepage_default_size() == 2 * MiB)
		assert_non_null(strstr(h, "echo 2048 >"));
}

/* ---- concurrency ------------------------------------------------------- */

struct race {
	unsigned char *stable;
	uint64_t stable_iova;
	unsigned char *churn;
	atomic_bool stop;
	atomic_long failures;
	atomic_long lookups;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();

	while (!atomic_load(&r->stop)) {
		size_t off = rand_r(&seed) % (64 * PAGE), c;
		uint64_t iova;
		int ret;

		ret = nvp_mem_lookup(r->stable + off, &iova, &c);
		if (ret || iova != r->stable_iova + off || c != 64 * PAGE - off)
			atomic_fetch_add(&r->failures, 1);
		if (nvp_mem_iova_to_va(r->stable_iova + off, 1, NULL) != r->stable + off)
			atomic_fetch_add(&r->failures, 1);
		/* The churning buffer may or may not be there, but a hit must
		 * be a sensible one. */
		ret = nvp_mem_lookup(r->churn + off, &iova, &c);
		if (ret == 0 && (iova & (PAGE - 1)) != (off & (PAGE - 1)))
			atomic_fetch_add(&r->failures, 1);
		else if (ret && ret != -EFAULT)
			atomic_fetch_add(&r->failures, 1);
		atomic_fetch_add(&r->lookups, 1);
	}
	return NULL;
}

static void test_concurrent_lookups(void **state)
{
	struct fake_domain *f = fake_new("fake", true);
	struct race r = { 0 };
	pthread_t t[2];
	size_t c = 0;

	(void)state;
	r.stable = pages(64);
	r.churn = pages(64);
	assert_int_equal(nvp_mem_register(r.stable, 64 * PAGE), 0);
	assert_int_equal(nvp_mem_domain_attach(&f->d, NVP_IOVA_VIRT), 0);
	assert_int_equal(nvp_mem_lookup(r.stable, &r.stable_iova, &c), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
	for (int i = 0; i < 1500; i++) {
		size_t n = 1 + i % 64;
		void *d;

		assert_int_equal(nvp_mem_register(r.churn, n * PAGE), 0);
		d = nvp_dma_alloc(64 + (size_t)i * 512 % (3 * MiB), 0, NVP_NUMA_ANY);
		assert_non_null(d);
		assert_int_equal(nvp_mem_unregister(r.churn), 0);
		nvp_dma_free(d);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&r.failures), 0);
	assert_true(atomic_load(&r.lookups) > 0);
	nvp_mem_domain_detach(&f->d);
	assert_int_equal(nvp_mem_unregister(r.stable), 0);
	assert_int_equal(fake_live(f), 0);
	assert_int_equal(f->bad_unmaps, 0);
	munmap(r.stable, 64 * PAGE);
	munmap(r.churn, 64 * PAGE);
	free(f);
}

/* ---- real hugepages and physical addresses (root only) ----------------- */

static const char *nr_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
static long restore_nr = -1;

static long read_nr(void)
{
	FILE *fp = fopen(nr_path, "r");
	long v = -1;

	if (fp) {
		if (fscanf(fp, "%ld", &v) != 1)
			v = -1;
		fclose(fp);
	}
	return v;
}

static bool write_nr(long v)
{
	FILE *fp = fopen(nr_path, "w");
	bool ok;

	if (!fp)
		return false;
	ok = fprintf(fp, "%ld", v) > 0;
	return fclose(fp) == 0 && ok;
}

static uint64_t phys_of(const void *va)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, 8, (off_t)((uintptr_t)va / 4096 * 8)) != 8)
		ent = 0;
	close(fd);
	return (ent & ((1ull << 55) - 1)) * 4096 + ((uintptr_t)va & 4095);
}

static void test_hugepages_phys(void **state)
{
	struct fake_domain *p = fake_new("uio-test", false);
	const char *no = getenv("NVP_TEST_NO_HUGEPAGES");
	long orig = read_nr();
	bool changed;
	unsigned char *small, *big;
	uint64_t iova = 0;
	size_t c = 0;

	(void)state;
	if (getenv("NVP_TEST_QEMU_USER")) {
		print_message("skipped: qemu-user picks guest mapping addresses itself and "
			      "cannot place 2 MiB-aligned hugetlbfs mappings, so DMA memory is "
			      "not hugepage backed there\n");
		free(p);
		skip();
	}
	if (nvp_hugepage_default_size() != 2 * MiB || (no && *no == '1') ||
	    (!hugepages_free() && (geteuid() != 0 || orig < 0))) {
		free(p);
		skip();
	}
	if (nvp_hugepage_available(2 * MiB, NVP_NUMA_ANY) < 4) {
		changed = write_nr(orig + 5);
		if (changed)
			restore_nr = orig; /* by the group teardown, even on failure */
		if (!changed || nvp_hugepage_available(2 * MiB, NVP_NUMA_ANY) < 4) {
			free(p);
			skip();
		}
	}

	small = nvp_dma_alloc(4096, 0, 0);
	big = nvp_dma_alloc(3 * MiB, 0, NVP_NUMA_ANY);
	assert_non_null(small);
	assert_non_null(big);
	assert_true(is_hugetlbfs(small, 4096));
	assert_true(is_hugetlbfs(big, 3 * MiB));
	assert_int_equal((uintptr_t)big % (2 * MiB), 0);

	if (geteuid() == 0) {
		assert_int_equal(nvp_mem_domain_attach(&p->d, NVP_IOVA_PHYS), 0);
		assert_int_equal(nvp_mem_lookup(small, &iova, &c), 0);
		assert_int_equal(iova, phys_of(small));
		assert_true(c <= 2 * MiB);
		assert_int_equal(((uintptr_t)small + c) % (2 * MiB), 0);
		assert_ptr_equal(nvp_mem_iova_to_va(iova, 4096, NULL), small);
		/* the second hugepage of the large buffer */
		assert_int_equal(nvp_mem_lookup(big + 2 * MiB + 8, &iova, &c), 0);
		assert_int_equal(iova, phys_of(big + 2 * MiB + 8));
		assert_int_equal(c, 2 * MiB - 8);
		/* hugetlbfs memory of the application can be registered */
		void *h = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

		if (h != MAP_FAILED) {
			assert_int_equal(nvp_mem_register(h, 2 * MiB), 0);
			assert_true(is_hugetlbfs(h, 2 * MiB));
			assert_int_equal(nvp_mem_lookup((char *)h + 4096, &iova, &c), 0);
			assert_int_equal(iova, phys_of((char *)h + 4096));
			assert_int_equal(c, 2 * MiB - 4096);
			assert_int_equal(nvp_mem_unregister(h), 0);
			munmap(h, 2 * MiB);
		}
		nvp_mem_domain_detach(&p->d);
		assert_unset();
	} else {
		/* Without CAP_SYS_ADMIN the kernel hides PFNs: say so. */
		assert_int_equal(nvp_mem_domain_attach(&p->d, NVP_IOVA_PHYS), -EACCES);
		assert_non_null(strstr(nvp_last_error(), "CAP_SYS_ADMIN"));
		assert_unset();
	}
	nvp_dma_free(small);
	nvp_dma_free(big);
	nvp_mem_heap_trim(false);
	free(p);
}

static int group_teardown(void **state)
{
	(void)state;
	nvp_mem_heap_trim(false);
	if (restore_nr >= 0 && !write_nr(restore_nr))
		fprintf(stderr, "test_mem: could not restore %s to %ld\n", nr_path, restore_nr);
	return 0;
}

/* Every test starts with an empty map (cached heap chunks released) and no
 * mode, so one test's leftovers cannot decide another's result. */
static int setup(void **state)
{
	(void)state;
	nvp_mem_heap_trim(false);
	return nvp_mem_iova_mode() == NVP_IOVA_UNSET ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_alloc_args, setup),
		cmocka_unit_test_setup(test_alloc_default_align_and_zero, setup),
		cmocka_unit_test_setup(test_alloc_free_reuse, setup),
		cmocka_unit_test_setup(test_alloc_random_never_crosses, setup),
		cmocka_unit_test_setup(test_alloc_large, setup),
		cmocka_unit_test_setup(test_lookup_before_attach, setup),
		cmocka_unit_test_setup(test_lookup_many_regions, setup),
		cmocka_unit_test_setup(test_reverse_translation, setup),
		cmocka_unit_test_setup(test_register_errors, setup),
		cmocka_unit_test_setup(test_domain_replay, setup),
		cmocka_unit_test_setup(test_domain_map_failure, setup),
		cmocka_unit_test_setup(test_mode_conflict, setup),
		cmocka_unit_test_setup(test_hint, setup),
		cmocka_unit_test_setup(test_concurrent_lookups, setup),
		cmocka_unit_test_setup(test_hugepages_phys, setup),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
