/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vfio/vfio.c - controllers through vfio-pci: one process-wide container
 * (so every controller shares one IOVA space), a group per IOMMU group,
 * BAR0 mmapped from the device fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nvpoll_sysfs/drivers.h>

#include "dev/device.h"
#include "mem/mem.h"
#include "pci/pci.h"
#include "util/log.h"
#include "vfio/vfio.h"

/* Registers and the admin queue doorbells: what a driver cannot do without. */
#define BAR0_MIN_MAPPED 0x1008

/* IOVAs the memory layer hands out (it starts at 4 GiB). */
#define LIB_IOVA_START (4ull << 30)
#define LIB_IOVA_CHECK_END (512ull << 30)

struct vfio_group {
	int num;
	int fd;
	unsigned int users;
	struct vfio_group *next;
};

/* The container and its groups; everything under container_lock. */
static pthread_mutex_t container_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd;
	int type;		/* VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_NOIOMMU_IOMMU */
	bool iommu_set;
	unsigned int devices;
	struct vfio_group *groups;
	struct nvp_dma_domain domain;
	bool domain_attached;
	size_t mapped_bytes;
} container = { .fd = -1 };

struct vfio_dev {
	struct nvp_device dev;
	struct nvp_pci_binding bind;
	struct vfio_group *group;
	int fd;
	bool noiommu;
	bool keep_driver;
	void *bar_map;		/* reservation covering the whole BAR */
	size_t bar_map_len;
	uint64_t cfg_offset;	/* config space region in the device fd */
	int req_fd;		/* eventfd: the kernel asks for the device back */
	bool removal_seen;	/* ... and it did */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int nvp_vfio_group_not_viable(int group, const char *bdf)
{
	struct nvp_pci_group_peer peers[64];
	char list[1024] = "";
	size_t used = 0;
	int n;

	n = nvp_pci_group_peers(group, bdf, peers, sizeof(peers) / sizeof(peers[0]));
	for (int i = 0; i < n && i < (int)(sizeof(peers) / sizeof(peers[0])); i++) {
		int w;

		if (peers[i].ok)
			continue;
		w = snprintf(list + used, sizeof(list) - used, "%s%s (driver %s)", used ? ", " : "",
			     peers[i].bdf, peers[i].driver[0] ? peers[i].driver : "none");
		if (w < 0 || (size_t)w >= sizeof(list) - used)
			break;
		used += (size_t)w;
	}
	if (!used)
		return nvp_error(-EPERM,
				 "IOMMU group %d of %s is not viable, though every other device in %s/kernel/iommu_groups/%d/devices looks unbound; retry, and see dmesg",
				 group, bdf, nvp_sysfs_root, group);
	return nvp_error(-EPERM,
			 "IOMMU group %d of %s is not viable: it also holds %s; bind them all to vfio-pci or unbind them (a group is handed out whole)",
			 group, bdf, list);
}

int nvp_vfio_map_error(int err, size_t len)
{
	struct rlimit rl;
	char limit[32];

	if (err == ENOMEM) {
		if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
			snprintf(limit, sizeof(limit), "unlimited");
		else
			snprintf(limit, sizeof(limit), "%llu KiB",
				 (unsigned long long)rl.rlim_cur / 1024);
		return nvp_error(-ENOMEM,
				 "the memlock limit (ulimit -l = %s) is too low to pin %zu MiB of DMA memory; raise it in /etc/security/limits.conf or run as root",
				 limit, (container.mapped_bytes + len + (1u << 20) - 1) >> 20);
	}
	if (err == ENOSPC)
		return nvp_error(-ENOSPC,
				 "VFIO refused another DMA mapping (vfio_iommu_type1 dma_entry_limit reached); register fewer, larger buffers or raise the module parameter");
	return nvp_error(-err, "VFIO_IOMMU_MAP_DMA of %zu bytes failed (%s)", len, strerror(err));
}

static int container_map(struct nvp_dma_domain *d, void *va, uint64_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	(void)d;
	if (ioctl(container.fd, VFIO_IOMMU_MAP_DMA, &m))
		return nvp_vfio_map_error(errno, len);
	container.mapped_bytes += len;
	return 0;
}

static int container_unmap(struct nvp_dma_domain *d, void *va, uint64_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	(void)d;
	(void)va;
	if (ioctl(container.fd, VFIO_IOMMU_UNMAP_DMA, &u))
		return nvp_error(-errno, "VFIO_IOMMU_UNMAP_DMA of %zu bytes at IOVA 0x%llx failed (%s)",
				 len, (unsigned long long)iova, strerror(errno));
	container.mapped_bytes -= len < container.mapped_bytes ? len : container.mapped_bytes;
	return 0;
}

/* Fetch an info struct whose capability chain makes it variable-sized. */
static void *ioctl_with_caps(int fd, unsigned long req, size_t base_size, uint32_t index,
			     bool has_index)
{
	struct vfio_region_info *hdr;	/* argsz first in every such struct */
	uint32_t argsz = (uint32_t)base_size;
	void *buf = NULL;

	for (int tries = 0; tries < 3; tries++) {
		void *nbuf = realloc(buf, argsz);

		if (!nbuf)
			break;
		buf = nbuf;
		memset(buf, 0, argsz);
		hdr = buf;
		hdr->argsz = argsz;
		if (has_index)
			hdr->index = index;
		if (ioctl(fd, req, buf))
			break;
		if (hdr->argsz <= argsz)
			return buf;
		argsz = hdr->argsz;
	}
	free(buf);
	return NULL;
}

/* Capability @id in a chain starting at @cap_offset of @info, or NULL. */
static const struct vfio_info_cap_header *find_cap(const void *info, uint32_t argsz,
						   uint32_t cap_offset, uint16_t id)
{
	uint32_t off = cap_offset;

	for (int guard = 0; off && off + sizeof(struct vfio_info_cap_header) <= argsz && guard < 64;
	     guard++) {
		const struct vfio_info_cap_header *h = (const void *)((const char *)info + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

static void log_iova_ranges(void)
{
	struct vfio_iommu_type1_info *info;
	const struct vfio_iommu_type1_info_cap_iova_range *r;
	bool covered = false;

	info = ioctl_with_caps(container.fd, VFIO_IOMMU_GET_INFO, sizeof(*info), 0, false);
	if (!info) {
		nvp_debug("vfio: VFIO_IOMMU_GET_INFO failed (%s)", strerror(errno));
		return;
	}
	nvp_debug("vfio: IOMMU page sizes 0x%llx", (unsigned long long)info->iova_pgsizes);
	r = (info->flags & VFIO_IOMMU_INFO_CAPS) ?
		(const void *)find_cap(info, info->argsz, info->cap_offset,
				       VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) : NULL;
	if (!r) {
		nvp_debug("vfio: no IOVA range capability; assuming the whole space is usable");
		free(info);
		return;
	}
	for (uint32_t i = 0; i < r->nr_iovas; i++) {
		nvp_debug("vfio: usable IOVA range 0x%llx-0x%llx",
			  (unsigned long long)r->iova_ranges[i].start,
			  (unsigned long long)r->iova_ranges[i].end);
		if (r->iova_ranges[i].start <= LIB_IOVA_START &&
		    r->iova_ranges[i].end >= LIB_IOVA_CHECK_END - 1)
			covered = true;
	}
	if (!covered)
		nvp_warn("vfio: the IOMMU's usable IOVA ranges do not cover 4 GiB..512 GiB where nvpoll places DMA memory; large allocations may fail to map");
	free(info);
}

static int container_open_locked(bool noiommu)
{
	char path[512];
	int fd, type;

	if (container.fd >= 0) {
		bool is_noiommu = container.type == VFIO_NOIOMMU_IOMMU;

		if (is_noiommu != noiommu)
			return nvp_error(-EINVAL,
					 "this process already drives controllers through VFIO %s; one process cannot mix IOMMU and no-IOMMU mode",
					 is_noiommu ? "no-IOMMU" : "with an IOMMU");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/vfio/vfio", nvp_devfs_root);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			return nvp_error(-ENOENT, "%s does not exist; run: %s", path,
					 nvp_access_method(noiommu ? NVP_DRIVER_VFIO_NOIOMMU :
								     NVP_DRIVER_VFIO)->load_hint);
		return nvp_error(-err, "cannot open %s (%s); run as root", path, strerror(err));
	}
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		close(fd);
		return nvp_error(-EINVAL, "unknown VFIO API version; this kernel's VFIO is not supported");
	}
	if (noiommu)
		type = VFIO_NOIOMMU_IOMMU;
	else if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else
		type = VFIO_TYPE1_IOMMU;
	if (ioctl(fd, VFIO_CHECK_EXTENSION, type) <= 0) {
		close(fd);
		if (noiommu)
			return nvp_error(-ENOTSUP,
					 "VFIO has no no-IOMMU support; run: %s (the kernel needs CONFIG_VFIO_NOIOMMU)",
					 nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU)->load_hint);
		return nvp_error(-ENOTSUP,
				 "VFIO has no type1 IOMMU driver; run: modprobe vfio_iommu_type1, and boot with intel_iommu=on or amd_iommu=on");
	}
	container.fd = fd;
	container.type = type;
	container.iommu_set = false;
	container.mapped_bytes = 0;
	return 0;
}

static void container_close_locked(void)
{
	if (container.fd < 0 || container.devices || container.groups)
		return;
	close(container.fd);
	container.fd = -1;
	container.iommu_set = false;
}

static int group_open_error(int err, const char *path, const char *bdf, bool noiommu)
{
	switch (err) {
	case EBUSY:
		return nvp_error(-EBUSY, "%s (%s) is in use by another process (another nvpoll or QEMU?); find it with: fuser -v %s",
				 path, bdf, path);
	case EACCES:
		return nvp_error(-EACCES,
				 "no permission to open %s; run as root, or chown the group file to your user and raise the memlock limit (ulimit -l)",
				 path);
	case EPERM:
		if (noiommu)
			return nvp_error(-EPERM, "opening %s needs CAP_SYS_RAWIO in no-IOMMU mode; run as root", path);
		return nvp_error(-EPERM, "not allowed to open %s; run as root", path);
	case ENOENT:
		return nvp_error(-ENOENT, "%s does not exist although %s is on vfio-pci; see dmesg", path, bdf);
	default:
		return nvp_error(-err, "cannot open %s (%s)", path, strerror(err));
	}
}

static int group_get_locked(int num, const char *bdf, bool noiommu, struct vfio_group **out)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_group *g;
	char path[512];
	int rc;

