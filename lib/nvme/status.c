/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/nvme/status.c - names and errno values for NVMe completion statuses.
 *
 * One table per status code type, indexed by status code, so decoding is a
 * bounds-free array load (the code is 8 bits). A NULL name marks a code the
 * spec reserves or we do not know: "Unknown status" and -EIO.
 *
 * Names follow NVMe Base 2.0 and the NVM Command Set 1.0. SCT 3 codes 70h
 * and 71h are synthesised by this library for commands it gives up on.
 */
#include <errno.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

struct status_info {
	const char *name;
	int err;	/* positive errno; 0 only for success */
};

#define UNKNOWN_STATUS	"Unknown status"
#define UNKNOWN_ERRNO	EIO

/*
 * Mapping rules, so callers can act on the errno alone:
 *  - bad command contents (fields, SGL/PRP layout, namespace ID) -> EINVAL;
 *    an invalid namespace is a bad argument, not ENODEV, which the library
 *    keeps for a controller that has been removed;
 *  - aborted on request (Abort, SQ deletion, preemption, host) -> ECANCELED;
 *  - try again later (not ready, interrupted, transient) -> EAGAIN;
 *  - held by someone else or a long operation (reservation, format,
 *    sanitize, self-test) -> EBUSY;
 *  - end-to-end protection check failed (guard, tags) -> EBADMSG, so a
 *    caller can tell corrupted data from a failing device;
 *  - device or media failure -> EIO.
 */
static const struct status_info generic_status[256] = {
	[NVP_SC_SUCCESS] = { "Successful Completion", 0 },
	[NVP_SC_INVALID_OPCODE] = { "Invalid Command Opcode", EOPNOTSUPP },
	[NVP_SC_INVALID_FIELD] = { "Invalid Field in Command", EINVAL },
	[NVP_SC_CMDID_CONFLICT] = { "Command ID Conflict", EIO },
	[NVP_SC_DATA_XFER_ERROR] = { "Data Transfer Error", EIO },
	[NVP_SC_POWER_LOSS_ABORT] = { "Commands Aborted due to Power Loss Notification", EIO },
	[NVP_SC_INTERNAL] = { "Internal Error", EIO },
	[NVP_SC_ABORT_REQUESTED] = { "Command Abort Requested", ECANCELED },
	[NVP_SC_ABORT_SQ_DELETED] = { "Command Aborted due to SQ Deletion", ECANCELED },
	[NVP_SC_ABORT_FUSE_FAIL] = { "Command Aborted due to Failed Fused Command", ECANCELED },
	[NVP_SC_ABORT_FUSE_MISSING] = { "Command Aborted due to Missing Fused Command", EINVAL },
	[NVP_SC_INVALID_NS] = { "Invalid Namespace or Format", EINVAL },
	[NVP_SC_CMD_SEQ_ERROR] = { "Command Sequence Error", EINVAL },
	[NVP_SC_INVALID_SGL_SEG_DESC] = { "Invalid SGL Segment Descriptor", EINVAL },
	[NVP_SC_INVALID_NUM_SGL_DESC] = { "Invalid Number of SGL Descriptors", EINVAL },
	[NVP_SC_DATA_SGL_LEN_INVALID] = { "Data SGL Length Invalid", EINVAL },
	[NVP_SC_MD_SGL_LEN_INVALID] = { "Metadata SGL Length Invalid", EINVAL },
	[NVP_SC_SGL_DESC_TYPE_INVALID] = { "SGL Descriptor Type Invalid", EINVAL },
	[NVP_SC_INVALID_CMB_USE] = { "Invalid Use of Controller Memory Buffer", EINVAL },
	[NVP_SC_INVALID_PRP_OFFSET] = { "PRP Offset Invalid", EINVAL },
	[NVP_SC_ATOMIC_WU_EXCEEDED] = { "Atomic Write Unit Exceeded", EINVAL },
	[NVP_SC_OP_DENIED] = { "Operation Denied", EPERM },
	[NVP_SC_INVALID_SGL_OFFSET] = { "SGL Offset Invalid", EINVAL },
	[NVP_SC_HOSTID_INCONSISTENT] = { "Host Identifier Inconsistent Format", EINVAL },
	[NVP_SC_KA_EXPIRED] = { "Keep Alive Timer Expired", EIO },
	[NVP_SC_KA_INVALID] = { "Keep Alive Timeout Invalid", EINVAL },
	[NVP_SC_ABORT_PREEMPT] = { "Command Aborted due to Preempt and Abort", ECANCELED },
	[NVP_SC_SANITIZE_FAILED] = { "Sanitize Failed", EIO },
	[NVP_SC_SANITIZE_IN_PROGRESS] = { "Sanitize In Progress", EBUSY },
	[NVP_SC_SGL_DATA_BLOCK_GRANULARITY] = { "SGL Data Block Granularity Invalid", EINVAL },
	[NVP_SC_CMD_NOT_SUPPORTED_CMB] = { "Command Not Supported for Queue in CMB", EOPNOTSUPP },
	[NVP_SC_NS_WRITE_PROTECTED] = { "Namespace is Write Protected", EROFS },
	[NVP_SC_CMD_INTERRUPTED] = { "Command Interrupted", EAGAIN },
	[NVP_SC_TRANSIENT_TRANSPORT] = { "Transient Transport Error", EAGAIN },
	[0x23] = { "Command Prohibited by Command and Feature Lockdown", EPERM },
	[0x24] = { "Admin Command Media Not Ready", EAGAIN },
	/* NVM command set */
	[NVP_SC_LBA_OUT_OF_RANGE] = { "LBA Out of Range", ERANGE },
	[NVP_SC_CAP_EXCEEDED] = { "Capacity Exceeded", ENOSPC },
	[NVP_SC_NS_NOT_READY] = { "Namespace Not Ready", EAGAIN },
	[NVP_SC_RESERVATION_CONFLICT] = { "Reservation Conflict", EBUSY },
	[NVP_SC_FORMAT_IN_PROGRESS] = { "Format In Progress", EBUSY },
};

