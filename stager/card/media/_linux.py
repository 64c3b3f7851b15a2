"""Linux: mounted partitions (psutil) mapped to their disks in sysfs.

Removable when the disk's ``removable`` flag is 1, or it sits on a USB bus, or it is an
SD/MMC card (device type SD/MMC, or an mmc host in its path): decided from flags and
the bus, never from device names (an SD card in a built-in reader says removable=0).
Never removable: the disk holding /, /boot, /home or swap. The real filesystem type of
a ``fuseblk`` mount comes from blkid, else "unknown".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from stager.card.media import Medium, firmware_on, fs_name, usage
from stager.quoting import command

SYSTEM_MOUNTS = ("/", "/boot", "/boot/efi", "/home", "/usr", "/var")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def decode_blkid(value: str) -> str:
    """A value as blkid prints it, as the user typed it: udev's ``\\x20`` escapes, and the
    export format's ``\\ `` and ``M-x``/``^x`` (cat -v) notation, decoded as UTF-8."""
    out, i = bytearray(), 0
    while i < len(value):
        c = value[i]
        if c == "\\" and value[i + 1 : i + 2] == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", value[i + 2 : i + 4]):
            out.append(int(value[i + 2 : i + 4], 16))
            i += 4
        elif c == "\\" and i + 1 < len(value):
            out.extend(value[i + 1].encode("utf-8"))
            i += 2
        elif value.startswith("M-^", i) and i + 3 < len(value):
            out.append(0x80 | (0x7F if value[i + 3] == "?" else ord(value[i + 3]) & 0x1F))
            i += 4
        elif value.startswith("M-", i) and i + 2 < len(value):
            nxt, step = value[i + 2], 3
            if nxt == "\\" and i + 3 < len(value):
                nxt, step = value[i + 3], 4
            out.append(0x80 | (ord(nxt) & 0x7F))
            i += step
        else:
            out.extend(c.encode("utf-8"))
            i += 1
    return out.decode("utf-8", errors="replace")


UDEV_KEYS = {"ID_FS_TYPE": "TYPE", "ID_FS_LABEL_ENC": "LABEL", "ID_FS_UUID_ENC": "UUID", "ID_FS_VERSION": "VERSION"}


