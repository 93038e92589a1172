#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of fuzz_attach, fuzz_cqe and fuzz_tcp_pdu (test/fuzz/corpus/).

  test/fuzz/make-seeds.py     rewrite the generated seeds (seed-*)

The seeds are small, hand-shaped starting points: a plausible controller
and a few odd ones for fuzz_attach (its input is emu:raw= records without
the magic, see docs/emu.md), and fault sets plus command scripts for
fuzz_cqe (layout in fuzz_cqe.c). Files named otherwise (regress-*, inputs
that once found a bug) are left alone.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
IDENTIFY, LOG, REG = 1, 2, 3
ANY = 1


def rec(rtype, rid, nsid, data, flags=0):
    return struct.pack("<BBHII", rtype, rid, flags, nsid, len(data)) + data


def id_ctrl(mdts=7, nn=2, oacs=0x100, sgls=0x10001, vwc=7, oncs=0x0d, sn=b"SEED0001"):
    b = bytearray(4096)
    b[4:24] = sn.ljust(20, b" ")
    b[24:64] = b"fuzz seed controller".ljust(40, b" ")
    b[64:72] = b"1.0".ljust(8, b" ")
    b[77] = mdts
    struct.pack_into("<I", b, 80, 0x00010400)
    struct.pack_into("<H", b, 256, oacs)
    b[258], b[259] = 3, 3          # ACL, AERL
    b[512], b[513] = 0x66, 0x44    # SQES, CQES
    struct.pack_into("<I", b, 516, nn)
    struct.pack_into("<H", b, 520, oncs)
    b[525] = vwc
    struct.pack_into("<I", b, 536, sgls)
    return bytes(b)


def id_ns(nsze, lbads=(9,), flbas=0, ms=0):
    b = bytearray(4096)
    struct.pack_into("<QQQ", b, 0, nsze, nsze, nsze)
    b[25] = len(lbads) - 1
    b[26] = flbas
    b[33] = 1
    for i, l in enumerate(lbads):
        struct.pack_into("<HBB", b, 128 + 4 * i, ms, l, 0)
    return bytes(b)


def ns_list(ids):
    return b"".join(struct.pack("<I", i) for i in ids)


def cap(mqes=63, to=20, dstrd=0, mpsmin=0, mpsmax=4, css=1):
    v = mqes | 1 << 16 | to << 24 | dstrd << 32 | css << 37 | mpsmin << 48 | mpsmax << 52
    return struct.pack("<Q", v)


def attach_seeds():
    smart = bytearray(512)
    smart[1:3] = struct.pack("<H", 313)
    smart[3] = 100
    return {
        "empty": b"",
        "plausible": rec(IDENTIFY, 1, 0, id_ctrl()) + rec(IDENTIFY, 0, 1, id_ns(2048))
        + rec(IDENTIFY, 0, 2, id_ns(64, (12,))) + rec(IDENTIFY, 2, 0, ns_list([1, 2]))
        + rec(LOG, 2, 0xffffffff, bytes(smart)),
        "cap-stride": rec(REG, 0, 0, cap(mqes=15, dstrd=2)) + rec(REG, 0, 8, struct.pack("<I", 0x20000)),
        "formats": rec(IDENTIFY, 0, 1, id_ns(1000, (9, 12, 16, 20), flbas=1, ms=8), ANY),
        "big-nn": rec(IDENTIFY, 1, 0, id_ctrl(mdts=255, nn=0xffffffff, oacs=0, sgls=0, vwc=0))
        + rec(IDENTIFY, 2, 0, ns_list(range(1, 1025))),
        "ns-list-odd": rec(IDENTIFY, 2, 0, ns_list([2, 1, 2, 0xffffffff, 7])),
        "vendor-log": rec(LOG, 0xc0, 0xffffffff, bytes(range(64)), ANY) + rec(LOG, 1, 0, bytes(64), ANY),
    }


def fault(kind, match, opcode, count, fields, cid=0, sqid=0, sqhd=0, status=0, dw0=0, dw1=0):
    return struct.pack("<BBBBIHHHHIIH", kind, match, opcode, count, fields, cid, sqid, sqhd,
                       status, dw0, dw1, 0)


