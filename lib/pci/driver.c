/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci/driver.c - taking a function from its kernel driver and giving it
 * back: in-use checks, driver_override, drivers_probe, bounded waits.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "pci/pci.h"
#include "util/log.h"

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

/* Whether @name looks like a namespace block device: nvme<c>n<n>, not nvme<c>c<p>n<n>. */
static bool is_ns_name(const char *name)
{
	int c, n, len = 0;

	return sscanf(name, "nvme%dn%d%n", &c, &n, &len) == 2 && name[len] == '\0';
}

/* Whether @name is a partition of block device @disk ("nvme0n1p2" of "nvme0n1"). */
static bool is_partition_of(const char *name, const char *disk)
{
	size_t len = strlen(disk);

	return !strncmp(name, disk, len) && name[len] == 'p' && name[len + 1] != '\0';
}

/* First entry of a holders/ directory, or "" if none. */
static void first_holder(const char *dir, char *out, size_t len)
{
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(out, len, "%s", e->d_name);
		break;
	}
	closedir(d);
}

/*
 * Undo the kernel's escaping of a mountinfo path in place: space, tab,
 * newline and backslash appear as \040, \011, \012 and \134 (octal).
 * (The tools read mountinfo with libmount; the library does not depend
 * on it for these four escapes.)
 */
