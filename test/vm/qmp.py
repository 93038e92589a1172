#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small QMP client for the VM rig: unplug a device from a running guest.

Usage: qmp.py SOCKET device_del ID [--wait-deleted SECONDS]

Connects to QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off),
negotiates capabilities, sends device_del for ID and, with --wait-deleted,
waits until QEMU reports DEVICE_DELETED for it: the guest has let the device
go (for a PCIe root port: after the guest's hotplug driver powered the slot
off). Prints one line per milestone with the seconds since the start, e.g.
"qmp: device_del nvme2 accepted at 0.003 s", "qmp: DEVICE_DELETED nvme2 at
5.412 s". Exit status: 0 done, 1 QMP said no or the event did not come in
time, 2 usage or connection errors.
"""
import json
import socket
import sys
import time

T0 = time.monotonic()


def say(msg):
    print(f"qmp: {msg} at {time.monotonic() - T0:.3f} s", flush=True)


class Qmp:
    """Line-oriented QMP: one JSON object per line, events interleaved."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        # QEMU creates the socket at start-up; retry briefly if it is not there yet.
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.events = []
        greeting = self.read()
        if "QMP" not in greeting:
            raise RuntimeError(f"not a QMP greeting: {greeting}")

    def read(self, deadline=None):
        while b"\n" not in self.buf:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no message from QEMU")
                self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self.read()
            if "event" in reply:
                self.events.append(reply)
                continue
            return reply

    def wait_event(self, name, device, seconds):
        deadline = time.monotonic() + seconds
        while True:
            for ev in self.events:
                if ev.get("event") == name and ev.get("data", {}).get("device") == device:
                    return ev
            self.events = []
            self.events.append(self.read(deadline))


def main():
    args = sys.argv[1:]
    if len(args) not in (3, 5) or args[1] != "device_del" or \
            (len(args) == 5 and args[3] != "--wait-deleted"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, dev = args[0], args[2]
    wait = float(args[4]) if len(args) == 5 else 0
    try:
        q = Qmp(path, 10)
        reply = q.execute("qmp_capabilities")
        if "error" in reply:
            print(f"qmp: qmp_capabilities refused: {reply['error']}", file=sys.stderr)
            return 2
    except (OSError, ValueError, RuntimeError) as e:
        print(f"qmp: cannot talk to QEMU on {path}: {e}; is the -qmp socket there?",
              file=sys.stderr)
        return 2
    reply = q.execute("device_del", id=dev)
    if "error" in reply:
        print(f"qmp: device_del {dev} refused: {reply['error'].get('desc', reply['error'])}",
              file=sys.stderr)
        return 1
    say(f"device_del {dev} accepted")
    if wait:
        try:
            q.wait_event("DEVICE_DELETED", dev, wait)
        except (TimeoutError, socket.timeout):
            print(f"qmp: no DEVICE_DELETED for {dev} within {wait:g} s: the guest did not "
                  "let the device go (a process still holding it?)", file=sys.stderr)
            return 1
        except (OSError, ValueError) as e:
            print(f"qmp: lost QEMU while waiting for DEVICE_DELETED: {e}", file=sys.stderr)
            return 1
        say(f"DEVICE_DELETED {dev}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