static const struct status_info cmd_specific_status[256] = {
	[NVP_SC_COMPLETION_QUEUE_INVALID] = { "Completion Queue Invalid", EINVAL },
	[NVP_SC_INVALID_QUEUE_ID] = { "Invalid Queue Identifier", EINVAL },
	[NVP_SC_INVALID_QUEUE_SIZE] = { "Invalid Queue Size", EINVAL },
	[NVP_SC_ABORT_LIMIT_EXCEEDED] = { "Abort Command Limit Exceeded", EBUSY },
	[NVP_SC_ASYNC_EVENT_LIMIT_EXCEEDED] = { "Asynchronous Event Request Limit Exceeded", EBUSY },
	[NVP_SC_INVALID_FIRMWARE_SLOT] = { "Invalid Firmware Slot", EINVAL },
	[NVP_SC_INVALID_FIRMWARE_IMAGE] = { "Invalid Firmware Image", EINVAL },
	[NVP_SC_INVALID_INTERRUPT_VECTOR] = { "Invalid Interrupt Vector", EINVAL },
	[NVP_SC_INVALID_LOG_PAGE] = { "Invalid Log Page", EINVAL },
	[NVP_SC_INVALID_FORMAT] = { "Invalid Format", EINVAL },
	/* The image is committed; which reset activates it is in the status. */
	[0x0b] = { "Firmware Activation Requires Conventional Reset", EIO },
	[NVP_SC_INVALID_QUEUE_DELETION] = { "Invalid Queue Deletion", EINVAL },
	[NVP_SC_FEATURE_ID_NOT_SAVEABLE] = { "Feature Identifier Not Saveable", EINVAL },
	[NVP_SC_FEATURE_NOT_CHANGEABLE] = { "Feature Not Changeable", EINVAL },
	[NVP_SC_FEATURE_NOT_NS_SPECIFIC] = { "Feature Not Namespace Specific", EINVAL },
	[0x10] = { "Firmware Activation Requires NVM Subsystem Reset", EIO },
	[0x11] = { "Firmware Activation Requires Controller Level Reset", EIO },
	[0x12] = { "Firmware Activation Requires Maximum Time Violation", EIO },
	[0x13] = { "Firmware Activation Prohibited", EBUSY },
	[0x14] = { "Overlapping Range", EINVAL },
	[0x15] = { "Namespace Insufficient Capacity", ENOSPC },
	[0x16] = { "Namespace Identifier Unavailable", ENOSPC },
	[0x18] = { "Namespace Already Attached", EEXIST },
	[0x19] = { "Namespace Is Private", EINVAL },
	[0x1a] = { "Namespace Not Attached", EINVAL },
	[0x1b] = { "Thin Provisioning Not Supported", EOPNOTSUPP },
	[0x1c] = { "Controller List Invalid", EINVAL },
	[0x1d] = { "Device Self-test In Progress", EBUSY },
	[0x1e] = { "Boot Partition Write Prohibited", EPERM },
	[0x1f] = { "Invalid Controller Identifier", EINVAL },
	[0x20] = { "Invalid Secondary Controller State", EINVAL },
	[0x21] = { "Invalid Number of Controller Resources", EINVAL },
	[0x22] = { "Invalid Resource Identifier", EINVAL },
	[0x23] = { "Sanitize Prohibited While Persistent Memory Region is Enabled", EBUSY },
	[0x24] = { "ANA Group Identifier Invalid", EINVAL },
	[0x25] = { "ANA Attach Failed", EIO },
	/* NVM command set */
	[NVP_SC_CONFLICTING_ATTRIBUTES] = { "Conflicting Attributes", EINVAL },
	[NVP_SC_INVALID_PROTECTION_INFO] = { "Invalid Protection Information", EINVAL },
	[NVP_SC_ATTEMPTED_WRITE_TO_RO_RANGE] = { "Attempted Write to Read Only Range", EROFS },
	/* Copy beyond MSRC, MSSRL or MCL */
	[NVP_SC_CMD_SIZE_LIMIT] = { "Command Size Limit Exceeded", EINVAL },
	/* Zoned Namespace command set: the name, then what to do. Errnos:
	 * resources as Linux maps them (EOVERFLOW active, ETOOMANYREFS open),
	 * ESPIPE for a write off the write pointer so callers can tell it. */
	[NVP_SC_ZONE_BOUNDARY_ERROR] = { "Zone Boundary Error: the I/O crosses the end of a "
					 "zone; split it at the zone boundary", ERANGE },
	[NVP_SC_ZONE_FULL] = { "Zone Is Full: the write pointer is at the zone's capacity; "
			       "reset the zone or write to another one", ENOSPC },
	[NVP_SC_ZONE_READ_ONLY] = { "Zone Is Read Only: its data can only be read; copy it "
				    "elsewhere, then take the zone offline", EROFS },
	[NVP_SC_ZONE_OFFLINE] = { "Zone Is Offline: it can be neither read nor written; use "
				  "another zone", EIO },
	[NVP_SC_ZONE_INVALID_WRITE] = { "Zone Invalid Write: the write does not start at the "
					"zone's write pointer; report the zone to learn it, or "
					"use Zone Append", ESPIPE },
	[NVP_SC_ZONE_TOO_MANY_ACTIVE] = { "Too Many Active Zones: finish or reset an active "
					  "zone first", EOVERFLOW },
	[NVP_SC_ZONE_TOO_MANY_OPEN] = { "Too Many Open Zones: close or finish an open zone "
					"first", ETOOMANYREFS },
	[NVP_SC_ZONE_INVALID_TRANSITION] = { "Invalid Zone State Transition: the zone's state "
					     "does not allow this action; report the zone "
					     "first", EINVAL },
};

