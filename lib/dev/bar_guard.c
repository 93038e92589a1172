/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dev/bar_guard.c - surviving the hot removal of a device whose BAR0 is
 * mapped from sysfs (uio). The kernel zaps such mappings when the device
 * goes away, and the next register access raises SIGBUS. A removed PCIe
 * device reads all-ones, and the driver already treats all-ones as
 * "removed"; so the SIGBUS handler maps an all-ones region over the whole
 * BAR and returns, and the faulting access runs again and reads all-ones.
 * (SPDK handles this the same way.)
 *
 * The handler only reads a fixed table of guarded ranges (published with
 * atomics) and makes one mmap() call; faults elsewhere go to whatever
 * handler was installed before, or to the default action.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/device.h"
#include "util/log.h"

#define GUARD_SLOTS 32

struct guard {
	_Atomic uintptr_t start;	/* 0 = free slot */
	size_t len;
	int fill_fd;			/* all-ones pages of @len bytes */
};

static struct guard guards[GUARD_SLOTS];
static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t addr = (uintptr_t)si->si_addr;

	for (int i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t start = atomic_load_explicit(&guards[i].start, memory_order_acquire);

		if (start && addr - start < guards[i].len) {
			/* Private: doorbell writes land in our copy, reads stay all-ones. */
			if (mmap((void *)start, guards[i].len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_FIXED, guards[i].fill_fd, 0) != MAP_FAILED)
				return;
			break;
		}
	}
	/* Not ours (or the remap failed): what would have happened without us. */
	if (previous.sa_flags & SA_SIGINFO) {
		if (previous.sa_sigaction) {
			previous.sa_sigaction(sig, si, ctx);
			return;
		}
	} else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);	/* the access runs again and dies as usual */
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous))
		install_rc = -errno;
}

/* An unlinked memfd of @len bytes of 0xff. */
static int make_fill(size_t len)
{
	static const uint8_t ones[4096] = { [0 ... 4095] = 0xff };
	int fd = memfd_create("nvpoll-bar-gone", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len; off += sizeof(ones)) {
		size_t n = len - off < sizeof(ones) ? len - off : sizeof(ones);

		if (pwrite(fd, ones, n, (off_t)off) != (ssize_t)n) {
			int err = -errno;

			close(fd);
			return err ? err : -EIO;
		}
	}
	return fd;
}

int nvp_bar_guard_add(volatile void *bar, size_t len)
{
	int fd, slot = -1;

	pthread_once(&install_once, install);
	if (install_rc)
		return nvp_error(install_rc, "cannot install the SIGBUS handler that survives "
				 "device removal: %s", strerror(-install_rc));
	fd = make_fill(len);
	if (fd < 0)
		return nvp_error(fd, "cannot create the all-ones page for a removed device's "
				 "BAR: %s", strerror(-fd));
	pthread_mutex_lock(&guard_lock);
	for (int i = 0; i < GUARD_SLOTS && slot < 0; i++)
		if (!atomic_load(&guards[i].start))
			slot = i;
	if (slot >= 0) {
		guards[slot].len = len;
		guards[slot].fill_fd = fd;
		atomic_store_explicit(&guards[slot].start, (uintptr_t)bar, memory_order_release);
	}
	pthread_mutex_unlock(&guard_lock);
	if (slot < 0) {
		close(fd);
		return nvp_error(-ENOSPC, "more than %d devices mapped through sysfs; detach "
				 "some", GUARD_SLOTS);
	}
	return 0;
}

void nvp_bar_guard_remove(volatile void *bar)
{
	pthread_mutex_lock(&guard_lock);
	for (int i = 0; i < GUARD_SLOTS; i++) {
		if (atomic_load(&guards[i].start) == (uintptr_t)bar) {
			atomic_store_explicit(&guards[i].start, 0, memory_order_release);
			close(guards[i].fill_fd);
		}
	}
	pthread_mutex_unlock(&guard_lock);
}
