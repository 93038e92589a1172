/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp/pdu.c - NVMe/TCP PDU checks and builders (pdu.h).
 *
 * A received header is checked against its type's fixed layout before the
 * rest of the PDU is read: the lengths it declares decide how many bytes
 * are read next and where they go, so they must add up first.
 */
#include <errno.h>
#include <string.h>

#include "tcp/pdu.h"
#include "util/crc32c.h"
#include "util/log.h"

const char *nvp_tcp_pdu_name(uint8_t type)
{
	switch (type) {
	case NVP_TCP_ICREQ: return "ICReq";
	case NVP_TCP_ICRESP: return "ICResp";
	case NVP_TCP_H2C_TERM: return "H2CTermReq";
	case NVP_TCP_C2H_TERM: return "C2HTermReq";
	case NVP_TCP_CAPSULE_CMD: return "CapsuleCmd";
	case NVP_TCP_CAPSULE_RESP: return "CapsuleResp";
	case NVP_TCP_H2C_DATA: return "H2CData";
	case NVP_TCP_C2H_DATA: return "C2HData";
	case NVP_TCP_R2T: return "R2T";
	default: return "unknown";
	}
}

static int bad(const struct nvp_tcp_hdr *h, const char *what, uint32_t got, uint32_t want)
{
	return nvp_error(-EPROTO, "NVMe/TCP protocol error: %s PDU (type 0x%02x) with %s %u, "
			 "expected %u; the target broke the protocol, so the connection is "
			 "closed (check that the address is an NVMe/TCP target)",
			 nvp_tcp_pdu_name(h->type), h->type, what, got, want);
}

int nvp_tcp_pdu_check(const struct nvp_tcp_hdr *h, const struct nvp_tcp_conn_params *p,
		      struct nvp_tcp_pdu_layout *out)
{
	uint32_t plen = nvp_le32_to_cpu(h->plen);
	uint32_t hlen = h->hlen, pdo = h->pdo, dgst = NVP_TCP_DIGEST_LEN;
	bool hd = h->flags & NVP_TCP_F_HDGST, dd = h->flags & NVP_TCP_F_DDGST;
	uint32_t want_hlen, allowed_flags = 0, end;

	memset(out, 0, sizeof(*out));
	out->type = h->type;
	switch (h->type) {
	case NVP_TCP_ICRESP:
		if (p)
			return nvp_error(-EPROTO, "NVMe/TCP protocol error: a second ICResp on a "
					 "connection already initialised; closing it");
		want_hlen = NVP_TCP_IC_HLEN;
		break;
	case NVP_TCP_C2H_TERM:
		want_hlen = NVP_TCP_TERM_HLEN;
		break;
	case NVP_TCP_CAPSULE_RESP:
		want_hlen = NVP_TCP_CAPSULE_RESP_HLEN;
		allowed_flags = NVP_TCP_F_HDGST;
		break;
	case NVP_TCP_C2H_DATA:
		want_hlen = NVP_TCP_DATA_HLEN;
		allowed_flags = NVP_TCP_F_HDGST | NVP_TCP_F_DDGST | NVP_TCP_F_LAST_PDU |
				NVP_TCP_F_SUCCESS;
		break;
	case NVP_TCP_R2T:
		want_hlen = NVP_TCP_DATA_HLEN;
		allowed_flags = NVP_TCP_F_HDGST;
		break;
	case NVP_TCP_ICREQ:
	case NVP_TCP_H2C_TERM:
	case NVP_TCP_CAPSULE_CMD:
	case NVP_TCP_H2C_DATA:
		return nvp_error(-EPROTO, "NVMe/TCP protocol error: received a %s PDU, which only "
				 "a host sends; is the address another host rather than a "
				 "target?", nvp_tcp_pdu_name(h->type));
	default:
		return nvp_error(-EPROTO, "NVMe/TCP protocol error: unknown PDU type 0x%02x; "
				 "closing the connection (is this an NVMe/TCP target?)", h->type);
	}
	if (!p && h->type != NVP_TCP_ICRESP && h->type != NVP_TCP_C2H_TERM)
		return nvp_error(-EPROTO, "NVMe/TCP protocol error: a %s PDU before the ICResp "
				 "that initialises the connection", nvp_tcp_pdu_name(h->type));
	if (hlen != want_hlen)
		return bad(h, "header length", hlen, want_hlen);
	if (h->flags & ~allowed_flags)
		return bad(h, "flags", h->flags, h->flags & allowed_flags);
	if (allowed_flags & NVP_TCP_F_HDGST) {
		if (hd != p->hdgst)
			return bad(h, "header digest flag", hd, p->hdgst);
	}
	if ((h->flags & NVP_TCP_F_SUCCESS) && !(h->flags & NVP_TCP_F_LAST_PDU))
		return nvp_error(-EPROTO, "NVMe/TCP protocol error: C2HData with SUCCESS but not "
				 "LAST_PDU (the spec allows SUCCESS only on the last)");

