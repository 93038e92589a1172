/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/sysfs/iommu.c - IOMMU groups: a function's group and the others in it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/pci.h>
#include <nvpoll_sysfs/sysfs.h>

int nvp_pci_iommu_group(const char *bdf, int *group)
{
	char path[512], link[512];
	const char *base;
	char *end;
	ssize_t n;
	long v;

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/iommu_group", bdf))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -ENOENT;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	v = strtol(base, &end, 10);
	if (end == base || *end || v < 0)
		return -ENOENT;
	*group = (int)v;
	return 0;
}

bool nvp_pci_driver_ok_in_group(const char *drv)
{
	/* The same list the kernel's vfio_dev_driver_allowed() accepts. */
	return !drv[0] || !strcmp(drv, nvp_access_method(NVP_DRIVER_VFIO)->kernel_driver) ||
	       !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

static int cmp_peer(const void *a, const void *b)
{
	return strcmp(((const struct nvp_pci_group_peer *)a)->bdf,
		      ((const struct nvp_pci_group_peer *)b)->bdf);
}

int nvp_pci_group_peers(int group, const char *bdf, struct nvp_pci_group_peer *peers,
			size_t max)
{
	char path[512];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	if (nvp_sysfs_path(path, sizeof(path), "/kernel/iommu_groups/%d/devices", group))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, bdf))
			continue;
		if (n < max) {
			struct nvp_pci_group_peer *p = &peers[n];

			snprintf(p->bdf, sizeof(p->bdf), "%.31s", e->d_name);
			nvp_pci_current_driver(p->bdf, p->driver, sizeof(p->driver));
			p->ok = nvp_pci_driver_ok_in_group(p->driver);
		}
		n++;
	}
	closedir(d);
	qsort(peers, n < max ? n : max, sizeof(*peers), cmp_peer);
	return (int)n;
}
