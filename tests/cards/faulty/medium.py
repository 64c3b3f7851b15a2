"""The faulty medium as a test sees it: a FUSE server process (server.py) serving one image
file through the fault engine (faults.py), driven through its control file.

    medium = FaultyMedium(root, size_mb=64)            # starts the server, waits for the mount
    medium.served                                      # the file to put a loop device on
    medium.set_faults(drop_writes(after=1 << 20))      # replaces the faults (counters restart)
    medium.stats()["dropped_bytes"]
    medium.release(); medium.clear(); medium.stop()

The fault builders (drop_writes, flip_byte, io_error, hang) return the dicts described in
faults.py; ``match`` takes bytes. The server runs in its own process, so a test may block
in a write to the card while the kernel calls the server, and a hung request never holds
this process's GIL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

SERVER = Path(__file__).resolve().parent / "server.py"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def _fault(kind: str, **kw) -> dict:
    spec = {"kind": kind}
    for key, value in kw.items():
        if value is None:
            continue
        spec[key] = value.hex() if key == "match" else value
    return spec


def drop_writes(*, after=None, start=None, end=None, match: bytes | None = None, times=None) -> dict:
    """Writes are acknowledged and not stored: inside [start, end) of the image, past the first
    `after` bytes written from now (into [start, end) where given), or every write request
    whose data holds `match`."""
    return _fault("drop", after=after, start=start, end=end, match=match, times=times)


def flip_byte(*, offset=None, match: bytes | None = None, at=0, mask=1, times=None) -> dict:
    """Reads return one byte XOR mask: the image byte at `offset`, or the byte `at` past the
    first place a read finds `match`. The stored bytes do not change."""
    return _fault("flip", offset=offset, match=match, at=at, mask=mask, times=times)


def io_error(*, op="read", start=None, end=None, match: bytes | None = None, after=None, times=None) -> dict:
    """Requests (op: read, write or any) fail with EIO: those overlapping [start, end), or
    holding `match`, once `after` bytes of that op went by, at most `times` times."""
    return _fault("eio", op=op, start=start, end=end, match=match, after=after, times=times)


def hang(
    *, op="read", start=None, end=None, match: bytes | None = None, after=None, times=None, timeout=30.0, then="eio"
) -> dict:
    """Requests block until FaultyMedium.release(), or for `timeout` seconds and then fail
    with EIO (then="eio") or go on (then="pass"). Selected as for io_error."""
    return _fault(
        "hang", op=op, start=start, end=end, match=match, after=after, times=times, timeout=timeout, then=then
    )


class FaultyMedium:
    def __init__(self, root: Path, size_mb: int = 64, apparent_mb: int | None = None, beyond: str = "wrap"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.image = self.root / "backing.img"  # the bytes the medium really holds
        self.mountpoint = self.root / "served"  # the FUSE mount: served/disk.img, served/control
        self.mountpoint.mkdir(exist_ok=True)
        self.served = self.mountpoint / "disk.img"
        self.control = self.mountpoint / "control"
        self.log_path = self.root / "server.log"
        with open(self.image, "wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        args = [sys.executable, str(SERVER), str(self.image), str(self.mountpoint), "--beyond", beyond]
        if apparent_mb:
            args += ["--apparent", str(apparent_mb * 1024 * 1024)]
        with open(self.log_path, "wb") as log:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        _started.append(self)
        served_paths.add(str(self.served))
        self._wait_mounted()

    def _wait_mounted(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"the faulty-medium server stopped at start: {self.log()}")
            if os.path.ismount(self.mountpoint) and self.served.exists():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the faulty-medium server did not mount within {START_TIMEOUT} s: {self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # ---- control
    def command(self, **cmd) -> None:
        with open(self.control, "w") as f:
            f.write(json.dumps(cmd))

    def set_faults(self, *faults: dict) -> None:
        """Replace the faults with these (their hit and byte counters start at 0)."""
        self.command(faults=list(faults))

    def clear(self) -> None:
        """No faults any more; hung requests go on."""
        self.command(release=True, faults=[])

    def release(self) -> None:
        """Let every hung request go on, and disarm the hang faults."""
        self.command(release=True)

    def reset_stats(self) -> None:
        """Counters to 0, and no block counts as written any more (for reread_bytes)."""
        self.command(reset_stats=True)

    def state(self) -> dict:
        with open(self.control) as f:
            return json.loads(f.read())

    def stats(self) -> dict:
        """reads, writes, read_bytes, write_bytes, stored_bytes, dropped_bytes, reread_bytes
        (read from blocks written since the last reset), flipped, eio, hung (requests that
        hung), hanging (blocked now), released, timed_out."""
        return self.state()["stats"]

    def faults(self) -> list[dict]:
        """The faults in force, each with `hits` (requests it acted on) and `seen` (bytes)."""
        return self.state()["faults"]

    def wait_for(self, counter: str, at_least: int = 1, timeout: float = 30.0) -> dict:
        """Wait until stats()[counter] >= at_least (e.g. "hanging": a request is blocked now)."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats[counter] >= at_least:
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"{counter} stayed at {stats[counter]} (< {at_least}) for {timeout} s: {stats}")
            time.sleep(0.02)

    def locate(self, data: bytes) -> list[int]:
        """The image offsets (real bytes, as stored) where `data` starts."""
        found, blob = [], self.image.read_bytes()
        pos = blob.find(data)
        while pos >= 0:
            found.append(pos)
            pos = blob.find(data, pos + 1)
        return found

    # ---- end
    def stop(self) -> None:
        """Release what hangs, stop the server, make sure nothing stays mounted."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.clear()
            except OSError:
                pass
            # An unmount ends libfuse's loop cleanly. It is refused while a loop device still
            # holds the file (a detached device lets go once its last user, e.g. a fusefat
            # that is still exiting, closes it): try for a while, then SIGTERM, then SIGKILL.
            for _ in range(50):
                if subprocess.run(["umount", str(self.mountpoint)], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            for stop in (None, self.proc.terminate, self.proc.kill):
                if stop:
                    stop()
                try:
                    self.proc.wait(STOP_TIMEOUT)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.proc = None
        if mounted(self.mountpoint):  # a dead server's mount answers ENOTCONN: ismount() says no
            subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True, check=False)
        if self in _started:
            _started.remove(self)


def mounted(path: Path) -> bool:
    """Is something mounted on path in this mount namespace (from /proc/self/mountinfo)?"""
    want = os.path.abspath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")  # \040 for a space
            if point == want:
                return True
    return False


_started: list[FaultyMedium] = []
served_paths: set[str] = set()  # every file this process served: the sweep detaches loops on these only


def stop_all() -> None:
    """Stop every server this process started and did not stop (the session's last sweep)."""
    for medium in list(_started):
        medium.stop()