	for (g = container.groups; g; g = g->next) {
		if (g->num == num) {
			g->users++;
			*out = g;
			return 0;
		}
	}
	snprintf(path, sizeof(path), "%s/vfio/%s%d", nvp_devfs_root, noiommu ? "noiommu-" : "", num);
	g = calloc(1, sizeof(*g));
	if (!g)
		return nvp_error(-ENOMEM, "out of memory");
	g->num = num;
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		rc = group_open_error(errno, path, bdf, noiommu);
		goto err_free;
	}
	if (ioctl(g->fd, VFIO_GROUP_GET_STATUS, &st)) {
		rc = nvp_error(-errno, "VFIO_GROUP_GET_STATUS on %s failed (%s)", path, strerror(errno));
		goto err_close;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		rc = nvp_vfio_group_not_viable(num, bdf);
		goto err_close;
	}
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &container.fd)) {
		rc = nvp_error(-errno, "cannot add IOMMU group %d to the VFIO container (%s)",
			       num, strerror(errno));
		goto err_close;
	}
	/* The IOMMU type can only be chosen once a group is in the container. */
	if (!container.iommu_set) {
		if (ioctl(container.fd, VFIO_SET_IOMMU, container.type)) {
			rc = nvp_error(-errno, "VFIO_SET_IOMMU (type %d) failed (%s); see dmesg",
				       container.type, strerror(errno));
			goto err_close;
		}
		container.iommu_set = true;
		nvp_debug("vfio: container uses IOMMU type %d", container.type);
		if (container.type != VFIO_NOIOMMU_IOMMU)
			log_iova_ranges();
	}
	g->users = 1;
	g->next = container.groups;
	container.groups = g;
	*out = g;
	return 0;
