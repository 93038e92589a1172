// SPDX-License-Identifier: BSD-3-Clause
/*
 * test/unit/test_bar_guard.c - lib/dev/bar_guard.c: a mapping that the
 * kernel takes away (here: a shared file mapping whose file is truncated,
 * which raises SIGBUS exactly like a zapped sysfs BAR) reads all-ones once
 * guarded; faults outside guarded ranges still reach the handler that was
 * there before, or kill the process as they would without nvpoll.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include "dev/device.h"

#define LEN 16384

/* A shared mapping of a memfd filled with 0x5a, and the fd to pull it. */
static volatile uint32_t *map_file(int *fd)
{
	uint8_t buf[LEN];
	void *p;

	*fd = memfd_create("bar-guard-test", MFD_CLOEXEC);
	assert_true(*fd >= 0);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(write(*fd, buf, sizeof(buf)), sizeof(buf));
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static const char *self_path;

static void test_removed_bar_reads_all_ones(void **state)
{
	volatile uint32_t *bar;
	int fd;

	(void)state;
	/* valgrind reports the fault as a bad read instead of raising SIGBUS. */
	if (RUNNING_ON_VALGRIND)
		skip();
	bar = map_file(&fd);
	assert_int_equal(nvp_bar_guard_add(bar, LEN), 0);
	assert_int_equal(bar[0x1c / 4], 0x5a5a5a5a);
	/* The device goes away: the pages behind the mapping vanish. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(bar[0x1c / 4], 0xffffffffu);	/* SIGBUS handled: all-ones */
	assert_int_equal(bar[LEN / 4 - 1], 0xffffffffu);
	bar[0x1000 / 4] = 7;				/* a doorbell write is harmless */
	assert_int_equal(bar[0x1c / 4], 0xffffffffu);
	nvp_bar_guard_remove(bar);
	munmap((void *)bar, LEN);
	close(fd);
}

static sigjmp_buf jump;
static volatile sig_atomic_t app_handler_ran;

static void app_handler(int sig)
{
	(void)sig;
	app_handler_ran = 1;
	siglongjmp(jump, 1);
}

/* In a child: the application's own SIGBUS handler still gets its faults. */
static int child_chains(void)
{
	volatile uint32_t *bar, *other;
	int fd, fd2;

	signal(SIGBUS, app_handler);
	bar = map_file(&fd);
	other = map_file(&fd2);
	if (nvp_bar_guard_add(bar, LEN))
		return 2;
	if (ftruncate(fd2, 0))
		return 3;
	if (sigsetjmp(jump, 1) == 0)
		(void)other[0];
	return app_handler_ran ? 0 : 4;
}

/* In a child without a handler of its own: an unguarded fault kills it. */
static int child_dies(void)
{
	volatile uint32_t *bar, *other;
	int fd, fd2;

	bar = map_file(&fd);
	other = map_file(&fd2);
	if (nvp_bar_guard_add(bar, LEN))
		return 2;
	if (ftruncate(fd2, 0))
		return 3;
	(void)other[0];
	return 0;	/* should not get here */
}

/*
 * Each scenario runs in a fresh process (cmocka catches SIGBUS itself in
 * this one, and the guard's handler is installed only once per process).
 */
static int run_child(const char *scenario)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl(self_path, "test_bar_guard", scenario, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_other_faults_unchanged(void **state)
{
	int st;

	(void)state;
	if (getenv("NVP_TEST_QEMU_USER")) {
		/* Set by cmake/toolchains/aarch64-linux-gnu.cmake's emulator line. */
		print_message("skipped: the scenarios run in re-executed children, and "
			      "qemu-user cannot execve() an arm64 binary without binfmt_misc\n");
		skip();
	}
	st = run_child("chains");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = run_child("dies");
	assert_true(WIFSIGNALED(st));
#ifdef __SANITIZE_ADDRESS__
	/* The handler before ours is ASan's: it reports the fault and aborts. */
	assert_int_equal(WTERMSIG(st), SIGABRT);
#else
	assert_int_equal(WTERMSIG(st), SIGBUS);
#endif
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_removed_bar_reads_all_ones),
		cmocka_unit_test(test_other_faults_unchanged),
	};

	self_path = argv[0];
	if (argc == 2 && !strcmp(argv[1], "chains"))
		return child_chains();
	if (argc == 2 && !strcmp(argv[1], "dies"))
		return child_dies();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
