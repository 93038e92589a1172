/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pci.c - device-access logic against a fake sysfs tree: address
 * parsing, the NVMe class check, in-use detection, driver binding (a thread
 * plays the kernel), namespace devices and IOMMU groups, the access-method
 * table and detection, nvp_check_address(), VFIO error messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <nvpoll_sysfs/drivers.h>

#include "dev/device.h"
#include "pci/pci.h"
#include "util/log.h"
#include "vfio/vfio.h"

#define BDF "0000:00:04.0"

static char root[256];
static char mountinfo[512];
static char swaps[512];

/* ---- fake tree helpers ------------------------------------------------- */

static void pathf(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = snprintf(buf, len, "%s", root);

	vsnprintf(buf + n, len - (size_t)n, fmt, ap);
}

/* mkdir -p of root + formatted path */
static void mkdirs(const char *fmt, ...)
{
	char p[1024];
	va_list ap;

	va_start(ap, fmt);
	pathf(p, sizeof(p), fmt, ap);
	va_end(ap);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

static void put(const char *content, const char *fmt, ...)
{
	char p[1024];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	pathf(p, sizeof(p), fmt, ap);
	va_end(ap);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void get(char *buf, size_t len, const char *fmt, ...)
{
	char p[1024];
	va_list ap;
	size_t n = 0;
	FILE *f;

	va_start(ap, fmt);
	pathf(p, sizeof(p), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	f = fopen(p, "r");
	if (!f)
		return;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static bool exists(const char *fmt, ...)
{
	char p[1024];
	va_list ap;

	va_start(ap, fmt);
	pathf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return access(p, F_OK) == 0;
}

/* Bind @bdf to @drv in the fake tree ("" unbinds). */
static void fake_set_driver(const char *bdf, const char *drv)
{
	char link[1024], target[256];

	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/driver", root, bdf);
	unlink(link);
	if (drv[0]) {
		snprintf(target, sizeof(target), "../../drivers/%s", drv);
		assert_int_equal(symlink(target, link), 0);
	}
}

static void fake_device(const char *bdf, const char *drv)
{
	mkdirs("/bus/pci/devices/%s", bdf);
	put("", "/bus/pci/devices/%s/driver_override", bdf);
	if (drv[0]) {
		mkdirs("/bus/pci/drivers/%s", drv);
		put("", "/bus/pci/drivers/%s/unbind", drv);
	}
	fake_set_driver(bdf, drv);
}

static int rm_tree(const char *path)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/nvp-test-pci.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(mountinfo, sizeof(mountinfo), "%s/mountinfo", root);
	snprintf(swaps, sizeof(swaps), "%s/swaps", root);
	nvp_sysfs_root = root;
	nvp_devfs_root = root;
	nvp_mountinfo_path = mountinfo;
	nvp_swaps_path = swaps;
	nvp_pci_wait_ms = 2000;
	mkdirs("/bus/pci/devices");
	mkdirs("/bus/pci/drivers");
	put("", "/bus/pci/drivers_probe");
	put("22 1 0:21 / /proc rw - proc proc rw\n", "/mountinfo");
	unsetenv("NVP_DRIVER");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rm_tree(root) ? -1 : 0;
}

/* ---- address parsing ----------------------------------------------------- */

static void test_parse_good(void **state)
{
	static const struct {
		const char *in, *canon;
	} cases[] = {
		{ "0000:00:04.0", "0000:00:04.0" },
		{ "00:04.0", "0000:00:04.0" },
		{ "0001:0a:1f.7", "0001:0a:1f.7" },
		{ "ABCD:FF:00.1", "abcd:ff:00.1" },
	};
	struct nvp_pci_addr a;
	char canon[NVP_PCI_ADDR_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(nvp_pci_parse_addr(cases[i].in, &a, canon), 0);
		assert_string_equal(canon, cases[i].canon);
	}
	assert_int_equal(nvp_pci_parse_addr("0001:0a:1f.7", &a, NULL), 0);
	assert_int_equal(a.domain, 1);
	assert_int_equal(a.bus, 0x0a);
	assert_int_equal(a.dev, 0x1f);
	assert_int_equal(a.func, 7);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "0000:00:04", "00:04", "0:00:04.0", "00:20.0", "00:04.8",
		"00:04.0x", "0000:00:04.0 ", " 00:04.0", "zz:04.0", "emu:", "0000:000:04.0",
		"00000:00:04.0", "00:4.0", "0000:00:04:0",
	};
	struct nvp_pci_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nvp_pci_parse_addr(bad[i], &a, NULL), -EINVAL);
		assert_non_null(strstr(nvp_last_error(), "DDDD:BB:DD.F"));
	}
	assert_int_equal(nvp_pci_parse_addr(NULL, &a, NULL), -EINVAL);
}

