// SPDX-License-Identifier: BSD-3-Clause
/*
 * nvpoll-setup's reading of hugetlbfs mounts (tools/setup/mounts.c, through
 * libmount): mount points with blanks come back as paths, not as the
 * kernel's \040 escapes; other filesystems are skipped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mounts.h"

struct seen {
	int n;
	char target[4][256];
	char opts[4][256];
};

static void record(const char *target, const char *fs_options, void *arg)
{
	struct seen *s = arg;

	if (s->n < 4) {
		snprintf(s->target[s->n], sizeof(s->target[0]), "%s", target);
		snprintf(s->opts[s->n], sizeof(s->opts[0]), "%s", fs_options);
	}
	s->n++;
}

static void write_table(char *path, size_t len, const char *text)
{
	int fd;

	snprintf(path, len, "/tmp/nvp-mounts-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_escaped_mount_points(void **state)
{
	char path[64];
	struct seen s = { 0 };

	(void)state;
	write_table(path, sizeof(path),
		    "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		    "36 25 0:33 / /dev/hugepages rw,relatime shared:13 - hugetlbfs hugetlbfs rw,pagesize=2M\n"
		    "40 1 259:1 / /data\\040disk rw - ext4 /dev/nvme0n1p1 rw\n"
		    "41 25 0:45 / /mnt/huge\\040pages\\0111G rw,relatime - hugetlbfs nodev rw,pagesize=1024M\n");
	assert_int_equal(setup_hugetlbfs_mounts(path, record, &s), 2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.target[0], "/dev/hugepages");
	assert_non_null(strstr(s.opts[0], "pagesize=2M"));
	assert_string_equal(s.target[1], "/mnt/huge pages\t1G");
	assert_non_null(strstr(s.opts[1], "pagesize=1024M"));
	unlink(path);
}

static void test_missing_table(void **state)
{
	struct seen s = { 0 };

	(void)state;
	assert_true(setup_hugetlbfs_mounts("/nonexistent/mountinfo", record, &s) < 0);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped_mount_points),
		cmocka_unit_test(test_missing_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
