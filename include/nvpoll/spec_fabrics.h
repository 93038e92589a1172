/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvpoll/spec_fabrics.h - NVMe over Fabrics and the NVMe/TCP transport, on
 * the wire: the Fabrics commands (Connect, Property Get/Set), the Connect
 * data, the Discovery Log Page, and the NVMe/TCP PDUs (NVMe/TCP Transport
 * Specification 1.0).
 *
 * Every multi-byte field is little-endian on the wire, as in spec.h.
 * Included by spec.h.
 */
#ifndef NVPOLL_SPEC_FABRICS_H
#define NVPOLL_SPEC_FABRICS_H

#include <stddef.h>
#include <stdint.h>

/* ---- Fabrics commands (opcode 7Fh, the type in byte 4) ------------------- */

#define NVP_FABRICS_OPC			0x7f
#define NVP_FCTYPE_PROPERTY_SET		0x00
#define NVP_FCTYPE_CONNECT		0x01
#define NVP_FCTYPE_PROPERTY_GET		0x04

/* Property Get/Set ATTRIB bits 2:0: the property's size. */
#define NVP_PROP_SIZE_4			0
#define NVP_PROP_SIZE_8			1

/* Connect CATTR bit 2: SQ flow control off (CQEs' SQHD unused; lets the
 * target end a read with the C2HData SUCCESS flag, no CapsuleResp). */
#define NVP_CONNECT_SQFC_DISABLE	(1u << 2)

/* Connect: the controller ID that asks for any (dynamic) controller. */
#define NVP_CNTLID_DYNAMIC		0xffff

/* The NQN of every discovery controller. */
#define NVP_DISCOVERY_NQN		"nqn.2014-08.org.nvmexpress.discovery"
#define NVP_NQN_MAX			223	/* bytes, without the terminating NUL */

/**
 * struct nvp_fabrics_cmd - a Fabrics command as its 64-byte SQE.
 * @opc: NVP_FABRICS_OPC.
 * @rsvd1: reserved (PSDT/FUSE are 0: TCP always uses SGLs).
 * @cid: command identifier.
 * @fctype: NVP_FCTYPE_*.
 * @rsvd2: reserved.
 * @sgl1: the data descriptor (Connect data), as in struct nvp_sqe.
 * @spec: the command type's own 24 bytes (struct nvp_connect_cmd,
 *        struct nvp_property_cmd overlay this whole SQE).
 */
struct nvp_fabrics_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[19];
	uint8_t sgl1[16];
	uint8_t spec[24];
};

/**
 * struct nvp_connect_cmd - Connect (FCTYPE 01h).
 * @recfmt: record format, 0.
 * @qid: queue to create (0 = admin).
 * @sqsize: SQ entries, 0's based.
 * @cattr: connect attributes: bits 1:0 priority class, bit 2
 *         NVP_CONNECT_SQFC_DISABLE.
 * @kato: Keep Alive Timeout in ms (admin queue only; 0 = none).
 */
struct nvp_connect_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[19];
	uint8_t sgl1[16];
	uint16_t recfmt;
	uint16_t qid;
	uint16_t sqsize;
	uint8_t cattr;
	uint8_t rsvd3;
	uint32_t kato;
	uint8_t rsvd4[12];
};

/**
 * struct nvp_connect_data - the 1024 bytes a Connect command carries.
 * @hostid: the host identifier (a UUID).
 * @cntlid: NVP_CNTLID_DYNAMIC for the admin queue; the controller ID the
 *          admin Connect returned, for an I/O queue.
 * @subnqn: the subsystem's NQN, NUL-terminated.
 * @hostnqn: the host's NQN, NUL-terminated.
 */
struct nvp_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;
	uint8_t rsvd1[238];
	char subnqn[256];
	char hostnqn[256];
	uint8_t rsvd2[256];
};

/**
 * struct nvp_property_cmd - Property Set (FCTYPE 00h) and Get (04h).
 * @attrib: bits 2:0 NVP_PROP_SIZE_*.
 * @ofst: the property's offset (the register's offset in BAR0: CAP 0h,
 *        VS 8h, CC 14h, CSTS 1Ch).
 * @value: the value to set (Set only; a 4-byte property in the low half).
 */
struct nvp_property_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[35];
	uint8_t attrib;
	uint8_t rsvd3[3];
	uint32_t ofst;
	uint64_t value;
	uint8_t rsvd4[8];
};