/* ---- class, NUMA, driver -------------------------------------------------- */

static void test_class_check(void **state)
{
	(void)state;
	fake_device("0000:00:03.0", "e1000e");
	assert_int_equal(nvp_pci_check_nvme("0000:00:03.0", 0x020000), -ENODEV);
	assert_non_null(strstr(nvp_last_error(),
			       "0000:00:03.0 is not an NVMe controller (class 0x020000"));
	assert_non_null(strstr(nvp_last_error(), "driver e1000e"));

	fake_device("0000:00:1f.2", "");
	assert_int_equal(nvp_pci_check_nvme("0000:00:1f.2", 0x010601), -ENODEV);
	assert_non_null(strstr(nvp_last_error(), "SATA controller"));
	assert_non_null(strstr(nvp_last_error(), "driver none"));

	/* NVM Express but another programming interface (e.g. NVMHCI). */
	assert_int_equal(nvp_pci_check_nvme("0000:00:1f.2", 0x010801), -ENODEV);
	assert_int_equal(nvp_pci_check_nvme(BDF, NVP_PCI_CLASS_NVME), 0);
}

static void test_numa_and_driver(void **state)
{
	char drv[64];

	(void)state;
	fake_device(BDF, "nvme");
	assert_int_equal(nvp_pci_numa_node(BDF), -1); /* no attribute */
	put("1\n", "/bus/pci/devices/%s/numa_node", BDF);
	assert_int_equal(nvp_pci_numa_node(BDF), 1);
	put("-1\n", "/bus/pci/devices/%s/numa_node", BDF);
	assert_int_equal(nvp_pci_numa_node(BDF), -1);

	assert_int_equal(nvp_pci_current_driver(BDF, drv, sizeof(drv)), 0);
	assert_string_equal(drv, "nvme");
	fake_set_driver(BDF, "");
	assert_int_equal(nvp_pci_current_driver(BDF, drv, sizeof(drv)), 0);
	assert_string_equal(drv, "");
	assert_int_equal(nvp_pci_current_driver("0000:09:00.0", drv, sizeof(drv)), -ENODEV);
}

/* The PCI command register in a config space image (little-endian). */
static uint16_t cfg_cmd(const char *cfg)
{
	uint16_t v;

	memcpy(&v, cfg + 4, 2);
	return nvp_le16_to_cpu(v);
}

static void test_set_master(void **state)
{
	char cfg[64] = { 0 }, p[512];
	uint16_t cmd = nvp_cpu_to_le16(0x02); /* memory space on, bus master off */
	int fd;

	(void)state;
	fake_device(BDF, "vfio-pci");
	memcpy(cfg + 4, &cmd, 2);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/config", root, BDF);
	fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, cfg, sizeof(cfg)), sizeof(cfg));
	assert_int_equal(nvp_pci_set_master(BDF, true), 0);
	assert_int_equal(pread(fd, cfg + 4, 2, 4), 2);
	assert_int_equal(cfg_cmd(cfg), 0x06);
	assert_int_equal(nvp_pci_set_master(BDF, false), 0);
	assert_int_equal(pread(fd, cfg + 4, 2, 4), 2);
	assert_int_equal(cfg_cmd(cfg), 0x02);
	close(fd);
}

/* ---- in-use detection ------------------------------------------------------ */

/* Controller nvme0 with namespace nvme0n1 (259:0) and partition p1 (259:1). */
static void fake_namespaces(void)
{
	fake_device(BDF, "nvme");
	mkdirs("/bus/pci/devices/%s/nvme/nvme0/nvme0n1/holders", BDF);
	put("259:0\n", "/bus/pci/devices/%s/nvme/nvme0/nvme0n1/dev", BDF);
	mkdirs("/bus/pci/devices/%s/nvme/nvme0/nvme0n1/nvme0n1p1/holders", BDF);
	put("259:1\n", "/bus/pci/devices/%s/nvme/nvme0/nvme0n1/nvme0n1p1/dev", BDF);
	/* Multipath path device: not a block device anyone mounts. */
	mkdirs("/bus/pci/devices/%s/nvme/nvme0/nvme0c0n1", BDF);
}

