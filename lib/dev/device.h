/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dev/device.h - device access: one small interface over the ways a
 * controller's registers and DMA are reached.
 *
 *   vfio (type1)   lib/vfio/   BAR0 through the VFIO device fd, IOVAs mapped
 *                              into the process's VFIO container (IOMMU).
 *   vfio no-IOMMU  lib/vfio/   BAR0 through VFIO, physical addresses.
 *   uio            lib/uio/    BAR0 through sysfs resource0, physical addresses.
 *   emu            lib/emu/    BAR0 is ordinary memory watched by a device
 *                              thread; IOVAs translated by the emulator.
 *
 * Opening a device gives BAR0 and makes every DMA region reachable (it
 * attaches the right nvp_dma_domain to the memory layer). The NVMe layer
 * above uses nothing else, so the same init and queue code drives all four.
 */
#ifndef NVP_LIB_DEV_DEVICE_H
#define NVP_LIB_DEV_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll/nvpoll.h>

struct nvp_device;

/**
 * struct nvp_device_ops - what differs between access methods.
 * @close: shut off DMA, unmap BAR0, detach the DMA domain, give the device
 *         back to its original kernel driver (unless asked to keep it) and
 *         free @dev. Must cope with a device that has gone away.
 * @removal_requested: optional; whether the kernel asked for the device
 *         back (VFIO's device request interrupt). Cheap, non-blocking; not
 *         for the I/O path.
 * @map_bar: optional; map BAR @bar whole (struct nvp_bar_map). Return 0 or
 *         a negative errno with a message.
 * @unmap_bar: undo @map_bar (before @close).
 */
struct nvp_bar_map;

struct nvp_device_ops {
	void (*close)(struct nvp_device *dev);
	bool (*removal_requested)(struct nvp_device *dev);
	int (*map_bar)(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map);
	void (*unmap_bar)(struct nvp_device *dev, struct nvp_bar_map *map);
};

/**
 * struct nvp_bar_map - a BAR other than BAR0 mapped into the process (the
 * Controller Memory Buffer's).
 * @va: the mapping of the whole BAR.
 * @len: its length in bytes.
 * @bus_addr: the BAR's address on the PCI bus (sysfs "resource"), which the
 *            controller is told as CMBMSC.CBA; for emu, the emulator's.
 * @wc: @va is write-combined (uio resourceN_wc); else uncached (vfio-pci
 *      mmaps every BAR uncached) or, for emu, ordinary memory.
 * @prefetchable: the BAR is prefetchable (sysfs resource flags).
 */
struct nvp_bar_map {
	volatile void *va;
	size_t len;
	uint64_t bus_addr;
	bool wc;
	bool prefetchable;
};

/**
 * struct nvp_device - an opened controller function.
 * @ops: access-method operations.
 * @driver: the access method in use.
 * @addr: canonical address ("0000:00:04.0" or "emu:...").
 * @numa_node: device NUMA node or NVP_NUMA_ANY.
 * @vendor_id: PCI vendor ID.
 * @device_id: PCI device ID.
 * @bar0: mapped BAR0 (registers and doorbells).
 * @bar0_size: its length in bytes.
 * @emu: the emulated controller, for the fault-injection API (emu only).
 */
struct nvp_device {
	const struct nvp_device_ops *ops;
	enum nvp_driver driver;
	char addr[64];
	int numa_node;
	uint16_t vendor_id;
	uint16_t device_id;
	volatile void *bar0;
	size_t bar0_size;
	struct nvp_emu *emu;
};

/**
 * nvp_device_open() - open a controller by address.
 * @addr: PCI address ("0000:00:04.0", "00:04.0") or "emu:..." spec.
 * @driver: NVP_DRIVER_AUTO or a forced method; AUTO is resolved by
 *          nvp_access_pick() (nvpoll_sysfs/drivers.h: NVP_DRIVER, then what
 *          the host offers).
 * @keep_driver: on close, leave the device on vfio-pci/uio.
 * @dev: out: the device.
 *
 * Return: 0 or a negative errno, with a message saying what to do.
 */
