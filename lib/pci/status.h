/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci/status.h - read-only facts about a PCI function for operator
 * tools (nvpoll-setup): its IOMMU group peers and its namespace block
 * devices, plus a plain unbind. Uses the same roots as pci.h, so tests can
 * point them at a fake tree.
 */
#ifndef NVP_LIB_PCI_STATUS_H
#define NVP_LIB_PCI_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct nvp_pci_group_peer - another function in the same IOMMU group.
 * @bdf: its address (any PCI function, not only NVMe).
 * @driver: its driver, "" if none.
 * @ok: VFIO accepts it next to vfio-pci (no driver, vfio-pci, pci-stub,
 *      pcieport); a group with a peer that is not ok is not viable.
 */
struct nvp_pci_group_peer {
	char bdf[32];
	char driver[64];
	bool ok;
};

/**
 * nvp_pci_driver_ok_in_group() - whether VFIO accepts @drv in a viable group.
 * @drv: driver name, "" for none.
 */
bool nvp_pci_driver_ok_in_group(const char *drv);

/**
 * nvp_pci_group_peers() - the other functions in IOMMU group @group.
 * @group: group number (see nvp_vfio_group_of()).
 * @bdf: the function asking (left out of the list).
 * @peers: out: up to @max entries, sorted by address.
 * @max: capacity of @peers.
 *
 * Return: the number of peers (may exceed @max; only @max are filled), or
 * -ENOENT if the group does not exist.
 */
int nvp_pci_group_peers(int group, const char *bdf, struct nvp_pci_group_peer *peers,
			size_t max);

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
 * nvp_pci_namespaces() - the namespace block devices the nvme driver made.
 * @bdf: canonical address.
 * @out: out: up to @max entries, sorted by name.
 * @max: capacity of @out.
 *
 * Return: the number found (0 when the function is not on nvme).
 */
int nvp_pci_namespaces(const char *bdf, struct nvp_pci_ns_dev *out, size_t max);

/**
 * nvp_pci_unbind() - detach @bdf from whatever driver it has, no questions
 * asked (the caller has decided; nvp_pci_bind() does the careful version).
 * @bdf: canonical address.
 *
 * Return: 0 (also when nothing was bound) or a negative errno, no message.
 */
int nvp_pci_unbind(const char *bdf);

#endif /* NVP_LIB_PCI_STATUS_H */