static void test_in_use_clean(void **state)
{
	(void)state;
	fake_namespaces();
	assert_int_equal(nvp_pci_check_not_in_use(BDF), 0);
	/* No nvme directory at all (device on no driver). */
	fake_device("0000:00:05.0", "");
	assert_int_equal(nvp_pci_check_not_in_use("0000:00:05.0"), 0);
}

static void test_in_use_mounted_partition(void **state)
{
	(void)state;
	fake_namespaces();
	put("22 1 0:21 / /proc rw - proc proc rw\n"
	    "40 1 259:1 / /data rw,relatime - ext4 /dev/nvme0n1p1 rw\n", "/mountinfo");
	assert_int_equal(nvp_pci_check_not_in_use(BDF), -EBUSY);
	assert_string_equal(nvp_last_error(),
			    "/dev/nvme0n1p1 is mounted on /data; unmount it first (umount /data)");
}

static void test_in_use_mounted_whole(void **state)
{
	(void)state;
	fake_namespaces();
	put("40 1 259:0 / /mnt/x rw - ext2 /dev/nvme0n1 rw\n", "/mountinfo");
	assert_int_equal(nvp_pci_check_not_in_use(BDF), -EBUSY);
	assert_non_null(strstr(nvp_last_error(), "/dev/nvme0n1 is mounted on /mnt/x"));
}

/* mountinfo escapes blanks in paths (\040); the message names the real path. */
static void test_in_use_mounted_path_with_space(void **state)
{
	(void)state;
	fake_namespaces();
	put("40 1 259:1 / /mnt/my\\040data\\011x rw - ext4 /dev/nvme0n1p1 rw\n", "/mountinfo");
	assert_int_equal(nvp_pci_check_not_in_use(BDF), -EBUSY);
	assert_string_equal(nvp_last_error(),
			    "/dev/nvme0n1p1 is mounted on /mnt/my data\tx; unmount it first "
			    "(umount '/mnt/my data\tx')");
}

static void test_in_use_swap(void **state)
{
	(void)state;
	fake_namespaces();
	/* a swap file on another disk, then our partition by name */
	put("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	    "/swapfile                               file\t\t1048572\t\t0\t\t-2\n",
	    "/swaps");
	assert_int_equal(nvp_pci_check_not_in_use(BDF), 0);
	put("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	    "/dev/nvme0n1p1                          partition\t1048572\t\t0\t\t-2\n",
	    "/swaps");
	assert_int_equal(nvp_pci_check_not_in_use(BDF), -EBUSY);
	assert_string_equal(nvp_last_error(),
			    "/dev/nvme0n1p1 is in use as swap; turn it off first (swapoff /dev/nvme0n1p1)");
}

static void test_in_use_holder(void **state)
{
	(void)state;
	fake_namespaces();
	mkdirs("/bus/pci/devices/%s/nvme/nvme0/nvme0n1/holders/dm-0", BDF);
	assert_int_equal(nvp_pci_check_not_in_use(BDF), -EBUSY);
	assert_non_null(strstr(nvp_last_error(), "/dev/nvme0n1 is held by /dev/dm-0"));
}

/* ---- driver binding with a fake kernel -------------------------------------- */

struct fake_kernel {
	pthread_t thread;
	volatile bool stop;
	volatile bool bind_refuses;	/* drivers_probe binds nothing */
	volatile int unbinds, probes;
};

/* What the kernel does when BDF is written to drivers/DRV/unbind. */
static void kernel_unbind(struct fake_kernel *k, const char *drv)
{
	char buf[64];

	get(buf, sizeof(buf), "/bus/pci/drivers/%s/unbind", drv);
	if (!buf[0])
		return;
	put("", "/bus/pci/drivers/%s/unbind", drv);
	if (!strncmp(buf, BDF, strlen(BDF))) {
		fake_set_driver(BDF, "");
		if (!strcmp(drv, "nvme")) {
			char p[1024];

			snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/nvme", root, BDF);
			rm_tree(p);
		}
		k->unbinds++;
	}
}