static const struct status_info media_status[256] = {
	[NVP_SC_WRITE_FAULTS] = { "Write Fault", EIO },
	[NVP_SC_UNRECOVERED_READ_ERROR] = { "Unrecovered Read Error", EIO },
	[NVP_SC_GUARD_CHECK_ERROR] = { "End-to-end Guard Check Error", EBADMSG },
	[NVP_SC_APPTAG_CHECK_ERROR] = { "End-to-end Application Tag Check Error", EBADMSG },
	[NVP_SC_REFTAG_CHECK_ERROR] = { "End-to-end Reference Tag Check Error", EBADMSG },
	/* A miscompare is an answer, not a failure: callers must tell it apart. */
	[NVP_SC_COMPARE_FAILURE] = { "Compare Failure", EILSEQ },
	[NVP_SC_ACCESS_DENIED] = { "Access Denied", EACCES },
	[NVP_SC_DEALLOCATED_OR_UNWRITTEN] = { "Deallocated or Unwritten Logical Block", ENODATA },
	[0x88] = { "End-to-end Storage Tag Check Error", EBADMSG },
};

static const struct status_info path_status[256] = {
	[NVP_SC_INTERNAL_PATH_ERROR] = { "Internal Path Error", EIO },
	[0x01] = { "Asymmetric Access Persistent Loss", ENXIO },
	[0x02] = { "Asymmetric Access Inaccessible", ENXIO },
	[0x03] = { "Asymmetric Access Transition", EAGAIN },
	[NVP_SC_CONTROLLER_PATH_ERROR] = { "Controller Pathing Error", ENXIO },
	/* Synthesised by the library when the controller fails or is gone. */
	[NVP_SC_HOST_PATH_ERROR] = { "Host Pathing Error", ENXIO },
	/* Synthesised for a command the library ends itself: in a reset that
	 * does not post it again (how a timed-out command whose Abort did not
	 * end it finishes), in nvp_qpair_free() or detach (nvme.h). */
	[NVP_SC_HOST_ABORTED_CMD] = { "Host Aborted Command", ECANCELED },
};

static const struct status_info *status_lookup(uint16_t status)
{
	const struct status_info *table;
	const struct status_info *info;

	switch (NVP_STATUS_SCT(status)) {
	case NVP_SCT_GENERIC:
		table = generic_status;
		break;
	case NVP_SCT_CMD_SPECIFIC:
		table = cmd_specific_status;
		break;
	case NVP_SCT_MEDIA:
		table = media_status;
		break;
	case NVP_SCT_PATH:
		table = path_status;
		break;
	default:
		return NULL;
	}
	info = &table[NVP_STATUS_SC(status)];
	return info->name ? info : NULL;
}

const char *nvp_status_str(uint16_t status)
{
	const struct status_info *info = status_lookup(status);

	return info ? info->name : UNKNOWN_STATUS;
}

int nvp_status_to_errno(uint16_t status)
{
	const struct status_info *info = status_lookup(status);

	return info ? -info->err : -UNKNOWN_ERRNO;
}