/* ---- The Discovery Log Page (log identifier 70h) ----------------------- */

/*
 * A discovery controller (subsystem NQN NVP_DISCOVERY_NQN) answers Get Log
 * Page 70h with a 1024-byte header and NUMREC 1024-byte entries after it,
 * one per way to reach a subsystem (NVMe Base Specification 2.0, "Discovery
 * Log Page"; NVMe over Fabrics 1.1, 5.3). A host that reads it in pieces
 * re-reads the header afterwards: a different GENCTR means the log changed
 * in between and must be read again.
 */
#define NVP_LOG_DISCOVERY		0x70
#define NVP_DISC_HDR_SIZE		1024u
#define NVP_DISC_ENTRY_SIZE		1024u

/* TRTYPE: the transport. */
#define NVP_TRTYPE_RDMA			0x01
#define NVP_TRTYPE_FC			0x02
#define NVP_TRTYPE_TCP			0x03
#define NVP_TRTYPE_LOOP			0xfe	/* intra-host */

/* ADRFAM: how TRADDR is written. */
#define NVP_ADRFAM_IPV4			0x01
#define NVP_ADRFAM_IPV6			0x02
#define NVP_ADRFAM_IB			0x03
#define NVP_ADRFAM_FC			0x04
#define NVP_ADRFAM_LOOP			0xfe	/* intra-host */

/* SUBTYPE: what the entry leads to. */
#define NVP_SUBTYPE_DISCOVERY_REFERRAL	0x01	/* another discovery subsystem */
#define NVP_SUBTYPE_NVM			0x02	/* an NVM subsystem */
#define NVP_SUBTYPE_DISCOVERY_CURRENT	0x03	/* this discovery subsystem */

/* TREQ: transport requirements. Bits 1:0, the secure channel: */
#define NVP_TREQ_SECURE_MASK		0x03
#define NVP_TREQ_SECURE_UNSPECIFIED	0x00
#define NVP_TREQ_SECURE_REQUIRED	0x01
#define NVP_TREQ_SECURE_NOT_REQUIRED	0x02
#define NVP_TREQ_SQFLOW_DISABLE		0x04	/* SQ flow control may be disabled */

/* Get Log Page status for a log that changed while read in pieces. */
#define NVP_SC_DISCOVERY_RESTART	0x190	/* SCT 1h, SC 90h */

/**
 * struct nvp_disc_log_hdr - the Discovery Log Page's first 1024 bytes.
 * @genctr: generation counter: changes whenever the log's contents do.
 * @numrec: entries in the log.
 * @recfmt: record format, 0.
 */
struct nvp_disc_log_hdr {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd[1006];
};

/**
 * struct nvp_disc_log_entry - one Discovery Log Page entry (1024 bytes).
 * @trtype: NVP_TRTYPE_*.
 * @adrfam: NVP_ADRFAM_*.
 * @subtype: NVP_SUBTYPE_*.
 * @treq: NVP_TREQ_*.
 * @portid: the NVM subsystem port.
 * @cntlid: 0xFFFF: any (dynamic) controller; 0xFFFE: static, the host
 *          picks; else the one controller to connect to.
 * @asqsz: the admin SQ's size the host must allow for (at least 32).
 * @eflags: entry flags (Base 2.0: duplicate returned information, explicit
 *          persistent connection support).
 * @trsvcid: the transport service (TCP: the port), ASCII, NUL or space padded.
 * @subnqn: the subsystem's NQN, NUL-terminated.
 * @traddr: the transport address (TCP: the IP address), ASCII, padded.
 * @tsas: transport specific address subtype (TCP: byte 0 is SECTYPE).
 */
struct nvp_disc_log_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t rsvd1[20];
	char trsvcid[32];
	uint8_t rsvd2[192];
	char subnqn[256];
	char traddr[256];
	uint8_t tsas[256];
};

/* ---- NVMe/TCP PDUs ------------------------------------------------------- */

#define NVP_TCP_PORT_DEFAULT		4420

enum nvp_tcp_pdu_type {
	NVP_TCP_ICREQ		= 0x00,
	NVP_TCP_ICRESP		= 0x01,
	NVP_TCP_H2C_TERM	= 0x02,
	NVP_TCP_C2H_TERM	= 0x03,
	NVP_TCP_CAPSULE_CMD	= 0x04,
	NVP_TCP_CAPSULE_RESP	= 0x05,
	NVP_TCP_H2C_DATA	= 0x06,
	NVP_TCP_C2H_DATA	= 0x07,
	NVP_TCP_R2T		= 0x09,
};

