/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll_sysfs/pci.h - PCI functions as sysfs shows them: addresses, the
 * bound driver, NUMA node, namespace block devices and whether the system
 * uses them, IOMMU groups; and moving a function between kernel drivers
 * (driver_override, drivers_probe, bounded waits). Part of nvpoll_sysfs
 * (see sysfs.h); messages go to nvp_sysfs_report().
 */
#ifndef NVPOLL_SYSFS_PCI_H
#define NVPOLL_SYSFS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NVMe: mass storage (0x01), non-volatile memory (0x08), NVMe I/O (0x02). */
#define NVP_PCI_CLASS_NVME 0x010802u

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
 * nvp_pci_current_driver() - name of the driver bound to @bdf.
 * @bdf: canonical address.
 * @buf: out: the driver name, or "" if none.
 * @len: size of @buf.
 *
 * Return: 0, or -ENODEV if the function does not exist in sysfs.
 */
int nvp_pci_current_driver(const char *bdf, char *buf, size_t len);

/**
 * nvp_pci_numa_node() - the function's NUMA node from sysfs.
 * @bdf: canonical address.
 *
 * Return: the node, or -1 if sysfs does not say (single-node machines).
 */
int nvp_pci_numa_node(const char *bdf);

/**
 * nvp_pci_for_each_ns() - walk the namespace block devices the kernel's
 * nvme driver made for @bdf: <bdf>/nvme/nvme<c>/nvme<c>n<n> (not
 * partitions, not the per-path nvme<c>c<p>n<n> nodes), in directory order.
 * @bdf: canonical address.
 * @fn: called with the device's name ("nvme0n1") and its sysfs directory;
 *      a nonzero return stops the walk.
 * @arg: passed to @fn.
 *
 * Return: 0 (also when the function is not on nvme), what @fn returned, or
 * -ENAMETOOLONG.
 */
int nvp_pci_for_each_ns(const char *bdf, int (*fn)(const char *name, const char *dir, void *arg),
			void *arg);

/**
 * struct nvp_pci_ns_dev - a namespace block device of a controller.
 * @name: "nvme0n1".
 * @size_bytes: from sysfs size (512-byte sectors), 0 if unknown.
 */
struct nvp_pci_ns_dev {
	char name[32];
	uint64_t size_bytes;
};

/**
 * nvp_pci_namespaces() - the namespace block devices the nvme driver made
 * (nvp_pci_for_each_ns()), with their sizes.
 * @bdf: canonical address.
 * @out: out: up to @max entries, sorted by name (nvme0n2 before nvme0n10).
 * @max: capacity of @out.
 *
 * Return: the number found (may exceed @max; 0 when the function is not
 * on nvme), or -ENAMETOOLONG.
 */
int nvp_pci_namespaces(const char *bdf, struct nvp_pci_ns_dev *out, size_t max);

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
 * @driver: a userspace driver's kernel name (drivers.h: "vfio-pci" or
 *          "uio_pci_generic").
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
 * reported as warnings; a release cannot fail.
 */
void nvp_pci_release(struct nvp_pci_binding *b, bool keep, bool gone);

/**
 * nvp_pci_unbind() - detach @bdf from whatever driver it has, no questions
 * asked (the caller has decided; nvp_pci_bind() does the careful version).
 * @bdf: canonical address.
 *
 * Return: 0 (also when nothing was bound) or a negative errno, no message.
 */
int nvp_pci_unbind(const char *bdf);

/**
 * nvp_pci_iommu_group() - the IOMMU group number of a function.
 * @bdf: canonical address.
 * @group: out: the number from the iommu_group symlink.
 *
 * Return: 0, or -ENOENT if the function has no IOMMU group (no IOMMU, and
 * for no-IOMMU mode not yet bound to vfio-pci). No message.
 */
int nvp_pci_iommu_group(const char *bdf, int *group);

/**
 * struct nvp_pci_group_peer - another function in the same IOMMU group.
 * @bdf: its address (any PCI function, not only NVMe).
 * @driver: its driver, "" if none.
 * @ok: VFIO accepts it next to vfio-pci (nvp_pci_driver_ok_in_group()); a
 *      group with a peer that is not ok is not viable.
 */
struct nvp_pci_group_peer {
	char bdf[32];
	char driver[64];
	bool ok;
};

/**
 * nvp_pci_driver_ok_in_group() - whether VFIO accepts @drv in a viable
 * group: no driver, vfio-pci, pci-stub or pcieport (the kernel's
 * vfio_dev_driver_allowed()).
 * @drv: driver name, "" for none.
 */
bool nvp_pci_driver_ok_in_group(const char *drv);

/**
 * nvp_pci_group_peers() - the other functions in IOMMU group @group.
 * @group: group number (see nvp_pci_iommu_group()).
 * @bdf: the function asking (left out of the list).
 * @peers: out: up to @max entries, sorted by address.
 * @max: capacity of @peers.
 *
 * Return: the number of peers (may exceed @max; only @max are filled), or
 * -ENOENT if the group does not exist.
 */
int nvp_pci_group_peers(int group, const char *bdf, struct nvp_pci_group_peer *peers,
			size_t max);

#endif /* NVPOLL_SYSFS_PCI_H */
