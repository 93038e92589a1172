// SPDX-License-Identifier: BSD-3-Clause
/*
 * lib/mem/hugepage.c - finding, reserving-checking and mapping hugepages,
 * the ordinary-memory stand-in, and NUMA placement.
 *
 * libhugetlbfs tells us the page sizes and where hugetlbfs is mounted. We
 * create the backing file ourselves (O_TMPFILE, else mkstemp+unlink)
 * instead of calling hugetlbfs_unlinked_fd_for_size(), because that one
 * prints "libhugetlbfs: ERROR: mkstemp() failed" to stderr when the mount
 * is not writable, and the library must stay quiet. libhugetlbfs reads
 * HUGETLB_VERBOSE once, in its constructor, before any code of ours runs,
 * so setting it from here would change nothing; the functions we do call
 * (gethugepagesizes, hugetlbfs_find_path_for_size) print nothing.
 * With no usable mount, memfd_create(MFD_HUGETLB) needs none.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hugetlbfs.h>

#include "mem/internal.h"
#include "util/log.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

#define MAX_SIZES 8

static pthread_once_t sizes_once = PTHREAD_ONCE_INIT;
static size_t default_size, large_size;
static bool numa_ok;

static void probe_sizes(void)
{
	long sizes[MAX_SIZES];
	int n = gethugepagesizes(sizes, MAX_SIZES);

	for (int i = 0; i < n; i++) {
		size_t s = (size_t)sizes[i];

		if (sizes[i] <= 0)
			continue;
		if (s == NVP_SZ_2M || (default_size != NVP_SZ_2M &&
				       (!default_size || s < default_size)))
			default_size = s;
		if (s == NVP_SZ_1G)
			large_size = s;
	}
	if (large_size == default_size)
		large_size = 0;
	numa_ok = numa_available() >= 0;
}

size_t nvp_hugepage_default_size(void)
{
	pthread_once(&sizes_once, probe_sizes);
	return default_size;
}

size_t nvp_hugepage_large_size(void)
{
	pthread_once(&sizes_once, probe_sizes);
	return large_size;
}

static long read_long(const char *path)
{
	char buf[32];
	long v = -1;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		v = strtol(buf, NULL, 10);
	}
	return v;
}

long nvp_hugepage_available(size_t page_size, int node)
{
	char path[128];
	long free_pages, resv;

	if (!page_size)
		return 0;
	if (node != NVP_NUMA_ANY) {
		/* Per-node counters have no "reserved" column: free it is. */
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/hugepages/hugepages-%zukB/free_hugepages",
			 node, page_size >> 10);
		free_pages = read_long(path);
		return free_pages > 0 ? free_pages : 0;
	}
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/free_hugepages",
		 page_size >> 10);
	free_pages = read_long(path);
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/resv_hugepages",
		 page_size >> 10);
	resv = read_long(path);
	if (free_pages <= 0)
		return 0;
	if (resv > 0)
		free_pages -= resv;
	return free_pages > 0 ? free_pages : 0;
}

int nvp_mem_numa_node_valid(int node)
{
	pthread_once(&sizes_once, probe_sizes);
	if (node == NVP_NUMA_ANY)
		return NVP_NUMA_ANY;
	if (node < 0)
		return nvp_error(-EINVAL, "NUMA node %d is invalid; pass a node number or NVP_NUMA_ANY",
				 node);
	if (!numa_ok) {
		/* Without NUMA support the machine is one node, node 0. */
		if (node != 0)
			return nvp_error(-EINVAL, "NUMA node %d does not exist: without NUMA support (libnuma reports none) this machine has only node 0; pass 0 or NVP_NUMA_ANY",
					 node);
		return NVP_NUMA_ANY;
	}
	if (node > numa_max_node() || !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)node)) {
		if (numa_max_node() == 0)
			return nvp_error(-EINVAL, "NUMA node %d does not exist: this machine has only node 0; pass 0 or NVP_NUMA_ANY",
					 node);
		return nvp_error(-EINVAL, "NUMA node %d does not exist (this machine has nodes 0-%d; see numactl --hardware); pass NVP_NUMA_ANY or a node that exists",
				 node, numa_max_node());
	}
	return node;
}

/*
 * Preferred, not bound: hugetlb pages are reserved from the global pool at
 * mmap time, so a strict binding to a node with no free pages would turn
 * into SIGBUS at first touch. Preferring falls back to another node.
 */
static void place_on_node(void *va, size_t len, int node)
{
	unsigned long mask[(1024 + 8 * sizeof(unsigned long) - 1) / (8 * sizeof(unsigned long))];
	size_t bits = 8 * sizeof(unsigned long);

	if (node == NVP_NUMA_ANY || !numa_ok || node >= 1024)
		return;
	memset(mask, 0, sizeof(mask));
	mask[node / bits] |= 1ul << (node % bits);
	if (mbind(va, len, MPOL_PREFERRED, mask, sizeof(mask) * 8, 0))
		nvp_debug("mem: mbind to node %d failed (%s); memory goes where the kernel likes",
			  node, strerror(errno));
}

