/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sysfs/function.c - one PCI function in sysfs: its address, driver and
 * NUMA node; the namespace block devices the kernel made for it, and
 * whether the system uses them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nvpoll_sysfs/pci.h>
#include <nvpoll_sysfs/sysfs.h>

#include "report.h"

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
	return sysfs_error(-EINVAL,
			   "'%s' is not a PCI address; use DDDD:BB:DD.F or BB:DD.F in hex (e.g. 0000:00:04.0, see lspci -D), or emu: for the emulator",
			   str ? str : "(null)");
}

int nvp_pci_current_driver(const char *bdf, char *buf, size_t len)
{
	char path[512], link[512];
	ssize_t n;
	const char *base;

	buf[0] = '\0';
	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s", bdf))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return -ENODEV;
	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/driver", bdf))
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

	if (nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/numa_node", bdf) ||
	    nvp_sysfs_read(path, val, sizeof(val)))
		return -1;
	node = strtol(val, &end, 10);
	if (end == val || node < 0 || node > 4096)
		return -1;
	return (int)node;
}

/* ---- namespace block devices ---------------------------------------------- */

/* nvme<c>n<n> exactly: not a partition, not a per-path nvme<c>c<p>n<n> node. */
static bool is_ns_name(const char *name)
{
	int c, n, len = 0;

	return sscanf(name, "nvme%dn%d%n", &c, &n, &len) == 2 && name[len] == '\0';
}

int nvp_pci_for_each_ns(const char *bdf, int (*fn)(const char *name, const char *dir, void *arg),
			void *arg)
{
	char base[512], ctrl_dir[1024];
	struct dirent *ce, *ne;
	DIR *cd, *nd;
	int rc = 0;

	if (nvp_sysfs_path(base, sizeof(base), "/bus/pci/devices/%s/nvme", bdf))
		return -ENAMETOOLONG;
	cd = opendir(base);
	if (!cd)
		return 0; /* not on nvme: no namespace devices */
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
			rc = fn(ne->d_name, ns_dir, arg);
		}
		closedir(nd);
	}
	closedir(cd);
	return rc;
}

struct ns_list {
	struct nvp_pci_ns_dev *out;
	size_t max, n;
};

static int add_ns(const char *name, const char *dir, void *arg)
{
	struct ns_list *l = arg;

	if (l->n < l->max) {
		struct nvp_pci_ns_dev *ns = &l->out[l->n];
		char path[2048], val[32];

		snprintf(ns->name, sizeof(ns->name), "%.31s", name);
		snprintf(path, sizeof(path), "%s/size", dir);
		ns->size_bytes = nvp_sysfs_read(path, val, sizeof(val)) ? 0 :
				 strtoull(val, NULL, 10) * 512;
	}
	l->n++;
	return 0;
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
	struct ns_list l = { .out = out, .max = max };
	int rc = nvp_pci_for_each_ns(bdf, add_ns, &l);

	if (rc)
		return rc;
	qsort(out, l.n < max ? l.n : max, sizeof(*out), cmp_ns);
	return (int)l.n;
}

/* ---- is the system using them? -------------------------------------------- */

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
 * (nvpoll-setup reads mountinfo with libmount; this library does not
 * depend on it for these four escapes.)
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

		return sysfs_error(-EBUSY, "/dev/%s is mounted on %s; unmount it first (umount %s%s%s)",
				   name, mnt, quote ? "'" : "", mnt, quote ? "'" : "");
	}
	if (is_swap(name, devno))
		return sysfs_error(-EBUSY, "/dev/%s is in use as swap; turn it off first "
				   "(swapoff /dev/%s)", name, name);
	snprintf(path, sizeof(path), "%s/holders", dir);
	first_holder(path, holder, sizeof(holder));
	if (holder[0])
		return sysfs_error(-EBUSY,
				   "/dev/%s is held by /dev/%s (device-mapper, md or similar); stop that device first (see lsblk /dev/%s)",
				   name, holder, name);
	return 0;
}

/* The namespace in @ns_dir and every partition directory inside it. */
static int check_namespace(const char *ns, const char *ns_dir, void *arg)
{
	struct dirent *e;
	DIR *d;
	int rc;

	(void)arg;
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
	return nvp_pci_for_each_ns(bdf, check_namespace, NULL);
}
