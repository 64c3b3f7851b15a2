"""Removable media: which mounted volumes are cards or sticks stager may write to.

One :func:`detect` dispatches on the platform (like packaging's ``platform_tags``);
the details live in ``_linux``, ``_windows`` and ``_macos``, each reading its system
through one seam (a sysfs root, psutil's partition list, diskutil's output) so the
tests replay recorded machines on any system. psutil is imported only here, lazily.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from stager.fileio import is_under


@dataclass(frozen=True)
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
        }


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
    """(size, free) in bytes; None when unknown (a total of 0 means unknown, not full)."""
    import psutil

    try:
        u = psutil.disk_usage(mountpoint)
    except OSError:
        return None, None
    if not u.total:
        return None, None
    return u.total, u.free


def _system() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "other"


def _probe():
    system = _system()
    if system == "linux":
        from stager.card.media import _linux as probe
    elif system == "macos":
        from stager.card.media import _macos as probe
    elif system == "windows":
        from stager.card.media import _windows as probe
    else:
        return None
    return probe


def all_volumes() -> list[Medium]:
    """Every mounted volume this system shows, removable or not."""
    probe = _probe()
    return probe.volumes() if probe else []


def detect() -> list[Medium]:
    """The removable media mounted now (never the system disk)."""
    return [m for m in all_volumes() if m.removable and not m.is_system]


def medium_for_path(path, volumes=None) -> Medium | None:
    """The volume a folder is on (the longest mount point holding it), or None."""
    real = os.path.realpath(str(path))
    best = None
    for m in volumes if volumes is not None else all_volumes():
        mp = os.path.realpath(m.mountpoint)
        if is_under(real, mp) and (best is None or len(mp) > len(os.path.realpath(best.mountpoint))):
            best = m
    return best
