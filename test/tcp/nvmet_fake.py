# SPDX-License-Identifier: BSD-3-Clause
"""NVMe/TCP wire helpers for the fake targets (stdlib only).

CRC32C (table-driven: Python's stdlib has none), exact receives, and the
PDUs a controller sends and receives: one received PDU as a Pdu (header
checked against the negotiated digests), and builders for ICResp,
CapsuleResp, C2HData, R2T and C2HTermReq with their digests.
"""
import os
import socket
import struct

# PDU types (NVMe/TCP 1.0, 3.3)
ICREQ, ICRESP, H2C_TERM, C2H_TERM = 0x00, 0x01, 0x02, 0x03
CAPSULE_CMD, CAPSULE_RESP, H2C_DATA, C2H_DATA, R2T = 0x04, 0x05, 0x06, 0x07, 0x09
# common header flags
F_HDGST, F_DDGST, F_LAST_PDU, F_SUCCESS = 0x01, 0x02, 0x04, 0x08

IC_HLEN, CMD_HLEN, RESP_HLEN, DATA_HLEN, TERM_HLEN = 128, 72, 24, 24, 24


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data, crc=0):
    """CRC32C (Castagnoli), as iSCSI and NVMe/TCP digests use it."""
    c = crc ^ 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def digest(data):
    return struct.pack("<I", crc32c(data))


class Closed(Exception):
    """The peer closed the connection."""


class ProtocolError(Exception):
    """The host sent something a controller must refuse."""


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            raise Closed()
        buf += got
    return bytes(buf)


class Pdu:
    """One received PDU: type, flags, header (common header included), data."""

    def __init__(self, typ, flags, hdr, data):
        self.type, self.flags, self.hdr, self.data = typ, flags, hdr, data


class Wire:
    """One connection's framing: digests as negotiated (off until ICReq)."""

    def __init__(self, sock):
        self.s = sock
        self.hdgst = False
        self.ddgst = False
        self.send_lock = None
        self.cpda = 0          # the alignment asked of host data: (cpda + 1) * 4

    def recv_pdu(self):
        ch = recv_exact(self.s, 8)
        typ, flags, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        if hlen < 8 or plen < hlen:
            raise ProtocolError(f"PDU type {typ:#x}: hlen {hlen}, plen {plen}")
        hd = typ != ICREQ and self.hdgst and (flags & F_HDGST)
        if typ != ICREQ and self.hdgst and not (flags & F_HDGST):
            raise ProtocolError(f"PDU type {typ:#x} without the header digest")
        hdr = ch + recv_exact(self.s, hlen - 8)
        end = hlen
        if hd:
            got = recv_exact(self.s, 4)
            end += 4
            if got != digest(hdr):
                raise ProtocolError(f"header digest mismatch on PDU type {typ:#x}")
        data = b""
        if plen > end:
            if pdo < end or pdo > plen:
                raise ProtocolError(f"PDU type {typ:#x}: pdo {pdo}, header ends at {end}")
            align = (self.cpda + 1) * 4 if self.cpda else 1
            if pdo % align or pdo - end >= align:
                raise ProtocolError(f"PDU type {typ:#x}: pdo {pdo} is not the first offset "
                                    f"after {end} aligned to {align} (CPDA {self.cpda})")
            recv_exact(self.s, pdo - end)
            dd = bool(flags & F_DDGST)
            if self.ddgst != dd and typ in (CAPSULE_CMD, H2C_DATA):
                raise ProtocolError(f"PDU type {typ:#x}: data digest flag {dd}")
            dlen = plen - pdo - (4 if dd else 0)
            if dlen < 0:
                raise ProtocolError(f"PDU type {typ:#x}: plen {plen} too short")
            data = recv_exact(self.s, dlen)
            if dd and recv_exact(self.s, 4) != digest(data):
                raise ProtocolError(f"data digest mismatch on PDU type {typ:#x}")
        return Pdu(typ, flags, hdr, data)

    def pdu_bytes(self, typ, flags, hdr_rest, data=b"", hdgst=None, ddgst=None):
        """A whole PDU: common header + @hdr_rest, digests as negotiated."""
        hdgst = self.hdgst if hdgst is None else hdgst
        ddgst = self.ddgst if ddgst is None else ddgst
        hlen = 8 + len(hdr_rest)
        if hdgst:
            flags |= F_HDGST
        if data and ddgst:
            flags |= F_DDGST
        end = hlen + (4 if hdgst else 0)
        pdo = end if data else 0
        plen = end + len(data) + (4 if data and ddgst else 0)
        hdr = struct.pack("<BBBBI", typ, flags, hlen, pdo, plen) + hdr_rest
        out = hdr + (digest(hdr) if hdgst else b"")
        if data:
            out += bytes(data) + (digest(data) if ddgst else b"")
        return out

    def send(self, buf):
        self.s.sendall(buf)

    def icresp(self, cpda=0, maxh2cdata=65536):
        body = struct.pack("<HBBI", 0, cpda, (self.hdgst and 1) | (self.ddgst and 2), maxh2cdata)
        hdr = struct.pack("<BBBBI", ICRESP, 0, IC_HLEN, 0, IC_HLEN) + body
        return hdr.ljust(IC_HLEN, b"\0")

    def capsule_resp(self, cid, status=0, dw0=0, dw1=0, sqhd=0, sqid=0):
        cqe = struct.pack("<IIHHHH", dw0 & 0xFFFFFFFF, dw1 & 0xFFFFFFFF, sqhd, sqid, cid,
                          (status << 1) & 0xFFFF)
        return self.pdu_bytes(CAPSULE_RESP, 0, cqe)

    def c2h_data(self, cid, offset, data, last=False, success=False):
        flags = (F_LAST_PDU if last else 0) | (F_SUCCESS if success else 0)
        rest = struct.pack("<HHIII", cid, 0, offset, len(data), 0)
        return self.pdu_bytes(C2H_DATA, flags, rest, data)

    def r2t(self, cid, ttag, offset, length):
        return self.pdu_bytes(R2T, 0, struct.pack("<HHIII", cid, ttag, offset, length, 0))

    def c2h_term(self, fes, fei=0, offending=b""):
        rest = struct.pack("<HI", fes, fei).ljust(TERM_HLEN - 8, b"\0")
        hdr_len = TERM_HLEN
        plen = hdr_len + len(offending)
        return struct.pack("<BBBBI", C2H_TERM, 0, hdr_len, 0, plen) + rest + offending


def listen(host="127.0.0.1", port=0):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(16)
    return ls


def stop_target(proc, log):
    """End a fake_target.py process (terminate, then kill after 10 s) and
    return what it logged; @log is its open stderr file, removed here."""
    import subprocess
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.seek(0)
    text = log.read()
    log.close()
    os.unlink(log.name)
    return text