err_close:
	close(g->fd);
err_free:
	free(g);
	return rc;
}

static void group_put_locked(struct vfio_group *g)
{
	struct vfio_group **pp;

	if (--g->users)
		return;
	for (pp = &container.groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(g->fd);
	free(g);
}

/* Attach the container's DMA domain with the first device. */
static int domain_get_locked(void)
{
	bool noiommu = container.type == VFIO_NOIOMMU_IOMMU;
	int rc;

	if (container.domain_attached)
		return 0;
	memset(&container.domain, 0, sizeof(container.domain));
	container.domain.name = noiommu ? "physical (vfio no-IOMMU)" : "vfio container";
	container.domain.map = noiommu ? NULL : container_map;
	container.domain.unmap = noiommu ? NULL : container_unmap;
	rc = nvp_mem_domain_attach(&container.domain, noiommu ? NVP_IOVA_PHYS : NVP_IOVA_VIRT);
	if (rc)
		return rc;
	container.domain_attached = true;
	return 0;
}

static int wait_for_node(const char *path)
{
	uint64_t deadline = now_ms() + nvp_pci_wait_ms;
	struct timespec ts = { .tv_nsec = 10 * 1000000 };

	while (access(path, F_OK)) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int cfg_rw(struct vfio_dev *vd, bool write, void *buf, size_t len, off_t off)
{
	ssize_t n = write ? pwrite(vd->fd, buf, len, (off_t)vd->cfg_offset + off) :
			    pread(vd->fd, buf, len, (off_t)vd->cfg_offset + off);

	return n == (ssize_t)len ? 0 : -EIO;
}

static int set_bus_master(struct vfio_dev *vd, bool on)
{
	uint16_t cmd;

	if (cfg_rw(vd, false, &cmd, sizeof(cmd), NVP_PCI_COMMAND))
		return -EIO;
	/* Config space is little-endian. */
	cmd = nvp_le16_to_cpu(cmd);
	if (on)
		cmd |= NVP_PCI_COMMAND_MASTER | NVP_PCI_COMMAND_MEMORY;
	else
		cmd &= (uint16_t)~NVP_PCI_COMMAND_MASTER;
	cmd = nvp_cpu_to_le16(cmd);
	return cfg_rw(vd, true, &cmd, sizeof(cmd), NVP_PCI_COMMAND);
}

/* mmap BAR0, honouring a sparse-mmap capability (areas VFIO will not map). */
static int map_bar0(struct vfio_dev *vd)
{
	struct vfio_region_info *info;
	const struct vfio_region_info_cap_sparse_mmap *sparse = NULL;
	struct vfio_region_sparse_mmap_area whole, *areas = &whole;
	uint32_t nr_areas = 1;
	const char *bdf = vd->dev.addr;
	size_t mapped_from_0 = 0;
	int rc = 0;

	info = ioctl_with_caps(vd->fd, VFIO_DEVICE_GET_REGION_INFO, sizeof(*info),
			       VFIO_PCI_BAR0_REGION_INDEX, true);
	if (!info)
		return nvp_error(-errno ? -errno : -ENOMEM, "%s: cannot get BAR0 region info (%s)",
				 bdf, strerror(errno));
	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP) || info->size < BAR0_MIN_MAPPED) {
		rc = nvp_error(-ENOTSUP, "%s: VFIO does not allow mmap of BAR0 (flags 0x%x, size %llu)",
			       bdf, info->flags, (unsigned long long)info->size);
		goto out;
	}
	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS)
		sparse = (const void *)find_cap(info, info->argsz, info->cap_offset,
						VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	if (sparse) {
		areas = (struct vfio_region_sparse_mmap_area *)sparse->areas;
		nr_areas = sparse->nr_areas;
	} else {
		whole.offset = 0;
		whole.size = info->size;
	}
	nvp_debug("%s: BAR0 %llu bytes at fd offset 0x%llx, %s, %u mmap area(s)", bdf,
		  (unsigned long long)info->size, (unsigned long long)info->offset,
		  sparse ? "sparse" : "whole", nr_areas);

	/* Reserve the whole BAR's span, then map the allowed areas into it. */
	vd->bar_map_len = info->size;
	vd->bar_map = mmap(NULL, vd->bar_map_len, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vd->bar_map == MAP_FAILED) {
		vd->bar_map = NULL;
		rc = nvp_error(-ENOMEM, "%s: cannot reserve %llu bytes of address space for BAR0",
			       bdf, (unsigned long long)info->size);
		goto out;
	}
	for (uint32_t i = 0; i < nr_areas; i++) {
		void *p;

		nvp_debug("%s: BAR0 mmap area 0x%llx+0x%llx", bdf,
			  (unsigned long long)areas[i].offset, (unsigned long long)areas[i].size);
		if (!areas[i].size || areas[i].offset + areas[i].size > info->size)
			continue;
		p = mmap((char *)vd->bar_map + areas[i].offset, areas[i].size,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, vd->fd,
			 (off_t)(info->offset + areas[i].offset));
		if (p == MAP_FAILED) {
			rc = nvp_error(-errno, "%s: mmap of BAR0 area 0x%llx+0x%llx failed (%s)", bdf,
				       (unsigned long long)areas[i].offset,
				       (unsigned long long)areas[i].size, strerror(errno));
			goto out;
		}
		if (areas[i].offset == 0)
			mapped_from_0 = areas[i].size;
	}
	/* Areas may be split; extend the contiguous span from offset 0. */
	for (bool grew = true; grew;) {
		grew = false;
		for (uint32_t i = 0; i < nr_areas; i++) {
			if (areas[i].offset == mapped_from_0 && areas[i].size) {
				mapped_from_0 += areas[i].size;
				grew = true;
			}
		}
	}
	if (mapped_from_0 < BAR0_MIN_MAPPED) {
		rc = nvp_error(-ENOTSUP, "%s: VFIO maps only %zu bytes of BAR0 from offset 0; the NVMe registers and admin doorbells need 0x%x",
			       bdf, mapped_from_0, BAR0_MIN_MAPPED);
		goto out;
	}
	vd->dev.bar0 = vd->bar_map;
	vd->dev.bar0_size = mapped_from_0;
out:
	free(info);
	return rc;
}

