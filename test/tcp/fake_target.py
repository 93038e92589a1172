#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A fake NVMe/TCP I/O controller for CTest (stdlib only).

It listens on 127.0.0.1 (an ephemeral port unless --port), serves one NVM
subsystem (--nqn) with two namespaces backed by bytearrays (8 MiB of
4096-byte blocks, 8 MiB of 512-byte blocks; --ns changes them), and speaks
enough NVMe/TCP and NVMe for nvpoll's controller path:

  ICReq/ICResp (header and data digests with CRC32C when asked), CapsuleCmd
  and CapsuleResp, Connect (admin queue: a new controller with a dynamic ID;
  I/O queues: that controller's ID, SQSIZE checked against MQES and the
  granted queue count), Property Get/Set (CAP, VS 1.4, CC.EN -> CSTS.RDY,
  CC.SHN -> CSTS.SHST complete), Identify (CNS 0, 1, 2, 3), Set/Get
  Features, Asynchronous Event Request (held), Keep Alive, Get Log Page
  (error, SMART, firmware slot), Abort ("not aborted"), Flush, Read (C2HData;
  every other successful read with the SUCCESS flag and no CapsuleResp),
  Write (in-capsule data up to IOCCSZ, else R2T and H2CData, checked against
  MAXH2CDATA), Write Zeroes, DSM (deallocate zeroes), Compare, Verify. A bad
  LBA range gets LBA Out of Range. Each connection is a thread.

Failure modes, for hostile-target tests (each fires once per --fault-times,
counting I/O commands from the start or from the previous firing; with
--fault-on keepalive, Keep Alive commands on the admin queue instead):
  --hang-after N       the (N+1)th I/O command is never answered, and every
                       connection open then goes deaf: read and ignore
                       everything, keep the socket open. Later connections
                       are served normally.
  --hang-after-seconds S  as --hang-after, but S seconds after the first I/O
                       queue connected, whatever is in flight (an idle host
                       finds out through Keep Alive alone).
  --close-after N      at the (N+1)th I/O command every connection is closed
                       and the port refuses connections for --refuse-seconds,
                       then accepts again ("port down").
  --bad-cid-after N    the (N+1)th I/O command is answered with a CapsuleResp
                       for a CID that is not outstanding.
  --malformed-after N  the (N+1)th I/O command is answered with a malformed
                       PDU, --malformed plen|type|hdgst|ddgst|term (ddgst: a
                       C2HData with a wrong data digest, on the first read
                       from then on; term: a C2HTermReq).
  --delay-after N      the (N+1)th I/O command is answered --delay-seconds
                       late (Abort still says "not aborted").
  --csts-after N       at the (N+1)th I/O command that association's CSTS
                       becomes --csts-value (default 0x3: RDY and CFS,
                       a fatal controller; 0xffffffff: all-ones). The next
                       association starts clean.
  --early-resp-after N the first write from the (N+1)th I/O command on that
                       needs an R2T gets its R2T and, right behind it, a
                       CapsuleResp with Namespace Not Ready (retryable): the
                       host's H2CData for it are dropped.

The port goes to stdout ("listening on 127.0.0.1:PORT NQN") and to
--port-file. Events go to stderr. It exits after --lifetime seconds.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nvmet_fake as nf  # noqa: E402

MQES = 127            # 128 entries per queue
ADMIN_SQ_MAX = 32
MAX_QUEUES = 16
AERL = 3              # 4 AERs outstanding at most

# status codes: (SCT << 8) | SC, DNR where a retry cannot help
DNR = 1 << 14
SC_INVALID_OPCODE = DNR | 0x01
SC_INVALID_FIELD = DNR | 0x02
SC_CMD_SEQ_ERROR = DNR | 0x0C
SC_SGL_LEN_INVALID = DNR | 0x0F
SC_INVALID_NS = DNR | 0x0B
SC_LBA_RANGE = DNR | 0x80
SC_AER_LIMIT = DNR | 0x105
SC_INVALID_LOG = DNR | 0x109
SC_CONNECT_INVALID_PARAM = DNR | 0x182
SC_COMPARE_FAILURE = DNR | 0x285


def log(*a):
    print(f"fake-target {time.monotonic():.3f}:", *a, file=sys.stderr, flush=True)


