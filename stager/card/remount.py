"""Unmount a FUSE card and mount it again (Linux), so that what is read next comes from
the medium: the FUSE daemon starts with nothing in its memory.

Used by the read-back where the block device's cache cannot be dropped (no rights to open
the device for ``BLKFLSBUF`` / ``posix_fadvise``): the result's method is then
``remounted``; and by the check of the card's directory after the renames, for a daemon
that keeps the directory in its own memory (exfat-fuse, ntfs-3g: only ``fusefat`` reads it
from the device at every look-up).

How: ``udisksctl unmount -b DEV`` then ``udisksctl mount -b DEV`` where udisksctl exists
(a user's desktop); as root, ``umount MOUNTPOINT`` then the daemon's own command line
again (found in ``/proc/PID/cmdline``: the block device and the mount point in its
arguments), so the card comes back with the same options at the same place. The pin's
descriptor is closed for the unmount and opened again after, and the card must come back
as the same block device (``st_dev``) at the same path, else it is a media error
(card-gone). Every command goes through a :class:`Host` so tests inject them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from stager.card.gone import card_gone
from stager.i18n import _

REREADS = {"fusefat"}  # FUSE daemons that read the card's directory from the device at every look-up
MOUNT_WAIT = 10.0  # seconds for the card to be mounted again


class Host:
    """The commands and /proc of a remount (tests subclass it)."""

    proc = "/proc"

    def euid(self) -> int:
        return os.geteuid() if hasattr(os, "geteuid") else -1

    def which(self, name: str) -> str | None:
        return shutil.which(name)

    def run(self, argv: list[str]) -> tuple[int, str]:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            return 127, str(e)
        return done.returncode, (done.stderr or done.stdout).strip()

    def commands(self):
        """(pid, argv) of every process whose command line can be read."""
        try:
            pids = [p for p in os.listdir(self.proc) if p.isdigit()]
        except OSError:
            return
        for pid in pids:
            try:
                with open(f"{self.proc}/{pid}/cmdline", "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            argv = [os.fsdecode(a) for a in raw.split(b"\0") if a]
            if argv:
                yield int(pid), argv


def daemon_of(pin, host: Host) -> list[str] | None:
    """The command line of the FUSE daemon serving the pinned card (None when not found)."""
    device, mountpoint = pin.block_device, os.path.realpath(pin.path)
    if not device:
        return None
    for _pid, argv in host.commands():
        if device in argv[1:] and any(os.path.realpath(a) == mountpoint for a in argv[1:] if a.startswith("/")):
            return argv
    return None


def rereads_directory(pin, host: Host | None = None) -> bool:
    """True when the card's FUSE daemon reads its directory from the device at each look-up."""
    argv = daemon_of(pin, host or Host())
    return argv is not None and os.path.basename(argv[0]) in REREADS


def _commands(pin, host: Host) -> tuple[list[str], list[str]] | str:
    """(unmount, mount) command lines, or why the card cannot be remounted here."""
    device = pin.block_device
    if not device:
        return _("the card's block device is not known")
    udisks = host.which("udisksctl")
    if udisks:
        return [udisks, "unmount", "-b", device], [udisks, "mount", "-b", device]
    if host.euid() != 0:
        return _("neither udisksctl nor root rights are available to unmount and mount the card again")
    argv = daemon_of(pin, host)
    if argv is None:
        return _("the program serving {device} at {path} was not found, so it cannot be started again").format(
            device=device, path=pin.path
        )
    return ["umount", str(pin.path)], _as_started(argv)


def _as_started(argv: list[str]) -> list[str]:
    """The daemon's command line as it was started: fusefat rewrites its ``-o`` argument in
    place while parsing it (``rw+``, its read-write option, reads ``rw,`` afterwards)."""
    if os.path.basename(argv[0]) != "fusefat":
        return list(argv)
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "-o":
            opts = [o for o in out[i + 1].strip().split(",") if o]
            out[i + 1] = ",".join("rw+" if o == "rw" else o for o in opts)
    return out


def remount(pin, host: Host | None = None) -> str | None:
    """Unmount the pinned FUSE card and mount it again; None when done (the pin holds the
    new mount), else why not (the card stays mounted as it was). A card unmounted and not
    mounted back is a MediaError (card-gone)."""
    host = host or Host()
    commands = _commands(pin, host)
    if isinstance(commands, str):
        return commands
    unmount, mount = commands
    pin.close()
    code, said = host.run(unmount)
    if code != 0:
        pin.reopen()
        return _("{path} could not be unmounted ({said})").format(path=pin.path, said=said or f"exit {code}")
    if not _daemon_gone(pin, host):  # it may still write its last blocks: never two daemons on one card
        raise card_gone(pin.path, _("it was unmounted to be read back from its medium and its driver did not stop"))
    code, said = host.run(mount)
    deadline = time.monotonic() + MOUNT_WAIT
    while code == 0 and not _mounted(pin) and time.monotonic() < deadline:
        time.sleep(0.05)
    if code != 0 or not _mounted(pin):
        raise card_gone(
            pin.path,
            _("it was unmounted to be read back from its medium and could not be mounted again ({said})").format(
                said=said or f"exit {code}"
            ),
        )
    pin.reopen()
    return None


def _daemon_gone(pin, host: Host) -> bool:
    """The unmount returns before the FUSE daemon has written its last blocks and closed the
    device: wait (a few seconds at most) until no process serves the card's mount point."""
    deadline = time.monotonic() + MOUNT_WAIT
    while daemon_of(pin, host) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _mounted(pin) -> bool:
    try:
        return os.stat(pin.path).st_dev == pin.st_dev
    except OSError:
        return False
