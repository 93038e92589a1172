/* SPDX-License-Identifier: BSD-3-Clause */
/* tools/setup/setup.h - shared between the nvpoll-setup commands. */
#ifndef NVP_TOOLS_SETUP_H
#define NVP_TOOLS_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll/nvpoll.h>

#include "emit.h"

#define PROG "nvpoll-setup"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* No-IOMMU support of the running kernel. */
enum noiommu_state {
	NOIOMMU_UNKNOWN,	/* vfio not loaded and no kernel config to read */
	NOIOMMU_UNSUPPORTED,	/* kernel built without CONFIG_VFIO_NOIOMMU */
	NOIOMMU_AVAILABLE,	/* supported, not enabled */
	NOIOMMU_ENABLED,	/* enable_unsafe_noiommu_mode=Y */
};

/* Facts about the machine that decide how controllers can be reached. */
struct sys_facts {
	bool iommu_on;		/* /sys/class/iommu has entries */
	int iommu_units;	/* entries there (dmar0, ivhd0, ...) */
	int iommu_groups;	/* /sys/kernel/iommu_groups (incl. vfio-noiommu) */
	enum noiommu_state noiommu;
	bool vfio_pci_loaded;
	bool uio_loaded;
	bool nvme_loaded;
};

struct setup_opts {
	bool json;
	bool force;
	bool exact;
	bool no_modprobe;
	int node;		/* -1: all nodes */
	uint64_t page_size;	/* 0: the default hugepage size */
	const char *driver;	/* NULL: pick */
};

void sys_facts_read(struct sys_facts *f);
const char *noiommu_state_name(enum noiommu_state s);
/* The kernel driver bind uses by default on this machine. */
const char *pick_user_driver(void);
/*
 * The access method that binds kernel driver @kdrv (NVP_DRIVER_VFIO for
 * vfio-pci, NVP_DRIVER_UIO), NVP_DRIVER_AUTO for any other driver.
 */
enum nvp_driver kernel_driver_method(const char *kdrv);
/* The command that loads kernel driver @driver (for messages). */
const char *load_hint(const char *driver);
/*
 * The message of the last nvpoll_sysfs failure (binding, the in-use check;
 * setup.c's nvp_sysfs_report()); libnvpoll's are in nvp_last_error().
 */
const char *sysfs_last_error(void);
/* Load a module with modprobe; 0 or -1 after printing why not. */
int run_modprobe(const char *module);

/* Default hugepage size from /proc/meminfo (bytes), 0 if none. */
uint64_t default_hugepage_size(void);
/* Emit the hugepage pools and hugetlbfs mounts; total pages over all sizes. */
long emit_hugepages(struct emit *e);
/* The hugetlbfs mount for @page_size (bytes); 0 if found. */
int find_hugetlbfs(uint64_t page_size, char *path, size_t len);

int cmd_status(const struct setup_opts *o);
int cmd_bind(const struct setup_opts *o, int argc, char **argv);
int cmd_unbind(const struct setup_opts *o, int argc, char **argv);
int cmd_hugepages(const struct setup_opts *o, const char *size);

/* Read a sysfs (or proc) number; @def when missing. */
long read_long(const char *path, long def);

#endif /* NVP_TOOLS_SETUP_H */
