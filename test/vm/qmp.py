#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The VM rig's QMP client.

Usage: qmp.py SOCKET watch --console FILE --pid PID [--hotplug-wait SECONDS]
       qmp.py SOCKET device_del ID [--wait-deleted SECONDS]

watch: the rig's one QMP client for a whole boot of a QEMU started with
-no-shutdown -no-reboot (so QEMU stops, but stays, when the guest powers off,
reboots or panics). It connects to QEMU's QMP socket
(-qmp unix:SOCKET,server=on,wait=off), negotiates capabilities and then:
- follows the guest console FILE; when the guest prints
  "NVP-HOTPLUG: device_del ID" it sends device_del for ID, and waits for
  QEMU's DEVICE_DELETED for ID (the guest powered the slot off and QEMU
  really deleted the device);
- on SHUTDOWN (the guest powered off or reset; the VM is now stopped) it
  still waits for a pending DEVICE_DELETED, at most SECONDS (default 60)
  after the device_del, then sends quit and waits for QEMU to close the
  socket.
It ends by itself when QEMU goes away (PID gone or the socket closed: a
crash, or the rig's time limit). Why the wait after SHUTDOWN: QEMU 7.2 sends
DEVICE_DELETED from the device's finalizer, which runs from an RCU callback
in QEMU's call_rcu thread some time after the guest's slot power-off (see
README.md, "Hot removal"); a QEMU that exits on guest power-off can exit
before that, and the event is never sent.
Prints one line per milestone; times are seconds since the guest's request
("hotplug: ...", "qmp: ...") or since the watcher started ("qmp: ... at
T s since start"). Exit status: 0 QEMU was quit after the guest stopped and
every requested device was deleted; 1 a requested unplug failed (refused,
no DEVICE_DELETED in time, or the guest stopped before it could be sent);
3 QEMU went away without a guest power-off (crash or killed);
2 usage or connection errors.

device_del: unplug ID by hand from a running guest (QEMU must not have
another QMP client); with --wait-deleted, wait for DEVICE_DELETED.
"""
import json
import os
import select
import socket
import sys
import time

T0 = time.monotonic()


def out(msg):
    print(msg, flush=True)


class Gone(Exception):
    """QEMU closed the QMP socket or its process is gone."""


class Qmp:
    """Line-oriented QMP: one JSON object per line, events interleaved."""

    def __init__(self, path, timeout, alive=lambda: True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # QEMU creates the socket at start-up; retry while it is not there yet.
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline or not alive():
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.events = []
        greeting = self.read(time.monotonic() + timeout)
        if "QMP" not in greeting:
            raise RuntimeError(f"not a QMP greeting: {greeting}")

    def read(self, deadline=None):
        """The next message; TimeoutError at deadline, Gone on EOF."""
        while b"\n" not in self.buf:
            left = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no message from QEMU")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout as e:
                raise TimeoutError("no message from QEMU") from e
            except ConnectionResetError as e:
                raise Gone("QEMU reset the QMP connection") from e
            if not chunk:
                raise Gone("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def poll(self, seconds):
        """Read what arrives within seconds into self.events."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if b"\n" not in self.buf:
                if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                    return
            self.events.append(self.read(deadline + 1))

    def take_events(self):
        evs, self.events = self.events, []
        return evs

    def execute(self, cmd, timeout=10, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        try:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
        except OSError as e:
            raise Gone(f"cannot send {cmd}: {e}") from e
        deadline = time.monotonic() + timeout
        while True:
            reply = self.read(deadline)
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


class Console:
    """New complete lines of the guest's serial console file."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.part = b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        data = self.part + data
        *done, self.part = data.split(b"\n")
        return [ln.decode("utf-8", "replace").rstrip("\r") for ln in done]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def connect(path, timeout, alive=lambda: True):
    q = Qmp(path, timeout, alive)
    reply = q.execute("qmp_capabilities")
    if "error" in reply:
        raise RuntimeError(f"qmp_capabilities refused: {reply['error']}")
    return q


def watch(path, console_path, pid, hotplug_wait):
    alive = lambda: pid_alive(pid)  # noqa: E731
    try:
        q = connect(path, 60, alive)
    except (OSError, ValueError, RuntimeError, TimeoutError, Gone) as e:
        out(f"qmp: cannot talk to QEMU on {path}: {e}")
        return 2
    out(f"qmp: connected at {time.monotonic() - T0:.1f} s since start")
    console = Console(console_path)
    t_req = None          # when the guest asked for the unplug
    dev = None            # the device it asked for
    deleted = False
    failed = None         # why the unplug failed
    shutdown = None       # the SHUTDOWN event's data once the guest stopped
    exited_noted = False

    def since_req():
        return time.monotonic() - t_req

    try:
        while True:
            q.poll(0.1)
            for ev in q.take_events():
                name, data = ev.get("event"), ev.get("data", {})
                ts = ev.get("timestamp", {})
                stamp = f"{ts.get('seconds', 0)}.{ts.get('microseconds', 0):06d}"
                if name == "DEVICE_DELETED" and dev and data.get("device") == dev:
                    deleted = True
                    out(f"qmp: DEVICE_DELETED {dev} at {since_req():.3f} s "
                        f"(QEMU's timestamp {stamp})")
                elif name == "SHUTDOWN" and shutdown is None:
                    shutdown = data
                    when = f"{since_req():.3f} s" if t_req else \
                        f"{time.monotonic() - T0:.1f} s since start"
                    out(f"qmp: guest stopped (SHUTDOWN, reason {data.get('reason', '?')}) "
                        f"at {when} (QEMU's timestamp {stamp})")
            # After SHUTDOWN the console is complete: read it once more, so a
            # request printed just before the power-off is not missed.
            for line in console.lines():
                if line.startswith("NVP-HOTPLUG: device_del ") and dev is None:
                    dev = "".join(c for c in line.split()[2] if c.isalnum() or c in "_-")
                    t_req = time.monotonic()
                    out(f"hotplug: guest asked for device_del {dev}")
                    if shutdown is not None:
                        failed = "the guest stopped before device_del could be sent"
                        out(f"qmp: {failed}")
                        continue
                    reply = q.execute("device_del", id=dev)
                    if "error" in reply:
                        failed = f"device_del {dev} refused: " \
                            f"{reply['error'].get('desc', reply['error'])}"
                        out(f"qmp: {failed}")
                    else:
                        out(f"qmp: device_del {dev} accepted at {since_req():.3f} s")
                elif line.startswith("NVP-HOTPLUG: exited") and t_req and not exited_noted:
                    exited_noted = True
                    out(f"hotplug: guest program exited {since_req():.1f} s after device_del")
            pending = dev is not None and not deleted and failed is None
            if pending and since_req() > hotplug_wait:
                failed = f"no DEVICE_DELETED for {dev} within {hotplug_wait:g} s of " \
                    "device_del: the guest did not let the device go"
                out(f"qmp: {failed}")
                pending = False
            if shutdown is not None and not pending:
                break
            if not alive():
                raise Gone("the QEMU process is gone")
    except (Gone, OSError, ValueError, TimeoutError) as e:
        out(f"qmp: lost QEMU{' (guest had not stopped)' if shutdown is None else ''}: {e}")
        if dev is not None and not deleted:
            if failed is None:
                out(f"qmp: no DEVICE_DELETED for {dev} before QEMU went away")
            return 1
        return 3 if shutdown is None else 0
    if dev is not None and deleted and shutdown is not None and t_req:
        out(f"qmp: quitting QEMU {since_req():.3f} s after device_del")
    else:
        out("qmp: quitting QEMU")
    try:
        q.execute("quit")
        while True:  # the events of quitting, then EOF
            q.read(time.monotonic() + 20)
    except Gone:
        out(f"qmp: QEMU closed the socket at {time.monotonic() - T0:.1f} s since start")
    except (OSError, ValueError, TimeoutError) as e:
        out(f"qmp: QEMU did not close the QMP socket after quit: {e}")
    return 1 if failed else 0


def device_del(path, dev, wait):
    try:
        q = connect(path, 10)
    except (OSError, ValueError, RuntimeError, TimeoutError, Gone) as e:
        print(f"qmp: cannot talk to QEMU on {path}: {e}; is the -qmp socket there?",
              file=sys.stderr)
        return 2
    reply = q.execute("device_del", id=dev)
    if "error" in reply:
        print(f"qmp: device_del {dev} refused: {reply['error'].get('desc', reply['error'])}",
              file=sys.stderr)
        return 1
    out(f"qmp: device_del {dev} accepted at {time.monotonic() - T0:.3f} s")
    if wait:
        try:
            q.wait_event("DEVICE_DELETED", dev, wait)
        except TimeoutError:
            print(f"qmp: no DEVICE_DELETED for {dev} within {wait:g} s", file=sys.stderr)
            return 1
        except (Gone, OSError, ValueError) as e:
            print(f"qmp: lost QEMU while waiting for DEVICE_DELETED: {e}", file=sys.stderr)
            return 1
        out(f"qmp: DEVICE_DELETED {dev} at {time.monotonic() - T0:.3f} s")
    return 0


def usage():
    print("\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
    return 2


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        return usage()
    path, cmd, rest = args[0], args[1], args[2:]
    if cmd == "device_del":
        if len(rest) not in (1, 3) or (len(rest) == 3 and rest[1] != "--wait-deleted"):
            return usage()
        return device_del(path, rest[0], float(rest[2]) if len(rest) == 3 else 0)
    if cmd == "watch":
        opts = {"--console": None, "--pid": None, "--hotplug-wait": "60"}
        if len(rest) % 2:
            return usage()
        for k, v in zip(rest[::2], rest[1::2]):
            if k not in opts:
                return usage()
            opts[k] = v
        if opts["--console"] is None or opts["--pid"] is None:
            return usage()
        return watch(path, opts["--console"], int(opts["--pid"]), float(opts["--hotplug-wait"]))
    return usage()


if __name__ == "__main__":
    sys.exit(main())
