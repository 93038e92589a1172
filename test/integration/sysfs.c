// SPDX-License-Identifier: BSD-3-Clause
/*
 * sysfs.c - what the kernel says about a PCI NVMe controller: which driver
 * has it, whether its nvme controller is live and its namespaces are there.
 * Used to check that detach hands the device back, and to let the kernel
 * finish re-probing before the suite takes the device again.
 */
#include <dirent.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

void itest_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

void itest_pci_driver(const char *bdf, char *out, size_t len)
{
	char path[256], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	{
		const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
		size_t n_copy = strlen(base) < len - 1 ? strlen(base) : len - 1;

		memcpy(out, base, n_copy); /* a driver name; truncation is harmless */
		out[n_copy] = '\0';
	}
}

/* The nvme controller name ("nvme0") the kernel gave @bdf, or false. */
static bool pci_nvme_ctrl(const char *bdf, char *out, size_t len)
{
	char path[300];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme", bdf);
	dir = opendir(path);
	if (!dir)
		return false;
	out[0] = '\0';
	while ((de = readdir(dir)))
		if (strncmp(de->d_name, "nvme", 4) == 0)
			snprintf(out, len, "%s", de->d_name);
	closedir(dir);
	return out[0] != '\0';
}

bool itest_pci_blockdev(const char *bdf, char *out, size_t len)
{
	char path[700], ctrl[256];
	struct dirent *de;
	DIR *dir;

	if (!pci_nvme_ctrl(bdf, ctrl, sizeof(ctrl)))
		return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme/%s/%sn1", bdf, ctrl, ctrl);
	if (access(path, F_OK) == 0) {
		snprintf(out, len, "%sn1", ctrl);
		return true;
	}
	/* Multipath-capable kernels name the disk after the subsystem. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme/%s", bdf, ctrl);
	dir = opendir(path);
	if (!dir)
		return false;
	out[0] = '\0';
	while ((de = readdir(dir)))
		if (strncmp(de->d_name, "nvme", 4) == 0 && strstr(de->d_name, "n1") &&
		    strchr(de->d_name, 'c') == NULL)
			snprintf(out, len, "%s", de->d_name);
	closedir(dir);
	return out[0] != '\0';
}

/* The kernel's state of its nvme controller ("live", "resetting", ...). */
static void pci_nvme_state(const char *bdf, char *out, size_t len)
{
	char ctrl[256], path[600];
	FILE *f;

	out[0] = '\0';
	if (!pci_nvme_ctrl(bdf, ctrl, sizeof(ctrl)))
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nvme/%s/state", bdf, ctrl);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

bool itest_pci_kernel_ready(const char *addr, unsigned int timeout_ms, char *why, size_t len)
{
	char bdf[64], drv[64], blk[64], state[32];
	unsigned int waited;

	itest_pci_canon(addr, bdf, sizeof(bdf));
	for (waited = 0;; waited += 50) {
		itest_pci_driver(bdf, drv, sizeof(drv));
		pci_nvme_state(bdf, state, sizeof(state));
		if (strcmp(drv, "nvme") == 0 && strcmp(state, "live") == 0 &&
		    itest_pci_blockdev(bdf, blk, sizeof(blk)))
			return true;
		if (waited >= timeout_ms)
			break;
		itest_sleep_ms(50);
	}
	snprintf(why, len, "%s after %u ms: driver '%s', nvme state '%s'", bdf, timeout_ms,
		 drv[0] ? drv : "(none)", state[0] ? state : "(none)");
	return false;
}
