/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/dev/device.c - opening a controller with the access method nvpoll_sysfs picks. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <nvpoll_sysfs/drivers.h>

#include "dev/device.h"
#include "pci/pci.h"
#include "util/log.h"

const char *nvp_driver_name(enum nvp_driver driver)
{
	const struct nvp_access_method *m = nvp_access_method(driver);

	/* Not an access method NVP_DRIVER may pick: TCP is chosen by the address. */
	if (driver == NVP_DRIVER_TCP)
		return "tcp";
	return m ? m->name : "unknown";
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
	rc = nvp_access_pick(addr, driver, &use);
	if (rc)
		return rc;
	nvp_debug("%s: opening with %s", addr, nvp_driver_name(use));
	if (use == NVP_DRIVER_EMU)
		return nvp_emu_open(addr, dev);
	if (!strncmp(addr, "emu:", 4))
		return nvp_error(-EINVAL, "%s is an emulated controller but NVP_DRIVER or the "
				 "options ask for %s", addr, nvp_driver_name(use));

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
