/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test/unit/test_status.c - nvp_status_str() and nvp_status_to_errno().
 *
 * The table below is the specification of the mapping: every defined
 * (SCT, SC) pair with its name and errno. The sweep then checks that every
 * other one of the 2048 codes is unknown, and that the phase, CRD, More and
 * DNR bits never change the answer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <nvpoll/nvpoll.h>
#include <nvpoll/spec.h>

struct status_case {
	uint8_t sct;
	uint8_t sc;
	const char *name;
	int err;
};

static const struct status_case cases[] = {
	/* Generic (SCT 0) */
	{ 0, 0x00, "Successful Completion", 0 },
	{ 0, 0x01, "Invalid Command Opcode", -EOPNOTSUPP },
	{ 0, 0x02, "Invalid Field in Command", -EINVAL },
	{ 0, 0x03, "Command ID Conflict", -EIO },
	{ 0, 0x04, "Data Transfer Error", -EIO },
	{ 0, 0x05, "Commands Aborted due to Power Loss Notification", -EIO },
	{ 0, 0x06, "Internal Error", -EIO },
	{ 0, 0x07, "Command Abort Requested", -ECANCELED },
	{ 0, 0x08, "Command Aborted due to SQ Deletion", -ECANCELED },
	{ 0, 0x09, "Command Aborted due to Failed Fused Command", -ECANCELED },
	{ 0, 0x0a, "Command Aborted due to Missing Fused Command", -EINVAL },
	{ 0, 0x0b, "Invalid Namespace or Format", -EINVAL },
	{ 0, 0x0c, "Command Sequence Error", -EINVAL },
	{ 0, 0x0d, "Invalid SGL Segment Descriptor", -EINVAL },
	{ 0, 0x0e, "Invalid Number of SGL Descriptors", -EINVAL },
	{ 0, 0x0f, "Data SGL Length Invalid", -EINVAL },
	{ 0, 0x10, "Metadata SGL Length Invalid", -EINVAL },
	{ 0, 0x11, "SGL Descriptor Type Invalid", -EINVAL },
	{ 0, 0x12, "Invalid Use of Controller Memory Buffer", -EINVAL },
	{ 0, 0x13, "PRP Offset Invalid", -EINVAL },
	{ 0, 0x14, "Atomic Write Unit Exceeded", -EINVAL },
	{ 0, 0x15, "Operation Denied", -EPERM },
	{ 0, 0x16, "SGL Offset Invalid", -EINVAL },
	{ 0, 0x18, "Host Identifier Inconsistent Format", -EINVAL },
	{ 0, 0x19, "Keep Alive Timer Expired", -EIO },
	{ 0, 0x1a, "Keep Alive Timeout Invalid", -EINVAL },
	{ 0, 0x1b, "Command Aborted due to Preempt and Abort", -ECANCELED },
	{ 0, 0x1c, "Sanitize Failed", -EIO },
	{ 0, 0x1d, "Sanitize In Progress", -EBUSY },
	{ 0, 0x1e, "SGL Data Block Granularity Invalid", -EINVAL },
	{ 0, 0x1f, "Command Not Supported for Queue in CMB", -EOPNOTSUPP },
	{ 0, 0x20, "Namespace is Write Protected", -EROFS },
	{ 0, 0x21, "Command Interrupted", -EAGAIN },
	{ 0, 0x22, "Transient Transport Error", -EAGAIN },
	{ 0, 0x23, "Command Prohibited by Command and Feature Lockdown", -EPERM },
	{ 0, 0x24, "Admin Command Media Not Ready", -EAGAIN },
	{ 0, 0x80, "LBA Out of Range", -ERANGE },
	{ 0, 0x81, "Capacity Exceeded", -ENOSPC },
	{ 0, 0x82, "Namespace Not Ready", -EAGAIN },
	{ 0, 0x83, "Reservation Conflict", -EBUSY },
	{ 0, 0x84, "Format In Progress", -EBUSY },

	/* Command specific (SCT 1) */
	{ 1, 0x00, "Completion Queue Invalid", -EINVAL },
	{ 1, 0x01, "Invalid Queue Identifier", -EINVAL },
	{ 1, 0x02, "Invalid Queue Size", -EINVAL },
	{ 1, 0x03, "Abort Command Limit Exceeded", -EBUSY },
	{ 1, 0x05, "Asynchronous Event Request Limit Exceeded", -EBUSY },
	{ 1, 0x06, "Invalid Firmware Slot", -EINVAL },
	{ 1, 0x07, "Invalid Firmware Image", -EINVAL },
	{ 1, 0x08, "Invalid Interrupt Vector", -EINVAL },
	{ 1, 0x09, "Invalid Log Page", -EINVAL },
	{ 1, 0x0a, "Invalid Format", -EINVAL },
	{ 1, 0x0b, "Firmware Activation Requires Conventional Reset", -EIO },
	{ 1, 0x0c, "Invalid Queue Deletion", -EINVAL },
	{ 1, 0x0d, "Feature Identifier Not Saveable", -EINVAL },
	{ 1, 0x0e, "Feature Not Changeable", -EINVAL },
	{ 1, 0x0f, "Feature Not Namespace Specific", -EINVAL },
	{ 1, 0x10, "Firmware Activation Requires NVM Subsystem Reset", -EIO },
	{ 1, 0x11, "Firmware Activation Requires Controller Level Reset", -EIO },
	{ 1, 0x12, "Firmware Activation Requires Maximum Time Violation", -EIO },
	{ 1, 0x13, "Firmware Activation Prohibited", -EBUSY },
	{ 1, 0x14, "Overlapping Range", -EINVAL },
	{ 1, 0x15, "Namespace Insufficient Capacity", -ENOSPC },
	{ 1, 0x16, "Namespace Identifier Unavailable", -ENOSPC },
	{ 1, 0x18, "Namespace Already Attached", -EEXIST },
	{ 1, 0x19, "Namespace Is Private", -EINVAL },
	{ 1, 0x1a, "Namespace Not Attached", -EINVAL },
	{ 1, 0x1b, "Thin Provisioning Not Supported", -EOPNOTSUPP },
	{ 1, 0x1c, "Controller List Invalid", -EINVAL },
	{ 1, 0x1d, "Device Self-test In Progress", -EBUSY },
	{ 1, 0x1e, "Boot Partition Write Prohibited", -EPERM },
	{ 1, 0x1f, "Invalid Controller Identifier", -EINVAL },
	{ 1, 0x20, "Invalid Secondary Controller State", -EINVAL },
	{ 1, 0x21, "Invalid Number of Controller Resources", -EINVAL },
	{ 1, 0x22, "Invalid Resource Identifier", -EINVAL },
	{ 1, 0x23, "Sanitize Prohibited While Persistent Memory Region is Enabled", -EBUSY },
	{ 1, 0x24, "ANA Group Identifier Invalid", -EINVAL },
	{ 1, 0x25, "ANA Attach Failed", -EIO },
	{ 1, 0x80, "Conflicting Attributes", -EINVAL },
	{ 1, 0x81, "Invalid Protection Information", -EINVAL },
	{ 1, 0x82, "Attempted Write to Read Only Range", -EROFS },
	{ 1, 0x83, "Command Size Limit Exceeded", -EINVAL },

	/* Zoned Namespace command set (SCT 1): name and advice, errno */
	{ 1, 0xb8, "Zone Boundary Error: the I/O crosses the end of a zone; split it at the "
		   "zone boundary", -ERANGE },
	{ 1, 0xb9, "Zone Is Full: the write pointer is at the zone's capacity; reset the zone "
		   "or write to another one", -ENOSPC },
	{ 1, 0xba, "Zone Is Read Only: its data can only be read; copy it elsewhere, then take "
		   "the zone offline", -EROFS },
	{ 1, 0xbb, "Zone Is Offline: it can be neither read nor written; use another zone", -EIO },
	{ 1, 0xbc, "Zone Invalid Write: the write does not start at the zone's write pointer; "
		   "report the zone to learn it, or use Zone Append", -ESPIPE },
	{ 1, 0xbd, "Too Many Active Zones: finish or reset an active zone first", -EOVERFLOW },
	{ 1, 0xbe, "Too Many Open Zones: close or finish an open zone first", -ETOOMANYREFS },
	{ 1, 0xbf, "Invalid Zone State Transition: the zone's state does not allow this action; "
		   "report the zone first", -EINVAL },

	/* Media and data integrity (SCT 2) */
	{ 2, 0x80, "Write Fault", -EIO },
	{ 2, 0x81, "Unrecovered Read Error", -EIO },
	{ 2, 0x82, "End-to-end Guard Check Error", -EBADMSG },
	{ 2, 0x83, "End-to-end Application Tag Check Error", -EBADMSG },
	{ 2, 0x84, "End-to-end Reference Tag Check Error", -EBADMSG },
	{ 2, 0x85, "Compare Failure", -EILSEQ },
	{ 2, 0x86, "Access Denied", -EACCES },
	{ 2, 0x87, "Deallocated or Unwritten Logical Block", -ENODATA },
	{ 2, 0x88, "End-to-end Storage Tag Check Error", -EBADMSG },

	/* Path related (SCT 3) */
	{ 3, 0x00, "Internal Path Error", -EIO },
	{ 3, 0x01, "Asymmetric Access Persistent Loss", -ENXIO },
	{ 3, 0x02, "Asymmetric Access Inaccessible", -ENXIO },
	{ 3, 0x03, "Asymmetric Access Transition", -EAGAIN },
	{ 3, 0x60, "Controller Pathing Error", -ENXIO },
	{ 3, 0x70, "Host Pathing Error", -ENXIO },
	{ 3, 0x71, "Host Aborted Command", -ECANCELED },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Phase, CRD, More and DNR combinations that must not matter. */
static const uint16_t noise[] = {
	0x0000, 0x0001, 0x1000, 0x2000, 0x3000, 0x4000, 0x8000, 0xf001,
};

static const struct status_case *find_case(uint8_t sct, uint8_t sc)
{
	for (size_t i = 0; i < NCASES; i++)
		if (cases[i].sct == sct && cases[i].sc == sc)
			return &cases[i];
	return NULL;
}

static void test_defined_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		for (size_t n = 0; n < sizeof(noise) / sizeof(noise[0]); n++) {
			uint16_t status = NVP_STATUS(cases[i].sct, cases[i].sc) | noise[n];
			const char *name = nvp_status_str(status);
			int err = nvp_status_to_errno(status);

			if (!name || strcmp(name, cases[i].name) || err != cases[i].err) {
				print_error("status 0x%04x (SCT %u SC 0x%02x): \"%s\" %d, want \"%s\" %d\n",
					    status, cases[i].sct, cases[i].sc,
					    name ? name : "(null)", err, cases[i].name,
					    cases[i].err);
				fail();
			}
		}
	}
}

