/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vfio/vfio.h - VFIO internals shared with the unit tests. The opener
 * itself (nvp_vfio_open()) is declared in dev/device.h.
 */
#ifndef NVP_LIB_VFIO_H
#define NVP_LIB_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * nvp_vfio_group_not_viable() - explain a group VFIO will not hand out.
 * @group: the group number (nvp_pci_iommu_group()).
 * @bdf: the function the caller wanted.
 *
 * Lists the other functions in the group that sit on a driver VFIO does
 * not accept, with their drivers.
 *
 * Return: -EPERM (what VFIO itself says), after logging the explanation.
 */
int nvp_vfio_group_not_viable(int group, const char *bdf);

/**
 * nvp_vfio_map_error() - explain a failed VFIO_IOMMU_MAP_DMA.
 * @err: the positive errno from the ioctl.
 * @len: bytes that were being mapped.
 *
 * Return: the negative errno, after logging advice (memlock limit for
 * ENOMEM, the type1 mapping limit for ENOSPC).
 */
int nvp_vfio_map_error(int err, size_t len);

#endif /* NVP_LIB_VFIO_H */