/* Common header flags. */
#define NVP_TCP_F_HDGST		(1u << 0)	/* a header digest follows the header */
#define NVP_TCP_F_DDGST		(1u << 1)	/* a data digest follows the data */
#define NVP_TCP_F_LAST_PDU	(1u << 2)	/* H2CData/C2HData: last of the transfer */
#define NVP_TCP_F_SUCCESS	(1u << 3)	/* C2HData: the command succeeded, no CapsuleResp */

/* ICReq/ICResp DGST bits: digests the connection uses. */
#define NVP_TCP_DGST_HDR	(1u << 0)
#define NVP_TCP_DGST_DATA	(1u << 1)

#define NVP_TCP_DIGEST_LEN	4

/**
 * struct nvp_tcp_hdr - the common header that starts every PDU.
 * @type: enum nvp_tcp_pdu_type.
 * @flags: NVP_TCP_F_*.
 * @hlen: length of the PDU-specific header, this common header included
 *        (no digest).
 * @pdo: offset of the data from the PDU's start (0 without data).
 * @plen: length of the whole PDU: header, digests, padding, data.
 */
struct nvp_tcp_hdr {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
};

/**
 * struct nvp_tcp_icreq - Initialize Connection Request (host to controller).
 * @hdr: type NVP_TCP_ICREQ, hlen = plen = 128.
 * @pfv: PDU format version, 0.
 * @hpda: host PDU data alignment, in dwords, 0's based (0: none).
 * @dgst: NVP_TCP_DGST_* the host wants.
 * @maxr2t: R2Ts the host accepts outstanding per command, 0's based.
 */
struct nvp_tcp_icreq {
	struct nvp_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t hpda;
	uint8_t dgst;
	uint32_t maxr2t;
	uint8_t rsvd[112];
};

/**
 * struct nvp_tcp_icresp - Initialize Connection Response.
 * @hdr: type NVP_TCP_ICRESP, hlen = plen = 128.
 * @pfv: PDU format version, 0.
 * @cpda: controller PDU data alignment, in dwords, 0's based.
 * @dgst: NVP_TCP_DGST_* the connection uses.
 * @maxh2cdata: the most data one H2CData PDU may carry, bytes (>= 4096).
 */
struct nvp_tcp_icresp {
	struct nvp_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t cpda;
	uint8_t dgst;
	uint32_t maxh2cdata;
	uint8_t rsvd[112];
};

/**
 * struct nvp_tcp_data_hdr - H2CData, C2HData and R2T headers (24 bytes).
 * @hdr: the common header.
 * @cccid: the command's CID.
 * @ttag: H2CData/R2T: the transfer tag the R2T gave; C2HData: reserved.
 * @offset: where in the command's data this PDU's data goes (R2T: from
 *          where the controller wants data).
 * @length: bytes of data in this PDU (R2T: bytes wanted).
 */
struct nvp_tcp_data_hdr {
	struct nvp_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t offset;
	uint32_t length;
	uint32_t rsvd;
};

/**
 * struct nvp_tcp_term_hdr - H2CTermReq/C2HTermReq: the connection is over.
 * @hdr: the common header; the offending PDU's header follows as data.
 * @fes: fatal error status (NVP_TCP_FES_*).
 * @fei: field error information (e.g. the offset of the bad field).
 */
struct nvp_tcp_term_hdr {
	struct nvp_tcp_hdr hdr;
	uint16_t fes;
	uint32_t fei;
	uint8_t rsvd[10];
} __attribute__((packed));

#define NVP_TCP_FES_INVALID_HDR_FIELD	0x01
#define NVP_TCP_FES_PDU_SEQ_ERROR	0x02
#define NVP_TCP_FES_HDGST_ERROR		0x03
#define NVP_TCP_FES_DATA_OUT_OF_RANGE	0x04
#define NVP_TCP_FES_R2T_LIMIT		0x05
#define NVP_TCP_FES_UNSUPPORTED_PARAM	0x06

/* A Terminate Request carries at most this much of the offending PDU. */
#define NVP_TCP_TERM_MAX_DATA		152

/* Header lengths (hlen) of each PDU type. */
#define NVP_TCP_IC_HLEN			128
#define NVP_TCP_CAPSULE_CMD_HLEN	72	/* common header + SQE */
#define NVP_TCP_CAPSULE_RESP_HLEN	24	/* common header + CQE */
#define NVP_TCP_DATA_HLEN		24
#define NVP_TCP_TERM_HLEN		24

