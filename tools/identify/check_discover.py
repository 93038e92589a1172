#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest check of nvpoll-identify --discover against a fake NVMe/TCP
discovery controller on 127.0.0.1 (a thread of this script).

The target answers ICReq, Connect, Property Get/Set and Get Log Page 70h
(any offset) with a log of two entries, and the tool's text and JSON output
must show both entries' fields. Then the usage errors (exit 2). Exits
non-zero with the reason on the first mismatch.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading

# The NVMe/TCP wire helpers shared with test/tcp's fake I/O controller.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "test", "tcp"))
import nvmet_fake as nf  # noqa: E402

DISC_NQN = "nqn.2014-08.org.nvmexpress.discovery"
ENTRIES = [
    # trtype, adrfam, subtype, treq, portid, cntlid, asqsz, trsvcid, subnqn, traddr
    (3, 1, 3, 0, 1, 0xffff, 32, "4420", DISC_NQN, "127.0.0.1"),
    (3, 1, 2, 2, 7, 0xffff, 32, "4421", "nqn.2026-12.io.nvpoll:fake", "10.1.2.3"),
]


def log_page():
    hdr = struct.pack("<QQH", 42, len(ENTRIES), 0).ljust(1024, b"\0")
    body = b""
    for tt, af, st, tr, port, cnt, asq, svc, nqn, addr in ENTRIES:
        e = struct.pack("<BBBBHHHH", tt, af, st, tr, port, cnt, asq, 0).ljust(32, b"\0")
        e += svc.encode().ljust(32, b" ") + b"\0" * 192
        e += nqn.encode().ljust(256, b"\0") + addr.encode().ljust(256, b" ") + b"\0" * 256
        body += e
    return hdr + body


def resp(s, cid, dw0=0, dw1=0, status=0):
    s.sendall(nf.Wire(s).capsule_resp(cid, status, dw0, dw1))


def serve(lsock, seen):
    s, _ = lsock.accept()
    cc = 0
    try:
        w = nf.Wire(s)
        nf.recv_exact(s, 128)  # ICReq
        s.sendall(w.icresp(0, 65536))
        while True:
            pdu = w.recv_pdu()
            sqe = pdu.hdr[8:72]
            data = pdu.data
            opc, _, cid = struct.unpack_from("<BBH", sqe)
            if opc == 0x7F:
                fctype = sqe[4]
                if fctype == 1:  # Connect
                    seen["subnqn"] = data[256:512].rstrip(b"\0").decode()
                    seen["hostnqn"] = data[512:768].rstrip(b"\0").decode()
                    resp(s, cid, dw0=1)
                elif fctype == 0:  # Property Set
                    ofst, value = struct.unpack_from("<IQ", sqe, 44)
                    if ofst == 0x14:
                        cc = value
                    resp(s, cid)
                else:  # Property Get
                    ofst = struct.unpack_from("<I", sqe, 44)[0]
                    val = {0: 31 | 1 << 24, 0x1C: cc & 1}.get(ofst, 0)
                    resp(s, cid, dw0=val & 0xFFFFFFFF, dw1=val >> 32)
            elif opc == 0x02:  # Get Log Page
                cdw10, cdw11, cdw12, cdw13 = struct.unpack_from("<IIII", sqe, 40)
                length = (((cdw10 >> 16) | (cdw11 & 0xFFFF) << 16) + 1) * 4
                off = cdw12 | cdw13 << 32
                page = log_page()
                chunk = page[off:off + length].ljust(length, b"\0")
                seen["log_reads"] = seen.get("log_reads", 0) + 1
                s.sendall(w.c2h_data(cid, 0, chunk, last=True))
                resp(s, cid)
            else:
                resp(s, cid, status=1)
    except nf.Closed:
        pass
    finally:
        s.close()


def run_tool(tool, *args):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    seen = {}
    th = threading.Thread(target=serve, args=(lsock, seen), daemon=True)
    th.start()
    p = subprocess.run([tool, *args, f"tcp://127.0.0.1:{port}"], capture_output=True,
                       text=True, timeout=60)
    th.join(10)
    lsock.close()
    return p.returncode, p.stdout, p.stderr, seen


def check(cond, msg, out=""):
    if not cond:
        print("FAIL: " + msg)
        if out:
            print(out)
        sys.exit(1)


def main():
    tool = sys.argv[1]

    rc, out, err, seen = run_tool(tool, "--discover", "--hostnqn", "nqn.2026-12.io.nvpoll:h")
    check(rc == 0, f"--discover exited {rc}: {err.strip()}", out)
    check(seen.get("subnqn") == DISC_NQN, f"Connect named {seen.get('subnqn')!r}")
    check(seen.get("hostnqn") == "nqn.2026-12.io.nvpoll:h", f"host NQN {seen.get('hostnqn')!r}")
    check("Discovery Log Number of Records 2" in out, "no record count", out)
    blocks = out.split("=====Discovery Log Entry ")[1:]
    check(len(blocks) == 2, f"{len(blocks)} entry blocks, expected 2", out)
    for block, (tt, af, st, tr, port, cnt, asq, svc, nqn, addr) in zip(blocks, ENTRIES):
        fields = dict(line.split(":", 1) for line in block.splitlines()[1:] if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        want = {"trtype": "tcp", "adrfam": "ipv4", "portid": str(port), "trsvcid": svc,
                "subnqn": nqn, "traddr": addr, "cntlid": str(cnt), "asqsz": str(asq),
                "subtype": "current discovery subsystem" if st == 3 else "nvme subsystem",
                "treq": "not required" if tr == 2 else "not specified"}
        for k, v in want.items():
            check(fields.get(k) == v, f"entry {nqn}: {k} is {fields.get(k)!r}, expected {v!r}",
                  out)

    rc, out, err, seen = run_tool(tool, "--discover", "--json")
    check(rc == 0, f"--discover --json exited {rc}: {err.strip()}", out)
    data = json.loads(out)
    check(data["numrec"] == 2 and len(data["records"]) == 2, "JSON records", out)
    check(data["records"][1]["subnqn"] == ENTRIES[1][8], "JSON subnqn", out)
    check(data["records"][1]["traddr"] == "10.1.2.3", "JSON traddr", out)
    check(data["records"][1]["trsvcid"] == "4421", "JSON trsvcid", out)
    check(seen.get("hostnqn", "").startswith("nqn."), "default host NQN")

    for args, fragment in ((["--discover", "tcp://127.0.0.1/nqn.2026-12.io.nvpoll:x"],
                            "not the discovery controller"),
                           (["--discover", "0000:00:04.0"], "not an NVMe/TCP address"),
                           (["--hostnqn", "nqn.x", "emu:"], "only goes with --discover")):
        p = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
        check(p.returncode == 2, f"{args}: exit {p.returncode}, expected 2", p.stderr)
        check(fragment in p.stderr, f"{args}: stderr lacks {fragment!r}", p.stderr)
    print("nvpoll-identify --discover: both entries, text and JSON; usage errors exit 2")


if __name__ == "__main__":
    main()
