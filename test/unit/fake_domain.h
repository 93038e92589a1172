/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/fake_domain.h - a fake DMA domain that records what the memory
 * layer tells it (map and unmap calls), for the memory unit tests.
 */
#ifndef NVP_TEST_FAKE_DOMAIN_H
#define NVP_TEST_FAKE_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "mem/mem.h"

#define UNUSED_OK __attribute__((unused))

#define MAX_MAPPINGS 8192

struct mapping {
	uintptr_t va;
	uint64_t iova;
	size_t len;
	bool live;
};

struct fake_domain {
	struct nvp_dma_domain d;
	struct mapping maps[MAX_MAPPINGS];
	int nr;
	int map_calls, unmap_calls;
	int fail_at;		/* map call number that fails (1-based), 0 = never */
	int bad_unmaps;		/* unmaps of something not mapped */
};

static int fake_map(struct nvp_dma_domain *d, void *va, uint64_t iova, size_t len)
{
	struct fake_domain *f = (struct fake_domain *)d;

	f->map_calls++;
	if (f->fail_at && f->map_calls == f->fail_at)
		return -ENOSPC;
	if (f->nr == MAX_MAPPINGS)
		return -ENOMEM;
	f->maps[f->nr++] = (struct mapping){ (uintptr_t)va, iova, len, true };
	return 0;
}

static int fake_unmap(struct nvp_dma_domain *d, void *va, uint64_t iova, size_t len)
{
	struct fake_domain *f = (struct fake_domain *)d;

	f->unmap_calls++;
	for (int i = 0; i < f->nr; i++) {
		struct mapping *m = &f->maps[i];

		if (m->live && m->va == (uintptr_t)va && m->iova == iova && m->len == len) {
			m->live = false;
			return 0;
		}
	}
	f->bad_unmaps++;
	return 0;
}

UNUSED_OK static struct fake_domain *fake_new(const char *name, bool callbacks)
{
	struct fake_domain *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->d.name = name;
	if (callbacks) {
		f->d.map = fake_map;
		f->d.unmap = fake_unmap;
	}
	return f;
}

UNUSED_OK static int fake_live(const struct fake_domain *f)
{
	int n = 0;

	for (int i = 0; i < f->nr; i++)
		n += f->maps[i].live;
	return n;
}

UNUSED_OK static const struct mapping *fake_find(const struct fake_domain *f, const void *va)
{
	for (int i = 0; i < f->nr; i++) {
		const struct mapping *m = &f->maps[i];

		if (m->live && (uintptr_t)va - m->va < m->len)
			return m;
	}
	return NULL;
}

#endif /* NVP_TEST_FAKE_DOMAIN_H */
