/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/setup/status.c - nvpoll-setup status: every NVMe controller with
 * its driver, IOMMU group and namespaces; then hugepages, memlock, IOMMU and
 * drivers; then advice, each item with the command that fixes it.
 */
#include <errno.h>
#include <pciaccess.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/pci.h>
#include <nvpoll_sysfs/sysfs.h>

#include "setup.h"

#define MAX_CTRLS 256
#define MAX_PEERS 32
#define MAX_NS 64
#define MAX_ADVICE 32

struct ctrl_facts {
	char bdf[NVP_PCI_ADDR_STRLEN];
	uint16_t vendor_id, device_id;
	char vendor[128], device[128];
	int numa_node;
	char driver[64];
	int group;			/* -1: none */
	int npeers;
	struct nvp_pci_group_peer peers[MAX_PEERS];
	int nns;
	struct nvp_pci_ns_dev ns[MAX_NS];
	char in_use[512];		/* why nvpoll would refuse it, "" if free */
	char node[512];			/* userspace device node, "" if none */
};

struct advice {
	int n;
	char text[MAX_ADVICE][640];
};

static void advise(struct advice *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void advise(struct advice *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n >= MAX_ADVICE)
		return;
	va_start(ap, fmt);
	vsnprintf(a->text[a->n++], sizeof(a->text[0]), fmt, ap);
	va_end(ap);
}

static int cmp_ctrl(const void *a, const void *b)
{
	return strcmp(((const struct ctrl_facts *)a)->bdf, ((const struct ctrl_facts *)b)->bdf);
}

/*
 * Every function with the NVMe class, through libpciaccess. Names and IDs
 * are copied out so the scan can be released before the library (which
 * keeps its own libpciaccess reference count) is used.
 */
static int scan_controllers(struct ctrl_facts *c, int max, int *total_functions)
{
	struct pci_id_match all = {
		PCI_MATCH_ANY, PCI_MATCH_ANY, PCI_MATCH_ANY, PCI_MATCH_ANY, 0, 0, 0,
	};
	struct pci_device_iterator *it;
	struct pci_device *dev;
	int n = 0, rc;

	*total_functions = 0;
	rc = pci_system_init();
	if (rc) {
		fprintf(stderr, PROG ": libpciaccess could not scan the PCI bus (%s); is /sys mounted?\n",
			strerror(rc));
		return -rc;
	}
	it = pci_id_match_iterator_create(&all);
	while (it && (dev = pci_device_next(it))) {
		const char *name;

		(*total_functions)++;
		if ((dev->device_class & 0xffffff) != NVP_PCI_CLASS_NVME || n >= max)
			continue;
		snprintf(c[n].bdf, sizeof(c[n].bdf), "%04x:%02x:%02x.%x", dev->domain & 0xffff,
			 dev->bus & 0xff, dev->dev & 0x1f, dev->func & 0x7);
		c[n].vendor_id = dev->vendor_id;
		c[n].device_id = dev->device_id;
		/* NULL without a pci.ids database (e.g. in a minimal VM). */
		name = pci_device_get_vendor_name(dev);
		snprintf(c[n].vendor, sizeof(c[n].vendor), "%s", name ? name : "");
		name = pci_device_get_device_name(dev);
		snprintf(c[n].device, sizeof(c[n].device), "%s", name ? name : "");
		n++;
	}
	if (it)
		pci_iterator_destroy(it);
	pci_system_cleanup();
	qsort(c, (size_t)n, sizeof(*c), cmp_ctrl);
	return n;
}

/* The node a userspace driver offers for @c: /dev/vfio/N, /dev/vfio/noiommu-N, /dev/uioN. */
static void find_user_node(struct ctrl_facts *c)
{
	char path[512];

	c->node[0] = '\0';
	if (kernel_driver_method(c->driver) == NVP_DRIVER_VFIO && c->group >= 0) {
		snprintf(path, sizeof(path), "%s/vfio/%d", nvp_devfs_root, c->group);
		if (access(path, F_OK))
			snprintf(path, sizeof(path), "%s/vfio/noiommu-%d", nvp_devfs_root, c->group);
		if (access(path, F_OK) == 0)
			snprintf(c->node, sizeof(c->node), "%s", path);
	} else if (kernel_driver_method(c->driver) == NVP_DRIVER_UIO) {
		for (int i = 0; i < 64; i++) {
			nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/uio/uio%d", c->bdf, i);
			if (access(path, F_OK) == 0) {
				snprintf(c->node, sizeof(c->node), "%s/uio%d", nvp_devfs_root, i);
				break;
			}
		}
	}
}