static int tmpfile_in(const char *dir)
{
	char name[PATH_MAX];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	if (snprintf(name, sizeof(name), "%s/nvpoll.XXXXXX", dir) >= (int)sizeof(name))
		return -1;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd >= 0)
		unlink(name);
	return fd;
}

static int hugepage_fd(size_t page_size)
{
	const char *dir = hugetlbfs_find_path_for_size((long)page_size);
	unsigned int shift = (unsigned int)__builtin_ctzll(page_size);
	int fd = -1;

	if (dir) {
		fd = tmpfile_in(dir);
		if (fd < 0)
			nvp_debug("mem: cannot create a file in %s (%s); trying memfd",
				  dir, strerror(errno));
	}
	if (fd < 0)
		fd = memfd_create("nvpoll-dma", MFD_CLOEXEC | MFD_HUGETLB |
					       (shift << MFD_HUGE_SHIFT));
	return fd;
}

/* Pages we map are DMA targets: a child must not get copy-on-write
 * copies of them, and must not inherit a view of the device's buffers. */
static void dontfork(void *va, size_t len)
{
	if (madvise(va, len, MADV_DONTFORK))
		nvp_debug("mem: MADV_DONTFORK failed: %s", strerror(errno));
}

int nvp_hugepage_map(size_t len, size_t page_size, int node, void **va)
{
	void *p;
	int fd;

	if (!page_size || len % page_size)
		return -EINVAL;
	if ((size_t)nvp_hugepage_available(page_size, NVP_NUMA_ANY) < len / page_size)
		return -ENOMEM;
	if (node != NVP_NUMA_ANY &&
	    (size_t)nvp_hugepage_available(page_size, node) < len / page_size)
		nvp_debug("mem: node %d has too few free %zu KiB hugepages; some may come from another node",
			  node, page_size >> 10);

	fd = hugepage_fd(page_size);
	if (fd < 0) {
		nvp_debug("mem: no hugetlbfs file for %zu KiB pages: %s", page_size >> 10,
			  strerror(errno));
		return -ENOMEM;
	}
	if (ftruncate(fd, (off_t)len)) {
		nvp_debug("mem: sizing a hugetlbfs file to %zu bytes failed: %s", len,
			  strerror(errno));
		close(fd);
		return -ENOMEM;
	}
	/* MAP_SHARED on hugetlbfs reserves every page now, so touching them
	 * below cannot SIGBUS; ENOMEM here means the pool ran dry. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		nvp_debug("mem: mapping %zu bytes of hugepages failed: %s", len, strerror(errno));
		return -ENOMEM;
	}
	place_on_node(p, len, node);
	dontfork(p, len);
	/* Fault every page in now (they come zeroed), on the chosen node. */
	for (size_t off = 0; off < len; off += page_size)
		((volatile char *)p)[off] = 0;
	*va = p;
	return 0;
}

int nvp_anon_map(size_t len, int node, void **va)
{
	size_t span = len + NVP_SZ_2M;
	uintptr_t start, aligned;
	void *p;

	/* Over-map and trim so the start is 2 MiB aligned: transparent
	 * hugepages can then back whole chunks. */
	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	start = (uintptr_t)p;
	aligned = (start + NVP_SZ_2M - 1) & ~(uintptr_t)(NVP_SZ_2M - 1);
	if (aligned > start)
		munmap(p, aligned - start);
	if (start + span > aligned + len)
		munmap((void *)(aligned + len), start + span - (aligned + len));
	p = (void *)aligned;
	if (madvise(p, len, MADV_HUGEPAGE))
		nvp_debug("mem: MADV_HUGEPAGE failed: %s", strerror(errno));
	place_on_node(p, len, node);
	dontfork(p, len);
	*va = p;
	return 0;
}

void nvp_mem_unmap(void *va, size_t len)
{
	if (munmap(va, len))
		nvp_warn("munmap of DMA memory at %p (%zu bytes) failed: %s", va, len,
			 strerror(errno));
}

static __thread char hint_buf[384];

const char *nvp_mem_hugepage_hint_for(int node, size_t bytes)
{
	size_t ps = nvp_hugepage_default_size();
	size_t pages = 512, n = 0;

	if (!ps)
		ps = NVP_SZ_2M;
	if (bytes && (bytes + ps - 1) / ps > pages)
		pages = (bytes + ps - 1) / ps;
	if (node == NVP_NUMA_ANY)
		n = (size_t)snprintf(hint_buf, sizeof(hint_buf),
				     "echo %zu > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
				     pages, ps >> 10);
	else
		n = (size_t)snprintf(hint_buf, sizeof(hint_buf),
				     "echo %zu > /sys/devices/system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages",
				     pages, node, ps >> 10);
	if (n < sizeof(hint_buf) && !hugetlbfs_find_path_for_size((long)ps))
		snprintf(hint_buf + n, sizeof(hint_buf) - n,
			 " && mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages");
	return hint_buf;
}

const char *nvp_mem_hugepage_hint(void)
{
	return nvp_mem_hugepage_hint_for(NVP_NUMA_ANY, 0);
}
