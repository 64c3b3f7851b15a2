"""Linux: mounted partitions (psutil's rows, read from the mounts file) mapped to their disks in sysfs.

Removable when the disk's ``removable`` flag is 1, or it sits on a USB bus, or it is an
SD/MMC card (device type SD/MMC, or an mmc host in its path): decided from flags and
the bus, never from device names (an SD card in a built-in reader says removable=0).
Never removable: the disk holding /, /boot, /home or swap. The real filesystem type of
a ``fuseblk`` mount comes from blkid, else "unknown".
"""

from __future__ import annotations

import errno
import os
import re

from stager.card.media.model import Medium, firmware_on, fs_name, usage
from stager.i18n import N_
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
    import shutil  # only when a removable volume is probed
    import subprocess

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
    """The block-device facts of one sysfs tree, read through the probe's calls (a real
    /sys, a recorded copy of a tree, or a record of the answers)."""

    def __init__(self, calls):
        self.calls = calls

    def exists(self, name: str) -> bool:
        return bool(self.calls.sysfs_exists(name))

    def disk_of(self, name: str) -> str:
        """The whole disk a partition belongs to (itself for a disk)."""
        return self.calls.sysfs_disk_of(name)

    def slaves(self, name: str) -> list[str]:
        return list(self.calls.sysfs_slaves(name))

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
        try:
            return self.calls.sysfs_attr("/".join((name, *rel)))
        except OSError:
            return None

    def path(self, name: str) -> str:
        return self.calls.sysfs_path(name)

    def why_removable(self, disk: str) -> str | None:
        if self.attr(disk, "removable") == "1":
            return N_("removable flag")
        parts = self.path(disk).split("/")
        if any(p.startswith("usb") for p in parts):
            return N_("USB bus")
        kind = (self.attr(disk, "device", "type") or "").upper()
        if kind in ("SD", "MMC") or any(p.startswith("mmc_host") or (p.startswith("mmc") and ":" in p) for p in parts):
            return N_("SD/MMC card")
        return None


#: getmntent's escapes (the kernel writes these four): space, tab, newline, backslash.
_MOUNT_ESCAPE = re.compile(r"\\(040|011|012|134)")


def read_mounts(path: str | None = None) -> list[list[str]] | None:
    """The mounted file systems as psutil's ``disk_partitions(all=True)`` gives them on
    Linux (device, mount point, type, options), read from the same file (``/etc/mtab``
    where it is a file, else ``/proc/self/mounts``) with getmntent's decoding of the
    octal escapes (``\\040`` a space), ``none`` as no device; without importing psutil.
    None when the file cannot be read or a row names ``/dev/root`` or ``rootfs`` (psutil
    finds that device's real name: ask it)."""
    if path is None:
        path = os.path.realpath("/etc/mtab" if os.path.isfile("/etc/mtab") else "/proc/self/mounts")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    rows = []
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or line.lstrip().startswith("#"):
            continue
        device, mountpoint, fstype, opts = (_MOUNT_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), f) for f in fields[:4])
        if device in ("/dev/root", "rootfs"):
            return None
        rows.append(["" if device == "none" else device, mountpoint, fstype, opts])
    return rows


class LinuxCalls:
    """The real answers of this machine (or of a sysfs tree copied elsewhere): psutil's
    partitions, /proc/swaps, blkid, the sysfs block tree, and the volumes' own facts.
    Each argument replaces one source (the tests replay recorded machines through them)."""

    def __init__(
        self,
        sysfs_root: str = "/sys",
        partitions=None,
        swaps_text: str | None = None,
        blkid=run_blkid,
        disk_usage=usage,
        list_firmware=firmware_on,
        stat=os.stat,
    ):
        self.root = sysfs_root
        self._partitions, self._swaps = partitions, swaps_text
        self._blkid, self._usage, self._firmware, self._stat = blkid, disk_usage, list_firmware, stat

    def _block(self, name: str) -> str:
        return os.path.join(self.root, "class", "block", name)

    def partitions(self):
        if self._partitions is not None:
            return [list(p[:4]) for p in self._partitions]
        rows = read_mounts()  # psutil's rows without its import (most of a --target's cost)
        if rows is not None:
            return rows
        import psutil

        return [[p.device, p.mountpoint, p.fstype, p.opts] for p in psutil.disk_partitions(all=True)]

    def swaps(self) -> str:
        return self._swaps if self._swaps is not None else (_read("/proc/swaps") or "")

    def kernel_name(self, device: str) -> str:
        return os.path.basename(os.path.realpath(device)) if os.path.exists(device) else os.path.basename(device)

    def blkid(self, device: str) -> dict:
        return self._blkid(device)

    def sysfs_exists(self, name: str) -> bool:
        return os.path.exists(self._block(name))

    def sysfs_disk_of(self, name: str) -> str:
        if os.path.exists(os.path.join(self._block(name), "partition")):
            return os.path.basename(os.path.dirname(os.path.realpath(self._block(name))))
        return name

    def sysfs_slaves(self, name: str) -> list[str]:
        try:
            return sorted(os.listdir(os.path.join(self._block(name), "slaves")))
        except OSError:
            return []

    def sysfs_attr(self, rel: str) -> str:
        value = _read(os.path.join(self.root, "class", "block", rel))
        if value is None:
            raise FileNotFoundError(2, "no such attribute", rel)
        return value

    def sysfs_path(self, name: str) -> str:
        return os.path.realpath(self._block(name)).replace(os.sep, "/")

    def disk_usage(self, mountpoint: str):
        return list(self._usage(mountpoint))

    def st_dev(self, mountpoint: str) -> int:
        return self._stat(mountpoint).st_dev

    def firmware_files(self, mountpoint: str) -> list:
        return list(self._firmware(mountpoint))