static void gather(struct ctrl_facts *c)
{
	c->numa_node = nvp_pci_numa_node(c->bdf);
	nvp_pci_current_driver(c->bdf, c->driver, sizeof(c->driver));
	if (nvp_pci_iommu_group(c->bdf, &c->group))
		c->group = -1;
	c->npeers = 0;
	if (c->group >= 0) {
		c->npeers = nvp_pci_group_peers(c->group, c->bdf, c->peers, MAX_PEERS);
		if (c->npeers < 0)
			c->npeers = 0;
		if (c->npeers > MAX_PEERS)
			c->npeers = MAX_PEERS;
	}
	c->nns = nvp_pci_namespaces(c->bdf, c->ns, MAX_NS);
	if (c->nns > MAX_NS)
		c->nns = MAX_NS;
	c->in_use[0] = '\0';
	if (!strcmp(c->driver, "nvme") && nvp_pci_check_not_in_use(c->bdf))
		snprintf(c->in_use, sizeof(c->in_use), "%s", sysfs_last_error());
	find_user_node(c);
}

static bool group_viable(const struct ctrl_facts *c)
{
	for (int i = 0; i < c->npeers; i++)
		if (!c->peers[i].ok)
			return false;
	return true;
}

static void emit_controller(struct emit *e, const struct ctrl_facts *c,
			    const struct sys_facts *sys, struct advice *adv)
{
	char title[320], size[32];

	if (c->vendor[0] || c->device[0])
		snprintf(title, sizeof(title), "%s  %s %s [%04x:%04x]", c->bdf, c->vendor,
			 c->device, c->vendor_id, c->device_id);
	else	/* libpciaccess names need the pci.ids database */
		snprintf(title, sizeof(title), "%s  [%04x:%04x] (no names: pci.ids not installed)",
			 c->bdf, c->vendor_id, c->device_id);
	emit_obj_begin(e, NULL, title);
	emit_str(e, "address", NULL, c->bdf);
	emit_hex(e, "vendor_id", NULL, c->vendor_id, 4);
	emit_hex(e, "device_id", NULL, c->device_id, 4);
	if (c->vendor[0])
		emit_str(e, "vendor", NULL, c->vendor);
	else
		emit_null(e, "vendor", NULL, "");
	if (c->device[0])
		emit_str(e, "device", NULL, c->device);
	else
		emit_null(e, "device", NULL, "");
	if (c->numa_node >= 0)
		emit_int(e, "numa_node", "NUMA node", c->numa_node);
	else
		emit_null(e, "numa_node", "NUMA node", "none reported (single node)");
	if (c->driver[0])
		emit_str(e, "driver", "Driver", c->driver);
	else
		emit_null(e, "driver", "Driver", "none");
	if (c->node[0])
		emit_str(e, "device_node", "Device node", c->node);

	if (c->group < 0) {
		emit_null(e, "iommu_group", "IOMMU group",
			  sys->iommu_on ? "none" : "none (no IOMMU; no-IOMMU groups appear on bind)");
		emit_null(e, "group_viable", NULL, "");
	} else {
		bool viable = group_viable(c);

		emit_uint_text(e, "iommu_group", "IOMMU group", (uint64_t)c->group, "%d (%s%s)",
			       c->group, viable ? "viable" : "NOT viable",
			       c->npeers ? "" : "; alone in its group");
		emit_bool(e, "group_viable", NULL, viable);
		if (!viable)
			for (int i = 0; i < c->npeers; i++)
				if (!c->peers[i].ok)
					advise(adv, "%s: IOMMU group %d also holds %s (driver %s), so VFIO will refuse it; run: " PROG " bind %s (if it is NVMe), or unbind %s from %s (echo %s > /sys/bus/pci/devices/%s/driver/unbind)",
					       c->bdf, c->group, c->peers[i].bdf, c->peers[i].driver,
					       c->peers[i].bdf, c->peers[i].bdf, c->peers[i].driver,
					       c->peers[i].bdf, c->peers[i].bdf);
	}
	emit_arr_begin(e, "group_peers", c->npeers ? "Other devices in the group" : NULL);
	for (int i = 0; i < c->npeers; i++) {
		emit_row_begin(e, NULL, c->peers[i].bdf);
		emit_str(e, "address", NULL, c->peers[i].bdf);
		emit_str(e, "driver", "driver", c->peers[i].driver[0] ? c->peers[i].driver : "none");
		emit_bool(e, "ok_for_vfio", "ok for VFIO", c->peers[i].ok);
		emit_row_end(e);
	}
	emit_arr_end(e);

	emit_arr_begin(e, "namespaces", c->nns ? "Namespaces (kernel block devices)" : NULL);
	for (int i = 0; i < c->nns; i++) {
		emit_human_bytes((long double)c->ns[i].size_bytes, size, sizeof(size));
		emit_row_begin(e, NULL, c->ns[i].name);
		emit_str(e, "name", NULL, c->ns[i].name);
		emit_uint_text(e, "size_bytes", "size", c->ns[i].size_bytes, "%s", size);
		emit_row_end(e);
	}
	emit_arr_end(e);
	if (!c->nns && strcmp(c->driver, "nvme"))
		emit_note(e, "Namespaces: not visible while the controller is not on nvme");
	emit_bool(e, "in_use", "In use", c->in_use[0] != '\0');
	if (c->in_use[0]) {
		emit_str(e, "in_use_reason", "Why", c->in_use);
		advise(adv, "%s is in use, so nvpoll refuses it: %s (or: " PROG " bind --force %s)",
		       c->bdf, c->in_use, c->bdf);
	} else {
		emit_null(e, "in_use_reason", NULL, "");
	}
	emit_obj_end(e);
}

