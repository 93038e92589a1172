/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/spec.h - NVMe wire structures (NVMe Base 2.0 / NVM Command Set 1.0).
 *
 * Everything here is exactly as it appears on the wire or in the register
 * file: little-endian, packed by construction (no implicit padding), and
 * checked with a static assertion on every size and key offset at the end of
 * this file. The library, the emulated controller and the tests share these
 * definitions, so a layout mistake cannot hide in one of them.
 *
 * Byte order. Multi-byte fields are little-endian on the wire; read and
 * write them with nvp_le16_to_cpu() .. nvp_cpu_to_le64() below, which cost
 * nothing on a little-endian CPU. Where the API hands you these structures:
 * - a completion (struct nvp_cqe) given to a callback or by
 *   nvp_admin_cmd_sync() is in CPU byte order (the library converted it);
 * - a command (struct nvp_sqe) given to nvp_admin_cmd(), nvp_admin_cmd_sync()
 *   or nvp_io_raw(), and the ranges of nvp_deallocate(), are in CPU byte
 *   order (the library converts them as it copies them to the queue);
 * - data the controller returns (Identify from nvp_ctrl_identify() and
 *   nvp_ns_identify(), log pages, any admin data buffer) is as the
 *   controller wrote it: little-endian, to be read with nvp_le*_to_cpu().
 */
#ifndef NVPOLL_SPEC_H
#define NVPOLL_SPEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Byte order                                                               */
/* ------------------------------------------------------------------------ */

/*
 * NVP_WIRE_SWAP: the wire is the other byte order from the CPU's, so every
 * conversion swaps. A big-endian CPU gets this from its compiler; the
 * library's own tests also build with it forced on (CMake option
 * NVP_TEST_WIRE_SWAP) so that a little-endian machine finds a field the
 * driver or the emulated controller forgot to convert: the two then
 * disagree about it. Never set it yourself.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#undef NVP_WIRE_SWAP
#define NVP_WIRE_SWAP 1
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvpoll/spec.h: the compiler does not say the CPU's byte order (__BYTE_ORDER__)"
#endif

#ifdef NVP_WIRE_SWAP
#define NVP_WIRE16(v) ((uint16_t)__builtin_bswap16((uint16_t)(v)))
#define NVP_WIRE32(v) ((uint32_t)__builtin_bswap32((uint32_t)(v)))
#define NVP_WIRE64(v) ((uint64_t)__builtin_bswap64((uint64_t)(v)))
#else
#define NVP_WIRE16(v) ((uint16_t)(v))
#define NVP_WIRE32(v) ((uint32_t)(v))
#define NVP_WIRE64(v) ((uint64_t)(v))
#endif

/* CPU to wire (little-endian) and back; no code on a little-endian CPU. */
static inline uint16_t nvp_cpu_to_le16(uint16_t v) { return NVP_WIRE16(v); }
static inline uint32_t nvp_cpu_to_le32(uint32_t v) { return NVP_WIRE32(v); }
static inline uint64_t nvp_cpu_to_le64(uint64_t v) { return NVP_WIRE64(v); }
static inline uint16_t nvp_le16_to_cpu(uint16_t v) { return NVP_WIRE16(v); }
static inline uint32_t nvp_le32_to_cpu(uint32_t v) { return NVP_WIRE32(v); }
static inline uint64_t nvp_le64_to_cpu(uint64_t v) { return NVP_WIRE64(v); }

/* ------------------------------------------------------------------------ */
/* Controller registers (BAR0)                                              */
/* ------------------------------------------------------------------------ */

enum nvp_reg {
	NVP_REG_CAP = 0x00,	/* Controller Capabilities (64-bit) */
	NVP_REG_VS = 0x08,	/* Version */
	NVP_REG_INTMS = 0x0c,	/* Interrupt Mask Set */
	NVP_REG_INTMC = 0x10,	/* Interrupt Mask Clear */
	NVP_REG_CC = 0x14,	/* Controller Configuration */
	NVP_REG_CSTS = 0x1c,	/* Controller Status */
	NVP_REG_NSSR = 0x20,	/* NVM Subsystem Reset */
	NVP_REG_AQA = 0x24,	/* Admin Queue Attributes */
	NVP_REG_ASQ = 0x28,	/* Admin SQ Base Address (64-bit) */
	NVP_REG_ACQ = 0x30,	/* Admin CQ Base Address (64-bit) */
	NVP_REG_CMBLOC = 0x38,	/* Controller Memory Buffer Location */
	NVP_REG_CMBSZ = 0x3c,	/* Controller Memory Buffer Size */
	NVP_REG_CMBMSC = 0x50,	/* CMB Memory Space Control (64-bit) */
	NVP_REG_CMBSTS = 0x58,	/* CMB Status */
	NVP_REG_CRTO = 0x68,	/* Controller Ready Timeouts (NVMe 2.0) */
	NVP_REG_DBS = 0x1000,	/* first doorbell (SQ0 tail) */
};

