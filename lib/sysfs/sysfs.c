/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/sysfs/sysfs.c - the roots, sysfs file access and message formatting. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll_sysfs/sysfs.h>

#include "report.h"

const char *nvp_sysfs_root = "/sys";
const char *nvp_devfs_root = "/dev";
const char *nvp_mountinfo_path = "/proc/self/mountinfo";
const char *nvp_swaps_path = "/proc/swaps";
unsigned int nvp_pci_wait_ms = 5000;

int sysfs_error(int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nvp_sysfs_report(NVP_LOG_ERR, msg);
	return err;
}

void sysfs_log(enum nvp_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nvp_sysfs_report(level, msg);
}

int nvp_sysfs_path(char *buf, size_t len, const char *fmt, ...)
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

int nvp_sysfs_count_entries(const char *path)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(path);

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}