/* CAP_IPC_LOCK in the effective set lifts RLIMIT_MEMLOCK (root has it). */
static bool has_cap_ipc_lock(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps & (1ull << 14);
}

static void emit_limit(struct emit *e, const char *key, const char *label, rlim_t v)
{
	char size[32];

	if (v == RLIM_INFINITY) {
		emit_null(e, key, label, "unlimited");
		return;
	}
	emit_human_bytes((long double)v, size, sizeof(size));
	emit_uint_text(e, key, label, (uint64_t)v, "%s (ulimit -l %llu)", size,
		       (unsigned long long)v / 1024);
}

static void emit_memlock(struct emit *e, struct advice *adv)
{
	bool cap = has_cap_ipc_lock();
	struct rlimit rl = { 0, 0 };

	getrlimit(RLIMIT_MEMLOCK, &rl);
	emit_obj_begin(e, "memlock", "Locked memory (VFIO pins every DMA buffer)");
	emit_limit(e, "soft_bytes", "Memlock limit (soft)", rl.rlim_cur);
	emit_limit(e, "hard_bytes", "Memlock limit (hard)", rl.rlim_max);
	emit_bool(e, "cap_ipc_lock", "CAP_IPC_LOCK (limit ignored)", cap);
	emit_obj_end(e);
	/* 256 MiB covers the queues plus a modest set of I/O buffers. */
	if (!cap && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (256ull << 20))
		advise(adv, "the memlock limit (%llu KiB) is too low for VFIO DMA as this user; raise it: '<user> - memlock unlimited' in /etc/security/limits.conf (log in again), LimitMEMLOCK=infinity for a systemd service, or --ulimit memlock=-1 for docker",
		       (unsigned long long)rl.rlim_cur / 1024);
}

static const char *noiommu_text(enum noiommu_state s)
{
	switch (s) {
	case NOIOMMU_UNSUPPORTED: return "unsupported (kernel built without CONFIG_VFIO_NOIOMMU)";
	case NOIOMMU_AVAILABLE: return "available, off (vfio enable_unsafe_noiommu_mode=N)";
	case NOIOMMU_ENABLED: return "enabled (vfio enable_unsafe_noiommu_mode=Y)";
	default: return "unknown (vfio is not loaded and /boot/config-$(uname -r) is missing)";
	}
}

