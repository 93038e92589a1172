/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci/pci.h - PCI functions as the driver meets them: found and
 * checked with libpciaccess, bus mastering through sysfs config space.
 * Everything that only reads or moves things in sysfs (addresses, bound
 * drivers, binding, namespaces, IOMMU groups) is in nvpoll_sysfs, shared
 * with the tools; this header brings it in.
 */
#ifndef NVP_LIB_PCI_H
#define NVP_LIB_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll_sysfs/pci.h>
#include <nvpoll_sysfs/sysfs.h>

/* PCI config space command register and its bits. */
#define NVP_PCI_COMMAND 0x04
#define NVP_PCI_COMMAND_MEMORY 0x0002u
#define NVP_PCI_COMMAND_MASTER 0x0004u

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
 * nvp_pci_set_master() - set or clear bus mastering through sysfs config.
 * @bdf: canonical address.
 * @on: set (true) or clear.
 *
 * Return: 0 or a negative errno with a message.
 */
int nvp_pci_set_master(const char *bdf, bool on);

#endif /* NVP_LIB_PCI_H */
