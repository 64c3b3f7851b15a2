"""macOS: each mounted volume's verdict from ``diskutil info -plist``.

Through one *calls* seam (:class:`MacCalls` on a Mac, a record elsewhere): psutil's
mounted /dev/disk* volumes, and ``diskutil info -plist`` of each volume, of its whole
disk, and of ``/``.

- System: every volume of the disk macOS boots from, not only ``/``: the volumes of the
  boot volume's APFS container (System, Data, Preboot, Recovery, VM...), and any volume
  on the physical disks behind it (a Boot Camp partition on the internal disk, an HFS
  partition of the external disk a Mac boots from).
- Disk images are not cards: ``BusProtocol = Disk Image`` on the volume or its whole
  disk, or a whole disk that is ``VirtualOrPhysical = Virtual`` and is not an APFS
  container (a container is virtual on every APFS-formatted stick too).
- A card: removable media, or a disk that is not internal (USB sticks, card readers,
  USB SSDs and hard disks: one policy on every system), or ejectable.
"""

from __future__ import annotations

import plistlib
import re
import subprocess

from stager.card.media.model import Medium, firmware_on, usage
from stager.i18n import N_

#: where macOS mounts the other volumes of the system it runs (Data, VM, Preboot, Update...)
SYSTEM_VOLUMES = ("/System/Volumes/", "/private/var/vm")


class MacCalls:
    """The real answers of a Mac."""

    def partitions(self):
        import psutil

        return [[p.device, p.mountpoint, p.fstype, p.opts] for p in psutil.disk_partitions(all=False)]

    def diskutil(self, target: str) -> str:
        """``diskutil info -plist TARGET`` (a mount point or a disk identifier), as text."""
        try:
            proc = subprocess.run(["diskutil", "info", "-plist", target], capture_output=True, timeout=20)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"diskutil info {target} did not answer within 20 s") from None
        if proc.returncode != 0:
            raise OSError(proc.returncode, f"diskutil info {target} exited with {proc.returncode}")
        return proc.stdout.decode("utf-8", "replace")

    def disk_usage(self, mountpoint: str):
        return list(usage(mountpoint))

    def st_dev(self, mountpoint: str) -> int:
        import os

        return os.stat(mountpoint).st_dev

    def firmware_files(self, mountpoint: str) -> list:
        return list(firmware_on(mountpoint))


def _info(calls, target: str, cache: dict | None = None) -> dict | None:
    """diskutil's facts of a volume or disk (asked once a run when ``cache`` is given)."""
    if cache is not None:
        if target not in cache:
            cache[target] = _info(calls, target)
        return cache[target]
    try:
        raw = calls.diskutil(target)
    except OSError:
        return None
    try:
        info = plistlib.loads(raw.encode("utf-8") if isinstance(raw, str) else raw)
    except Exception:  # a plist diskutil did not finish writing: no facts
        return None
    return info if isinstance(info, dict) and not info.get("Error") else None


def _whole(identifier: str | None) -> str | None:
    """disk4s1 -> disk4; disk1s5s1 -> disk1."""
    m = re.match(r"(disk\d+)", identifier or "")
    return m.group(1) if m else None


#: Why no volume is offered as a card when the disk macOS boots from cannot be told.
UNKNOWN_BOOT_DISK = (
    "the disk macOS boots from could not be identified (diskutil info / said nothing), so no "
    "volume is offered as a card: name the card with --target (and --allow-fixed)"
)


def boot_disks(root: dict | None) -> set[str]:
    """The disks the boot volume lives on: its APFS container and whole disk, and the
    whole disks of the container's physical stores."""
    if not root:
        return set()
    out = {d for d in (root.get("APFSContainerReference"), root.get("ParentWholeDisk")) if d}
    for store in root.get("APFSPhysicalStores") or ():
        whole = _whole(store.get("APFSPhysicalStore"))
        if whole:
            out.add(whole)
    return out


def _disks_of(info: dict) -> set[str]:
    out = {d for d in (info.get("APFSContainerReference"), info.get("ParentWholeDisk")) if d}
    out.add(_whole(info.get("DeviceIdentifier")) or "")
    for store in info.get("APFSPhysicalStores") or ():
        out.add(_whole(store.get("APFSPhysicalStore")) or "")
    return out - {""}