/*
 * Another BAR (the CMB's), whole. vfio-pci maps every BAR uncached
 * (pgprot_noncached in vfio_pci_core_mmap), prefetchable or not: there is
 * no write-combined mapping through VFIO, so each 16-byte store of a
 * command copy is its own posted write.
 */
static int vfio_map_bar(struct nvp_device *dev, unsigned int bar, struct nvp_bar_map *map)
{
	struct vfio_dev *vd = (struct vfio_dev *)dev;
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = VFIO_PCI_BAR0_REGION_INDEX + bar };
	uint64_t start, len;
	bool pref;
	void *p;
	int rc;

	rc = nvp_pci_bar_resource(dev->addr, bar, &start, &len, &pref);
	if (rc)
		return rc;
	if (ioctl(vd->fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return nvp_error(-errno, "%s: cannot get BAR%u region info (%s)", dev->addr, bar,
				 strerror(errno));
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP) || !info.size)
		return nvp_error(-ENOTSUP, "%s: VFIO does not allow mmap of BAR%u (flags 0x%x, size %llu)",
				 dev->addr, bar, info.flags, (unsigned long long)info.size);
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, vd->fd, (off_t)info.offset);
	if (p == MAP_FAILED)
		return nvp_error(-errno, "%s: mmap of BAR%u (%llu bytes) failed (%s)", dev->addr, bar,
				 (unsigned long long)info.size, strerror(errno));
	map->va = p;
	map->len = info.size;
	map->bus_addr = start;
	map->wc = false;
	map->prefetchable = pref;
	return 0;
}

