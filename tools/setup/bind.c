/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/setup/bind.c - nvpoll-setup bind / unbind: hand controllers to a
 * userspace driver and back to nvme with nvpoll_sysfs, the code
 * nvp_ctrl_attach() uses (the same in-use checks and bounded waits).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/pci.h>
#include <nvpoll_sysfs/sysfs.h>

#include "addr.h"
#include "setup.h"

static void emit_result(struct emit *e, const char *bdf, const char *from, const char *to,
			const char *node, const char *error)
{
	emit_row_begin(e, NULL, bdf);
	emit_str(e, "address", NULL, bdf);
	emit_str(e, "from", "from", from[0] ? from : "none");
	emit_str(e, "to", "->", to);
	if (node && node[0])
		emit_str(e, "device_node", "node", node);
	emit_bool(e, "ok", NULL, !error);
	if (error)
		emit_str(e, "error", "FAILED:", error);
	else
		emit_null(e, "error", NULL, "");
	emit_row_end(e);
}

/* Canonical address of an NVMe function, or -1 after printing why not. */
static int check_nvme(const char *addr, char *bdf)
{
	struct nvp_pci_addr a;

	if (nvp_check_address(addr)) {
		fprintf(stderr, PROG ": %s\n", nvp_last_error());
		return -1;
	}
	return nvp_pci_parse_addr(addr, &a, bdf);	/* it parsed above */
}

static int ensure_loaded(const struct setup_opts *o, const char *driver, const char *module)
{
	if (nvp_kernel_driver_loaded(driver))
		return 0;
	if (o->no_modprobe) {
		fprintf(stderr, PROG ": %s is not loaded: run %s\n", driver, load_hint(driver));
		return -1;
	}
	if (run_modprobe(module))
		return -1;
	if (!nvp_kernel_driver_loaded(driver)) {
		fprintf(stderr, PROG ": modprobe %s succeeded but %s did not register; see dmesg\n",
			module, driver);
		return -1;
	}
	return 0;
}

/* The device node of a freshly bound function (for the report). */
static void user_node(const char *bdf, const char *driver, char *node, size_t len)
{
	char path[512];
	int group;

	node[0] = '\0';
	if (kernel_driver_method(driver) == NVP_DRIVER_VFIO && nvp_pci_iommu_group(bdf, &group) == 0) {
		snprintf(path, sizeof(path), "%s/vfio/%d", nvp_devfs_root, group);
		if (access(path, F_OK))
			snprintf(path, sizeof(path), "%s/vfio/noiommu-%d", nvp_devfs_root, group);
		if (snprintf(node, len, "%s", path) >= (int)len)
			node[0] = '\0'; /* too long to show: leave it out of the report */
	} else if (kernel_driver_method(driver) == NVP_DRIVER_UIO) {
		for (int i = 0; i < 64; i++) {
			nvp_sysfs_path(path, sizeof(path), "/bus/pci/devices/%s/uio/uio%d", bdf, i);
			if (access(path, F_OK) == 0) {
				snprintf(node, len, "%s/uio%d", nvp_devfs_root, i);
				return;
			}
		}
	}
}

/* After a vfio-pci bind: VFIO hands out whole groups, so say what else is in it. */
static void warn_group(const char *bdf)
{
	struct nvp_pci_group_peer peers[32];
	int group, n;

	if (nvp_pci_iommu_group(bdf, &group))
		return;
	n = nvp_pci_group_peers(group, bdf, peers, ARRAY_SIZE(peers));
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(peers); i++)
		if (!peers[i].ok)
			fprintf(stderr, PROG ": warning: IOMMU group %d of %s also holds %s (driver %s), so the group is not viable and attach will fail; run: " PROG " bind %s, or unbind it: echo %s > /sys/bus/pci/devices/%s/driver/unbind\n",
				group, bdf, peers[i].bdf, peers[i].driver, peers[i].bdf,
				peers[i].bdf, peers[i].bdf);
}

static int bind_one(const struct setup_opts *o, struct emit *e, const char *addr,
		    const char *driver)
{
	struct nvp_pci_binding b;
	char bdf[NVP_PCI_ADDR_STRLEN], from[64], node[128];
	int rc;

	if (check_nvme(addr, bdf)) {
		emit_result(e, addr, "", driver, NULL, nvp_last_error());
		return -1;
	}
	nvp_pci_current_driver(bdf, from, sizeof(from));
	if (!strcmp(from, driver)) {
		user_node(bdf, driver, node, sizeof(node));
		emit_result(e, bdf, from, driver, node, NULL);
		return 0;
	}
	/*
	 * --force: drop nvme first. With no namespaces left the in-use check
	 * in nvp_pci_bind() has nothing to refuse; the kernel tears the block
	 * devices down and whoever used them gets I/O errors.
	 */
	if (o->force && !strcmp(from, "nvme")) {
		if (nvp_pci_check_not_in_use(bdf))
			fprintf(stderr, PROG ": --force: taking %s anyway: %s\n", bdf,
				sysfs_last_error());
		rc = nvp_pci_unbind(bdf);
		if (rc) {
			fprintf(stderr, PROG ": cannot unbind %s from nvme (%s)%s\n", bdf,
				strerror(-rc), rc == -EACCES ? "; run as root" : "");
			emit_result(e, bdf, from, driver, NULL, strerror(-rc));
			return -1;
		}
	}
	rc = nvp_pci_bind(bdf, driver, load_hint(driver), &b);
	if (rc) {
		const char *why = sysfs_last_error();

		if (rc == -EBUSY)
			fprintf(stderr, PROG ": %s (or take it anyway: " PROG " bind --force %s)\n",
				why, bdf);
		else
			fprintf(stderr, PROG ": %s\n", why);
		emit_result(e, bdf, from, driver, NULL, why);
		return -1;
	}
	/* Not released: the binding is the point. driver_override keeps it on a rescan. */
	user_node(bdf, driver, node, sizeof(node));
	emit_result(e, bdf, from, driver, node, NULL);
	if (kernel_driver_method(driver) == NVP_DRIVER_VFIO)
		warn_group(bdf);
	return 0;
}