class Namespace:
    def __init__(self, nsid, size, bs):
        self.nsid, self.bs, self.nblocks = nsid, bs, size // bs
        self.data = bytearray(size)
        self.lock = threading.Lock()

    def identify(self):
        lbads = self.bs.bit_length() - 1
        page = bytearray(4096)
        struct.pack_into("<QQQ", page, 0, self.nblocks, self.nblocks, self.nblocks)
        page[24] = 0           # NSFEAT
        page[25] = 0           # NLBAF: one format
        page[26] = 0           # FLBAS: format 0
        page[33] = 1           # DLFEAT: deallocated blocks read as zeroes
        struct.pack_into("<HBB", page, 128, 0, lbads, 0)
        # Copy: 256 source ranges of up to 256 blocks, 4096 blocks in all
        struct.pack_into("<HIB", page, 74, 256, 4096, 255)
        page[104:120] = struct.pack("<QQ", 0x6e76706f6c6c0000 | self.nsid, 0xfa4e)  # NGUID
        return page


class Controller:
    def __init__(self, cntlid, hostnqn, kato):
        self.cntlid, self.hostnqn, self.kato = cntlid, hostnqn, kato
        self.cc = 0
        self.csts = 0
        self.nq = 0            # granted I/O queues (0: not set yet)
        self.qids = set()
        self.conns = set()
        self.alive = True
        self.aers = []


class Target:
    def __init__(self, args):
        self.args = args
        self.nqn = args.nqn
        self.ns = []
        for i, spec in enumerate(args.ns.split(",")):
            size, bs = spec.split(":")
            self.ns.append(Namespace(i + 1, parse_size(size), int(bs)))
        self.lock = threading.Lock()
        self.ctrls = {}
        self.next_cntlid = 1
        self.conns = set()
        self.io_count = 0
        self.fired = 0
        self.hang_timer = None
        self.ls = None
        self.port = args.port
        self.stats = {"connections": 0, "admin_connects": 0, "io_connects": 0}

    def ns_get(self, nsid):
        return self.ns[nsid - 1] if 1 <= nsid <= len(self.ns) else None

    def listen(self):
        self.ls = nf.listen("127.0.0.1", self.port)
        self.ls.settimeout(0.1)
        self.port = self.ls.getsockname()[1]

    def serve(self):
        while True:
            ls = self.ls
            if ls is None:
                time.sleep(0.02)
                continue
            try:
                s, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                time.sleep(0.02)
                continue
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = Conn(self, s)
            with self.lock:
                self.conns.add(c)
                self.stats["connections"] += 1
            c.start()

    # ---- faults -----------------------------------------------------------
    def io_command(self):
        """Count one I/O command; return the fault to act out on it, or None."""
        a = self.args
        with self.lock:
            self.io_count += 1
            if a.fault_times and self.fired >= a.fault_times:
                return None
            modes = (("hang", a.hang_after), ("close", a.close_after),
                     ("bad_cid", a.bad_cid_after), ("malformed", a.malformed_after),
                     ("delay", a.delay_after), ("early", a.early_resp_after),
                     ("csts", a.csts_after))
            mode, after = next(((m, n) for m, n in modes if n is not None), (None, None))
            if after is None or self.io_count <= after:
                return None
            self.fired += 1
            self.io_count = 0
            return mode

    def hang_all(self):
        with self.lock:
            conns = list(self.conns)
        log(f"fault: hang ({len(conns)} connections go deaf)")
        for c in conns:
            c.deaf = True

    def port_down(self):
        secs = self.args.refuse_seconds
        with self.lock:
            ls, self.ls = self.ls, None
            conns = list(self.conns)
        log(f"fault: port down for {secs} s ({len(conns)} connections closed)")
        if ls:
            ls.close()
        for c in conns:
            c.kill()

        def up():
            time.sleep(secs)
            for _ in range(100):
                try:
                    self.listen()
                    break
                except OSError:
                    time.sleep(0.05)
            log("port up again")
        threading.Thread(target=up, daemon=True).start()


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1].upper()] if s[-1].upper() in mult else int(s)


