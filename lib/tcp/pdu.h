/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/pdu.h - NVMe/TCP PDUs: checking what a controller sent before
 * trusting a byte of it, and building what the host sends.
 *
 * The controller is untrusted like a PCIe device: a header with a length,
 * type or offset that does not add up is a protocol error with a message,
 * never an out-of-bounds read or write.
 */
#ifndef NVP_LIB_TCP_PDU_H
#define NVP_LIB_TCP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvpoll/spec.h>

/**
 * struct nvp_tcp_pdu_layout - where the parts of a received PDU lie.
 * @type: enum nvp_tcp_pdu_type.
 * @hlen: header bytes (common header included, digest not).
 * @hdgst: a header digest follows the header.
 * @data_off: offset of the data from the PDU's start (0: no data).
 * @data_len: data bytes.
 * @ddgst: a data digest follows the data.
 * @plen: the whole PDU.
 */
struct nvp_tcp_pdu_layout {
	uint8_t type;
	uint8_t hlen;
	bool hdgst;
	uint32_t data_off;
	uint32_t data_len;
	bool ddgst;
	uint32_t plen;
};

/**
 * struct nvp_tcp_conn_params - what a connection negotiated (ICReq/ICResp).
 * @hdgst: header digests on. @ddgst: data digests on.
 * @cpda: the controller's PDU data alignment (bytes, 0: none).
 * @maxh2cdata: the most data one H2CData PDU may carry.
 * @max_data: the most data the host accepts in one received PDU.
 */
struct nvp_tcp_conn_params {
	bool hdgst;
	bool ddgst;
	uint32_t cpda;
	uint32_t maxh2cdata;
	uint32_t max_data;
};

/* The common header's length: what must arrive before anything is known. */
#define NVP_TCP_HDR_LEN ((uint32_t)sizeof(struct nvp_tcp_hdr))

/* The longest header plus digest a controller may send (ICResp). */
#define NVP_TCP_MAX_HDR (NVP_TCP_IC_HLEN + NVP_TCP_DIGEST_LEN)

/**
 * nvp_tcp_pdu_check() - validate a received common header.
 * @hdr: the first NVP_TCP_HDR_LEN bytes, as received.
 * @p: the connection's parameters, or NULL before ICResp (then only an
 *     ICResp or C2HTermReq is acceptable).
 * @out: where the rest of the PDU lies.
 *
 * Return: 0, or -EPROTO with a message naming the field and its value: an
 * unknown or host-to-controller type, a header length that is not the
 * type's, a data offset inside the header or past the PDU, a length that
 * does not add up, more data than @p->max_data, digests that differ from
 * what was negotiated.
 */
int nvp_tcp_pdu_check(const struct nvp_tcp_hdr *hdr, const struct nvp_tcp_conn_params *p,
		      struct nvp_tcp_pdu_layout *out);

/**
 * nvp_tcp_hdgst_ok() - check a received header's digest.
 * @pdu: the PDU's first @hlen + 4 bytes.
 * @hlen: the header length.
 */
bool nvp_tcp_hdgst_ok(const void *pdu, uint32_t hlen);

/* Put the CRC32C digest of @len bytes at @dst (little-endian, as sent). */
void nvp_tcp_put_digest(void *dst, uint32_t crc);

/**
 * nvp_tcp_build_icreq() - the host's Initialize Connection Request.
 * @req: out.
 * @hdgst/@ddgst: digests the host asks for.
 * @maxr2t: outstanding R2Ts per command the host accepts, 0's based.
 */
void nvp_tcp_build_icreq(struct nvp_tcp_icreq *req, bool hdgst, bool ddgst, uint32_t maxr2t);

/**
 * nvp_tcp_icresp_check() - validate an ICResp and fill @p from it.
 * @resp: the 128 received bytes. @asked_hdgst/@asked_ddgst: what ICReq asked.
 * @p: out (@p->max_data is left as it is).
 *
 * Return: 0 or -EPROTO (bad version, digests the host did not ask for,
 * MAXH2CDATA below 4096 or not a multiple of 4, CPDA out of range).
 */
int nvp_tcp_icresp_check(const struct nvp_tcp_icresp *resp, bool asked_hdgst,
			 bool asked_ddgst, struct nvp_tcp_conn_params *p);

/**
 * nvp_tcp_build_capsule_hdr() - the header of a CapsuleCmd PDU.
 * @hdr: out: the common header (the SQE follows it in the PDU).
 * @p: the connection's parameters.
 * @incapsule: in-capsule data bytes that will follow (0: none).
 *
 * Return: the offset of the in-capsule data (pdo), or 0 without data.
 */
uint32_t nvp_tcp_build_capsule_hdr(struct nvp_tcp_hdr *hdr, const struct nvp_tcp_conn_params *p,
				   uint32_t incapsule);

/**
 * nvp_tcp_build_h2c_data() - the header of an H2CData PDU.
 * @h: out. @p: parameters. @cccid/@ttag: from the R2T.
 * @offset/@length: the data this PDU carries. @last: last PDU of the R2T.
 *
 * Return: the data offset (pdo).
 */
uint32_t nvp_tcp_build_h2c_data(struct nvp_tcp_data_hdr *h, const struct nvp_tcp_conn_params *p,
				uint16_t cccid, uint16_t ttag, uint32_t offset, uint32_t length,
				bool last);

/* A PDU type's name, for messages ("C2HData"). */
const char *nvp_tcp_pdu_name(uint8_t type);

#endif /* NVP_LIB_TCP_PDU_H */
