/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/dev/device.c - picking the access method and dispatching to it. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dev/device.h"
#include "pci/pci.h"
#include "util/log.h"

const char *nvp_device_driver_name(enum nvp_driver driver)
{
	switch (driver) {
	case NVP_DRIVER_AUTO: return "auto";
	case NVP_DRIVER_VFIO: return "vfio";
	case NVP_DRIVER_VFIO_NOIOMMU: return "noiommu";
	case NVP_DRIVER_UIO: return "uio";
	case NVP_DRIVER_EMU: return "emu";
	}
	return "unknown";
}

static bool dir_has_entries(const char *path)
{
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(path);

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = e->d_name[0] != '.';
	closedir(d);
	return found;
}

static int driver_from_env(enum nvp_driver *out)
{
	static const struct {
		const char *name;
		enum nvp_driver driver;
	} names[] = {
		{ "vfio", NVP_DRIVER_VFIO },
		{ "noiommu", NVP_DRIVER_VFIO_NOIOMMU },
		{ "uio", NVP_DRIVER_UIO },
		{ "emu", NVP_DRIVER_EMU },
		{ "auto", NVP_DRIVER_AUTO },
	};
	const char *env = getenv("NVP_DRIVER");

	*out = NVP_DRIVER_AUTO;
	if (!env || !*env)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(env, names[i].name)) {
			*out = names[i].driver;
			return 0;
		}
	}
	return nvp_error(-EINVAL, "NVP_DRIVER='%s' is not one of vfio, noiommu, uio, emu, auto", env);
}

int nvp_device_pick_driver(const char *addr, enum nvp_driver requested,
			   enum nvp_driver *out)
{
	char path[512], val[8];
	int rc;

	*out = requested;
	if (requested != NVP_DRIVER_AUTO)
		return 0;
	rc = driver_from_env(out);
	if (rc || *out != NVP_DRIVER_AUTO)
		return rc;
	if (addr && !strncmp(addr, "emu:", 4)) {
		*out = NVP_DRIVER_EMU;
		return 0;
	}
	/*
	 * A real IOMMU registers under /sys/class/iommu (dmar0, ivhd0, ...).
	 * Not /sys/kernel/iommu_groups: in no-IOMMU mode binding one device
	 * to vfio-pci creates a "vfio-noiommu" group there, and the next
	 * controller would then be taken for type1.
	 */
	nvp_pci_path(path, sizeof(path), "/class/iommu");
	if (dir_has_entries(path)) {
		*out = NVP_DRIVER_VFIO;
		return 0;
	}
	nvp_pci_path(path, sizeof(path), "/module/vfio/parameters/enable_unsafe_noiommu_mode");
	if (nvp_sysfs_read(path, val, sizeof(val)) == 0 && val[0] == 'Y') {
		*out = NVP_DRIVER_VFIO_NOIOMMU;
		return 0;
	}
	nvp_pci_path(path, sizeof(path), "/bus/pci/drivers/uio_pci_generic");
	if (access(path, F_OK) == 0) {
		*out = NVP_DRIVER_UIO;
		return 0;
	}
	return nvp_error(-ENODEV,
			 "no way to reach %s from userspace: (1) enable the IOMMU (boot with intel_iommu=on or amd_iommu=on) and modprobe vfio-pci; or (2) modprobe vfio enable_unsafe_noiommu_mode=1 && modprobe vfio-pci; or (3) modprobe uio_pci_generic",
			 addr ? addr : "the device");
}

/*
 * PCI functions open in this process: a second open would share BAR0 and
 * fight over the controller (VFIO hands the same device out twice within a
 * container, and uio never refuses), so it is refused here.
 */
#define MAX_OPEN 256
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static char open_bdfs[MAX_OPEN][NVP_PCI_ADDR_STRLEN];

