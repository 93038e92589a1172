/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/setup/hugepages.c - nvpoll-setup hugepages: reserve a pool of
 * hugepages (system-wide or on one NUMA node) and make sure hugetlbfs is
 * mounted for that page size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvpoll_sysfs/size.h>
#include <nvpoll_sysfs/sysfs.h>

#include "setup.h"

static int write_long(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return nvp_sysfs_write(path, buf);
}

/* Mount hugetlbfs for @page_size unless one is mounted; @path gets where. */
static int ensure_mount(uint64_t page_size, char *path, size_t len, bool *mounted)
{
	char opts[64], size[32];
	uint64_t def = default_hugepage_size();

	*mounted = false;
	if (find_hugetlbfs(page_size, path, len) == 0)
		return 0;
	/* /dev/hugepages for the default size, /dev/hugepages-1G and the like otherwise. */
	if (page_size == def) {
		snprintf(path, len, "/dev/hugepages");
	} else {
		snprintf(path, len, "/dev/hugepages-%lluM", (unsigned long long)(page_size >> 20));
		if (page_size >= (1ull << 30) && !(page_size & ((1ull << 30) - 1)))
			snprintf(path, len, "/dev/hugepages-%lluG",
				 (unsigned long long)(page_size >> 30));
	}
	snprintf(opts, sizeof(opts), "pagesize=%lluK", (unsigned long long)(page_size >> 10));
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, PROG ": cannot create %s (%s); run: mkdir -p %s && mount -t hugetlbfs -o %s nodev %s\n",
			path, strerror(errno), path, opts, path);
		return -1;
	}
	if (mount("nodev", path, "hugetlbfs", 0, opts)) {
		emit_human_bytes((long double)page_size, size, sizeof(size));
		fprintf(stderr, PROG ": cannot mount hugetlbfs (%s pages) on %s (%s)%s; run: mount -t hugetlbfs -o %s nodev %s\n",
			size, path, strerror(errno), errno == EPERM ? ", needs root" : "", opts, path);
		return -1;
	}
	*mounted = true;
	return 0;
}

/* The kernel command line's spelling of a page size: "2M", "1G". */
static void kernel_size(uint64_t bytes, char *buf, size_t len)
{
	if (!(bytes & ((1ull << 30) - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(bytes >> 30));
	else
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes >> 20));
}

int cmd_hugepages(const struct setup_opts *o, const char *size_arg)
{
	uint64_t size, page_size = o->page_size ? o->page_size : default_hugepage_size();
	char dir[512], path[600], mnt[512], psize[32], ksize[16], want_h[32];
	long want, before, after;
	bool mounted = false;
	struct emit e;
	int rc, status = 0;

	if (!size_arg || nvp_parse_size(size_arg, &size)) {
		fprintf(stderr, PROG ": hugepages needs a SIZE such as 1G, 512M or 0 (got '%s')\n",
			size_arg ? size_arg : "");
		return 2;
	}
	if (!page_size) {
		fprintf(stderr, PROG ": this kernel has no hugepages (CONFIG_HUGETLBFS); nvpoll can still use an IOMMU with ordinary pinned memory\n");
		return 1;
	}
	emit_human_bytes((long double)page_size, psize, sizeof(psize));
	kernel_size(page_size, ksize, sizeof(ksize));
	snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%llukB",
		 (unsigned long long)(page_size >> 10));
	if (access(dir, F_OK)) {
		fprintf(stderr, PROG ": this machine has no %s hugepages (%s is missing)%s\n", psize, dir,
			page_size == (1ull << 30) ? "; 1 GiB pages need CPU support (pdpe1gb) and may need hugepagesz=1G on the kernel command line" :
						    "; try --page-size 2M");
		return 2;
	}
	if (o->node >= 0) {
		snprintf(dir, sizeof(dir), "/sys/devices/system/node/node%d/hugepages/hugepages-%llukB",
			 o->node, (unsigned long long)(page_size >> 10));
		if (access(dir, F_OK)) {
			fprintf(stderr, PROG ": NUMA node %d does not exist (see /sys/devices/system/node/online, or lscpu)\n",
				o->node);
			return 2;
		}
	}
	want = (long)((size + page_size - 1) / page_size);
	emit_human_bytes((long double)want * (long double)page_size, want_h, sizeof(want_h));
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	before = read_long(path, 0);
	after = before;
	if (want > before || (o->exact && want != before)) {
		rc = write_long(path, want);
		if (rc) {
			fprintf(stderr, PROG ": cannot write %s (%s)%s\n", path, strerror(-rc),
				rc == -EACCES || rc == -EPERM ? "; run as root" : "");
			return 1;
		}
		after = read_long(path, 0);
		if (after < want) {
			/* Fragmented memory: compact once and try again. */
			nvp_sysfs_write("/proc/sys/vm/compact_memory", "1");
			write_long(path, want);
			after = read_long(path, 0);
		}
	}

	if (want > 0 && ensure_mount(page_size, mnt, sizeof(mnt), &mounted))
		status = 1;
	emit_init(&e, stdout, o->json);
	emit_obj_begin(&e, "hugepages", NULL);
	emit_uint_text(&e, "page_size", "Page size", page_size, "%s", psize);
	if (o->node >= 0)
		emit_int(&e, "node", "NUMA node", o->node);
	else
		emit_null(&e, "node", "NUMA node", "all (the kernel spreads pages over nodes)");
	emit_uint_text(&e, "requested", "Requested", (uint64_t)want, "%ld pages (%s)%s", want,
		       want_h, o->exact ? ", exactly" : ", at least");
	emit_uint(&e, "before", "Reserved before", (uint64_t)before);
	emit_uint(&e, "after", "Reserved now", (uint64_t)after);
	if (want > 0 && !status)
		emit_str(&e, "mount", mounted ? "hugetlbfs mounted on" : "hugetlbfs already on", mnt);
	else
		emit_null(&e, "mount", "hugetlbfs", want > 0 ? "not mounted" : "not needed");
	emit_obj_end(&e);
	if (o->exact && after > want) {
		fprintf(stderr, PROG ": the pool stays at %ld pages, not %ld: %ld are in use by running programs (see grep -l huge /proc/*/smaps); stop them and retry\n",
			after, want, after - want);
		status = 1;
	} else if (after < want) {
		fprintf(stderr, PROG ": only %ld of %ld %s pages could be reserved: memory is short or fragmented; reserve them at boot (kernel command line: hugepagesz=%s hugepages=%ld) or free memory and retry\n",
			after, want, psize, ksize, want);
		status = 1;
	} else if (!o->json && after != before) {
		emit_note(&e, "Not kept across reboots: add 'vm.nr_hugepages = %ld' to /etc/sysctl.d/nvpoll.conf%s, or hugepagesz=%s hugepages=%ld to the kernel command line",
			  o->node < 0 ? after : want, o->node >= 0 || page_size != default_hugepage_size() ? " (default size, all nodes only)" : "",
			  ksize, want);
	}
	emit_finish(&e);
	return status;
}
