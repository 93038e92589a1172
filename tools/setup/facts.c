/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/setup/facts.c - what the machine offers: IOMMU, no-IOMMU, loaded
 * drivers, hugepage pools and hugetlbfs mounts; and loading modules.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/size.h>
#include <nvpoll_sysfs/sysfs.h>

#include "mounts.h"
#include "setup.h"

long read_long(const char *path, long def)
{
	char buf[64], *end;
	long v;

	if (nvp_sysfs_read(path, buf, sizeof(buf)))
		return def;
	v = strtol(buf, &end, 10);
	return end == buf ? def : v;
}

static bool exists(const char *fmt, const char *arg)
{
	char path[512];

	if (nvp_sysfs_path(path, sizeof(path), fmt, arg))
		return false;
	return access(path, F_OK) == 0;
}

/* CONFIG_VFIO_NOIOMMU from /boot/config-<release>, when vfio is not loaded. */
static enum noiommu_state noiommu_from_kconfig(void)
{
	enum noiommu_state s = NOIOMMU_UNKNOWN;
	struct utsname u;
	char path[512], line[256];
	FILE *f;

	if (uname(&u))
		return s;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "re");
	if (!f)
		return s;
	s = NOIOMMU_UNSUPPORTED;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CONFIG_VFIO_NOIOMMU=y", 21))
			s = NOIOMMU_AVAILABLE;
	fclose(f);
	return s;
}

void sys_facts_read(struct sys_facts *f)
{
	char path[512];

	memset(f, 0, sizeof(*f));
	nvp_sysfs_path(path, sizeof(path), "/kernel/iommu_groups");
	f->iommu_groups = nvp_sysfs_count_entries(path);
	/*
	 * As the library decides: a real IOMMU registers in /sys/class/iommu;
	 * groups alone may be vfio-noiommu ones made by an earlier bind.
	 */
	f->iommu_units = nvp_host_iommu_units();
	f->iommu_on = f->iommu_units > 0;
	switch (nvp_host_noiommu_mode()) {
	case 1:
		f->noiommu = NOIOMMU_ENABLED;
		break;
	case 0:
		f->noiommu = NOIOMMU_AVAILABLE;
		break;
	default:
		if (exists("/module/%s", "vfio"))
			f->noiommu = NOIOMMU_UNSUPPORTED;	/* loaded, but no such parameter */
		else
			f->noiommu = noiommu_from_kconfig();
		break;
	}
	f->vfio_pci_loaded = nvp_kernel_driver_loaded(nvp_access_method(NVP_DRIVER_VFIO)->kernel_driver);
	f->uio_loaded = nvp_kernel_driver_loaded(nvp_access_method(NVP_DRIVER_UIO)->kernel_driver);
	f->nvme_loaded = nvp_kernel_driver_loaded("nvme");
}

const char *noiommu_state_name(enum noiommu_state s)
{
	switch (s) {
	case NOIOMMU_UNSUPPORTED: return "unsupported";
	case NOIOMMU_AVAILABLE: return "available";
	case NOIOMMU_ENABLED: return "enabled";
	default: return "unknown";
	}
}

const char *pick_user_driver(void)
{
	/*
	 * vfio-pci whenever it can work (type1, or no-IOMMU someone enabled),
	 * as attach picks (nvp_access_detect()); with nothing available yet,
	 * uio_pci_generic, which bind loads.
	 */
	enum nvp_driver m = nvp_access_detect();

	return nvp_access_method(m == NVP_DRIVER_AUTO ? NVP_DRIVER_UIO : m)->kernel_driver;
}

enum nvp_driver kernel_driver_method(const char *kdrv)
{
	const struct nvp_access_method *m = nvp_access_method_by_kernel_driver(kdrv);

	return m ? m->driver : NVP_DRIVER_AUTO;
}

const char *load_hint(const char *driver)
{
	const struct nvp_access_method *m = nvp_access_method_by_kernel_driver(driver);

	if (m)
		return m->load_hint;
	if (!strcmp(driver, "nvme"))
		return "modprobe nvme";
	return "modprobe <driver>";
}

int run_modprobe(const char *module)
{
	int status;
	pid_t pid;

	fprintf(stderr, PROG ": %s is not loaded; running: modprobe %s\n", module, module);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": cannot run modprobe (%s); run: modprobe %s\n",
			strerror(errno), module);
		return -1;
	}
	if (pid == 0) {
		/* Keep stdout clean for --json: modprobe talks on stderr only. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execlp("modprobe", "modprobe", module, (char *)NULL);
		fprintf(stderr, PROG ": cannot run modprobe: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, PROG ": modprobe %s failed; is the module built for this kernel (uname -r)? see dmesg\n",
			module);
		return -1;
	}
	return 0;
}

uint64_t default_hugepage_size(void)
{
	char line[256];
	unsigned long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

/* Page size of a hugetlbfs mount from its super options ("pagesize=2M"). */
static uint64_t mount_page_size(const char *opts)
{
	const char *p = strstr(opts, "pagesize=");
	char val[32];
	uint64_t v;

	if (!p)
		return default_hugepage_size();
	p += strlen("pagesize=");
	snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, ",\n "), p);
	return nvp_parse_size(val, &v) ? 0 : v;
}

struct mount_cb {
	void (*fn)(const char *path, uint64_t page_size, void *arg);
	void *arg;
};

