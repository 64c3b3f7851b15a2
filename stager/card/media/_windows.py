r"""Windows: each drive letter's verdict from the storage stack, never from the letter.

For each drive psutil lists (``disk_partitions(all=False)``; the network drives it leaves
out come from ``GetLogicalDrives`` and ``GetDriveTypeW`` alone), through one *calls* seam
(:class:`stager.card.media._win32.Win32Calls` on a real machine, a record elsewhere):

- ``GetDriveTypeW``: a network drive, an optical drive, a RAM disk are never cards.
- ``\\.\X:`` opened with no access rights: ``IOCTL_STORAGE_CHECK_VERIFY2`` (no medium:
  an empty slot of a card reader, not a medium), ``IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS``
  (the disk numbers behind the volume), ``IOCTL_STORAGE_QUERY_PROPERTY`` (BusType USB,
  SD, MMC and RemovableMedia; vendor and product).
- ``GetVolumeInformationW``: the label, the file system, read-only; BitLocker's
  FVE_E_LOCKED_VOLUME means a locked volume.
- System: the drive of %SystemDrive% and of the Windows folder, and every volume on the
  same physical disks, whatever their bus or flags.

A card is a volume on a USB, SD or MMC bus, or on a device that says its media are
removable. USB-attached SSDs and hard disks count as cards, like on Linux and macOS
(a USB stick reporting itself as fixed cannot be told from them).
"""

from __future__ import annotations

from typing import Any

from stager.card.media import _win32 as w
from stager.card.media.model import Medium
from stager.card.media.record import CallFailed, error_code
from stager.i18n import N_

CARD_BUSES = {w.BusTypeUsb: N_("USB disk"), w.BusTypeSd: N_("SD card"), w.BusTypeMmc: N_("MMC card")}
EMPTY = (w.ERROR_NOT_READY, w.ERROR_NO_MEDIA_IN_DRIVE)


def _letter(path: str) -> str:
    return path[:2].upper() if len(path) >= 2 and path[1] == ":" else path.upper()


def _try(call, *args):
    """(value, None) or (None, error code as the DWORD GetLastError gives)."""
    try:
        return call(*args), None
    except OSError as e:
        code = error_code(e)
        return None, code & 0xFFFFFFFF if code < -1 else code


def _disks(calls, root: str) -> tuple[list[int], int | None]:
    raw, err = _try(calls.disk_extents, root)
    if raw is None:
        return [], err
    try:
        return w.parse_disk_extents(raw), None
    except ValueError:
        return [], None


#: Why no volume is offered as a card when the disks behind Windows cannot be told.
UNKNOWN_SYSTEM_DISK = (
    "the disk Windows runs from could not be identified (its volume's disk extents could not be "
    "read), so no volume is offered as a card: name the card with --target (and --allow-fixed)"
)


def system_facts(calls) -> tuple[set[str], set[int]]:
    """The system drive letters (%SystemDrive%, the Windows folder's) and their disks."""
    letters = {_letter(calls.system_drive() or "C:")}
    windir, _ = _try(calls.windows_directory)
    if windir:
        letters.add(_letter(windir))
    disks: set[int] = set()
    for letter in letters:
        disks |= set(_disks(calls, letter + "\\")[0])
    return letters, disks


def _descriptor(calls, root: str) -> dict | None:
    raw, _ = _try(calls.device_descriptor, root)
    if raw is None:
        return None
    try:
        return w.parse_device_descriptor(raw)
    except ValueError:
        return None


def _not_a_card(drive_type: int) -> str | None:
    return {
        w.DRIVE_REMOTE: "network",
        w.DRIVE_CDROM: "optical",
        w.DRIVE_RAMDISK: "fixed",
        w.DRIVE_NO_ROOT_DIR: "empty-slot",
    }.get(drive_type)


def _card_verdict(desc: dict | None, drive_type: int) -> tuple[str, str | None, str]:
    """(verdict, why, note) of a mounted, readable, non-system volume."""
    if desc is None:  # the storage stack did not answer: only the drive type is left
        if drive_type == w.DRIVE_REMOVABLE:
            return "card", N_("removable drive"), "the storage stack did not answer; Windows calls the drive removable"
        return "fixed", None, "the storage stack did not answer; Windows calls the drive fixed"
    if desc["bus_type"] == w.BusTypeFileBackedVirtual:
        return "disk-image", None, "a mounted disk image (VHD/ISO), not a card"
    why = CARD_BUSES.get(desc["bus_type"])
    if why == "USB disk" and desc["removable_media"]:
        why = N_("USB, removable media")
    why = why or (N_("removable media") if desc["removable_media"] else None)
    if why:
        return "card", why, f"bus {desc['bus']}"
    return "fixed", None, f"bus {desc['bus']}, fixed media"