static void unescape_mount_path(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Mount point of block device major:minor @devno, from mountinfo; 0 if found. */
static int find_mount(const char *devno, char *mnt, size_t len)
{
	char line[4096];
	FILE *f;
	int found = -ENOENT;

	f = fopen(nvp_mountinfo_path, "re");
	if (!f)
		return -errno;
	/* "36 35 259:1 / /data rw,... - ext4 /dev/nvme0n1p1 rw" */
	while (fgets(line, sizeof(line), f)) {
		char majmin[32], root[1024], point[1024];

		if (sscanf(line, "%*u %*u %31s %1023s %1023s", majmin, root, point) != 3)
			continue;
		if (!strcmp(majmin, devno)) {
			unescape_mount_path(point);
			snprintf(mnt, len, "%s", point);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * Is block device @name (major:minor @devno) an active swap area? /proc/swaps
 * names it by path ("/dev/nvme0n1p2 partition ..."): match the name, or the
 * device number of whatever the path is (a symlink, another node name).
 */
static bool is_swap(const char *name, const char *devno)
{
	unsigned int maj = UINT_MAX, min = UINT_MAX;
	char line[4096], path[4096];
	bool found = false;
	FILE *f;

	f = fopen(nvp_swaps_path, "re");
	if (!f)
		return false;
	if (sscanf(devno, "%u:%u", &maj, &min) != 2)
		maj = min = UINT_MAX;
	while (!found && fgets(line, sizeof(line), f)) {
		struct stat st;

		/* the header line ("Filename Type ...") is not a path */
		if (sscanf(line, "%4095s", path) != 1 || path[0] != '/')
			continue;
		if (!strcmp(strrchr(path, '/') + 1, name))
			found = true;
		else if (stat(path, &st) == 0 && S_ISBLK(st.st_mode) &&
			 major(st.st_rdev) == maj && minor(st.st_rdev) == min)
			found = true;
	}
	fclose(f);
	return found;
}

/* One block device (namespace or partition): mounted, swap or held? */
static int check_blockdev(const char *dir, const char *name)
{
	char path[2304], devno[32], mnt[1024], holder[256];

	snprintf(path, sizeof(path), "%s/dev", dir);
	if (nvp_sysfs_read(path, devno, sizeof(devno)))
		devno[0] = '\0';
	if (devno[0] && find_mount(devno, mnt, sizeof(mnt)) == 0) {
		/* A path with blanks or quotes is quoted in the command. */
		bool quote = mnt[strcspn(mnt, " \t\n'\"\\")] != '\0';

		return nvp_error(-EBUSY, "/dev/%s is mounted on %s; unmount it first (umount %s%s%s)",
				 name, mnt, quote ? "'" : "", mnt, quote ? "'" : "");
	}
	if (is_swap(name, devno))
		return nvp_error(-EBUSY, "/dev/%s is in use as swap; turn it off first "
				 "(swapoff /dev/%s)", name, name);
	snprintf(path, sizeof(path), "%s/holders", dir);
	first_holder(path, holder, sizeof(holder));
	if (holder[0])
		return nvp_error(-EBUSY,
				 "/dev/%s is held by /dev/%s (device-mapper, md or similar); stop that device first (see lsblk /dev/%s)",
				 name, holder, name);
	return 0;
}

/* The namespace @ns_dir and every partition directory inside it. */
static int check_namespace(const char *ns_dir, const char *ns)
{
	struct dirent *e;
	DIR *d;
	int rc;

	rc = check_blockdev(ns_dir, ns);
	if (rc)
		return rc;
	d = opendir(ns_dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char part_dir[2048];

		if (!is_partition_of(e->d_name, ns))
			continue;
		snprintf(part_dir, sizeof(part_dir), "%s/%s", ns_dir, e->d_name);
		rc = check_blockdev(part_dir, e->d_name);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

int nvp_pci_check_not_in_use(const char *bdf)
{
	char base[512], ctrl_dir[1024];
	struct dirent *ce, *ne;
	DIR *cd, *nd;
	int rc = 0;

	if (nvp_pci_path(base, sizeof(base), "/bus/pci/devices/%s/nvme", bdf))
		return -ENAMETOOLONG;
	cd = opendir(base);
	if (!cd)
		return 0; /* no nvme driver on it: no namespaces in use */
	while (rc == 0 && (ce = readdir(cd))) {
		if (strncmp(ce->d_name, "nvme", 4))
			continue;
		snprintf(ctrl_dir, sizeof(ctrl_dir), "%s/%s", base, ce->d_name);
		nd = opendir(ctrl_dir);
		if (!nd)
			continue;
		while (rc == 0 && (ne = readdir(nd))) {
			char ns_dir[1536];

			if (!is_ns_name(ne->d_name))
				continue;
			snprintf(ns_dir, sizeof(ns_dir), "%s/%s", ctrl_dir, ne->d_name);
			rc = check_namespace(ns_dir, ne->d_name);
		}
		closedir(nd);
	}
	closedir(cd);
	return rc;
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

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/nvme", bdf))
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

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/driver/unbind", bdf))
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

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s/driver_override", bdf))
		return -ENAMETOOLONG;
	return nvp_sysfs_write(path, driver);
}

static int probe(const char *bdf)
{
	char path[512];

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/drivers_probe"))
		return -ENAMETOOLONG;
	return nvp_sysfs_write(path, bdf);
}

static bool is_user_driver(const char *drv)
{
	return !strcmp(drv, "vfio-pci") || !strcmp(drv, "uio_pci_generic");
}

static int sysfs_failure(int rc, const char *bdf, const char *what)
{
	if (rc == -EACCES || rc == -EPERM || rc == -EROFS)
		return nvp_error(-EACCES, "%s: cannot %s through %s/bus/pci (%s); changing drivers needs root",
				 bdf, what, nvp_sysfs_root, strerror(-rc));
	return nvp_error(rc, "%s: cannot %s (%s); see dmesg", bdf, what, strerror(-rc));
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
		return nvp_error(-ENODEV, "no PCI function %s in %s/bus/pci/devices; was it removed?",
				 bdf, nvp_sysfs_root);
	if (rc)
		return nvp_error(rc, "%s: cannot read its driver", bdf);
	if (!strcmp(b->orig_driver, driver)) {
		nvp_debug("%s: already bound to %s", bdf, driver);
		return 0;
	}

	if (nvp_pci_path(path, sizeof(path), "/bus/pci/drivers/%s", driver))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return nvp_error(-ENOENT, "%s is not loaded; run: %s", driver, load_hint);
	if (!is_user_driver(b->orig_driver)) {
		rc = nvp_pci_check_not_in_use(bdf);
		if (rc)
			return rc;
	}

	nvp_info("%s: moving from %s to %s", bdf,
		 b->orig_driver[0] ? b->orig_driver : "no driver", driver);
	rc = unbind_current(bdf);
	if (rc == -ETIMEDOUT)
		return nvp_error(-ETIMEDOUT, "%s: driver %s did not let go within %u ms; see dmesg",
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
		rc = nvp_error(-ETIMEDOUT,
			       "%s: %s did not bind within %u ms; look at dmesg (for vfio-pci without an IOMMU: modprobe vfio enable_unsafe_noiommu_mode=1)",
			       bdf, driver, nvp_pci_wait_ms);
		goto undo;
	}
	nvp_debug("%s: bound to %s in %llu ms", bdf, driver,
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
	nvp_pci_path(path, sizeof(path), "/bus/pci/devices/%s", b->bdf);
	if (access(path, F_OK)) {
		nvp_warn("%s: the device is gone; nothing to give back to %s", b->bdf,
			 b->orig_driver[0] ? b->orig_driver : "the kernel");
		return;
	}
	rc = unbind_current(b->bdf);
	if (rc)
		nvp_warn("%s: unbinding %s failed (%s)", b->bdf, b->driver, strerror(-rc));
	/* A newline clears driver_override so the normal ID match applies again. */
	rc = set_override(b->bdf, "\n");
	if (rc)
		nvp_warn("%s: clearing driver_override failed (%s)", b->bdf, strerror(-rc));
	if (!b->orig_driver[0])
		return; /* it had no driver; leave it unbound */
	rc = probe(b->bdf);
	if (rc)
		nvp_warn("%s: re-probe failed (%s); run: echo %s > /sys/bus/pci/drivers_probe",
			 b->bdf, strerror(-rc), b->bdf);
	if (gone)
		return;
	if (wait_driver(b->bdf, b->orig_driver, nvp_pci_wait_ms)) {
		nvp_warn("%s: %s did not take the device back within %u ms; see dmesg",
			 b->bdf, b->orig_driver, nvp_pci_wait_ms);
		return;
	}
	if (!strcmp(b->orig_driver, "nvme") && wait_nvme_ctrl(b->bdf, nvp_pci_wait_ms))
		nvp_warn("%s: nvme is bound but no controller appeared within %u ms; see dmesg",
			 b->bdf, nvp_pci_wait_ms);
	else
		nvp_debug("%s: back on %s after %llu ms", b->bdf, b->orig_driver,
			  (unsigned long long)(now_ms() - t0));
}