/*
 * Every address must name an NVMe controller before any module is loaded
 * or driver touched: a typo, an absent function or another device is a
 * usage error (exit 2), said as such.
 */
static int check_addresses(const char *cmd, int argc, char **argv)
{
	struct nvp_pci_addr a;

	for (int i = 0; i < argc; i++) {
		if (tool_addr_is_emu(argv[i]) || !strcmp(argv[i], "emu")) {
			fprintf(stderr, PROG ": %s: '%s' is an emulated controller; it lives inside "
				"the program that attaches it and needs no %s: pass it to that "
				"program directly\n", cmd, argv[i], cmd);
			return TOOL_EXIT_USAGE;
		}
		/* The library's own message suggests emu:, which bind has no use for. */
		if (nvp_pci_parse_addr(argv[i], &a, NULL)) {
			fprintf(stderr, PROG ": '%s' is not a PCI address; use DDDD:BB:DD.F or "
				"BB:DD.F in hex (e.g. 0000:00:04.0; " PROG " status lists the NVMe "
				"controllers)\n", argv[i]);
			return TOOL_EXIT_USAGE;
		}
		/* "no PCI function X" or "X is not an NVMe controller (...)". */
		if (tool_check_address(argv[i])) {
			fprintf(stderr, PROG ": %s\n", nvp_last_error());
			return TOOL_EXIT_USAGE;
		}
	}
	return 0;
}

int cmd_bind(const struct setup_opts *o, int argc, char **argv)
{
	struct sys_facts sys;
	const char *driver;
	struct emit e;
	int failed = 0;

	if (argc == 0) {
		fprintf(stderr, PROG ": bind needs at least one PCI address (see " PROG " status)\n");
		return 2;
	}
	if (check_addresses("bind", argc, argv))
		return TOOL_EXIT_USAGE;
	sys_facts_read(&sys);
	driver = o->driver ? o->driver : pick_user_driver();
	if (kernel_driver_method(driver) == NVP_DRIVER_VFIO && !sys.iommu_on &&
	    sys.noiommu != NOIOMMU_ENABLED) {
		fprintf(stderr, PROG ": %s needs an IOMMU (boot with intel_iommu=on or amd_iommu=on) or no-IOMMU mode (%s); without either, use --driver %s\n",
			driver, nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU)->load_hint,
			nvp_access_method(NVP_DRIVER_UIO)->kernel_driver);
		return 1;
	}
	if (ensure_loaded(o, driver, driver))
		return 1;
	emit_init(&e, stdout, o->json);
	emit_arr_begin(&e, "bind", NULL);
	for (int i = 0; i < argc; i++)
		failed |= bind_one(o, &e, argv[i], driver) != 0;
	emit_arr_end(&e);
	emit_finish(&e);
	return failed ? 1 : 0;
}

static int unbind_one(struct emit *e, const char *addr)
{
	struct nvp_pci_binding b = { .changed = true };
	char bdf[NVP_PCI_ADDR_STRLEN], from[32], now[64], err[256];

	if (check_nvme(addr, bdf)) {
		emit_result(e, addr, "", "nvme", NULL, nvp_last_error());
		return -1;
	}
	nvp_pci_current_driver(bdf, from, sizeof(from));
	if (strcmp(from, "nvme")) {
		/*
		 * nvp_pci_release() does exactly this hand-back (unbind, clear
		 * driver_override, re-probe, wait for nvme and its controller).
		 */
		snprintf(b.bdf, sizeof(b.bdf), "%s", bdf);
		snprintf(b.orig_driver, sizeof(b.orig_driver), "nvme");
		snprintf(b.driver, sizeof(b.driver), "%.31s", from);
		nvp_pci_release(&b, false, false);
	}
	nvp_pci_current_driver(bdf, now, sizeof(now));
	if (strcmp(now, "nvme")) {
		snprintf(err, sizeof(err), "%s is on %s, not nvme, after the hand-back; is it in use (fuser -v /dev/vfio/*)? see dmesg",
			 bdf, now[0] ? now : "no driver");
		fprintf(stderr, PROG ": %s\n", err);
		emit_result(e, bdf, from, "nvme", NULL, err);
		return -1;
	}
	emit_result(e, bdf, from, "nvme", NULL, NULL);
	return 0;
}

int cmd_unbind(const struct setup_opts *o, int argc, char **argv)
{
	struct emit e;
	int failed = 0;

	if (argc == 0) {
		fprintf(stderr, PROG ": unbind needs at least one PCI address (see " PROG " status)\n");
		return 2;
	}
	if (check_addresses("unbind", argc, argv))
		return TOOL_EXIT_USAGE;
	if (ensure_loaded(o, "nvme", "nvme"))
		return 1;
	emit_init(&e, stdout, o->json);
	emit_arr_begin(&e, "unbind", NULL);
	for (int i = 0; i < argc; i++)
		failed |= unbind_one(&e, argv[i]) != 0;
	emit_arr_end(&e);
	emit_finish(&e);
	return failed ? 1 : 0;
}