static void *kernel_thread(void *arg)
{
	struct fake_kernel *k = arg;
	static const char *const drivers[] = { "nvme", "vfio-pci", "uio_pci_generic" };
	char buf[64], ovr[64];

	while (!k->stop) {
		for (size_t i = 0; i < 3; i++)
			if (exists("/bus/pci/drivers/%s", drivers[i]))
				kernel_unbind(k, drivers[i]);
		get(buf, sizeof(buf), "/bus/pci/drivers_probe");
		if (buf[0]) {
			put("", "/bus/pci/drivers_probe");
			k->probes++;
			get(ovr, sizeof(ovr), "/bus/pci/devices/%s/driver_override", BDF);
			ovr[strcspn(ovr, "\n")] = '\0';
			if (k->bind_refuses) {
				/* nothing */
			} else if (ovr[0] && exists("/bus/pci/drivers/%s", ovr)) {
				fake_set_driver(BDF, ovr);
			} else if (!ovr[0]) {
				fake_set_driver(BDF, "nvme");
				mkdirs("/bus/pci/devices/%s/nvme/nvme0", BDF);
			}
		}
		usleep(1000);
	}
	return NULL;
}

static void kernel_start(struct fake_kernel *k)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(pthread_create(&k->thread, NULL, kernel_thread, k), 0);
}

static void kernel_stop(struct fake_kernel *k)
{
	k->stop = true;
	pthread_join(k->thread, NULL);
}

static void test_bind_release_nvme(void **state)
{
	struct nvp_pci_binding b;
	struct fake_kernel k;
	char drv[64], ovr[64];

	(void)state;
	fake_namespaces();
	fake_device("0000:00:09.9", "vfio-pci"); /* registers the driver */
	kernel_start(&k);
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci", "modprobe vfio-pci", &b), 0);
	assert_true(b.changed);
	assert_string_equal(b.orig_driver, "nvme");
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_equal(drv, "vfio-pci");
	get(ovr, sizeof(ovr), "/bus/pci/devices/%s/driver_override", BDF);
	assert_string_equal(ovr, "vfio-pci");
	assert_false(exists("/bus/pci/devices/%s/nvme", BDF));

	nvp_pci_release(&b, false, false);
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_equal(drv, "nvme");
	get(ovr, sizeof(ovr), "/bus/pci/devices/%s/driver_override", BDF);
	assert_string_equal(ovr, "\n");
	assert_true(exists("/bus/pci/devices/%s/nvme/nvme0", BDF));
	assert_int_equal(k.unbinds, 2);
	assert_int_equal(k.probes, 2);
	kernel_stop(&k);
}

static void test_bind_refuses_mounted(void **state)
{
	struct nvp_pci_binding b;
	char drv[64], ovr[64];

	(void)state;
	fake_namespaces();
	fake_device("0000:00:09.9", "vfio-pci");
	put("40 1 259:1 / /data rw - ext4 /dev/nvme0n1p1 rw\n", "/mountinfo");
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci", "modprobe vfio-pci", &b), -EBUSY);
	assert_non_null(strstr(nvp_last_error(), "/dev/nvme0n1p1 is mounted on /data; unmount it first"));
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_equal(drv, "nvme");
	get(ovr, sizeof(ovr), "/bus/pci/devices/%s/driver_override", BDF);
	assert_string_equal(ovr, "");
	get(ovr, sizeof(ovr), "/bus/pci/drivers/nvme/unbind");
	assert_string_equal(ovr, "");
}

static void test_bind_driver_not_loaded(void **state)
{
	struct nvp_pci_binding b;

	(void)state;
	fake_namespaces();
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci", "modprobe vfio-pci", &b), -ENOENT);
	assert_string_equal(nvp_last_error(), "vfio-pci is not loaded; run: modprobe vfio-pci");
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci",
				      "modprobe vfio enable_unsafe_noiommu_mode=1 && modprobe vfio-pci", &b),
			 -ENOENT);
	assert_non_null(strstr(nvp_last_error(), "enable_unsafe_noiommu_mode=1"));
}

static void test_bind_already_bound_is_kept(void **state)
{
	struct nvp_pci_binding b;
	char drv[64];

	(void)state;
	fake_device(BDF, "vfio-pci");
	/* Mounted checks do not apply: the kernel cannot be using it. */
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci", "modprobe vfio-pci", &b), 0);
	assert_false(b.changed);
	nvp_pci_release(&b, false, false);
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_equal(drv, "vfio-pci");
	get(drv, sizeof(drv), "/bus/pci/drivers/vfio-pci/unbind");
	assert_string_equal(drv, "");
}