	out->hlen = (uint8_t)hlen;
	out->hdgst = hd;
	out->plen = plen;
	end = hlen + (hd ? dgst : 0);	/* where the header and its digest end */

	switch (h->type) {
	case NVP_TCP_ICRESP:
		if (plen != hlen || pdo != 0)
			return bad(h, "PDU length", plen, hlen);
		return 0;
	case NVP_TCP_C2H_TERM:
		/* The data is the offending PDU's header, at most 152 bytes. */
		if (plen < hlen || plen - hlen > NVP_TCP_TERM_MAX_DATA)
			return bad(h, "PDU length", plen, hlen);
		out->data_off = plen > hlen ? hlen : 0;
		out->data_len = plen - hlen;
		return 0;
	case NVP_TCP_CAPSULE_RESP:
	case NVP_TCP_R2T:
		if (pdo != 0)
			return bad(h, "data offset", pdo, 0);
		if (plen != end)
			return bad(h, "PDU length", plen, end);
		return 0;
	default: /* C2HData */
		if (dd != p->ddgst)
			return bad(h, "data digest flag", dd, p->ddgst);
		if (pdo < end)
			return bad(h, "data offset", pdo, end);
		if (plen < pdo + (dd ? dgst : 0) + 1)
			return nvp_error(-EPROTO, "NVMe/TCP protocol error: C2HData PDU of %u bytes "
					 "with its data at %u holds no data", plen, pdo);
		out->data_off = pdo;
		out->data_len = plen - pdo - (dd ? dgst : 0);
		out->ddgst = dd;
		if (out->data_len > p->max_data)
			return bad(h, "data length", out->data_len, p->max_data);
		return 0;
	}
}

bool nvp_tcp_hdgst_ok(const void *pdu, uint32_t hlen)
{
	uint8_t want[NVP_TCP_DIGEST_LEN];

	nvp_tcp_put_digest(want, nvp_crc32c(pdu, hlen));
	return memcmp(want, (const uint8_t *)pdu + hlen, sizeof(want)) == 0;
}

void nvp_tcp_put_digest(void *dst, uint32_t crc)
{
	uint32_t le = nvp_cpu_to_le32(crc);

	memcpy(dst, &le, sizeof(le));
}

void nvp_tcp_build_icreq(struct nvp_tcp_icreq *req, bool hdgst, bool ddgst, uint32_t maxr2t)
{
	memset(req, 0, sizeof(*req));
	req->hdr.type = NVP_TCP_ICREQ;
	req->hdr.hlen = NVP_TCP_IC_HLEN;
	req->hdr.plen = nvp_cpu_to_le32(NVP_TCP_IC_HLEN);
	req->pfv = 0;
	req->hpda = 0;		/* the host takes data at any offset */
	req->dgst = (uint8_t)((hdgst ? NVP_TCP_DGST_HDR : 0) | (ddgst ? NVP_TCP_DGST_DATA : 0));
	req->maxr2t = nvp_cpu_to_le32(maxr2t);
}