static void vfio_unmap_bar(struct nvp_device *dev, struct nvp_bar_map *map)
{
	(void)dev;
	munmap((void *)map->va, map->len);
}

static void vfio_close(struct nvp_device *dev);
static bool vfio_removal_requested(struct nvp_device *dev);

static const struct nvp_device_ops vfio_ops = {
	.close = vfio_close,
	.removal_requested = vfio_removal_requested,
	.map_bar = vfio_map_bar,
	.unmap_bar = vfio_unmap_bar,
};

/*
 * The device request interrupt: vfio-pci signals it when the kernel wants
 * the device back (hot removal, unbind). Without it the kernel blocks
 * ("No device request channel registered") until the process lets go.
 * Best effort: an old kernel without it still works, removal is then seen
 * through all-ones reads only.
 */
static void register_req_irq(struct vfio_dev *vd)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_REQ_IRQ_INDEX };
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t efd;

	if (ioctl(vd->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) || irq.count < 1) {
		nvp_debug("%s: no VFIO device request interrupt", vd->dev.addr);
		return;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return;
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_REQ_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	if (ioctl(vd->fd, VFIO_DEVICE_SET_IRQS, set)) {
		nvp_debug("%s: cannot register the VFIO device request eventfd: %s",
			  vd->dev.addr, strerror(errno));
		close(efd);
		return;
	}
	vd->req_fd = efd;
}

