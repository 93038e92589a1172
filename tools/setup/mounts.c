/* SPDX-License-Identifier: BSD-3-Clause */
/* tools/setup/mounts.c - hugetlbfs mounts through libmount (see mounts.h). */
#include <errno.h>
#include <string.h>

#include <libmount/libmount.h>

#include "mounts.h"

int setup_hugetlbfs_mounts(const char *path,
			   void (*fn)(const char *target, const char *fs_options, void *arg),
			   void *arg)
{
	struct libmnt_table *tb;
	struct libmnt_iter *it;
	struct libmnt_fs *fs;
	int n = 0;

	errno = 0;
	tb = mnt_new_table_from_file(path);
	if (!tb)
		return errno ? -errno : -EINVAL;
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!it) {
		mnt_unref_table(tb);
		return -ENOMEM;
	}
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
		const char *opts = mnt_fs_get_fs_options(fs);

		if (!type || strcmp(type, "hugetlbfs") || !target)
			continue;
		fn(target, opts ? opts : "", arg);
		n++;
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return n;
}
