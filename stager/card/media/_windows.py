"""Windows: drives whose psutil options say ``removable`` (never the system drive)."""

from __future__ import annotations

import os

from stager.card.media import Medium, firmware_on, usage


def volumes(
    partitions=None, system_drive: str | None = None, disk_usage=usage, list_firmware=firmware_on, labels=None
) -> list[Medium]:
    if partitions is None:
        import psutil

        partitions = psutil.disk_partitions(all=False)
    system_drive = (system_drive or os.environ.get("SYSTEMDRIVE", "C:")).rstrip("\\").upper()
    out = []
    for p in partitions:
        opts = [o.strip().lower() for o in (p.opts or "").split(",")]
        drive = p.mountpoint.rstrip("\\").upper()
        is_system = drive == system_drive
        removable = "removable" in opts and not is_system
        if "cdrom" in opts:
            continue
        size, free = disk_usage(p.mountpoint) if removable else (None, None)
        out.append(
            Medium(
                mountpoint=p.mountpoint,
                device=p.device,
                disk=p.device,
                fstype=(p.fstype or "unknown").lower(),
                label=(labels or {}).get(p.mountpoint),
                size_bytes=size,
                free_bytes=free,
                read_only="ro" in opts,
                removable=removable,
                why="removable drive" if removable else None,
                is_system=is_system,
                firmware_files=list_firmware(p.mountpoint) if removable else (),
            )
        )
    return out