def parse_blkid(text: str) -> dict:
    """blkid's ``-o udev`` (or ``-o export``) lines as {TYPE, LABEL, UUID, VERSION}, decoded."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key = UDEV_KEYS.get(key, key)
        if key in ("TYPE", "LABEL", "UUID", "VERSION") and (key not in out or key == "LABEL"):
            out[key] = decode_blkid(value)
    return out


def run_blkid(device: str) -> dict:
    """blkid's TYPE, LABEL, UUID and VERSION of a device, decoded ({} when blkid is
    missing or says nothing). ``-p -o udev`` probes the device itself (no cache)."""
    exe = shutil.which("blkid") or ("/usr/sbin/blkid" if os.path.exists("/usr/sbin/blkid") else None)
    if not exe:
        return {}
    try:
        proc = subprocess.run(
            [exe, "-p", "-o", "udev", device],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return parse_blkid(proc.stdout)


class Sysfs:
    """The block-device facts of one sysfs tree (a real /sys, or a recorded copy)."""

    def __init__(self, root: str = "/sys"):
        self.root = root

    def block(self, name: str) -> str:
        return os.path.join(self.root, "class", "block", name)

    def exists(self, name: str) -> bool:
        return os.path.exists(self.block(name))

    def disk_of(self, name: str) -> str:
        """The whole disk a partition belongs to (itself for a disk)."""
        if os.path.exists(os.path.join(self.block(name), "partition")):
            return os.path.basename(os.path.dirname(os.path.realpath(self.block(name))))
        return name

    def slaves(self, name: str) -> list[str]:
        try:
            return sorted(os.listdir(os.path.join(self.block(name), "slaves")))
        except OSError:
            return []

    def physical_disks(self, name: str) -> set[str]:
        """The disks under a device (through device-mapper/md slaves)."""
        disk = self.disk_of(name)
        under = self.slaves(disk)
        if not under:
            return {disk}
        out = set()
        for s in under:
            out |= self.physical_disks(s)
        return out

    def attr(self, name: str, *rel: str) -> str | None:
        return _read(os.path.join(self.block(name), *rel))

    def path(self, name: str) -> str:
        return os.path.realpath(self.block(name)).replace(os.sep, "/")

    def why_removable(self, disk: str) -> str | None:
        if self.attr(disk, "removable") == "1":
            return "removable flag"
        parts = self.path(disk).split("/")
        if any(p.startswith("usb") for p in parts):
            return "USB bus"
        kind = (self.attr(disk, "device", "type") or "").upper()
        if kind in ("SD", "MMC") or any(p.startswith("mmc_host") or (p.startswith("mmc") and ":" in p) for p in parts):
            return "SD/MMC card"
        return None


def _dev_name(device: str) -> str | None:
    if not device.startswith("/dev/"):
        return None
    return os.path.basename(os.path.realpath(device)) if os.path.exists(device) else os.path.basename(device)


def volumes(
    partitions=None,
    sysfs_root: str = "/sys",
    swaps_text: str | None = None,
    blkid=run_blkid,
    disk_usage=usage,
    list_firmware=firmware_on,
) -> list[Medium]:
    """Every mounted block-device volume, with its removable verdict."""
    if partitions is None:
        import psutil

        partitions = psutil.disk_partitions(all=True)
    if swaps_text is None:
        swaps_text = _read("/proc/swaps") or ""
    sysfs = Sysfs(sysfs_root)

    system_disks: set[str] = set()
    for p in partitions:
        name = _dev_name(p.device)
        if name and p.mountpoint in SYSTEM_MOUNTS and sysfs.exists(name):
            system_disks |= sysfs.physical_disks(name)
    for line in swaps_text.splitlines()[1:]:
        name = _dev_name(line.split()[0]) if line.split() else None
        if name and sysfs.exists(name):
            system_disks |= sysfs.physical_disks(name)

    out, seen = [], set()
    for p in partitions:
        name = _dev_name(p.device)
        if not name or not sysfs.exists(name) or p.mountpoint in seen:
            continue
        seen.add(p.mountpoint)
        disk = sysfs.disk_of(name)
        disks = sysfs.physical_disks(name)
        is_system = bool(disks & system_disks)
        why = None if is_system else next((w for d in sorted(disks) if (w := sysfs.why_removable(d))), None)
        opts = p.opts.split(",") if p.opts else []
        read_only = "ro" in opts or sysfs.attr(name, "ro") == "1" or sysfs.attr(disk, "ro") == "1"
        fstype = p.fstype or "unknown"
        facts = blkid(p.device) if why else {}
        if fstype == "fuseblk" or fstype.startswith("fuse"):
            fstype = facts.get("TYPE") or "unknown"
        size, free = disk_usage(p.mountpoint)
        if size is None:  # the file system does not say (fusefat): the partition's capacity
            sectors = sysfs.attr(name, "size")
            size = int(sectors) * 512 if sectors and sectors.isdigit() and int(sectors) else None
        vendor = sysfs.attr(disk, "device", "vendor")
        model = sysfs.attr(disk, "device", "model") or sysfs.attr(disk, "device", "name")
        out.append(
            Medium(
                mountpoint=p.mountpoint,
                device=p.device,
                disk=f"/dev/{disk}",
                label=facts.get("LABEL") or None,
                fstype=fstype,
                fs_version=facts.get("VERSION") or None,
                uuid=facts.get("UUID") or None,
                size_bytes=size,
                free_bytes=free,
                vendor=vendor or None,
                model=model or None,
                read_only=read_only,
                removable=why is not None,
                why=why,
                is_system=is_system,
                firmware_files=list_firmware(p.mountpoint) if why else (),
            )
        )
    return out


def unmounted(partitions=None, sysfs_root: str = "/sys", blkid=run_blkid) -> list[dict]:
    """Removable volumes inserted but not mounted (a file system on a removable disk that
    no mount shows), each with how to mount it: {device, fstype, label, size_bytes, how}."""
    if partitions is None:
        import psutil

        partitions = psutil.disk_partitions(all=True)
    sysfs = Sysfs(sysfs_root)
    mounted = {n for p in partitions if (n := _dev_name(p.device))}
    try:
        names = sorted(os.listdir(os.path.join(sysfs_root, "class", "block")))
    except OSError:
        return []
    out = []
    for name in names:
        has_parts = any(n != name and n.startswith(name) and sysfs.disk_of(n) == name for n in names)
        sectors = sysfs.attr(name, "size") or "0"
        if name in mounted or has_parts or not sectors.isdigit() or int(sectors) == 0:
            continue
        if not sysfs.why_removable(sysfs.disk_of(name)):
            continue
        device = f"/dev/{name}"
        facts = blkid(device)
        if not facts.get("TYPE"):
            continue
        how = (
            command("udisksctl", "mount", "-b", device)
            if shutil.which("udisksctl")
            else f"sudo mkdir -p /mnt/card && sudo {command('mount', device, '/mnt/card')}"
        )
        out.append(
            {
                "device": device,
                "fstype": facts.get("TYPE"),
                "filesystem": fs_name(facts.get("TYPE"), facts.get("VERSION")),
                "label": facts.get("LABEL") or None,
                "size_bytes": int(sectors) * 512,
                "how": how,
            }
        )
    return out
