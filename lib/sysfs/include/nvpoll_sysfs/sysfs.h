/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll_sysfs/sysfs.h - nvpoll_sysfs, the one internal library that
 * libnvpoll and the tools share (docs/architecture.md, "Layers and what
 * may include what").
 *
 * It holds what the host says about PCI functions through sysfs and /proc:
 * addresses, bound drivers, NUMA nodes, IOMMU groups, namespace block
 * devices and whether the system uses them; moving a function between
 * kernel drivers; the table of access methods and the choice among them;
 * and parsing sizes. Nothing here touches a device (no BAR, no config
 * space, no libpciaccess) or knows NVMe commands.
 *
 * Headers: nvpoll_sysfs/sysfs.h (this: roots, file access, messages),
 * pci.h (functions, binding, IOMMU groups), drivers.h (access methods),
 * size.h (sizes).
 *
 * Everything reads and writes below configurable roots so the unit tests
 * run the real logic against a fake tree in a temporary directory.
 */
#ifndef NVPOLL_SYSFS_SYSFS_H
#define NVPOLL_SYSFS_SYSFS_H

#include <stddef.h>

#include <nvpoll/nvpoll.h>

/*
 * Roots of the trees inspected. Defaults: "/sys", "/dev",
 * "/proc/self/mountinfo", "/proc/swaps". Tests point them at a fake tree;
 * not thread-safe to change while a device is being opened. Each program
 * linking nvpoll_sysfs has its own copy (libnvpoll.so keeps its own).
 */
extern const char *nvp_sysfs_root;
extern const char *nvp_devfs_root;
extern const char *nvp_mountinfo_path;
extern const char *nvp_swaps_path;
/* Upper bound for each wait on the kernel (driver bind, device node). */
extern unsigned int nvp_pci_wait_ms;

/**
 * nvp_sysfs_report() - where nvpoll_sysfs's messages go. The library
 * neither prints nor stores them: whoever links it defines this function.
 * libnvpoll forwards them to its log (lib/pci/pci.c), so nvp_set_log() and
 * nvp_last_error() see them; nvpoll-setup prints them (tools/setup).
 * @level: NVP_LOG_ERR for the one message that explains a failure (the
 *         function then returns a negative errno), lower levels for
 *         progress and warnings.
 * @msg: one line, no trailing newline.
 */
void nvp_sysfs_report(enum nvp_log_level level, const char *msg);

/**
 * nvp_sysfs_path() - format a path below nvp_sysfs_root.
 * @buf: out.
 * @len: size of @buf.
 * @fmt: printf format of the part after the root (starting with '/').
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int nvp_sysfs_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * nvp_sysfs_write() - write a string to a sysfs attribute.
 * @path: full path.
 * @val: the text (written in one write(2)).
 *
 * Return: 0 or a negative errno (no message: callers explain).
 */
int nvp_sysfs_write(const char *path, const char *val);

/**
 * nvp_sysfs_read() - read a sysfs attribute, trailing newline removed.
 * @path: full path.
 * @buf: out.
 * @len: size of @buf.
 *
 * Return: 0 or a negative errno (no message).
 */
int nvp_sysfs_read(const char *path, char *buf, size_t len);

/**
 * nvp_sysfs_count_entries() - entries of a directory, "." ones left out.
 * @path: full path.
 *
 * Return: the count, 0 if the directory is missing.
 */
int nvp_sysfs_count_entries(const char *path);

#endif /* NVPOLL_SYSFS_SYSFS_H */