static void test_every_other_code_unknown(void **state)
{
	unsigned int known = 0;

	(void)state;
	for (unsigned int sct = 0; sct < 8; sct++) {
		for (unsigned int sc = 0; sc < 256; sc++) {
			const struct status_case *c = find_case((uint8_t)sct, (uint8_t)sc);

			for (size_t n = 0; n < sizeof(noise) / sizeof(noise[0]); n++) {
				uint16_t status = NVP_STATUS(sct, sc) | noise[n];
				const char *name = nvp_status_str(status);
				int err = nvp_status_to_errno(status);

				assert_non_null(name);
				if (c)
					continue;
				if (strcmp(name, "Unknown status") || err != -EIO) {
					print_error("status 0x%04x (SCT %u SC 0x%02x): \"%s\" %d, want unknown/-EIO\n",
						    status, sct, sc, name, err);
					fail();
				}
			}
			known += c != NULL;
		}
	}
	/* Every table row was visited exactly once: no duplicates. */
	assert_int_equal(known, NCASES);
}

static void test_helpers(void **state)
{
	struct nvp_cqe cqe = { 0 };

	(void)state;
	/* Success with the phase bit set is still success. */
	cqe.status = 0x0001;
	assert_false(NVP_CPL_IS_ERROR(&cqe));
	assert_int_equal(nvp_status_to_errno(cqe.status), 0);
	/* An error keeps its errno whatever DNR says. */
	cqe.status = NVP_STATUS(NVP_SCT_GENERIC, NVP_SC_LBA_OUT_OF_RANGE) | NVP_STATUS_DNR_BIT;
	assert_true(NVP_CPL_IS_ERROR(&cqe));
	assert_int_equal(nvp_status_to_errno(cqe.status), -ERANGE);
	/* Vendor specific codes are not decoded. */
	assert_string_equal(nvp_status_str(NVP_STATUS(NVP_SCT_VENDOR, 0x01)), "Unknown status");
	assert_int_equal(nvp_status_to_errno(NVP_STATUS(NVP_SCT_VENDOR, 0x01)), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defined_codes),
		cmocka_unit_test(test_every_other_code_unknown),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
