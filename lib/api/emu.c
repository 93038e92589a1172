/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/api/emu.c - the public fault-injection API (nvpoll/emu.h): find the
 * emulated device under a controller and forward to lib/emu/emu_fault.c.
 *
 * It lives above both layers it joins: the API takes a controller handle,
 * which only the NVMe layer can open (nvp_ctrl_device()), and acts on the
 * emulated device, which sits below the driver like hardware and so must
 * not know the driver's types.
 */
#include <errno.h>

#include "emu/emu.h"
#include "nvme/nvme.h"
#include "util/log.h"

static struct nvp_emu *emu_of(struct nvp_ctrl *ctrl)
{
	struct nvp_device *dev = ctrl ? nvp_ctrl_device(ctrl) : NULL;

	if (!dev || dev->driver != NVP_DRIVER_EMU || !dev->emu) {
		nvp_error(-ENOTSUP, "emu: this controller is not emulated; fault injection needs one attached as \"emu:...\"");
		return NULL;
	}
	return dev->emu;
}

int nvp_emu_inject(struct nvp_ctrl *ctrl, const struct nvp_emu_fault *fault, size_t size)
{
	struct nvp_emu *emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_inject(emu, fault, size) : -ENOTSUP;
}

int nvp_emu_clear_faults(struct nvp_ctrl *ctrl)
{
	struct nvp_emu *emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_clear_faults(emu) : -ENOTSUP;
}

int nvp_emu_fatal(struct nvp_ctrl *ctrl)
{
	struct nvp_emu *emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_fatal(emu) : -ENOTSUP;
}

int nvp_emu_remove(struct nvp_ctrl *ctrl)
{
	struct nvp_emu *emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_remove(emu) : -ENOTSUP;
}

int nvp_emu_async_event(struct nvp_ctrl *ctrl, uint8_t type, uint8_t info, uint8_t log_page)
{
	struct nvp_emu *emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_async_event(emu, type, info, log_page) : -ENOTSUP;
}

int nvp_emu_set_zone_state(struct nvp_ctrl *ctrl, uint32_t nsid, uint64_t zslba, uint8_t state)
{
	struct nvp_emu *emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_set_zone(emu, nsid, zslba, state) : -ENOTSUP;
}

int nvp_emu_get_stats(struct nvp_ctrl *ctrl, struct nvp_emu_stats *stats, size_t size)
{
	struct nvp_emu *emu;

	if (!stats)
		return nvp_error(-EINVAL, "nvp_emu_get_stats: stats is NULL; pass a struct nvp_emu_stats to fill");
	emu = emu_of(ctrl);

	return emu ? nvp_emu_dev_get_stats(emu, stats, size) : -ENOTSUP;
}