/* CAP fields */
#define NVP_CAP_MQES(cap)	((uint32_t)((cap) & 0xffff))	    /* 0's based */
#define NVP_CAP_CQR(cap)	((uint32_t)(((cap) >> 16) & 0x1))
#define NVP_CAP_AMS(cap)	((uint32_t)(((cap) >> 17) & 0x3))
#define NVP_CAP_TO(cap)		((uint32_t)(((cap) >> 24) & 0xff))  /* 500 ms units */
#define NVP_CAP_DSTRD(cap)	((uint32_t)(((cap) >> 32) & 0xf))
#define NVP_CAP_NSSRS(cap)	((uint32_t)(((cap) >> 36) & 0x1))
#define NVP_CAP_CSS(cap)	((uint32_t)(((cap) >> 37) & 0xff))
#define NVP_CAP_BPS(cap)	((uint32_t)(((cap) >> 45) & 0x1))
#define NVP_CAP_MPSMIN(cap)	((uint32_t)(((cap) >> 48) & 0xf))  /* 2^(12+n) */
#define NVP_CAP_MPSMAX(cap)	((uint32_t)(((cap) >> 52) & 0xf))
#define NVP_CAP_CMBS(cap)	((uint32_t)(((cap) >> 57) & 0x1))
#define NVP_CAP_CRMS(cap)	((uint32_t)(((cap) >> 59) & 0x3))

/* CMBLOC fields */
#define NVP_CMBLOC_BIR(v)	((uint32_t)(v) & 0x7)		/* BAR index */
#define NVP_CMBLOC_OFST(v)	((uint32_t)(v) >> 12)		/* in CMBSZ.SZU units */

/* CMBSZ fields */
#define NVP_CMBSZ_SQS		(1u << 0)	/* submission queues supported */
#define NVP_CMBSZ_CQS		(1u << 1)
#define NVP_CMBSZ_LISTS		(1u << 2)
#define NVP_CMBSZ_RDS		(1u << 3)
#define NVP_CMBSZ_WDS		(1u << 4)
#define NVP_CMBSZ_SZU(v)	(((uint32_t)(v) >> 8) & 0xf)	/* 4 KiB << (4 * SZU) */
#define NVP_CMBSZ_SZ(v)		((uint32_t)(v) >> 12)		/* in SZU units */
#define NVP_CMBSZ_SZU_SHIFT	8
#define NVP_CMBSZ_SZ_SHIFT	12

/* CMBMSC fields (NVMe 1.4) */
#define NVP_CMBMSC_CRE		(1ull << 0)	/* capabilities registers enabled */
#define NVP_CMBMSC_CMSE		(1ull << 1)	/* controller memory space enabled */
#define NVP_CMBMSC_CBA_MASK	(~0xfffull)	/* controller base address */

/* CMBSTS fields */
#define NVP_CMBSTS_CBAI		(1u << 0)	/* controller base address invalid */

#define NVP_CAP_CSS_NVM		(1u << 0)
#define NVP_CAP_CSS_CSI		(1u << 6)	/* I/O command sets via CSI */
#define NVP_CAP_CSS_ADMIN_ONLY	(1u << 7)

/* CC fields */
#define NVP_CC_EN		(1u << 0)
#define NVP_CC_CSS_SHIFT	4
#define NVP_CC_CSS_NVM		(0u << 4)
#define NVP_CC_CSS_CSI		(6u << 4)
#define NVP_CC_MPS_SHIFT	7
#define NVP_CC_AMS_RR		(0u << 11)
#define NVP_CC_SHN_MASK		(3u << 14)
#define NVP_CC_SHN_NORMAL	(1u << 14)
#define NVP_CC_SHN_ABRUPT	(2u << 14)
#define NVP_CC_IOSQES_SHIFT	16
#define NVP_CC_IOCQES_SHIFT	20

/* CSTS fields */
#define NVP_CSTS_RDY		(1u << 0)
#define NVP_CSTS_CFS		(1u << 1)
#define NVP_CSTS_SHST_MASK	(3u << 2)
#define NVP_CSTS_SHST_NORMAL	(0u << 2)
#define NVP_CSTS_SHST_OCCUR	(1u << 2)
#define NVP_CSTS_SHST_CMPLT	(2u << 2)
#define NVP_CSTS_NSSRO		(1u << 4)

/* AQA: 0's based queue sizes */
#define NVP_AQA(sq_entries, cq_entries) \
	((((uint32_t)(cq_entries) - 1) << 16) | ((uint32_t)(sq_entries) - 1))

/* ------------------------------------------------------------------------ */
/* Submission and completion queue entries                                  */
/* ------------------------------------------------------------------------ */

/* SGL descriptor (16 bytes) */
struct nvp_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd[3];
	uint8_t type;		/* bits 7:4 type, 3:0 subtype */
};

#define NVP_SGL_TYPE_DATA_BLOCK		0x0
#define NVP_SGL_TYPE_BIT_BUCKET		0x1
#define NVP_SGL_TYPE_SEGMENT		0x2
#define NVP_SGL_TYPE_LAST_SEGMENT	0x3
#define NVP_SGL_SUBTYPE_ADDRESS		0x0
#define NVP_SGL_DESC_TYPE(type, sub)	((uint8_t)(((type) << 4) | (sub)))