static void test_bind_from_other_user_driver(void **state)
{
	struct nvp_pci_binding b;
	struct fake_kernel k;
	char drv[64];

	(void)state;
	fake_device(BDF, "uio_pci_generic");
	fake_device("0000:00:09.9", "vfio-pci");
	/* A stale mount entry must not matter: uio means the kernel let go. */
	put("40 1 259:1 / /data rw - ext4 /dev/nvme0n1p1 rw\n", "/mountinfo");
	kernel_start(&k);
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci", "modprobe vfio-pci", &b), 0);
	assert_true(b.changed);
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_equal(drv, "vfio-pci");
	kernel_stop(&k);
}

static void test_release_keep(void **state)
{
	struct nvp_pci_binding b;
	struct fake_kernel k;
	char drv[64];

	(void)state;
	fake_namespaces();
	fake_device("0000:00:09.9", "uio_pci_generic");
	kernel_start(&k);
	assert_int_equal(nvp_pci_bind(BDF, "uio_pci_generic", "modprobe uio_pci_generic", &b), 0);
	nvp_pci_release(&b, true, false);
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_equal(drv, "uio_pci_generic");
	kernel_stop(&k);
}

static void test_bind_timeout_rolls_back(void **state)
{
	struct nvp_pci_binding b;
	struct fake_kernel k;
	char drv[64], ovr[64];

	(void)state;
	fake_namespaces();
	fake_device("0000:00:09.9", "vfio-pci");
	nvp_pci_wait_ms = 200;
	kernel_start(&k);
	k.bind_refuses = true;
	assert_int_equal(nvp_pci_bind(BDF, "vfio-pci", "modprobe vfio-pci", &b), -ETIMEDOUT);
	assert_non_null(strstr(nvp_last_error(), "vfio-pci did not bind within 200 ms"));
	assert_false(b.changed);
	/* The override is cleared even though nobody took the device back. */
	get(ovr, sizeof(ovr), "/bus/pci/devices/%s/driver_override", BDF);
	assert_string_equal(ovr, "\n");
	k.bind_refuses = false;
	kernel_stop(&k);
	nvp_pci_current_driver(BDF, drv, sizeof(drv));
	assert_string_not_equal(drv, "vfio-pci");
}

static void test_release_gone_device(void **state)
{
	struct nvp_pci_binding b = { .bdf = "0000:00:0a.0", .orig_driver = "nvme",
				     .driver = "vfio-pci", .changed = true };

	(void)state;
	/* Not in sysfs at all: must return at once, without waiting. */
	nvp_pci_release(&b, false, true);
	assert_false(b.changed);
}

/* ---- namespace devices and IOMMU groups (nvpoll_sysfs) ---------------------------- */

static int count_ns(const char *name, const char *dir, void *arg)
{
	(void)dir;
	/* Never a partition or a per-path node. */
	assert_null(strchr(name + 5, 'p'));
	assert_null(strchr(name + 5, 'c'));
	(*(int *)arg)++;
	return 0;
}

static int stop_at_first(const char *name, const char *dir, void *arg)
{
	(void)name;
	(void)dir;
	(*(int *)arg)++;
	return 42;
}

static void test_namespaces(void **state)
{
	struct nvp_pci_ns_dev ns[4];
	int n = 0;

	(void)state;
	fake_namespaces();
	put("2048\n", "/bus/pci/devices/%s/nvme/nvme0/nvme0n1/size", BDF);
	mkdirs("/bus/pci/devices/%s/nvme/nvme0/nvme0n10", BDF);
	put("8\n", "/bus/pci/devices/%s/nvme/nvme0/nvme0n10/size", BDF);
	mkdirs("/bus/pci/devices/%s/nvme/nvme0/nvme0n2", BDF);

	/* One walk for the in-use check and the listing. */
	assert_int_equal(nvp_pci_for_each_ns(BDF, count_ns, &n), 0);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(nvp_pci_for_each_ns(BDF, stop_at_first, &n), 42);
	assert_int_equal(n, 1);

	/* Sorted as people count (n2 before n10). */
	assert_int_equal(nvp_pci_namespaces(BDF, ns, 4), 3);
	assert_string_equal(ns[0].name, "nvme0n1");
	assert_int_equal(ns[0].size_bytes, 2048 * 512);
	assert_string_equal(ns[1].name, "nvme0n2");
	assert_int_equal(ns[1].size_bytes, 0); /* no size attribute */
	assert_string_equal(ns[2].name, "nvme0n10");
	assert_int_equal(ns[2].size_bytes, 8 * 512);
	/* More than fit are still counted. */
	assert_int_equal(nvp_pci_namespaces(BDF, ns, 1), 3);

	/* Not on nvme: no namespaces, nothing in use. */
	fake_device("0000:00:05.0", "vfio-pci");
	assert_int_equal(nvp_pci_namespaces("0000:00:05.0", ns, 2), 0);
	assert_int_equal(nvp_pci_check_not_in_use("0000:00:05.0"), 0);
}