def _volume(calls, row, system_letters: set[str], system_disks: set[int]) -> Medium | None:
    _device, root, fstype, opts = row[:4]
    letter = _letter(root)
    drive_type, _ = _try(calls.drive_type, root)
    drive_type = drive_type if isinstance(drive_type, int) else w.DRIVE_UNKNOWN
    base: dict[str, Any] = {"mountpoint": root, "device": letter, "fstype": (fstype or "unknown").lower()}
    verdict = _not_a_card(drive_type)
    if verdict:
        return Medium(**base, verdict=verdict, note=f"drive type {drive_type}")
    disks, _ = _disks(calls, root)
    disk = f"\\\\.\\PhysicalDrive{disks[0]}" if disks else None
    if letter in system_letters or set(disks) & system_disks:
        return _system_volume(calls, base, disk)
    _present, present_err = _try(calls.check_verify, root)
    info, info_err = _try(calls.volume_information, root)
    if present_err in EMPTY or info_err in EMPTY:
        return Medium(**base, disk=disk, verdict="empty-slot", note="no medium in the drive")
    desc = _descriptor(calls, root)
    facts: dict[str, Any] = {
        "disk": disk,
        "vendor": (desc or {}).get("vendor"),
        "model": (desc or {}).get("product"),
        "bus": (desc or {}).get("bus"),
    }
    if info_err == w.FVE_E_LOCKED_VOLUME:
        return Medium(**base, **facts, verdict="locked", note="locked by BitLocker")
    if info is None:
        return Medium(**base, **facts, verdict="unreadable", note=f"GetVolumeInformationW failed with {info_err}")
    verdict, why, note = _card_verdict(desc, drive_type)
    if verdict == "card" and not system_disks and (desc is None or desc["bus_type"] == w.BusTypeUsb):
        # The system disk is unknown and Windows can run from a USB disk or stick (Windows
        # To Go): fail closed. A card on the SD/MMC bus stays a card.
        verdict, why, note = "fixed", None, UNKNOWN_SYSTEM_DISK
    return _mounted(calls, base, facts, info, opts, verdict, why, note)


def _system_volume(calls, base: dict, disk: str | None) -> Medium:
    """A volume of the disk Windows runs from: never a target, but its facts (and its
    device id, so that a --target on it is known for what it is)."""
    info, _ = _try(calls.volume_information, base["mountpoint"])
    dev, _ = _try(calls.st_dev, base["mountpoint"])
    return Medium(
        **dict(base, fstype=((info or {}).get("fstype") or base["fstype"]).lower()),
        disk=disk,
        label=(info or {}).get("label") or None,
        is_system=True,
        dev=dev if isinstance(dev, int) else None,
        verdict="system",
        note="the disk Windows runs from",
    )


def _mounted(calls, base, facts, info: dict, opts: str, verdict: str, why, note: str) -> Medium:
    root = base["mountpoint"]
    card = verdict == "card"
    size, free = (_try(calls.disk_usage, root)[0] or (None, None)) if card else (None, None)
    dev, _ = _try(calls.st_dev, root)
    files, _ = _try(calls.firmware_files, root) if card else ((), None)
    base = dict(base, fstype=(info.get("fstype") or base["fstype"]).lower())
    return Medium(
        **base,
        **facts,
        label=info.get("label") or None,
        size_bytes=size,
        free_bytes=free,
        read_only=bool(int(info.get("flags") or 0) & w.FILE_READ_ONLY_VOLUME) or "ro" in (opts or "").split(","),
        removable=card,
        why=why,
        dev=dev if isinstance(dev, int) else None,
        verdict=verdict,
        note=note,
        firmware_files=tuple(files or ()),
    )


def volumes(calls=None) -> list[Medium]:
    """Every drive letter psutil lists, each with its verdict."""
    if calls is None:
        calls = w.Win32Calls()
    try:
        rows = calls.partitions()
    except CallFailed:
        rows = []
    system_letters, system_disks = system_facts(calls)
    out, seen = [], set()
    for row in rows:
        device, mountpoint = row[0], row[1]
        # A volume mounted in a folder is listed by psutil under its host's letter and
        # with the host's facts: only drive letters are volumes here.
        if _letter(mountpoint) in seen or mountpoint.rstrip("\\").upper() != device.rstrip("\\").upper():
            continue
        seen.add(_letter(mountpoint))
        m = _volume(calls, row, system_letters, system_disks)
        if m is not None:
            out.append(m)
    return out + _network_drives(calls, seen)


def _network_drives(calls, seen: set[str]) -> list[Medium]:
    """The mapped network drives psutil (all=False) leaves out: named from their drive
    type only, never asked anything that would go over the wire."""
    roots, _ = _try(calls.logical_drives)
    out = []
    for root in roots or ():
        if _letter(root) in seen:
            continue
        drive_type, _ = _try(calls.drive_type, root)
        if drive_type == w.DRIVE_REMOTE:
            seen.add(_letter(root))
            out.append(Medium(mountpoint=root, device=_letter(root), verdict="network", note="drive type 4"))
    return out
