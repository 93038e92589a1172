/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pci/pci.c - PCI address parsing, discovery (libpciaccess), sysfs helpers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pciaccess.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll/spec.h>

#include "pci/pci.h"
#include "util/log.h"

const char *nvp_sysfs_root = "/sys";
const char *nvp_devfs_root = "/dev";
const char *nvp_mountinfo_path = "/proc/self/mountinfo";
const char *nvp_swaps_path = "/proc/swaps";
unsigned int nvp_pci_wait_ms = 5000;

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

/* Parse exactly @digits hex digits (fewer allowed only if @exact is false). */
static const char *parse_hex(const char *s, unsigned int max_digits, bool exact,
			     uint32_t *val)
{
	unsigned int n = 0;

	*val = 0;
	while (n < max_digits && isxdigit((unsigned char)s[n])) {
		char c = (char)tolower((unsigned char)s[n]);

		*val = *val * 16 + (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
		n++;
	}
	if (n == 0 || (exact && n != max_digits))
		return NULL;
	return s + n;
}

int nvp_pci_parse_addr(const char *str, struct nvp_pci_addr *addr, char *canon)
{
	uint32_t dom = 0, bus, dev, func;
	const char *p = str;

	if (!str || !*str)
		goto bad;
	/* With a domain there are two colons. */
	if (strchr(str, ':') != strrchr(str, ':')) {
		p = parse_hex(p, 4, true, &dom);
		if (!p || *p++ != ':')
			goto bad;
	}
	p = parse_hex(p, 2, true, &bus);
	if (!p || *p++ != ':')
		goto bad;
	p = parse_hex(p, 2, true, &dev);
	if (!p || *p++ != '.')
		goto bad;
	p = parse_hex(p, 1, true, &func);
	if (!p || *p != '\0' || dev > 0x1f || func > 7)
		goto bad;

	addr->domain = dom;
	addr->bus = (uint8_t)bus;
	addr->dev = (uint8_t)dev;
	addr->func = (uint8_t)func;
	if (canon)
		snprintf(canon, NVP_PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x",
			 dom, bus, dev, func);
	return 0;
bad:
	return nvp_error(-EINVAL,
			 "'%s' is not a PCI address; use DDDD:BB:DD.F or BB:DD.F in hex (e.g. 0000:00:04.0, see lspci -D), or emu: for the emulator",
			 str ? str : "(null)");
}

int nvp_pci_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, len, "%s", nvp_sysfs_root);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -ENAMETOOLONG;
	return 0;
}

int nvp_sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, val, len);
	if (w < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return (size_t)w == len ? 0 : -EIO;
}

int nvp_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t r;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, len - 1);
	if (r < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[r] = '\0';
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = '\0';
	return 0;
}

int nvp_pci_current_driver(const char *bdf, char *buf, size_t len)
{
	char path[512], link[512];
	ssize_t n;
	const char *base;

	buf[0] = '\0';
	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s", bdf))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return -ENODEV;
	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/driver", bdf))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0; /* not bound */
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(buf, len, "%s", base ? base + 1 : link);
	return 0;
}

int nvp_pci_numa_node(const char *bdf)
{
	char path[512], val[32];
	char *end;
	long node;

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/numa_node", bdf) ||
	    nvp_sysfs_read(path, val, sizeof(val)))
		return -1;
	node = strtol(val, &end, 10);
	if (end == val || node < 0 || node > 4096)
		return -1;
	return (int)node;
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

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/config", bdf))
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
