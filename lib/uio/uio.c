/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/uio/uio.c - controllers through uio_pci_generic: the kernel driver is
 * only a placeholder that keeps nvme away; BAR0 comes from sysfs resource0
 * and DMA uses physical addresses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvpoll_sysfs/drivers.h>

#include "dev/device.h"
#include "mem/mem.h"
#include "pci/pci.h"
#include "util/log.h"

struct uio_dev {
	struct nvp_device dev;
	struct nvp_pci_binding bind;
	struct nvp_dma_domain domain;
	bool domain_attached;
	bool master_on;
	bool keep_driver;
	bool guarded;
	bool removed;
	void *bar;
	size_t bar_len;
};

static void uio_teardown(struct uio_dev *ud, bool gone)
{
	if (ud->master_on && !gone)
		nvp_pci_set_master(ud->dev.addr, false);
	if (ud->guarded)
		nvp_bar_guard_remove(ud->bar);
	if (ud->bar)
		munmap(ud->bar, ud->bar_len);
	if (ud->domain_attached)
		nvp_mem_domain_detach(&ud->domain);
	nvp_pci_release(&ud->bind, ud->keep_driver, gone);
	free(ud);
}

static void uio_close(struct nvp_device *dev)
{
	struct uio_dev *ud = (struct uio_dev *)dev;

	uio_teardown(ud, nvp_device_gone(dev, ud->removed));
}

/*
 * uio has no removal notification, and under QEMU a removed function's
 * BAR reads zeroes rather than all-ones: ask sysfs whether the function is
 * still there (polled by the admin poller, never on the I/O path).
 */
static bool uio_removal_requested(struct nvp_device *dev)
{
	struct uio_dev *ud = (struct uio_dev *)dev;
	char path[512];

	if (!ud->removed) {
		nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s", dev->addr);
		if (access(path, F_OK) && errno == ENOENT) {
			nvp_warn("%s: the PCI function is gone from sysfs (hot removal)", dev->addr);
			ud->removed = true;
		}
	}
	return ud->removed;
}

/*
 * Another BAR (the CMB's) from sysfs: resourceN_wc, the write-combined
 * mapping the kernel offers for prefetchable BARs, when there is one; else
 * resourceN, uncached.
 */
static int uio_map_bar(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map)
{
	uint64_t start, len;
	char path[512];
	bool pref, wc = false;
	void *p;
	int fd = -1, rc;

	rc = nvp_pci_bar_resource(dev->addr, bar, &start, &len, &pref);
	if (rc)
		return rc;
	if (pref) {
		nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/resource%u_wc", dev->addr,
			       bar);
		fd = open(path, O_RDWR | O_CLOEXEC);
		wc = fd >= 0;
	}
	if (fd < 0) {
		nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/resource%u", dev->addr, bar);
		fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	}
	if (fd < 0)
		return nvp_error(-errno, "cannot open %s (%s); uio needs root", path, strerror(errno));
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd); /* the mapping stays valid */
	if (p == MAP_FAILED)
		return nvp_error(-errno, "mmap of %s failed (%s); a kernel booted with iomem=strict or lockdown forbids it",
				 path, strerror(errno));
	map->va = p;
	map->len = (size_t)len;
	map->bus_addr = start;
	map->wc = wc;
	map->prefetchable = pref;
	/* As BAR0: stores into a removed device's CMB must not SIGBUS. */
	if (nvp_bar_guard_add(p, (size_t)len))
		nvp_warn("%s: BAR%u is not guarded against hot removal: %s", dev->addr, bar,
			 nvp_last_error());
	return 0;
}

static void uio_unmap_bar(struct nvp_device *dev, struct nvp_bar_map *map)
{
	(void)dev;
	nvp_bar_guard_remove(map->va);	/* harmless if it was not guarded */
	munmap((void *)map->va, map->len);
}

static const struct nvp_device_ops uio_ops = {
	.close = uio_close,
	.removal_requested = uio_removal_requested,
	.map_bar = uio_map_bar,
	.unmap_bar = uio_unmap_bar,
};

static int map_resource0(struct uio_dev *ud)
{
	char path[512];
	struct stat st;
	int fd, rc = 0;

	nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/resource0", ud->dev.addr);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return nvp_error(-errno, "cannot open %s (%s); uio needs root", path, strerror(errno));
	if (fstat(fd, &st) || st.st_size < 0x2000) {
		rc = nvp_error(-ENODEV, "%s: BAR0 is missing or too small for NVMe registers", path);
		goto out;
	}
	ud->bar_len = (size_t)st.st_size;
	ud->bar = mmap(NULL, ud->bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ud->bar == MAP_FAILED) {
		ud->bar = NULL;
		rc = nvp_error(-errno, "mmap of %s failed (%s); a kernel booted with iomem=strict or lockdown forbids it",
			       path, strerror(errno));
		goto out;
	}
	ud->dev.bar0 = ud->bar;
	ud->dev.bar0_size = ud->bar_len;
	/* Hot removal zaps this mapping: reads must then give all-ones, not SIGBUS. */
	rc = nvp_bar_guard_add(ud->bar, ud->bar_len);
	ud->guarded = rc == 0;
out:
	close(fd); /* the mapping stays valid */
	return rc;
}

int nvp_uio_open(const char *bdf, bool keep_driver, struct nvp_device **out)
{
	const struct nvp_access_method *method;
	struct nvp_pci_info info;
	char regs[64];
	struct uio_dev *ud;
	int rc;

	*out = NULL;
	rc = nvp_pci_probe(bdf, &info);
	if (rc)
		return rc;
	ud = calloc(1, sizeof(*ud));
	if (!ud)
		return nvp_error(-ENOMEM, "out of memory");
	ud->keep_driver = keep_driver;
	ud->dev.ops = &uio_ops;
	ud->dev.driver = NVP_DRIVER_UIO;
	snprintf(ud->dev.addr, sizeof(ud->dev.addr), "%s", info.bdf);
	ud->dev.numa_node = info.numa_node;
	ud->dev.vendor_id = info.vendor_id;
	ud->dev.device_id = info.device_id;

	method = nvp_access_method(NVP_DRIVER_UIO);
	rc = nvp_pci_bind(info.bdf, method->kernel_driver, method->load_hint, &ud->bind);
	if (rc)
		goto err;
	rc = map_resource0(ud);
	if (rc)
		goto err;
	/* Physical addresses: nothing to map, the device sees RAM as is. */
	ud->domain.name = "physical (uio)";
	rc = nvp_mem_domain_attach(&ud->domain, NVP_IOVA_PHYS);
	if (rc)
		goto err;
	ud->domain_attached = true;
	rc = nvp_pci_set_master(info.bdf, true);
	if (rc)
		goto err;
	ud->master_on = true;
	nvp_debug("%s: uio open: BAR0 %zu bytes, %s", info.bdf, ud->bar_len,
		  nvp_device_regs_str(&ud->dev, regs, sizeof(regs)));
	*out = &ud->dev;
	return 0;
err:
	uio_teardown(ud, false);
	return rc;
}
