#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""CTest checks of the fio engine (nvpoll-fio.so) against the emulated controller.

Usage: check_fio.py FIO ENGINE_SO CHECK [EXAMPLES_DIR]
  verify    several jobs on one controller and one on another, in one fio
            process: randwrite with verify_backlog at iodepth 64, sizes above
            MDTS (128 KiB and 1 MiB at mdts=3, 32 KiB) with md5, 512-byte
            blocks at iodepth 1 with a pattern; every byte written is read
            back and compared, no errors
  numjobs   numjobs=3 on one controller (offset_increment), crc32c verify
  corrupt   a file-backed namespace: write with crc32c, verify_only passes;
            corrupt bytes of the file, verify_only fails naming the block;
            the same with verify=pattern
  trim      fill with a pattern, trim (Dataset Management) part of it in a
            later job of the same fio process (the controller is shared, its
            RAM namespace kept): the trimmed range reads zeroes, the rest the
            pattern; and reading the pattern from the trimmed range fails
  sync      fsync=N goes through the engine as Flush (fio's sync count),
            fdatasync=N reaches the engine's queue(), fua=1 writes verify;
            a controller without a write cache completes them too
  errors    the messages: no --thread, a bad address (nvpoll's own text), a
            missing --nsid, a block size the namespace cannot do, more jobs
            than the controller grants queues
  ioerror   a device that fails I/O: a namespace whose Identify data (emu
            raw=) claims twice the storage behind it, so reads past the
            storage complete with LBA Out of Range; fio reports nvpoll's
            NVMe status and stops, or counts the errors with
            continue_on_error=io and ignore_error=ERANGE
  examples  the job files in EXAMPLES_DIR: verify.fio and
            multi-controller.fio run, every file parses
Exits non-zero with the reason on the first mismatch.
"""
import glob
import json
import os
import re
import struct
import subprocess
import sys
import tempfile


def check(cond, msg, out="", err=""):
    if not cond:
        print("FAIL: " + msg)
        if out:
            print("--- stdout ---\n" + out[-6000:])
        if err:
            print("--- stderr ---\n" + err[-6000:])
        sys.exit(1)


class Fio:
    def __init__(self, fio, engine, tmp):
        self.fio = fio
        self.engine = engine
        self.tmp = tmp
        self.n = 0

    def run(self, job, *args, expect_rc=0, timeout=240, env=None):
        """Run a job file (text); with expect_rc 0 return the parsed JSON."""
        self.n += 1
        path = os.path.join(self.tmp, f"job{self.n}.fio")
        with open(path, "w") as f:
            f.write(job.replace("@ENGINE@", self.engine))
        cmd = [self.fio, path, *args]
        if expect_rc == 0:
            cmd.append("--output-format=json")
        print("$ " + " ".join(cmd))
        print(job.replace("@ENGINE@", self.engine).rstrip())
        # cwd: fio leaves verify state files (*-verify.state) there.
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=env, cwd=self.tmp)
        if expect_rc == 0:
            check(p.returncode == 0, f"fio exited {p.returncode}", p.stdout, p.stderr)
            # fio may print notes before the JSON.
            out = p.stdout[p.stdout.index("{"):]
            return json.loads(out), p.stderr
        check(p.returncode != 0, "fio succeeded, expected a failure", p.stdout, p.stderr)
        return p.stdout + p.stderr


GLOBAL = """[global]
thread
ioengine=external:@ENGINE@
"""


def jobs_by_name(data):
    return {j["jobname"]: j for j in data["jobs"]}


def check_verified(j, written, what):
    """Job j wrote `written` bytes (None: some) without error and read all
    of it back."""
    check(j["error"] == 0, f"{what}: error {j['error']}")
    if written is None:
        written = j["write"]["io_bytes"]
        check(written > 0, f"{what}: wrote nothing")
    check(j["write"]["io_bytes"] == written,
          f"{what}: wrote {j['write']['io_bytes']} bytes, expected {written}")
    check(j["read"]["io_bytes"] == written,
          f"{what}: verified {j['read']['io_bytes']} bytes, expected {written} "
          "(every block written must be read back and compared)")


def check_verify(f):
    c0 = r"emu\:ns=128M\:4096,mdts=3,qpairs=8"
    c1 = r"emu\:ns=16M\:512"
    job = GLOBAL + f"""
[qd64]
filename={c0}
rw=randwrite
bs=4k
iodepth=64
size=8M
verify=crc32c
verify_backlog=64

[mdts-128k]
filename={c0}
offset=16M
size=16M
rw=randwrite
bs=128k
iodepth=8
verify=md5
verify_backlog=16

[mdts-1m]
filename={c0}
offset=64M
size=32M
rw=randwrite
bs=1M
iodepth=64
verify=crc32c

[lba512-qd1]
filename={c1}
rw=randwrite
bs=512
iodepth=1
size=1M
verify=pattern
verify_pattern=0x5aa5c33c

[lba512-qd64]
filename={c1}
offset=4M
size=4M
rw=randwrite
bs=512-64k
iodepth=64
verify=crc32c
verify_backlog=128
"""
    data, _ = f.run(job)
    j = jobs_by_name(data)
    check_verified(j["qd64"], 8 << 20, "qd64")
    check_verified(j["mdts-128k"], 16 << 20, "mdts-128k")
    check_verified(j["mdts-1m"], 32 << 20, "mdts-1m")
    check_verified(j["lba512-qd1"], 1 << 20, "lba512-qd1")
    # bs=512-64k: random sizes (fio stops when the next one does not fit).
    check_verified(j["lba512-qd64"], None, "lba512-qd64")
    check(j["qd64"]["iodepth_level"][">=64"] > 0, "qd64 never had 64 I/Os in flight",
          json.dumps(j["qd64"]["iodepth_level"]))


def check_numjobs(f):
    job = GLOBAL + r"""
[jobs]
filename=emu\:ns=64M\:4096
numjobs=3
offset_increment=8M
size=4M
rw=randwrite
bs=4k
iodepth=16
verify=crc32c
verify_backlog=32
"""
    data, _ = f.run(job)
    check(len(data["jobs"]) == 3, f"{len(data['jobs'])} jobs reported, expected 3")
    for i, j in enumerate(data["jobs"]):
        check_verified(j, 4 << 20, f"job {i}")


def corrupt(path, offset, data=b"\xde\xad\xbe\xef"):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def check_corrupt(f):
    for verify in ("crc32c", "pattern"):
        img = os.path.join(f.tmp, f"ns-{verify}.img")
        name = r"emu\:ns=16M\:4096\:" + img
        extra = "verify_pattern=0x0f1e2d3c\n" if verify == "pattern" else ""
        base = GLOBAL + f"""
[w]
filename={name}
rw=randwrite
bs=8k
iodepth=16
size=4M
verify={verify}
{extra}"""
        data, _ = f.run(base + "do_verify=0\n")
        j = data["jobs"][0]
        check(j["error"] == 0 and j["write"]["io_bytes"] == 4 << 20,
              f"{verify}: the write pass failed", json.dumps(j)[:2000])
        check(j["read"]["io_bytes"] == 0, f"{verify}: do_verify=0 still read")
        # Unchanged data: verify_only reads everything and passes.
        data, _ = f.run(base + "verify_only=1\n")
        j = data["jobs"][0]
        check(j["error"] == 0 and j["read"]["io_bytes"] == 4 << 20,
              f"{verify}: verify_only of intact data did not read and pass 4 MiB",
              json.dumps(j)[:2000])
        # Four bytes in the middle of the block at 1 MiB + 8 KiB.
        off = (1 << 20) + 8192
        corrupt(img, off + 4000)
        out = f.run(base + "verify_only=1\n", expect_rc=1)
        check(re.search(rf"verify failed at file .* offset {off}, length", out) is not None,
              f"{verify}: no 'verify failed ... offset {off}' after corrupting that block", out)
        check("err=84" in out, f"{verify}: fio did not end with EILSEQ (84)", out)


def check_trim(f):
    job = GLOBAL + r"""
filename=emu\:ns=16M\:4096
size=4M
bs=64k
iodepth=8

[fill]
rw=write
verify=pattern
verify_pattern=0xa5

[trim]
stonewall
rw=trim
offset=1M
size=2M

[zeroes]
stonewall
rw=read
offset=1M
size=2M
verify=pattern
verify_pattern=0x00

[kept]
stonewall
rw=read
size=1M
verify=pattern
verify_pattern=0xa5
"""
    data, _ = f.run(job)
    j = jobs_by_name(data)
    for n in ("fill", "trim", "zeroes", "kept"):
        check(j[n]["error"] == 0, f"{n}: error {j[n]['error']}")
    check(j["trim"]["trim"]["io_bytes"] == 2 << 20,
          f"trimmed {j['trim']['trim']['io_bytes']} bytes, expected 2 MiB")
    check(j["zeroes"]["read"]["io_bytes"] == 2 << 20, "the trimmed range was not read back")
    check(j["kept"]["read"]["io_bytes"] == 1 << 20, "the kept range was not read back")
    # The other way round: the trimmed range no longer holds the pattern.
    out = f.run(job.replace("verify_pattern=0x00", "verify_pattern=0xa5"), expect_rc=1)
    check("pattern: verify failed at file" in out,
          "reading the old pattern from the trimmed range did not fail", out)


def check_sync(f):
    base = GLOBAL + r"""
[w]
filename={addr}
rw=randwrite
bs=4k
size=1M
iodepth=8
verify=crc32c
{extra}
"""
    for addr, extra in ((r"emu\:", "fsync=4"), (r"emu\:vwc=0", "fsync=2")):
        data, _ = f.run(base.format(addr=addr, extra=extra))
        j = data["jobs"][0]
        check_verified(j, 1 << 20, f"{addr} {extra}")
        n = int(extra.split("=")[1])
        check(j["sync"]["total_ios"] >= 256 // n // 2,
              f"{addr} {extra}: {j['sync']['total_ios']} syncs, expected about {256 // n}")
    data, _ = f.run(base.format(addr=r"emu\:", extra="fua=1"))
    check_verified(data["jobs"][0], 1 << 20, "fua=1")
    # fdatasync has no count of its own in fio's JSON: look for the
    # datasync commands (ddir 4) that fio queued to the engine.
    p = subprocess.run([f.fio, "--name=ds", "--thread", f"--ioengine=external:{f.engine}",
                        r"--filename=emu\:", "--rw=write", "--bs=4k", "--size=64k",
                        "--iodepth=4", "--fdatasync=4", "--debug=io"],
                       capture_output=True, text=True, timeout=120, cwd=f.tmp)
    check(p.returncode == 0, f"fdatasync run exited {p.returncode}", p.stdout, p.stderr)
    queued = len(re.findall(r"queue: io_u \S+ off=\S+ddir=4,", p.stdout + p.stderr))
    check(queued >= 3, f"{queued} fdatasync commands queued to the engine, expected 4",
          p.stdout[-3000:])


def check_errors(f):
    simple = "[j]\nrw=randread\nbs=4k\nsize=1M\n"
    out = f.run(f"[global]\nioengine=external:@ENGINE@\nfilename=emu\\:\n{simple}", expect_rc=1)
    check("nvpoll: --thread is required" in out, "no '--thread is required' message", out)
    out = f.run(GLOBAL + f"filename=emu\\:bogus=1\n{simple}", expect_rc=1)
    check(re.search(r"nvpoll: cannot attach emu:bogus=1: emu: .*bogus", out) is not None,
          "a bad address did not give nvpoll's message naming the bad option", out)
    out = f.run(GLOBAL + f"filename=emu\\:\nnsid=7\n{simple}", expect_rc=1)
    check("nvpoll: emu: has no active namespace 7" in out, "no message for --nsid=7", out)
    out = f.run(GLOBAL + "filename=emu\\:ns=16M\\:4096\n[j]\nrw=randread\nbs=512\nsize=1M\n",
                expect_rc=1)
    check("is not a multiple of the namespace's 4096-byte blocks" in out,
          "no message for bs=512 on 4096-byte blocks", out)
    out = f.run(GLOBAL + "filename=emu\\:qpairs=2\n[j]\nnumjobs=3\nrw=randread\nbs=4k\nsize=1M\n",
                expect_rc=1)
    check(re.search(r"cannot create a queue pair for this job: all 2 I/O queues", out) is not None,
          "three jobs on a controller granting two queues: no message (or they did not share it)",
          out)


def raw_identify_ns(path, nsze, lbads):
    """An emu raw= file (docs/emu.md) whose Identify Namespace of NSID 1
    reports nsze blocks of 2^lbads bytes in LBA format 0."""
    page = bytearray(4096)
    struct.pack_into("<QQQ", page, 0, nsze, nsze, 0)   # NSZE, NCAP, NUSE
    page[25] = 0                                       # NLBAF: one format
    page[26] = 0                                       # FLBAS: format 0
    struct.pack_into("<I", page, 128, lbads << 16)     # LBAF0: no metadata
    with open(path, "wb") as fh:
        fh.write(b"NVPEMUR1")
        fh.write(struct.pack("<BBHII", 1, 0, 0, 1, len(page)))
        fh.write(page)


def check_ioerror(f):
    raw = os.path.join(f.tmp, "ns-too-big.raw")
    # 1 MiB of storage, Identify says 2 MiB: LBAs 256..511 are out of range.
    raw_identify_ns(raw, 512, 12)
    job = GLOBAL + f"""
[r]
filename=emu\\:ns=1M\\:4096,raw={raw}
rw=read
bs=4k
iodepth=4
"""
    out = f.run(job, expect_rc=1)
    check(re.search(r"fio: io_u error on file emu:.*: Numerical result out of range: "
                    r"read offset=(\d+)", out) is not None,
          "no fio io_u error with ERANGE", out)
    off = int(re.search(r"read offset=(\d+)", out).group(1))
    check(off >= 1 << 20, f"the first failed read is at {off}, inside the storage", out)
    check("fio: nvpoll: read: NVMe status LBA Out of Range (SCT 0h SC 80h, DNR)" in out,
          "fio did not print nvpoll's NVMe status of the failed read", out)
    check(re.search(r"err=34/.*error=read: NVMe status LBA Out of Range", out) is not None,
          "the job's error line does not carry nvpoll's message", out)
    # continue_on_error=io with ERANGE made non-fatal (fio's default list
    # has only EIO and EILSEQ): the errors are counted and the job goes on.
    data, _ = f.run(job + "continue_on_error=io\nignore_error=ERANGE\n")
    j = data["jobs"][0]
    # fio reports the first error as the job's error when it continued.
    check(j["read"]["total_ios"] == 512 and j["read"]["io_bytes"] == 1 << 20,
          f"continue_on_error=io: {j['read']['total_ios']} reads, {j['read']['io_bytes']} "
          "bytes; expected all 512 issued and the 256 inside the storage done")
    check(j["total_err"] == 256, f"continue_on_error=io: {j['total_err']} errors, expected 256 "
          "(every 4 KiB read past 1 MiB)")
    check(j["first_error"] == 34, f"first error {j['first_error']}, expected 34 (ERANGE)")


def check_examples(f, examples):
    files = sorted(glob.glob(os.path.join(examples, "*.fio")))
    check(len(files) >= 3, f"only {len(files)} example job files in {examples}")
    env = dict(os.environ, NVPOLL_FIO=f.engine)
    for path in files:
        p = subprocess.run([f.fio, "--parse-only", path], capture_output=True, text=True,
                           env=env, timeout=60, cwd=f.tmp)
        check(p.returncode == 0, f"{path} does not parse", p.stdout, p.stderr)
    for name in ("verify.fio", "multi-controller.fio"):
        path = os.path.join(examples, name)
        print("$ NVPOLL_FIO=" + f.engine + " fio " + path)
        p = subprocess.run([f.fio, os.path.abspath(path), "--output-format=json"],
                           capture_output=True, text=True, env=env, timeout=240, cwd=f.tmp)
        check(p.returncode == 0, f"{name} exited {p.returncode}", p.stdout, p.stderr)
        data = json.loads(p.stdout[p.stdout.index("{"):])
        for j in data["jobs"]:
            check(j["error"] == 0, f"{name}: job {j['jobname']} error {j['error']}")
            if j["write"]["io_bytes"]:
                check(j["read"]["io_bytes"] == j["write"]["io_bytes"],
                      f"{name}: job {j['jobname']} verified {j['read']['io_bytes']} of "
                      f"{j['write']['io_bytes']} bytes")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    fio, engine, what = sys.argv[1:4]
    engine = os.path.abspath(engine)
    with tempfile.TemporaryDirectory(prefix="nvp-fio-") as tmp:
        f = Fio(fio, engine, tmp)
        checks = {
            "verify": check_verify, "numjobs": check_numjobs, "corrupt": check_corrupt,
            "trim": check_trim, "sync": check_sync, "errors": check_errors,
            "ioerror": check_ioerror,
        }
        if what == "examples":
            check_examples(f, os.path.abspath(sys.argv[4]))
        elif what in checks:
            checks[what](f)
        else:
            print(f"unknown check {what}")
            sys.exit(2)
    print(f"PASS {what}")


if __name__ == "__main__":
    main()
