/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll_sysfs/drivers.h - the access methods (enum nvp_driver) and every
 * name each goes by, in one table (drivers.c); what this host offers, and
 * which method NVP_DRIVER_AUTO picks. Part of nvpoll_sysfs (see sysfs.h).
 */
#ifndef NVPOLL_SYSFS_DRIVERS_H
#define NVPOLL_SYSFS_DRIVERS_H

#include <stdbool.h>

#include <nvpoll/nvpoll.h>

/**
 * struct nvp_access_method - one way to reach a controller.
 * @driver: its enum nvp_driver value.
 * @name: the one spelling users write and read: NVP_DRIVER=,
 *        nvp_driver_name(), the tools' output ("vfio", "noiommu", "uio",
 *        "emu", "auto").
 * @kernel_driver: the PCI driver the function is bound to ("vfio-pci",
 *        "uio_pci_generic"); NULL for emu and auto.
 * @load_hint: the shell command that makes the method available, for
 *        messages ("modprobe vfio-pci", ...); NULL for emu and auto.
 */
struct nvp_access_method {
	enum nvp_driver driver;
	const char *name;
	const char *kernel_driver;
	const char *load_hint;
};

/**
 * nvp_access_method() - the table entry of @driver.
 * @driver: any value.
 *
 * Return: the entry, or NULL for a value outside enum nvp_driver.
 */
const struct nvp_access_method *nvp_access_method(enum nvp_driver driver);

/**
 * nvp_access_method_by_name() - look a method up by its name.
 * @name: as NVP_DRIVER takes it; case does not matter.
 *
 * Return: the entry, or NULL.
 */
const struct nvp_access_method *nvp_access_method_by_name(const char *name);

/**
 * nvp_access_method_by_kernel_driver() - the method that binds @kdrv.
 * @kdrv: a kernel driver name ("vfio-pci", "uio_pci_generic").
 *
 * Return: the entry (for "vfio-pci" the type1 one, whose load hint needs
 * no no-IOMMU mode), or NULL if no method uses @kdrv.
 */
const struct nvp_access_method *nvp_access_method_by_kernel_driver(const char *kdrv);

/**
 * nvp_is_user_kernel_driver() - whether @kdrv is one of the userspace
 * drivers an access method binds (so taking the function from it takes
 * nothing from the kernel).
 * @kdrv: a kernel driver name, "" for none.
 */
bool nvp_is_user_kernel_driver(const char *kdrv);

/**
 * nvp_kernel_driver_loaded() - whether PCI driver @kdrv is registered
 * (<sysfs>/bus/pci/drivers/@kdrv exists).
 * @kdrv: a kernel driver name.
 */
bool nvp_kernel_driver_loaded(const char *kdrv);

/**
 * nvp_host_iommu_units() - IOMMUs registered with the kernel: entries of
 * <sysfs>/class/iommu (dmar0, ivhd0, ...). Not <sysfs>/kernel/iommu_groups:
 * in no-IOMMU mode, binding a function to vfio-pci creates a
 * "vfio-noiommu" group there.
 *
 * Return: the count; 0 means no IOMMU.
 */
int nvp_host_iommu_units(void);

/**
 * nvp_host_noiommu_mode() - vfio's enable_unsafe_noiommu_mode parameter.
 *
 * Return: 1 (enabled), 0 (supported but off), or -ENOENT (no such
 * parameter: vfio is not loaded, or built without no-IOMMU support).
 */
int nvp_host_noiommu_mode(void);

/**
 * nvp_access_detect() - what NVP_DRIVER_AUTO finds on this host, from
 * sysfs alone: NVP_DRIVER_VFIO if an IOMMU is registered; else
 * NVP_DRIVER_VFIO_NOIOMMU if no-IOMMU mode is enabled; else NVP_DRIVER_UIO
 * if uio_pci_generic is loaded; else NVP_DRIVER_AUTO (nothing available).
 */
enum nvp_driver nvp_access_detect(void);

/**
 * nvp_access_pick() - resolve the access method for an address, as
 * nvp_ctrl_attach() does.
 * @addr: PCI address or "emu:..." spec; may be NULL.
 * @requested: what the caller asked for; NVP_DRIVER_AUTO to decide.
 * @out: out: the method to use (never NVP_DRIVER_AUTO).
 *
 * For AUTO, in order: the NVP_DRIVER environment variable (a name from the
 * table); "emu:" addresses; then nvp_access_detect().
 *
 * Return: 0, or -EINVAL (NVP_DRIVER names no method), -ENODEV (no method
 * available; the message gives the commands that make one available).
 */
int nvp_access_pick(const char *addr, enum nvp_driver requested, enum nvp_driver *out);

#endif /* NVPOLL_SYSFS_DRIVERS_H */