/* Submission queue entry (64 bytes) */
struct nvp_sqe {
	uint8_t opc;
	uint8_t flags;		/* bits 1:0 FUSE, 7:6 PSDT */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union {
		struct {
			uint64_t prp1;
			uint64_t prp2;
		} prp;
		struct nvp_sgl_desc sgl1;
	} dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/* NSID meaning every namespace, or the controller (log pages, Flush). */
#define NVP_NSID_ALL		0xffffffffu

#define NVP_SQE_PSDT_MASK	(3u << 6)	/* flags bits 7:6 */
#define NVP_SQE_FUSE_MASK	(3u << 0)	/* flags bits 1:0 */
#define NVP_SQE_PSDT_PRP	(0u << 6)
#define NVP_SQE_PSDT_SGL_MPTR	(1u << 6)	/* SGL for data, MPTR is an address */
#define NVP_SQE_FUSE_FIRST	(1u << 0)	/* FUSE 01b: first of a fused pair */
#define NVP_SQE_FUSE_SECOND	(2u << 0)	/* FUSE 10b: second of a fused pair */

/* Completion queue entry (16 bytes) */
struct nvp_cqe {
	uint32_t dw0;		/* command specific */
	uint32_t dw1;
	uint16_t sqhd;		/* SQ head pointer */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase tag; 15:1 status field */
};

/* Status field helpers; @status is the CQE's 16-bit status word. */
#define NVP_STATUS_P(status)	((uint16_t)((status) & 0x1))
#define NVP_STATUS_SC(status)	((uint8_t)(((status) >> 1) & 0xff))
#define NVP_STATUS_SCT(status)	((uint8_t)(((status) >> 9) & 0x7))
#define NVP_STATUS_CRD(status)	((uint8_t)(((status) >> 12) & 0x3))
#define NVP_STATUS_M(status)	((uint8_t)(((status) >> 14) & 0x1))
#define NVP_STATUS_DNR(status)	((uint8_t)(((status) >> 15) & 0x1))
/* A status word (phase bit clear) from a type and code. */
#define NVP_STATUS(sct, sc)	((uint16_t)((((sct) & 0x7) << 9) | (((sc) & 0xff) << 1)))
#define NVP_STATUS_DNR_BIT	((uint16_t)(1u << 15))
/* True if the completion reports success (phase and DNR/More ignored). */
#define NVP_CPL_IS_ERROR(cpl)	((((cpl)->status >> 1) & 0x7ff) != 0)

/* Status code types */
enum nvp_sct {
	NVP_SCT_GENERIC = 0x0,
	NVP_SCT_CMD_SPECIFIC = 0x1,
	NVP_SCT_MEDIA = 0x2,
	NVP_SCT_PATH = 0x3,
	NVP_SCT_VENDOR = 0x7,
};

/* Generic command status codes (SCT 0) */
enum nvp_sc_generic {
	NVP_SC_SUCCESS = 0x00,
	NVP_SC_INVALID_OPCODE = 0x01,
	NVP_SC_INVALID_FIELD = 0x02,
	NVP_SC_CMDID_CONFLICT = 0x03,
	NVP_SC_DATA_XFER_ERROR = 0x04,
	NVP_SC_POWER_LOSS_ABORT = 0x05,
	NVP_SC_INTERNAL = 0x06,
	NVP_SC_ABORT_REQUESTED = 0x07,
	NVP_SC_ABORT_SQ_DELETED = 0x08,
	NVP_SC_ABORT_FUSE_FAIL = 0x09,
	NVP_SC_ABORT_FUSE_MISSING = 0x0a,
	NVP_SC_INVALID_NS = 0x0b,
	NVP_SC_CMD_SEQ_ERROR = 0x0c,
	NVP_SC_INVALID_SGL_SEG_DESC = 0x0d,
	NVP_SC_INVALID_NUM_SGL_DESC = 0x0e,
	NVP_SC_DATA_SGL_LEN_INVALID = 0x0f,
	NVP_SC_MD_SGL_LEN_INVALID = 0x10,
	NVP_SC_SGL_DESC_TYPE_INVALID = 0x11,
	NVP_SC_INVALID_CMB_USE = 0x12,
	NVP_SC_INVALID_PRP_OFFSET = 0x13,
	NVP_SC_ATOMIC_WU_EXCEEDED = 0x14,
	NVP_SC_OP_DENIED = 0x15,
	NVP_SC_INVALID_SGL_OFFSET = 0x16,
	NVP_SC_HOSTID_INCONSISTENT = 0x18,
	NVP_SC_KA_EXPIRED = 0x19,
	NVP_SC_KA_INVALID = 0x1a,
	NVP_SC_ABORT_PREEMPT = 0x1b,
	NVP_SC_SANITIZE_FAILED = 0x1c,
	NVP_SC_SANITIZE_IN_PROGRESS = 0x1d,
	NVP_SC_SGL_DATA_BLOCK_GRANULARITY = 0x1e,
	NVP_SC_CMD_NOT_SUPPORTED_CMB = 0x1f,
	NVP_SC_NS_WRITE_PROTECTED = 0x20,
	NVP_SC_CMD_INTERRUPTED = 0x21,
	NVP_SC_TRANSIENT_TRANSPORT = 0x22,
	NVP_SC_LBA_OUT_OF_RANGE = 0x80,
	NVP_SC_CAP_EXCEEDED = 0x81,
	NVP_SC_NS_NOT_READY = 0x82,
	NVP_SC_RESERVATION_CONFLICT = 0x83,
	NVP_SC_FORMAT_IN_PROGRESS = 0x84,
};

/* Command specific status codes (SCT 1) */
enum nvp_sc_cmd_specific {
	NVP_SC_COMPLETION_QUEUE_INVALID = 0x00,
	NVP_SC_INVALID_QUEUE_ID = 0x01,
	NVP_SC_INVALID_QUEUE_SIZE = 0x02,
	NVP_SC_ABORT_LIMIT_EXCEEDED = 0x03,
	NVP_SC_ASYNC_EVENT_LIMIT_EXCEEDED = 0x05,
	NVP_SC_INVALID_FIRMWARE_SLOT = 0x06,
	NVP_SC_INVALID_FIRMWARE_IMAGE = 0x07,
	NVP_SC_INVALID_INTERRUPT_VECTOR = 0x08,
	NVP_SC_INVALID_LOG_PAGE = 0x09,
	NVP_SC_INVALID_FORMAT = 0x0a,
	NVP_SC_INVALID_QUEUE_DELETION = 0x0c,
	NVP_SC_FEATURE_ID_NOT_SAVEABLE = 0x0d,
	NVP_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	NVP_SC_FEATURE_NOT_NS_SPECIFIC = 0x0f,
	NVP_SC_CONFLICTING_ATTRIBUTES = 0x80,
	NVP_SC_INVALID_PROTECTION_INFO = 0x81,
	NVP_SC_ATTEMPTED_WRITE_TO_RO_RANGE = 0x82,
	NVP_SC_CMD_SIZE_LIMIT = 0x83,	/* Copy: MSRC, MSSRL or MCL exceeded */
	/* Zoned Namespace command set */
	NVP_SC_ZONE_BOUNDARY_ERROR = 0xb8,
	NVP_SC_ZONE_FULL = 0xb9,
	NVP_SC_ZONE_READ_ONLY = 0xba,
	NVP_SC_ZONE_OFFLINE = 0xbb,
	NVP_SC_ZONE_INVALID_WRITE = 0xbc,
	NVP_SC_ZONE_TOO_MANY_ACTIVE = 0xbd,
	NVP_SC_ZONE_TOO_MANY_OPEN = 0xbe,
	NVP_SC_ZONE_INVALID_TRANSITION = 0xbf,
};

/* Media and data integrity errors (SCT 2) */
enum nvp_sc_media {
	NVP_SC_WRITE_FAULTS = 0x80,
	NVP_SC_UNRECOVERED_READ_ERROR = 0x81,
	NVP_SC_GUARD_CHECK_ERROR = 0x82,
	NVP_SC_APPTAG_CHECK_ERROR = 0x83,
	NVP_SC_REFTAG_CHECK_ERROR = 0x84,
	NVP_SC_COMPARE_FAILURE = 0x85,
	NVP_SC_ACCESS_DENIED = 0x86,
	NVP_SC_DEALLOCATED_OR_UNWRITTEN = 0x87,
};

/* Path related status (SCT 3); 0x70+ are host-synthesised. */
enum nvp_sc_path {
	NVP_SC_INTERNAL_PATH_ERROR = 0x00,
	NVP_SC_CONTROLLER_PATH_ERROR = 0x60,
	NVP_SC_HOST_PATH_ERROR = 0x70,
	NVP_SC_HOST_ABORTED_CMD = 0x71,
};

/* Admin command opcodes */
enum nvp_admin_opc {
	NVP_ADMIN_DELETE_SQ = 0x00,
	NVP_ADMIN_CREATE_SQ = 0x01,
	NVP_ADMIN_GET_LOG_PAGE = 0x02,
	NVP_ADMIN_DELETE_CQ = 0x04,
	NVP_ADMIN_CREATE_CQ = 0x05,
	NVP_ADMIN_IDENTIFY = 0x06,
	NVP_ADMIN_ABORT = 0x08,
	NVP_ADMIN_SET_FEATURES = 0x09,
	NVP_ADMIN_GET_FEATURES = 0x0a,
	NVP_ADMIN_ASYNC_EVENT = 0x0c,
	NVP_ADMIN_NS_MGMT = 0x0d,
	NVP_ADMIN_FW_COMMIT = 0x10,
	NVP_ADMIN_FW_DOWNLOAD = 0x11,
	NVP_ADMIN_NS_ATTACH = 0x15,
	NVP_ADMIN_KEEP_ALIVE = 0x18,
	NVP_ADMIN_DOORBELL_BUF_CFG = 0x7c,
	NVP_ADMIN_FORMAT_NVM = 0x80,
};

/* NVM command set opcodes */
enum nvp_nvm_opc {
	NVP_NVM_FLUSH = 0x00,
	NVP_NVM_WRITE = 0x01,
	NVP_NVM_READ = 0x02,
	NVP_NVM_WRITE_UNCORRECTABLE = 0x04,
	NVP_NVM_COMPARE = 0x05,
	NVP_NVM_WRITE_ZEROES = 0x08,
	NVP_NVM_DSM = 0x09,
	NVP_NVM_VERIFY = 0x0c,
	NVP_NVM_COPY = 0x19,
};

/* Zoned Namespace command set opcodes */
enum nvp_zns_opc {
	NVP_ZNS_MGMT_SEND = 0x79,
	NVP_ZNS_MGMT_RECV = 0x7a,
	NVP_ZNS_APPEND = 0x7d,
};

/* Read/Write CDW12 bits */
#define NVP_RW_FUA		(1u << 30)
#define NVP_RW_LR		(1u << 31)
/* PRINFO (CDW12 bits 29:26): PRACT, then the three PRCHK checks. */
#define NVP_RW_PRACT		(1u << 29)
#define NVP_RW_PRCHK_GUARD	(1u << 28)
#define NVP_RW_PRCHK_APPTAG	(1u << 27)
#define NVP_RW_PRCHK_REFTAG	(1u << 26)
/* CDW15: expected application tag (15:0) and its mask (31:16). */
#define NVP_RW_CDW15(apptag, mask) ((uint32_t)(apptag) | (uint32_t)(mask) << 16)
#define NVP_WZ_DEAC		(1u << 25)	/* write zeroes: deallocate */
/* DSM CDW11 attributes */
#define NVP_DSM_ATTR_IDR	(1u << 0)	/* integral dataset for read */
#define NVP_DSM_ATTR_IDW	(1u << 1)	/* integral dataset for write */
#define NVP_DSM_ATTR_DEALLOCATE	(1u << 2)
/* DSM: at most 256 ranges (CDW10 NR is 8 bits, 0's based). */
#define NVP_DSM_MAX_RANGES	256u

/* Copy CDW12: NR (0's based) in bits 7:0, descriptor format in 11:8. */
#define NVP_COPY_DESC_FMT_SHIFT	8
#define NVP_COPY_DESC_FMT_MASK	(0xfu << 8)
/* Copy: at most 256 source ranges (NR is 8 bits, 0's based). */
#define NVP_COPY_MAX_RANGES	256u

/* Copy Source Range Entry, descriptor format 0 (32 bytes) */
struct nvp_copy_range_fmt0 {
	uint8_t rsvd0[8];
	uint64_t slba;
	uint16_t nlb;		/* 0's based */
	uint8_t rsvd18[6];
	uint32_t eilbrt;	/* expected initial logical block reference tag */
	uint16_t elbat;		/* expected logical block application tag */
	uint16_t elbatm;	/* its mask */
};

/* Dataset management range (16 bytes) */
struct nvp_dsm_range {
	uint32_t cattr;
	uint32_t nlb;		/* not 0's based */
	uint64_t slba;
};

/* Identify CNS values */
enum nvp_identify_cns {
	NVP_CNS_NS = 0x00,
	NVP_CNS_CTRL = 0x01,
	NVP_CNS_ACTIVE_NS_LIST = 0x02,
	NVP_CNS_NS_DESC_LIST = 0x03,
	NVP_CNS_CSI_NS = 0x05,		/* I/O command set specific, CSI in CDW11 */
	NVP_CNS_CSI_CTRL = 0x06,
};

/* Command Set Identifiers (Identify CDW11 bits 31:24, descriptor type 04h) */
#define NVP_CSI_NVM		0x00
#define NVP_CSI_ZNS		0x02
#define NVP_IDENTIFY_CSI_SHIFT	24
/* Namespace Identification Descriptor types (CNS 03h) */
#define NVP_NIDT_EUI64		0x01
#define NVP_NIDT_NGUID		0x02
#define NVP_NIDT_UUID		0x03
#define NVP_NIDT_CSI		0x04

/* Zone Management Send actions (CDW13 bits 7:0); bit 8 selects all zones */
enum nvp_zone_send_action {
	NVP_ZSA_CLOSE = 0x01,
	NVP_ZSA_FINISH = 0x02,
	NVP_ZSA_OPEN = 0x03,
	NVP_ZSA_RESET = 0x04,
	NVP_ZSA_OFFLINE = 0x05,
};
#define NVP_ZSEND_SELECT_ALL	(1u << 8)

/* Zone Management Receive: CDW13 action (7:0), filter (15:8), partial (16) */
#define NVP_ZRA_REPORT		0x00
#define NVP_ZRA_REPORT_EXT	0x01
#define NVP_ZRECV_FILTER_SHIFT	8
#define NVP_ZRECV_PARTIAL	(1u << 16)

/* Zone states (descriptor ZS bits 7:4) and the report filter (ZRASF) */
enum nvp_zone_state {
	NVP_ZS_EMPTY = 0x1,
	NVP_ZS_IMPLICIT_OPEN = 0x2,
	NVP_ZS_EXPLICIT_OPEN = 0x3,
	NVP_ZS_CLOSED = 0x4,
	NVP_ZS_READ_ONLY = 0xd,
	NVP_ZS_FULL = 0xe,
	NVP_ZS_OFFLINE = 0xf,
};
#define NVP_ZONE_TYPE_SEQ_WRITE	0x2	/* sequential write required */

/* Zone Management Receive report header (64 bytes) */
struct nvp_zone_report_hdr {
	uint64_t nr_zones;
	uint8_t rsvd8[56];
};

/* Zone descriptor (64 bytes), as on the wire: little-endian */
struct nvp_zone_desc {
	uint8_t zt;		/* bits 3:0 zone type */
	uint8_t zs;		/* bits 7:4 zone state */
	uint8_t za;		/* zone attributes */
	uint8_t zai;		/* zone attributes information */
	uint8_t rsvd4[4];
	uint64_t zcap;		/* zone capacity, blocks */
	uint64_t zslba;		/* zone start LBA */
	uint64_t wp;		/* write pointer */
	uint8_t rsvd32[32];
};

/* LBA format extension of the ZNS Identify Namespace (16 bytes) */
struct nvp_zns_lbafe {
	uint64_t zsze;		/* zone size, blocks */
	uint8_t zdes;		/* descriptor extension size, 64-byte units */
	uint8_t rsvd9[7];
};

/* ZNS Identify Namespace (CNS 05h, CSI 02h), 4096 bytes */
#define NVP_ZNS_NO_LIMIT	0xffffffffu	/* MAR/MOR: no limit */
#define NVP_ZNS_OZCS_RAZB	(1u << 0)	/* reads across zone boundaries */
struct nvp_zns_id_ns {
	uint16_t zoc;		/* zone operation characteristics */
	uint16_t ozcs;		/* optional zoned command support */
	uint32_t mar;		/* max active resources, 0's based */
	uint32_t mor;		/* max open resources, 0's based */
	uint32_t rrl;
	uint32_t frl;
	uint8_t rsvd20[2796];
	struct nvp_zns_lbafe lbafe[64];
	uint8_t vs[256];
};

/* ZNS Identify Controller (CNS 06h, CSI 02h), 4096 bytes */
struct nvp_zns_id_ctrl {
	uint8_t zasl;		/* append size limit: 2^n CAP.MPSMIN pages, 0 = MDTS */
	uint8_t rsvd1[4095];
};

/* Feature identifiers */
enum nvp_feature {
	NVP_FEAT_ARBITRATION = 0x01,
	NVP_FEAT_POWER_MGMT = 0x02,
	NVP_FEAT_TEMP_THRESH = 0x04,
	NVP_FEAT_ERROR_RECOVERY = 0x05,
	NVP_FEAT_VOLATILE_WC = 0x06,
	NVP_FEAT_NUM_QUEUES = 0x07,
	NVP_FEAT_IRQ_COALESCE = 0x08,
	NVP_FEAT_IRQ_CONFIG = 0x09,
	NVP_FEAT_WRITE_ATOMIC = 0x0a,
	NVP_FEAT_ASYNC_EVENT = 0x0b,
};

/* Log page identifiers */
enum nvp_log_page {
	NVP_LOG_ERROR = 0x01,
	NVP_LOG_SMART = 0x02,
	NVP_LOG_FW_SLOT = 0x03,
	NVP_LOG_CHANGED_NS = 0x04,
	NVP_LOG_CMD_EFFECTS = 0x05,
};

/* Create I/O queue flags (CDW11) */
#define NVP_QUEUE_PHYS_CONTIG	(1u << 0)
#define NVP_CQ_IRQ_ENABLED	(1u << 1)
#define NVP_SQ_PRIO_URGENT	(0u << 1)
#define NVP_SQ_PRIO_HIGH	(1u << 1)
#define NVP_SQ_PRIO_MEDIUM	(2u << 1)
#define NVP_SQ_PRIO_LOW		(3u << 1)

/* Asynchronous event types (CQE DW0 bits 2:0) */
enum nvp_aer_type {
	NVP_AER_TYPE_ERROR = 0x0,
	NVP_AER_TYPE_SMART = 0x1,
	NVP_AER_TYPE_NOTICE = 0x2,
	NVP_AER_TYPE_IO_CMD_SET = 0x6,
	NVP_AER_TYPE_VENDOR = 0x7,
};

/* ------------------------------------------------------------------------ */
/* Identify data structures                                                 */
/* ------------------------------------------------------------------------ */

struct nvp_power_state {
	uint16_t mp;
	uint8_t rsvd2;
	uint8_t flags;
	uint32_t enlat;
	uint32_t exlat;
	uint8_t rrt;
	uint8_t rrl;
	uint8_t rwt;
	uint8_t rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apws;
	uint8_t rsvd23[9];
};

/* Identify Controller (CNS 01h), 4096 bytes */
struct nvp_id_ctrl {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;		/* 2^n units of CAP.MPSMIN; 0 = no limit */
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt1;
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;
	uint8_t vwci;
	uint8_t mec;
	uint16_t oacs;		/* optional admin command support */
	uint8_t acl;		/* abort command limit, 0's based */
	uint8_t aerl;		/* async event request limit, 0's based */
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint16_t domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];
	uint8_t sqes;		/* 3:0 required, 7:4 max (log2) */
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;		/* number of namespaces */
	uint16_t oncs;		/* optional NVM command support */
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t ocfs;
	uint32_t sgls;		/* SGL support */
	uint32_t mnan;
	uint8_t maxdna[16];
	uint32_t maxcna;
	uint8_t rsvd564[204];
	char subnqn[256];
	uint8_t rsvd1024[768];
	uint8_t nvmeof[256];
	struct nvp_power_state psd[32];
	uint8_t vs[1024];
};

