/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci/pci.h - PCI discovery and kernel-driver binding through sysfs.
 *
 * Everything here reads and writes files below a configurable root so the
 * unit tests can run the real logic against a fake tree in a temp dir.
 */
#ifndef NVP_LIB_PCI_H
#define NVP_LIB_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NVMe: mass storage (0x01), non-volatile memory (0x08), NVMe I/O (0x02). */
#define NVP_PCI_CLASS_NVME 0x010802u

/* PCI config space command register and its bits. */
#define NVP_PCI_COMMAND 0x04
#define NVP_PCI_COMMAND_MEMORY 0x0002u
#define NVP_PCI_COMMAND_MASTER 0x0004u

/*
 * Roots of the trees the device layer inspects. Defaults: "/sys", "/dev",
 * "/proc/self/mountinfo", "/proc/swaps". Tests point them at a fake tree;
 * not thread-safe to change while a device is being opened.
 */
extern const char *nvp_sysfs_root;
extern const char *nvp_devfs_root;
extern const char *nvp_mountinfo_path;
extern const char *nvp_swaps_path;
/* Upper bound for each wait on the kernel (driver bind, device node). */
extern unsigned int nvp_pci_wait_ms;

/**
 * struct nvp_pci_addr - a PCI function address.
 * @domain: PCI segment.
 * @bus: bus number.
 * @dev: device number (0..31).
 * @func: function number (0..7).
 */
struct nvp_pci_addr {
	uint32_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t func;
};

/* "DDDD:BB:DD.F" plus NUL. */
#define NVP_PCI_ADDR_STRLEN 13

/**
 * nvp_pci_parse_addr() - parse "DDDD:BB:DD.F" or "BB:DD.F" (hex, domain 0).
 * @str: the text.
 * @addr: out: the parsed address.
 * @canon: out, optional: canonical text, NVP_PCI_ADDR_STRLEN bytes.
 *
 * Return: 0, or -EINVAL with a message naming the accepted forms.
 */
int nvp_pci_parse_addr(const char *str, struct nvp_pci_addr *addr, char *canon);

/**
 * struct nvp_pci_info - facts about a PCI function.
 * @bdf: canonical address.
 * @vendor_id: vendor ID.
 * @device_id: device ID.
 * @class_code: 24-bit class code.
 * @numa_node: NUMA node from sysfs, or -1 if unknown.
 * @bar0_size: size of BAR0 in bytes (0 if not reported).
 */
struct nvp_pci_info {
	char bdf[NVP_PCI_ADDR_STRLEN];
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code;
	int numa_node;
	uint64_t bar0_size;
};

/**
 * nvp_pci_probe() - find a function with libpciaccess and check it is NVMe.
 * @addr: a PCI address in either accepted form.
 * @info: out: what was found.
 *
 * Return: 0; -EINVAL (bad address); -ENODEV (no such function, or not an
 * NVMe controller: the message gives its class and driver).
 */
int nvp_pci_probe(const char *addr, struct nvp_pci_info *info);

/**
 * nvp_pci_check_nvme() - refuse a function whose class is not NVMe.
 * @bdf: canonical address (used for the message and its driver).
 * @class_code: its 24-bit class code.
 *
 * Return: 0, or -ENODEV with a message naming the class and bound driver.
 */
int nvp_pci_check_nvme(const char *bdf, uint32_t class_code);

/**
 * nvp_pci_numa_node() - the function's NUMA node from sysfs.
 * @bdf: canonical address.
 *
 * Return: the node, or -1 if sysfs does not say (single-node machines).
 */
int nvp_pci_numa_node(const char *bdf);

/**
 * nvp_pci_current_driver() - name of the driver bound to @bdf.
 * @bdf: canonical address.
 * @buf: out: the driver name, or "" if none.
 * @len: size of @buf.
 *
 * Return: 0, or -ENODEV if the function does not exist in sysfs.
 */
int nvp_pci_current_driver(const char *bdf, char *buf, size_t len);

/**
 * nvp_pci_check_not_in_use() - refuse to take a controller the system uses.
 * @bdf: canonical address.
 *
 * Looks at every namespace block device of the controller (and their
 * partitions): mounted (mountinfo, by major:minor), an active swap area
 * (/proc/swaps, by name or major:minor) or held by another block device
 * (holders/, e.g. device-mapper, md) means the kernel is using it.
 *
 * Return: 0, or -EBUSY with a message naming the device and what to do.
 */
int nvp_pci_check_not_in_use(const char *bdf);

/**
 * struct nvp_pci_binding - how a function was taken from its kernel driver.
 * @bdf: canonical address.
 * @orig_driver: the driver bound before ("" if none).
 * @driver: the userspace driver now bound ("vfio-pci", "uio_pci_generic").
 * @changed: the binding was changed (so close must give it back).
 */
struct nvp_pci_binding {
	char bdf[NVP_PCI_ADDR_STRLEN];
	char orig_driver[64];
	char driver[32];
	bool changed;
};

/**
 * nvp_pci_bind() - move @bdf to @driver through driver_override.
 * @bdf: canonical address.
 * @driver: "vfio-pci" or "uio_pci_generic".
 * @load_hint: shell command that loads @driver, for the message when it
 *             is not loaded.
 * @b: out: what to undo on release.
 *
 * Does nothing if @driver is already bound. Otherwise refuses a controller
 * the system is using (unless it sits on the other userspace driver),
 * unbinds it, sets driver_override, asks the kernel to probe and waits
 * (bounded) for @driver to bind.
 *
 * Return: 0; -ENOENT (@driver not loaded); -EBUSY (in use); -EACCES (no
 * permission on sysfs: not root); -ETIMEDOUT (driver did not bind).
 */
int nvp_pci_bind(const char *bdf, const char *driver, const char *load_hint,
		 struct nvp_pci_binding *b);

/**
 * nvp_pci_release() - give a function back to the driver it had.
 * @b: from nvp_pci_bind().
 * @keep: leave it on the userspace driver (clearing nothing).
 * @gone: the device has vanished (registers read all-ones): do not wait
 *        for the original driver to come back.
 *
 * Unbinds, clears driver_override, re-probes and, if the original driver
 * was nvme, waits (bounded) for its controller to reappear. Failures are
 * logged as warnings; a release cannot fail.
 */
void nvp_pci_release(struct nvp_pci_binding *b, bool keep, bool gone);

/**
 * nvp_pci_path() - format a path below nvp_sysfs_root.
 * @buf: out.
 * @len: size of @buf.
 * @fmt: printf format of the part after the root (starting with '/').
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int nvp_pci_path(char *buf, size_t len, const char *fmt, ...)
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
 * nvp_pci_set_master() - set or clear bus mastering through sysfs config.
 * @bdf: canonical address.
 * @on: set (true) or clear.
 *
 * Return: 0 or a negative errno with a message.
 */
int nvp_pci_set_master(const char *bdf, bool on);

#endif /* NVP_LIB_PCI_H */