static void test_group_peers(void **state)
{
	struct nvp_pci_group_peer peers[4];

	(void)state;
	fake_device(BDF, "vfio-pci");
	fake_device("0000:00:04.3", "e1000e");
	fake_device("0000:00:04.1", "pcieport");
	fake_device("0000:00:04.2", "");
	mkdirs("/kernel/iommu_groups/5/devices/%s", BDF);
	mkdirs("/kernel/iommu_groups/5/devices/0000:00:04.3");
	mkdirs("/kernel/iommu_groups/5/devices/0000:00:04.1");
	mkdirs("/kernel/iommu_groups/5/devices/0000:00:04.2");
	assert_int_equal(nvp_pci_group_peers(6, BDF, peers, 2), -ENOENT);
	/* The asking function is left out; sorted by address. */
	assert_int_equal(nvp_pci_group_peers(5, BDF, peers, 4), 3);
	assert_string_equal(peers[0].bdf, "0000:00:04.1");
	assert_string_equal(peers[0].driver, "pcieport");
	assert_true(peers[0].ok);
	assert_string_equal(peers[1].bdf, "0000:00:04.2");
	assert_string_equal(peers[1].driver, "");
	assert_true(peers[1].ok);
	assert_string_equal(peers[2].bdf, "0000:00:04.3");
	assert_string_equal(peers[2].driver, "e1000e");
	assert_false(peers[2].ok);
	/* More than fit are still counted. */
	assert_int_equal(nvp_pci_group_peers(5, BDF, peers, 1), 3);
	assert_false(nvp_pci_driver_ok_in_group("e1000e"));
	assert_false(nvp_pci_driver_ok_in_group("nvme"));
	assert_true(nvp_pci_driver_ok_in_group("vfio-pci"));
	assert_true(nvp_pci_driver_ok_in_group("pci-stub"));
}

/* ---- the access-method table ---------------------------------------------------- */

static void test_access_methods(void **state)
{
	static const enum nvp_driver all[] = {
		NVP_DRIVER_AUTO, NVP_DRIVER_VFIO, NVP_DRIVER_VFIO_NOIOMMU, NVP_DRIVER_UIO,
		NVP_DRIVER_EMU,
	};
	const struct nvp_access_method *m;

	(void)state;
	/* One spelling each, and it round-trips through the name lookup. */
	assert_string_equal(nvp_driver_name(NVP_DRIVER_AUTO), "auto");
	assert_string_equal(nvp_driver_name(NVP_DRIVER_VFIO), "vfio");
	assert_string_equal(nvp_driver_name(NVP_DRIVER_VFIO_NOIOMMU), "noiommu");
	assert_string_equal(nvp_driver_name(NVP_DRIVER_UIO), "uio");
	assert_string_equal(nvp_driver_name(NVP_DRIVER_EMU), "emu");
	assert_string_equal(nvp_driver_name((enum nvp_driver)99), "unknown");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		m = nvp_access_method_by_name(nvp_driver_name(all[i]));
		assert_non_null(m);
		assert_int_equal(m->driver, all[i]);
		/* Methods that bind a kernel driver say how to load it. */
		assert_true(!m->kernel_driver == !m->load_hint);
	}
	assert_ptr_equal(nvp_access_method_by_name("NOIOMMU"),
			 nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU));
	assert_null(nvp_access_method_by_name("vfio-pci"));
	assert_null(nvp_access_method_by_name(NULL));
	assert_null(nvp_access_method((enum nvp_driver)99));

	/* Kernel drivers: vfio-pci is type1's (its hint needs no no-IOMMU mode). */
	m = nvp_access_method_by_kernel_driver("vfio-pci");
	assert_non_null(m);
	assert_int_equal(m->driver, NVP_DRIVER_VFIO);
	assert_string_equal(m->load_hint, "modprobe vfio-pci");
	assert_int_equal(nvp_access_method_by_kernel_driver("uio_pci_generic")->driver,
			 NVP_DRIVER_UIO);
	assert_string_equal(nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU)->kernel_driver, "vfio-pci");
	assert_non_null(strstr(nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU)->load_hint,
			       "enable_unsafe_noiommu_mode=1"));
	assert_true(nvp_is_user_kernel_driver("vfio-pci"));
	assert_true(nvp_is_user_kernel_driver("uio_pci_generic"));
	assert_false(nvp_is_user_kernel_driver("nvme"));
	assert_false(nvp_is_user_kernel_driver(""));

	/* The NVP_DRIVER message lists exactly the table's names. */
	setenv("NVP_DRIVER", "vfio-noiommu", 1);
	{
		enum nvp_driver d;

		assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), -EINVAL);
		assert_string_equal(nvp_last_error(),
				    "NVP_DRIVER='vfio-noiommu' is not one of vfio, noiommu, uio, emu, auto");
	}
	unsetenv("NVP_DRIVER");
}