/* SGL descriptor types (byte 15) a TCP command's data pointer uses. */
#define NVP_SGL_TCP_INCAPSULE	0x01	/* Data Block, subtype offset: data in the capsule */
#define NVP_SGL_TCP_TRANSPORT	0x5a	/* Transport Data Block, transport specific */

/* ---- Layout checks ------------------------------------------------------ */

#ifdef __cplusplus
#define NVP_FABRICS_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NVP_FABRICS_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

NVP_FABRICS_ASSERT(sizeof(struct nvp_fabrics_cmd) == 64, "a Fabrics command is an SQE");
NVP_FABRICS_ASSERT(sizeof(struct nvp_connect_cmd) == 64, "Connect is an SQE");
NVP_FABRICS_ASSERT(offsetof(struct nvp_connect_cmd, qid) == 42, "Connect QID at 42");
NVP_FABRICS_ASSERT(offsetof(struct nvp_connect_cmd, kato) == 48, "Connect KATO at 48 (CDW12)");
NVP_FABRICS_ASSERT(sizeof(struct nvp_connect_data) == 1024, "Connect data is 1024 bytes");
NVP_FABRICS_ASSERT(offsetof(struct nvp_connect_data, subnqn) == 256, "SUBNQN at 256");
NVP_FABRICS_ASSERT(offsetof(struct nvp_connect_data, hostnqn) == 512, "HOSTNQN at 512");
NVP_FABRICS_ASSERT(sizeof(struct nvp_property_cmd) == 64, "Property Get/Set is an SQE");
NVP_FABRICS_ASSERT(offsetof(struct nvp_property_cmd, attrib) == 40, "ATTRIB at 40");
NVP_FABRICS_ASSERT(offsetof(struct nvp_property_cmd, ofst) == 44, "OFST at 44");
NVP_FABRICS_ASSERT(offsetof(struct nvp_property_cmd, value) == 48, "VALUE at 48");
NVP_FABRICS_ASSERT(sizeof(struct nvp_disc_log_hdr) == NVP_DISC_HDR_SIZE, "discovery log header is 1024 bytes");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_hdr, numrec) == 8, "NUMREC at 8");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_hdr, recfmt) == 16, "RECFMT at 16");
NVP_FABRICS_ASSERT(sizeof(struct nvp_disc_log_entry) == NVP_DISC_ENTRY_SIZE, "discovery log entry is 1024 bytes");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, portid) == 4, "PORTID at 4");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, cntlid) == 6, "CNTLID at 6");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, asqsz) == 8, "ASQSZ at 8");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, eflags) == 10, "EFLAGS at 10");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, trsvcid) == 32, "TRSVCID at 32");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, subnqn) == 256, "SUBNQN at 256");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, traddr) == 512, "TRADDR at 512");
NVP_FABRICS_ASSERT(offsetof(struct nvp_disc_log_entry, tsas) == 768, "TSAS at 768");
NVP_FABRICS_ASSERT(sizeof(struct nvp_tcp_hdr) == 8, "common header is 8 bytes");
NVP_FABRICS_ASSERT(sizeof(struct nvp_tcp_icreq) == NVP_TCP_IC_HLEN, "ICReq is 128 bytes");
NVP_FABRICS_ASSERT(sizeof(struct nvp_tcp_icresp) == NVP_TCP_IC_HLEN, "ICResp is 128 bytes");
NVP_FABRICS_ASSERT(offsetof(struct nvp_tcp_icresp, maxh2cdata) == 12, "MAXH2CDATA at 12");
NVP_FABRICS_ASSERT(sizeof(struct nvp_tcp_data_hdr) == NVP_TCP_DATA_HLEN, "data PDU header is 24 bytes");
NVP_FABRICS_ASSERT(offsetof(struct nvp_tcp_data_hdr, offset) == 12, "DATAO/R2TO at 12");
NVP_FABRICS_ASSERT(sizeof(struct nvp_tcp_term_hdr) == NVP_TCP_TERM_HLEN, "TermReq header is 24 bytes");
NVP_FABRICS_ASSERT(offsetof(struct nvp_tcp_term_hdr, fei) == 10, "FEI at 10");

#endif /* NVPOLL_SPEC_FABRICS_H */