/* Polled from the admin poller, never from the I/O path. */
static bool vfio_removal_requested(struct nvp_device *dev)
{
	struct vfio_dev *vd = (struct vfio_dev *)dev;
	uint64_t n;

	if (!vd->removal_seen && vd->req_fd >= 0 &&
	    read(vd->req_fd, &n, sizeof(n)) == (ssize_t)sizeof(n)) {
		nvp_warn("%s: the kernel asks for the device back (hot removal or unbind)",
			 dev->addr);
		vd->removal_seen = true;
	}
	return vd->removal_seen;
}

static void vfio_teardown(struct vfio_dev *vd, bool gone)
{
	if (vd->fd >= 0 && vd->cfg_offset && !gone && set_bus_master(vd, false))
		nvp_debug("%s: clearing bus master failed", vd->dev.addr);
	if (vd->bar_map)
		munmap(vd->bar_map, vd->bar_map_len);
	/* Releasing the device fd lets vfio-pci reset the function (or, after
	 * a removal request, lets the kernel finish removing it). */
	if (vd->fd >= 0)
		close(vd->fd);
	if (vd->req_fd >= 0)
		close(vd->req_fd);
	if (vd->group) {
		pthread_mutex_lock(&container_lock);
		/* The last device unmaps DMA while its group still holds the IOMMU. */
		if (container.devices == 1 && container.domain_attached) {
			nvp_mem_domain_detach(&container.domain);
			container.domain_attached = false;
		}
		container.devices--;
		group_put_locked(vd->group);
		container_close_locked();
		pthread_mutex_unlock(&container_lock);
	}
	nvp_pci_release(&vd->bind, vd->keep_driver, gone);
	free(vd);
}

static void vfio_close(struct nvp_device *dev)
{
	struct vfio_dev *vd = (struct vfio_dev *)dev;

	/* After a removal request the function is about to be gone: give it
	 * up, do not rebind it. */
	vfio_removal_requested(dev);
	vfio_teardown(vd, nvp_device_gone(dev, vd->removal_seen));
}

static int check_noiommu_enabled(void)
{
	if (nvp_host_noiommu_mode() != 1)
		return nvp_error(-ENOENT,
				 "VFIO no-IOMMU mode is not enabled; run: %s (or echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode)",
				 nvp_access_method(NVP_DRIVER_VFIO_NOIOMMU)->load_hint);
	return 0;
}