/* OACS bits */
#define NVP_OACS_SECURITY	(1u << 0)
#define NVP_OACS_FORMAT		(1u << 1)
#define NVP_OACS_FW		(1u << 2)
#define NVP_OACS_NS_MGMT	(1u << 3)
#define NVP_OACS_SELF_TEST	(1u << 4)
#define NVP_OACS_DIRECTIVES	(1u << 5)
#define NVP_OACS_NVME_MI	(1u << 6)
#define NVP_OACS_VIRT_MGMT	(1u << 7)
#define NVP_OACS_DBBUF		(1u << 8)	/* Doorbell Buffer Config */

/* ONCS bits */
#define NVP_ONCS_COMPARE	(1u << 0)
#define NVP_ONCS_WRITE_UNCOR	(1u << 1)
#define NVP_ONCS_DSM		(1u << 2)
#define NVP_ONCS_WRITE_ZEROES	(1u << 3)
#define NVP_ONCS_SAVE_FEATURES	(1u << 4)
#define NVP_ONCS_RESERVATIONS	(1u << 5)
#define NVP_ONCS_TIMESTAMP	(1u << 6)
#define NVP_ONCS_VERIFY		(1u << 7)
#define NVP_ONCS_COPY		(1u << 8)

/* FUSES bits */
#define NVP_FUSES_COMPARE_WRITE	(1u << 0)	/* fused Compare and Write */