static void emit_platform(struct emit *e, const struct sys_facts *sys, struct advice *adv)
{
	const struct nvp_access_method *vfio = nvp_access_method(NVP_DRIVER_VFIO);
	const struct nvp_access_method *noiommu = nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU);
	const struct nvp_access_method *uio = nvp_access_method(NVP_DRIVER_UIO);
	enum nvp_driver method;
	char label[64];
	int rc;

	emit_obj_begin(e, "platform", "IOMMU and drivers");
	emit_bool(e, "iommu_on", NULL, sys->iommu_on);
	if (sys->iommu_on)
		emit_uint_text(e, "iommu_groups", "IOMMU", (uint64_t)sys->iommu_groups,
			       "on (%d units in /sys/class/iommu, %d groups)", sys->iommu_units,
			       sys->iommu_groups);
	else
		emit_uint_text(e, "iommu_groups", "IOMMU", (uint64_t)sys->iommu_groups,
			       "off (nothing in /sys/class/iommu; boot with intel_iommu=on or amd_iommu=on)");
	emit_str_text(e, "noiommu", "no-IOMMU mode", noiommu_state_name(sys->noiommu), "%s",
		      noiommu_text(sys->noiommu));
	snprintf(label, sizeof(label), "%s loaded", vfio->kernel_driver);
	emit_bool(e, "vfio_pci_loaded", label, sys->vfio_pci_loaded);
	snprintf(label, sizeof(label), "%s loaded", uio->kernel_driver);
	emit_bool(e, "uio_pci_generic_loaded", label, sys->uio_loaded);
	emit_bool(e, "nvme_loaded", "nvme loaded", sys->nvme_loaded);
	emit_str(e, "bind_driver", "nvpoll-setup bind uses", pick_user_driver());
	/* What the library itself will choose right now (NVP_DRIVER applies). */
	rc = nvp_access_pick(NULL, NVP_DRIVER_AUTO, &method);
	if (rc == 0) {
		emit_str(e, "access_method", "nvpoll attach uses", nvp_driver_name(method));
	} else {
		emit_null(e, "access_method", "nvpoll attach uses", "nothing yet (see advice)");
		advise(adv, "no way to reach a controller from userspace yet: with an IOMMU (boot with intel_iommu=on or amd_iommu=on) run " PROG " bind ADDR (loads %s); without one, " PROG " bind ADDR uses %s, or enable no-IOMMU: %s",
		       vfio->kernel_driver, uio->kernel_driver, noiommu->load_hint);
	}
	emit_obj_end(e);
	if (sys->iommu_on && !sys->vfio_pci_loaded)
		advise(adv, "%s is not loaded: run %s (" PROG " bind does it for you)",
		       vfio->kernel_driver, vfio->load_hint);
	if (!sys->iommu_on && sys->noiommu == NOIOMMU_AVAILABLE)
		advise(adv, "no IOMMU: no-IOMMU mode is available but off (unsafe: the device can DMA anywhere); to use it: echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
}

int cmd_status(const struct setup_opts *o)
{
	struct ctrl_facts *ctrls = calloc(MAX_CTRLS, sizeof(*ctrls));
	struct advice *adv = calloc(1, sizeof(*adv));
	struct sys_facts sys;
	struct emit e;
	char hint[64];
	int n, total;
	long pages;

	if (!ctrls || !adv) {
		fprintf(stderr, PROG ": out of memory\n");
		free(ctrls);
		free(adv);
		return 1;
	}
	sys_facts_read(&sys);
	n = scan_controllers(ctrls, MAX_CTRLS, &total);
	emit_init(&e, stdout, o->json);

	if (n == 0)
		advise(adv, "no NVMe controllers found; check with lspci -D -d ::0108 (emu: addresses need no setup)");
	emit_arr_begin(&e, "controllers", "NVMe controllers");
	if (n == 0)
		emit_note(&e, "no NVMe controllers (%d PCI functions scanned, none of class 010802)",
			  total);
	for (int i = 0; i < n; i++) {
		gather(&ctrls[i]);
		emit_controller(&e, &ctrls[i], &sys, adv);
	}
	emit_arr_end(&e);

	pages = emit_hugepages(&e);
	if (pages == 0 && !sys.iommu_on)
		advise(adv, "no hugepages reserved; without an IOMMU (no-IOMMU, uio) nvpoll needs them for DMA: run " PROG " hugepages 1G");
	else if (pages == 0)
		advise(adv, "no hugepages reserved: nvpoll uses pinned 4 KiB pages, which works with the IOMMU; for fewer IOMMU mappings and TLB misses run " PROG " hugepages 1G");
	else if (find_hugetlbfs(default_hugepage_size(), hint, sizeof(hint)))
		advise(adv, "hugepages are reserved but hugetlbfs is not mounted: run " PROG " hugepages with the same size, or mount -t hugetlbfs nodev /dev/hugepages");
	emit_memlock(&e, adv);
	emit_platform(&e, &sys, adv);

	emit_arr_begin(&e, "advice", "Advice");
	for (int i = 0; i < adv->n; i++)
		emit_str(&e, NULL, NULL, adv->text[i]);
	if (adv->n == 0)
		emit_note(&e, "none: everything nvpoll needs is in place");
	emit_arr_end(&e);
	emit_finish(&e);
	free(ctrls);
	free(adv);
	return 0;
}