static int claim_bdf(const char *bdf)
{
	int free_slot = -1, rc = 0;

	pthread_mutex_lock(&open_lock);
	for (int i = 0; i < MAX_OPEN; i++) {
		if (!strcmp(open_bdfs[i], bdf)) {
			rc = nvp_error(-EBUSY, "%s is already open in this process; detach it first",
				       bdf);
			goto out;
		}
		if (!open_bdfs[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		rc = nvp_error(-EMFILE, "more than %d controllers open in one process", MAX_OPEN);
	else
		snprintf(open_bdfs[free_slot], NVP_PCI_ADDR_STRLEN, "%s", bdf);
out:
	pthread_mutex_unlock(&open_lock);
	return rc;
}

static void unclaim_bdf(const char *bdf)
{
	pthread_mutex_lock(&open_lock);
	for (int i = 0; i < MAX_OPEN; i++)
		if (!strcmp(open_bdfs[i], bdf))
			open_bdfs[i][0] = '\0';
	pthread_mutex_unlock(&open_lock);
}

int nvp_device_open(const char *addr, enum nvp_driver driver, bool keep_driver,
		    struct nvp_device **dev)
{
	char bdf[NVP_PCI_ADDR_STRLEN];
	struct nvp_pci_addr pa;
	enum nvp_driver use;
	int rc;

	*dev = NULL;
	if (!addr || !*addr)
		return nvp_error(-EINVAL, "no controller address given; use a PCI address such as 0000:00:04.0 or emu:");
	/*
	 * A typo, a missing device or a network card must be named as such,
	 * not reported as "no way to reach it": check the address first.
	 */
	if (strncmp(addr, "emu:", 4)) {
		struct nvp_pci_info info;

		rc = nvp_pci_parse_addr(addr, &pa, bdf);
		if (rc)
			return rc;
		rc = nvp_pci_probe(bdf, &info);
		if (rc)
			return rc;
	}
	rc = nvp_device_pick_driver(addr, driver, &use);
	if (rc)
		return rc;
	nvp_debug("%s: opening with %s", addr, nvp_device_driver_name(use));
	if (use == NVP_DRIVER_EMU)
		return nvp_emu_open(addr, dev);
	if (!strncmp(addr, "emu:", 4))
		return nvp_error(-EINVAL, "%s is an emulated controller but NVP_DRIVER or the "
				 "options ask for %s", addr, nvp_device_driver_name(use));

	rc = claim_bdf(bdf);
	if (rc)
		return rc;
	switch (use) {
	case NVP_DRIVER_VFIO:
		rc = nvp_vfio_open(bdf, false, keep_driver, dev);
		break;
	case NVP_DRIVER_VFIO_NOIOMMU:
		rc = nvp_vfio_open(bdf, true, keep_driver, dev);
		break;
	case NVP_DRIVER_UIO:
		rc = nvp_uio_open(bdf, keep_driver, dev);
		break;
	default:
		rc = nvp_error(-EINVAL, "unknown driver %d for %s", (int)use, addr);
		break;
	}
	if (rc)
		unclaim_bdf(bdf);
	return rc;
}

/* A 32-bit register, CPU byte order (registers are little-endian). */
static uint32_t reg32(const struct nvp_device *dev, size_t off)
{
	return nvp_le32_to_cpu(*(volatile const uint32_t *)((volatile const char *)dev->bar0 + off));
}

bool nvp_device_gone(const struct nvp_device *dev, bool removed)
{
	if (removed)
		return true;
	/* All-ones reads the same in either byte order. */
	if (dev->bar0 && reg32(dev, NVP_REG_CSTS) == 0xffffffffu) {
		nvp_warn("%s: registers read all-ones; the device is gone", dev->addr);
		return true;
	}
	return false;
}

const char *nvp_device_regs_str(const struct nvp_device *dev, char *buf, size_t len)
{
	snprintf(buf, len, "VS 0x%08x CC 0x%08x CSTS 0x%08x", reg32(dev, NVP_REG_VS),
		 reg32(dev, NVP_REG_CC), reg32(dev, NVP_REG_CSTS));
	return buf;
}

bool nvp_device_removal_requested(struct nvp_device *dev)
{
	return dev && dev->ops && dev->ops->removal_requested &&
	       dev->ops->removal_requested(dev);
}

void nvp_device_close(struct nvp_device *dev)
{
	char bdf[sizeof(dev->addr)];
	bool pci;

	if (!dev || !dev->ops || !dev->ops->close)
		return;
	pci = dev->driver != NVP_DRIVER_EMU;
	snprintf(bdf, sizeof(bdf), "%s", dev->addr);
	dev->ops->close(dev);
	/* Only now: the device is back with the kernel (or left on vfio/uio). */
	if (pci)
		unclaim_bdf(bdf);
}