/* SGLS bits 1:0: 01b = supported, no alignment; 10b = dword aligned */
#define NVP_SGLS_SUPPORT_MASK	0x3u
#define NVP_SGLS_SUPPORTED	0x1u
#define NVP_SGLS_DWORD_ALIGNED	0x2u

/* VWC: volatile write cache present */
#define NVP_VWC_PRESENT		(1u << 0)

/* LBA format (4 bytes) */
struct nvp_lbaf {
	uint16_t ms;		/* metadata size */
	uint8_t lbads;		/* LBA data size, log2 */
	uint8_t rp;		/* relative performance, bits 1:0 */
};

/* Identify Namespace (CNS 00h), 4096 bytes */
struct nvp_id_ns {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;		/* 0's based */
	uint8_t flbas;		/* bits 3:0 + 6:5 format index; bit 4 extended LBA */
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint16_t mssrl;
	uint32_t mcl;
	uint8_t msrc;
	uint8_t rsvd81[11];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvp_lbaf lbaf[64];
	uint8_t vs[3712];
};

/* The LBA format index in use (FLBAS bits 3:0 and 6:5). */
#define NVP_ID_NS_FLBAS_INDEX(flbas) \
	((uint8_t)(((flbas) & 0xf) | ((((flbas) >> 5) & 0x3) << 4)))
