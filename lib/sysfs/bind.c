/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sysfs/bind.c - taking a function from its kernel driver and giving it
 * back: driver_override, drivers_probe, bounded waits; the in-use check
 * (function.c) before a function is taken.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/pci.h>
#include <nvpoll_sysfs/sysfs.h>

#include "report.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait until the bound driver is @want ("" = unbound); 0 or -ETIMEDOUT. */
static int wait_driver(const char *bdf, const char *want, unsigned int timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	char cur[64];

	for (;;) {
		if (nvp_pci_current_driver(bdf, cur, sizeof(cur)) == 0 && !strcmp(cur, want))
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
}

/* Wait for the nvme driver's controller directory (nvme/nvmeN) to come back. */
static int wait_nvme_ctrl(const char *bdf, unsigned int timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	char path[512];

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/nvme", bdf))
		return -ENAMETOOLONG;
	for (;;) {
		DIR *d = opendir(path);

		if (d) {
			struct dirent *e;
			bool found = false;

			while ((e = readdir(d)))
				if (!strncmp(e->d_name, "nvme", 4))
					found = true;
			closedir(d);
			if (found)
				return 0;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static int unbind_current(const char *bdf)
{
	char path[512];
	int rc;

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/driver/unbind", bdf))
		return -ENAMETOOLONG;
	if (access(path, F_OK)) {
		char cur[64];

		/* No unbind attribute: fine only if nothing is bound. */
		nvp_pci_current_driver(bdf, cur, sizeof(cur));
		return cur[0] ? -ENOENT : 0;
	}
	rc = nvp_sysfs_write(path, bdf);
	if (rc)
		return rc;
	return wait_driver(bdf, "", nvp_pci_wait_ms);
}

static int set_override(const char *bdf, const char *driver)
{
	char path[512];

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/driver_override", bdf))
		return -ENAMETOOLONG;
	return nvp_sysfs_write(path, driver);
}

static int probe(const char *bdf)
{
	char path[512];

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/drivers_probe"))
		return -ENAMETOOLONG;
	return nvp_sysfs_write(path, bdf);
}

static int sysfs_failure(int rc, const char *bdf, const char *what)
{
	if (rc == -EACCES || rc == -EPERM || rc == -EROFS)
		return sysfs_error(-EACCES, "%s: cannot %s through %s/bus/pci (%s); changing drivers needs root",
				   bdf, what, nvp_sysfs_root, strerror(-rc));
	return sysfs_error(rc, "%s: cannot %s (%s); see dmesg", bdf, what, strerror(-rc));
}

int nvp_pci_bind(const char *bdf, const char *driver, const char *load_hint,
		 struct nvp_pci_binding *b)
{
	char path[512];
	uint64_t t0 = now_ms();
	int rc;

	memset(b, 0, sizeof(*b));
	snprintf(b->bdf, sizeof(b->bdf), "%s", bdf);
	snprintf(b->driver, sizeof(b->driver), "%s", driver);
	rc = nvp_pci_current_driver(bdf, b->orig_driver, sizeof(b->orig_driver));
	if (rc == -ENODEV)
		return sysfs_error(-ENODEV, "no PCI function %s in %s/bus/pci/devices; was it removed?",
				   bdf, nvp_sysfs_root);
	if (rc)
		return sysfs_error(rc, "%s: cannot read its driver", bdf);
	if (!strcmp(b->orig_driver, driver)) {
		sysfs_debug("%s: already bound to %s", bdf, driver);
		return 0;
	}

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/drivers/%s", driver))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return sysfs_error(-ENOENT, "%s is not loaded; run: %s", driver, load_hint);
	if (!nvp_is_user_kernel_driver(b->orig_driver)) {
		rc = nvp_pci_check_not_in_use(bdf);
		if (rc)
			return rc;
	}

	sysfs_info("%s: moving from %s to %s", bdf,
		   b->orig_driver[0] ? b->orig_driver : "no driver", driver);
	rc = unbind_current(bdf);
	if (rc == -ETIMEDOUT)
		return sysfs_error(-ETIMEDOUT, "%s: driver %s did not let go within %u ms; see dmesg",
				   bdf, b->orig_driver, nvp_pci_wait_ms);
	if (rc)
		return sysfs_failure(rc, bdf, "unbind its driver");
	/* From here on release must restore the original driver. */
	b->changed = true;
	rc = set_override(bdf, driver);
	if (rc) {
		rc = sysfs_failure(rc, bdf, "write driver_override");
		goto undo;
	}
	rc = probe(bdf);
	if (rc && rc != -ENODEV) {
		rc = sysfs_failure(rc, bdf, "probe a driver");
		goto undo;
	}
	if (wait_driver(bdf, driver, nvp_pci_wait_ms)) {
		rc = sysfs_error(-ETIMEDOUT,
			         "%s: %s did not bind within %u ms; look at dmesg (for vfio-pci without an IOMMU: modprobe vfio enable_unsafe_noiommu_mode=1)",
			         bdf, driver, nvp_pci_wait_ms);
		goto undo;
	}
	sysfs_debug("%s: bound to %s in %llu ms", bdf, driver,
		    (unsigned long long)(now_ms() - t0));
	return 0;
undo:
	nvp_pci_release(b, false, false);
	return rc;
}

void nvp_pci_release(struct nvp_pci_binding *b, bool keep, bool gone)
{
	uint64_t t0 = now_ms();
	char path[512];
	int rc;

	if (!b->changed || keep)
		return;
	b->changed = false;
	nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s", b->bdf);
	if (access(path, F_OK)) {
		sysfs_warn("%s: the device is gone; nothing to give back to %s", b->bdf,
			   b->orig_driver[0] ? b->orig_driver : "the kernel");
		return;
	}
	rc = unbind_current(b->bdf);
	if (rc)
		sysfs_warn("%s: unbinding %s failed (%s)", b->bdf, b->driver, strerror(-rc));
	/* A newline clears driver_override so the normal ID match applies again. */
	rc = set_override(b->bdf, "\n");
	if (rc)
		sysfs_warn("%s: clearing driver_override failed (%s)", b->bdf, strerror(-rc));
	if (!b->orig_driver[0])
		return; /* it had no driver; leave it unbound */
	rc = probe(b->bdf);
	if (rc)
		sysfs_warn("%s: re-probe failed (%s); run: echo %s > /sys/bus/pci/drivers_probe",
			   b->bdf, strerror(-rc), b->bdf);
	if (gone)
		return;
	if (wait_driver(b->bdf, b->orig_driver, nvp_pci_wait_ms)) {
		sysfs_warn("%s: %s did not take the device back within %u ms; see dmesg",
			   b->bdf, b->orig_driver, nvp_pci_wait_ms);
		return;
	}
	if (!strcmp(b->orig_driver, "nvme") && wait_nvme_ctrl(b->bdf, nvp_pci_wait_ms))
		sysfs_warn("%s: nvme is bound but no controller appeared within %u ms; see dmesg",
			   b->bdf, nvp_pci_wait_ms);
	else
		sysfs_debug("%s: back on %s after %llu ms", b->bdf, b->orig_driver,
			    (unsigned long long)(now_ms() - t0));
}

int nvp_pci_unbind(const char *bdf)
{
	char path[512];

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/driver/unbind", bdf))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return 0;	/* nothing bound */
	return nvp_sysfs_write(path, bdf);
}
