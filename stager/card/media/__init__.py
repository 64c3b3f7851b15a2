"""Removable media: which mounted volumes are cards or sticks stager may write to.

One :func:`detect` dispatches on the platform (like packaging's ``platform_tags``);
the details live in ``_linux``, ``_windows`` and ``_macos``, each reading its system
through one *calls* seam (:mod:`stager.card.media.record`): the real system calls, a
recorder of them (``stager media --record``), or a record replayed on any system
(``--replay``). psutil is imported lazily.

Every volume gets a verdict (:data:`VERDICTS`); only a ``card`` is ever a target by
detection, and a ``system`` volume never is.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from stager.fileio import is_under
from stager.i18n import N_, _

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
    """(size, free) in bytes; None when unknown (a total of 0 means unknown, not full)."""
    import psutil

    try:
        u = psutil.disk_usage(mountpoint)
    except OSError:
        return None, None
    if not u.total:
        return None, None
    return u.total, u.free


def current_system() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "other"


def probe_of(system: str):
    import importlib

    modules = {"linux": "_linux", "macos": "_macos", "windows": "_windows"}
    return importlib.import_module(f"stager.card.media.{modules[system]}") if system in modules else None


def real_calls(system: str):
    """The real system calls of this machine's probe."""
    if system == "linux":
        from stager.card.media._linux import LinuxCalls

        return LinuxCalls()
    if system == "macos":
        from stager.card.media._macos import MacCalls

        return MacCalls()
    from stager.card.media._win32 import Win32Calls

    return Win32Calls()


def all_volumes(calls=None, system: str | None = None) -> list[Medium]:
    """Every mounted volume this system shows (or a record replays), with its verdict."""
    system = system or current_system()
    probe = probe_of(system)
    if probe is None:
        return []
    return probe.volumes(calls if calls is not None else real_calls(system))


def candidates(volumes) -> list[Medium]:
    """The volumes detection may pick: cards, never a system volume."""
    return [m for m in volumes if m.verdict == "card" and m.removable and not m.is_system]


def detect() -> list[Medium]:
    """The removable media mounted now (never the system disk)."""
    return candidates(all_volumes())


def unmounted() -> list[dict]:
    """Removable volumes inserted but not mounted, with how to mount each (where the
    system's probe can tell; [] elsewhere)."""
    probe = probe_of(current_system())
    finder = getattr(probe, "unmounted", None)
    try:
        return list(finder()) if finder else []
    except OSError:
        return []


def short_size(n: int | None) -> str:
    """A card's size in one figure, as the reader writes it: '7.4 GiB' (en), '7,4 Gio' (fr)."""
    from stager.i18n_format import UNITS, format_decimal, format_size

    if n is None:
        return _("size unknown")
    if n < 1024:
        return format_size(n)
    power = 1
    while power < len(UNITS) and round(n / 1024**power, 1) >= 1024:
        power += 1
    # TRANSLATORS: a size and its unit (KiB, MiB...): "7.4 GiB"; French puts a no-break space between them.
    return _("{size} {unit}").format(size=format_decimal(n / 1024**power, 1), unit=_(UNITS[power - 1]))


def unmounted_line(v: dict) -> str:
    label = _("label '{label}'").format(label=v["label"]) if v.get("label") else _("no label")
    size = short_size(v.get("size_bytes"))
    # TRANSLATORS: a card inserted but not mounted: device (file system, label, size): the command.
    return _("{device} ({filesystem}, {label}, {size}): mount it with {how}").format(
        device=v["device"], filesystem=v["filesystem"], label=label, size=size, how=v["how"]
    )


def record_to(path) -> list[Medium]:
    """Detect on this machine while recording every probe's answer into ``path``."""
    from stager.card.media import record as rec

    system = current_system()
    recorder = rec.Recorder(real_calls(system))
    found = all_volumes(recorder, system)
    rec.write(path, system, recorder.calls)
    return found


@dataclass(frozen=True)
class Replay:
    """A recorded machine: its system and every volume its probes gave, replayed here."""

    system: str
    volumes: tuple

    def detect(self) -> list[Medium]:
        return candidates(self.volumes)

    def all_volumes(self) -> list[Medium]:
        return list(self.volumes)

    def medium_for_path(self, path) -> Medium | None:
        """The recorded volume holding a path, by the recorded system's path rules (no
        device to stat here: the longest mount point holding it, case-insensitive on
        Windows and macOS)."""
        import ntpath
        import posixpath

        mod = ntpath if self.system == "windows" else posixpath
        fold = (lambda p: p.lower()) if self.system in ("windows", "macos") else (lambda p: p)
        text = str(path)
        if self.system == "windows" and len(text) == 2 and text[1] == ":":
            text += "\\"  # E: is the drive's root, E:\\
        want = fold(mod.normpath(text))
        best = None
        for m in self.volumes:
            mp = fold(mod.normpath(m.mountpoint))
            inside = want == mp or want.startswith(mp.rstrip("\\/") + mod.sep)
            if inside and (best is None or len(mp) > len(best.mountpoint)):
                best = m
        return best


def replay(path) -> Replay:
    """The volumes of a record file (BadInput, exit 2, when it is not one)."""
    from stager.card.media import record as rec

    system, calls = rec.load(path)
    try:
        volumes = tuple(all_volumes(rec.Replayer(calls), system))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        # A record is a user's file: an answer of the wrong shape is bad input, not a bug.
        why = _("an answer has the wrong shape ({error})").format(error=f"{type(e).__name__}: {e}")
        raise _bad_record(path, why) from None
    for m in volumes:
        wrong = [name for name, value in _text_fields(m) if value is not None and not isinstance(value, str)]
        if not isinstance(m.mountpoint, str) or wrong:
            why = _("the volume {mountpoint} has fields that are not text: {fields}")
            raise _bad_record(path, why.format(mountpoint=repr(m.mountpoint), fields=", ".join(wrong)))
    return Replay(system, volumes)


def _text_fields(m: Medium):
    return (("device", m.device), ("disk", m.disk), ("label", m.label), ("fstype", m.fstype), ("uuid", m.uuid))


def _bad_record(path, why: str):
    from stager.errors import BadInput

    return BadInput(
        _("{path} is not a media record stager can replay: {why}. See docs/media-record.md for its format.").format(
            path=path, why=why
        ),
        code="bad-record",
    )


def medium_for_path(path, volumes=None, stat=os.stat) -> Medium | None:
    """The volume a folder is on, matched by device id (st_dev), never by the path's
    spelling; when several volumes share the device id (a bind mount, cloned cards with
    one serial number), the longest mount point holding the path. None when unknown."""
    try:
        dev = stat(str(path)).st_dev
    except OSError:
        return None
    same = [m for m in (volumes if volumes is not None else all_volumes()) if m.dev is not None and m.dev == dev]
    if len(same) <= 1:
        return same[0] if same else None
    real = os.path.normcase(os.path.realpath(str(path)))
    best = None
    for m in same:
        mp = os.path.normcase(os.path.realpath(m.mountpoint))
        if is_under(real, mp) and (best is None or len(mp) > len(best.mountpoint)):
            best = m
    return best