int nvp_vfio_open(const char *bdf, bool noiommu, bool keep_driver, struct nvp_device **out)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	const struct nvp_access_method *method;
	struct nvp_pci_info info;
	struct vfio_dev *vd;
	char node[512], regs[64];
	uint64_t t0 = now_ms();
	int rc, group;

	*out = NULL;
	rc = nvp_pci_probe(bdf, &info);
	if (rc)
		return rc;
	if (noiommu) {
		rc = check_noiommu_enabled();
		if (rc)
			return rc;
	} else if (nvp_pci_iommu_group(info.bdf, &group)) {
		return nvp_error(-ENODEV,
				 "%s has no IOMMU group: the IOMMU is off; boot with intel_iommu=on (or amd_iommu=on), or use no-IOMMU mode (NVP_DRIVER=noiommu) or uio (NVP_DRIVER=uio)",
				 info.bdf);
	}

	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return nvp_error(-ENOMEM, "out of memory");
	vd->fd = -1;
	vd->req_fd = -1;
	vd->noiommu = noiommu;
	vd->keep_driver = keep_driver;
	vd->dev.ops = &vfio_ops;
	vd->dev.driver = noiommu ? NVP_DRIVER_VFIO_NOIOMMU : NVP_DRIVER_VFIO;
	snprintf(vd->dev.addr, sizeof(vd->dev.addr), "%s", info.bdf);
	vd->dev.numa_node = info.numa_node;
	vd->dev.vendor_id = info.vendor_id;
	vd->dev.device_id = info.device_id;

	method = nvp_access_method(vd->dev.driver);
	rc = nvp_pci_bind(info.bdf, method->kernel_driver, method->load_hint, &vd->bind);
	if (rc)
		goto err;
	/* In no-IOMMU mode the group only exists once vfio-pci has bound. */
	if (nvp_pci_iommu_group(info.bdf, &group)) {
		rc = nvp_error(-ENODEV, "%s is on vfio-pci but has no IOMMU group; see dmesg", info.bdf);
		goto err;
	}
	snprintf(node, sizeof(node), "%s/vfio/%s%d", nvp_devfs_root, noiommu ? "noiommu-" : "", group);
	if (wait_for_node(node)) {
		rc = nvp_error(-ETIMEDOUT, "%s did not appear within %u ms after binding vfio-pci (no udev/devtmpfs?)",
			       node, nvp_pci_wait_ms);
		goto err;
	}

	pthread_mutex_lock(&container_lock);
	rc = container_open_locked(noiommu);
	if (rc == 0)
		rc = group_get_locked(group, info.bdf, noiommu, &vd->group);
	if (rc == 0) {
		container.devices++;
		rc = domain_get_locked();
		if (rc) {
			container.devices--;
			group_put_locked(vd->group);
			vd->group = NULL;
		}
	}
	if (rc)
		container_close_locked();
	pthread_mutex_unlock(&container_lock);
	if (rc)
		goto err;

	vd->fd = ioctl(vd->group->fd, VFIO_GROUP_GET_DEVICE_FD, info.bdf);
	if (vd->fd < 0) {
		if (errno == EBUSY)
			rc = nvp_error(-EBUSY, "%s is in use by another process (another nvpoll or QEMU?)",
				       info.bdf);
		else
			rc = nvp_error(-errno, "%s: VFIO_GROUP_GET_DEVICE_FD failed (%s); see dmesg",
				       info.bdf, strerror(errno));
		goto err;
	}
	if (ioctl(vd->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg)) {
		rc = nvp_error(-errno, "%s: cannot find its PCI config region (%s)", info.bdf,
			       strerror(errno));
		goto err;
	}
	vd->cfg_offset = cfg.offset;
	register_req_irq(vd);
	rc = map_bar0(vd);
	if (rc)
		goto err;
	/* vfio-pci enables memory decoding but leaves bus mastering to us. */
	if (set_bus_master(vd, true)) {
		rc = nvp_error(-EIO, "%s: cannot enable bus mastering through VFIO config space",
			       info.bdf);
		goto err;
	}
	nvp_debug("%s: vfio %s open (group %d) in %llu ms: %s", info.bdf,
		  noiommu ? "no-IOMMU" : "type1", group, (unsigned long long)(now_ms() - t0),
		  nvp_device_regs_str(&vd->dev, regs, sizeof(regs)));
	*out = &vd->dev;
	return 0;
err:
	vfio_teardown(vd, false);
	return rc;
}
