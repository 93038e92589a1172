/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci/pci.c - discovery (libpciaccess), the NVMe class check, bus
 * mastering; and the library's end of nvpoll_sysfs's messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <pciaccess.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll/spec.h>

#include "pci/pci.h"
#include "util/log.h"

/*
 * nvpoll_sysfs reports through this function (nvpoll_sysfs/sysfs.h): into
 * the library's log, so an explaining message also becomes
 * nvp_last_error().
 */
void nvp_sysfs_report(enum nvp_log_level level, const char *msg)
{
	if (level == NVP_LOG_ERR)
		nvp_error(0, "%s", msg);
	else
		nvp_log(level, "%s", msg);
}

/* pci_system_init() scans every device; do it once, shared by all opens. */
static pthread_mutex_t pciaccess_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int pciaccess_users;

static int pciaccess_get(void)
{
	int rc = 0;

	pthread_mutex_lock(&pciaccess_lock);
	if (pciaccess_users == 0)
		rc = pci_system_init();
	if (rc == 0)
		pciaccess_users++;
	pthread_mutex_unlock(&pciaccess_lock);
	if (rc)
		return nvp_error(-rc, "libpciaccess could not scan the PCI bus (%s); is %s/bus/pci mounted?",
				 strerror(rc), nvp_sysfs_root);
	return 0;
}

static void pciaccess_put(void)
{
	pthread_mutex_lock(&pciaccess_lock);
	if (pciaccess_users && --pciaccess_users == 0)
		pci_system_cleanup();
	pthread_mutex_unlock(&pciaccess_lock);
}

/* Names for the classes someone is most likely to type by mistake. */
static const char *class_name(uint32_t class_code)
{
	switch (class_code >> 8) {
	case 0x0100: return "SCSI controller";
	case 0x0101: return "IDE controller";
	case 0x0106: return "SATA controller";
	case 0x0107: return "SAS controller";
	case 0x0108: return "non-volatile memory controller, but not NVMe";
	case 0x0200: return "Ethernet controller";
	case 0x0300: return "VGA controller";
	case 0x0600: return "host bridge";
	case 0x0601: return "ISA bridge";
	case 0x0604: return "PCI bridge";
	default: return "not a storage controller";
	}
}

int nvp_pci_check_nvme(const char *bdf, uint32_t class_code)
{
	char drv[64];

	if (class_code == NVP_PCI_CLASS_NVME)
		return 0;
	nvp_pci_current_driver(bdf, drv, sizeof(drv));
	return nvp_error(-ENODEV,
			 "%s is not an NVMe controller (class 0x%06x, %s; driver %s); list NVMe controllers with: lspci -D -d ::0108",
			 bdf, class_code, class_name(class_code), drv[0] ? drv : "none");
}

int nvp_pci_probe(const char *addr, struct nvp_pci_info *info)
{
	struct nvp_pci_addr a;
	struct pci_device *pdev;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = nvp_pci_parse_addr(addr, &a, info->bdf);
	if (rc)
		return rc;
	rc = pciaccess_get();
	if (rc)
		return rc;
	pdev = pci_device_find_by_slot(a.domain, a.bus, a.dev, a.func);
	if (!pdev) {
		rc = nvp_error(-ENODEV, "no PCI function %s; list NVMe controllers with: lspci -D -d ::0108",
			       info->bdf);
		goto out;
	}
	rc = pci_device_probe(pdev);
	if (rc) {
		rc = nvp_error(-rc, "cannot read PCI function %s (%s); run as root",
			       info->bdf, strerror(rc));
		goto out;
	}
	info->vendor_id = pdev->vendor_id;
	info->device_id = pdev->device_id;
	info->class_code = pdev->device_class & 0xffffff;
	info->bar0_size = pdev->regions[0].size;
	info->numa_node = nvp_pci_numa_node(info->bdf);
	rc = nvp_pci_check_nvme(info->bdf, info->class_code);
	if (rc == 0)
		nvp_debug("%s: NVMe controller %04x:%04x, BAR0 %llu bytes, NUMA node %d",
			  info->bdf, info->vendor_id, info->device_id,
			  (unsigned long long)info->bar0_size, info->numa_node);
out:
	pciaccess_put();
	return rc;
}

int nvp_pci_set_master(const char *bdf, bool on)
{
	char path[512];
	uint16_t cmd;
	int fd, rc = 0;

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/config", bdf))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return nvp_error(-errno, "cannot open %s (%s); run as root", path, strerror(errno));
	if (pread(fd, &cmd, sizeof(cmd), NVP_PCI_COMMAND) != sizeof(cmd)) {
		rc = nvp_error(-EIO, "cannot read the PCI command register of %s", bdf);
		goto out;
	}
	/* Config space is little-endian. */
	cmd = nvp_le16_to_cpu(cmd);
	if (on)
		cmd |= NVP_PCI_COMMAND_MASTER | NVP_PCI_COMMAND_MEMORY;
	else
		cmd &= (uint16_t)~NVP_PCI_COMMAND_MASTER;
	cmd = nvp_cpu_to_le16(cmd);
	if (pwrite(fd, &cmd, sizeof(cmd), NVP_PCI_COMMAND) != sizeof(cmd))
		rc = nvp_error(-EIO, "cannot write the PCI command register of %s", bdf);
out:
	close(fd);
	return rc;
}