int nvp_device_open(const char *addr, enum nvp_driver driver, bool keep_driver,
		    struct nvp_device **dev);

/**
 * nvp_device_close() - release a device opened with nvp_device_open().
 * @dev: the device, or NULL.
 */
void nvp_device_close(struct nvp_device *dev);

/**
 * nvp_device_gone() - the close paths' one test for a device that has gone
 * away: the access method saw it removed (@removed: VFIO's device request,
 * uio's function gone from sysfs), or its registers read all-ones (CSTS),
 * what a removed or dead PCIe function returns. The latter is logged as a
 * warning. A gone device is not touched again: no bus-master clearing, no
 * waiting for its original driver (nvp_pci_release()'s @gone).
 * @dev: the device; BAR0 may be unmapped (NULL), then only @removed counts.
 * @removed: what the access method already knows.
 */
bool nvp_device_gone(const struct nvp_device *dev, bool removed);

/**
 * nvp_device_regs_str() - "VS 0x... CC 0x... CSTS 0x...", for the open
 * paths' debug line (before the NVMe layer, which has its own accessors).
 * @dev: the device, BAR0 mapped.
 * @buf: out. @len: its size (48 bytes suffice).
 *
 * Return: @buf.
 */
const char *nvp_device_regs_str(const struct nvp_device *dev, char *buf, size_t len);

/**
 * nvp_bar_guard_add() - survive hot removal of a BAR mapped from sysfs: a
 * SIGBUS inside [@bar, @bar + @len) maps all-ones over it (bar_guard.c).
 * @bar: the mapping. @len: its length.
 *
 * Return: 0 or a negative errno with a message.
 */
int nvp_bar_guard_add(volatile void *bar, size_t len);

/** nvp_bar_guard_remove() - stop guarding @bar (before it is unmapped). */
void nvp_bar_guard_remove(volatile void *bar);

/**
 * nvp_device_removal_requested() - whether the kernel wants the device back.
 * @dev: the device, or NULL.
 */
bool nvp_device_removal_requested(struct nvp_device *dev);

/**
 * nvp_device_map_bar() - map another BAR of the device (bar_map.c).
 * @dev: the device.
 * @bar: BAR index 0..5 (CMBLOC.BIR).
 * @map: out: the mapping; zeroed on failure.
 *
 * Return: 0; -ENOTSUP if the access method cannot map BARs; another
 * negative errno with a message.
 */
int nvp_device_map_bar(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map);

/**
 * nvp_device_unmap_bar() - undo nvp_device_map_bar().
 * @dev: the device. @map: the mapping; zeroed (unmapping twice is harmless).
 */
void nvp_device_unmap_bar(struct nvp_device *dev, struct nvp_bar_map *map);

/**
 * nvp_pci_bar_resource() - a BAR's bus address, length and flags from sysfs
 * "resource" (one "start end flags" line per resource), as Linux's
 * pci_bus_address(): on the hosts nvpoll supports (x86-64, arm64 without
 * a bus offset) the CPU physical address is the bus address.
 * @bdf: the function. @bar: 0..5.
 * @start: out: bus address. @len: out: length. @prefetchable: out.
 *
 * Return: 0, or a negative errno with a message (-ENODEV: no such BAR or
 * not a memory BAR).
 */
int nvp_pci_bar_resource(const char *bdf, unsigned int bar, uint64_t *start, uint64_t *len,
			 bool *prefetchable);

/* Per-method openers, called by nvp_device_open(). */
int nvp_vfio_open(const char *bdf, bool noiommu, bool keep_driver,
		  struct nvp_device **dev);
int nvp_uio_open(const char *bdf, bool keep_driver, struct nvp_device **dev);
int nvp_emu_open(const char *spec, struct nvp_device **dev);

#endif /* NVP_LIB_DEV_DEVICE_H */
