"""The faulty medium's FUSE server: serves one image file, ``/disk.img``, through the fault
engine (faults.py), and a control file, ``/control``.

    python server.py IMAGE MOUNTPOINT [--apparent BYTES] [--beyond wrap|drop]

Runs in the foreground, multithreaded (a hung request blocks one thread only, so the control
file still answers), until SIGTERM or an unmount. If the process that started it dies
(a test run killed), it cleans up on its own: hung requests released, the card file
systems on loop devices over its file lazily unmounted, those loop devices detached, then
it stops. Both files are opened with direct_io, so
every read and write of the image reaches the engine (the kernel keeps no page cache of it).

Control: write one JSON object to /control and close it; it is applied when the file is
closed (a bad object makes close() fail with EINVAL and changes nothing):
    {"faults": [fault, ...]}   replace the faults (see faults.py)
    {"release": true}          let hung requests go on, disarm the hang faults
    {"reset_stats": true}      zero the counters
Read /control for a JSON object: size, apparent, beyond, stats, faults (with their hits).
"""

from __future__ import annotations

import argparse
import errno
import itertools
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import mfusepy as fuse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faults import Engine, FaultError

IMAGE, CONTROL = "/disk.img", "/control"
ORPHAN_GRACE = 10.0  # seconds an orphaned server waits for its mount to end before it exits


class Served(fuse.Operations):
    use_ns = True

    def __init__(self, engine: Engine):
        self.engine = engine
        self.now = time.time_ns()
        self.handles = itertools.count(1)
        self._guard = threading.Lock()
        self.pending: dict[int, bytearray] = {}  # control writes, per open handle
        self.snapshots: dict[int, bytes] = {}  # control reads, per open handle

    def _attrs(self, mode: int, size: int, nlink: int = 1) -> dict:
        t = self.now
        return {"st_mode": mode, "st_size": size, "st_nlink": nlink, "st_atime": t, "st_mtime": t, "st_ctime": t}

    def getattr(self, path, fh=None):
        if path == "/":
            return self._attrs(stat.S_IFDIR | 0o755, 0, 2)
        if path == IMAGE:
            return self._attrs(stat.S_IFREG | 0o600, self.engine.apparent)
        if path == CONTROL:
            return self._attrs(stat.S_IFREG | 0o600, 0)
        raise fuse.FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        if path != "/":
            raise fuse.FuseOSError(errno.ENOTDIR)
        return [".", "..", IMAGE[1:], CONTROL[1:]]

    def open(self, path, fi):
        if path not in (IMAGE, CONTROL):
            raise fuse.FuseOSError(errno.ENOENT)
        fi.direct_io = 1
        fi.keep_cache = 0
        fi.fh = next(self.handles)
        if path == CONTROL:
            with self._guard:
                self.pending[fi.fh] = bytearray()
                self.snapshots[fi.fh] = json.dumps(self.engine.state()).encode() + b"\n"
        return 0

    def truncate(self, path, length, fh=None):
        if path == CONTROL:
            return 0
        if path == IMAGE and length == self.engine.apparent:
            return 0
        raise fuse.FuseOSError(errno.EPERM)

    def read(self, path, size, offset, fi):
        if path == CONTROL:
            return self.snapshots.get(fi.fh, b"")[offset : offset + size]
        return self._io(self.engine.read, offset, size)

    def write(self, path, data, offset, fi):
        if path == CONTROL:
            with self._guard:
                buf = self.pending.setdefault(fi.fh, bytearray())
                buf[offset : offset + len(data)] = data
            return len(data)
        return self._io(self.engine.write, data, offset)

    @staticmethod
    def _io(call, *args):
        try:
            return call(*args)
        except OSError as e:
            raise fuse.FuseOSError(e.errno or errno.EIO) from None

    def flush(self, path, fi):
        if path != CONTROL:
            return 0
        with self._guard:
            raw = bytes(self.pending.get(fi.fh, b""))
            self.pending[fi.fh] = bytearray()
        if raw.strip():
            try:
                self.command(json.loads(raw))
            except (ValueError, FaultError, TypeError) as e:
                logging.error("control: %s", e)
                raise fuse.FuseOSError(errno.EINVAL) from None
        return 0

    def command(self, cmd: dict) -> None:
        if not isinstance(cmd, dict) or set(cmd) - {"faults", "release", "reset_stats"}:
            raise FaultError(f"a control command is an object with faults, release, reset_stats: {cmd!r}")
        if cmd.get("release"):
            self.engine.release()
        if "faults" in cmd:
            if not isinstance(cmd["faults"], list):
                raise FaultError("faults must be a list")
            self.engine.set_faults(cmd["faults"])
        if cmd.get("reset_stats"):
            self.engine.reset_stats()

    def release(self, path, fi):
        with self._guard:
            self.pending.pop(fi.fh, None)
            self.snapshots.pop(fi.fh, None)
        return 0

    def fsync(self, path, datasync, fi):
        return 0

    def statfs(self, path):
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 0, "f_bfree": 0, "f_bavail": 0, "f_namemax": 255}


def _orphaned(engine: Engine, mountpoint: str) -> None:
    """The test process is gone and nobody will detach what sits on this medium: do it."""
    served = os.path.join(mountpoint, IMAGE[1:])
    logging.warning("the test process is gone: detaching what sits on %s", served)
    engine.set_faults([])
    engine.release()
    listing = subprocess.run(["losetup", "-a", "-n", "-O", "NAME,BACK-FILE"], capture_output=True, text=True)
    loops = [n for n, _, b in (x.strip().partition(" ") for x in listing.stdout.splitlines()) if b.strip() == served]
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split(" - ", 1) for line in f]
    for loop in loops:
        for fields, rest in mounts:
            source = rest.split()[1]
            if source == loop or source.startswith(loop + "p"):  # /dev/loopN or its partitions
                subprocess.run(["umount", "-l", fields.split()[4]], capture_output=True)
        subprocess.run(["partx", "-d", loop], capture_output=True)
        subprocess.run(["losetup", "-d", loop], capture_output=True)  # busy: detached when last closed
    # Our own mount, lazily: libfuse's loop ends once the last loop device lets the file go.
    subprocess.run(["umount", "-l", mountpoint], capture_output=True)
    time.sleep(ORPHAN_GRACE)
    os._exit(0)  # still here: the kernel aborts the connection when /dev/fuse closes


def _watch_parent(engine: Engine, mountpoint: str) -> None:
    # SIGTERM must reach a libfuse thread (it wakes the session loop), never this one
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    _orphaned(engine, mountpoint)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("image")
    p.add_argument("mountpoint")
    p.add_argument("--apparent", type=int, default=None, help="the size the served file shows, in bytes")
    p.add_argument("--beyond", choices=("wrap", "drop"), default="wrap")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="faulty-medium: %(levelname)s %(message)s")
    engine = Engine(args.image, args.apparent, args.beyond)
    options = {"foreground": True, "raw_fi": True, "fsname": "faultymedium", "subtype": "faulty"}
    if fuse.fuse_version_major == 2:
        options["big_writes"] = True  # libfuse 3 always allows writes over 4 KiB
    mountpoint = os.path.abspath(args.mountpoint)
    threading.Thread(target=_watch_parent, args=(engine, mountpoint), daemon=True).start()
    try:
        fuse.FUSE(Served(engine), args.mountpoint, **options)
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