static void test_host_facts(void **state)
{
	(void)state;
	assert_int_equal(nvp_host_iommu_units(), 0);
	assert_int_equal(nvp_host_noiommu_mode(), -ENOENT);
	assert_false(nvp_kernel_driver_loaded("vfio-pci"));
	assert_int_equal(nvp_access_detect(), NVP_DRIVER_AUTO);
	mkdirs("/bus/pci/drivers/vfio-pci");
	assert_true(nvp_kernel_driver_loaded("vfio-pci"));
	mkdirs("/module/vfio/parameters");
	put("N\n", "/module/vfio/parameters/enable_unsafe_noiommu_mode");
	assert_int_equal(nvp_host_noiommu_mode(), 0);
	assert_int_equal(nvp_access_detect(), NVP_DRIVER_AUTO);
	put("Y\n", "/module/vfio/parameters/enable_unsafe_noiommu_mode");
	assert_int_equal(nvp_host_noiommu_mode(), 1);
	assert_int_equal(nvp_access_detect(), NVP_DRIVER_VFIO_NOIOMMU);
	mkdirs("/class/iommu/dmar0");
	mkdirs("/class/iommu/dmar1");
	assert_int_equal(nvp_host_iommu_units(), 2);
	assert_int_equal(nvp_access_detect(), NVP_DRIVER_VFIO);
}

/* ---- nvp_check_address() ---------------------------------------------------------- */

static void test_check_address(void **state)
{
	(void)state;
	assert_int_equal(nvp_check_address("emu:ns=16M:512"), 0);
	assert_int_equal(nvp_check_address("emu:"), 0);
	assert_int_equal(nvp_check_address("emu:ns=16M:500"), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "valid options"));
	assert_int_equal(nvp_check_address("04.0"), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "'04.0' is not a PCI address"));
	assert_int_equal(nvp_check_address(""), -EINVAL);
	assert_int_equal(nvp_check_address(NULL), -EINVAL);
}

/* ---- access-method detection ---------------------------------------------------- */

static void test_pick_driver(void **state)
{
	enum nvp_driver d;

	(void)state;
	/* Explicit requests pass through. */
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_UIO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_UIO);
	/* Nothing available: one message with the three remedies. */
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), -ENODEV);
	assert_non_null(strstr(nvp_last_error(), "intel_iommu=on"));
	assert_non_null(strstr(nvp_last_error(), "enable_unsafe_noiommu_mode=1"));
	assert_non_null(strstr(nvp_last_error(), "modprobe uio_pci_generic"));
	/* emu: addresses need nothing from the kernel. */
	assert_int_equal(nvp_access_pick("emu:ns=1", NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_EMU);

	mkdirs("/bus/pci/drivers/uio_pci_generic");
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_UIO);
	mkdirs("/module/vfio/parameters");
	put("N\n", "/module/vfio/parameters/enable_unsafe_noiommu_mode");
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_UIO);
	put("Y\n", "/module/vfio/parameters/enable_unsafe_noiommu_mode");
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_VFIO_NOIOMMU);
	mkdirs("/kernel/iommu_groups"); /* empty: no IOMMU */
	mkdirs("/class/iommu");
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_VFIO_NOIOMMU);
	/* A no-IOMMU group (from a device already on vfio-pci) is no IOMMU. */
	mkdirs("/kernel/iommu_groups/0");
	put("vfio-noiommu\n", "/kernel/iommu_groups/0/name");
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_VFIO_NOIOMMU);
	mkdirs("/class/iommu/dmar0");
	mkdirs("/kernel/iommu_groups/3");
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_VFIO);

	/* The environment overrides detection. */
	setenv("NVP_DRIVER", "uio", 1);
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_UIO);
	setenv("NVP_DRIVER", "NoIOMMU", 1);
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), 0);
	assert_int_equal(d, NVP_DRIVER_VFIO_NOIOMMU);
	setenv("NVP_DRIVER", "dpdk", 1);
	assert_int_equal(nvp_access_pick(BDF, NVP_DRIVER_AUTO, &d), -EINVAL);
	assert_non_null(strstr(nvp_last_error(), "NVP_DRIVER='dpdk'"));
	unsetenv("NVP_DRIVER");
}