int nvp_tcp_icresp_check(const struct nvp_tcp_icresp *r, bool asked_hdgst, bool asked_ddgst,
			 struct nvp_tcp_conn_params *p)
{
	uint32_t maxh2c = nvp_le32_to_cpu(r->maxh2cdata);
	bool hd = r->dgst & NVP_TCP_DGST_HDR, dd = r->dgst & NVP_TCP_DGST_DATA;

	if (nvp_le16_to_cpu(r->pfv) != 0)
		return nvp_error(-EPROTO, "NVMe/TCP: the target speaks PDU format version %u; "
				 "nvpoll knows version 0 only", nvp_le16_to_cpu(r->pfv));
	if ((hd && !asked_hdgst) || (dd && !asked_ddgst))
		return nvp_error(-EPROTO, "NVMe/TCP: the target turned on %s digests the host "
				 "did not ask for", hd && !asked_hdgst ? "header" : "data");
	if (r->cpda > 31)
		return nvp_error(-EPROTO, "NVMe/TCP: ICResp CPDA %u is out of range (0..31)",
				 r->cpda);
	if (maxh2c < 4096 || maxh2c % 4)
		return nvp_error(-EPROTO, "NVMe/TCP: ICResp MAXH2CDATA %u is invalid (at least "
				 "4096, a multiple of 4)", maxh2c);
	p->hdgst = hd;
	p->ddgst = dd;
	p->cpda = r->cpda ? (r->cpda + 1u) * 4u : 0;
	p->maxh2cdata = maxh2c;
	return 0;
}

/* Host data starts at the first offset after @end that CPDA allows. */
static uint32_t data_offset(const struct nvp_tcp_conn_params *p, uint32_t end)
{
	if (!p->cpda)
		return end;
	return (end + p->cpda - 1) / p->cpda * p->cpda;
}

uint32_t nvp_tcp_build_capsule_hdr(struct nvp_tcp_hdr *hdr, const struct nvp_tcp_conn_params *p,
				   uint32_t incapsule)
{
	uint32_t end = NVP_TCP_CAPSULE_CMD_HLEN + (p->hdgst ? NVP_TCP_DIGEST_LEN : 0);
	uint32_t pdo = incapsule ? data_offset(p, end) : 0;
	uint32_t plen = incapsule ? pdo + incapsule + (p->ddgst ? NVP_TCP_DIGEST_LEN : 0) : end;

	hdr->type = NVP_TCP_CAPSULE_CMD;
	hdr->flags = (uint8_t)((p->hdgst ? NVP_TCP_F_HDGST : 0) |
			       (incapsule && p->ddgst ? NVP_TCP_F_DDGST : 0));
	hdr->hlen = NVP_TCP_CAPSULE_CMD_HLEN;
	hdr->pdo = (uint8_t)pdo;
	hdr->plen = nvp_cpu_to_le32(plen);
	return pdo;
}

uint32_t nvp_tcp_build_h2c_data(struct nvp_tcp_data_hdr *h, const struct nvp_tcp_conn_params *p,
				uint16_t cccid, uint16_t ttag, uint32_t offset, uint32_t length,
				bool last)
{
	uint32_t end = NVP_TCP_DATA_HLEN + (p->hdgst ? NVP_TCP_DIGEST_LEN : 0);
	uint32_t pdo = data_offset(p, end);

	memset(h, 0, sizeof(*h));
	h->hdr.type = NVP_TCP_H2C_DATA;
	h->hdr.flags = (uint8_t)((p->hdgst ? NVP_TCP_F_HDGST : 0) |
				 (p->ddgst ? NVP_TCP_F_DDGST : 0) | (last ? NVP_TCP_F_LAST_PDU : 0));
	h->hdr.hlen = NVP_TCP_DATA_HLEN;
	h->hdr.pdo = (uint8_t)pdo;
	h->hdr.plen = nvp_cpu_to_le32(pdo + length + (p->ddgst ? NVP_TCP_DIGEST_LEN : 0));
	h->cccid = nvp_cpu_to_le16(cccid);
	h->ttag = nvp_cpu_to_le16(ttag);
	h->offset = nvp_cpu_to_le32(offset);
	h->length = nvp_cpu_to_le32(length);
	return pdo;
}
