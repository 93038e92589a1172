/* SPDX-License-Identifier: BSD-3-Clause */
/* tools/setup/mounts.h - hugetlbfs mounts from a mount table, through libmount. */
#ifndef NVP_TOOLS_SETUP_MOUNTS_H
#define NVP_TOOLS_SETUP_MOUNTS_H

/*
 * Calls @fn for every hugetlbfs mount in the mount table @path
 * (/proc/self/mountinfo, or a file in its format), in table order, with
 * its mount point as a path (libmount undoes the kernel's \040-style
 * escapes) and its filesystem options ("rw,pagesize=2M"; "" if none).
 * Returns how many there were, or -errno if @path cannot be read.
 */
int setup_hugetlbfs_mounts(const char *path,
			   void (*fn)(const char *target, const char *fs_options, void *arg),
			   void *arg);

#endif /* NVP_TOOLS_SETUP_MOUNTS_H */