/* FLBAS bit 4: metadata is interleaved with the data (extended LBAs). */
#define NVP_ID_NS_FLBAS_EXTENDED	(1u << 4)
/* DPS: bits 2:0 the protection type (0 none, 1-3), bit 3 PI first. */
#define NVP_ID_NS_DPS_TYPE(dps)		((uint8_t)((dps) & 0x7))
#define NVP_ID_NS_DPS_FIRST		(1u << 3)
/* CTRATT bit 15: Extended LBA Formats (Identify CNS 05h ELBAF) supported. */
#define NVP_CTRATT_ELBAS		(1u << 15)

/* NVM command set specific Identify Namespace (CNS 05h, CSI 00h), 4096 bytes */
struct nvp_id_ns_nvm {
	uint64_t lbstm;		/* storage tag mask */
	uint8_t pic;		/* protection information capabilities */
	uint8_t rsvd9[3];
	uint32_t elbaf[64];	/* extended LBA formats, one per LBAF */
	uint8_t rsvd268[3828];
};

/* ELBAF: bits 6:0 storage tag size, bits 8:7 the guard (PIF). */
#define NVP_ELBAF_STS(elbaf)		((uint8_t)((elbaf) & 0x7f))
#define NVP_ELBAF_PIF(elbaf)		((uint8_t)(((elbaf) >> 7) & 0x3))
#define NVP_PIF_16B			0u	/* 16-bit guard, 8-byte PI */
#define NVP_PIF_32B			1u	/* 32-bit guard (not supported here) */
#define NVP_PIF_64B			2u	/* 64-bit guard, 16-byte PI */