class Conn(threading.Thread):
    def __init__(self, tgt, sock):
        super().__init__(daemon=True)
        self.t, self.s = tgt, sock
        self.w = nf.Wire(sock)
        self.ctrl = None
        self.qid = None
        self.sqsize = 0
        self.sqhd = 0
        self.deaf = False
        self.dead = False
        self.pending = {}      # ttag -> write waiting for H2CData
        self.next_ttag = 1
        self.outstanding = set()
        self.reads = 0
        self.malformed_pending = False
        self.delayed = set()
        self.early_pending = False
        self.dropped = set()   # ttags whose command already ended
        self.send_lock = threading.Lock()
        a = tgt.args
        self.maxh2c = a.maxh2cdata
        self.r2t_max = a.r2t_max
        self.c2h_max = a.c2h_max

    def kill(self):
        self.dead = True
        try:
            self.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send(self, buf):
        with self.send_lock:
            if self.deaf or self.dead:
                return
            self.w.send(buf)

    def finish(self, cid, buf):
        """Send a command's last PDUs: now, or late if it was picked for delay."""
        if cid not in self.delayed:
            return self.send(buf)
        self.delayed.discard(cid)
        secs = self.t.args.delay_seconds

        def late():
            log(f"fault: command {cid} answered {secs} s late")
            try:
                self.send(buf)
            except OSError:
                pass
        threading.Timer(secs, late).start()

    def run(self):
        try:
            self.handshake()
            while True:
                if self.deaf:
                    if not self.s.recv(65536):
                        break
                    continue
                pdu = self.w.recv_pdu()
                if self.deaf or self.dead:
                    continue
                if pdu.type == nf.CAPSULE_CMD:
                    self.on_capsule(pdu)
                elif pdu.type == nf.H2C_DATA:
                    self.on_h2c(pdu)
                elif pdu.type == nf.H2C_TERM:
                    log(f"host sent H2CTermReq on queue {self.qid}")
                    break
                else:
                    raise nf.ProtocolError(f"unexpected PDU type {pdu.type:#x}")
        except (nf.Closed, OSError):
            pass
        except nf.ProtocolError as e:
            log(f"protocol error from host on queue {self.qid}: {e}")
            try:
                self.send(self.w.c2h_term(0x02))
            except OSError:
                pass
            if self.t.args.strict:
                log("FATAL: --strict and the host broke the protocol")
                os._exit(3)
        finally:
            self.cleanup()

    def cleanup(self):
        t = self.t
        with t.lock:
            t.conns.discard(self)
            c = self.ctrl
            if c and self.qid is not None:
                c.conns.discard(self)
                c.qids.discard(self.qid)
                others = list(c.conns) if self.qid == 0 else []
                if self.qid == 0:
                    c.alive = False
                    t.ctrls.pop(c.cntlid, None)
            else:
                others = []
        # The admin queue's end is the association's: its I/O queues go too.
        for o in others:
            o.kill()
        try:
            self.s.close()
        except OSError:
            pass

    def handshake(self):
        buf = nf.recv_exact(self.s, 128)
        typ, flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", buf)
        if typ != nf.ICREQ or hlen != 128 or plen != 128:
            raise nf.ProtocolError(f"expected ICReq, got type {typ:#x} hlen {hlen} plen {plen}")
        pfv, hpda, dgst, maxr2t = struct.unpack_from("<HBBI", buf, 8)
        if pfv != 0:
            raise nf.ProtocolError(f"ICReq PFV {pfv}")
        self.w.hdgst = bool(dgst & 1) and not self.t.args.no_digests
        self.w.ddgst = bool(dgst & 2) and not self.t.args.no_digests
        self.w.cpda = self.t.args.cpda
        self.s.sendall(self.w.icresp(self.t.args.cpda, self.maxh2c))

    # ---- responses --------------------------------------------------------
    def resp(self, cid, status=0, dw0=0, dw1=0):
        self.outstanding.discard(cid)
        self.sqhd = (self.sqhd + 1) % (self.sqsize + 1) if self.sqsize else 0
        return self.w.capsule_resp(cid, status, dw0, dw1, self.sqhd, self.qid or 0)

    def send_read(self, cid, data, status=0):
        """C2HData PDUs for @data, then the completion (SUCCESS or CapsuleResp)."""
        out = []
        n = len(data)
        self.reads += 1
        use_success = status == 0 and self.reads % 2 == 0 and not self.t.args.no_success
        off = 0
        first = True
        while off < n:
            # The first PDU of a large transfer is an odd 1536 bytes: the
            # host's staging path and its direct path both get used.
            chunk = 1536 if first and n > 8192 else self.c2h_max
            first = False
            piece = data[off:off + chunk]
            last = off + len(piece) == n
            out.append(self.w.c2h_data(cid, off, piece, last=last, success=last and use_success))
            off += len(piece)
        if use_success:
            self.outstanding.discard(cid)
        else:
            out.append(self.resp(cid, status))
        self.finish(cid, b"".join(out))

    # ---- commands ---------------------------------------------------------
    def on_capsule(self, pdu):
        sqe = pdu.hdr[8:72]
        opc, flags, cid, nsid = struct.unpack_from("<BBHI", sqe)
        sgl_len = struct.unpack_from("<I", sqe, 32)[0]
        sgl_type = sqe[39]
        if cid in self.outstanding:
            raise nf.ProtocolError(f"command {cid} sent while outstanding")
        self.outstanding.add(cid)
        counted = (opc == 0x18 and self.qid == 0) if self.t.args.fault_on == "keepalive" else \
            (self.qid is not None and self.qid > 0)
        if counted:
            fault = self.t.io_command()
            if fault and self.fault(fault, cid, opc, sgl_len):
                return
        if self.malformed_pending and opc == 0x02 and self.qid:
            self.malformed_pending = False
            bad = bytearray(self.w.c2h_data(cid, 0, bytes(sgl_len), last=True))
            bad[-1] ^= 0xFF        # the data digest
            log(f"fault: C2HData with a wrong data digest for command {cid}")
            self.send(bytes(bad))
            return
        if opc == 0x7F:
            return self.fabrics(sqe, cid, pdu.data)
        if self.ctrl is None:
            return self.send(self.resp(cid, SC_CMD_SEQ_ERROR))
        data = pdu.data
        to_ctrl = (opc & 3) == 1 and sgl_len > 0
        if data and (not to_ctrl or len(data) != sgl_len or sgl_type != 0x01):
            raise nf.ProtocolError(f"command {cid} opcode {opc:#x}: {len(data)} bytes in the "
                                   f"capsule, SGL length {sgl_len} type {sgl_type:#x}")
        if data:
            limit = 8192 if self.qid == 0 else self.t.args.incapsule
            if len(data) > limit:
                raise nf.ProtocolError(f"{len(data)} bytes of in-capsule data, IOCCSZ allows "
                                       f"{limit}")
        if to_ctrl and not data:
            if sgl_type != 0x5A:
                raise nf.ProtocolError(f"command {cid}: SGL type {sgl_type:#x} for transport data")
            if self.qid and opc in (0x01, 0x05):
                early = self.check_rw(sqe, sgl_len)
                if early:
                    return self.send(self.resp(cid, early))
            ttag = self.next_ttag
            self.next_ttag = self.next_ttag % 0xFFFE + 1
            w = {"cid": cid, "sqe": sqe, "buf": bytearray(sgl_len), "got": 0,
                 "r2t_end": min(sgl_len, self.r2t_max)}
            if self.early_pending and self.qid:
                # The R2T and, in the same segment, the command's end.
                self.early_pending = False
                self.dropped.add(ttag)
                log(f"fault: command {cid} ended with Namespace Not Ready right after its R2T")
                return self.send(self.w.r2t(cid, ttag, 0, w["r2t_end"]) +
                                 self.resp(cid, 0x82))
            self.pending[ttag] = w
            return self.send(self.w.r2t(cid, ttag, 0, w["r2t_end"]))
        self.execute(sqe, cid, data)

    def fault(self, fault, cid, opc, sgl_len):
        t = self.t
        if fault == "hang":
            t.hang_all()
            return True
        if fault == "close":
            t.port_down()
            return True
        if fault == "delay":
            self.delayed.add(cid)
            return False
        if fault == "csts":
            log(f"fault: controller {self.ctrl.cntlid}'s CSTS is now {t.args.csts_value:#x}")
            self.ctrl.csts = t.args.csts_value
            return False
        if fault == "early":
            self.early_pending = True
            return False
        if fault == "bad_cid":
            bogus = (cid + 0x1234) & 0xFFFF
            while bogus in self.outstanding:
                bogus = (bogus + 1) & 0xFFFF
            log(f"fault: CapsuleResp for CID {bogus} (not outstanding) instead of {cid}")
            self.send(self.w.capsule_resp(bogus))
            return True
        kind = t.args.malformed
        if kind == "ddgst":
            self.malformed_pending = True
            return False
        log(f"fault: malformed PDU ({kind}) for command {cid}")
        if kind == "plen":
            buf = bytearray(self.w.capsule_resp(cid))
            struct.pack_into("<I", buf, 4, struct.unpack_from("<I", buf, 4)[0] + 16)
        elif kind == "term":
            buf = self.w.c2h_term(0x01, 0)
        elif kind == "type":
            buf = bytearray(self.w.capsule_resp(cid))
            buf[0] = 0x0F
        else:  # hdgst: a wrong digest (or the flag, when digests are off)
            buf = bytearray(self.w.capsule_resp(cid))
            if self.w.hdgst:
                buf[-1] ^= 0xFF
            else:
                buf[1] |= nf.F_HDGST
        self.send(bytes(buf))
        return True

    def on_h2c(self, pdu):
        cccid, ttag, off, length = struct.unpack_from("<HHII", pdu.hdr, 8)
        w = self.pending.get(ttag)
        if w is None and ttag in self.dropped:
            if pdu.flags & nf.F_LAST_PDU:
                self.dropped.discard(ttag)
            return
        if w is None or w["cid"] != cccid:
            raise nf.ProtocolError(f"H2CData for command {cccid} ttag {ttag}: no such R2T")
        if length != len(pdu.data) or off != w["got"] or off + length > w["r2t_end"]:
            raise nf.ProtocolError(f"H2CData for command {cccid}: bytes {off}+{length} "
                                   f"(PDU holds {len(pdu.data)}), expected from {w['got']} "
                                   f"up to {w['r2t_end']}")
        if length > self.maxh2c:
            raise nf.ProtocolError(f"H2CData of {length} bytes, MAXH2CDATA is {self.maxh2c}")
        last = off + length == w["r2t_end"]
        if bool(pdu.flags & nf.F_LAST_PDU) != last:
            raise nf.ProtocolError(f"H2CData for command {cccid}: LAST_PDU flag "
                                   f"{bool(pdu.flags & nf.F_LAST_PDU)} at {off}+{length} of "
                                   f"{w['r2t_end']}")
        w["buf"][off:off + length] = pdu.data
        w["got"] += length
        if not last:
            return
        total = len(w["buf"])
        if w["got"] < total:
            start = w["got"]
            w["r2t_end"] = min(total, start + self.r2t_max)
            return self.send(self.w.r2t(cccid, ttag, start, w["r2t_end"] - start))
        del self.pending[ttag]
        self.execute(w["sqe"], cccid, bytes(w["buf"]))

    def execute(self, sqe, cid, data):
        if self.qid == 0:
            r = self.admin(sqe, cid, data)
        else:
            r = self.io(sqe, cid, data)
        if r is None:
            return           # held (AER)
        status, dw0, payload = r
        if payload is not None and status == 0:
            return self.send_read(cid, payload)
        self.finish(cid, self.resp(cid, status, dw0))

    # ---- Fabrics ------------------------------------------------------------
    def fabrics(self, sqe, cid, data):
        fctype = sqe[4]
        if fctype == 0x01:
            return self.connect(sqe, cid, data)
        c = self.ctrl
        if c is None or self.qid != 0:
            return self.send(self.resp(cid, SC_CMD_SEQ_ERROR if c is None else SC_INVALID_FIELD))
        attrib, ofst = struct.unpack_from("<BxxxI", sqe, 40)
        size8 = attrib & 1
        if fctype == 0x04:   # Property Get
            cap = (MQES | 1 << 16 | 20 << 24 | 1 << 37)
            regs = {0x00: (cap, True), 0x08: (0x00010400, False), 0x14: (c.cc, False),
                    0x1C: (c.csts, False)}
            if ofst not in regs or regs[ofst][1] != bool(size8):
                return self.send(self.resp(cid, SC_INVALID_FIELD))
            v = regs[ofst][0]
            return self.send(self.resp(cid, 0, v & 0xFFFFFFFF, v >> 32))
        if fctype == 0x00:   # Property Set
            value = struct.unpack_from("<Q", sqe, 48)[0]
            if ofst != 0x14 or size8:
                return self.send(self.resp(cid, SC_INVALID_FIELD))
            old, c.cc = c.cc, value & 0xFFFFFFFF
            if (c.cc & 1) and not (old & 1):
                c.csts = 1
            elif not (c.cc & 1) and (old & 1):
                c.csts = 0
            if (c.cc >> 14) & 3:
                c.csts = (c.csts & ~0xC) | 0x8      # SHST: shutdown complete
            log(f"controller {c.cntlid}: CC={c.cc:#x} CSTS={c.csts:#x}")
            return self.send(self.resp(cid))
        return self.send(self.resp(cid, SC_INVALID_OPCODE))

    def connect(self, sqe, cid, data):
        t = self.t
        recfmt, qid, sqsize, cattr, kato = struct.unpack_from("<HHHBxI", sqe, 40)
        if self.ctrl is not None or len(data) != 1024:
            return self.send(self.resp(cid, SC_CMD_SEQ_ERROR if self.ctrl else SC_SGL_LEN_INVALID))
        cntlid = struct.unpack_from("<H", data, 16)[0]
        subnqn = data[256:512].rstrip(b"\0").decode(errors="replace")
        hostnqn = data[512:768].rstrip(b"\0").decode(errors="replace")
        if recfmt != 0:
            return self.send(self.resp(cid, DNR | 0x180))
        if subnqn != t.nqn:
            log(f"Connect to {subnqn!r}: not {t.nqn!r}")
            return self.send(self.resp(cid, SC_CONNECT_INVALID_PARAM, 1 << 16 | 256))
        limit = ADMIN_SQ_MAX - 1 if qid == 0 else MQES
        if sqsize < 1 or sqsize > limit:
            log(f"Connect queue {qid}: SQSIZE {sqsize} out of 1..{limit}")
            return self.send(self.resp(cid, SC_CONNECT_INVALID_PARAM, 44))
        with t.lock:
            if qid == 0:
                if cntlid != 0xFFFF:
                    return self.send(self.resp(cid, SC_CONNECT_INVALID_PARAM, 1 << 16 | 16))
                c = Controller(t.next_cntlid, hostnqn, kato)
                t.next_cntlid = t.next_cntlid % 0xFFEF + 1
                t.ctrls[c.cntlid] = c
                t.stats["admin_connects"] += 1
            else:
                c = t.ctrls.get(cntlid)
                why = None
                if c is None or not c.alive or c.hostnqn != hostnqn:
                    why = f"no controller {cntlid} for this host"
                elif not (c.csts & 1):
                    why = "controller not ready"
                elif qid > c.nq:
                    why = f"queue {qid} of {c.nq} granted"
                elif qid in c.qids:
                    why = f"queue {qid} already connected"
                if why:
                    log(f"Connect I/O queue {qid} to controller {cntlid} refused: {why}")
                    return self.send(self.resp(cid, SC_CONNECT_INVALID_PARAM, 1 << 16 | 16))
                if (cattr & 4) and t.args.refuse_sqfc:
                    log(f"Connect I/O queue {qid}: refused SQ flow control off (--refuse-sqfc)")
                    return self.send(self.resp(cid, SC_CONNECT_INVALID_PARAM, 44))
                t.stats["io_connects"] += 1
                if t.args.hang_after_seconds is not None and not t.hang_timer:
                    t.hang_timer = threading.Timer(t.args.hang_after_seconds, t.hang_all)
                    t.hang_timer.daemon = True
                    t.hang_timer.start()
            c.qids.add(qid)
            c.conns.add(self)
            self.ctrl, self.qid, self.sqsize = c, qid, sqsize
        log(f"Connect queue {qid} ({sqsize + 1} entries) controller {c.cntlid}"
            f"{' sqfc-off' if cattr & 4 else ''}"
            f"{' digests ' + ('H' if self.w.hdgst else '') + ('D' if self.w.ddgst else '') if self.w.hdgst or self.w.ddgst else ''}")
        self.send(self.resp(cid, 0, c.cntlid))

    # ---- admin ----------------------------------------------------------------
    def admin(self, sqe, cid, data):
        c = self.ctrl
        opc, nsid = sqe[0], struct.unpack_from("<I", sqe, 4)[0]
        cdw10, cdw11, cdw12, cdw13 = struct.unpack_from("<IIII", sqe, 40)
        sgl_len = struct.unpack_from("<I", sqe, 32)[0]
        if not (c.csts & 1) and opc != 0x18:
            return SC_CMD_SEQ_ERROR, 0, None
        if opc == 0x06:
            cns = cdw10 & 0xFF
            if sgl_len != 4096:
                return SC_SGL_LEN_INVALID, 0, None
            if cns == 0x01:
                return 0, 0, self.id_ctrl()
            if cns == 0x00:
                ns = self.t.ns_get(nsid)
                if ns is None:
                    return SC_INVALID_NS, 0, None
                return 0, 0, ns.identify()
            if cns == 0x02:
                page = bytearray(4096)
                ids = [n.nsid for n in self.t.ns if n.nsid > nsid] if nsid < 0xFFFFFFFE else None
                if ids is None:
                    return SC_INVALID_NS, 0, None
                for i, x in enumerate(ids[:1024]):
                    struct.pack_into("<I", page, 4 * i, x)
                return 0, 0, page
            if cns == 0x03:
                ns = self.t.ns_get(nsid)
                if ns is None:
                    return SC_INVALID_NS, 0, None
                page = bytearray(4096)
                page[0:4] = bytes([2, 16, 0, 0])
                page[4:20] = ns.identify()[104:120]
                return 0, 0, page
            return SC_INVALID_FIELD, 0, None
        if opc == 0x09:      # Set Features
            fid = cdw10 & 0xFF
            if fid == 0x07:
                nsqr, ncqr = cdw11 & 0xFFFF, cdw11 >> 16
                if nsqr == 0xFFFF or ncqr == 0xFFFF:
                    return SC_INVALID_FIELD, 0, None
                if c.nq == 0:
                    c.nq = min(max(nsqr, ncqr) + 1, MAX_QUEUES)
                return 0, (c.nq - 1) | (c.nq - 1) << 16, None
            if fid in (0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0B):
                return 0, 0, None
            return SC_INVALID_FIELD, 0, None
        if opc == 0x0A:      # Get Features
            fid = cdw10 & 0xFF
            if fid == 0x07:
                n = max(c.nq, 1) - 1
                return 0, n | n << 16, None
            if fid == 0x0F:
                return 0, c.kato, None
            if fid == 0x04:
                return 0, 0x0157, None
            if fid in (0x01, 0x02, 0x05, 0x06, 0x08, 0x0B):
                return 0, 0, None
            return SC_INVALID_FIELD, 0, None
        if opc == 0x02:      # Get Log Page
            lid = cdw10 & 0xFF
            numd = ((cdw10 >> 16) | (cdw11 & 0xFFFF) << 16) + 1
            off = cdw12 | cdw13 << 32
            if numd * 4 != sgl_len:
                return SC_SGL_LEN_INVALID, 0, None
            if lid == 0x01:
                page = bytes(64 * 4)
            elif lid == 0x02:
                page = bytearray(512)
                struct.pack_into("<BHBB", page, 0, 0, 300, 100, 10)   # 300 K, spare 100%
            elif lid == 0x03:
                page = bytearray(512)
                page[0] = 1
                page[8:16] = b"fake1.0 "
            else:
                return SC_INVALID_LOG, 0, None
            return 0, 0, bytes(page[off:off + sgl_len]).ljust(sgl_len, b"\0")
        if opc == 0x0C:      # AER: held
            if len(c.aers) > AERL:
                return SC_AER_LIMIT, 0, None
            c.aers.append(cid)
            return None
        if opc == 0x18:      # Keep Alive
            return 0, 0, None
        if opc == 0x08:      # Abort: not aborted
            return 0, 1, None
        return SC_INVALID_OPCODE, 0, None

    def id_ctrl(self):
        a = self.t.args
        page = bytearray(4096)
        struct.pack_into("<HH", page, 0, 0x1b36, 0x1b36)
        page[4:24] = b"FAKE0001".ljust(20)
        page[24:64] = b"nvpoll fake NVMe/TCP target".ljust(40)
        page[64:72] = b"1.0".ljust(8)
        page[77] = a.mdts
        struct.pack_into("<H", page, 78, self.ctrl.cntlid)
        struct.pack_into("<I", page, 80, 0x00010400)
        page[111] = 1                       # CNTRLTYPE: I/O controller
        page[259] = AERL
        page[262] = 63                      # ELPE: 64 error log entries
        struct.pack_into("<H", page, 320, 100)   # KAS: 10 s granularity
        page[512] = 0x66
        page[513] = 0x44
        struct.pack_into("<HI", page, 514, MQES + 1, len(self.t.ns))   # MAXCMD, NN
        # ONCS: compare, DSM, write zeroes, verify, copy; OCFS: format 0
        struct.pack_into("<H", page, 520, 0x0C | 0x01 | 0x80 | 0x100)
        struct.pack_into("<H", page, 534, 1)
        page[525] = 1                       # VWC present
        struct.pack_into("<I", page, 536, 0x100001)     # SGLS: supported, offsets
        nqn = self.t.nqn.encode()
        page[768:768 + len(nqn)] = nqn
        struct.pack_into("<IIHBB", page, 1792, (64 + a.incapsule) // 16, 1, 0, 0, 1)
        return page

    # ---- I/O --------------------------------------------------------------------
    def check_rw(self, sqe, sgl_len):
        nsid = struct.unpack_from("<I", sqe, 4)[0]
        ns = self.t.ns_get(nsid)
        if ns is None:
            return SC_INVALID_NS
        slba = struct.unpack_from("<Q", sqe, 40)[0]
        nlb = (struct.unpack_from("<I", sqe, 48)[0] & 0xFFFF) + 1
        if slba + nlb > ns.nblocks:
            return SC_LBA_RANGE
        if sgl_len != nlb * ns.bs:
            return SC_SGL_LEN_INVALID
        return 0

    def io(self, sqe, cid, data):
        opc, nsid = sqe[0], struct.unpack_from("<I", sqe, 4)[0]
        cdw10, cdw11, cdw12 = struct.unpack_from("<III", sqe, 40)
        sgl_len = struct.unpack_from("<I", sqe, 32)[0]
        ns = self.t.ns_get(nsid)
        if opc == 0x00:      # Flush
            if ns is None and nsid != 0xFFFFFFFF:
                return SC_INVALID_NS, 0, None
            return 0, 0, None
        if ns is None:
            return SC_INVALID_NS, 0, None
        slba = cdw10 | cdw11 << 32
        nlb = (cdw12 & 0xFFFF) + 1
        bs = ns.bs
        if opc in (0x01, 0x02, 0x05):
            rc = self.check_rw(sqe, sgl_len)
            if rc:
                return rc, 0, None
            lo, hi = slba * bs, (slba + nlb) * bs
            with ns.lock:
                if opc == 0x01:
                    ns.data[lo:hi] = data
                    return 0, 0, None
                if opc == 0x02:
                    return 0, 0, bytes(ns.data[lo:hi])
                return (0 if ns.data[lo:hi] == data else SC_COMPARE_FAILURE), 0, None
        if opc in (0x08, 0x0C):   # Write Zeroes, Verify
            if slba + nlb > ns.nblocks:
                return SC_LBA_RANGE, 0, None
            if opc == 0x08:
                with ns.lock:
                    ns.data[slba * bs:(slba + nlb) * bs] = bytes(nlb * bs)
            return 0, 0, None
        if opc == 0x09:      # DSM
            nr = (cdw10 & 0xFF) + 1
            if len(data) < 16 * nr:
                return SC_SGL_LEN_INVALID, 0, None
            ranges = [struct.unpack_from("<IIQ", data, 16 * i) for i in range(nr)]
            for _, n, s in ranges:
                if s + n > ns.nblocks:
                    return SC_LBA_RANGE, 0, None
            if cdw11 & 4:
                with ns.lock:
                    for _, n, s in ranges:
                        ns.data[s * bs:(s + n) * bs] = bytes(n * bs)
            return 0, 0, None
        if opc == 0x19:      # Copy, descriptor format 0
            nr = (cdw12 & 0xFF) + 1
            if (cdw12 >> 8) & 0xF or nr > 256:
                return SC_INVALID_FIELD, 0, None
            if len(data) != 32 * nr:
                return SC_SGL_LEN_INVALID, 0, None
            sdlba = cdw10 | cdw11 << 32
            ranges = [struct.unpack_from("<QH", data, 32 * i + 8) for i in range(nr)]
            total = sum(n + 1 for _, n in ranges)
            if any(n + 1 > 256 for _, n in ranges) or total > 4096:
                return DNR | 0x183, 0, None     # Command Size Limit Exceeded
            if sdlba + total > ns.nblocks or any(s + n + 1 > ns.nblocks for s, n in ranges):
                return SC_LBA_RANGE, 0, None
            with ns.lock:
                out = b"".join(bytes(ns.data[s * bs:(s + n + 1) * bs]) for s, n in ranges)
                ns.data[sdlba * bs:sdlba * bs + len(out)] = out
            return 0, 0, None
        return SC_INVALID_OPCODE, 0, None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--nqn", default="nqn.2026-12.io.nvpoll:fake-target")
    p.add_argument("--ns", default="32M:4096,8M:512", help="SIZE:BLOCKSIZE,...")
    p.add_argument("--mdts", type=int, default=5)
    p.add_argument("--incapsule", type=int, default=8192, help="I/O in-capsule data bytes")
    p.add_argument("--maxh2cdata", type=int, default=16384)
    p.add_argument("--cpda", type=int, default=0,
                   help="host data in PDUs aligned to (CPDA + 1) * 4 bytes")
    p.add_argument("--r2t-max", type=int, default=65536, help="bytes one R2T asks for at most")
    p.add_argument("--c2h-max", type=int, default=32768, help="bytes per C2HData at most")
    p.add_argument("--no-success", action="store_true", help="never use the SUCCESS flag")
    p.add_argument("--no-digests", action="store_true", help="turn digest requests down")
    p.add_argument("--refuse-sqfc", action="store_true",
                   help="refuse an I/O Connect that asks for SQ flow control off")
    p.add_argument("--strict", action="store_true",
                   help="exit 3 when the host breaks the protocol")
    p.add_argument("--lifetime", type=float, default=600)
    p.add_argument("--hang-after", type=int)
    p.add_argument("--hang-after-seconds", type=float)
    p.add_argument("--close-after", type=int)
    p.add_argument("--refuse-seconds", type=float, default=2.0)
    p.add_argument("--bad-cid-after", type=int)
    p.add_argument("--malformed-after", type=int)
    p.add_argument("--malformed", choices=("plen", "type", "hdgst", "ddgst", "term"),
                   default="plen")
    p.add_argument("--delay-after", type=int)
    p.add_argument("--delay-seconds", type=float, default=2.5)
    p.add_argument("--early-resp-after", type=int)
    p.add_argument("--csts-after", type=int)
    p.add_argument("--csts-value", type=lambda v: int(v, 0), default=0x3)
    p.add_argument("--fault-times", type=int, default=1, help="0: every time")
    p.add_argument("--fault-on", choices=("io", "keepalive"), default="io",
                   help="the commands the failure modes count")
    args = p.parse_args()
    if sum(x is not None for x in (args.hang_after, args.hang_after_seconds, args.close_after, args.bad_cid_after,
                                   args.malformed_after, args.delay_after,
                                   args.early_resp_after, args.csts_after)) > 1:
        p.error("one failure mode at a time")
    t = Target(args)
    t.listen()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{t.port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"listening on 127.0.0.1:{t.port} {t.nqn}", flush=True)
    threading.Thread(target=t.serve, daemon=True).start()

    def stop(*_):
        log(f"stopping; {t.stats}")
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    time.sleep(args.lifetime)
    log(f"lifetime over; {t.stats}")


if __name__ == "__main__":
    main()