def _dev_name(calls, device: str) -> str | None:
    """The kernel's name of a /dev node (a /dev/mapper or by-uuid link resolved)."""
    if not device.startswith("/dev/"):
        return None
    return _try(calls.kernel_name, device) or os.path.basename(device)


def _system_disks(calls, sysfs: Sysfs, rows, swaps_text: str) -> set[str]:
    system_disks: set[str] = set()
    for device, mountpoint, *_ in rows:
        name = _dev_name(calls, device)
        if name and mountpoint in SYSTEM_MOUNTS and sysfs.exists(name):
            system_disks |= sysfs.physical_disks(name)
    for line in swaps_text.splitlines()[1:]:
        name = _dev_name(calls, line.split()[0]) if line.split() else None
        if name and sysfs.exists(name):
            system_disks |= sysfs.physical_disks(name)
    return system_disks


def _try(call, *args, default=None):
    try:
        return call(*args)
    except OSError:
        return default


#: errno values of a mount whose medium no longer answers (a card pulled, a FUSE driver killed).
GONE_ERRNOS = (errno.ENOTCONN, errno.ECONNABORTED, errno.ENODEV, errno.ENXIO, errno.EIO)


def _st_dev(calls, mountpoint: str):
    """(st_dev, None), or (None, why) when the mount no longer answers (it is not a card
    to offer), or (None, None) when it cannot be told."""
    try:
        return calls.st_dev(mountpoint), None
    except OSError as e:
        if e.errno in GONE_ERRNOS:
            return None, f"stat: {os.strerror(e.errno)}"
        return None, None


def volumes(calls=None, dev: int | None = None) -> list[Medium]:
    """Every mounted block-device volume, with its verdict (``dev``: only those whose
    mount point has that device id, the others not probed)."""
    calls = calls if calls is not None else LinuxCalls()
    sysfs = Sysfs(calls)
    rows = calls.partitions()
    system_disks = _system_disks(calls, sysfs, rows, _try(calls.swaps, default=""))
    out, seen = [], set()
    for row in rows:
        name = _dev_name(calls, row[0])
        if not name or not sysfs.exists(name) or row[1] in seen:
            continue
        seen.add(row[1])
        if dev is not None and _try(calls.st_dev, row[1]) != dev:
            continue
        out.append(_volume(calls, sysfs, row, name, system_disks))
    return out


def _volume(calls, sysfs: Sysfs, row, name: str, system_disks: set[str]) -> Medium:
    device, mountpoint, fstype, opts = row[:4]
    disk = sysfs.disk_of(name)
    disks = sysfs.physical_disks(name)
    is_system = bool(disks & system_disks)
    why = None if is_system else next((w for d in sorted(disks) if (w := sysfs.why_removable(d))), None)
    flags = opts.split(",") if opts else []
    read_only = "ro" in flags or sysfs.attr(name, "ro") == "1" or sysfs.attr(disk, "ro") == "1"
    fstype = fstype or "unknown"
    facts = (_try(calls.blkid, device) or {}) if why else {}
    if fstype == "fuseblk" or fstype.startswith("fuse"):
        fstype = facts.get("TYPE") or "unknown"
    size, free = _try(calls.disk_usage, mountpoint) or (None, None)
    if size is None:  # the file system does not say (fusefat): the partition's capacity
        sectors = sysfs.attr(name, "size")
        size = int(sectors) * 512 if sectors and sectors.isdigit() and int(sectors) else None
    dev, gone = _st_dev(calls, mountpoint)
    verdict = "system" if is_system else ("gone" if gone else "card") if why else "fixed"
    return Medium(
        mountpoint=mountpoint,
        device=device,
        disk=f"/dev/{disk}",
        label=facts.get("LABEL") or None,
        fstype=fstype,
        fs_version=facts.get("VERSION") or None,
        uuid=facts.get("UUID") or None,
        size_bytes=size,
        free_bytes=free,
        vendor=sysfs.attr(disk, "device", "vendor") or None,
        model=(sysfs.attr(disk, "device", "model") or sysfs.attr(disk, "device", "name")) or None,
        read_only=read_only,
        removable=why is not None,
        why=why,
        is_system=is_system,
        dev=dev if isinstance(dev, int) else None,
        verdict=verdict,
        note="holds /, /boot, /home or swap" if is_system else gone,
        firmware_files=tuple(_try(calls.firmware_files, mountpoint) or ()) if why else (),
    )


def unmounted(calls=None) -> list[dict]:
    """Removable volumes inserted but not mounted (a file system on a removable disk that
    no mount shows), each with how to mount it: {device, fstype, label, size_bytes, how}."""
    calls = calls if calls is not None else LinuxCalls()
    sysfs = Sysfs(calls)
    mounted = {n for row in calls.partitions() if (n := _dev_name(calls, row[0]))}
    try:
        names = sorted(os.listdir(os.path.join(calls.root, "class", "block")))
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
        facts = _try(calls.blkid, device) or {}
        if facts.get("TYPE"):
            out.append(_waiting(device, facts, int(sectors) * 512))
    return out


def _waiting(device: str, facts: dict, size: int) -> dict:
    import shutil

    how = (
        command("udisksctl", "mount", "-b", device)
        if shutil.which("udisksctl")
        else f"sudo mkdir -p /mnt/card && sudo {command('mount', device, '/mnt/card')}"
    )
    return {
        "device": device,
        "fstype": facts.get("TYPE"),
        "filesystem": fs_name(facts.get("TYPE"), facts.get("VERSION")),
        "label": facts.get("LABEL") or None,
        "size_bytes": size,
        "how": how,
    }