static void on_hugetlbfs(const char *target, const char *fs_options, void *arg)
{
	struct mount_cb *cb = arg;

	cb->fn(target, mount_page_size(fs_options), cb->arg);
}

/* Calls @fn for each hugetlbfs mount in mountinfo, parsed by libmount. */
static int for_each_hugetlbfs(void (*fn)(const char *path, uint64_t page_size, void *arg),
			      void *arg)
{
	struct mount_cb cb = { .fn = fn, .arg = arg };
	int n = setup_hugetlbfs_mounts(nvp_mountinfo_path, on_hugetlbfs, &cb);

	return n < 0 ? 0 : n;
}

struct find_mount {
	uint64_t page_size;
	char *path;
	size_t len;
	bool found;
};

static void match_mount(const char *path, uint64_t page_size, void *arg)
{
	struct find_mount *fm = arg;

	if (!fm->found && page_size == fm->page_size) {
		snprintf(fm->path, fm->len, "%s", path);
		fm->found = true;
	}
}

int find_hugetlbfs(uint64_t page_size, char *path, size_t len)
{
	struct find_mount fm = { .page_size = page_size, .path = path, .len = len };

	for_each_hugetlbfs(match_mount, &fm);
	return fm.found ? 0 : -ENOENT;
}

static void emit_mount(const char *path, uint64_t page_size, void *arg)
{
	struct emit *e = arg;
	char size[32];

	emit_human_bytes((long double)page_size, size, sizeof(size));
	emit_row_begin(e, NULL, path);
	emit_str(e, "path", NULL, path);
	emit_uint_text(e, "page_size", "pagesize", page_size, "%s", size);
	emit_row_end(e);
}

/* "hugepages-2048kB" before "hugepages-1048576kB", "node2" before "node10". */
static int cmp_name(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Sorted "hugepages-2048kB" directory names below @dir (caller frees). */
static int list_dir(const char *dir, const char *prefix, char **names, int max)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp_name);
	return n;
}

/* @dir/@file of a hugepage pool as a number; 0 if unreadable. */
static long pool_value(const char *dir, const char *file)
{
	char path[1024];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return 0;
	return read_long(path, 0);
}

/* One pool row; @node < 0 is the whole machine (which also has committed and surplus). */
static long emit_pool(struct emit *e, const char *dir, long node)
{
	char title[32];
	long nr;

	nr = pool_value(dir, "nr_hugepages");
	if (node < 0)
		snprintf(title, sizeof(title), "%-8s", "all");
	else
		snprintf(title, sizeof(title), "node %-3ld", node);
	emit_row_begin(e, node < 0 ? "all" : NULL, title);
	if (node >= 0)
		emit_int(e, "node", NULL, node);
	emit_uint(e, "total", "total", (uint64_t)nr);
	emit_uint(e, "free", "free", (uint64_t)pool_value(dir, "free_hugepages"));
	if (node < 0) {
		emit_uint(e, "committed", "committed", (uint64_t)pool_value(dir, "resv_hugepages"));
		emit_uint(e, "surplus", "surplus", (uint64_t)pool_value(dir, "surplus_hugepages"));
	}
	emit_row_end(e);
	return nr;
}

long emit_hugepages(struct emit *e)
{
	char *sizes[16], *nodes[64];
	char dir[1024], title[64];
	int nsizes, nnodes;
	long total = 0;

	nsizes = list_dir("/sys/kernel/mm/hugepages", "hugepages-", sizes, ARRAY_SIZE(sizes));
	nnodes = list_dir("/sys/devices/system/node", "node", nodes, ARRAY_SIZE(nodes));
	emit_arr_begin(e, "hugepages", "Hugepages (pages reserved in total / free / committed to mappings)");
	if (nsizes == 0)
		emit_note(e, "none: this kernel has no hugetlbfs support");
	for (int i = 0; i < nsizes; i++) {
		unsigned long kb = strtoul(sizes[i] + strlen("hugepages-"), NULL, 10);
		char size[32];

		emit_human_bytes((long double)kb * 1024, size, sizeof(size));
		snprintf(title, sizeof(title), "%s pages", size);
		emit_obj_begin(e, NULL, title);
		emit_uint(e, "page_size", NULL, (uint64_t)kb * 1024);
		snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/%s", sizes[i]);
		total += emit_pool(e, dir, -1);
		emit_arr_begin(e, "nodes", NULL);
		for (int n = 0; n < nnodes; n++) {
			char *end;
			long node = strtol(nodes[n] + 4, &end, 10);

			if (end == nodes[n] + 4 || *end)
				continue;	/* not a node directory */
			snprintf(dir, sizeof(dir), "/sys/devices/system/node/%s/hugepages/%s",
				 nodes[n], sizes[i]);
			if (access(dir, F_OK) == 0)
				emit_pool(e, dir, node);
		}
		emit_arr_end(e);
		emit_obj_end(e);
	}
	emit_arr_end(e);

	emit_arr_begin(e, "hugetlbfs_mounts", "hugetlbfs mounts");
	if (for_each_hugetlbfs(emit_mount, e) == 0)
		emit_note(e, "none (nvpoll-setup hugepages SIZE mounts one at /dev/hugepages)");
	emit_arr_end(e);
	for (int i = 0; i < nsizes; i++)
		free(sizes[i]);
	for (int i = 0; i < nnodes; i++)
		free(nodes[i]);
	return total;
}
