"""A volume and its verdict: the leaf of :mod:`stager.card.media`, imported by the
package and by each system's probe (``_linux``, ``_windows``, ``_macos``) alike.
"""

from __future__ import annotations

import os

from stager.i18n import N_, _
from stager.value import field, value

#: What a technician is told a volume is. Only "card" is a medium stager writes to
#: without --target; "system" is never a target.
VERDICTS = {
    "card": N_("a removable card or stick"),
    "system": N_("on the disk the system runs from"),
    "fixed": N_("a fixed disk"),
    "empty-slot": N_("a card reader slot with no card in it"),
    "locked": N_("a volume locked by BitLocker"),
    "network": N_("a network drive"),
    "optical": N_("an optical drive"),
    "disk-image": N_("a mounted disk image"),
    "unreadable": N_("a volume whose file system the system cannot read"),
    "gone": N_("a card that no longer answers (removed, or its driver stopped)"),
}


#: What to do about a volume that is not taken, one whole sentence each ({mountpoint}).
ADVICE = {
    "locked": N_(
        "{mountpoint} is locked by BitLocker: unlock it (open it in Explorer and type its password), then try again."
    ),
    "unreadable": N_(
        "{mountpoint} has a file system this system cannot read: format the card FAT32 or exFAT, then try again."
    ),
    "disk-image": N_("{mountpoint} is a mounted disk image, not a card: eject it if it is in the way."),
    "empty-slot": N_("{mountpoint} is a card reader slot with no card in it."),
    "network": N_("{mountpoint} is a network drive, never a card."),
    "optical": N_("{mountpoint} is an optical drive, never a card."),
    "gone": N_(
        "{mountpoint} no longer answers (the card was removed, or its driver stopped): it cannot be used. "
        "Unmount it, insert the card again and retry."
    ),
}


def verdict_text(verdict: str) -> str:
    """What a verdict means, in the user's language (the code itself when unknown)."""
    return _(VERDICTS[verdict]) if verdict in VERDICTS else verdict


@value
class Medium:
    mountpoint: str
    device: str
    disk: str | None = None
    label: str | None = None
    fstype: str = "unknown"
    size_bytes: int | None = None  # None: unknown (e.g. fusefat reports 0)
    free_bytes: int | None = None
    vendor: str | None = None
    model: str | None = None
    read_only: bool = False
    removable: bool = False
    why: str | None = None  # why it counts as removable
    is_system: bool = False  # holds /, /boot, /home or swap: never a target by detection
    firmware_files: tuple = field(default=())
    fs_version: str | None = None  # e.g. FAT32, FAT16 (blkid's VERSION)
    uuid: str | None = None  # the volume's UUID or serial number: its stable identity
    verdict: str = ""  # one of VERDICTS; filled from is_system/removable when not given
    note: str | None = None  # the fact the verdict rests on (for bug reports)
    bus: str | None = None
    dev: int | None = None  # st_dev of the mount point: how --target is matched to a volume

    def __post_init__(self):
        if not self.verdict:
            object.__setattr__(self, "verdict", "system" if self.is_system else "card" if self.removable else "fixed")

    def why_text(self) -> str | None:
        """Why it counts as removable, in the user's language (``why`` stays as recorded)."""
        return _(self.why) if self.why else self.why

    def advice(self) -> str | None:
        """What the technician should know about this volume when it is not taken."""
        text = ADVICE.get(self.verdict)
        return _(text).format(mountpoint=self.mountpoint) if text else None

    def to_json(self) -> dict:
        return {
            "mountpoint": self.mountpoint,
            "device": self.device,
            "disk": self.disk,
            "label": self.label,
            "fstype": self.fstype,
            "size_bytes": self.size_bytes,
            "free_bytes": self.free_bytes,
            "vendor": self.vendor,
            "model": self.model,
            "read_only": self.read_only,
            "removable": self.removable,
            "why": self.why,
            "is_system": self.is_system,
            "firmware_files": list(self.firmware_files),
            "filesystem": fs_name(self.fstype, self.fs_version),
            "uuid": self.uuid,
            "verdict": self.verdict,
            "note": self.note,
            "bus": self.bus,
            "device_id": self.dev,
        }


FS_NAMES = {"exfat": "exFAT", "ntfs": "NTFS", "ntfs3": "NTFS", "ext2": "ext2", "ext3": "ext3", "ext4": "ext4"}
FS_NAMES.update({"hfs": "HFS", "hfsplus": "HFS+", "apfs": "APFS", "btrfs": "Btrfs", "xfs": "XFS"})


def fs_name(fstype: str | None, version: str | None = None) -> str:
    """The file system as people know it: FAT32 (not vfat), exFAT, NTFS (not fuseblk)."""
    kind = (fstype or "").lower()
    if kind in ("vfat", "fat", "msdos", "fat12", "fat16", "fat32"):
        if version and version.upper().startswith("FAT"):
            return version.upper()
        return kind.upper() if kind.startswith("fat") and kind != "fat" else "FAT"
    if not kind or kind in ("unknown", "fuseblk") or kind.startswith("fuse"):
        return "unknown"
    return FS_NAMES.get(kind, fstype or "unknown")


def firmware_on(mountpoint: str) -> tuple:
    """Names of firmware files (.bin, .tar.gz, .hex, any case) on a volume's root."""
    from stager.rules.names import is_firmware_name

    try:
        return tuple(
            sorted(
                e.name for e in os.scandir(mountpoint) if is_firmware_name(e.name) and e.is_file(follow_symlinks=False)
            )
        )
    except OSError:
        return ()


def usage(mountpoint: str) -> tuple[int | None, int | None]:
    """(size, free) in bytes; None when unknown (a total of 0 means unknown, not full).
    On POSIX psutil's ``disk_usage`` figures from ``statvfs`` (without importing psutil):
    the blocks times the fragment size, free as the space a user may write."""
    try:
        if hasattr(os, "statvfs"):
            st = os.statvfs(mountpoint)
            total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        else:
            import psutil

            u = psutil.disk_usage(mountpoint)
            total, free = u.total, u.free
    except OSError:
        return None, None
    if not total:
        return None, None
    return total, free