/* ------------------------------------------------------------------------ */
/* Log pages                                                                */
/* ------------------------------------------------------------------------ */

/* SMART / Health Information (log 02h), 512 bytes */
struct nvp_smart_log {
	uint8_t critical_warning;
	uint16_t temperature;		/* Kelvin; unaligned on the wire */
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];
	uint8_t data_units_written[16];
	uint8_t host_reads[16];
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	uint32_t warning_temp_time;
	uint32_t critical_comp_time;
	uint16_t temp_sensor[8];
	uint32_t thm_temp1_trans_count;
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
} __attribute__((packed));

/* Error Information log entry (log 01h), 64 bytes */
struct nvp_error_log {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cmdid;
	uint16_t status_field;
	uint16_t param_error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t cs;
	uint16_t trtype_spec_info;
	uint8_t rsvd42[22];
};

/* ------------------------------------------------------------------------ */
/* Layout checks: every wire structure, its size and key offsets             */
/* ------------------------------------------------------------------------ */

#ifdef __cplusplus
#define NVP_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NVP_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

NVP_STATIC_ASSERT(sizeof(struct nvp_sgl_desc) == 16, "SGL descriptor is 16 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_sgl_desc, length) == 8, "SGL length at 8");
NVP_STATIC_ASSERT(offsetof(struct nvp_sgl_desc, type) == 15, "SGL type at 15");
NVP_STATIC_ASSERT(sizeof(struct nvp_sqe) == 64, "SQE is 64 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_sqe, cid) == 2, "SQE CID at 2");
NVP_STATIC_ASSERT(offsetof(struct nvp_sqe, nsid) == 4, "SQE NSID at 4");
NVP_STATIC_ASSERT(offsetof(struct nvp_sqe, mptr) == 16, "SQE MPTR at 16");
NVP_STATIC_ASSERT(offsetof(struct nvp_sqe, dptr) == 24, "SQE DPTR at 24");
NVP_STATIC_ASSERT(offsetof(struct nvp_sqe, cdw10) == 40, "SQE CDW10 at 40");
NVP_STATIC_ASSERT(offsetof(struct nvp_sqe, cdw15) == 60, "SQE CDW15 at 60");
NVP_STATIC_ASSERT(sizeof(struct nvp_cqe) == 16, "CQE is 16 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_cqe, sqhd) == 8, "CQE SQHD at 8");
NVP_STATIC_ASSERT(offsetof(struct nvp_cqe, cid) == 12, "CQE CID at 12");
NVP_STATIC_ASSERT(offsetof(struct nvp_cqe, status) == 14, "CQE status at 14");
NVP_STATIC_ASSERT(sizeof(struct nvp_dsm_range) == 16, "DSM range is 16 bytes");
NVP_STATIC_ASSERT(sizeof(struct nvp_copy_range_fmt0) == 32, "copy range (format 0) is 32 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_copy_range_fmt0, slba) == 8, "copy range SLBA at 8");
NVP_STATIC_ASSERT(offsetof(struct nvp_copy_range_fmt0, nlb) == 16, "copy range NLB at 16");
NVP_STATIC_ASSERT(offsetof(struct nvp_copy_range_fmt0, eilbrt) == 24, "copy range EILBRT at 24");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, fuses) == 522, "id_ctrl FUSES at 522");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, acwu) == 532, "id_ctrl ACWU at 532");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, ocfs) == 534, "id_ctrl OCFS at 534");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, nacwu) == 38, "id_ns NACWU at 38");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, mssrl) == 74, "id_ns MSSRL at 74");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, mcl) == 76, "id_ns MCL at 76");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, msrc) == 80, "id_ns MSRC at 80");
NVP_STATIC_ASSERT(sizeof(struct nvp_power_state) == 32, "power state is 32 bytes");
NVP_STATIC_ASSERT(sizeof(struct nvp_id_ctrl) == 4096, "Identify Controller is 4 KiB");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, sn) == 4, "id_ctrl SN at 4");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, mn) == 24, "id_ctrl MN at 24");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, fr) == 64, "id_ctrl FR at 64");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, mdts) == 77, "id_ctrl MDTS at 77");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, ver) == 80, "id_ctrl VER at 80");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, cntrltype) == 111, "id_ctrl CNTRLTYPE at 111");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, oacs) == 256, "id_ctrl OACS at 256");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, acl) == 258, "id_ctrl ACL at 258");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, tnvmcap) == 280, "id_ctrl TNVMCAP at 280");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, kas) == 320, "id_ctrl KAS at 320");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, megcap) == 368, "id_ctrl MEGCAP at 368");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, sqes) == 512, "id_ctrl SQES at 512");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, nn) == 516, "id_ctrl NN at 516");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, oncs) == 520, "id_ctrl ONCS at 520");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, vwc) == 525, "id_ctrl VWC at 525");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, sgls) == 536, "id_ctrl SGLS at 536");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, subnqn) == 768, "id_ctrl SUBNQN at 768");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, psd) == 2048, "id_ctrl PSD at 2048");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ctrl, vs) == 3072, "id_ctrl VS at 3072");
NVP_STATIC_ASSERT(sizeof(struct nvp_lbaf) == 4, "LBA format is 4 bytes");
NVP_STATIC_ASSERT(sizeof(struct nvp_id_ns) == 4096, "Identify Namespace is 4 KiB");
NVP_STATIC_ASSERT(sizeof(struct nvp_id_ns_nvm) == 4096, "NVM Identify Namespace is 4 KiB");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns_nvm, pic) == 8, "id_ns_nvm PIC at 8");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns_nvm, elbaf) == 12, "id_ns_nvm ELBAF at 12");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, nlbaf) == 25, "id_ns NLBAF at 25");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, flbas) == 26, "id_ns FLBAS at 26");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, dlfeat) == 33, "id_ns DLFEAT at 33");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, noiob) == 46, "id_ns NOIOB at 46");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, nvmcap) == 48, "id_ns NVMCAP at 48");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, anagrpid) == 92, "id_ns ANAGRPID at 92");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, nguid) == 104, "id_ns NGUID at 104");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, eui64) == 120, "id_ns EUI64 at 120");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, lbaf) == 128, "id_ns LBAF at 128");
NVP_STATIC_ASSERT(offsetof(struct nvp_id_ns, vs) == 384, "id_ns VS at 384");
NVP_STATIC_ASSERT(sizeof(struct nvp_zone_report_hdr) == 64, "zone report header is 64 bytes");
NVP_STATIC_ASSERT(sizeof(struct nvp_zone_desc) == 64, "zone descriptor is 64 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_zone_desc, zcap) == 8, "zone desc ZCAP at 8");
NVP_STATIC_ASSERT(offsetof(struct nvp_zone_desc, zslba) == 16, "zone desc ZSLBA at 16");
NVP_STATIC_ASSERT(offsetof(struct nvp_zone_desc, wp) == 24, "zone desc WP at 24");
NVP_STATIC_ASSERT(sizeof(struct nvp_zns_lbafe) == 16, "ZNS LBAFE is 16 bytes");
NVP_STATIC_ASSERT(sizeof(struct nvp_zns_id_ns) == 4096, "ZNS Identify Namespace is 4 KiB");
NVP_STATIC_ASSERT(offsetof(struct nvp_zns_id_ns, mar) == 4, "zns id_ns MAR at 4");
NVP_STATIC_ASSERT(offsetof(struct nvp_zns_id_ns, mor) == 8, "zns id_ns MOR at 8");
NVP_STATIC_ASSERT(offsetof(struct nvp_zns_id_ns, lbafe) == 2816, "zns id_ns LBAFE at 2816");
NVP_STATIC_ASSERT(offsetof(struct nvp_zns_id_ns, vs) == 3840, "zns id_ns VS at 3840");
NVP_STATIC_ASSERT(sizeof(struct nvp_zns_id_ctrl) == 4096, "ZNS Identify Controller is 4 KiB");
NVP_STATIC_ASSERT(sizeof(struct nvp_smart_log) == 512, "SMART log is 512 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_smart_log, temperature) == 1, "SMART temperature at 1");
NVP_STATIC_ASSERT(offsetof(struct nvp_smart_log, data_units_read) == 32, "SMART DUR at 32");
NVP_STATIC_ASSERT(offsetof(struct nvp_smart_log, media_errors) == 160, "SMART media errors at 160");
NVP_STATIC_ASSERT(offsetof(struct nvp_smart_log, warning_temp_time) == 192, "SMART WCTT at 192");
NVP_STATIC_ASSERT(offsetof(struct nvp_smart_log, temp_sensor) == 200, "SMART sensors at 200");
NVP_STATIC_ASSERT(sizeof(struct nvp_error_log) == 64, "error log entry is 64 bytes");
NVP_STATIC_ASSERT(offsetof(struct nvp_error_log, lba) == 16, "error log LBA at 16");
NVP_STATIC_ASSERT(offsetof(struct nvp_error_log, cs) == 32, "error log CS at 32");

#ifdef __cplusplus
}
#endif

/* NVMe over Fabrics and the NVMe/TCP PDUs. */
#include <nvpoll/spec_fabrics.h>

#endif /* NVPOLL_SPEC_H */
