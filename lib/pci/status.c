/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pci/status.c - IOMMU group peers, namespace devices, plain unbind. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pci/pci.h"
#include "pci/status.h"

bool nvp_pci_driver_ok_in_group(const char *drv)
{
	/* The same list the kernel's vfio_dev_driver_allowed() accepts. */
	return !drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") ||
	       !strcmp(drv, "pcieport");
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

	if (nvp_pci_path(path, sizeof(path), "/kernel/iommu_groups/%d/devices", group))
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

/* nvme<c>n<n> exactly: not a partition, not a per-path nvme<c>c<p>n<n> node. */
static bool is_ns_name(const char *name)
{
	int c, n, len = 0;

	return sscanf(name, "nvme%dn%d%n", &c, &n, &len) == 2 && name[len] == '\0';
}

static int cmp_ns(const void *a, const void *b)
{
	const struct nvp_pci_ns_dev *x = a, *y = b;
	size_t lx = strlen(x->name), ly = strlen(y->name);

	/* Shorter first so nvme0n2 sorts before nvme0n10. */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

int nvp_pci_namespaces(const char *bdf, struct nvp_pci_ns_dev *out, size_t max)
{
	char base[512], ctrl_dir[1024];
	struct dirent *ce, *ne;
	size_t n = 0;
	DIR *cd, *nd;

	if (nvp_pci_path(base, sizeof(base), "/bus/pci/devices/%s/nvme", bdf))
		return -ENAMETOOLONG;
	cd = opendir(base);
	if (!cd)
		return 0;
	while ((ce = readdir(cd))) {
		if (strncmp(ce->d_name, "nvme", 4))
			continue;
		snprintf(ctrl_dir, sizeof(ctrl_dir), "%s/%s", base, ce->d_name);
		nd = opendir(ctrl_dir);
		if (!nd)
			continue;
		while ((ne = readdir(nd))) {
			char path[1536], val[32];

			if (!is_ns_name(ne->d_name))
				continue;
			if (n < max) {
				snprintf(out[n].name, sizeof(out[n].name), "%.31s", ne->d_name);
				snprintf(path, sizeof(path), "%s/%s/size", ctrl_dir, ne->d_name);
				out[n].size_bytes = nvp_sysfs_read(path, val, sizeof(val)) ? 0 :
						    strtoull(val, NULL, 10) * 512;
			}
			n++;
		}
		closedir(nd);
	}
	closedir(cd);
	qsort(out, n < max ? n : max, sizeof(*out), cmp_ns);
	return (int)n;
}

int nvp_pci_unbind(const char *bdf)
{
	char path[512];

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/driver/unbind", bdf))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return 0;	/* nothing bound */
	return nvp_sysfs_write(path, bdf);
}
