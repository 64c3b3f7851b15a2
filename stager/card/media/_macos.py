"""macOS: volumes under /Volumes that ``diskutil info -plist`` reports as not internal,
removable or ejectable (never the boot volume)."""

from __future__ import annotations

import os
import plistlib
import subprocess

from stager.card.media import Medium, firmware_on


def run_diskutil(mountpoint: str) -> bytes | None:
    try:
        proc = subprocess.run(["diskutil", "info", "-plist", mountpoint], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def volumes(mountpoints=None, diskutil=run_diskutil, list_firmware=firmware_on) -> list[Medium]:
    if mountpoints is None:
        try:
            mountpoints = [os.path.join("/Volumes", n) for n in sorted(os.listdir("/Volumes"))]
        except OSError:
            mountpoints = []
    out = []
    for mp in mountpoints:
        raw = diskutil(mp)
        if not raw:
            continue
        try:
            info = plistlib.loads(raw)
        except Exception:  # a plist diskutil did not finish writing: skip the volume
            continue
        internal = bool(info.get("Internal", True))
        removable_media = bool(info.get("RemovableMedia") or info.get("Removable"))
        ejectable = bool(info.get("Ejectable"))
        is_system = info.get("MountPoint") == "/" or bool(info.get("SystemImage"))
        why = None
        if not is_system:
            if removable_media:
                why = "removable media"
            elif not internal:
                why = "external disk"
            elif ejectable:
                why = "ejectable"
        size = info.get("TotalSize") or info.get("VolumeSize") or None
        free = info.get("FreeSpace") or info.get("APFSContainerFree") or None
        out.append(
            Medium(
                mountpoint=info.get("MountPoint") or mp,
                device=f"/dev/{info.get('DeviceIdentifier', '?')}",
                disk=f"/dev/{info.get('ParentWholeDisk', info.get('DeviceIdentifier', '?'))}",
                label=info.get("VolumeName") or None,
                fstype=(info.get("FilesystemType") or "unknown").lower(),
                size_bytes=size,
                free_bytes=free if size else None,
                vendor=None,
                model=info.get("MediaName") or None,
                read_only=not info.get("WritableVolume", True),
                removable=why is not None,
                why=why,
                is_system=is_system,
                firmware_files=list_firmware(mp) if why else (),
            )
        )
    return out