def is_disk_image(info: dict, whole: dict | None) -> bool:
    if info.get("BusProtocol") == "Disk Image" or (whole or {}).get("BusProtocol") == "Disk Image":
        return True
    container = bool(info.get("APFSContainerReference")) and info.get("ParentWholeDisk") == info.get(
        "APFSContainerReference"
    )
    return (whole or {}).get("VirtualOrPhysical") == "Virtual" and not container


def _verdict(info: dict, whole: dict | None, system_disks: set[str], mountpoint: str):
    """(verdict, why, note)."""
    if mountpoint == "/" or mountpoint.startswith(SYSTEM_VOLUMES) or _disks_of(info) & system_disks:
        return "system", None, "a volume of the disk macOS boots from"
    if is_disk_image(info, whole):
        return "disk-image", None, "a mounted disk image (.dmg), not a card"
    if info.get("RemovableMedia") or info.get("Removable"):  # a medium in a reader: never the boot disk
        return "card", N_("removable media"), f"bus {info.get('BusProtocol') or 'unknown'}"
    if not system_disks:  # the boot disk is unknown: an external disk may be it (fail closed)
        return "fixed", None, UNKNOWN_BOOT_DISK
    if info.get("Internal") is False:
        return "card", N_("external disk"), f"bus {info.get('BusProtocol') or 'unknown'}"
    if info.get("Ejectable"):
        return "card", N_("ejectable"), f"bus {info.get('BusProtocol') or 'unknown'}"
    return "fixed", None, f"internal, bus {info.get('BusProtocol') or 'unknown'}"


def _try(call, *args):
    try:
        return call(*args)
    except OSError:
        return None


def _volume(calls, row, system_disks: set[str], cache: dict) -> Medium | None:
    device, mountpoint, fstype = row[0], row[1], row[2]
    info = _info(calls, mountpoint)
    if info is None:
        if mountpoint == "/" or mountpoint.startswith(SYSTEM_VOLUMES):  # no facts, and still the system
            dev = _try(calls.st_dev, mountpoint)
            return Medium(
                mountpoint,
                device,
                fstype=fstype or "unknown",
                is_system=True,
                verdict="system",
                note="a volume of the system macOS runs (diskutil said nothing)",
                dev=dev if isinstance(dev, int) else None,
            )
        return None
    whole = _info(calls, info["ParentWholeDisk"], cache) if info.get("ParentWholeDisk") else None
    verdict, why, note = _verdict(info, whole, system_disks, mountpoint)
    card = verdict == "card"
    size = info.get("TotalSize") or info.get("VolumeSize") or None
    free = info.get("FreeSpace") or info.get("APFSContainerFree") or None
    dev = _try(calls.st_dev, mountpoint)
    return Medium(
        mountpoint=info.get("MountPoint") or mountpoint,
        device=f"/dev/{info.get('DeviceIdentifier') or device.removeprefix('/dev/')}",
        disk=f"/dev/{info.get('ParentWholeDisk') or _whole(info.get('DeviceIdentifier')) or '?'}",
        label=info.get("VolumeName") or None,
        fstype=(info.get("FilesystemType") or fstype or "unknown").lower(),
        size_bytes=size,
        free_bytes=free if size else None,
        vendor=None,
        model=(info.get("MediaName") or (whole or {}).get("MediaName")) or None,
        read_only=not info.get("WritableVolume", True),
        removable=card,
        why=why,
        is_system=verdict == "system",
        verdict=verdict,
        note=note,
        bus=info.get("BusProtocol"),
        dev=dev if isinstance(dev, int) else None,
        firmware_files=tuple(_try(calls.firmware_files, mountpoint) or ()) if card else (),
    )


def volumes(calls=None) -> list[Medium]:
    """Every /dev/disk* volume psutil lists, each with its verdict."""
    calls = calls if calls is not None else MacCalls()
    rows = [r for r in (_try(calls.partitions) or []) if str(r[0]).startswith("/dev/disk")]
    system_disks = boot_disks(_info(calls, "/"))
    out, seen = [], set()
    cache: dict[str, dict | None] = {}
    for row in rows:
        if row[1] in seen:
            continue
        seen.add(row[1])
        m = _volume(calls, row, system_disks, cache)
        if m is not None:
            out.append(m)
    return out