static void test_open_rejects_bad_address(void **state)
{
	struct nvp_device *dev = (void *)1;

	(void)state;
	mkdirs("/bus/pci/drivers/uio_pci_generic");
	assert_int_equal(nvp_device_open("04.0", NVP_DRIVER_AUTO, false, &dev), -EINVAL);
	assert_null(dev);
	assert_int_equal(nvp_device_open("", NVP_DRIVER_AUTO, false, &dev), -EINVAL);
}

/* ---- VFIO messages ---------------------------------------------------------------- */

static void test_group_of(void **state)
{
	char link[1024];
	int g = -1;

	(void)state;
	fake_device(BDF, "nvme");
	assert_int_equal(nvp_pci_iommu_group(BDF, &g), -ENOENT);
	mkdirs("/kernel/iommu_groups/12/devices");
	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/iommu_group", root, BDF);
	assert_int_equal(symlink("../../../kernel/iommu_groups/12", link), 0);
	assert_int_equal(nvp_pci_iommu_group(BDF, &g), 0);
	assert_int_equal(g, 12);
}

static void test_group_not_viable(void **state)
{
	const char *msg;

	(void)state;
	fake_device(BDF, "vfio-pci");
	fake_device("0000:00:04.1", "nvme");
	fake_device("0000:00:04.2", "");
	fake_device("0000:00:1c.0", "pcieport");
	fake_device("0000:00:04.3", "e1000e");
	mkdirs("/kernel/iommu_groups/7/devices");
	mkdirs("/kernel/iommu_groups/7/devices/%s", BDF);
	mkdirs("/kernel/iommu_groups/7/devices/0000:00:04.1");
	mkdirs("/kernel/iommu_groups/7/devices/0000:00:04.2");
	mkdirs("/kernel/iommu_groups/7/devices/0000:00:1c.0");
	mkdirs("/kernel/iommu_groups/7/devices/0000:00:04.3");
	assert_int_equal(nvp_vfio_group_not_viable(7, BDF), -EPERM);
	msg = nvp_last_error();
	assert_non_null(strstr(msg, "IOMMU group 7 of 0000:00:04.0 is not viable"));
	assert_non_null(strstr(msg, "0000:00:04.1 (driver nvme)"));
	assert_non_null(strstr(msg, "0000:00:04.3 (driver e1000e)"));
	assert_null(strstr(msg, "0000:00:04.2"));
	assert_null(strstr(msg, "0000:00:1c.0"));
	assert_null(strstr(msg, "0000:00:04.0 ("));
	assert_non_null(strstr(msg, "bind them all to vfio-pci or unbind them"));
}

static void test_map_error_messages(void **state)
{
	struct rlimit old, low = { .rlim_cur = 64 * 1024 };

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	low.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &low), 0);
	assert_int_equal(nvp_vfio_map_error(ENOMEM, 8u << 20), -ENOMEM);
	assert_string_equal(nvp_last_error(),
			    "the memlock limit (ulimit -l = 64 KiB) is too low to pin 8 MiB of DMA memory; raise it in /etc/security/limits.conf or run as root");
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	assert_int_equal(nvp_vfio_map_error(ENOSPC, 4096), -ENOSPC);
	assert_non_null(strstr(nvp_last_error(), "dma_entry_limit"));
	assert_int_equal(nvp_vfio_map_error(EFAULT, 4096), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test_setup_teardown(test_class_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numa_and_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_mounted_partition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_mounted_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_mounted_path_with_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_release_nvme, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refuses_mounted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_driver_not_loaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_already_bound_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_from_other_user_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_timeout_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_gone_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_facts, setup, teardown),
		cmocka_unit_test(test_check_address),
		cmocka_unit_test_setup_teardown(test_pick_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_rejects_bad_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_of, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_not_viable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_error_messages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
