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

A removable card on a kernel file system (vfat, exfat, ext4...) is remounted too after
each rename (:func:`remount_kernel`): the unmount writes it back and drops the block
device's cache, so its folder is listed next from the medium. As root ``umount`` then
``mount -t TYPE -o OPTIONS DEVICE MOUNTPOINT`` (the options of /proc/self/mounts), else
``udisksctl`` where it exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from stager.card.gone import card_gone
from stager.card.pin import _unescape
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
    return _run_remount(pin, host, *commands, wait_daemon=True)


def _run_remount(pin, host: Host, unmount: list[str], mount: list[str], wait_daemon: bool) -> str | None:
    pin.close()
    code, said = host.run(unmount)
    if code != 0:
        pin.reopen()
        return _("{path} could not be unmounted ({said})").format(path=pin.path, said=said or f"exit {code}")
    if wait_daemon and not _daemon_gone(pin, host):  # it may still write its last blocks: never two daemons on one card
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


KERNEL_DROPPED_OPTIONS = {"seclabel"}  # shown in /proc/mounts, refused by mount -o


def mount_options(pin, host: Host) -> str | None:
    """The options the card's kernel file system is mounted with (/proc/self/mounts), or None."""
    want = os.path.realpath(pin.path)
    try:
        with open(f"{host.proc}/self/mounts", encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and _unescape(fields[1]) == want:
            found = fields[3]  # the last line for that mount point is the mount in effect
    if found is None:
        return None
    return ",".join(o for o in found.split(",") if o and o not in KERNEL_DROPPED_OPTIONS)


def _kernel_commands(pin, host: Host) -> tuple[list[str], list[str]] | str:
    """(unmount, mount) command lines of a card on a kernel file system (vfat, exfat, ext4...),
    or why it cannot be remounted here: as root, umount then mount with the same type and
    options at the same place; else udisksctl where it exists."""
    device, fstype = pin.block_device, pin.fstype
    if not device or not fstype:
        return _("the card's block device is not known")
    mountpoint = os.path.realpath(pin.path)
    if pin.mount is None or os.path.realpath(pin.mount.mountpoint) != mountpoint:
        return _("{path} is not the card's mount point").format(path=pin.path)
    if host.euid() == 0:
        options = mount_options(pin, host)
        if options is None:
            return _("the options {path} is mounted with cannot be read").format(path=pin.path)
        return ["umount", mountpoint], ["mount", "-t", fstype, "-o", options, device, mountpoint]
    udisks = host.which("udisksctl")
    if udisks and not _udisks_place(mountpoint):
        return _("{path} was not mounted by udisks, which would mount it again elsewhere").format(path=pin.path)
    if udisks:
        return [udisks, "unmount", "-b", device], [udisks, "mount", "-b", device]
    return _("neither udisksctl nor root rights are available to unmount and mount the card again")


UDISKS_PLACES = ("/media", "/run/media")  # where udisksctl mounts a card (under the user's name)


def _udisks_place(mountpoint: str) -> bool:
    """``udisksctl mount`` puts the card back under /media/USER or /run/media/USER: a card
    mounted elsewhere (by hand, by fstab) would come back at another place (card-gone)."""
    return any(
        os.path.dirname(os.path.dirname(mountpoint)) == p or os.path.dirname(mountpoint) == p for p in UDISKS_PLACES
    )


def remount_kernel(pin, host: Host | None = None) -> str | None:
    """Unmount the pinned card (a kernel file system) and mount it again, so that its folder
    is listed next from its medium (the unmount writes back and drops the device's cache):
    None when done, else why not (the card stays mounted as it was). A card unmounted and
    not mounted back is a MediaError (card-gone)."""
    host = host or Host()
    commands = _kernel_commands(pin, host)
    if isinstance(commands, str):
        return commands
    return _run_remount(pin, host, *commands, wait_daemon=False)


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