def cqe_seeds():
    reads_writes = bytes([1 | 8, 0 | 8, 1 | 16, 0 | 16, 7, 2, 3 | 24, 0 | 24, 7, 4, 7, 5, 7])
    return {
        "no-faults": bytes([0]) + reads_writes,
        "status-more-dnr": bytes([1]) + fault(0, 0, 0, 2, 1 << 3, status=0xc006) + reads_writes,
        "extra-bad-cid": bytes([1]) + fault(1, 0, 0, 3, 1 << 0, cid=0xffff) + reads_writes,
        "lost-cid": bytes([1]) + fault(0, 2, 2, 1, 1 << 0, cid=0x1234) + reads_writes,
        "admin-dw0": bytes([2]) + fault(0, 1, 0, 2, 1 << 4, dw0=0xffffffff)
        + fault(1, 1, 0x0a, 1, 0x3f, cid=1, sqid=9, sqhd=0xffff, status=0xfffe) + reads_writes,
        "drop-dup": bytes([2]) + fault(2, 0, 0, 1, 0) + fault(3, 0, 0, 2, 0) + reads_writes,
    }


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


TCP_CID = 0x1234


def pdu(ptype, flags, hlen, body, data=b"", hdgst=False, ddgst=False, pdo=None):
    """One controller-to-host PDU: common header + body, digests, data."""
    if hdgst:
        flags |= 1
    if ddgst and data:
        flags |= 2
    end = hlen + (4 if hdgst else 0)
    if data and pdo is None:
        pdo = end
    plen = (pdo + len(data) + (4 if ddgst else 0)) if data else end
    hdr = struct.pack("<BBBBI", ptype, flags, hlen, pdo or 0, plen) + body
    out = hdr + (struct.pack("<I", crc32c(hdr)) if hdgst else b"")
    if data:
        out += bytes(pdo - end) + data + (struct.pack("<I", crc32c(data)) if ddgst else b"")
    return out


def capsule_resp(cid=TCP_CID, status=0, hdgst=False):
    return pdu(5, 0, 24, struct.pack("<IIHHHH", 0, 0, 0, 1, cid, status), hdgst=hdgst)


def c2h(off, data, last=True, success=False, cid=TCP_CID, **kw):
    flags = (4 if last else 0) | (8 if success else 0)
    return pdu(7, flags, 24, struct.pack("<HHIII", cid, 0, off, len(data), 0), data, **kw)


def r2t(off, length, ttag=1, cid=TCP_CID, hdgst=False):
    return pdu(9, 0, 24, struct.pack("<HHIII", cid, ttag, off, length, 0), hdgst=hdgst)


def tcp_seeds():
    """fuzz_tcp_pdu: mode byte (fuzz_tcp_pdu.c), then the target's stream."""
    read4k, write4k = 3 << 3, 4 | 3 << 3
    data = bytes(range(256)) * 16
    return {
        "no-data": bytes([0]) + capsule_resp(),
        "read-c2h-resp": bytes([read4k]) + c2h(0, data) + capsule_resp(),
        "read-two-c2h": bytes([read4k]) + c2h(0, data[:1024], last=False) + c2h(1024, data[1024:]) + capsule_resp(),
        "read-success": bytes([read4k]) + c2h(0, data, success=True),
        "read-digests": bytes([read4k | 3]) + c2h(0, data, hdgst=True, ddgst=True) + capsule_resp(hdgst=True),
        "read-padded": bytes([read4k]) + c2h(0, data, pdo=32) + capsule_resp(),
        "write-r2t": bytes([write4k]) + r2t(0, 4096) + capsule_resp(),
        "write-two-r2t": bytes([write4k | 1]) + r2t(0, 2048, hdgst=True) + r2t(2048, 2048, 2, hdgst=True) + capsule_resp(hdgst=True),
        "write-incapsule": bytes([write4k | 64]) + capsule_resp(),
        "error-status": bytes([read4k]) + capsule_resp(status=0x4004 << 1),
        "term-req": bytes([0]) + struct.pack("<BBBBIHI10s", 3, 0, 24, 24, 24 + 8, 1, 5, bytes(10)) + bytes(8),
        "wrong-cid": bytes([0]) + capsule_resp(cid=7),
    }


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.unlink(os.path.join(d, name))
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("fuzz_attach", attach_seeds())
    write("fuzz_cqe", cqe_seeds())
    write("fuzz_tcp_pdu", tcp_seeds())
