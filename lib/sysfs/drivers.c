/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sysfs/drivers.c - the access-method table, what the host offers and
 * the automatic choice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <nvpoll_sysfs/drivers.h>
#include <nvpoll_sysfs/sysfs.h>

#include "report.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The only place these names are spelt (docs/architecture.md). */
static const struct nvp_access_method methods[] = {
	{ NVP_DRIVER_AUTO, "auto", NULL, NULL },
	{ NVP_DRIVER_VFIO, "vfio", "vfio-pci", "modprobe vfio-pci" },
	{ NVP_DRIVER_VFIO_NOIOMMU, "noiommu", "vfio-pci",
	  "modprobe vfio enable_unsafe_noiommu_mode=1 && modprobe vfio-pci" },
	{ NVP_DRIVER_UIO, "uio", "uio_pci_generic", "modprobe uio_pci_generic" },
	{ NVP_DRIVER_EMU, "emu", NULL, NULL },
};

const struct nvp_access_method *nvp_access_method(enum nvp_driver driver)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (methods[i].driver == driver)
			return &methods[i];
	return NULL;
}

const struct nvp_access_method *nvp_access_method_by_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(methods); i++)
		if (!strcasecmp(name, methods[i].name))
			return &methods[i];
	return NULL;
}

const struct nvp_access_method *nvp_access_method_by_kernel_driver(const char *kdrv)
{
	for (size_t i = 0; kdrv && i < ARRAY_SIZE(methods); i++)
		if (methods[i].kernel_driver && !strcmp(kdrv, methods[i].kernel_driver))
			return &methods[i];
	return NULL;
}

bool nvp_is_user_kernel_driver(const char *kdrv)
{
	return nvp_access_method_by_kernel_driver(kdrv) != NULL;
}

bool nvp_kernel_driver_loaded(const char *kdrv)
{
	char path[512];

	return nvp_sysfs_path(path, sizeof(path), "/bus/pci/drivers/%s", kdrv) == 0 &&
	       access(path, F_OK) == 0;
}

int nvp_host_iommu_units(void)
{
	char path[512];

	if (nvp_sysfs_path(path, sizeof(path), "/class/iommu"))
		return 0;
	return nvp_sysfs_count_entries(path);
}

int nvp_host_noiommu_mode(void)
{
	char path[512], val[8];

	if (nvp_sysfs_path(path, sizeof(path), "/module/vfio/parameters/enable_unsafe_noiommu_mode") ||
	    nvp_sysfs_read(path, val, sizeof(val)))
		return -ENOENT;
	return val[0] == 'Y';
}

enum nvp_driver nvp_access_detect(void)
{
	if (nvp_host_iommu_units() > 0)
		return NVP_DRIVER_VFIO;
	if (nvp_host_noiommu_mode() == 1)
		return NVP_DRIVER_VFIO_NOIOMMU;
	if (nvp_kernel_driver_loaded(nvp_access_method(NVP_DRIVER_UIO)->kernel_driver))
		return NVP_DRIVER_UIO;
	return NVP_DRIVER_AUTO;
}

/* "vfio, noiommu, uio, emu, auto": what NVP_DRIVER takes, for messages. */
static void method_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	/* AUTO last: it is the default, the others are what one would force. */
	for (size_t i = 1; i <= ARRAY_SIZE(methods); i++) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
				 methods[i % ARRAY_SIZE(methods)].name);

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

int nvp_access_pick(const char *addr, enum nvp_driver requested, enum nvp_driver *out)
{
	const struct nvp_access_method *m;
	const char *env;
	char names[64];

	*out = requested;
	if (requested != NVP_DRIVER_AUTO)
		return 0;
	env = getenv("NVP_DRIVER");
	if (env && *env) {
		m = nvp_access_method_by_name(env);
		if (!m) {
			method_names(names, sizeof(names));
			return sysfs_error(-EINVAL, "NVP_DRIVER='%s' is not one of %s", env, names);
		}
		*out = m->driver;
		if (*out != NVP_DRIVER_AUTO)
			return 0;
	}
	if (addr && !strncmp(addr, "emu:", 4)) {
		*out = NVP_DRIVER_EMU;
		return 0;
	}
	*out = nvp_access_detect();
	if (*out != NVP_DRIVER_AUTO)
		return 0;
	return sysfs_error(-ENODEV,
			   "no way to reach %s from userspace: (1) enable the IOMMU (boot with intel_iommu=on or amd_iommu=on) and %s; or (2) %s; or (3) %s",
			   addr ? addr : "the device", nvp_access_method(NVP_DRIVER_VFIO)->load_hint,
			   nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU)->load_hint,
			   nvp_access_method(NVP_DRIVER_UIO)->load_hint);
}
