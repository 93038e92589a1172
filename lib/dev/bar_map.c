/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dev/bar_map.c - BARs besides BAR0 (the Controller Memory Buffer's):
 * the access-method-neutral entry points and what sysfs says of a BAR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nvpoll_sysfs/sysfs.h>

#include "dev/device.h"
#include "util/log.h"

/* include/linux/ioport.h: the flags column of sysfs "resource". */
#define IORESOURCE_MEM		0x00000200ull
#define IORESOURCE_PREFETCH	0x00002000ull

int nvp_device_map_bar(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map)
{
	memset(map, 0, sizeof(*map));
	if (bar > 5)
		return nvp_error(-EINVAL, "%s: BAR index %u is out of range (0..5); the controller's CMBLOC.BIR is invalid",
				 dev->addr, bar);
	if (!dev->ops || !dev->ops->map_bar)
		return nvp_error(-ENOTSUP, "%s: the %s access method cannot map BAR%u",
				 dev->addr, nvp_driver_name(dev->driver), bar);
	return dev->ops->map_bar(dev, bar, map);
}

void nvp_device_unmap_bar(struct nvp_device *dev, struct nvp_bar_map *map)
{
	if (dev && map->va && dev->ops && dev->ops->unmap_bar)
		dev->ops->unmap_bar(dev, map);
	memset(map, 0, sizeof(*map));
}

int nvp_pci_bar_resource(const char *bdf, unsigned int bar, uint64_t *start, uint64_t *len,
			 bool *prefetchable)
{
	unsigned long long s, e, flags;
	char path[512], line[256];
	FILE *f;
	int rc = -ENODEV;

	nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return nvp_error(-errno, "cannot read %s (%s); is %s still present?", path,
				 strerror(errno), bdf);
	for (unsigned int i = 0; fgets(line, sizeof(line), f); i++) {
		if (i != bar)
			continue;
		if (sscanf(line, "%llx %llx %llx", &s, &e, &flags) != 3)
			break;
		if (!(flags & IORESOURCE_MEM) || !s || e < s)
			break;
		*start = s;
		*len = e - s + 1;
		*prefetchable = (flags & IORESOURCE_PREFETCH) != 0;
		rc = 0;
		break;
	}
	fclose(f);
	if (rc)
		return nvp_error(rc, "%s: BAR%u is not an assigned memory BAR (%s); the controller's CMB cannot be reached",
				 bdf, bar, path);
	return 0;
}
